// SPDX-License-Identifier: MIT
/*
 * Unit tests of the migration stream reader against streams that are
 * well-formed at the CRC level but wrong in what they say: headers from
 * another kite or another VM, records of unknown types or wrong lengths,
 * page entries that do not add up, frames outside guest RAM, bad zstd data,
 * an END that does not match.  Streams are laid out byte by byte (mig_rig.h)
 * with correct CRCs, so that every check behind the CRC is reached.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "mig_rig.h"
#include "migration/stream.h"
#include "migration/transport.h"
#include "migration/wire.h"

static struct sb sb;
static struct rig_ram ram;
static struct rig_result res;
static uint8_t raw_page[MIG_PAGE_SIZE];

/* Read sb's stream into fresh guest RAM; the result is in res. */
static int read_sb(void)
{
	rig_ram_free(&ram);
	if (rig_ram_init(&ram, RIG_PAGES))
		return -1;
	return rig_read_bytes(sb.b, sb.len, &ram, &res);
}

#define EXPECT_REFUSED(code, text)					\
	do {								\
		CHECK_EQ(read_sb(), 0);					\
		if (res.ret != (code))					\
			printf("# got %d: %s\n", res.ret, res.msg);	\
		CHECK_EQ(res.ret, (code));				\
		CHECK_STR_CONTAINS(res.msg, (text));			\
	} while (0)

/* A stream of one PAGES record with the entries given, then END. */
static struct sb_pages pp;

static void pages_stream(uint32_t flags)
{
	sb_header(&sb, flags);
	sb_pages_end(&sb, &pp);
	sb_end(&sb);
	memset(&pp, 0, sizeof(pp));
}

static void a_hand_built_stream_is_accepted(void)
{
	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_RAW, raw_page, MIG_PAGE_SIZE);
	sb_entry(&pp, 2, MIG_PAGE_ZERO, NULL, 0);
	pages_stream(0);
	CHECK_EQ(read_sb(), 0);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(res.total_pages, 2);
	CHECK(!memcmp(ram.mem + MIG_PAGE_SIZE, raw_page, MIG_PAGE_SIZE));
	CHECK(!rig_page_untouched(&ram, 2));
	CHECK(rig_page_untouched(&ram, 3));
}

static void headers_from_another_kite_or_vm_are_refused(void)
{
	sb_header(&sb, 0);
	sb.b[0] = 'X';
	EXPECT_REFUSED(-EPROTO, "not a kite migration stream");
	sb_header_raw(&sb, 2, 0, RIG_RAM, MIG_PAGE_SIZE);
	EXPECT_REFUSED(-EPROTONOSUPPORT, "the source sends format version 2, this kite reads version 1");
	sb_header(&sb, 0x2);
	EXPECT_REFUSED(-EPROTONOSUPPORT, "unknown flags 0x2");
	sb_header_raw(&sb, 1, 0, RIG_RAM, 8192);
	EXPECT_REFUSED(-EINVAL, "page size is 8192 bytes, this kite's 4096");
	sb_header_raw(&sb, 1, 0, 2 * RIG_RAM, MIG_PAGE_SIZE);
	EXPECT_REFUSED(-EINVAL, "the source's guest has 524288 bytes of RAM, this destination 262144");
	sb_header(&sb, 0);
	sb.b[40] = 'x';		/* in the version string, CRC not fixed */
	EXPECT_REFUSED(-EBADMSG, "header CRC mismatch");
	sb_header(&sb, 0);
	sb.b[28] = 0x07;
	le_put(sb.b + 60, crc64_update(0, sb.b, 60), 8);
	EXPECT_REFUSED(-EPROTO, "kite version is not NUL-padded text");
	/* Nothing but a short prefix of the magic: still a closed connection. */
	sb_header(&sb, 0);
	sb.len = 5;
	EXPECT_REFUSED(-EPIPE, "in the middle of the header");
}

static void oversize_and_unknown_records_are_refused_before_their_payload(void)
{
	uint8_t head[8];

	/* Only the record header is there: a read of the payload would end
	 * in EOF, so these errors prove it was not attempted. */
	sb_header(&sb, 0);
	le_put(head, MIG_REC_STATE, 4);
	le_put(head + 4, MIG_RECORD_MAX + 1, 4);
	memcpy(sb.b + sb.len, head, 8);
	sb.len += 8;
	EXPECT_REFUSED(-EMSGSIZE, "STATE record at byte 68 has a bad length of 8388609 bytes");
	le_put(sb.b + MIG_HEADER_LEN, MIG_REC_PAGES, 4);
	le_put(sb.b + MIG_HEADER_LEN + 4, MIG_PAGES_PAYLOAD_MAX + 1, 4);
	EXPECT_REFUSED(-EMSGSIZE, "PAGES record at byte 68 has a bad length");
	le_put(sb.b + MIG_HEADER_LEN, MIG_REC_ROUND, 4);
	le_put(sb.b + MIG_HEADER_LEN + 4, 11, 4);
	EXPECT_REFUSED(-EMSGSIZE, "ROUND record at byte 68 has a bad length of 11 bytes (12 to 12)");
	le_put(sb.b + MIG_HEADER_LEN, 99, 4);
	EXPECT_REFUSED(-EPROTO, "unexpected record type 99 (unknown) at byte 68");
	le_put(sb.b + MIG_HEADER_LEN, MIG_REC_ACK, 4);
	EXPECT_REFUSED(-EPROTO, "unexpected record type 6 (ACK)");
}

