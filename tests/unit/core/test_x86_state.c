// SPDX-License-Identifier: MIT
/*
 * Saving and restoring the x86 state KVM holds (arch/x86/state.h).
 *
 * The KVM tests (selftest style, they need /dev/kvm and fail without it): a
 * 32-bit guest, written here byte by byte, programs the in-kernel PIC, PIT,
 * IOAPIC and LAPIC, then loops "counter++, ebx++, out counter to port
 * 0x510".  After a few exits its vCPU and VM state are saved, encoded,
 * decoded, and restored into a second, fresh VM with a copy of the memory:
 * the state read back must equal the saved one, and the guest must go on
 * counting from where the first VM stopped.
 *
 * The codec tests need no KVM: every truncation, a bad count, a bad size and
 * a wrong version must be refused with a message, never a crash.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/cpu.h"
#include "arch/x86/platform/platform.h"
#include "arch/x86/state.h"
#include "kvm/kvm.h"
#include "harness.h"

#define RAM_SIZE	(2u << 20)
#define CODE_GPA	0x1000u
#define COUNTER_GPA	0x2000u
#define OUT_PORT	0x510
#define JMP_OFFSET	0x3f	/* the instruction after the OUT */
#define MSR_IA32_TSC	0x10
#define MSR_LSTAR	0xc0000082
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_PAT		0x277
#define APIC_TPR	0x80
#define APIC_TMCCT	0x390

/* 32-bit protected mode, flat segments (kite's PVH entry state). */
static const uint8_t guest_code[] = {
	0xb0, 0xfb, 0xe6, 0x21,			/* PIC master IMR = 0xfb */
	0xb0, 0xb6, 0xe6, 0x43,			/* PIT ch 2: lo/hi, mode 3 */
	0xb0, 0x34, 0xe6, 0x42, 0xb0, 0x12, 0xe6, 0x42,	/* count 0x1234 */
	0xc7, 0x05, 0x00, 0x00, 0xc0, 0xfe, 0x1a, 0x00, 0x00, 0x00, /* IOREGSEL = pin 5 */
	0xc7, 0x05, 0x10, 0x00, 0xc0, 0xfe, 0x35, 0x00, 0x01, 0x00, /* masked, vector 0x35 */
	0xc7, 0x05, 0x80, 0x00, 0xe0, 0xfe, 0x20, 0x00, 0x00, 0x00, /* LAPIC TPR = 0x20 */
	0x66, 0xba, 0x10, 0x05,			/* mov $0x510, %dx */
	/* loop (0x32): */
	0xff, 0x05, 0x00, 0x20, 0x00, 0x00,	/* incl 0x2000 */
	0x43,					/* inc %ebx */
	0xa1, 0x00, 0x20, 0x00, 0x00,		/* mov 0x2000, %eax */
	0xef,					/* out %eax, (%dx) */
	0xeb, 0xf1,				/* jmp loop */
};

struct test_vm {
	struct kvm_sys kvm;
	int vm_fd, vcpu_fd;
	struct kvm_run *run;
	uint8_t *ram;
	struct x86_state_caps caps;
};

static bool have_kvm(void)
{
	if (access("/dev/kvm", R_OK | W_OK)) {
		harness_fail(__FILE__, __LINE__, "/dev/kvm is missing or not accessible: "
			     "this test needs KVM");
		return false;
	}
	return true;
}

static int vcpu_set_cpuid(struct test_vm *t)
{
	struct kvm_cpuid2 *cpuid;
	unsigned int cap;
	int ret = kvm_supported_cpuid(&t->kvm, &cpuid, &cap);

	if (ret)
		return ret;
	ret = x86_cpuid_filter(cpuid, cap, 0, 1);
	if (!ret)
		ret = kvm_vcpu_set_cpuid(t->vcpu_fd, cpuid);
	free(cpuid);
	return ret;
}

/* A VM as kite builds one (irqchip, PIT), RAM at 0, one vCPU with kite's
 * CPUID; @boot: also kite's power-on vCPU setup at the guest code. */
