/* SPDX-License-Identifier: MIT */
/* memmap.c - the PVH memory map and the boot data the guest must not touch. */
#include "lib.h"
#include "boot.h"

const struct hvm_start_info *start_info;

const struct hvm_memmap_entry *memmap_get(unsigned int *n)
{
	*n = 0;
	if (!start_info || start_info->version < 1 || !start_info->memmap_paddr ||
	    !start_info->memmap_entries)
		return NULL;
	*n = start_info->memmap_entries;
	return (const struct hvm_memmap_entry *)(uintptr_t)start_info->memmap_paddr;
}

const char *memmap_type_name(uint32_t type)
{
	switch (type) {
	case 1: return "ram";
	case 2: return "reserved";
	case 3: return "acpi";
	case 4: return "nvs";
	case 5: return "unusable";
	case 7: return "pmem";
	default: return "other";
	}
}

void memmap_print(const char *prefix)
{
	const struct hvm_memmap_entry *m;
	unsigned int n, i;

	m = memmap_get(&n);
	if (!m) {
		printf("%sno memory map (start_info version %u)\n", prefix,
		       start_info ? start_info->version : 0);
		return;
	}
	for (i = 0; i < n; i++)
		if (m[i].size)
			printf("%s0x%016llx - 0x%016llx %s\n", prefix, (unsigned long long)m[i].addr,
			       (unsigned long long)(m[i].addr + m[i].size - 1),
			       memmap_type_name(m[i].type));
	printf("%stotal RAM %llu bytes (%llu MiB)\n", prefix, (unsigned long long)memmap_ram_total(),
	       (unsigned long long)(memmap_ram_total() >> 20));
}

uint64_t memmap_ram_total(void)
{
	const struct hvm_memmap_entry *m;
	unsigned int n, i;
	uint64_t total = 0;

	m = memmap_get(&n);
	for (i = 0; i < n; i++)
		if (m[i].type == E820_RAM)
			total += m[i].size;
	return total;
}

bool memmap_is_ram(uint64_t addr, uint64_t len)
{
	const struct hvm_memmap_entry *m;
	unsigned int n, i;

	m = memmap_get(&n);
	for (i = 0; i < n; i++)
		if (m[i].type == E820_RAM && addr >= m[i].addr && addr + len <= m[i].addr + m[i].size)
			return true;
	return false;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool memmap_overlaps_boot_data(uint64_t addr, uint64_t len)
{
	const struct hvm_modlist_entry *mods;
	uint32_t i;

	if (overlaps(addr, len, (uintptr_t)__image_start, (uintptr_t)__image_end - (uintptr_t)__image_start))
		return true;
	if (!start_info)
		return false;
	if (overlaps(addr, len, (uintptr_t)start_info, sizeof(*start_info)))
		return true;
	if (start_info->cmdline_paddr &&
	    overlaps(addr, len, start_info->cmdline_paddr,
		     strlen((const char *)(uintptr_t)start_info->cmdline_paddr) + 1))
		return true;
	if (start_info->version >= 1 && start_info->memmap_paddr &&
	    overlaps(addr, len, start_info->memmap_paddr,
		     (uint64_t)start_info->memmap_entries * sizeof(struct hvm_memmap_entry)))
		return true;
	if (start_info->rsdp_paddr && overlaps(addr, len, start_info->rsdp_paddr, 36))
		return true;
	if (!start_info->nr_modules || !start_info->modlist_paddr)
		return false;
	if (overlaps(addr, len, start_info->modlist_paddr,
		     (uint64_t)start_info->nr_modules * sizeof(*mods)))
		return true;
	mods = (const struct hvm_modlist_entry *)(uintptr_t)start_info->modlist_paddr;
	for (i = 0; i < start_info->nr_modules; i++) {
		if (overlaps(addr, len, mods[i].paddr, mods[i].size))
			return true;
		if (mods[i].cmdline_paddr &&
		    overlaps(addr, len, mods[i].cmdline_paddr,
			     strlen((const char *)(uintptr_t)mods[i].cmdline_paddr) + 1))
			return true;
	}
	return false;
}
