/* SPDX-License-Identifier: MIT */
/*
 * irq_router.h - every GSI the VM uses, allocated in one place.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the router keeps it:
 * the PC's ISA and IOAPIC pins (GSI 0-23; ISA IRQ 0 reaches IOAPIC pin 2,
 * IRQ 2 is the PIC cascade) and MSI routes allocated from GSI 24 up.
 * Devices then inject through irqfds bound to their GSI (devices/irq.h), so
 * no device thread makes an ioctl per interrupt.
 * Thread use: any thread; one mutex.  Used at build time and when a guest
 * reprograms an MSI(-X) vector.
 */
#ifndef KITE_CORE_IRQ_ROUTER_H
#define KITE_CORE_IRQ_ROUTER_H

#include <pthread.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "core/error.h"

#define IRQ_IOAPIC_PINS		24
#define IRQ_FIRST_MSI_GSI	IRQ_IOAPIC_PINS
#define IRQ_ROUTES_MAX		1024

struct irq_router {
	pthread_mutex_t lock;
	int vm_fd;			/* -1: build the table only (unit tests) */
	uint32_t max_gsi;		/* exclusive: KVM's route count, capped */
	struct kvm_irq_routing_entry entries[IRQ_ROUTES_MAX];
	unsigned int nr;
	uint8_t msi_used[IRQ_ROUTES_MAX];	/* by GSI */
};

/* Build the PC routing and commit it.  @max_routes from KVM_CAP_IRQ_ROUTING. */
int irq_router_init(struct irq_router *r, int vm_fd, uint32_t max_routes) KITE_WUR;
void irq_router_destroy(struct irq_router *r);
/* Allocate a GSI routed to MSI (@addr, @data) and commit. */
int irq_router_add_msi(struct irq_router *r, uint64_t addr, uint32_t data,
		       uint32_t *gsi) KITE_WUR;
/* Re-point an allocated MSI GSI (the guest reprogrammed the vector). */
int irq_router_set_msi(struct irq_router *r, uint32_t gsi, uint64_t addr,
		       uint32_t data) KITE_WUR;
int irq_router_free_msi(struct irq_router *r, uint32_t gsi) KITE_WUR;

#endif
