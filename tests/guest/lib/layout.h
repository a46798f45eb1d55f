/* SPDX-License-Identifier: MIT */
/*
 * layout.h - constants shared by the assembly entry code and the C library of
 * the kite test guest: segment selectors, interrupt vectors, per-CPU sizes.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#define GUEST_MAX_CPUS		32	/* static TSS/stack slots; cpu 0 = BSP */

/* GDT selectors. */
#define SEL_KCODE64		0x08
#define SEL_KDATA		0x10
#define SEL_KCODE32		0x18
#define SEL_UDATA		0x20
#define SEL_UCODE64		0x28
#define SEL_TSS0		0x30	/* 16-byte descriptors, one per CPU */
#define GDT_LIMIT		(SEL_TSS0 + 16 * GUEST_MAX_CPUS - 1)
#define SEL_UDATA3		(SEL_UDATA | 3)
#define SEL_UCODE3		(SEL_UCODE64 | 3)

/* RFLAGS for ring-3 code: IOPL=3, IF=0.  The nested hypervisor runs ring 3
 * with IOPL 0 anyway, so port I/O is granted by the TSS I/O bitmap and
 * cli/sti go through ud2 gates (entry.S). */
#define USER_RFLAGS		0x3002

/* Interrupt vectors. */
#define VEC_IRQ_BASE		0x20	/* device interrupts: 0x20..0x7f */
#define VEC_GED			0x23	/* the ACPI Generic Event Device (test=identity) */
#define VEC_SERIAL		0x24
#define VEC_SPURIOUS		0xff

/* Stacks (bytes). */
#define KSTACK_SHIFT		12	/* 4 KiB ring-0 stack per CPU */
#define KSTACK_SIZE		(1 << KSTACK_SHIFT)
#define USTACK_SHIFT		14	/* 16 KiB ring-3 stack per AP */
#define USTACK_SIZE		(1 << USTACK_SHIFT)
#define BSP_USTACK_SIZE		0x10000	/* 64 KiB ring-3 stack for the BSP */
#define EXC_USTACK_SIZE		0x4000	/* ring-3 stack for exception reports */

/* PVH */
#define HVM_START_MAGIC		0x336ec578

#endif
