/* SPDX-License-Identifier: MIT */
/*
 * codec.h - typed little-endian encoding of snapshot section payloads.
 *
 * A device or vCPU saves its state by putting fields into a struct snap_enc
 * and adding the result as a section (snap_image_add_enc(), format.h); it
 * loads them back, in the same order, from a struct snap_dec over the
 * section's payload.
 *
 * Both sides keep a sticky error so that a save or load is a plain sequence
 * of put/get calls with one check at the end: after the first failure every
 * put is dropped and every get returns zero (zeroed bytes, an empty string).
 * The decoder treats its payload as untrusted input: every read is bounded,
 * and snap_dec_finish() also refuses bytes left unread, so that a section
 * written by a newer layout is not silently half-understood.
 *
 * Encodings: integers little-endian of their natural width; a string is a
 * u32 byte count followed by the bytes, without a NUL.
 */
#ifndef KITE_SNAPSHOT_CODEC_H
#define KITE_SNAPSHOT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/le_reader.h"

struct snap_enc {
	uint8_t *buf;		/* malloc'd, NULL until the first put */
	size_t len, cap;
	int err;		/* 0, or -ENOMEM / -EOVERFLOW: sticky */
};

/* in.name is the section, named in messages; in.err is the sticky error. */
struct snap_dec {
	struct le_reader in;
};

void snap_enc_init(struct snap_enc *enc);
void snap_enc_free(struct snap_enc *enc);
void snap_enc_put_u8(struct snap_enc *enc, uint8_t v);
void snap_enc_put_u16(struct snap_enc *enc, uint16_t v);
void snap_enc_put_u32(struct snap_enc *enc, uint32_t v);
void snap_enc_put_u64(struct snap_enc *enc, uint64_t v);
void snap_enc_put_bytes(struct snap_enc *enc, const void *p, size_t n);
/* A NULL @s is stored as the empty string; more than 4 GiB is -EOVERFLOW. */
void snap_enc_put_str(struct snap_enc *enc, const char *s);
/**
 * snap_enc_error() - the encoder's sticky error
 * Return: 0, or a negative errno with the thread's message set.
 */
int snap_enc_error(const struct snap_enc *enc) KITE_WUR;

/**
 * snap_dec_init() - read @len bytes at @p, the payload of section @section
 *
 * Nothing is copied: @p and @section must outlive the decoder.
 */
void snap_dec_init(struct snap_dec *dec, const char *section, const void *p,
		   size_t len);
uint8_t snap_dec_get_u8(struct snap_dec *dec);
uint16_t snap_dec_get_u16(struct snap_dec *dec);
uint32_t snap_dec_get_u32(struct snap_dec *dec);
uint64_t snap_dec_get_u64(struct snap_dec *dec);
/**
 * snap_dec_get_u32_max() - a u32 that sizes something: a count, an index
 * @what: names the field in the message ("queue count")
 *
 * Values above @max fail like a truncation, so that a loader never sizes an
 * allocation or a loop by an unchecked number from the file.
 */
uint32_t snap_dec_get_u32_max(struct snap_dec *dec, uint32_t max,
			      const char *what);
/* Fills @out with @n bytes, or with zeros once the decoder has failed. */
void snap_dec_get_bytes(struct snap_dec *dec, void *out, size_t n);
/**
 * snap_dec_get_str() - a string into @out (@size bytes, NUL included)
 *
 * A string of @size bytes or more, or with a NUL inside, fails the decoder.
 * @out is always NUL-terminated ("" after a failure).
 */
void snap_dec_get_str(struct snap_dec *dec, char *out, size_t size);
/* Bytes not read yet. */
size_t snap_dec_remaining(const struct snap_dec *dec);
/**
 * snap_dec_finish() - end of the payload
 *
 * Return: 0 when every read succeeded and nothing is left; otherwise -EINVAL
 * with the thread's message set to the first failure ("section 'pit':
 * payload truncated at offset 40 (need 8 bytes, 4 left)") or to the unread
 * bytes ("section 'pit': 12 bytes of payload left unread at offset 40").
 */
int snap_dec_finish(struct snap_dec *dec) KITE_WUR;

#endif
