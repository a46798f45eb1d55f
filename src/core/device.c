// SPDX-License-Identifier: MIT
#include "core/device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int dev_register(struct dev_registry *reg, struct device *dev)
{
	if (reg->nr == DEV_MAX)
		return err_set(-ENOSPC, "too many devices (max %d)", DEV_MAX);
	if (!dev->id[0] || dev_find(reg, dev->id))
		return err_set(-EEXIST, "device id '%s' is empty or already taken", dev->id);
	reg->devs[reg->nr++] = dev;
	return 0;
}

struct device *dev_find(const struct dev_registry *reg, const char *id)
{
	unsigned int i;

	for (i = 0; i < reg->nr; i++)
		if (!strcmp(reg->devs[i]->id, id))
			return reg->devs[i];
	return NULL;
}

const struct dev_attr *dev_attr_find(const struct device *dev, const char *name)
{
	unsigned int i;

	for (i = 0; i < dev->cls->nr_attrs; i++)
		if (!strcmp(dev->cls->attrs[i].name, name))
			return &dev->cls->attrs[i];
	return NULL;
}

const struct dev_cmd *dev_cmd_find(const struct device *dev, const char *name)
{
	unsigned int i;

	for (i = 0; i < dev->cls->nr_cmds; i++)
		if (!strcmp(dev->cls->cmds[i].name, name))
			return &dev->cls->cmds[i];
	return NULL;
}

void dev_add_resource(struct device *dev, enum dev_res_kind kind, uint64_t base,
		      uint64_t len)
{
	if (dev->nr_res < DEV_RES_MAX)
		dev->res[dev->nr_res++] = (struct dev_resource){ kind, base, len };
}

int dev_attr_get(struct device *dev, const char *name, struct dev_value *out)
{
	const struct dev_attr *a = dev_attr_find(dev, name);

	if (!a)
		return err_set(-ENOENT, "device '%s' has no attribute '%s'", dev->id, name);
	memset(out, 0, sizeof(*out));
	out->type = a->type;
	a->get(dev, out);
	out->type = a->type;
	if (a->type != DEV_ATTR_BYTES)
		return 0;
	if (!out->bytes)
		return err_set(-ENOMEM, "cannot read attribute '%s' of '%s': out of memory",
			       name, dev->id);
	if (out->len > DEV_BYTES_MAX) {
		dev_value_release(out);
		return err_set(-E2BIG, "attribute '%s' of '%s' is over %u bytes", name, dev->id,
			       DEV_BYTES_MAX);
	}
	return 0;
}

/* The setter's failure with its own message, or a generic one when it set none. */
static int dev_attr_set_failed(struct device *dev, const char *name, int ret)
{
	if (ret >= 0 || ret < -4095)
		ret = -EINVAL;
	if (!err_msg()[0])
		return err_set(ret, "value out of range for attribute '%s' of '%s'", name,
			       dev->id);
	return err_prefix(ret, "device '%s'", dev->id);
}

int dev_attr_set(struct device *dev, const char *name, const struct dev_value *in,
		 bool vm_paused)
{
	const struct dev_attr *a = dev_attr_find(dev, name);
	int ret;

	if (!a)
		return err_set(-ENOENT, "device '%s' has no attribute '%s'", dev->id, name);
	if (!a->set || a->access == DEV_ATTR_INFO)
		return err_set(-EPERM, "attribute '%s' of '%s' is read-only", name, dev->id);
	if (in->type != a->type)
		return err_set(-EINVAL, "attribute '%s' of '%s' is of type %s, not %s", name,
			       dev->id, dev_attr_type_name(a->type),
			       dev_attr_type_name(in->type));
	if (a->type == DEV_ATTR_BYTES && ((!in->bytes && in->len) || in->len > DEV_BYTES_MAX))
		return err_set(-EINVAL, "attribute '%s' of '%s': a value of %zu bytes "
			       "(at most %u)", name, dev->id, in->len, DEV_BYTES_MAX);
	if (a->access == DEV_ATTR_STATE && !vm_paused)
		return err_set(-EBUSY, "attribute '%s' of '%s' is device state: pause the VM "
			       "before writing it", name, dev->id);
	err_clear();
	ret = a->set(dev, in);
	return ret ? dev_attr_set_failed(dev, name, ret) : 0;
}

uint8_t *dev_value_alloc(struct dev_value *v, size_t len)
{
	free(v->bytes);
	v->bytes = malloc(len ? len : 1);
	v->len = v->bytes ? len : 0;
	return v->bytes;
}

void dev_value_release(struct dev_value *v)
{
	free(v->bytes);
	v->bytes = NULL;
	v->len = 0;
}

int dev_cmd_run(struct device *dev, const char *name, const char *arg)
{
	const struct dev_cmd *c = dev_cmd_find(dev, name);

	if (!c)
		return err_set(-ENOENT, "device '%s' has no command '%s'", dev->id, name);
	return c->run(dev, arg);
}

const char *dev_attr_type_name(enum dev_attr_type t)
{
	switch (t) {
	case DEV_ATTR_U64: return "u64";
	case DEV_ATTR_BOOL: return "bool";
	case DEV_ATTR_BYTES: return "bytes";
	default: return "string";
	}
}

const char *dev_attr_access_name(enum dev_attr_access a)
{
	switch (a) {
	case DEV_ATTR_STATE: return "state";
	case DEV_ATTR_CONFIG: return "config";
	default: return "info";
	}
}

const char *dev_res_kind_name(enum dev_res_kind k)
{
	switch (k) {
	case DEV_RES_PIO: return "pio";
	case DEV_RES_MMIO: return "mmio";
	default: return "irq";
	}
}
