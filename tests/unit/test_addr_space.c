// SPDX-License-Identifier: MIT
/* Unit tests of the guest address space (no KVM needed). */
#include <errno.h>
#include <stdint.h>

#include "core/addr_space.h"
#include "harness.h"

static uint8_t mem_a[8192], mem_b[4096], mem_c[4096];

/* a: [0x1000, 0x3000), b: [0x3000, 0x4000) adjacent, hole, c: [0x8000, 0x9000) */
static void setup(struct addr_space *as)
{
	as_init(as);
	memset(mem_a, 0, sizeof(mem_a));
	memset(mem_b, 0, sizeof(mem_b));
	memset(mem_c, 0, sizeof(mem_c));
	if (as_add_region(as, 0x1000, sizeof(mem_a), mem_a, -1, 0, 0) ||
	    as_add_region(as, 0x8000, sizeof(mem_c), mem_c, -1, 0, AS_REGION_READONLY) ||
	    as_add_region(as, 0x3000, sizeof(mem_b), mem_b, -1, 0, 0))
		abort();
}

static void add_region_rejects_zero_size_and_overlap(void)
{
	struct addr_space as;
	static uint8_t x[16];

	setup(&as);
	CHECK_EQ(as_add_region(&as, 0x20000, 0, x, -1, 0, 0), -EINVAL);
	CHECK_EQ(as_add_region(&as, 0x2fff, 2, x, -1, 0, 0), -EEXIST);
	CHECK_EQ(as_add_region(&as, 0x0, 0x1001, x, -1, 0, 0), -EEXIST);
	CHECK_EQ(as_add_region(&as, UINT64_MAX - 4, 16, x, -1, 0, 0), -EINVAL);
	CHECK_EQ(as.nr_regions, 3);
	CHECK_EQ(as.regions[1].gpa, 0x3000);
}

static void copy_at_region_boundaries_succeeds_inside_and_fails_outside(void)
{
	struct addr_space as;
	uint8_t buf[4] = { 1, 2, 3, 4 };

	setup(&as);
	CHECK_EQ(as_copy_to(&as, 0x1000, buf, 1), 0);		/* first byte */
	CHECK_EQ(mem_a[0], 1);
	CHECK_EQ(as_copy_to(&as, 0x3fff, buf, 1), 0);		/* last byte of b */
	CHECK_EQ(mem_b[4095], 1);
	CHECK_EQ(as_copy_to(&as, 0x4000, buf, 1), -EFAULT);	/* one past */
	CHECK_EQ(as_copy_to(&as, 0x0fff, buf, 2), -EFAULT);	/* starts in hole */
	CHECK_EQ(as_copy_to(&as, 0x2ffe, buf, 4), 0);		/* spans a -> b */
	CHECK_EQ(mem_a[8190], 1);
	CHECK_EQ(mem_b[1], 4);
	CHECK_EQ(as_copy_to(&as, 0x3ffe, buf, 4), -EFAULT);	/* runs into hole */
	CHECK_EQ(mem_b[4094], 0);				/* nothing touched */
	CHECK_EQ(as_copy_from(&as, buf, UINT64_MAX - 1, 4), -EFAULT); /* overflow */
}

static void readonly_region_refuses_writes_but_allows_reads(void)
{
	struct addr_space as;
	uint8_t b = 7;

	setup(&as);
	mem_c[0] = 9;
	CHECK_EQ(as_copy_to(&as, 0x8000, &b, 1), -EFAULT);
	CHECK(as_map_rw(&as, 0x8000, 1) == NULL);
	CHECK_EQ(as_copy_from(&as, &b, 0x8000, 1), 0);
	CHECK_EQ(b, 9);
	CHECK(as_map_ro(&as, 0x8000, 4096) == mem_c);
	CHECK(as_map_ro(&as, 0x8000, 4097) == NULL);
}

static void map_refuses_ranges_spanning_regions(void)
{
	struct addr_space as;

	setup(&as);
	CHECK(as_map_rw(&as, 0x1000, 8192) == mem_a);
	CHECK(as_map_rw(&as, 0x2fff, 2) == NULL);
	CHECK(as_map_rw(&as, 0x1000, 0) == NULL);
	CHECK(as_range_mapped(&as, 0x1000, 0x3000));
	CHECK(!as_range_mapped(&as, 0x1000, 0x3001));
}

int main(void)
{
	RUN(add_region_rejects_zero_size_and_overlap);
	RUN(copy_at_region_boundaries_succeeds_inside_and_fails_outside);
	RUN(readonly_region_refuses_writes_but_allows_reads);
	RUN(map_refuses_ranges_spanning_regions);
	return harness_done();
}
