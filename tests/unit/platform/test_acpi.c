// SPDX-License-Identifier: MIT
/* Unit tests of the ACPI tables, walked from the RSDP as a guest would. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "arch/x86/platform/platform.h"
#include "guest_ram.h"
#include "harness.h"

#define AREA_START 0xe0000u
#define AREA_END 0x100000u

/* Name(_S5_, Package(2) { 5, 5 }) as AML. */
static const uint8_t s5_aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02,
				  0x0a, 0x05, 0x0a, 0x05 };

struct madt_seen {
	unsigned int lapics, ioapics, isos, nmis;
	int ids_in_order;
	uint8_t ioapic_id;
	uint32_t ioapic_addr, ioapic_gsi_base;
	int irq0_gsi;
	int nmi_lint;
};

/* The RSDP: "RSD PTR " on a 16-byte boundary with a valid v1 checksum. */
static uint32_t find_rsdp(const uint8_t *mem)
{
	for (uint32_t a = AREA_START; a < AREA_END; a += 16)
		if (!memcmp(mem + a, "RSD PTR ", 8) && byte_sum(mem + a, 20) == 0)
			return a;
	return 0;
}

/* A table at @gpa: inside the area, @sig, length >= 36, checksum 0. */
static const uint8_t *table_at(const uint8_t *mem, uint64_t gpa, const char *sig)
{
	const uint8_t *t = mem + gpa;
	uint32_t len;

	if (gpa < AREA_START || gpa + 36 > AREA_END || memcmp(t, sig, 4))
		return NULL;
	len = rd32(t + 4);
	if (len < 36 || gpa + len > AREA_END || byte_sum(t, len))
		return NULL;
	if (memcmp(t + 10, "KITE  KITEVM  ", 14) || memcmp(t + 28, "KITE", 4))
		return NULL;
	return t;
}

static void madt_entry(struct madt_seen *s, const uint8_t *e)
{
	switch (e[0]) {
	case 0:
		s->ids_in_order &= e[2] == s->lapics && e[3] == s->lapics &&
				   rd32(e + 4) == 1 && e[1] == 8;
		s->lapics++;
		break;
	case 1:
		s->ioapics++;
		s->ioapic_id = e[2];
		s->ioapic_addr = rd32(e + 4);
		s->ioapic_gsi_base = rd32(e + 8);
		break;
	case 2:
		s->isos++;
		if (e[2] == 0 && e[3] == 0 && rd16(e + 8) == 0)
			s->irq0_gsi = (int)rd32(e + 4);
		break;
	case 4:
		s->nmis++;
		if (e[2] == 0xff)
			s->nmi_lint = e[5];
		break;
	default:
		break;
	}
}

/* Walk the MADT's entries by their length bytes; -1 on an overrun. */
static int parse_madt(const uint8_t *madt, struct madt_seen *s)
{
	uint32_t len = rd32(madt + 4);
	uint32_t off = 44;

	memset(s, 0, sizeof(*s));
	s->ids_in_order = 1;
	s->irq0_gsi = s->nmi_lint = -1;
	while (off + 2 <= len) {
		if (madt[off + 1] < 2 || off + madt[off + 1] > len)
			return -1;
		madt_entry(s, madt + off);
		off += madt[off + 1];
	}
	return off == len ? 0 : -1;
}

/* Where the walk got to. */
struct acpi_seen {
	uint32_t rsdp;
	const uint8_t *xsdt, *fadt, *dsdt, *madt;
};

static void walk_tables(const uint8_t *mem, struct acpi_seen *w)
{
	const uint8_t *r;

	memset(w, 0, sizeof(*w));
	w->rsdp = find_rsdp(mem);
	CHECK(w->rsdp);
	r = mem + w->rsdp;
	CHECK_EQ(r[15], 2);			/* revision */
	CHECK(!memcmp(r + 9, "KITE  ", 6));
	CHECK_EQ(rd32(r + 20), 36);
	CHECK_EQ(byte_sum(r, 36), 0);		/* extended checksum */
	w->xsdt = table_at(mem, rd64(r + 24), "XSDT");
	CHECK(w->xsdt);
	CHECK_EQ(rd32(w->xsdt + 4), 36 + 2 * 8);
	w->fadt = table_at(mem, rd64(w->xsdt + 36), "FACP");
	w->madt = table_at(mem, rd64(w->xsdt + 44), "APIC");
	CHECK(w->fadt);
	CHECK(w->madt);
	w->dsdt = table_at(mem, rd64(w->fadt + 140), "DSDT");	/* X_DSDT */
	CHECK(w->dsdt);
}

