// SPDX-License-Identifier: MIT
/*
 * fuzz_migration.c - the migration stream reader (migration/stream_read.c)
 * on arbitrary bytes, as a destination meets them on its socket, and the
 * writer and reader together on arbitrary pages.
 *
 * Input: one flags byte, then the bytes.
 *   bit 7 clear: the bytes are a stream, read into 16 pages of guest RAM
 *   (frame 7 is a hole: not RAM), through a memfd.
 *     bit 0  every CRC is replaced by the right one (the header's, each
 *            record's, walking the records by their lengths)
 *     bit 1  the END records' page count and running CRC are replaced by
 *            what precedes them (with bit 0)
 *     bit 2  the header's RAM size is replaced by the fuzzer's
 *     Without them almost every mutation dies at a CRC or the RAM size;
 *     with them the mutations reach the page entries, zstd and END.
 *   bit 7 set: the bytes are page contents, 4096 bytes to a page (the last
 *   one zero-padded), written by a writer (bit 6: with zstd; bit 5: zero
 *   pages skipped on each frame's first visit) to frames 0, 1, ... modulo
 *   16 but 7, then read back.
 *
 * Beyond "no crash": a refused stream leaves a message, and guest RAM
 * exactly as the refused record found it (a bad record writes no page); END is reported only with the page count that arrived and
 * nothing is read after it.  In writer mode the stream must be accepted
 * and the destination's RAM must equal the source's.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/le.h"
#include "migration/stream.h"
#include "snapshot/crc64.h"

#define F_FIX_CRC	0x01
#define F_FIX_END	0x02
#define F_FIX_RAM	0x04
#define F_WRITER	0x80
#define F_W_ZSTD	0x40
#define F_W_SKIP	0x20

#define FUZZ_PAGES	16u
#define FUZZ_RAM	((uint64_t)FUZZ_PAGES * MIG_PAGE_SIZE)
#define FUZZ_HOLE	7u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram[FUZZ_RAM], before[FUZZ_RAM], src[FUZZ_RAM];

/*
 * Guest RAM as the record being read found it.  One mig_read() call may
 * apply several PAGES records before one fails, so the snapshot is taken at
 * the start of each call and again at the first page lookup after a record
 * was applied: lookups come only from the check pass of the next record,
 * which must not write anything if it fails.
 */
static const struct mig_reader *cur;
static uint64_t snap_pages;

static uint64_t pages_applied(const struct mig_reader *r)
{
	return r->pages_zero + r->pages_raw + r->pages_zstd;
}

static void snapshot(void)
{
	memcpy(before, ram, sizeof(ram));
	snap_pages = pages_applied(cur);
}

static void *page_ptr(void *opaque, uint64_t pfn)
{
	(void)opaque;
	if (cur && pages_applied(cur) != snap_pages)
		snapshot();
	if (pfn >= FUZZ_PAGES || pfn == FUZZ_HOLE)
		return NULL;
	return ram + pfn * MIG_PAGE_SIZE;
}

/* Make the stream's checksums right, so that mutations get past them. */
static void fix_stream(uint8_t *b, size_t len, uint8_t flags)
{
	uint64_t running = 0, pages = 0;
	size_t off = MIG_HEADER_LEN, n;
	uint32_t type;

	if (len < MIG_HEADER_LEN)
		return;
	if (flags & F_FIX_RAM)
		le_put(b + 16, FUZZ_RAM, 8);
	le_put(b + 60, crc64_update(0, b, 60), 8);
	while (len - off >= MIG_REC_HEAD + MIG_REC_TAIL) {
		type = (uint32_t)le_get(b + off, 4);
		n = (size_t)le_get(b + off + 4, 4);
		if (n > len - off - MIG_REC_HEAD - MIG_REC_TAIL)
			break;
		if (type == MIG_REC_PAGES && n >= 4)
			pages += le_get(b + off + 8, 4);
		if (type == MIG_REC_END && n == 16 && (flags & F_FIX_END)) {
			le_put(b + off + 8, pages, 8);
			le_put(b + off + 16, running, 8);
		}
		le_put(b + off + 8 + n, crc64_update(0, b + off, 8 + n), 8);
		running = crc64_update(running, b + off, 16 + n);
		off += 16 + n;
	}
}

