// SPDX-License-Identifier: MIT
/*
 * zeropage.c - the parts of the Linux zero page (struct boot_params) that
 * the vmlinux and bzImage loaders fill the same way.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <string.h>

#include "arch/x86/boot/boot_priv.h"

_Static_assert(sizeof(struct boot_params) == X86_PAGE_SIZE, "boot_params is one page");

static int zeropage_e820(struct boot_params *bp, const struct x86_ram_layout *ram)
{
	struct x86_e820 e820[E820_MAX_ENTRIES_ZEROPAGE];
	int i, n = x86_e820_build(ram, e820, E820_MAX_ENTRIES_ZEROPAGE);

	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		bp->e820_table[i].addr = e820[i].addr;
		bp->e820_table[i].size = e820[i].size;
		bp->e820_table[i].type = e820[i].type;
	}
	bp->e820_entries = (uint8_t)n;
	return 0;
}

/**
 * x86_zeropage_finish() - place command line and initrd, fill the memory
 * map, and write @bp to X86_ZERO_PAGE.
 * @as:           guest address space
 * @args:         boot arguments
 * @bp:           boot_params with the setup header already filled
 *                (hdr.cmdline_size is the kernel's command line limit)
 * @initrd_limit: first address the initrd may not reach
 * @entry:        kernel_start/kernel_end already set; the initrd, mode and
 *                info_gpa are filled here
 *
 * Return: 0, or -errno with an err_set() message.
 */
int x86_zeropage_finish(const struct addr_space *as,
			const struct x86_boot_args *args,
			struct boot_params *bp, uint64_t initrd_limit,
			struct x86_boot_entry *entry)
{
	size_t cmdline_len;
	int ret = x86_boot_cmdline(as, args->cmdline, bp->hdr.cmdline_size,
				   &cmdline_len);

	if (!ret)
		ret = x86_boot_initrd(as, args, entry->kernel_end, initrd_limit,
				      entry);
	if (!ret)
		ret = zeropage_e820(bp, &args->ram);
	if (ret)
		return ret;
	bp->hdr.cmd_line_ptr = (uint32_t)X86_CMDLINE;
	bp->ext_cmd_line_ptr = 0;
	bp->hdr.ramdisk_image = (uint32_t)entry->initrd_gpa;
	bp->ext_ramdisk_image = (uint32_t)(entry->initrd_gpa >> 32);
	bp->hdr.ramdisk_size = (uint32_t)entry->initrd_len;
	bp->ext_ramdisk_size = (uint32_t)(entry->initrd_len >> 32);
	bp->acpi_rsdp_addr = args->rsdp_gpa;
	ret = x86_boot_write(as, X86_ZERO_PAGE, bp, sizeof(*bp), "zero page");
	if (ret)
		return ret;
	entry->mode = X86_ENTRY_LINUX64;
	entry->info_gpa = X86_ZERO_PAGE;
	return 0;
}