static void check_fadt(const uint8_t *f, const uint8_t *mem, const uint8_t *dsdt)
{
	CHECK_EQ(rd32(f + 4), 276);
	CHECK_EQ(f[8], 6);			/* revision */
	CHECK_EQ(f[131], 3);			/* minor: 6.3 */
	CHECK(rd32(f + 112) & (1u << 20));	/* HW_REDUCED_ACPI */
	CHECK_EQ(rd16(f + 109), 0x7);		/* legacy, 8042, no VGA */
	CHECK_EQ(rd32(f + 40), (uint32_t)(dsdt - mem));	/* 32-bit DSDT too */
	CHECK_EQ(f[244], 1);			/* SLEEP_CONTROL: system I/O */
	CHECK_EQ(f[245], 8);
	CHECK_EQ(rd64(f + 248), X86_PM_SLEEP_CTL_PORT);
	CHECK_EQ(f[256], 1);			/* SLEEP_STATUS */
	CHECK_EQ(f[257], 8);
	CHECK_EQ(rd64(f + 260), X86_PM_SLEEP_STS_PORT);
	CHECK(!memcmp(f + 268, "KITE", 4));	/* hypervisor vendor */
}

static void check_dsdt_has_s5(const uint8_t *d)
{
	uint32_t len = rd32(d + 4);
	int found = 0;

	for (uint32_t off = 36; off + sizeof(s5_aml) <= len; off++)
		found |= !memcmp(d + off, s5_aml, sizeof(s5_aml));
	CHECK(found);
	CHECK_EQ(s5_aml[9], X86_PM_SLP_TYP_S5);
}

static void check_madt(const uint8_t *m, unsigned int n)
{
	struct madt_seen s;

	CHECK_EQ(rd32(m + 36), 0xfee00000);
	CHECK_EQ(rd32(m + 40), 1);		/* PCAT_COMPAT */
	CHECK_EQ(parse_madt(m, &s), 0);
	CHECK_EQ(s.lapics, n);
	CHECK(s.ids_in_order);
	CHECK_EQ(s.ioapics, 1);
	CHECK_EQ(s.ioapic_id, n);
	CHECK_EQ(s.ioapic_addr, 0xfec00000);
	CHECK_EQ(s.ioapic_gsi_base, 0);
	CHECK_EQ(s.isos, 1);
	CHECK_EQ(s.irq0_gsi, 2);
	CHECK_EQ(s.nmis, 1);
	CHECK_EQ(s.nmi_lint, 1);
}

static void tables_walk_from_rsdp_with_valid_checksums(void)
{
	static const unsigned int cases[] = { 1, 2, 8, X86_MAX_CPUS };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct x86_acpi_config cfg = { .ncpus = cases[k] };
		uint64_t rsdp = 0;
		struct guest_ram g;
		struct acpi_seen w;
		int ret;

		guest_ram_init(&g, GUEST_RAM_SIZE);
		ret = x86_acpi_write(&g.as, &cfg, &rsdp);
		walk_tables(g.mem, &w);
		if (w.madt && w.dsdt && w.fadt) {
			check_fadt(w.fadt, g.mem, w.dsdt);
			check_dsdt_has_s5(w.dsdt);
			check_madt(w.madt, cfg.ncpus);
		}
		guest_ram_free(&g);
		CHECK_EQ(ret, 0);
		CHECK_EQ(rsdp, X86_ACPI_START);
		CHECK_EQ(w.rsdp, rsdp);
		CHECK(w.madt && w.dsdt && w.fadt);
		if (harness_cur_failed)
			return;
	}
}

