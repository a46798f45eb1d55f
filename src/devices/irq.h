/* SPDX-License-Identifier: MIT */
/*
 * irq.h - a device's interrupt line into the in-kernel irqchip.
 *
 * Normally bound to an irqfd (irq_line_attach_irqfd): raising the line is
 * one eventfd write, no ioctl, from any thread.  ISA lines are edge-triggered
 * on the IOAPIC, so a rising edge is what counts; devices call
 * irq_line_set() on every change of their interrupt output.  Without an
 * irqfd (unit tests, or before attach) the line falls back to KVM_IRQ_LINE.
 */
#ifndef KITE_DEVICES_IRQ_H
#define KITE_DEVICES_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct irq_line {
	int vm_fd;		/* -1: not connected (unit tests) */
	uint32_t gsi;
	bool has_irqfd;		/* zero-initialised lines have none */
	int irqfd;
	uint64_t raised;	/* rising edges delivered */
};

/* Create an eventfd and bind it to the line's GSI with KVM_IRQFD. */
int irq_line_attach_irqfd(struct irq_line *line) KITE_WUR;
void irq_line_detach(struct irq_line *line);
/* Drive the line to @level (0 or 1); failures are logged, never fatal. */
void irq_line_set(struct irq_line *line, int level);

#endif