static int vm_open(struct test_vm *t, bool boot)
{
	struct x86_boot_entry entry = { .mode = X86_ENTRY_PVH32, .rip = CODE_GPA };
	int ret = kvm_sys_open(&t->kvm, "/dev/kvm");

	if (ret)
		return ret;
	t->vm_fd = kvm_vm_create(&t->kvm);
	if (t->vm_fd < 0)
		return t->vm_fd;
	ret = kvm_vm_setup_x86(t->vm_fd);
	t->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ret && t->ram == MAP_FAILED)
		ret = -ENOMEM;
	if (!ret)
		ret = kvm_vm_set_memory(t->vm_fd, 0, 0, RAM_SIZE, t->ram, 0);
	if (!ret)
		ret = t->vcpu_fd = kvm_vcpu_create(t->vm_fd, 0);
	if (ret < 0)
		return ret;
	t->run = mmap(NULL, (size_t)t->kvm.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      t->vcpu_fd, 0);
	if (t->run == MAP_FAILED)
		return -ENOMEM;
	ret = vcpu_set_cpuid(t);
	if (!ret)
		ret = x86_state_probe(t->kvm.fd, t->vm_fd, &t->caps);
	if (!ret && boot)
		ret = x86_vcpu_setup_common(t->vcpu_fd);
	if (!ret && boot)
		ret = x86_vcpu_setup_boot(t->vcpu_fd, &entry);
	return ret;
}

static void vm_close(struct test_vm *t)
{
	if (t->run && t->run != MAP_FAILED)
		munmap(t->run, (size_t)t->kvm.vcpu_mmap_size);
	if (t->ram && t->ram != MAP_FAILED)
		munmap(t->ram, RAM_SIZE);
	if (t->vcpu_fd >= 0)
		close(t->vcpu_fd);
	if (t->vm_fd >= 0)
		close(t->vm_fd);
	kvm_sys_close(&t->kvm);
}

/* Before vm_open(): vm_close() is safe on it however far vm_open() got. */
static void vm_init(struct test_vm *t)
{
	memset(t, 0, sizeof(*t));
	t->kvm.fd = t->vm_fd = t->vcpu_fd = -1;
}

/* Run to the guest's next OUT to OUT_PORT; returns the value, -1 on anything else. */
static int64_t run_to_out(struct test_vm *t)
{
	for (int i = 0; i < 100; i++) {
		if (kvm_vcpu_run(t->vcpu_fd))
			return -1;
		if (t->run->exit_reason == KVM_EXIT_IO && t->run->io.port == OUT_PORT &&
		    t->run->io.direction == KVM_EXIT_IO_OUT && t->run->io.size == 4) {
			uint32_t v;

			memcpy(&v, (uint8_t *)t->run + t->run->io.data_offset, 4);
			return v;
		}
		if (t->run->exit_reason != KVM_EXIT_INTR) {
			printf("# unexpected exit %u\n", t->run->exit_reason);
			return -1;
		}
	}
	return -1;
}

static const struct kvm_msr_entry *find_msr(const struct x86_vcpu_state *s, uint32_t index)
{
	for (uint32_t i = 0; i < s->nr_msrs; i++)
		if (s->msrs[i].index == index)
			return &s->msrs[i];
	return NULL;
}

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &l->regs[off], sizeof(v));
	return v;
}

/* Host-side state the guest cannot set itself: MSRs, DRs, XMM0, XCR0. */
static int dirty_vcpu(struct test_vm *t)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[3];
	} m = { .hdr.nmsrs = 3, .e = {
		{ .index = MSR_LSTAR, .data = 0xffffffff81000000ULL },
		{ .index = MSR_KERNEL_GS_BASE, .data = 0x123456789000ULL },
		{ .index = MSR_PAT, .data = 0x0007010600070106ULL },
	} };
	struct kvm_debugregs dr = { .db = { 0x1000, 0x2000, 0x3000, 0x4000 },
				    .dr6 = 0xffff0ff0, .dr7 = 0x400 };
	struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = 3 } } };
	int ret = kvm_vcpu_set_msrs(t->vcpu_fd, &m.hdr);

	if (!ret)
		ret = kvm_vcpu_set_debugregs(t->vcpu_fd, &dr);
	if (!ret && t->caps.xsave) {
		uint8_t *xs = aligned_alloc(64, X86_XSAVE_MAX);

		ret = xs ? kvm_vcpu_get_xsave(t->vcpu_fd, (struct kvm_xsave *)(void *)xs,
					      t->caps.xsave2) : -ENOMEM;
		if (!ret) {
			memset(xs + 160, 0x5a, 16);	/* XMM0 in the legacy region */
			xs[512] |= 2;	/* XSTATE_BV.SSE, else XMM0 loads as zero */
			ret = kvm_vcpu_set_xsave(t->vcpu_fd, (struct kvm_xsave *)(void *)xs);
		}
		free(xs);
	}
	if (!ret && t->caps.xcrs)
		ret = kvm_vcpu_set_xcrs(t->vcpu_fd, &xcrs);
	return ret;
}

