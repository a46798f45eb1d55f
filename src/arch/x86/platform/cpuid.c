// SPDX-License-Identifier: MIT
/*
 * cpuid.c - the CPUID a vCPU sees: KVM_GET_SUPPORTED_CPUID, filtered.
 *
 * The machine kite presents is one package of @ncpus cores with one thread
 * each; the APIC id of vCPU i is i.  Topology fields that count "addressable
 * IDs" are powers of two (the SDM's definition, and QEMU's encoding): an APIC
 * id has ceil(log2(ncpus)) core bits, so 3 vCPUs use ids 0-2 of 4 possible.
 * Counts of things that exist (leaf 0xb/0x1f EBX, AMD NC) are exact.
 *
 * What KVM reports is kept, except where the VMM owns the answer (topology,
 * the hypervisor bit and signature) and leaf 6, trimmed to ARAT: kite backs
 * no thermal or power-management MSRs (KVM itself reports only ARAT there,
 * this keeps other sources honest).  x2APIC stays as KVM reports it.
 * TSC-deadline is set: kite always uses the in-kernel LAPIC, which has
 * implemented it since Linux 3.2 (KVM_CAP_TSC_DEADLINE_TIMER), but
 * KVM_GET_SUPPORTED_CPUID only reports it since 6.14 (QEMU sets it likewise).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "arch/x86/platform/platform.h"

#define LEAF1_ECX_TSC_DEADLINE	(1u << 24)
#define LEAF1_ECX_HYPERVISOR	(1u << 31)
#define LEAF1_EDX_HTT		(1u << 28)
#define LEAF1_CLFLUSH_QWORDS	8u		/* 64-byte cache lines */
#define LEAF6_EAX_ARAT		(1u << 2)

#define CACHE_TYPE(eax)		((eax) & 0x1fu)	/* leaf 4 / 0x8000001d */
#define CACHE_LEVEL(eax)	(((eax) >> 5) & 0x7u)
#define CACHE_SHARING_SHIFT	14		/* EAX[25:14] */
#define CACHE_SHARING_MASK	(0xfffu << CACHE_SHARING_SHIFT)
#define CACHE_CORES_SHIFT	26		/* leaf 4 EAX[31:26] */
#define CACHE_CORES_MAX		0x3fu

#define TOPO_TYPE_INVALID	0u		/* leaf 0xb / 0x1f ECX[15:8] */
#define TOPO_TYPE_SMT		1u
#define TOPO_TYPE_CORE		2u

#define KVM_LEAF_SIGNATURE	0x40000000u
#define KVM_LEAF_LAST		0x400000ffu

#define AMD_NC_MASK		0xffu		/* 0x80000008 ECX[7:0] */
#define AMD_APICID_SIZE_SHIFT	12		/* 0x80000008 ECX[15:12] */
#define AMD_APICID_SIZE_MASK	(0xfu << AMD_APICID_SIZE_SHIFT)

struct cpuid_topo {
	unsigned int index;	/* this vCPU, and its APIC id */
	unsigned int ncpus;
	unsigned int core_bits;	/* ceil(log2(ncpus)): APIC id bits of the core */
	uint32_t kvm_max_leaf;	/* EAX of leaf 0x40000000 */
};

static unsigned int ceil_log2(unsigned int n)
{
	unsigned int bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t fn,
					   uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == fn && e->index == idx)
			return e;
	}
	return NULL;
}

static bool cpuid_has_leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return true;
	return false;
}

/* Highest KVM leaf present, at least the signature leaf itself. */
static uint32_t cpuid_kvm_max_leaf(const struct kvm_cpuid2 *c)
{
	uint32_t max = KVM_LEAF_SIGNATURE;

	for (uint32_t i = 0; i < c->nent; i++) {
		uint32_t fn = c->entries[i].function;

		if (fn > max && fn <= KVM_LEAF_LAST)
			max = fn;
	}
	return max;
}

