/* SPDX-License-Identifier: MIT */
/* apic.h - local APIC (xAPIC MMIO) and IOAPIC. */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_DEFAULT_BASE	0xfee00000u
#define IOAPIC_DEFAULT_BASE	0xfec00000u

#define LAPIC_ID		0x20
#define LAPIC_VERSION		0x30
#define LAPIC_EOI		0xb0
#define LAPIC_SVR		0xf0
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310

#define ICR_INIT		0x00000500
#define ICR_STARTUP		0x00000600
#define ICR_LEVEL_ASSERT	0x00004000
#define ICR_BUSY		0x00001000

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);
void lapic_enable(void);		/* SVR: enable, spurious vector 0xff */
void lapic_eoi(void);			/* ring 0 or ring 3 */
bool lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo);

uint32_t ioapic_read(uint64_t base, uint32_t reg);
void ioapic_write(uint64_t base, uint32_t reg, uint32_t v);
/* Route ISA IRQ @irq (through the MADT's overrides and IOAPIC list) to
 * @vector on APIC @dest: fixed, physical, unmasked.  Returns the GSI or -1. */
int ioapic_route_isa_irq(unsigned int irq, unsigned int vector, uint32_t dest);
/* Program the redirection entry of GSI @gsi: low dword @lo (vector, bit 13
 * active low, bit 15 level), destination APIC @dest, unmasked.  IOAPICs from
 * the MADT; without one, 0xfec00000 (GSI 0-) and, if it answers, 0xfec10000
 * (GSI 24-, QEMU microvm's second IOAPIC).  Returns the GSI or -1. */
int ioapic_route_gsi(unsigned int gsi, uint32_t lo, uint32_t dest);

#endif
