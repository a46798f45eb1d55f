/* SPDX-License-Identifier: MIT */
/*
 * kvm.h - the only place in kite that calls ioctl() on KVM file descriptors.
 *
 * Every wrapper returns 0 (or a non-negative value) on success and -errno on
 * failure with an err_set() message that names the operation.
 */
#ifndef KITE_KVM_KVM_H
#define KITE_KVM_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "core/error.h"

struct kvm_sys {
	int fd;			/* /dev/kvm */
	int vcpu_mmap_size;
	int max_vcpus;
};

/* Open @path (normally /dev/kvm) and check the API version and every
 * capability kite needs; a clear message says which one is missing. */
int kvm_sys_open(struct kvm_sys *kvm, const char *path) KITE_WUR;
void kvm_sys_close(struct kvm_sys *kvm);
int kvm_check_cap(int fd, long cap);

/* The host's supported CPUID (allocated; free() it). */
int kvm_supported_cpuid(const struct kvm_sys *kvm, struct kvm_cpuid2 **out,
			unsigned int *capacity) KITE_WUR;

/* VM-level */
int kvm_vm_create(const struct kvm_sys *kvm) KITE_WUR;	/* returns the fd */
int kvm_vm_setup_x86(int vm_fd) KITE_WUR;	/* TSS, identity map, irqchip, PIT */
int kvm_vm_set_memory(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size,
		      void *host, uint32_t flags) KITE_WUR;
int kvm_vm_irq_line(int vm_fd, uint32_t irq, int level) KITE_WUR;
int kvm_vm_set_gsi_routing(int vm_fd, const struct kvm_irq_routing_entry *e,
			   unsigned int nr) KITE_WUR;
/* Bind eventfd @fd to @gsi; @resample_fd >= 0 for a level-triggered line. */
int kvm_vm_irqfd(int vm_fd, int fd, uint32_t gsi, int resample_fd) KITE_WUR;
/*
 * Bind (@assign) or unbind eventfd @fd to guest writes of @len bytes (0: any
 * length) at @addr on the port (@pio) or MMIO bus, optionally only when the
 * written value equals @data (@datamatch).  Matching writes never exit to
 * user space.
 */
int kvm_vm_ioeventfd(int vm_fd, int fd, uint64_t addr, uint32_t len, bool pio,
		     bool datamatch, uint64_t data, bool assign) KITE_WUR;
int kvm_vm_signal_msi(int vm_fd, uint64_t addr, uint32_t data) KITE_WUR;
int kvm_max_irq_routes(int vm_fd);
/* Fetch KVM's dirty bitmap of memslot @slot (one bit per page); it is also
 * cleared unless manual protection is on (then: kvm_vm_clear_dirty_log). */
int kvm_vm_get_dirty_log(int vm_fd, uint32_t slot, uint64_t *bitmap) KITE_WUR;
/*
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with INITIALLY_SET: a memslot's dirty log
 * starts all set and pages are write-protected only when userspace clears
 * their bits, so starting to log costs nothing up front.  -EOPNOTSUPP
 * (without a message) when KVM lacks it.
 */
int kvm_vm_manual_dirty_log(int vm_fd) KITE_WUR;
/* Clear (and write-protect again) the pages of @bitmap, whose bit 0 is page
 * @first_page (a multiple of 64) of memslot @slot. */
int kvm_vm_clear_dirty_log(int vm_fd, uint32_t slot, uint64_t first_page, uint32_t num_pages,
			   uint64_t *bitmap) KITE_WUR;

/* vCPU-level */
int kvm_vcpu_create(int vm_fd, unsigned int id) KITE_WUR;	/* returns the fd */
int kvm_vcpu_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *cpuid) KITE_WUR;
int kvm_vcpu_get_regs(int vcpu_fd, struct kvm_regs *regs) KITE_WUR;
int kvm_vcpu_set_regs(int vcpu_fd, const struct kvm_regs *regs) KITE_WUR;
int kvm_vcpu_get_sregs(int vcpu_fd, struct kvm_sregs *sregs) KITE_WUR;
int kvm_vcpu_set_sregs(int vcpu_fd, const struct kvm_sregs *sregs) KITE_WUR;
int kvm_vcpu_set_fpu(int vcpu_fd, const struct kvm_fpu *fpu) KITE_WUR;
int kvm_vcpu_set_msrs(int vcpu_fd, const struct kvm_msrs *msrs) KITE_WUR;
int kvm_vcpu_get_lapic(int vcpu_fd, struct kvm_lapic_state *lapic) KITE_WUR;
int kvm_vcpu_set_lapic(int vcpu_fd, const struct kvm_lapic_state *lapic) KITE_WUR;
int kvm_vcpu_translate(int vcpu_fd, uint64_t linear, uint64_t *gpa) KITE_WUR;
/* KVM_RUN; returns 0, or -errno (-EINTR when kicked). No message set. */
int kvm_vcpu_run(int vcpu_fd);
/*
 * Finish the instruction of the last exit (an IN's data, an MMIO read) without
 * running further guest code: KVM_RUN with @run->immediate_exit set.  KVM's
 * API says the vCPU state is consistent only after this, so a VMM calls it
 * before saving the state of a vCPU that stopped on such an exit.
 */
