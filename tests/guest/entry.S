/* SPDX-License-Identifier: MIT */
/*
 * entry.S - PVH entry of the kite test guest.
 *
 * Ring 0 is emulated (~1 us per instruction) on the nested-KVM machines kite
 * is tested on, so everything here is static data or straight-line code:
 *   - PVH note (Xen, XEN_ELFNOTE_PHYS32_ENTRY)
 *   - 32-bit entry: test=quit fast path, then long mode with static page
 *     tables (2 MiB pages, all user; 0..4 GiB static, 4..64 GiB filled in
 *     by ring 3 on demand: paging_map_high())
 *   - static GDT (one TSS per CPU), static IDT (256 gates), TSSs
 *   - iretq to ring 3: guest_main(start_info) / ap_main(cpu).  Port I/O
 *     from ring 3 is granted by the TSS I/O bitmap: the nested hypervisor
 *     runs ring 3 with IOPL 0 whatever RFLAGS says; cli/sti/kcall/halt are
 *     ud2 gates (INT n from ring 3 is not delivered either)
 * The descriptor fields that need a split address come from symbols the
 * linker script computes (__isr_lo, __tss_lo, ...).
 */
#include "lib/layout.h"

/* ------------------------------------------------------------------ */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4			/* namesz: "Xen\0" */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long _start32
	.balign 4

/* ------------------------------------------------------------------ */
	.section .text.entry, "ax"
	.code32
	.globl _start32
_start32:
	/* Fast path: command line starting with "test=quit" exits at once. */
	movl 24(%ebx), %esi		/* start_info->cmdline_paddr (low) */
	testl %esi, %esi
	jz 1f
	cmpl $0x74736574, (%esi)	/* "test" */
	jne 1f
	cmpl $0x6975713d, 4(%esi)	/* "=qui" */
	jne 1f
	cmpb $'t', 8(%esi)
	jne 1f
	movb 9(%esi), %al
	testb %al, %al
	jz 2f
	cmpb $' ', %al
	jne 1f
2:	xorl %eax, %eax
	movw $0x501, %dx
	outb %al, %dx
3:	cli
	hlt
	jmp 3b

1:	lgdt gdt_ptr
	xorl %esi, %esi			/* BSP */

	/* Common 32-bit -> 64-bit path; %esi = 0 (BSP, %ebx = start_info) or 1 (AP). */
long_mode_common:
	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER */
	rdmsr
	orl $0x100, %eax		/* LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG | PE */
	movl %eax, %cr0
	ljmp $SEL_KCODE64, $entry64

	/* APs arrive here from ap_trampoline.S (protected mode, our GDT). */
	.globl ap_entry32
ap_entry32:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl $1, %esi
	jmp long_mode_common

	.code64
entry64:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	lidt idt_ptr
	testl %esi, %esi
	jnz ap64

	/* BSP: cpu 0 */
	movw $SEL_TSS0, %ax
	ltr %ax
	movq $kstacks + KSTACK_SIZE, %rsp
	pushq $USER_RFLAGS		/* IOPL 3 before iretq too: some emulators */
	popfq				/* keep the old IOPL on iretq */
	movl %ebx, %edi			/* guest_main(start_info) */
	pushq $SEL_UDATA3
	pushq $bsp_ustack + BSP_USTACK_SIZE
	pushq $USER_RFLAGS
	pushq $SEL_UCODE3
	pushq $bsp_ring3
	iretq

ap64:
	movl $1, %eax
	lock xaddl %eax, ap_next
	incl %eax			/* cpu index (BSP is 0) */
	cmpl $GUEST_MAX_CPUS, %eax
	jae halt_forever
	movl %eax, %edi
	movl %eax, %ecx
	shll $4, %ecx
	addl $SEL_TSS0, %ecx
	ltr %cx
	movl %edi, %eax
	shll $KSTACK_SHIFT, %eax
	leaq kstacks + KSTACK_SIZE(%rax), %rsp
	pushq $USER_RFLAGS
	popfq
	movl %edi, %eax
	shll $USTACK_SHIFT, %eax
	leaq ap_ustacks(%rax), %rdx	/* slot 0 unused: cpu N uses [N*S, (N+1)*S) */
	addq $USTACK_SIZE, %rdx
	pushq $SEL_UDATA3
	pushq %rdx
	pushq $USER_RFLAGS
	pushq $SEL_UCODE3
	pushq $ap_ring3
	iretq

	.globl halt_forever
