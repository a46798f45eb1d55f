// SPDX-License-Identifier: MIT
/*
 * acpi.c - the ACPI tables: RSDP, XSDT, FADT, DSDT, MADT, MCFG (with PCI).
 *
 * Layout in [X86_ACPI_START, X86_ACPI_END), each table 16-byte aligned:
 * RSDP (at X86_ACPI_START, where the guest scans), DSDT, FADT, MADT, [MCFG],
 * XSDT.
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
 * - With a PCI host bridge (cfg->pci): an MCFG for the ECAM window (bus 0)
 *   and, in the DSDT, \_SB.PCI0 (PNP0A08/PNP0A03, segment 0, bus 0, _CRS
 *   with the config ports and the 32-bit MMIO window, _PRT: INTA# of slot s
 *   -> GSI 16 + s % 8, level, active low by default) plus \_SB.PRES, a
 *   PNP0C02 motherboard resource reserving the ECAM range (Linux uses ECAM
 *   only when it is reserved).  No I/O window: kite has no I/O BARs.
 * - With a VM generation ID (cfg->vmgenid_addr): \_SB.VGEN, the device
 *   Linux's vmgenid driver (and Windows) binds by _CID "VM_Gen_Counter",
 *   whose ADDR is Package(2) { low 32 bits, high 32 bits } of the 16-byte
 *   ID's guest-physical address (Microsoft's "Virtual Machine Generation ID"
 *   paper; QEMU and Firecracker do the same), and \_SB.GED0, a
 *   hardware-reduced Generic Event Device (ACPI0013): its _CRS is one
 *   interrupt, GSI cfg->ged_gsi, edge, active high, exclusive, and its
 *   _EVT(GSI) does Notify(\_SB.VGEN, 0x80) when the GSI is that one.  The
 *   VMM changes the ID and pulses the GSI; the guest's GED driver runs
 *   _EVT and the vmgenid driver reads the new ID (and reseeds its RNG).
 * - MADT revision 5 with FADT 6.3: local APIC flags have "online capable";
 *   every vCPU is simply enabled.  One Interrupt Source Override, ISA IRQ 0
 *   -> GSI 2.  No IRQ 9 (SCI) override: a hardware-reduced machine has no
 *   SCI, and a level-triggered IRQ 9 would only surprise a device using it.
 */
#include <errno.h>

#include "core/le.h"
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
#define ACPI_MCFG_REVISION	1
#define ACPI_XSDT_MAX		3	/* FADT, MADT, MCFG */

/* AML opcodes (ACPI 6.3, section 20). */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_EXT_OP_PREFIX	0x5b
#define AML_ROOT_CHAR		0x5c	/* '\\' */
#define AML_ARG0_OP		0x68
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_NOTIFY_OP		0x86
#define AML_LEQUAL_OP		0x93
#define AML_IF_OP		0xa0

/* Name(_S5_, Package() { SLP_TYPa, SLP_TYPb }) */
static const uint8_t dsdt_aml[] = {
	AML_NAME_OP, '_', 'S', '5', '_',
	AML_PACKAGE_OP,
	6,		/* PkgLength, one byte: itself + NumElements + 4 */
	2,		/* NumElements */
	AML_BYTE_PREFIX, X86_PM_SLP_TYP_S5,
	AML_BYTE_PREFIX, X86_PM_SLP_TYP_S5,
};

/* ---- a small AML writer: the PCI host bridge, the VM generation ID ---- */

#define AML_MAX		1024
#define ACPI_PCI_SLOTS	32

struct aml {
	uint8_t b[AML_MAX];
	size_t len;
	bool overflow;
};

static void aml_put(struct aml *a, const void *p, size_t n)
{
	if (n > AML_MAX - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->b + a->len, p, n);
	a->len += n;
}

static void aml_u8(struct aml *a, uint8_t v)
{
	aml_put(a, &v, 1);
}

