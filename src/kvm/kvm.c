// SPDX-License-Identifier: MIT
#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Addresses KVM needs for Intel's real-mode emulation; inside the MMIO hole. */
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL
#define KVM_TSS_ADDR		0xfffbd000ULL

static const struct {
	long cap;
	const char *name;
} kvm_required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel IOAPIC/PIC/LAPIC)" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2 (in-kernel PIT)" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IRQFD_RESAMPLE, "KVM_CAP_IRQFD_RESAMPLE" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

int kvm_check_cap(int fd, long cap)
{
	int ret = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return ret < 0 ? 0 : ret;
}

static int kvm_open_error(const char *path, int err)
{
	switch (err) {
	case ENOENT:
		return err_set(-ENOENT, "%s does not exist: KVM is not available "
			       "(load kvm_intel or kvm_amd, or enable virtualization)",
			       path);
	case EACCES:
	case EPERM:
		return err_set(-err, "permission denied opening %s: run as root "
			       "or add your user to the 'kvm' group", path);
	default:
		return err_set(-err, "cannot open %s: %s", path, strerror(err));
	}
}

int kvm_sys_open(struct kvm_sys *kvm, const char *path)
{
	unsigned int i;
	int ver;

	kvm->fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0)
		return kvm_open_error(path, errno);
	ver = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		kvm_sys_close(kvm);
		return err_set(-ENOTSUP, "%s speaks KVM API version %d, kite needs %d",
			       path, ver, KVM_API_VERSION);
	}
	for (i = 0; i < sizeof(kvm_required_caps) / sizeof(kvm_required_caps[0]); i++) {
		if (!kvm_check_cap(kvm->fd, kvm_required_caps[i].cap)) {
			kvm_sys_close(kvm);
			return err_set(-ENOTSUP, "this KVM lacks %s, which kite needs",
				       kvm_required_caps[i].name);
		}
	}
	kvm->vcpu_mmap_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0) {
		kvm_sys_close(kvm);
		return err_set(-EIO, "KVM_GET_VCPU_MMAP_SIZE failed");
	}
	kvm->max_vcpus = kvm_check_cap(kvm->fd, KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = kvm_check_cap(kvm->fd, KVM_CAP_NR_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = 4;	/* what the KVM API documents as the floor */
	return 0;
}

void kvm_sys_close(struct kvm_sys *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	kvm->fd = -1;
}

int kvm_supported_cpuid(const struct kvm_sys *kvm, struct kvm_cpuid2 **out,
			unsigned int *capacity)
{
	unsigned int n = 128;

	for (;;) {
		/* Room for the leaves the per-vCPU filter adds. */
		unsigned int slack = 16;
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (n + slack) * sizeof(c->entries[0]));
		int ret;

		if (!c)
			return err_set(-ENOMEM, "out of memory for CPUID");
		c->nent = n;
		ret = xioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c);
		if (ret == 0) {
			*out = c;
			*capacity = n + slack;
			return 0;
		}
		free(c);
		if (ret != -E2BIG || n >= 4096)
			return err_set(ret, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
		n *= 2;
	}
}

int kvm_vm_create(const struct kvm_sys *kvm)
{
	int fd = xioctl(kvm->fd, KVM_CREATE_VM, 0);

	if (fd < 0)
		return err_set(fd, "KVM_CREATE_VM: %s", strerror(-fd));
	return fd;
}

int kvm_vm_set_gsi_routing(int vm_fd, const struct kvm_irq_routing_entry *e,
			   unsigned int nr)
{
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + nr * sizeof(*e));
	int ret;

	if (!r)
		return err_set(-ENOMEM, "out of memory for interrupt routes");
	r->nr = nr;
	memcpy(r->entries, e, nr * sizeof(*e));
	ret = xioctl(vm_fd, KVM_SET_GSI_ROUTING, r);
	free(r);
	if (ret < 0)
		return err_set(ret, "KVM_SET_GSI_ROUTING (%u routes): %s", nr, strerror(-ret));
	return 0;
}

int kvm_vm_irqfd(int vm_fd, int fd, uint32_t gsi, int resample_fd)
{
	struct kvm_irqfd f = { .fd = (uint32_t)fd, .gsi = gsi };
	int ret;

	if (resample_fd >= 0) {
		f.flags = KVM_IRQFD_FLAG_RESAMPLE;
		f.resamplefd = (uint32_t)resample_fd;
	}
	ret = xioctl(vm_fd, KVM_IRQFD, &f);
	if (ret < 0)
		return err_set(ret, "KVM_IRQFD (GSI %u): %s", gsi, strerror(-ret));
	return 0;
}

