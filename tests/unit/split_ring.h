/* SPDX-License-Identifier: MIT */
/*
 * split_ring.h - the driver's side of one split virtqueue laid out at fixed
 * guest addresses, for the device unit tests.
 *
 * The including file defines DESC and USED (guest-physical offsets into
 * r->ram) and a `struct rig` with a member  uint8_t *ram;  then includes it.
 */
#ifndef KITE_TEST_SPLIT_RING_H
#define KITE_TEST_SPLIT_RING_H

#include <stdint.h>
#include <string.h>

static void set_desc(struct rig *r, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *d = r->ram + DESC + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static inline uint16_t used_idx(struct rig *r)
{
	return __atomic_load_n((uint16_t *)(r->ram + USED + 2), __ATOMIC_ACQUIRE);
}

#endif
