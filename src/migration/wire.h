/* SPDX-License-Identifier: MIT */
/*
 * wire.h - what the stream's writer (stream.c) and reader (stream_read.c)
 * share: whole-buffer I/O on a socket or any fd, the running CRC, message
 * text, and libzstd loaded on first use.  Private to src/migration.
 */
#ifndef KITE_MIGRATION_WIRE_H
#define KITE_MIGRATION_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "core/error.h"

/* The libzstd functions kite calls, each as ZSTD_<name>. */
#define MIG_ZSTD_FUNCS(X)						\
	X(createCCtx) X(freeCCtx) X(compressCCtx)			\
	X(createDCtx) X(freeDCtx) X(decompressDCtx)			\
	X(isError) X(getErrorName)
#define MIG_ZSTD_MEMBER(f)	__typeof__(ZSTD_##f) *f;

struct mig_zstd {
	MIG_ZSTD_FUNCS(MIG_ZSTD_MEMBER)
};

/* The table, valid once mig_zstd_load() has returned 0 (read-only then). */
extern struct mig_zstd mig_zstd;

/* Load libzstd if it is not yet (any thread); message names the package. */
int mig_zstd_load(void) KITE_WUR;

/* Whether @fd is a socket (send(MSG_NOSIGNAL)) rather than a pipe or file. */
bool mig_fd_is_socket(int fd);

/**
 * mig_io_write() - write all of @buf, retrying partial writes and EINTR
 * @done: incremented by every byte written, also on failure
 *
 * Return: 0; -EPIPE when the peer closed or reset the connection;
 * -ETIMEDOUT when a send timeout (SO_SNDTIMEO) ran out; else -errno.  No
 * message is set: the caller knows what it was sending.
 */
int mig_io_write(int fd, bool sock, const void *buf, size_t len,
		 uint64_t *done) KITE_WUR;
/**
 * mig_io_read() - read exactly @len bytes, retrying partial reads and EINTR
 * @deadline_ms: CLOCK_MONOTONIC time (mig_now_ms()) to give up at, or -1
 * @got: set to the bytes read, also on failure
 *
 * Return: 0; -EPIPE at end of file or on a reset connection; -ETIMEDOUT at
 * the deadline or when a receive timeout (SO_RCVTIMEO) ran out; else -errno.
 * No message is set.
 */
int mig_io_read(int fd, void *buf, size_t len, int64_t deadline_ms,
		size_t *got) KITE_WUR;
/* CLOCK_MONOTONIC in milliseconds and in microseconds. */
int64_t mig_now_ms(void);
uint64_t mig_now_us(void);

/**
 * mig_crc_extend() - the running CRC after one more record
 * @running: the CRC of the records so far
 * @rec_crc: the record's own CRC, of its first @len bytes (type..payload)
 *
 * Equal to crc64_update() over the record's bytes and its CRC field, without
 * reading the payload a second time (the CRC combination of zlib's
 * crc32_combine(), for CRC-64/XZ).
 */
uint64_t mig_crc_extend(uint64_t running, uint64_t rec_crc, uint64_t len);
/* CRC-64/XZ of A then B from crc(A), crc(B) and B's length. */
uint64_t mig_crc64_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b);

/* @len bytes of peer text into @out (NUL-terminated, at most @outlen - 1
 * bytes), bytes outside 0x20..0x7e replaced by '?'. */
void mig_msg_copy(char *out, size_t outlen, const uint8_t *text, size_t len);
/* "PAGES", "ROUND", ... or "unknown". */
const char *mig_rec_name(uint32_t type);

#endif
