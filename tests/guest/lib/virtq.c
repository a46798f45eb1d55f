/* SPDX-License-Identifier: MIT */
/* virtq.c - split and packed virtqueues, driver side (ring 3). */
#include "lib.h"
#include "irq.h"
#include "tsc.h"
#include "virtq.h"
#include "boot.h"

#define DMA_ARENA_SIZE (16u << 20)
#define DMA_ARENA_ALIGN (2u << 20)

/*
 * The arena is RAM just above the image (2 MiB aligned), not .bss: a VMM
 * then does not have to zero 16 MiB to load the guest, and scenarios that
 * do not use virtio never touch it.  Needs the RAM to be there.
 */
static uint8_t *dma_arena;
static size_t dma_used;

static uint8_t *dma_arena_get(void)
{
	uint64_t base;

	if (dma_arena)
		return dma_arena;
	base = ((uintptr_t)__image_end + DMA_ARENA_ALIGN - 1) & ~(uint64_t)(DMA_ARENA_ALIGN - 1);
	if (!memmap_is_ram(base, DMA_ARENA_SIZE) || memmap_overlaps_boot_data(base, DMA_ARENA_SIZE))
		fail("virtio DMA arena [0x%llx, +16 MiB) is not free RAM: give the guest >= 32 MiB",
		     (unsigned long long)base);
	dma_arena = (uint8_t *)(uintptr_t)base;
	return dma_arena;
}

void *dma_alloc(size_t size, size_t align)
{
	size_t start;

	dma_arena_get();
	if (!align)
		align = 16;
	start = (dma_used + align - 1) & ~(align - 1);
	if (start + size > DMA_ARENA_SIZE || start + size < start)
		fail("DMA arena full (%zu of %u bytes used, %zu more asked)", dma_used,
		     DMA_ARENA_SIZE, size);
	dma_used = start + size;
	memset(dma_arena + start, 0, size);
	return dma_arena + start;
}

size_t dma_mark(void)
{
	return dma_used;
}

void dma_release(size_t mark)
{
	if (mark <= dma_used)
		dma_used = mark;
}

static inline void mb(void) { __asm__ volatile("mfence" ::: "memory"); }

size_t vring_split_avail_size(uint16_t n)
{
	return 6 + 2 * (size_t)n;
}

size_t vring_split_used_size(uint16_t n)
{
	return 6 + 8 * (size_t)n;
}

void virtq_alloc(struct virtq *vq, struct virtio_dev *d, uint16_t index, uint16_t size,
		 bool packed)
{
	uint16_t i;

	if (!size || size > VIRTQ_MAX_SIZE)
		fail("virtq %u: size %u not supported by the driver (1..%u)", index, size,
		     VIRTQ_MAX_SIZE);
	memset(vq, 0, sizeof(*vq));
	vq->dev = d;
	vq->index = index;
	vq->size = size;
	vq->packed = packed;
	vq->event_idx = virtio_has(d, VIRTIO_F_EVENT_IDX);
	vq->indirect_ok = virtio_has(d, VIRTIO_F_INDIRECT_DESC);
	vq->token = dma_alloc(sizeof(void *) * size, 8);
	vq->ndesc = dma_alloc(sizeof(uint16_t) * size, 2);
	vq->id_next = dma_alloc(sizeof(uint16_t) * size, 2);
	vq->indirect = dma_alloc(sizeof(struct vring_desc) * VIRTQ_MAX_INDIRECT * size, 4096);
	vq->num_free = size;
	if (packed) {
		vq->pdesc = dma_alloc(sizeof(struct vring_packed_desc) * size, 4096);
		vq->drv_event = dma_alloc(sizeof(struct vring_packed_event), 4096);
		vq->dev_event = dma_alloc(sizeof(struct vring_packed_event), 4096);
		vq->desc_pa = dma_pa(vq->pdesc);
		vq->driver_pa = dma_pa(vq->drv_event);
		vq->device_pa = dma_pa(vq->dev_event);
		vq->avail_wrap = vq->used_wrap = true;
		for (i = 0; i < size; i++)
			vq->id_next[i] = i + 1;
		vq->free_ids = 0;
	} else {
		vq->desc = dma_alloc(sizeof(struct vring_desc) * size, 4096);
		vq->avail = dma_alloc(vring_split_avail_size(size), 4096);
		vq->used = dma_alloc(vring_split_used_size(size), 4096);
		vq->desc_pa = dma_pa(vq->desc);
		vq->driver_pa = dma_pa(vq->avail);
		vq->device_pa = dma_pa(vq->used);
		for (i = 0; i < size; i++)
			vq->desc[i].next = i + 1;
		vq->free_head = 0;
	}
	/* Polling: ask the device not to interrupt. */
	if (d->irq_mode == VIRTIO_IRQ_NONE) {
		if (packed)
			vq->drv_event->flags = 1;
		else
			vq->avail->flags = 1;	/* VRING_AVAIL_F_NO_INTERRUPT */
	}
	vq->msix_vector = d->irq_mode == VIRTIO_IRQ_MSIX ? 0 : 0xffff;
}

