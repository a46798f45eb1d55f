/* SPDX-License-Identifier: MIT */
/*
 * layout.h - kite's x86 guest-physical memory layout.
 *
 *   0x0000_0000  real-mode IVT/BDA (left zero)
 *   0x0000_0500  boot GDT (X86_BOOT_GDT), then an empty IDT
 *   0x0000_6000  PVH hvm_start_info, module list and memory map
 *   0x0000_7000  Linux zero page (struct boot_params)
 *   0x0000_9000  boot page tables: PML4, PDPT, 4 PDs (identity map of 4 GiB)
 *   0x0002_0000  kernel command line (X86_CMDLINE_MAX bytes)
 *   0x0009_fc00  EBDA: MP table
 *   0x000e_0000  ACPI tables (RSDP first), up to 0x000f_ffff
 *   0x0010_0000  high memory: kernel, then free RAM; initrd at the top of low RAM
 *   0xc000_0000  MMIO hole (IOAPIC 0xfec0_0000, LAPIC 0xfee0_0000, devices)
 *   0x1_0000_0000 RAM above the hole, for guests larger than 3 GiB
 */
#ifndef KITE_ARCH_X86_LAYOUT_H
#define KITE_ARCH_X86_LAYOUT_H

#include <stdint.h>

#define X86_BOOT_GDT		0x500ULL
#define X86_BOOT_IDT		0x520ULL
#define X86_PVH_INFO		0x6000ULL
#define X86_PVH_MODLIST		0x6040ULL
#define X86_PVH_MEMMAP		0x6080ULL
#define X86_PVH_MEMMAP_MAX	128
#define X86_ZERO_PAGE		0x7000ULL
#define X86_PML4		0x9000ULL
#define X86_PDPT		0xa000ULL
#define X86_PD			0xb000ULL	/* 4 pages */
#define X86_CMDLINE		0x20000ULL
#define X86_CMDLINE_MAX		0x10000ULL	/* including the NUL */
#define X86_EBDA_START		0x9fc00ULL
#define X86_MPTABLE		X86_EBDA_START
#define X86_BIOS_START		0xe0000ULL
#define X86_ACPI_START		X86_BIOS_START	/* RSDP here */
#define X86_ACPI_END		0x100000ULL
#define X86_HIMEM_START		0x100000ULL

#define X86_MMIO_HOLE_START	0xc0000000ULL
#define X86_MMIO_HOLE_END	0x100000000ULL
#define X86_IOAPIC_ADDR		0xfec00000ULL
#define X86_LAPIC_ADDR		0xfee00000ULL

/* Guest RAM: [0, low_end) and [4 GiB, 4 GiB + high_size). */
struct x86_ram_layout {
	uint64_t low_end;	/* <= X86_MMIO_HOLE_START */
	uint64_t high_size;	/* 0 when the guest fits below the hole */
};

/* Split @mem_size bytes of RAM around the MMIO hole. */
static inline struct x86_ram_layout x86_ram_layout(uint64_t mem_size)
{
	struct x86_ram_layout l;

	if (mem_size <= X86_MMIO_HOLE_START) {
		l.low_end = mem_size;
		l.high_size = 0;
	} else {
		l.low_end = X86_MMIO_HOLE_START;
		l.high_size = mem_size - X86_MMIO_HOLE_START;
	}
	return l;
}

/* Power management: ACPI hardware-reduced sleep control/status ports. */
#define X86_PM_SLEEP_CTL_PORT	0x600
#define X86_PM_SLEEP_STS_PORT	0x601
#define X86_PM_SLP_TYP_S5	5	/* the value in the DSDT's \_S5 */

#endif
