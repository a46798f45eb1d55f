// SPDX-License-Identifier: MIT
/*
 * wire.c - I/O, running CRC, message text and libzstd for the migration
 * stream.  See wire.h.
 *
 * libzstd is not linked: mig_zstd_load() loads it (core/dynlib.h) when a
 * writer compresses or a reader meets a compressed stream, so that a VM that
 * never migrates with compression never maps it.  Every ZSTD_* function is
 * called through the table mig_zstd (ZSTD_compressCCtx() is
 * mig_zstd.compressCCtx()); zstd.h still gives the types and constants.
 */
#include "migration/wire.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/dynlib.h"
#include "migration/stream.h"
#include "snapshot/crc64.h"

#if !defined(KITE_ZSTD_SONAME) || !defined(KITE_ZSTD_PACKAGE)
#error "meson.build defines KITE_ZSTD_SONAME and KITE_ZSTD_PACKAGE (scripts/soname.sh)"
#endif

#define MIG_ZSTD_SYM(f)		DYNLIB_SYM(struct mig_zstd, f, "ZSTD_" #f),

/* Written once by dynlib_load(), before the first compression context. */
struct mig_zstd mig_zstd;

static const struct dynlib_sym mig_zstd_syms[] = {
	MIG_ZSTD_FUNCS(MIG_ZSTD_SYM)
};

static struct dynlib mig_zstd_lib = {
	.soname = KITE_ZSTD_SONAME,
	.needed_for = "a compressed migration",
	.package = KITE_ZSTD_PACKAGE,
	.syms = mig_zstd_syms,
	.nr_syms = sizeof(mig_zstd_syms) / sizeof(mig_zstd_syms[0]),
	.table = &mig_zstd,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

int mig_zstd_load(void)
{
	return dynlib_load(&mig_zstd_lib);
}

/* ----------------------------------------------------------------- I/O */

bool mig_fd_is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

uint64_t mig_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t mig_now_ms(void)
{
	return (int64_t)(mig_now_us() / 1000);
}

int mig_io_write(int fd, bool sock, const void *buf, size_t len, uint64_t *done)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return -EPIPE;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;	/* SO_SNDTIMEO */
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
		*done += (uint64_t)n;
	}
	return 0;
}

/* Wait until @fd is readable or the deadline passes. */
static int wait_readable(int fd, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left;
	int n;

	for (;;) {
		left = deadline_ms - mig_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;	/* readable, hung up or in error: read() tells */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int mig_io_read(int fd, void *buf, size_t len, int64_t deadline_ms, size_t *got)
{
	uint8_t *p = buf;
	ssize_t n;
	int ret;

	*got = 0;
	while (*got < len) {
		if (deadline_ms >= 0) {
			ret = wait_readable(fd, deadline_ms);
			if (ret)
				return ret;
		}
		n = read(fd, p + *got, len - *got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				return -EPIPE;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;	/* SO_RCVTIMEO */
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		*got += (size_t)n;
	}
	return 0;
}

/* ----------------------------------------------------------------- CRC */

/* ECMA-182, bit-reversed (snapshot/crc64.c has the same). */
#define MIG_CRC64_POLY		0xC96C5795D7870F42ULL
/* x^0 in the reflected representation: the top bit. */
#define MIG_CRC64_ONE		(1ULL << 63)

/* a(x) * b(x) modulo the polynomial, both reflected (x^0 is the top bit). */
static uint64_t mult_mod_p(uint64_t a, uint64_t b)
{
	uint64_t p = 0;

	for (uint64_t m = MIG_CRC64_ONE; m; m >>= 1) {
		if (a & m)
			p ^= b;
		b = (b & 1) ? (b >> 1) ^ MIG_CRC64_POLY : b >> 1;
	}
	return p;
}

/* x^(8 * len) modulo the polynomial: the shift by @len zero bytes. */
static uint64_t x_pow_8n(uint64_t len)
{
	uint64_t p = MIG_CRC64_ONE, sq = MIG_CRC64_ONE >> 8;	/* x^8 */

	while (len) {
		if (len & 1)
			p = mult_mod_p(sq, p);
		sq = mult_mod_p(sq, sq);
		len >>= 1;
	}
	return p;
}

/*
 * The same identity as zlib's crc32_combine(): with init and xorout both all
 * ones they cancel, and crc(A B) is crc(A) shifted over B's bits, plus
 * crc(B).
 */
uint64_t mig_crc64_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b)
{
	return mult_mod_p(x_pow_8n(len_b), crc_a) ^ crc_b;
}

uint64_t mig_crc_extend(uint64_t running, uint64_t rec_crc, uint64_t len)
{
	uint8_t tail[MIG_REC_TAIL];

	for (int i = 0; i < MIG_REC_TAIL; i++)
		tail[i] = (uint8_t)(rec_crc >> (8 * i));
	running = mig_crc64_combine(running, rec_crc, len);
	return crc64_update(running, tail, sizeof(tail));
}

/* ---------------------------------------------------------------- text */

void mig_msg_copy(char *out, size_t outlen, const uint8_t *text, size_t len)
{
	size_t i;

	if (!outlen)
		return;
	for (i = 0; i < len && i < outlen - 1; i++)
		out[i] = (text[i] >= 0x20 && text[i] <= 0x7e) ? (char)text[i] : '?';
	out[i] = '\0';
}

const char *mig_rec_name(uint32_t type)
{
	switch (type) {
	case MIG_REC_PAGES:
		return "PAGES";
	case MIG_REC_ROUND:
		return "ROUND";
	case MIG_REC_STATE:
		return "STATE";
	case MIG_REC_END:
		return "END";
	case MIG_REC_ABORT:
		return "ABORT";
	case MIG_REC_ACK:
		return "ACK";
	default:
		return "unknown";
	}
}