/* Entries the guest must see even when KVM did not report them. */
static const struct cpuid_need {
	uint32_t function;
	uint32_t index;
	uint32_t flags;
	bool if_leaf_present;	/* only when some subleaf of @function exists */
} cpuid_needs[] = {
	/* Linux stops at a subleaf with EBX 0: both levels must exist. */
	{ 0xb, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, true },
	{ 0xb, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, true },
	{ 0x1f, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, true },
	{ 0x1f, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, true },
	{ KVM_LEAF_SIGNATURE, 0, 0, false },
};

/*
 * Count the entries of cpuid_needs[] missing from @c; with @apply, also append
 * them (zeroed; the filter fills them).  The caller checked the capacity.
 */
static unsigned int cpuid_add_missing(struct kvm_cpuid2 *c, bool apply)
{
	unsigned int missing = 0;

	for (size_t i = 0; i < sizeof(cpuid_needs) / sizeof(cpuid_needs[0]); i++) {
		const struct cpuid_need *n = &cpuid_needs[i];

		if (n->if_leaf_present && !cpuid_has_leaf(c, n->function))
			continue;
		if (cpuid_find(c, n->function, n->index))
			continue;
		missing++;
		if (apply) {
			struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

			memset(e, 0, sizeof(*e));
			e->function = n->function;
			e->index = n->index;
			e->flags = n->flags;
		}
	}
	return missing;
}

static void filter_leaf1(struct kvm_cpuid_entry2 *e, const struct cpuid_topo *t)
{
	/* Addressable logical ids; the 8-bit field saturates at 255, which
	 * still gives Linux's get_count_order() the right shift (8). */
	uint32_t ids = 1u << t->core_bits;

	if (ids > 0xff)
		ids = 0xff;
	e->ebx = (t->index << 24) | (ids << 16) | (LEAF1_CLFLUSH_QWORDS << 8);
	if (t->ncpus > 1)
		e->edx |= LEAF1_EDX_HTT;
	else
		e->edx &= ~LEAF1_EDX_HTT;
	e->ecx |= LEAF1_ECX_HYPERVISOR | LEAF1_ECX_TSC_DEADLINE;
}

/* Leaf 4 (Intel) and 0x8000001d (AMD): L1/L2 per core, L3 per package. */
static void filter_cache(struct kvm_cpuid_entry2 *e, const struct cpuid_topo *t)
{
	uint32_t ids = 1u << t->core_bits;
	uint32_t sharing = CACHE_LEVEL(e->eax) >= 3 ? ids - 1 : 0;
	uint32_t cores = ids - 1 > CACHE_CORES_MAX ? CACHE_CORES_MAX : ids - 1;

	if (CACHE_TYPE(e->eax) == 0)	/* no more caches */
		return;
	e->eax = (e->eax & ~CACHE_SHARING_MASK) | (sharing << CACHE_SHARING_SHIFT);
	if (e->function == 4) {
		e->eax &= ~(CACHE_CORES_MAX << CACHE_CORES_SHIFT);
		e->eax |= cores << CACHE_CORES_SHIFT;
	}
}

/* Leaves 0xb and 0x1f: subleaf 0 SMT (1 thread), 1 core, then invalid. */
static void filter_ext_topo(struct kvm_cpuid_entry2 *e,
			    const struct cpuid_topo *t)
{
	e->edx = t->index;	/* x2APIC id */
	switch (e->index) {
	case 0:
		e->eax = 0;			/* no SMT bits in the APIC id */
		e->ebx = 1;			/* threads per core */
		e->ecx = TOPO_TYPE_SMT << 8;	/* level number 0 */
		break;
	case 1:
		e->eax = t->core_bits;		/* shift to the package id */
		e->ebx = t->ncpus;		/* logical processors per package */
		e->ecx = 1 | (TOPO_TYPE_CORE << 8);
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index & 0xff;	/* type 0: TOPO_TYPE_INVALID */
		break;
	}
}

static void filter_kvm_signature(struct kvm_cpuid_entry2 *e,
				 const struct cpuid_topo *t)
{
	static const char sig[12] = "KVMKVMKVM\0\0";

	e->eax = t->kvm_max_leaf;
	memcpy(&e->ebx, sig, 4);
	memcpy(&e->ecx, sig + 4, 4);
	memcpy(&e->edx, sig + 8, 4);
}