/* What the first VM left: checks that the save saw the guest's doing. */
static void check_saved(const struct x86_vcpu_state *s, const struct x86_vm_state *v,
			uint32_t count)
{
	CHECK_EQ(s->regs.rbx, count);
	CHECK_EQ(s->regs.rip, CODE_GPA + JMP_OFFSET);
	CHECK_EQ(s->sregs.cr0 & 1, 1);			/* protected mode */
	CHECK(find_msr(s, MSR_IA32_TSC) != NULL);
	CHECK(find_msr(s, MSR_LSTAR) && find_msr(s, MSR_LSTAR)->data == 0xffffffff81000000ULL);
	CHECK(find_msr(s, MSR_PAT) && find_msr(s, MSR_PAT)->data == 0x0007010600070106ULL);
	CHECK(find_msr(s, 0x2ff) != NULL);		/* MTRRdefType: probed */
	CHECK_EQ(s->debugregs.db[2], 0x3000);
	CHECK_EQ(lapic_reg(&s->lapic, APIC_TPR), 0x20);
	if (s->flags & X86_VCPU_STATE_XSAVE)
		CHECK_EQ(s->xsave[160], 0x5a);
	CHECK_EQ(v->flags, X86_VM_STATE_IRQCHIP | X86_VM_STATE_PIT | X86_VM_STATE_CLOCK);
	CHECK_EQ(v->pic[0].imr, 0xfb);
	CHECK_EQ(v->ioapic.redirtbl[5].bits, 0x10035);
	CHECK_EQ(v->pit.channels[2].count, 0x1234);
	CHECK_EQ(v->pit.channels[2].mode, 3);
}

/*
 * A restored state read back equals the saved one but for what KVM
 * recomputes: IA32_TSC has moved on (checked apart), the LAPIC's current
 * count is computed at read time, a PIT channel's count_load_time is the
 * host's clock when KVM_SET_PIT2 reloaded it, and kvmclock has moved on.
 */
static void check_readback_vcpu(const struct x86_vcpu_state *a, const struct x86_vcpu_state *b)
{
	struct kvm_lapic_state la = a->lapic, lb = b->lapic;

	CHECK(!memcmp(&a->regs, &b->regs, sizeof(a->regs)));
	CHECK(!memcmp(&a->sregs, &b->sregs, sizeof(a->sregs)));
	CHECK_EQ(a->flags, b->flags);
	CHECK_EQ(a->xsave_size, b->xsave_size);
	CHECK(!memcmp(a->xsave, b->xsave, a->xsave_size));
	CHECK(!memcmp(&a->fpu, &b->fpu, sizeof(a->fpu)));
	CHECK(!memcmp(&a->xcrs, &b->xcrs, sizeof(a->xcrs)));
	CHECK_EQ(a->nr_msrs, b->nr_msrs);
	for (uint32_t i = 0; i < a->nr_msrs; i++) {
		CHECK_EQ(a->msrs[i].index, b->msrs[i].index);
		if (a->msrs[i].index != MSR_IA32_TSC && a->msrs[i].data != b->msrs[i].data) {
			printf("# MSR 0x%x: 0x%llx read back as 0x%llx\n", a->msrs[i].index,
			       (unsigned long long)a->msrs[i].data,
			       (unsigned long long)b->msrs[i].data);
			CHECK(0);
		}
	}
	memset(&la.regs[APIC_TMCCT], 0, 4);
	memset(&lb.regs[APIC_TMCCT], 0, 4);
	CHECK(!memcmp(&la, &lb, sizeof(la)));
	CHECK(!memcmp(&a->events, &b->events, sizeof(a->events)));
	CHECK_EQ(a->mp_state.mp_state, b->mp_state.mp_state);
	CHECK(!memcmp(&a->debugregs, &b->debugregs, sizeof(a->debugregs)));
}

static void check_readback_vm(const struct x86_vm_state *a, const struct x86_vm_state *b)
{
	CHECK_EQ(a->flags, b->flags);
	CHECK(!memcmp(a->pic, b->pic, sizeof(a->pic)));
	CHECK(!memcmp(&a->ioapic, &b->ioapic, sizeof(a->ioapic)));
	CHECK_EQ(a->pit.flags, b->pit.flags);
	for (int i = 0; i < 3; i++) {
		struct kvm_pit_channel_state ca = a->pit.channels[i], cb = b->pit.channels[i];

		ca.count_load_time = cb.count_load_time = 0;
		CHECK(!memcmp(&ca, &cb, sizeof(ca)));
	}
	/* kvmclock goes on from the saved value: the pause does not count. */
	CHECK(b->clock.clock >= a->clock.clock);
	CHECK(b->clock.clock - a->clock.clock < 1000000000ULL);
}

