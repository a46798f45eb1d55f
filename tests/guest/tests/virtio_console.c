/* SPDX-License-Identifier: MIT */
/*
 * test=vcons [transport=mmio|pci] [ring=packed] [irq=1] [expect=STRING]
 *            [timeout=S] [text=WORD]
 *
 * virtio-console, port 0 only (VIRTIO_CONSOLE_F_MULTIPORT not negotiated:
 * receiveq 0, transmitq 1).  Posts receive buffers, writes the line
 *   "kite-vcons: hello from the test guest <text>\n"
 * on transmitq (the host sees it on the console's backend), prints READY on
 * COM1, then with expect= waits (default 10 s) for STRING on receiveq: the
 * first strlen(STRING) received bytes other than CR/LF must match.
 */
#include "lib.h"
#include "tsc.h"
#include "virtq.h"

#define VIRTIO_CONSOLE_F_SIZE	0
#define RX_BUFS			16
#define RX_LEN			64

GUEST_TEST(vcons, "[transport=mmio|pci] [expect=STRING] [timeout=S]: virtio-console port 0")
{
	static struct virtio_dev d;
	static struct virtq rxq, txq;
	char expect[128] = "", got[128], text[64] = "", *line;
	uint8_t *rx = dma_alloc(RX_BUFS * RX_LEN, 64);
	uint64_t timeout_s = 10, end;
	size_t want, have = 0;
	uint32_t len;
	unsigned int i;
	uint16_t m0, m1;

	cmdline_get("expect", expect, sizeof(expect));
	cmdline_get("text", text, sizeof(text));
	cmdline_get_u64("timeout", &timeout_s);
	want = strlen(expect);
	virtio_start_cmdline(VIRTIO_ID_CONSOLE, &d, BIT(VIRTIO_CONSOLE_F_SIZE));
	if (virtio_has(&d, VIRTIO_CONSOLE_F_SIZE))
		printf("vcons: %s: console %u columns x %u rows\n", d.name, virtio_cfg16(&d, 0),
		       virtio_cfg16(&d, 2));
	m0 = virtio_queue_max(&d, 0);
	m1 = virtio_queue_max(&d, 1);
	if (!m0 || !m1)
		fail("vcons: %s: queue sizes %u/%u", d.name, m0, m1);
	virtq_create(&rxq, &d, 0, m0 < 32 ? m0 : 32);
	virtq_create(&txq, &d, 1, m1 < 32 ? m1 : 32);
	virtio_driver_ok(&d);
	for (i = 0; i < RX_BUFS && i < rxq.size; i++) {
		struct vq_buf b = { dma_pa(rx + i * RX_LEN), RX_LEN, true };

		virtq_add(&rxq, &b, 1, rx + i * RX_LEN, false);
	}
	virtq_kick(&rxq);

	line = dma_alloc(128, 64);
	snprintf(line, 128, "kite-vcons: hello from the test guest%s%s\n", text[0] ? " " : "", text);
	{
		struct vq_buf b = { dma_pa(line), (uint32_t)strlen(line), false };

		if (!virtq_submit_wait(&txq, &b, 1, false, &len, 5000))
			fail("vcons: transmit: no completion in 5 s (status 0x%x)", virtio_get_status(&d));
	}
	printf("vcons: wrote %zu bytes on port 0\n", strlen(line));
	printf("READY\n");
	if (!want) {
		virtio_reset(&d);
		pass();
	}
	end = rdtsc() + tsc_from_us(timeout_s * 1000000);
	while (have < want) {
		uint8_t *p;
		uint64_t left = (int64_t)(end - rdtsc()) > 0 ? tsc_to_us(end - rdtsc()) / 1000 + 1 : 0;

		if (!left || !(p = virtq_wait(&rxq, &len, left)))
			break;
		if (len > RX_LEN)
			fail("vcons: device wrote %u bytes into a %u-byte buffer", len, RX_LEN);
		for (i = 0; i < len && have < want; i++)
			if (p[i] != '\r' && p[i] != '\n')
				got[have++] = (char)p[i];
		/* give the buffer back */
		{
			struct vq_buf b = { dma_pa(p), RX_LEN, true };

			virtq_add(&rxq, &b, 1, p, false);
			virtq_kick(&rxq);
		}
	}
	got[have] = 0;
	printf("vcons: received \"%s\"", got);
	if (d.irq_mode != VIRTIO_IRQ_NONE)
		printf(" (%llu interrupts)", (unsigned long long)virtio_irq_count(&d));
	printf("\n");
	if (have < want)
		fail("vcons: timeout after %llu s: got \"%s\", expected \"%s\"",
		     (unsigned long long)timeout_s, got, expect);
	if (memcmp(got, expect, want))
		fail("vcons: received \"%s\", expected \"%s\"", got, expect);
	virtio_reset(&d);
	pass();
}
