// SPDX-License-Identifier: MIT
/*
 * Unit tests of the virtqueue library (split and packed rings) on a fake
 * address space: a small driver side in this file builds rings in guest
 * memory, the library under test pops, pushes and signals.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "core/addr_space.h"
#include "harness.h"
#include "virtio/virtqueue.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x100000ULL	/* 1 MiB */
#define RAM2_GPA	(RAM_GPA + RAM_SIZE)	/* adjacent: ring crossing tests */
#define RAM2_SIZE	0x10000ULL
#define ROM_GPA		0x400000ULL
#define ROM_SIZE	0x1000ULL
#define HOLE_GPA	0x800000ULL	/* nothing mapped here */

#define DESC_GPA	(RAM_GPA + 0x0000)
#define AVAIL_GPA	(RAM_GPA + 0x4000)
#define USED_GPA	(RAM_GPA + 0x5000)
#define IND_GPA		(RAM_GPA + 0x8000)
#define BUF_GPA		(RAM_GPA + 0x10000)

#define F_NEXT		1
#define F_WRITE		2
#define F_INDIRECT	4
#define F_AVAIL		(1u << 7)
#define F_USED		(1u << 15)

#define FEAT(b)		(1ULL << (b))
#define SPLIT_FEATS	FEAT(VIRTIO_F_VERSION_1)
#define PACKED_FEATS	(FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_F_RING_PACKED))

/* The test's guest and its driver side. */
struct tenv {
	struct addr_space as;
	uint8_t *ram, *ram2, *rom;
	struct virtqueue vq;
	struct vq_config cfg;
	struct vq_elem e;
	uint16_t avail_idx;	/* split driver: next avail idx */
	uint16_t pnext;		/* packed driver: next slot */
	bool pwrap;		/* packed driver: its wrap counter */
};

/* One descriptor as the tests describe it (NEXT added by the helpers). */
struct tdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
};

static struct tenv T;

/* ---------------------------------------------------------------- guest */

static uint8_t *host(uint64_t gpa)
{
	if (gpa < RAM_GPA || gpa >= RAM_GPA + RAM_SIZE)
		abort();
	return T.ram + (gpa - RAM_GPA);
}

static void w16(uint64_t gpa, uint16_t v)
{
	if (as_write_u16(&T.as, gpa, v))
		abort();
}

static void w32(uint64_t gpa, uint32_t v)
{
	if (as_write_u32(&T.as, gpa, v))
		abort();
}

static void w64(uint64_t gpa, uint64_t v)
{
	if (as_write_u64(&T.as, gpa, v))
		abort();
}

static uint16_t r16(uint64_t gpa)
{
	uint16_t v = 0;

	if (as_read_u16(&T.as, gpa, &v))
		abort();
	return v;
}

static uint32_t r32(uint64_t gpa)
{
	uint32_t v = 0;

	if (as_read_u32(&T.as, gpa, &v))
		abort();
	return v;
}

static void *xalloc(size_t size)
{
	void *p = aligned_alloc(4096, size);

	if (!p)
		abort();
	memset(p, 0, size);
	return p;
}

/* A fresh address space (RAM, adjacent RAM2, a ROM) and a stopped queue. */
static void env_init(void)
{
	as_init(&T.as);
	T.ram = xalloc(RAM_SIZE);
	T.ram2 = xalloc(RAM2_SIZE);
	T.rom = xalloc(ROM_SIZE);
	if (as_add_region(&T.as, RAM_GPA, RAM_SIZE, T.ram, -1, 0, 0) ||
	    as_add_region(&T.as, RAM2_GPA, RAM2_SIZE, T.ram2, -1, 0, 0) ||
	    as_add_region(&T.as, ROM_GPA, ROM_SIZE, T.rom, -1, 0, AS_REGION_READONLY))
		abort();
	vq_reset(&T.vq);
	T.cfg = (struct vq_config){
		.desc_gpa = DESC_GPA, .driver_gpa = AVAIL_GPA, .device_gpa = USED_GPA,
	};
	T.avail_idx = 0;
	T.pnext = 0;
	T.pwrap = true;
}

static void env_fini(void)
{
	as_destroy(&T.as);
	free(T.ram);
	free(T.ram2);
	free(T.rom);
}

/* env_init() and a started queue; 0 or vq_start's error. */
static int env_start(uint16_t size, uint64_t features)
{
	env_init();
	T.cfg.size = size;
	T.cfg.features = features;
	return vq_start(&T.vq, &T.as, &T.cfg);
}

/* ---------------------------------------------------- split driver side */

static void split_put(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		      uint16_t next)
{
	uint64_t d = DESC_GPA + 16ULL * i;

	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, flags);
	w16(d + 14, next);
}

static void split_set_avail_idx(uint16_t idx)
{
	T.avail_idx = idx;
	__asm__ __volatile__("mfence" ::: "memory");	/* TSan refuses atomic_thread_fence */
	w16(AVAIL_GPA + 2, idx);
}

static void split_make_avail(uint16_t head)
{
	w16(AVAIL_GPA + 4 + 2ULL * (T.avail_idx % T.cfg.size), head);
	split_set_avail_idx((uint16_t)(T.avail_idx + 1));
}

/* Write @n descriptors at indices first, first+1, ... linked by NEXT. */
static void split_chain(uint16_t first, const struct tdesc *ds, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint16_t i = (uint16_t)((first + k) % T.cfg.size);
		uint16_t next = (uint16_t)((first + k + 1) % T.cfg.size);

		split_put(i, ds[k].addr, ds[k].len,
			  (uint16_t)(ds[k].flags | (k + 1 < n ? F_NEXT : 0)), next);
	}
	split_make_avail(first);
}

static uint64_t used_elem_gpa(uint16_t idx)
{
	return USED_GPA + 4 + 8ULL * (idx % T.cfg.size);
}

/* Indirect table entry @k at @table. */
static void ind_put(uint64_t table, unsigned int k, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint64_t d = table + 16ULL * k;

	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, flags);
	w16(d + 14, next);
}

/* --------------------------------------------------- packed driver side */

/* Packed indirect table entry @k: id (ignored) at 12, flags at 14. */
static void pind_put(uint64_t table, unsigned int k, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	uint64_t d = table + 16ULL * k;

	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, 0x7777);
	w16(d + 14, flags);
}

static void packed_put(uint16_t i, uint64_t addr, uint32_t len, uint16_t id)
{
	uint64_t d = DESC_GPA + 16ULL * i;

	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, id);
}

/* Make a chain of @n available with buffer id @id; head flags written last. */
static void packed_chain(const struct tdesc *ds, unsigned int n, uint16_t id)
{
	uint16_t i = T.pnext, head = T.pnext, head_flags = 0;
	bool wrap = T.pwrap;
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint16_t f = (uint16_t)(ds[k].flags | (k + 1 < n ? F_NEXT : 0) |
					(wrap ? F_AVAIL : F_USED));

		packed_put(i, ds[k].addr, ds[k].len, id);
		if (k == 0)
			head_flags = f;
		else
			w16(DESC_GPA + 16ULL * i + 14, f);
		if (++i == T.cfg.size) {
			i = 0;
			wrap = !wrap;
		}
	}
	__asm__ __volatile__("mfence" ::: "memory");	/* TSan refuses atomic_thread_fence */
	w16(DESC_GPA + 16ULL * head + 14, head_flags);
	T.pnext = i;
	T.pwrap = wrap;
}

/* --------------------------------------------------------- expectations */

