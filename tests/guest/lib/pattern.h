/* SPDX-License-Identifier: MIT */
/*
 * pattern.h - the seeded data pattern the virtio-blk scenario writes and the
 * host tool tests/tools/pattern.c checks.  Pure header: freestanding guest
 * code and hosted host code both include it.
 *
 * Byte at absolute disk offset X (X >= 0) is byte (X % 8) (little endian) of
 * the 64-bit word  pattern_word(seed, X / 8)  = splitmix64(seed ^ (X / 8)).
 * So any (offset, length) range can be generated or checked on its own, and
 * what the guest wrote at byte offset OFF of the disk is checkable in the
 * image file at the same offset.
 */
#ifndef KITE_PATTERN_H
#define KITE_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t pattern_splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t pattern_word(uint64_t seed, uint64_t word_index)
{
	return pattern_splitmix64(seed ^ word_index);
}

static inline uint8_t pattern_byte(uint64_t seed, uint64_t offset)
{
	return (uint8_t)(pattern_word(seed, offset >> 3) >> ((offset & 7) * 8));
}

/* Fill buf with the pattern for disk bytes [offset, offset + len). */
static inline void pattern_fill(void *buf, uint64_t seed, uint64_t offset, size_t len)
{
	uint8_t *p = (uint8_t *)buf;
	size_t i = 0;

	while (i < len && ((offset + i) & 7)) {
		p[i] = pattern_byte(seed, offset + i);
		i++;
	}
	while (i + 8 <= len) {
		uint64_t w = pattern_word(seed, (offset + i) >> 3);
		int b;

		for (b = 0; b < 8; b++)
			p[i + b] = (uint8_t)(w >> (8 * b));
		i += 8;
	}
	while (i < len) {
		p[i] = pattern_byte(seed, offset + i);
		i++;
	}
}

/* First byte index (relative to buf) where buf differs from the pattern, or
 * len if it matches. */
static inline size_t pattern_check(const void *buf, uint64_t seed, uint64_t offset, size_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = offset + i;

		if ((x & 7) == 0 && i + 8 <= len) {
			uint64_t w = pattern_word(seed, x >> 3);
			int b;

			for (b = 0; b < 8; b++)
				if (p[i + b] != (uint8_t)(w >> (8 * b)))
					return i + (size_t)b;
			i += 7;
			continue;
		}
		if (p[i] != pattern_byte(seed, x))
			return i;
	}
	return len;
}

#endif
