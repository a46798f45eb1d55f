/* SPDX-License-Identifier: MIT */
/*
 * test=vhostile case=NAME [transport=mmio|pci] [target=blk|rng] [expect=any]
 *
 * Give a virtio-blk (default; target=rng: virtio-rng) device one deliberately
 * bad request on a split ring, then:
 *   1. wait up to 2 s for the device status to show NEEDS_RESET (0x40):
 *      prints "needs_reset", or what happened instead ("completed status N",
 *      "no completion, no NEEDS_RESET");
 *   2. another virtio device (rng, else blk; same transport if possible)
 *      still works;
 *   3. reset the broken device, set it up again: a good request works.
 * PASS only if all three hold; expect=any accepts any outcome in step 1
 * (reference runs under QEMU, which does not always set NEEDS_RESET).
 *
 * Cases:  loop      chain whose next points back to its head
 *         oob       data descriptor 1 TiB up (outside RAM)
 *         mmio      data descriptor pointing into the device's own registers
 *                   (its device configuration space)
 *         oversize  data descriptor of length 0xffffffff
 *         nested    indirect table containing an indirect descriptor
 *         qsize     queue size not a power of two (split ring)
 *         early     notify (with a valid request) before DRIVER_OK
 */
#include "lib.h"
#include "tsc.h"
#include "virtq.h"

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

bool vrng_roundtrip(struct virtq *vq, uint32_t ask, uint64_t *total);

static void publish(struct virtq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	barrier();
	vq->avail_idx++;
	WRITE_ONCE(vq->avail->idx, vq->avail_idx);
	__asm__ volatile("mfence" ::: "memory");
	virtio_notify(vq->dev, vq->index);
}

/* negotiate, queue 0 of @size (0: min(max, 16)), DRIVER_OK unless !ok */
static void bring_up(struct virtio_dev *d, struct virtq *vq, uint16_t size, bool ok)
{
	uint16_t qmax;

	virtio_negotiate(d, BIT(VIRTIO_F_INDIRECT_DESC));
	qmax = virtio_queue_max(d, 0);
	if (!qmax)
		fail("%s: queue 0 size 0", d->name);
	if (!size)
		size = qmax < 16 ? qmax : 16;
	virtq_alloc(vq, d, 0, size, false);
	virtio_queue_setup(d, 0, size, vq->desc_pa, vq->driver_pa, vq->device_pa, 0xffff);
	d->vq[0] = vq;
	if (ok)
		virtio_driver_ok(d);
}

/* One good request (blk: read sector 0; rng: 64 bytes).  true if it works. */
static bool good_request(struct virtio_dev *d, struct virtq *vq)
{
	if (d->device_id == VIRTIO_ID_RNG)
		return vrng_roundtrip(vq, 64, NULL);
	{
		struct blk_hdr *h = dma_alloc(sizeof(*h), 16);
		uint8_t *data = dma_alloc(512, 512), *st = dma_alloc(1, 1);
		struct vq_buf b[3] = {
			{ dma_pa(h), sizeof(*h), false }, { dma_pa(data), 512, true },
			{ dma_pa(st), 1, true },
		};
		uint32_t len;

		*st = 0xff;
		return virtq_submit_wait(vq, b, 3, false, &len, 2000) && *st == 0;
	}
}