/* The queue refuses the current chain, stays broken, and works after reset. */
static int expect_broken(const char *why)
{
	struct vq_elem e;
	struct vq_config cfg = T.cfg;

	if (vq_pop(&T.vq, &e) != -EPROTO || !T.vq.broken || !strstr(T.vq.err, why)) {
		printf("# vq_err: \"%s\" (wanted \"%s\")\n", T.vq.err, why);
		return 0;
	}
	if (vq_pop(&T.vq, &e) != -EPROTO || vq_push(&T.vq, &e, 0) != -EINVAL ||
	    vq_has_avail(&T.vq) || vq_should_interrupt(&T.vq))
		return 0;
	vq_reset(&T.vq);
	if (T.vq.broken || vq_pop(&T.vq, &e) != -EINVAL)
		return 0;
	return vq_start(&T.vq, &T.as, &cfg) == 0;
}

/* Segment @k of T.e is [gpa, +len). */
static int seg_is(unsigned int k, uint64_t gpa, uint32_t len)
{
	return T.e.segs[k].gpa == gpa && T.e.segs[k].len == len;
}

/* ================================================================ tests */

static void start_rejects_bad_sizes(void)
{
	CHECK_EQ(env_start(0, SPLIT_FEATS), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "size 0");
	CHECK(!T.vq.ready);
	env_fini();
	CHECK_EQ(env_start(VQ_MAX_SIZE * 2, SPLIT_FEATS), -EINVAL);
	env_fini();
	CHECK_EQ(env_start(6, SPLIT_FEATS), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "power of two");
	env_fini();
	CHECK_EQ(env_start(6, PACKED_FEATS), 0);	/* packed: any size */
	env_fini();
	CHECK_EQ(env_start(0, PACKED_FEATS), -EINVAL);
	env_fini();
	CHECK_EQ(env_start(VQ_MAX_SIZE + 1, PACKED_FEATS), -EINVAL);
	env_fini();
	CHECK_EQ(env_start(VQ_MAX_SIZE, SPLIT_FEATS), 0);
	env_fini();
}

/* Try @cfg on a fresh environment; returns vq_start's result. */
static int start_with(struct vq_config cfg)
{
	int ret;

	env_init();
	ret = vq_start(&T.vq, &T.as, &cfg);
	return ret;
}

static void start_rejects_misaligned_or_unmapped_rings(void)
{
	struct vq_config base = {
		.size = 16, .desc_gpa = DESC_GPA, .driver_gpa = AVAIL_GPA,
		.device_gpa = USED_GPA, .features = SPLIT_FEATS,
	};
	struct vq_config c;

	c = base; c.desc_gpa += 8;
	CHECK_EQ(start_with(c), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "aligned");
	env_fini();
	c = base; c.driver_gpa += 1;
	CHECK_EQ(start_with(c), -EINVAL);
	env_fini();
	c = base; c.device_gpa += 2;
	CHECK_EQ(start_with(c), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "used ring");
	env_fini();
	c = base; c.desc_gpa = HOLE_GPA;
	CHECK_EQ(start_with(c), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "descriptor area");
	env_fini();
	c = base; c.desc_gpa = RAM_GPA - 0x10;		/* starts before RAM */
	CHECK_EQ(start_with(c), -EINVAL);
	env_fini();
	/* used ring crossing from RAM into the adjacent RAM2: not one region */
	c = base; c.device_gpa = RAM2_GPA - 0x40;
	CHECK_EQ(start_with(c), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "one writable RAM region");
	env_fini();
	c = base; c.device_gpa = ROM_GPA;		/* device writes it: not ROM */
	CHECK_EQ(start_with(c), -EINVAL);
	env_fini();
	c = base; c.driver_gpa = ROM_GPA;		/* read-only is fine for avail */
	CHECK_EQ(start_with(c), 0);
	env_fini();
	c = base; c.desc_gpa = UINT64_MAX & ~15ULL;	/* gpa + len overflows */
	CHECK_EQ(start_with(c), -EINVAL);
	env_fini();
	/* caller memory whose host address is not aligned like the gpa */
	c = base; c.device_gpa = HOLE_GPA;
	env_init();
	CHECK_EQ(as_add_region(&T.as, HOLE_GPA, 0x1000, T.ram2 + 2, -1, 0, 0), 0);
	CHECK_EQ(vq_start(&T.vq, &T.as, &c), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "misaligned");
	env_fini();
}

static void start_event_idx_needs_room_for_the_event_fields(void)
{
	struct vq_config c = {
		.size = 16, .desc_gpa = DESC_GPA, .features = SPLIT_FEATS,
		/* rings end exactly at the end of RAM without the event u16 */
		.driver_gpa = RAM2_GPA - (4 + 2 * 16) + 0, .device_gpa = USED_GPA,
	};

	/* Without EVENT_IDX the avail ring fits exactly; RAM2 follows it */
	CHECK_EQ(start_with(c), 0);
	env_fini();
	c.features |= FEAT(VIRTIO_F_EVENT_IDX);
	CHECK_EQ(start_with(c), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "available ring");
	env_fini();
}

static void packed_start_checks_event_areas(void)
{
	struct vq_config c = {
		.size = 5, .desc_gpa = DESC_GPA, .driver_gpa = AVAIL_GPA + 2,
		.device_gpa = USED_GPA, .features = PACKED_FEATS,
	};

	CHECK_EQ(start_with(c), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "driver event");
	env_fini();
	c.driver_gpa = AVAIL_GPA;
	c.device_gpa = ROM_GPA;
	CHECK_EQ(start_with(c), -EINVAL);
	CHECK_STR_CONTAINS(T.vq.err, "device event");
	env_fini();
	c.device_gpa = USED_GPA;
	c.desc_gpa = ROM_GPA;	/* packed: the device writes descriptors */
	CHECK_EQ(start_with(c), -EINVAL);
	env_fini();
}

static void calls_on_a_stopped_queue_fail_with_einval(void)
{
	struct vq_elem e = { 0 };

	env_init();
	CHECK_EQ(vq_pop(&T.vq, &e), -EINVAL);
	CHECK_EQ(vq_push(&T.vq, &e, 0), -EINVAL);
	CHECK(!vq_has_avail(&T.vq));
	CHECK(!vq_should_interrupt(&T.vq));
	CHECK(!vq_notify_enable(&T.vq, true));
	env_fini();
}

static void split_empty_queue_pops_nothing(void)
{
	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	CHECK(!vq_has_avail(&T.vq));
	CHECK_EQ(vq_pop(&T.vq, &T.e), 0);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 0);
	CHECK(!T.vq.broken);
	env_fini();
}

static void split_single_descriptor_pops_one_segment(void)
{
	struct tdesc d = { BUF_GPA, 100, 0 };

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_chain(3, &d, 1);
	CHECK(vq_has_avail(&T.vq));
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.id, 3);
	CHECK_EQ(T.e.ndesc, 1);
	CHECK_EQ(T.e.nr_out, 1);
	CHECK_EQ(T.e.nr_in, 0);
	CHECK_EQ(T.e.out_len, 100);
	CHECK_EQ(T.e.in_len, 0);
	CHECK(seg_is(0, BUF_GPA, 100));
	CHECK_EQ(vq_pop(&T.vq, &T.e), 0);
	env_fini();
}

static void split_chain_out_and_in_has_exact_segments(void)
{
	struct tdesc d[4] = {
		{ BUF_GPA, 16, 0 }, { BUF_GPA + 0x100, 0x200, 0 },
		{ BUF_GPA + 0x1000, 0x800, F_WRITE }, { BUF_GPA + 0x3000, 1, F_WRITE },
	};

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_chain(6, d, 4);		/* indices 6, 7, 0, 1: wraps in the table */
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.id, 6);
	CHECK_EQ(T.e.ndesc, 4);
	CHECK_EQ(T.e.nr_out, 2);
	CHECK_EQ(T.e.nr_in, 2);
	CHECK_EQ(T.e.out_len, 0x210);
	CHECK_EQ(T.e.in_len, 0x801);
	CHECK(seg_is(0, BUF_GPA, 16));
	CHECK(seg_is(1, BUF_GPA + 0x100, 0x200));
	CHECK(seg_is(2, BUF_GPA + 0x1000, 0x800));
	CHECK(seg_is(3, BUF_GPA + 0x3000, 1));
	env_fini();
}

