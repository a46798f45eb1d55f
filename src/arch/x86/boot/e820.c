// SPDX-License-Identifier: MIT
/*
 * e820.c - the guest memory map, shared by the PVH and Linux loaders.
 */
#include <errno.h>

#include "arch/x86/boot/boot_priv.h"

struct e820_builder {
	struct x86_e820 *out;
	unsigned int max, n, needed;
};

/* Append [addr, addr + size) unless empty; count what did not fit. */
static void e820_add(struct e820_builder *b, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	if (size == 0)
		return;
	b->needed++;
	if (b->n == b->max)
		return;
	b->out[b->n++] = (struct x86_e820){ .addr = addr, .size = size, .type = type };
}

/**
 * x86_e820_build() - describe the guest's memory to the kernel.
 * @ram: the RAM layout (low_end <= X86_MMIO_HOLE_START)
 * @out: array of at least @max entries
 * @max: capacity of @out
 *
 * Emits RAM [0, X86_LOW_RESERVED_START), reserved [X86_LOW_RESERVED_START,
 * 1 MiB) (VM generation ID page, MP table in the EBDA, ACPI tables, BIOS
 * area), RAM [1 MiB, low_end) and RAM [4 GiB, 4 GiB + high_size); empty
 * ranges are left out, so a guest smaller than 1 MiB gets no high entry.
 * The MMIO hole is never described as RAM.
 *
 * Return: the number of entries written, -ENOSPC if @max is too small, or
 * -EINVAL for a layout that overlaps the hole or wraps; with an err_set()
 * message.
 */
int x86_e820_build(const struct x86_ram_layout *ram, struct x86_e820 *out,
		   unsigned int max)
{
	struct e820_builder b = { .out = out, .max = max };
	uint64_t low_ram = ram->low_end < X86_LOW_RESERVED_START ? ram->low_end :
			   X86_LOW_RESERVED_START;
	uint64_t high_end;

	if (ram->low_end > X86_MMIO_HOLE_START ||
	    __builtin_add_overflow(X86_MMIO_HOLE_END, ram->high_size, &high_end))
		return err_set(-EINVAL,
			       "RAM layout (low end 0x%llx, 0x%llx bytes above 4 GiB) overlaps the MMIO hole or wraps",
			       (unsigned long long)ram->low_end,
			       (unsigned long long)ram->high_size);
	e820_add(&b, 0, low_ram, X86_E820_RAM);
	e820_add(&b, X86_LOW_RESERVED_START, X86_HIMEM_START - X86_LOW_RESERVED_START,
		 X86_E820_RESERVED);
	if (ram->low_end > X86_HIMEM_START)
		e820_add(&b, X86_HIMEM_START, ram->low_end - X86_HIMEM_START,
			 X86_E820_RAM);
	e820_add(&b, X86_MMIO_HOLE_END, ram->high_size, X86_E820_RAM);
	if (b.needed > max)
		return err_set(-ENOSPC, "memory map needs %u entries; room for %u",
			       b.needed, max);
	return (int)b.n;
}
