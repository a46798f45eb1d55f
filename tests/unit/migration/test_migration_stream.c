// SPDX-License-Identifier: MIT
/*
 * Unit tests of the migration stream (migration/stream.h): a source thread
 * and a destination over a socketpair, with and without compression, the
 * acknowledgement, ABORT, the writer's failures, and the running CRC.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "mig_rig.h"
#include "migration/stream.h"
#include "migration/wire.h"
#include "snapshot/crc64.h"

#define RT_PAGES	512u	/* 2 MiB: more than one send buffer of pages */
#define RT_RAM		((uint64_t)RT_PAGES * MIG_PAGE_SIZE)
#define RT_STATE_LEN	((3u << 20) / 2)	/* over one send buffer too */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rng();
}

enum kind { K_ZERO, K_RANDOM, K_COMPRESSIBLE };

/* The first pass's pages: zero, random, text, a single byte at either end. */
static enum kind fill_page(uint8_t *p, uint64_t pfn)
{
	memset(p, 0, MIG_PAGE_SIZE);
	switch (pfn % 8) {
	case 0:
	case 6:
		return K_ZERO;
	case 1:
	case 5:
		fill_random(p, MIG_PAGE_SIZE);
		return K_RANDOM;
	case 2:
		for (size_t i = 0; i < MIG_PAGE_SIZE; i++)
			p[i] = (uint8_t)"kite migrates pages "[i % 20];
		return K_COMPRESSIBLE;
	case 3:
		p[MIG_PAGE_SIZE - 1] = 1;	/* zero but for the last byte */
		return K_COMPRESSIBLE;
	case 4:
		p[0] = 0x80;
		return K_COMPRESSIBLE;
	default:
		for (size_t i = 0; i < MIG_PAGE_SIZE; i += 8)
			le_put(p + i, pfn * 1000 + i, 8);
		return K_COMPRESSIBLE;
	}
}

/* Second pass: every fifth page changed, to zero (odd) or new random bytes. */
static bool redirtied(uint64_t pfn)
{
	return pfn % 5 == 0;
}

struct source {
	bool zstd;
	int fd;
	uint8_t *mem;
	uint8_t *state;
	/* What the thread did. */
	int ret;
	char msg[512];
	struct mig_writer w;	/* its statistics, after destroy kept here */
	uint64_t round_pages[2];
	int ack_status;
	char ack_msg[64];
};

static int source_pass(struct source *s, struct mig_writer *w, bool first,
		       uint32_t round)
{
	uint64_t before = w->pages_zero + w->pages_raw + w->pages_zstd;
	int ret = 0;

	for (uint64_t pfn = 0; pfn < RT_PAGES && !ret; pfn++)
		if (first || redirtied(pfn))
			ret = mig_put_page(w, pfn, s->mem + pfn * MIG_PAGE_SIZE, first);
	s->round_pages[round - 1] = w->pages_zero + w->pages_raw + w->pages_zstd - before;
	return ret ? ret : mig_put_round(w, round, s->round_pages[round - 1]);
}

static void *source_thread(void *arg)
{
	struct source *s = arg;
	struct mig_writer w;
	int ret;

	ret = mig_writer_init(&w, s->fd, RT_RAM, s->zstd);
	if (ret)
		goto out;
	ret = source_pass(s, &w, true, 1);
	for (uint64_t pfn = 0; pfn < RT_PAGES && !ret; pfn++) {
		uint8_t *p = s->mem + pfn * MIG_PAGE_SIZE;

		if (redirtied(pfn) && (pfn & 1))
			memset(p, 0, MIG_PAGE_SIZE);
		else if (redirtied(pfn))
			fill_random(p, MIG_PAGE_SIZE);
	}
	if (!ret)
		ret = source_pass(s, &w, false, 2);
	if (!ret)
		ret = mig_put_state(&w, s->state, RT_STATE_LEN);
	if (!ret)
		ret = mig_put_end(&w);
	if (!ret)
		ret = mig_recv_ack(s->fd, 5000, &s->ack_status, s->ack_msg,
				   sizeof(s->ack_msg));
	s->w = w;
	mig_writer_destroy(&w);
out:
	s->ret = ret;
	snprintf(s->msg, sizeof(s->msg), "%s", ret ? err_msg() : "");
	return NULL;
}

