// SPDX-License-Identifier: MIT
/*
 * acpi.c - the ACPI tables: RSDP, XSDT, FADT, DSDT, MADT.
 *
 * Layout in [X86_ACPI_START, X86_ACPI_END), each table 16-byte aligned:
 * RSDP (at X86_ACPI_START, where the guest scans), DSDT, FADT, MADT, XSDT.
 * With X86_MAX_CPUS vCPUs this is about 2.6 KiB of the 128 KiB area.
 *
 * Choices (ACPI 6.3):
 * - Hardware-reduced ACPI: no PM1 blocks, GPEs or SCI; power-off is the
 *   FADT's SLEEP_CONTROL_REG (I/O port X86_PM_SLEEP_CTL_PORT), written with
 *   SLP_TYP from \_S5 and SLP_EN.  No FACS (optional when hardware-reduced)
 *   and no RSDT (RSDP revision 2: guests use the XSDT).
 * - IAPC_BOOT_ARCH = LEGACY_DEVICES | 8042 | VGA_NOT_PRESENT: kite is a PC
 *   with COM1 and an i8042 (Linux skips probing the i8042 without the flag)
 *   and no VGA.  CMOS_RTC_NOT_PRESENT is left clear.
 * - MADT revision 5 with FADT 6.3: local APIC flags have "online capable";
 *   every vCPU is simply enabled.  One Interrupt Source Override, ISA IRQ 0
 *   -> GSI 2.  No IRQ 9 (SCI) override: a hardware-reduced machine has no
 *   SCI, and a level-triggered IRQ 9 would only surprise a device using it.
 */
#include <errno.h>

#include "arch/x86/platform/acpi_tables.h"
#include "arch/x86/platform/platform.h"
#include "arch/x86/platform/table_util.h"

#define ACPI_OEM_ID		"KITE"
#define ACPI_OEM_TABLE_ID	"KITEVM"
#define ACPI_CREATOR_ID		"KITE"
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_REVISION	1
#define ACPI_ALIGN		16

#define ACPI_FADT_REVISION	6
#define ACPI_FADT_MINOR		3	/* ACPI 6.3 */
#define ACPI_MADT_REVISION	5	/* ACPI 6.3 */
#define ACPI_DSDT_REVISION	2	/* 64-bit AML integers */
#define ACPI_XSDT_REVISION	1

/* AML opcodes (ACPI 6.3, section 20). */
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_PACKAGE_OP		0x12

/* Name(_S5_, Package() { SLP_TYPa, SLP_TYPb }) */
static const uint8_t dsdt_aml[] = {
	AML_NAME_OP, '_', 'S', '5', '_',
	AML_PACKAGE_OP,
	6,		/* PkgLength, one byte: itself + NumElements + 4 */
	2,		/* NumElements */
	AML_BYTE_PREFIX, X86_PM_SLP_TYP_S5,
	AML_BYTE_PREFIX, X86_PM_SLP_TYP_S5,
};

/* Room for the MADT of X86_MAX_CPUS vCPUs. */
#define MADT_MAX_SIZE (sizeof(struct acpi_madt) +				\
		       X86_MAX_CPUS * sizeof(struct acpi_madt_lapic) +	\
		       sizeof(struct acpi_madt_ioapic) +			\
		       sizeof(struct acpi_madt_iso) +				\
		       sizeof(struct acpi_madt_lapic_nmi))

/* Where the next table goes. */
struct acpi_ctx {
	const struct addr_space *as;
	uint64_t next;		/* 16-byte aligned, <= X86_ACPI_END */
};

/* Reserve @len bytes in the ACPI area; -E2BIG when they do not fit. */
static int acpi_alloc(struct acpi_ctx *ctx, size_t len, uint64_t *gpa)
{
	uint64_t end = ctx->next + len;

	if (len > X86_ACPI_END - ctx->next)
		return err_set(-E2BIG,
			       "ACPI: tables need more than the %llu bytes at 0x%llx",
			       (unsigned long long)(X86_ACPI_END - X86_ACPI_START),
			       (unsigned long long)X86_ACPI_START);
	*gpa = ctx->next;
	ctx->next = (end + ACPI_ALIGN - 1) & ~(uint64_t)(ACPI_ALIGN - 1);
	if (ctx->next > X86_ACPI_END)	/* only the padding overflows */
		ctx->next = X86_ACPI_END;
	return 0;
}