halt_forever:
	cli
	hlt
	jmp halt_forever

/* ------------------------------------------------------------------ */
	.text
	/* Ring 3, BSP: zero .bss (the stacks live outside it), run the guest. */
bsp_ring3:
	movl %edi, %ebx
	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	cld
	rep stosb
	movl %ebx, %edi
	call guest_main
	jmp gate_halt

	/* Ring 3, AP: %edi = cpu index. */
ap_ring3:
	call ap_main
	jmp gate_halt

/* ------------------------------------------------------------------ */
/* Interrupt stubs: 256 stubs of 16 bytes each, page aligned (the IDT below
 * is static and computes stub v at isr_stubs + 16 * v).  Each is at most
 * push imm8 (2) + push imm32 (5) + jmp rel32 (5) = 12 bytes. */
	.section .text.isr, "ax"
	.balign 4096
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if vec == 6
	jmp isr_ud			/* #UD: gates from ring 3, or a real #UD */
	.else
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0			/* no CPU error code: push a dummy */
	.endif
	pushq $vec
	jmp isr_common
	.endif
	.set vec, vec + 1
	.endr

	.text
	/* Stack: vector, error, rip, cs, rflags, rsp, ss. */
isr_common:
	cmpq $32, (%rsp)
	jb isr_exception
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq 72(%rsp), %rdi		/* vector */
	cld
	call irq_dispatch		/* ring 0, C: keep handlers tiny */
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp
	iretq

	/* CPU exception: report it from ring 3 on a dedicated stack. */
isr_exception:
	movq (%rsp), %rdi		/* vector */
	movq 8(%rsp), %rdx		/* error code */
	movq 16(%rsp), %rsi		/* rip */
	movq %cr2, %rcx
	movq 24(%rsp), %r8		/* cs */
	movq 40(%rsp), %r9		/* rsp */
	pushq $SEL_UDATA3
	pushq $exc_ustack + EXC_USTACK_SIZE - 8
	pushq $USER_RFLAGS
	pushq $SEL_UCODE3
	pushq $exception_report
	iretq

	/*
	 * Ring-3 -> ring-0 gates.  The nested hypervisor cannot deliver INT n
	 * from ring 3 (it raises #UD), nor does ring 3 get IOPL 3, so ring 3
	 * enters ring 0 with a ud2 at one of these addresses: the #UD handler
	 * recognises the address, does the job and returns past the ud2.
	 *   call gate_kcall   %rax = ((long (*)(long))%rax)(%rdi) in ring 0;
	 *                     only %rax changes
	 *   call gate_sti     set IF        call gate_cli   clear IF
	 *   call gate_halt    cli; hlt forever
	 */
	.globl gate_kcall, gate_sti, gate_cli, gate_halt
gate_kcall:
	ud2
	ret
gate_sti:
	ud2
	ret
gate_cli:
	ud2
	ret
gate_halt:
	ud2
	jmp gate_halt

	/* Stack: rip, cs, rflags, rsp, ss (no error code for #UD). */
isr_ud:
	cmpq $gate_kcall, (%rsp)
	je isr_kcall
	cmpq $gate_sti, (%rsp)
	je 1f
	cmpq $gate_cli, (%rsp)
	je 2f
	cmpq $gate_halt, (%rsp)
	je halt_forever
	pushq $0
	pushq $6
	jmp isr_common
1:	orq $0x200, 16(%rsp)
	addq $2, (%rsp)
	iretq
2:	andq $~0x200, 16(%rsp)
	addq $2, (%rsp)
	iretq

isr_kcall:
	addq $2, (%rsp)
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	subq $8, %rsp
	cld
	call *%rax
	addq $8, %rsp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	iretq

