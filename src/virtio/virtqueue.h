/* SPDX-License-Identifier: MIT */
/*
 * virtqueue.h - the device side of virtio 1.x virtqueues (split and packed).
 *
 * No dependency but the guest address space (core/addr_space.h): the rings
 * are validated once, when the device is activated (DRIVER_OK), and mapped
 * through long-lived as_mappings; descriptor buffers are reached only through
 * cursors (vq_read/vq_write/vq_cursor_iov), which go through the address
 * space, so every device write into guest memory is dirty-tracked.
 *
 * Everything the driver writes is hostile input.  A chain is bounded by the
 * queue size (no loops), an indirect table by its own length (and may not
 * contain another indirect descriptor), readable descriptors come before
 * writable ones, lengths are summed without overflow, nothing the host
 * allocates is sized by the guest.  A violation makes vq_pop() return
 * -EPROTO with a message in vq->err; the queue is then "broken" and every
 * later call fails the same way until vq_reset().  The caller (the virtio
 * device core) marks the device NEEDS_RESET.
 *
 * Threads: a virtqueue is used by one thread at a time (its device's I/O
 * thread).  Callers need not hold as_read_lock: each call is a complete
 * read-side critical section.
 */
#ifndef KITE_VIRTIO_VIRTQUEUE_H
#define KITE_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/addr_space.h"
#include "core/error.h"

#define VQ_MAX_SIZE	1024	/* largest queue size kite offers */
#define VQ_MAX_SEGS	256	/* most descriptors in one chain (direct or indirect) */
#define VQ_ERR_MAX	160

/* Feature bits the library understands (virtio 1.2, section 6). */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED	34
#define VIRTIO_F_IN_ORDER	35

/* What the driver configured for one queue (transport registers). */
struct vq_config {
	uint16_t size;		/* queue size; split: power of two; 1..VQ_MAX_SIZE */
	uint64_t desc_gpa;	/* descriptor area */
	uint64_t driver_gpa;	/* split: available ring; packed: driver event suppression */
	uint64_t device_gpa;	/* split: used ring; packed: device event suppression */
	uint64_t features;	/* negotiated features (bits above) */
};

/* One segment of a chain: a guest-physical range. */
struct vq_seg {
	uint64_t gpa;
	uint32_t len;
};

/* A popped chain: readable (out) segments first, then writable (in) ones. */
struct vq_elem {
	uint16_t id;		/* split: head index; packed: buffer id */
	uint16_t ndesc;		/* ring descriptors it used (packed: to advance) */
	uint16_t nr_out;	/* device-readable segments: segs[0 .. nr_out) */
	uint16_t nr_in;		/* device-writable segments: segs[nr_out .. nr_out + nr_in) */
	uint64_t out_len;	/* total bytes readable */
	uint64_t in_len;	/* total bytes writable */
	struct vq_seg segs[VQ_MAX_SEGS];
};

struct virtqueue {
	const struct addr_space *as;
	struct vq_config cfg;
	bool ready;		/* vq_start() succeeded */
	bool packed, event_idx, indirect;
	bool broken;		/* a protocol violation was seen */
	char err[VQ_ERR_MAX];	/* what it was */

	/* ring mappings (writable: the device writes used/event areas) */
	struct as_mapping desc, driver, device;

	/* split */
	uint16_t last_avail;	/* next available ring index to consume */
	uint16_t used_idx;	/* next used index to publish */
	/* packed */
	uint16_t next_avail;	/* next descriptor slot to look at */
	bool avail_wrap;	/* its wrap counter */
	uint16_t next_used;	/* next descriptor slot to write as used */
	bool used_wrap;

	/* notification suppression bookkeeping */
	bool notify_on;		/* driver notifications wanted (vq_notify_enable) */
	uint16_t signalled_used;	/* used index at the last interrupt (packed:
					 * slot + size when the wrap counter is 0) */
	bool signalled_valid;
	uint64_t popped, pushed;	/* counters */
};

/*
 * Validate and map the rings: size (split: power of two, 1..VQ_MAX_SIZE;
 * packed: 1..VQ_MAX_SIZE), alignment (split: desc 16, avail 2, used 4;
 * packed: desc 16, event areas 4), every area wholly inside guest RAM
 * (one region each).  -EINVAL with an err_set() message (also in vq->err).
 * Starts with empty rings (indices 0, wrap counters 1).
 */
int vq_start(struct virtqueue *vq, const struct addr_space *as,
	     const struct vq_config *cfg) KITE_WUR;
/* Forget everything (device reset): not ready, not broken. */
void vq_reset(struct virtqueue *vq);

/*
 * Take the next available chain.  1: @e filled; 0: none available;
 * -EPROTO: the driver broke the rules (vq->err says how, vq->broken set);
 * -EINVAL: queue not started; -EFAULT: a ring is no longer mapped (host
 * side: RAM removed; the queue is not marked broken).
 * Zero-length descriptors are validated (flags, order) but not kept as
 * segments.  Segment buffers are not checked against RAM here (only
 * gpa + len overflow is refused): the cursors return -EFAULT for them.
 */
