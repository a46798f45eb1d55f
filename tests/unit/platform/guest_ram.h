/* SPDX-License-Identifier: MIT */
/*
 * guest_ram.h - a fake guest (1 MiB of RAM at gpa 0) and little-endian
 * readers for the platform-table tests, which parse what was written the way
 * a guest would: by offsets from the specs, not through kite's structs.
 */
#ifndef KITE_TEST_PLATFORM_GUEST_RAM_H
#define KITE_TEST_PLATFORM_GUEST_RAM_H

#include <stdint.h>
#include <stdlib.h>

#include "core/addr_space.h"

#define GUEST_RAM_SIZE 0x100000u

struct guest_ram {
	struct addr_space as;
	uint8_t *mem;
};

/* Map @size bytes (<= 1 MiB) at gpa 0; aborts on failure (test setup). */
static inline void guest_ram_init(struct guest_ram *g, uint64_t size)
{
	g->mem = calloc(1, GUEST_RAM_SIZE);
	as_init(&g->as);
	if (!g->mem || as_add_region(&g->as, 0, size, g->mem, -1, 0, 0))
		abort();
}

static inline void guest_ram_free(struct guest_ram *g)
{
	free(g->mem);
	g->mem = NULL;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static inline uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Sum of @len bytes mod 256: 0 for a correctly checksummed table. */
static inline uint8_t byte_sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

#endif
