// SPDX-License-Identifier: MIT
/*
 * mptable.c - the Intel MultiProcessor Specification 1.4 table.
 *
 * The floating pointer sits at X86_MPTABLE (the first KiB of the EBDA, where
 * Linux scans) and the configuration table follows it directly.  Both must
 * end by 0xa0000, which bounds the vCPU count: 16 (floating pointer) + 44
 * (header) + 8 (bus) + 8 (IOAPIC) + 16 * 8 (I/O interrupts) + 2 * 8 (local
 * interrupts) = 220 bytes, plus 20 per processor, so at most
 * (1024 - 220) / 20 = 40 vCPUs (X86_MPTABLE_MAX_CPUS).  Larger guests get
 * their CPUs from the ACPI MADT; the caller skips the MP table for them.
 *
 * Interrupt routing follows the MP spec's default configuration: the 8259
 * (ExtINT) on IOAPIC pin 0, ISA IRQ 0 (the PIT) on pin 2, IRQ 2 (the cascade)
 * not listed, every other ISA IRQ n on pin n: 16 I/O interrupt entries.
 * The VMM's GSI routing must match (GSI 0 -> IOAPIC pin 2, as QEMU does).
 */
#include <errno.h>

#include "arch/x86/platform/platform.h"
#include "arch/x86/platform/table_util.h"

#define MP_SPEC_REV		4	/* MP spec 1.4 */
#define MP_APIC_VERSION		0x14
#define MP_IOAPIC_VERSION	0x11
#define MP_CPU_SIGNATURE	0x600	/* family 6, model 0, stepping 0 */
#define MP_CPU_FEATURES		0x201	/* CPUID.1:EDX FPU | APIC */
#define MP_ISA_BUS_ID		0
#define MP_ALL_LAPICS		0xff
#define MP_NR_ISA_IRQS		16
#define MP_EBDA_END		0xa0000ULL

enum mp_entry_type {
	MP_ENTRY_PROCESSOR = 0,
	MP_ENTRY_BUS = 1,
	MP_ENTRY_IOAPIC = 2,
	MP_ENTRY_IO_INT = 3,
	MP_ENTRY_LOCAL_INT = 4,
};

enum mp_int_type { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };

#define MP_CPU_ENABLED		(1u << 0)
#define MP_CPU_BSP		(1u << 1)
#define MP_IOAPIC_ENABLED	(1u << 0)
#define MP_IRQ_CONFORMING	0	/* polarity and trigger of the bus */

struct mp_floating {
	char signature[4];		/* "_MP_" */
	uint32_t config_addr;
	uint8_t length;			/* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];		/* all 0: config table present, virtual wire */
} __attribute__((packed));
static_assert(sizeof(struct mp_floating) == 16, "MP floating pointer");

struct mp_config {
	char signature[4];		/* "PCMP" */
	uint16_t length;		/* base table, header included */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));
static_assert(sizeof(struct mp_config) == 44, "MP configuration table header");

struct mp_processor {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_version;
	uint8_t flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));
static_assert(sizeof(struct mp_processor) == 20, "MP processor entry");

struct mp_bus {
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];
} __attribute__((packed));
static_assert(sizeof(struct mp_bus) == 8, "MP bus entry");

struct mp_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));
static_assert(sizeof(struct mp_ioapic) == 8, "MP IOAPIC entry");

/* I/O (type 3) and local (type 4) interrupt assignment entries. */
struct mp_intsrc {
	uint8_t type;
	uint8_t int_type;
	uint16_t flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_id;			/* IOAPIC id, or LAPIC id (0xff: all) */
	uint8_t dst_pin;		/* IOAPIC INTIN#, or LINT# */
} __attribute__((packed));
static_assert(sizeof(struct mp_intsrc) == 8, "MP interrupt entry");

#define MP_FIXED_SIZE (sizeof(struct mp_floating) + sizeof(struct mp_config) + \
		       sizeof(struct mp_bus) + sizeof(struct mp_ioapic) +      \
		       (MP_NR_ISA_IRQS + 2) * sizeof(struct mp_intsrc))
#define MP_MAX_SIZE	(MP_EBDA_END - X86_MPTABLE)

static_assert(MP_FIXED_SIZE + X86_MPTABLE_MAX_CPUS * sizeof(struct mp_processor)
	      <= MP_MAX_SIZE, "X86_MPTABLE_MAX_CPUS fits the EBDA");
static_assert(MP_FIXED_SIZE + (X86_MPTABLE_MAX_CPUS + 1) * sizeof(struct mp_processor)
	      > MP_MAX_SIZE, "X86_MPTABLE_MAX_CPUS is the largest that fits");

/* The table under construction: a host copy of the EBDA's first KiB. */
struct mp_builder {
	uint8_t buf[MP_MAX_SIZE];
	size_t len;		/* bytes used */
	uint16_t entries;	/* configuration table entries */
};

/* Append @size bytes of @entry (the caller checked the total size). */
static void mp_add(struct mp_builder *b, const void *entry, size_t size)
{
	memcpy(b->buf + b->len, entry, size);
	b->len += size;
	b->entries++;
}

static void mp_add_processors(struct mp_builder *b, unsigned int ncpus)
{
	for (unsigned int i = 0; i < ncpus; i++) {
		struct mp_processor p = {
			.type = MP_ENTRY_PROCESSOR,
			.apic_id = (uint8_t)i,
			.apic_version = MP_APIC_VERSION,
			.flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = MP_CPU_SIGNATURE,
			.features = MP_CPU_FEATURES,
		};

		mp_add(b, &p, sizeof(p));
	}
}

