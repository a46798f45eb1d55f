/* SPDX-License-Identifier: MIT */
/* pci.c - bus 0 configuration space (ECAM through MCFG, else 0xcf8/0xcfc). */
#include "lib.h"
#include "acpi.h"
#include "pci.h"

#define PCI_ECAM_PROBE 0xe0000000u

static uint64_t ecam;		/* bus 0 base */
static bool inited, cf8;
static char access_name[64];

const char *pci_access_name(void)
{
	return inited ? access_name : NULL;
}

bool pci_init(void)
{
	const struct acpi_info *a;
	unsigned int i;

	if (inited)
		return ecam || cf8;
	inited = true;
	a = acpi_get();
	for (i = 0; a && i < a->ntables; i++) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)a->tables[i].addr;
		uint32_t off;

		if (strcmp(a->tables[i].sig, "MCFG") || !a->tables[i].checksum_ok)
			continue;
		for (off = 44; off + 16 <= a->tables[i].length; off += 16) {
			uint64_t base = *(const uint64_t *)(t + off);
			uint16_t seg = *(const uint16_t *)(t + off + 8);
			uint8_t start = t[off + 10];

			if (seg == 0 && start == 0 && base && base < (4ull << 30)) {
				ecam = base;
				snprintf(access_name, sizeof(access_name), "ECAM at 0x%llx (MCFG)",
					 (unsigned long long)base);
				return true;
			}
		}
	}
	if (cmdline_get_u64("pci_ecam", &ecam) && ecam) {
		snprintf(access_name, sizeof(access_name), "ECAM at 0x%llx (pci_ecam=)",
			 (unsigned long long)ecam);
		return true;
	}
	/* Mechanism #1: the bridge answers the address register read back. */
	outl(0xcf8, 0x80000000);
	if (inl(0xcf8) == 0x80000000) {
		cf8 = true;
		snprintf(access_name, sizeof(access_name), "configuration mechanism #1 (0xcf8)");
		return true;
	}
	/* No MCFG (QEMU 7.2 microvm,pcie=on has none: the ECAM window is only in
	 * the DSDT): probe the usual place, 0xe0000000 (QEMU microvm and kite). */
	{
		uint32_t id = mmio_read32(PCI_ECAM_PROBE);

		if ((id & 0xffff) != 0xffff && (id & 0xffff) != 0) {
			ecam = PCI_ECAM_PROBE;
			snprintf(access_name, sizeof(access_name),
				 "ECAM at 0x%llx (no MCFG: probed)", (unsigned long long)ecam);
			return true;
		}
	}
	snprintf(access_name, sizeof(access_name), "none (no MCFG, no 0xcf8, nothing at 0x%x)",
		 PCI_ECAM_PROBE);
	return false;
}

static uint64_t ecam_addr(const struct pci_dev *d, uint32_t off)
{
	return ecam + ((uint64_t)d->bus << 20) + ((uint64_t)d->slot << 15) +
	       ((uint64_t)d->func << 12) + off;
}

static void cf8_sel(const struct pci_dev *d, uint32_t off)
{
	outl(0xcf8, 0x80000000u | ((uint32_t)d->bus << 16) | ((uint32_t)d->slot << 11) |
		    ((uint32_t)d->func << 8) | (off & 0xfc));
}

uint32_t pci_read32(const struct pci_dev *d, uint32_t off)
{
	if (ecam)
		return mmio_read32(ecam_addr(d, off));
	if (!cf8)
		return 0xffffffff;
	cf8_sel(d, off);
	return inl(0xcfc);
}

uint16_t pci_read16(const struct pci_dev *d, uint32_t off)
{
	if (ecam)
		return mmio_read16(ecam_addr(d, off));
	if (!cf8)
		return 0xffff;
	cf8_sel(d, off);
	return inw(0xcfc + (off & 2));
}

uint8_t pci_read8(const struct pci_dev *d, uint32_t off)
{
	if (ecam)
		return mmio_read8(ecam_addr(d, off));
	if (!cf8)
		return 0xff;
	cf8_sel(d, off);
	return inb(0xcfc + (off & 3));
}

void pci_write32(const struct pci_dev *d, uint32_t off, uint32_t v)
{
	if (ecam) {
		mmio_write32(ecam_addr(d, off), v);
	} else if (cf8) {
		cf8_sel(d, off);
		outl(0xcfc, v);
	}
}

void pci_write16(const struct pci_dev *d, uint32_t off, uint16_t v)
{
	if (ecam) {
		mmio_write16(ecam_addr(d, off), v);
	} else if (cf8) {
		cf8_sel(d, off);
		outw(0xcfc + (off & 2), v);
	}
}

void pci_write8(const struct pci_dev *d, uint32_t off, uint8_t v)
{
	if (ecam) {
		mmio_write8(ecam_addr(d, off), v);
	} else if (cf8) {
		cf8_sel(d, off);
		outb(0xcfc + (off & 3), v);
	}
}

