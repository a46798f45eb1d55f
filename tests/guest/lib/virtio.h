/* SPDX-License-Identifier: MIT */
/*
 * virtio.h - transport-neutral virtio 1.x device handle for the test guest
 * (ring 3, polled or interrupt driven).  Transports: virtio-mmio version 2
 * (virtio_mmio.c, devices from virtio_mmio.device= words) and modern
 * virtio-pci (virtio_pci.c, vendor 0x1af4 device 0x1040 + id).
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

/* Device ids */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4

/* Status bits */
#define VIRTIO_S_ACKNOWLEDGE	0x01
#define VIRTIO_S_DRIVER		0x02
#define VIRTIO_S_DRIVER_OK	0x04
#define VIRTIO_S_FEATURES_OK	0x08
#define VIRTIO_S_NEEDS_RESET	0x40
#define VIRTIO_S_FAILED		0x80

/* Transport feature bits */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED	34
#define VIRTIO_F_IN_ORDER	35
#define VIRTIO_F_NOTIFICATION_DATA 38
#define BIT(n)			(1ull << (n))

#define VIRTIO_MAX_QUEUES	16
#define VIRTIO_MAX_DEVICES	16

enum virtio_transport { VIRTIO_MMIO = 1, VIRTIO_PCI = 2 };
/* How completions are signalled: polling only, an IOAPIC pin (virtio-mmio's
 * line; PCI INTx), or MSI-X (PCI). */
enum virtio_irq_mode { VIRTIO_IRQ_NONE, VIRTIO_IRQ_PIN, VIRTIO_IRQ_MSIX };

struct virtq;

struct virtio_dev {
	enum virtio_transport transport;
	uint32_t device_id;
	char name[32];			/* "mmio@0x...", "pci 00:03.0" */
	/* virtio-mmio */
	uint64_t base;
	uint64_t size;
	uint32_t mmio_irq;		/* from the command line */
	uint32_t version;
	/* virtio-pci */
	uint8_t bus, slot, func;
	uint64_t common, notify_base, isr, devcfg;
	uint32_t devcfg_len;
	uint32_t notify_mult;
	uint64_t bar_addr[6];
	uint64_t bar_size[6];
	uint8_t msix_cap;		/* config offset, 0 if none */
	uint16_t msix_size;
	uint64_t msix_table;
	uint8_t int_pin, int_line;	/* INTx pin (1 = INTA#) and line */
	uint16_t queue_notify_off[VIRTIO_MAX_QUEUES];

	/* state */
	uint64_t dev_features;
	uint64_t features;		/* negotiated */
	enum virtio_irq_mode irq_mode;
	unsigned int vector;		/* CPU vector of the interrupt (0 = none) */
	unsigned int gsi;		/* PIN mode */
	struct virtq *vq[VIRTIO_MAX_QUEUES];
};

/* Enumerate devices of @device_id on @transport (VIRTIO_MMIO or VIRTIO_PCI;
 * 0: both, mmio first); fill @d for the @index-th one.  false if none. */
bool virtio_find(uint32_t device_id, enum virtio_transport transport, unsigned int index,
		 struct virtio_dev *d);
/* Print every virtio device the guest can see. */
void virtio_list(void);
const char *virtio_id_name(uint32_t id);

void virtio_reset(struct virtio_dev *d);	/* write 0, wait for status 0 */
uint8_t virtio_get_status(struct virtio_dev *d);
void virtio_set_status(struct virtio_dev *d, uint8_t s);
void virtio_add_status(struct virtio_dev *d, uint8_t s);
uint64_t virtio_read_dev_features(struct virtio_dev *d);
void virtio_write_features(struct virtio_dev *d, uint64_t f);
/* reset, ACKNOWLEDGE|DRIVER, read the device's features, accept
 * (device & (wanted | VERSION_1)), FEATURES_OK, check it stuck.  Fails the
 * test (with a message) when VERSION_1 is missing or FEATURES_OK is refused. */
void virtio_negotiate(struct virtio_dev *d, uint64_t wanted);
static inline bool virtio_has(const struct virtio_dev *d, unsigned int bit)
{
	return (d->features >> bit) & 1;
}
void virtio_driver_ok(struct virtio_dev *d);

/* Device-specific configuration space */
uint8_t virtio_cfg8(struct virtio_dev *d, uint32_t off);
uint16_t virtio_cfg16(struct virtio_dev *d, uint32_t off);
uint32_t virtio_cfg32(struct virtio_dev *d, uint32_t off);
uint64_t virtio_cfg64(struct virtio_dev *d, uint32_t off);	/* generation-checked */
void virtio_cfg_write8(struct virtio_dev *d, uint32_t off, uint8_t v);
uint32_t virtio_cfg_generation(struct virtio_dev *d);

/* Queues */
uint16_t virtio_queue_max(struct virtio_dev *d, uint16_t q);	/* 0: no such queue */
uint16_t virtio_num_queues(struct virtio_dev *d);		/* PCI only; mmio: probe */
/* Program size and ring addresses and enable the queue.  No checks on size
 * (the hostile test sets bad ones on purpose). */
