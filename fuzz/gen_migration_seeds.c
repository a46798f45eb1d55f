// SPDX-License-Identifier: MIT
/*
 * gen_migration_seeds.c - writes the seed corpus of fuzz_migration.c into a
 * directory: small streams from the real writer (with and without zstd,
 * with every record type, aborted, cut short, from another format version)
 * and page contents for the writer round trip, each behind
 * fuzz_migration's flags byte.  Not run by the build; the seeds are
 * committed (fuzz/README.md says how to remake them):
 *   ninja -C BUILD fuzz/fuzz-gen-migration-seeds && BUILD/fuzz/fuzz-gen-migration-seeds fuzz/corpus/migration
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/le.h"
#include "migration/stream.h"

/* fuzz_migration.c's flags byte and guest RAM. */
#define F_FIX_CRC	0x01
#define F_FIX_END	0x02
#define F_FIX_RAM	0x04
#define F_WRITER	0x80
#define F_W_ZSTD	0x40
#define F_W_SKIP	0x20
#define FUZZ_RAM	(16u * MIG_PAGE_SIZE)

static const char *outdir;
static int failed;

static void put(const char *name, uint8_t flags, const uint8_t *b, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&flags, 1, 1, f) != 1 || (len && fwrite(b, 1, len, f) != len)) {
		perror(path);
		failed = 1;
	}
	if (f && fclose(f)) {
		perror(path);
		failed = 1;
	}
}

static void must(int ret)
{
	if (ret) {
		fprintf(stderr, "gen-migration-seeds: %s\n", err_msg());
		exit(1);
	}
}

/* Compressible pages: text, a counter, a single byte. */
static void make_page(uint8_t *p, unsigned int kind)
{
	memset(p, 0, MIG_PAGE_SIZE);
	if (kind == 1)
		for (size_t i = 0; i < MIG_PAGE_SIZE; i++)
			p[i] = (uint8_t)"kite seed page "[i % 15];
	else if (kind == 2)
		for (size_t i = 0; i < MIG_PAGE_SIZE; i += 8)
			le_put(p + i, i, 8);
	else if (kind == 3)
		p[MIG_PAGE_SIZE - 1] = 0xff;
}

/* A stream from the writer: pages in two rounds, a state blob, then END
 * (or ABORT).  @raw_page: one page of it goes raw. */
static size_t write_stream(uint8_t **out, bool zstd, bool raw_page, bool abort_it)
{
	uint8_t page[MIG_PAGE_SIZE];
	struct mig_writer w;
	size_t len;
	int fd = memfd_create("seed", MFD_CLOEXEC);

	if (fd < 0)
		must(-1);
	must(mig_writer_init(&w, fd, FUZZ_RAM, zstd));
	/* Without zstd every page is 4 KiB: keep the seeds small. */
	for (unsigned int pfn = 0; pfn < (zstd ? 6u : 2u); pfn++) {
		make_page(page, pfn % 4);
		must(mig_put_page(&w, pfn, page, true));
	}
	must(mig_put_round(&w, 1, 5));
	make_page(page, 0);
	must(mig_put_page(&w, 1, page, false));		/* now zero */
	if (raw_page) {
		for (size_t i = 0; i < MIG_PAGE_SIZE; i++)
			page[i] = (uint8_t)(i * 2654435761u >> 13);
		must(mig_put_page(&w, 8, page, false));
	}
	must(mig_put_round(&w, 2, raw_page ? 2 : 1));
	if (abort_it) {
		(void)mig_put_abort(&w, -5, "seed: the source gave up");
	} else {
		must(mig_put_state(&w, "vcpu and device state", 21));
		must(mig_put_end(&w));
	}
	mig_writer_destroy(&w);
	len = (size_t)lseek(fd, 0, SEEK_END);
	*out = malloc(len);
	if (!*out || pread(fd, *out, len, 0) != (ssize_t)len)
		must(-1);
	close(fd);
	return len;
}

int main(int argc, char **argv)
{
	uint8_t *b, pages[3 * MIG_PAGE_SIZE];
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	len = write_stream(&b, false, false, false);
	put("plain", 0, b, len);
	put("plain-fixed", F_FIX_CRC | F_FIX_END | F_FIX_RAM, b, len);
	put("truncated", 0, b, len - 20);
	le_put(b + len - 24, 99, 8);	/* END's page count; its CRC fixed */
	put("end-wrong-count", F_FIX_CRC, b, len);
	le_put(b + 8, 2, 4);
	put("format-version-2", F_FIX_CRC, b, len);
	free(b);

	len = write_stream(&b, true, false, false);
	put("zstd", 0, b, len);
	put("zstd-fixed", F_FIX_CRC | F_FIX_END | F_FIX_RAM, b, len);
	le_put(b + 12, 0, 4);	/* zstd pages in a stream without the flag */
	put("zstd-without-flag", F_FIX_CRC | F_FIX_END, b, len);
	free(b);

	len = write_stream(&b, true, true, false);
	put("zstd-and-raw", F_FIX_CRC | F_FIX_END | F_FIX_RAM, b, len);
	free(b);

	len = write_stream(&b, false, false, true);
	put("aborted", 0, b, len);
	free(b);

	for (unsigned int i = 0; i < 3; i++)
		make_page(pages + i * MIG_PAGE_SIZE, i + 1);
	put("writer-plain", F_WRITER, pages, MIG_PAGE_SIZE + 100);
	put("writer-zstd", F_WRITER | F_W_ZSTD, pages, sizeof(pages));
	put("writer-zstd-skip", F_WRITER | F_W_ZSTD | F_W_SKIP, pages, 100);
	return failed;
}
