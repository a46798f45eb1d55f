/* SPDX-License-Identifier: MIT */
/*
 * platform.h - the firmware tables and CPUID a guest reads to learn the
 * machine: MP table, ACPI (RSDP/XSDT/MADT/FADT/DSDT), per-vCPU CPUID.
 */
#ifndef KITE_ARCH_X86_PLATFORM_H
#define KITE_ARCH_X86_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "arch/x86/layout.h"
#include "core/addr_space.h"
#include "core/error.h"

/* APIC id of vCPU @index (kite uses the index). IOAPIC id = ncpus. */
#define X86_MAX_CPUS 254

/*
 * The MP table must fit in the EBDA's first KiB (X86_MPTABLE..0xa0000):
 * 220 fixed bytes + 20 per vCPU.  Larger guests boot from ACPI (MADT) only;
 * skip x86_mptable_write() for them.
 */
#define X86_MPTABLE_MAX_CPUS 40

/*
 * Write an Intel MP table (floating pointer + configuration table) at
 * X86_MPTABLE: one processor entry per vCPU (vCPU 0 is the BSP), the ISA bus,
 * the IOAPIC at X86_IOAPIC_ADDR, the MP spec's default ISA routing (8259
 * ExtINT on pin 0, IRQ 0 on pin 2, IRQ 2 unlisted, IRQ n on pin n), ExtINT on
 * LINT0 and NMI on LINT1.  Checksums filled.  -E2BIG above
 * X86_MPTABLE_MAX_CPUS.
 */
int x86_mptable_write(const struct addr_space *as, unsigned int ncpus) KITE_WUR;

struct x86_acpi_config {
	unsigned int ncpus;
	/* A PCI host bridge: MCFG (X86_PCI_ECAM_START, bus 0) and \_SB.PCI0
	 * (config ports, the 32-bit MMIO window, _PRT) in the DSDT. */
	bool pci;
	/*
	 * A VM generation ID: \_SB.VGEN (_CID "VM_Gen_Counter", Linux's
	 * vmgenid driver) whose ADDR package holds @vmgenid_addr, the
	 * guest-physical address of the 16-byte ID (8-byte aligned), and
	 * \_SB.GED0, a Generic Event Device on GSI @ged_gsi (edge, active
	 * high) whose _EVT notifies VGEN: pulse the GSI after changing the ID.
	 * 0: neither.
	 */
	uint64_t vmgenid_addr;
	uint32_t ged_gsi;
};

/*
 * Write RSDP (at X86_ACPI_START), XSDT, FADT (hardware-reduced, sleep
 * control/status registers at X86_PM_SLEEP_*_PORT), DSDT (with \_S5, and
 * \_SB.PCI0, \_SB.VGEN and \_SB.GED0 as @cfg asks), MADT
 * (one enabled local APIC per vCPU, the IOAPIC, IRQ0->GSI2 override) into
 * [X86_ACPI_START, X86_ACPI_END).  All checksums filled.  Sets *rsdp_gpa.
 */
int x86_acpi_write(const struct addr_space *as, const struct x86_acpi_config *cfg,
		   uint64_t *rsdp_gpa) KITE_WUR;

/*
 * Filter KVM_GET_SUPPORTED_CPUID output for vCPU @index of @ncpus, in place:
 * APIC ids and topology (leaves 1, 4, 0xb, 0x1f, 0x80000008: one package of
 * @ncpus cores, one thread each), hypervisor bit and the KVM signature leaf
 * 0x40000000, nothing the VMM cannot back.  @cpuid->nent may grow up to
 * @capacity entries.  Pure function: unit-tested without KVM.
 */
int x86_cpuid_filter(struct kvm_cpuid2 *cpuid, unsigned int capacity,
		     unsigned int index, unsigned int ncpus) KITE_WUR;

#endif
