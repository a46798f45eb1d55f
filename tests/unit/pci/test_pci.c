// SPDX-License-Identifier: MIT
/*
 * Unit tests of the PCI host bridge and MSI-X, driven through the PIO and
 * MMIO buses as a vCPU would (no KVM: vm_fd -1, the router builds its table
 * only, MSI-X messages are counted).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "core/bus.h"
#include "core/irq_router.h"
#include "devices/irq.h"
#include "harness.h"
#include "pci/msix.h"
#include "pci/pci.h"

#define TEST_SLOT	3
#define VEC		4
#define TABLE_OFF	0x800
#define PBA_OFF		0xc00
#define BAR0_SIZE	0x1000
#define BAR2_SIZE	0x4000

struct probe {
	int reads, writes;
	uint64_t offset;
	uint32_t size;
	uint64_t wval;
};

struct moved {
	int calls;
	unsigned int bar;
	uint64_t old_addr, new_addr;
};

/* One machine: the buses, the router, the bridge and a test device. */
struct rig {
	struct bus pio, mmio;
	struct irq_router router;
	struct pci_bus pci;
	struct pci_dev dev;
	struct pci_msix msix;
	struct probe p0, p2;
	struct moved moved;
	uint32_t vndr_cap;
};

static void probe_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct probe *p = opaque;

	p->reads++;
	p->offset = offset;
	p->size = size;
	memset(data, 0x5a, size);
}

static void probe_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct probe *p = opaque;

	p->writes++;
	p->offset = offset;
	p->size = size;
	p->wval = 0;
	memcpy(&p->wval, data, size);
}

static const struct bus_ops probe_ops = { .read = probe_read, .write = probe_write };

static void test_bar_moved(struct pci_dev *pdev, unsigned int bar, uint64_t old_addr,
			   uint64_t new_addr)
{
	struct moved *m = pdev->opaque;

	m->calls++;
	m->bar = bar;
	m->old_addr = old_addr;
	m->new_addr = new_addr;
}

static const struct pci_dev_ops test_dev_ops = { .bar_moved = test_bar_moved };

static const struct pci_dev_id test_id = {
	.vendor = 0x1234, .device = 0x5678, .subsys_vendor = 0x1af4, .subsys_id = 0x1100,
	.class_code = 0xff0000, .revision = 2,
};

/* BAR0: 32-bit 4 KiB, probe at [0, 0x100), MSI-X table/PBA; BAR2: 64-bit
 * prefetchable 16 KiB, all probe; a vendor capability then MSI-X. */
static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	bus_init(&r->pio, "pio");
	bus_init(&r->mmio, "mmio");
	if (irq_router_init(&r->router, -1, IRQ_ROUTES_MAX) ||
	    pci_bus_init(&r->pci, &r->pio, &r->mmio, &r->router, -1))
		abort();
	pci_dev_init(&r->dev, "test", &test_id, &test_dev_ops, &r->moved);
	if (pci_dev_add_bar(&r->dev, 0, BAR0_SIZE, 0) ||
	    pci_dev_add_bar(&r->dev, 2, BAR2_SIZE, PCI_BAR_F_64 | PCI_BAR_F_PREFETCH) ||
	    pci_bar_add_region(&r->dev, 0, 0, 0x100, &probe_ops, &r->p0) ||
	    pci_bar_add_region(&r->dev, 2, 0, BAR2_SIZE, &probe_ops, &r->p2) ||
	    pci_dev_add_cap(&r->dev, PCI_CAP_ID_VNDR, 8, &r->vndr_cap) ||
	    msix_init(&r->msix, &r->dev, VEC, 0, TABLE_OFF, PBA_OFF) ||
	    pci_bus_add(&r->pci, &r->dev, TEST_SLOT))
		abort();
	return r;
}

static void rig_free(struct rig *r)
{
	msix_destroy(&r->msix);
	pci_bus_destroy(&r->pci);
	irq_router_destroy(&r->router);
	bus_destroy(&r->pio);
	bus_destroy(&r->mmio);
	free(r);
}

static uint64_t le_val(const uint8_t *d, uint32_t size)
{
	uint64_t v = 0;

	memcpy(&v, d, size);
	return v;
}

static uint64_t bus_rd(struct bus *bus, uint64_t addr, uint32_t size)
{
	uint8_t d[8];

	bus_access(bus, addr, d, size, false);
	return le_val(d, size);
}