static int acpi_copy(const struct acpi_ctx *ctx, uint64_t gpa, const void *src,
		     size_t len, const char *what)
{
	int ret = as_copy_to(ctx->as, gpa, src, len);

	if (ret)
		return err_set(ret, "ACPI: cannot write the %s (%zu bytes) at 0x%llx",
			       what, len, (unsigned long long)gpa);
	return 0;
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     size_t len, uint8_t revision)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = (uint32_t)len;
	h->revision = revision;
	h->checksum = 0;
	TABLE_SET_ID(h->oem_id, ACPI_OEM_ID);
	TABLE_SET_ID(h->oem_table_id, ACPI_OEM_TABLE_ID);
	h->oem_revision = ACPI_OEM_REVISION;
	TABLE_SET_ID(h->creator_id, ACPI_CREATOR_ID);
	h->creator_revision = ACPI_CREATOR_REVISION;
}

/*
 * Place the table at @table (header filled, length set), checksum it and
 * write it; its address goes to *@gpa.
 */
static int acpi_store(struct acpi_ctx *ctx, void *table, uint64_t *gpa)
{
	struct acpi_header *h = table;
	char what[5] = { 0 };
	int ret = acpi_alloc(ctx, h->length, gpa);

	if (ret)
		return ret;
	memcpy(what, h->signature, 4);
	h->checksum = 0;
	h->checksum = table_checksum(table, h->length);
	return acpi_copy(ctx, *gpa, table, h->length, what);
}

static int acpi_write_dsdt(struct acpi_ctx *ctx, uint64_t *gpa)
{
	struct {
		struct acpi_header hdr;
		uint8_t aml[sizeof(dsdt_aml)];
	} ACPI_PACKED dsdt;

	acpi_header_init(&dsdt.hdr, "DSDT", sizeof(dsdt), ACPI_DSDT_REVISION);
	memcpy(dsdt.aml, dsdt_aml, sizeof(dsdt_aml));
	return acpi_store(ctx, &dsdt, gpa);
}

static struct acpi_gas acpi_io_port(uint16_t port)
{
	struct acpi_gas g = {
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = port,
	};

	return g;
}

static int acpi_write_fadt(struct acpi_ctx *ctx, uint64_t dsdt, uint64_t *gpa)
{
	static const char vendor[8] = "KITE";
	struct acpi_fadt f;

	memset(&f, 0, sizeof(f));
	acpi_header_init(&f.hdr, "FACP", sizeof(f), ACPI_FADT_REVISION);
	f.minor_version = ACPI_FADT_MINOR;
	f.dsdt = (uint32_t)dsdt;
	f.x_dsdt = dsdt;
	f.flags = ACPI_FADT_HW_REDUCED;
	f.iapc_boot_arch = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_8042 |
			   ACPI_BOOT_VGA_NOT_PRESENT;
	f.sleep_control = acpi_io_port(X86_PM_SLEEP_CTL_PORT);
	f.sleep_status = acpi_io_port(X86_PM_SLEEP_STS_PORT);
	memcpy(&f.hypervisor_vendor_id, vendor, sizeof(vendor));
	return acpi_store(ctx, &f, gpa);
}

/* Append @size bytes of @entry to the MADT in @buf (sized MADT_MAX_SIZE). */
static void madt_add(uint8_t *buf, size_t *len, const void *entry, size_t size)
{
	memcpy(buf + *len, entry, size);
	*len += size;
}

static void madt_add_lapics(uint8_t *buf, size_t *len, unsigned int ncpus)
{
	for (unsigned int i = 0; i < ncpus; i++) {
		struct acpi_madt_lapic l = {
			.type = ACPI_MADT_LAPIC,
			.length = sizeof(l),
			.uid = (uint8_t)i,
			.apic_id = (uint8_t)i,
			.flags = ACPI_MADT_LAPIC_ENABLED,
		};

		madt_add(buf, len, &l, sizeof(l));
	}
}

