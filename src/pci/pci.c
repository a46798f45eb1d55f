// SPDX-License-Identifier: MIT
/*
 * pci.c - the PCI host bridge: config mechanism #1, ECAM, BAR decoding.
 * See pci.h for the locking and why BARs never touch the bus tables.
 */
#include "pci/pci.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "core/log.h"
#include "pci/msix.h"

#define CF8_ENABLE		0x80000000u
#define HOST_VENDOR_REDHAT	0x1b36
#define HOST_DEVICE_PCIE_HOST	0x0008
#define BAR_MIN_ALIGN		0x1000ULL	/* one BAR per page: ioeventfds, mappings */

static bool overlaps(uint32_t off, uint32_t len, uint32_t start, uint32_t n)
{
	return off < start + n && start < off + len;
}

/* ---- config space ---- */

static uint16_t cfg_command(const struct pci_dev *pdev)
{
	return pci_get_u16(pdev->cfg, PCI_COMMAND);
}

/* The address BAR @i decodes now, from the header and the command register. */
static uint64_t bar_decode_addr(const struct pci_dev *pdev, unsigned int i)
{
	const struct pci_bar *b = &pdev->bars[i];
	const struct pci_bus *pci = pdev->bus;
	uint64_t addr = pci_get_u32(pdev->cfg, PCI_BAR0 + 4 * i) & ~0xfULL;

	if (b->is64)
		addr |= (uint64_t)pci_get_u32(pdev->cfg, PCI_BAR0 + 4 * (i + 1)) << 32;
	if (!(cfg_command(pdev) & PCI_COMMAND_MEMORY) || !addr)
		return PCI_BAR_UNMAPPED;
	/* Only the window reaches us (and sizing writes land outside it). */
	if (addr < pci->mmio_base || addr - pci->mmio_base > pci->mmio_size - b->size)
		return PCI_BAR_UNMAPPED;
	return addr;
}

/* Called with pci->lock held after the command register or a BAR changed. */
static void update_bars(struct pci_dev *pdev)
{
	unsigned int i;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];
		uint64_t old = b->addr, addr;

		if (!b->size)
			continue;
		addr = bar_decode_addr(pdev, i);
		if (addr == old)
			continue;
		__atomic_store_n(&b->addr, addr, __ATOMIC_RELEASE);
		log_debug("pci %s: BAR %u 0x%llx -> 0x%llx", pdev->name, i,
			  (unsigned long long)old, (unsigned long long)addr);
		if (pdev->ops && pdev->ops->bar_moved)
			pdev->ops->bar_moved(pdev, i, old, addr);
	}
}

/* Called with pci->lock held after the command register was written. */
static void command_written(struct pci_dev *pdev)
{
	bool disabled = cfg_command(pdev) & PCI_COMMAND_INTX_DISABLE;
	bool was = __atomic_exchange_n(&pdev->intx_disabled, disabled, __ATOMIC_ACQ_REL);

	/* A pending level shows up again once INTx is allowed. */
	if (was && !disabled && __atomic_load_n(&pdev->intx_level, __ATOMIC_ACQUIRE))
		irq_line_set(&pdev->intx, 1);
}

static void cfg_read_locked(struct pci_dev *pdev, uint32_t off, uint8_t *data, uint32_t len)
{
	memcpy(data, pdev->cfg + off, len);
	if (overlaps(off, len, PCI_STATUS, 1)) {
		uint8_t *st = &data[PCI_STATUS - off];

		*st &= (uint8_t)~PCI_STATUS_INTERRUPT;
		if (__atomic_load_n(&pdev->intx_level, __ATOMIC_ACQUIRE))
			*st |= PCI_STATUS_INTERRUPT;
	}
	if (pdev->ops && pdev->ops->config_read)
		pdev->ops->config_read(pdev, off, data, len);
}

