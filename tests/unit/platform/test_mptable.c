// SPDX-License-Identifier: MIT
/* Unit tests of the MP table, parsed back from a fake guest like Linux does. */
#include <errno.h>
#include <stdint.h>

#include "arch/x86/platform/platform.h"
#include "guest_ram.h"
#include "harness.h"

#define EBDA_END 0xa0000u

/* What a parse of the table found. */
struct mp_seen {
	unsigned int cpus, bsps, buses, ioapics, io_ints, local_ints;
	unsigned int next_apic_id;	/* processor ids come in order 0, 1, ... */
	int ids_in_order;
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	int irq_pin[16];		/* IOAPIC pin of ISA IRQ n (INT), -1 none */
	int extint_pin;			/* pin of the 8259's ExtINT, -1 none */
	int lint_extint, lint_nmi;	/* LINT# of ExtINT / NMI to all LAPICs */
};

/* The floating pointer: "_MP_" on a 16-byte boundary in the EBDA's first KiB. */
static const uint8_t *find_mpf(const uint8_t *mem)
{
	for (uint32_t a = 0x9fc00; a < EBDA_END; a += 16)
		if (!memcmp(mem + a, "_MP_", 4) && byte_sum(mem + a, 16) == 0)
			return mem + a;
	return NULL;
}

static void parse_io_int(struct mp_seen *s, const uint8_t *e)
{
	if (e[1] == 0 && e[4] == 0 && e[5] < 16 && e[6] == s->ioapic_id)
		s->irq_pin[e[5]] = e[7];
	if (e[1] == 3 && e[6] == s->ioapic_id)
		s->extint_pin = e[7];
	s->io_ints++;
}

static void parse_local_int(struct mp_seen *s, const uint8_t *e)
{
	if (e[6] == 0xff && e[1] == 3)
		s->lint_extint = e[7];
	if (e[6] == 0xff && e[1] == 1)
		s->lint_nmi = e[7];
	s->local_ints++;
}

/* Walk the entries; returns 0, or -1 on an unknown type or an overrun. */
static int parse_entries(struct mp_seen *s, const uint8_t *p, const uint8_t *end,
			 unsigned int count)
{
	for (unsigned int n = 0; n < count; n++) {
		size_t len = p < end && p[0] == 0 ? 20 : 8;

		if (p >= end || p[0] > 4 || (size_t)(end - p) < len)
			return -1;
		if (p[0] == 0) {
			s->cpus++;
			s->bsps += !!(p[3] & 2);
			s->ids_in_order &= p[1] == s->next_apic_id++ && (p[3] & 1) &&
					   p[2] == 0x14;
		} else if (p[0] == 1) {
			s->buses += !memcmp(p + 2, "ISA   ", 6);
		} else if (p[0] == 2) {
			s->ioapics++;
			s->ioapic_id = p[1];
			s->ioapic_addr = rd32(p + 4);
		} else if (p[0] == 3) {
			parse_io_int(s, p);
		} else {
			parse_local_int(s, p);
		}
		p += len;
	}
	return p == end ? 0 : -1;
}

static void seen_init(struct mp_seen *s)
{
	memset(s, 0, sizeof(*s));
	s->ids_in_order = 1;
	s->extint_pin = s->lint_extint = s->lint_nmi = -1;
	for (int i = 0; i < 16; i++)
		s->irq_pin[i] = -1;
}

/* Check headers and checksums of the table in @mem; fill @s. */
static void parse_mptable(const uint8_t *mem, struct mp_seen *s, int *ok)
{
	const uint8_t *mpf = find_mpf(mem), *cfg;
	uint32_t cfg_addr;
	uint16_t len;

	*ok = 0;
	seen_init(s);
	CHECK(mpf);
	CHECK_EQ(mpf[8], 1);		/* length: 1 paragraph */
	CHECK_EQ(mpf[9], 4);		/* spec 1.4 */
	CHECK_EQ(mpf[11], 0);		/* config table present */
	cfg_addr = rd32(mpf + 4);
	CHECK(cfg_addr >= 0x9fc00 && cfg_addr + 44 <= EBDA_END);
	cfg = mem + cfg_addr;
	len = rd16(cfg + 4);
	CHECK(!memcmp(cfg, "PCMP", 4));
	CHECK(cfg_addr + len <= EBDA_END);
	CHECK_EQ(byte_sum(cfg, len), 0);
	CHECK_EQ(cfg[6], 4);
	CHECK(!memcmp(cfg + 8, "KITE    KITEVM      ", 20));
	CHECK_EQ(rd32(cfg + 36), 0xfee00000);
	CHECK_EQ(rd16(cfg + 40), 0);	/* no extended table */
	CHECK_EQ(parse_entries(s, cfg + 44, cfg + len, rd16(cfg + 34)), 0);
	*ok = 1;
}

