/* SPDX-License-Identifier: MIT */
/* acpi.c - find and parse the ACPI tables (read only, ring 3). */
#include "lib.h"
#include "acpi.h"
#include "boot.h"
#include "tsc.h"

struct rsdp {
	char sig[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

static struct acpi_info info;
static bool parsed;
static const char *error = "not parsed";

static uint8_t sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return s;
}

static void *pa(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

static bool rsdp_valid(const struct rsdp *r)
{
	if (memcmp(r->sig, "RSD PTR ", 8) || sum(r, 20))
		return false;
	if (r->revision >= 2 && (r->length < sizeof(*r) || r->length > 4096 || sum(r, r->length)))
		return false;
	return true;
}

static uint64_t find_rsdp(void)
{
	uint64_t a;

	if (start_info && start_info->rsdp_paddr) {
		info.rsdp_source = "start_info";
		return start_info->rsdp_paddr;
	}
	info.rsdp_source = "scan of 0xe0000-0xfffff";
	for (a = 0xe0000; a < 0x100000; a += 16)
		if (rsdp_valid(pa(a)))
			return a;
	return 0;
}

static void copy_str(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && src[i] >= ' ' && src[i] < 0x7f; i++)
		dst[i] = src[i];
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = 0;
}

/* Find \_S5's first package element (SLP_TYPa) in the DSDT's AML. */
static int find_s5(uint64_t dsdt)
{
	const struct sdt_header *h = pa(dsdt);
	const uint8_t *p = pa(dsdt), *end;

	if (!dsdt || memcmp(h->sig, "DSDT", 4) || h->length < sizeof(*h) || h->length > (64u << 20))
		return -1;
	end = p + h->length;
	for (p += sizeof(*h); p + 8 < end; p++) {
		const uint8_t *q;

		if (memcmp(p, "_S5_", 4))
			continue;
		q = p + 4;
		if (*q++ != 0x12)			/* PackageOp */
			continue;
		q += 1 + (*q >> 6);			/* PkgLength */
		q++;					/* NumElements */
		if (q >= end)
			return -1;
		switch (*q) {
		case 0x00: return 0;			/* ZeroOp */
		case 0x01: return 1;			/* OneOp */
		case 0x0a: return q + 1 < end ? q[1] : -1;	/* BytePrefix */
		default: return *q < 8 ? *q : -1;
		}
	}
	return -1;
}

/* ---- a little AML: find a device by its _HID/_CID string, read its names ---- */

/* PkgLength at @p: the package's end, or NULL if it runs past @end. */
static const uint8_t *aml_pkg_end(const uint8_t *p, const uint8_t *end)
{
	unsigned int n = p[0] >> 6, i;
	uint32_t len = n ? p[0] & 0x0f : p[0] & 0x3f;

	if (p + 1 + n > end)
		return NULL;
	for (i = 0; i < n; i++)
		len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	return len <= (uint32_t)(end - p) ? p + len : NULL;
}

/* An integer constant at *p (advanced past it). */
static bool aml_int(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int n, i;

	if (*p >= end)
		return false;
	switch (**p) {
	case 0x00: case 0x01: *v = **p; (*p)++; return true;
	case 0xff: *v = ~0ull; (*p)++; return true;
	case 0x0a: n = 1; break;
	case 0x0b: n = 2; break;
	case 0x0c: n = 4; break;
	case 0x0e: n = 8; break;
	default: return false;
	}
	if (*p + 1 + n > end)
		return false;
	for (*v = 0, i = 0; i < n; i++)
		*v |= (uint64_t)(*p)[1 + i] << (8 * i);
	*p += 1 + n;
	return true;
}

/* In [p, end): Name(@name, ...) with @op (0x0d String, 0x11 Buffer, 0x12
 * Package) as its object; returns the byte after @op, or NULL. */
static const uint8_t *aml_find_name(const uint8_t *p, const uint8_t *end, const char *name,
				    uint8_t op)
{
	for (; p + 6 <= end; p++)
		if (p[0] == 0x08 && !memcmp(p + 1, name, 4) && p[5] == op)
			return p + 6;
	return NULL;
}

/* The body of the first Device() whose _HID or _CID is the string @id. */
static bool aml_find_device(uint64_t dsdt, const char *id, const uint8_t **body,
			    const uint8_t **body_end)
{
	const struct sdt_header *h = pa(dsdt);
	const uint8_t *p = pa(dsdt), *end = p + h->length, *dend, *s;
	size_t n = strlen(id) + 1;

	for (p += sizeof(*h); p + 3 < end; p++) {
		if (p[0] != 0x5b || p[1] != 0x82 || !(dend = aml_pkg_end(p + 2, end)))
			continue;
		for (s = p + 3; s + n <= dend; s++) {
			if (memcmp(s, id, n) || s - p < 7 || s[-1] != 0x0d ||
			    (memcmp(s - 5, "_HID", 4) && memcmp(s - 5, "_CID", 4)))
				continue;
			*body = p + 3 + ((p[2] >> 6) & 3);
			*body_end = dend;
			return true;
		}
	}
	return false;
}

/* \_SB.VGEN: ADDR is Package(2) { low 32 bits, high 32 bits }. */
static void find_vmgenid(uint64_t dsdt)
{
	const uint8_t *b, *e, *q, *pend;
	uint64_t lo, hi;

	if (!aml_find_device(dsdt, "VM_Gen_Counter", &b, &e) ||
	    !(q = aml_find_name(b, e, "ADDR", 0x12)) || !(pend = aml_pkg_end(q, e)))
		return;
	q += 1 + (q[0] >> 6);
	if (q < pend && *q++ == 2 && aml_int(&q, pend, &lo) && aml_int(&q, pend, &hi)) {
		info.vmgenid = true;
		info.vmgenid_addr = (lo & 0xffffffffull) | hi << 32;
	}
}

/* The GED's _CRS: the first (extended) interrupt descriptor. */
static void find_ged(uint64_t dsdt)
{
	const uint8_t *b, *e, *q, *bend;
	uint64_t size;

	if (!aml_find_device(dsdt, "ACPI0013", &b, &e) ||
	    !(q = aml_find_name(b, e, "_CRS", 0x11)) || !(bend = aml_pkg_end(q, e)))
		return;
	q += 1 + (q[0] >> 6);
	if (!aml_int(&q, bend, &size))
		return;
	while (q + 3 <= bend) {
		uint32_t len = q[0] & 0x80 ? 3u + (q[1] | (uint32_t)q[2] << 8) : 1u + (q[0] & 7);

		if (q + len > bend || q[0] == 0x79)	/* end tag */
			return;
		if (q[0] == 0x89 && len >= 9 && q[4] >= 1) {
			info.ged = true;
			info.ged_edge = q[3] & 2;
			info.ged_active_low = q[3] & 4;
			info.ged_gsi = (uint32_t)q[5] | (uint32_t)q[6] << 8 | (uint32_t)q[7] << 16 |
				       (uint32_t)q[8] << 24;
			return;
		}
		q += len;
	}
}

static void parse_madt(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h + 44, *end = (const uint8_t *)h + h->length;

	info.madt = true;
	info.lapic_addr = *(const uint32_t *)((const uint8_t *)h + 36);
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		switch (p[0]) {
		case 0:	/* processor local APIC */
		case 9: {	/* processor local x2APIC */
			uint32_t flags = p[0] == 0 ? *(const uint32_t *)(p + 4) : *(const uint32_t *)(p + 8);
			uint32_t id = p[0] == 0 ? p[3] : *(const uint32_t *)(p + 4);

			if (flags & 1) {
				if (info.ncpus < GUEST_MAX_CPUS)
					info.apic_ids[info.ncpus] = id;
				info.ncpus++;
			} else {
				info.ncpus_disabled++;
			}
			break;
		}
		case 1:	/* IOAPIC */
			if (info.nioapics < ARRAY_SIZE(info.ioapics)) {
				info.ioapics[info.nioapics].id = p[2];
				info.ioapics[info.nioapics].addr = *(const uint32_t *)(p + 4);
				info.ioapics[info.nioapics].gsi_base = *(const uint32_t *)(p + 8);
				info.nioapics++;
			}
			break;
		case 2:	/* interrupt source override */
			if (info.noverrides < ARRAY_SIZE(info.overrides)) {
				info.overrides[info.noverrides].source = p[3];
				info.overrides[info.noverrides].gsi = *(const uint32_t *)(p + 4);
				info.overrides[info.noverrides].flags = *(const uint16_t *)(p + 8);
				info.noverrides++;
			}
			break;
		case 5:	/* local APIC address override */
			info.lapic_addr = (uint32_t)*(const uint64_t *)(p + 4);
			break;
		}
		p += p[1];
	}
}

