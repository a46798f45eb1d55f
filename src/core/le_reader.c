// SPDX-License-Identifier: MIT
/*
 * le_reader.c - bounded little-endian reading with a sticky error (le_reader.h).
 */
#include "core/le_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/le.h"

void le_reader_init(struct le_reader *r, const void *p, size_t len, const char *name,
		    enum le_reader_style style)
{
	/* An empty payload may come as NULL; NULL + 0 is still undefined in C. */
	r->p = p ? p : (const void *)"";
	r->len = p ? len : 0;
	r->off = 0;
	r->err = 0;
	r->name = name ? name : "?";
	r->style = style;
	r->msg[0] = '\0';
}

int le_reader_fail(struct le_reader *r, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = le_reader_vfail(r, fmt, ap);
	va_end(ap);
	return ret;
}

int le_reader_vfail(struct le_reader *r, const char *fmt, va_list ap)
{
	int n;

	if (r->err)
		return r->err;
	r->err = -EINVAL;
	if (r->style == LE_READER_SECTION)
		n = snprintf(r->msg, sizeof(r->msg), "section '%s': ", r->name);
	else
		n = snprintf(r->msg, sizeof(r->msg), "%s: ", r->name);
	if (n > 0 && (size_t)n < sizeof(r->msg))
		vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
	return err_set(r->err, "%s", r->msg);
}

const uint8_t *le_reader_take(struct le_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	/* off <= len always holds, so the subtraction cannot wrap. */
	if (n > r->len - r->off) {
		if (r->style == LE_READER_SECTION)
			le_reader_fail(r, "payload truncated at offset %zu (need %zu bytes, %zu "
				       "left)", r->off, n, r->len - r->off);
		else
			le_reader_fail(r, "truncated at byte %zu: need %zu bytes, %zu left",
				       r->off, n, r->len - r->off);
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint64_t le_reader_get(struct le_reader *r, size_t n)
{
	const uint8_t *p = le_reader_take(r, n);

	return p ? le_get(p, n) : 0;
}

void le_reader_get_bytes(struct le_reader *r, void *out, size_t n)
{
	const uint8_t *p = le_reader_take(r, n);

	if (!n)
		return;
	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

int le_reader_end(struct le_reader *r)
{
	if (!r->err && r->off != r->len && r->style == LE_READER_SECTION)
		le_reader_fail(r, "%zu bytes of payload left unread at offset %zu",
			       r->len - r->off, r->off);
	else if (!r->err && r->off != r->len)
		le_reader_fail(r, "%zu bytes left over at byte %zu: not this layout",
			       r->len - r->off, r->off);
	if (r->err)
		return err_set(r->err, "%s", r->msg);
	return 0;
}