/* AMD: NC = cores - 1, ApicIdSize = core bits (0 means "use NC"). */
static void filter_amd_size(struct kvm_cpuid_entry2 *e,
			    const struct cpuid_topo *t)
{
	e->ecx &= ~(AMD_NC_MASK | AMD_APICID_SIZE_MASK);
	e->ecx |= (t->ncpus - 1) | (t->core_bits << AMD_APICID_SIZE_SHIFT);
}

/* AMD extended APIC id: core id = index, one thread per core, one node. */
static void filter_amd_ext_apic(struct kvm_cpuid_entry2 *e,
				const struct cpuid_topo *t)
{
	e->eax = t->index;
	e->ebx = t->index & 0xff;
	e->ecx = 0;
}

static void filter_entry(struct kvm_cpuid_entry2 *e, const struct cpuid_topo *t)
{
	switch (e->function) {
	case 1:
		filter_leaf1(e, t);
		break;
	case 4:
	case 0x8000001d:
		filter_cache(e, t);
		break;
	case 6:
		e->eax &= LEAF6_EAX_ARAT;
		e->ebx = e->ecx = e->edx = 0;
		break;
	case 0xb:
	case 0x1f:
		filter_ext_topo(e, t);
		break;
	case KVM_LEAF_SIGNATURE:
		filter_kvm_signature(e, t);
		break;
	case 0x80000008:
		filter_amd_size(e, t);
		break;
	case 0x8000001e:
		filter_amd_ext_apic(e, t);
		break;
	default:
		break;
	}
}

static int cpuid_check_args(const struct kvm_cpuid2 *cpuid, unsigned int capacity,
			    unsigned int index, unsigned int ncpus)
{
	if (!cpuid || cpuid->nent > capacity)
		return err_set(-EINVAL, "CPUID: %u entries exceed the capacity %u",
			       cpuid ? cpuid->nent : 0, capacity);
	if (ncpus == 0 || ncpus > X86_MAX_CPUS)
		return err_set(-EINVAL, "CPUID: %u vCPUs, must be 1..%d",
			       ncpus, X86_MAX_CPUS);
	if (index >= ncpus)
		return err_set(-EINVAL, "CPUID: vCPU index %u out of range (%u vCPUs)",
			       index, ncpus);
	return 0;
}

/**
 * x86_cpuid_filter() - turn KVM's supported CPUID into one vCPU's CPUID.
 * @cpuid:	entries from KVM_GET_SUPPORTED_CPUID, edited in place
 * @capacity:	number of entries @cpuid has room for (nent may grow to it)
 * @index:	the vCPU, also its APIC id
 * @ncpus:	vCPUs in the VM, 1..X86_MAX_CPUS
 *
 * Adds leaf 0x40000000 and subleaves 0-1 of 0xb/0x1f (when those leaves exist)
 * if KVM did not report them.  Nothing is changed when an argument is bad or
 * the additions do not fit.
 *
 * Return: 0, -EINVAL on a bad argument, -ENOSPC when @capacity is too small.
 */
int x86_cpuid_filter(struct kvm_cpuid2 *cpuid, unsigned int capacity,
		     unsigned int index, unsigned int ncpus)
{
	struct cpuid_topo t;
	unsigned int missing;
	int ret = cpuid_check_args(cpuid, capacity, index, ncpus);

	if (ret)
		return ret;
	missing = cpuid_add_missing(cpuid, false);
	if (missing > capacity - cpuid->nent)
		return err_set(-ENOSPC,
			       "CPUID: %u entries to add, room for %u (capacity %u)",
			       missing, capacity - cpuid->nent, capacity);
	cpuid_add_missing(cpuid, true);

	t.index = index;
	t.ncpus = ncpus;
	t.core_bits = ceil_log2(ncpus);
	t.kvm_max_leaf = cpuid_kvm_max_leaf(cpuid);
	for (uint32_t i = 0; i < cpuid->nent; i++)
		filter_entry(&cpuid->entries[i], &t);
	return 0;
}
