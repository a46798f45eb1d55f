// SPDX-License-Identifier: MIT
/* The GSI router's table (no KVM: vm_fd = -1 builds the table only). */
#include <errno.h>

#include "core/irq_router.h"
#include "harness.h"

static const struct kvm_irq_routing_entry *route(const struct irq_router *r, uint32_t gsi,
						 uint32_t chip)
{
	unsigned int i;

	for (i = 0; i < r->nr; i++)
		if (r->entries[i].gsi == gsi && r->entries[i].type == KVM_IRQ_ROUTING_IRQCHIP &&
		    r->entries[i].u.irqchip.irqchip == chip)
			return &r->entries[i];
	return NULL;
}

static void pc_routing_sends_isa_irq0_to_ioapic_pin2_and_skips_the_cascade(void)
{
	static struct irq_router r;
	uint32_t gsi;

	CHECK_EQ(irq_router_init(&r, -1, 4096), 0);
	CHECK_EQ(route(&r, 0, KVM_IRQCHIP_IOAPIC)->u.irqchip.pin, 2);
	CHECK_EQ(route(&r, 0, KVM_IRQCHIP_PIC_MASTER)->u.irqchip.pin, 0);
	CHECK(route(&r, 2, KVM_IRQCHIP_IOAPIC) == NULL);
	CHECK(route(&r, 2, KVM_IRQCHIP_PIC_MASTER) == NULL);
	for (gsi = 1; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;
		CHECK_EQ(route(&r, gsi, KVM_IRQCHIP_IOAPIC)->u.irqchip.pin, gsi);
		CHECK_EQ(route(&r, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
			       KVM_IRQCHIP_PIC_SLAVE)->u.irqchip.pin, gsi % 8);
	}
	for (gsi = 16; gsi < 24; gsi++) {
		CHECK(route(&r, gsi, KVM_IRQCHIP_IOAPIC) != NULL);
		CHECK(route(&r, gsi, KVM_IRQCHIP_PIC_MASTER) == NULL);
	}
	CHECK_EQ(r.nr, 15 + 23);
	irq_router_destroy(&r);
}

static void msi_routes_are_allocated_above_the_ioapic_updated_and_reused(void)
{
	static struct irq_router r;
	uint32_t a, b, c;

	CHECK_EQ(irq_router_init(&r, -1, 4096), 0);
	CHECK_EQ(irq_router_add_msi(&r, 0xfee00000, 0x41, &a), 0);
	CHECK_EQ(irq_router_add_msi(&r, 0xfee01000, 0x42, &b), 0);
	CHECK_EQ(a, 24);
	CHECK_EQ(b, 25);
	CHECK_EQ(irq_router_set_msi(&r, b, 0x1fee02000ULL, 0x43), 0);
	CHECK_EQ(r.entries[r.nr - 1].u.msi.address_hi, 1);
	CHECK_EQ(r.entries[r.nr - 1].u.msi.data, 0x43);
	CHECK_EQ(irq_router_free_msi(&r, a), 0);
	CHECK_EQ(irq_router_add_msi(&r, 0xfee00000, 0x44, &c), 0);
	CHECK_EQ(c, 24);			/* freed GSI reused */
	CHECK_EQ(irq_router_free_msi(&r, 5), -ENOENT);	/* not an MSI route */
	CHECK_EQ(irq_router_set_msi(&r, 99, 0, 0), -ENOENT);
	irq_router_destroy(&r);
}

static void msi_allocation_fails_cleanly_when_routes_run_out(void)
{
	static struct irq_router r;
	uint32_t g;
	unsigned int n = 0;

	CHECK_EQ(irq_router_init(&r, -1, 30), 0);	/* GSIs 24..29 */
	while (irq_router_add_msi(&r, 0xfee00000, n, &g) == 0)
		n++;
	CHECK_EQ(n, 6);
	CHECK_EQ(irq_router_add_msi(&r, 0xfee00000, 0, &g), -ENOSPC);
	CHECK_STR_CONTAINS(err_msg(), "no free interrupt route");
	CHECK_EQ(irq_router_init(&r, -1, 16), -ENOTSUP);
	irq_router_destroy(&r);
}

int main(void)
{
	RUN(pc_routing_sends_isa_irq0_to_ioapic_pin2_and_skips_the_cascade);
	RUN(msi_routes_are_allocated_above_the_ioapic_updated_and_reused);
	RUN(msi_allocation_fails_cleanly_when_routes_run_out);
	return harness_done();
}
