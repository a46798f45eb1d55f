// SPDX-License-Identifier: MIT
/*
 * Moving a virtio-blk over virtio-pci to a second, identical machine through
 * its STATE attributes: the guest moved BAR 4, enabled MSI-X with a vector
 * per queue, set INTx-disable and its interrupt line; after the restore the
 * second machine's bus decodes the BAR where the guest put it, its MSI-X
 * table routes the same messages, and the driver's next request completes
 * with the right data and reaches the queue's vector.  Hostile transport
 * state is refused and changes nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "core/addr_space.h"
#include "core/irq_router.h"
#include "devices/virtio/virtio_devs.h"
#include "harness.h"
#include "virtio/virtio_pci.h"

#define RAM_SIZE	(4u << 20)
#define SLOT		3
#define QSZ		16
#define DESC		0x10000ULL
#define AVAIL		0x11000ULL
#define USED		0x12000ULL
#define BUF		0x20000ULL
#define DATA		(BUF + 0x1000)
#define STATUS		(BUF + 0x100)
#define MOVED_BAR4	(X86_PCI_MMIO_START + 0x400000)

/* transport_state offsets (virtio/pci.c): version, id, u16 config length. */
#define TS_CFG		4
#define TS_VECTORS	(TS_CFG + PCI_CFG_LEGACY_SIZE)
#define TS_TABLE	(TS_VECTORS + 2)

struct rig {
	struct addr_space as;
	uint8_t *ram;
	struct bus pio, mmio;
	struct irq_router router;
	struct pci_bus pci;
	struct virtio_dev *vd;
	struct virtio_pci vp;		/* referenced by the bus: the rig stays put */
	uint32_t msix_cap;
	uint64_t bar4, bar1;
	uint16_t avail_idx;
};

#include "pci_rig.h"
#include "split_ring.h"

/* ---- a guest's view ---- */

static void read_bars(struct rig *r)
{
	r->bar4 = (cfg_rd(r, PCI_BAR0 + 16, 4) & ~0xfULL) | cfg_rd(r, PCI_BAR0 + 20, 4) << 32;
	r->bar1 = cfg_rd(r, PCI_BAR0 + 4, 4) & ~0xfULL;
}

static uint32_t find_msix(struct rig *r)
{
	uint32_t p = (uint32_t)cfg_rd(r, PCI_CAPABILITY_LIST, 1);

	for (; p; p = (uint32_t)cfg_rd(r, p + 1, 1))
		if (cfg_rd(r, p, 1) == PCI_CAP_ID_MSIX)
			return p;
	return 0;
}

/* A machine with a virtio-blk on @path at 00:SLOT.0; @start: its thread runs. */
static struct rig *rig_new(const char *path, bool start)
{
	struct virtio_blk_config_in cfg = { .id = "vda", .queues = 1 };
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	snprintf(cfg.path, sizeof(cfg.path), "%s", path);
	as_init(&r->as);
	r->ram = aligned_alloc(4096, RAM_SIZE);
	if (!r->ram || as_add_region(&r->as, 0, RAM_SIZE, r->ram, -1, 0, 0))
		abort();
	memset(r->ram, 0, RAM_SIZE);
	bus_init(&r->pio, "pio");
	bus_init(&r->mmio, "mmio");
	if (irq_router_init(&r->router, -1, IRQ_ROUTES_MAX) ||
	    pci_bus_init(&r->pci, &r->pio, &r->mmio, &r->router, -1) ||
	    virtio_blk_create(&cfg, &r->as, &r->vd) ||
	    virtio_pci_attach(&r->vp, r->vd, &r->pci, SLOT))
		abort();
	bus_set_live(&r->pio);
	bus_set_live(&r->mmio);
	if (start && virtio_dev_start(r->vd))
		abort();
	r->msix_cap = find_msix(r);
	read_bars(r);
	return r;
}

static void rig_free(struct rig *r)
{
	virtio_dev_stop(r->vd);
	virtio_pci_detach(&r->vp);
	virtio_dev_destroy(r->vd);
	virtio_pci_release(&r->vp);
	pci_bus_destroy(&r->pci);
	irq_router_destroy(&r->router);
	bus_destroy(&r->pio);
	bus_destroy(&r->mmio);
	as_destroy(&r->as);
	free(r->ram);
	free(r);
}

/* What a guest does: move BAR 4, MSI-X on (vector 0 config, 1 queue),
 * INTx disabled, then the virtio driver's initialisation. */
