// SPDX-License-Identifier: MIT
/*
 * stream_read.c - the migration stream's reader (the destination's side).
 * The byte layout is in stream.h.
 *
 * Each record is read whole into one buffer (its length bounded by type
 * before anything is allocated), its CRC checked, then parsed.  A PAGES
 * record is applied in two passes: the first checks every entry (frame
 * number through the page callback, encoding, length) and decompresses zstd
 * pages into a staging area, the second writes the pages into guest memory.
 * A refused record therefore writes nothing, and the checks cannot be
 * bypassed by a record whose CRC matches.
 *
 * Every message names the byte offset in the stream and how far the
 * migration got, so that a failed migration's log says where it broke.
 */
#include "migration/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "migration/wire.h"
#include "snapshot/crc64.h"

/* ------------------------------------------------------------- messages */

/* "after round 3" or "before the first round", for messages. */
static const char *progress(const struct mig_reader *r, char *buf, size_t len)
{
	if (!r->rounds)
		return "before the first round";
	snprintf(buf, len, "after round %u", r->round);
	return buf;
}

/* "a PAGES record", "an END record". */
static const char *article(uint32_t type)
{
	return type == MIG_REC_END || type == MIG_REC_ABORT ? "an" : "a";
}

/* A failed read at stream offset @at; @what: "a PAGES record", "the header". */
static int read_error(const struct mig_reader *r, int ret, const char *what,
		      uint64_t at, size_t got)
{
	unsigned long long pos = at + got;
	char pb[32];

	if (ret == -EPIPE)
		return err_set(ret, "migration stream: the source closed the connection %s, in the middle of %s at byte %llu",
			       progress(r, pb, sizeof(pb)), what, pos);
	if (ret == -ETIMEDOUT)
		return err_set(ret, "migration stream: the source sent nothing within the receive timeout %s, at byte %llu",
			       progress(r, pb, sizeof(pb)), pos);
	return err_set(ret, "migration stream: reading %s at byte %llu: %s", what, pos,
		       strerror(-ret));
}

/* A malformed PAGES entry: the record at @at, entry @i. */
static int bad_entry(uint64_t at, uint32_t i, const char *why, uint64_t val)
{
	return err_set(-EPROTO, "migration stream: PAGES record at byte %llu, entry %u: %s (0x%llx)",
		       (unsigned long long)at, i, why, (unsigned long long)val);
}

/* ---------------------------------------------------------------- header */

static int check_version_text(struct mig_reader *r, const uint8_t *field)
{
	size_t n = strnlen((const char *)field, MIG_VERSION_FIELD);

	for (size_t i = 0; i < MIG_VERSION_FIELD; i++) {
		bool ok = i < n ? field[i] >= 0x20 && field[i] <= 0x7e : !field[i];

		if (!ok)
			return err_set(-EPROTO, "migration stream: the header's kite version is not NUL-padded text");
	}
	memcpy(r->source_version, field, n);
	r->source_version[n] = '\0';
	return 0;
}

/* Magic and format version, checked before the rest is read: another
 * version may have another header length, and "unknown version" is the
 * message that helps. */
static int read_header_start(struct mig_reader *r, uint8_t *h)
{
	uint32_t version;
	size_t got;
	int ret;

	ret = mig_io_read(r->fd, h, 12, -1, &got);
	r->bytes_read += got;
	if (got && memcmp(h, MIG_MAGIC, got < MIG_MAGIC_LEN ? got : MIG_MAGIC_LEN))
		return err_set(-EPROTO, "migration stream: not a kite migration stream (it does not start with \"%s\")",
			       MIG_MAGIC);
	if (ret)
		return read_error(r, ret, "the header", 0, got);
	version = (uint32_t)le_get(h + 8, 4);
	if (version != MIG_FORMAT_VERSION)
		return err_set(-EPROTONOSUPPORT, "migration stream: the source sends format version %u, this kite reads version %u",
			       version, MIG_FORMAT_VERSION);
	return 0;
}

