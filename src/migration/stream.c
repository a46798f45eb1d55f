// SPDX-License-Identifier: MIT
/*
 * stream.c - the migration stream's writer (the source's side) and the
 * acknowledgement both sides exchange after END.  The byte layout is in
 * stream.h; the reader is in stream_read.c.
 *
 * PAGES records are built in place in the output buffer: a record is opened
 * only where the buffer has room for the largest one, each page is copied
 * straight into its entry's slot (or, with compression, into a bounce page
 * that zstd reads, then compressed into the slot), and the record's header
 * and CRC are filled in when it closes (64 entries, any other record, or a
 * flush).  The running CRC
 * advances by each closed record's CRC, combined, so no byte is checksummed
 * twice.
 */
#include "migration/stream.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "migration/mig_version.h"
#include "migration/wire.h"
#include "snapshot/crc64.h"

/* zstd's fastest regular level: pages must go out at network speed. */
#define MIG_ZSTD_LEVEL		1
#define NO_RECORD		SIZE_MAX
#define PAGES_RECORD_MAX	(MIG_REC_HEAD + MIG_PAGES_PAYLOAD_MAX + MIG_REC_TAIL)
#define ACK_RECORD_MAX		(MIG_REC_HEAD + 4 + MIG_MSG_MAX + MIG_REC_TAIL)

static_assert(PAGES_RECORD_MAX <= MIG_WRITER_BUF, "a PAGES record fits in the buffer");
static_assert(ZSTD_COMPRESSBOUND(MIG_PAGE_SIZE) >= MIG_PAGE_SIZE,
	      "a compressed page is kept only when shorter than a raw one");
static_assert(sizeof(MIG_KITE_VERSION) <= MIG_VERSION_FIELD + 1,
	      "the kite version fits in the header");

/* ------------------------------------------------------------- failures */

static int writer_fail(struct mig_writer *w, int code)
{
	if (!w->err)
		w->err = code;
	return code;
}

static int writer_io_error(struct mig_writer *w, int ret)
{
	unsigned long long sent = w->bytes_sent;

	if (ret == -EPIPE)
		err_set(ret, "migration: the destination closed the connection after %llu bytes",
			sent);
	else if (ret == -ETIMEDOUT)
		err_set(ret, "migration: the destination took no data within the send timeout (after %llu bytes)",
			sent);
	else
		err_set(ret, "migration: sending to the destination after %llu bytes: %s",
			sent, strerror(-ret));
	return writer_fail(w, ret);
}

/* Whether another record may go in. */
static int writer_check(const struct mig_writer *w)
{
	if (w->err)
		return err_set(w->err, "migration stream: an earlier send failed (%s)",
			       strerror(-w->err));
	if (w->ended)
		return err_set(-EINVAL, "migration stream: the stream has already ended");
	return 0;
}

/* ------------------------------------------------------------- buffering */

static int send_buf(struct mig_writer *w)
{
	int ret;

	if (!w->len)
		return 0;
	ret = mig_io_write(w->fd, w->sock, w->buf, w->len, &w->bytes_sent);
	w->len = 0;
	return ret ? writer_io_error(w, ret) : 0;
}

