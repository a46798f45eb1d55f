/* SPDX-License-Identifier: MIT */
/*
 * crc64_impl.h - crc64.c's paths one by one, for the unit test to compare:
 * crc64_update() takes the widest fold the CPU has (VPCLMULQDQ on AVX-512,
 * else PCLMULQDQ, else none) for buffers of 16 bytes and more, and the
 * slice-by-8 tables for the rest.
 */
#ifndef KITE_SNAPSHOT_CRC64_IMPL_H
#define KITE_SNAPSHOT_CRC64_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* crc64_update() with the slice-by-8 tables only. */
uint64_t crc64_update_portable(uint64_t crc, const void *buf, size_t len);
/* crc64_update() folding at most 16 bytes a step (PCLMULQDQ): the same as
 * crc64_update_portable() where crc64_have_clmul() is false. */
uint64_t crc64_update_clmul(uint64_t crc, const void *buf, size_t len);
/* This CPU has PCLMULQDQ and SSE4.1 (x86-64 builds only). */
bool crc64_have_clmul(void);
/* ... and also AVX-512F and VPCLMULQDQ: long buffers fold 64 bytes a step. */
bool crc64_have_vpclmul(void);

#endif