/* The guest TSC after the restore is the saved one plus the restore's time. */
static void check_tsc_continuous(const struct x86_vcpu_state *saved,
				 const struct x86_vcpu_state *now)
{
	uint64_t hz = saved->tsc_khz ? saved->tsc_khz * 1000ULL : 10000000000ULL;
	const struct kvm_msr_entry *ea = find_msr(saved, MSR_IA32_TSC);
	const struct kvm_msr_entry *eb = find_msr(now, MSR_IA32_TSC);
	uint64_t a, b;

	CHECK(ea && eb);
	a = ea->data;
	b = eb->data;
	printf("# TSC saved %llu, after restore %llu (+%llu cycles)\n", (unsigned long long)a,
	       (unsigned long long)b, (unsigned long long)(b - a));
	CHECK(b >= a);
	CHECK(b - a < hz / 10);		/* well under 100 ms of guest time */
}

static void check_codec_roundtrip(const struct x86_vcpu_state *s, const struct x86_vm_state *v,
				  struct x86_vcpu_state *tmp)
{
	struct x86_vm_state vm2;
	uint8_t *buf = NULL;
	size_t len = 0;

	CHECK_EQ(x86_vcpu_state_encode(s, &buf, &len), 0);
	CHECK_EQ(x86_vcpu_state_decode(buf, len, tmp), 0);
	free(buf);
	CHECK(!memcmp(s, tmp, sizeof(*s)));	/* KVM zeroes all padding it returns */
	CHECK_EQ(x86_vm_state_encode(v, &buf, &len), 0);
	CHECK_EQ(x86_vm_state_decode(buf, len, &vm2), 0);
	free(buf);
	CHECK(!memcmp(v, &vm2, sizeof(*v)));
}

struct states {
	bool legacy_tsc;	/* restore the TSC by IA32_TSC, not the offset */
	struct test_vm a, b;
	struct x86_vcpu_state saved, decoded, readback;
	struct x86_vm_state vm_saved, vm_readback;
};

/* Run the first VM for 5 exits and save it (and check the codec on it). */
static void run_and_save(struct states *st)
{
	struct test_vm *a = &st->a;

	if (vm_open(a, true) || dirty_vcpu(a)) {
		printf("# %s\n", err_msg());
		CHECK(0);
	}
	memcpy(a->ram + CODE_GPA, guest_code, sizeof(guest_code));
	for (uint32_t i = 1; i <= 5; i++)
		CHECK_EQ(run_to_out(a), i);
	/* The OUT is complete (RIP past it) only once KVM_RUN has seen it back. */
	CHECK_EQ(kvm_vcpu_complete_io(a->vcpu_fd, a->run), 0);
	CHECK_EQ(x86_vcpu_state_save(a->vcpu_fd, &a->caps, &st->saved), 0);
	CHECK_EQ(x86_vm_state_save(a->vm_fd, &st->vm_saved), 0);
	check_saved(&st->saved, &st->vm_saved, 5);
	printf("# %u MSRs saved, XSAVE %u bytes, SREGS2 %d, TSC %u kHz, TSC offset attr %d\n",
	       st->saved.nr_msrs, st->saved.xsave_size, a->caps.sregs2, st->saved.tsc_khz,
	       kvm_vcpu_has_tsc_offset(a->vcpu_fd));
	check_codec_roundtrip(&st->saved, &st->vm_saved, &st->decoded);
}