static void cfg_write_locked(struct pci_dev *pdev, uint32_t off, const uint8_t *data,
			     uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		uint32_t o = off + i;
		uint8_t v = data[i];

		pdev->cfg[o] = (uint8_t)((pdev->cfg[o] & ~pdev->wmask[o]) | (v & pdev->wmask[o]));
		pdev->cfg[o] &= (uint8_t)~(v & pdev->w1cmask[o]);
	}
	if (overlaps(off, len, PCI_COMMAND, 2))
		command_written(pdev);
	if (overlaps(off, len, PCI_COMMAND, 2) || overlaps(off, len, PCI_BAR0, 4 * PCI_NUM_BARS))
		update_bars(pdev);
	if (pdev->msix && overlaps(off, len, pdev->msix->cap + 2, 2))
		msix_config_written(pdev->msix, pci_get_u16(pdev->cfg, pdev->msix->cap + 2));
	if (pdev->ops && pdev->ops->config_written)
		pdev->ops->config_written(pdev, off, len);
}

/* One config access to 00:@slot.@fn register @reg; pci->lock held. */
static void config_access(struct pci_bus *pci, unsigned int slot, unsigned int fn,
			  uint32_t reg, uint8_t *data, uint32_t size, bool is_write)
{
	struct pci_dev *pdev = fn == 0 && slot < PCI_SLOTS ? pci->devs[slot] : NULL;

	if (!pdev || reg >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - reg) {
		if (!is_write)
			memset(data, 0xff, size);	/* absent: master abort */
		return;
	}
	if (is_write)
		cfg_write_locked(pdev, reg, data, size);
	else
		cfg_read_locked(pdev, reg, data, size);
}

/* ---- mechanism #1: 0xcf8 address, 0xcfc data ---- */

static void cf8_data_access(struct pci_bus *pci, uint64_t offset, uint8_t *data,
			    uint32_t size, bool is_write)
{
	uint32_t addr = pci->config_addr;
	uint32_t reg = (addr & 0xfc) + (uint32_t)(offset - 4);

	if (!(addr & CF8_ENABLE) || ((addr >> 16) & 0xff) != 0) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	config_access(pci, (addr >> 11) & 0x1f, (addr >> 8) & 0x7, reg, data, size, is_write);
}

static void cf8_access(struct pci_bus *pci, uint64_t offset, uint8_t *data, uint32_t size,
		       bool is_write)
{
	pthread_mutex_lock(&pci->lock);
	if (offset >= 4) {
		cf8_data_access(pci, offset, data, size, is_write);
	} else if (offset == 0 && size == 4) {
		/* Only dword accesses reach the address register (0xcf9 is
		 * the PC's reset control, bytes at 0xcf8-0xcfb are not ours). */
		if (is_write)
			pci->config_addr = pci_get_u32(data, 0) & ~3u;
		else
			pci_set_u32(data, 0, pci->config_addr);
	} else if (!is_write) {
		memset(data, 0xff, size);
	}
	pthread_mutex_unlock(&pci->lock);
}

static void cf8_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	cf8_access(opaque, offset, data, size, false);
}

static void cf8_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t size)
{
	cf8_access(opaque, offset, (uint8_t *)data, size, true);
}

static const struct bus_ops cf8_ops = { .read = cf8_read, .write = cf8_write };

/* ---- ECAM: bus 0, 4 KiB per function ---- */

static void ecam_access(struct pci_bus *pci, uint64_t offset, uint8_t *data, uint32_t size,
			bool is_write)
{
	pthread_mutex_lock(&pci->lock);
	config_access(pci, (offset >> 15) & 0x1f, (offset >> 12) & 0x7,
		      (uint32_t)(offset & 0xfff), data, size, is_write);
	pthread_mutex_unlock(&pci->lock);
}

static void ecam_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	ecam_access(opaque, offset, data, size, false);
}

static void ecam_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t size)
{
	/* config_access() never writes through @data on a write. */
	ecam_access(opaque, offset, (uint8_t *)data, size, true);
}

static const struct bus_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

/* ---- the BAR window ---- */

