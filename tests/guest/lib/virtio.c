/* SPDX-License-Identifier: MIT */
/* virtio.c - transport-neutral virtio device handle (ring 3) and the tiny
 * ring-0 interrupt handlers. */
#include "lib.h"
#include "acpi.h"
#include "apic.h"
#include "irq.h"
#include "tsc.h"
#include "virtio.h"

const char *virtio_id_name(uint32_t id)
{
	switch (id) {
	case VIRTIO_ID_NET: return "net";
	case VIRTIO_ID_BLOCK: return "block";
	case VIRTIO_ID_CONSOLE: return "console";
	case VIRTIO_ID_RNG: return "rng";
	case 5: return "balloon";
	case 9: return "9p";
	case 16: return "gpu";
	case 18: return "input";
	case 19: return "vsock";
	default: return "?";
	}
}

static unsigned int enumerate(enum virtio_transport t, struct virtio_dev *out, unsigned int max)
{
	unsigned int n = 0;

	if (!t || t == VIRTIO_MMIO)
		n += virtio_mmio_enumerate(out, max);
	if (!t || t == VIRTIO_PCI)
		n += virtio_pci_enumerate(out + n, max - n);
	return n;
}

bool virtio_find(uint32_t device_id, enum virtio_transport transport, unsigned int index,
		 struct virtio_dev *d)
{
	static struct virtio_dev all[VIRTIO_MAX_DEVICES];
	unsigned int n, i;

	n = enumerate(transport, all, VIRTIO_MAX_DEVICES);
	for (i = 0; i < n; i++) {
		if (all[i].device_id != device_id)
			continue;
		if (index-- == 0) {
			*d = all[i];
			return true;
		}
	}
	return false;
}

void virtio_list(void)
{
	static struct virtio_dev all[VIRTIO_MAX_DEVICES];
	unsigned int n, i;

	n = enumerate(0, all, VIRTIO_MAX_DEVICES);
	for (i = 0; i < n; i++) {
		struct virtio_dev *d = &all[i];

		if (d->transport == VIRTIO_MMIO)
			printf("virtio: %s version %u device %u (%s) irq %u\n", d->name, d->version,
			       d->device_id, virtio_id_name(d->device_id), d->mmio_irq);
		else
			printf("virtio: %s device %u (%s) common 0x%llx notify 0x%llx*%u isr 0x%llx "
			       "devcfg 0x%llx msix %u INT pin %u line %u\n", d->name, d->device_id,
			       virtio_id_name(d->device_id), (unsigned long long)d->common,
			       (unsigned long long)d->notify_base, d->notify_mult,
			       (unsigned long long)d->isr, (unsigned long long)d->devcfg,
			       d->msix_size, d->int_pin, d->int_line);
	}
	if (!n)
		printf("virtio: no devices\n");
}

uint8_t virtio_get_status(struct virtio_dev *d)
{
	return d->transport == VIRTIO_MMIO ? vmmio_get_status(d) : vpci_get_status(d);
}

void virtio_set_status(struct virtio_dev *d, uint8_t s)
{
	if (d->transport == VIRTIO_MMIO)
		vmmio_set_status(d, s);
	else
		vpci_set_status(d, s);
}

void virtio_add_status(struct virtio_dev *d, uint8_t s)
{
	virtio_set_status(d, virtio_get_status(d) | s);
}

void virtio_reset(struct virtio_dev *d)
{
	uint64_t end;
	unsigned int i;

	virtio_set_status(d, 0);
	end = rdtsc() + tsc_from_us(1000000);
	while (virtio_get_status(d) != 0) {
		if ((int64_t)(rdtsc() - end) > 0)
			fail("%s: status 0x%x 1 s after reset", d->name, virtio_get_status(d));
		cpu_relax();
	}
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		d->vq[i] = NULL;
	d->features = 0;
}

static uint32_t features_word(struct virtio_dev *d, uint32_t sel)
{
	return d->transport == VIRTIO_MMIO ? vmmio_features(d, sel) : vpci_features(d, sel);
}

uint64_t virtio_read_dev_features(struct virtio_dev *d)
{
	return features_word(d, 0) | ((uint64_t)features_word(d, 1) << 32);
}

void virtio_write_features(struct virtio_dev *d, uint64_t f)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (d->transport == VIRTIO_MMIO)
			vmmio_set_features(d, i, (uint32_t)(f >> (32 * i)));
		else
			vpci_set_features(d, i, (uint32_t)(f >> (32 * i)));
	}
}

