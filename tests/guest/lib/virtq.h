/* SPDX-License-Identifier: MIT */
/*
 * virtq.h - driver side of split and packed virtqueues, memory from a
 * static arena in .bss (identity mapped: virtual address = guest physical).
 */
#ifndef GUEST_VIRTQ_H
#define GUEST_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio.h"

/* ---- DMA arena (bump allocator, 16 MiB of .bss) ---- */
void *dma_alloc(size_t size, size_t align);	/* zeroed; fails the test when full */
size_t dma_mark(void);
void dma_release(size_t mark);			/* free everything allocated after mark */
static inline uint64_t dma_pa(const void *p) { return (uint64_t)(uintptr_t)p; }

/* ---- ring layouts ---- */
#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_PACKED_F_AVAIL	(1u << 7)
#define VRING_PACKED_F_USED	(1u << 15)

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];	/* then avail_event */
};

struct vring_packed_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct vring_packed_event {
	uint16_t off_wrap;
	uint16_t flags;		/* 0 enable, 1 disable, 2 desc (EVENT_IDX) */
};

#define VIRTQ_MAX_SIZE		1024
#define VIRTQ_MAX_INDIRECT	16	/* entries per indirect table */

struct vq_buf {
	uint64_t addr;
	uint32_t len;
	bool write;		/* device writes (VRING_DESC_F_WRITE) */
};

struct virtq {
	struct virtio_dev *dev;
	uint16_t index;
	uint16_t size;
	bool packed;
	bool event_idx;
	bool indirect_ok;	/* INDIRECT_DESC negotiated */
	uint16_t msix_vector;
	uint64_t desc_pa, driver_pa, device_pa;

	/* split */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t free_head;
	uint16_t avail_idx;	/* next avail->idx */
	uint16_t last_used;

	/* packed */
	struct vring_packed_desc *pdesc;
	struct vring_packed_event *drv_event, *dev_event;
	uint16_t next_avail;
	bool avail_wrap;
	uint16_t next_used;
	bool used_wrap;
	uint16_t free_ids;	/* packed: free buffer-id list head (via id_next) */

	uint16_t num_free;	/* descriptors (split) / ring slots (packed) */
	uint16_t inflight;
	uint16_t added_since_kick;
	uint16_t kick_old;	/* split: avail_idx at the last kick */

	/* per buffer id (split: head descriptor index) */
	void **token;
	uint16_t *ndesc;	/* descriptors it takes in the ring */
	uint16_t *id_next;
	struct vring_desc *indirect;	/* size * VIRTQ_MAX_INDIRECT */

	uint64_t kicks, completions;
	/* virtq_set_poll_only: split EVENT_IDX rings keep used_event out of
	 * the device's reach instead of following last_used. */
	bool poll_only;
};

/* Allocate and zero the rings (size must be what the device accepts; split
 * needs a power of two, checked by the caller), program them into the
 * device (virtio_queue_setup) and enable.  packed/event_idx/indirect from the
 * negotiated features. */
void virtq_create(struct virtq *vq, struct virtio_dev *d, uint16_t index, uint16_t size);
/* Only the rings, not programmed into the device. */
void virtq_alloc(struct virtq *vq, struct virtio_dev *d, uint16_t index, uint16_t size,
		 bool packed);
/* Add one chain: out buffers then in buffers in bufs[] order.  indirect:
 * one indirect table (needs INDIRECT_DESC).  Returns false if there is no
 * room. */
bool virtq_add(struct virtq *vq, const struct vq_buf *bufs, unsigned int n, void *token,
	       bool indirect);
/* Publish what was added and notify unless the device suppressed it. */
void virtq_kick(struct virtq *vq);
/* Poll: the token of the next used buffer (len = bytes written) or NULL. */
void *virtq_get(struct virtq *vq, uint32_t *len);
bool virtq_has_used(struct virtq *vq);
/* Add, kick and wait up to timeout_ms for this request to complete.  In
 * interrupt mode also waits for the interrupt count to move.  Returns false on
 * timeout. */
bool virtq_submit_wait(struct virtq *vq, const struct vq_buf *bufs, unsigned int n,
		       bool indirect, uint32_t *len, uint64_t timeout_ms);
/* Polling for good: ask the device never to interrupt for this queue, also
 * with EVENT_IDX on a split ring (used_event parked half the index space
 * ahead of last_used and kept there by virtq_get).  Without EVENT_IDX the
 * polling flags set by virtq_alloc already do it. */
void virtq_set_poll_only(struct virtq *vq);
/* Wait for any used buffer (or an interrupt first in irq mode). */
void *virtq_wait(struct virtq *vq, uint32_t *len, uint64_t timeout_ms);

/* Split ring sizes for a queue of n entries. */
size_t vring_split_avail_size(uint16_t n);
size_t vring_split_used_size(uint16_t n);

#endif