static void frames_outside_guest_ram_are_refused_and_nothing_lands(void)
{
	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_RAW, raw_page, MIG_PAGE_SIZE);
	sb_entry(&pp, RIG_PAGES, MIG_PAGE_ZERO, NULL, 0);
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "entry 1: page frame is not guest RAM (0x40)");
	CHECK(rig_page_untouched(&ram, 1));	/* the good entry before it too */

	sb_header(&sb, 0);
	sb_entry(&pp, UINT64_MAX, MIG_PAGE_ZERO, NULL, 0);
	pages_stream(0);
	ram.lookups = 0;
	EXPECT_REFUSED(-EPROTO, "page frame is not guest RAM (0xffffffffffffffff)");
	CHECK_EQ(ram.lookups, 0);	/* refused before the callback */
}

static void page_entries_that_do_not_add_up_are_refused(void)
{
	sb_header(&sb, 0);
	sb_entry(&pp, 1, 3, NULL, 0);
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "entry 0: unknown page encoding (0x3)");

	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_ZERO, raw_page, 1);
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "bad data length for its encoding (0x1)");

	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_RAW, raw_page, MIG_PAGE_SIZE - 1);
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "bad data length for its encoding (0xfff)");

	sb_header(&sb, MIG_F_ZSTD);
	sb_entry(&pp, 1, MIG_PAGE_ZSTD, raw_page, MIG_PAGE_SIZE);
	pages_stream(MIG_F_ZSTD);
	EXPECT_REFUSED(-EPROTO, "bad data length for its encoding (0x1000)");

	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_ZSTD, raw_page, 10);
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "a zstd page in a stream without compression");

	/* Count 2, one entry: the record ends inside the second. */
	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_ZERO, NULL, 0);
	le_put(pp.p, 2, 4);
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "entry 1: the record ends inside the entry");

	/* A data length past the record's end. */
	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_RAW, raw_page, MIG_PAGE_SIZE);
	pp.len -= 100;
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "page data runs past the record");

	/* Bytes after the last entry. */
	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_ZERO, NULL, 0);
	pp.len += 3;
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "has 3 bytes after its last page");
}

static void page_counts_outside_one_to_64_are_refused(void)
{
	sb_header(&sb, 0);
	for (uint32_t i = 0; i < 2; i++)
		sb_entry(&pp, i, MIG_PAGE_ZERO, NULL, 0);
	le_put(pp.p, 0, 4);
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "has 0 pages (1 to 64)");

	sb_header(&sb, 0);
	sb_entry(&pp, 0, MIG_PAGE_ZERO, NULL, 0);
	le_put(pp.p, MIG_PAGES_PER_RECORD + 1, 4);
	pages_stream(0);
	EXPECT_REFUSED(-EPROTO, "has 65 pages (1 to 64)");
}

/* A zstd frame of @len bytes of @page into @out: its size, 0 on failure. */
static size_t compress(uint8_t *out, size_t cap, const uint8_t *page, size_t len)
{
	ZSTD_CCtx *c;
	size_t n;

	if (mig_zstd_load())
		return 0;
	c = mig_zstd.createCCtx();
	n = c ? mig_zstd.compressCCtx(c, out, cap, page, len, 1) : 0;
	if (c)
		mig_zstd.freeCCtx(c);
	return c && !mig_zstd.isError(n) ? n : 0;
}

static void zstd_data_must_be_one_whole_page(void)
{
	uint8_t page[MIG_PAGE_SIZE + 1], frame[MIG_PAGE_SIZE];
	size_t n;

	memset(page, 0x42, sizeof(page));
	sb_header(&sb, MIG_F_ZSTD);
	sb_entry(&pp, 1, MIG_PAGE_ZSTD, "not a zstd frame", 16);
	pages_stream(MIG_F_ZSTD);
	EXPECT_REFUSED(-EPROTO, "entry 0: bad zstd data");

	n = compress(frame, sizeof(frame), page, MIG_PAGE_SIZE - 1);
	CHECK(n > 0);
	sb_header(&sb, MIG_F_ZSTD);
	sb_entry(&pp, 1, MIG_PAGE_ZSTD, frame, (uint32_t)n);
	pages_stream(MIG_F_ZSTD);
	EXPECT_REFUSED(-EPROTO, "zstd data is not one page long (0xfff)");

	n = compress(frame, sizeof(frame), page, MIG_PAGE_SIZE + 1);
	CHECK(n > 0);
	sb_header(&sb, MIG_F_ZSTD);
	sb_entry(&pp, 1, MIG_PAGE_ZSTD, frame, (uint32_t)n);
	pages_stream(MIG_F_ZSTD);
	EXPECT_REFUSED(-EPROTO, "entry 0: bad zstd data");
	CHECK(rig_page_untouched(&ram, 1));

	n = compress(frame, sizeof(frame), page, MIG_PAGE_SIZE);
	CHECK(n > 0);
	sb_header(&sb, MIG_F_ZSTD);
	sb_entry(&pp, 1, MIG_PAGE_ZSTD, frame, (uint32_t)n);
	pages_stream(MIG_F_ZSTD);
	CHECK_EQ(read_sb(), 0);
	CHECK_EQ(res.ret, 0);
	CHECK(!memcmp(ram.mem + MIG_PAGE_SIZE, page, MIG_PAGE_SIZE));
}

