// SPDX-License-Identifier: MIT
/*
 * Capture and restore of the x86 state KVM holds (see state.h).
 *
 * Save order: KVM_GET_MP_STATE first, because it lets KVM process a pending
 * INIT or SIPI, which rewrites CS:RIP; everything read after it is then
 * consistent with the run state.  The rest is only read, in any order.
 *
 * Restore order, each step for the reason given (KVM's api.rst, and what
 * QEMU's and Firecracker's restores settled on):
 *   1. REGS        KVM_SET_REGS drops a pending exception, so it must come
 *                  before the events that carry one.
 *   2. SREGS(2)    control registers, EFER and the APIC base.  The APIC
 *                  base (xAPIC or x2APIC mode) decides how KVM_SET_LAPIC
 *                  reads the APIC ID; KVM_SET_SREGS may also force the run
 *                  state to RUNNABLE for a BSP at the reset vector, so the
 *                  MP state is set after it.
 *   3. XSAVE/FPU, then XCRS (as QEMU does; KVM checks both against the
 *                  CPUID, not against each other).
 *   4. LAPIC       after the APIC base; before IA32_TSC_DEADLINE, which KVM
 *                  ignores unless the LAPIC timer is in TSC-deadline mode.
 *   5. MSRs        in one batch, but for those in msr_late[] below.
 *   6. TSC         see tsc_restore().
 *   7. late MSRs   IA32_TSC_DEADLINE (armed against the final TSC) and the
 *                  async page fault enable (after its interrupt vector MSR).
 *   8. DEBUGREGS   independent of the rest.
 *   9. MP_STATE    after SREGS (above) and LAPIC (a SIPI is LAPIC state).
 *  10. EVENTS      last: pending exception/interrupt/NMI/SMI and the latched
 *                  INIT, on top of everything else (KVM refuses an INIT run
 *                  state once an INIT is latched, so MP_STATE precedes).
 *
 * MSR policy: the MSRs saved are KVM_GET_MSR_INDEX_LIST (msrs_to_save plus
 * the emulated ones: TSC, TSC_ADJUST, SYSENTER_*, STAR/LSTAR/CSTAR/FMASK,
 * KERNEL_GS_BASE, PAT, MISC_ENABLE, TSC_DEADLINE, the kvmclock, async PF,
 * steal time and PV EOI MSRs, ...), plus what that list leaves out but KVM
 * emulates per vCPU: the MTRRs (count from MTRRcap) and the MCE banks (count
 * from MCG_CAP).  Each candidate is kept only if KVM_GET_MSRS reads it on this
 * vCPU: probed, not hard-coded, so whatever this KVM lists but does not
 * emulate for this vCPU drops out, and a newer KVM's new MSRs come in by
 * themselves.  (KVM lets user space read most MSRs of features the guest's
 * CPUID lacks, as 0, and write them back as 0.)  EFER and the APIC base
 * travel in the sregs; MCG_CAP and MTRRcap are configuration, not state.
 */
#include "arch/x86/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"

#define MSR_IA32_TSC		0x10
#define MSR_MTRRcap		0xfe
#define MSR_IA32_MCG_CAP	0x179
#define MSR_MTRR_VAR_BASE	0x200
#define MSR_MTRR_FIX_64K	0x250
#define MSR_MTRR_FIX_16K	0x258	/* and 0x259 */
#define MSR_MTRR_FIX_4K		0x268	/* to 0x26f */
#define MSR_IA32_MC_CTL2	0x280
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_IA32_MC_BASE	0x400	/* 4 per bank: CTL, STATUS, ADDR, MISC */
#define MSR_IA32_TSC_DEADLINE	0x6e0
#define MSR_KVM_ASYNC_PF_EN	0x4b564d02
#define MCG_CMCI_P		(1ULL << 10)
#define MAX_VAR_MTRRS		32	/* sanity cap on MTRRcap.VCNT */
#define MAX_MCE_BANKS		32	/* KVM_MAX_MCE_BANKS */

