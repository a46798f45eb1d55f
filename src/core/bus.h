/* SPDX-License-Identifier: MIT */
/*
 * bus.h - port I/O and MMIO dispatch: an interval map from address ranges to
 * device handlers.
 *
 * The range table is immutable and RCU-published (core/rcu.h, the same
 * scheme as the address space): vCPU threads look it up and call the handler
 * inside a read-side section, without a lock.  Updates (register,
 * unregister) copy the table under a writer mutex, publish it, and once the
 * bus is live wait for a grace period before freeing the old table; so when
 * bus_unregister() returns, no vCPU is still inside the removed handler and
 * its device may be freed.  Handlers do their own locking.  An access nobody
 * claims reads as all-ones, writes are dropped, and each such address is
 * logged once (at info level).
 * Lock order: the writer mutex is taken alone; handlers run under RCU only.
 */
#ifndef KITE_CORE_BUS_H
#define KITE_CORE_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct bus_ops {
	/* @offset is relative to the registered base; @size is 1, 2, 4 or 8;
	 * offset + size never exceeds the registered length. */
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t size);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data,
		      uint32_t size);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;	/* const: never modified at run time */
	void *opaque;
	const char *name;
};

#define BUS_UNCLAIMED_LOG_MAX 64

struct bus_table {
	unsigned int nr;
	struct bus_range ranges[];	/* sorted by base, disjoint */
};

struct bus {
	const char *name;		/* "pio" or "mmio", for messages */
	pthread_mutex_t wlock;		/* serializes updates */
	struct bus_table *table;	/* RCU-published, never NULL after init */
	bool live;			/* readers may exist: updates wait */
	/* addresses of unclaimed accesses already logged (racy but bounded) */
	uint64_t logged[BUS_UNCLAIMED_LOG_MAX];
	unsigned int nr_logged;
};

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);
/* Claim [base, base + len); zero length, overflow and overlap are refused. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name) KITE_WUR;
/* Release the range starting at @base; afterwards no vCPU is in its handler. */
int bus_unregister(struct bus *bus, uint64_t base) KITE_WUR;
/* From now on readers may exist (called before the vCPUs start). */
void bus_set_live(struct bus *bus);
/* Lookups: the result is valid inside krcu_read_lock()..unlock(), or while no
 * update can run (VM build, tests). */
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);
unsigned int bus_count(const struct bus *bus);
const struct bus_range *bus_range_at(const struct bus *bus, unsigned int i);
/* Dispatch one access; returns false when nobody claimed it. */
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t size,
		bool is_write);

#endif
