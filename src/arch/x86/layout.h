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
 *   0x0009_f000  VM generation ID (16 bytes; the E820 map reserves from here)
 *   0x0009_fc00  EBDA: MP table
 *   0x000e_0000  ACPI tables (RSDP first), up to 0x000f_ffff
 *   0x0010_0000  high memory: kernel, then free RAM; initrd at the top of low RAM
 *   0xc000_0000  MMIO hole:
 *                  0xc000_0000 PCI 32-bit MMIO window (BARs), 256 MiB
 *                  0xd000_0000 virtio-mmio devices, 4 KiB apart
 *                  0xe000_0000 PCI ECAM (bus 0 only), 1 MiB
 *                  0xfec0_0000 IOAPIC, 0xfee0_0000 LAPIC
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
#define X86_VMGENID_ADDR	0x9f000ULL	/* 16 bytes, below the EBDA */
#define X86_LOW_RESERVED_START	X86_VMGENID_ADDR	/* E820: reserved up to 1 MiB */
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

/* PCI: the host bridge's windows and its configuration space. */
#define X86_PCI_MMIO_START	0xc0000000ULL
#define X86_PCI_MMIO_SIZE	0x10000000ULL
#define X86_PCI_ECAM_START	0xe0000000ULL
#define X86_PCI_ECAM_SIZE	0x100000ULL	/* bus 0: 32 devices x 8 functions x 4 KiB */
#define X86_PCI_CONFIG_ADDR	0xcf8		/* mechanism #1 */
#define X86_PCI_CONFIG_DATA	0xcfc
#define X86_PCI_INTX_GSI_BASE	16		/* INTA# of slot s -> GSI 16 + s % 8 (level) */
#define X86_PCI_INTX_GSIS	8

/* virtio-mmio: device i at X86_VIRTIO_MMIO_START + i * X86_VIRTIO_MMIO_STRIDE. */
#define X86_VIRTIO_MMIO_START	0xd0000000ULL
#define X86_VIRTIO_MMIO_STRIDE	0x1000ULL
#define X86_VIRTIO_MMIO_SIZE	0x200ULL	/* registers + config, per device */
#define X86_VIRTIO_MMIO_MAX	10		/* one ISA IRQ each (edge) */
/* ISA IRQs free for virtio-mmio devices (not the PIT, keyboard, COM1, RTC). */
#define X86_VIRTIO_MMIO_IRQS	{ 5, 6, 7, 9, 10, 11, 12, 13, 14, 15 }
/* The ACPI Generic Event Device's interrupt (edge, active high): ISA IRQ 3
 * (COM2's, and kite has no COM2), the one PC line no other device takes. */
#define X86_GED_GSI		3

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