static const struct pci_bar_region *region_find(const struct pci_bar *b, uint64_t off,
						uint32_t size)
{
	unsigned int i;

	for (i = 0; i < b->nr_regions; i++) {
		const struct pci_bar_region *r = &b->regions[i];

		if (off >= r->off && off - r->off < r->len)
			return size <= r->len - (off - r->off) ? r : NULL;
	}
	return NULL;
}

static bool region_access(const struct pci_bar *b, uint64_t off, uint8_t *data,
			  uint32_t size, bool is_write)
{
	const struct pci_bar_region *r = region_find(b, off, size);

	if (!r) {
		if (!is_write)
			memset(data, 0xff, size);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, off - r->off, data, size);
	} else if (r->ops->read) {
		r->ops->read(r->opaque, off - r->off, data, size);
	} else {
		memset(data, 0xff, size);
	}
	return true;
}

/* The BAR decoding @addr (lock-free: decoded addresses are atomics, the
 * device table is fixed while vCPUs run). */
static const struct pci_bar *window_find(struct pci_bus *pci, uint64_t addr, uint64_t *off)
{
	unsigned int s, i;

	for (s = 0; s < PCI_SLOTS; s++) {
		const struct pci_dev *pdev = pci->devs[s];

		for (i = 0; pdev && i < PCI_NUM_BARS; i++) {
			const struct pci_bar *b = &pdev->bars[i];
			uint64_t a = __atomic_load_n(&b->addr, __ATOMIC_ACQUIRE);

			if (b->size && a != PCI_BAR_UNMAPPED && addr >= a && addr - a < b->size) {
				*off = addr - a;
				return b;
			}
		}
	}
	return NULL;
}

static void window_access(struct pci_bus *pci, uint64_t offset, uint8_t *data,
			  uint32_t size, bool is_write)
{
	uint64_t off;
	const struct pci_bar *b = window_find(pci, pci->mmio_base + offset, &off);

	if (b && size <= b->size - off) {
		region_access(b, off, data, size, is_write);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
}

static void window_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	window_access(opaque, offset, data, size, false);
}

static void window_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t size)
{
	window_access(opaque, offset, (uint8_t *)data, size, true);
}

static const struct bus_ops window_ops = { .read = window_read, .write = window_write };

bool pci_bar_access(struct pci_dev *pdev, unsigned int bar, uint64_t off, uint8_t *data,
		    uint32_t size, bool is_write)
{
	const struct pci_bar *b = bar < PCI_NUM_BARS ? &pdev->bars[bar] : NULL;

	if (!b || !b->size || off >= b->size || size > b->size - off) {
		if (!is_write)
			memset(data, 0xff, size);
		return false;
	}
	return region_access(b, off, data, size, is_write);
}

/* ---- devices ---- */

void pci_dev_init(struct pci_dev *pdev, const char *name, const struct pci_dev_id *id,
		  const struct pci_dev_ops *ops, void *opaque)
{
	memset(pdev, 0, sizeof(*pdev));
	pdev->name = name;
	pdev->ops = ops;
	pdev->opaque = opaque;
	pdev->cap_end = PCI_CAP_START;
	pdev->intx.vm_fd = -1;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		pdev->bars[i].addr = PCI_BAR_UNMAPPED;
	pci_set_u16(pdev->cfg, PCI_VENDOR_ID, id->vendor);
	pci_set_u16(pdev->cfg, PCI_DEVICE_ID, id->device);
	pci_set_u16(pdev->wmask, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		    PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		    PCI_COMMAND_INTX_DISABLE);
	pci_set_u16(pdev->w1cmask, PCI_STATUS, PCI_STATUS_RW1C);
	pdev->cfg[PCI_REVISION_ID] = id->revision;
	pdev->cfg[PCI_CLASS_PROG] = (uint8_t)id->class_code;
	pci_set_u16(pdev->cfg, PCI_CLASS_PROG + 1, (uint16_t)(id->class_code >> 8));
	pdev->wmask[0x0c] = 0xff;			/* cache line size */
	pdev->cfg[PCI_HEADER_TYPE] = 0;			/* type 0, single function */
	pci_set_u16(pdev->cfg, PCI_SUBSYSTEM_VENDOR_ID, id->subsys_vendor);
	pci_set_u16(pdev->cfg, PCI_SUBSYSTEM_ID, id->subsys_id);
	pdev->wmask[PCI_INTERRUPT_LINE] = 0xff;		/* scratch for the OS */
}