static int read_header(struct mig_reader *r, uint64_t ram_size)
{
	uint8_t h[MIG_HEADER_LEN];
	uint64_t stored, computed, src_ram;
	uint32_t page_size;
	size_t got;
	int ret;

	ret = read_header_start(r, h);
	if (ret)
		return ret;
	ret = mig_io_read(r->fd, h + 12, MIG_HEADER_LEN - 12, -1, &got);
	r->bytes_read += got;
	if (ret)
		return read_error(r, ret, "the header", 12, got);
	stored = le_get(h + 60, 8);
	computed = crc64_update(0, h, 60);
	if (stored != computed)
		return err_set(-EBADMSG, "migration stream: header CRC mismatch (stored 0x%016llx, computed 0x%016llx)",
			       (unsigned long long)stored, (unsigned long long)computed);
	r->flags = (uint32_t)le_get(h + 12, 4);
	if (r->flags & ~MIG_F_ZSTD)
		return err_set(-EPROTONOSUPPORT, "migration stream: unknown flags 0x%x in the header (this kite knows 0x%x)",
			       r->flags, MIG_F_ZSTD);
	page_size = (uint32_t)le_get(h + 24, 4);
	if (page_size != MIG_PAGE_SIZE)
		return err_set(-EINVAL, "migration stream: the source's page size is %u bytes, this kite's %u",
			       page_size, MIG_PAGE_SIZE);
	src_ram = le_get(h + 16, 8);
	r->ram_size = src_ram;
	if (ram_size && src_ram != ram_size)
		return err_set(-EINVAL, "migration stream: the source's guest has %llu bytes of RAM, this destination %llu (start it with the same --mem)",
			       (unsigned long long)src_ram, (unsigned long long)ram_size);
	return check_version_text(r, h + 28);
}

/* ---------------------------------------------------------------- reader */

void mig_reader_destroy(struct mig_reader *r)
{
	if (r->dctx)
		mig_zstd.freeDCtx(r->dctx);	/* dctx exists only once loaded */
	free(r->buf);
	free(r->stage);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

static int reader_zstd_init(struct mig_reader *r)
{
	int ret = mig_zstd_load();

	if (ret)
		return err_prefix(ret, "migration stream");
	r->dctx = mig_zstd.createDCtx();
	r->stage = malloc((size_t)MIG_PAGES_PER_RECORD * MIG_PAGE_SIZE);
	if (!r->dctx || !r->stage)
		return err_set(-ENOMEM, "migration stream: out of memory for page decompression");
	return 0;
}

int mig_reader_init(struct mig_reader *r, int fd, uint64_t ram_size,
		    mig_page_ptr_fn page_ptr, void *opaque)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->page_ptr = page_ptr;
	r->opaque = opaque;
	ret = read_header(r, ram_size);
	if (!ret && (r->flags & MIG_F_ZSTD))
		ret = reader_zstd_init(r);
	if (ret)
		mig_reader_destroy(r);
	return ret;
}

/* Make room for @need bytes in r->buf (at most MIG_RECORD_MAX + tail). */
static int reserve(struct mig_reader *r, size_t need)
{
	uint8_t *p;

	if (need <= r->cap)
		return 0;
	p = realloc(r->buf, need);
	if (!p)
		return err_set(-ENOMEM, "migration stream: out of memory for a record of %zu bytes", need);
	r->buf = p;
	r->cap = need;
	return 0;
}

/* The largest payload a record of @type may have; 0 for an unknown type. */
static uint32_t type_max(uint32_t type)
{
	switch (type) {
	case MIG_REC_PAGES:
		return MIG_PAGES_PAYLOAD_MAX;
	case MIG_REC_ROUND:
		return 12;
	case MIG_REC_STATE:
		return MIG_RECORD_MAX;
	case MIG_REC_END:
		return 16;
	case MIG_REC_ABORT:
		return 4 + MIG_MSG_MAX;
	default:
		return 0;
	}
}

/* The smallest payload a record of @type may have. */
static uint32_t type_min(uint32_t type)
{
	switch (type) {
	case MIG_REC_PAGES:
		return 4 + MIG_PAGE_ENTRY_HEAD;
	case MIG_REC_ROUND:
		return 12;
	case MIG_REC_END:
		return 16;
	case MIG_REC_ABORT:
		return 4;
	default:
		return 0;
	}
}

/*
 * Read one record whole: header, payload (into r->buf) and CRC, checked.
 * @at: set to its offset in the stream.
 */
