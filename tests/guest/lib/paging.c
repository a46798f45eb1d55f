/* SPDX-License-Identifier: MIT */
/*
 * paging.c - identity map above 4 GiB.  entry.S maps 0..4 GiB statically;
 * the page directories for 4..64 GiB are zero until a test needs them
 * (2 MiB pages: the nested MMU rejects 1 GiB pages with a reserved-bit #PF).
 * The page tables are user pages, so ring 3 fills them in; entries go from
 * not present to present, so no TLB flush is needed.
 */
#include "lib.h"
#include "paging.h"

extern uint64_t pd_high[60 * 512];

static uint64_t mapped_to = 4ull << 30;

bool paging_map_high(uint64_t end)
{
	uint64_t a;

	if (end > PAGING_MAP_LIMIT)
		return false;
	for (a = mapped_to; a < end; a += 2ull << 20)
		pd_high[(a - (4ull << 30)) >> 21] = a | 0x87;	/* P RW US PS */
	if (end > mapped_to)
		mapped_to = (end + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	barrier();
	return true;
}
