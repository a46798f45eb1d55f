/* SPDX-License-Identifier: MIT */
/* apic.c - local APIC and IOAPIC through user-mapped MMIO. */
#include "lib.h"
#include "acpi.h"
#include "apic.h"
#include "tsc.h"

static uint64_t lapic_base = LAPIC_DEFAULT_BASE;

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(lapic_base + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(lapic_base + reg, v);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_enable(void)
{
	const struct acpi_info *a = acpi_get();

	if (a && a->madt && a->lapic_addr)
		lapic_base = a->lapic_addr;
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
}

void lapic_eoi(void)
{
	mmio_write32(lapic_base + LAPIC_EOI, 0);
}

static bool lapic_wait_idle(void)
{
	uint64_t end = rdtsc() + tsc_from_us(100000);

	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY) {
		if ((int64_t)(rdtsc() - end) > 0)
			return false;
		cpu_relax();
	}
	return true;
}

bool lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
	if (!lapic_wait_idle())
		return false;
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	return lapic_wait_idle();
}

uint32_t ioapic_read(uint64_t base, uint32_t reg)
{
	mmio_write32(base, reg);
	return mmio_read32(base + 0x10);
}

void ioapic_write(uint64_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base, reg);
	mmio_write32(base + 0x10, v);
}

int ioapic_route_isa_irq(unsigned int irq, unsigned int vector, uint32_t dest)
{
	const struct acpi_info *a = acpi_get();
	uint32_t gsi = irq, lo = vector & 0xff;
	uint64_t base = IOAPIC_DEFAULT_BASE;
	uint32_t gsi_base = 0;
	unsigned int i;

	if (a && a->madt) {
		for (i = 0; i < a->noverrides; i++) {
			if (a->overrides[i].source != irq)
				continue;
			gsi = a->overrides[i].gsi;
			if ((a->overrides[i].flags & 3) == 3)
				lo |= 1u << 13;		/* active low */
			if (((a->overrides[i].flags >> 2) & 3) == 3)
				lo |= 1u << 15;		/* level */
		}
		for (i = 0; i < a->nioapics; i++) {
			uint32_t max = (ioapic_read(a->ioapics[i].addr, 1) >> 16) & 0xff;

			if (gsi >= a->ioapics[i].gsi_base && gsi <= a->ioapics[i].gsi_base + max) {
				base = a->ioapics[i].addr;
				gsi_base = a->ioapics[i].gsi_base;
				break;
			}
		}
		if (a->nioapics && i == a->nioapics)
			return -1;
	}
	ioapic_write(base, 0x10 + 2 * (gsi - gsi_base) + 1, dest << 24);
	ioapic_write(base, 0x10 + 2 * (gsi - gsi_base), lo);
	return (int)gsi;
}

int ioapic_route_gsi(unsigned int gsi, uint32_t lo, uint32_t dest)
{
	const struct acpi_info *a = acpi_get();
	uint64_t bases[4];
	uint32_t gbase[4];
	unsigned int n = 0, i;

	if (a && a->madt && a->nioapics) {
		for (i = 0; i < a->nioapics && i < 4; i++) {
			bases[n] = a->ioapics[i].addr;
			gbase[n++] = a->ioapics[i].gsi_base;
		}
	} else {
		uint32_t ver0 = ioapic_read(IOAPIC_DEFAULT_BASE, 1);

		bases[n] = IOAPIC_DEFAULT_BASE;
		gbase[n++] = 0;
		if (ver0 != 0xffffffff && ioapic_read(0xfec10000, 1) != 0xffffffff) {
			bases[n] = 0xfec10000;
			gbase[n++] = ((ver0 >> 16) & 0xff) + 1;
		}
	}
	for (i = 0; i < n; i++) {
		uint32_t max = (ioapic_read(bases[i], 1) >> 16) & 0xff;

		if (gsi < gbase[i] || gsi > gbase[i] + max)
			continue;
		ioapic_write(bases[i], 0x10 + 2 * (gsi - gbase[i]) + 1, dest << 24);
		ioapic_write(bases[i], 0x10 + 2 * (gsi - gbase[i]), lo & ~(1u << 16));
		return (int)gsi;
	}
	return -1;
}