static void bus_wr(struct bus *bus, uint64_t addr, uint64_t val, uint32_t size)
{
	uint8_t d[8];

	memcpy(d, &val, 8);
	bus_access(bus, addr, d, size, true);
}

static uint32_t cf8_addr(unsigned int busno, unsigned int slot, unsigned int fn, uint32_t reg)
{
	return 0x80000000u | busno << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

static uint64_t cf8_rd(struct rig *r, unsigned int slot, uint32_t reg, uint32_t size)
{
	bus_wr(&r->pio, 0xcf8, cf8_addr(0, slot, 0, reg), 4);
	return bus_rd(&r->pio, 0xcfc + (reg & 3), size);
}

static void cf8_wr(struct rig *r, unsigned int slot, uint32_t reg, uint64_t val, uint32_t size)
{
	bus_wr(&r->pio, 0xcf8, cf8_addr(0, slot, 0, reg), 4);
	bus_wr(&r->pio, 0xcfc + (reg & 3), val, size);
}

static uint64_t ecam(unsigned int slot, unsigned int fn, uint32_t reg)
{
	return X86_PCI_ECAM_START + ((uint64_t)slot << 15) + ((uint64_t)fn << 12) + reg;
}

static uint64_t ecam_rd(struct rig *r, unsigned int slot, uint32_t reg, uint32_t size)
{
	return bus_rd(&r->mmio, ecam(slot, 0, reg), size);
}

static void ecam_wr(struct rig *r, unsigned int slot, uint32_t reg, uint64_t val, uint32_t size)
{
	bus_wr(&r->mmio, ecam(slot, 0, reg), val, size);
}

static uint64_t bar_addr(struct rig *r, unsigned int bar)
{
	uint64_t a = ecam_rd(r, TEST_SLOT, PCI_BAR0 + 4 * bar, 4) & ~0xfULL;

	if (r->dev.bars[bar].is64)
		a |= ecam_rd(r, TEST_SLOT, PCI_BAR0 + 4 * bar + 4, 4) << 32;
	return a;
}

/* ---- config mechanisms ---- */

static void host_bridge_answers_at_slot_0_through_cf8_and_ecam(void)
{
	struct rig *r = rig_new();

	CHECK_EQ(cf8_rd(r, 0, PCI_VENDOR_ID, 4), 0x00081b36);
	CHECK_EQ(ecam_rd(r, 0, PCI_VENDOR_ID, 4), 0x00081b36);
	CHECK_EQ(cf8_rd(r, 0, PCI_REVISION_ID, 4) >> 8, PCI_CLASS_BRIDGE_HOST);
	CHECK_EQ(ecam_rd(r, 0, PCI_HEADER_TYPE, 1), 0);
	CHECK_EQ(ecam_rd(r, 0, PCI_INTERRUPT_PIN, 1), 0);
	rig_free(r);
}

static void config_address_register_reads_back_what_was_written(void)
{
	struct rig *r = rig_new();

	bus_wr(&r->pio, 0xcf8, 0x80000000, 4);
	CHECK_EQ(bus_rd(&r->pio, 0xcf8, 4), 0x80000000);
	bus_wr(&r->pio, 0xcf8, cf8_addr(0, 3, 0, 0x10) | 3, 4);
	CHECK_EQ(bus_rd(&r->pio, 0xcf8, 4), cf8_addr(0, 3, 0, 0x10));
	/* Byte accesses do not reach the address register. */
	bus_wr(&r->pio, 0xcf9, 0x06, 1);
	CHECK_EQ(bus_rd(&r->pio, 0xcf8, 4), cf8_addr(0, 3, 0, 0x10));
	CHECK_EQ(bus_rd(&r->pio, 0xcf8, 1), 0xff);
	rig_free(r);
}

static void cf8_data_port_reads_every_width_at_every_offset(void)
{
	struct rig *r = rig_new();
	uint32_t reg, size;

	for (reg = 0; reg < 0x40; reg++)
		for (size = 1; size <= 4; size *= 2) {
			if ((reg & 3) + size > 4)
				continue;
			CHECK_EQ(cf8_rd(r, TEST_SLOT, reg, size), ecam_rd(r, TEST_SLOT, reg, size));
		}
	CHECK_EQ(cf8_rd(r, TEST_SLOT, PCI_VENDOR_ID, 1), 0x34);
	CHECK_EQ(cf8_rd(r, TEST_SLOT, PCI_VENDOR_ID + 1, 1), 0x12);
	CHECK_EQ(cf8_rd(r, TEST_SLOT, PCI_DEVICE_ID, 2), 0x5678);
	CHECK_EQ(cf8_rd(r, TEST_SLOT, PCI_VENDOR_ID, 4), 0x56781234);
	rig_free(r);
}

static void writes_of_every_width_land_through_both_mechanisms(void)
{
	struct rig *r = rig_new();

	cf8_wr(r, TEST_SLOT, PCI_INTERRUPT_LINE, 0xab, 1);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_INTERRUPT_LINE, 1), 0xab);
	ecam_wr(r, TEST_SLOT, PCI_INTERRUPT_LINE, 0x0107, 2);	/* the pin byte is read-only */
	CHECK_EQ(cf8_rd(r, TEST_SLOT, PCI_INTERRUPT_LINE, 2), 0x0107);
	cf8_wr(r, TEST_SLOT, 0x0c, 0xffffff10, 4);	/* cache line size only */
	CHECK_EQ(ecam_rd(r, TEST_SLOT, 0x0c, 4), 0x10);
	rig_free(r);
}

