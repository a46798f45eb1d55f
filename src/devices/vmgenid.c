// SPDX-License-Identifier: MIT
/*
 * vmgenid.c - the VM generation ID (vmgenid.h).  The ACPI side, \_SB.VGEN
 * and \_SB.GED0, is written with the other tables (arch/x86/platform/acpi.c).
 */
#include "devices/vmgenid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"

void vmgenid_init(struct vmgenid *g, const struct addr_space *as, uint64_t gpa,
		  struct irq_line irq)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	g->as = as;
	g->gpa = gpa;
	g->irq = irq;
}

void vmgenid_destroy(struct vmgenid *g)
{
	pthread_mutex_destroy(&g->lock);
}

/* Under g->lock: 16 bytes from the kernel's RNG into guest memory. */
static int vmgenid_store_random(struct vmgenid *g)
{
	uint8_t id[VMGENID_LEN];
	ssize_t n = getrandom(id, sizeof(id), 0);	/* <= 256 bytes: never short */

	if (n != (ssize_t)sizeof(id))
		return err_set(n < 0 ? -errno : -EIO, "vmgenid: getrandom: %s",
			       n < 0 ? strerror(errno) : "short read");
	/* Through the address space: dirty-tracked like any device write. */
	if (as_copy_to(g->as, g->gpa, id, sizeof(id)))
		return err_set(-EFAULT, "vmgenid: guest memory at 0x%llx is not writable RAM",
			       (unsigned long long)g->gpa);
	g->generations++;
	return 0;
}

int vmgenid_write_new(struct vmgenid *g)
{
	int ret;

	pthread_mutex_lock(&g->lock);
	ret = vmgenid_store_random(g);
	pthread_mutex_unlock(&g->lock);
	return ret;
}

int vmgenid_regenerate(struct vmgenid *g)
{
	int ret = vmgenid_write_new(g);

	if (ret)
		return ret;
	/* The ID is in memory before the edge (KVM_IRQ_LINE: delivered to the
	 * local APIC when the ioctl returns), so _EVT's Notify reads it. */
	irq_line_set(&g->irq, 1);
	irq_line_set(&g->irq, 0);
	log_info("vmgenid: new generation ID, GED interrupt on GSI %u", g->irq.gsi);
	return 0;
}

int vmgenid_read(struct vmgenid *g, uint8_t id[VMGENID_LEN])
{
	int ret;

	pthread_mutex_lock(&g->lock);
	ret = as_copy_from(g->as, id, g->gpa, VMGENID_LEN);
	pthread_mutex_unlock(&g->lock);
	if (ret)
		return err_set(-EFAULT, "vmgenid: guest memory at 0x%llx is not readable RAM",
			       (unsigned long long)g->gpa);
	return 0;
}

/* ---- device model ---- */

static void vmgenid_get_id(struct device *dev, struct dev_value *out)
{
	uint8_t id[VMGENID_LEN];
	unsigned int i;

	out->str[0] = '\0';
	if (vmgenid_read(dev->priv, id))
		return;
	for (i = 0; i < VMGENID_LEN; i++)
		snprintf(out->str + 2 * i, 3, "%02x", id[i]);
}

static void vmgenid_get_address(struct device *dev, struct dev_value *out)
{
	out->u64 = ((struct vmgenid *)dev->priv)->gpa;
}

static void vmgenid_get_gsi(struct device *dev, struct dev_value *out)
{
	out->u64 = ((struct vmgenid *)dev->priv)->irq.gsi;
}

static void vmgenid_get_generations(struct device *dev, struct dev_value *out)
{
	struct vmgenid *g = dev->priv;

	pthread_mutex_lock(&g->lock);
	out->u64 = g->generations;
	pthread_mutex_unlock(&g->lock);
}

static void vmgenid_get_notifications(struct device *dev, struct dev_value *out)
{
	out->u64 = __atomic_load_n(&((struct vmgenid *)dev->priv)->irq.raised, __ATOMIC_RELAXED);
}

static int vmgenid_cmd_regenerate(struct device *dev, const char *arg)
{
	(void)arg;
	return vmgenid_regenerate(dev->priv);
}

#define INFO_U64(n, doc) { #n, DEV_ATTR_U64, DEV_ATTR_INFO, doc, vmgenid_get_##n, NULL }

/* No STATE: the ID is guest memory, the interrupt an edge (vmgenid.h). */
static const struct dev_attr vmgenid_attrs[] = {
	{ "generation_id", DEV_ATTR_STR, DEV_ATTR_INFO,
	  "the 16-byte ID in guest memory, hex, in memory order", vmgenid_get_id, NULL },
	INFO_U64(address, "guest-physical address of the ID (\\_SB.VGEN.ADDR)"),
	INFO_U64(gsi, "the GSI of the Generic Event Device's interrupt (\\_SB.GED0)"),
	INFO_U64(generations, "IDs this kite wrote: at boot, on restore, on regenerate"),
	INFO_U64(notifications, "GED interrupts raised: the guest was told of a new ID"),
};

static const struct dev_cmd vmgenid_cmds[] = {
	{ "regenerate", "write a new random ID and interrupt the guest (what a restored "
	  "copy gets)", vmgenid_cmd_regenerate },
};

const struct dev_class vmgenid_class = {
	.type = "vmgenid",
	.state_version = 1,
	.attrs = vmgenid_attrs,
	.nr_attrs = sizeof(vmgenid_attrs) / sizeof(vmgenid_attrs[0]),
	.cmds = vmgenid_cmds,
	.nr_cmds = sizeof(vmgenid_cmds) / sizeof(vmgenid_cmds[0]),
};