static const struct {
	long cap;
	const char *name;
} state_required_caps[] = {
	{ KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS (pending exceptions and interrupts)" },
	{ KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ KVM_CAP_ADJUST_CLOCK, "KVM_CAP_ADJUST_CLOCK (KVM_GET/SET_CLOCK)" },
};

/*
 * Written after the TSC and every other MSR (see the restore order above):
 * the deadline is armed against the final TSC; the async PF enable comes
 * after MSR_KVM_ASYNC_PF_INT, so an enable never sees an unset vector.
 */
static const uint32_t msr_late[] = { MSR_IA32_TSC_DEADLINE, MSR_KVM_ASYNC_PF_EN };

int x86_state_probe(int kvm_fd, int vm_fd, struct x86_state_caps *caps)
{
	unsigned int i;
	int sz;

	memset(caps, 0, sizeof(*caps));
	for (i = 0; i < sizeof(state_required_caps) / sizeof(state_required_caps[0]); i++)
		if (!kvm_check_cap(vm_fd, state_required_caps[i].cap))
			return err_set(-ENOTSUP, "cannot save or restore VM state: "
				       "this KVM lacks %s", state_required_caps[i].name);
	caps->sregs2 = kvm_check_cap(vm_fd, KVM_CAP_SREGS2) > 0;
	caps->xsave = kvm_check_cap(vm_fd, KVM_CAP_XSAVE) > 0;
	if (caps->xsave) {
		/* KVM_CAP_XSAVE2 answers the area's size (0 on kernels before 5.17). */
		sz = kvm_check_cap(vm_fd, KVM_CAP_XSAVE2);
		caps->xsave2 = sz > 0;
		caps->xsave_size = sz > X86_XSAVE_MIN ? (uint32_t)sz : X86_XSAVE_MIN;
		if (caps->xsave_size > X86_XSAVE_MAX)
			return err_set(-ENOTSUP, "KVM's XSAVE area is %u bytes, more than "
				       "the %u kite can save", caps->xsave_size, X86_XSAVE_MAX);
		caps->xcrs = kvm_check_cap(vm_fd, KVM_CAP_XCRS) > 0;
	}
	caps->tsc_khz = kvm_check_cap(vm_fd, KVM_CAP_GET_TSC_KHZ) > 0;
	caps->tsc_offset = kvm_check_cap(vm_fd, KVM_CAP_VCPU_ATTRIBUTES) > 0;
	return kvm_msr_index_list(kvm_fd, caps->msrs, X86_STATE_MAX_MSRS, &caps->nr_msrs);
}

/* Read one MSR; false if KVM refuses it. */
static bool msr_read(int vcpu_fd, uint32_t index, uint64_t *value)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index };

	if (kvm_vcpu_get_msrs(vcpu_fd, &m.hdr) != 1) {
		err_clear();
		return false;
	}
	*value = m.e.data;
	return true;
}

struct msr_list {
	uint32_t n;
	uint32_t idx[X86_STATE_MAX_MSRS];
};

static int msr_list_add(struct msr_list *l, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		if (l->idx[i] == index)
			return 0;
	if (l->n == X86_STATE_MAX_MSRS)
		return err_set(-E2BIG, "more than %u MSRs to save", X86_STATE_MAX_MSRS);
	l->idx[l->n++] = index;
	return 0;
}

static int msr_list_add_range(struct msr_list *l, uint32_t first, uint32_t n)
{
	int ret = 0;

	for (uint32_t i = 0; i < n && !ret; i++)
		ret = msr_list_add(l, first + i);
	return ret;
}

/* The per-vCPU MSRs KVM emulates but leaves out of its index list. */
static int msr_list_add_unlisted(struct msr_list *l, int vcpu_fd)
{
	uint64_t cap;
	uint32_t n;
	int ret = 0;

	if (msr_read(vcpu_fd, MSR_MTRRcap, &cap)) {
		n = (uint32_t)(cap & 0xff);
		n = n < MAX_VAR_MTRRS ? n : MAX_VAR_MTRRS;
		ret = msr_list_add_range(l, MSR_MTRR_VAR_BASE, 2 * n);	/* base, mask */
		if (!ret)
			ret = msr_list_add(l, MSR_MTRR_FIX_64K);
		if (!ret)
			ret = msr_list_add_range(l, MSR_MTRR_FIX_16K, 2);
		if (!ret)
			ret = msr_list_add_range(l, MSR_MTRR_FIX_4K, 8);
		if (!ret)
			ret = msr_list_add(l, MSR_MTRR_DEF_TYPE);
	}
	/* MCG_CAP itself is configuration (KVM_X86_SETUP_MCE), not state. */
	if (!ret && msr_read(vcpu_fd, MSR_IA32_MCG_CAP, &cap)) {
		n = (uint32_t)(cap & 0xff);
		n = n < MAX_MCE_BANKS ? n : MAX_MCE_BANKS;
		ret = msr_list_add_range(l, MSR_IA32_MC_BASE, 4 * n);
		if (!ret && (cap & MCG_CMCI_P))
			ret = msr_list_add_range(l, MSR_IA32_MC_CTL2, n);
	}
	return ret;
}

