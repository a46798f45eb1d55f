/* SPDX-License-Identifier: MIT */
/*
 * vmgenid.h - the VM generation ID: 16 random bytes in a reserved page of
 * guest memory (X86_VMGENID_ADDR) that the DSDT points at (\_SB.VGEN), and
 * the Generic Event Device interrupt (\_SB.GED0, GSI X86_GED_GSI) that tells
 * the guest it changed.
 *
 * A guest that sees a new ID knows it may be one of several copies of one
 * snapshot: Linux's vmgenid driver mixes the ID into its random number
 * generator and sends a uevent (NEW_VMGENID=1), so copies do not draw the
 * same random numbers.  kite writes an ID at boot, a new one with the
 * interrupt when a snapshot is restored as a new copy
 * (vm_snapshot_new_identity()) and on the "regenerate" command; never when
 * one VM moves (live migration), which is the same machine.
 *
 * The interrupt goes through KVM_IRQ_LINE, not an irqfd: the ioctl has set
 * the edge in the IOAPIC and the vCPU's local APIC when it returns, while
 * an irqfd on an IOAPIC pin is injected later by a kernel work item.  So a
 * restored copy has the interrupt pending before its vCPUs run again, and
 * the guest never reads the new ID before it could have been told.
 *
 * State: none of its own.  The ID is guest memory (snapshots and migration
 * carry it with RAM) and the interrupt is an edge.  The address, the GSI and
 * the counters are host-side INFO.
 */
#ifndef KITE_DEVICES_VMGENID_H
#define KITE_DEVICES_VMGENID_H

#include <pthread.h>
#include <stdint.h>

#include "core/addr_space.h"
#include "core/device.h"
#include "devices/irq.h"

#define VMGENID_LEN	16

struct vmgenid {
	pthread_mutex_t lock;		/* one ID change at a time (API, restore) */
	const struct addr_space *as;
	uint64_t gpa;			/* where the ID lies in guest memory */
	struct irq_line irq;		/* the GED's GSI, edge; no irqfd */
	uint64_t generations;		/* IDs this kite wrote (under lock) */
};

void vmgenid_init(struct vmgenid *g, const struct addr_space *as, uint64_t gpa,
		  struct irq_line irq);
void vmgenid_destroy(struct vmgenid *g);

/* A new random ID in guest memory, no interrupt (a fresh boot). */
int vmgenid_write_new(struct vmgenid *g) KITE_WUR;
/* A new random ID, then the GED interrupt: the guest learns it changed.
 * Any thread; with the VM paused the interrupt waits for the resume. */
int vmgenid_regenerate(struct vmgenid *g) KITE_WUR;
/* The ID the guest reads now. */
int vmgenid_read(struct vmgenid *g, uint8_t id[VMGENID_LEN]) KITE_WUR;

extern const struct dev_class vmgenid_class;

#endif