static void *dest_page_ptr(void *opaque, uint64_t pfn)
{
	return pfn < RT_PAGES ? (uint8_t *)opaque + pfn * MIG_PAGE_SIZE : NULL;
}

/* Pages of each kind the source sends in both passes. */
struct expect {
	uint64_t skipped, zero, random, compressible;
};

static void expected_counts(struct expect *e)
{
	uint8_t page[MIG_PAGE_SIZE];

	memset(e, 0, sizeof(*e));
	for (uint64_t pfn = 0; pfn < RT_PAGES; pfn++) {
		switch (fill_page(page, pfn)) {
		case K_ZERO:
			e->skipped++;
			break;
		case K_RANDOM:
			e->random++;
			break;
		default:
			e->compressible++;
			break;
		}
		if (redirtied(pfn) && (pfn & 1))
			e->zero++;
		else if (redirtied(pfn))
			e->random++;
	}
}

/* The destination's side, on this thread; what it read goes in @dst. */
static void run_destination(int fd, uint8_t *dst, const struct source *s,
			    struct mig_reader *stats)
{
	struct mig_event_info info;
	struct mig_reader r;
	enum mig_event ev;
	unsigned int rounds = 0;

	CHECK_EQ(mig_reader_init(&r, fd, RT_RAM, dest_page_ptr, dst), 0);
	CHECK_STR_CONTAINS(r.source_version, ".");
	for (;;) {
		int ret = mig_read(&r, &ev, &info);

		if (ret)
			printf("# %s\n", err_msg());
		CHECK_EQ(ret, 0);
		if (ev == MIG_EV_END)
			break;
		if (ev == MIG_EV_ROUND) {
			rounds++;
			CHECK_EQ(info.round, rounds);
			CHECK_EQ(r.round, rounds);
		} else {
			CHECK_EQ(info.state_len, RT_STATE_LEN);
			CHECK(!memcmp(info.state, s->state, RT_STATE_LEN));
		}
	}
	CHECK_EQ(rounds, 2);
	CHECK_EQ(info.total_pages, r.pages_zero + r.pages_raw + r.pages_zstd);
	*stats = r;
	CHECK_EQ(mig_read(&r, &ev, &info), -EINVAL);	/* after END */
	mig_reader_destroy(&r);
	CHECK_EQ(mig_send_ack(fd, 0, "resumed on the destination"), 0);
}

static void round_trip(bool zstd)
{
	struct source s = { .zstd = zstd };
	uint8_t *dst = calloc(RT_PAGES, MIG_PAGE_SIZE);
	struct mig_reader r = { 0 };
	struct expect e;
	pthread_t t;
	int sv[2];

	rng_state = 0x9e3779b97f4a7c15ULL;
	s.mem = malloc(RT_RAM);
	s.state = malloc(RT_STATE_LEN);
	CHECK(dst && s.mem && s.state);
	for (uint64_t pfn = 0; pfn < RT_PAGES; pfn++)
		fill_page(s.mem + pfn * MIG_PAGE_SIZE, pfn);
	fill_random(s.state, RT_STATE_LEN);
	expected_counts(&e);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	s.fd = sv[0];
	CHECK_EQ(pthread_create(&t, NULL, source_thread, &s), 0);

	run_destination(sv[1], dst, &s, &r);
	if (harness_cur_failed)
		shutdown(sv[1], SHUT_RDWR);	/* let the source fail, not hang */
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	if (s.ret)
		printf("# source: %s\n", s.msg);
	CHECK_EQ(s.ret, 0);
	CHECK_EQ(s.ack_status, 0);
	CHECK_STR_CONTAINS(s.ack_msg, "resumed on the destination");
	/* Every page landed where it belongs, the zeroed ones cleared. */
	CHECK(!memcmp(dst, s.mem, RT_RAM));
	/* Statistics: both sides agree, and each page went as expected. */
	CHECK_EQ(s.w.pages_skipped, e.skipped);
	CHECK_EQ(s.w.pages_zero, e.zero);
	CHECK_EQ(r.pages_zero, e.zero);
	CHECK_EQ(r.pages_raw, s.w.pages_raw);
	CHECK_EQ(r.pages_zstd, s.w.pages_zstd);
	CHECK_EQ(s.w.pages_raw, zstd ? e.random : e.random + e.compressible);
	CHECK_EQ(s.w.pages_zstd, zstd ? e.compressible : 0);
	CHECK_EQ(s.round_pages[0] + s.round_pages[1], e.zero + e.random + e.compressible);
	CHECK_EQ(s.w.bytes_sent, r.bytes_read);
	free(dst);
	free(s.mem);
	free(s.state);
}