static void split_zero_length_descriptors_are_skipped(void)
{
	struct tdesc d[3] = {
		{ BUF_GPA, 0, 0 }, { BUF_GPA + 0x10, 8, 0 }, { HOLE_GPA, 0, F_WRITE },
	};

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_chain(0, d, 3);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.ndesc, 3);
	CHECK_EQ(T.e.nr_out, 1);
	CHECK_EQ(T.e.nr_in, 0);
	CHECK(seg_is(0, BUF_GPA + 0x10, 8));
	env_fini();
}

static void split_push_writes_used_entry_then_idx(void)
{
	struct tdesc a = { BUF_GPA, 8, F_WRITE }, b = { BUF_GPA + 8, 8, F_WRITE };
	struct vq_elem e2;

	CHECK_EQ(env_start(4, SPLIT_FEATS), 0);
	split_chain(0, &a, 1);
	split_chain(2, &b, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_pop(&T.vq, &e2), 1);
	/* completions out of order: entries in the order of the pushes */
	CHECK_EQ(vq_push(&T.vq, &e2, 5), 0);
	CHECK_EQ(r16(USED_GPA + 2), 1);
	CHECK_EQ(r32(used_elem_gpa(0)), 2);
	CHECK_EQ(r32(used_elem_gpa(0) + 4), 5);
	CHECK_EQ(vq_push(&T.vq, &T.e, 100), 0);	/* clamped to in_len */
	CHECK_EQ(r16(USED_GPA + 2), 2);
	CHECK_EQ(r32(used_elem_gpa(1)), 0);
	CHECK_EQ(r32(used_elem_gpa(1) + 4), 8);
	CHECK_EQ(T.vq.popped, 2);
	CHECK_EQ(T.vq.pushed, 2);
	env_fini();
}

static void unpop_returns_the_chain_to_the_queue(void)
{
	struct tdesc d[2] = { { BUF_GPA, 8, 0 }, { BUF_GPA + 8, 8, F_WRITE } };
	uint16_t id;

	CHECK_EQ(env_start(4, SPLIT_FEATS), 0);
	split_chain(1, d, 2);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	vq_unpop(&T.vq, &T.e);
	CHECK(vq_has_avail(&T.vq));
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.id, 1);
	env_fini();

	CHECK_EQ(env_start(3, PACKED_FEATS), 0);
	packed_chain(d, 2, 2);		/* slots 0, 1 */
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), 0);
	packed_chain(d, 2, 1);		/* slots 2, 0: wraps */
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	id = T.e.id;
	vq_unpop(&T.vq, &T.e);
	CHECK_EQ(T.vq.next_avail, 2);
	CHECK(T.vq.avail_wrap);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.id, id);
	CHECK_EQ(T.e.nr_out + T.e.nr_in, 2);
	env_fini();
}

/* A popped chain of two readable and three writable segments for cursors. */
static int cursor_chain(void)
{
	struct tdesc d[5] = {
		{ BUF_GPA, 3, 0 }, { BUF_GPA + 0x100, 5, 0 },
		{ BUF_GPA + 0x200, 4, F_WRITE }, { BUF_GPA + 0x300, 2, F_WRITE },
		{ BUF_GPA + 0x400, 6, F_WRITE },
	};
	unsigned int i;

	if (env_start(8, SPLIT_FEATS))
		return 0;
	for (i = 0; i < 3; i++)
		host(BUF_GPA)[i] = (uint8_t)(i + 1);
	for (i = 0; i < 5; i++)
		host(BUF_GPA + 0x100)[i] = (uint8_t)(i + 4);
	split_chain(0, d, 5);
	return vq_pop(&T.vq, &T.e) == 1;
}

static void cursor_reads_and_writes_across_segment_boundaries(void)
{
	uint8_t buf[16], out[12];
	struct vq_cursor r, w;
	unsigned int i;

	CHECK(cursor_chain());
	vq_reader_init(&r, &T.vq, &T.e);
	CHECK_EQ(vq_cursor_left(&r), 8);
	CHECK_EQ(vq_read(&r, buf, 2), 0);
	CHECK_EQ(vq_read(&r, buf + 2, 5), 0);	/* 1 from seg 0, 4 from seg 1 */
	CHECK_EQ(vq_cursor_left(&r), 1);
	CHECK_EQ(vq_read(&r, buf + 7, 1), 0);
	for (i = 0; i < 8; i++)
		CHECK_EQ(buf[i], i + 1);
	CHECK_EQ(vq_read(&r, buf, 0), 0);
	CHECK_EQ(vq_read(&r, buf, 1), -EMSGSIZE);

	vq_writer_init(&w, &T.vq, &T.e);
	CHECK_EQ(vq_cursor_left(&w), 12);
	for (i = 0; i < 12; i++)
		out[i] = (uint8_t)(0xa0 + i);
	CHECK_EQ(vq_write(&w, out, 5), 0);	/* 4 + 1 */
	CHECK_EQ(vq_write(&w, out + 5, 7), 0);	/* 1 + 6 */
	CHECK_EQ(memcmp(host(BUF_GPA + 0x200), out, 4), 0);
	CHECK_EQ(memcmp(host(BUF_GPA + 0x300), out + 4, 2), 0);
	CHECK_EQ(memcmp(host(BUF_GPA + 0x400), out + 6, 6), 0);
	CHECK_EQ(vq_write(&w, out, 1), -EMSGSIZE);
	CHECK_EQ(vq_read(&w, buf, 1), -EINVAL);	/* wrong direction */
	CHECK_EQ(vq_write(&r, out, 1), -EINVAL);
	env_fini();
}

static void cursor_overrun_returns_emsgsize_and_keeps_position(void)
{
	uint8_t buf[16];
	struct vq_cursor r;

	CHECK(cursor_chain());
	vq_reader_init(&r, &T.vq, &T.e);
	CHECK_EQ(vq_cursor_skip(&r, 4), 0);
	CHECK_EQ(vq_read(&r, buf, 5), -EMSGSIZE);
	CHECK_EQ(vq_cursor_skip(&r, 5), -EMSGSIZE);
	CHECK_EQ(vq_cursor_left(&r), 4);
	CHECK_EQ(vq_read(&r, buf, 4), 0);
	CHECK_EQ(buf[0], 5);
	CHECK_EQ(buf[3], 8);
	env_fini();
}

static void cursor_iov_translates_each_piece(void)
{
	struct iovec iov[4];
	struct vq_cursor w, r;

	CHECK(cursor_chain());
	vq_writer_init(&w, &T.vq, &T.e);
	CHECK_EQ(vq_cursor_skip(&w, 2), 0);
	CHECK_EQ(vq_cursor_iov(&w, 9, iov, 2), -E2BIG);	/* needs 3 */
	CHECK_EQ(vq_cursor_left(&w), 10);
	CHECK_EQ(vq_cursor_iov(&w, 11, iov, 4), -EMSGSIZE);
	CHECK_EQ(vq_cursor_iov(&w, 9, iov, 4), 3);
	CHECK(iov[0].iov_base == host(BUF_GPA + 0x202));
	CHECK_EQ(iov[0].iov_len, 2);
	CHECK(iov[1].iov_base == host(BUF_GPA + 0x300));
	CHECK_EQ(iov[1].iov_len, 2);
	CHECK(iov[2].iov_base == host(BUF_GPA + 0x400));
	CHECK_EQ(iov[2].iov_len, 5);
	CHECK_EQ(vq_cursor_left(&w), 1);
	CHECK_EQ(vq_cursor_iov(&w, 0, iov, 4), 0);
	vq_reader_init(&r, &T.vq, &T.e);
	CHECK_EQ(vq_cursor_iov(&r, 8, iov, 4), 2);
	CHECK(iov[0].iov_base == host(BUF_GPA));
	CHECK_EQ(iov[1].iov_len, 5);
	env_fini();
}

