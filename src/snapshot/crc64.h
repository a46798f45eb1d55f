/* SPDX-License-Identifier: MIT */
/*
 * crc64.h - CRC-64/XZ (the ECMA-182 polynomial, reflected, init and xorout
 * all ones), the checksum of kite's snapshot files.  The check value of
 * "123456789" is 0x995DC9BBDF1939FA.
 *
 * The value passed in and returned is the finished CRC, as with zlib's
 * crc32(): start from 0, and feeding a buffer in pieces gives the same result
 * as feeding it whole.  Thread-safe.
 *
 * On x86-64 CPUs with PCLMULQDQ, buffers of 16 bytes and more are folded by
 * carry-less multiplication, 64 bytes a step (256 with VPCLMULQDQ on
 * AVX-512), the path chosen once at run time; tails under 16 bytes, other
 * CPUs and other architectures use table-driven slice-by-8.  crc64_impl.h
 * exposes each path to the unit test.
 */
#ifndef KITE_SNAPSHOT_CRC64_H
#define KITE_SNAPSHOT_CRC64_H

#include <stddef.h>
#include <stdint.h>

/**
 * crc64_update() - extend a CRC-64/XZ over more bytes
 * @crc: the CRC of the bytes so far (0 for none)
 * @buf: the next bytes (may be NULL when @len is 0)
 * @len: how many
 *
 * Return: the CRC of the bytes so far followed by @buf.
 */
uint64_t crc64_update(uint64_t crc, const void *buf, size_t len);

#endif