int pci_dev_add_bar(struct pci_dev *pdev, unsigned int bar, uint64_t size, unsigned int flags)
{
	bool is64 = flags & PCI_BAR_F_64;
	struct pci_bar *b;
	uint64_t mask;
	uint32_t reg;

	if (bar >= PCI_NUM_BARS || (is64 && bar + 1 >= PCI_NUM_BARS) || size < 16 ||
	    (size & (size - 1)) || (!is64 && size > 0x80000000ULL))
		return err_set(-EINVAL, "pci %s: bad BAR %u (size 0x%llx)", pdev->name, bar,
			       (unsigned long long)size);
	b = &pdev->bars[bar];
	if (b->size || (is64 && pdev->bars[bar + 1].size))
		return err_set(-EEXIST, "pci %s: BAR %u already in use", pdev->name, bar);
	b->size = size;
	b->is64 = is64;
	b->prefetch = flags & PCI_BAR_F_PREFETCH;
	reg = PCI_BAR0 + 4 * bar;
	mask = ~(size - 1);
	pci_set_u32(pdev->wmask, reg, (uint32_t)mask & ~0xfu);
	pci_set_u32(pdev->cfg, reg, (is64 ? PCI_BAR_MEM_TYPE_64 : 0) |
		    (b->prefetch ? PCI_BAR_MEM_PREFETCH : 0));
	if (is64)
		pci_set_u32(pdev->wmask, reg + 4, (uint32_t)(mask >> 32));
	return 0;
}

int pci_bar_add_region(struct pci_dev *pdev, unsigned int bar, uint64_t off, uint64_t len,
		       const struct bus_ops *ops, void *opaque)
{
	struct pci_bar *b = bar < PCI_NUM_BARS ? &pdev->bars[bar] : NULL;
	unsigned int i;

	if (!b || !b->size || !len || off >= b->size || len > b->size - off)
		return err_set(-EINVAL, "pci %s: region 0x%llx+0x%llx outside BAR %u",
			       pdev->name, (unsigned long long)off, (unsigned long long)len, bar);
	if (b->nr_regions == PCI_BAR_REGIONS_MAX)
		return err_set(-ENOSPC, "pci %s: too many regions in BAR %u", pdev->name, bar);
	for (i = 0; i < b->nr_regions; i++)
		if (off < b->regions[i].off + b->regions[i].len && b->regions[i].off < off + len)
			return err_set(-EEXIST, "pci %s: BAR %u regions overlap at 0x%llx",
				       pdev->name, bar, (unsigned long long)off);
	b->regions[b->nr_regions++] = (struct pci_bar_region){
		.off = off, .len = len, .ops = ops, .opaque = opaque,
	};
	return 0;
}

int pci_dev_add_cap(struct pci_dev *pdev, uint8_t id, uint32_t len, uint32_t *off)
{
	uint32_t o = (pdev->cap_end + 3) & ~3u;

	if (len < 2 || o + len > PCI_CFG_LEGACY_SIZE)
		return err_set(-ENOSPC, "pci %s: no room for a %u-byte capability",
			       pdev->name, len);
	pdev->cfg[o] = id;
	pdev->cfg[o + 1] = 0;
	if (pdev->cap_last)
		pdev->cfg[pdev->cap_last + 1] = (uint8_t)o;
	else
		pdev->cfg[PCI_CAPABILITY_LIST] = (uint8_t)o;
	pdev->cap_last = (uint8_t)o;
	pdev->cap_end = o + len;
	pdev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	*off = o;
	return 0;
}