unsigned int pci_enumerate(struct pci_dev *out, unsigned int max)
{
	unsigned int n = 0, slot, func;

	if (!pci_init())
		return 0;
	for (slot = 0; slot < 32; slot++) {
		for (func = 0; func < 8; func++) {
			struct pci_dev d = { 0, (uint8_t)slot, (uint8_t)func, 0, 0, 0 };
			uint32_t id = pci_read32(&d, 0);

			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
				if (func == 0)
					break;
				continue;
			}
			d.vendor = (uint16_t)id;
			d.device = (uint16_t)(id >> 16);
			d.class_rev = pci_read32(&d, PCI_CLASS_REV);
			if (n < max)
				out[n] = d;
			n++;
			if (func == 0 && !(pci_read8(&d, PCI_HEADER_TYPE) & 0x80))
				break;
		}
	}
	return n < max ? n : max;
}

bool pci_bar_info(const struct pci_dev *d, unsigned int i, uint64_t *addr, uint64_t *size,
		  bool *io, bool *is64)
{
	uint32_t off = PCI_BAR0 + 4 * i, lo, hi = 0, szlo, szhi = 0;
	uint16_t cmd;
	uint64_t mask;

	if (i > 5 || (pci_read8(d, PCI_HEADER_TYPE) & 0x7f) != 0)
		return false;
	lo = pci_read32(d, off);
	*io = lo & 1;
	*is64 = !*io && ((lo >> 1) & 3) == 2;
	if (*is64 && i == 5)
		return false;
	if (*is64)
		hi = pci_read32(d, off + 4);
	cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	pci_write32(d, off, 0xffffffff);
	szlo = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (*is64) {
		pci_write32(d, off + 4, 0xffffffff);
		szhi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
	}
	pci_write16(d, PCI_COMMAND, cmd);
	if (*io) {
		mask = szlo & ~3u;
		*size = mask ? (uint32_t)(~mask + 1) & 0xffff : 0;
		*addr = lo & ~3u;
	} else {
		mask = ((uint64_t)szhi << 32) | (szlo & ~0xfu);
		if (!*is64 && mask)
			mask |= 0xffffffff00000000ull;
		*size = mask ? ~mask + 1 : 0;
		*addr = (((uint64_t)hi << 32) | lo) & ~0xfull;
	}
	return *size != 0;
}

static uint64_t window_base = 0xc0000000, window_size = 0x10000000;

static void window_from_cmdline(void)
{
	char buf[48];
	size_t i;

	if (!cmdline_get("pci_window", buf, sizeof(buf)))
		return;
	for (i = 0; buf[i] && buf[i] != ':'; i++)
		;
	if (!buf[i] || !parse_u64(buf, i, &window_base) ||
	    !parse_size(buf + i + 1, strlen(buf + i + 1), &window_size))
		fail("pci_window=BASE:SIZE expected, got '%s'", buf);
}

uint64_t pci_bar_ensure(const struct pci_dev *d, unsigned int i)
{
	struct pci_dev all[64];
	unsigned int n, k, b;
	uint64_t addr, size, next, a2, s2;
	bool io, is64, io2, is64_2;

	if (!pci_bar_info(d, i, &addr, &size, &io, &is64))
		return 0;
	if (io)
		return addr;
	if (addr)
		return addr;
	window_from_cmdline();
	next = window_base;
	n = pci_enumerate(all, ARRAY_SIZE(all));
	for (k = 0; k < n; k++) {
		for (b = 0; b < 6; b++) {
			if (!pci_bar_info(&all[k], b, &a2, &s2, &io2, &is64_2))
				continue;
			if (!io2 && a2 && a2 >= window_base && a2 < window_base + window_size &&
			    a2 + s2 > next)
				next = a2 + s2;
			if (is64_2)
				b++;
		}
	}
	next = (next + size - 1) & ~(size - 1);	/* natural alignment */
	if (next + size > window_base + window_size) {
		printf("pci: no room for BAR%u (%llu bytes) of %02x:%02x.%x in 0x%llx+0x%llx\n", i,
		       (unsigned long long)size, d->bus, d->slot, d->func,
		       (unsigned long long)window_base, (unsigned long long)window_size);
		return 0;
	}
	pci_write32(d, PCI_BAR0 + 4 * i, (uint32_t)next);
	if (is64)
		pci_write32(d, PCI_BAR0 + 4 * i + 4, (uint32_t)(next >> 32));
	printf("pci: %02x:%02x.%x BAR%u was 0: assigned 0x%llx (%llu bytes)\n", d->bus, d->slot,
	       d->func, i, (unsigned long long)next, (unsigned long long)size);
	return next;
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from)
{
	uint8_t p;
	unsigned int guard = 0;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAPS))
		return 0;
	p = from ? pci_read8(d, from + 1) : pci_read8(d, PCI_CAP_PTR);
	while (p && guard++ < 48) {
		p &= 0xfc;
		if (pci_read8(d, p) == id)
			return p;
		p = pci_read8(d, p + 1);
	}
	return 0;
}
