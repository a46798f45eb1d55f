/* SPDX-License-Identifier: MIT */
/*
 * device.h - kite's one device model.
 *
 * A device has a type (its class), an id, bus resources, typed ATTRIBUTES and
 * COMMANDS, and the two are never mixed:
 *   - attributes are named, typed pieces of state.  get() has no side
 *     effects.  DEV_ATTR_STATE attributes (guest-visible state: what
 *     snapshots and migration carry) may be written only while the VM is
 *     paused; DEV_ATTR_CONFIG ones whenever they have a setter; DEV_ATTR_INFO
 *     ones (counters, identity) never.
 *   - commands are actions with side effects (reset, inject input, raise an
 *     interrupt); they never stand in for state transfer.
 * Classes are const tables, never modified at run time.
 */
#ifndef KITE_CORE_DEVICE_H
#define KITE_CORE_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define DEV_ID_MAX	32
#define DEV_STR_MAX	256
#define DEV_BYTES_MAX	(1u << 20)	/* largest DEV_ATTR_BYTES value */
#define DEV_MAX		64
#define DEV_RES_MAX	4

/*
 * DEV_ATTR_BYTES is opaque device state (a register file, a FIFO, a queue's
 * ring positions) that no scalar describes.  Each such value starts with its
 * own layout version byte and is little-endian, explicitly encoded; setters
 * treat it as untrusted input (core/dev_state.h decodes it with bounds
 * checks) and refuse a malformed value whole, changing nothing.
 */
enum dev_attr_type { DEV_ATTR_U64, DEV_ATTR_BOOL, DEV_ATTR_STR, DEV_ATTR_BYTES };

enum dev_attr_access {
	DEV_ATTR_STATE,		/* read any time, write only while paused */
	DEV_ATTR_CONFIG,	/* write any time (if settable) */
	DEV_ATTR_INFO,		/* read-only */
};

struct dev_value {
	enum dev_attr_type type;
	uint64_t u64;
	bool b;
	char str[DEV_STR_MAX];
	/* DEV_ATTR_BYTES: a heap buffer of @len bytes (at most DEV_BYTES_MAX).
	 * A getter fills it with dev_value_alloc(); whoever read the value
	 * frees it with dev_value_release().  A setter only reads it. */
	uint8_t *bytes;
	size_t len;
};

struct device;

struct dev_attr {
	const char *name;
	enum dev_attr_type type;
	enum dev_attr_access access;
	const char *doc;
	void (*get)(struct device *dev, struct dev_value *out);
	/* NULL: read-only.  Returns 0 or -EINVAL (value out of range). */
	int (*set)(struct device *dev, const struct dev_value *in);
};

struct dev_cmd {
	const char *name;
	const char *doc;
	/* @arg: the command's argument (NULL if none given). */
	int (*run)(struct device *dev, const char *arg);
};

enum dev_res_kind { DEV_RES_PIO, DEV_RES_MMIO, DEV_RES_IRQ };

struct dev_resource {
	enum dev_res_kind kind;
	uint64_t base;
	uint64_t len;		/* 1 for an IRQ line */
};

struct dev_class {
	const char *type;
	uint32_t state_version;	/* bumped when STATE attributes change meaning */
	const struct dev_attr *attrs;
	unsigned int nr_attrs;
	const struct dev_cmd *cmds;
	unsigned int nr_cmds;
};

struct device {
	char id[DEV_ID_MAX];
	const struct dev_class *cls;
	void *priv;
	struct dev_resource res[DEV_RES_MAX];
	unsigned int nr_res;
};

struct dev_registry {
	struct device *devs[DEV_MAX];
	unsigned int nr;
};

int dev_register(struct dev_registry *reg, struct device *dev) KITE_WUR;
struct device *dev_find(const struct dev_registry *reg, const char *id);
const struct dev_attr *dev_attr_find(const struct device *dev, const char *name);
const struct dev_cmd *dev_cmd_find(const struct device *dev, const char *name);
void dev_add_resource(struct device *dev, enum dev_res_kind kind, uint64_t base,
		      uint64_t len);

/*
 * Read an attribute: -ENOENT (unknown), -ENOMEM (a BYTES getter could not
 * allocate), -E2BIG (a BYTES value over DEV_BYTES_MAX).  On success the
 * caller owns @out's buffer: dev_value_release() it (any type).
 */
int dev_attr_get(struct device *dev, const char *name, struct dev_value *out) KITE_WUR;
/*
 * Write an attribute: -ENOENT unknown, -EPERM read-only, -EINVAL wrong type
 * or value, -EBUSY a STATE attribute while the VM runs (or whatever the
 * setter returned, e.g. -EBUSY: the device cannot take it now).  The
 * message is the setter's own ("device 'vda': virtio_state: queue 0: ...")
 * or, from a setter that set none, "value out of range ...".
 */
int dev_attr_set(struct device *dev, const char *name, const struct dev_value *in,
		 bool vm_paused) KITE_WUR;
/* Run a command: -ENOENT unknown, or the command's own error. */
int dev_cmd_run(struct device *dev, const char *name, const char *arg) KITE_WUR;

/*
 * For BYTES getters: give @v a buffer of @len bytes (contents undefined) and
 * return it; NULL when out of memory (dev_attr_get then fails with -ENOMEM).
 */
uint8_t *dev_value_alloc(struct dev_value *v, size_t len);
/* Free a value's buffer (a no-op for the scalar types); @v may be reused. */
void dev_value_release(struct dev_value *v);

const char *dev_attr_type_name(enum dev_attr_type t);
const char *dev_attr_access_name(enum dev_attr_access a);
const char *dev_res_kind_name(enum dev_res_kind k);

#endif
