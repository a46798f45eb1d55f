/* SPDX-License-Identifier: MIT */
/* smp.h - bring up the application processors (INIT-SIPI-SIPI). */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdint.h>

#include "layout.h"

/* Start every AP the MADT lists (all but this CPU; broadcast when there is
 * no MADT), wait up to @timeout_ms for @expected of them.  Returns the
 * number online, or -1 with a message printed.  Once per boot. */
int smp_boot(unsigned int expected, unsigned int timeout_ms);
unsigned int smp_online(void);		/* APs that reached ring 3 */
uint32_t smp_apic_id(unsigned int cpu);	/* cpu 1..smp_online(): CPUID 1 */
uint32_t smp_lapic_id(unsigned int cpu);	/* the same from the LAPIC ID register */
uint64_t smp_trampoline(void);		/* physical page used, 0 if none */

#endif