static void cursor_on_unmapped_or_readonly_buffer_fails_with_efault(void)
{
	struct tdesc d[3] = {
		{ BUF_GPA, 4, 0 }, { HOLE_GPA, 4, 0 }, { ROM_GPA, 4, F_WRITE },
	};
	struct vq_cursor r, w;
	struct iovec iov[4];
	uint8_t buf[8] = { 0 };

	CHECK_EQ(env_start(4, SPLIT_FEATS), 0);
	split_chain(0, d, 3);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);	/* buffers are not checked at pop */
	vq_reader_init(&r, &T.vq, &T.e);
	CHECK_EQ(vq_read(&r, buf, 8), -EFAULT);
	CHECK_EQ(vq_cursor_left(&r), 8);	/* unchanged */
	CHECK_EQ(vq_read(&r, buf, 4), 0);
	CHECK_EQ(vq_read(&r, buf, 1), -EFAULT);
	CHECK_EQ(vq_cursor_iov(&r, 4, iov, 4), -EFAULT);
	vq_writer_init(&w, &T.vq, &T.e);
	CHECK_EQ(vq_write(&w, buf, 4), -EFAULT);	/* ROM */
	CHECK_EQ(vq_cursor_iov(&w, 4, iov, 4), -EFAULT);
	CHECK(!T.vq.broken);
	env_fini();
}

static void split_indirect_table_is_followed(void)
{
	struct tdesc d[2] = { { BUF_GPA, 4, 0 }, { IND_GPA, 3 * 16, F_INDIRECT } };

	CHECK_EQ(env_start(8, SPLIT_FEATS | FEAT(VIRTIO_F_INDIRECT_DESC)), 0);
	/* table order by next: 0 -> 2 -> 1 */
	ind_put(IND_GPA, 0, BUF_GPA + 0x10, 10, F_NEXT, 2);
	ind_put(IND_GPA, 2, BUF_GPA + 0x20, 20, F_NEXT | F_WRITE, 1);
	ind_put(IND_GPA, 1, BUF_GPA + 0x30, 30, F_WRITE, 0);
	split_chain(5, d, 2);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.id, 5);
	CHECK_EQ(T.e.nr_out, 2);
	CHECK_EQ(T.e.nr_in, 2);
	CHECK(seg_is(0, BUF_GPA, 4));
	CHECK(seg_is(1, BUF_GPA + 0x10, 10));
	CHECK(seg_is(2, BUF_GPA + 0x20, 20));
	CHECK(seg_is(3, BUF_GPA + 0x30, 30));
	CHECK_EQ(T.e.in_len, 50);
	env_fini();
}

static void packed_indirect_table_is_followed(void)
{
	struct tdesc d = { IND_GPA, 2 * 16, F_INDIRECT };

	CHECK_EQ(env_start(5, PACKED_FEATS | FEAT(VIRTIO_F_INDIRECT_DESC)), 0);
	pind_put(IND_GPA, 0, BUF_GPA, 10, F_NEXT);	/* NEXT ignored */
	pind_put(IND_GPA, 1, BUF_GPA + 0x10, 20, F_WRITE);
	packed_chain(&d, 1, 4);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.id, 4);
	CHECK_EQ(T.e.ndesc, 1);
	CHECK_EQ(T.e.nr_out, 1);
	CHECK_EQ(T.e.nr_in, 1);
	CHECK(seg_is(0, BUF_GPA, 10));
	CHECK(seg_is(1, BUF_GPA + 0x10, 20));
	env_fini();
}

static void split_indices_wrap_at_65535(void)
{
	struct vq_state s = { .last_avail = 65530, .used_idx = 65530 };
	struct tdesc d = { BUF_GPA, 8, F_WRITE };
	unsigned int i;

	CHECK_EQ(env_start(4, SPLIT_FEATS), 0);
	CHECK_EQ(vq_set_state(&T.vq, &s), 0);
	split_set_avail_idx(65530);
	for (i = 0; i < 20; i++) {
		uint16_t idx = (uint16_t)(65530 + i);

		split_chain((uint16_t)(i % 4), &d, 1);
		CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
		CHECK_EQ(T.e.id, i % 4);
		CHECK_EQ(vq_pop(&T.vq, &T.e), 0);
		T.e.id = (uint16_t)(i % 4);
		CHECK_EQ(vq_push(&T.vq, &T.e, i % 9), 0);
		CHECK_EQ(r16(USED_GPA + 2), (uint16_t)(idx + 1));
		CHECK_EQ(r32(used_elem_gpa(idx)), i % 4);
		CHECK_EQ(r32(used_elem_gpa(idx) + 4), i % 9);
	}
	CHECK_EQ(T.vq.last_avail, (uint16_t)(65530 + 20));
	/* restoring more chains in flight than the ring holds is refused */
	s.last_avail = 10;
	s.used_idx = 65530;
	CHECK_EQ(vq_set_state(&T.vq, &s), -EINVAL);
	env_fini();
}

static void split_batch_of_chains_near_wrap_pops_in_order(void)
{
	struct vq_state s = { .last_avail = 65534, .used_idx = 65534 };
	struct tdesc d = { BUF_GPA, 1, 0 };
	unsigned int i;

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	CHECK_EQ(vq_set_state(&T.vq, &s), 0);
	split_set_avail_idx(65534);
	for (i = 0; i < 8; i++)
		split_chain((uint16_t)i, &d, 1);	/* avail idx 65534 -> 6 */
	for (i = 0; i < 8; i++) {
		CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
		CHECK_EQ(T.e.id, i);
	}
	CHECK_EQ(vq_pop(&T.vq, &T.e), 0);
	env_fini();
}

/* Check the used descriptor at @slot: id, len and both bits == @wrap. */
static int packed_used_is(uint16_t slot, uint16_t id, uint32_t len, bool wrap)
{
	uint64_t d = DESC_GPA + 16ULL * slot;
	uint16_t flags = r16(d + 14);
	bool a = flags & F_AVAIL, u = flags & F_USED;

	return r16(d + 12) == id && r32(d + 8) == len && a == wrap && u == wrap &&
	       !!(flags & F_WRITE) == (len != 0);
}

static void packed_wrap_counters_survive_several_laps(void)
{
	struct tdesc d[3] = {
		{ BUF_GPA, 4, 0 }, { BUF_GPA + 0x10, 4, F_WRITE }, { BUF_GPA + 0x20, 4, F_WRITE },
	};
	uint16_t slot = 0;
	bool wrap = true;
	unsigned int i;

	CHECK_EQ(env_start(5, PACKED_FEATS), 0);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 0);
	for (i = 0; i < 40; i++) {		/* 80 slots: 16 laps of 5 */
		unsigned int n = 1 + i % 3;
		uint16_t id = (uint16_t)(i % 5);

		packed_chain(d, n, id);
		CHECK(vq_has_avail(&T.vq));
		CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
		CHECK_EQ(T.e.id, id);
		CHECK_EQ(T.e.ndesc, n);
		CHECK_EQ(T.e.nr_out, 1);
		CHECK_EQ(T.e.nr_in, n - 1);
		CHECK_EQ(vq_pop(&T.vq, &T.e), 0);	/* stale flags of the last lap */
		CHECK_EQ(vq_push(&T.vq, &T.e, 4 * (n - 1)), 0);
		CHECK(packed_used_is(slot, id, 4 * (n - 1), wrap));
		slot = (uint16_t)(slot + n);
		if (slot >= 5) {
			slot = (uint16_t)(slot - 5);
			wrap = !wrap;
		}
		CHECK_EQ(T.vq.next_used, slot);
		CHECK_EQ(T.vq.used_wrap, wrap);
		CHECK_EQ(T.vq.next_avail, T.pnext);
		CHECK_EQ(T.vq.avail_wrap, T.pwrap);
	}
	env_fini();
}