/* Append @len bytes, sending the buffer whenever it is full. */
static int append(struct mig_writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;
	int ret;

	while (len) {
		n = MIG_WRITER_BUF - w->len;
		if (!n) {
			ret = send_buf(w);
			if (ret)
				return ret;
			continue;
		}
		if (n > len)
			n = len;
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* Finish the open PAGES record: header, count, CRC; the running CRC. */
static void close_pages(struct mig_writer *w)
{
	uint8_t *rec;
	size_t body;
	uint64_t crc;

	if (w->rec_off == NO_RECORD)
		return;
	rec = w->buf + w->rec_off;
	body = w->len - w->rec_off;	/* header and payload */
	le_put(rec, MIG_REC_PAGES, 4);
	le_put(rec + 4, body - MIG_REC_HEAD, 4);
	le_put(rec + MIG_REC_HEAD, w->rec_count, 4);
	crc = crc64_update(0, rec, body);
	le_put(w->buf + w->len, crc, MIG_REC_TAIL);
	w->len += MIG_REC_TAIL;
	w->crc = mig_crc_extend(w->crc, crc, body);
	w->rec_off = NO_RECORD;
	w->rec_count = 0;
}

/* Encode a whole record into @out (room for @len + 16): its length. */
static size_t encode_record(uint8_t *out, uint32_t type, const void *payload,
			    size_t len, uint64_t *crc)
{
	le_put(out, type, 4);
	le_put(out + 4, len, 4);
	if (len)
		memcpy(out + MIG_REC_HEAD, payload, len);
	*crc = crc64_update(0, out, MIG_REC_HEAD + len);
	le_put(out + MIG_REC_HEAD + len, *crc, MIG_REC_TAIL);
	return MIG_REC_HEAD + len + MIG_REC_TAIL;
}

/* Queue one record other than PAGES (closing the open PAGES record first). */
static int put_record(struct mig_writer *w, uint32_t type, const void *payload,
		      size_t len)
{
	uint8_t head[MIG_REC_HEAD], tail[MIG_REC_TAIL];
	uint64_t crc;
	int ret;

	close_pages(w);
	le_put(head, type, 4);
	le_put(head + 4, len, 4);
	crc = crc64_update(crc64_update(0, head, sizeof(head)), payload, len);
	le_put(tail, crc, sizeof(tail));
	ret = append(w, head, sizeof(head));
	if (!ret)
		ret = append(w, payload, len);
	if (!ret)
		ret = append(w, tail, sizeof(tail));
	if (ret)
		return ret;
	w->crc = mig_crc_extend(w->crc, crc, MIG_REC_HEAD + len);
	return 0;
}

/* ---------------------------------------------------------------- writer */

void mig_writer_destroy(struct mig_writer *w)
{
	if (w->cctx)
		mig_zstd.freeCCtx(w->cctx);	/* cctx exists only once loaded */
	free(w->buf);
	free(w->bounce);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->rec_off = NO_RECORD;
}

static void encode_header(uint8_t *h, uint64_t ram_size, bool zstd)
{
	memset(h, 0, MIG_HEADER_LEN);
	memcpy(h, MIG_MAGIC, MIG_MAGIC_LEN);
	le_put(h + 8, MIG_FORMAT_VERSION, 4);
	le_put(h + 12, zstd ? MIG_F_ZSTD : 0, 4);
	le_put(h + 16, ram_size, 8);
	le_put(h + 24, MIG_PAGE_SIZE, 4);
	memcpy(h + 28, MIG_KITE_VERSION, strlen(MIG_KITE_VERSION));
	le_put(h + 60, crc64_update(0, h, 60), 8);
}

static int writer_zstd_init(struct mig_writer *w)
{
	int ret = mig_zstd_load();

	if (ret)
		return ret;
	w->cctx = mig_zstd.createCCtx();
	w->bounce = malloc(MIG_PAGE_SIZE);
	if (!w->cctx || !w->bounce)
		return err_set(-ENOMEM, "migration: out of memory for page compression");
	w->zstd = true;
	return 0;
}

int mig_writer_init(struct mig_writer *w, int fd, uint64_t ram_size, bool zstd)
{
	uint8_t header[MIG_HEADER_LEN];
	int ret;

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->rec_off = NO_RECORD;
	if (!ram_size || ram_size % MIG_PAGE_SIZE)
		return err_set(-EINVAL, "migration: guest RAM size %llu is not a positive multiple of %u",
			       (unsigned long long)ram_size, MIG_PAGE_SIZE);
	w->sock = mig_fd_is_socket(fd);
	w->buf = malloc(MIG_WRITER_BUF);
	if (!w->buf) {
		ret = err_set(-ENOMEM, "migration: out of memory for the send buffer");
		goto fail;
	}
	if (zstd) {
		ret = writer_zstd_init(w);
		if (ret)
			goto fail;
	}
	encode_header(header, ram_size, zstd);
	ret = mig_io_write(fd, w->sock, header, sizeof(header), &w->bytes_sent);
	if (ret) {
		ret = writer_io_error(w, ret);
		goto fail;
	}
	return 0;
fail:
	mig_writer_destroy(w);
	return ret;
}

/* Every byte zero: the first eight, then each byte equal to the one 8 before. */
static bool page_is_zero(const uint8_t *p)
{
	uint64_t head;

	memcpy(&head, p, sizeof(head));
	return !head && !memcmp(p, p + sizeof(head), MIG_PAGE_SIZE - sizeof(head));
}

/*
 * Encode the page at @page (guest memory) into the entry at @e, data slot
 * at e + 13.  The page is read once: a zero page is not read again, others
 * are copied (into the slot, or into the bounce page that zstd reads, since
 * zstd must not see its input change).  A guest write racing with this sends
 * a mix of old and new bytes, which is harmless: the write made the page
 * dirty, and the next round sends it again.
 */
static void put_entry(struct mig_writer *w, uint8_t *e, uint64_t pfn,
		      const uint8_t *page, bool zero)
{
	uint8_t *data = e + MIG_PAGE_ENTRY_HEAD;
	enum mig_page_enc enc = MIG_PAGE_RAW;
	size_t len = MIG_PAGE_SIZE, n;

	if (zero) {
		enc = MIG_PAGE_ZERO;
		len = 0;
		w->pages_zero++;
	} else if (w->zstd) {
		memcpy(w->bounce, page, MIG_PAGE_SIZE);
		/* Room for one byte less than raw: zstd gives up early when the
		 * page does not shrink, and the page goes raw. */
		n = mig_zstd.compressCCtx(w->cctx, data, MIG_PAGE_SIZE - 1, w->bounce,
					  MIG_PAGE_SIZE, MIG_ZSTD_LEVEL);
		if (!mig_zstd.isError(n) && n > 0) {
			enc = MIG_PAGE_ZSTD;
			len = n;
			w->pages_zstd++;
		} else {
			memcpy(data, w->bounce, MIG_PAGE_SIZE);
			w->pages_raw++;
		}
	} else {
		memcpy(data, page, MIG_PAGE_SIZE);
		w->pages_raw++;
	}
	le_put(e, pfn, 8);
	e[8] = (uint8_t)enc;
	le_put(e + 9, len, 4);
	w->len += MIG_PAGE_ENTRY_HEAD + len;
}

int mig_put_page(struct mig_writer *w, uint64_t pfn, const void *page,
		 bool skip_zero)
{
	bool zero;
	int ret = writer_check(w);

	if (ret)
		return ret;
	zero = page_is_zero(page);
	if (zero && skip_zero) {
		w->pages_skipped++;
		return 0;
	}
	if (w->rec_off == NO_RECORD) {
		/* Open a record where the largest one fits. */
		if (MIG_WRITER_BUF - w->len < PAGES_RECORD_MAX) {
			ret = send_buf(w);
			if (ret)
				return ret;
		}
		w->rec_off = w->len;
		w->len += MIG_REC_HEAD + 4;
	}
	put_entry(w, w->buf + w->len, pfn, page, zero);
	if (++w->rec_count == MIG_PAGES_PER_RECORD)
		close_pages(w);
	return 0;
}

int mig_put_round(struct mig_writer *w, uint32_t round, uint64_t pages)
{
	uint8_t p[12];
	int ret = writer_check(w);

	if (ret)
		return ret;
	le_put(p, round, 4);
	le_put(p + 4, pages, 8);
	return put_record(w, MIG_REC_ROUND, p, sizeof(p));
}

int mig_put_state(struct mig_writer *w, const void *blob, size_t len)
{
	int ret = writer_check(w);

	if (ret)
		return ret;
	if (len > MIG_RECORD_MAX)
		return err_set(-EMSGSIZE, "migration: the state of %zu bytes is over the stream's limit of %u",
			       len, MIG_RECORD_MAX);
	return put_record(w, MIG_REC_STATE, blob, len);
}

int mig_flush(struct mig_writer *w)
{
	if (w->err)
		return writer_check(w);
	close_pages(w);
	return send_buf(w);
}

int mig_put_end(struct mig_writer *w)
{
	uint8_t p[16];
	int ret = writer_check(w);

	if (ret)
		return ret;
	close_pages(w);		/* before the running CRC is read */
	le_put(p, w->pages_zero + w->pages_raw + w->pages_zstd, 8);
	le_put(p + 8, w->crc, 8);
	ret = put_record(w, MIG_REC_END, p, sizeof(p));
	w->ended = true;
	return ret ? ret : send_buf(w);
}

int mig_put_abort(struct mig_writer *w, int code, const char *msg)
{
	uint8_t p[4 + MIG_MSG_MAX];
	size_t n = msg ? strnlen(msg, MIG_MSG_MAX) : 0;
	int ret;

	if (w->err || w->ended || !w->buf)
		return w->err;
	if (w->rec_off != NO_RECORD) {	/* the destination drops it anyway */
		w->len = w->rec_off;
		w->rec_off = NO_RECORD;
		w->rec_count = 0;
	}
	le_put(p, (uint32_t)code, 4);
	memcpy(p + 4, msg ? msg : "", n);
	ret = put_record(w, MIG_REC_ABORT, p, 4 + n);
	w->ended = true;
	return ret ? ret : send_buf(w);
}

/* ------------------------------------------------------------------ ACK */

int mig_send_ack(int fd, int status, const char *msg)
{
	uint8_t rec[ACK_RECORD_MAX], p[4 + MIG_MSG_MAX];
	size_t n = msg ? strnlen(msg, MIG_MSG_MAX) : 0, len;
	uint64_t crc, sent = 0;
	int ret;

	if (status > 0 || status < -4095)
		return err_set(-EINVAL, "migration: ACK status %d is not 0 or a negative errno", status);
	le_put(p, (uint32_t)status, 4);
	memcpy(p + 4, msg ? msg : "", n);
	len = encode_record(rec, MIG_REC_ACK, p, 4 + n, &crc);
	ret = mig_io_write(fd, mig_fd_is_socket(fd), rec, len, &sent);
	if (ret == -EPIPE)
		return err_set(ret, "migration: the source closed the connection before the acknowledgement");
	if (ret)
		return err_set(ret, "migration: sending the acknowledgement: %s", strerror(-ret));
	return 0;
}

/* Read the ACK's body (@len payload bytes and the CRC) and check it. */
static int recv_ack_body(int fd, const uint8_t *head, uint32_t len,
			 int64_t deadline, int *status, char *msg, size_t msglen)
{
	uint8_t body[4 + MIG_MSG_MAX + MIG_REC_TAIL];
	uint64_t crc, stored;
	int64_t st;
	size_t got;
	int ret;

	ret = mig_io_read(fd, body, len + MIG_REC_TAIL, deadline, &got);
	if (ret == -EPIPE)
		return err_set(ret, "migration: the destination closed the connection in the middle of its acknowledgement");
	if (ret == -ETIMEDOUT)
		return err_set(ret, "migration: the destination's acknowledgement did not arrive in time");
	if (ret)
		return err_set(ret, "migration: reading the acknowledgement: %s", strerror(-ret));
	crc = crc64_update(crc64_update(0, head, MIG_REC_HEAD), body, len);
	stored = le_get(body + len, 8);
	if (crc != stored)
		return err_set(-EBADMSG, "migration: the destination's acknowledgement is corrupted (CRC mismatch)");
	st = (int32_t)(uint32_t)le_get(body, 4);
	if (st > 0 || st < -4095)
		return err_set(-EPROTO, "migration: the destination's acknowledgement has a bad status %lld",
			       (long long)st);
	*status = (int)st;
	mig_msg_copy(msg, msglen, body + 4, len - 4);
	return 0;
}

int mig_recv_ack(int fd, int timeout_ms, int *status, char *msg, size_t msglen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mig_now_ms() + timeout_ms;
	uint8_t head[MIG_REC_HEAD];
	uint32_t type, len;
	size_t got;
	int ret;

	if (msglen)
		msg[0] = '\0';
	ret = mig_io_read(fd, head, sizeof(head), deadline, &got);
	if (ret == -EPIPE)
		return err_set(ret, "migration: the destination closed the connection without acknowledging the stream (see its log)");
	if (ret == -ETIMEDOUT)
		return err_set(ret, "migration: no acknowledgement from the destination within %d ms",
			       timeout_ms);
	if (ret)
		return err_set(ret, "migration: waiting for the acknowledgement: %s", strerror(-ret));
	type = (uint32_t)le_get(head, 4);
	len = (uint32_t)le_get(head + 4, 4);
	if (type != MIG_REC_ACK)
		return err_set(-EPROTO, "migration: the destination answered with a record of type %u, not an ACK",
			       type);
	if (len < 4 || len > 4 + MIG_MSG_MAX)
		return err_set(-EPROTO, "migration: the destination's acknowledgement has a bad length %u",
			       len);
	return recv_ack_body(fd, head, len, deadline, status, msg, msglen);
}