/* An integer in its shortest encoding. */
static void aml_int(struct aml *a, uint64_t v)
{
	uint8_t prefix = AML_QWORD_PREFIX;
	size_t n = 8;

	if (v <= 1) {
		aml_u8(a, v ? AML_ONE_OP : AML_ZERO_OP);
		return;
	}
	if (v <= 0xff) {
		prefix = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		prefix = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffff) {
		prefix = AML_DWORD_PREFIX;
		n = 4;
	}
	aml_u8(a, prefix);
	aml_put(a, &v, n);	/* x86: little-endian */
}

/* EisaId("PNP0A08"): three 5-bit letters and four hex digits, big-endian. */
static void aml_eisaid(struct aml *a, const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t d[4];
	unsigned int i, n[4];

	for (i = 0; i < 4; i++)
		n[i] = (unsigned int)(strchr(hex, id[3 + i]) - hex);
	d[0] = (uint8_t)(((id[0] - 0x40) << 2) | ((id[1] - 0x40) >> 3));
	d[1] = (uint8_t)(((id[1] - 0x40) << 5) | (id[2] - 0x40));
	d[2] = (uint8_t)(n[0] << 4 | n[1]);
	d[3] = (uint8_t)(n[2] << 4 | n[3]);
	aml_u8(a, AML_DWORD_PREFIX);
	aml_put(a, d, sizeof(d));
}

/* PkgLength of a body of @body bytes (the encoding counts itself). */
static void aml_pkglen(struct aml *a, size_t body)
{
	size_t total;

	if (body + 1 < 0x40) {
		aml_u8(a, (uint8_t)(body + 1));
	} else if (body + 2 < 0x1000) {
		total = body + 2;
		aml_u8(a, (uint8_t)(0x40 | (total & 0xf)));
		aml_u8(a, (uint8_t)(total >> 4));
	} else {
		total = body + 3;
		aml_u8(a, (uint8_t)(0x80 | (total & 0xf)));
		aml_u8(a, (uint8_t)(total >> 4));
		aml_u8(a, (uint8_t)(total >> 12));
	}
}

/* @op (1 or 2 bytes) PkgLength @name @in: Scope, Device. */
static void aml_block(struct aml *out, const uint8_t *op, size_t oplen, const char *name,
		      const struct aml *in)
{
	size_t nlen = strlen(name);

	aml_put(out, op, oplen);
	aml_pkglen(out, nlen + in->len);
	aml_put(out, name, nlen);
	aml_put(out, in->b, in->len);
	out->overflow |= in->overflow;
}

static void aml_device(struct aml *out, const char *name, const struct aml *body)
{
	static const uint8_t op[] = { AML_EXT_OP_PREFIX, AML_DEVICE_OP };

	aml_block(out, op, sizeof(op), name, body);
}

static void aml_name(struct aml *a, const char *name)
{
	aml_u8(a, AML_NAME_OP);
	aml_put(a, name, 4);
}

static void aml_name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_int(a, v);
}

static void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_name(a, name);
	aml_eisaid(a, id);
}

/* Name(@name, Buffer() { @res, EndTag }): a ResourceTemplate. */
static void aml_name_crs(struct aml *a, const uint8_t *res, size_t len)
{
	static const uint8_t end[] = { ACPI_RES_END_TAG, 0 };
	struct aml body = { .len = 0 };

	aml_int(&body, len + sizeof(end));
	aml_put(&body, res, len);
	aml_put(&body, end, sizeof(end));
	aml_name(a, "_CRS");
	aml_u8(a, AML_BUFFER_OP);
	aml_pkglen(a, body.len);
	aml_put(a, body.b, body.len);
	a->overflow |= body.overflow;
}

