/* SPDX-License-Identifier: MIT */
/*
 * pci.h - PCI configuration space on bus 0: ECAM from the ACPI MCFG table,
 * else configuration mechanism #1 (0xcf8/0xcfc).  BARs are used as the VMM
 * assigned them; a memory BAR left at 0 is assigned from a free window.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_CLASS_REV		0x08
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34
#define PCI_INT_LINE		0x3c
#define PCI_INT_PIN		0x3d
#define PCI_CMD_IO		0x0001
#define PCI_CMD_MEM		0x0002
#define PCI_CMD_MASTER		0x0004
#define PCI_CMD_INTX_DISABLE	0x0400
#define PCI_STATUS_CAPS		0x0010
#define PCI_STATUS_INTX		0x0008
#define PCI_CAP_MSIX		0x11
#define PCI_CAP_VENDOR		0x09

struct pci_dev {
	uint8_t bus, slot, func;
	uint16_t vendor, device;
	uint32_t class_rev;
};

/* "ECAM at 0x... (MCFG)" or "mechanism #1"; NULL before pci_init. */
const char *pci_access_name(void);
bool pci_init(void);			/* false: no config space at all */
uint32_t pci_read32(const struct pci_dev *d, uint32_t off);
uint16_t pci_read16(const struct pci_dev *d, uint32_t off);
uint8_t pci_read8(const struct pci_dev *d, uint32_t off);
void pci_write32(const struct pci_dev *d, uint32_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint32_t off, uint16_t v);
void pci_write8(const struct pci_dev *d, uint32_t off, uint8_t v);

/* Functions on bus 0 (all of them: multi-function devices too). */
unsigned int pci_enumerate(struct pci_dev *out, unsigned int max);
/* BAR i: address (0 if unassigned), size, io, 64-bit.  Sizing briefly
 * disables decoding.  Returns false when BAR i does not exist. */
bool pci_bar_info(const struct pci_dev *d, unsigned int i, uint64_t *addr, uint64_t *size,
		  bool *io, bool *is64);
/* If memory BAR i is 0, assign it from the free window (command line
 * pci_window=BASE:SIZE, default 0xc0000000:0x10000000) above every BAR of
 * every function on bus 0.  Returns its address, 0 on failure. */
uint64_t pci_bar_ensure(const struct pci_dev *d, unsigned int i);
/* Next capability with @id after config offset @from (0: the first). */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from);

#endif