static void pages_land_in_place_over_a_socket_uncompressed(void)
{
	round_trip(false);
}

static void pages_land_in_place_over_a_socket_with_zstd(void)
{
	round_trip(true);
}

static void crc_combination_equals_the_crc_of_the_concatenation(void)
{
	static const size_t lens[] = { 0, 1, 7, 8, 9, 4096, 262980, 1000003 };
	uint8_t *buf = malloc(2 * 1000003);

	CHECK(buf != NULL);
	rng_state = 12345;
	fill_random(buf, 2 * 1000003);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			uint64_t a = crc64_update(0, buf, lens[i]);
			uint64_t b = crc64_update(0, buf + lens[i], lens[j]);

			CHECK_EQ(mig_crc64_combine(a, b, lens[j]),
				 crc64_update(a, buf + lens[i], lens[j]));
		}
	/* The running CRC: a record's bytes and its CRC field. */
	{
		uint64_t rec = crc64_update(0, buf, 1000);
		uint8_t tail[8];

		le_put(tail, rec, 8);
		CHECK_EQ(mig_crc_extend(77, rec, 1000),
			 crc64_update(crc64_update(77, buf, 1000), tail, 8));
	}
	free(buf);
}

static void a_writer_takes_nothing_after_end(void)
{
	uint8_t page[MIG_PAGE_SIZE] = { 1 };
	struct mig_writer w;
	int fd = rig_memfd(NULL, 0);

	CHECK(fd >= 0);
	CHECK_EQ(mig_writer_init(&w, fd, RIG_RAM, false), 0);
	CHECK_EQ(mig_put_page(&w, 1, page, false), 0);
	CHECK_EQ(mig_put_end(&w), 0);
	CHECK_EQ(mig_put_page(&w, 2, page, false), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "already ended");
	CHECK_EQ(mig_put_round(&w, 1, 1), -EINVAL);
	CHECK_EQ(mig_put_state(&w, "x", 1), -EINVAL);
	CHECK_EQ(mig_put_end(&w), -EINVAL);
	CHECK_EQ(mig_flush(&w), 0);
	mig_writer_destroy(&w);
	close(fd);
}

