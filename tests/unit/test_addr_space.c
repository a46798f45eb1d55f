// SPDX-License-Identifier: MIT
/* Unit tests of the guest address space (no KVM needed). */
#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/addr_space.h"
#include "harness.h"

static uint8_t mem_a[8192], mem_b[4096], mem_c[4096];

/* a: [0x1000, 0x3000), b: [0x3000, 0x4000) adjacent, hole, c: [0x8000, 0x9000) RO */
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

static unsigned int nr_regions(const struct addr_space *as)
{
	struct as_region_desc d[16];

	return (unsigned int)as_export(as, d, 16);
}

static void add_region_rejects_zero_size_overlap_and_overflow(void)
{
	struct addr_space as;
	static uint8_t x[16];
	struct as_region_desc d[4];

	setup(&as);
	CHECK_EQ(as_add_region(&as, 0x20000, 0, x, -1, 0, 0), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "zero size");
	CHECK_EQ(as_add_region(&as, 0x2fff, 2, x, -1, 0, 0), -EEXIST);
	CHECK_STR_CONTAINS(err_msg(), "overlaps");
	CHECK_EQ(as_add_region(&as, 0x0, 0x1001, x, -1, 0, 0), -EEXIST);
	CHECK_EQ(as_add_region(&as, 0x8fff, 0x10, x, -1, 0, 0), -EEXIST);
	CHECK_EQ(as_add_region(&as, UINT64_MAX - 4, 16, x, -1, 0, 0), -EINVAL);
	CHECK_EQ(as_add_region(&as, UINT64_MAX - 15, 16, x, -1, 0, 0), -EINVAL);
	CHECK_EQ(as_add_region(&as, 0x20000, 16, x, -1, 0, 0x80), -EINVAL);
	CHECK_EQ(as_add_region(&as, 0x20000, 16, NULL, -1, 0, 0), -EINVAL);
	CHECK_EQ(as_export(&as, d, 4), 3);
	CHECK_EQ(d[0].gpa, 0x1000);
	CHECK_EQ(d[1].gpa, 0x3000);
	CHECK_EQ(d[2].gpa, 0x8000);
	as_destroy(&as);
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
	CHECK_EQ(as_copy_from(&as, buf, 0x4000, 1), -EFAULT);
	CHECK_EQ(as_copy_to(&as, 0x0fff, buf, 2), -EFAULT);	/* starts in hole */
	CHECK_EQ(mem_a[0], 1);
	CHECK_EQ(as_copy_to(&as, 0x2ffe, buf, 4), 0);		/* spans a -> b */
	CHECK_EQ(mem_a[8190], 1);
	CHECK_EQ(mem_b[1], 4);
	CHECK_EQ(as_copy_to(&as, 0x3ffe, buf, 4), -EFAULT);	/* runs into hole */
	CHECK_EQ(mem_b[4094], 0);				/* nothing touched */
	CHECK_EQ(as_copy_from(&as, buf, 0x1000, 0x3001), -EFAULT); /* a, b and 1 more */
	CHECK_EQ(as_copy_from(&as, buf, UINT64_MAX - 1, 4), -EFAULT); /* overflow */
	CHECK_EQ(as_copy_to(&as, UINT64_MAX, buf, 2), -EFAULT);
	CHECK_EQ(as_fill_zero(&as, 0x2ffe, 4), 0);
	CHECK_EQ(mem_b[1], 0);
	CHECK_EQ(as_fill_zero(&as, 0x3fff, 2), -EFAULT);
	CHECK_EQ(mem_b[4095], 1);
	as_destroy(&as);
}

