/* SPDX-License-Identifier: MIT */
/*
 * stream.h - live migration's wire format: a one-way stream of guest pages,
 * round markers and the device/vCPU state container from the source to the
 * destination, and one acknowledgement back.
 *
 * Byte layout, format version 1.  Every integer is little-endian; nothing is
 * aligned or padded.  "CRC" is CRC-64/XZ (snapshot/crc64.h).
 *
 *   header (68 bytes, source -> destination, once)
 *     0    u8[8]   magic "KITEMIG1"
 *     8    u32     format version, 1
 *     12   u32     flags: bit 0 (MIG_F_ZSTD) pages may be zstd-compressed;
 *                  every other bit is zero
 *     16   u64     guest RAM size in bytes (must equal the destination's)
 *     24   u32     page size, 4096
 *     28   u8[32]  kite version of the source: printable ASCII, NUL-padded
 *                  (informational)
 *     60   u64     CRC of bytes 0..59
 *
 *   records, back to back after the header (16 + L bytes each)
 *     0    u32     type (MIG_REC_*)
 *     4    u32     payload length L, at most MIG_RECORD_MAX (and the type's
 *                  own bound below, checked before anything is read or
 *                  allocated)
 *     8    u8[L]   payload
 *     8+L  u64     CRC of bytes 0..8+L-1 of this record
 *
 *   payloads
 *     MIG_REC_PAGES (1)  u32 count, 1..MIG_PAGES_PER_RECORD, then count
 *                        entries, and nothing after the last one:
 *                          u64 guest-physical page frame number (gpa >> 12)
 *                          u8  encoding: 0 zero page (D = 0), 1 raw (D = 4096),
 *                              2 zstd (1 <= D < 4096, a zstd frame of exactly
 *                              4096 bytes; only with MIG_F_ZSTD)
 *                          u32 data length D
 *                          u8[D] data
 *     MIG_REC_ROUND (2)  u32 round number, u64 pages sent in that round
 *                        (both informational: the reader hands them up)
 *     MIG_REC_STATE (3)  the caller's state container, opaque here (it has
 *                        its own versions and CRC); 0..MIG_RECORD_MAX bytes
 *     MIG_REC_END (4)    u64 page entries sent in the whole stream (every
 *                        entry of every PAGES record), u64 running CRC: the
 *                        CRC of every byte of every record before this one
 *                        (type to CRC), header excluded
 *     MIG_REC_ABORT (5)  u32 reason code (the source's int, a negative errno,
 *                        two's complement), then 0..MIG_MSG_MAX bytes of
 *                        message (no NUL): the source gave up
 *     MIG_REC_ACK (6)    the commit after END (migrate.h: READY from the
 *                        destination, GO from the source, RUNNING from the
 *                        destination), or a refusal from the destination at
 *                        any time (it cannot take the VM: the source stops
 *                        sending): u32 status (0, or a negative errno, two's
 *                        complement, -4095..-1), then 0..MIG_MSG_MAX bytes of
 *                        message (no NUL)
 *
 * A stream is: header, any number of PAGES, ROUND and STATE records in the
 * order the source chooses, then END (the reader reports it only after both
 * of its checks pass) or ABORT.  A page may be sent any number of times;
 * the last copy wins.  Messages are shown with every byte outside
 * 0x20..0x7e replaced by '?'.
 *
 * The stream is untrusted input.  The reader refuses the whole stream at the
 * first thing wrong (a closed connection included) with one message that
 * says what and where ("migration stream: record CRC mismatch at byte
 * 1052764 (a PAGES record of 262980 bytes)"); it allocates at most
 * MIG_RECORD_MAX + 8 bytes for records and MIG_PAGES_PER_RECORD pages of
 * staging, whatever the stream says.  The pages of a PAGES record reach
 * guest memory only once the whole record is in, its CRC matches and every
 * entry in it is valid (frame numbers, encodings, lengths, zstd frames): a
 * refused record writes nothing.
 *
 * Errors (negative errno, message through err_set()):
 *   -EPROTO            not a migration stream; malformed record or header
 *   -EBADMSG           CRC mismatch (header, record, the END record's
 *                      running CRC) or END's page count is not what arrived
 *   -EPROTONOSUPPORT   unknown format version or flag
 *   -EINVAL            page size or guest RAM size differs from this side's;
 *                      a writer call the stream does not allow (after END)
 *   -EMSGSIZE          a record longer than its bound; state over the limit
 *   -EPIPE             the peer closed (or reset) the connection
 *   -ETIMEDOUT         nothing arrived within the receive timeout
 *                      (mig_set_recv_timeout()), or no ACK in time
 *   -ECANCELED         the source sent ABORT (its message is in the error)
 *   -ENOENT, -ELIBBAD  libzstd cannot be loaded (core/dynlib.h)
 *   -ENOMEM, or the errno of a failed system call
 *
 * I/O: the fd is a connected stream socket (send() with MSG_NOSIGNAL: a
 * closed peer is -EPIPE, never SIGPIPE) or, for tests and the fuzz target,
 * any other fd (plain write()/read(): a pipe's closed reader then raises
 * SIGPIPE unless the caller ignores it).  Partial transfers and EINTR are
 * retried.  Neither side closes the fd, and neither reads ahead: the reader
 * takes exactly the bytes of the records it returns, so the fd can carry
 * the ACK afterwards.
 *
 * Threads: a writer or a reader is used by one thread at a time; separate
 * writers and readers are independent.  libzstd is loaded (dlopen(), on
 * first use) only by a writer with compression or a reader of a stream that
 * has MIG_F_ZSTD.
 */
