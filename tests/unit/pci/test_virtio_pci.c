// SPDX-License-Identifier: MIT
/*
 * The virtio-pci transport driven as a guest driver would: the capability
 * list through CF8/CFC, registers through the BARs on the MMIO bus, a split
 * ring in guest RAM.  A trivial device behind it returns every chain it is
 * given; its I/O thread runs for real (no KVM: notify writes kick the
 * queue's eventfd, interrupts are counted on the line and MSI-X vectors).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "core/addr_space.h"
#include "core/irq_router.h"
#include "harness.h"
#include "virtio/virtio_pci.h"

#define RAM_SIZE	(4u << 20)
#define SLOT		4
#define NQ		2
#define QSZ		16
#define DESC		0x10000ULL
#define AVAIL		0x11000ULL
#define USED		0x12000ULL
#define BUF		0x20000ULL
#define CFG_LEN		8

struct caps {
	uint32_t common, isr, device, notify, pci_cfg, msix;
	uint32_t notify_mult;
};

struct rig {
	struct addr_space as;
	uint8_t *ram;
	struct bus pio, mmio;
	struct irq_router router;
	struct pci_bus pci;
	struct virtio_dev vd;
	struct virtio_pci vp;
	struct caps caps;
	uint64_t bar4, bar1;
	uint16_t avail_idx;
	int cfg_writes;
};

#include "pci_rig.h"

/* ---- a trivial device: hands back every chain ---- */

static void echo_kick(struct virtio_dev *vd, unsigned int q)
{
	struct vq_elem e;

	while (virtio_pop(vd, q, &e) > 0)
		virtio_push(vd, q, &e, 0);
	virtio_notify(vd, q);
}

static void echo_config_written(struct virtio_dev *vd, uint32_t off, uint32_t len)
{
	struct rig *r = vd->priv;

	(void)off;
	(void)len;
	r->cfg_writes++;
}

static const struct virtio_dev_ops echo_ops = {
	.device_id = VIRTIO_ID_RNG,
	.queue_kick = echo_kick,
	.config_written = echo_config_written,
};

/* ---- access helpers ---- */

/* Walk the capability list like virtio_pci_modern does. */
static void find_caps(struct rig *r)
{
	uint32_t p = (uint32_t)cfg_rd(r, PCI_CAPABILITY_LIST, 1);

	memset(&r->caps, 0, sizeof(r->caps));
	for (; p; p = (uint32_t)cfg_rd(r, p + 1, 1)) {
		if (cfg_rd(r, p, 1) == PCI_CAP_ID_MSIX) {
			r->caps.msix = p;
			continue;
		}
		switch (cfg_rd(r, p + 3, 1)) {
		case VIRTIO_PCI_CAP_COMMON_CFG: r->caps.common = p; break;
		case VIRTIO_PCI_CAP_ISR_CFG: r->caps.isr = p; break;
		case VIRTIO_PCI_CAP_DEVICE_CFG: r->caps.device = p; break;
		case VIRTIO_PCI_CAP_PCI_CFG: r->caps.pci_cfg = p; break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			r->caps.notify = p;
			r->caps.notify_mult = (uint32_t)cfg_rd(r, p + 16, 4);
			break;
		default: break;
		}
	}
}

static void read_bars(struct rig *r)
{
	r->bar4 = (cfg_rd(r, PCI_BAR0 + 16, 4) & ~0xfULL) | cfg_rd(r, PCI_BAR0 + 20, 4) << 32;
	r->bar1 = cfg_rd(r, PCI_BAR0 + 4, 4) & ~0xfULL;
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	as_init(&r->as);
	r->ram = aligned_alloc(4096, RAM_SIZE);
	if (!r->ram || as_add_region(&r->as, 0, RAM_SIZE, r->ram, -1, 0, 0))
		abort();
	memset(r->ram, 0, RAM_SIZE);
	bus_init(&r->pio, "pio");
	bus_init(&r->mmio, "mmio");
	snprintf(r->vd.dev.id, sizeof(r->vd.dev.id), "vtest");
	r->vd.priv = r;
	if (irq_router_init(&r->router, -1, IRQ_ROUTES_MAX) ||
	    pci_bus_init(&r->pci, &r->pio, &r->mmio, &r->router, -1) ||
	    virtio_dev_init(&r->vd, &echo_ops, &r->as, NQ, QSZ, 1ULL << 3, CFG_LEN))
		abort();
	memcpy(r->vd.config, "kiteCFG!", CFG_LEN);
	if (virtio_pci_attach(&r->vp, &r->vd, &r->pci, SLOT))
		abort();
	bus_set_live(&r->pio);
	bus_set_live(&r->mmio);
	if (virtio_dev_start(&r->vd))
		abort();
	find_caps(r);
	read_bars(r);
	return r;
}

