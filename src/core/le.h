/* SPDX-License-Identifier: MIT */
/*
 * le.h - little-endian byte buffers (register windows, config spaces, table
 * images): put/get the low @n bytes of a value, any alignment.
 */
#ifndef KITE_CORE_LE_H
#define KITE_CORE_LE_H

#include <stddef.h>
#include <stdint.h>

static inline void le_put(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t le_get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif
