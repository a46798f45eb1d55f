// SPDX-License-Identifier: MIT
/* Unit tests of the port I/O / MMIO bus (an interval map of handlers). */
#include <errno.h>
#include <stdint.h>

#include "core/bus.h"
#include "harness.h"

/* What the recording handlers saw last. */
struct probe {
	int reads, writes;
	uint64_t offset;
	uint32_t size;
	uint8_t wdata[8];
	uint8_t fill;		/* byte a read returns */
};

static void probe_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct probe *p = opaque;

	p->reads++;
	p->offset = offset;
	p->size = size;
	memset(data, p->fill, size);
}

static void probe_write(void *opaque, uint64_t offset, const uint8_t *data,
			uint32_t size)
{
	struct probe *p = opaque;

	p->writes++;
	p->offset = offset;
	p->size = size;
	memcpy(p->wdata, data, size < 8 ? size : 8);
}

static const struct bus_ops probe_ops = { .read = probe_read, .write = probe_write };
static const struct bus_ops write_only_ops = { .write = probe_write };

/* The name of the range claiming @addr; a NULL from bus_find must not crash the test. */
static const char *name_at(const struct bus *bus, uint64_t addr)
{
	const struct bus_range *r = bus_find(bus, addr);

	return r ? r->name : "(unclaimed)";
}

static void *opaque_at(const struct bus *bus, uint64_t addr)
{
	const struct bus_range *r = bus_find(bus, addr);

	return r ? r->opaque : NULL;
}

/* One range [0x100, 0x110) named "dev". */
static void setup_one(struct bus *bus, struct probe *p)
{
	bus_init(bus, "pio");
	memset(p, 0, sizeof(*p));
	if (bus_register(bus, 0x100, 0x10, &probe_ops, p, "dev"))
		abort();
}

static void register_refuses_zero_length(void)
{
	struct bus bus;
	struct probe p;

	setup_one(&bus, &p);
	CHECK_EQ(bus_register(&bus, 0x1000, 0, &probe_ops, &p, "empty"), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "empty");
	CHECK_EQ(bus_count(&bus), 1);
	CHECK(bus_find(&bus, 0x1000) == NULL);
	bus_destroy(&bus);
}

static void register_refuses_ranges_that_wrap_past_the_top(void)
{
	struct bus bus;
	struct probe p;

	setup_one(&bus, &p);
	CHECK_EQ(bus_register(&bus, UINT64_MAX, 2, &probe_ops, &p, "wrap"), -EINVAL);
	CHECK_EQ(bus_register(&bus, UINT64_MAX - 0xf, 0x20, &probe_ops, &p, "wrap"),
		 -EINVAL);
	CHECK_EQ(bus_register(&bus, 0x1000, UINT64_MAX, &probe_ops, &p, "wrap"), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "overflows");
	CHECK_EQ(bus_count(&bus), 1);
	/* The highest range that still fits is accepted. */
	CHECK_EQ(bus_register(&bus, UINT64_MAX - 0xf, 0xf, &probe_ops, &p, "top"), 0);
	CHECK(bus_find(&bus, UINT64_MAX - 1) != NULL);
	CHECK(bus_find(&bus, UINT64_MAX) == NULL);
	bus_destroy(&bus);
}

static void register_refuses_every_overlap_shape(void)
{
	static const struct { uint64_t base, len; const char *shape; } cases[] = {
		{ 0x100, 0x10, "same" },
		{ 0x104, 0x4, "inside" },
		{ 0x0f0, 0x40, "covering" },
		{ 0x0f8, 0x09, "left edge" },	/* [0xf8, 0x101) */
		{ 0x10f, 0x08, "right edge" },	/* [0x10f, 0x117) */
		{ 0x100, 0x01, "first byte" },
		{ 0x10f, 0x01, "last byte" },
	};
	struct bus bus;
	struct probe p;
	unsigned int i;

	setup_one(&bus, &p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = bus_register(&bus, cases[i].base, cases[i].len, &probe_ops, &p,
				       cases[i].shape);

		if (ret != -EEXIST)
			printf("# overlap shape '%s' gave %d\n", cases[i].shape, ret);
		CHECK_EQ(ret, -EEXIST);
		CHECK_STR_CONTAINS(err_msg(), "overlaps dev");
	}
	CHECK_EQ(bus_count(&bus), 1);
	CHECK_EQ(bus_range_at(&bus, 0)->base, 0x100);
	CHECK_EQ(bus_range_at(&bus, 0)->len, 0x10);
	bus_destroy(&bus);
}

static void register_refuses_overlap_with_a_later_range(void)
{
	struct bus bus;
	struct probe p;

	/* The new range starts below two existing ones and reaches the second. */
	setup_one(&bus, &p);
	CHECK_EQ(bus_register(&bus, 0x200, 0x10, &probe_ops, &p, "b"), 0);
	CHECK_EQ(bus_register(&bus, 0x120, 0xe1, &probe_ops, &p, "c"), -EEXIST);
	CHECK_STR_CONTAINS(err_msg(), "overlaps b");
	CHECK_EQ(bus_register(&bus, 0x000, 0x300, &probe_ops, &p, "c"), -EEXIST);
	CHECK_EQ(bus_count(&bus), 2);
	bus_destroy(&bus);
}

static void register_accepts_ranges_adjacent_on_both_sides(void)
{
	struct bus bus;
	struct probe p;

	setup_one(&bus, &p);
	CHECK_EQ(bus_register(&bus, 0x0f0, 0x10, &probe_ops, &p, "below"), 0);
	CHECK_EQ(bus_register(&bus, 0x110, 0x10, &probe_ops, &p, "above"), 0);
	CHECK_EQ(bus_count(&bus), 3);
	CHECK_STR_CONTAINS(name_at(&bus, 0x0ff), "below");
	CHECK_STR_CONTAINS(name_at(&bus, 0x100), "dev");
	CHECK_STR_CONTAINS(name_at(&bus, 0x10f), "dev");
	CHECK_STR_CONTAINS(name_at(&bus, 0x110), "above");
	bus_destroy(&bus);
}

static void find_matches_first_and_last_byte_but_not_one_past(void)
{
	struct bus bus;
	struct probe p;

	setup_one(&bus, &p);
	CHECK(bus_find(&bus, 0x0ff) == NULL);
	CHECK(bus_find(&bus, 0x100) == bus_range_at(&bus, 0));
	CHECK(bus_find(&bus, 0x10f) == bus_range_at(&bus, 0));
	CHECK(bus_find(&bus, 0x110) == NULL);
	CHECK(bus_find(&bus, 0) == NULL);
	CHECK(bus_find(&bus, UINT64_MAX) == NULL);
	bus_destroy(&bus);
}

static void find_on_an_empty_bus_returns_null(void)
{
	struct bus bus;

	bus_init(&bus, "mmio");
	CHECK(bus_find(&bus, 0) == NULL);
	CHECK(bus_find(&bus, 0x1000) == NULL);
	bus_destroy(&bus);
}

static void access_passes_offset_from_base_and_size_to_the_handler(void)
{
	struct bus bus;
	struct probe a, b;
	uint8_t data[8] = { 0x11, 0x22, 0x33, 0x44 };

	setup_one(&bus, &a);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(bus_register(&bus, 0x3f8, 8, &probe_ops, &b, "b"), 0);

	CHECK(bus_access(&bus, 0x3fb, data, 4, true));
	CHECK_EQ(b.writes, 1);
	CHECK_EQ(b.offset, 3);
	CHECK_EQ(b.size, 4);
	CHECK_EQ(b.wdata[0], 0x11);
	CHECK_EQ(b.wdata[3], 0x44);
	CHECK_EQ(a.writes + a.reads, 0);

	a.fill = 0x5a;
	memset(data, 0, sizeof(data));
	CHECK(bus_access(&bus, 0x10e, data, 2, false));
	CHECK_EQ(a.reads, 1);
	CHECK_EQ(a.offset, 0xe);
	CHECK_EQ(a.size, 2);
	CHECK_EQ(data[0], 0x5a);
	CHECK_EQ(data[1], 0x5a);
	CHECK_EQ(data[2], 0);		/* nothing beyond the access size */
	CHECK_EQ(b.reads, 0);
	bus_destroy(&bus);
}

static void access_to_the_first_byte_gives_offset_zero(void)
{
	struct bus bus;
	struct probe p;
	uint8_t v = 0;

	setup_one(&bus, &p);
	p.offset = 99;
	p.fill = 7;
	CHECK(bus_access(&bus, 0x100, &v, 1, false));
	CHECK_EQ(p.offset, 0);
	CHECK_EQ(p.size, 1);
	CHECK_EQ(v, 7);
	bus_destroy(&bus);
}

static void unclaimed_read_returns_all_ones_of_the_access_size_and_false(void)
{
	static const uint32_t sizes[] = { 1, 2, 4, 8 };
	struct bus bus;
	struct probe p;
	unsigned int i, j;

	setup_one(&bus, &p);
	for (i = 0; i < 4; i++) {
		uint8_t data[9];

		memset(data, 0x00, sizeof(data));
		CHECK(!bus_access(&bus, 0x110, data, sizes[i], false));
		for (j = 0; j < sizes[i]; j++)
			CHECK_EQ(data[j], 0xff);
		CHECK_EQ(data[sizes[i]], 0x00);	/* not past the access */
	}
	CHECK_EQ(p.reads, 0);
	bus_destroy(&bus);
}

static void unclaimed_write_is_dropped_and_returns_false(void)
{
	struct bus bus;
	struct probe p;
	uint8_t data[4] = { 1, 2, 3, 4 };

	setup_one(&bus, &p);
	CHECK(!bus_access(&bus, 0x0ff, data, 4, true));
	CHECK(!bus_access(&bus, 0x110, data, 1, true));
	CHECK_EQ(p.writes, 0);
	CHECK_EQ(p.reads, 0);
	CHECK_EQ(data[0], 1);		/* the caller's buffer is untouched */
	CHECK_EQ(data[3], 4);
	bus_destroy(&bus);
}

