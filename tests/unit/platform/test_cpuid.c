// SPDX-License-Identifier: MIT
/* Unit tests of the per-vCPU CPUID filter (no KVM needed). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/platform/platform.h"
#include "harness.h"

#define CAPACITY 64
#define SIG_EBX 0x4b4d564b	/* "KVMK" */
#define SIG_ECX 0x564b4d56	/* "VMKV" */
#define SIG_EDX 0x0000004d	/* "M\0\0\0" */
#define X2APIC (1u << 21)
#define TSC_DEADLINE (1u << 24)
#define HYPERVISOR (1u << 31)
#define HTT (1u << 28)

static const unsigned int ncpus_cases[] = { 1, 2, 3, 8, 64 };
#define NCASES (sizeof(ncpus_cases) / sizeof(ncpus_cases[0]))

static void add(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx, uint32_t eax,
		uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = (fn == 4 || fn == 7 || fn == 0xb || fn == 0xd) ?
		   KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	e->eax = eax;
	e->ebx = ebx;
	e->ecx = ecx;
	e->edx = edx;
}

/* Roughly what KVM_GET_SUPPORTED_CPUID returns on an 8-core/16-thread host. */
static struct kvm_cpuid2 *fake_kvm_cpuid(bool with_kvm_leaves)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CAPACITY * sizeof(c->entries[0]));

	if (!c)
		abort();
	add(c, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69);
	add(c, 1, 0, 0x000906ea, 0x0f100800, 0xf6fa3203 | X2APIC | TSC_DEADLINE,
	    0x0f8bfbff | HTT);
	add(c, 4, 0, 0x1c004121, 0x01c0003f, 0x3f, 0);	/* L1d, 2 threads */
	add(c, 4, 1, 0x1c004122, 0x01c0003f, 0x3f, 0);	/* L1i */
	add(c, 4, 2, 0x1c004143, 0x00c0003f, 0x3ff, 0);	/* L2 */
	add(c, 4, 3, 0x1c03c163, 0x03c0003f, 0x2fff, 6);	/* L3, 16 threads */
	add(c, 6, 0, 0x77 | (1u << 2), 2, 9, 0);
	add(c, 7, 0, 0, 0x029c6fbf, 0x40000000, 0xbc000400);
	add(c, 0xb, 0, 1, 2, 0x100, 7);
	add(c, 0xb, 1, 4, 16, 0x201, 7);
	add(c, 0xd, 0, 7, 0x340, 0x340, 0);
	if (with_kvm_leaves) {
		add(c, 0x40000000, 0, 0x40000001, SIG_EBX, SIG_ECX, SIG_EDX);
		add(c, 0x40000001, 0, 0x01007afb, 0, 0, 0);
	}
	add(c, 0x80000000, 0, 0x80000008, 0, 0, 0);
	add(c, 0x80000001, 0, 0, 0, 0x121, 0x2c100800);
	add(c, 0x80000008, 0, 0x3027, 0, 0xf0ff, 0);
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c,
					   uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static unsigned int order(unsigned int n)	/* ceil(log2(n)) */
{
	unsigned int b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/* Filter a fresh fake for (index, ncpus); NULL (and a failed check) on error. */
static struct kvm_cpuid2 *filtered(unsigned int index, unsigned int ncpus)
{
	struct kvm_cpuid2 *c = fake_kvm_cpuid(true);

	if (x86_cpuid_filter(c, CAPACITY, index, ncpus)) {
		free(c);
		return NULL;
	}
	return c;
}

static void leaf1_reports_index_as_apic_id_and_sets_hypervisor_bit(void)
{
	for (size_t k = 0; k < NCASES; k++) {
		unsigned int n = ncpus_cases[k];

		for (unsigned int i = 0; i < n; i++) {
			struct kvm_cpuid2 *c = filtered(i, n);
			const struct kvm_cpuid_entry2 *e;
			uint32_t ebx, ecx, edx;

			CHECK(c);
			e = find(c, 1, 0);
			ebx = e->ebx, ecx = e->ecx, edx = e->edx;
			free(c);
			CHECK_EQ(ebx >> 24, i);
			CHECK_EQ((ebx >> 16) & 0xff, 1u << order(n));
			CHECK_EQ((ebx >> 8) & 0xff, 8);
			CHECK_EQ(!!(edx & HTT), n > 1);
			CHECK(ecx & HYPERVISOR);
			CHECK((ecx & (X2APIC | TSC_DEADLINE)) == (X2APIC | TSC_DEADLINE));
		}
	}
}

static void leaf_b_reports_one_thread_per_core_and_ncpus_cores(void)
{
	for (size_t k = 0; k < NCASES; k++) {
		unsigned int n = ncpus_cases[k];

		for (unsigned int i = 0; i < n; i++) {
			struct kvm_cpuid2 *c = filtered(i, n);
			struct kvm_cpuid_entry2 smt, core;

			CHECK(c);
			smt = *find(c, 0xb, 0);
			core = *find(c, 0xb, 1);
			free(c);
			CHECK_EQ(smt.eax, 0);
			CHECK_EQ(smt.ebx, 1);
			CHECK_EQ(smt.ecx, 0x100);
			CHECK_EQ(smt.edx, i);
			CHECK_EQ(core.eax, order(n));
			CHECK_EQ(core.ebx, n);
			CHECK_EQ(core.ecx, 0x201);
			CHECK_EQ(core.edx, i);
			CHECK_EQ(i >> core.eax, 0);	/* all in package 0 */
		}
	}
}

static void leaf4_shares_l3_across_package_and_l1_l2_per_core(void)
{
	for (size_t k = 0; k < NCASES; k++) {
		unsigned int n = ncpus_cases[k];
		struct kvm_cpuid2 *c = filtered(n - 1, n);
		static const uint32_t low[4] = { 0x121, 0x122, 0x143, 0x163 };
		uint32_t eax[4];

		CHECK(c);
		for (uint32_t s = 0; s < 4; s++)
			eax[s] = find(c, 4, s)->eax;
		free(c);
		for (uint32_t s = 0; s < 4; s++) {
			uint32_t sharing = (eax[s] >> 14) & 0xfff;

			CHECK_EQ(eax[s] >> 26, (1u << order(n)) - 1);
			CHECK_EQ(sharing, s == 3 ? (1u << order(n)) - 1 : 0);
			CHECK_EQ(eax[s] & 0x3fff, low[s]);	/* type, level kept */
		}
	}
}

static void tsc_deadline_is_set_even_when_kvm_omits_it(void)
{
	struct kvm_cpuid2 *c = fake_kvm_cpuid(true);
	uint32_t ecx;

	c->entries[1].ecx &= ~TSC_DEADLINE;	/* kernels before 6.14 */
	CHECK_EQ(c->entries[1].function, 1);
	CHECK_EQ(x86_cpuid_filter(c, CAPACITY, 0, 1), 0);
	ecx = find(c, 1, 0)->ecx;
	free(c);
	CHECK(ecx & TSC_DEADLINE);
	CHECK(ecx & X2APIC);
}

static void kvm_signature_leaf_is_added_when_missing(void)
{
	struct kvm_cpuid2 *c = fake_kvm_cpuid(false);
	uint32_t nent = c->nent;
	const struct kvm_cpuid_entry2 *e;

	CHECK_EQ(x86_cpuid_filter(c, CAPACITY, 0, 2), 0);
	CHECK_EQ(c->nent, nent + 1);
	e = find(c, 0x40000000, 0);
	CHECK(e);
	CHECK_EQ(e->eax, 0x40000000);
	CHECK_EQ(e->ebx, SIG_EBX);
	CHECK_EQ(e->ecx, SIG_ECX);
	CHECK_EQ(e->edx, SIG_EDX);
	free(c);
}

static void kvm_signature_leaf_reports_highest_kvm_leaf(void)
{
	struct kvm_cpuid2 *c = filtered(0, 1);
	struct kvm_cpuid2 *orig = fake_kvm_cpuid(true);
	const struct kvm_cpuid_entry2 *e;
	uint32_t nent = orig->nent;

	free(orig);
	CHECK(c);
	e = find(c, 0x40000000, 0);
	CHECK_EQ(c->nent, nent);	/* nothing added */
	CHECK_EQ(e->eax, 0x40000001);
	CHECK_EQ(e->ebx, SIG_EBX);
	CHECK_EQ(e->edx, SIG_EDX);
	free(c);
}

static void leaf_b_core_level_is_added_when_only_smt_reported(void)
{
	struct kvm_cpuid2 *c = fake_kvm_cpuid(true);
	const struct kvm_cpuid_entry2 *e;

	/* drop 0xb subleaf 1 (entry 9) by moving the last entry over it */
	CHECK_EQ(c->entries[9].function, 0xb);
	c->entries[9] = c->entries[--c->nent];
	CHECK_EQ(x86_cpuid_filter(c, CAPACITY, 5, 8), 0);
	e = find(c, 0xb, 1);
	CHECK(e);
	CHECK_EQ(e->flags, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	CHECK_EQ(e->ebx, 8);
	CHECK_EQ(e->edx, 5);
	CHECK(find(c, 0x1f, 0) == NULL);	/* absent leaves stay absent */
	free(c);
}

static void amd_leaf_80000008_reports_core_count_and_id_size(void)
{
	struct kvm_cpuid2 *c = filtered(2, 3);
	const struct kvm_cpuid_entry2 *e;

	CHECK(c);
	e = find(c, 0x80000008, 0);
	CHECK_EQ(e->ecx & 0xff, 2);
	CHECK_EQ((e->ecx >> 12) & 0xf, 2);
	CHECK_EQ(e->ecx & 0xf00, 0);
	CHECK_EQ(e->eax, 0x3027);	/* address sizes kept */
	free(c);
}

static void amd_cache_and_ext_apic_leaves_follow_topology(void)
{
	struct kvm_cpuid2 *c = fake_kvm_cpuid(true);
	struct kvm_cpuid_entry2 l1, l3, ext;

	add(c, 0x8000001d, 0, 0x00004121, 0x01c0003f, 0x3f, 0);	/* L1d, 2 threads */
	add(c, 0x8000001d, 3, 0x0003c163, 0x03c0003f, 0x7fff, 1);	/* L3, 16 */
	add(c, 0x8000001e, 0, 0x1c, 0x10e, 0x300, 0);
	CHECK_EQ(x86_cpuid_filter(c, CAPACITY, 5, 8), 0);
	l1 = *find(c, 0x8000001d, 0);
	l3 = *find(c, 0x8000001d, 3);
	ext = *find(c, 0x8000001e, 0);
	free(c);
	CHECK_EQ(l1.eax, 0x121);		/* per core */
	CHECK_EQ(l3.eax, 0x163 | (7u << 14));	/* all 8 share the L3 */
	CHECK_EQ(ext.eax, 5);			/* extended APIC id */
	CHECK_EQ(ext.ebx, 5);			/* core 5, 1 thread per core */
	CHECK_EQ(ext.ecx, 0);			/* node 0 of 1 */
}

static void leaf6_is_trimmed_to_arat(void)
{
	struct kvm_cpuid2 *c = filtered(0, 1);
	const struct kvm_cpuid_entry2 *e;

	CHECK(c);
	e = find(c, 6, 0);
	CHECK_EQ(e->eax, 1u << 2);
	CHECK_EQ(e->ebx | e->ecx | e->edx, 0);
	free(c);
}

static void too_small_capacity_returns_enospc_and_changes_nothing(void)
{
	struct kvm_cpuid2 *c = fake_kvm_cpuid(false);
	struct kvm_cpuid2 *copy = fake_kvm_cpuid(false);
	size_t sz = sizeof(*c) + CAPACITY * sizeof(c->entries[0]);
	int ret;

	err_clear();
	ret = x86_cpuid_filter(c, c->nent, 0, 2);
	CHECK_EQ(ret, -ENOSPC);
	CHECK_STR_CONTAINS(err_msg(), "CPUID");
	CHECK(memcmp(c, copy, sz) == 0);
	free(c);
	free(copy);
}

static void bad_index_or_ncpus_returns_einval(void)
{
	struct kvm_cpuid2 *c = fake_kvm_cpuid(true);

	CHECK_EQ(x86_cpuid_filter(c, CAPACITY, 2, 2), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "index 2");
	CHECK_EQ(x86_cpuid_filter(c, CAPACITY, 0, 0), -EINVAL);
	CHECK_EQ(x86_cpuid_filter(c, CAPACITY, 0, X86_MAX_CPUS + 1), -EINVAL);
	CHECK_EQ(x86_cpuid_filter(c, c->nent - 1, 0, 1), -EINVAL);
	CHECK_EQ(x86_cpuid_filter(NULL, CAPACITY, 0, 1), -EINVAL);
	free(c);
}

static void max_cpus_last_vcpu_is_accepted(void)
{
	struct kvm_cpuid2 *c = filtered(X86_MAX_CPUS - 1, X86_MAX_CPUS);

	CHECK(c);
	CHECK_EQ(find(c, 1, 0)->ebx >> 24, X86_MAX_CPUS - 1);
	CHECK_EQ((find(c, 1, 0)->ebx >> 16) & 0xff, 0xff);	/* saturated */
	CHECK_EQ(find(c, 0xb, 1)->eax, 8);
	CHECK_EQ(find(c, 4, 0)->eax >> 26, 63);
	free(c);
}

int main(void)
{
	RUN(leaf1_reports_index_as_apic_id_and_sets_hypervisor_bit);
	RUN(leaf_b_reports_one_thread_per_core_and_ncpus_cores);
	RUN(leaf4_shares_l3_across_package_and_l1_l2_per_core);
	RUN(tsc_deadline_is_set_even_when_kvm_omits_it);
	RUN(kvm_signature_leaf_is_added_when_missing);
	RUN(kvm_signature_leaf_reports_highest_kvm_leaf);
	RUN(leaf_b_core_level_is_added_when_only_smt_reported);
	RUN(amd_leaf_80000008_reports_core_count_and_id_size);
	RUN(amd_cache_and_ext_apic_leaves_follow_topology);
	RUN(leaf6_is_trimmed_to_arat);
	RUN(too_small_capacity_returns_enospc_and_changes_nothing);
	RUN(bad_index_or_ncpus_returns_einval);
	RUN(max_cpus_last_vcpu_is_accepted);
	return harness_done();
}
