// SPDX-License-Identifier: MIT
#include "arch/x86/cpu.h"

#include <errno.h>
#include <string.h>

#include "kvm/kvm.h"

#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

#define MSR_IA32_TSC		0x10
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102

/* GDT descriptor: flags(12 bits: G DB L AVL in the top nibble, type/S/DPL/P). */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (uint64_t)(limit & 0x0000ffff);
}

static const uint64_t *boot_gdt(size_t *n)
{
	static uint64_t gdt[5];

	gdt[0] = 0;
	gdt[1] = gdt_entry(0xc09b, 0, 0xfffff);	/* 32-bit code */
	gdt[2] = gdt_entry(0xa09b, 0, 0xfffff);	/* 64-bit code */
	gdt[3] = gdt_entry(0xc093, 0, 0xfffff);	/* data */
	gdt[4] = gdt_entry(0x008b, 0, 0x67);	/* TSS (busy) */
	*n = 5;
	return gdt;
}

/* Identity map of the low 4 GiB with 2 MiB pages: PML4 -> PDPT -> 4 PDs. */
static int write_page_tables(const struct addr_space *as)
{
	static uint64_t pd[4 * 512];
	uint64_t pml4 = X86_PDPT | PTE_P | PTE_RW;
	uint64_t pdpt[4];
	unsigned int i;
	int ret;

	for (i = 0; i < 4; i++)
		pdpt[i] = (X86_PD + i * 0x1000ULL) | PTE_P | PTE_RW;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
	ret = as_copy_to(as, X86_PML4, &pml4, sizeof(pml4));
	if (!ret)
		ret = as_copy_to(as, X86_PDPT, pdpt, sizeof(pdpt));
	if (!ret)
		ret = as_copy_to(as, X86_PD, pd, sizeof(pd));
	if (ret)
		return err_set(ret, "cannot write boot page tables: guest RAM too small");
	return 0;
}

int x86_boot_memory_setup(const struct addr_space *as, enum x86_entry_mode mode)
{
	size_t n;
	const uint64_t *gdt = boot_gdt(&n);
	uint64_t idt = 0;

	if (as_copy_to(as, X86_BOOT_GDT, gdt, n * sizeof(*gdt)) ||
	    as_copy_to(as, X86_BOOT_IDT, &idt, sizeof(idt)))
		return err_set(-EFAULT, "cannot write the boot GDT: guest RAM too small");
	return mode == X86_ENTRY_LINUX64 ? write_page_tables(as) : 0;
}

static struct kvm_segment segment_from_gdt(uint64_t e, uint16_t sel)
{
	return (struct kvm_segment){
		.base = (uint32_t)(((e >> 16) & 0xffffff) | ((e >> 32) & 0xff000000)),
		.limit = (uint32_t)((e & 0xffff) | ((e >> 32) & 0xf0000)),
		.selector = sel,
		.type = (uint8_t)((e >> 40) & 0xf),
		.present = (uint8_t)((e >> 47) & 1),
		.dpl = (uint8_t)((e >> 45) & 3),
		.db = (uint8_t)((e >> 54) & 1),
		.s = (uint8_t)((e >> 44) & 1),
		.l = (uint8_t)((e >> 53) & 1),
		.g = (uint8_t)((e >> 55) & 1),
	};
}

static void boot_segments(struct kvm_sregs *s, enum x86_entry_mode mode)
{
	size_t n;
	const uint64_t *gdt = boot_gdt(&n);
	uint16_t cs_sel = mode == X86_ENTRY_PVH32 ? X86_SEL_CODE32 : X86_SEL_CODE64;
	struct kvm_segment data = segment_from_gdt(gdt[X86_SEL_DATA >> 3], X86_SEL_DATA);
	struct kvm_segment cs = segment_from_gdt(gdt[cs_sel >> 3], cs_sel);
	struct kvm_segment tss = segment_from_gdt(gdt[X86_SEL_TSS >> 3], X86_SEL_TSS);

	/* KVM wants the limit in bytes with granularity applied. */
	cs.limit = cs.g ? (cs.limit << 12) | 0xfff : cs.limit;
	data.limit = data.g ? (data.limit << 12) | 0xfff : data.limit;
	s->cs = cs;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
	s->gdt.base = X86_BOOT_GDT;
	s->gdt.limit = (uint16_t)(n * 8 - 1);
	s->idt.base = X86_BOOT_IDT;
	s->idt.limit = 7;
}

int x86_vcpu_setup_boot(int vcpu_fd, const struct x86_boot_entry *entry)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	int ret = kvm_vcpu_get_sregs(vcpu_fd, &s);

	if (ret)
		return ret;
	boot_segments(&s, entry->mode);
	s.cr0 = CR0_PE | CR0_ET | CR0_NE;
	s.cr4 = 0;
	s.efer = 0;
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	r.rip = entry->rip;
	if (entry->mode == X86_ENTRY_LINUX64) {
		s.cr3 = X86_PML4;
		s.cr4 |= CR4_PAE;
		s.cr0 |= CR0_PG;
		s.efer |= EFER_LME | EFER_LMA;
		r.rsi = entry->info_gpa;
		r.rsp = r.rbp = X86_BOOT_STACK;
	} else {
		r.rbx = entry->info_gpa;
	}
	ret = kvm_vcpu_set_sregs(vcpu_fd, &s);
	return ret ? ret : kvm_vcpu_set_regs(vcpu_fd, &r);
}

static int setup_msrs(int vcpu_fd)
{
	static const uint32_t zeroed[] = {
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
		MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
		MSR_IA32_TSC,
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[16];
	} m;
	unsigned int i, n = 0;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < sizeof(zeroed) / sizeof(zeroed[0]); i++)
		m.e[n++].index = zeroed[i];
	m.e[n].index = MSR_IA32_MISC_ENABLE;
	m.e[n++].data = 1;			/* fast strings */
	m.e[n].index = MSR_MTRR_DEF_TYPE;
	m.e[n++].data = (1u << 11) | 6;		/* MTRRs on, default write-back */
	m.hdr.nmsrs = n;
	return kvm_vcpu_set_msrs(vcpu_fd, &m.hdr);
}

#define APIC_LVT0	0x350
#define APIC_LVT1	0x360
#define APIC_MODE_NMI	0x4
#define APIC_MODE_EXTINT 0x7

static void lapic_set_lvt(struct kvm_lapic_state *l, unsigned int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, sizeof(v));
}

int x86_vcpu_setup_common(int vcpu_fd)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_lapic_state lapic;
	int ret = setup_msrs(vcpu_fd);

	if (!ret)
		ret = kvm_vcpu_set_fpu(vcpu_fd, &fpu);
	if (!ret)
		ret = kvm_vcpu_get_lapic(vcpu_fd, &lapic);
	if (ret)
		return ret;
	/* As on a PC: the PIC's output on LINT0, NMI on LINT1. */
	lapic_set_lvt(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_lvt(&lapic, APIC_LVT1, APIC_MODE_NMI);
	return kvm_vcpu_set_lapic(vcpu_fd, &lapic);
}