int kvm_vm_ioeventfd(int vm_fd, int fd, uint64_t addr, uint32_t len, bool pio,
		     bool datamatch, uint64_t data, bool assign)
{
	struct kvm_ioeventfd e = { .datamatch = data, .addr = addr, .len = len, .fd = fd };
	int ret;

	if (pio)
		e.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (datamatch)
		e.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (!assign)
		e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	ret = xioctl(vm_fd, KVM_IOEVENTFD, &e);
	if (ret < 0)
		return err_set(ret, "KVM_IOEVENTFD (%s 0x%llx/%u%s%s): %s", pio ? "port" : "MMIO",
			       (unsigned long long)addr, len, datamatch ? ", datamatch" : "",
			       assign ? "" : ", deassign", strerror(-ret));
	return 0;
}

int kvm_vm_signal_msi(int vm_fd, uint64_t addr, uint32_t data)
{
	struct kvm_msi m = { .address_lo = (uint32_t)addr,
			     .address_hi = (uint32_t)(addr >> 32), .data = data };
	int ret = xioctl(vm_fd, KVM_SIGNAL_MSI, &m);

	if (ret < 0)
		return err_set(ret, "KVM_SIGNAL_MSI: %s", strerror(-ret));
	return 0;
}

int kvm_max_irq_routes(int vm_fd)
{
	int n = kvm_check_cap(vm_fd, KVM_CAP_IRQ_ROUTING);

	return n > 0 ? n : 0;
}

int kvm_vm_setup_x86(int vm_fd)
{
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret;

	ret = xioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident);
	if (ret < 0 && ret != -ENOTTY && ret != -EINVAL)
		return err_set(ret, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(-ret));
	ret = ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR);
	if (ret < 0)
		return err_set(-errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	ret = xioctl(vm_fd, KVM_CREATE_IRQCHIP, NULL);
	if (ret < 0)
		return err_set(ret, "KVM_CREATE_IRQCHIP: %s", strerror(-ret));
	ret = xioctl(vm_fd, KVM_CREATE_PIT2, &pit);
	if (ret < 0)
		return err_set(ret, "KVM_CREATE_PIT2: %s", strerror(-ret));
	return 0;
}

int kvm_vm_set_memory(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size,
		      void *host, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)host,
	};
	int ret = xioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r);

	if (ret < 0)
		return err_set(ret, "KVM_SET_USER_MEMORY_REGION slot %u (0x%llx+0x%llx): %s",
			       slot, (unsigned long long)gpa,
			       (unsigned long long)size, strerror(-ret));
	return 0;
}

int kvm_vm_irq_line(int vm_fd, uint32_t irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };
	int ret = xioctl(vm_fd, KVM_IRQ_LINE, &l);

	if (ret < 0)
		return err_set(ret, "KVM_IRQ_LINE %u: %s", irq, strerror(-ret));
	return 0;
}