/* _CRS of PCI0: bus 0, the config ports, the 32-bit BAR window. */
static void pci0_crs(struct aml *a)
{
	uint8_t r[16 + 8 + 26] = {
		ACPI_RES_WORD_ADDR, 13, 0, ACPI_RES_TYPE_BUS, ACPI_RES_MIN_MAX_FIXED, 0,
	};
	uint8_t *io = r + 16, *mem = r + 24;

	le_put(r + 14, 1, 2);				/* bus 0..0: length 1 */
	io[0] = ACPI_RES_IO;
	io[1] = 1;					/* 16-bit decode */
	le_put(io + 2, X86_PCI_CONFIG_ADDR, 2);
	le_put(io + 4, X86_PCI_CONFIG_ADDR, 2);
	io[6] = 1;					/* alignment */
	io[7] = 8;					/* 0xcf8-0xcff */
	mem[0] = ACPI_RES_DWORD_ADDR;
	le_put(mem + 1, 23, 2);
	mem[3] = ACPI_RES_TYPE_MEMORY;
	mem[4] = ACPI_RES_MIN_MAX_FIXED;
	mem[5] = 1;					/* read-write, non-cacheable */
	le_put(mem + 10, X86_PCI_MMIO_START, 4);
	le_put(mem + 14, X86_PCI_MMIO_START + X86_PCI_MMIO_SIZE - 1, 4);
	le_put(mem + 22, X86_PCI_MMIO_SIZE, 4);
	aml_name_crs(a, r, sizeof(r));
}

/* _PRT: Package() { Package() { 0xSSSSFFFF, INTA (0), Zero, GSI }, ... } */
static void pci0_prt(struct aml *a)
{
	struct aml body = { .len = 0 };

	aml_u8(&body, ACPI_PCI_SLOTS - 1);		/* NumElements */
	for (unsigned int s = 1; s < ACPI_PCI_SLOTS; s++) {
		struct aml e = { .len = 0 };

		aml_u8(&e, 4);
		aml_int(&e, (uint64_t)s << 16 | 0xffff);
		aml_int(&e, 0);
		aml_int(&e, 0);
		aml_int(&e, X86_PCI_INTX_GSI_BASE + s % X86_PCI_INTX_GSIS);
		aml_u8(&body, AML_PACKAGE_OP);
		aml_pkglen(&body, e.len);
		aml_put(&body, e.b, e.len);
	}
	aml_name(a, "_PRT");
	aml_u8(a, AML_PACKAGE_OP);
	aml_pkglen(a, body.len);
	aml_put(a, body.b, body.len);
	a->overflow |= body.overflow;
}

/* \_SB.PRES: the ECAM window as a motherboard resource. */
static void pres_device(struct aml *scope)
{
	uint8_t r[12] = { ACPI_RES_MEM32_FIXED, 9, 0, 1 /* read-write */ };
	struct aml body = { .len = 0 };

	le_put(r + 4, X86_PCI_ECAM_START, 4);
	le_put(r + 8, X86_PCI_ECAM_SIZE, 4);
	aml_name_eisaid(&body, "_HID", "PNP0C02");
	aml_name_int(&body, "_UID", 1);
	aml_name_crs(&body, r, sizeof(r));
	aml_device(scope, "PRES", &body);
}

/* Device(PCI0) {...} Device(PRES) {...}, into \_SB's scope. */
static void pci_host_devices(struct aml *scope)
{
	struct aml pci0 = { .len = 0 };

	aml_name_eisaid(&pci0, "_HID", "PNP0A08");
	aml_name_eisaid(&pci0, "_CID", "PNP0A03");
	aml_name_int(&pci0, "_UID", 0);
	aml_name_int(&pci0, "_SEG", 0);
	aml_name_int(&pci0, "_BBN", 0);
	pci0_crs(&pci0);
	pci0_prt(&pci0);
	aml_device(scope, "PCI0", &pci0);
	pres_device(scope);
}

/* ---- the VM generation ID and the event device that announces it ---- */

