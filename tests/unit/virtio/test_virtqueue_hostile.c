// SPDX-License-Identifier: MIT
/*
 * The virtqueue library against hostile drivers: every rule a chain can
 * break, recovery only after a reset, dirty tracking, ring state, and
 * thousands of random rings (vq_driver.h builds the guest).
 */
#include "vq_driver.h"

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