static void mp_add_intsrc(struct mp_builder *b, uint8_t type, uint8_t int_type,
			  uint8_t src_irq, uint8_t dst_id, uint8_t dst_pin)
{
	struct mp_intsrc e = {
		.type = type,
		.int_type = int_type,
		.flags = MP_IRQ_CONFORMING,
		.src_bus = MP_ISA_BUS_ID,
		.src_irq = src_irq,
		.dst_id = dst_id,
		.dst_pin = dst_pin,
	};

	mp_add(b, &e, sizeof(e));
}

static void mp_add_interrupts(struct mp_builder *b, uint8_t ioapic_id)
{
	/* The 8259's INTR on pin 0; Linux uses it for its through-8259 timer
	 * fallback and for virtual-wire mode on shutdown. */
	mp_add_intsrc(b, MP_ENTRY_IO_INT, MP_EXTINT, 0, ioapic_id, 0);
	for (uint8_t irq = 0; irq < MP_NR_ISA_IRQS; irq++) {
		if (irq == 2)	/* cascade: never raised */
			continue;
		mp_add_intsrc(b, MP_ENTRY_IO_INT, MP_INT, irq, ioapic_id,
			      irq == 0 ? 2 : irq);
	}
	mp_add_intsrc(b, MP_ENTRY_LOCAL_INT, MP_EXTINT, 0, MP_ALL_LAPICS, 0);
	mp_add_intsrc(b, MP_ENTRY_LOCAL_INT, MP_NMI, 0, MP_ALL_LAPICS, 1);
}

/* Entries of the configuration table, after the header at buf + 16. */
static void mp_add_entries(struct mp_builder *b, unsigned int ncpus)
{
	const uint8_t ioapic_id = (uint8_t)ncpus;
	struct mp_bus bus = { .type = MP_ENTRY_BUS, .bus_id = MP_ISA_BUS_ID };
	struct mp_ioapic ioapic = {
		.type = MP_ENTRY_IOAPIC,
		.id = ioapic_id,
		.version = MP_IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED,
		.addr = (uint32_t)X86_IOAPIC_ADDR,
	};

	memcpy(bus.bus_type, "ISA   ", sizeof(bus.bus_type));
	mp_add_processors(b, ncpus);
	mp_add(b, &bus, sizeof(bus));
	mp_add(b, &ioapic, sizeof(ioapic));
	mp_add_interrupts(b, ioapic_id);
}

/* Fill the floating pointer and the configuration header, checksums last. */
static void mp_finish(struct mp_builder *b)
{
	struct mp_floating mpf = {
		.signature = { '_', 'M', 'P', '_' },
		.config_addr = (uint32_t)(X86_MPTABLE + sizeof(mpf)),
		.length = sizeof(mpf) / 16,
		.spec_rev = MP_SPEC_REV,
	};
	struct mp_config cfg = {
		.signature = { 'P', 'C', 'M', 'P' },
		.length = (uint16_t)(b->len - sizeof(mpf)),
		.spec_rev = MP_SPEC_REV,
		.entry_count = b->entries,
		.lapic_addr = (uint32_t)X86_LAPIC_ADDR,
	};

	TABLE_SET_ID(cfg.oem_id, "KITE");
	TABLE_SET_ID(cfg.product_id, "KITEVM");
	memcpy(b->buf + sizeof(mpf), &cfg, sizeof(cfg));
	b->buf[sizeof(mpf) + offsetof(struct mp_config, checksum)] =
		table_checksum(b->buf + sizeof(mpf), cfg.length);
	mpf.checksum = table_checksum(&mpf, sizeof(mpf));
	memcpy(b->buf, &mpf, sizeof(mpf));
}

/**
 * x86_mptable_write() - write the MP floating pointer and configuration table.
 * @as:		guest memory; [X86_MPTABLE, 0xa0000) must be mapped RAM
 * @ncpus:	vCPUs, 1..X86_MPTABLE_MAX_CPUS; APIC ids 0..ncpus-1, vCPU 0 the
 *		BSP, IOAPIC id @ncpus
 *
 * Return: 0; -EINVAL for ncpus 0, -E2BIG when the table would not fit below
 * 0xa0000, -EFAULT when the EBDA is not writable guest memory.
 */
int x86_mptable_write(const struct addr_space *as, unsigned int ncpus)
{
	struct mp_builder b;	/* 1 KiB */
	int ret;

	if (ncpus == 0)
		return err_set(-EINVAL, "MP table: no vCPUs");
	if (ncpus > X86_MPTABLE_MAX_CPUS)
		return err_set(-E2BIG,
			       "MP table: %u vCPUs do not fit in the EBDA (max %d)",
			       ncpus, X86_MPTABLE_MAX_CPUS);
	memset(&b, 0, sizeof(b));
	b.len = sizeof(struct mp_floating) + sizeof(struct mp_config);
	mp_add_entries(&b, ncpus);
	mp_finish(&b);
	ret = as_copy_to(as, X86_MPTABLE, b.buf, b.len);
	if (ret)
		return err_set(ret, "MP table: cannot write %zu bytes at 0x%llx",
			       b.len, (unsigned long long)X86_MPTABLE);
	return 0;
}
