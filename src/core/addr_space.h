/* SPDX-License-Identifier: MIT */
/*
 * addr_space.h - the guest physical address space.
 *
 * Every access to guest memory goes through this API, and every access has a
 * length: a range that is unmapped, crosses into a hole or overflows gpa+len
 * is refused with -EFAULT and nothing is touched.  Nothing else in kite turns
 * a guest address into a host pointer.
 *
 * Regions are added while the VM is built (before any vCPU or device thread
 * runs); lookups take no lock.
 */
#ifndef KITE_CORE_ADDR_SPACE_H
#define KITE_CORE_ADDR_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define AS_MAX_REGIONS 16

enum as_region_flags {
	AS_REGION_READONLY = 1u << 0,
};

struct as_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;		/* mapping of [gpa, gpa + size) */
	int fd;			/* backing fd (memfd), -1 for anonymous */
	uint64_t fd_offset;
	uint32_t flags;
};

struct addr_space {
	struct as_region regions[AS_MAX_REGIONS]; /* sorted by gpa, disjoint */
	unsigned int nr_regions;
};

void as_init(struct addr_space *as);

/*
 * Register [gpa, gpa + size) backed by @host (and @fd at @fd_offset, or -1).
 * Zero size, gpa overflow, and overlap with an existing region are refused.
 */
int as_add_region(struct addr_space *as, uint64_t gpa, uint64_t size,
		  void *host, int fd, uint64_t fd_offset, uint32_t flags) KITE_WUR;

/* The region holding @gpa, or NULL. */
const struct as_region *as_find(const struct addr_space *as, uint64_t gpa);

/*
 * Host pointer for [gpa, gpa + len) when the whole range lies in one region;
 * NULL otherwise (unmapped, hole, overflow, len == 0).  For writes use
 * as_map_rw(), which also refuses read-only regions.
 */
const void *as_map_ro(const struct addr_space *as, uint64_t gpa, size_t len);
void *as_map_rw(const struct addr_space *as, uint64_t gpa, size_t len);

/* Copy to/from guest memory; the range may span adjacent regions. */
int as_copy_to(const struct addr_space *as, uint64_t gpa, const void *src,
	       size_t len) KITE_WUR;
int as_copy_from(const struct addr_space *as, void *dst, uint64_t gpa,
		 size_t len) KITE_WUR;
/* Zero guest memory in [gpa, gpa + len). */
int as_fill_zero(const struct addr_space *as, uint64_t gpa, size_t len) KITE_WUR;

/* True when every byte of [gpa, gpa + len) is backed by some region. */
int as_range_mapped(const struct addr_space *as, uint64_t gpa, uint64_t len);

#endif
