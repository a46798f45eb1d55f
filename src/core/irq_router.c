// SPDX-License-Identifier: MIT
#include "core/irq_router.h"

#include <errno.h>
#include <string.h>

#include "kvm/kvm.h"

static void add_irqchip(struct irq_router *r, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = &r->entries[r->nr++];

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

/* Called with the lock held (or before anyone else can see @r). */
static int irq_router_commit(struct irq_router *r)
{
	if (r->vm_fd < 0)
		return 0;
	return kvm_vm_set_gsi_routing(r->vm_fd, r->entries, r->nr);
}

int irq_router_init(struct irq_router *r, int vm_fd, uint32_t max_routes)
{
	uint32_t gsi;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = vm_fd;
	r->max_gsi = max_routes < IRQ_ROUTES_MAX ? max_routes : IRQ_ROUTES_MAX;
	if (r->max_gsi < IRQ_IOAPIC_PINS)
		return err_set(-ENOTSUP, "KVM offers %u interrupt routes, kite needs %d",
			       max_routes, IRQ_IOAPIC_PINS);
	for (gsi = 0; gsi < 16; gsi++)
		if (gsi != 2)
			add_irqchip(r, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
				    KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
	for (gsi = 0; gsi < IRQ_IOAPIC_PINS; gsi++)
		if (gsi != 2)
			add_irqchip(r, gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi);
	return irq_router_commit(r);
}

void irq_router_destroy(struct irq_router *r)
{
	pthread_mutex_destroy(&r->lock);
}

static struct kvm_irq_routing_entry *find_msi(struct irq_router *r, uint32_t gsi)
{
	unsigned int i;

	for (i = 0; i < r->nr; i++)
		if (r->entries[i].gsi == gsi && r->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &r->entries[i];
	return NULL;
}

static void set_msi(struct kvm_irq_routing_entry *e, uint32_t gsi, uint64_t addr,
		    uint32_t data)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
}

int irq_router_add_msi(struct irq_router *r, uint64_t addr, uint32_t data, uint32_t *gsi)
{
	uint32_t g;
	int ret;

	pthread_mutex_lock(&r->lock);
	for (g = IRQ_FIRST_MSI_GSI; g < r->max_gsi && r->msi_used[g]; g++)
		;
	if (g >= r->max_gsi || r->nr == IRQ_ROUTES_MAX) {
		pthread_mutex_unlock(&r->lock);
		return err_set(-ENOSPC, "no free interrupt route (%u in use)", r->nr);
	}
	set_msi(&r->entries[r->nr++], g, addr, data);
	r->msi_used[g] = 1;
	ret = irq_router_commit(r);
	if (ret) {
		r->nr--;
		r->msi_used[g] = 0;
	} else {
		*gsi = g;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_router_set_msi(struct irq_router *r, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e, old;
	int ret;

	pthread_mutex_lock(&r->lock);
	e = find_msi(r, gsi);
	if (!e) {
		pthread_mutex_unlock(&r->lock);
		return err_set(-ENOENT, "GSI %u is not an allocated MSI route", gsi);
	}
	old = *e;
	set_msi(e, gsi, addr, data);
	ret = irq_router_commit(r);
	if (ret)
		*e = old;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_router_free_msi(struct irq_router *r, uint32_t gsi)
{
	struct kvm_irq_routing_entry *e;
	int ret;

	pthread_mutex_lock(&r->lock);
	e = find_msi(r, gsi);
	if (!e) {
		pthread_mutex_unlock(&r->lock);
		return err_set(-ENOENT, "GSI %u is not an allocated MSI route", gsi);
	}
	*e = r->entries[--r->nr];
	r->msi_used[gsi] = 0;
	ret = irq_router_commit(r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}
