// SPDX-License-Identifier: MIT
/*
 * Unit tests of the virtqueue library (split and packed rings) on a fake
 * address space: starting queues, popping, pushing, cursors, indirect
 * tables, index wrap-around and notification suppression.  The guest and its
 * driver side are in vq_driver.h; hostile drivers in test_virtqueue_hostile.c.
 */
#include "vq_driver.h"

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
	as_reader_unregister();
	return harness_done();
}