static void packed_empty_ring_and_used_slots_are_not_available(void)
{
	struct tdesc d = { BUF_GPA, 4, 0 };

	CHECK_EQ(env_start(2, PACKED_FEATS), 0);
	CHECK(!vq_has_avail(&T.vq));
	CHECK_EQ(vq_pop(&T.vq, &T.e), 0);
	/* a descriptor with AVAIL == USED == 1 is a used one: not available */
	packed_put(0, BUF_GPA, 4, 0);
	w16(DESC_GPA + 14, (uint16_t)(F_AVAIL | F_USED));
	CHECK_EQ(vq_pop(&T.vq, &T.e), 0);
	packed_chain(&d, 1, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	env_fini();
}

/* ------------------------------------------------- event suppression */

static void split_no_interrupt_flag_suppresses_interrupts(void)
{
	struct tdesc d = { BUF_GPA, 4, F_WRITE };

	CHECK_EQ(env_start(4, SPLIT_FEATS), 0);
	split_chain(0, &d, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 1), 0);
	CHECK(vq_should_interrupt(&T.vq));
	CHECK(!vq_should_interrupt(&T.vq));		/* nothing new */
	w16(AVAIL_GPA, 1);				/* NO_INTERRUPT */
	split_chain(1, &d, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 1), 0);
	CHECK(!vq_should_interrupt(&T.vq));
	w16(AVAIL_GPA, 0);
	split_chain(2, &d, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 1), 0);
	CHECK(vq_should_interrupt(&T.vq));
	env_fini();
}

/* Pop and push one single-descriptor chain at slot @i. */
static int split_round_trip(uint16_t i)
{
	struct tdesc d = { BUF_GPA, 4, F_WRITE };

	split_chain(i, &d, 1);
	return vq_pop(&T.vq, &T.e) == 1 && vq_push(&T.vq, &T.e, 0) == 0;
}

static void split_event_idx_interrupts_only_past_used_event(void)
{
	uint64_t used_event = AVAIL_GPA + 4 + 2 * 8;

	CHECK_EQ(env_start(8, SPLIT_FEATS | FEAT(VIRTIO_F_EVENT_IDX)), 0);
	w16(AVAIL_GPA, 1);	/* NO_INTERRUPT is ignored with EVENT_IDX */
	w16(used_event, 0);
	CHECK(split_round_trip(0));		/* used 0 -> 1 */
	CHECK(vq_should_interrupt(&T.vq));	/* first: always */
	CHECK(split_round_trip(1));		/* 1 -> 2, event 0 already passed */
	CHECK(!vq_should_interrupt(&T.vq));
	w16(used_event, 3);
	CHECK(split_round_trip(2));		/* 2 -> 3: not yet past 3 */
	CHECK(!vq_should_interrupt(&T.vq));
	CHECK(split_round_trip(3));		/* 3 -> 4 */
	CHECK(split_round_trip(4));		/* batch: 3 -> 5 crosses 3 */
	CHECK(vq_should_interrupt(&T.vq));
	CHECK(!vq_should_interrupt(&T.vq));
	env_fini();
}

static void split_notify_enable_sets_flags_and_reports_the_race(void)
{
	struct tdesc d = { BUF_GPA, 4, 0 };

	CHECK_EQ(env_start(4, SPLIT_FEATS), 0);
	CHECK(!vq_notify_enable(&T.vq, false));
	CHECK_EQ(r16(USED_GPA), 1);			/* NO_NOTIFY */
	CHECK(!vq_notify_enable(&T.vq, true));		/* nothing arrived */
	CHECK_EQ(r16(USED_GPA), 0);
	CHECK(!vq_notify_enable(&T.vq, false));
	split_chain(0, &d, 1);				/* arrives while disabled */
	CHECK(vq_notify_enable(&T.vq, true));		/* caller must poll */
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	env_fini();
}

static void split_event_idx_notify_enable_writes_avail_event(void)
{
	uint64_t avail_event = USED_GPA + 4 + 8 * 4;
	struct tdesc d = { BUF_GPA, 4, 0 };

	CHECK_EQ(env_start(4, SPLIT_FEATS | FEAT(VIRTIO_F_EVENT_IDX)), 0);
	split_chain(0, &d, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(r16(avail_event), 1);			/* on: pops move it */
	w16(avail_event, 0x5555);
	CHECK(!vq_notify_enable(&T.vq, false));
	CHECK_EQ(r16(avail_event), 0x5555);		/* disable writes nothing */
	CHECK_EQ(r16(USED_GPA), 0);
	split_chain(1, &d, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(r16(avail_event), 0x5555);		/* off: pops leave it */
	CHECK(!vq_notify_enable(&T.vq, true));
	CHECK_EQ(r16(avail_event), 2);			/* = last_avail */
	split_chain(2, &d, 1);
	CHECK(vq_notify_enable(&T.vq, true));
	env_fini();
}

static void packed_event_suppression_follows_driver_flags(void)
{
	struct tdesc d = { BUF_GPA, 4, F_WRITE };
	uint64_t drv = AVAIL_GPA;

	CHECK_EQ(env_start(4, PACKED_FEATS | FEAT(VIRTIO_F_EVENT_IDX)), 0);
	w16(drv + 2, 1);	/* DISABLE */
	packed_chain(&d, 1, 0);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), 0);		/* used slot 0 -> 1 */
	CHECK(!vq_should_interrupt(&T.vq));
	w16(drv + 2, 0);	/* ENABLE */
	packed_chain(&d, 1, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), 0);		/* 1 -> 2 */
	CHECK(vq_should_interrupt(&T.vq));
	CHECK(!vq_should_interrupt(&T.vq));		/* nothing new */
	/* DESC: interrupt once slot 0 of the next lap (wrap 0) is used */
	w16(drv, 0);
	w16(drv + 2, 2);
	packed_chain(&d, 1, 2);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), 0);		/* 2 -> 3 */
	CHECK(!vq_should_interrupt(&T.vq));
	packed_chain(&d, 1, 3);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), 0);		/* 3 -> 0, wrap 0 */
	CHECK(!vq_should_interrupt(&T.vq));
	packed_chain(&d, 1, 0);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), 0);		/* slot 0 of lap 2 used */
	CHECK(vq_should_interrupt(&T.vq));
	env_fini();
}

static void packed_notify_enable_writes_device_event(void)
{
	struct tdesc d = { BUF_GPA, 4, 0 };
	uint64_t dev = USED_GPA;

	CHECK_EQ(env_start(4, PACKED_FEATS), 0);
	CHECK(!vq_notify_enable(&T.vq, false));
	CHECK_EQ(r16(dev + 2), 1);			/* DISABLE */
	CHECK(!vq_notify_enable(&T.vq, true));
	CHECK_EQ(r16(dev + 2), 0);			/* ENABLE */
	CHECK(!vq_notify_enable(&T.vq, false));
	packed_chain(&d, 1, 0);
	CHECK(vq_notify_enable(&T.vq, true));		/* the race */
	env_fini();

	CHECK_EQ(env_start(4, PACKED_FEATS | FEAT(VIRTIO_F_EVENT_IDX)), 0);
	packed_chain(&d, 1, 0);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK(!vq_notify_enable(&T.vq, true));
	CHECK_EQ(r16(dev + 2), 2);			/* DESC */
	CHECK_EQ(r16(dev), 1 | 0x8000);			/* slot 1, wrap 1 */
	packed_chain(&d, 1, 1);
	packed_chain(&d, 1, 2);
	packed_chain(&d, 1, 3);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(r16(dev), 0);				/* slot 0, wrap 0 */
	env_fini();
}