/*
 * Read every candidate KVM accepts.  KVM_GET_MSRS stops at the first MSR it
 * refuses and says how many it read: keep those, skip the refused one, go on.
 */
static int msrs_read_accepted(int vcpu_fd, const struct msr_list *l, struct x86_vcpu_state *s)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + l->n * sizeof(m->entries[0]));
	uint32_t done = 0, i;
	int r = 0;

	if (!m)
		return err_set(-ENOMEM, "out of memory for MSRs");
	while (done < l->n) {
		m->nmsrs = l->n - done;
		for (i = 0; i < m->nmsrs; i++)
			m->entries[i] = (struct kvm_msr_entry){ .index = l->idx[done + i] };
		r = kvm_vcpu_get_msrs(vcpu_fd, m);
		if (r < 0)
			break;
		memcpy(&s->msrs[s->nr_msrs], m->entries, (size_t)r * sizeof(m->entries[0]));
		s->nr_msrs += (uint32_t)r;
		done += (uint32_t)r;
		if (done < l->n)
			done++;		/* the one KVM refused */
		r = 0;
	}
	free(m);
	return r;
}

static int save_msrs(int vcpu_fd, const struct x86_state_caps *caps, struct x86_vcpu_state *s)
{
	struct msr_list *l = calloc(1, sizeof(*l));
	uint32_t i;
	int ret = 0;

	if (!l)
		return err_set(-ENOMEM, "out of memory for MSRs");
	for (i = 0; i < caps->nr_msrs && !ret; i++)
		ret = msr_list_add(l, caps->msrs[i]);
	if (!ret)
		ret = msr_list_add_unlisted(l, vcpu_fd);
	if (!ret)
		ret = msrs_read_accepted(vcpu_fd, l, s);
	free(l);
	return ret;
}

/* Without SREGS2: the same fields, no PDPTRs (KVM reloads them from memory).
 * interrupt_bitmap is dropped: KVM reports that interrupt in the events too. */
static void sregs_to2(const struct kvm_sregs *a, struct kvm_sregs2 *b)
{
	b->cs = a->cs, b->ds = a->ds, b->es = a->es, b->fs = a->fs;
	b->gs = a->gs, b->ss = a->ss, b->tr = a->tr, b->ldt = a->ldt;
	b->gdt = a->gdt, b->idt = a->idt;
	b->cr0 = a->cr0, b->cr2 = a->cr2, b->cr3 = a->cr3, b->cr4 = a->cr4;
	b->cr8 = a->cr8, b->efer = a->efer, b->apic_base = a->apic_base;
	b->flags = 0;
}

static void sregs_from2(const struct kvm_sregs2 *b, struct kvm_sregs *a)
{
	memset(a, 0, sizeof(*a));
	a->cs = b->cs, a->ds = b->ds, a->es = b->es, a->fs = b->fs;
	a->gs = b->gs, a->ss = b->ss, a->tr = b->tr, a->ldt = b->ldt;
	a->gdt = b->gdt, a->idt = b->idt;
	a->cr0 = b->cr0, a->cr2 = b->cr2, a->cr3 = b->cr3, a->cr4 = b->cr4;
	a->cr8 = b->cr8, a->efer = b->efer, a->apic_base = b->apic_base;
}

static int save_sregs(int vcpu_fd, const struct x86_state_caps *caps, struct x86_vcpu_state *s)
{
	struct kvm_sregs old;
	int ret;

	if (caps->sregs2)
		return kvm_vcpu_get_sregs2(vcpu_fd, &s->sregs);
	ret = kvm_vcpu_get_sregs(vcpu_fd, &old);
	if (!ret)
		sregs_to2(&old, &s->sregs);
	return ret;
}

