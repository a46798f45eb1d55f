/* SPDX-License-Identifier: MIT */
/*
 * interval.h - sorted arrays of disjoint [start, start + len) ranges, the
 * shape shared by the address space's regions and the buses' ranges.
 *
 * Elements are structs whose first two members are `uint64_t start, len`
 * (by any name); callers pass the element size as @stride.
 */
#ifndef KITE_CORE_INTERVAL_H
#define KITE_CORE_INTERVAL_H

#include <stddef.h>
#include <stdint.h>

struct interval {
	uint64_t start;
	uint64_t len;
};

static inline const struct interval *interval_at(const void *arr, size_t stride,
						 unsigned int i)
{
	return (const struct interval *)((const char *)arr + (size_t)i * stride);
}

/* Index of the element holding @addr, or -1 (binary search, no lock). */
static inline int interval_find(const void *arr, unsigned int n, size_t stride,
				uint64_t addr)
{
	unsigned int lo = 0, hi = n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct interval *r = interval_at(arr, stride, mid);

		if (addr < r->start)
			hi = mid;
		else if (addr - r->start >= r->len)
			lo = mid + 1;
		else
			return (int)mid;
	}
	return -1;
}

/*
 * Where [start, end) goes to keep the array sorted: returns the insertion
 * index, or -1 - i when it overlaps element i.  @end > @start (checked by
 * the caller, which also refuses zero lengths and overflow).
 */
static inline int interval_insert_pos(const void *arr, unsigned int n, size_t stride,
				      uint64_t start, uint64_t end)
{
	unsigned int pos;

	for (pos = 0; pos < n; pos++) {
		const struct interval *r = interval_at(arr, stride, pos);

		if (start < r->start + r->len && r->start < end)
			return -1 - (int)pos;
		if (r->start > start)
			break;
	}
	return (int)pos;
}

#endif