/* ------------------------------------------------------------ hostile */

static void split_loop_in_chain_breaks_the_queue(void)
{
	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_put(0, BUF_GPA, 4, F_NEXT, 1);
	split_put(1, BUF_GPA, 4, F_NEXT, 2);
	split_put(2, BUF_GPA, 4, F_NEXT, 0);	/* back to the head */
	split_make_avail(0);
	CHECK(expect_broken("longer than queue size"));
	/* self loop */
	split_put(3, BUF_GPA, 4, F_NEXT, 3);
	split_set_avail_idx(0);
	split_make_avail(3);
	CHECK(expect_broken("longer than queue size"));
	env_fini();
}

static void split_next_out_of_range_breaks_the_queue(void)
{
	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_put(0, BUF_GPA, 4, F_NEXT, 8);
	split_make_avail(0);
	CHECK(expect_broken("next index 8"));
	env_fini();
}

static void split_head_out_of_range_breaks_the_queue(void)
{
	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_make_avail(9);
	CHECK(expect_broken("head 9"));
	env_fini();
}

static void split_more_than_max_segments_breaks_the_queue(void)
{
	unsigned int i;

	CHECK_EQ(env_start(512, SPLIT_FEATS), 0);
	for (i = 0; i <= VQ_MAX_SEGS; i++)
		split_put((uint16_t)i, BUF_GPA, 1, F_NEXT, (uint16_t)(i + 1));
	split_put(VQ_MAX_SEGS + 1, BUF_GPA, 1, 0, 0);
	split_make_avail(0);
	CHECK(expect_broken("segments"));
	env_fini();
}

static void split_avail_idx_jump_breaks_the_queue(void)
{
	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_put(0, BUF_GPA, 4, 0, 0);
	split_set_avail_idx(8);			/* exactly size: fine */
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	split_set_avail_idx(9 + 1);		/* 9 ahead of last_avail 1 */
	CHECK(expect_broken("avail idx"));
	split_set_avail_idx(0xffff);		/* "behind": a jump of 65535 */
	CHECK(expect_broken("avail idx"));
	env_fini();
}

static void writable_then_readable_breaks_the_queue(void)
{
	struct tdesc d[2] = { { BUF_GPA, 4, F_WRITE }, { BUF_GPA, 4, 0 } };

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_chain(0, d, 2);
	CHECK(expect_broken("readable descriptor after a writable"));
	env_fini();
	CHECK_EQ(env_start(8, PACKED_FEATS), 0);
	packed_chain(d, 2, 0);
	CHECK(expect_broken("readable descriptor after a writable"));
	env_fini();
}

static void length_sum_overflow_breaks_the_queue(void)
{
	struct tdesc d[3] = {
		{ BUF_GPA, UINT32_MAX, F_WRITE }, { BUF_GPA, UINT32_MAX, F_WRITE },
		{ BUF_GPA, 2, F_WRITE },
	};

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_chain(0, d, 1);			/* one 4 GiB - 1 buffer is fine */
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.in_len, UINT32_MAX);
	split_chain(1, d, 3);
	CHECK(expect_broken("longer than"));
	env_fini();
}

static void gpa_plus_len_overflow_breaks_the_queue(void)
{
	struct tdesc d = { UINT64_MAX - 2, 4, 0 };

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_chain(0, &d, 1);
	CHECK(expect_broken("overflows"));
	env_fini();
	CHECK_EQ(env_start(8, PACKED_FEATS), 0);
	packed_chain(&d, 1, 0);
	CHECK(expect_broken("overflows"));
	env_fini();
}

static void indirect_without_feature_breaks_the_queue(void)
{
	struct tdesc d = { IND_GPA, 16, F_INDIRECT };

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	ind_put(IND_GPA, 0, BUF_GPA, 4, 0, 0);
	split_chain(0, &d, 1);
	CHECK(expect_broken("VIRTIO_F_INDIRECT_DESC"));
	env_fini();
	CHECK_EQ(env_start(8, PACKED_FEATS), 0);
	packed_chain(&d, 1, 0);
	CHECK(expect_broken("VIRTIO_F_INDIRECT_DESC"));
	env_fini();
}

/* Start a split queue with indirect descriptors and offer one of @len. */
static int offer_indirect(uint64_t table, uint32_t len, uint16_t extra_flags)
{
	if (env_start(8, SPLIT_FEATS | FEAT(VIRTIO_F_INDIRECT_DESC)))
		return 0;
	split_put(0, table, len, (uint16_t)(F_INDIRECT | extra_flags), 1);
	split_put(1, BUF_GPA, 4, F_WRITE, 0);
	split_make_avail(0);
	return 1;
}

static void bad_indirect_tables_break_the_queue(void)
{
	CHECK(offer_indirect(IND_GPA, 24, 0));
	CHECK(expect_broken("indirect table length 24"));
	env_fini();
	CHECK(offer_indirect(IND_GPA, 0, 0));
	CHECK(expect_broken("indirect table length 0"));
	env_fini();
	CHECK(offer_indirect(IND_GPA, (VQ_MAX_SEGS + 1) * 16, 0));
	CHECK(expect_broken("indirect table length"));
	env_fini();
	CHECK(offer_indirect(IND_GPA, 16, F_NEXT));
	CHECK(expect_broken("both NEXT and INDIRECT"));
	env_fini();
	CHECK(offer_indirect(HOLE_GPA, 32, 0));
	CHECK(expect_broken("not in RAM"));
	env_fini();
	/* indirect inside indirect */
	CHECK(offer_indirect(IND_GPA, 32, 0));
	ind_put(IND_GPA, 0, BUF_GPA, 4, F_NEXT, 1);
	ind_put(IND_GPA, 1, IND_GPA, 16, F_INDIRECT, 0);
	CHECK(expect_broken("indirect descriptor in indirect table"));
	env_fini();
	/* loop and next out of range inside the table */
	CHECK(offer_indirect(IND_GPA, 32, 0));
	ind_put(IND_GPA, 0, BUF_GPA, 4, F_NEXT, 1);
	ind_put(IND_GPA, 1, BUF_GPA, 4, F_NEXT, 0);
	CHECK(expect_broken("loop in indirect table"));
	env_fini();
	CHECK(offer_indirect(IND_GPA, 32, 0));
	ind_put(IND_GPA, 0, BUF_GPA, 4, F_NEXT, 2);
	CHECK(expect_broken("indirect next 2"));
	env_fini();
	/* a full table of VQ_MAX_SEGS is fine */
	CHECK(offer_indirect(IND_GPA, VQ_MAX_SEGS * 16, 0));
	split_put(0, IND_GPA, VQ_MAX_SEGS * 16, F_INDIRECT, 0);
	for (unsigned int i = 0; i < VQ_MAX_SEGS; i++)
		ind_put(IND_GPA, i, BUF_GPA, 1, i + 1 < VQ_MAX_SEGS ? F_NEXT : 0,
			(uint16_t)(i + 1));
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.nr_out, VQ_MAX_SEGS);
	env_fini();
}

