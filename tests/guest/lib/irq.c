/* SPDX-License-Identifier: MIT */
/* irq.c - ring-0 interrupt dispatch (called from isr_common, entry.S). */
#include "lib.h"
#include "apic.h"
#include "irq.h"

static irq_handler_t handlers[256];
static volatile uint64_t counts[256];

void irq_register(unsigned int vector, irq_handler_t handler)
{
	WRITE_ONCE(handlers[vector & 0xff], handler);
}

uint64_t irq_count(unsigned int vector)
{
	return READ_ONCE(counts[vector & 0xff]);
}

/* Ring 0. */
void irq_dispatch(unsigned long vector);
void irq_dispatch(unsigned long vector)
{
	irq_handler_t h = handlers[vector & 0xff];

	counts[vector & 0xff]++;
	if (h)
		h((unsigned int)vector);
	else if (vector != VEC_SPURIOUS)
		lapic_eoi();
}
