// SPDX-License-Identifier: MIT
#include "core/bus.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/interval.h"
#include "core/log.h"
#include "core/rcu.h"

_Static_assert(offsetof(struct bus_range, base) == offsetof(struct interval, start) &&
	       offsetof(struct bus_range, len) == offsetof(struct interval, len),
	       "bus_range must start like struct interval");

static struct bus_table *table_alloc(unsigned int nr)
{
	struct bus_table *t = calloc(1, sizeof(*t) + nr * sizeof(t->ranges[0]));

	if (t)
		t->nr = nr;
	return t;
}

static const struct bus_table *table_get(const struct bus *bus)
{
	return __atomic_load_n(&bus->table, __ATOMIC_ACQUIRE);
}

/* Every bus starts with this one, shared until its first update. */
static struct bus_table bus_empty_table;

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_mutex_init(&bus->wlock, NULL);
	bus->table = &bus_empty_table;
}

static void table_free(struct bus_table *t)
{
	if (t != &bus_empty_table)
		free(t);
}

void bus_destroy(struct bus *bus)
{
	table_free(bus->table);
	bus->table = NULL;
	pthread_mutex_destroy(&bus->wlock);
}

void bus_set_live(struct bus *bus)
{
	pthread_mutex_lock(&bus->wlock);
	bus->live = true;
	pthread_mutex_unlock(&bus->wlock);
}

/* Called with wlock held: publish @t, free the old table once unseen. */
static void table_publish(struct bus *bus, struct bus_table *t)
{
	struct bus_table *old = bus->table;

	__atomic_store_n(&bus->table, t, __ATOMIC_RELEASE);
	if (bus->live)
		krcu_synchronize();
	table_free(old);
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	const struct bus_table *old;
	struct bus_table *t;
	uint64_t end;
	int pos;

	if (len == 0 || __builtin_add_overflow(base, len, &end))
		return err_set(-EINVAL, "%s range 0x%llx+0x%llx for %s is empty or overflows",
			       bus->name, (unsigned long long)base,
			       (unsigned long long)len, name);
	pthread_mutex_lock(&bus->wlock);
	old = bus->table;
	pos = interval_insert_pos(old->ranges, old->nr, sizeof(old->ranges[0]), base, end);
	if (pos < 0) {
		pthread_mutex_unlock(&bus->wlock);
		return err_set(-EEXIST, "%s range 0x%llx+0x%llx for %s overlaps %s",
			       bus->name, (unsigned long long)base,
			       (unsigned long long)len, name, old->ranges[-1 - pos].name);
	}
	t = table_alloc(old->nr + 1);
	if (!t) {
		pthread_mutex_unlock(&bus->wlock);
		return err_set(-ENOMEM, "out of memory registering %s", name);
	}
	memcpy(t->ranges, old->ranges, (size_t)pos * sizeof(t->ranges[0]));
	t->ranges[pos] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque, .name = name,
	};
	memcpy(&t->ranges[pos + 1], &old->ranges[pos],
	       (old->nr - (unsigned int)pos) * sizeof(t->ranges[0]));
	table_publish(bus, t);
	pthread_mutex_unlock(&bus->wlock);
	return 0;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	const struct bus_table *old;
	struct bus_table *t;
	int i;

	pthread_mutex_lock(&bus->wlock);
	old = bus->table;
	i = interval_find(old->ranges, old->nr, sizeof(old->ranges[0]), base);
	if (i < 0 || old->ranges[i].base != base) {
		pthread_mutex_unlock(&bus->wlock);
		return err_set(-ENOENT, "no %s range starts at 0x%llx", bus->name,
			       (unsigned long long)base);
	}
	t = table_alloc(old->nr - 1);
	if (!t) {
		pthread_mutex_unlock(&bus->wlock);
		return err_set(-ENOMEM, "out of memory unregistering 0x%llx",
			       (unsigned long long)base);
	}
	memcpy(t->ranges, old->ranges, (size_t)i * sizeof(t->ranges[0]));
	memcpy(&t->ranges[i], &old->ranges[i + 1],
	       (old->nr - (unsigned int)i - 1) * sizeof(t->ranges[0]));
	table_publish(bus, t);
	pthread_mutex_unlock(&bus->wlock);
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	const struct bus_table *t = table_get(bus);
	int i = interval_find(t->ranges, t->nr, sizeof(t->ranges[0]), addr);

	return i < 0 ? NULL : &t->ranges[i];
}

unsigned int bus_count(const struct bus *bus)
{
	return table_get(bus)->nr;
}

const struct bus_range *bus_range_at(const struct bus *bus, unsigned int i)
{
	const struct bus_table *t = table_get(bus);

	return i < t->nr ? &t->ranges[i] : NULL;
}

static void bus_log_unclaimed(struct bus *bus, uint64_t addr, bool is_write)
{
	unsigned int i, n = __atomic_load_n(&bus->nr_logged, __ATOMIC_RELAXED);

	for (i = 0; i < n && i < BUS_UNCLAIMED_LOG_MAX; i++)
		if (__atomic_load_n(&bus->logged[i], __ATOMIC_RELAXED) == addr)
			return;
	if (n >= BUS_UNCLAIMED_LOG_MAX)
		return;
	n = __atomic_fetch_add(&bus->nr_logged, 1, __ATOMIC_RELAXED);
	if (n >= BUS_UNCLAIMED_LOG_MAX)
		return;
	__atomic_store_n(&bus->logged[n], addr, __ATOMIC_RELAXED);
	log_info("guest %s unclaimed %s address 0x%llx%s",
		 is_write ? "wrote to" : "read from", bus->name,
		 (unsigned long long)addr,
		 n + 1 == BUS_UNCLAIMED_LOG_MAX ? " (no more such messages)" : "");
}

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t size,
		bool is_write)
{
	const struct bus_range *r;
	bool claimed;

	krcu_read_lock();
	r = bus_find(bus, addr);
	/* An access that runs past the end of its range reaches no handler:
	 * handlers may rely on offset + size <= len. */
	if (r && size > r->len - (addr - r->base))
		r = NULL;
	claimed = r != NULL;
	if (!r) {
		if (!is_write)
			memset(data, 0xff, size);
	} else if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, size);
	} else if (r->ops->read) {
		r->ops->read(r->opaque, addr - r->base, data, size);
	} else {
		memset(data, 0xff, size);
	}
	krcu_read_unlock();
	if (!claimed)
		bus_log_unclaimed(bus, addr, is_write);
	return claimed;
}
