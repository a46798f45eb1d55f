// SPDX-License-Identifier: MIT
#include "core/addr_space.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/interval.h"

_Static_assert(offsetof(struct as_region, gpa) == offsetof(struct interval, start) &&
	       offsetof(struct as_region, size) == offsetof(struct interval, len),
	       "as_region must start like struct interval");

void as_init(struct addr_space *as)
{
	memset(as, 0, sizeof(*as));
}

static int range_end(uint64_t gpa, uint64_t len, uint64_t *end)
{
	return !__builtin_add_overflow(gpa, len, end);
}

int as_add_region(struct addr_space *as, uint64_t gpa, uint64_t size,
		  void *host, int fd, uint64_t fd_offset, uint32_t flags)
{
	uint64_t end;
	unsigned int i;
	int pos;

	if (size == 0)
		return err_set(-EINVAL, "memory region at 0x%llx has zero size",
			       (unsigned long long)gpa);
	if (!range_end(gpa, size, &end))
		return err_set(-EINVAL, "memory region 0x%llx+0x%llx overflows",
			       (unsigned long long)gpa, (unsigned long long)size);
	if (as->nr_regions == AS_MAX_REGIONS)
		return err_set(-ENOSPC, "too many memory regions (max %d)",
			       AS_MAX_REGIONS);
	pos = interval_insert_pos(as->regions, as->nr_regions, sizeof(as->regions[0]),
				  gpa, end);
	if (pos < 0) {
		const struct as_region *r = &as->regions[-1 - pos];

		return err_set(-EEXIST,
			       "memory region 0x%llx-0x%llx overlaps 0x%llx-0x%llx",
			       (unsigned long long)gpa, (unsigned long long)end,
			       (unsigned long long)r->gpa,
			       (unsigned long long)(r->gpa + r->size));
	}
	for (i = as->nr_regions; i > (unsigned int)pos; i--)
		as->regions[i] = as->regions[i - 1];
	as->regions[pos] = (struct as_region){
		.gpa = gpa, .size = size, .host = host, .fd = fd,
		.fd_offset = fd_offset, .flags = flags,
	};
	as->nr_regions++;
	return 0;
}

const struct as_region *as_find(const struct addr_space *as, uint64_t gpa)
{
	int i = interval_find(as->regions, as->nr_regions, sizeof(as->regions[0]), gpa);

	return i < 0 ? NULL : &as->regions[i];
}

const void *as_map_ro(const struct addr_space *as, uint64_t gpa, size_t len)
{
	const struct as_region *r = as_find(as, gpa);
	uint64_t off;

	if (!r || len == 0)
		return NULL;
	off = gpa - r->gpa;
	/* off < r->size, so r->size - off cannot underflow. */
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

void *as_map_rw(const struct addr_space *as, uint64_t gpa, size_t len)
{
	const struct as_region *r = as_find(as, gpa);

	if (!r || (r->flags & AS_REGION_READONLY))
		return NULL;
	return (void *)as_map_ro(as, gpa, len);
}

/*
 * Walk [gpa, gpa + len) region by region.  Checks the whole range first so
 * that a failed copy touches nothing.
 */
static int as_check_range(const struct addr_space *as, uint64_t gpa,
			  uint64_t len, int write)
{
	uint64_t end;

	if (!range_end(gpa, len, &end))
		return -EFAULT;
	while (gpa < end) {
		const struct as_region *r = as_find(as, gpa);

		if (!r || (write && (r->flags & AS_REGION_READONLY)))
			return -EFAULT;
		gpa = r->gpa + r->size;
	}
	return 0;
}

int as_range_mapped(const struct addr_space *as, uint64_t gpa, uint64_t len)
{
	return as_check_range(as, gpa, len, 0) == 0;
}

enum as_op { AS_OP_READ, AS_OP_WRITE, AS_OP_ZERO };

static int as_access(const struct addr_space *as, uint64_t gpa, void *buf,
		     size_t len, enum as_op op)
{
	uint8_t *p = buf;
	int ret = as_check_range(as, gpa, len, op != AS_OP_READ);

	if (ret)
		return ret;
	while (len) {
		const struct as_region *r = as_find(as, gpa);
		uint64_t off = gpa - r->gpa;
		size_t chunk = r->size - off < len ? (size_t)(r->size - off) : len;

		if (op == AS_OP_READ)
			memcpy(p, r->host + off, chunk);
		else if (op == AS_OP_WRITE)
			memcpy(r->host + off, p, chunk);
		else
			memset(r->host + off, 0, chunk);
		if (p)
			p += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

int as_copy_to(const struct addr_space *as, uint64_t gpa, const void *src,
	       size_t len)
{
	return as_access(as, gpa, (void *)src, len, AS_OP_WRITE);
}

int as_copy_from(const struct addr_space *as, void *dst, uint64_t gpa,
		 size_t len)
{
	return as_access(as, gpa, dst, len, AS_OP_READ);
}

int as_fill_zero(const struct addr_space *as, uint64_t gpa, size_t len)
{
	return as_access(as, gpa, NULL, len, AS_OP_ZERO);
}
