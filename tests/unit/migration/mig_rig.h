/* SPDX-License-Identifier: MIT */
/*
 * mig_rig.h - what the migration stream tests share (header only): a fake
 * guest RAM behind the reader's page callback, a stream builder that lays
 * out records byte by byte from stream.h's layout (independently of the
 * writer), and memfd plumbing to feed bytes to a reader.
 */
#ifndef KITE_TEST_MIG_RIG_H
#define KITE_TEST_MIG_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"
#include "core/le.h"
#include "migration/stream.h"
#include "snapshot/crc64.h"

#define RIG_PAGES	64u
#define RIG_RAM		((uint64_t)RIG_PAGES * MIG_PAGE_SIZE)
#define RIG_FILL	0xa5	/* what guest RAM holds before a stream lands */

/* Guest RAM of @pages pages; pfns from @pages on are "not RAM". */
struct rig_ram {
	uint8_t *mem;
	uint64_t pages;
	unsigned int lookups;
};

static inline void *rig_page_ptr(void *opaque, uint64_t pfn)
{
	struct rig_ram *ram = opaque;

	ram->lookups++;
	return pfn < ram->pages ? ram->mem + pfn * MIG_PAGE_SIZE : NULL;
}

static inline int rig_ram_init(struct rig_ram *ram, uint64_t pages)
{
	ram->pages = pages;
	ram->lookups = 0;
	ram->mem = malloc(pages * MIG_PAGE_SIZE);
	if (!ram->mem)
		return -1;
	memset(ram->mem, RIG_FILL, pages * MIG_PAGE_SIZE);
	return 0;
}

static inline void rig_ram_free(struct rig_ram *ram)
{
	free(ram->mem);
	ram->mem = NULL;
}

/* Whether page @pfn still holds RIG_FILL everywhere. */
static inline bool rig_page_untouched(const struct rig_ram *ram, uint64_t pfn)
{
	const uint8_t *p = ram->mem + pfn * MIG_PAGE_SIZE;

	for (size_t i = 0; i < MIG_PAGE_SIZE; i++)
		if (p[i] != RIG_FILL)
			return false;
	return true;
}

/* A stream built by hand.  Fixed capacity: tests build small streams. */
struct sb {
	uint8_t b[1 << 16];
	size_t len;
	uint64_t crc;		/* running CRC of the records so far */
	uint64_t pages;		/* page entries so far */
	size_t rec_off[32];	/* where each record starts */
	unsigned int nr_rec;
};

static inline void sb_header_raw(struct sb *s, uint32_t version, uint32_t flags,
				 uint64_t ram, uint32_t page_size)
{
	uint8_t *h = s->b;

	memset(s, 0, sizeof(*s));
	memcpy(h, MIG_MAGIC, MIG_MAGIC_LEN);
	le_put(h + 8, version, 4);
	le_put(h + 12, flags, 4);
	le_put(h + 16, ram, 8);
	le_put(h + 24, page_size, 4);
	memcpy(h + 28, "0.1.0-test", 10);
	le_put(h + 60, crc64_update(0, h, 60), 8);
	s->len = MIG_HEADER_LEN;
}

static inline void sb_header(struct sb *s, uint32_t flags)
{
	sb_header_raw(s, MIG_FORMAT_VERSION, flags, RIG_RAM, MIG_PAGE_SIZE);
}

/* Append a record with a right CRC; returns its offset. */
static inline size_t sb_record(struct sb *s, uint32_t type, const void *payload,
			       uint32_t len)
{
	size_t off = s->len;
	uint8_t *r = s->b + off;

	le_put(r, type, 4);
	le_put(r + 4, len, 4);
	if (len)
		memcpy(r + 8, payload, len);
	le_put(r + 8 + len, crc64_update(0, r, 8 + (size_t)len), 8);
	s->len += 16 + (size_t)len;
	s->crc = crc64_update(s->crc, r, 16 + (size_t)len);
	if (s->nr_rec < 32)
		s->rec_off[s->nr_rec++] = off;
	return off;
}

/* A PAGES payload: entries appended by sb_entry(), then sb_pages_end(). */
struct sb_pages {
	uint8_t p[4 + 8 * (MIG_PAGE_ENTRY_HEAD + MIG_PAGE_SIZE)];
	size_t len;
	uint32_t count;
};

static inline void sb_entry(struct sb_pages *pp, uint64_t pfn, uint8_t enc,
			    const void *data, uint32_t dlen)
{
	uint8_t *e;

	if (!pp->len)
		pp->len = 4;
	e = pp->p + pp->len;
	le_put(e, pfn, 8);
	e[8] = enc;
	le_put(e + 9, dlen, 4);
	if (dlen)
		memcpy(e + 13, data, dlen);
	pp->len += 13 + (size_t)dlen;
	pp->count++;
	le_put(pp->p, pp->count, 4);
}

static inline size_t sb_pages_end(struct sb *s, struct sb_pages *pp)
{
	s->pages += pp->count;
	return sb_record(s, MIG_REC_PAGES, pp->p, (uint32_t)pp->len);
}

static inline void sb_round(struct sb *s, uint32_t round, uint64_t pages)
{
	uint8_t p[12];

	le_put(p, round, 4);
	le_put(p + 4, pages, 8);
	sb_record(s, MIG_REC_ROUND, p, sizeof(p));
}

static inline void sb_end(struct sb *s)
{
	uint8_t p[16];

	le_put(p, s->pages, 8);
	le_put(p + 8, s->crc, 8);
	sb_record(s, MIG_REC_END, p, sizeof(p));
}

/* A memfd holding @len bytes of @buf, at offset 0; -1 on failure. */
static inline int rig_memfd(const void *buf, size_t len)
{
	int fd = memfd_create("mig-test", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if ((len && write(fd, buf, len) != (ssize_t)len) || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Rewrite the memfd @fd to hold @buf, at offset 0. */
static inline int rig_refill(int fd, const void *buf, size_t len)
{
	if (ftruncate(fd, 0) || (len && pwrite(fd, buf, len, 0) != (ssize_t)len) ||
	    lseek(fd, 0, SEEK_SET))
		return -1;
	return 0;
}

/* The counts of what a stream reported, and how it ended. */
struct rig_result {
	int ret;		/* 0 once END was reported, else the error */
	unsigned int rounds, states;
	uint64_t total_pages;
	char msg[320];	/* short enough for CHECK_STR_CONTAINS's buffer */
};

/* Read the stream on @fd to its end (or its error) into @ram. */
static inline void rig_read_all(int fd, struct rig_ram *ram, struct rig_result *res)
{
	struct mig_event_info info;
	struct mig_reader r;
	enum mig_event ev;

	memset(res, 0, sizeof(*res));
	err_clear();
	res->ret = mig_reader_init(&r, fd, RIG_RAM, rig_page_ptr, ram);
	while (!res->ret) {
		res->ret = mig_read(&r, &ev, &info);
		if (res->ret)
			break;
		if (ev == MIG_EV_END) {
			res->total_pages = info.total_pages;
			break;
		}
		res->rounds += ev == MIG_EV_ROUND;
		res->states += ev == MIG_EV_STATE;
	}
	snprintf(res->msg, sizeof(res->msg), "%s", err_msg());
	mig_reader_destroy(&r);
}

/* As rig_read_all() on the bytes @buf. */
static inline int rig_read_bytes(const void *buf, size_t len, struct rig_ram *ram,
				 struct rig_result *res)
{
	int fd = rig_memfd(buf, len);

	if (fd < 0)
		return -1;
	rig_read_all(fd, ram, res);
	close(fd);
	return 0;
}

#endif
