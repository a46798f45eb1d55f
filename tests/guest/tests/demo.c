/* SPDX-License-Identifier: MIT */
/* test=demo: describe the machine the guest sees, start the APs, power off. */
#include "lib.h"
#include "acpi.h"
#include "apic.h"
#include "boot.h"
#include "serial.h"
#include "smp.h"
#include "tsc.h"

GUEST_TEST(demo, "describe the machine, start the APs, power off")
{
	const struct acpi_info *a;
	unsigned int i, n;
	const char *w;
	size_t len;
	int r;

	printf("\nkite test guest: what this virtual machine looks like from inside\n\n");
	printf("command line: \"%s\"\n", cmdline());
	printf("PVH start_info at %p, version %u, %u module(s)\n", (const void *)start_info,
	       start_info->version, start_info->nr_modules);
	printf("TSC: %llu MHz (%s)\n", (unsigned long long)(tsc_hz() / 1000000), tsc_source());

	printf("\nmemory map:\n");
	memmap_print("  ");

	a = acpi_get();
	printf("\nACPI: ");
	if (!a) {
		printf("none (%s)\n", acpi_error());
	} else {
		printf("RSDP at 0x%llx (from %s), revision %u, OEM \"%s\"\n",
		       (unsigned long long)a->rsdp, a->rsdp_source, a->rsdp_revision, a->rsdp_oem);
		for (i = 0; i < a->ntables; i++)
			printf("  %-4s at 0x%08llx, %5u bytes, rev %u, OEM \"%s\" \"%s\"%s\n",
			       a->tables[i].sig, (unsigned long long)a->tables[i].addr,
			       a->tables[i].length, a->tables[i].revision, a->tables[i].oem_id,
			       a->tables[i].oem_table_id, a->tables[i].checksum_ok ? "" : " BAD CHECKSUM");
		if (a->madt) {
			printf("  %u CPU(s) in the MADT, APIC ids:", a->ncpus);
			for (i = 0; i < a->ncpus && i < GUEST_MAX_CPUS; i++)
				printf(" %u", a->apic_ids[i]);
			printf("\n  local APIC at 0x%x\n", a->lapic_addr);
			for (i = 0; i < a->nioapics; i++)
				printf("  IOAPIC id %u at 0x%x, GSI base %u\n", a->ioapics[i].id,
				       a->ioapics[i].addr, a->ioapics[i].gsi_base);
			for (i = 0; i < a->noverrides; i++)
				printf("  ISA IRQ %u -> GSI %u (flags 0x%x)\n", a->overrides[i].source,
				       a->overrides[i].gsi, a->overrides[i].flags);
		}
		if (a->fadt)
			printf("  FADT: %s, power off via %s\n",
			       a->hw_reduced ? "hardware-reduced" : "fixed hardware",
			       a->hw_reduced ? "sleep control register" : "PM1a_CNT");
	}

	printf("\ndevices:\n");
	printf("  COM1 (0x3f8): %s\n", serial_present() ? "present (scratch register works)" : "not found");
	n = 0;
	for (w = cmdline(); (w = cmdline_next_word(w, &len)); w += len) {
		if (len > 19 && !strncmp(w, "virtio_mmio.device=", 19)) {
			char dev[64];

			snprintf(dev, sizeof(dev) < len - 18 ? sizeof(dev) : len - 18, "%s", w + 19);
			printf("  virtio-mmio: %s\n", dev);
			n++;
		}
	}
	if (!n)
		printf("  no virtio_mmio.device= on the command line\n");

	printf("\nCPUs:\n");
	printf("  cpu 0 online (APIC id %u, the boot CPU)\n", lapic_id());
	if (a && a->madt && a->ncpus > 1) {
		r = smp_boot(a->ncpus - 1, 5000);
		for (i = 1; r > 0 && i <= (unsigned int)r; i++)
			printf("  cpu %u online (APIC id %u)\n", i, smp_apic_id(i));
		if (r >= 0 && (unsigned int)r + 1 < a->ncpus)
			printf("  only %d of %u CPUs came up\n", r + 1, a->ncpus);
		printf("  AP trampoline at 0x%llx\n", (unsigned long long)smp_trampoline());
	}

	printf("\nall done: powering off\n");
	acpi_poweroff();
	printf("ACPI power-off did not stop the VM; trying the i8042 reset\n");
	outb(0x64, 0xfe);
	mdelay(100);
	printf("the i8042 reset did not stop it either; triple fault\n");
	triple_fault();
}