static int save_fpu(int vcpu_fd, const struct x86_state_caps *caps, struct x86_vcpu_state *s)
{
	int ret;

	if (!caps->xsave)
		return kvm_vcpu_get_fpu(vcpu_fd, &s->fpu);
	/* s->xsave is 64-byte aligned and X86_XSAVE_MAX >= caps->xsave_size. */
	ret = kvm_vcpu_get_xsave(vcpu_fd, (struct kvm_xsave *)(void *)s->xsave, caps->xsave2);
	if (!ret) {
		s->flags |= X86_VCPU_STATE_XSAVE;
		s->xsave_size = caps->xsave_size;
	}
	if (!ret && caps->xcrs)
		ret = kvm_vcpu_get_xcrs(vcpu_fd, &s->xcrs);
	return ret;
}

int x86_vcpu_state_save(int vcpu_fd, const struct x86_state_caps *caps,
			struct x86_vcpu_state *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	ret = kvm_vcpu_get_mp_state(vcpu_fd, &s->mp_state);	/* first: see the top */
	if (!ret)
		ret = kvm_vcpu_get_regs(vcpu_fd, &s->regs);
	if (!ret)
		ret = save_sregs(vcpu_fd, caps, s);
	if (!ret)
		ret = save_fpu(vcpu_fd, caps, s);
	if (!ret)
		ret = save_msrs(vcpu_fd, caps, s);
	if (!ret)
		ret = kvm_vcpu_get_lapic(vcpu_fd, &s->lapic);
	if (!ret)
		ret = kvm_vcpu_get_events(vcpu_fd, &s->events);
	if (!ret)
		ret = kvm_vcpu_get_debugregs(vcpu_fd, &s->debugregs);
	if (!ret && caps->tsc_khz) {
		ret = kvm_vcpu_get_tsc_khz(vcpu_fd);
		s->tsc_khz = ret > 0 ? (uint32_t)ret : 0;
		ret = ret < 0 ? ret : 0;
	}
	return ret ? err_prefix(ret, "saving vCPU state") : 0;
}

static int restore_sregs(int vcpu_fd, const struct x86_state_caps *caps,
			 const struct x86_vcpu_state *s)
{
	struct kvm_sregs old;

	if (caps->sregs2)
		return kvm_vcpu_set_sregs2(vcpu_fd, &s->sregs);
	sregs_from2(&s->sregs, &old);
	return kvm_vcpu_set_sregs(vcpu_fd, &old);
}

/*
 * KVM_SET_XSAVE reads exactly this host's XSAVE size.  A smaller saved area
 * is padded with zeros (components it lacks are absent from its XSTATE_BV
 * and come up in their initial state); a larger one fits only if the excess
 * is all zeros.
 */
static int restore_xsave(int vcpu_fd, const struct x86_state_caps *caps,
			 const struct x86_vcpu_state *s)
{
	uint32_t n = caps->xsave_size;
	uint8_t *buf;
	int ret;

	if (!caps->xsave)
		return err_set(-ENOTSUP, "the state has an XSAVE area, this KVM lacks "
			       "KVM_CAP_XSAVE");
	if (s->xsave_size == n)
		return kvm_vcpu_set_xsave(vcpu_fd, (const struct kvm_xsave *)(const void *)s->xsave);
	for (uint32_t i = n; i < s->xsave_size && i < X86_XSAVE_MAX; i++)
		if (s->xsave[i])
			return err_set(-ENOTSUP, "the XSAVE area uses %u bytes, this host's "
				       "holds %u", s->xsave_size, n);
	buf = aligned_alloc(64, n);
	if (!buf)
		return err_set(-ENOMEM, "out of memory for the XSAVE area");
	memset(buf, 0, n);
	memcpy(buf, s->xsave, s->xsave_size < n ? s->xsave_size : n);
	ret = kvm_vcpu_set_xsave(vcpu_fd, (const struct kvm_xsave *)(void *)buf);
	free(buf);
	return ret;
}

static int restore_fpu(int vcpu_fd, const struct x86_state_caps *caps,
		       const struct x86_vcpu_state *s)
{
	int ret;

	if (!(s->flags & X86_VCPU_STATE_XSAVE))
		return kvm_vcpu_set_fpu(vcpu_fd, &s->fpu);
	ret = restore_xsave(vcpu_fd, caps, s);
	if (ret || !s->xcrs.nr_xcrs)
		return ret;
	if (!caps->xcrs)
		return err_set(-ENOTSUP, "the state has XCRs, this KVM lacks KVM_CAP_XCRS");
	return kvm_vcpu_set_xcrs(vcpu_fd, &s->xcrs);
}

