// SPDX-License-Identifier: MIT
/* Register and code dump for a guest that died, in QEMU's layout. */
#include "arch/x86/cpu.h"
#include "kvm/kvm.h"

static void dump_segment(FILE *out, const char *name, const struct kvm_segment *s)
{
	fprintf(out, "%-3s=%04x %016llx %08x type=%x dpl=%u p=%u db=%u l=%u g=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type,
		s->dpl, s->present, s->db, s->l, s->g);
}

static void dump_code(FILE *out, int vcpu_fd, const struct addr_space *as,
		      const struct kvm_regs *r, const struct kvm_sregs *s)
{
	uint8_t code[32];
	uint64_t linear = s->cs.base + r->rip - 16, gpa;
	unsigned int i;

	/* 16 bytes before RIP, 16 after; RIP's byte in <>. */
	if (kvm_vcpu_translate(vcpu_fd, linear, &gpa) ||
	    as_copy_from(as, code, gpa, sizeof(code))) {
		linear += 16;
		if (kvm_vcpu_translate(vcpu_fd, linear, &gpa) ||
		    as_copy_from(as, code + 16, gpa, 16)) {
			fprintf(out, "Code=<not in guest RAM>\n");
			return;
		}
		fprintf(out, "Code=");
		for (i = 16; i < 32; i++)
			fprintf(out, i == 16 ? "<%02x>" : " %02x", code[i]);
		fprintf(out, "\n");
		return;
	}
	fprintf(out, "Code=");
	for (i = 0; i < 32; i++)
		fprintf(out, i == 16 ? "<%02x> " : "%02x ", code[i]);
	fprintf(out, "\n");
}

void x86_vcpu_dump(FILE *out, int vcpu_fd, const struct addr_space *as)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (kvm_vcpu_get_regs(vcpu_fd, &r) || kvm_vcpu_get_sregs(vcpu_fd, &s)) {
		fprintf(out, "(registers unavailable: %s)\n", err_msg());
		return;
	}
	fprintf(out, "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n",
		r.rax, r.rbx, r.rcx, r.rdx);
	fprintf(out, "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n",
		r.rsi, r.rdi, r.rbp, r.rsp);
	fprintf(out, "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n",
		r.r8, r.r9, r.r10, r.r11);
	fprintf(out, "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n",
		r.r12, r.r13, r.r14, r.r15);
	fprintf(out, "RIP=%016llx RFL=%08llx\n", r.rip, r.rflags);
	dump_segment(out, "ES", &s.es);
	dump_segment(out, "CS", &s.cs);
	dump_segment(out, "SS", &s.ss);
	dump_segment(out, "DS", &s.ds);
	dump_segment(out, "FS", &s.fs);
	dump_segment(out, "GS", &s.gs);
	dump_segment(out, "TR", &s.tr);
	fprintf(out, "GDT=%016llx %08x IDT=%016llx %08x\n", s.gdt.base, s.gdt.limit,
		s.idt.base, s.idt.limit);
	fprintf(out, "CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx EFER=%016llx\n",
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	dump_code(out, vcpu_fd, as, &r, &s);
}