static void copy_spanning_three_adjacent_regions_succeeds(void)
{
	struct addr_space as;
	static uint8_t m1[4096], m2[4096], m3[4096];
	uint8_t buf[4098], back[4098];
	unsigned int i;

	as_init(&as);
	CHECK_EQ(as_add_region(&as, 0x10000, 4096, m1, -1, 0, 0), 0);
	CHECK_EQ(as_add_region(&as, 0x11000, 4096, m2, -1, 0, 0), 0);
	CHECK_EQ(as_add_region(&as, 0x12000, 4096, m3, -1, 0, 0), 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	CHECK_EQ(as_copy_to(&as, 0x10fff, buf, sizeof(buf)), 0);
	CHECK_EQ(m1[4095], buf[0]);
	CHECK_EQ(m2[0], buf[1]);
	CHECK_EQ(m3[0], buf[4097]);
	CHECK_EQ(as_copy_from(&as, back, 0x10fff, sizeof(back)), 0);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	CHECK(as_range_mapped(&as, 0x10000, 0x3000));
	CHECK(!as_range_mapped(&as, 0x10000, 0x3001));
	as_destroy(&as);
}

static void readonly_region_refuses_writes_but_allows_reads(void)
{
	struct addr_space as;
	uint8_t b = 7;

	setup(&as);
	mem_c[0] = 9;
	CHECK_EQ(as_copy_to(&as, 0x8000, &b, 1), -EFAULT);
	CHECK_EQ(as_fill_zero(&as, 0x8000, 1), -EFAULT);
	CHECK_EQ(as_write_u32(&as, 0x8000, 1), -EFAULT);
	CHECK(as_map_rw(&as, 0x8000, 1) == NULL);
	CHECK_EQ(mem_c[0], 9);
	CHECK_EQ(as_copy_from(&as, &b, 0x8000, 1), 0);
	CHECK_EQ(b, 9);
	CHECK(as_map_ro(&as, 0x8000, 4096) == mem_c);
	CHECK(as_map_ro(&as, 0x8000, 4097) == NULL);
	as_destroy(&as);
}

static void set_flags_makes_region_readonly_and_back(void)
{
	struct addr_space as;
	uint8_t b = 5;

	setup(&as);
	CHECK_EQ(as_set_flags(&as, 0x3000, AS_REGION_READONLY), 0);
	CHECK_EQ(as_copy_to(&as, 0x3000, &b, 1), -EFAULT);
	CHECK_EQ(as_set_flags(&as, 0x3000, 0), 0);
	CHECK_EQ(as_copy_to(&as, 0x3000, &b, 1), 0);
	CHECK_EQ(as_set_flags(&as, 0x3001, 0), -ENOENT);
	CHECK_EQ(as_set_flags(&as, 0x3000, 0x100), -EINVAL);
	as_destroy(&as);
}

static void map_refuses_ranges_spanning_regions(void)
{
	struct addr_space as;

	setup(&as);
	CHECK(as_map_rw(&as, 0x1000, 8192) == mem_a);
	CHECK(as_map_rw(&as, 0x2fff, 2) == NULL);
	CHECK(as_map_rw(&as, 0x1000, 0) == NULL);
	CHECK(as_map_ro(&as, 0x4000, 1) == NULL);
	CHECK(as_find(&as, 0x2fff) != NULL);
	CHECK(as_find(&as, 0x4000) == NULL);
	CHECK(as_range_mapped(&as, 0x1000, 0x3000));
	CHECK(!as_range_mapped(&as, 0x1000, 0x3001));
	CHECK(!as_range_mapped(&as, UINT64_MAX, 2));
	as_destroy(&as);
}

static void typed_accessors_are_little_endian_and_bounds_checked(void)
{
	struct addr_space as;
	uint8_t v8 = 0;
	uint16_t v16 = 0;
	uint32_t v32 = 0;
	uint64_t v64 = 0;

	setup(&as);
	CHECK_EQ(as_write_u64(&as, 0x1000, 0x0807060504030201ULL), 0);
	CHECK_EQ(mem_a[0], 1);
	CHECK_EQ(mem_a[7], 8);
	CHECK_EQ(as_read_u16(&as, 0x1001, &v16), 0);
	CHECK_EQ(v16, 0x0302);
	CHECK_EQ(as_read_u32(&as, 0x1003, &v32), 0);	/* unaligned */
	CHECK_EQ(v32, 0x07060504);
	CHECK_EQ(as_read_u8(&as, 0x1007, &v8), 0);
	CHECK_EQ(v8, 8);
	CHECK_EQ(as_write_u32(&as, 0x2ffe, 0xaabbccdd), 0);	/* spans a -> b */
	CHECK_EQ(mem_a[8190], 0xdd);
	CHECK_EQ(mem_b[1], 0xaa);
	CHECK_EQ(as_read_u64(&as, 0x2ffc, &v64), 0);
	CHECK_EQ(v64 >> 16, 0xaabbccdd);
	CHECK_EQ(as_write_u16(&as, 0x3fff, 1), -EFAULT);	/* into hole */
	CHECK_EQ(as_write_u8(&as, 0x3fff, 0x5a), 0);
	v64 = 0x1234;
	CHECK_EQ(as_read_u64(&as, 0x3ffc, &v64), -EFAULT);
	CHECK_EQ(v64, 0x1234);				/* untouched on failure */
	CHECK_EQ(as_read_u64(&as, UINT64_MAX - 3, &v64), -EFAULT);
	as_destroy(&as);
}

static void removed_region_is_unmapped_and_generation_changes(void)
{
	struct addr_space as;
	uint64_t gen;
	uint8_t b[2] = { 1, 2 };

	setup(&as);
	gen = as_generation(&as);
	CHECK_EQ(as_remove(&as, 0x3001), -ENOENT);
	CHECK_EQ(as_remove(&as, 0x3000), 0);
	CHECK(as_generation(&as) > gen);
	CHECK_EQ(as_copy_to(&as, 0x3000, b, 1), -EFAULT);
	CHECK_EQ(as_copy_to(&as, 0x2fff, b, 2), -EFAULT);
	CHECK_EQ(nr_regions(&as), 2);
	CHECK_EQ(as_add_region(&as, 0x3000, 4096, mem_b, -1, 0, 0), 0);
	CHECK_EQ(as_copy_to(&as, 0x2fff, b, 2), 0);
	as_destroy(&as);
	CHECK_EQ(nr_regions(&as), 0);
}

static void resize_shrinks_caller_memory_and_refuses_growth_and_overlap(void)
{
	struct addr_space as;
	uint8_t b = 1;

	setup(&as);
	CHECK_EQ(as_resize(&as, 0x1000, 0x1000), 0);
	CHECK_EQ(as_copy_to(&as, 0x1fff, &b, 1), 0);
	CHECK_EQ(as_copy_to(&as, 0x2000, &b, 1), -EFAULT);
	CHECK_EQ(as_resize(&as, 0x1000, 0x2000), -EINVAL);	/* caller memory cannot grow */
	CHECK_EQ(as_resize(&as, 0x1000, 0x3000), -EEXIST);	/* would overlap b */
	CHECK_EQ(as_resize(&as, 0x8000, 0x2000), -EINVAL);	/* caller memory cannot grow */
	CHECK_EQ(as_resize(&as, 0x8000, 0), -EINVAL);
	as_destroy(&as);
}

static void many_regions_use_heap_tables_and_lookups_stay_exact(void)
{
	struct addr_space as;
	static uint8_t mem[64][64];
	struct as_region_desc d[64];
	unsigned int i;
	uint8_t b;

	as_init(&as);
	for (i = 0; i < 64; i++) {
		memset(mem[i], (int)i, sizeof(mem[i]));
		CHECK_EQ(as_add_region(&as, (uint64_t)(63 - i) * 0x1000, 64, mem[63 - i], -1, 0, 0), 0);
	}
	CHECK_EQ(as_export(&as, d, 63), -E2BIG);
	CHECK_EQ(as_export(&as, d, 64), 64);
	CHECK_EQ(d[63].gpa, 63 * 0x1000);
	for (i = 0; i < 64; i++) {
		CHECK_EQ(as_copy_from(&as, &b, (uint64_t)i * 0x1000 + 63, 1), 0);
		CHECK_EQ(b, i);
		CHECK_EQ(as_copy_from(&as, &b, (uint64_t)i * 0x1000 + 64, 1), -EFAULT);
	}
	for (i = 0; i < 64; i += 2)
		CHECK_EQ(as_remove(&as, (uint64_t)i * 0x1000), 0);
	CHECK_EQ(as_copy_from(&as, &b, 0, 1), -EFAULT);
	CHECK_EQ(as_copy_from(&as, &b, 0x1000, 1), 0);
	CHECK_EQ(b, 1);
	as_destroy(&as);
}

int main(void)
{
	RUN(add_region_rejects_zero_size_overlap_and_overflow);
	RUN(copy_at_region_boundaries_succeeds_inside_and_fails_outside);
	RUN(copy_spanning_three_adjacent_regions_succeeds);
	RUN(readonly_region_refuses_writes_but_allows_reads);
	RUN(set_flags_makes_region_readonly_and_back);
	RUN(map_refuses_ranges_spanning_regions);
	RUN(typed_accessors_are_little_endian_and_bounds_checked);
	RUN(removed_region_is_unmapped_and_generation_changes);
	RUN(resize_shrinks_caller_memory_and_refuses_growth_and_overlap);
	RUN(many_regions_use_heap_tables_and_lookups_stay_exact);
	return harness_done();
}
