/* SPDX-License-Identifier: MIT */
/*
 * bus.h - port I/O and MMIO dispatch: an interval map from address ranges to
 * device handlers.
 *
 * Registration happens while the VM is built, before any vCPU thread runs;
 * after that the table is read-only and vCPU threads look it up without a
 * lock (binary search).  Handlers are called on vCPU threads and do their
 * own locking.  An access nobody claims reads as all-ones, writes are
 * dropped, and each such address is logged once (at info level).
 */
#ifndef KITE_CORE_BUS_H
#define KITE_CORE_BUS_H

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

struct bus {
	const char *name;		/* "pio" or "mmio", for messages */
	struct bus_range *ranges;	/* sorted by base, disjoint */
	unsigned int nr, cap;
	/* addresses of unclaimed accesses already logged (racy but bounded) */
	uint64_t logged[BUS_UNCLAIMED_LOG_MAX];
	unsigned int nr_logged;
};

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);
/* Claim [base, base + len); zero length, overflow and overlap are refused. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name) KITE_WUR;
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);
/* Dispatch one access; returns false when nobody claimed it. */
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t size,
		bool is_write);

#endif
