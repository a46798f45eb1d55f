// SPDX-License-Identifier: MIT
/* Unit tests of the guest memory map (x86_e820_build). */
#include <errno.h>
#include <stdint.h>

#include "arch/x86/boot/boot.h"
#include "harness.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static struct x86_e820 map[16];

/* True when no RAM entry touches [MMIO hole start, 4 GiB). */
static int no_ram_in_mmio_hole(const struct x86_e820 *e, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].type == X86_E820_RAM &&
		    e[i].addr < X86_MMIO_HOLE_END &&
		    e[i].addr + e[i].size > X86_MMIO_HOLE_START)
			return 0;
	return 1;
}

static int entry_is(const struct x86_e820 *e, uint64_t addr, uint64_t size,
		    uint32_t type)
{
	return e->addr == addr && e->size == size && e->type == type;
}

static void e820_64mib_has_low_ram_reserved_vmgenid_ebda_and_ram_above_1mib(void)
{
	struct x86_ram_layout ram = x86_ram_layout(64 * MIB);
	int n = x86_e820_build(&ram, map, 16);

	CHECK_EQ(n, 3);
	CHECK(entry_is(&map[0], 0, 0x9f000, X86_E820_RAM));
	CHECK(entry_is(&map[1], 0x9f000, 0x100000 - 0x9f000, X86_E820_RESERVED));
	/* the generation ID's page and the EBDA are reserved, not RAM */
	CHECK(X86_VMGENID_ADDR >= map[1].addr && X86_VMGENID_ADDR + 16 <= X86_EBDA_START);
	CHECK(entry_is(&map[2], 0x100000, 63 * MIB, X86_E820_RAM));
	CHECK(no_ram_in_mmio_hole(map, n));
}

static void e820_exactly_3gib_ends_low_ram_at_the_hole_with_nothing_above(void)
{
	struct x86_ram_layout ram = x86_ram_layout(3 * GIB);
	int n = x86_e820_build(&ram, map, 16);

	CHECK_EQ(n, 3);
	CHECK(entry_is(&map[2], 0x100000, 3 * GIB - 0x100000, X86_E820_RAM));
	CHECK_EQ(map[2].addr + map[2].size, X86_MMIO_HOLE_START);
	CHECK(no_ram_in_mmio_hole(map, n));
}

static void e820_3gib_plus_one_byte_puts_one_byte_above_4gib(void)
{
	struct x86_ram_layout ram = x86_ram_layout(3 * GIB + 1);
	int n = x86_e820_build(&ram, map, 16);

	CHECK_EQ(n, 4);
	CHECK_EQ(map[2].addr + map[2].size, X86_MMIO_HOLE_START);
	CHECK(entry_is(&map[3], 4 * GIB, 1, X86_E820_RAM));
	CHECK(no_ram_in_mmio_hole(map, n));
}

static void e820_8gib_puts_5gib_above_4gib(void)
{
	struct x86_ram_layout ram = x86_ram_layout(8 * GIB);
	int n = x86_e820_build(&ram, map, 16);

	CHECK_EQ(n, 4);
	CHECK(entry_is(&map[2], 0x100000, 3 * GIB - 0x100000, X86_E820_RAM));
	CHECK(entry_is(&map[3], 4 * GIB, 5 * GIB, X86_E820_RAM));
	CHECK(no_ram_in_mmio_hole(map, n));
}

static void e820_ram_below_ebda_gets_no_entry_above_1mib(void)
{
	struct x86_ram_layout ram = { .low_end = 0x80000 };
	int n = x86_e820_build(&ram, map, 16);

	CHECK_EQ(n, 2);
	CHECK(entry_is(&map[0], 0, 0x80000, X86_E820_RAM));
	CHECK_EQ(map[1].type, X86_E820_RESERVED);
}

static void e820_too_small_array_returns_enospc_with_message(void)
{
	struct x86_ram_layout ram = x86_ram_layout(8 * GIB);

	err_clear();
	CHECK_EQ(x86_e820_build(&ram, map, 3), -ENOSPC);
	CHECK_STR_CONTAINS(err_msg(), "needs 4 entries; room for 3");
	CHECK_EQ(x86_e820_build(&ram, map, 0), -ENOSPC);
}

static void e820_layout_overlapping_the_hole_is_refused(void)
{
	struct x86_ram_layout ram = { .low_end = X86_MMIO_HOLE_START + 1 };

	CHECK_EQ(x86_e820_build(&ram, map, 16), -EINVAL);
	ram = (struct x86_ram_layout){ .low_end = 64 * MIB, .high_size = UINT64_MAX };
	CHECK_EQ(x86_e820_build(&ram, map, 16), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "MMIO hole");
}

int main(void)
{
	RUN(e820_64mib_has_low_ram_reserved_vmgenid_ebda_and_ram_above_1mib);
	RUN(e820_exactly_3gib_ends_low_ram_at_the_hole_with_nothing_above);
	RUN(e820_3gib_plus_one_byte_puts_one_byte_above_4gib);
	RUN(e820_8gib_puts_5gib_above_4gib);
	RUN(e820_ram_below_ebda_gets_no_entry_above_1mib);
	RUN(e820_too_small_array_returns_enospc_with_message);
	RUN(e820_layout_overlapping_the_hole_is_refused);
	return harness_done();
}
