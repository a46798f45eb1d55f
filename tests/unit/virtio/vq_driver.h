/* SPDX-License-Identifier: MIT */
/*
 * vq_driver.h - the virtqueue tests' guest: a fake address space (RAM, an
 * adjacent region, a ROM, a hole) and a small driver side that builds split
 * and packed rings in it.  Shared by test_virtqueue.c and
 * test_virtqueue_hostile.c; each includes it once.
 */
#ifndef KITE_TEST_VQ_DRIVER_H
#define KITE_TEST_VQ_DRIVER_H
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "core/addr_space.h"
#include "harness.h"
#include "virtio/virtqueue.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x100000ULL	/* 1 MiB */
#define RAM2_GPA	(RAM_GPA + RAM_SIZE)	/* adjacent: ring crossing tests */
#define RAM2_SIZE	0x10000ULL
#define ROM_GPA		0x400000ULL
#define ROM_SIZE	0x1000ULL
#define HOLE_GPA	0x800000ULL	/* nothing mapped here */

#define DESC_GPA	(RAM_GPA + 0x0000)
#define AVAIL_GPA	(RAM_GPA + 0x4000)
#define USED_GPA	(RAM_GPA + 0x5000)
#define IND_GPA		(RAM_GPA + 0x8000)
#define BUF_GPA		(RAM_GPA + 0x10000)

#define F_NEXT		1
#define F_WRITE		2
#define F_INDIRECT	4
#define F_AVAIL		(1u << 7)
#define F_USED		(1u << 15)

#define FEAT(b)		(1ULL << (b))
#define SPLIT_FEATS	FEAT(VIRTIO_F_VERSION_1)
#define PACKED_FEATS	(FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_F_RING_PACKED))

/* The test's guest and its driver side. */
struct tenv {
	struct addr_space as;
	uint8_t *ram, *ram2, *rom;
	struct virtqueue vq;
	struct vq_config cfg;
	struct vq_elem e;
	uint16_t avail_idx;	/* split driver: next avail idx */
	uint16_t pnext;		/* packed driver: next slot */
	bool pwrap;		/* packed driver: its wrap counter */
};

/* One descriptor as the tests describe it (NEXT added by the helpers). */
struct tdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
};

static struct tenv T;

/* ---------------------------------------------------------------- guest */

static inline uint8_t *host(uint64_t gpa)
{
	if (gpa < RAM_GPA || gpa >= RAM_GPA + RAM_SIZE)
		abort();
	return T.ram + (gpa - RAM_GPA);
}

static inline void w16(uint64_t gpa, uint16_t v)
{
	if (as_write_u16(&T.as, gpa, v))
		abort();
}

static inline void w32(uint64_t gpa, uint32_t v)
{
	if (as_write_u32(&T.as, gpa, v))
		abort();
}

static inline void w64(uint64_t gpa, uint64_t v)
{
	if (as_write_u64(&T.as, gpa, v))
		abort();
}

static inline uint16_t r16(uint64_t gpa)
{
	uint16_t v = 0;

	if (as_read_u16(&T.as, gpa, &v))
		abort();
	return v;
}

static inline uint32_t r32(uint64_t gpa)
{
	uint32_t v = 0;

	if (as_read_u32(&T.as, gpa, &v))
		abort();
	return v;
}

static inline void *xalloc(size_t size)
{
	void *p = aligned_alloc(4096, size);

	if (!p)
		abort();
	memset(p, 0, size);
	return p;
}

/* A fresh address space (RAM, adjacent RAM2, a ROM) and a stopped queue. */
static inline void env_init(void)
{
	as_init(&T.as);
	T.ram = xalloc(RAM_SIZE);
	T.ram2 = xalloc(RAM2_SIZE);
	T.rom = xalloc(ROM_SIZE);
	if (as_add_region(&T.as, RAM_GPA, RAM_SIZE, T.ram, -1, 0, 0) ||
	    as_add_region(&T.as, RAM2_GPA, RAM2_SIZE, T.ram2, -1, 0, 0) ||
	    as_add_region(&T.as, ROM_GPA, ROM_SIZE, T.rom, -1, 0, AS_REGION_READONLY))
		abort();
	vq_reset(&T.vq);
	T.cfg = (struct vq_config){
		.desc_gpa = DESC_GPA, .driver_gpa = AVAIL_GPA, .device_gpa = USED_GPA,
	};
	T.avail_idx = 0;
	T.pnext = 0;
	T.pwrap = true;
}

static inline void env_fini(void)
{
	as_destroy(&T.as);
	free(T.ram);
	free(T.ram2);
	free(T.rom);
}