/* A fresh VM (never run, no kite vCPU setup) with the same memory, restored. */
static void restore_and_resume(struct states *st)
{
	struct test_vm *b = &st->b;

	if (vm_open(b, false)) {
		printf("# %s\n", err_msg());
		CHECK(0);
	}
	memcpy(b->ram, st->a.ram, RAM_SIZE);
	if (st->legacy_tsc)
		b->caps.tsc_offset = false;
	if (x86_vm_state_restore(b->vm_fd, &st->vm_saved) ||
	    x86_vcpu_state_restore(b->vcpu_fd, &b->caps, &st->decoded)) {
		printf("# %s\n", err_msg());
		CHECK(0);
	}
	CHECK_EQ(x86_vcpu_state_save(b->vcpu_fd, &b->caps, &st->readback), 0);
	CHECK_EQ(x86_vm_state_save(b->vm_fd, &st->vm_readback), 0);
	check_readback_vcpu(&st->saved, &st->readback);
	check_readback_vm(&st->vm_saved, &st->vm_readback);
	check_tsc_continuous(&st->saved, &st->readback);
	/* The guest resumes at the saved RIP: the counter goes on from 5. */
	for (uint32_t i = 6; i <= 8; i++)
		CHECK_EQ(run_to_out(b), i);
	CHECK_EQ(kvm_vcpu_get_regs(b->vcpu_fd, &st->readback.regs), 0);
	CHECK_EQ(st->readback.regs.rbx, 8);
}

static void save_restore_resume(bool legacy_tsc)
{
	struct states *st;

	if (!have_kvm())
		return;
	st = calloc(1, sizeof(*st));
	CHECK(st);
	st->legacy_tsc = legacy_tsc;
	vm_init(&st->a);
	vm_init(&st->b);
	run_and_save(st);
	if (!harness_cur_failed)
		restore_and_resume(st);
	vm_close(&st->a);
	vm_close(&st->b);
	free(st);
}

static void restored_vm_continues_the_guest_counter_and_reads_back_equal(void)
{
	save_restore_resume(false);
}

/* Without KVM_VCPU_TSC_OFFSET: a first IA32_TSC write to a fresh VM is exact. */
static void restore_by_tsc_msr_write_also_keeps_the_tsc_continuous(void)
{
	save_restore_resume(true);
}

/* ---- codec, without KVM ---- */

static void fill_state(struct x86_vcpu_state *s, bool xsave)
{
	uint8_t *p = (uint8_t *)&s->regs;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < sizeof(s->regs); i++)
		p[i] = (uint8_t)(i * 7 + 1);
	s->sregs.cs = (struct kvm_segment){ .base = 0x1000, .limit = 0xffffffff,
		.selector = 8, .type = 11, .present = 1, .db = 1, .s = 1, .g = 1 };
	s->sregs.cr0 = 0x80000011;
	s->sregs.flags = 1;
	s->sregs.pdptrs[3] = 0xabc000;
	s->tsc_khz = 2500000;
	if (xsave) {
		s->flags = X86_VCPU_STATE_XSAVE;
		s->xsave_size = X86_XSAVE_MIN;
		for (uint32_t i = 0; i < s->xsave_size; i++)
			s->xsave[i] = (uint8_t)(i ^ 0xa5);
		s->xcrs.nr_xcrs = 1;
		s->xcrs.xcrs[0].value = 7;
	} else {
		s->fpu.fcw = 0x37f;
		s->fpu.mxcsr = 0x1f80;
		s->fpu.xmm[15][15] = 0xee;
	}
	s->nr_msrs = 3;
	for (uint32_t i = 0; i < 3; i++)
		s->msrs[i] = (struct kvm_msr_entry){ .index = 0xc0000080 + i, .data = i * 3 };
	s->lapic.regs[APIC_TPR] = 0x20;
	s->events.exception.pending = 1;
	s->events.exception.nr = 14;
	s->events.exception_payload = 0xdead000;
	s->events.flags = 0x1d;
	s->mp_state.mp_state = KVM_MP_STATE_HALTED;
	s->debugregs.dr7 = 0x400;
}

static void codec_roundtrips_xsave_and_fpu_states_exactly(void)
{
	struct x86_vcpu_state *a = calloc(2, sizeof(*a)), *b = a + 1;
	uint8_t *buf = NULL;
	size_t len;

	CHECK(a);
	for (int xsave = 0; xsave < 2; xsave++) {
		fill_state(a, xsave);
		CHECK_EQ(x86_vcpu_state_encode(a, &buf, &len), 0);
		CHECK_EQ(x86_vcpu_state_decode(buf, len, b), 0);
		free(buf);
		CHECK(!memcmp(a, b, sizeof(*a)));
	}
	a->nr_msrs = X86_STATE_MAX_MSRS + 1;	/* the encoder refuses what it cannot decode */
	CHECK_EQ(x86_vcpu_state_encode(a, &buf, &len), -EINVAL);
	free(a);
}