static void zero_pages_skipped_in_the_first_pass_are_not_sent(void)
{
	static const uint8_t zero[MIG_PAGE_SIZE];
	struct rig_result res;
	struct rig_ram ram;
	struct mig_writer w;
	int fd = rig_memfd(NULL, 0);

	CHECK(fd >= 0 && rig_ram_init(&ram, RIG_PAGES) == 0);
	CHECK_EQ(mig_writer_init(&w, fd, RIG_RAM, false), 0);
	for (uint64_t pfn = 0; pfn < RIG_PAGES; pfn++)
		CHECK_EQ(mig_put_page(&w, pfn, zero, true), 0);
	CHECK_EQ(mig_put_page(&w, 5, zero, false), 0);	/* a later pass: sent */
	CHECK_EQ(mig_put_end(&w), 0);
	CHECK_EQ(w.pages_skipped, RIG_PAGES);
	CHECK_EQ(w.pages_zero, 1);
	/* Header, one PAGES record with one entry, END. */
	CHECK_EQ(w.bytes_sent, MIG_HEADER_LEN + (16 + 4 + 13) + (16 + 16));
	mig_writer_destroy(&w);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	rig_read_all(fd, &ram, &res);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(res.total_pages, 1);
	for (uint64_t pfn = 0; pfn < RIG_PAGES; pfn++)
		CHECK(rig_page_untouched(&ram, pfn) == (pfn != 5));
	rig_ram_free(&ram);
	close(fd);
}

static void abort_reaches_the_destination_with_its_message(void)
{
	uint8_t page[MIG_PAGE_SIZE];
	struct rig_result res;
	struct rig_ram ram;
	struct mig_writer w;
	int fd = rig_memfd(NULL, 0);

	memset(page, 7, sizeof(page));
	CHECK(fd >= 0 && rig_ram_init(&ram, RIG_PAGES) == 0);
	CHECK_EQ(mig_writer_init(&w, fd, RIG_RAM, false), 0);
	CHECK_EQ(mig_put_page(&w, 3, page, false), 0);
	CHECK_EQ(mig_put_round(&w, 1, 1), 0);
	CHECK_EQ(mig_put_page(&w, 4, page, false), 0);	/* dropped by the abort */
	CHECK_EQ(mig_put_abort(&w, -EIO, "the source's disk failed\n"), 0);
	CHECK_EQ(mig_put_page(&w, 5, page, false), -EINVAL);
	CHECK_EQ(mig_put_abort(&w, -EIO, "again"), 0);	/* harmless */
	mig_writer_destroy(&w);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	rig_read_all(fd, &ram, &res);
	CHECK_EQ(res.ret, -ECANCELED);
	CHECK_STR_CONTAINS(res.msg, "the source cancelled the migration after round 1: the source's disk failed? (code -5)");
	CHECK(!rig_page_untouched(&ram, 3));
	CHECK(rig_page_untouched(&ram, 4));
	rig_ram_free(&ram);
	close(fd);
}

static void state_over_the_limit_is_refused_and_the_stream_goes_on(void)
{
	uint8_t *big = malloc((size_t)MIG_RECORD_MAX + 1);
	struct rig_result res;
	struct rig_ram ram;
	struct mig_writer w;
	int fd = rig_memfd(NULL, 0);

	CHECK(big && fd >= 0 && rig_ram_init(&ram, RIG_PAGES) == 0);
	memset(big, 0x3c, (size_t)MIG_RECORD_MAX + 1);
	CHECK_EQ(mig_writer_init(&w, fd, RIG_RAM, false), 0);
	CHECK_EQ(mig_put_state(&w, big, (size_t)MIG_RECORD_MAX + 1), -EMSGSIZE);
	CHECK_EQ(mig_put_state(&w, big, MIG_RECORD_MAX), 0);	/* the largest */
	CHECK_EQ(mig_put_state(&w, NULL, 0), 0);
	CHECK_EQ(mig_put_end(&w), 0);
	mig_writer_destroy(&w);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	rig_read_all(fd, &ram, &res);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(res.states, 2);
	rig_ram_free(&ram);
	close(fd);
	free(big);
}

static void a_closed_destination_fails_the_writer_without_sigpipe(void)
{
	struct mig_writer w;
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	CHECK_EQ(mig_writer_init(&w, sv[0], RIG_RAM, false), -EPIPE);
	CHECK_STR_CONTAINS(err_msg(), "the destination closed the connection after 0 bytes");
	mig_writer_destroy(&w);	/* harmless after a failed init */
	close(sv[0]);
}