/* env_init() and a started queue; 0 or vq_start's error. */
static inline int env_start(uint16_t size, uint64_t features)
{
	env_init();
	T.cfg.size = size;
	T.cfg.features = features;
	return vq_start(&T.vq, &T.as, &T.cfg);
}

/* ---------------------------------------------------- split driver side */

static inline void split_put(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		      uint16_t next)
{
	uint64_t d = DESC_GPA + 16ULL * i;

	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, flags);
	w16(d + 14, next);
}

static inline void split_set_avail_idx(uint16_t idx)
{
	T.avail_idx = idx;
	__asm__ __volatile__("mfence" ::: "memory");	/* TSan refuses atomic_thread_fence */
	w16(AVAIL_GPA + 2, idx);
}

static inline void split_make_avail(uint16_t head)
{
	w16(AVAIL_GPA + 4 + 2ULL * (T.avail_idx % T.cfg.size), head);
	split_set_avail_idx((uint16_t)(T.avail_idx + 1));
}

/* Write @n descriptors at indices first, first+1, ... linked by NEXT. */
static inline void split_chain(uint16_t first, const struct tdesc *ds, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint16_t i = (uint16_t)((first + k) % T.cfg.size);
		uint16_t next = (uint16_t)((first + k + 1) % T.cfg.size);

		split_put(i, ds[k].addr, ds[k].len,
			  (uint16_t)(ds[k].flags | (k + 1 < n ? F_NEXT : 0)), next);
	}
	split_make_avail(first);
}

static inline uint64_t used_elem_gpa(uint16_t idx)
{
	return USED_GPA + 4 + 8ULL * (idx % T.cfg.size);
}

/* Indirect table entry @k at @table. */
static inline void ind_put(uint64_t table, unsigned int k, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint64_t d = table + 16ULL * k;

	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, flags);
	w16(d + 14, next);
}

/* --------------------------------------------------- packed driver side */

/* Packed indirect table entry @k: id (ignored) at 12, flags at 14. */
static inline void pind_put(uint64_t table, unsigned int k, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	uint64_t d = table + 16ULL * k;

	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, 0x7777);
	w16(d + 14, flags);
}

static inline void packed_put(uint16_t i, uint64_t addr, uint32_t len, uint16_t id)
{
	uint64_t d = DESC_GPA + 16ULL * i;

	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, id);
}

/* Make a chain of @n available with buffer id @id; head flags written last. */
static inline void packed_chain(const struct tdesc *ds, unsigned int n, uint16_t id)
{
	uint16_t i = T.pnext, head = T.pnext, head_flags = 0;
	bool wrap = T.pwrap;
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint16_t f = (uint16_t)(ds[k].flags | (k + 1 < n ? F_NEXT : 0) |
					(wrap ? F_AVAIL : F_USED));

		packed_put(i, ds[k].addr, ds[k].len, id);
		if (k == 0)
			head_flags = f;
		else
			w16(DESC_GPA + 16ULL * i + 14, f);
		if (++i == T.cfg.size) {
			i = 0;
			wrap = !wrap;
		}
	}
	__asm__ __volatile__("mfence" ::: "memory");	/* TSan refuses atomic_thread_fence */
	w16(DESC_GPA + 16ULL * head + 14, head_flags);
	T.pnext = i;
	T.pwrap = wrap;
}

/* --------------------------------------------------------- expectations */

/* The queue refuses the current chain, stays broken, and works after reset. */
static inline int expect_broken(const char *why)
{
	struct vq_elem e;
	struct vq_config cfg = T.cfg;

	if (vq_pop(&T.vq, &e) != -EPROTO || !T.vq.broken || !strstr(T.vq.err, why)) {
		printf("# vq_err: \"%s\" (wanted \"%s\")\n", T.vq.err, why);
		return 0;
	}
	if (vq_pop(&T.vq, &e) != -EPROTO || vq_push(&T.vq, &e, 0) != -EINVAL ||
	    vq_has_avail(&T.vq) || vq_should_interrupt(&T.vq))
		return 0;
	vq_reset(&T.vq);
	if (T.vq.broken || vq_pop(&T.vq, &e) != -EINVAL)
		return 0;
	return vq_start(&T.vq, &T.as, &cfg) == 0;
}

/* Segment @k of T.e is [gpa, +len). */
static inline int seg_is(unsigned int k, uint64_t gpa, uint32_t len)
{
	return T.e.segs[k].gpa == gpa && T.e.segs[k].len == len;
}

/* ================================================================ tests */

#endif
