/* SPDX-License-Identifier: MIT */
/* paging.h - the guest's identity map. */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PAGING_MAP_LIMIT (64ull << 30)

/* Make [4 GiB, end) accessible (0..4 GiB always is); false past 64 GiB. */
bool paging_map_high(uint64_t end);

#endif
