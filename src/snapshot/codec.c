// SPDX-License-Identifier: MIT
#include "snapshot/codec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"

#define SNAP_ENC_MIN_CAP 64

void snap_enc_init(struct snap_enc *enc)
{
	memset(enc, 0, sizeof(*enc));
}

void snap_enc_free(struct snap_enc *enc)
{
	free(enc->buf);
	memset(enc, 0, sizeof(*enc));
}

/* Room for @n more bytes; on failure the encoder is failed and NULL returned. */
static uint8_t *enc_reserve(struct snap_enc *enc, size_t n)
{
	size_t need, cap;
	uint8_t *buf;

	if (enc->err)
		return NULL;
	if (__builtin_add_overflow(enc->len, n, &need)) {
		enc->err = -EOVERFLOW;
		return NULL;
	}
	if (need > enc->cap) {
		cap = enc->cap ? enc->cap : SNAP_ENC_MIN_CAP;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		buf = realloc(enc->buf, cap);
		if (!buf) {
			enc->err = -ENOMEM;
			return NULL;
		}
		enc->buf = buf;
		enc->cap = cap;
	}
	buf = enc->buf + enc->len;
	enc->len = need;
	return buf;
}

static void enc_put_le(struct snap_enc *enc, uint64_t v, size_t n)
{
	uint8_t *p = enc_reserve(enc, n);

	if (p)
		le_put(p, v, n);
}

void snap_enc_put_u8(struct snap_enc *enc, uint8_t v)
{
	enc_put_le(enc, v, 1);
}

void snap_enc_put_u16(struct snap_enc *enc, uint16_t v)
{
	enc_put_le(enc, v, 2);
}

void snap_enc_put_u32(struct snap_enc *enc, uint32_t v)
{
	enc_put_le(enc, v, 4);
}

void snap_enc_put_u64(struct snap_enc *enc, uint64_t v)
{
	enc_put_le(enc, v, 8);
}

void snap_enc_put_bytes(struct snap_enc *enc, const void *p, size_t n)
{
	uint8_t *dst;

	if (!n)
		return;
	dst = enc_reserve(enc, n);
	if (dst)
		memcpy(dst, p, n);
}

void snap_enc_put_str(struct snap_enc *enc, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > UINT32_MAX) {
		if (!enc->err)
			enc->err = -EOVERFLOW;
		return;
	}
	snap_enc_put_u32(enc, (uint32_t)n);
	snap_enc_put_bytes(enc, s, n);
}

int snap_enc_error(const struct snap_enc *enc)
{
	if (enc->err == -ENOMEM)
		return err_set(enc->err, "encoding snapshot state: out of memory at %zu bytes",
			       enc->len);
	if (enc->err)
		return err_set(enc->err, "encoding snapshot state: more than the format can hold");
	return 0;
}

void snap_dec_init(struct snap_dec *dec, const char *section, const void *p,
		   size_t len)
{
	le_reader_init(&dec->in, p, len, section, LE_READER_SECTION);
}

uint8_t snap_dec_get_u8(struct snap_dec *dec)
{
	return (uint8_t)le_reader_get(&dec->in, 1);
}

uint16_t snap_dec_get_u16(struct snap_dec *dec)
{
	return (uint16_t)le_reader_get(&dec->in, 2);
}

uint32_t snap_dec_get_u32(struct snap_dec *dec)
{
	return (uint32_t)le_reader_get(&dec->in, 4);
}

uint64_t snap_dec_get_u64(struct snap_dec *dec)
{
	return le_reader_get(&dec->in, 8);
}

uint32_t snap_dec_get_u32_max(struct snap_dec *dec, uint32_t max,
			      const char *what)
{
	size_t off = dec->in.off;
	uint32_t v = snap_dec_get_u32(dec);

	if (dec->in.err)
		return 0;
	if (v > max) {
		le_reader_fail(&dec->in, "%s %u at offset %zu is over the limit of %u",
			       what, v, off, max);
		return 0;
	}
	return v;
}

void snap_dec_get_bytes(struct snap_dec *dec, void *out, size_t n)
{
	le_reader_get_bytes(&dec->in, out, n);
}

void snap_dec_get_str(struct snap_dec *dec, char *out, size_t size)
{
	size_t off = dec->in.off;
	uint32_t n = snap_dec_get_u32(dec);
	const uint8_t *p;

	if (size)
		out[0] = '\0';
	if (dec->in.err)
		return;
	if (n >= size) {
		le_reader_fail(&dec->in, "string at offset %zu is %u bytes, at most %zu fit",
			       off, n, size ? size - 1 : 0);
		return;
	}
	p = le_reader_take(&dec->in, n);
	if (!p)
		return;
	if (memchr(p, '\0', n)) {
		le_reader_fail(&dec->in, "string at offset %zu has a NUL inside", off);
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

size_t snap_dec_remaining(const struct snap_dec *dec)
{
	return dec->in.len - dec->in.off;
}

int snap_dec_finish(struct snap_dec *dec)
{
	return le_reader_end(&dec->in);
}
