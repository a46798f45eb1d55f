/* SPDX-License-Identifier: MIT */
/*
 * pci.h - kite's PCI host bridge: bus 0, function 0 of up to 32 slots.
 *
 * Configuration space is reached through mechanism #1 (0xcf8 address,
 * 0xcfc-0xcff data, any width at any offset) on the PIO bus and through ECAM
 * (X86_PCI_ECAM_START, bus 0) on the MMIO bus.  The host bridge itself is
 * 00:00.0.  Each device has 4 KiB of config space with per-byte write masks
 * (read-only / read-write / write-1-to-clear), a type-0 header, a capability
 * list, INTA# (GSI X86_PCI_INTX_GSI_BASE + slot % 8, level-triggered) and
 * memory BARs (32- or 64-bit; no I/O BARs).
 *
 * BAR decoding.  The bus claims the whole 32-bit MMIO window
 * (X86_PCI_MMIO_START, X86_PCI_MMIO_SIZE) on the MMIO bus once, at init, and
 * dispatches inside it to the BAR that decodes the address (a lock-free scan
 * of the BARs' decoded addresses).  A BAR moves when the guest rewrites it or
 * toggles the command register's memory-enable bit; only the BAR's decoded
 * address changes and the device's bar_moved() hook is called (to move its
 * KVM ioeventfds).  BARs outside the window are not decoded.
 *
 * Why not bus_unregister()/bus_register() per BAR: a BAR moves inside a
 * config-space write handler, i.e. inside bus_access()'s RCU read-side
 * section on a vCPU thread, and the live bus's update waits for a grace
 * period - which would wait for that very reader (every bus and the address
 * space share one RCU domain): a self-deadlock on either bus.  Deferring the
 * update to another thread would let the guest's next access (right after it
 * re-enables decoding) miss the BAR.  So the MMIO bus table never changes
 * after init, and BAR moves never wait for a grace period.
 *
 * Threads and locks
 *   Config accesses come from vCPU threads (and the VM builder).  One mutex
 *   per bus, pci->lock, serializes every config access and BAR move.
 *   Lock order:  pci->lock  ->  msix->lock  ->  irq_router->lock
 *                pci->lock  ->  the device's hooks (bar_moved, config_*):
 *                               they may take vd->lock (innermost) and call
 *                               KVM ioctls, never pci->lock.
 *   BAR MMIO handlers run with no PCI lock held (the dispatch reads decoded
 *   addresses atomically), so they may take their own locks freely.
 *   Devices are never removed while vCPUs run, so a handler that raced with
 *   a BAR move at worst completes at the BAR's old address, like an
 *   in-flight bus transaction.  No path calls bus_register/bus_unregister
 *   while the bus is live.
 */
#ifndef KITE_PCI_PCI_H
#define KITE_PCI_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/error.h"
#include "devices/irq.h"

#define PCI_SLOTS		32
#define PCI_CFG_SIZE		4096
#define PCI_CFG_LEGACY_SIZE	256	/* what mechanism #1 reaches */
#define PCI_NUM_BARS		6
#define PCI_BAR_REGIONS_MAX	8
#define PCI_BAR_UNMAPPED	UINT64_MAX

/* Type-0 header offsets. */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CAP_START		0x40

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_COMMAND_PARITY	0x0040
#define PCI_COMMAND_SERR	0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT	0x0008
#define PCI_STATUS_CAP_LIST	0x0010
#define PCI_STATUS_RW1C		0xf900	/* parity, aborts, SERR: write 1 to clear */

#define PCI_BAR_MEM_TYPE_64	0x4
#define PCI_BAR_MEM_PREFETCH	0x8

#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11

#define PCI_CLASS_BRIDGE_HOST	0x060000

struct pci_dev;
struct pci_msix;

/* A device's hooks; every one runs under pci->lock (see the lock order). */
struct pci_dev_ops {
	/* BAR @bar now decodes at @new_addr (PCI_BAR_UNMAPPED: not decoded),
	 * previously at @old_addr.  May be NULL. */
	void (*bar_moved)(struct pci_dev *pdev, unsigned int bar, uint64_t old_addr,
			  uint64_t new_addr);
	/* Config bytes [off, off + len) were written (masks applied). May be NULL. */
	void (*config_written)(struct pci_dev *pdev, uint32_t off, uint32_t len);
	/* Config bytes [off, off + len) are being read; @data holds the stored
	 * bytes and may be overwritten (registers with read side effects). */
	void (*config_read)(struct pci_dev *pdev, uint32_t off, uint8_t *data, uint32_t len);
};

/* A piece of a BAR handled by its own ops (offsets relative to @off). */
struct pci_bar_region {
	uint64_t off, len;
	const struct bus_ops *ops;
	void *opaque;
};

struct pci_bar {
	uint64_t size;		/* 0: not implemented (or the upper half of a 64-bit BAR) */
	bool is64, prefetch;
	uint64_t addr;		/* decoded address or PCI_BAR_UNMAPPED (atomic) */
	struct pci_bar_region regions[PCI_BAR_REGIONS_MAX];	/* fixed after setup */
	unsigned int nr_regions;
};

struct pci_dev_id {
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_id;
	uint32_t class_code;	/* base class, subclass, prog-if */
	uint8_t revision;
};

struct pci_dev {
	struct pci_bus *bus;
	const char *name;
	unsigned int slot;
	const struct pci_dev_ops *ops;
	void *opaque;			/* the owner's state */
	/* under bus->lock */
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may write */
	uint8_t w1cmask[PCI_CFG_SIZE];	/* bits a written 1 clears */
	uint32_t cap_end;		/* next free byte for a capability */
	uint8_t cap_last;		/* offset of the last capability (0: none) */
	struct pci_bar bars[PCI_NUM_BARS];
	struct pci_msix *msix;		/* set by msix_init() */
	/* INTA#: any thread */
	struct irq_line intx;
	bool intx_pin;			/* has INTA# (not the host bridge) */
	int intx_level;			/* the device's output (atomic) */
	bool intx_disabled;		/* command bit 10 (atomic shadow) */
};