static void absent_devices_and_functions_read_all_ones(void)
{
	struct rig *r = rig_new();
	uint32_t size;

	for (size = 1; size <= 4; size *= 2) {
		CHECK_EQ(cf8_rd(r, 7, 0, size), (1ULL << (8 * size)) - 1);
		CHECK_EQ(ecam_rd(r, 31, 2, size), (1ULL << (8 * size)) - 1);
		CHECK_EQ(bus_rd(&r->mmio, ecam(TEST_SLOT, 1, 0), size), (1ULL << (8 * size)) - 1);
	}
	bus_wr(&r->pio, 0xcf8, cf8_addr(1, TEST_SLOT, 0, 0), 4);	/* bus 1 */
	CHECK_EQ(bus_rd(&r->pio, 0xcfc, 4), 0xffffffff);
	bus_wr(&r->pio, 0xcf8, cf8_addr(0, TEST_SLOT, 0, 0) & ~0x80000000u, 4);	/* disabled */
	CHECK_EQ(bus_rd(&r->pio, 0xcfc, 4), 0xffffffff);
	ecam_wr(r, 7, PCI_COMMAND, 0xffff, 2);	/* dropped, no crash */
	rig_free(r);
}

static void read_only_bits_ignore_writes_and_status_errors_clear_on_one(void)
{
	struct rig *r = rig_new();

	ecam_wr(r, TEST_SLOT, PCI_VENDOR_ID, 0xffffffff, 4);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_VENDOR_ID, 4), 0x56781234);
	ecam_wr(r, TEST_SLOT, PCI_REVISION_ID, 0, 4);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_REVISION_ID, 4), 0xff000002);
	ecam_wr(r, TEST_SLOT, PCI_COMMAND, 0xffff, 2);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_COMMAND, 2), 0x0547);
	r->dev.cfg[PCI_STATUS + 1] |= 0x80;		/* detected parity error */
	ecam_wr(r, TEST_SLOT, PCI_STATUS, 0x0010, 2);	/* 0 to the error bit: stays */
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_STATUS, 2), 0x8010);
	ecam_wr(r, TEST_SLOT, PCI_STATUS, 0x8000, 2);	/* 1 clears it; CAP_LIST stays */
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_STATUS, 2), 0x0010);
	ecam_wr(r, TEST_SLOT, PCI_ROM_ADDRESS, 0xffffffff, 4);	/* no ROM */
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_ROM_ADDRESS, 4), 0);
	rig_free(r);
}

