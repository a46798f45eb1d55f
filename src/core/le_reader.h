/* SPDX-License-Identifier: MIT */
/*
 * le_reader.h - a bounded, little-endian reader of untrusted bytes with a
 * sticky error: after the first failure every get returns zeros, and the
 * first failure's message (prefixed with what is being read) is kept, so a
 * decoder is a plain sequence of gets with one check at the end.  Shared by
 * snapshot sections (snapshot/codec.h) and device state values
 * (core/dev_state.h), which differ only in how their messages read.
 */
#ifndef KITE_CORE_LE_READER_H
#define KITE_CORE_LE_READER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define LE_READER_MSG_MAX	200

/* How a reader's own messages read. */
enum le_reader_style {
	LE_READER_SECTION,	/* "section 'NAME': payload truncated at offset ..." */
	LE_READER_VALUE,	/* "NAME: truncated at byte ..." */
};

struct le_reader {
	const uint8_t *p;
	size_t len, off;
	int err;			/* 0 or -EINVAL: sticky */
	const char *name;		/* first in every message; must outlive the reader */
	enum le_reader_style style;
	/* The first failure, kept: other code may reuse the thread's message. */
	char msg[LE_READER_MSG_MAX];
};

void le_reader_init(struct le_reader *r, const void *p, size_t len, const char *name,
		    enum le_reader_style style);
/* Fail the reader (only the first failure counts; it also becomes the thread's
 * message); returns -EINVAL. */
int le_reader_fail(struct le_reader *r, const char *fmt, ...) KITE_PRINTF(2, 3);
int le_reader_vfail(struct le_reader *r, const char *fmt, va_list ap) KITE_PRINTF(2, 0);
/* The next @n bytes, or NULL (the reader failed, now or before). */
const uint8_t *le_reader_take(struct le_reader *r, size_t n);
/* The next @n (1..8) bytes as a little-endian number; 0 after a failure. */
uint64_t le_reader_get(struct le_reader *r, size_t n);
/* @n bytes into @out (zeros after a failure). */
void le_reader_get_bytes(struct le_reader *r, void *out, size_t n);
/* 0 when every get succeeded and nothing is left over; else -EINVAL with
 * the first failure as the thread's message. */
int le_reader_end(struct le_reader *r) KITE_WUR;

#endif
