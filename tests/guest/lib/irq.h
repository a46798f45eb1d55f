/* SPDX-License-Identifier: MIT */
/* irq.h - interrupt handlers.  Handlers run in ring 0, which is emulated
 * (~1 us per instruction): do the minimum (read the device, EOI) there and
 * the work in ring 3. */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include <stdint.h>

typedef void (*irq_handler_t)(unsigned int vector);

void irq_register(unsigned int vector, irq_handler_t handler);
uint64_t irq_count(unsigned int vector);

#endif