#define ACPI_VMGENID_HID	"KITE0001"	/* an ACPI ID: vendor + 4 hex digits */
#define ACPI_VMGENID_CID	"VM_Gen_Counter"
#define ACPI_VMGENID_NOTIFY	0x80	/* device-specific: the ID changed */

static void aml_name_string(struct aml *a, const char *name, const char *str)
{
	aml_name(a, name);
	aml_u8(a, AML_STRING_PREFIX);
	aml_put(a, str, strlen(str) + 1);	/* with the NUL */
}

/* \_SB.VGEN: where the guest finds the 16-byte ID. */
static void vgen_device(struct aml *scope, uint64_t addr)
{
	struct aml body = { .len = 0 }, pkg = { .len = 0 };

	aml_name_string(&body, "_HID", ACPI_VMGENID_HID);
	aml_name_string(&body, "_CID", ACPI_VMGENID_CID);
	aml_name_string(&body, "_DDN", ACPI_VMGENID_CID);
	aml_u8(&pkg, 2);				/* NumElements */
	aml_int(&pkg, addr & 0xffffffffu);
	aml_int(&pkg, addr >> 32);
	aml_name(&body, "ADDR");
	aml_u8(&body, AML_PACKAGE_OP);
	aml_pkglen(&body, pkg.len);
	aml_put(&body, pkg.b, pkg.len);
	body.overflow |= pkg.overflow;
	aml_device(scope, "VGEN", &body);
}

/* Method(_EVT, 1) { If (LEqual(Arg0, @gsi)) { Notify(\_SB.VGEN, 0x80) } } */
static void ged_evt(struct aml *ged, uint32_t gsi)
{
	static const uint8_t method_op[] = { AML_METHOD_OP }, if_op[] = { AML_IF_OP };
	static const uint8_t notify[] = {
		AML_NOTIFY_OP, AML_ROOT_CHAR, AML_DUAL_NAME_PREFIX, '_', 'S', 'B', '_',
		'V', 'G', 'E', 'N', AML_BYTE_PREFIX, ACPI_VMGENID_NOTIFY,
	};
	struct aml cond = { .len = 0 }, method = { .len = 0 };

	aml_u8(&cond, AML_LEQUAL_OP);		/* the predicate, then the body */
	aml_u8(&cond, AML_ARG0_OP);
	aml_int(&cond, gsi);
	aml_put(&cond, notify, sizeof(notify));
	aml_u8(&method, 1);			/* MethodFlags: one argument, not serialized */
	aml_block(&method, if_op, sizeof(if_op), "", &cond);
	aml_block(ged, method_op, sizeof(method_op), "_EVT", &method);
}

/* \_SB.GED0: a hardware-reduced Generic Event Device on GSI @gsi. */
static void ged_device(struct aml *scope, uint32_t gsi)
{
	uint8_t r[9] = { ACPI_RES_EXT_IRQ, 6, 0, ACPI_RES_IRQ_CONSUMER | ACPI_RES_IRQ_EDGE,
			 1 /* one interrupt */ };
	struct aml body = { .len = 0 };

	le_put(r + 5, gsi, 4);			/* active high, exclusive, no wake */
	aml_name_string(&body, "_HID", "ACPI0013");
	aml_name_int(&body, "_UID", 0);
	aml_name_crs(&body, r, sizeof(r));
	ged_evt(&body, gsi);
	aml_device(scope, "GED0", &body);
}

/* Scope(\_SB) { [PCI0, PRES] [VGEN, GED0] }; nothing when neither is asked for. */
static void aml_sb_scope(struct aml *out, const struct x86_acpi_config *cfg)
{
	static const uint8_t scope_op[] = { AML_SCOPE_OP };
	struct aml scope = { .len = 0 };

	if (cfg->pci)
		pci_host_devices(&scope);
	if (cfg->vmgenid_addr) {
		vgen_device(&scope, cfg->vmgenid_addr);
		ged_device(&scope, cfg->ged_gsi);
	}
	if (scope.len)
		aml_block(out, scope_op, sizeof(scope_op), "\\_SB_", &scope);
}

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