static int read_record(struct mig_reader *r, uint32_t *type, uint32_t *len,
		       uint64_t *at)
{
	uint8_t head[MIG_REC_HEAD];
	uint64_t stored, crc;
	size_t got;
	int ret;

	*at = r->bytes_read;
	ret = mig_io_read(r->fd, head, sizeof(head), -1, &got);
	r->bytes_read += got;
	if (ret == -EPIPE && !got) {
		char pb[32];

		return err_set(ret, "migration stream: the source closed the connection %s, at byte %llu, before the end of the stream",
			       progress(r, pb, sizeof(pb)), (unsigned long long)*at);
	}
	if (ret)
		return read_error(r, ret, "a record header", *at, got);
	*type = (uint32_t)le_get(head, 4);
	*len = (uint32_t)le_get(head + 4, 4);
	if (!type_max(*type))
		return err_set(-EPROTO, "migration stream: unexpected record type %u (%s) at byte %llu",
			       *type, mig_rec_name(*type), (unsigned long long)*at);
	if (*len > type_max(*type) || *len < type_min(*type))
		return err_set(-EMSGSIZE, "migration stream: %s record at byte %llu has a bad length of %u bytes (%u to %u)",
			       mig_rec_name(*type), (unsigned long long)*at, *len,
			       type_min(*type), type_max(*type));
	ret = reserve(r, (size_t)*len + MIG_REC_TAIL);
	if (ret)
		return ret;
	ret = mig_io_read(r->fd, r->buf, (size_t)*len + MIG_REC_TAIL, -1, &got);
	r->bytes_read += got;
	if (ret) {
		char what[32];

		snprintf(what, sizeof(what), "%s %s record",
			 article(*type), mig_rec_name(*type));
		return read_error(r, ret, what, *at + MIG_REC_HEAD, got);
	}
	crc = crc64_update(crc64_update(0, head, sizeof(head)), r->buf, *len);
	stored = le_get(r->buf + *len, 8);
	if (crc != stored)
		return err_set(-EBADMSG, "migration stream: record CRC mismatch at byte %llu (%s %s record of %u bytes)",
			       (unsigned long long)*at, article(*type), mig_rec_name(*type), *len);
	r->crc = mig_crc_extend(r->crc, crc, MIG_REC_HEAD + (uint64_t)*len);
	return 0;
}

/* ----------------------------------------------------------------- PAGES */

/* One checked entry: where it goes and where its 4096 bytes come from. */
struct page_src {
	uint8_t *dst;
	const uint8_t *src;	/* NULL: a zero page */
	enum mig_page_enc enc;
};

static int decode_zstd(struct mig_reader *r, uint8_t *out, const uint8_t *in,
		       size_t len, uint64_t at, uint32_t i)
{
	size_t n = mig_zstd.decompressDCtx(r->dctx, out, MIG_PAGE_SIZE, in, len);

	if (mig_zstd.isError(n))
		return err_set(-EPROTO, "migration stream: PAGES record at byte %llu, entry %u: bad zstd data (%s)",
			       (unsigned long long)at, i, mig_zstd.getErrorName(n));
	if (n != MIG_PAGE_SIZE)
		return bad_entry(at, i, "zstd data is not one page long", n);
	return 0;
}

/* Check entry @i at r->buf + *off and fill @ps; advances *off. */
static int check_entry(struct mig_reader *r, uint32_t len, size_t *off,
		       uint32_t i, uint64_t at, struct page_src *ps)
{
	const uint8_t *e = r->buf + *off;
	uint64_t pfn;
	uint32_t dlen;

	if (len - *off < MIG_PAGE_ENTRY_HEAD)
		return bad_entry(at, i, "the record ends inside the entry", len);
	pfn = le_get(e, 8);
	ps->enc = e[8];
	dlen = (uint32_t)le_get(e + 9, 4);
	*off += MIG_PAGE_ENTRY_HEAD;
	if (ps->enc == MIG_PAGE_ZERO ? dlen != 0 :
	    ps->enc == MIG_PAGE_RAW ? dlen != MIG_PAGE_SIZE :
	    ps->enc == MIG_PAGE_ZSTD ? !dlen || dlen >= MIG_PAGE_SIZE : true)
		return bad_entry(at, i, ps->enc > MIG_PAGE_ZSTD ? "unknown page encoding" :
				 "bad data length for its encoding",
				 ps->enc > MIG_PAGE_ZSTD ? ps->enc : dlen);
	if (ps->enc == MIG_PAGE_ZSTD && !(r->flags & MIG_F_ZSTD))
		return bad_entry(at, i, "a zstd page in a stream without compression", pfn);
	if (dlen > len - *off)
		return bad_entry(at, i, "page data runs past the record", dlen);
	if (pfn > (UINT64_MAX >> MIG_PAGE_SHIFT) || !(ps->dst = r->page_ptr(r->opaque, pfn)))
		return bad_entry(at, i, "page frame is not guest RAM", pfn);
	ps->src = ps->enc == MIG_PAGE_ZERO ? NULL : r->buf + *off;
	if (ps->enc == MIG_PAGE_ZSTD) {
		uint8_t *out = r->stage + (size_t)i * MIG_PAGE_SIZE;
		int ret = decode_zstd(r, out, r->buf + *off, dlen, at, i);

		if (ret)
			return ret;
		ps->src = out;
	}
	*off += dlen;
	return 0;
}