void virtio_queue_setup(struct virtio_dev *d, uint16_t q, uint16_t size, uint64_t desc,
			uint64_t driver, uint64_t device, uint16_t msix_vector);
void virtio_queue_disable(struct virtio_dev *d, uint16_t q);
bool virtio_queue_enabled(struct virtio_dev *d, uint16_t q);
void virtio_notify(struct virtio_dev *d, uint16_t q);

/* Interrupts.  mode from the command line word irq= (0/absent: polling,
 * 1: the transport's default: mmio pin, PCI MSI-X; msix; intx).  Registers
 * a ring-0 handler that acknowledges (mmio InterruptStatus/ACK, PCI ISR read
 * for INTx) and EOIs; interrupts are counted by irq.c (irq_count(vector)).
 * Call before virtio_driver_ok and before creating queues (PCI MSI-X: queue
 * vectors are set in virtio_queue_setup).  Fails the test on errors. */
void virtio_irq_setup(struct virtio_dev *d, enum virtio_irq_mode mode);
enum virtio_irq_mode virtio_irq_mode_from_cmdline(enum virtio_transport t);
uint64_t virtio_irq_count(struct virtio_dev *d);
/* ISR bits seen by the handler (mmio: InterruptStatus; PCI INTx: ISR). */
uint32_t virtio_irq_isr_seen(struct virtio_dev *d);
/* Read (and thereby clear / acknowledge) the ISR from ring 3. */
uint32_t virtio_isr_ack(struct virtio_dev *d);

/* Open the device a scenario asks for: transport= (mmio|pci, default: the
 * first found), dev=N (index, default 0), irq=...  Fails the test if there is
 * none.  Does not reset. */
void virtio_open_cmdline(uint32_t device_id, struct virtio_dev *d);
/* virtio_open_cmdline + virtio_negotiate(wanted + what the command line
 * asks: ring=packed (RING_PACKED, required), indirect=0 / event_idx=0 drop
 * those (offered by default)) + virtio_irq_setup(irq=...).  The caller then
 * creates the queues and calls virtio_driver_ok. */
void virtio_start_cmdline(uint32_t device_id, struct virtio_dev *d, uint64_t wanted);
/* transport from the command line: 0 when absent */
enum virtio_transport virtio_transport_from_cmdline(void);

/* Transport back ends (virtio_mmio.c, virtio_pci.c); virtio.c dispatches. */
unsigned int virtio_mmio_enumerate(struct virtio_dev *out, unsigned int max);
unsigned int virtio_pci_enumerate(struct virtio_dev *out, unsigned int max);
uint8_t vmmio_get_status(struct virtio_dev *d);
void vmmio_set_status(struct virtio_dev *d, uint8_t s);
uint32_t vmmio_features(struct virtio_dev *d, uint32_t sel);
void vmmio_set_features(struct virtio_dev *d, uint32_t sel, uint32_t v);
uint32_t vmmio_generation(struct virtio_dev *d);
uint16_t vmmio_queue_max(struct virtio_dev *d, uint16_t q);
void vmmio_queue_setup(struct virtio_dev *d, uint16_t q, uint16_t size, uint64_t desc,
		       uint64_t driver, uint64_t device);
void vmmio_queue_disable(struct virtio_dev *d, uint16_t q);
bool vmmio_queue_enabled(struct virtio_dev *d, uint16_t q);
void vmmio_notify(struct virtio_dev *d, uint16_t q);
uint32_t vmmio_isr_ack(struct virtio_dev *d);
uint8_t vpci_get_status(struct virtio_dev *d);
void vpci_set_status(struct virtio_dev *d, uint8_t s);
uint32_t vpci_features(struct virtio_dev *d, uint32_t sel);
void vpci_set_features(struct virtio_dev *d, uint32_t sel, uint32_t v);
uint32_t vpci_generation(struct virtio_dev *d);
uint16_t vpci_num_queues(struct virtio_dev *d);
uint16_t vpci_queue_max(struct virtio_dev *d, uint16_t q);
void vpci_queue_setup(struct virtio_dev *d, uint16_t q, uint16_t size, uint64_t desc,
		      uint64_t driver, uint64_t device, uint16_t msix_vector);
void vpci_queue_disable(struct virtio_dev *d, uint16_t q);
bool vpci_queue_enabled(struct virtio_dev *d, uint16_t q);
void vpci_notify(struct virtio_dev *d, uint16_t q);
uint32_t vpci_isr_ack(struct virtio_dev *d);
/* MSI-X: all entries masked except @entry -> @vector on @apic_id; enable.
 * config_vector / per-queue vectors are written by the caller. */
void vpci_msix_enable(struct virtio_dev *d, uint16_t entry, unsigned int vector,
		      uint32_t apic_id);
void vpci_msix_disable(struct virtio_dev *d);
void vpci_set_config_vector(struct virtio_dev *d, uint16_t v);

#endif
