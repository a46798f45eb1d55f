// SPDX-License-Identifier: MIT
/*
 * fuzz_snapshot.c - the snapshot container parser (snapshot/format.c) and
 * the payload decoder (snapshot/codec.c) on arbitrary bytes, as a restore
 * or a migration receiver meets them.
 *
 * Input: one flags byte, then the file:
 *   bit 0  the trailer is replaced by the right CRC-64 of what precedes it
 *   bit 1  the header's total length is replaced by the file's size
 * Without them almost every mutation dies at the checksum; with them the
 * mutations reach the structural checks behind it.
 *
 * Beyond "no crash": a parsed image must serialize back to exactly the
 * input (the format has one encoding per image), every section must be
 * found by its name, and a refused input must leave a message and an empty
 * image.  Each payload is also fed to a decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "snapshot/crc64.h"
#include "snapshot/format.h"

#define F_FIX_CRC	0x01
#define F_FIX_TOTAL	0x02

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a payload as a device would: a string, then integers of every width
 * until the decoder fails or the payload ends. */
static void decode_payload(const struct snap_section *s)
{
	struct snap_dec dec;
	char str[16];
	unsigned int i = 0;

	snap_dec_init_section(&dec, s);
	snap_dec_get_str(&dec, str, sizeof(str));
	if (strlen(str) >= sizeof(str))
		abort();
	while (!dec.in.err && snap_dec_remaining(&dec)) {
		switch (i++ % 5) {
		case 0:
			(void)snap_dec_get_u8(&dec);
			break;
		case 1:
			(void)snap_dec_get_u16(&dec);
			break;
		case 2:
			(void)snap_dec_get_u32_max(&dec, 1000, "count");
			break;
		case 3:
			(void)snap_dec_get_u64(&dec);
			break;
		default:
			(void)snap_dec_get_u32(&dec);
			break;
		}
	}
	if (dec.in.off > dec.in.len)
		abort();
	if (snap_dec_finish(&dec) != (dec.in.err ? dec.in.err : 0))
		abort();
}

static void check_parsed(const struct snap_image *img, const uint8_t *file,
			 size_t len)
{
	const struct snap_section *s;
	uint8_t *again;
	size_t again_len;

	for (unsigned int i = 0; i < img->nr; i++) {
		s = &img->sections[i];
		if (!snap_name_valid(s->name) || snap_image_find(img, s->name) != s)
			abort();
		if (s->len && (s->data < img->blob ||
			       s->len > img->blob_len - (size_t)(s->data - img->blob)))
			abort();
		decode_payload(s);
		if (snap_image_require(img, s->name, s->version, s->version, &s))
			abort();
	}
	if (snap_image_serialize(img, &again, &again_len))
		abort();
	if (again_len != len || memcmp(again, file, len))
		abort();	/* two encodings of one image */
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_image img;
	uint8_t flags, *file;
	size_t len;

	if (!size)
		return 0;
	flags = data[0];
	len = size - 1;
	/* An exact-size, writable copy, so that any read past it is caught. */
	file = malloc(len ? len : 1);
	if (!file)
		abort();
	memcpy(file, data + 1, len);
	if ((flags & F_FIX_TOTAL) && len >= 24)
		le_put(file + 16, len, 8);
	if ((flags & F_FIX_CRC) && len >= SNAP_TRAILER)
		le_put(file + len - SNAP_TRAILER,
		       crc64_update(0, file, len - SNAP_TRAILER), 8);
	err_clear();
	if (snap_image_parse(&img, file, len) == 0) {
		check_parsed(&img, file, len);
		snap_image_free(&img);
	} else if (!err_msg()[0] || img.nr || img.sections || img.blob) {
		abort();	/* refused without a message, or half-built */
	}
	free(file);
	return 0;
}
