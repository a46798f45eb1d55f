/* SPDX-License-Identifier: MIT */
/* virtio_mmio.c - virtio-mmio version 2 transport; devices come from the
 * virtio_mmio.device=SIZE@ADDR:IRQ words on the command line. */
#include "lib.h"
#include "virtio.h"

#define VMMIO_MAGIC		0x000
#define VMMIO_VERSION		0x004
#define VMMIO_DEVICE_ID		0x008
#define VMMIO_VENDOR_ID		0x00c
#define VMMIO_DEV_FEATURES	0x010
#define VMMIO_DEV_FEATURES_SEL	0x014
#define VMMIO_DRV_FEATURES	0x020
#define VMMIO_DRV_FEATURES_SEL	0x024
#define VMMIO_QUEUE_SEL		0x030
#define VMMIO_QUEUE_NUM_MAX	0x034
#define VMMIO_QUEUE_NUM		0x038
#define VMMIO_QUEUE_READY	0x044
#define VMMIO_QUEUE_NOTIFY	0x050
#define VMMIO_INT_STATUS	0x060
#define VMMIO_INT_ACK		0x064
#define VMMIO_STATUS		0x070
#define VMMIO_QUEUE_DESC_LO	0x080
#define VMMIO_QUEUE_DESC_HI	0x084
#define VMMIO_QUEUE_DRIVER_LO	0x090
#define VMMIO_QUEUE_DRIVER_HI	0x094
#define VMMIO_QUEUE_DEVICE_LO	0x0a0
#define VMMIO_QUEUE_DEVICE_HI	0x0a4
#define VMMIO_CONFIG_GEN	0x0fc
#define VMMIO_MAGIC_VALUE	0x74726976	/* "virt" */

static uint32_t rd(struct virtio_dev *d, uint32_t off) { return mmio_read32(d->base + off); }
static void wr(struct virtio_dev *d, uint32_t off, uint32_t v) { mmio_write32(d->base + off, v); }

/* "SIZE@ADDR:IRQ[:ID]" */
static bool parse_word(const char *s, size_t len, uint64_t *size, uint64_t *addr, uint64_t *irq)
{
	size_t at = 0, colon;

	while (at < len && s[at] != '@')
		at++;
	colon = at;
	while (colon < len && s[colon] != ':')
		colon++;
	if (at >= len || colon >= len)
		return false;
	if (!parse_size(s, at, size) || !parse_u64(s + at + 1, colon - at - 1, addr))
		return false;
	len -= colon + 1;
	s += colon + 1;
	for (at = 0; at < len && s[at] != ':'; at++)
		;
	return parse_u64(s, at, irq);
}

unsigned int virtio_mmio_enumerate(struct virtio_dev *out, unsigned int max)
{
	const char *w;
	size_t len;
	unsigned int n = 0;

	for (w = cmdline(); (w = cmdline_next_word(w, &len)); w += len) {
		uint64_t size, addr, irq;
		struct virtio_dev *d = &out[n];

		if (len <= 19 || strncmp(w, "virtio_mmio.device=", 19))
			continue;
		if (n >= max)
			break;
		if (!parse_word(w + 19, len - 19, &size, &addr, &irq)) {
			printf("virtio-mmio: cannot parse '%.*s'\n", (int)len, w);
			continue;
		}
		if (addr >= (4ull << 30)) {
			printf("virtio-mmio: 0x%llx above 4 GiB, skipped\n", (unsigned long long)addr);
			continue;
		}
		memset(d, 0, sizeof(*d));
		d->transport = VIRTIO_MMIO;
		d->base = addr;
		d->size = size;
		d->mmio_irq = (uint32_t)irq;
		snprintf(d->name, sizeof(d->name), "mmio@0x%llx", (unsigned long long)addr);
		if (rd(d, VMMIO_MAGIC) != VMMIO_MAGIC_VALUE) {
			printf("virtio-mmio: no magic at 0x%llx (0x%x)\n", (unsigned long long)addr,
			       rd(d, VMMIO_MAGIC));
			continue;
		}
		d->version = rd(d, VMMIO_VERSION);
		d->device_id = rd(d, VMMIO_DEVICE_ID);
		if (d->device_id == 0)		/* empty slot */
			continue;
		n++;
	}
	return n;
}

uint8_t vmmio_get_status(struct virtio_dev *d) { return (uint8_t)rd(d, VMMIO_STATUS); }
void vmmio_set_status(struct virtio_dev *d, uint8_t s) { wr(d, VMMIO_STATUS, s); }

uint32_t vmmio_features(struct virtio_dev *d, uint32_t sel)
{
	wr(d, VMMIO_DEV_FEATURES_SEL, sel);
	return rd(d, VMMIO_DEV_FEATURES);
}

void vmmio_set_features(struct virtio_dev *d, uint32_t sel, uint32_t v)
{
	wr(d, VMMIO_DRV_FEATURES_SEL, sel);
	wr(d, VMMIO_DRV_FEATURES, v);
}

uint32_t vmmio_generation(struct virtio_dev *d) { return rd(d, VMMIO_CONFIG_GEN); }

uint16_t vmmio_queue_max(struct virtio_dev *d, uint16_t q)
{
	wr(d, VMMIO_QUEUE_SEL, q);
	return (uint16_t)rd(d, VMMIO_QUEUE_NUM_MAX);
}

void vmmio_queue_setup(struct virtio_dev *d, uint16_t q, uint16_t size, uint64_t desc,
		       uint64_t driver, uint64_t device)
{
	wr(d, VMMIO_QUEUE_SEL, q);
	wr(d, VMMIO_QUEUE_NUM, size);
	wr(d, VMMIO_QUEUE_DESC_LO, (uint32_t)desc);
	wr(d, VMMIO_QUEUE_DESC_HI, (uint32_t)(desc >> 32));
	wr(d, VMMIO_QUEUE_DRIVER_LO, (uint32_t)driver);
	wr(d, VMMIO_QUEUE_DRIVER_HI, (uint32_t)(driver >> 32));
	wr(d, VMMIO_QUEUE_DEVICE_LO, (uint32_t)device);
	wr(d, VMMIO_QUEUE_DEVICE_HI, (uint32_t)(device >> 32));
	wr(d, VMMIO_QUEUE_READY, 1);
}

void vmmio_queue_disable(struct virtio_dev *d, uint16_t q)
{
	wr(d, VMMIO_QUEUE_SEL, q);
	wr(d, VMMIO_QUEUE_READY, 0);
}

bool vmmio_queue_enabled(struct virtio_dev *d, uint16_t q)
{
	wr(d, VMMIO_QUEUE_SEL, q);
	return rd(d, VMMIO_QUEUE_READY) & 1;
}

void vmmio_notify(struct virtio_dev *d, uint16_t q) { wr(d, VMMIO_QUEUE_NOTIFY, q); }

uint32_t vmmio_isr_ack(struct virtio_dev *d)
{
	uint32_t v = rd(d, VMMIO_INT_STATUS);

	if (v)
		wr(d, VMMIO_INT_ACK, v);
	return v;
}