static void guest_setup(struct rig *r)
{
	uint64_t t = r->bar1 + VIRTIO_PCI_MSIX_TABLE;
	unsigned int v;

	cfg_wr(r, PCI_BAR0 + 16, MOVED_BAR4, 4);
	cfg_wr(r, PCI_BAR0 + 20, 0, 4);
	read_bars(r);
	cfg_wr(r, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	       PCI_COMMAND_INTX_DISABLE, 2);
	cfg_wr(r, PCI_INTERRUPT_LINE, 0x0b, 1);
	cfg_wr(r, r->msix_cap + 2, MSIX_CTRL_ENABLE, 2);
	for (v = 0; v < 2; v++) {
		wr(&r->mmio, t + v * MSIX_ENTRY_SIZE, 0xfee00000 + (v << 12), 4);
		wr(&r->mmio, t + v * MSIX_ENTRY_SIZE + 8, 0x40 + v, 4);
		wr(&r->mmio, t + v * MSIX_ENTRY_SIZE + 12, 0, 4);	/* unmask */
	}
	common_wr(r, VPCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	common_wr(r, VPCI_GFSELECT, 1, 4);
	common_wr(r, VPCI_GF, 1, 4);				/* VERSION_1 */
	common_wr(r, VPCI_GFSELECT, 0, 4);
	common_wr(r, VPCI_GF, (1u << 9) | (1u << 29), 4);	/* FLUSH, EVENT_IDX */
	common_wr(r, VPCI_STATUS, 0x0b, 1);
	common_wr(r, VPCI_MSIX_CONFIG, 0, 2);
	common_wr(r, VPCI_Q_SELECT, 0, 2);
	common_wr(r, VPCI_Q_SIZE, QSZ, 2);
	common_wr(r, VPCI_Q_DESC, DESC, 8);
	common_wr(r, VPCI_Q_DRIVER, AVAIL, 8);
	common_wr(r, VPCI_Q_DEVICE, USED, 8);
	common_wr(r, VPCI_Q_MSIX_VECTOR, 1, 2);
	common_wr(r, VPCI_Q_ENABLE, 1, 2);
	common_wr(r, VPCI_STATUS, 0x0f, 1);
	r->avail_idx = 0;
}

/* A block request through descriptors 0..2 and queue 0's notify address. */
static int blk_request(struct rig *r, uint32_t type, uint64_t sector, uint32_t len)
{
	uint16_t *avail = (uint16_t *)(r->ram + AVAIL);
	uint16_t want = (uint16_t)(r->avail_idx + 1);
	int i;

	memset(r->ram + BUF, 0, 16);
	memcpy(r->ram + BUF, &type, 4);
	memcpy(r->ram + BUF + 8, &sector, 8);
	r->ram[STATUS] = 0xff;
	set_desc(r, 0, BUF, 16, 1, 1);
	set_desc(r, 1, DATA, len, (uint16_t)(1 | (type == 0 ? 2 : 0)), 2);
	set_desc(r, 2, STATUS, 1, 2, 0);
	avail[2 + r->avail_idx % QSZ] = 0;
	__atomic_store_n(&avail[1], ++r->avail_idx, __ATOMIC_RELEASE);
	wr(&r->mmio, r->bar4 + VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	for (i = 0; i < 3000 && used_idx(r) != want; i++)
		sleep_ms(1);
	return used_idx(r) == want ? r->ram[STATUS] : -1;
}

static int make_disk(char *path)
{
	int fd;

	snprintf(path, VBLK_PATH_MAX, "/tmp/kite-pcirestore-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, 1 << 20)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ---- state transfer ---- */

#define NSTATE 2
static const char *const state_attrs[NSTATE] = { "transport_state", "virtio_state" };

static int save(struct rig *r, struct dev_value *v)
{
	unsigned int i;

	for (i = 0; i < NSTATE; i++)
		if (dev_attr_get(&r->vd->dev, state_attrs[i], &v[i]))
			return -1;
	return 0;
}

static int load(struct rig *r, const struct dev_value *v)
{
	unsigned int i;

	for (i = 0; i < NSTATE; i++) {
		if (dev_attr_set(&r->vd->dev, state_attrs[i], &v[i], true)) {
			printf("# %s: %s\n", state_attrs[i], err_msg());
			return -1;
		}
	}
	return 0;
}

static void release(struct dev_value *v)
{
	unsigned int i;

	for (i = 0; i < NSTATE; i++)
		dev_value_release(&v[i]);
}

/* A source machine after 20 requests (the ring wrapped), paused, and its state. */
static struct rig *paused_source(const char *path, uint8_t *pattern, size_t len,
				 struct dev_value *st)
{
	struct rig *a = rig_new(path, true);
	unsigned int i, k;

	guest_setup(a);
	for (i = 0; i < 19; i++) {
		for (k = 0; k < len; k++)
			a->ram[DATA + k] = (uint8_t)(k * 7 + i);
		if (blk_request(a, 1, 8, (uint32_t)len))
			return NULL;
	}
	memcpy(pattern, a->ram + DATA, len);
	if (blk_request(a, 4, 0, 0))
		return NULL;
	virtio_dev_pause(a->vd);
	return save(a, st) ? NULL : a;
}

static void restored_blk_over_pci_keeps_bars_and_msix_routes(void)
{
	static uint8_t pattern[2048];
	struct dev_value st[NSTATE], again[NSTATE];
	char path[VBLK_PATH_MAX];
	struct rig *a, *b;
	uint64_t sent, raised;
	unsigned int i;

	CHECK_EQ(make_disk(path), 0);
	a = paused_source(path, pattern, sizeof(pattern), st);
	CHECK(a != NULL);
	CHECK_EQ(used_idx(a), 20);
	CHECK(msix_sent(&a->vp.msix, 1) >= 1);
	b = rig_new(path, true);
	CHECK(b->bar4 != MOVED_BAR4);			/* placed by the build */
	memcpy(b->ram, a->ram, RAM_SIZE);
	b->avail_idx = a->avail_idx;
	virtio_dev_pause(b->vd);
	CHECK_EQ(load(b, st), 0);
	CHECK_EQ(save(b, again), 0);
	for (i = 0; i < NSTATE; i++)
		CHECK(st[i].len == again[i].len && !memcmp(st[i].bytes, again[i].bytes, st[i].len));
	release(again);
	virtio_dev_resume(b->vd);

	/* The bus: BAR 4 where the guest moved it, config as it left it. */
	read_bars(b);
	CHECK_EQ(b->bar4, MOVED_BAR4);
	CHECK_EQ(common_rd(b, VPCI_NUM_QUEUES, 2), 1);
	CHECK_EQ(common_rd(b, VPCI_STATUS, 1), 0x0f);
	CHECK_EQ(common_rd(b, VPCI_Q_MSIX_VECTOR, 2), 1);
	CHECK_EQ(cfg_rd(b, PCI_COMMAND, 2), cfg_rd(a, PCI_COMMAND, 2));
	CHECK_EQ(cfg_rd(b, PCI_INTERRUPT_LINE, 1), 0x0b);
	CHECK(msix_enabled(&b->vp.msix));
	CHECK_EQ(rd(&b->mmio, b->bar1 + VIRTIO_PCI_MSIX_TABLE + MSIX_ENTRY_SIZE + 8, 4), 0x41);
	CHECK(b->vp.msix.vec[1].routed);		/* a live vector has its route */
	CHECK_EQ(b->vp.msix.vec[1].route_addr, 0xfee01000);

	/* The driver's next request: data, and the queue's vector. */
	sent = msix_sent(&b->vp.msix, 1);
	raised = __atomic_load_n(&b->vp.pdev.intx.raised, __ATOMIC_RELAXED);
	memset(b->ram + DATA, 0, sizeof(pattern));
	CHECK_EQ(blk_request(b, 0, 8, sizeof(pattern)), 0);
	CHECK_EQ(used_idx(b), 21);
	CHECK(!memcmp(b->ram + DATA, pattern, sizeof(pattern)));
	for (i = 0; i < 2000 && msix_sent(&b->vp.msix, 1) == sent; i++)
		sleep_ms(1);
	CHECK_EQ(msix_sent(&b->vp.msix, 1), sent + 1);
	CHECK_EQ(__atomic_load_n(&b->vp.pdev.intx.raised, __ATOMIC_RELAXED), raised);
	release(st);
	rig_free(b);
	rig_free(a);
	unlink(path);
}

/* Without MSI-X, a pending ISR asserts INTA# again on the new machine. */
static void pending_isr_reasserts_intx_after_restore(void)
{
	struct dev_value st[NSTATE];
	char path[VBLK_PATH_MAX];
	struct rig *a, *b;

	CHECK_EQ(make_disk(path), 0);
	a = rig_new(path, true);
	guest_setup(a);
	cfg_wr(a, a->msix_cap + 2, 0, 2);		/* MSI-X off: INTx */
	cfg_wr(a, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	CHECK_EQ(blk_request(a, 4, 0, 0), 0);
	virtio_dev_pause(a->vd);
	CHECK_EQ(save(a, st), 0);
	b = rig_new(path, true);
	memcpy(b->ram, a->ram, RAM_SIZE);
	virtio_dev_pause(b->vd);
	CHECK_EQ(__atomic_load_n(&b->vp.pdev.intx.raised, __ATOMIC_RELAXED), 0);
	CHECK_EQ(load(b, st), 0);
	CHECK_EQ(__atomic_load_n(&b->vp.pdev.intx.raised, __ATOMIC_RELAXED), 1);
	CHECK(cfg_rd(b, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	virtio_dev_resume(b->vd);
	read_bars(b);
	CHECK_EQ(rd(&b->mmio, b->bar4 + VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_QUEUE);
	release(st);
	rig_free(b);
	rig_free(a);
	unlink(path);
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* @good with @n bytes at @off set to @val is refused with @why; nothing changes. */
static int refused(struct rig *r, const char *attr, const struct dev_value *good,
		   unsigned int off, unsigned int n, uint64_t val, const char *why)
{
	struct dev_value bad = *good, before, after;
	static uint8_t buf[8192];
	int ok;

	memcpy(buf, good->bytes, good->len);
	put_le(buf + off, val, n);
	bad.bytes = buf;
	if (dev_attr_get(&r->vd->dev, attr, &before))
		return 0;
	ok = dev_attr_set(&r->vd->dev, attr, &bad, true) == -EINVAL &&
	     strstr(err_msg(), why) != NULL;
	if (!ok)
		printf("# %s: \"%s\" (wanted \"%s\")\n", attr, err_msg(), why);
	if (!dev_attr_get(&r->vd->dev, attr, &after)) {
		ok = ok && before.len == after.len && !memcmp(before.bytes, after.bytes, after.len);
		dev_value_release(&after);
	}
	dev_value_release(&before);
	return ok;
}

static void hostile_transport_state_is_refused_and_changes_nothing(void)
{
	static uint8_t pattern[512];
	struct dev_value st[NSTATE];
	char path[VBLK_PATH_MAX];
	const unsigned int pba = TS_TABLE + 2 * MSIX_ENTRY_SIZE;
	unsigned int q;
	struct rig *a, *b;

	CHECK_EQ(make_disk(path), 0);
	a = paused_source(path, pattern, sizeof(pattern), st);
	CHECK(a != NULL);
	CHECK_EQ(st[0].len, pba + 8);
	b = rig_new(path, false);
	CHECK(refused(b, "transport_state", &st[0], TS_CFG + PCI_VENDOR_ID, 2, 0x8086,
		      "transport_state: config byte 0x00 is 0x86, this device's is 0xf4"));
	CHECK(refused(b, "transport_state", &st[0], TS_CFG + PCI_CLASS_PROG + 2, 1, 0x02,
		      "config byte 0x0b"));
	CHECK(refused(b, "transport_state", &st[0], 2, 2, 255, "255 bytes of PCI config space"));
	CHECK(refused(b, "transport_state", &st[0], TS_VECTORS, 2, 5,
		      "5 MSI-X vectors, this device has 2"));
	CHECK(refused(b, "transport_state", &st[0], TS_TABLE + 12, 4, 3,
		      "MSI-X vector 0: reserved control bits 0x3"));
	CHECK(refused(b, "transport_state", &st[0], pba, 8, 1ULL << 7,
		      "MSI-X pending bit 7: the device has 2 vectors"));
	CHECK(refused(b, "transport_state", &st[0], 1, 1, VIRTIO_TID_MMIO,
		      "written by virtio-mmio (1); this device is on virtio-pci"));
	CHECK(refused(b, "transport_state", &st[0], 0, 1, 9, "layout version 9 is not known"));
	/* A queue vector the device does not have. */
	q = 33 + 60;
	CHECK(refused(b, "virtio_state", &st[1], q + 2, 2, 2, "queue 0: MSI-X vector 2 (the "
		      "device has 2)"));
	CHECK(refused(b, "virtio_state", &st[1], 24, 2, 7, "config MSI-X vector 7"));
	CHECK(b->bar4 != MOVED_BAR4);
	read_bars(b);
	CHECK(b->bar4 != MOVED_BAR4);
	CHECK(!msix_enabled(&b->vp.msix));
	/* The good values restore (the thread not started: a VM never run). */
	memcpy(b->ram, a->ram, RAM_SIZE);
	b->avail_idx = a->avail_idx;
	CHECK_EQ(load(b, st), 0);
	CHECK_EQ(virtio_dev_start(b->vd), 0);
	read_bars(b);
	CHECK_EQ(b->bar4, MOVED_BAR4);
	memset(b->ram + DATA, 0, sizeof(pattern));
	CHECK_EQ(blk_request(b, 0, 8, sizeof(pattern)), 0);
	CHECK(!memcmp(b->ram + DATA, pattern, sizeof(pattern)));
	release(st);
	rig_free(b);
	rig_free(a);
	unlink(path);
}

int main(void)
{
	RUN(restored_blk_over_pci_keeps_bars_and_msix_routes);
	RUN(pending_isr_reasserts_intx_after_restore);
	RUN(hostile_transport_state_is_refused_and_changes_nothing);
	return harness_done();
}
