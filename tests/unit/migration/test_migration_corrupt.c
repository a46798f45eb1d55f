// SPDX-License-Identifier: MIT
/*
 * Unit tests of the migration stream reader against damaged streams: every
 * single-bit flip and every truncation of a small valid stream (written by
 * the real writer, with compression) is refused with a message, and the
 * pages of the damaged record, and of every record after it, never reach
 * guest memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "harness.h"
#include "mig_rig.h"
#include "migration/stream.h"

#define SMALL_PAGES	8u	/* RAM the callback knows; enough for the stream */

/* What the small stream holds, record by record. */
struct small {
	uint8_t bytes[16384];
	size_t len;
	size_t rec_off[8];	/* record offsets, then the stream's end */
	uint32_t rec_type[8];
	unsigned int nr;
	uint8_t page[5][MIG_PAGE_SIZE];	/* the source's pages 1..4 */
};

/* pfn -> the PAGES record (0 or 2) that carries it, in the small stream. */
static unsigned int record_of(uint64_t pfn)
{
	return pfn <= 2 ? 0 : 2;
}

/* PAGES {1: zero, 2: text (zstd)}, ROUND 1, PAGES {3: random (raw),
 * 4: counter (zstd)}, STATE "dev", END: every record type a stream has. */
static int build_small(struct small *s)
{
	struct mig_writer w;
	uint64_t x = 88172645463325252ULL, zstd_pages;
	size_t off;
	int fd = rig_memfd(NULL, 0), ret;

	if (fd < 0)
		return -1;
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < MIG_PAGE_SIZE; i++) {
		s->page[2][i] = (uint8_t)"small stream "[i % 13];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		s->page[3][i] = (uint8_t)x;
		s->page[4][i] = (uint8_t)(i / 64);
	}
	ret = mig_writer_init(&w, fd, RIG_RAM, true);
	for (uint64_t pfn = 1; pfn <= 4 && !ret; pfn++) {
		ret = mig_put_page(&w, pfn, s->page[pfn], false);
		if (!ret && pfn == 2)
			ret = mig_put_round(&w, 1, 2);
	}
	if (!ret)
		ret = mig_put_state(&w, "dev", 3);
	if (!ret)
		ret = mig_put_end(&w);
	zstd_pages = w.pages_zstd;
	mig_writer_destroy(&w);
	if (ret || zstd_pages != 2)	/* pages 2 and 4 */
		goto fail;
	s->len = (size_t)lseek(fd, 0, SEEK_END);
	if (s->len > sizeof(s->bytes) || pread(fd, s->bytes, s->len, 0) != (ssize_t)s->len)
		goto fail;
	close(fd);
	/* Walk the records by their lengths. */
	for (off = MIG_HEADER_LEN; off < s->len && s->nr < 7; s->nr++) {
		s->rec_off[s->nr] = off;
		s->rec_type[s->nr] = (uint32_t)le_get(s->bytes + off, 4);
		off += 16 + le_get(s->bytes + off + 4, 4);
	}
	s->rec_off[s->nr] = off;
	return off == s->len && s->nr == 5 ? 0 : -1;
fail:
	close(fd);
	return -1;
}

/* The index of the record holding byte @off; -1 for the header. */
static int record_at(const struct small *s, size_t off)
{
	for (unsigned int i = 0; i < s->nr; i++)
		if (off < s->rec_off[i + 1])
			return off < s->rec_off[i] ? -1 : (int)i;
	return -1;
}

/* Whether page @pfn holds what the stream carries for it. */
static bool page_applied(const struct rig_ram *ram, const struct small *s, uint64_t pfn)
{
	static const uint8_t zero[MIG_PAGE_SIZE];
	const uint8_t *want = pfn == 1 ? zero : s->page[pfn];

	return !memcmp(ram->mem + pfn * MIG_PAGE_SIZE, want, MIG_PAGE_SIZE);
}

/*
 * After a stream refused in record @bad (-1: the header): the PAGES
 * records before it were applied, it and those after it left no trace.
 * Restores the pages for the next run.  Returns the first wrong pfn, or 0.
 */
static uint64_t check_pages(struct rig_ram *ram, const struct small *s, int bad)
{
	uint64_t wrong = 0;

	for (uint64_t pfn = 1; pfn <= 4; pfn++) {
		bool before = bad >= 0 && (int)record_of(pfn) < bad;

		if (before ? !page_applied(ram, s, pfn) : !rig_page_untouched(ram, pfn))
			wrong = wrong ? wrong : pfn;
		memset(ram->mem + pfn * MIG_PAGE_SIZE, RIG_FILL, MIG_PAGE_SIZE);
	}
	return wrong;
}

static struct small small;

static void the_small_stream_is_read_whole(void)
{
	struct rig_result res;
	struct rig_ram ram;

	CHECK_EQ(build_small(&small), 0);
	CHECK_EQ(small.rec_type[0], MIG_REC_PAGES);
	CHECK_EQ(small.rec_type[1], MIG_REC_ROUND);
	CHECK_EQ(small.rec_type[2], MIG_REC_PAGES);
	CHECK_EQ(small.rec_type[3], MIG_REC_STATE);
	CHECK_EQ(small.rec_type[4], MIG_REC_END);
	CHECK_EQ(rig_ram_init(&ram, SMALL_PAGES), 0);
	CHECK_EQ(rig_read_bytes(small.bytes, small.len, &ram, &res), 0);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(res.rounds, 1);
	CHECK_EQ(res.states, 1);
	CHECK_EQ(res.total_pages, 4);
	/* Every record was applied: "refused after the last one". */
	CHECK_EQ(check_pages(&ram, &small, (int)small.nr), 0);
	rig_ram_free(&ram);
}

