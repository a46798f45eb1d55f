// SPDX-License-Identifier: MIT
/*
 * dev_state.c - bounded encoding of device state values.  See dev_state.h.
 */
#include "core/dev_state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/le.h"

void ds_writer_start(struct ds_writer *w, struct dev_value *v, size_t max, uint8_t version)
{
	w->v = dev_value_alloc(v, max) ? v : NULL;
	w->len = 0;
	w->overflow = false;
	ds_put_u8(w, version);
}

/* Room for @n more bytes at the end, or NULL (and the overflow noted). */
static uint8_t *ds_room(struct ds_writer *w, size_t n)
{
	uint8_t *p;

	if (!w->v || w->overflow)
		return NULL;
	if (n > w->v->len - w->len) {
		w->overflow = true;
		return NULL;
	}
	p = w->v->bytes + w->len;
	w->len += n;
	return p;
}

static void ds_put_le(struct ds_writer *w, uint64_t x, size_t n)
{
	uint8_t *p = ds_room(w, n);

	if (p)
		le_put(p, x, n);
}

void ds_put_u8(struct ds_writer *w, uint8_t x)
{
	ds_put_le(w, x, 1);
}

void ds_put_u16(struct ds_writer *w, uint16_t x)
{
	ds_put_le(w, x, 2);
}

void ds_put_u32(struct ds_writer *w, uint32_t x)
{
	ds_put_le(w, x, 4);
}

void ds_put_u64(struct ds_writer *w, uint64_t x)
{
	ds_put_le(w, x, 8);
}

void ds_put_bytes(struct ds_writer *w, const void *p, size_t n)
{
	uint8_t *d = ds_room(w, n);

	if (d && n)
		memcpy(d, p, n);
}

void ds_writer_end(struct ds_writer *w)
{
	if (!w->v)
		return;
	if (w->overflow) {
		/* A layout that outgrew its own maximum: a bug, reported as a
		 * failed read rather than a truncated value. */
		dev_value_release(w->v);
		return;
	}
	w->v->len = w->len;
}

/* ---- reader: core/le_reader.h, with the attribute's name first ---- */

int ds_fail(struct ds_reader *r, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = le_reader_vfail(&r->in, fmt, ap);
	va_end(ap);
	return ret;
}

uint8_t ds_get_u8(struct ds_reader *r)
{
	return (uint8_t)le_reader_get(&r->in, 1);
}

uint16_t ds_get_u16(struct ds_reader *r)
{
	return (uint16_t)le_reader_get(&r->in, 2);
}

uint32_t ds_get_u32(struct ds_reader *r)
{
	return (uint32_t)le_reader_get(&r->in, 4);
}

uint64_t ds_get_u64(struct ds_reader *r)
{
	return le_reader_get(&r->in, 8);
}

void ds_get_bytes(struct ds_reader *r, void *out, size_t n)
{
	le_reader_get_bytes(&r->in, out, n);
}

void ds_reader_start(struct ds_reader *r, const char *what, const struct dev_value *v,
		     uint8_t max_version, uint8_t *version)
{
	uint8_t ver;

	le_reader_init(&r->in, v->bytes, v->len, what, LE_READER_VALUE);
	if (!r->in.len) {
		ds_fail(r, "the value is empty (it starts with a layout version byte)");
		*version = 0;
		return;
	}
	ver = ds_get_u8(r);
	if (ver < 1 || ver > max_version) {
		ds_fail(r, "layout version %u is not known: this kite reads 1 to %u", ver,
			max_version);
		ver = 0;
	}
	*version = ver;
}

int ds_reader_end(struct ds_reader *r)
{
	return le_reader_end(&r->in);
}
