// SPDX-License-Identifier: MIT
/*
 * vmlinux.c - an uncompressed Linux ELF (no PVH note) entered at its
 * 64-bit entry (startup_64) with a boot_params built from scratch.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <string.h>

#include "arch/x86/boot/boot_priv.h"

#define VMLINUX_TYPE_OF_LOADER	0xff	/* "undefined" boot loader */
#define VMLINUX_KERNEL_ALIGN	0x1000000u

static void vmlinux_setup_header(struct setup_header *hdr)
{
	hdr->boot_flag = BZ_BOOT_FLAG;
	hdr->header = BZ_HEADER_MAGIC;
	hdr->type_of_loader = VMLINUX_TYPE_OF_LOADER;
	hdr->loadflags = LOADED_HIGH;
	hdr->kernel_alignment = VMLINUX_KERNEL_ALIGN;
	/* No initrd_addr_max to honour: the kernel maps all of low RAM. */
	hdr->cmdline_size = (uint32_t)(X86_CMDLINE_MAX - 1);
}

/**
 * x86_load_vmlinux() - load a Linux vmlinux ELF for the 64-bit entry.
 * @as:    guest address space
 * @args:  boot arguments
 * @elf:   the parsed kernel (no PVH note)
 * @entry: filled on success: X86_ENTRY_LINUX64 at e_entry (the physical
 *         address of startup_64), info_gpa = X86_ZERO_PAGE
 *
 * Segments are loaded at p_paddr; the initrd goes at the top of low RAM.
 *
 * Return: 0, or -errno with an err_set() message.
 */
int x86_load_vmlinux(const struct addr_space *as,
		     const struct x86_boot_args *args,
		     const struct elf_image *elf, struct x86_boot_entry *entry)
{
	struct boot_params bp;
	int ret;

	if (!elf_addr_in_segment(elf, elf->eh.e_entry))
		return err_set(-ENOEXEC,
			       "ELF entry point 0x%llx is not inside any loaded segment",
			       (unsigned long long)elf->eh.e_entry);
	ret = elf_load_segments(as, elf);
	if (ret)
		return ret;
	memset(&bp, 0, sizeof(bp));
	vmlinux_setup_header(&bp.hdr);
	entry->kernel_start = elf->start;
	entry->kernel_end = elf->end;
	ret = x86_zeropage_finish(as, args, &bp, UINT64_MAX, entry);
	if (ret)
		return ret;
	entry->format = X86_KERNEL_VMLINUX_ELF;
	entry->rip = elf->eh.e_entry;
	return 0;
}