static bool msr_is_late(uint32_t index)
{
	for (size_t i = 0; i < sizeof(msr_late) / sizeof(msr_late[0]); i++)
		if (msr_late[i] == index)
			return true;
	return false;
}

/*
 * Make the guest TSC read @tsc now.  With KVM_VCPU_TSC_OFFSET (guest TSC =
 * host TSC * ratio + offset): read the offset and the guest TSC, and move the
 * offset by the difference; from then on the TSC counts on from @tsc, exactly,
 * whatever the host's TSC or scaling ratio.  Without the attribute, IA32_TSC
 * is written through KVM_SET_MSRS instead (restore_msrs), which KVM passes
 * through its legacy synchronization (kvm_synchronize_tsc): a value within a
 * second of what an earlier write of this VM predicts is matched to that
 * write's offset, so there the restored TSC may be off by up to a second.
 *
 * Each vCPU's TSC restarts at its own saved value at its own restore: vCPUs
 * saved and restored one after another keep their relative skew only to the
 * difference of the two intervals (microseconds).  Exact relative offsets
 * would need the saved KVM_VCPU_TSC_OFFSETs and one shared delta for all
 * vCPUs (KVM's devices/vcpu.rst); a multi-vCPU snapshot can add that here.
 */
static int tsc_restore(int vcpu_fd, uint64_t tsc)
{
	uint64_t offset, now;
	int ret = kvm_vcpu_get_tsc_offset(vcpu_fd, &offset);

	if (ret)
		return ret;
	if (!msr_read(vcpu_fd, MSR_IA32_TSC, &now))
		return err_set(-EIO, "cannot read IA32_TSC");
	/* Modular arithmetic: the offset is a two's-complement difference. */
	return kvm_vcpu_set_tsc_offset(vcpu_fd, offset + (tsc - now));
}

/* Put @s's late (or not late) MSRs into @m, IA32_TSC unless @skip_tsc;
 * returns how many. */
static uint32_t msrs_pick(const struct x86_vcpu_state *s, struct kvm_msrs *m,
			  bool late, bool skip_tsc)
{
	uint32_t i, n = 0;

	for (i = 0; i < s->nr_msrs; i++) {
		uint32_t idx = s->msrs[i].index;

		if (msr_is_late(idx) != late || (skip_tsc && idx == MSR_IA32_TSC))
			continue;
		m->entries[n++] = s->msrs[i];
	}
	m->nmsrs = n;
	return n;
}

static int restore_msrs(int vcpu_fd, const struct x86_state_caps *caps,
			const struct x86_vcpu_state *s)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + s->nr_msrs * sizeof(m->entries[0]));
	bool by_offset = caps->tsc_offset && kvm_vcpu_has_tsc_offset(vcpu_fd);
	bool have_tsc = false;
	uint64_t tsc = 0;
	int ret = 0;

	if (!m)
		return err_set(-ENOMEM, "out of memory for MSRs");
	for (uint32_t i = 0; i < s->nr_msrs; i++)
		if (s->msrs[i].index == MSR_IA32_TSC) {
			have_tsc = true;
			tsc = s->msrs[i].data;
		}
	by_offset = by_offset && have_tsc;
	if (msrs_pick(s, m, false, by_offset))
		ret = kvm_vcpu_set_msrs(vcpu_fd, m);
	if (!ret && by_offset)
		ret = tsc_restore(vcpu_fd, tsc);
	if (!ret && msrs_pick(s, m, true, false))
		ret = kvm_vcpu_set_msrs(vcpu_fd, m);
	free(m);
	return ret;
}

