/* SPDX-License-Identifier: MIT */
/*
 * guest_ram.h - backings for guest RAM: the host memory (and its file
 * descriptor) behind the address space's regions.
 *
 * Every backing is a file mapped MAP_SHARED, so that it can be handed to a
 * back end in another process (vhost-user) by fd + offset:
 *   memfd      memfd_create(MFD_CLOEXEC), 4 KiB pages (the default)
 *   hugetlbfs  memfd_create(MFD_HUGETLB), 2 MiB pages reserved up front
 *   thp        memfd + madvise(MADV_HUGEPAGE) on a 2 MiB-aligned mapping
 *   file       a file at a path, created or extended to the size
 *   snapshot   a snapshot's memory file, read-only, mapped MAP_PRIVATE: pages
 *              load on first touch and the guest's writes stay private to
 *              this process (copy on write); the one backing that cannot be
 *              shared with another process
 *
 * A backing is reference counted: the creator holds one reference, each
 * address-space region using it holds one; the last guest_ram_put() unmaps
 * and closes it.  Not thread-safe against concurrent get/put on the same
 * backing except through the address space (whose writer lock serializes
 * its own references).
 */
#ifndef KITE_CORE_GUEST_RAM_H
#define KITE_CORE_GUEST_RAM_H

#include <stdint.h>

#include "core/error.h"

enum guest_ram_kind {
	GUEST_RAM_MEMFD,
	GUEST_RAM_HUGETLBFS,
	GUEST_RAM_THP,
	GUEST_RAM_FILE,
	GUEST_RAM_SNAPSHOT,
};

/* What `--mem-backing memfd|hugetlbfs|thp|file:PATH` asks for. */
struct guest_ram_backing {
	enum guest_ram_kind kind;
	const char *path;		/* GUEST_RAM_FILE and GUEST_RAM_SNAPSHOT */
};

struct guest_ram_block {
	uint8_t *host;			/* mapping of the whole backing */
	uint64_t size;
	int fd;
	enum guest_ram_kind kind;
	uint64_t page_size;		/* 4 KiB, or 2 MiB for hugetlbfs */
	unsigned int refs;		/* atomic */
};

/*
 * Parse a --mem-backing argument ("memfd", "hugetlbfs", "thp" or
 * "file:PATH"; @out->path points into @arg).  -EINVAL with a message.
 */
int guest_ram_parse_backing(const char *arg, struct guest_ram_backing *out) KITE_WUR;

/* The name of @kind as --mem-backing spells it. */
const char *guest_ram_kind_name(enum guest_ram_kind kind);

/*
 * Allocate @size bytes of guest RAM as @b says (@name labels the memfd in
 * /proc/PID/fd).  The memory reads as zero (a file backing keeps its
 * content).  Returns 0 and *@out with one reference, or -errno with a
 * message that says what to do (e.g. how many huge pages to reserve).
 */
int guest_ram_create(const struct guest_ram_backing *b, uint64_t size,
		     const char *name, struct guest_ram_block **out) KITE_WUR;

/* Take / drop a reference; the last put unmaps and closes.  put(NULL) is a no-op. */
struct guest_ram_block *guest_ram_get(struct guest_ram_block *g);
void guest_ram_put(struct guest_ram_block *g);

#endif
