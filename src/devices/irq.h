/* SPDX-License-Identifier: MIT */
/*
 * irq.h - a device's interrupt line into the in-kernel irqchip.
 */
#ifndef KITE_DEVICES_IRQ_H
#define KITE_DEVICES_IRQ_H

#include <stdint.h>

struct irq_line {
	int vm_fd;		/* -1: not connected (unit tests) */
	uint32_t gsi;
};

/* Drive the line to @level (0 or 1); failures are logged, never fatal. */
void irq_line_set(const struct irq_line *line, int level);

#endif
