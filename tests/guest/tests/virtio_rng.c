/* SPDX-License-Identifier: MIT */
/*
 * test=vrng [transport=mmio|pci] [ring=packed] [irq=1|msix|intx]: read
 * entropy from a virtio-rng device in several requests (direct, a 3-buffer
 * chain, indirect, one of 64 KiB); a device may return fewer bytes than
 * asked (0 < len <= asked).  Data must not be all zeros nor repeat.
 * test=vlist: print every virtio device found (mmio and PCI).
 */
#include "lib.h"
#include "virtq.h"

#define RNG_BUF (64u << 10)

static uint64_t first_words[32];
static unsigned int nfirst;

static void check_entropy(const uint8_t *b, uint32_t len, const char *what)
{
	uint32_t i, zeros = 0;
	uint64_t w = 0;

	for (i = 0; i < len; i++)
		zeros += !b[i];
	if (len >= 8 && zeros == len)
		fail("vrng: %s: %u bytes, all zero", what, len);
	if (len >= 64 && zeros > len / 8)
		fail("vrng: %s: %u of %u bytes zero", what, zeros, len);
	if (len >= 8) {
		memcpy(&w, b, 8);
		for (i = 0; i < nfirst; i++)
			if (first_words[i] == w)
				fail("vrng: %s: first 8 bytes repeat an earlier request (0x%llx)",
				     what, (unsigned long long)w);
		if (nfirst < ARRAY_SIZE(first_words))
			first_words[nfirst++] = w;
	}
	/* within one buffer: no 8-byte word repeating the one before it */
	for (i = 16; i + 8 <= len; i += 8)
		if (!memcmp(b + i, b + i - 8, 8))
			fail("vrng: %s: 8-byte block at %u repeats the previous one", what, i);
}

bool vrng_roundtrip(struct virtq *vq, uint32_t ask, uint64_t *total);
/* One request of @ask bytes on an initialised queue (also used by vhostile
 * to check that a second device still works). */
bool vrng_roundtrip(struct virtq *vq, uint32_t ask, uint64_t *total)
{
	uint8_t *b = dma_alloc(ask, 64);
	struct vq_buf buf = { dma_pa(b), ask, true };
	uint32_t len = 0;
	char what[32];

	if (!virtq_submit_wait(vq, &buf, 1, false, &len, 2000))
		return false;
	snprintf(what, sizeof(what), "%u-byte request", ask);
	if (!len || len > ask)
		fail("vrng: %s returned %u bytes", what, len);
	check_entropy(b, len, what);
	if (total)
		*total += len;
	return true;
}

GUEST_TEST(vrng, "[transport=mmio|pci] [ring=packed] [irq=1]: read virtio-rng entropy")
{
	static struct virtio_dev d;
	static struct virtq vq;
	static const uint32_t sizes[] = { 1, 16, 64, 512, 4096, 65536 };
	uint64_t total = 0;
	uint16_t qmax;
	unsigned int i, r;

	virtio_start_cmdline(VIRTIO_ID_RNG, &d, 0);
	qmax = virtio_queue_max(&d, 0);
	if (!qmax)
		fail("%s: queue 0 has size 0", d.name);
	virtq_create(&vq, &d, 0, qmax < 64 ? qmax : 64);
	virtio_driver_ok(&d);
	printf("vrng: %s queue 0: %u entries (max %u), %s ring%s%s\n", d.name, vq.size, qmax,
	       vq.packed ? "packed" : "split", vq.indirect_ok ? ", indirect" : "",
	       vq.event_idx ? ", event_idx" : "");

	for (r = 0; r < 2; r++) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			size_t mark = dma_mark();

			if (!vrng_roundtrip(&vq, sizes[i], &total))
				fail("vrng: %u-byte request: no completion in 2 s (status 0x%x)",
				     sizes[i], virtio_get_status(&d));
			dma_release(mark);
		}
	}
	/* a 3-buffer chain, direct and indirect: the device may fill across */
	for (r = 0; r < 2; r++) {
		uint8_t *b = dma_alloc(3 * 256, 64);
		struct vq_buf bufs[3] = {
			{ dma_pa(b), 256, true }, { dma_pa(b + 256), 256, true },
			{ dma_pa(b + 512), 256, true },
		};
		uint32_t len = 0;

		if (r && !vq.indirect_ok)
			break;
		if (!virtq_submit_wait(&vq, bufs, 3, r == 1, &len, 2000))
			fail("vrng: %s 3-buffer chain: no completion", r ? "indirect" : "direct");
		if (!len || len > 768)
			fail("vrng: 3-buffer chain returned %u bytes", len);
		check_entropy(b, len, r ? "indirect chain" : "chain");
		total += len;
		printf("vrng: %s 3 x 256-byte chain: %u bytes\n", r ? "indirect" : "direct", len);
	}
	/* many requests in flight at once */
	{
		uint8_t *b = dma_alloc(32 * 64, 64);
		uint32_t len;
		unsigned int got = 0;
		uint16_t n = vq.size < 32 ? vq.size : 32;

		for (i = 0; i < n; i++) {
			struct vq_buf buf = { dma_pa(b + 64 * i), 64, true };

			if (!virtq_add(&vq, &buf, 1, b + 64 * i, false))
				fail("vrng: ring full after %u requests", i);
		}
		virtq_kick(&vq);
		while (got < n) {
			uint8_t *p = virtq_wait(&vq, &len, 2000);

			if (!p)
				fail("vrng: %u of %u batched requests completed", got, n);
			if (!len || len > 64)
				fail("vrng: batched request returned %u bytes", len);
			check_entropy(p, len, "batched request");
			total += len;
			got++;
		}
		printf("vrng: %u requests in flight at once: all completed\n", n);
	}
	printf("vrng: %llu bytes in %llu completions, %llu notifications",
	       (unsigned long long)total, (unsigned long long)vq.completions,
	       (unsigned long long)vq.kicks);
	if (d.irq_mode != VIRTIO_IRQ_NONE)
		printf(", %llu interrupts (vector 0x%x)", (unsigned long long)virtio_irq_count(&d),
		       d.vector);
	printf("\n");
	if (d.irq_mode != VIRTIO_IRQ_NONE && !virtio_irq_count(&d))
		fail("vrng: interrupt mode but no interrupt");
	virtio_reset(&d);
	pass();
}

GUEST_TEST(vlist, "print the virtio devices (mmio from the command line, PCI bus 0)")
{
	virtio_list();
	pass();
}