/* Decode @len bytes of @buf; expect -EINVAL and a message containing @what. */
static int refused(const uint8_t *buf, size_t len, struct x86_vcpu_state *s, const char *what)
{
	err_clear();
	if (x86_vcpu_state_decode(buf, len, s) != -EINVAL || !strstr(err_msg(), what)) {
		printf("# decode of %zu bytes: \"%s\", expected \"%s\"\n", len, err_msg(), what);
		return 0;
	}
	return 1;
}

static void codec_refuses_every_truncation_bad_count_size_and_version(void)
{
	struct x86_vcpu_state *a = calloc(2, sizeof(*a)), *b = a + 1;
	uint8_t *buf = NULL, *big;
	size_t len, i;

	CHECK(a);
	fill_state(a, true);
	CHECK_EQ(x86_vcpu_state_encode(a, &buf, &len), 0);
	for (i = 0; i < len; i++)	/* every prefix: the header, then the length */
		CHECK(refused(buf, i, b, i < 24 ? "truncated" : "describes"));
	big = malloc(len + 1);
	CHECK(big);
	memcpy(big, buf, len);
	big[len] = 0;
	CHECK(refused(big, len + 1, b, "describes"));	/* a trailing byte */
	free(big);
	buf[16] = 0xff, buf[17] = 0xff;			/* nr_msrs 65535 */
	CHECK(refused(buf, len, b, "at most 512"));
	buf[16] = 4, buf[17] = 0;			/* one more MSR than there is */
	CHECK(refused(buf, len, b, "describes"));
	buf[16] = 3;
	buf[12] = 17;					/* 17 XCRs */
	CHECK(refused(buf, len, b, "XCRs"));
	buf[12] = 1;
	buf[8] = 100, buf[9] = 0;			/* a 100-byte XSAVE area */
	CHECK(refused(buf, len, b, "XSAVE area of 100 bytes"));
	buf[8] = 0x40, buf[9] = 0x10;			/* 4160: in range, not the data's */
	CHECK(refused(buf, len, b, "describes"));
	buf[8] = 0, buf[9] = 0x10;
	buf[6] = 0;					/* an XSAVE size without XSAVE */
	CHECK(refused(buf, len, b, "no XSAVE area"));
	buf[6] = 0x81;
	CHECK(refused(buf, len, b, "unknown flags"));
	buf[6] = 1;
	buf[4] = 2;
	CHECK(refused(buf, len, b, "layout version 2"));
	buf[4] = 1;
	buf[0] ^= 0xff;
	CHECK(refused(buf, len, b, "magic"));
	buf[0] ^= 0xff;
	CHECK_EQ(x86_vcpu_state_decode(buf, len, b), 0);	/* all undone */
	free(buf);
	free(a);
}

static void vm_codec_refuses_every_truncation_and_trailing_bytes(void)
{
	struct x86_vm_state a, b;
	uint8_t *buf = NULL, *big;
	size_t len, i;

	memset(&a, 0, sizeof(a));
	a.flags = X86_VM_STATE_IRQCHIP | X86_VM_STATE_CLOCK;
	a.pic[1].imr = 0xff;
	a.ioapic.redirtbl[23].bits = 0x1000000000010000ULL;
	a.pit.channels[0].count_load_time = -5;
	a.clock.clock = 123456789;
	CHECK_EQ(x86_vm_state_encode(&a, &buf, &len), 0);
	CHECK_EQ(x86_vm_state_decode(buf, len, &b), 0);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	for (i = 0; i < len; i++) {
		err_clear();
		CHECK_EQ(x86_vm_state_decode(buf, i, &b), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "truncated");
	}
	big = calloc(1, len + 1);
	CHECK(big);
	memcpy(big, buf, len);
	CHECK_EQ(x86_vm_state_decode(big, len + 1, &b), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "trailing");
	free(big);
	buf[4] = 9;
	CHECK_EQ(x86_vm_state_decode(buf, len, &b), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "layout version 9");
	buf[4] = 1;
	buf[6] = 0x10;
	CHECK_EQ(x86_vm_state_decode(buf, len, &b), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "unknown flags");
	free(buf);
}

int main(void)
{
	RUN(codec_roundtrips_xsave_and_fpu_states_exactly);
	RUN(codec_refuses_every_truncation_bad_count_size_and_version);
	RUN(vm_codec_refuses_every_truncation_and_trailing_bytes);
	RUN(restored_vm_continues_the_guest_counter_and_reads_back_equal);
	RUN(restore_by_tsc_msr_write_also_keeps_the_tsc_continuous);
	return harness_done();
}