int kvm_vcpu_create(int vm_fd, unsigned int id)
{
	int fd = ioctl(vm_fd, KVM_CREATE_VCPU, (unsigned long)id);

	if (fd < 0)
		return err_set(-errno, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
	return fd;
}

#define KVM_VCPU_IOCTL(fn, req, type, cst)                                   \
	int fn(int vcpu_fd, cst type *arg)                                    \
	{                                                                     \
		int ret = xioctl(vcpu_fd, req, (void *)arg);                  \
		if (ret < 0)                                                  \
			return err_set(ret, #req ": %s", strerror(-ret));     \
		return ret;                                                   \
	}

KVM_VCPU_IOCTL(kvm_vcpu_set_cpuid, KVM_SET_CPUID2, struct kvm_cpuid2, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_regs, KVM_GET_REGS, struct kvm_regs, )
KVM_VCPU_IOCTL(kvm_vcpu_set_regs, KVM_SET_REGS, struct kvm_regs, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_sregs, KVM_GET_SREGS, struct kvm_sregs, )
KVM_VCPU_IOCTL(kvm_vcpu_set_sregs, KVM_SET_SREGS, struct kvm_sregs, const)
KVM_VCPU_IOCTL(kvm_vcpu_set_fpu, KVM_SET_FPU, struct kvm_fpu, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_lapic, KVM_GET_LAPIC, struct kvm_lapic_state, )
KVM_VCPU_IOCTL(kvm_vcpu_set_lapic, KVM_SET_LAPIC, struct kvm_lapic_state, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_sregs2, KVM_GET_SREGS2, struct kvm_sregs2, )
KVM_VCPU_IOCTL(kvm_vcpu_set_sregs2, KVM_SET_SREGS2, struct kvm_sregs2, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_fpu, KVM_GET_FPU, struct kvm_fpu, )
KVM_VCPU_IOCTL(kvm_vcpu_set_xsave, KVM_SET_XSAVE, struct kvm_xsave, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_xcrs, KVM_GET_XCRS, struct kvm_xcrs, )
KVM_VCPU_IOCTL(kvm_vcpu_set_xcrs, KVM_SET_XCRS, struct kvm_xcrs, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_events, KVM_GET_VCPU_EVENTS, struct kvm_vcpu_events, )
KVM_VCPU_IOCTL(kvm_vcpu_set_events, KVM_SET_VCPU_EVENTS, struct kvm_vcpu_events, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_mp_state, KVM_GET_MP_STATE, struct kvm_mp_state, )
KVM_VCPU_IOCTL(kvm_vcpu_set_mp_state, KVM_SET_MP_STATE, struct kvm_mp_state, const)
KVM_VCPU_IOCTL(kvm_vcpu_get_debugregs, KVM_GET_DEBUGREGS, struct kvm_debugregs, )
KVM_VCPU_IOCTL(kvm_vcpu_set_debugregs, KVM_SET_DEBUGREGS, struct kvm_debugregs, const)
/* The same shape on the VM fd. */
KVM_VCPU_IOCTL(kvm_vm_set_irqchip, KVM_SET_IRQCHIP, struct kvm_irqchip, const)
KVM_VCPU_IOCTL(kvm_vm_set_pit2, KVM_SET_PIT2, struct kvm_pit_state2, const)
KVM_VCPU_IOCTL(kvm_vm_get_clock, KVM_GET_CLOCK, struct kvm_clock_data, )
KVM_VCPU_IOCTL(kvm_vm_set_clock, KVM_SET_CLOCK, struct kvm_clock_data, const)

int kvm_vcpu_get_xsave(int vcpu_fd, struct kvm_xsave *xsave, bool xsave2)
{
	int ret = xioctl(vcpu_fd, xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, xsave);

	if (ret < 0)
		return err_set(ret, "%s: %s", xsave2 ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE",
			       strerror(-ret));
	return 0;
}

int kvm_vcpu_get_msrs(int vcpu_fd, struct kvm_msrs *msrs)
{
	int ret = xioctl(vcpu_fd, KVM_GET_MSRS, msrs);

	if (ret < 0)
		return err_set(ret, "KVM_GET_MSRS (%u MSRs): %s", msrs->nmsrs, strerror(-ret));
	return ret;
}

int kvm_msr_index_list(int kvm_fd, uint32_t *idx, uint32_t cap, uint32_t *n)
{
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + cap * sizeof(l->indices[0]));
	int ret;

	if (!l)
		return err_set(-ENOMEM, "out of memory for the MSR list");
	l->nmsrs = cap;
	ret = xioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, l);
	if (ret == -E2BIG)	/* KVM wrote how many it has into nmsrs */
		ret = err_set(-E2BIG, "KVM lists %u MSRs, more than the %u kite keeps",
			      l->nmsrs, cap);
	else if (ret < 0)
		ret = err_set(ret, "KVM_GET_MSR_INDEX_LIST: %s", strerror(-ret));
	else {
		memcpy(idx, l->indices, l->nmsrs * sizeof(idx[0]));
		*n = l->nmsrs;
	}
	free(l);
	return ret < 0 ? ret : 0;
}

int kvm_vcpu_get_tsc_khz(int vcpu_fd)
{
	int ret = xioctl(vcpu_fd, KVM_GET_TSC_KHZ, NULL);

	if (ret < 0)
		return err_set(ret, "KVM_GET_TSC_KHZ: %s", strerror(-ret));
	return ret;
}

static int kvm_vcpu_tsc_attr(int vcpu_fd, unsigned long req, uint64_t *offset)
{
	struct kvm_device_attr a = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)(uintptr_t)offset,
	};

	return xioctl(vcpu_fd, req, &a);
}

bool kvm_vcpu_has_tsc_offset(int vcpu_fd)
{
	return kvm_vcpu_tsc_attr(vcpu_fd, KVM_HAS_DEVICE_ATTR, NULL) == 0;
}

int kvm_vcpu_get_tsc_offset(int vcpu_fd, uint64_t *offset)
{
	int ret = kvm_vcpu_tsc_attr(vcpu_fd, KVM_GET_DEVICE_ATTR, offset);

	if (ret < 0)
		return err_set(ret, "KVM_GET_DEVICE_ATTR (TSC offset): %s", strerror(-ret));
	return 0;
}