static void packed_bad_chains_break_the_queue(void)
{
	struct tdesc d[2] = { { BUF_GPA, 4, 0 }, { IND_GPA, 16, F_INDIRECT } };
	unsigned int i;

	CHECK_EQ(env_start(5, PACKED_FEATS), 0);
	packed_chain(d, 1, 5);				/* id == size */
	CHECK(expect_broken("buffer id 5"));
	env_fini();
	CHECK_EQ(env_start(5, PACKED_FEATS | FEAT(VIRTIO_F_INDIRECT_DESC)), 0);
	pind_put(IND_GPA, 0, BUF_GPA, 4, 0);
	packed_chain(d, 2, 0);				/* indirect after a direct one */
	CHECK(expect_broken("indirect descriptor inside a chain"));
	env_fini();
	/* every slot says NEXT: the chain runs around the whole ring */
	CHECK_EQ(env_start(4, PACKED_FEATS), 0);
	for (i = 0; i < 4; i++) {
		packed_put((uint16_t)i, BUF_GPA, 4, 0);
		w16(DESC_GPA + 16ULL * i + 14, F_AVAIL | F_NEXT);
	}
	CHECK(expect_broken("longer than queue size"));
	env_fini();
	/* indirect in indirect (packed) */
	CHECK_EQ(env_start(5, PACKED_FEATS | FEAT(VIRTIO_F_INDIRECT_DESC)), 0);
	pind_put(IND_GPA, 0, IND_GPA, 16, F_INDIRECT);
	packed_chain(d + 1, 1, 0);
	CHECK(expect_broken("indirect descriptor in indirect table"));
	env_fini();
}

static void broken_queue_recovers_only_after_reset(void)
{
	struct tdesc good = { BUF_GPA, 4, 0 };

	CHECK_EQ(env_start(8, SPLIT_FEATS), 0);
	split_put(0, BUF_GPA, 4, F_NEXT, 0);
	split_make_avail(0);
	CHECK_EQ(vq_pop(&T.vq, &T.e), -EPROTO);
	CHECK_STR_CONTAINS(err_msg(), "virtqueue:");
	split_chain(1, &good, 1);			/* a good chain after it */
	CHECK_EQ(vq_pop(&T.vq, &T.e), -EPROTO);
	CHECK(!vq_has_avail(&T.vq));
	CHECK(!vq_notify_enable(&T.vq, true));
	vq_reset(&T.vq);
	CHECK_EQ(T.vq.err[0], 0);
	CHECK_EQ(vq_start(&T.vq, &T.as, &T.cfg), 0);
	split_set_avail_idx(0);				/* driver reset too */
	split_chain(1, &good, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.id, 1);
	env_fini();
}

/* as_dirty_sync callback: collect dirty pages of the first 256 of RAM. */
static int collect_dirty(void *opaque, uint64_t pfn, uint64_t npages)
{
	uint8_t *seen = opaque;
	uint64_t p;

	for (p = pfn; p < pfn + npages; p++)
		if (p >= RAM_GPA >> 12 && p < (RAM_GPA >> 12) + 256)
			seen[p - (RAM_GPA >> 12)] = 1;
	return 0;
}

static void ring_and_buffer_writes_are_dirty_tracked(void)
{
	struct tdesc d = { BUF_GPA + 0x5000, 16, F_WRITE };
	struct vq_cursor w;
	uint8_t seen[256] = { 0 };
	uint8_t buf[16] = { 1 };

	CHECK_EQ(env_start(4, SPLIT_FEATS), 0);
	split_chain(0, &d, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(as_dirty_log_start(&T.as), 0);
	vq_writer_init(&w, &T.vq, &T.e);
	CHECK_EQ(vq_write(&w, buf, 16), 0);
	CHECK_EQ(vq_push(&T.vq, &T.e, 16), 0);
	CHECK_EQ(as_dirty_sync(&T.as, NULL, NULL, collect_dirty, seen), 0);
	CHECK_EQ(seen[(USED_GPA - RAM_GPA) >> 12], 1);		/* used ring */
	CHECK_EQ(seen[(BUF_GPA + 0x5000 - RAM_GPA) >> 12], 1);	/* the buffer */
	/* after asynchronous I/O the device marks the buffer again */
	memset(seen, 0, sizeof(seen));
	vq_elem_mark_dirty(&T.vq, &T.e, 16);
	CHECK_EQ(as_dirty_sync(&T.as, NULL, NULL, collect_dirty, seen), 0);
	as_dirty_log_stop(&T.as);
	CHECK_EQ(seen[(USED_GPA - RAM_GPA) >> 12], 0);
	CHECK_EQ(seen[(BUF_GPA + 0x5000 - RAM_GPA) >> 12], 1);
	CHECK_EQ(seen[(DESC_GPA - RAM_GPA) >> 12], 0);		/* only read */
	CHECK_EQ(seen[(AVAIL_GPA - RAM_GPA) >> 12], 0);
	env_fini();
}

static void removed_ring_memory_gives_efault_without_breaking(void)
{
	struct tdesc d = { BUF_GPA, 4, F_WRITE };

	CHECK_EQ(env_start(4, SPLIT_FEATS), 0);
	split_chain(0, &d, 1);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(as_remove(&T.as, RAM_GPA), 0);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), -EFAULT);
	CHECK_EQ(vq_pop(&T.vq, &T.e), -EFAULT);
	CHECK(!vq_has_avail(&T.vq));
	CHECK(!vq_should_interrupt(&T.vq));
	CHECK(!vq_notify_enable(&T.vq, true));
	CHECK(!T.vq.broken);
	/* the memory comes back (same host pointer): the queue goes on */
	CHECK_EQ(as_add_region(&T.as, RAM_GPA, RAM_SIZE, T.ram, -1, 0, 0), 0);
	CHECK_EQ(vq_push(&T.vq, &T.e, 4), 0);
	CHECK_EQ(r16(USED_GPA + 2), 1);
	env_fini();

	CHECK_EQ(env_start(4, PACKED_FEATS), 0);
	packed_chain(&d, 1, 0);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(as_remove(&T.as, RAM_GPA), 0);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), -EFAULT);
	CHECK_EQ(vq_pop(&T.vq, &T.e), -EFAULT);
	CHECK(!T.vq.broken);
	env_fini();
}

static void ring_state_round_trips_and_bad_state_is_refused(void)
{
	struct tdesc d = { BUF_GPA, 4, 0 };
	struct vq_state s, bad;

	env_init();
	CHECK_EQ(vq_set_state(&T.vq, &(struct vq_state){ 0 }), -EINVAL);
	env_fini();
	CHECK_EQ(env_start(5, PACKED_FEATS), 0);
	packed_chain(&d, 1, 3);
	packed_chain(&d, 1, 4);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(vq_push(&T.vq, &T.e, 0), 0);
	vq_get_state(&T.vq, &s);
	CHECK_EQ(s.next_avail, 1);
	CHECK_EQ(s.next_used, 1);
	bad = s;
	bad.next_avail = 5;
	CHECK_EQ(vq_set_state(&T.vq, &bad), -EINVAL);
	bad = s;
	bad.next_used = 0xffff;
	CHECK_EQ(vq_set_state(&T.vq, &bad), -EINVAL);
	/* a restarted queue resumes where the saved one stopped */
	vq_reset(&T.vq);
	CHECK_EQ(vq_start(&T.vq, &T.as, &T.cfg), 0);
	CHECK_EQ(vq_set_state(&T.vq, &s), 0);
	CHECK_EQ(vq_pop(&T.vq, &T.e), 1);
	CHECK_EQ(T.e.id, 4);
	env_fini();
}