static void an_end_that_does_not_match_is_refused(void)
{
	uint8_t p[16];

	sb_header(&sb, 0);
	sb_entry(&pp, 1, MIG_PAGE_ZERO, NULL, 0);
	sb_pages_end(&sb, &pp);
	memset(&pp, 0, sizeof(pp));
	le_put(p, 5, 8);
	le_put(p + 8, sb.crc, 8);
	sb_record(&sb, MIG_REC_END, p, sizeof(p));
	EXPECT_REFUSED(-EBADMSG, "the source sent 5 pages, 1 arrived");

	sb_header(&sb, 0);
	sb_round(&sb, 1, 0);
	le_put(p, 0, 8);
	le_put(p + 8, sb.crc ^ 1, 8);
	sb_record(&sb, MIG_REC_END, p, sizeof(p));
	EXPECT_REFUSED(-EBADMSG, "stream CRC mismatch at the END record at byte 96");

	/* Records dropped between two good ones: only the running CRC sees it. */
	sb_header(&sb, 0);
	sb_round(&sb, 1, 0);
	sb_round(&sb, 2, 0);
	sb_end(&sb);
	memmove(sb.b + sb.rec_off[0], sb.b + sb.rec_off[1], sb.len - sb.rec_off[1]);
	sb.len -= sb.rec_off[1] - sb.rec_off[0];
	EXPECT_REFUSED(-EBADMSG, "stream CRC mismatch");
}

static void abort_without_a_message_still_says_so(void)
{
	uint8_t p[4];

	sb_header(&sb, 0);
	le_put(p, (uint32_t)-ETIMEDOUT, 4);
	sb_record(&sb, MIG_REC_ABORT, p, sizeof(p));
	EXPECT_REFUSED(-ECANCELED, "cancelled the migration before the first round: no reason given (code -110)");
}

static void a_refused_stream_stays_refused(void)
{
	struct mig_event_info info;
	struct mig_reader r;
	enum mig_event ev;
	int fd;

	sb_header(&sb, 0);
	le_put(sb.b + sb.len, 99, 4);
	le_put(sb.b + sb.len + 4, 0, 4);
	sb.len += 8;
	fd = rig_memfd(sb.b, sb.len);
	CHECK(fd >= 0);
	CHECK_EQ(mig_reader_init(&r, fd, RIG_RAM, rig_page_ptr, &ram), 0);
	CHECK_EQ(mig_read(&r, &ev, &info), -EPROTO);
	CHECK_EQ(mig_read(&r, &ev, &info), -EPROTO);
	CHECK_STR_CONTAINS(err_msg(), "already refused");
	mig_reader_destroy(&r);
	mig_reader_destroy(&r);	/* twice is harmless */
	close(fd);
}

static void a_stalled_source_ends_at_the_receive_timeout(void)
{
	struct mig_event_info info;
	struct mig_reader r;
	enum mig_event ev;
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	sb_header(&sb, 0);
	sb_round(&sb, 4, 0);
	CHECK_EQ(write(sv[0], sb.b, sb.len), (ssize_t)sb.len);
	CHECK_EQ(mig_set_recv_timeout(sv[1], 100), 0);
	CHECK_EQ(mig_reader_init(&r, sv[1], RIG_RAM, rig_page_ptr, &ram), 0);
	CHECK_EQ(mig_read(&r, &ev, &info), 0);
	CHECK_EQ(ev, MIG_EV_ROUND);
	CHECK_EQ(info.round, 4);
	CHECK_EQ(mig_read(&r, &ev, &info), -ETIMEDOUT);
	CHECK_STR_CONTAINS(err_msg(), "sent nothing within the receive timeout after round 4, at byte 96");
	mig_reader_destroy(&r);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(raw_page); i++)
		raw_page[i] = (uint8_t)(i * 31 + 7);
	RUN(a_hand_built_stream_is_accepted);
	RUN(headers_from_another_kite_or_vm_are_refused);
	RUN(oversize_and_unknown_records_are_refused_before_their_payload);
	RUN(frames_outside_guest_ram_are_refused_and_nothing_lands);
	RUN(page_entries_that_do_not_add_up_are_refused);
	RUN(page_counts_outside_one_to_64_are_refused);
	RUN(zstd_data_must_be_one_whole_page);
	RUN(an_end_that_does_not_match_is_refused);
	RUN(abort_without_a_message_still_says_so);
	RUN(a_refused_stream_stays_refused);
	RUN(a_stalled_source_ends_at_the_receive_timeout);
	rig_ram_free(&ram);
	return harness_done();
}