/* Give every BAR of @pdev a naturally aligned home in the window. */
static int place_bars(struct pci_bus *pci, struct pci_dev *pdev)
{
	uint64_t end = pci->mmio_base + pci->mmio_size;
	unsigned int i;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];
		uint64_t align = b->size > BAR_MIN_ALIGN ? b->size : BAR_MIN_ALIGN;
		uint64_t addr = (pci->mmio_next + align - 1) & ~(align - 1);
		uint32_t reg = PCI_BAR0 + 4 * i;

		if (!b->size)
			continue;
		if (addr > end || b->size > end - addr)
			return err_set(-ENOSPC, "pci %s: BAR %u (0x%llx bytes) does not fit the MMIO window",
				       pdev->name, i, (unsigned long long)b->size);
		pci_set_u32(pdev->cfg, reg, (uint32_t)addr | (pci_get_u32(pdev->cfg, reg) & 0xf));
		if (b->is64)
			pci_set_u32(pdev->cfg, reg + 4, (uint32_t)(addr >> 32));
		pci->mmio_next = addr + b->size;
	}
	return 0;
}

static int attach_intx(struct pci_bus *pci, struct pci_dev *pdev, unsigned int slot)
{
	pdev->intx = (struct irq_line){
		.vm_fd = pci->vm_fd,
		.gsi = X86_PCI_INTX_GSI_BASE + slot % X86_PCI_INTX_GSIS,
	};
	pdev->cfg[PCI_INTERRUPT_LINE] = (uint8_t)pdev->intx.gsi;
	pdev->cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
	pdev->intx_pin = true;
	return irq_line_attach_level(&pdev->intx);
}

int pci_bus_add(struct pci_bus *pci, struct pci_dev *pdev, unsigned int slot)
{
	int ret;

	if (slot == 0 || slot >= PCI_SLOTS || pci->devs[slot])
		return err_set(-EBUSY, "pci slot %u for %s is taken or invalid", slot, pdev->name);
	pdev->bus = pci;
	pdev->slot = slot;
	ret = place_bars(pci, pdev);
	if (!ret)
		ret = attach_intx(pci, pdev, slot);
	if (ret)
		return err_prefix(ret, "pci %s", pdev->name);
	pthread_mutex_lock(&pci->lock);
	pci->devs[slot] = pdev;
	pci_set_u16(pdev->cfg, PCI_COMMAND, cfg_command(pdev) | PCI_COMMAND_MEMORY);
	update_bars(pdev);
	pthread_mutex_unlock(&pci->lock);
	return 0;
}

void pci_intx_set(struct pci_dev *pdev, int level)
{
	__atomic_store_n(&pdev->intx_level, level ? 1 : 0, __ATOMIC_RELEASE);
	if (level && __atomic_load_n(&pdev->intx_disabled, __ATOMIC_ACQUIRE))
		return;
	irq_line_set(&pdev->intx, level);
}

void pci_intx_resampled(struct pci_dev *pdev, bool pending)
{
	__atomic_store_n(&pdev->intx_level, pending ? 1 : 0, __ATOMIC_RELEASE);
	irq_line_resampled(&pdev->intx,
			   pending && !__atomic_load_n(&pdev->intx_disabled, __ATOMIC_ACQUIRE));
}

/* ---- snapshot state ---- */

void pci_dev_save_config(struct pci_dev *pdev, uint8_t *out)
{
	pthread_mutex_lock(&pdev->bus->lock);
	memcpy(out, pdev->cfg, PCI_CFG_LEGACY_SIZE);
	pthread_mutex_unlock(&pdev->bus->lock);
}

