/* SPDX-License-Identifier: MIT */
/* test=smp cpus=N: the MADT lists N enabled CPUs and all N-1 APs come up. */
#include "lib.h"
#include "acpi.h"
#include "apic.h"
#include "smp.h"

GUEST_TEST(smp, "cpus=N: MADT has N CPUs, INIT-SIPI-SIPI brings up N-1 APs")
{
	const struct acpi_info *a = acpi_get();
	uint64_t n;
	uint32_t ids[GUEST_MAX_CPUS];
	unsigned int i, j, online;
	int r;

	if (!cmdline_get_u64("cpus", &n) || n < 1)
		fail("smp needs cpus=N (N >= 1)");
	if (!a)
		fail("no ACPI tables: %s", acpi_error());
	if (!a->madt)
		fail("no MADT");
	if (a->ncpus != n)
		fail("MADT lists %u enabled CPUs, expected %llu", a->ncpus, (unsigned long long)n);
	if (n > GUEST_MAX_CPUS)
		fail("cpus=%llu: the guest supports at most %u", (unsigned long long)n, GUEST_MAX_CPUS);
	r = smp_boot((unsigned int)n - 1, 5000);
	if (r < 0)
		fail("AP start-up failed");
	online = (unsigned int)r + 1;
	if (online != n)
		fail("%u of %llu CPUs online after 5 s", online, (unsigned long long)n);
	ids[0] = lapic_id();
	for (i = 1; i < online; i++) {
		ids[i] = smp_apic_id(i);
		if (ids[i] != smp_lapic_id(i))
			fail("cpu %u: CPUID APIC id %u but LAPIC ID register %u", i, ids[i],
			     smp_lapic_id(i));
	}
	for (i = 0; i < online; i++) {
		for (j = 0; j < a->ncpus && a->apic_ids[j] != ids[i]; j++)
			;
		if (j == a->ncpus)
			fail("cpu %u has APIC id %u, which the MADT does not list", i, ids[i]);
		for (j = 0; j < i; j++)
			if (ids[j] == ids[i])
				fail("cpus %u and %u share APIC id %u", j, i, ids[i]);
	}
	printf("cpus: %u online (APIC ids", online);
	for (i = 0; i < online; i++)
		printf(" %u", ids[i]);
	printf(")\n");
	pass();
}
