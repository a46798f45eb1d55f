/* SPDX-License-Identifier: MIT */
/*
 * kite-pattern: fill or check a file range with the seeded pattern of the
 * test guest's virtio-blk scenario (tests/guest/lib/pattern.h).
 *
 *   kite-pattern check FILE SEED OFFSET LEN   exit 0 if [OFFSET, OFFSET+LEN) matches
 *   kite-pattern fill  FILE SEED OFFSET LEN   write the pattern there
 *   kite-pattern zero  FILE OFFSET LEN        exit 0 if the range is all zeros
 *
 * Numbers are decimal or 0x hex.  Exit 0 on success, 1 on a mismatch or an
 * I/O error (with a message on stderr), 2 on bad usage.
 */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../guest/lib/pattern.h"

#define CHUNK (1u << 20)

static int usage(void)
{
	fprintf(stderr, "usage: kite-pattern check|fill FILE SEED OFFSET LEN\n"
			"       kite-pattern zero FILE OFFSET LEN\n");
	return 2;
}

static int num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || !*s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[CHUNK], want[CHUNK];
	uint64_t seed = 0, off, len, done;
	int fd, fill, zero, a = 3;

	if (argc < 2)
		return usage();
	fill = !strcmp(argv[1], "fill");
	zero = !strcmp(argv[1], "zero");
	if (!fill && !zero && strcmp(argv[1], "check"))
		return usage();
	if (argc != (zero ? 5 : 6))
		return usage();
	if ((!zero && num(argv[a++], &seed)) || num(argv[a], &off) || num(argv[a + 1], &len)) {
		fprintf(stderr, "kite-pattern: bad number\n");
		return 2;
	}
	fd = open(argv[2], fill ? O_RDWR | O_CREAT : O_RDONLY, 0644);
	if (fd < 0) {
		fprintf(stderr, "kite-pattern: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	for (done = 0; done < len;) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		ssize_t r;

		if (zero)
			memset(want, 0, n);
		else
			pattern_fill(want, seed, off + done, n);
		if (fill) {
			r = pwrite(fd, want, n, (off_t)(off + done));
		} else {
			r = pread(fd, buf, n, (off_t)(off + done));
			if (r == (ssize_t)n && memcmp(buf, want, n)) {
				size_t i = 0;

				while (buf[i] == want[i])
					i++;
				fprintf(stderr, "kite-pattern: %s: mismatch at offset %" PRIu64
					" (0x%" PRIx64 "): 0x%02x, expected 0x%02x (%s seed %" PRIu64
					" range %" PRIu64 "+%" PRIu64 ")\n", argv[2], off + done + i,
					off + done + i, buf[i], want[i], zero ? "zeros" : "pattern",
					seed, off, len);
				return 1;
			}
		}
		if (r != (ssize_t)n) {
			fprintf(stderr, "kite-pattern: %s: %s at offset %" PRIu64 ": %s\n", argv[2],
				fill ? "write" : "read", off + done,
				r < 0 ? strerror(errno) : "short (past the end of the file?)");
			return 1;
		}
		done += n;
	}
	if (fill && fsync(fd)) {
		fprintf(stderr, "kite-pattern: %s: fsync: %s\n", argv[2], strerror(errno));
		return 1;
	}
	close(fd);
	if (!fill)
		printf("kite-pattern: %s: %" PRIu64 " bytes at %" PRIu64 " match (%s)\n", argv[2],
		       len, off, zero ? "zeros" : "pattern");
	return 0;
}