static void unclaimed_accesses_log_each_address_at_most_once(void)
{
	struct bus bus;
	uint8_t v;
	unsigned int i;

	bus_init(&bus, "pio");
	for (i = 0; i < 3; i++)
		CHECK(!bus_access(&bus, 0x80, &v, 1, false));
	CHECK_EQ(bus.nr_logged, 1);
	for (i = 0; i < 2 * BUS_UNCLAIMED_LOG_MAX; i++)
		CHECK(!bus_access(&bus, 0x1000 + i, &v, 1, true));
	CHECK_EQ(bus.nr_logged, BUS_UNCLAIMED_LOG_MAX);
	bus_destroy(&bus);
}

static void claimed_range_without_read_handler_reads_all_ones(void)
{
	struct bus bus;
	struct probe p;
	uint8_t data[2] = { 0, 0 };

	bus_init(&bus, "pio");
	memset(&p, 0, sizeof(p));
	CHECK_EQ(bus_register(&bus, 0x501, 1, &write_only_ops, &p, "wo"), 0);
	CHECK(bus_access(&bus, 0x501, data, 1, false));
	CHECK_EQ(data[0], 0xff);
	CHECK_EQ(data[1], 0);
	CHECK(bus_access(&bus, 0x501, data, 1, true));
	CHECK_EQ(p.writes, 1);
	bus_destroy(&bus);
}

static void access_running_past_the_range_end_reaches_no_handler(void)
{
	struct bus bus;
	struct probe p;
	uint8_t data[4] = { 0, 0, 0, 0 };

	bus_init(&bus, "pio");
	memset(&p, 0, sizeof(p));
	CHECK_EQ(bus_register(&bus, 0x501, 1, &write_only_ops, &p, "wo"), 0);
	CHECK(!bus_access(&bus, 0x501, data, 2, true));
	CHECK_EQ(p.writes, 0);
	CHECK(!bus_access(&bus, 0x501, data, 4, false));
	CHECK_EQ(data[3], 0xff);
	bus_destroy(&bus);
}

/* A small deterministic PRNG so a failure is reproducible. */
static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void ranges_inserted_in_random_order_stay_sorted_and_findable(void)
{
	enum { N = 200 };
	static struct probe probes[N];
	unsigned int order[N];
	struct bus bus;
	uint32_t seed = 0x2545f491;
	unsigned int i;

	/* Range i is [0x1000 + 0x20 * i, +0x10 + (i % 17)): gaps of 0..0x10 bytes. */
	for (i = 0; i < N; i++)
		order[i] = i;
	for (i = N - 1; i > 0; i--) {
		unsigned int j = xorshift(&seed) % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	bus_init(&bus, "mmio");
	for (i = 0; i < N; i++) {
		unsigned int k = order[i];

		CHECK_EQ(bus_register(&bus, 0x1000 + 0x20 * (uint64_t)k, 0x10 + k % 17,
				      &probe_ops, &probes[k], "r"), 0);
	}
	CHECK_EQ(bus_count(&bus), N);
	for (i = 1; i < N; i++)
		CHECK(bus_range_at(&bus, i - 1)->base + bus_range_at(&bus, i - 1)->len <= bus_range_at(&bus, i)->base);
	for (i = 0; i < N; i++) {
		uint64_t base = 0x1000 + 0x20 * (uint64_t)i, len = 0x10 + i % 17;

		CHECK(opaque_at(&bus, base) == &probes[i]);
		CHECK(opaque_at(&bus, base + len - 1) == &probes[i]);
		if (len < 0x20)		/* a gap follows */
			CHECK(bus_find(&bus, base + len) == NULL);
		else if (i + 1 < N)	/* the next range follows at once */
			CHECK(opaque_at(&bus, base + len) == &probes[i + 1]);
	}
	bus_destroy(&bus);
}

int main(void)
{
	RUN(register_refuses_zero_length);
	RUN(register_refuses_ranges_that_wrap_past_the_top);
	RUN(register_refuses_every_overlap_shape);
	RUN(register_refuses_overlap_with_a_later_range);
	RUN(register_accepts_ranges_adjacent_on_both_sides);
	RUN(find_matches_first_and_last_byte_but_not_one_past);
	RUN(find_on_an_empty_bus_returns_null);
	RUN(access_passes_offset_from_base_and_size_to_the_handler);
	RUN(access_to_the_first_byte_gives_offset_zero);
	RUN(unclaimed_read_returns_all_ones_of_the_access_size_and_false);
	RUN(unclaimed_write_is_dropped_and_returns_false);
	RUN(unclaimed_accesses_log_each_address_at_most_once);
	RUN(claimed_range_without_read_handler_reads_all_ones);
	RUN(access_running_past_the_range_end_reaches_no_handler);
	RUN(ranges_inserted_in_random_order_stay_sorted_and_findable);
	return harness_done();
}