int vq_pop(struct virtqueue *vq, struct vq_elem *e) KITE_WUR;
/*
 * Return a chain as used, @written bytes written into its writable part
 * (clamped to e->in_len, so a device bug cannot overstate it).  Used entries are published in order of the calls; the index/flags store is
 * a release store after the entry.  -EINVAL if not started/broken,
 * -EFAULT if the ring is no longer mapped.
 */
int vq_push(struct virtqueue *vq, const struct vq_elem *e, uint32_t written) KITE_WUR;
/* Put back the last popped chain (not yet pushed), e.g. no room on the host side. */
void vq_unpop(struct virtqueue *vq, const struct vq_elem *e);

/* Ring positions, for snapshot/restore (and tests that start mid-ring). */
struct vq_state {
	uint16_t last_avail, used_idx;		/* split */
	uint16_t next_avail, next_used;		/* packed */
	bool avail_wrap, used_wrap;		/* packed */
};

void vq_get_state(const struct virtqueue *vq, struct vq_state *s);
/*
 * Restore positions into a started queue.  Untrusted input: packed
 * positions must be < size, split may not have more than size chains in
 * flight (last_avail - used_idx).  -EINVAL otherwise.
 */
int vq_set_state(struct virtqueue *vq, const struct vq_state *s) KITE_WUR;
/* True when at least one chain is available (no side effects). */
bool vq_has_avail(struct virtqueue *vq);

/*
 * Notification suppression, device side.  vq_notify_enable(vq, false) asks
 * the driver not to kick (split: VRING_USED_F_NO_NOTIFY, or with EVENT_IDX
 * nothing: the avail event is only advanced on enable; packed: device event
 * flags DISABLE).  vq_notify_enable(vq, true) re-enables (EVENT_IDX: writes
 * avail_event = last_avail; packed: ENABLE or DESC with the next slot) and
 * returns true when chains arrived in the meantime (the caller must poll
 * again: the classic race).  With EVENT_IDX, while notifications are on,
 * vq_pop() also moves avail_event (packed: the device event offset) to the
 * next position it will consume, so a device that never disables
 * notifications keeps getting kicks.
 */
bool vq_notify_enable(struct virtqueue *vq, bool enable);
/*
 * After one or more vq_push(): does the driver want an interrupt?  Honours
 * VRING_AVAIL_F_NO_INTERRUPT / used_event (split) and the driver event
 * suppression structure (packed).  Updates the "signalled" bookkeeping, so
 * call it once per batch and interrupt when it returns true.
 */
bool vq_should_interrupt(struct virtqueue *vq);

/* ---- cursors over a popped chain ---- */
struct vq_cursor {
	const struct addr_space *as;
	const struct vq_elem *e;
	unsigned int seg;	/* current segment (absolute index into e->segs) */
	unsigned int end;	/* one past the last segment of this direction */
	uint32_t off;		/* offset into the current segment */
	uint64_t done;		/* bytes consumed so far */
	bool write;
};

/* A reader over the readable part, a writer over the writable part. */
void vq_reader_init(struct vq_cursor *c, const struct virtqueue *vq, const struct vq_elem *e);
void vq_writer_init(struct vq_cursor *c, const struct virtqueue *vq, const struct vq_elem *e);
/* Bytes left in the cursor's direction. */
uint64_t vq_cursor_left(const struct vq_cursor *c);
/*
 * Copy exactly @len bytes out of (reader) / into (writer) the chain and
 * advance.  -EMSGSIZE if fewer than @len bytes are left (nothing copied),
 * -EFAULT if a segment is not (or no longer) backed by RAM (or read-only for
 * a writer); then the cursor is unchanged (a writer may have written part of
 * the data).  -EINVAL: vq_read on a writer or vq_write on a reader.
 */
int vq_read(struct vq_cursor *c, void *buf, size_t len) KITE_WUR;
int vq_write(struct vq_cursor *c, const void *buf, size_t len) KITE_WUR;
/* Advance by @len bytes without copying (-EMSGSIZE if fewer are left). */
int vq_cursor_skip(struct vq_cursor *c, uint64_t len) KITE_WUR;
/*
 * Translate the next @len bytes into host iovecs (at most @max) and advance:
 * for zero-copy I/O (io_uring, readv/writev on a tap).  Returns the number of
 * iovecs, -EMSGSIZE, -EFAULT or -E2BIG.  Writers' pages are marked dirty
 * now; the caller calls vq_cursor_mark_dirty() again once the I/O that wrote
 * them completed (addr_space.h: as_mark_dirty).  The host pointers are
 * valid while the address space keeps those regions: devices use them only
 * between as_read_lock() and as_read_unlock(), or, for I/O that outlives a
 * critical section, must finish it before any RAM region is removed (kite
 * never removes RAM while devices run).
 */
int vq_cursor_iov(struct vq_cursor *c, uint64_t len, struct iovec *iov,
		  unsigned int max) KITE_WUR;
/* Mark the writable part [0, len) of @e dirty (after asynchronous I/O). */
void vq_elem_mark_dirty(const struct virtqueue *vq, const struct vq_elem *e, uint64_t len);

#endif