int pci_dev_check_config(struct pci_dev *pdev, const uint8_t *in)
{
	uint32_t o;
	int ret = 0;

	pthread_mutex_lock(&pdev->bus->lock);
	for (o = 0; o < PCI_CFG_LEGACY_SIZE && !ret; o++)
		if ((in[o] ^ pdev->cfg[o]) & ~pdev->wmask[o])
			ret = err_set(-EINVAL, "config byte 0x%02x is 0x%02x, this device's "
				      "is 0x%02x and the guest cannot change it", o, in[o],
				      pdev->cfg[o]);
	pthread_mutex_unlock(&pdev->bus->lock);
	return ret;
}

void pci_dev_load_config(struct pci_dev *pdev, const uint8_t *in)
{
	uint32_t o;

	pthread_mutex_lock(&pdev->bus->lock);
	for (o = 0; o < PCI_CFG_LEGACY_SIZE; o++)
		pdev->cfg[o] = (uint8_t)((pdev->cfg[o] & ~pdev->wmask[o]) |
					 (in[o] & pdev->wmask[o]));
	command_written(pdev);
	update_bars(pdev);
	if (pdev->msix)
		msix_config_written(pdev->msix, pci_get_u16(pdev->cfg, pdev->msix->cap + 2));
	pthread_mutex_unlock(&pdev->bus->lock);
}

/* ---- the bus ---- */

static int claim(struct pci_bus *pci, struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, const char *name)
{
	int ret = bus_register(bus, base, len, ops, pci, name);

	if (!ret)
		pci->nr_registered++;
	return ret;
}

static void add_host_bridge(struct pci_bus *pci)
{
	static const struct pci_dev_id id = {
		.vendor = HOST_VENDOR_REDHAT, .device = HOST_DEVICE_PCIE_HOST,
		.subsys_vendor = HOST_VENDOR_REDHAT, .subsys_id = 0x1100,
		.class_code = PCI_CLASS_BRIDGE_HOST,
	};

	pci_dev_init(&pci->host, "host-bridge", &id, NULL, NULL);
	pci->host.bus = pci;
	pci->devs[0] = &pci->host;
}

int pci_bus_init(struct pci_bus *pci, struct bus *pio, struct bus *mmio,
		 struct irq_router *router, int vm_fd)
{
	int ret;

	memset(pci, 0, sizeof(*pci));
	pthread_mutex_init(&pci->lock, NULL);
	pci->pio = pio;
	pci->mmio = mmio;
	pci->router = router;
	pci->vm_fd = vm_fd;
	pci->mmio_base = pci->mmio_next = X86_PCI_MMIO_START;
	pci->mmio_size = X86_PCI_MMIO_SIZE;
	add_host_bridge(pci);
	ret = claim(pci, pio, X86_PCI_CONFIG_ADDR, 8, &cf8_ops, "pci-config");
	if (!ret)
		ret = claim(pci, mmio, X86_PCI_ECAM_START, X86_PCI_ECAM_SIZE, &ecam_ops, "pci-ecam");
	if (!ret)
		ret = claim(pci, mmio, X86_PCI_MMIO_START, X86_PCI_MMIO_SIZE, &window_ops,
			    "pci-bars");
	if (ret) {
		pci_bus_destroy(pci);
		return err_prefix(ret, "pci host bridge");
	}
	return 0;
}

void pci_bus_destroy(struct pci_bus *pci)
{
	static const struct { bool pio; uint64_t base; } ranges[] = {
		{ true, X86_PCI_CONFIG_ADDR },
		{ false, X86_PCI_ECAM_START },
		{ false, X86_PCI_MMIO_START },
	};
	unsigned int i;

	for (i = pci->nr_registered; i-- > 0;)
		if (bus_unregister(ranges[i].pio ? pci->pio : pci->mmio, ranges[i].base))
			log_debug("%s", err_msg());
	pci->nr_registered = 0;
	for (i = 1; i < PCI_SLOTS; i++)
		if (pci->devs[i])
			irq_line_detach(&pci->devs[i]->intx);
	memset(pci->devs, 0, sizeof(pci->devs));
	pthread_mutex_destroy(&pci->lock);
}