static void capability_list_walks_vendor_then_msix_then_ends(void)
{
	struct rig *r = rig_new();
	uint32_t ptr;

	CHECK(ecam_rd(r, TEST_SLOT, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	ptr = (uint32_t)cf8_rd(r, TEST_SLOT, PCI_CAPABILITY_LIST, 1);
	CHECK_EQ(ptr, PCI_CAP_START);
	CHECK_EQ(cf8_rd(r, TEST_SLOT, ptr, 1), PCI_CAP_ID_VNDR);
	ptr = (uint32_t)cf8_rd(r, TEST_SLOT, ptr + 1, 1);
	CHECK_EQ(ptr, r->msix.cap);
	CHECK_EQ(cf8_rd(r, TEST_SLOT, ptr, 1), PCI_CAP_ID_MSIX);
	CHECK_EQ(cf8_rd(r, TEST_SLOT, ptr + 2, 2), VEC - 1);		/* table size - 1 */
	CHECK_EQ(cf8_rd(r, TEST_SLOT, ptr + 4, 4), TABLE_OFF | 0);	/* BIR 0 */
	CHECK_EQ(cf8_rd(r, TEST_SLOT, ptr + 8, 4), PBA_OFF | 0);
	CHECK_EQ(cf8_rd(r, TEST_SLOT, ptr + 1, 1), 0);
	/* The host bridge has none. */
	CHECK_EQ(ecam_rd(r, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	rig_free(r);
}

static void interrupt_pin_is_inta_routed_to_gsi_16_plus_slot(void)
{
	struct rig *r = rig_new();

	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_INTERRUPT_LINE, 1), 16 + TEST_SLOT);
	CHECK_EQ(r->dev.intx.gsi, 16 + TEST_SLOT);
	rig_free(r);
}

/* ---- BARs ---- */

static void bars_are_placed_naturally_aligned_in_the_window_and_decoded(void)
{
	struct rig *r = rig_new();
	uint64_t a0 = bar_addr(r, 0), a2 = bar_addr(r, 2);

	CHECK(a0 >= X86_PCI_MMIO_START && a0 + BAR0_SIZE <= X86_PCI_MMIO_START + X86_PCI_MMIO_SIZE);
	CHECK(a2 >= X86_PCI_MMIO_START && a2 + BAR2_SIZE <= X86_PCI_MMIO_START + X86_PCI_MMIO_SIZE);
	CHECK_EQ(a0 % BAR0_SIZE, 0);
	CHECK_EQ(a2 % BAR2_SIZE, 0);
	CHECK(a0 + BAR0_SIZE <= a2 || a2 + BAR2_SIZE <= a0);
	CHECK(ecam_rd(r, TEST_SLOT, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	CHECK_EQ(r->dev.bars[0].addr, a0);
	CHECK_EQ(r->dev.bars[2].addr, a2);
	CHECK_EQ(bus_rd(&r->mmio, a0 + 0x10, 4), 0x5a5a5a5a);
	CHECK_EQ(r->p0.offset, 0x10);
	bus_wr(&r->mmio, a2 + 0x3ff8, 0x1122334455667788ULL, 8);
	CHECK_EQ(r->p2.offset, 0x3ff8);
	CHECK_EQ(r->p2.wval, 0x1122334455667788ULL);
	/* A BAR hole (no region) reads all-ones. */
	CHECK_EQ(bus_rd(&r->mmio, a0 + 0x400, 4), 0xffffffff);
	rig_free(r);
}

static void bar_sizing_reads_back_size_mask_and_flags(void)
{
	struct rig *r = rig_new();
	uint64_t a0 = bar_addr(r, 0);

	ecam_wr(r, TEST_SLOT, PCI_BAR0, 0xffffffff, 4);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_BAR0, 4), 0xfffff000);
	ecam_wr(r, TEST_SLOT, PCI_BAR0 + 8, 0xffffffff, 4);
	ecam_wr(r, TEST_SLOT, PCI_BAR0 + 12, 0xffffffff, 4);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_BAR0 + 8, 4), 0xffffc00c);	/* 64-bit, prefetch */
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_BAR0 + 12, 4), 0xffffffff);
	/* Unimplemented BARs size as 0. */
	ecam_wr(r, TEST_SLOT, PCI_BAR0 + 4, 0xffffffff, 4);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_BAR0 + 4, 4), 0);
	/* While sized, the BAR decodes nowhere; restoring brings it back. */
	CHECK_EQ(r->dev.bars[0].addr, PCI_BAR_UNMAPPED);
	CHECK_EQ(bus_rd(&r->mmio, a0, 4), 0xffffffff);
	ecam_wr(r, TEST_SLOT, PCI_BAR0, a0, 4);
	CHECK_EQ(r->dev.bars[0].addr, a0);
	CHECK_EQ(bus_rd(&r->mmio, a0, 4), 0x5a5a5a5a);
	rig_free(r);
}

