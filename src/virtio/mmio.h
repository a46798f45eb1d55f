/* SPDX-License-Identifier: MIT */
/*
 * mmio.h - the virtio-mmio transport (virtio 1.2, 4.2; version 2 only).
 *
 * One device per 0x200-byte window on the MMIO bus, one edge-triggered
 * interrupt line (an ISA IRQ, raised through an irqfd), guest notifications
 * on KVM ioeventfds (QueueNotify with datamatch on the queue index), so a
 * kick never exits to user space.  Linux finds the devices through
 * "virtio_mmio.device=SIZE@ADDR:IRQ" words on its command line
 * (virtio_mmio_cmdline()).
 */
#ifndef KITE_VIRTIO_MMIO_H
#define KITE_VIRTIO_MMIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/error.h"
#include "devices/irq.h"
#include "virtio/virtio.h"

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_MMIO_VERSION	2
#define VIRTIO_MMIO_VENDOR	0x4554494b	/* "KITE" */
#define VIRTIO_MMIO_REGS_SIZE	0x200

/* Register offsets. */
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
#define VMMIO_SHM_SEL		0x0ac
#define VMMIO_SHM_LEN_LO	0x0b0
#define VMMIO_SHM_LEN_HI	0x0b4
#define VMMIO_SHM_BASE_LO	0x0b8
#define VMMIO_SHM_BASE_HI	0x0bc
#define VMMIO_QUEUE_RESET	0x0c0
#define VMMIO_CONFIG_GEN	0x0fc
#define VMMIO_CONFIG		0x100

struct virtio_mmio {
	struct virtio_dev *vd;
	uint64_t base;
	struct irq_line irq;
	int vm_fd;			/* -1: no ioeventfds (unit tests) */
	bool ioeventfds;		/* bound for every queue */
	struct bus *mmio;
	bool registered;
};

/*
 * Put @vd on @mmio at @base with interrupt line @irq (attached to an irqfd
 * when it has a vm_fd) and bind one ioeventfd per queue.  Sets vd->tops.
 */
int virtio_mmio_attach(struct virtio_mmio *m, struct virtio_dev *vd, struct bus *mmio,
		       uint64_t base, struct irq_line irq, int vm_fd) KITE_WUR;
/* Unbind and unregister (before virtio_dev_destroy). */
void virtio_mmio_detach(struct virtio_mmio *m);
/* Append " virtio_mmio.device=512@0xADDR:IRQ" to @buf (NUL-terminated,
 * @size bytes); -ENOSPC when it does not fit. */
int virtio_mmio_cmdline(const struct virtio_mmio *m, char *buf, size_t size) KITE_WUR;

#endif
