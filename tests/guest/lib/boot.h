/* SPDX-License-Identifier: MIT */
/* boot.h - the PVH start_info block the VMM hands over in %ebx. */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <stdbool.h>
#include <stdint.h>

struct hvm_start_info {
	uint32_t magic;			/* 0x336ec578 */
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	/* version >= 1 */
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;			/* 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable */
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

#define E820_RAM 1

extern const struct hvm_start_info *start_info;

/* memmap.c */
/* The memory map, or NULL (n = 0) when start_info has none (version 0). */
const struct hvm_memmap_entry *memmap_get(unsigned int *n);
const char *memmap_type_name(uint32_t type);
void memmap_print(const char *prefix);
uint64_t memmap_ram_total(void);
bool memmap_is_ram(uint64_t addr, uint64_t len);
/* Does [addr, addr+len) touch the image, start_info, command line, module
 * list, modules or the memory map array? */
bool memmap_overlaps_boot_data(uint64_t addr, uint64_t len);

#endif