static int memfd_with(const uint8_t *b, size_t len)
{
	int fd = memfd_create("fuzz-migration", MFD_CLOEXEC);

	if (fd < 0 || (len && write(fd, b, len) != (ssize_t)len) || lseek(fd, 0, SEEK_SET))
		abort();
	return fd;
}

/* Read the stream on @fd to its end or its error, checking as it goes. */
static int read_stream(int fd, size_t len)
{
	struct mig_event_info info;
	struct mig_reader r;
	enum mig_event ev;
	volatile uint8_t sink = 0;
	int ret;

	err_clear();
	ret = mig_reader_init(&r, fd, FUZZ_RAM, page_ptr, NULL);
	if (ret) {
		if (!err_msg()[0] || r.buf || r.stage)
			abort();
		return ret;
	}
	cur = &r;
	for (;;) {
		snapshot();
		err_clear();
		ret = mig_read(&r, &ev, &info);
		if (ret) {
			if (!err_msg()[0])
				abort();
			/* Unless a record was applied after the last lookup (the
			 * refused record then looked nothing up, so it has no page
			 * to write): the refused record wrote nothing. */
			if (pages_applied(&r) == snap_pages && memcmp(before, ram, sizeof(ram)))
				abort();
			break;
		}
		if (r.bytes_read > len)
			abort();
		if (ev == MIG_EV_STATE) {
			if (info.state_len > MIG_RECORD_MAX || (info.state_len && !info.state))
				abort();
			for (size_t i = 0; i < info.state_len; i++)
				sink ^= ((const uint8_t *)info.state)[i];
		} else if (ev == MIG_EV_END) {
			if (info.total_pages != r.pages_zero + r.pages_raw + r.pages_zstd)
				abort();
			if (mig_read(&r, &ev, &info) == 0)
				abort();	/* nothing after END */
			break;
		}
	}
	(void)sink;
	cur = NULL;
	mig_reader_destroy(&r);
	return ret;
}

/* Frame of the @i-th page in writer mode: 0, 1, ... skipping the hole. */
static uint64_t writer_pfn(size_t i)
{
	uint64_t pfn = i % (FUZZ_PAGES - 1);

	return pfn >= FUZZ_HOLE ? pfn + 1 : pfn;
}

static void writer_round_trip(const uint8_t *data, size_t len, uint8_t flags)
{
	uint8_t page[MIG_PAGE_SIZE];
	struct mig_writer w;
	size_t i, n;
	bool skip;
	int fd = memfd_with(NULL, 0);

	memset(src, 0, sizeof(src));
	memset(ram, 0, sizeof(ram));
	if (mig_writer_init(&w, fd, FUZZ_RAM, flags & F_W_ZSTD))
		abort();
	for (i = 0; i * MIG_PAGE_SIZE < len || i == 0; i++) {
		n = len - i * MIG_PAGE_SIZE < MIG_PAGE_SIZE ? len - i * MIG_PAGE_SIZE : MIG_PAGE_SIZE;
		memset(page, 0, sizeof(page));
		memcpy(page, data + i * MIG_PAGE_SIZE, n);
		memcpy(src + writer_pfn(i) * MIG_PAGE_SIZE, page, MIG_PAGE_SIZE);
		/* Skipping zero pages is for the first visit of each frame only:
		 * the destination's page is known to be zero then. */
		skip = (flags & F_W_SKIP) && i < FUZZ_PAGES - 1;
		if (mig_put_page(&w, writer_pfn(i), page, skip))
			abort();
		if (i % 37 == 36 && mig_put_round(&w, (uint32_t)i, i))
			abort();
	}
	if (mig_put_state(&w, data, len > 1000 ? 1000 : len) || mig_put_end(&w))
		abort();
	mig_writer_destroy(&w);
	if (lseek(fd, 0, SEEK_SET) || read_stream(fd, SIZE_MAX) || memcmp(src, ram, sizeof(ram)))
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags, *b;
	size_t len;
	int fd;

	if (!size)
		return 0;
	flags = data[0];
	len = size - 1;
	if (flags & F_WRITER) {
		writer_round_trip(data + 1, len, flags);
		return 0;
	}
	b = malloc(len ? len : 1);
	if (!b)
		abort();
	memcpy(b, data + 1, len);
	if (flags & F_FIX_CRC)
		fix_stream(b, len, flags);
	fd = memfd_with(b, len);
	memset(ram, 0x5a, sizeof(ram));
	(void)read_stream(fd, len);
	close(fd);
	free(b);
	return 0;
}
