/* SPDX-License-Identifier: MIT */
/* virtio_pci.c - modern virtio-pci transport (virtio 1.x capabilities,
 * MSI-X).  Legacy-only devices (0x1000-0x103f without caps) are ignored. */
#include "lib.h"
#include "pci.h"
#include "virtio.h"

/* common configuration structure */
#define VPCI_DFSEL		0x00
#define VPCI_DF			0x04
#define VPCI_GFSEL		0x08
#define VPCI_GF			0x0c
#define VPCI_MSIX_CONFIG	0x10
#define VPCI_NUM_QUEUES		0x12
#define VPCI_STATUS		0x14
#define VPCI_CFG_GEN		0x15
#define VPCI_Q_SELECT		0x16
#define VPCI_Q_SIZE		0x18
#define VPCI_Q_MSIX		0x1a
#define VPCI_Q_ENABLE		0x1c
#define VPCI_Q_NOFF		0x1e
#define VPCI_Q_DESC		0x20
#define VPCI_Q_DRIVER		0x28
#define VPCI_Q_DEVICE		0x30

#define VIRTIO_PCI_CAP_COMMON	1
#define VIRTIO_PCI_CAP_NOTIFY	2
#define VIRTIO_PCI_CAP_ISR	3
#define VIRTIO_PCI_CAP_DEVICE	4

static struct pci_dev pdev(const struct virtio_dev *d)
{
	struct pci_dev p = { d->bus, d->slot, d->func, 0, 0, 0 };

	return p;
}

static bool probe(struct virtio_dev *d, const struct pci_dev *p)
{
	uint8_t cap = 0;
	unsigned int b;
	uint16_t cmd;

	memset(d, 0, sizeof(*d));
	d->transport = VIRTIO_PCI;
	d->bus = p->bus;
	d->slot = p->slot;
	d->func = p->func;
	d->device_id = p->device >= 0x1040 ? p->device - 0x1040u : 0;
	snprintf(d->name, sizeof(d->name), "pci %02x:%02x.%x", p->bus, p->slot, p->func);
	for (b = 0; b < 6; b++) {
		bool io, is64;
		uint64_t a;

		if (!pci_bar_info(p, b, &a, &d->bar_size[b], &io, &is64))
			continue;
		d->bar_addr[b] = io ? 0 : pci_bar_ensure(p, b);
		if (is64)
			b++;
	}
	cmd = pci_read16(p, PCI_COMMAND);
	pci_write16(p, PCI_COMMAND, cmd | PCI_CMD_MEM | PCI_CMD_MASTER);

	while ((cap = pci_find_cap(p, PCI_CAP_VENDOR, cap))) {
		uint8_t type = pci_read8(p, cap + 3), bar = pci_read8(p, cap + 4);
		uint32_t off = pci_read32(p, cap + 8), len = pci_read32(p, cap + 12);
		uint64_t a;

		if (bar > 5 || !d->bar_addr[bar])
			continue;
		a = d->bar_addr[bar] + off;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON:
			if (!d->common)
				d->common = a;
			break;
		case VIRTIO_PCI_CAP_NOTIFY:
			if (!d->notify_base) {
				d->notify_base = a;
				d->notify_mult = pci_read32(p, cap + 16);
			}
			break;
		case VIRTIO_PCI_CAP_ISR:
			if (!d->isr)
				d->isr = a;
			break;
		case VIRTIO_PCI_CAP_DEVICE:
			if (!d->devcfg) {
				d->devcfg = a;
				d->devcfg_len = len;
			}
			break;
		}
	}
	d->msix_cap = pci_find_cap(p, PCI_CAP_MSIX, 0);
	if (d->msix_cap) {
		uint16_t ctl = pci_read16(p, d->msix_cap + 2);
		uint32_t tbl = pci_read32(p, d->msix_cap + 4);

		d->msix_size = (ctl & 0x7ff) + 1;
		if (d->bar_addr[tbl & 7])
			d->msix_table = d->bar_addr[tbl & 7] + (tbl & ~7u);
	}
	d->int_pin = pci_read8(p, PCI_INT_PIN);
	d->int_line = pci_read8(p, PCI_INT_LINE);
	if (!d->common || !d->notify_base || !d->isr) {
		printf("virtio-pci: %s (%04x:%04x) lacks the common/notify/ISR capabilities\n",
		       d->name, p->vendor, p->device);
		return false;
	}
	return true;
}

unsigned int virtio_pci_enumerate(struct virtio_dev *out, unsigned int max)
{
	struct pci_dev all[64];
	unsigned int n, i, found = 0;

	n = pci_enumerate(all, ARRAY_SIZE(all));
	for (i = 0; i < n && found < max; i++) {
		if (all[i].vendor != 0x1af4 || all[i].device < 0x1040 || all[i].device > 0x107f)
			continue;
		if (probe(&out[found], &all[i]))
			found++;
	}
	return found;
}

#define C(off) (d->common + (off))

uint8_t vpci_get_status(struct virtio_dev *d) { return mmio_read8(C(VPCI_STATUS)); }
void vpci_set_status(struct virtio_dev *d, uint8_t s) { mmio_write8(C(VPCI_STATUS), s); }