static void parse_fadt(const struct sdt_header *h)
{
	const uint8_t *b = (const uint8_t *)h;

	info.fadt = true;
	if (h->length >= 116)
		info.fadt_flags = *(const uint32_t *)(b + 112);
	info.hw_reduced = info.fadt_flags & (1u << 20);
	if (h->length >= 68)
		info.pm1a_cnt = *(const uint32_t *)(b + 64);
	if (h->length >= 256) {
		memcpy(&info.sleep_ctl, b + 244, sizeof(info.sleep_ctl));
		info.has_sleep_ctl = info.sleep_ctl.address != 0;
	}
	info.dsdt = *(const uint32_t *)(b + 40);
	if (h->length >= 148 && *(const uint64_t *)(b + 140))
		info.dsdt = *(const uint64_t *)(b + 140);
}

static void add_table(uint64_t addr)
{
	const struct sdt_header *h = pa(addr);
	struct acpi_table_ref *t;

	if (info.ntables >= ACPI_MAX_TABLES || !addr)
		return;
	t = &info.tables[info.ntables++];
	t->addr = addr;
	copy_str(t->sig, h->sig, 4);
	copy_str(t->oem_id, h->oem_id, 6);
	copy_str(t->oem_table_id, h->oem_table_id, 8);
	t->length = h->length;
	t->revision = h->revision;
	t->checksum_ok = h->length >= sizeof(*h) && h->length < (64u << 20) && sum(h, h->length) == 0;
	if (!t->checksum_ok)
		return;
	if (!memcmp(h->sig, "APIC", 4) && !info.madt)
		parse_madt(h);
	else if (!memcmp(h->sig, "FACP", 4) && !info.fadt)
		parse_fadt(h);
}