static void table_describes_every_vcpu_ioapic_and_isa_irq(void)
{
	static const unsigned int cases[] = { 1, 4, X86_MPTABLE_MAX_CPUS };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		unsigned int n = cases[k];
		struct guest_ram g;
		struct mp_seen s;
		int ok = 0, ret;

		seen_init(&s);
		guest_ram_init(&g, GUEST_RAM_SIZE);
		ret = x86_mptable_write(&g.as, n);
		if (!ret)
			parse_mptable(g.mem, &s, &ok);
		guest_ram_free(&g);
		CHECK_EQ(ret, 0);
		CHECK(ok);
		CHECK_EQ(s.cpus, n);
		CHECK_EQ(s.bsps, 1);
		CHECK(s.ids_in_order);
		CHECK_EQ(s.buses, 1);
		CHECK_EQ(s.ioapics, 1);
		CHECK_EQ(s.ioapic_id, n);
		CHECK_EQ(s.ioapic_addr, 0xfec00000);
		CHECK_EQ(s.io_ints, 16);
		CHECK_EQ(s.extint_pin, 0);
		CHECK_EQ(s.irq_pin[0], 2);
		CHECK_EQ(s.irq_pin[2], -1);	/* the cascade is not listed */
		for (int irq = 3; irq < 16; irq++)
			CHECK_EQ(s.irq_pin[irq], irq);
		CHECK_EQ(s.irq_pin[1], 1);
		CHECK_EQ(s.local_ints, 2);
		CHECK_EQ(s.lint_extint, 0);
		CHECK_EQ(s.lint_nmi, 1);
	}
}

static void bsp_is_vcpu_zero(void)
{
	struct guest_ram g;
	const uint8_t *cfg;
	int ret;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	ret = x86_mptable_write(&g.as, 4);
	cfg = find_mpf(g.mem) ? g.mem + rd32(find_mpf(g.mem) + 4) : NULL;
	CHECK_EQ(ret, 0);
	CHECK(cfg);
	CHECK_EQ(cfg[44], 0);		/* first entry: processor */
	CHECK_EQ(cfg[44 + 1], 0);	/* APIC id 0 */
	CHECK_EQ(cfg[44 + 3], 3);	/* enabled | BSP */
	CHECK_EQ(cfg[64 + 3], 1);	/* APIC id 1: enabled only */
	guest_ram_free(&g);
}

static void too_many_cpus_returns_e2big_and_writes_nothing(void)
{
	struct guest_ram g;
	int ret41, ret64;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	err_clear();
	ret41 = x86_mptable_write(&g.as, X86_MPTABLE_MAX_CPUS + 1);
	ret64 = x86_mptable_write(&g.as, 64);
	CHECK(find_mpf(g.mem) == NULL);
	guest_ram_free(&g);
	CHECK_EQ(ret41, -E2BIG);
	CHECK_EQ(ret64, -E2BIG);
	CHECK_STR_CONTAINS(err_msg(), "64 vCPUs");
}

static void zero_cpus_returns_einval(void)
{
	struct guest_ram g;
	int ret;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	ret = x86_mptable_write(&g.as, 0);
	guest_ram_free(&g);
	CHECK_EQ(ret, -EINVAL);
}

static void unmapped_ebda_returns_efault_with_message(void)
{
	struct guest_ram g;
	int ret;

	guest_ram_init(&g, 0x9f000);	/* RAM ends before the EBDA */
	err_clear();
	ret = x86_mptable_write(&g.as, 2);
	guest_ram_free(&g);
	CHECK_EQ(ret, -EFAULT);
	CHECK_STR_CONTAINS(err_msg(), "MP table");
}

static void corrupted_byte_fails_the_checksum(void)
{
	struct guest_ram g;
	const uint8_t *mpf;
	uint8_t *cfg;
	uint16_t len;

	guest_ram_init(&g, GUEST_RAM_SIZE);
	CHECK_EQ(x86_mptable_write(&g.as, 2), 0);
	mpf = find_mpf(g.mem);
	CHECK(mpf);
	cfg = g.mem + rd32(mpf + 4);
	len = rd16(cfg + 4);
	CHECK_EQ(byte_sum(cfg, len), 0);
	cfg[len - 1] ^= 0x40;		/* last local interrupt entry */
	CHECK(byte_sum(cfg, len) != 0);
	g.mem[mpf - g.mem + 4] ^= 1;	/* floating pointer's address */
	CHECK(find_mpf(g.mem) == NULL);
	guest_ram_free(&g);
}

int main(void)
{
	RUN(table_describes_every_vcpu_ioapic_and_isa_irq);
	RUN(bsp_is_vcpu_zero);
	RUN(too_many_cpus_returns_e2big_and_writes_nothing);
	RUN(zero_cpus_returns_einval);
	RUN(unmapped_ebda_returns_efault_with_message);
	RUN(corrupted_byte_fails_the_checksum);
	return harness_done();
}