static void rig_free(struct rig *r)
{
	virtio_dev_stop(&r->vd);
	virtio_pci_detach(&r->vp);
	virtio_dev_destroy(&r->vd);
	virtio_pci_release(&r->vp);
	pci_bus_destroy(&r->pci);
	irq_router_destroy(&r->router);
	bus_destroy(&r->pio);
	bus_destroy(&r->mmio);
	as_destroy(&r->as);
	free(r->ram);
	free(r);
}

static uint8_t status_rd(struct rig *r)
{
	return (uint8_t)common_rd(r, VPCI_STATUS, 1);
}

/* The driver's sequence up to DRIVER_OK with queue 0 at DESC/AVAIL/USED. */
static uint8_t driver_init(struct rig *r)
{
	int i;

	common_wr(r, VPCI_STATUS, 0, 1);
	for (i = 0; i < 2000 && status_rd(r); i++)
		sleep_ms(1);
	common_wr(r, VPCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	common_wr(r, VPCI_GFSELECT, 1, 4);
	common_wr(r, VPCI_GF, 1, 4);		/* VERSION_1 */
	common_wr(r, VPCI_GFSELECT, 0, 4);
	common_wr(r, VPCI_GF, 0, 4);
	common_wr(r, VPCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		  VIRTIO_STATUS_FEATURES_OK, 1);
	common_wr(r, VPCI_Q_SELECT, 0, 2);
	common_wr(r, VPCI_Q_SIZE, QSZ, 2);
	common_wr(r, VPCI_Q_DESC, DESC, 8);
	common_wr(r, VPCI_Q_DRIVER, AVAIL, 8);
	common_wr(r, VPCI_Q_DEVICE, USED, 8);
	common_wr(r, VPCI_Q_ENABLE, 1, 2);
	common_wr(r, VPCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
	r->avail_idx = 0;
	return status_rd(r);
}

/* One writable descriptor made available on queue 0, then the notify write. */
static int submit_wait(struct rig *r, uint16_t want_used)
{
	uint8_t *d = r->ram + DESC;
	uint64_t addr = BUF;
	uint32_t len = 64;
	uint16_t flags = 2, *avail = (uint16_t *)(r->ram + AVAIL);	/* WRITE */
	uint16_t *used_idx = (uint16_t *)(r->ram + USED + 2);
	int i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	avail[2 + r->avail_idx % QSZ] = 0;
	__atomic_store_n(&avail[1], ++r->avail_idx, __ATOMIC_RELEASE);
	wr(&r->mmio, r->bar4 + VIRTIO_PCI_NOTIFY_OFF + 0 * r->caps.notify_mult, 0, 2);
	for (i = 0; i < 2000 && __atomic_load_n(used_idx, __ATOMIC_ACQUIRE) != want_used; i++)
		sleep_ms(1);
	return __atomic_load_n(used_idx, __ATOMIC_ACQUIRE) == want_used ? 0 : -1;
}

static uint64_t wait_count(uint64_t *counter, uint64_t want)
{
	int i;

	for (i = 0; i < 2000 && __atomic_load_n(counter, __ATOMIC_ACQUIRE) < want; i++)
		sleep_ms(1);
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

static uint64_t wait_msix(struct rig *r, unsigned int vector, uint64_t want)
{
	int i;

	for (i = 0; i < 2000 && msix_sent(&r->vp.msix, vector) < want; i++)
		sleep_ms(1);
	return msix_sent(&r->vp.msix, vector);
}

/* ---- tests ---- */

static void device_identifies_as_modern_virtio(void)
{
	struct rig *r = rig_new();

	CHECK_EQ(cfg_rd(r, PCI_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(cfg_rd(r, PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_RNG);
	CHECK_EQ(cfg_rd(r, PCI_REVISION_ID, 1), 1);
	CHECK_EQ(cfg_rd(r, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(cfg_rd(r, PCI_SUBSYSTEM_ID, 2), 0x1100);
	CHECK_EQ(cfg_rd(r, PCI_REVISION_ID, 4) >> 8, 0xff0000);
	CHECK_EQ(cfg_rd(r, PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ(cfg_rd(r, PCI_BAR0 + 16, 4) & 0xf, PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH);
	CHECK_EQ(r->bar4 % VIRTIO_PCI_BAR_SIZE, 0);
	CHECK(r->bar4 >= X86_PCI_MMIO_START && r->bar1 >= X86_PCI_MMIO_START);
	rig_free(r);
}

static void capabilities_describe_every_structure_in_bar_4(void)
{
	struct rig *r = rig_new();
	struct caps *c = &r->caps;

	CHECK(c->common && c->isr && c->device && c->notify && c->pci_cfg && c->msix);
	CHECK_EQ(cfg_rd(r, c->common + 4, 1), VIRTIO_PCI_BAR);
	CHECK_EQ(cfg_rd(r, c->common + 8, 4), VIRTIO_PCI_COMMON_OFF);
	CHECK_EQ(cfg_rd(r, c->common + 12, 4), VPCI_COMMON_LEN);
	CHECK_EQ(cfg_rd(r, c->isr + 8, 4), VIRTIO_PCI_ISR_OFF);
	CHECK_EQ(cfg_rd(r, c->device + 8, 4), VIRTIO_PCI_DEVICE_OFF);
	CHECK_EQ(cfg_rd(r, c->device + 12, 4), CFG_LEN);
	CHECK_EQ(cfg_rd(r, c->notify + 2, 1), VIRTIO_PCI_NOTIFY_CAP_LEN);
	CHECK_EQ(cfg_rd(r, c->notify + 8, 4), VIRTIO_PCI_NOTIFY_OFF);
	CHECK_EQ(cfg_rd(r, c->notify + 12, 4), NQ * 4);
	CHECK_EQ(c->notify_mult, 4);
	CHECK_EQ(cfg_rd(r, c->msix + 2, 2) & 0x7ff, NQ);	/* NQ + 1 vectors */
	CHECK_EQ(cfg_rd(r, c->msix + 4, 4), VIRTIO_PCI_MSIX_TABLE | VIRTIO_PCI_MSIX_BAR);
	rig_free(r);
}

static void features_are_negotiated_through_common_cfg(void)
{
	struct rig *r = rig_new();

	common_wr(r, VPCI_DFSELECT, 0, 4);
	CHECK_EQ(common_rd(r, VPCI_DF, 4) & (1u << 3), 1u << 3);
	common_wr(r, VPCI_DFSELECT, 1, 4);
	CHECK_EQ(common_rd(r, VPCI_DF, 4) & 1, 1);		/* VERSION_1 */
	common_wr(r, VPCI_DFSELECT, 2, 4);
	CHECK_EQ(common_rd(r, VPCI_DF, 4), 0);
	/* Without VERSION_1 FEATURES_OK does not stick. */
	common_wr(r, VPCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	common_wr(r, VPCI_GFSELECT, 0, 4);
	common_wr(r, VPCI_GF, 1u << 3, 4);
	common_wr(r, VPCI_STATUS, 0x0b, 1);
	CHECK_EQ(status_rd(r), 0x03);
	common_wr(r, VPCI_GFSELECT, 1, 4);
	common_wr(r, VPCI_GF, 1, 4);
	CHECK_EQ(common_rd(r, VPCI_GF, 4), 1);
	common_wr(r, VPCI_STATUS, 0x0b, 1);
	CHECK_EQ(status_rd(r), 0x0b);
	CHECK_EQ(r->vd.guest_features, (1ULL << 32) | (1ULL << 3));
	rig_free(r);
}

static void queue_registers_follow_queue_select(void)
{
	struct rig *r = rig_new();

	CHECK_EQ(common_rd(r, VPCI_NUM_QUEUES, 2), NQ);
	common_wr(r, VPCI_Q_SELECT, 1, 2);
	CHECK_EQ(common_rd(r, VPCI_Q_SIZE, 2), QSZ);
	CHECK_EQ(common_rd(r, VPCI_Q_NOTIFY_OFF, 2), 1);
	CHECK_EQ(common_rd(r, VPCI_Q_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	common_wr(r, VPCI_Q_SIZE, 8, 2);
	common_wr(r, VPCI_Q_DESC, 0x12345000, 4);		/* two dwords */
	common_wr(r, VPCI_Q_DESC + 4, 0x1, 4);
	common_wr(r, VPCI_Q_DRIVER, 0x223344556000ULL, 8);	/* one qword */
	common_wr(r, VPCI_Q_MSIX_VECTOR, 1, 2);
	CHECK_EQ(common_rd(r, VPCI_Q_SIZE, 2), 8);
	CHECK_EQ(common_rd(r, VPCI_Q_DESC, 8), 0x112345000ULL);
	CHECK_EQ(common_rd(r, VPCI_Q_DRIVER + 4, 4), 0x2233);
	CHECK_EQ(common_rd(r, VPCI_Q_MSIX_VECTOR, 2), 1);
	CHECK_EQ(r->vd.queues[1].desc, 0x112345000ULL);
	common_wr(r, VPCI_Q_MSIX_VECTOR, NQ + 1, 2);		/* no such vector */
	CHECK_EQ(common_rd(r, VPCI_Q_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	common_wr(r, VPCI_MSIX_CONFIG, NQ, 2);
	CHECK_EQ(common_rd(r, VPCI_MSIX_CONFIG, 2), NQ);
	common_wr(r, VPCI_Q_SELECT, NQ, 2);			/* out of range */
	CHECK_EQ(common_rd(r, VPCI_Q_SIZE, 2), 0);
	CHECK_EQ(common_rd(r, VPCI_Q_SELECT, 2), NQ);
	common_wr(r, VPCI_NUM_QUEUES, 7, 2);			/* read-only */
	CHECK_EQ(common_rd(r, VPCI_NUM_QUEUES, 2), NQ);
	rig_free(r);
}

static void queue_registers_freeze_after_driver_ok(void)
{
	struct rig *r = rig_new();

	CHECK(driver_init(r) & VIRTIO_STATUS_DRIVER_OK);
	common_wr(r, VPCI_Q_SELECT, 0, 2);
	common_wr(r, VPCI_Q_SIZE, 4, 2);
	common_wr(r, VPCI_Q_DESC, 0x40000, 8);
	CHECK_EQ(common_rd(r, VPCI_Q_SIZE, 2), QSZ);
	CHECK_EQ(common_rd(r, VPCI_Q_DESC, 8), DESC);
	CHECK_EQ(common_rd(r, VPCI_Q_ENABLE, 2), 1);
	rig_free(r);
}

static void notify_write_reaches_the_queue_and_intx_isr_reads_clear(void)
{
	struct rig *r = rig_new();
	uint64_t isr = r->bar4 + VIRTIO_PCI_ISR_OFF;

	CHECK(driver_init(r) & VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(submit_wait(r, 1), 0);
	CHECK(wait_count(&r->vp.pdev.intx.raised, 1) >= 1);
	CHECK(cfg_rd(r, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	CHECK_EQ(rd(&r->mmio, isr, 1), VIRTIO_ISR_QUEUE);
	CHECK_EQ(rd(&r->mmio, isr, 1), 0);			/* read clears */
	CHECK_EQ(cfg_rd(r, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	CHECK_EQ(__atomic_load_n(&r->vp.pdev.intx.level, __ATOMIC_RELAXED), 0);
	CHECK(__atomic_load_n(&r->vd.queues[0].kicks, __ATOMIC_RELAXED) >= 1);
	CHECK_EQ(submit_wait(r, 2), 0);
	CHECK(wait_count(&r->vp.pdev.intx.raised, 2) >= 2);
	rig_free(r);
}

static void msix_vector_replaces_intx_when_enabled(void)
{
	struct rig *r = rig_new();
	uint64_t entry = r->bar1 + VIRTIO_PCI_MSIX_TABLE + 1 * MSIX_ENTRY_SIZE;
	uint64_t raised;

	cfg_wr(r, r->caps.msix + 2, MSIX_CTRL_ENABLE, 2);
	wr(&r->mmio, entry, 0xfee00000, 4);
	wr(&r->mmio, entry + 8, 0x4051, 4);
	wr(&r->mmio, entry + 12, 0, 4);			/* unmask */
	CHECK(driver_init(r) & VIRTIO_STATUS_DRIVER_OK);
	common_wr(r, VPCI_Q_SELECT, 0, 2);
	common_wr(r, VPCI_Q_MSIX_VECTOR, 1, 2);		/* writable after DRIVER_OK too */
	raised = __atomic_load_n(&r->vp.pdev.intx.raised, __ATOMIC_RELAXED);
	CHECK_EQ(submit_wait(r, 1), 0);
	CHECK_EQ(wait_msix(r, 1, 1), 1);
	CHECK_EQ(msix_sent(&r->vp.msix, 1), 1);
	CHECK_EQ(__atomic_load_n(&r->vp.pdev.intx.raised, __ATOMIC_RELAXED), raised);
	CHECK_EQ(rd(&r->mmio, r->bar4 + VIRTIO_PCI_ISR_OFF, 1), 0);
	/* NO_VECTOR with MSI-X on: no interrupt at all. */
	common_wr(r, VPCI_Q_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR, 2);
	CHECK_EQ(submit_wait(r, 2), 0);
	sleep_ms(20);
	CHECK_EQ(msix_sent(&r->vp.msix, 1), 1);
	CHECK_EQ(__atomic_load_n(&r->vp.pdev.intx.raised, __ATOMIC_RELAXED), raised);
	rig_free(r);
}

static void config_change_sets_isr_bit_and_generation(void)
{
	struct rig *r = rig_new();
	uint64_t gen = common_rd(r, VPCI_CFG_GENERATION, 1);

	virtio_config_changed(&r->vd);
	CHECK_EQ(common_rd(r, VPCI_CFG_GENERATION, 1), (gen + 1) & 0xff);
	CHECK_EQ(rd(&r->mmio, r->bar4 + VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_CONFIG);
	CHECK(__atomic_load_n(&r->vp.pdev.intx.raised, __ATOMIC_RELAXED) >= 1);
	rig_free(r);
}

static void device_cfg_window_reads_and_writes_config_space(void)
{
	struct rig *r = rig_new();
	uint64_t dev = r->bar4 + VIRTIO_PCI_DEVICE_OFF;

	CHECK_EQ(rd(&r->mmio, dev, 4), 0x6574696b);		/* "kite" */
	CHECK_EQ(rd(&r->mmio, dev + 4, 1), 'C');
	CHECK_EQ(rd(&r->mmio, dev + CFG_LEN, 4), 0);		/* beyond: zeros */
	wr(&r->mmio, dev + 4, 0x21212121, 4);
	CHECK_EQ(r->cfg_writes, 1);
	CHECK_EQ(rd(&r->mmio, dev + 4, 4), 0x21212121);
	rig_free(r);
}

static void pci_cfg_capability_reaches_bar_registers(void)
{
	struct rig *r = rig_new();
	uint32_t c = r->caps.pci_cfg;

	cfg_wr(r, c + 4, VIRTIO_PCI_BAR, 1);
	cfg_wr(r, c + 8, VIRTIO_PCI_COMMON_OFF + VPCI_NUM_QUEUES, 4);
	cfg_wr(r, c + 12, 2, 4);
	CHECK_EQ(cfg_rd(r, c + 16, 2), NQ);
	/* A write through the window: queue_select. */
	cfg_wr(r, c + 8, VIRTIO_PCI_COMMON_OFF + VPCI_Q_SELECT, 4);
	cfg_wr(r, c + 16, 1, 4);
	CHECK_EQ(common_rd(r, VPCI_Q_SELECT, 2), 1);
	/* A malformed length reaches nothing. */
	cfg_wr(r, c + 12, 3, 4);
	cfg_wr(r, c + 16, 0, 4);
	CHECK_EQ(common_rd(r, VPCI_Q_SELECT, 2), 1);
	rig_free(r);
}

static void registers_follow_bar_4_when_the_guest_moves_it(void)
{
	struct rig *r = rig_new();
	uint64_t old = r->bar4, to = X86_PCI_MMIO_START + 0x400000;

	cfg_wr(r, PCI_BAR0 + 16, to, 4);
	cfg_wr(r, PCI_BAR0 + 20, 0, 4);
	read_bars(r);
	CHECK_EQ(r->bar4, to);
	CHECK_EQ(common_rd(r, VPCI_NUM_QUEUES, 2), NQ);
	CHECK_EQ(rd(&r->mmio, old + VPCI_NUM_QUEUES, 2), 0xffff);
	rig_free(r);
}

int main(void)
{
	RUN(device_identifies_as_modern_virtio);
	RUN(capabilities_describe_every_structure_in_bar_4);
	RUN(features_are_negotiated_through_common_cfg);
	RUN(queue_registers_follow_queue_select);
	RUN(queue_registers_freeze_after_driver_ok);
	RUN(notify_write_reaches_the_queue_and_intx_isr_reads_clear);
	RUN(msix_vector_replaces_intx_when_enabled);
	RUN(config_change_sets_isr_bit_and_generation);
	RUN(device_cfg_window_reads_and_writes_config_space);
	RUN(pci_cfg_capability_reaches_bar_registers);
	RUN(registers_follow_bar_4_when_the_guest_moves_it);
	return harness_done();
}