static int acpi_write_dsdt(struct acpi_ctx *ctx, const struct x86_acpi_config *cfg,
			   uint64_t *gpa)
{
	uint8_t t[sizeof(struct acpi_header) + AML_MAX];
	struct aml aml = { .len = 0 };

	aml_put(&aml, dsdt_aml, sizeof(dsdt_aml));
	aml_sb_scope(&aml, cfg);
	if (aml.overflow)
		return err_set(-E2BIG, "ACPI: the DSDT needs more than %d bytes of AML", AML_MAX);
	acpi_header_init((struct acpi_header *)t, "DSDT", sizeof(struct acpi_header) + aml.len,
			 ACPI_DSDT_REVISION);
	memcpy(t + sizeof(struct acpi_header), aml.b, aml.len);
	return acpi_store(ctx, t, gpa);
}

static int acpi_write_mcfg(struct acpi_ctx *ctx, uint64_t *gpa)
{
	struct {
		struct acpi_mcfg mcfg;
		struct acpi_mcfg_alloc alloc;
	} ACPI_PACKED t = {
		.alloc = { .base = X86_PCI_ECAM_START, .segment = 0, .start_bus = 0,
			   .end_bus = 0 },
	};

	acpi_header_init(&t.mcfg.hdr, "MCFG", sizeof(t), ACPI_MCFG_REVISION);
	return acpi_store(ctx, &t, gpa);
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

/* The XSDT listing @nr tables (at most ACPI_XSDT_MAX). */
static int acpi_write_xsdt(struct acpi_ctx *ctx, const uint64_t *tables, unsigned int nr,
			   uint64_t *gpa)
{
	struct {
		struct acpi_header hdr;
		uint64_t entries[ACPI_XSDT_MAX];
	} ACPI_PACKED xsdt;

	memset(&xsdt, 0, sizeof(xsdt));
	memcpy(xsdt.entries, tables, nr * sizeof(tables[0]));
	acpi_header_init(&xsdt.hdr, "XSDT", sizeof(xsdt.hdr) + nr * sizeof(tables[0]),
			 ACPI_XSDT_REVISION);
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
	uint64_t rsdp, dsdt, xsdt, tables[ACPI_XSDT_MAX];
	unsigned int nr = 2;
	int ret;

	if (!cfg || cfg->ncpus == 0 || cfg->ncpus > X86_MAX_CPUS)
		return err_set(-EINVAL, "ACPI: %u vCPUs, must be 1..%d",
			       cfg ? cfg->ncpus : 0, X86_MAX_CPUS);
	if (cfg->vmgenid_addr % 8 || cfg->ged_gsi > 255)
		return err_set(-EINVAL, "ACPI: VM generation ID at 0x%llx (must be 8-byte "
			       "aligned) with its event on GSI %u (0..255)",
			       (unsigned long long)cfg->vmgenid_addr, cfg->ged_gsi);
	ret = acpi_alloc(&ctx, sizeof(struct acpi_rsdp), &rsdp);
	if (!ret)
		ret = acpi_write_dsdt(&ctx, cfg, &dsdt);
	if (!ret)
		ret = acpi_write_fadt(&ctx, dsdt, &tables[0]);
	if (!ret)
		ret = acpi_write_madt(&ctx, cfg->ncpus, &tables[1]);
	if (!ret && cfg->pci)
		ret = acpi_write_mcfg(&ctx, &tables[nr++]);
	if (!ret)
		ret = acpi_write_xsdt(&ctx, tables, nr, &xsdt);
	if (!ret)
		ret = acpi_write_rsdp(&ctx, rsdp, xsdt);
	if (ret)
		return ret;
	if (rsdp_gpa)
		*rsdp_gpa = rsdp;
	return 0;
}
