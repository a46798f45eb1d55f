/* SPDX-License-Identifier: MIT */
/*
 * table_util.h - helpers shared by the firmware-table writers (private to
 * src/arch/x86/platform).
 *
 * Every table is built as a packed struct in host memory, checksummed there
 * and copied into the guest with one as_copy_to().  kite only runs on x86
 * hosts, so the native little-endian layout of the structs is the guest's.
 */
#ifndef KITE_ARCH_X86_PLATFORM_TABLE_UTIL_H
#define KITE_ARCH_X86_PLATFORM_TABLE_UTIL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	      "firmware tables are written as native (little-endian) structs");

/* The byte that makes @len bytes at @p sum to zero (mod 256). */
static inline uint8_t table_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)(0x100 - sum);
}

/* Copy @str into the fixed-size field @dst, padded with spaces, no NUL. */
static inline void table_set_id(char *dst, size_t size, const char *str)
{
	size_t n = strlen(str);

	memset(dst, ' ', size);
	memcpy(dst, str, n < size ? n : size);
}

#define TABLE_SET_ID(field, str) table_set_id((field), sizeof(field), (str))

#endif