void virtq_create(struct virtq *vq, struct virtio_dev *d, uint16_t index, uint16_t size)
{
	virtq_alloc(vq, d, index, size, virtio_has(d, VIRTIO_F_RING_PACKED));
	virtio_queue_setup(d, index, size, vq->desc_pa, vq->driver_pa, vq->device_pa,
			   vq->msix_vector);
	if (index < VIRTIO_MAX_QUEUES)
		d->vq[index] = vq;
}

static void fill_indirect(struct virtq *vq, struct vring_desc *tbl, const struct vq_buf *bufs,
			  unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (vq->packed) {
			struct vring_packed_desc *p = (struct vring_packed_desc *)&tbl[i];

			p->addr = bufs[i].addr;
			p->len = bufs[i].len;
			p->id = 0;
			p->flags = bufs[i].write ? VRING_DESC_F_WRITE : 0;
		} else {
			tbl[i].addr = bufs[i].addr;
			tbl[i].len = bufs[i].len;
			tbl[i].flags = (bufs[i].write ? VRING_DESC_F_WRITE : 0) |
				       (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			tbl[i].next = (uint16_t)(i + 1 < n ? i + 1 : 0);
		}
	}
}

static bool add_split(struct virtq *vq, const struct vq_buf *bufs, unsigned int n, void *token,
		      bool indirect)
{
	unsigned int need = indirect ? 1 : n, i;
	uint16_t head = vq->free_head, idx = head, prev = head;

	if (vq->num_free < need)
		return false;
	if (indirect) {
		struct vring_desc *tbl = &vq->indirect[(size_t)head * VIRTQ_MAX_INDIRECT];

		fill_indirect(vq, tbl, bufs, n);
		vq->desc[head].addr = dma_pa(tbl);
		vq->desc[head].len = n * sizeof(struct vring_desc);
		vq->desc[head].flags = VRING_DESC_F_INDIRECT;
		vq->free_head = vq->desc[head].next;
	} else {
		for (i = 0; i < n; i++) {
			vq->desc[idx].addr = bufs[i].addr;
			vq->desc[idx].len = bufs[i].len;
			vq->desc[idx].flags = (bufs[i].write ? VRING_DESC_F_WRITE : 0) |
					      (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			prev = idx;
			idx = vq->desc[idx].next;
		}
		(void)prev;
		vq->free_head = idx;
	}
	vq->num_free -= need;
	vq->token[head] = token;
	vq->ndesc[head] = need;
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	barrier();
	vq->avail_idx++;
	WRITE_ONCE(vq->avail->idx, vq->avail_idx);
	return true;
}

static bool add_packed(struct virtq *vq, const struct vq_buf *bufs, unsigned int n, void *token,
		       bool indirect)
{
	unsigned int need = indirect ? 1 : n, i;
	uint16_t id = vq->free_ids, head = vq->next_avail, slot = head, head_flags = 0;
	bool wrap = vq->avail_wrap;

	if (vq->num_free < need || id >= vq->size)
		return false;
	for (i = 0; i < need; i++) {
		struct vring_packed_desc *p = &vq->pdesc[slot];
		uint16_t flags = wrap ? VRING_PACKED_F_AVAIL : VRING_PACKED_F_USED;

		if (indirect) {
			struct vring_desc *tbl = &vq->indirect[(size_t)id * VIRTQ_MAX_INDIRECT];

			fill_indirect(vq, tbl, bufs, n);
			p->addr = dma_pa(tbl);
			p->len = n * sizeof(struct vring_packed_desc);
			flags |= VRING_DESC_F_INDIRECT;
		} else {
			p->addr = bufs[i].addr;
			p->len = bufs[i].len;
			flags |= (bufs[i].write ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < need ? VRING_DESC_F_NEXT : 0);
		}
		p->id = id;
		if (i == 0)
			head_flags = flags;
		else
			p->flags = flags;
		if (++slot == vq->size) {
			slot = 0;
			wrap = !wrap;
		}
	}
	vq->next_avail = slot;
	vq->avail_wrap = wrap;
	vq->free_ids = vq->id_next[id];
	vq->num_free -= need;
	vq->token[id] = token;
	vq->ndesc[id] = need;
	barrier();
	WRITE_ONCE(vq->pdesc[head].flags, head_flags);
	return true;
}

bool virtq_add(struct virtq *vq, const struct vq_buf *bufs, unsigned int n, void *token,
	       bool indirect)
{
	bool ok;

	if (!n || (indirect && n > VIRTQ_MAX_INDIRECT))
		fail("virtq_add: %u buffers (indirect %d)", n, indirect);
	if (!token)
		fail("virtq_add: NULL token");
	ok = vq->packed ? add_packed(vq, bufs, n, token, indirect)
			: add_split(vq, bufs, n, token, indirect);
	if (ok) {
		vq->inflight++;
		vq->added_since_kick++;
	}
	return ok;
}

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void virtq_kick(struct virtq *vq)
{
	bool notify;

	if (!vq->added_since_kick)
		return;
	mb();
	if (vq->packed) {
		notify = READ_ONCE(vq->dev_event->flags) != 1;
	} else if (vq->event_idx) {
		typedef uint16_t __attribute__((may_alias)) u16a;
		const volatile u16a *p = (const volatile u16a *)((const uint8_t *)vq->used +
					  vring_split_used_size(vq->size) - 2);	/* avail_event */
		uint16_t ev = *p;

		notify = need_event(ev, vq->avail_idx, vq->kick_old);
	} else {
		notify = !(READ_ONCE(vq->used->flags) & 1);
	}
	vq->kick_old = vq->avail_idx;
	vq->added_since_kick = 0;
	if (notify) {
		vq->kicks++;
		virtio_notify(vq->dev, vq->index);
	}
}

bool virtq_has_used(struct virtq *vq)
{
	if (vq->packed) {
		uint16_t f = READ_ONCE(vq->pdesc[vq->next_used].flags);

		return !!(f & VRING_PACKED_F_AVAIL) == vq->used_wrap &&
		       !!(f & VRING_PACKED_F_USED) == vq->used_wrap;
	}
	return READ_ONCE(vq->used->idx) != vq->last_used;
}

void *virtq_get(struct virtq *vq, uint32_t *len)
{
	uint32_t id, l;
	void *tok;

	if (!virtq_has_used(vq))
		return NULL;
	barrier();
	if (vq->packed) {
		struct vring_packed_desc *p = &vq->pdesc[vq->next_used];

		id = p->id;
		l = p->len;
		if (id >= vq->size || !vq->token[id])
			fail("virtq %u: device used buffer id %u (slot %u) that is not in flight",
			     vq->index, id, vq->next_used);
		vq->next_used += vq->ndesc[id];
		if (vq->next_used >= vq->size) {
			vq->next_used -= vq->size;
			vq->used_wrap = !vq->used_wrap;
		}
		vq->id_next[id] = vq->free_ids;
		vq->free_ids = (uint16_t)id;
		if (vq->event_idx && vq->dev->irq_mode != VIRTIO_IRQ_NONE)
			WRITE_ONCE(vq->drv_event->flags, 0);
	} else {
		struct vring_used_elem *e = &vq->used->ring[vq->last_used % vq->size];
		uint16_t i, n;

		id = e->id;
		l = e->len;
		if (id >= vq->size || !vq->token[id])
			fail("virtq %u: device used descriptor %u that is not in flight",
			     vq->index, id);
		/* give the chain back to the free list */
		i = (uint16_t)id;
		for (n = 1; n < vq->ndesc[id]; n++)
			i = vq->desc[i].next;
		vq->desc[i].next = vq->free_head;
		vq->free_head = (uint16_t)id;
		vq->last_used++;
		if (vq->event_idx)	/* used_event */
			WRITE_ONCE(vq->avail->ring[vq->size],
				   (uint16_t)(vq->last_used + (vq->poll_only ? 0x8000 : 0)));
	}
	tok = vq->token[id];
	vq->token[id] = NULL;
	vq->num_free += vq->ndesc[id];
	vq->inflight--;
	vq->completions++;
	if (len)
		*len = l;
	return tok;
}

/*
 * The device interrupts when used_event lies in [old, new) of the entries it
 * just used; new - last_used <= size <= 1024, so last_used + 0x8000 is never
 * in that range.
 */
void virtq_set_poll_only(struct virtq *vq)
{
	vq->poll_only = true;
	if (!vq->packed && vq->event_idx)
		WRITE_ONCE(vq->avail->ring[vq->size], (uint16_t)(vq->last_used + 0x8000));
}

void *virtq_wait(struct virtq *vq, uint32_t *len, uint64_t timeout_ms)
{
	uint64_t end = rdtsc() + tsc_from_us(timeout_ms * 1000);

	for (;;) {
		uint64_t seen = virtio_irq_count(vq->dev);
		void *tok;

		mb();
		tok = virtq_get(vq, len);
		if (tok)
			return tok;
		/* Interrupt mode: nothing in the ring, so the device owes us an
		 * interrupt for the next completion; wait for it before looking
		 * again (a missing interrupt shows up as a timeout). */
		while (vq->dev->irq_mode != VIRTIO_IRQ_NONE && virtio_irq_count(vq->dev) == seen) {
			if ((int64_t)(rdtsc() - end) > 0)
				return NULL;
			cpu_relax();
		}
		if ((int64_t)(rdtsc() - end) > 0)
			return virtq_get(vq, len);
		cpu_relax();
	}
}

bool virtq_submit_wait(struct virtq *vq, const struct vq_buf *bufs, unsigned int n,
		       bool indirect, uint32_t *len, uint64_t timeout_ms)
{
	static int dummy;
	void *tok;

	if (!virtq_add(vq, bufs, n, &dummy, indirect))
		fail("virtq %u: no room for a %u-buffer chain", vq->index, n);
	virtq_kick(vq);
	tok = virtq_wait(vq, len, timeout_ms);
	return tok == &dummy;
}