int x86_vcpu_state_restore(int vcpu_fd, const struct x86_state_caps *caps,
			   const struct x86_vcpu_state *s)
{
	int ret = 0;

	if (s->nr_msrs > X86_STATE_MAX_MSRS || s->xsave_size > X86_XSAVE_MAX ||
	    s->xcrs.nr_xcrs > KVM_MAX_XCRS)
		ret = err_set(-EINVAL, "vCPU state out of range: %u MSRs, %u XCRs, "
			      "%u-byte XSAVE area", s->nr_msrs, s->xcrs.nr_xcrs, s->xsave_size);
	if (!ret)
		ret = kvm_vcpu_set_regs(vcpu_fd, &s->regs);
	if (!ret)
		ret = restore_sregs(vcpu_fd, caps, s);
	if (!ret)
		ret = restore_fpu(vcpu_fd, caps, s);
	if (!ret)
		ret = kvm_vcpu_set_lapic(vcpu_fd, &s->lapic);
	if (!ret)
		ret = restore_msrs(vcpu_fd, caps, s);
	if (!ret)
		ret = kvm_vcpu_set_debugregs(vcpu_fd, &s->debugregs);
	if (!ret)
		ret = kvm_vcpu_set_mp_state(vcpu_fd, &s->mp_state);
	if (!ret)
		ret = kvm_vcpu_set_events(vcpu_fd, &s->events);
	return ret ? err_prefix(ret, "restoring vCPU state") : 0;
}

/* The PICs and the IOAPIC; -ENXIO (no message) when the VM has no irqchip. */
static int save_irqchip(int vm_fd, struct x86_vm_state *s)
{
	struct kvm_irqchip c;
	int ret = 0;

	for (uint32_t id = KVM_IRQCHIP_PIC_MASTER; id <= KVM_IRQCHIP_IOAPIC && !ret; id++) {
		memset(&c, 0, sizeof(c));
		c.chip_id = id;
		ret = kvm_vm_get_irqchip(vm_fd, &c);
		if (ret)
			break;
		if (id == KVM_IRQCHIP_IOAPIC)
			s->ioapic = c.chip.ioapic;
		else
			s->pic[id] = c.chip.pic;
	}
	if (!ret)
		s->flags |= X86_VM_STATE_IRQCHIP;
	return ret;
}

int x86_vm_state_save(int vm_fd, struct x86_vm_state *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	/* A VM without an in-kernel irqchip or PIT (split irqchip) saves none. */
	ret = save_irqchip(vm_fd, s);
	if (ret == -ENXIO)
		ret = 0;
	if (!ret) {
		ret = kvm_vm_get_pit2(vm_fd, &s->pit);
		if (!ret)
			s->flags |= X86_VM_STATE_PIT;
		else if (ret == -ENXIO)
			ret = 0;
	}
	if (!ret)
		ret = kvm_vm_get_clock(vm_fd, &s->clock);
	if (!ret)
		s->flags |= X86_VM_STATE_CLOCK;
	return ret ? err_prefix(ret, "saving VM state") : 0;
}

static int restore_irqchip(int vm_fd, const struct x86_vm_state *s)
{
	struct kvm_irqchip c;
	int ret = 0;

	for (uint32_t id = KVM_IRQCHIP_PIC_MASTER; id <= KVM_IRQCHIP_IOAPIC && !ret; id++) {
		memset(&c, 0, sizeof(c));
		c.chip_id = id;
		if (id == KVM_IRQCHIP_IOAPIC)
			c.chip.ioapic = s->ioapic;
		else
			c.chip.pic = s->pic[id];
		ret = kvm_vm_set_irqchip(vm_fd, &c);
	}
	return ret;
}

/*
 * After every vCPU exists (KVM_SET_IRQCHIP asks the existing vCPUs to rescan
 * the IOAPIC routes).  The clock goes last, closest to the resume: it is set
 * to the saved value without KVM_CLOCK_REALTIME, so the paused interval does
 * not count (with it KVM would add the CLOCK_REALTIME time elapsed since the
 * save).
 */
int x86_vm_state_restore(int vm_fd, const struct x86_vm_state *s)
{
	struct kvm_clock_data clock = { .clock = s->clock.clock };
	int ret = 0;

	if (s->flags & X86_VM_STATE_IRQCHIP)
		ret = restore_irqchip(vm_fd, s);
	if (!ret && (s->flags & X86_VM_STATE_PIT))
		ret = kvm_vm_set_pit2(vm_fd, &s->pit);
	if (!ret && (s->flags & X86_VM_STATE_CLOCK))
		ret = kvm_vm_set_clock(vm_fd, &clock);
	return ret ? err_prefix(ret, "restoring VM state") : 0;
}
