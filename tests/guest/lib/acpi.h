/* SPDX-License-Identifier: MIT */
/* acpi.h - the ACPI tables the guest reads: RSDP, XSDT/RSDT, MADT, FADT, DSDT. */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

#define ACPI_MAX_TABLES 32

struct acpi_gas {
	uint8_t space_id;	/* 0 memory, 1 I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_table_ref {
	uint64_t addr;
	char sig[5];
	char oem_id[7];
	char oem_table_id[9];
	uint32_t length;
	uint8_t revision;
	bool checksum_ok;
};

struct acpi_info {
	uint64_t rsdp;
	const char *rsdp_source;	/* "start_info" or "scan" */
	uint8_t rsdp_revision;
	char rsdp_oem[7];
	bool xsdt;			/* root table is the XSDT (else RSDT) */
	uint64_t root;
	unsigned int ntables;
	struct acpi_table_ref tables[ACPI_MAX_TABLES];

	/* MADT */
	bool madt;
	uint32_t lapic_addr;
	unsigned int ncpus;		/* enabled local APIC / x2APIC entries */
	unsigned int ncpus_disabled;
	uint32_t apic_ids[GUEST_MAX_CPUS];
	unsigned int nioapics;
	struct { uint8_t id; uint32_t addr; uint32_t gsi_base; } ioapics[4];
	unsigned int noverrides;
	struct { uint8_t source; uint32_t gsi; uint16_t flags; } overrides[16];

	/* FADT */
	bool fadt;
	uint32_t fadt_flags;
	bool hw_reduced;
	bool has_sleep_ctl;
	struct acpi_gas sleep_ctl;
	uint32_t pm1a_cnt;
	uint64_t dsdt;
	int s5_slp_typ;			/* from \_S5 in the DSDT; -1 not found */

	/* DSDT: a VM generation ID device (_CID "VM_Gen_Counter") and a
	 * Generic Event Device (_HID "ACPI0013") with its first interrupt */
	bool vmgenid;
	uint64_t vmgenid_addr;		/* from its ADDR package */
	bool ged;
	uint32_t ged_gsi;
	bool ged_edge, ged_active_low;
};

/* Parse once; NULL when there is no valid RSDP. */
const struct acpi_info *acpi_get(void);
const char *acpi_error(void);		/* why acpi_get() returned NULL */
/* ACPI S5 through the FADT; returns only if the machine is still running. */
void acpi_poweroff(void);

#endif
