/* SPDX-License-Identifier: MIT */
/*
 * acpi_tables.h - ACPI 6.3 table layouts kite writes (private to
 * src/arch/x86/platform).  Packed, little-endian, sizes checked.
 */
#ifndef KITE_ARCH_X86_PLATFORM_ACPI_TABLES_H
#define KITE_ARCH_X86_PLATFORM_ACPI_TABLES_H

#include <assert.h>
#include <stdint.h>

#define ACPI_PACKED __attribute__((packed))

struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* of the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;		/* 2: ACPI 2.0+, XSDT valid */
	uint32_t rsdt_addr;
	uint32_t length;		/* 36 */
	uint64_t xsdt_addr;
	uint8_t ext_checksum;		/* of all 36 bytes */
	uint8_t reserved[3];
} ACPI_PACKED;
static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
#define ACPI_RSDP_V1_LEN	20

struct acpi_header {
	char signature[4];
	uint32_t length;		/* whole table, header included */
	uint8_t revision;
	uint8_t checksum;		/* all bytes of the table sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_header) == 36, "ACPI table header");

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;		/* 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_gas) == 12, "GAS");
#define ACPI_GAS_SYSTEM_IO	1
#define ACPI_GAS_ACCESS_BYTE	1

/* Fixed ACPI Description Table, revision 6 (ACPI 6.0 and later). */
struct acpi_fadt {
	struct acpi_header hdr;		/* "FACP" */
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control;
	struct acpi_gas sleep_status;
	uint64_t hypervisor_vendor_id;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
static_assert(__builtin_offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT");
static_assert(__builtin_offsetof(struct acpi_fadt, flags) == 112, "FADT");
static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT");
static_assert(__builtin_offsetof(struct acpi_fadt, sleep_control) == 244, "FADT");

#define ACPI_FADT_HW_REDUCED		(1u << 20)
#define ACPI_BOOT_LEGACY_DEVICES	(1u << 0)
#define ACPI_BOOT_8042			(1u << 1)
#define ACPI_BOOT_VGA_NOT_PRESENT	(1u << 2)

/* Multiple APIC Description Table. */
struct acpi_madt {
	struct acpi_header hdr;		/* "APIC" */
	uint32_t lapic_addr;
	uint32_t flags;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_madt) == 44, "MADT header");
#define ACPI_MADT_PCAT_COMPAT	(1u << 0)

enum acpi_madt_type {
	ACPI_MADT_LAPIC = 0,
	ACPI_MADT_IOAPIC = 1,
	ACPI_MADT_ISO = 2,
	ACPI_MADT_LAPIC_NMI = 4,
};

struct acpi_madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t uid;			/* ACPI processor UID */
	uint8_t apic_id;
	uint32_t flags;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT local APIC");
#define ACPI_MADT_LAPIC_ENABLED	(1u << 0)

struct acpi_madt_ioapic {
	uint8_t type;
	uint8_t length;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT IOAPIC");

/* Interrupt Source Override. */
struct acpi_madt_iso {
	uint8_t type;
	uint8_t length;
	uint8_t bus;			/* 0: ISA */
	uint8_t source;			/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;			/* MPS INTI flags, 0: conforming */
} ACPI_PACKED;
static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT ISO");

struct acpi_madt_lapic_nmi {
	uint8_t type;
	uint8_t length;
	uint8_t uid;			/* 0xff: all processors */
	uint16_t flags;
	uint8_t lint;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT LAPIC NMI");

/* PCI Express memory mapped configuration space (PCI Firmware 3.2, 4.1.2). */
struct acpi_mcfg {
	struct acpi_header hdr;		/* "MCFG" */
	uint64_t reserved;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG header");

struct acpi_mcfg_alloc {
	uint64_t base;			/* ECAM base of segment, bus 0 */
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
} ACPI_PACKED;
static_assert(sizeof(struct acpi_mcfg_alloc) == 16, "MCFG allocation");

/* ACPI resource descriptors (6.4) in the _CRS of PCI0, PRES and GED0. */
#define ACPI_RES_IO		0x47	/* small: I/O port, 8 bytes */
#define ACPI_RES_END_TAG	0x79	/* small: end, 2 bytes */
#define ACPI_RES_MEM32_FIXED	0x86	/* large: 32-bit fixed memory, 12 bytes */
#define ACPI_RES_DWORD_ADDR	0x87	/* large: DWord address space, 26 bytes */
#define ACPI_RES_WORD_ADDR	0x88	/* large: Word address space, 16 bytes */
#define ACPI_RES_EXT_IRQ	0x89	/* large: extended interrupt, 5 + 4 per GSI */
#define ACPI_RES_IRQ_CONSUMER	0x01	/* its flags: bit 0 consumer, */
#define ACPI_RES_IRQ_EDGE	0x02	/* bit 1 edge, bit 2 active low, bit 3 shared */
#define ACPI_RES_TYPE_MEMORY	0
#define ACPI_RES_TYPE_BUS	2
#define ACPI_RES_MIN_MAX_FIXED	0x0c	/* general flags: producer, fixed window */

#endif