static int apply_pages(struct mig_reader *r, uint32_t len, uint64_t at)
{
	struct page_src ps[MIG_PAGES_PER_RECORD];
	uint32_t count = (uint32_t)le_get(r->buf, 4);
	size_t off = 4;
	int ret;

	if (!count || count > MIG_PAGES_PER_RECORD)
		return err_set(-EPROTO, "migration stream: PAGES record at byte %llu has %u pages (1 to %u)",
			       (unsigned long long)at, count, MIG_PAGES_PER_RECORD);
	for (uint32_t i = 0; i < count; i++) {
		ret = check_entry(r, len, &off, i, at, &ps[i]);
		if (ret)
			return ret;
	}
	if (off != len)
		return err_set(-EPROTO, "migration stream: PAGES record at byte %llu has %zu bytes after its last page",
			       (unsigned long long)at, len - off);
	/* Every entry is good: only now does guest memory change. */
	for (uint32_t i = 0; i < count; i++) {
		if (ps[i].src)
			memcpy(ps[i].dst, ps[i].src, MIG_PAGE_SIZE);
		else
			memset(ps[i].dst, 0, MIG_PAGE_SIZE);
		r->pages_zero += ps[i].enc == MIG_PAGE_ZERO;
		r->pages_raw += ps[i].enc == MIG_PAGE_RAW;
		r->pages_zstd += ps[i].enc == MIG_PAGE_ZSTD;
	}
	r->pages += count;
	return 0;
}

/* ------------------------------------------------------------- the rest */

static int check_end(struct mig_reader *r, uint64_t crc_before, uint64_t at,
		     struct mig_event_info *info)
{
	uint64_t pages = le_get(r->buf, 8), crc = le_get(r->buf + 8, 8);

	if (pages != r->pages)
		return err_set(-EBADMSG, "migration stream: the source sent %llu pages, %llu arrived (END record at byte %llu)",
			       (unsigned long long)pages, (unsigned long long)r->pages,
			       (unsigned long long)at);
	if (crc != crc_before)
		return err_set(-EBADMSG, "migration stream: stream CRC mismatch at the END record at byte %llu (sent 0x%016llx, computed 0x%016llx)",
			       (unsigned long long)at, (unsigned long long)crc,
			       (unsigned long long)crc_before);
	info->total_pages = pages;
	r->ended = true;
	return 0;
}

static int aborted(const struct mig_reader *r, uint32_t len)
{
	char msg[MIG_MSG_MAX + 1], pb[32];
	int code = (int)(int32_t)(uint32_t)le_get(r->buf, 4);

	mig_msg_copy(msg, sizeof(msg), r->buf + 4, len - 4);
	return err_set(-ECANCELED, "migration stream: the source cancelled the migration %s: %s (code %d)",
		       progress(r, pb, sizeof(pb)), msg[0] ? msg : "no reason given", code);
}

/* Read records until one to report; 0 with *@ev set, or -errno. */
static int read_event(struct mig_reader *r, enum mig_event *ev,
		      struct mig_event_info *info)
{
	uint32_t type = 0, len = 0;	/* set by read_record() (gcc cannot tell) */
	uint64_t at = 0, crc_before;
	int ret;

	for (;;) {
		crc_before = r->crc;
		ret = read_record(r, &type, &len, &at);
		if (ret)
			return ret;
		switch (type) {
		case MIG_REC_PAGES:
			ret = apply_pages(r, len, at);
			if (ret)
				return ret;
			continue;
		case MIG_REC_ROUND:
			info->round = (uint32_t)le_get(r->buf, 4);
			info->round_pages = le_get(r->buf + 4, 8);
			r->round = info->round;
			r->rounds++;
			*ev = MIG_EV_ROUND;
			return 0;
		case MIG_REC_STATE:
			info->state = len ? r->buf : NULL;
			info->state_len = len;
			*ev = MIG_EV_STATE;
			return 0;
		case MIG_REC_END:
			*ev = MIG_EV_END;
			return check_end(r, crc_before, at, info);
		default:	/* MIG_REC_ABORT: read_record() let no other through */
			return aborted(r, len);
		}
	}
}

int mig_read(struct mig_reader *r, enum mig_event *ev, struct mig_event_info *info)
{
	int ret;

	memset(info, 0, sizeof(*info));
	if (r->failed)
		return err_set(r->failed, "migration stream: the stream was already refused");
	if (r->ended)
		return err_set(-EINVAL, "migration stream: the stream has already ended");
	if (!r->page_ptr)
		return err_set(-EINVAL, "migration stream: the reader is not initialized");
	ret = read_event(r, ev, info);
	if (ret) {
		r->failed = ret;
		memset(info, 0, sizeof(*info));
	}
	return ret;
}