static void rewriting_a_bar_moves_its_mmio_range_and_tells_the_device(void)
{
	struct rig *r = rig_new();
	uint64_t a0 = bar_addr(r, 0), to = X86_PCI_MMIO_START + 0x800000;
	int reads;

	r->moved.calls = 0;
	ecam_wr(r, TEST_SLOT, PCI_BAR0, to, 4);
	CHECK_EQ(bar_addr(r, 0), to);
	CHECK_EQ(r->moved.calls, 1);
	CHECK_EQ(r->moved.bar, 0);
	CHECK_EQ(r->moved.old_addr, a0);
	CHECK_EQ(r->moved.new_addr, to);
	reads = r->p0.reads;
	CHECK_EQ(bus_rd(&r->mmio, a0 + 4, 4), 0xffffffff);	/* old place: nothing */
	CHECK_EQ(r->p0.reads, reads);
	CHECK_EQ(bus_rd(&r->mmio, to + 4, 2), 0x5a5a);
	CHECK_EQ(r->p0.reads, reads + 1);
	CHECK_EQ(r->p0.offset, 4);
	/* Writing the same address again is no move. */
	ecam_wr(r, TEST_SLOT, PCI_BAR0, to, 4);
	CHECK_EQ(r->moved.calls, 1);
	rig_free(r);
}

static void sixty_four_bit_bar_outside_the_window_is_not_decoded(void)
{
	struct rig *r = rig_new();
	uint64_t a2 = bar_addr(r, 2);

	cf8_wr(r, TEST_SLOT, PCI_BAR0 + 12, 1, 4);	/* 4 GiB up */
	CHECK_EQ(bar_addr(r, 2), a2 | 1ULL << 32);
	CHECK_EQ(r->dev.bars[2].addr, PCI_BAR_UNMAPPED);
	CHECK_EQ(r->moved.new_addr, PCI_BAR_UNMAPPED);
	CHECK_EQ(bus_rd(&r->mmio, a2, 4), 0xffffffff);
	cf8_wr(r, TEST_SLOT, PCI_BAR0 + 12, 0, 4);
	CHECK_EQ(r->dev.bars[2].addr, a2);
	CHECK_EQ(r->moved.bar, 2);
	CHECK_EQ(r->moved.new_addr, a2);
	rig_free(r);
}

static void memory_decode_off_unmaps_every_bar_until_switched_on(void)
{
	struct rig *r = rig_new();
	uint64_t a0 = bar_addr(r, 0), a2 = bar_addr(r, 2);
	uint16_t cmd = (uint16_t)ecam_rd(r, TEST_SLOT, PCI_COMMAND, 2);

	r->moved.calls = 0;
	ecam_wr(r, TEST_SLOT, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY, 2);
	CHECK_EQ(r->moved.calls, 2);
	CHECK_EQ(r->moved.new_addr, PCI_BAR_UNMAPPED);
	CHECK_EQ(bus_rd(&r->mmio, a0, 4), 0xffffffff);
	CHECK_EQ(bus_rd(&r->mmio, a2, 4), 0xffffffff);
	CHECK_EQ(r->p0.reads + r->p2.reads, 0);
	/* Config space still answers; then decoding comes back. */
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_VENDOR_ID, 2), 0x1234);
	cf8_wr(r, TEST_SLOT, PCI_COMMAND, cmd, 1);
	CHECK_EQ(r->moved.calls, 4);
	CHECK_EQ(bus_rd(&r->mmio, a2, 4), 0x5a5a5a5a);
	rig_free(r);
}

static void bar_access_helper_reaches_regions_without_decoding(void)
{
	struct rig *r = rig_new();
	uint8_t d[4];

	ecam_wr(r, TEST_SLOT, PCI_COMMAND, 0, 2);
	CHECK(pci_bar_access(&r->dev, 0, 8, d, 4, false));
	CHECK_EQ(r->p0.offset, 8);
	CHECK(!pci_bar_access(&r->dev, 1, 0, d, 4, false));	/* no BAR 1 */
	CHECK_EQ(le_val(d, 4), 0xffffffff);
	CHECK(!pci_bar_access(&r->dev, 0, BAR0_SIZE - 2, d, 4, false));
	rig_free(r);
}

