/* SPDX-License-Identifier: MIT */
/*
 * addr_space.h - the guest physical address space.
 *
 * Every access to guest memory goes through this API, and every access has a
 * length: a range that is unmapped, crosses into a hole or overflows gpa+len
 * is refused with -EFAULT (or NULL) and nothing is touched.  Nothing else in
 * kite turns a guest address into a host pointer.
 *
 * Design
 *   The regions live in an immutable, generation-numbered table, published
 *   with release semantics (what rcu_assign_pointer does).  Readers (vCPU and
 *   I/O threads) never lock: they look up inside an RCU read-side critical
 *   section (liburcu, memb flavour).  Updates (add, remove, resize, flags,
 *   dirty logging) take the writer mutex, build a new table, publish it,
 *   wait for a grace period and only then free the old table and drop the
 *   removed regions' backings (munmap).  So the host memory behind any
 *   translation a reader made stays mapped until that reader leaves its
 *   critical section.
 *
 * Reader rules (threads that access guest memory while it may be updated)
 *   1. Register once per thread: as_reader_register() at thread start,
 *      as_reader_unregister() before it exits.  (A thread that forgets is
 *      registered on its first access and unregistered at thread exit.)
 *   2. The accessors below (copy, load/store, fill, mark_dirty) are complete
 *      critical sections by themselves: call them anywhere.
 *   3. Functions that return host pointers (as_find, as_map_*, as_cache_*,
 *      as_mapping_get, as_translate_iov) need the caller inside
 *      as_read_lock() ... as_read_unlock() for as long as it uses the
 *      pointers (critical sections nest and may block, but an update waits
 *      for them).  While the VM is built no update runs concurrently, so the
 *      loaders may use them without the lock.
 *   4. Never call an update function inside a read-side critical section
 *      (it would wait for itself).
 *
 * Updates and KVM
 *   Regions are KVM memslots, but this object does not call KVM.  Order:
 *   add: kvm_vm_set_memory(slot) then as_add() (either order is safe);
 *   remove: delete the KVM memslot first (KVM then waits for vCPUs to leave
 *   it), then as_remove(), which unmaps the backing after the grace period.
 *
 * Writer lock order: as->lock is outermost of the address space; callbacks
 * given to as_dirty_sync() run under it and must not update @as.
 */
#ifndef KITE_CORE_ADDR_SPACE_H
#define KITE_CORE_ADDR_SPACE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/error.h"
#include "core/guest_ram.h"

#define AS_MAX_REGIONS		4096
#define AS_INLINE_REGIONS	8	/* tables up to this size need no malloc */
#define AS_PAGE_SHIFT		12
#define AS_PAGE_SIZE		(1ULL << AS_PAGE_SHIFT)
#define AS_NO_SLOT		UINT32_MAX

enum as_region_flags {
	AS_REGION_READONLY = 1u << 0,	/* guest-visible ROM: device writes refused */
	AS_REGION_NO_DIRTY_LOG = 1u << 1, /* never dirty-logged (e.g. ROM images) */
};
#define AS_REGION_FLAGS_ALL (AS_REGION_READONLY | AS_REGION_NO_DIRTY_LOG)

/* One entry of an immutable region table (a copy of it is a cache entry). */
struct as_region {
	uint64_t gpa;			/* must stay first: struct interval */
	uint64_t size;
	uint8_t *host;			/* mapping of [gpa, gpa + size) */
	uint64_t *dirty;		/* bit per page from gpa >> 12; NULL unless logging */
	struct guest_ram_block *backing;	/* reference held, or NULL (caller's memory) */
	uint64_t fd_offset;
	int fd;				/* backing fd, -1 for caller memory */
	uint32_t flags;			/* enum as_region_flags */
	uint32_t slot;			/* KVM memslot, AS_NO_SLOT when none */
	uint32_t pad;
};

struct as_table {
	uint64_t generation;		/* > 0; unique per address space */
	unsigned int nr;
	unsigned int inline_idx;	/* which inline buffer, or ~0u if malloc'ed */
	struct as_region r[];		/* sorted by gpa, disjoint */
};

#define AS_TABLE_BYTES(n) (sizeof(struct as_table) + (size_t)(n) * sizeof(struct as_region))

struct addr_space {
	struct as_table *table;		/* RCU-published; never NULL after as_init */
	pthread_mutex_t lock;		/* writers only */
	uint64_t next_gen;		/* under lock */
	bool logging;			/* under lock */
	/* two inline tables, so small address spaces never allocate */
	_Alignas(struct as_table) unsigned char inl[2][AS_TABLE_BYTES(AS_INLINE_REGIONS)];
};