struct irq_router;

struct pci_bus {
	pthread_mutex_t lock;		/* config spaces, config_addr, BAR moves */
	struct bus *pio, *mmio;
	struct irq_router *router;	/* MSI routes (NULL: MSI-X unsupported) */
	int vm_fd;			/* -1: no KVM (unit tests) */
	uint32_t config_addr;		/* the 0xcf8 register */
	struct pci_dev *devs[PCI_SLOTS];	/* fixed while vCPUs run */
	struct pci_dev host;		/* 00:00.0 */
	uint64_t mmio_base, mmio_size;	/* the BAR window */
	uint64_t mmio_next;		/* placement cursor (build time) */
	unsigned int nr_registered;	/* bus ranges claimed by init */
};

/*
 * Claim CF8/CFC on @pio, ECAM and the BAR window on @mmio, add the host
 * bridge.  @router for MSI-X routes, @vm_fd for irqfds/ioeventfds (-1: none).
 * Before bus_set_live().
 */
int pci_bus_init(struct pci_bus *pci, struct bus *pio, struct bus *mmio,
		 struct irq_router *router, int vm_fd) KITE_WUR;
/* Release the bus ranges and every device's INTx line; vCPUs stopped. */
void pci_bus_destroy(struct pci_bus *pci);

/* Fill a device's header (no BARs, no capabilities yet). */
void pci_dev_init(struct pci_dev *pdev, const char *name, const struct pci_dev_id *id,
		  const struct pci_dev_ops *ops, void *opaque);
/* BAR flags for pci_dev_add_bar(). */
#define PCI_BAR_F_64		0x1
#define PCI_BAR_F_PREFETCH	0x2
/* Implement memory BAR @bar (a 64-bit BAR also uses @bar + 1) of @size bytes
 * (a power of two, >= 16). */
int pci_dev_add_bar(struct pci_dev *pdev, unsigned int bar, uint64_t size,
		    unsigned int flags) KITE_WUR;
/* Let @ops handle BAR bytes [@off, @off + @len) (non-overlapping, in the BAR). */
int pci_bar_add_region(struct pci_dev *pdev, unsigned int bar, uint64_t off, uint64_t len,
		       const struct bus_ops *ops, void *opaque) KITE_WUR;
/* Append a capability of @len bytes (id and next filled in); *off gets its offset. */
int pci_dev_add_cap(struct pci_dev *pdev, uint8_t id, uint32_t len, uint32_t *off) KITE_WUR;
/*
 * Plug @pdev into @slot (1..31): INTA# routed to its GSI (a level line with
 * a resample irqfd when KVM is there), every BAR placed in the window,
 * naturally aligned, and memory decoding enabled (bar_moved called).
 * Build time, before bus_set_live().
 */
int pci_bus_add(struct pci_bus *pci, struct pci_dev *pdev, unsigned int slot) KITE_WUR;

/* Drive INTA# (any thread); ignored while the guest set INTx-disable. */
void pci_intx_set(struct pci_dev *pdev, int level);
/* INTA#'s resample fd fired (the guest EOIed it): @pending says whether
 * the device's interrupt condition still holds; re-asserts if so. */
void pci_intx_resampled(struct pci_dev *pdev, bool pending);
/* Access BAR @bar at @off through its regions (virtio's PCI_CFG window);
 * unclaimed bytes read as all-ones.  Returns false when nothing claimed it. */
bool pci_bar_access(struct pci_dev *pdev, unsigned int bar, uint64_t off, uint8_t *data,
		    uint32_t size, bool is_write);

/*
 * Snapshot state: the first PCI_CFG_LEGACY_SIZE bytes of config space as
 * stored (everything the guest can program - command, BARs, interrupt line,
 * capability registers such as MSI-X control - lives there).  Take
 * pci->lock themselves; VM paused.
 *   pci_dev_save_config   copy them into @out;
 *   pci_dev_check_config  -EINVAL (message) when a bit the guest cannot
 *                         write differs from this device's: another device;
 *   pci_dev_load_config   store the guest-writable bits of @in and apply
 *                         them as a guest write would: INTx disable, BARs
 *                         decoded where they say (bar_moved: ioeventfds
 *                         move), MSI-X enable and mask (routes).  Device
 *                         hooks for config writes are not called: a
 *                         register with a side effect on write (virtio's
 *                         PCI_CFG window) is stored, not performed.
 */
void pci_dev_save_config(struct pci_dev *pdev, uint8_t *out);
int pci_dev_check_config(struct pci_dev *pdev, const uint8_t *in) KITE_WUR;
void pci_dev_load_config(struct pci_dev *pdev, const uint8_t *in);

/* Little-endian config-space helpers (callers hold pci->lock or build time). */
static inline void pci_set_u8(uint8_t *p, uint32_t off, uint8_t v) { p[off] = v; }
static inline void pci_set_u16(uint8_t *p, uint32_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}
static inline void pci_set_u32(uint8_t *p, uint32_t off, uint32_t v)
{
	pci_set_u16(p, off, (uint16_t)v);
	pci_set_u16(p, off + 2, (uint16_t)(v >> 16));
}
static inline uint16_t pci_get_u16(const uint8_t *p, uint32_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}
static inline uint32_t pci_get_u32(const uint8_t *p, uint32_t off)
{
	return pci_get_u16(p, off) | (uint32_t)pci_get_u16(p, off + 2) << 16;
}

#endif