#ifndef KITE_MIGRATION_STREAM_H
#define KITE_MIGRATION_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define MIG_MAGIC		"KITEMIG1"
#define MIG_MAGIC_LEN		8
#define MIG_FORMAT_VERSION	1u
#define MIG_F_ZSTD		0x1u
#define MIG_HEADER_LEN		68
#define MIG_VERSION_FIELD	32
#define MIG_PAGE_SIZE		4096u
#define MIG_PAGE_SHIFT		12
/* Record header (type, length) and trailer (CRC). */
#define MIG_REC_HEAD		8
#define MIG_REC_TAIL		8
/* Largest payload of any record (the state container sets it). */
#define MIG_RECORD_MAX		(8u << 20)
#define MIG_PAGES_PER_RECORD	64u
#define MIG_PAGE_ENTRY_HEAD	13	/* pfn, encoding, data length */
/* Largest PAGES payload: every page raw. */
#define MIG_PAGES_PAYLOAD_MAX \
	(4u + MIG_PAGES_PER_RECORD * (MIG_PAGE_ENTRY_HEAD + MIG_PAGE_SIZE))
/* Longest ABORT or ACK message, in bytes. */
#define MIG_MSG_MAX		256u

enum mig_rec_type {
	MIG_REC_PAGES = 1,
	MIG_REC_ROUND = 2,
	MIG_REC_STATE = 3,
	MIG_REC_END = 4,
	MIG_REC_ABORT = 5,
	MIG_REC_ACK = 6,
};

enum mig_page_enc {
	MIG_PAGE_ZERO = 0,
	MIG_PAGE_RAW = 1,
	MIG_PAGE_ZSTD = 2,
};

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

/*
 * The source's side.  Buffered: records are queued in a MIG_WRITER_BUF
 * buffer and sent when it is full, by mig_flush() and by mig_put_end().
 */
struct mig_writer {
	/* Statistics, read from the writer's thread (or after joining it). */
	uint64_t bytes_sent;	/* handed to the kernel, header included */
	uint64_t pages_zero;	/* page entries queued, by encoding */
	uint64_t pages_raw;
	uint64_t pages_zstd;
	uint64_t pages_skipped;	/* zero pages not sent at all (skip_zero) */

	/* Private. */
	int fd;
	bool sock;		/* send(MSG_NOSIGNAL) rather than write() */
	bool zstd;
	bool ended;		/* END or ABORT queued: nothing more goes in */
	int err;		/* sticky: the first failure, returned by every call */
	uint8_t *buf;
	size_t len;
	size_t rec_off;		/* the open PAGES record's offset in buf, or SIZE_MAX */
	uint32_t rec_count;	/* its entries so far */
	uint64_t crc;		/* running CRC of every record closed so far */
	uint8_t *bounce;	/* with zstd: the private copy of a page that zstd reads */
	struct ZSTD_CCtx_s *cctx;
};

#define MIG_WRITER_BUF		(1u << 20)

/**
 * mig_writer_init() - start a stream on the connected @fd
 * @ram_size: the guest's RAM size in bytes, recorded in the header
 * @zstd: compress pages with zstd (loads libzstd now)
 *
 * Sends the header at once, so that a destination that refuses it (another
 * RAM size, an older kite) closes the connection before any page is read.
 * The writer does not own @fd.  On failure @w needs no mig_writer_destroy()
 * (calling it is harmless).
 */
int mig_writer_init(struct mig_writer *w, int fd, uint64_t ram_size, bool zstd) KITE_WUR;
/**
 * mig_put_page() - queue one guest page
 * @pfn: its guest-physical frame number (gpa >> MIG_PAGE_SHIFT)
 * @page: MIG_PAGE_SIZE bytes of host memory, which the guest may be writing
 *        (a live round): a racing write may send a mix of old and new bytes
 *        (zstd only ever reads a private copy), which is harmless when the
 *        page's dirty bit was cleared before the call: the write makes the
 *        page dirty and the next round sends it again
 * @skip_zero: a zero page is not sent at all (the first full pass, when the
 *             destination's RAM is known to be zero); otherwise it is sent
 *             as a zero entry that the destination clears
 *
 * With compression, a page that zstd does not make smaller goes raw.
 * Pages are batched MIG_PAGES_PER_RECORD to a PAGES record.
 */
int mig_put_page(struct mig_writer *w, uint64_t pfn, const void *page,
		 bool skip_zero) KITE_WUR;