static void bad_ncpus_returns_einval(void)
{
	struct x86_acpi_config zero = { .ncpus = 0 }, big = { .ncpus = X86_MAX_CPUS + 1 };
	struct guest_ram g;
	int r0, r1, r2;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	r0 = x86_acpi_write(&g.as, &zero, NULL);
	r1 = x86_acpi_write(&g.as, &big, NULL);
	r2 = x86_acpi_write(&g.as, NULL, NULL);
	CHECK(find_rsdp(g.mem) == 0);
	guest_ram_free(&g);
	CHECK_EQ(r0, -EINVAL);
	CHECK_EQ(r1, -EINVAL);
	CHECK_EQ(r2, -EINVAL);
}

static void unmapped_area_returns_efault_with_message(void)
{
	struct x86_acpi_config cfg = { .ncpus = 2 };
	uint64_t rsdp = 0;
	struct guest_ram g;
	int ret;

	guest_ram_init(&g, 0xe0000);	/* RAM ends where the tables go */
	err_clear();
	ret = x86_acpi_write(&g.as, &cfg, &rsdp);
	guest_ram_free(&g);
	CHECK_EQ(ret, -EFAULT);
	CHECK_EQ(rsdp, 0);
	CHECK_STR_CONTAINS(err_msg(), "ACPI");
}

static void corrupted_byte_fails_the_checksum(void)
{
	struct x86_acpi_config cfg = { .ncpus = 4 };
	struct guest_ram g;
	struct acpi_seen w;
	uint8_t *madt, *rsdp;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	CHECK_EQ(x86_acpi_write(&g.as, &cfg, NULL), 0);
	walk_tables(g.mem, &w);
	CHECK(w.madt);
	madt = g.mem + (w.madt - g.mem);
	madt[44 + 3] ^= 1;			/* APIC id of vCPU 0 */
	CHECK(byte_sum(madt, rd32(madt + 4)) != 0);
	CHECK(table_at(g.mem, (uint64_t)(w.madt - g.mem), "APIC") == NULL);
	rsdp = g.mem + w.rsdp;
	rsdp[30] ^= 1;				/* XSDT address, past byte 20 */
	CHECK_EQ(byte_sum(rsdp, 20), 0);
	CHECK(byte_sum(rsdp, 36) != 0);
	guest_ram_free(&g);
}

static int contains(const uint8_t *t, uint32_t len, const void *what, size_t n)
{
	for (uint32_t off = 36; off + n <= len; off++)
		if (!memcmp(t + off, what, n))
			return 1;
	return 0;
}

/* The tables of a VM with a PCI bus: XSDT -> FACP, APIC, MCFG. */
struct pci_seen {
	const uint8_t *xsdt, *mcfg, *dsdt;
};

static void walk_pci_tables(const uint8_t *mem, struct pci_seen *p)
{
	uint32_t rsdp = find_rsdp(mem);
	const uint8_t *fadt;

	memset(p, 0, sizeof(*p));
	CHECK(rsdp);
	p->xsdt = table_at(mem, rd64(mem + rsdp + 24), "XSDT");
	CHECK(p->xsdt);
	CHECK_EQ(rd32(p->xsdt + 4), 36 + 3 * 8);
	fadt = table_at(mem, rd64(p->xsdt + 36), "FACP");
	CHECK(fadt);
	CHECK(table_at(mem, rd64(p->xsdt + 44), "APIC"));
	p->mcfg = table_at(mem, rd64(p->xsdt + 52), "MCFG");
	p->dsdt = table_at(mem, rd64(fadt + 140), "DSDT");
}

static void pci_bus_adds_a_checksummed_mcfg_for_ecam_bus_0(void)
{
	struct x86_acpi_config cfg = { .ncpus = 2, .pci = true };
	struct guest_ram g;
	struct pci_seen p;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	CHECK_EQ(x86_acpi_write(&g.as, &cfg, NULL), 0);
	walk_pci_tables(g.mem, &p);
	CHECK(p.mcfg);				/* table_at checked the checksum */
	CHECK_EQ(rd32(p.mcfg + 4), 44 + 16);
	CHECK_EQ(p.mcfg[8], 1);			/* revision */
	CHECK_EQ(rd64(p.mcfg + 44), X86_PCI_ECAM_START);
	CHECK_EQ(rd16(p.mcfg + 52), 0);		/* segment */
	CHECK_EQ(p.mcfg[54], 0);		/* buses 0..0 */
	CHECK_EQ(p.mcfg[55], 0);
	guest_ram_free(&g);
}