static void every_bit_flip_is_refused_before_its_pages_land(void)
{
	struct rig_result res;
	struct rig_ram ram;
	unsigned int refused = 0;
	int fd;

	CHECK(small.len > 0);
	CHECK_EQ(rig_ram_init(&ram, SMALL_PAGES), 0);
	fd = rig_memfd(small.bytes, small.len);
	CHECK(fd >= 0);
	for (size_t off = 0; off < small.len; off++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t orig = small.bytes[off];
			uint64_t wrong;

			small.bytes[off] ^= (uint8_t)(1u << bit);
			CHECK_EQ(rig_refill(fd, small.bytes, small.len), 0);
			small.bytes[off] = orig;
			rig_read_all(fd, &ram, &res);
			if (!res.ret || !res.msg[0])
				printf("# flip at byte %zu bit %d: accepted or no message\n", off, bit);
			CHECK(res.ret < 0);
			CHECK(res.msg[0] != '\0');
			wrong = check_pages(&ram, &small, record_at(&small, off));
			if (wrong)
				printf("# flip at byte %zu bit %d (%s): page %llu wrong\n",
				       off, bit, res.msg, (unsigned long long)wrong);
			CHECK_EQ(wrong, 0);
			refused++;
		}
	}
	CHECK_EQ(refused, small.len * 8);
	close(fd);
	rig_ram_free(&ram);
}

static void every_truncation_is_a_closed_connection(void)
{
	struct rig_result res;
	struct rig_ram ram;
	int fd;

	CHECK(small.len > 0);
	CHECK_EQ(rig_ram_init(&ram, SMALL_PAGES), 0);
	fd = rig_memfd(NULL, 0);
	CHECK(fd >= 0);
	for (size_t len = 0; len < small.len; len++) {
		CHECK_EQ(rig_refill(fd, small.bytes, len), 0);
		rig_read_all(fd, &ram, &res);
		if (res.ret != -EPIPE)
			printf("# cut at %zu: %s\n", len, res.msg);
		CHECK_EQ(res.ret, -EPIPE);
		CHECK_STR_CONTAINS(res.msg, "the source closed the connection");
		/* The record cut short is not applied, nor what follows. */
		CHECK_EQ(check_pages(&ram, &small, len < MIG_HEADER_LEN ? -1 :
				     record_at(&small, len)), 0);
	}
	close(fd);
	rig_ram_free(&ram);
}

static void truncation_messages_say_where_the_stream_stopped(void)
{
	struct rig_result res;
	struct rig_ram ram;

	CHECK(small.len > 0);
	CHECK_EQ(rig_ram_init(&ram, SMALL_PAGES), 0);
	CHECK_EQ(rig_read_bytes(small.bytes, 30, &ram, &res), 0);
	CHECK_STR_CONTAINS(res.msg, "in the middle of the header at byte 30");
	CHECK_EQ(rig_read_bytes(small.bytes, MIG_HEADER_LEN, &ram, &res), 0);
	CHECK_STR_CONTAINS(res.msg, "before the first round, at byte 68, before the end of the stream");
	CHECK_EQ(rig_read_bytes(small.bytes, small.rec_off[2] + 3, &ram, &res), 0);
	CHECK_STR_CONTAINS(res.msg, "after round 1, in the middle of a record header");
	CHECK_EQ(rig_read_bytes(small.bytes, small.rec_off[2] + 100, &ram, &res), 0);
	CHECK_STR_CONTAINS(res.msg, "after round 1, in the middle of a PAGES record");
	CHECK_EQ(rig_read_bytes(small.bytes, small.rec_off[4], &ram, &res), 0);
	CHECK_STR_CONTAINS(res.msg, "after round 1, at byte");
	CHECK_STR_CONTAINS(res.msg, "before the end of the stream");
	rig_ram_free(&ram);
}

static void a_flipped_payload_bit_is_named_a_crc_mismatch_at_its_record(void)
{
	struct rig_result res;
	struct rig_ram ram;
	char want[64];
	size_t off = small.rec_off[2] + 8 + 40;	/* inside the raw page */

	CHECK(small.len > 0);
	CHECK_EQ(rig_ram_init(&ram, SMALL_PAGES), 0);
	small.bytes[off] ^= 0x10;
	CHECK_EQ(rig_read_bytes(small.bytes, small.len, &ram, &res), 0);
	small.bytes[off] ^= 0x10;
	CHECK_EQ(res.ret, -EBADMSG);
	snprintf(want, sizeof(want), "record CRC mismatch at byte %zu (a PAGES record",
		 small.rec_off[2]);
	CHECK_STR_CONTAINS(res.msg, want);
	rig_ram_free(&ram);
}

int main(void)
{
	RUN(the_small_stream_is_read_whole);
	RUN(every_bit_flip_is_refused_before_its_pages_land);
	RUN(every_truncation_is_a_closed_connection);
	RUN(truncation_messages_say_where_the_stream_stopped);
	RUN(a_flipped_payload_bit_is_named_a_crc_mismatch_at_its_record);
	return harness_done();
}