static int acpi_write_madt(struct acpi_ctx *ctx, unsigned int ncpus,
			   uint64_t *gpa)
{
	uint8_t buf[MADT_MAX_SIZE];
	struct acpi_madt *m = (struct acpi_madt *)buf;
	size_t len = sizeof(*m);
	struct acpi_madt_ioapic io = {
		.type = ACPI_MADT_IOAPIC, .length = sizeof(io),
		.id = (uint8_t)ncpus, .addr = (uint32_t)X86_IOAPIC_ADDR,
	};
	struct acpi_madt_iso iso = {
		.type = ACPI_MADT_ISO, .length = sizeof(iso),
		.source = 0, .gsi = 2,
	};
	struct acpi_madt_lapic_nmi nmi = {
		.type = ACPI_MADT_LAPIC_NMI, .length = sizeof(nmi),
		.uid = 0xff, .lint = 1,
	};

	memset(buf, 0, sizeof(buf));
	madt_add_lapics(buf, &len, ncpus);	/* ncpus <= X86_MAX_CPUS */
	madt_add(buf, &len, &io, sizeof(io));
	madt_add(buf, &len, &iso, sizeof(iso));
	madt_add(buf, &len, &nmi, sizeof(nmi));
	acpi_header_init(&m->hdr, "APIC", len, ACPI_MADT_REVISION);
	m->lapic_addr = (uint32_t)X86_LAPIC_ADDR;
	m->flags = ACPI_MADT_PCAT_COMPAT;
	return acpi_store(ctx, buf, gpa);
}

static int acpi_write_xsdt(struct acpi_ctx *ctx, uint64_t fadt, uint64_t madt,
			   uint64_t *gpa)
{
	struct {
		struct acpi_header hdr;
		uint64_t entries[2];
	} ACPI_PACKED xsdt = { .entries = { fadt, madt } };

	acpi_header_init(&xsdt.hdr, "XSDT", sizeof(xsdt), ACPI_XSDT_REVISION);
	return acpi_store(ctx, &xsdt, gpa);
}

static int acpi_write_rsdp(struct acpi_ctx *ctx, uint64_t gpa, uint64_t xsdt)
{
	struct acpi_rsdp r;

	memset(&r, 0, sizeof(r));
	memcpy(r.signature, "RSD PTR ", sizeof(r.signature));
	TABLE_SET_ID(r.oem_id, ACPI_OEM_ID);
	r.revision = 2;
	r.length = sizeof(r);
	r.xsdt_addr = xsdt;
	r.checksum = table_checksum(&r, ACPI_RSDP_V1_LEN);
	r.ext_checksum = table_checksum(&r, sizeof(r));
	return acpi_copy(ctx, gpa, &r, sizeof(r), "RSDP");
}

/**
 * x86_acpi_write() - write the ACPI tables into [X86_ACPI_START, X86_ACPI_END).
 * @as:		guest memory; the ACPI area must be mapped, writable RAM
 * @cfg:	the machine: @cfg->ncpus vCPUs, 1..X86_MAX_CPUS
 * @rsdp_gpa:	set to the RSDP's address (X86_ACPI_START) on success; may be
 *		NULL
 *
 * Return: 0; -EINVAL on a bad config, -E2BIG when the tables do not fit the
 * area, -EFAULT when it is not writable guest memory.
 */
int x86_acpi_write(const struct addr_space *as, const struct x86_acpi_config *cfg,
		   uint64_t *rsdp_gpa)
{
	struct acpi_ctx ctx = { .as = as, .next = X86_ACPI_START };
	uint64_t rsdp, dsdt, fadt, madt, xsdt;
	int ret;

	if (!cfg || cfg->ncpus == 0 || cfg->ncpus > X86_MAX_CPUS)
		return err_set(-EINVAL, "ACPI: %u vCPUs, must be 1..%d",
			       cfg ? cfg->ncpus : 0, X86_MAX_CPUS);
	ret = acpi_alloc(&ctx, sizeof(struct acpi_rsdp), &rsdp);
	if (!ret)
		ret = acpi_write_dsdt(&ctx, &dsdt);
	if (!ret)
		ret = acpi_write_fadt(&ctx, dsdt, &fadt);
	if (!ret)
		ret = acpi_write_madt(&ctx, cfg->ncpus, &madt);
	if (!ret)
		ret = acpi_write_xsdt(&ctx, fadt, madt, &xsdt);
	if (!ret)
		ret = acpi_write_rsdp(&ctx, rsdp, xsdt);
	if (ret)
		return ret;
	if (rsdp_gpa)
		*rsdp_gpa = rsdp;
	return 0;
}