/* ------------------------------------------------------------------ */
	.data
	.balign 16
	.globl gdt, gdt_end
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 kernel code 64 */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
	.quad 0x00cf9a000000ffff	/* 0x18 kernel code 32 */
	.quad 0x00cff2000000ffff	/* 0x20 user data */
	.quad 0x00affa000000ffff	/* 0x28 user code 64 */
	.set cpu, 0
	.rept GUEST_MAX_CPUS		/* 0x30 + 16 * cpu: TSS of cpu */
	.word 4096 - 128 * cpu + 8192	/* limit: through the I/O bitmap's 0xff */
	.word __tss_lo + 128 * cpu
	.byte __tss_b2
	.byte 0x89
	.byte 0
	.byte __tss_b3
	.long __tss_hi
	.long 0
	.set cpu, cpu + 1
	.endr
gdt_end:

	.balign 16
	.word 0
	.globl gdt_ptr
gdt_ptr:
	.word GDT_LIMIT
	.quad gdt

	.balign 16
	.word 0
idt_ptr:
	.word 256 * 16 - 1
	.quad idt

	.balign 16
	.globl idt
idt:
	.set vec, 0
	.rept 256
	.word __isr_lo + 16 * vec
	.word SEL_KCODE64
	.byte 0
	.byte 0x8e			/* interrupt gate, DPL 0 */
	.word __isr_mid
	.long __isr_hi
	.long 0
	.set vec, vec + 1
	.endr

	/* One 104-byte TSS per CPU in 128-byte slots, page aligned, then the
	 * I/O bitmap they share (iomap offset 4096 - 128 * cpu). */
	.balign 4096
	.globl tss
tss:
	.set cpu, 0
	.rept GUEST_MAX_CPUS
	.long 0
	.quad kstacks + KSTACK_SIZE * (cpu + 1)	/* rsp0 */
	.fill 102 - 12, 1, 0
	.word 4096 - 128 * cpu		/* I/O bitmap offset: the shared bitmap */
	.fill 128 - 104, 1, 0
	.set cpu, cpu + 1
	.endr
	/* Shared I/O permission bitmap: every port allowed in ring 3.  IOPL 3
	 * alone is not enough here: the nested hypervisor runs ring 3 with
	 * IOPL 0 whatever iretq/popf set. */
	.if . - tss - 4096
	.error "TSS array must be exactly one page"
	.endif
io_bitmap:
	.fill 8192, 1, 0
	.byte 0xff

	/* Page tables: identity map of 0..64 GiB, present, writable, user,
	 * 2 MiB pages.  The PDs above 4 GiB live in .stack (zero, not loaded). */
	.balign 4096
	.globl pml4
pml4:
	.quad pdpt + 0x7
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + 0x7
	.quad pd + 0x1000 + 0x7
	.quad pd + 0x2000 + 0x7
	.quad pd + 0x3000 + 0x7
	.set i, 0
	.rept 60			/* 4..64 GiB: filled by ring 3 on demand */
	.quad pd_high + 4096 * i + 0x7	/* (paging_map_high); 1 GiB pages are */
	.set i, i + 1			/* not supported by the nested MMU */
	.endr
	.fill 512 - 64, 8, 0
pd:					/* 2 MiB pages below 4 GiB */
	.set i, 0
	.rept 2048
	.quad (i << 21) | 0x87
	.set i, i + 1
	.endr

	.globl ap_next
ap_next:
	.long 0				/* APs started so far (lock xadd) */

/* ------------------------------------------------------------------ */
	.section .stack, "aw", @nobits
	.balign 4096
	.globl kstacks
kstacks:
	.skip KSTACK_SIZE * GUEST_MAX_CPUS
	.globl bsp_ustack
bsp_ustack:
	.skip BSP_USTACK_SIZE
	.globl ap_ustacks
ap_ustacks:
	.skip USTACK_SIZE * GUEST_MAX_CPUS
exc_ustack:
	.skip EXC_USTACK_SIZE
	.balign 4096
	.globl pd_high
pd_high:				/* page directories for 4..64 GiB */
	.skip 60 * 4096

	.data
	.if gdt_end - gdt - 1 - GDT_LIMIT
	.error "GDT_LIMIT does not match the GDT"
	.endif
