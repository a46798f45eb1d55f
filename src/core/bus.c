// SPDX-License-Identifier: MIT
#include "core/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "core/interval.h"

#include "core/log.h"

_Static_assert(offsetof(struct bus_range, base) == offsetof(struct interval, start) &&
	       offsetof(struct bus_range, len) == offsetof(struct interval, len),
	       "bus_range must start like struct interval");

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	uint64_t end;
	int pos;

	if (len == 0 || __builtin_add_overflow(base, len, &end))
		return err_set(-EINVAL, "%s range 0x%llx+0x%llx for %s is empty or overflows",
			       bus->name, (unsigned long long)base,
			       (unsigned long long)len, name);
	pos = interval_insert_pos(bus->ranges, bus->nr, sizeof(bus->ranges[0]), base, end);
	if (pos < 0)
		return err_set(-EEXIST, "%s range 0x%llx+0x%llx for %s overlaps %s",
			       bus->name, (unsigned long long)base,
			       (unsigned long long)len, name, bus->ranges[-1 - pos].name);
	if (bus->nr == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *n = realloc(bus->ranges, cap * sizeof(*n));

		if (!n)
			return err_set(-ENOMEM, "out of memory registering %s", name);
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
		(bus->nr - pos) * sizeof(bus->ranges[0]));
	bus->ranges[pos] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque, .name = name,
	};
	bus->nr++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	int i = interval_find(bus->ranges, bus->nr, sizeof(bus->ranges[0]), addr);

	return i < 0 ? NULL : &bus->ranges[i];
}

static void bus_log_unclaimed(struct bus *bus, uint64_t addr, bool is_write)
{
	unsigned int i, n = __atomic_load_n(&bus->nr_logged, __ATOMIC_RELAXED);

	for (i = 0; i < n && i < BUS_UNCLAIMED_LOG_MAX; i++)
		if (bus->logged[i] == addr)
			return;
	if (n >= BUS_UNCLAIMED_LOG_MAX)
		return;
	n = __atomic_fetch_add(&bus->nr_logged, 1, __ATOMIC_RELAXED);
	if (n >= BUS_UNCLAIMED_LOG_MAX)
		return;
	bus->logged[n] = addr;
	log_info("guest %s unclaimed %s address 0x%llx%s",
		 is_write ? "wrote to" : "read from", bus->name,
		 (unsigned long long)addr,
		 n + 1 == BUS_UNCLAIMED_LOG_MAX ? " (no more such messages)" : "");
}

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t size,
		bool is_write)
{
	const struct bus_range *r = bus_find(bus, addr);

	/* An access that runs past the end of its range reaches no handler:
	 * handlers may rely on offset + size <= len. */
	if (r && size > r->len - (addr - r->base))
		r = NULL;
	if (!r) {
		if (!is_write)
			memset(data, 0xff, size);
		bus_log_unclaimed(bus, addr, is_write);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, size);
	} else if (r->ops->read) {
		r->ops->read(r->opaque, addr - r->base, data, size);
	} else {
		memset(data, 0xff, size);
	}
	return true;
}