void virtio_negotiate(struct virtio_dev *d, uint64_t wanted)
{
	uint8_t s;

	if (d->transport == VIRTIO_MMIO && d->version != 2)
		fail("%s: virtio-mmio version %u (legacy); need version 2 (QEMU: -global "
		     "virtio-mmio.force-legacy=false)", d->name, d->version);
	virtio_reset(d);
	virtio_set_status(d, VIRTIO_S_ACKNOWLEDGE);
	virtio_add_status(d, VIRTIO_S_DRIVER);
	d->dev_features = virtio_read_dev_features(d);
	if (!(d->dev_features & BIT(VIRTIO_F_VERSION_1)))
		fail("%s: device does not offer VIRTIO_F_VERSION_1 (features 0x%llx)", d->name,
		     (unsigned long long)d->dev_features);
	d->features = d->dev_features & (wanted | BIT(VIRTIO_F_VERSION_1));
	virtio_write_features(d, d->features);
	virtio_add_status(d, VIRTIO_S_FEATURES_OK);
	s = virtio_get_status(d);
	if (!(s & VIRTIO_S_FEATURES_OK))
		fail("%s: device refused features 0x%llx (status 0x%x)", d->name,
		     (unsigned long long)d->features, s);
	printf("%s: %s device features 0x%llx, accepted 0x%llx\n", d->name,
	       virtio_id_name(d->device_id), (unsigned long long)d->dev_features,
	       (unsigned long long)d->features);
}

void virtio_driver_ok(struct virtio_dev *d)
{
	virtio_add_status(d, VIRTIO_S_DRIVER_OK);
}

uint32_t virtio_cfg_generation(struct virtio_dev *d)
{
	return d->transport == VIRTIO_MMIO ? vmmio_generation(d) : vpci_generation(d);
}

static uint64_t cfg_addr(struct virtio_dev *d, uint32_t off)
{
	if (d->transport == VIRTIO_MMIO)
		return d->base + 0x100 + off;
	if (!d->devcfg)
		fail("%s: no device configuration capability", d->name);
	return d->devcfg + off;
}

uint8_t virtio_cfg8(struct virtio_dev *d, uint32_t off) { return mmio_read8(cfg_addr(d, off)); }
uint16_t virtio_cfg16(struct virtio_dev *d, uint32_t off) { return mmio_read16(cfg_addr(d, off)); }
uint32_t virtio_cfg32(struct virtio_dev *d, uint32_t off) { return mmio_read32(cfg_addr(d, off)); }

void virtio_cfg_write8(struct virtio_dev *d, uint32_t off, uint8_t v)
{
	mmio_write8(cfg_addr(d, off), v);
}

uint64_t virtio_cfg64(struct virtio_dev *d, uint32_t off)
{
	uint32_t gen, lo, hi;
	unsigned int tries = 0;

	do {
		gen = virtio_cfg_generation(d);
		lo = virtio_cfg32(d, off);
		hi = virtio_cfg32(d, off + 4);
	} while (gen != virtio_cfg_generation(d) && ++tries < 100);
	return ((uint64_t)hi << 32) | lo;
}

uint16_t virtio_num_queues(struct virtio_dev *d)
{
	uint16_t n = 0;

	if (d->transport == VIRTIO_PCI)
		return vpci_num_queues(d);
	while (n < VIRTIO_MAX_QUEUES && vmmio_queue_max(d, n))
		n++;
	return n;
}

uint16_t virtio_queue_max(struct virtio_dev *d, uint16_t q)
{
	return d->transport == VIRTIO_MMIO ? vmmio_queue_max(d, q) : vpci_queue_max(d, q);
}

void virtio_queue_setup(struct virtio_dev *d, uint16_t q, uint16_t size, uint64_t desc,
			uint64_t driver, uint64_t device, uint16_t msix_vector)
{
	if (d->transport == VIRTIO_MMIO)
		vmmio_queue_setup(d, q, size, desc, driver, device);
	else
		vpci_queue_setup(d, q, size, desc, driver, device, msix_vector);
}

void virtio_queue_disable(struct virtio_dev *d, uint16_t q)
{
	if (d->transport == VIRTIO_MMIO)
		vmmio_queue_disable(d, q);
	else
		vpci_queue_disable(d, q);
}