int kvm_vcpu_complete_io(int vcpu_fd, struct kvm_run *run) KITE_WUR;

/*
 * State save/restore (arch/x86/state.c).  Getters and setters of the whole
 * structure; the variable-length ones say how many entries/bytes.
 */
/* KVM_GET_MSR_INDEX_LIST on /dev/kvm: up to @cap indices; *n = how many. */
int kvm_msr_index_list(int kvm_fd, uint32_t *idx, uint32_t cap, uint32_t *n) KITE_WUR;
/* KVM_GET_MSRS: returns how many leading entries KVM read (it stops at the
 * first MSR it refuses), or -errno with a message. */
int kvm_vcpu_get_msrs(int vcpu_fd, struct kvm_msrs *msrs) KITE_WUR;
int kvm_vcpu_get_sregs2(int vcpu_fd, struct kvm_sregs2 *sregs) KITE_WUR;
int kvm_vcpu_set_sregs2(int vcpu_fd, const struct kvm_sregs2 *sregs) KITE_WUR;
int kvm_vcpu_get_fpu(int vcpu_fd, struct kvm_fpu *fpu) KITE_WUR;
/* @xsave holds KVM_CAP_XSAVE2's size (at least 4096 bytes); @xsave2: use
 * KVM_GET_XSAVE2 (the cap exists), else KVM_GET_XSAVE. */
int kvm_vcpu_get_xsave(int vcpu_fd, struct kvm_xsave *xsave, bool xsave2) KITE_WUR;
int kvm_vcpu_set_xsave(int vcpu_fd, const struct kvm_xsave *xsave) KITE_WUR;
int kvm_vcpu_get_xcrs(int vcpu_fd, struct kvm_xcrs *xcrs) KITE_WUR;
int kvm_vcpu_set_xcrs(int vcpu_fd, const struct kvm_xcrs *xcrs) KITE_WUR;
int kvm_vcpu_get_events(int vcpu_fd, struct kvm_vcpu_events *ev) KITE_WUR;
int kvm_vcpu_set_events(int vcpu_fd, const struct kvm_vcpu_events *ev) KITE_WUR;
int kvm_vcpu_get_mp_state(int vcpu_fd, struct kvm_mp_state *mp) KITE_WUR;
int kvm_vcpu_set_mp_state(int vcpu_fd, const struct kvm_mp_state *mp) KITE_WUR;
int kvm_vcpu_get_debugregs(int vcpu_fd, struct kvm_debugregs *dr) KITE_WUR;
int kvm_vcpu_set_debugregs(int vcpu_fd, const struct kvm_debugregs *dr) KITE_WUR;
/* KVM_GET_TSC_KHZ: the guest TSC's frequency in kHz, or -errno. */
int kvm_vcpu_get_tsc_khz(int vcpu_fd) KITE_WUR;
/* KVM_VCPU_TSC_OFFSET (guest TSC = host TSC * ratio + offset), Linux 5.16+. */
bool kvm_vcpu_has_tsc_offset(int vcpu_fd);
int kvm_vcpu_get_tsc_offset(int vcpu_fd, uint64_t *offset) KITE_WUR;
int kvm_vcpu_set_tsc_offset(int vcpu_fd, uint64_t offset) KITE_WUR;
/* In-kernel PIC/IOAPIC (@chip->chip_id selects), PIT and kvmclock.  The
 * getters return -ENXIO, without a message, when the VM has no such device. */
int kvm_vm_get_irqchip(int vm_fd, struct kvm_irqchip *chip) KITE_WUR;
int kvm_vm_set_irqchip(int vm_fd, const struct kvm_irqchip *chip) KITE_WUR;
int kvm_vm_get_pit2(int vm_fd, struct kvm_pit_state2 *pit) KITE_WUR;
int kvm_vm_set_pit2(int vm_fd, const struct kvm_pit_state2 *pit) KITE_WUR;
int kvm_vm_get_clock(int vm_fd, struct kvm_clock_data *clock) KITE_WUR;
int kvm_vm_set_clock(int vm_fd, const struct kvm_clock_data *clock) KITE_WUR;

#endif