static void setup_refuses_bad_bars_regions_and_slots(void)
{
	struct rig *r = rig_new();
	struct pci_dev d;
	uint32_t off;

	pci_dev_init(&d, "bad", &test_id, NULL, NULL);
	CHECK_EQ(pci_dev_add_bar(&d, 0, 0x1800, 0), -EINVAL);	/* not a power of two */
	CHECK_EQ(pci_dev_add_bar(&d, 5, 0x1000, PCI_BAR_F_64), -EINVAL);
	CHECK_EQ(pci_dev_add_bar(&d, 0, 0x1000, 0), 0);
	CHECK_EQ(pci_dev_add_bar(&d, 0, 0x1000, 0), -EEXIST);
	CHECK_EQ(pci_bar_add_region(&d, 0, 0xf00, 0x200, &probe_ops, NULL), -EINVAL);
	CHECK_EQ(pci_bar_add_region(&d, 0, 0, 0x200, &probe_ops, NULL), 0);
	CHECK_EQ(pci_bar_add_region(&d, 0, 0x100, 0x10, &probe_ops, NULL), -EEXIST);
	CHECK_EQ(pci_dev_add_cap(&d, PCI_CAP_ID_VNDR, 0x100, &off), -ENOSPC);
	CHECK_EQ(pci_bus_add(&r->pci, &d, TEST_SLOT), -EBUSY);
	CHECK_EQ(pci_bus_add(&r->pci, &d, 0), -EBUSY);
	CHECK_EQ(pci_bus_add(&r->pci, &d, 32), -EBUSY);
	rig_free(r);
}

/* ---- INTx ---- */