int kvm_vcpu_set_tsc_offset(int vcpu_fd, uint64_t offset)
{
	int ret = kvm_vcpu_tsc_attr(vcpu_fd, KVM_SET_DEVICE_ATTR, &offset);

	if (ret < 0)
		return err_set(ret, "KVM_SET_DEVICE_ATTR (TSC offset): %s", strerror(-ret));
	return 0;
}

int kvm_vm_get_irqchip(int vm_fd, struct kvm_irqchip *chip)
{
	int ret = xioctl(vm_fd, KVM_GET_IRQCHIP, chip);

	if (ret < 0 && ret != -ENXIO)
		return err_set(ret, "KVM_GET_IRQCHIP (chip %u): %s", chip->chip_id,
			       strerror(-ret));
	return ret;
}

int kvm_vm_get_pit2(int vm_fd, struct kvm_pit_state2 *pit)
{
	int ret = xioctl(vm_fd, KVM_GET_PIT2, pit);

	if (ret < 0 && ret != -ENXIO)
		return err_set(ret, "KVM_GET_PIT2: %s", strerror(-ret));
	return ret;
}

int kvm_vcpu_set_msrs(int vcpu_fd, const struct kvm_msrs *msrs)
{
	int ret = xioctl(vcpu_fd, KVM_SET_MSRS, (void *)msrs);

	if (ret < 0)
		return err_set(ret, "KVM_SET_MSRS: %s", strerror(-ret));
	if ((unsigned int)ret != msrs->nmsrs)
		return err_set(-EINVAL, "KVM_SET_MSRS: MSR 0x%x refused",
			       msrs->entries[ret].index);
	return 0;
}

int kvm_vcpu_translate(int vcpu_fd, uint64_t linear, uint64_t *gpa)
{
	struct kvm_translation t = { .linear_address = linear };
	int ret = xioctl(vcpu_fd, KVM_TRANSLATE, &t);

	if (ret < 0)
		return err_set(ret, "KVM_TRANSLATE: %s", strerror(-ret));
	if (!t.valid)
		return err_set(-EFAULT, "linear address 0x%llx is not mapped",
			       (unsigned long long)linear);
	*gpa = t.physical_address;
	return 0;
}

int kvm_vcpu_run(int vcpu_fd)
{
	return ioctl(vcpu_fd, KVM_RUN, 0) < 0 ? -errno : 0;
}

int kvm_vcpu_complete_io(int vcpu_fd, struct kvm_run *run)
{
	int ret;

	run->immediate_exit = 1;
	ret = kvm_vcpu_run(vcpu_fd);
	run->immediate_exit = 0;
	/* -EINTR is the expected answer: KVM finished the exit, then stopped. */
	if (ret != -EINTR)
		return err_set(ret ? ret : -EIO, "KVM_RUN with immediate_exit: %s",
			       ret ? strerror(-ret) : "the vCPU ran instead of stopping");
	return 0;
}

int kvm_vm_get_dirty_log(int vm_fd, uint32_t slot, uint64_t *bitmap)
{
	struct kvm_dirty_log d = { .slot = slot, .dirty_bitmap = bitmap };
	int ret = xioctl(vm_fd, KVM_GET_DIRTY_LOG, &d);

	if (ret < 0)
		return err_set(ret, "KVM_GET_DIRTY_LOG slot %u: %s", slot, strerror(-ret));
	return 0;
}

int kvm_vm_manual_dirty_log(int vm_fd)
{
	const uint64_t want = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 };
	int have = kvm_check_cap(vm_fd, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), ret;

	if (have <= 0 || ((uint64_t)have & want) != want)
		return -EOPNOTSUPP;
	cap.args[0] = want;
	ret = xioctl(vm_fd, KVM_ENABLE_CAP, &cap);
	if (ret < 0)
		return err_set(ret, "KVM_ENABLE_CAP(MANUAL_DIRTY_LOG_PROTECT2): %s",
			       strerror(-ret));
	return 0;
}

int kvm_vm_clear_dirty_log(int vm_fd, uint32_t slot, uint64_t first_page, uint32_t num_pages,
			   uint64_t *bitmap)
{
	struct kvm_clear_dirty_log c = {
		.slot = slot, .num_pages = num_pages, .first_page = first_page,
		.dirty_bitmap = bitmap,
	};
	int ret = xioctl(vm_fd, KVM_CLEAR_DIRTY_LOG, &c);

	if (ret < 0)
		return err_set(ret, "KVM_CLEAR_DIRTY_LOG slot %u pages %llu+%u: %s", slot,
			       (unsigned long long)first_page, num_pages, strerror(-ret));
	return 0;
}
