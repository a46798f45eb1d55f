// SPDX-License-Identifier: MIT
/*
 * virtqueue.c - the device side of virtio 1.x virtqueues (split and packed).
 *
 * Layouts (virtio 1.2, 2.7 and 2.8; everything little-endian):
 *   desc       16 bytes: addr u64, len u32, then split: flags u16, next u16;
 *              packed: id u16, flags u16
 *   avail      flags u16, idx u16, ring[size] u16, used_event u16 (EVENT_IDX)
 *   used       flags u16, idx u16, ring[size] {id u32, len u32},
 *              avail_event u16 (EVENT_IDX)
 *   packed event suppression: desc u16 (offset:15, wrap:1), flags u16
 *
 * Guest memory rules followed here:
 *   - ring memory is reached through as_mapping_get() inside one
 *     as_read_lock() section per call; indices and the packed head flags are
 *     loaded with acquire semantics, then the entries;
 *   - every descriptor is copied once into a local struct and only the copy
 *     is validated and used (the guest may rewrite the ring concurrently);
 *   - indirect tables are copied with as_copy_from() into a bounded buffer
 *     on the stack, never into an allocation sized by the guest;
 *   - the device publishes the used entry first and the used index (split)
 *     or the head flags (packed) last, with a release store, and marks what
 *     it wrote dirty afterwards.
 *
 * Zero-length descriptors are accepted (their flags are validated like any
 * other) but they are not kept as segments: cursors never see them.
 */
#include "virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_PACKED_F_AVAIL	(1u << 7)
#define VRING_PACKED_F_USED	(1u << 15)

#define VRING_AVAIL_F_NO_INTERRUPT	1
#define VRING_USED_F_NO_NOTIFY		1

#define RING_EVENT_FLAGS_ENABLE		0
#define RING_EVENT_FLAGS_DISABLE	1
#define RING_EVENT_FLAGS_DESC		2

#define DESC_SIZE		16u
#define USED_ELEM_SIZE		8u
#define VQ_MAX_DIR_BYTES	(4ULL << 30)	/* cap of each direction's total */

/* A descriptor as read once from guest memory (host endianness). */
struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id_next;	/* split: next; packed: buffer id */
	uint16_t flags;
};

/* ------------------------------------------------------------- helpers */

/*
 * A full barrier (store-load ordering) against the guest driver on another
 * CPU.  An explicit mfence rather than __atomic_thread_fence: the ordering
 * is with guest code, which ThreadSanitizer cannot see anyway, and GCC
 * refuses atomic_thread_fence under -fsanitize=thread.
 */
static inline void vq_full_barrier(void)
{
	__asm__ __volatile__("mfence" ::: "memory");
}

static inline uint64_t feat(const struct vq_config *cfg, unsigned int bit)
{
	return cfg->features & (1ULL << bit);
}

/*
 * Record a protocol violation: the queue is broken until vq_reset().  The
 * message goes to vq->err and to the thread's error message.
 */
KITE_PRINTF(2, 3)
static int vq_violation(struct virtqueue *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->err, sizeof(vq->err), fmt, ap);
	va_end(ap);
	vq->broken = true;
	return err_set(-EPROTO, "virtqueue: %s", vq->err);
}

/* The error for calls on a queue that is not started or already broken. */
static int vq_unusable(const struct virtqueue *vq)
{
	if (!vq->ready)
		return err_set(-EINVAL, "virtqueue: not started");
	return err_set(-EPROTO, "virtqueue: %s", vq->err);
}

/*
 * Host pointer of a ring mapping, NULL if it is no longer mapped or the
 * host address lost the alignment the atomic accesses below rely on.
 * Inside as_read_lock().
 */