bool virtio_queue_enabled(struct virtio_dev *d, uint16_t q)
{
	return d->transport == VIRTIO_MMIO ? vmmio_queue_enabled(d, q) : vpci_queue_enabled(d, q);
}

void virtio_notify(struct virtio_dev *d, uint16_t q)
{
	if (d->transport == VIRTIO_MMIO)
		vmmio_notify(d, q);
	else
		vpci_notify(d, q);
}

uint32_t virtio_isr_ack(struct virtio_dev *d)
{
	return d->transport == VIRTIO_MMIO ? vmmio_isr_ack(d) : vpci_isr_ack(d);
}

/* ---- interrupts ---- */

#define VEC_VIRTIO_BASE 0x40
#define VEC_VIRTIO_MAX 0x60

/* What the ring-0 handler does for each vector: 0 EOI only (MSI-X);
 * 1 mmio: read InterruptStatus at isr_addr, write it to isr_addr + 4;
 * 2 PCI INTx: read the ISR byte at isr_addr. */
static struct { uint8_t kind; uint64_t isr_addr; volatile uint32_t seen; } vec_info[256];
static unsigned int next_vector = VEC_VIRTIO_BASE;

/* Ring 0: a handful of instructions. */
static void virtio_irq(unsigned int vector)
{
	uint32_t v;

	switch (vec_info[vector].kind) {
	case 1:
		v = mmio_read32(vec_info[vector].isr_addr);
		mmio_write32(vec_info[vector].isr_addr + 4, v);
		vec_info[vector].seen |= v;
		break;
	case 2:
		vec_info[vector].seen |= mmio_read8(vec_info[vector].isr_addr);
		break;
	}
	lapic_eoi();
}

enum virtio_transport virtio_transport_from_cmdline(void)
{
	char t[16];

	if (!cmdline_get("transport", t, sizeof(t)))
		return 0;
	if (!strcmp(t, "mmio"))
		return VIRTIO_MMIO;
	if (!strcmp(t, "pci"))
		return VIRTIO_PCI;
	fail("transport=%s: expected mmio or pci", t);
}

enum virtio_irq_mode virtio_irq_mode_from_cmdline(enum virtio_transport t)
{
	char m[16];

	if (!cmdline_get("irq", m, sizeof(m)) || !strcmp(m, "0") || !strcmp(m, "poll"))
		return VIRTIO_IRQ_NONE;
	if (!strcmp(m, "intx") || !strcmp(m, "pin"))
		return VIRTIO_IRQ_PIN;
	if (!strcmp(m, "msix"))
		return VIRTIO_IRQ_MSIX;
	if (!strcmp(m, "1"))
		return t == VIRTIO_PCI ? VIRTIO_IRQ_MSIX : VIRTIO_IRQ_PIN;
	fail("irq=%s: expected 0, 1, msix or intx", m);
}

/* Route GSI @gsi to @vector on the BSP: IOAPIC from the MADT, else the
 * default 0xfec00000 (GSI 0-23) and 0xfec10000 (GSI 24-) if it answers. */
static bool route_gsi(unsigned int gsi, unsigned int vector, bool level)
{
	uint32_t lo = (vector & 0xff) | (level ? 1u << 15 : 0);
	int r = ioapic_route_gsi(gsi, lo, lapic_id());

	return r >= 0;
}

