/* SPDX-License-Identifier: MIT */
/*
 * cpu.h - x86 vCPU state at power-on and for the kernel's entry, and the
 * register dump printed when a guest dies.
 */
#ifndef KITE_ARCH_X86_CPU_H
#define KITE_ARCH_X86_CPU_H

#include <stdio.h>

#include "arch/x86/boot/boot.h"
#include "core/addr_space.h"
#include "core/error.h"

/* Selectors in kite's boot GDT (X86_BOOT_GDT). */
#define X86_SEL_CODE32	0x08
#define X86_SEL_CODE64	0x10	/* __BOOT_CS of the Linux boot protocol */
#define X86_SEL_DATA	0x18	/* __BOOT_DS */
#define X86_SEL_TSS	0x20
#define X86_BOOT_STACK	0x8ff0ULL	/* Linux entry: below the page tables */

/* Write the boot GDT and, for the Linux entry, the identity-map page tables. */
int x86_boot_memory_setup(const struct addr_space *as, enum x86_entry_mode mode) KITE_WUR;

/* Registers of the boot vCPU for @entry: segments, control registers, GPRs. */
int x86_vcpu_setup_boot(int vcpu_fd, const struct x86_boot_entry *entry) KITE_WUR;

/* Power-on state every vCPU needs: MSRs, FPU, LAPIC LINT0/LINT1. */
int x86_vcpu_setup_common(int vcpu_fd) KITE_WUR;

/*
 * Print the registers and the code bytes at RIP (translated through the
 * guest's page tables) to @out, like QEMU does on an emulation failure.
 */
void x86_vcpu_dump(FILE *out, int vcpu_fd, const struct addr_space *as);

#endif
