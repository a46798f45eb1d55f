/* SPDX-License-Identifier: MIT */
/*
 * irq.h - a device's interrupt line into the in-kernel irqchip.
 *
 * Normally bound to an irqfd: raising the line is one eventfd write, no
 * ioctl, from any thread.  Without an irqfd (unit tests, or before attach)
 * the line falls back to KVM_IRQ_LINE with the real level.
 *
 * Edge lines (irq_line_attach_irqfd): ISA lines are edge-triggered on the
 * IOAPIC, so a rising edge is what counts; devices call irq_line_set() on
 * every change of their interrupt output.
 *
 * Level lines (irq_line_attach_level, PCI INTx): the irqfd is bound with a
 * resample eventfd (KVM_IRQFD_FLAG_RESAMPLE).  irq_line_set(line, 1) asserts
 * the GSI; it stays asserted until the guest EOIs it, when KVM lowers it and
 * signals the resample fd.  The owner watches irq_line_resample_fd() (e.g.
 * on its I/O thread) and calls irq_line_resampled() with whether its
 * interrupt condition still holds: then the line is asserted again.  Setting
 * level 0 cannot lower a line KVM holds; the EOI does (the guest's handler
 * clears the condition before it EOIs).
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
	bool has_resample;	/* level-triggered: resample_fd is valid */
	int resample_fd;
	int level;		/* last level the owner set (atomic) */
	uint64_t raised;	/* assertions delivered (rising edges, re-assertions) */
	uint64_t resamples;	/* EOIs seen through the resample fd */
};

/* Create an eventfd and bind it to the line's GSI with KVM_IRQFD (edge). */
int irq_line_attach_irqfd(struct irq_line *line) KITE_WUR;
/* Same for a level-triggered line, with a resample eventfd (no-op without KVM). */
int irq_line_attach_level(struct irq_line *line) KITE_WUR;
void irq_line_detach(struct irq_line *line);
/* Drive the line to @level (0 or 1); failures are logged, never fatal. */
void irq_line_set(struct irq_line *line, int level);
/* The eventfd KVM signals when it lowered a level line (-1: none). */
int irq_line_resample_fd(const struct irq_line *line);
/* The resample fd fired: drain it and re-assert if @pending (any thread). */
void irq_line_resampled(struct irq_line *line, bool pending);

#endif
