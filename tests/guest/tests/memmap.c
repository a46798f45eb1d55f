/* SPDX-License-Identifier: MIT */
/* test=memmap mem=SIZE: the PVH memory map matches -m SIZE and its RAM works. */
#include "lib.h"
#include "boot.h"
#include "paging.h"

#define PAGE 4096ull

static uint64_t saved[PAGE / 8];

/* Write, read back and restore one page; false on mismatch. */
static bool check_page(uint64_t addr)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
	unsigned int i;
	bool ok = true;

	for (i = 0; i < PAGE / 8; i++)
		saved[i] = p[i];
	for (i = 0; i < PAGE / 8; i++)
		p[i] = (addr + i * 8) ^ 0x5a5a5a5aa5a5a5a5ull;
	for (i = 0; i < PAGE / 8; i++)
		if (p[i] != ((addr + i * 8) ^ 0x5a5a5a5aa5a5a5a5ull))
			ok = false;
	for (i = 0; i < PAGE / 8; i++)
		p[i] = ~p[i];
	for (i = 0; i < PAGE / 8; i++)
		if (p[i] != ~((addr + i * 8) ^ 0x5a5a5a5aa5a5a5a5ull))
			ok = false;
	for (i = 0; i < PAGE / 8; i++)
		p[i] = saved[i];
	return ok;
}

static unsigned int try_page(uint64_t addr, uint64_t *skipped)
{
	if (addr < 0x100000 || memmap_overlaps_boot_data(addr, PAGE)) {
		(*skipped)++;
		return 0;
	}
	if (!paging_map_high(addr + PAGE))
		fail("RAM page 0x%llx is above the guest's 64 GiB identity map",
		     (unsigned long long)addr);
	if (!check_page(addr))
		fail("RAM page 0x%llx did not read back what was written", (unsigned long long)addr);
	return 1;
}

GUEST_TEST(memmap, "mem=SIZE: the memory map totals SIZE (-2 MiB), avoids the APIC hole, RAM reads back")
{
	const struct hvm_memmap_entry *m;
	uint64_t mem, total = 0, skipped = 0;
	unsigned int n, i, tested = 0;
	bool high = false;

	if (!cmdline_get_size("mem", &mem))
		fail("memmap needs mem=SIZE (K/M/G suffix)");
	m = memmap_get(&n);
	if (!m) {
		printf("no memory map (start_info version %u)\n", start_info->version);
		fail("no memory map");
	}
	for (i = 0; i < n; i++) {
		if (!m[i].size) {
			printf("mem: 0x%016llx empty entry (type %u), ignored\n",
			       (unsigned long long)m[i].addr, m[i].type);
			continue;
		}
		printf("mem: 0x%016llx - 0x%016llx %s\n", (unsigned long long)m[i].addr,
		       (unsigned long long)(m[i].addr + m[i].size - 1), memmap_type_name(m[i].type));
		if (m[i].type != E820_RAM)
			continue;
		total += m[i].size;
		if (m[i].addr < 0x100000000ull && m[i].addr + m[i].size > 0xfec00000ull)
			fail("RAM entry 0x%llx+0x%llx overlaps [0xfec00000, 4 GiB)",
			     (unsigned long long)m[i].addr, (unsigned long long)m[i].size);
		if (m[i].addr + m[i].size > 0x100000000ull)
			high = true;
	}
	printf("mem: total RAM %llu bytes (%llu MiB), expected %llu bytes\n",
	       (unsigned long long)total, (unsigned long long)(total >> 20), (unsigned long long)mem);
	if (total > mem)
		fail("RAM total 0x%llx exceeds mem=0x%llx", (unsigned long long)total,
		     (unsigned long long)mem);
	if (total + (2ull << 20) < mem)
		fail("RAM total 0x%llx is more than 2 MiB below mem=0x%llx",
		     (unsigned long long)total, (unsigned long long)mem);
	if (mem > (3ull << 30) && !high)
		fail("mem=%llu MiB but no RAM at or above 4 GiB", (unsigned long long)(mem >> 20));

	for (i = 0; i < n; i++) {
		uint64_t first, last;

		if (m[i].type != E820_RAM)
			continue;
		first = (m[i].addr + PAGE - 1) & ~(PAGE - 1);
		last = ((m[i].addr + m[i].size) & ~(PAGE - 1)) - PAGE;
		if (m[i].addr + m[i].size < first + PAGE)
			continue;	/* no whole page */
		tested += try_page(first, &skipped);
		if (last != first)
			tested += try_page(last, &skipped);
	}
	printf("mem: %u pages written and read back, %llu skipped (below 1 MiB or boot data)\n",
	       tested, (unsigned long long)skipped);
	pass();
}