/* Queue a ROUND record (round @round sent @pages pages). */
int mig_put_round(struct mig_writer *w, uint32_t round, uint64_t pages) KITE_WUR;
/* Queue a STATE record with a copy of @blob; -EMSGSIZE over MIG_RECORD_MAX. */
int mig_put_state(struct mig_writer *w, const void *blob, size_t len) KITE_WUR;
/**
 * mig_put_end() - end the stream: queue END (page count, running CRC) and
 * flush.  Then wait for the destination with mig_recv_ack().
 */
int mig_put_end(struct mig_writer *w) KITE_WUR;
/**
 * mig_put_abort() - tell the destination the source gave up, best effort
 * @code: a negative errno (sent as is)
 * @msg: why, cut at MIG_MSG_MAX bytes (NULL: none)
 *
 * Drops the PAGES record being filled, queues ABORT and flushes; does
 * nothing on a writer that has already failed or ended.  Returns the
 * writer's error, for the log: the caller has its own failure to report.
 */
int mig_put_abort(struct mig_writer *w, int code, const char *msg);
/* Send everything queued (closing the PAGES record being filled). */
int mig_flush(struct mig_writer *w) KITE_WUR;
/* Free the buffers (queued bytes are dropped; flush first).  @fd stays open. */
void mig_writer_destroy(struct mig_writer *w);

/*
 * The destination's side.  The page callback turns a frame number into the
 * host address of that guest page (MIG_PAGE_SIZE writable bytes), or NULL
 * when the frame is not guest RAM (the stream is then refused).  It is
 * called, and its pointers used, only inside mig_read(), on its thread.
 */
typedef void *(*mig_page_ptr_fn)(void *opaque, uint64_t pfn);

struct mig_reader {
	/* Progress and statistics, read from the reader's thread. */
	uint64_t bytes_read;	/* header included */
	uint64_t pages_zero;	/* page entries applied, by encoding */
	uint64_t pages_raw;
	uint64_t pages_zstd;
	uint64_t ram_size;	/* the source's guest RAM size, from the header */
	uint32_t round;		/* the last ROUND record's number (valid if rounds) */
	uint32_t rounds;	/* ROUND records so far */
	char source_version[MIG_VERSION_FIELD + 1];	/* from the header */

	/* Private. */
	int fd;
	uint32_t flags;
	bool ended;		/* END was accepted */
	int failed;		/* sticky: the stream was refused with this */
	mig_page_ptr_fn page_ptr;
	void *opaque;
	uint8_t *buf;		/* one record's payload and CRC */
	size_t cap;
	uint8_t *stage;		/* decompressed pages of one record */
	uint64_t crc;		/* running CRC of every record accepted */
	uint64_t pages;		/* page entries accepted */
	struct ZSTD_DCtx_s *dctx;
};

enum mig_event {
	MIG_EV_ROUND,		/* info->round, info->round_pages */
	MIG_EV_STATE,		/* info->state, info->state_len */
	MIG_EV_END,		/* info->total_pages: the stream is complete */
};

struct mig_event_info {
	uint32_t round;
	uint64_t round_pages;
	const void *state;	/* the reader's buffer: valid until the next mig_read() */
	size_t state_len;
	uint64_t total_pages;
};

/**
 * mig_reader_init() - read and check the header on the connected @fd
 * @ram_size: this side's guest RAM size in bytes; another is refused.  0:
 *            any (a destination that builds its machine from the stream;
 *            r->ram_size tells it, and @page_ptr must still refuse frames
 *            outside that RAM)
 * @page_ptr: see mig_page_ptr_fn, with @opaque
 *
 * On failure @r needs no mig_reader_destroy() (calling it is harmless).
 */
int mig_reader_init(struct mig_reader *r, int fd, uint64_t ram_size,
		    mig_page_ptr_fn page_ptr, void *opaque) KITE_WUR;
/**
 * mig_read() - read up to the next ROUND, STATE or END record
 *
 * PAGES records on the way are checked and written to guest memory, not
 * reported.  Returns 0 with *@ev and @info set, or a negative errno; after
 * an error every later call fails with the same errno, after END with
 * -EINVAL.
 */
int mig_read(struct mig_reader *r, enum mig_event *ev,
	     struct mig_event_info *info) KITE_WUR;
void mig_reader_destroy(struct mig_reader *r);

/**
 * mig_send_ack() - the destination's answer after END
 * @status: 0 (the guest runs here now) or a negative errno
 * @msg: a line for the source's log (NULL: none), cut at MIG_MSG_MAX bytes
 */
int mig_send_ack(int fd, int status, const char *msg) KITE_WUR;
/**
 * mig_recv_ack() - the source waits for the destination's answer
 * @timeout_ms: how long in all (-1: no limit); -ETIMEDOUT after it
 * @status: set to the destination's status (0 or a negative errno)
 * @msg: set to its message, NUL-terminated, cut to @msglen - 1 bytes
 *
 * Return: 0 when an ACK arrived, whatever its status; a negative errno
 * when none did (closed connection, timeout, malformed record).
 */
int mig_recv_ack(int fd, int timeout_ms, int *status, char *msg,
		 size_t msglen) KITE_WUR;

#endif