static void intx_sets_status_bit_and_respects_intx_disable(void)
{
	struct rig *r = rig_new();

	pci_intx_set(&r->dev, 1);
	CHECK_EQ(r->dev.intx.raised, 1);
	CHECK(ecam_rd(r, TEST_SLOT, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_intx_set(&r->dev, 0);
	CHECK_EQ(ecam_rd(r, TEST_SLOT, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	ecam_wr(r, TEST_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
	pci_intx_set(&r->dev, 1);
	CHECK_EQ(r->dev.intx.raised, 1);
	CHECK(ecam_rd(r, TEST_SLOT, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Allowing INTx again delivers the pending level. */
	ecam_wr(r, TEST_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	CHECK_EQ(r->dev.intx.raised, 2);
	rig_free(r);
}

static uint64_t efd_count(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void level_line_reasserts_after_resample_only_while_pending(void)
{
	/* A level line as irq_line_attach_level() leaves it, with plain
	 * eventfds standing in for KVM's irqfd and resampler. */
	struct irq_line l = { .vm_fd = -1, .gsi = 19 };
	uint64_t one = 1;

	l.irqfd = eventfd(0, EFD_NONBLOCK);
	l.resample_fd = eventfd(0, EFD_NONBLOCK);
	CHECK(l.irqfd >= 0 && l.resample_fd >= 0);
	l.has_irqfd = l.has_resample = true;
	CHECK_EQ(irq_line_resample_fd(&l), l.resample_fd);
	irq_line_set(&l, 1);
	CHECK_EQ(efd_count(l.irqfd), 1);
	irq_line_set(&l, 0);				/* KVM lowers on EOI, not us */
	CHECK_EQ(efd_count(l.irqfd), 0);
	CHECK(write(l.resample_fd, &one, sizeof(one)) == sizeof(one));	/* the EOI */
	irq_line_resampled(&l, true);
	CHECK_EQ(efd_count(l.irqfd), 1);
	CHECK_EQ(efd_count(l.resample_fd), 0);		/* drained */
	CHECK(write(l.resample_fd, &one, sizeof(one)) == sizeof(one));
	irq_line_resampled(&l, false);
	CHECK_EQ(efd_count(l.irqfd), 0);
	CHECK_EQ(l.raised, 2);
	CHECK_EQ(l.resamples, 2);
	irq_line_detach(&l);
	CHECK_EQ(irq_line_resample_fd(&l), -1);
}

static void level_attach_without_kvm_is_a_no_op(void)
{
	struct irq_line l = { .vm_fd = -1, .gsi = 16 };

	CHECK_EQ(irq_line_attach_level(&l), 0);
	CHECK(!l.has_irqfd && !l.has_resample);
	irq_line_set(&l, 1);
	CHECK_EQ(l.raised, 1);
	CHECK_EQ(l.level, 1);
}

/* ---- MSI-X ---- */

static uint64_t table(struct rig *r, unsigned int v, unsigned int word)
{
	return bar_addr(r, 0) + TABLE_OFF + v * MSIX_ENTRY_SIZE + word * 4;
}

static void msix_ctrl(struct rig *r, uint16_t ctrl)
{
	ecam_wr(r, TEST_SLOT, r->msix.cap + 2, ctrl, 2);
}

static const struct kvm_irq_routing_entry *route(struct rig *r, uint32_t gsi)
{
	unsigned int i;

	for (i = 0; i < r->router.nr; i++)
		if (r->router.entries[i].gsi == gsi &&
		    r->router.entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &r->router.entries[i];
	return NULL;
}

/* Program vector @v with (0xfee00000, @data), leaving it masked. */
static void program(struct rig *r, unsigned int v, uint32_t data)
{
	bus_wr(&r->mmio, table(r, v, 0), 0xfee00000, 4);
	bus_wr(&r->mmio, table(r, v, 1), 0, 4);
	bus_wr(&r->mmio, table(r, v, 2), data, 4);
}

static void msix_disabled_refuses_notifications(void)
{
	struct rig *r = rig_new();

	CHECK(!msix_enabled(&r->msix));
	CHECK(!msix_notify(&r->msix, 0));
	msix_ctrl(r, MSIX_CTRL_ENABLE);
	CHECK(msix_enabled(&r->msix));
	CHECK(!msix_notify(&r->msix, VEC));		/* no such vector */
	CHECK_EQ(ecam_rd(r, TEST_SLOT, r->msix.cap + 2, 2), MSIX_CTRL_ENABLE | (VEC - 1));
	msix_ctrl(r, 0x07ff);				/* table size is read-only */
	CHECK_EQ(ecam_rd(r, TEST_SLOT, r->msix.cap + 2, 2), VEC - 1);
	rig_free(r);
}

static void msix_table_reads_back_and_vectors_start_masked(void)
{
	struct rig *r = rig_new();

	CHECK_EQ(bus_rd(&r->mmio, table(r, 2, 3), 4), MSIX_VECTOR_MASKED);
	program(r, 2, 0x4041);
	CHECK_EQ(bus_rd(&r->mmio, table(r, 2, 0), 8), 0xfee00000);
	CHECK_EQ(bus_rd(&r->mmio, table(r, 2, 2), 4), 0x4041);
	bus_wr(&r->mmio, table(r, 2, 3), 0xfffffffe, 4);	/* reserved bits stay 0 */
	CHECK_EQ(bus_rd(&r->mmio, table(r, 2, 3), 4), 0);
	bus_wr(&r->mmio, table(r, 2, 2), 0x0000000100000000ULL | 0x4042, 8);
	CHECK_EQ(bus_rd(&r->mmio, table(r, 2, 3), 4), 1);
	CHECK_EQ(bus_rd(&r->mmio, table(r, 2, 2), 4), 0x4042);
	rig_free(r);
}

static void masked_vector_sets_pba_and_delivers_on_unmask(void)
{
	struct rig *r = rig_new();
	uint64_t pba = bar_addr(r, 0) + PBA_OFF;

	msix_ctrl(r, MSIX_CTRL_ENABLE);
	program(r, 1, 0x4031);
	CHECK(msix_notify(&r->msix, 1));
	CHECK_EQ(msix_sent(&r->msix, 1), 0);
	CHECK_EQ(bus_rd(&r->mmio, pba, 8), 1 << 1);
	bus_wr(&r->mmio, pba, 0, 8);				/* PBA is read-only */
	CHECK_EQ(bus_rd(&r->mmio, pba, 8), 1 << 1);
	bus_wr(&r->mmio, table(r, 1, 3), 0, 4);		/* unmask */
	CHECK_EQ(msix_sent(&r->msix, 1), 1);
	CHECK_EQ(bus_rd(&r->mmio, pba, 8), 0);
	CHECK(msix_notify(&r->msix, 1));
	CHECK_EQ(msix_sent(&r->msix, 1), 2);
	rig_free(r);
}

static void function_mask_holds_every_vector_until_cleared(void)
{
	struct rig *r = rig_new();
	uint64_t pba = bar_addr(r, 0) + PBA_OFF;

	program(r, 0, 0x4030);
	program(r, 3, 0x4033);
	bus_wr(&r->mmio, table(r, 0, 3), 0, 4);
	bus_wr(&r->mmio, table(r, 3, 3), 0, 4);
	msix_ctrl(r, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	CHECK(msix_notify(&r->msix, 0));
	CHECK(msix_notify(&r->msix, 3));
	CHECK(msix_notify(&r->msix, 3));			/* pending is one bit */
	CHECK_EQ(bus_rd(&r->mmio, pba, 4), 0x9);
	CHECK_EQ(msix_sent(&r->msix, 0) + msix_sent(&r->msix, 3), 0);
	msix_ctrl(r, MSIX_CTRL_ENABLE);
	CHECK_EQ(msix_sent(&r->msix, 0), 1);
	CHECK_EQ(msix_sent(&r->msix, 3), 1);
	CHECK_EQ(bus_rd(&r->mmio, pba, 4), 0);
	rig_free(r);
}

static void vector_route_is_added_on_first_use_and_updated_on_change(void)
{
	struct rig *r = rig_new();
	const struct kvm_irq_routing_entry *e;
	unsigned int nr = r->router.nr;

	msix_ctrl(r, MSIX_CTRL_ENABLE);
	program(r, 2, 0x4041);
	CHECK_EQ(r->router.nr, nr);			/* masked: no route yet */
	bus_wr(&r->mmio, table(r, 2, 3), 0, 4);
	CHECK_EQ(r->router.nr, nr + 1);
	CHECK(r->msix.vec[2].routed);
	CHECK(r->msix.vec[2].gsi >= IRQ_FIRST_MSI_GSI);
	e = route(r, r->msix.vec[2].gsi);
	CHECK(e != NULL);
	CHECK_EQ(e->u.msi.address_lo, 0xfee00000);
	CHECK_EQ(e->u.msi.data, 0x4041);
	/* Reprogrammed while live: the same GSI follows. */
	bus_wr(&r->mmio, table(r, 2, 2), 0x4055, 4);
	CHECK_EQ(r->router.nr, nr + 1);
	e = route(r, r->msix.vec[2].gsi);
	CHECK_EQ(e->u.msi.data, 0x4055);
	msix_destroy(&r->msix);
	CHECK_EQ(r->router.nr, nr);			/* routes freed */
	rig_free(r);
}

static void msix_table_follows_its_bar(void)
{
	struct rig *r = rig_new();
	uint64_t to = X86_PCI_MMIO_START + 0x100000;

	ecam_wr(r, TEST_SLOT, PCI_BAR0, to, 4);
	bus_wr(&r->mmio, to + TABLE_OFF + 8, 0x4077, 4);
	CHECK_EQ(r->msix.vec[0].entry[2], 0x4077);
	rig_free(r);
}

int main(void)
{
	RUN(host_bridge_answers_at_slot_0_through_cf8_and_ecam);
	RUN(config_address_register_reads_back_what_was_written);
	RUN(cf8_data_port_reads_every_width_at_every_offset);
	RUN(writes_of_every_width_land_through_both_mechanisms);
	RUN(absent_devices_and_functions_read_all_ones);
	RUN(read_only_bits_ignore_writes_and_status_errors_clear_on_one);
	RUN(capability_list_walks_vendor_then_msix_then_ends);
	RUN(interrupt_pin_is_inta_routed_to_gsi_16_plus_slot);
	RUN(bars_are_placed_naturally_aligned_in_the_window_and_decoded);
	RUN(bar_sizing_reads_back_size_mask_and_flags);
	RUN(rewriting_a_bar_moves_its_mmio_range_and_tells_the_device);
	RUN(sixty_four_bit_bar_outside_the_window_is_not_decoded);
	RUN(memory_decode_off_unmaps_every_bar_until_switched_on);
	RUN(bar_access_helper_reaches_regions_without_decoding);
	RUN(setup_refuses_bad_bars_regions_and_slots);
	RUN(intx_sets_status_bit_and_respects_intx_disable);
	RUN(level_line_reasserts_after_resample_only_while_pending);
	RUN(level_attach_without_kvm_is_a_no_op);
	RUN(msix_disabled_refuses_notifications);
	RUN(msix_table_reads_back_and_vectors_start_masked);
	RUN(masked_vector_sets_pba_and_delivers_on_unmask);
	RUN(function_mask_holds_every_vector_until_cleared);
	RUN(vector_route_is_added_on_first_use_and_updated_on_change);
	RUN(msix_table_follows_its_bar);
	return harness_done();
}
