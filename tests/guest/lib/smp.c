/* SPDX-License-Identifier: MIT */
/*
 * smp.c - AP start-up.  The BSP copies ap_trampoline.S to a free RAM page
 * below 1 MiB and sends INIT, SIPI, SIPI.  Each AP goes to long mode on the
 * shared page tables, takes a cpu index and stacks (entry.S), and runs
 * ap_main() in ring 3: it records its APIC id, bumps the counter, halts.
 */
#include "lib.h"
#include "acpi.h"
#include "apic.h"
#include "boot.h"
#include "smp.h"
#include "tsc.h"

extern const char ap_tramp_start[], ap_tramp_end[];

static volatile uint32_t online;
static volatile uint32_t apic_ids[GUEST_MAX_CPUS];	/* CPUID 1 EBX[31:24] */
static volatile uint32_t lapic_ids[GUEST_MAX_CPUS];	/* LAPIC ID register */
static uint64_t tramp_page;
static int boot_result = -2;

/* Ring 3, on each AP (entry.S). */
void ap_main(unsigned int cpu);
void ap_main(unsigned int cpu)
{
	uint32_t r[4];

	cpuid(1, r);			/* in ring 0: see cpuid_native() */
	apic_ids[cpu] = r[1] >> 24;
	lapic_ids[cpu] = lapic_id();
	__atomic_add_fetch(&online, 1, __ATOMIC_SEQ_CST);
	halt();
}

unsigned int smp_online(void)
{
	return READ_ONCE(online);
}

uint32_t smp_apic_id(unsigned int cpu)
{
	return cpu < GUEST_MAX_CPUS ? apic_ids[cpu] : 0;
}

uint32_t smp_lapic_id(unsigned int cpu)
{
	return cpu < GUEST_MAX_CPUS ? lapic_ids[cpu] : 0;
}

uint64_t smp_trampoline(void)
{
	return tramp_page;
}

static uint64_t find_trampoline_page(void)
{
	unsigned int n;
	uint64_t p;

	memmap_get(&n);
	for (p = 0x1000; p < 0x9f000; p += 0x1000) {
		if (n && !memmap_is_ram(p, 0x1000))
			continue;
		if (!n && p < 0x8000)
			continue;	/* no map: stay clear of the usual boot data */
		if (!memmap_overlaps_boot_data(p, 0x1000))
			return p;
	}
	return 0;
}

int smp_boot(unsigned int expected, unsigned int timeout_ms)
{
	const struct acpi_info *a = acpi_get();
	uint32_t self, sipi;
	unsigned int i;
	uint64_t end;

	if (boot_result != -2)
		return boot_result;
	boot_result = -1;
	if (expected == 0)
		return boot_result = 0;
	tramp_page = find_trampoline_page();
	if (!tramp_page) {
		printf("smp: no free RAM page below 1 MiB for the AP trampoline\n");
		return -1;
	}
	memcpy((void *)(uintptr_t)tramp_page, ap_tramp_start, ap_tramp_end - ap_tramp_start);
	lapic_enable();
	self = lapic_id();
	sipi = ICR_STARTUP | (uint32_t)(tramp_page >> 12);

	/* INIT to every AP, wait 10 ms, SIPI, 200 us, SIPI again if needed. */
	if (a && a->madt) {
		for (i = 0; i < a->ncpus && i < GUEST_MAX_CPUS; i++)
			if (a->apic_ids[i] != self)
				lapic_send_ipi(a->apic_ids[i], ICR_INIT | ICR_LEVEL_ASSERT);
	} else {
		lapic_send_ipi(0, ICR_INIT | ICR_LEVEL_ASSERT | (3u << 18));
	}
	mdelay(10);
	for (int round = 0; round < 2 && smp_online() < expected; round++) {
		if (a && a->madt) {
			for (i = 0; i < a->ncpus && i < GUEST_MAX_CPUS; i++)
				if (a->apic_ids[i] != self)
					lapic_send_ipi(a->apic_ids[i], sipi);
		} else {
			lapic_send_ipi(0, sipi | (3u << 18));
		}
		udelay(200);
	}
	end = rdtsc() + tsc_from_us((uint64_t)timeout_ms * 1000);
	while (smp_online() < expected && (int64_t)(rdtsc() - end) < 0)
		cpu_relax();
	udelay(1000);	/* let stragglers beyond @expected show up too */
	return boot_result = (int)smp_online();
}