const struct acpi_info *acpi_get(void)
{
	const struct rsdp *r;
	const struct sdt_header *root;
	uint32_t n, i;

	if (parsed)
		return info.rsdp ? &info : NULL;
	parsed = true;
	info.s5_slp_typ = -1;
	info.rsdp = find_rsdp();
	if (!info.rsdp) {
		error = "no RSDP (start_info rsdp_paddr = 0 and none in 0xe0000-0xfffff)";
		return NULL;
	}
	r = pa(info.rsdp);
	if (!rsdp_valid(r)) {
		error = "invalid RSDP (signature or checksum)";
		info.rsdp = 0;
		return NULL;
	}
	info.rsdp_revision = r->revision;
	copy_str(info.rsdp_oem, r->oem_id, 6);
	info.xsdt = r->revision >= 2 && r->xsdt;
	info.root = info.xsdt ? r->xsdt : r->rsdt;
	root = pa(info.root);
	if (!info.root || memcmp(root->sig, info.xsdt ? "XSDT" : "RSDT", 4) ||
	    root->length < sizeof(*root) || sum(root, root->length)) {
		error = "invalid XSDT/RSDT";
		info.rsdp = 0;
		return NULL;
	}
	add_table(info.root);
	n = (root->length - sizeof(*root)) / (info.xsdt ? 8 : 4);
	for (i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)root + sizeof(*root) + i * (info.xsdt ? 8 : 4);

		add_table(info.xsdt ? *(const uint64_t *)e : *(const uint32_t *)e);
	}
	if (info.fadt && info.dsdt) {
		add_table(info.dsdt);
		info.s5_slp_typ = find_s5(info.dsdt);
		if (info.tables[info.ntables - 1].checksum_ok &&
		    !memcmp(info.tables[info.ntables - 1].sig, "DSDT", 4)) {
			find_vmgenid(info.dsdt);
			find_ged(info.dsdt);
		}
	}
	error = NULL;
	return &info;
}

const char *acpi_error(void)
{
	return error;
}

void acpi_poweroff(void)
{
	const struct acpi_info *a = acpi_get();
	uint32_t typ;

	if (!a || !a->fadt)
		return;
	typ = a->s5_slp_typ >= 0 ? (uint32_t)a->s5_slp_typ : 5;
	if (a->hw_reduced) {
		uint8_t v = (uint8_t)(((typ & 7) << 2) | (1u << 5));

		if (!a->has_sleep_ctl)
			return;
		if (a->sleep_ctl.space_id == 1)
			outb((uint16_t)a->sleep_ctl.address, v);
		else if (a->sleep_ctl.space_id == 0)
			mmio_write8(a->sleep_ctl.address, v);
	} else if (a->pm1a_cnt) {
		uint16_t cur = inw((uint16_t)a->pm1a_cnt);

		outw((uint16_t)a->pm1a_cnt, (uint16_t)((cur & ~0x3c00u) | ((typ & 7) << 10) | (1u << 13)));
	}
	mdelay(100);
}