static void a_failed_send_sticks_to_the_writer(void)
{
	uint8_t page[MIG_PAGE_SIZE];
	struct mig_writer w;
	int sv[2];

	memset(page, 9, sizeof(page));
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(mig_writer_init(&w, sv[0], RIG_RAM, false), 0);
	close(sv[1]);
	CHECK_EQ(mig_put_page(&w, 1, page, false), 0);	/* only queued */
	CHECK_EQ(mig_flush(&w), -EPIPE);
	CHECK_EQ(mig_put_page(&w, 2, page, false), -EPIPE);
	CHECK_STR_CONTAINS(err_msg(), "an earlier send failed");
	CHECK_EQ(mig_put_end(&w), -EPIPE);
	CHECK_EQ(mig_put_abort(&w, -EIO, "x"), -EPIPE);
	mig_writer_destroy(&w);
	close(sv[0]);
}

static void ack_carries_a_failure_status_and_its_message(void)
{
	char msg[16];
	int sv[2], status = 1;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(mig_send_ack(sv[1], -ENOSPC, "no room for the guest\x01 here"), 0);
	CHECK_EQ(mig_recv_ack(sv[0], 1000, &status, msg, sizeof(msg)), 0);
	CHECK_EQ(status, -ENOSPC);
	CHECK(!strcmp(msg, "no room for the"));	/* cut to the buffer */
	CHECK_EQ(mig_send_ack(sv[1], 5, "bad"), -EINVAL);
	close(sv[0]);
	close(sv[1]);
}

static void ack_wait_ends_at_its_timeout_or_a_closed_connection(void)
{
	char msg[16];
	int sv[2], status;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(mig_recv_ack(sv[0], 50, &status, msg, sizeof(msg)), -ETIMEDOUT);
	CHECK_STR_CONTAINS(err_msg(), "no acknowledgement from the destination within 50 ms");
	close(sv[1]);
	CHECK_EQ(mig_recv_ack(sv[0], 1000, &status, msg, sizeof(msg)), -EPIPE);
	CHECK_STR_CONTAINS(err_msg(), "closed the connection without acknowledging");
	close(sv[0]);
}

static void a_damaged_ack_is_refused(void)
{
	uint8_t rec[16 + 4];
	char msg[16];
	int sv[2], status;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	le_put(rec, MIG_REC_ACK, 4);
	le_put(rec + 4, 4, 4);
	le_put(rec + 8, 0, 4);
	le_put(rec + 12, crc64_update(0, rec, 12) ^ 1, 8);
	CHECK_EQ(write(sv[1], rec, sizeof(rec)), (ssize_t)sizeof(rec));
	CHECK_EQ(mig_recv_ack(sv[0], 1000, &status, msg, sizeof(msg)), -EBADMSG);
	le_put(rec, MIG_REC_END, 4);
	CHECK_EQ(write(sv[1], rec, sizeof(rec)), (ssize_t)sizeof(rec));
	CHECK_EQ(mig_recv_ack(sv[0], 1000, &status, msg, sizeof(msg)), -EPROTO);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	RUN(pages_land_in_place_over_a_socket_uncompressed);
	RUN(pages_land_in_place_over_a_socket_with_zstd);
	RUN(crc_combination_equals_the_crc_of_the_concatenation);
	RUN(a_writer_takes_nothing_after_end);
	RUN(zero_pages_skipped_in_the_first_pass_are_not_sent);
	RUN(abort_reaches_the_destination_with_its_message);
	RUN(state_over_the_limit_is_refused_and_the_stream_goes_on);
	RUN(a_closed_destination_fails_the_writer_without_sigpipe);
	RUN(a_failed_send_sticks_to_the_writer);
	RUN(ack_carries_a_failure_status_and_its_message);
	RUN(ack_wait_ends_at_its_timeout_or_a_closed_connection);
	RUN(a_damaged_ack_is_refused);
	return harness_done();
}