uint32_t vpci_features(struct virtio_dev *d, uint32_t sel)
{
	mmio_write32(C(VPCI_DFSEL), sel);
	return mmio_read32(C(VPCI_DF));
}

void vpci_set_features(struct virtio_dev *d, uint32_t sel, uint32_t v)
{
	mmio_write32(C(VPCI_GFSEL), sel);
	mmio_write32(C(VPCI_GF), v);
}

uint32_t vpci_generation(struct virtio_dev *d) { return mmio_read8(C(VPCI_CFG_GEN)); }
uint16_t vpci_num_queues(struct virtio_dev *d) { return mmio_read16(C(VPCI_NUM_QUEUES)); }

uint16_t vpci_queue_max(struct virtio_dev *d, uint16_t q)
{
	if (q >= vpci_num_queues(d))
		return 0;
	mmio_write16(C(VPCI_Q_SELECT), q);
	return mmio_read16(C(VPCI_Q_SIZE));
}

void vpci_queue_setup(struct virtio_dev *d, uint16_t q, uint16_t size, uint64_t desc,
		      uint64_t driver, uint64_t device, uint16_t msix_vector)
{
	mmio_write16(C(VPCI_Q_SELECT), q);
	mmio_write16(C(VPCI_Q_SIZE), size);
	/* 64-bit fields as two 32-bit accesses (allowed by the spec, and what
	 * every device model handles) */
	mmio_write32(C(VPCI_Q_DESC), (uint32_t)desc);
	mmio_write32(C(VPCI_Q_DESC + 4), (uint32_t)(desc >> 32));
	mmio_write32(C(VPCI_Q_DRIVER), (uint32_t)driver);
	mmio_write32(C(VPCI_Q_DRIVER + 4), (uint32_t)(driver >> 32));
	mmio_write32(C(VPCI_Q_DEVICE), (uint32_t)device);
	mmio_write32(C(VPCI_Q_DEVICE + 4), (uint32_t)(device >> 32));
	if (d->msix_cap) {
		mmio_write16(C(VPCI_Q_MSIX), msix_vector);
		if (msix_vector != 0xffff && mmio_read16(C(VPCI_Q_MSIX)) != msix_vector)
			fail("%s: queue %u refused MSI-X vector %u", d->name, q, msix_vector);
	}
	if (q < VIRTIO_MAX_QUEUES)
		d->queue_notify_off[q] = mmio_read16(C(VPCI_Q_NOFF));
	mmio_write16(C(VPCI_Q_ENABLE), 1);
}

void vpci_queue_disable(struct virtio_dev *d, uint16_t q)
{
	/* virtio 1.x has no queue disable short of a reset (1.2 queue_reset is
	 * optional); writing 0 is what a driver must not do, so nothing here. */
	(void)d;
	(void)q;
}

bool vpci_queue_enabled(struct virtio_dev *d, uint16_t q)
{
	mmio_write16(C(VPCI_Q_SELECT), q);
	return mmio_read16(C(VPCI_Q_ENABLE)) & 1;
}

void vpci_notify(struct virtio_dev *d, uint16_t q)
{
	uint16_t noff;

	if (q < VIRTIO_MAX_QUEUES) {
		noff = d->queue_notify_off[q];
	} else {
		mmio_write16(C(VPCI_Q_SELECT), q);
		noff = mmio_read16(C(VPCI_Q_NOFF));
	}
	mmio_write16(d->notify_base + (uint64_t)noff * d->notify_mult, q);
}

uint32_t vpci_isr_ack(struct virtio_dev *d) { return mmio_read8(d->isr); }

void vpci_set_config_vector(struct virtio_dev *d, uint16_t v)
{
	mmio_write16(C(VPCI_MSIX_CONFIG), v);
}

void vpci_msix_enable(struct virtio_dev *d, uint16_t entry, unsigned int vector,
		      uint32_t apic_id)
{
	struct pci_dev p = pdev(d);
	uint16_t i, ctl;

	if (!d->msix_cap || !d->msix_table)
		fail("%s: no MSI-X capability (or its table BAR is unassigned)", d->name);
	ctl = pci_read16(&p, d->msix_cap + 2);
	/* enable with the function masked while the table is written */
	pci_write16(&p, d->msix_cap + 2, ctl | 0x8000 | 0x4000);
	for (i = 0; i < d->msix_size; i++) {
		uint64_t e = d->msix_table + 16u * i;

		mmio_write32(e + 12, 1);
		if (i == entry) {
			mmio_write32(e + 0, 0xfee00000u | (apic_id << 12));
			mmio_write32(e + 4, 0);
			mmio_write32(e + 8, vector & 0xff);	/* fixed, edge */
			mmio_write32(e + 12, 0);
		}
	}
	pci_write16(&p, d->msix_cap + 2, (ctl | 0x8000) & ~0x4000);
}

void vpci_msix_disable(struct virtio_dev *d)
{
	struct pci_dev p = pdev(d);

	if (d->msix_cap)
		pci_write16(&p, d->msix_cap + 2, pci_read16(&p, d->msix_cap + 2) & ~0xc000);
}