static void pci_bus_puts_a_host_bridge_in_the_dsdt(void)
{
	static const uint8_t pnp0a08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	static const uint8_t pnp0a03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	static const uint8_t prt_slot3[] = { 0x0c, 0xff, 0xff, 0x03, 0x00, 0x00, 0x00,
					     0x0a, 16 + 3 };
	struct x86_acpi_config cfg = { .ncpus = 1, .pci = true };
	struct guest_ram g;
	struct pci_seen p;
	uint32_t len;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	CHECK_EQ(x86_acpi_write(&g.as, &cfg, NULL), 0);
	walk_pci_tables(g.mem, &p);
	CHECK(p.dsdt);
	len = rd32(p.dsdt + 4);
	check_dsdt_has_s5(p.dsdt);
	CHECK(contains(p.dsdt, len, "PCI0", 4));
	CHECK(contains(p.dsdt, len, "_PRT", 4));
	CHECK(contains(p.dsdt, len, "PRES", 4));
	CHECK(contains(p.dsdt, len, pnp0a08, sizeof(pnp0a08)));
	CHECK(contains(p.dsdt, len, pnp0a03, sizeof(pnp0a03)));
	CHECK(contains(p.dsdt, len, prt_slot3, sizeof(prt_slot3)));
	guest_ram_free(&g);
}

static void no_pci_means_no_mcfg_and_no_host_bridge(void)
{
	struct x86_acpi_config cfg = { .ncpus = 2 };
	struct guest_ram g;
	struct acpi_seen w;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	CHECK_EQ(x86_acpi_write(&g.as, &cfg, NULL), 0);
	walk_tables(g.mem, &w);			/* XSDT: FACP and APIC only */
	CHECK(w.dsdt);
	CHECK(!contains(w.dsdt, rd32(w.dsdt + 4), "PCI0", 4));
	guest_ram_free(&g);
}

/* Write @len bytes of @t to @dir/@name. */
static int write_file(const char *dir, const char *name, const uint8_t *t, uint32_t len)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	n = fwrite(t, 1, len, f);
	return fclose(f) == 0 && n == len ? 0 : -1;
}

/* iasl -d must disassemble the DSDT and the disassembly must compile again. */
static void dsdt_with_pci_round_trips_through_iasl(void)
{
	struct x86_acpi_config cfg = { .ncpus = 2, .pci = true };
	char dir[] = "/tmp/kite-acpi-XXXXXX", cmd[512];
	struct guest_ram g;
	struct pci_seen p;
	int rc = -1;

	if (system("command -v iasl >/dev/null 2>&1") != 0)
		SKIP("iasl not installed");
	CHECK(mkdtemp(dir) != NULL);
	guest_ram_init(&g, GUEST_RAM_SIZE);
	CHECK_EQ(x86_acpi_write(&g.as, &cfg, NULL), 0);
	walk_pci_tables(g.mem, &p);
	if (p.dsdt && p.mcfg &&
	    !write_file(dir, "dsdt.dat", p.dsdt, rd32(p.dsdt + 4)) &&
	    !write_file(dir, "mcfg.dat", p.mcfg, rd32(p.mcfg + 4))) {
		snprintf(cmd, sizeof(cmd),
			 "cd %s && iasl -d dsdt.dat mcfg.dat >log 2>&1 && "
			 "grep -q PNP0A08 dsdt.dsl && grep -q _PRT dsdt.dsl && "
			 "iasl -tc dsdt.dsl >>log 2>&1", dir);
		rc = system(cmd);
	}
	guest_ram_free(&g);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	CHECK_EQ(rc, 0);
}

int main(void)
{
	RUN(tables_walk_from_rsdp_with_valid_checksums);
	RUN(bad_ncpus_returns_einval);
	RUN(unmapped_area_returns_efault_with_message);
	RUN(corrupted_byte_fails_the_checksum);
	RUN(pci_bus_adds_a_checksummed_mcfg_for_ecam_bus_0);
	RUN(pci_bus_puts_a_host_bridge_in_the_dsdt);
	RUN(no_pci_means_no_mcfg_and_no_host_bridge);
	RUN(dsdt_with_pci_round_trips_through_iasl);
	return harness_done();
}