GUEST_TEST(vhostile, "case=loop|oob|mmio|oversize|nested|qsize|early [target=blk|rng] [expect=any]: bad requests")
{
	static struct virtio_dev d, other;
	static struct virtq vq, ovq;
	char cs[16] = "", target[8] = "blk", expect[16] = "needs_reset";
	enum virtio_transport t = virtio_transport_from_cmdline();
	uint32_t id;
	uint16_t size = 0, head = 0;
	struct blk_hdr *h = dma_alloc(sizeof(*h), 16);
	uint8_t *data = dma_alloc(4096, 4096), *st = dma_alloc(1, 1);
	struct vring_desc *tbl = dma_alloc(16 * 8, 16), *tbl2 = dma_alloc(16 * 8, 16);
	uint64_t end, mmio_addr, bad_len = 512, bad_addr;
	bool early, got_reset = false, completed = false;
	uint32_t len = 0;
	unsigned int nd;
	const char *outcome;

	if (!cmdline_get("case", cs, sizeof(cs)))
		fail("vhostile needs case=loop|oob|mmio|oversize|nested|qsize|early");
	cmdline_get("target", target, sizeof(target));
	cmdline_get("expect", expect, sizeof(expect));
	id = !strcmp(target, "rng") ? VIRTIO_ID_RNG : VIRTIO_ID_BLOCK;
	virtio_open_cmdline(id, &d);
	/* the other device: rng (blk when the target is the rng) */
	if (!virtio_find(id == VIRTIO_ID_RNG ? VIRTIO_ID_BLOCK : VIRTIO_ID_RNG, t, 0, &other) &&
	    !virtio_find(id == VIRTIO_ID_RNG ? VIRTIO_ID_BLOCK : VIRTIO_ID_RNG, 0, 0, &other))
		other.device_id = 0;
	if (other.device_id) {
		bring_up(&other, &ovq, 0, true);
		if (!good_request(&other, &ovq))
			fail("vhostile: the other device %s does not work to begin with", other.name);
		printf("vhostile: other device %s (%s) works\n", other.name,
		       virtio_id_name(other.device_id));
	} else {
		printf("vhostile: no second device (add a virtio-rng to check isolation)\n");
	}

	early = !strcmp(cs, "early");
	if (!strcmp(cs, "qsize")) {
		size = virtio_queue_max(&d, 0);
		size = size > 16 ? 12 : size - 1;	/* not a power of two */
		if (size < 3)
			size = 3;
	}
	bring_up(&d, &vq, size, !early);
	if (!strcmp(cs, "nested") && !virtio_has(&d, VIRTIO_F_INDIRECT_DESC))
		fail("vhostile: case=nested needs VIRTIO_F_INDIRECT_DESC, not offered");
	/* its device-specific config space: a device that bounces the DMA
	 * through its own registers should at worst hit read-only fields */
	/* the registers: device config (or, when there is none, common config) */
	mmio_addr = d.transport == VIRTIO_MMIO ? d.base + 0x100 : d.devcfg ? d.devcfg : d.common;
	printf("vhostile: case %s on %s (%s), queue size %u, status 0x%x\n", cs, d.name,
	       virtio_id_name(d.device_id), vq.size, virtio_get_status(&d));

	/* The request: blk: header (IN, sector 0), data (device writes), status.
	 * rng: data only. */
	h->type = 0;
	h->sector = 0;
	*st = 0xff;
	bad_addr = dma_pa(data);
	if (!strcmp(cs, "oob"))
		bad_addr = 1ull << 40;
	else if (!strcmp(cs, "mmio"))
		bad_addr = mmio_addr;
	else if (!strcmp(cs, "oversize"))
		bad_len = 0xffffffff;
	else if (strcmp(cs, "loop") && strcmp(cs, "nested") && strcmp(cs, "qsize") && !early)
		fail("vhostile: unknown case '%s'", cs);

	nd = 0;
	if (id == VIRTIO_ID_BLOCK)
		vq.desc[nd++] = (struct vring_desc){ dma_pa(h), sizeof(*h), VRING_DESC_F_NEXT, 0 };
	vq.desc[nd++] = (struct vring_desc){ bad_addr, (uint32_t)bad_len, VRING_DESC_F_WRITE, 0 };
	if (id == VIRTIO_ID_BLOCK)
		vq.desc[nd++] = (struct vring_desc){ dma_pa(st), 1, VRING_DESC_F_WRITE, 0 };
	for (unsigned int i = 0; i + 1 < nd; i++) {
		vq.desc[i].flags |= VRING_DESC_F_NEXT;
		vq.desc[i].next = (uint16_t)(i + 1);
	}
	if (!strcmp(cs, "loop")) {
		/* last descriptor chains back to the head */
		vq.desc[nd - 1].flags |= VRING_DESC_F_NEXT;
		vq.desc[nd - 1].next = 0;
	} else if (!strcmp(cs, "nested")) {
		/* ring: one INDIRECT descriptor -> table { hdr, INDIRECT -> table2, status } */
		unsigned int i;

		for (i = 0; i < nd; i++)
			tbl[i] = vq.desc[i];
		tbl2[0] = (struct vring_desc){ dma_pa(data), 512, VRING_DESC_F_WRITE, 0 };
		i = id == VIRTIO_ID_BLOCK ? 1 : 0;
		tbl[i] = (struct vring_desc){ dma_pa(tbl2), 16, VRING_DESC_F_INDIRECT, 0 };
		if (i + 1 < nd) {
			tbl[i].flags |= VRING_DESC_F_NEXT;
			tbl[i].next = (uint16_t)(i + 1);
		}
		vq.desc[0] = (struct vring_desc){ dma_pa(tbl), 16 * nd, VRING_DESC_F_INDIRECT, 0 };
	}
	vq.token[head] = &vq;		/* so that virtq_get accepts it */
	vq.ndesc[head] = 1;
	vq.inflight = 1;
	publish(&vq, head);

	end = rdtsc() + tsc_from_us(2000000);
	while ((int64_t)(rdtsc() - end) < 0) {
		if (virtio_get_status(&d) & VIRTIO_S_NEEDS_RESET) {
			got_reset = true;
			break;
		}
		if (!completed && READ_ONCE(vq.used->idx) != 0) {
			completed = true;
			len = vq.used->ring[0].len;
		}
		cpu_relax();
	}
	if (got_reset) {
		outcome = "needs_reset";
		printf("needs_reset\n");
	} else if (completed) {
		outcome = "completed";
		printf("vhostile: no NEEDS_RESET; the request completed: used len %u, blk status "
		       "0x%02x, device status 0x%x\n", len, *st, virtio_get_status(&d));
	} else {
		outcome = "ignored";
		printf("vhostile: no NEEDS_RESET and no completion in 2 s (device status 0x%x)\n",
		       virtio_get_status(&d));
	}
	printf("vhostile: case %s outcome %s\n", cs, outcome);

	if (other.device_id) {
		if (!good_request(&other, &ovq))
			fail("vhostile: the other device %s stopped working (status 0x%x)", other.name,
			     virtio_get_status(&other));
		printf("vhostile: other device %s still works\n", other.name);
	}
	dma_release(dma_mark());
	virtio_reset(&d);
	bring_up(&d, &vq, 0, true);
	if (!good_request(&d, &vq))
		fail("vhostile: %s does not work after a reset (status 0x%x)", d.name,
		     virtio_get_status(&d));
	printf("vhostile: %s works again after a reset\n", d.name);
	if (strcmp(expect, "any") && !got_reset)
		fail("vhostile: case %s: device did not set NEEDS_RESET (outcome %s)", cs, outcome);
	pass();
}
