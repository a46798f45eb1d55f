/* SPDX-License-Identifier: MIT */
/*
 * state.h - every piece of x86 VM state that KVM holds, captured, restored
 * and serialized: the foundation of snapshots and migration (issue 7).
 *
 * Guest RAM and device models live in user space and are saved elsewhere;
 * this covers what only KVM knows: per vCPU the registers, FPU/XSAVE, XCRs,
 * MSRs, LAPIC, pending events, run state and debug registers; per VM the
 * in-kernel PICs, IOAPIC, PIT and kvmclock.
 *
 * Use:  probe once per VM, save each vCPU and the VM while every vCPU is out
 * of KVM_RUN (and kvm_vcpu_complete_io() has finished its last exit); on the
 * destination create the VM and all vCPUs (same CPUID as the source), restore
 * the VM state, then each vCPU's, then run.
 *
 * Time: the paused interval does not count.  kvmclock and each vCPU's TSC go
 * on from the values they had when saved (see state.c for how the TSC is put
 * back); a guest corrects its wall clock itself (NTP), as after a host
 * suspend.  Guest-visible time never goes backwards.
 *
 * The encoded form ("layout version 1") is little-endian and explicit, field
 * by field, independent of the host's struct layout.  A decoder treats its
 * input as untrusted: every count and size is checked against its limit and
 * against the buffer, and a bad buffer is refused with a message, never a
 * crash.  Layout of an encoded vCPU state (all integers little-endian):
 *
 *   0  u32 magic "kXVC"     4  u16 version (1)      6  u16 flags (bit 0: XSAVE)
 *   8  u32 xsave_size      12  u32 nr_xcrs          16 u32 nr_msrs
 *  20  u32 tsc_khz         24  body: regs, sregs, XSAVE area or FPU, XCRs,
 *                              MSRs, LAPIC page, events, MP state, debugregs
 *
 * and of an encoded VM state:
 *
 *   0  u32 magic "kXVM"     4  u16 version (1)      6  u16 flags (bit 0:
 *      irqchip, bit 1: PIT, bit 2: clock)           8  body: PICs, IOAPIC,
 *      PIT, clock
 */
#ifndef KITE_ARCH_X86_STATE_H
#define KITE_ARCH_X86_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "core/error.h"

#define X86_STATE_VERSION	1
#define X86_STATE_MAX_MSRS	512	/* KVM lists ~40-250; MTRRs and MCE banks add <160 */
#define X86_XSAVE_MIN		4096	/* struct kvm_xsave; KVM_CAP_XSAVE2 is never less */
#define X86_XSAVE_MAX		16384	/* AMX needs ~11 KiB */

/* What this KVM can save and restore; filled once per VM by x86_state_probe(). */
struct x86_state_caps {
	bool sregs2;		/* KVM_GET/SET_SREGS2: sregs with PDPTRs */
	bool xsave;		/* KVM_GET/SET_XSAVE, else KVM_GET/SET_FPU */
	bool xsave2;		/* KVM_GET_XSAVE2 */
	bool xcrs;		/* KVM_GET/SET_XCRS */
	bool tsc_khz;		/* KVM_GET_TSC_KHZ */
	bool tsc_offset;	/* KVM_CAP_VCPU_ATTRIBUTES: the restore puts the TSC
				 * back through KVM_VCPU_TSC_OFFSET where the vCPU
				 * has it; clear to force the IA32_TSC write */
	uint32_t xsave_size;	/* bytes KVM_GET/SET_XSAVE move; 0 without XSAVE */
	uint32_t nr_msrs;
	uint32_t msrs[X86_STATE_MAX_MSRS];	/* KVM_GET_MSR_INDEX_LIST */
};

#define X86_VCPU_STATE_XSAVE	(1u << 0)	/* xsave[] valid, else fpu */

/*
 * One vCPU.  Large (~27 KiB): allocate it, don't put it on a thread's stack.
 * Taken with KVM_GET_SREGS (no SREGS2), sregs.flags is 0 and the PDPTRs are
 * not carried: KVM then reloads them from guest memory.
 */
struct x86_vcpu_state {
	uint32_t flags;			/* X86_VCPU_STATE_* */
	uint32_t tsc_khz;		/* guest TSC frequency, for information; 0: unknown */
	struct kvm_regs regs;
	struct kvm_sregs2 sregs;
	struct kvm_fpu fpu;		/* without X86_VCPU_STATE_XSAVE */
	struct kvm_xcrs xcrs;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[X86_STATE_MAX_MSRS];	/* IA32_TSC among them */
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_debugregs debugregs;
	uint32_t xsave_size;		/* bytes of xsave[] in use */
	uint8_t xsave[X86_XSAVE_MAX] __attribute__((aligned(64)));
};

#define X86_VM_STATE_IRQCHIP	(1u << 0)	/* pic[], ioapic valid */
#define X86_VM_STATE_PIT	(1u << 1)	/* pit valid */
#define X86_VM_STATE_CLOCK	(1u << 2)	/* clock valid */

/* The VM-wide devices KVM emulates in the kernel. */
struct x86_vm_state {
	uint32_t flags;			/* X86_VM_STATE_* */
	struct kvm_pic_state pic[2];	/* master, slave */
	struct kvm_ioapic_state ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;	/* .clock: kvmclock ns when saved */
};

/*
 * Probe what KVM offers for saving state: @kvm_fd is /dev/kvm (the MSR list
 * is a system ioctl), @vm_fd the VM (KVM_CAP_XSAVE2 is answered there).
 * Fails with a message naming the capability when a required one is missing
 * (VCPU_EVENTS, DEBUGREGS, MP_STATE, ADJUST_CLOCK); the others degrade.
 */
int x86_state_probe(int kvm_fd, int vm_fd, struct x86_state_caps *caps) KITE_WUR;

/* Capture everything KVM holds for one stopped vCPU. */
int x86_vcpu_state_save(int vcpu_fd, const struct x86_state_caps *caps,
			struct x86_vcpu_state *s) KITE_WUR;

/*
 * Load @s into a vCPU that has never run, or that is stopped, in the order
 * KVM's dependencies need (state.c).  The guest TSC reads @s's IA32_TSC at the
 * moment of the restore and counts on from there.
 */
int x86_vcpu_state_restore(int vcpu_fd, const struct x86_state_caps *caps,
			   const struct x86_vcpu_state *s) KITE_WUR;

/* Capture / restore the PICs, IOAPIC, PIT and kvmclock of a VM. */
int x86_vm_state_save(int vm_fd, struct x86_vm_state *s) KITE_WUR;
int x86_vm_state_restore(int vm_fd, const struct x86_vm_state *s) KITE_WUR;

/*
 * Serialize into a malloc()ed buffer (*buf, *len; free() it).  Refuses a
 * state whose counts exceed the limits above (-EINVAL), -ENOMEM.
 */
int x86_vcpu_state_encode(const struct x86_vcpu_state *s, uint8_t **buf,
			  size_t *len) KITE_WUR;
int x86_vm_state_encode(const struct x86_vm_state *s, uint8_t **buf, size_t *len) KITE_WUR;

/*
 * Parse an encoded state into @s (zeroed first).  -EINVAL with a message
 * naming the field and the offset on anything malformed: wrong magic or
 * layout version, unknown flags, a count or size out of range, truncation,
 * trailing bytes.
 */
int x86_vcpu_state_decode(const uint8_t *buf, size_t len, struct x86_vcpu_state *s) KITE_WUR;
int x86_vm_state_decode(const uint8_t *buf, size_t len, struct x86_vm_state *s) KITE_WUR;

#endif
