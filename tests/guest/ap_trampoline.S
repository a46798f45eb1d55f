/* SPDX-License-Identifier: MIT */
/*
 * ap_trampoline.S - real-mode start-up code of the application processors.
 *
 * The BSP copies [ap_tramp_start, ap_tramp_end) to a free RAM page below
 * 1 MiB and sends SIPI with that page's number.  Position independent within
 * the page: CS = page >> 4, offsets are relative to ap_tramp_start.  Loads the
 * guest's GDT, enters protected mode and jumps to ap_entry32 (entry.S), which
 * shares the BSP's path to long mode and ring 3.
 */
#include "lib/layout.h"

	.section .rodata.tramp, "a"
	.balign 16
	.globl ap_tramp_start, ap_tramp_end
	.code16
ap_tramp_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdtr - ap_tramp_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $ap_entry32

	.balign 8
	.word 0
tramp_gdtr:
	.word GDT_LIMIT
	.long gdt
ap_tramp_end:
	.code64
