// SPDX-License-Identifier: MIT
#include "snapshot/crc64.h"

#include <pthread.h>
#include <string.h>

/* ECMA-182, bit-reversed because the CRC is reflected. */
#define CRC64_POLY_REFLECTED	0xC96C5795D7870F42ULL

/*
 * Slice-by-8: table[k][b] is the CRC of byte b followed by k zero bytes, so
 * eight input bytes cost eight independent lookups instead of a serial chain
 * of eight.  16 KiB, built once on first use rather than spelled out here.
 */
static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init_tables(void)
{
	for (unsigned int b = 0; b < 256; b++) {
		uint64_t c = b;

		for (int bit = 0; bit < 8; bit++)
			c = (c >> 1) ^ ((c & 1) ? CRC64_POLY_REFLECTED : 0);
		crc64_table[0][b] = c;
	}
	for (unsigned int b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++) {
			uint64_t prev = crc64_table[k - 1][b];

			crc64_table[k][b] = (prev >> 8) ^ crc64_table[0][prev & 0xff];
		}
}

/* GCC does not fold le_get()'s byte loop into one load: spell it out. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static uint64_t crc64_bytes(uint64_t c, const uint8_t *p, size_t len)
{
	while (len--)
		c = (c >> 8) ^ crc64_table[0][(c ^ *p++) & 0xff];
	return c;
}

uint64_t crc64_update(uint64_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	pthread_once(&crc64_once, crc64_init_tables);
	/* The reflected CRC consumes bytes in little-endian order, so eight
	 * of them are one little-endian load. */
	for (; len >= 8; len -= 8, p += 8) {
		c ^= load_le64(p);
		c = crc64_table[7][c & 0xff] ^
		    crc64_table[6][(c >> 8) & 0xff] ^
		    crc64_table[5][(c >> 16) & 0xff] ^
		    crc64_table[4][(c >> 24) & 0xff] ^
		    crc64_table[3][(c >> 32) & 0xff] ^
		    crc64_table[2][(c >> 40) & 0xff] ^
		    crc64_table[1][(c >> 48) & 0xff] ^
		    crc64_table[0][c >> 56];
	}
	return ~crc64_bytes(c, p, len);
}