/* What as_add() registers. */
struct as_region_spec {
	uint64_t gpa;
	uint64_t size;
	void *host;			/* NULL: backing->host + fd_offset */
	struct guest_ram_block *backing;	/* NULL: @host is the caller's (fd -1) */
	uint64_t fd_offset;		/* offset of the region in the backing */
	uint32_t flags;			/* AS_REGION_READONLY | AS_REGION_NO_DIRTY_LOG */
	uint32_t slot;			/* KVM memslot for the dirty log, or AS_NO_SLOT */
};

/* One region as a back end in another process needs it (vhost-user). */
struct as_region_desc {
	uint64_t gpa;
	uint64_t size;
	uint64_t host_addr;		/* kite's mapping, for vhost-user's "user address" */
	uint64_t fd_offset;
	int fd;				/* -1: not shareable (caller memory) */
	uint32_t flags;
};

/* ---- life cycle (single-threaded) ---- */
void as_init(struct addr_space *as);
/* Drop every region (backings are unmapped) and free the tables.  No reader may run. */
void as_destroy(struct addr_space *as);

/* ---- readers ---- */
void as_reader_register(void);
void as_reader_unregister(void);
void as_read_lock(void);
void as_read_unlock(void);
/* Generation of the current table (changes on every update). */
uint64_t as_generation(const struct addr_space *as);

/* ---- updates (slow path: -errno and an err_set() message) ---- */
int as_add(struct addr_space *as, const struct as_region_spec *spec) KITE_WUR;
/*
 * Register [gpa, gpa + size) backed by @host (the caller's memory, or a
 * mapping of @fd at @fd_offset that the caller keeps alive).  Zero size, gpa
 * overflow, and overlap with an existing region are refused.
 */
int as_add_region(struct addr_space *as, uint64_t gpa, uint64_t size,
		  void *host, int fd, uint64_t fd_offset, uint32_t flags) KITE_WUR;
/* Remove the region that starts at @gpa (-ENOENT); see "Updates and KVM". */
int as_remove(struct addr_space *as, uint64_t gpa) KITE_WUR;
/* Set the READONLY / NO_DIRTY_LOG flags of the region starting at @gpa. */
int as_set_flags(struct addr_space *as, uint64_t gpa, uint32_t flags) KITE_WUR;
/*
 * Grow or shrink the region starting at @gpa to @size: it must stay inside
 * its backing (caller memory can only shrink) and not overlap the next
 * region.  -EBUSY while dirty logging is on.
 */
int as_resize(struct addr_space *as, uint64_t gpa, uint64_t size) KITE_WUR;

/* ---- lookups returning host pointers (inside as_read_lock, rule 3) ---- */
/* The region holding @gpa, or NULL. */
const struct as_region *as_find(const struct addr_space *as, uint64_t gpa);
/*
 * Host pointer for [gpa, gpa + len) when the whole range lies in one region;
 * NULL otherwise (unmapped, hole, overflow, len == 0).  For writes use
 * as_map_rw(), which also refuses read-only regions and marks the range dirty.
 */
const void *as_map_ro(const struct addr_space *as, uint64_t gpa, size_t len);
void *as_map_rw(const struct addr_space *as, uint64_t gpa, size_t len);

/* ---- accessors (complete critical sections; -EFAULT, no message) ---- */
/* Copy to/from guest memory; the range may span adjacent regions. */
int as_copy_to(const struct addr_space *as, uint64_t gpa, const void *src,
	       size_t len) KITE_WUR;
int as_copy_from(const struct addr_space *as, void *dst, uint64_t gpa,
		 size_t len) KITE_WUR;
/* Zero guest memory in [gpa, gpa + len). */
int as_fill_zero(const struct addr_space *as, uint64_t gpa, size_t len) KITE_WUR;
/* True when every byte of [gpa, gpa + len) is backed by some region. */
int as_range_mapped(const struct addr_space *as, uint64_t gpa, uint64_t len);

/* Little-endian loads and stores of guest memory (any alignment). */
int as_read_u8(const struct addr_space *as, uint64_t gpa, uint8_t *val) KITE_WUR;
int as_read_u16(const struct addr_space *as, uint64_t gpa, uint16_t *val) KITE_WUR;
int as_read_u32(const struct addr_space *as, uint64_t gpa, uint32_t *val) KITE_WUR;
int as_read_u64(const struct addr_space *as, uint64_t gpa, uint64_t *val) KITE_WUR;
int as_write_u8(const struct addr_space *as, uint64_t gpa, uint8_t val) KITE_WUR;
int as_write_u16(const struct addr_space *as, uint64_t gpa, uint16_t val) KITE_WUR;
int as_write_u32(const struct addr_space *as, uint64_t gpa, uint32_t val) KITE_WUR;
int as_write_u64(const struct addr_space *as, uint64_t gpa, uint64_t val) KITE_WUR;

/*
 * Mark [gpa, gpa + len) dirty (no-op unless logging).  A device that wrote
 * through a host pointer (as_map_rw, as_mapping, iovecs) calls it after the
 * write completed: marking only before the write could be undone by a
 * dirty sync that runs in between.  Ignores unmapped parts.
 */
void as_mark_dirty(const struct addr_space *as, uint64_t gpa, uint64_t len);

/* ---- per-user translation cache (one per device or thread, not shared) ---- */
struct as_cache {
	const struct addr_space *as;
	uint64_t generation;		/* 0: empty */
	struct as_region r;		/* copy of the last region used */
};

void as_cache_init(struct as_cache *c, const struct addr_space *as);
/*
 * Host pointer for [gpa, gpa + len) in one region (NULL if not, or if
 * @write and the region is read-only).  One generation compare when the
 * range falls in the cached region of the current table; a binary search
 * otherwise.  A writable translation marks the range dirty; call
 * as_mark_dirty() again after the write if a dirty sync may have run since.
 * Inside as_read_lock (rule 3).
 */
void *as_cache_translate(struct as_cache *c, uint64_t gpa, uint64_t len, bool write);
/*
 * Translate [gpa, gpa + len) into at most @max iovecs (adjacent regions that
 * are contiguous in host memory share one).  Returns the number used,
 * -EFAULT (unmapped part, hole, overflow, read-only for @write) or -E2BIG
 * (more than @max needed).  @write marks the pages dirty.  len 0 gives 0.
 * Inside as_read_lock (rule 3).
 */
int as_cache_iov(struct as_cache *c, uint64_t gpa, uint64_t len, bool write,
		 struct iovec *iov, unsigned int max);
int as_translate_iov(const struct addr_space *as, uint64_t gpa, uint64_t len,
		     bool write, struct iovec *iov, unsigned int max);

/* ---- long-lived mappings (virtqueue rings) ---- */
struct as_mapping {
	struct as_cache c;
	uint64_t gpa;
	uint64_t len;
	bool write;
	uint8_t *host;			/* valid for c.generation */
};

/*
 * Map [gpa, gpa + len) (one region) for repeated use.  -EFAULT if it is not
 * mapped (or read-only for @write) now.  Any thread, no lock needed.
 */
int as_mapping_init(struct as_mapping *m, const struct addr_space *as, uint64_t gpa,
		    uint64_t len, bool write) KITE_WUR;
/*
 * The host pointer of the mapping, revalidated when the table generation
 * changed since the last call; NULL when the range is no longer mapped.
 * Valid until as_read_unlock (rule 3): call it at the start of each batch.
 */
void *as_mapping_get(struct as_mapping *m);
/* Mark [off, off + len) of a writable mapping dirty after writing it. */
void as_mapping_mark_dirty(struct as_mapping *m, uint64_t off, uint64_t len);

/* ---- dirty logging ---- */
/*
 * Start/stop logging device writes: every writable region without
 * AS_REGION_NO_DIRTY_LOG gets a bitmap (one bit per 4 KiB guest page).
 */
int as_dirty_log_start(struct addr_space *as) KITE_WUR;
void as_dirty_log_stop(struct addr_space *as);

/* KVM's half of the log: fill @bitmap (zeroed, one bit per page of the
 * region, as KVM_GET_DIRTY_LOG) for memslot @slot. */
typedef int (*as_kvm_dirty_fn)(void *opaque, uint32_t slot, uint64_t *bitmap);
/* Receives each run of dirty pages: guest page numbers [pfn, pfn + npages). */
typedef int (*as_dirty_range_fn)(void *opaque, uint64_t pfn, uint64_t npages);

/*
 * Return and clear the pages written since the last sync: for each logged
 * region, the union of the device bitmap and (when @kvm_get is given and the
 * region has a slot) KVM's log, reported as runs to @fn in ascending gpa
 * order.  A negative return of @kvm_get or @fn stops the sync and is
 * returned; pages not reported stay dirty for the next sync.  -EINVAL when
 * logging is off.  Regions with a slot must be page-aligned (as KVM's are).
 */
int as_dirty_sync(struct addr_space *as, as_kvm_dirty_fn kvm_get, void *kvm_opaque,
		  as_dirty_range_fn fn, void *opaque) KITE_WUR;

/* ---- export ---- */
/* Describe every region (ascending gpa) into @out; returns the count, or
 * -E2BIG when more than @max regions exist. */
int as_export(const struct addr_space *as, struct as_region_desc *out,
	      unsigned int max) KITE_WUR;

#endif