static uint8_t *ring_get(struct as_mapping *m, uintptr_t align)
{
	uint8_t *p = as_mapping_get(m);

	if (p && ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

static inline uint16_t load16_acquire(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static inline uint16_t load16(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static inline void store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static inline void store16_release(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

/*
 * Decode one 16-byte descriptor, reading guest memory exactly once.  Split:
 * flags at 12, next at 14; packed: id at 12, flags at 14.
 */
static void desc_decode(const uint8_t *p, bool packed, struct vdesc *d)
{
	uint8_t raw[DESC_SIZE];
	uint64_t addr;
	uint32_t len;
	uint16_t a, b;

	memcpy(raw, p, sizeof(raw));
	memcpy(&addr, raw, 8);
	memcpy(&len, raw + 8, 4);
	memcpy(&a, raw + 12, 2);
	memcpy(&b, raw + 14, 2);
	d->addr = le64toh(addr);
	d->len = le32toh(len);
	d->id_next = le16toh(packed ? a : b);
	d->flags = le16toh(packed ? b : a);
}

/* Byte sizes of the split rings (EVENT_IDX adds one u16 to each). */
static uint64_t split_avail_bytes(uint16_t size, bool event_idx)
{
	return 4 + 2ULL * size + (event_idx ? 2 : 0);
}

static uint64_t split_used_bytes(uint16_t size, bool event_idx)
{
	return 4 + 8ULL * size + (event_idx ? 2 : 0);
}

/* ------------------------------------------------------------ vq_start */

/* Is @cfg's size acceptable for the ring format? */
static int check_size(const struct vq_config *cfg, bool packed)
{
	if (cfg->size == 0 || cfg->size > VQ_MAX_SIZE)
		return err_set(-EINVAL, "queue size %u not in 1..%u", cfg->size,
			       VQ_MAX_SIZE);
	if (!packed && (cfg->size & (cfg->size - 1)))
		return err_set(-EINVAL, "split queue size %u is not a power of two",
			       cfg->size);
	return 0;
}

/* Map one ring area: aligned, wholly inside one region, host-aligned too. */
static int map_area(struct as_mapping *m, const struct addr_space *as,
		    const char *what, uint64_t gpa, uint64_t len,
		    unsigned int align, bool write)
{
	if (gpa & (align - 1))
		return err_set(-EINVAL, "%s area 0x%" PRIx64 " not %u-byte aligned",
			       what, gpa, align);
	if (as_mapping_init(m, as, gpa, len, write))
		return err_set(-EINVAL, "%s area [0x%" PRIx64 ", +0x%" PRIx64
			       ") not inside one %sRAM region", what, gpa, len,
			       write ? "writable " : "");
	/* RAM backings are page-aligned; caller memory might not be. */
	if ((uintptr_t)m->host & (align - 1))
		return err_set(-EINVAL, "%s area host mapping misaligned", what);
	return 0;
}

/* Validate and map the three areas of @cfg (sizes depend on the format). */
static int map_rings(struct virtqueue *vq, const struct vq_config *cfg)
{
	uint64_t desc_len = (uint64_t)DESC_SIZE * cfg->size;
	int ret;

	if (vq->packed) {
		ret = map_area(&vq->desc, vq->as, "descriptor", cfg->desc_gpa,
			       desc_len, 16, true);
		if (!ret)
			ret = map_area(&vq->driver, vq->as, "driver event",
				       cfg->driver_gpa, 4, 4, false);
		if (!ret)
			ret = map_area(&vq->device, vq->as, "device event",
				       cfg->device_gpa, 4, 4, true);
		return ret;
	}
	ret = map_area(&vq->desc, vq->as, "descriptor", cfg->desc_gpa, desc_len,
		       16, false);
	if (!ret)
		ret = map_area(&vq->driver, vq->as, "available ring", cfg->driver_gpa,
			       split_avail_bytes(cfg->size, vq->event_idx), 2, false);
	if (!ret)
		ret = map_area(&vq->device, vq->as, "used ring", cfg->device_gpa,
			       split_used_bytes(cfg->size, vq->event_idx), 4, true);
	return ret;
}

int vq_start(struct virtqueue *vq, const struct addr_space *as,
	     const struct vq_config *cfg)
{
	int ret;

	vq_reset(vq);
	vq->as = as;
	vq->cfg = *cfg;
	vq->packed = feat(cfg, VIRTIO_F_RING_PACKED);
	vq->event_idx = feat(cfg, VIRTIO_F_EVENT_IDX);
	vq->indirect = feat(cfg, VIRTIO_F_INDIRECT_DESC);
	ret = check_size(cfg, vq->packed);
	if (!ret)
		ret = map_rings(vq, cfg);
	if (ret) {
		snprintf(vq->err, sizeof(vq->err), "%s", err_msg());
		return ret;
	}
	vq->avail_wrap = true;
	vq->used_wrap = true;
	vq->notify_on = true;	/* the driver starts with notifications on */
	vq->ready = true;
	return 0;
}

void vq_reset(struct virtqueue *vq)
{
	memset(vq, 0, sizeof(*vq));
}

/* --------------------------------------------------------- chain walks */

/*
 * Append @d to @e: readable before writable, at most VQ_MAX_SEGS segments,
 * no gpa + len overflow, each direction's total below VQ_MAX_DIR_BYTES.
 * Zero-length descriptors are checked but not kept.
 */
static int elem_add(struct virtqueue *vq, struct vq_elem *e, const struct vdesc *d)
{
	bool wr = d->flags & VRING_DESC_F_WRITE;
	uint64_t *total = wr ? &e->in_len : &e->out_len;
	uint64_t end;

	if (!wr && e->nr_in)
		return vq_violation(vq, "readable descriptor after a writable one");
	if (__builtin_add_overflow(d->addr, (uint64_t)d->len, &end))
		return vq_violation(vq, "descriptor 0x%" PRIx64 "+0x%x overflows",
				    d->addr, d->len);
	if (!d->len)
		return 0;
	if (e->nr_out + e->nr_in >= VQ_MAX_SEGS)
		return vq_violation(vq, "chain has more than %u segments", VQ_MAX_SEGS);
	if (*total + d->len > VQ_MAX_DIR_BYTES)
		return vq_violation(vq, "chain longer than %llu bytes",
				    (unsigned long long)VQ_MAX_DIR_BYTES);
	*total += d->len;
	e->segs[e->nr_out + e->nr_in] = (struct vq_seg){ .gpa = d->addr, .len = d->len };
	if (wr)
		e->nr_in++;
	else
		e->nr_out++;
	return 0;
}

/*
 * Check an indirect descriptor and copy its table into @table (VQ_MAX_SEGS
 * entries).  Returns the number of entries or -EPROTO.
 */
static int indirect_load(struct virtqueue *vq, const struct vdesc *d,
			 uint8_t *table)
{
	if (!vq->indirect)
		return vq_violation(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (d->flags & VRING_DESC_F_NEXT)
		return vq_violation(vq, "descriptor has both NEXT and INDIRECT");
	if (!d->len || d->len % DESC_SIZE || d->len / DESC_SIZE > VQ_MAX_SEGS)
		return vq_violation(vq, "indirect table length %u invalid", d->len);
	if (as_copy_from(vq->as, table, d->addr, d->len))
		return vq_violation(vq, "indirect table at 0x%" PRIx64 " not in RAM",
				    d->addr);
	return (int)(d->len / DESC_SIZE);
}

/* Split indirect table: a chain from entry 0 linked by next, at most @n long. */
static int split_walk_indirect(struct virtqueue *vq, struct vq_elem *e,
			       const uint8_t *table, unsigned int n)
{
	unsigned int i = 0, count;
	struct vdesc d;
	int ret;

	for (count = 0;; count++) {
		if (count == n)
			return vq_violation(vq, "loop in indirect table");
		desc_decode(table + i * DESC_SIZE, vq->packed, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return vq_violation(vq, "indirect descriptor in indirect table");
		ret = elem_add(vq, e, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.id_next;
		if (i >= n)
			return vq_violation(vq, "indirect next %u >= %u", i, n);
	}
}

/* Packed indirect table: all entries in order; only WRITE is meaningful. */
static int packed_walk_indirect(struct virtqueue *vq, struct vq_elem *e,
				const uint8_t *table, unsigned int n)
{
	struct vdesc d;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		desc_decode(table + i * DESC_SIZE, vq->packed, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return vq_violation(vq, "indirect descriptor in indirect table");
		d.flags &= VRING_DESC_F_WRITE;
		ret = elem_add(vq, e, &d);
		if (ret)
			return ret;
	}
	return 0;
}

/* Follow an indirect descriptor of either format. */
static int walk_indirect(struct virtqueue *vq, struct vq_elem *e,
			 const struct vdesc *d)
{
	uint8_t table[VQ_MAX_SEGS * DESC_SIZE];
	int n = indirect_load(vq, d, table);

	if (n < 0)
		return n;
	if (vq->packed)
		return packed_walk_indirect(vq, e, table, (unsigned int)n);
	return split_walk_indirect(vq, e, table, (unsigned int)n);
}

static void elem_clear(struct vq_elem *e)
{
	e->ndesc = 0;
	e->nr_out = 0;
	e->nr_in = 0;
	e->out_len = 0;
	e->in_len = 0;
}

/* ------------------------------------------------------------ split pop */

/* Walk the split chain starting at @head (< size) of the table @desc. */
static int split_walk(struct virtqueue *vq, const uint8_t *desc, uint16_t head,
		      struct vq_elem *e)
{
	unsigned int i = head;
	struct vdesc d;
	int ret;

	elem_clear(e);
	e->id = head;
	for (;;) {
		/* count bounds the walk: no loops, no chain longer than size */
		if (e->ndesc == vq->cfg.size)
			return vq_violation(vq, "chain from head %u longer than queue size %u",
					    head, vq->cfg.size);
		desc_decode(desc + i * DESC_SIZE, vq->packed, &d);
		e->ndesc++;
		if (d.flags & VRING_DESC_F_INDIRECT)
			return walk_indirect(vq, e, &d);
		ret = elem_add(vq, e, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.id_next;
		if (i >= vq->cfg.size)
			return vq_violation(vq, "next index %u >= queue size %u", i,
					    vq->cfg.size);
	}
}

/*
 * Available entries not yet consumed; -EPROTO when the driver moved the
 * index further than the ring holds.
 */
static int split_pending(struct virtqueue *vq, const uint8_t *avail)
{
	uint16_t idx = load16_acquire(avail + 2);
	uint16_t n = (uint16_t)(idx - vq->last_avail);

	if (n > vq->cfg.size)
		return vq_violation(vq, "avail idx %u moved %u past %u (queue size %u)",
				    idx, n, vq->last_avail, vq->cfg.size);
	return n;
}

/*
 * With EVENT_IDX and notifications on, keep avail_event at last_avail as
 * chains are consumed, so the driver keeps kicking a device that never
 * disables notifications (as QEMU does).  Inside as_read_lock().
 */
static void split_update_avail_event(struct virtqueue *vq)
{
	uint32_t off = 4 + USED_ELEM_SIZE * vq->cfg.size;
	uint8_t *used;

	if (!vq->event_idx || !vq->notify_on)
		return;
	used = ring_get(&vq->device, 4);
	if (!used)
		return;
	store16(used + off, vq->last_avail);
	as_mapping_mark_dirty(&vq->device, off, 2);
}

static int split_pop(struct virtqueue *vq, struct vq_elem *e)
{
	uint8_t *desc = ring_get(&vq->desc, 16);
	uint8_t *avail = ring_get(&vq->driver, 2);
	uint16_t head;
	int ret;

	if (!desc || !avail)
		return err_set(-EFAULT, "virtqueue: rings no longer mapped");
	ret = split_pending(vq, avail);
	if (ret <= 0)
		return ret;
	/* the acquire load of idx orders this read after the driver's write */
	head = load16(avail + 4 + 2u * (vq->last_avail & (vq->cfg.size - 1)));
	if (head >= vq->cfg.size)
		return vq_violation(vq, "avail ring head %u >= queue size %u", head,
				    vq->cfg.size);
	ret = split_walk(vq, desc, head, e);
	if (ret)
		return ret;
	vq->last_avail++;
	split_update_avail_event(vq);
	return 1;
}

/* ----------------------------------------------------------- packed pop */

/* Is a descriptor with @flags available in the lap of @wrap? */
static inline bool packed_is_avail(uint16_t flags, bool wrap)
{
	bool avail = flags & VRING_PACKED_F_AVAIL;
	bool used = flags & VRING_PACKED_F_USED;

	return avail == wrap && used != wrap;
}

/* Advance a packed ring position by one slot. */
static inline void packed_next(const struct virtqueue *vq, uint16_t *i, bool *wrap)
{
	if (++*i == vq->cfg.size) {
		*i = 0;
		*wrap = !*wrap;
	}
}

/*
 * Walk the packed chain whose head flags (@head_flags, loaded with acquire)
 * say it is available.  On success advances next_avail/avail_wrap.
 */
static int packed_walk(struct virtqueue *vq, const uint8_t *desc,
		       uint16_t head_flags, struct vq_elem *e)
{
	uint16_t i = vq->next_avail;
	bool wrap = vq->avail_wrap;
	struct vdesc d;
	int ret;

	elem_clear(e);
	for (;;) {
		if (e->ndesc == vq->cfg.size)
			return vq_violation(vq, "chain longer than queue size %u",
					    vq->cfg.size);
		desc_decode(desc + i * DESC_SIZE, vq->packed, &d);
		if (!e->ndesc)
			d.flags = head_flags;	/* use the value availability was decided on */
		e->ndesc++;
		packed_next(vq, &i, &wrap);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (e->ndesc > 1)
				return vq_violation(vq, "indirect descriptor inside a chain");
			ret = walk_indirect(vq, e, &d);
		} else {
			ret = elem_add(vq, e, &d);
		}
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
	}
	/* the buffer id is in the last descriptor of the chain */
	if (d.id_next >= vq->cfg.size)
		return vq_violation(vq, "buffer id %u >= queue size %u", d.id_next,
				    vq->cfg.size);
	e->id = d.id_next;
	vq->next_avail = i;
	vq->avail_wrap = wrap;
	return 0;
}

/* The device event offset: the next slot the device will look at. */
static void packed_write_event_off(struct virtqueue *vq, uint8_t *ev)
{
	store16(ev, (uint16_t)(vq->next_avail | (vq->avail_wrap ? 0x8000 : 0)));
}

/* Packed counterpart of split_update_avail_event().  Inside as_read_lock(). */
static void packed_update_event_off(struct virtqueue *vq)
{
	uint8_t *ev;

	if (!vq->event_idx || !vq->notify_on)
		return;
	ev = ring_get(&vq->device, 4);
	if (!ev)
		return;
	packed_write_event_off(vq, ev);
	as_mapping_mark_dirty(&vq->device, 0, 2);
}

static int packed_pop(struct virtqueue *vq, struct vq_elem *e)
{
	uint8_t *desc = ring_get(&vq->desc, 16);
	uint16_t flags;
	int ret;

	if (!desc)
		return err_set(-EFAULT, "virtqueue: rings no longer mapped");
	flags = load16_acquire(desc + vq->next_avail * DESC_SIZE + 14);
	if (!packed_is_avail(flags, vq->avail_wrap))
		return 0;
	ret = packed_walk(vq, desc, flags, e);
	if (ret)
		return ret;
	packed_update_event_off(vq);
	return 1;
}

int vq_pop(struct virtqueue *vq, struct vq_elem *e)
{
	int ret;

	if (!vq->ready || vq->broken)
		return vq_unusable(vq);
	as_read_lock();
	ret = vq->packed ? packed_pop(vq, e) : split_pop(vq, e);
	as_read_unlock();
	if (ret == 1)
		vq->popped++;
	return ret;
}

void vq_unpop(struct virtqueue *vq, const struct vq_elem *e)
{
	if (!vq->ready || vq->broken)
		return;
	vq->popped--;
	if (!vq->packed) {
		vq->last_avail--;
		return;
	}
	if (e->ndesc > vq->next_avail) {
		vq->next_avail = (uint16_t)(vq->next_avail + vq->cfg.size - e->ndesc);
		vq->avail_wrap = !vq->avail_wrap;
	} else {
		vq->next_avail = (uint16_t)(vq->next_avail - e->ndesc);
	}
}

/* Inside as_read_lock(). */
static bool has_avail_locked(struct virtqueue *vq)
{
	uint8_t *p;

	if (vq->packed) {
		p = ring_get(&vq->desc, 16);
		return p && packed_is_avail(load16_acquire(p + vq->next_avail * DESC_SIZE + 14),
					    vq->avail_wrap);
	}
	p = ring_get(&vq->driver, 2);
	return p && load16_acquire(p + 2) != vq->last_avail;
}

bool vq_has_avail(struct virtqueue *vq)
{
	bool ret;

	if (!vq->ready || vq->broken)
		return false;
	as_read_lock();
	ret = has_avail_locked(vq);
	as_read_unlock();
	return ret;
}

/* ---------------------------------------------------------------- push */

static int split_push(struct virtqueue *vq, const struct vq_elem *e, uint32_t len)
{
	uint8_t *used = ring_get(&vq->device, 4);
	uint32_t off = 4 + USED_ELEM_SIZE * (vq->used_idx & (vq->cfg.size - 1));
	uint32_t id = htole32(e->id), le_len = htole32(len);

	if (!used)
		return err_set(-EFAULT, "virtqueue: used ring no longer mapped");
	if (e->id >= vq->cfg.size)
		return err_set(-EINVAL, "virtqueue: push of id %u >= size", e->id);
	__atomic_store_n((uint32_t *)(used + off), id, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(used + off + 4), le_len, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* the entry is visible before the index that publishes it */
	store16_release(used + 2, vq->used_idx);
	as_mapping_mark_dirty(&vq->device, off, USED_ELEM_SIZE);
	as_mapping_mark_dirty(&vq->device, 2, 2);
	return 0;
}

static int packed_push(struct virtqueue *vq, const struct vq_elem *e, uint32_t len)
{
	uint8_t *desc = ring_get(&vq->desc, 16);
	uint32_t off = vq->next_used * DESC_SIZE;
	uint16_t flags = vq->used_wrap ? VRING_PACKED_F_AVAIL | VRING_PACKED_F_USED : 0;
	uint32_t le_len = htole32(len);

	if (!desc)
		return err_set(-EFAULT, "virtqueue: descriptor ring no longer mapped");
	if (!e->ndesc || e->ndesc > vq->cfg.size || e->id >= vq->cfg.size)
		return err_set(-EINVAL, "virtqueue: push of a bad element");
	if (len)
		flags |= VRING_DESC_F_WRITE;	/* len is meaningful (2.8.5) */
	__atomic_store_n((uint32_t *)(desc + off + 8), le_len, __ATOMIC_RELAXED);
	store16(desc + off + 12, e->id);
	/* the flags make the descriptor used: after id and len */
	store16_release(desc + off + 14, flags);
	as_mapping_mark_dirty(&vq->desc, off, DESC_SIZE);
	vq->next_used = (uint16_t)(vq->next_used + e->ndesc);
	if (vq->next_used >= vq->cfg.size) {
		vq->next_used = (uint16_t)(vq->next_used - vq->cfg.size);
		vq->used_wrap = !vq->used_wrap;
	}
	return 0;
}

/*
 * @written is clamped to the element's writable length: a device bug must
 * not make the driver read past its buffer.
 */
int vq_push(struct virtqueue *vq, const struct vq_elem *e, uint32_t written)
{
	uint32_t len = (uint64_t)written > e->in_len ? (uint32_t)e->in_len : written;
	int ret;

	if (!vq->ready || vq->broken) {
		(void)vq_unusable(vq);	/* for the message */
		return -EINVAL;
	}
	as_read_lock();
	ret = vq->packed ? packed_push(vq, e, len) : split_push(vq, e, len);
	as_read_unlock();
	if (!ret)
		vq->pushed++;
	return ret;
}

/* ------------------------------------------------- event suppression */

/* virtio 1.2, 2.7.10: has the driver's @event index been passed? */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static bool split_notify_enable(struct virtqueue *vq, bool enable)
{
	uint8_t *used = ring_get(&vq->device, 4);
	uint32_t off = 4 + USED_ELEM_SIZE * vq->cfg.size;

	if (!used)
		return false;
	if (!vq->event_idx) {
		store16(used, enable ? 0 : VRING_USED_F_NO_NOTIFY);
		as_mapping_mark_dirty(&vq->device, 0, 2);
	} else if (enable) {
		store16(used + off, vq->last_avail);	/* avail_event */
		as_mapping_mark_dirty(&vq->device, off, 2);
	}
	return enable;
}

static bool packed_notify_enable(struct virtqueue *vq, bool enable)
{
	uint8_t *ev = ring_get(&vq->device, 4);
	uint16_t flags = RING_EVENT_FLAGS_DISABLE;

	if (!ev)
		return false;
	if (enable && vq->event_idx) {
		packed_write_event_off(vq, ev);
		flags = RING_EVENT_FLAGS_DESC;
	} else if (enable) {
		flags = RING_EVENT_FLAGS_ENABLE;
	}
	store16_release(ev + 2, flags);
	as_mapping_mark_dirty(&vq->device, 0, 4);
	return enable;
}

bool vq_notify_enable(struct virtqueue *vq, bool enable)
{
	bool ret = false;

	if (!vq->ready || vq->broken)
		return false;
	vq->notify_on = enable;
	as_read_lock();
	if (vq->packed ? packed_notify_enable(vq, enable) : split_notify_enable(vq, enable)) {
		/* the enable store must be visible before we look at the ring */
		vq_full_barrier();
		ret = has_avail_locked(vq);
	}
	as_read_unlock();
	return ret;
}

/*
 * Position of the packed used pointer on a circle of 2 * size slots, so
 * that (next_used, used_wrap) pairs compare like a split used index.
 */
static uint16_t packed_used_pos(const struct virtqueue *vq, uint16_t idx, bool wrap)
{
	return (uint16_t)(idx + (wrap ? 0 : vq->cfg.size));
}

/* Has the packed event position @event been passed going from @old to @new? */
static bool packed_need_event(const struct virtqueue *vq, uint16_t event,
			      uint16_t new_pos, uint16_t old)
{
	uint32_t mod = 2u * vq->cfg.size;
	uint32_t a = (new_pos + 2 * mod - event - 1) % mod;
	uint32_t b = (new_pos + mod - old) % mod;

	return a < b;
}

static bool packed_should_interrupt(struct virtqueue *vq, bool first)
{
	uint8_t *ev = ring_get(&vq->driver, 4);
	uint16_t new_pos = packed_used_pos(vq, vq->next_used, vq->used_wrap);
	uint16_t old = vq->signalled_used;
	uint16_t off_wrap, flags, off;

	vq->signalled_used = new_pos;
	if (!ev || (!first && new_pos == old))
		return false;
	flags = load16(ev + 2) & 3;
	if (flags == RING_EVENT_FLAGS_DISABLE)
		return false;
	if (flags != RING_EVENT_FLAGS_DESC || !vq->event_idx || first)
		return true;
	off_wrap = load16(ev);
	off = off_wrap & 0x7fff;
	if (off >= vq->cfg.size)
		return true;	/* nonsense offset: interrupting is always safe */
	return packed_need_event(vq, packed_used_pos(vq, off, off_wrap >> 15),
				 new_pos, old);
}

static bool split_should_interrupt(struct virtqueue *vq, bool first)
{
	uint8_t *avail = ring_get(&vq->driver, 2);
	uint16_t old = vq->signalled_used;

	vq->signalled_used = vq->used_idx;
	if (!avail || (!first && vq->used_idx == old))
		return false;
	if (!vq->event_idx)
		return !(load16(avail) & VRING_AVAIL_F_NO_INTERRUPT);
	if (first)
		return true;
	return vring_need_event(load16(avail + 4 + 2u * vq->cfg.size), vq->used_idx, old);
}

bool vq_should_interrupt(struct virtqueue *vq)
{
	bool first = !vq->signalled_valid;
	bool ret;

	if (!vq->ready || vq->broken)
		return false;
	/* our used index/flags stores before the driver's suppression fields */
	vq_full_barrier();
	as_read_lock();
	ret = vq->packed ? packed_should_interrupt(vq, first)
			 : split_should_interrupt(vq, first);
	as_read_unlock();
	vq->signalled_valid = true;
	return ret;
}

/* --------------------------------------------------------------- state */

void vq_get_state(const struct virtqueue *vq, struct vq_state *s)
{
	*s = (struct vq_state){
		.last_avail = vq->last_avail, .used_idx = vq->used_idx,
		.next_avail = vq->next_avail, .avail_wrap = vq->avail_wrap,
		.next_used = vq->next_used, .used_wrap = vq->used_wrap,
	};
}

int vq_set_state(struct virtqueue *vq, const struct vq_state *s)
{
	if (!vq->ready || vq->broken)
		return err_set(-EINVAL, "virtqueue: set state on a stopped queue");
	if (vq->packed && (s->next_avail >= vq->cfg.size || s->next_used >= vq->cfg.size))
		return err_set(-EINVAL, "virtqueue: packed position out of range");
	if (!vq->packed && (uint16_t)(s->last_avail - s->used_idx) > vq->cfg.size)
		return err_set(-EINVAL, "virtqueue: %u chains in flight > size %u",
			       (uint16_t)(s->last_avail - s->used_idx), vq->cfg.size);
	vq->last_avail = s->last_avail;
	vq->used_idx = s->used_idx;
	vq->next_avail = s->next_avail;
	vq->avail_wrap = s->avail_wrap;
	vq->next_used = s->next_used;
	vq->used_wrap = s->used_wrap;
	vq->signalled_valid = false;
	return 0;
}

/* ------------------------------------------------------------- cursors */

static void cursor_init(struct vq_cursor *c, const struct virtqueue *vq,
			const struct vq_elem *e, bool write)
{
	*c = (struct vq_cursor){
		.as = vq->as, .e = e, .write = write,
		.seg = write ? e->nr_out : 0,
		.end = (unsigned int)e->nr_out + (write ? e->nr_in : 0),
	};
}

void vq_reader_init(struct vq_cursor *c, const struct virtqueue *vq, const struct vq_elem *e)
{
	cursor_init(c, vq, e, false);
}

void vq_writer_init(struct vq_cursor *c, const struct virtqueue *vq, const struct vq_elem *e)
{
	cursor_init(c, vq, e, true);
}

uint64_t vq_cursor_left(const struct vq_cursor *c)
{
	uint64_t total = c->write ? c->e->in_len : c->e->out_len;

	return total - c->done;
}

/* Move a cursor copy @n bytes on; the caller checked that they are left. */
static void cursor_advance(struct vq_cursor *c, uint64_t n)
{
	c->done += n;
	while (n && c->seg < c->end) {
		uint32_t room = c->e->segs[c->seg].len - c->off;

		if (n < room) {
			c->off += (uint32_t)n;
			return;
		}
		n -= room;
		c->seg++;
		c->off = 0;
	}
}

/*
 * The piece of the chain the next transfer of at most @len bytes starts
 * with: its guest address and length.  Skips exhausted or empty segments
 * (pop never makes empty ones, but an element is the caller's memory);
 * 0 when no byte is left.
 */
static uint32_t cursor_piece(struct vq_cursor *c, uint64_t len, uint64_t *gpa)
{
	for (; c->seg < c->end; c->seg++, c->off = 0) {
		const struct vq_seg *s = &c->e->segs[c->seg];

		if (c->off < s->len) {
			uint32_t room = s->len - c->off;

			*gpa = s->gpa + c->off;
			return len < room ? (uint32_t)len : room;
		}
	}
	return 0;
}

/* Copy @len bytes between @buf and the chain; commit the position on success. */
static int cursor_copy(struct vq_cursor *c, void *buf, size_t len)
{
	struct vq_cursor t = *c;
	uint8_t *p = buf;
	uint64_t left = len, gpa;

	if (len > vq_cursor_left(c))
		return -EMSGSIZE;
	while (left) {
		uint32_t n = cursor_piece(&t, left, &gpa);
		int ret;

		if (!n)
			return -EMSGSIZE;	/* segments shorter than the totals say */
		ret = t.write ? as_copy_to(t.as, gpa, p, n) : as_copy_from(t.as, p, gpa, n);
		if (ret)
			return -EFAULT;
		cursor_advance(&t, n);
		p += n;
		left -= n;
	}
	*c = t;
	return 0;
}

int vq_read(struct vq_cursor *c, void *buf, size_t len)
{
	if (c->write)
		return -EINVAL;
	return cursor_copy(c, buf, len);
}

int vq_write(struct vq_cursor *c, const void *buf, size_t len)
{
	if (!c->write)
		return -EINVAL;
	/* cursor_copy only reads @buf for a writer */
	return cursor_copy(c, (void *)(uintptr_t)buf, len);
}

int vq_cursor_skip(struct vq_cursor *c, uint64_t len)
{
	if (len > vq_cursor_left(c))
		return -EMSGSIZE;
	cursor_advance(c, len);
	return 0;
}

/* Translate @len bytes from a copy of the cursor; the caller commits. */
static int cursor_iov_locked(struct vq_cursor *t, uint64_t len, struct iovec *iov,
			     unsigned int max)
{
	unsigned int n = 0;
	uint64_t gpa;

	while (len) {
		uint32_t piece = cursor_piece(t, len, &gpa);
		int ret;

		if (!piece)
			return -EMSGSIZE;
		ret = as_translate_iov(t->as, gpa, piece, t->write, iov + n, max - n);
		if (ret < 0)
			return ret;
		n += (unsigned int)ret;
		cursor_advance(t, piece);
		len -= piece;
	}
	return (int)n;
}

int vq_cursor_iov(struct vq_cursor *c, uint64_t len, struct iovec *iov,
		  unsigned int max)
{
	struct vq_cursor t = *c;
	int ret;

	if (len > vq_cursor_left(c))
		return -EMSGSIZE;
	as_read_lock();
	ret = cursor_iov_locked(&t, len, iov, max);
	as_read_unlock();
	if (ret >= 0)
		*c = t;
	return ret;
}

void vq_elem_mark_dirty(const struct virtqueue *vq, const struct vq_elem *e, uint64_t len)
{
	unsigned int i, end = (unsigned int)e->nr_out + e->nr_in;

	for (i = e->nr_out; i < end && len; i++) {
		uint64_t n = e->segs[i].len < len ? e->segs[i].len : len;

		as_mark_dirty(vq->as, e->segs[i].gpa, n);
		len -= n;
	}
}
