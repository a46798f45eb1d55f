/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.h - the modern virtio-pci transport (virtio 1.2, 4.1; no
 * legacy/transitional interface).
 *
 * A virtio device becomes PCI function 00:SLOT.0: vendor 0x1af4, device
 * 0x1040 + virtio id, revision 1, a class per device type.
 *   BAR 1 (32-bit, 4 KiB): MSI-X table at 0, PBA at 0x800; one vector per
 *                          queue plus one for config changes.
 *   BAR 4 (64-bit prefetchable, 16 KiB), one page each:
 *     0x0000 common configuration   0x1000 ISR status
 *     0x2000 device configuration   0x3000 notifications: queue q at q * 4
 *   Vendor capabilities COMMON, ISR, DEVICE, NOTIFY (notify_off_multiplier
 *   4, queue_notify_off = queue index) and PCI_CFG (the config-space window
 *   onto the BARs), then MSI-X.
 * Guest notifications arrive on one KVM ioeventfd per queue at its notify
 * address, bound to the queue's kick_fd, and moved when BAR 4 moves; without
 * KVM (unit tests) a notify write kicks the queue.  Interrupts: the queue's
 * (or config) MSI-X vector when MSI-X is on; otherwise the ISR bit and INTA#
 * (a level line with a resample irqfd, re-asserted on EOI while the ISR is
 * non-zero; reading the ISR clears it).
 *
 * Threads and locks: register accesses on vCPU threads take vd->lock (in
 * the core's accessors); hooks under pci->lock (BAR moves, the PCI_CFG
 * window) take vd->lock or msix->lock inside it.  notify_* run on the
 * device's I/O thread and take vd->lock then msix->lock, never both.
 */
#ifndef KITE_VIRTIO_VIRTIO_PCI_H
#define KITE_VIRTIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "virtio/virtio.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040
#define VIRTIO_PCI_SUBSYS_ID	0x1100
#define VIRTIO_PCI_REVISION	1

/* struct virtio_pci_cap cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5
#define VIRTIO_PCI_CAP_LEN		16
#define VIRTIO_PCI_NOTIFY_CAP_LEN	20
#define VIRTIO_PCI_CFG_CAP_LEN		20

/* struct virtio_pci_common_cfg (1.0 part: 0x38 bytes) */
#define VPCI_DFSELECT		0x00
#define VPCI_DF			0x04
#define VPCI_GFSELECT		0x08
#define VPCI_GF			0x0c
#define VPCI_MSIX_CONFIG	0x10
#define VPCI_NUM_QUEUES		0x12
#define VPCI_STATUS		0x14
#define VPCI_CFG_GENERATION	0x15
#define VPCI_Q_SELECT		0x16
#define VPCI_Q_SIZE		0x18
#define VPCI_Q_MSIX_VECTOR	0x1a
#define VPCI_Q_ENABLE		0x1c
#define VPCI_Q_NOTIFY_OFF	0x1e
#define VPCI_Q_DESC		0x20
#define VPCI_Q_DRIVER		0x28
#define VPCI_Q_DEVICE		0x30
#define VPCI_COMMON_LEN		0x38

/* Layout */
#define VIRTIO_PCI_MSIX_BAR	1
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_MSIX_TABLE	0x000
#define VIRTIO_PCI_MSIX_PBA	0x800
#define VIRTIO_PCI_BAR		4
#define VIRTIO_PCI_BAR_SIZE	0x4000
#define VIRTIO_PCI_COMMON_OFF	0x0000
#define VIRTIO_PCI_ISR_OFF	0x1000
#define VIRTIO_PCI_DEVICE_OFF	0x2000
#define VIRTIO_PCI_NOTIFY_OFF	0x3000
#define VIRTIO_PCI_REGION_SIZE	0x1000
#define VIRTIO_PCI_NOTIFY_MULT	4

struct virtio_pci {
	struct pci_dev pdev;
	struct pci_msix msix;
	struct virtio_dev *vd;
	int vm_fd;				/* -1: no ioeventfds (unit tests) */
	uint32_t pci_cfg_cap;			/* config offset of the PCI_CFG cap */
	/* under pci->lock: where the ioeventfds are bound */
	uint64_t notify_addr;			/* PCI_BAR_UNMAPPED: nowhere */
	bool ioeventfd[VIRTIO_MAX_QUEUES];
};

/*
 * Make @vd (virtio_dev_init done, I/O thread not started) PCI device
 * 00:@slot.0 on @pci: BARs placed and decoded, INTx and MSI-X ready,
 * ioeventfds bound when the bus has a vm_fd.  Sets vd->tops/transport and
 * adds the device's resources.  Before virtio_dev_start() and
 * bus_set_live().  @vp must stay put (it is referenced by the bus).
 */
int virtio_pci_attach(struct virtio_pci *vp, struct virtio_dev *vd, struct pci_bus *pci,
		      unsigned int slot) KITE_WUR;
/* Unbind the ioeventfds: vCPUs stopped, before virtio_dev_destroy(). */
void virtio_pci_detach(struct virtio_pci *vp);
/* Free the MSI-X routes and irqfds: after virtio_dev_destroy() (I/O thread gone). */
void virtio_pci_release(struct virtio_pci *vp);

#endif