/* ------------------------------------------------------------- random */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random descriptor, biased towards plausible values. */
static void random_desc(uint64_t gpa)
{
	uint64_t r = rnd();
	uint64_t addr = (r & 1) ? RAM_GPA + rnd() % RAM_SIZE : rnd();
	uint32_t len = (r & 2) ? (uint32_t)(rnd() % 8 * 16) : (uint32_t)rnd();
	uint16_t flags = (uint16_t)((r & 4) ? (rnd() & 7) : rnd());

	if ((r & 0x18) == 0)
		flags = (uint16_t)(flags | (T.vq.avail_wrap ? F_AVAIL : F_USED));
	w64(gpa, addr);
	w32(gpa + 8, len);
	w16(gpa + 12, (uint16_t)((r & 0x20) ? rnd() % 16 : rnd()));
	w16(gpa + 14, flags);
}

/* Fill the rings and the indirect area with random (mostly plausible) bytes. */
static void random_rings(uint16_t size)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		random_desc(DESC_GPA + 16ULL * i);
	for (i = 0; i < 64; i++)
		random_desc(IND_GPA + 16ULL * i);
	for (i = 0; i < 2u * size + 6; i += 2)
		w16(AVAIL_GPA + i, (uint16_t)((rnd() & 1) ? rnd() % (size + 2u) : rnd()));
	if (rnd() & 1)
		w16(AVAIL_GPA + 2, (uint16_t)(T.vq.last_avail + rnd() % (size + 2u)));
}

/* Cursor results a random chain may give. */
static int cursor_rc_ok(int rc)
{
	return rc >= 0 || rc == -EMSGSIZE || rc == -EFAULT || rc == -E2BIG;
}

/* Check an element's invariants and exercise the cursors on it. */
static int random_use(struct vq_elem *e)
{
	int ok = 1;
	uint64_t out = 0, in = 0;
	struct vq_cursor c;
	struct iovec iov[8];
	uint8_t buf[64];
	unsigned int i;

	if (e->nr_out + e->nr_in > VQ_MAX_SEGS || e->id >= T.vq.cfg.size)
		return 0;
	for (i = 0; i < (unsigned int)e->nr_out + e->nr_in; i++) {
		if (!e->segs[i].len)
			return 0;
		*(i < e->nr_out ? &out : &in) += e->segs[i].len;
	}
	if (out != e->out_len || in != e->in_len || out > (4ULL << 30) || in > (4ULL << 30))
		return 0;
	vq_reader_init(&c, &T.vq, e);
	ok = ok && cursor_rc_ok(vq_read(&c, buf, rnd() % sizeof(buf)));
	ok = ok && cursor_rc_ok(vq_cursor_iov(&c, rnd() % 256, iov, 8));
	vq_writer_init(&c, &T.vq, e);
	memset(buf, 0, sizeof(buf));
	ok = ok && cursor_rc_ok(vq_write(&c, buf, rnd() % sizeof(buf)));
	ok = ok && cursor_rc_ok(vq_cursor_skip(&c, rnd() % 64));
	ok = ok && cursor_rc_ok(vq_cursor_iov(&c, rnd() % 256, iov, 8));
	return ok;
}

/* One randomized round on a started queue; 0 when an invariant failed. */
static int random_round(uint16_t size)
{
	unsigned int k;
	int ret;

	random_rings(size);
	for (k = 0; k < 2u * size + 2; k++) {
		ret = vq_pop(&T.vq, &T.e);
		if (ret == 0 || ret == -EPROTO)
			break;
		if (ret != 1 || !random_use(&T.e))
			return 0;
		if (rnd() % 8 == 0) {
			vq_unpop(&T.vq, &T.e);
			continue;
		}
		if (vq_push(&T.vq, &T.e, (uint32_t)rnd()))
			return 0;
	}
	(void)vq_should_interrupt(&T.vq);
	(void)vq_notify_enable(&T.vq, rnd() & 1);
	(void)vq_has_avail(&T.vq);
	return 1;
}

static void random_rings_never_crash_the_device(void)
{
	unsigned int iter, broken = 0, popped = 0;

	env_init();
	for (iter = 0; iter < 20000; iter++) {
		bool packed = rnd() & 1;
		uint16_t size = packed ? (uint16_t)(1 + rnd() % 64)
				       : (uint16_t)(1u << (rnd() % 7));

		if (iter % 20 == 0 || !T.vq.ready || T.vq.broken) {
			broken += T.vq.broken;
			popped += (unsigned int)T.vq.popped;
			T.cfg.size = size;
			T.cfg.features = (packed ? PACKED_FEATS : SPLIT_FEATS) |
					 (rnd() & FEAT(VIRTIO_F_INDIRECT_DESC)) |
					 (rnd() & FEAT(VIRTIO_F_EVENT_IDX));
			T.pwrap = true;
			CHECK_EQ(vq_start(&T.vq, &T.as, &T.cfg), 0);
		}
		if (!random_round(T.cfg.size)) {
			printf("# iteration %u failed\n", iter);
			CHECK(0);
		}
	}
	/* the generator reaches both outcomes */
	CHECK(broken > 100);
	CHECK(popped > 100);
	env_fini();
}

int main(void)
{
	as_reader_register();
	RUN(start_rejects_bad_sizes);
	RUN(start_rejects_misaligned_or_unmapped_rings);
	RUN(start_event_idx_needs_room_for_the_event_fields);
	RUN(packed_start_checks_event_areas);
	RUN(calls_on_a_stopped_queue_fail_with_einval);
	RUN(split_empty_queue_pops_nothing);
	RUN(split_single_descriptor_pops_one_segment);
	RUN(split_chain_out_and_in_has_exact_segments);
	RUN(split_zero_length_descriptors_are_skipped);
	RUN(split_push_writes_used_entry_then_idx);
	RUN(unpop_returns_the_chain_to_the_queue);
	RUN(cursor_reads_and_writes_across_segment_boundaries);
	RUN(cursor_overrun_returns_emsgsize_and_keeps_position);
	RUN(cursor_iov_translates_each_piece);
	RUN(cursor_on_unmapped_or_readonly_buffer_fails_with_efault);
	RUN(split_indirect_table_is_followed);
	RUN(packed_indirect_table_is_followed);
	RUN(split_indices_wrap_at_65535);
	RUN(split_batch_of_chains_near_wrap_pops_in_order);
	RUN(packed_wrap_counters_survive_several_laps);
	RUN(packed_empty_ring_and_used_slots_are_not_available);
	RUN(split_no_interrupt_flag_suppresses_interrupts);
	RUN(split_event_idx_interrupts_only_past_used_event);
	RUN(split_notify_enable_sets_flags_and_reports_the_race);
	RUN(split_event_idx_notify_enable_writes_avail_event);
	RUN(packed_event_suppression_follows_driver_flags);
	RUN(packed_notify_enable_writes_device_event);
	RUN(split_loop_in_chain_breaks_the_queue);
	RUN(split_next_out_of_range_breaks_the_queue);
	RUN(split_head_out_of_range_breaks_the_queue);
	RUN(split_more_than_max_segments_breaks_the_queue);
	RUN(split_avail_idx_jump_breaks_the_queue);
	RUN(writable_then_readable_breaks_the_queue);
	RUN(length_sum_overflow_breaks_the_queue);
	RUN(gpa_plus_len_overflow_breaks_the_queue);
	RUN(indirect_without_feature_breaks_the_queue);
	RUN(bad_indirect_tables_break_the_queue);
	RUN(packed_bad_chains_break_the_queue);
	RUN(broken_queue_recovers_only_after_reset);
	RUN(ring_and_buffer_writes_are_dirty_tracked);
	RUN(removed_ring_memory_gives_efault_without_breaking);
	RUN(ring_state_round_trips_and_bad_state_is_refused);
	RUN(random_rings_never_crash_the_device);
	as_reader_unregister();
	return harness_done();
}