void virtio_irq_setup(struct virtio_dev *d, enum virtio_irq_mode mode)
{
	unsigned int v;

	d->irq_mode = mode;
	if (mode == VIRTIO_IRQ_NONE)
		return;
	if (next_vector >= VEC_VIRTIO_MAX)
		fail("out of interrupt vectors");
	v = d->vector ? d->vector : next_vector++;
	d->vector = v;
	outb(0x21, 0xff);			/* mask both 8259s */
	outb(0xa1, 0xff);
	lapic_enable();
	vec_info[v].seen = 0;
	if (d->transport == VIRTIO_MMIO) {
		if (mode != VIRTIO_IRQ_PIN)
			fail("%s: virtio-mmio has only its interrupt line", d->name);
		vec_info[v].kind = 1;
		vec_info[v].isr_addr = d->base + 0x60;
		irq_register(v, virtio_irq);
		/* edge, active high (the line rises when InterruptStatus gets set) */
		d->gsi = d->mmio_irq;
		{	/* an ISA IRQ number: apply a MADT override if there is one */
			const struct acpi_info *a = acpi_get();
			unsigned int i;

			for (i = 0; a && a->madt && d->mmio_irq < 16 && i < a->noverrides; i++)
				if (a->overrides[i].source == d->mmio_irq)
					d->gsi = a->overrides[i].gsi;
		}
		if (!route_gsi(d->gsi, v, false))
			fail("%s: no IOAPIC pin for IRQ %u", d->name, d->mmio_irq);
		printf("%s: IRQ %u -> IOAPIC (edge, high) -> vector 0x%x\n", d->name, d->gsi, v);
	} else if (mode == VIRTIO_IRQ_MSIX) {
		vec_info[v].kind = 0;
		irq_register(v, virtio_irq);
		vpci_msix_enable(d, 0, v, lapic_id());
		vpci_set_config_vector(d, 0);
		printf("%s: MSI-X entry 0 -> vector 0x%x on APIC %u (table 0x%llx, %u entries)\n",
		       d->name, v, lapic_id(), (unsigned long long)d->msix_table, d->msix_size);
	} else {
		uint64_t g;

		if (!d->int_pin)
			fail("%s: Interrupt Pin is 0 (no INTx)", d->name);
		vpci_msix_disable(d);
		/* kite: INTA# of slot s -> GSI 16 + s % 8 (rotated by pin), level, high;
		 * intx_gsi= overrides, else Interrupt Line if it is set. */
		if (cmdline_get_u64("intx_gsi", &g))
			d->gsi = (unsigned int)g;
		else if (d->int_line && d->int_line != 0xff)
			d->gsi = d->int_line;
		else
			d->gsi = 16 + (d->slot + d->int_pin - 1) % 8;
		vec_info[v].kind = 2;
		vec_info[v].isr_addr = d->isr;
		irq_register(v, virtio_irq);
		if (!route_gsi(d->gsi, v, true))
			fail("%s: no IOAPIC pin for GSI %u", d->name, d->gsi);
		printf("%s: INT%c# (line %u) -> GSI %u (level, high) -> vector 0x%x\n", d->name,
		       'A' + d->int_pin - 1, d->int_line, d->gsi, v);
	}
	irq_enable();
}

uint64_t virtio_irq_count(struct virtio_dev *d)
{
	return d->vector ? irq_count(d->vector) : 0;
}

uint32_t virtio_irq_isr_seen(struct virtio_dev *d)
{
	return d->vector ? vec_info[d->vector].seen : 0;
}

void virtio_open_cmdline(uint32_t device_id, struct virtio_dev *d)
{
	enum virtio_transport t = virtio_transport_from_cmdline();
	uint64_t idx = 0;

	cmdline_get_u64("dev", &idx);
	if (!virtio_find(device_id, t, (unsigned int)idx, d)) {
		virtio_list();
		fail("no virtio-%s device #%llu%s%s", virtio_id_name(device_id),
		     (unsigned long long)idx, t ? " on transport " : "",
		     t == VIRTIO_MMIO ? "mmio" : t == VIRTIO_PCI ? "pci" : "");
	}
	printf("%s: virtio-%s\n", d->name, virtio_id_name(device_id));
}

void virtio_start_cmdline(uint32_t device_id, struct virtio_dev *d, uint64_t wanted)
{
	char ring[16] = "split";
	uint64_t v;

	virtio_open_cmdline(device_id, d);
	cmdline_get("ring", ring, sizeof(ring));
	if (strcmp(ring, "split") && strcmp(ring, "packed"))
		fail("ring=%s: expected split or packed", ring);
	wanted |= BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VIRTIO_F_EVENT_IDX);
	if (cmdline_get_u64("indirect", &v) && !v)
		wanted &= ~BIT(VIRTIO_F_INDIRECT_DESC);
	if (cmdline_get_u64("event_idx", &v) && !v)
		wanted &= ~BIT(VIRTIO_F_EVENT_IDX);
	if (!strcmp(ring, "packed"))
		wanted |= BIT(VIRTIO_F_RING_PACKED);
	virtio_negotiate(d, wanted);
	if (!strcmp(ring, "packed") && !virtio_has(d, VIRTIO_F_RING_PACKED))
		fail("%s: ring=packed but the device does not offer VIRTIO_F_RING_PACKED "
		     "(QEMU: packed=on)", d->name);
	virtio_irq_setup(d, virtio_irq_mode_from_cmdline(d->transport));
}
