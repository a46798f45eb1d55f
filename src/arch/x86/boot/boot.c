// SPDX-License-Identifier: MIT
/*
 * boot.c - kernel format detection, dispatch to the loaders, and the
 * command line and initrd placement they share.
 */
#include "arch/x86/boot/boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/boot/boot_priv.h"

static int is_bzimage(const uint8_t *data, size_t len)
{
	uint16_t flag;
	uint32_t magic;

	if (len < BZ_HEADER_OFF + sizeof(magic))
		return 0;
	memcpy(&flag, data + BZ_BOOT_FLAG_OFF, sizeof(flag));
	memcpy(&magic, data + BZ_HEADER_OFF, sizeof(magic));
	return flag == BZ_BOOT_FLAG && magic == BZ_HEADER_MAGIC;
}

static enum x86_kernel_format detect_elf(const uint8_t *data, size_t len)
{
	char saved[512];
	struct elf_image img;
	int ret;

	/* Detection is a question, not a failure: keep the caller's message. */
	snprintf(saved, sizeof(saved), "%s", err_msg());
	ret = elf_parse(data, len, &img);
	err_set(0, "%s", saved);
	return ret == 0 && img.has_pvh_entry ? X86_KERNEL_PVH_ELF
					     : X86_KERNEL_VMLINUX_ELF;
}

/**
 * x86_kernel_detect() - which kernel format @data holds, by content.
 * @data: the image (may be NULL when @len is 0)
 * @len:  its size in bytes
 *
 * An ELF64 x86-64 image is PVH when a well-formed XEN_ELFNOTE_PHYS32_ENTRY
 * note is found, vmlinux otherwise (a malformed one is then refused by the
 * loader with a precise message); a "HdrS" header at 0x202 with the 0xaa55
 * boot flag is a bzImage.  Every read is checked against @len.
 *
 * Return: the format, X86_KERNEL_UNKNOWN if none matches.
 */
enum x86_kernel_format x86_kernel_detect(const uint8_t *data, size_t len)
{
	if (elf_is_x86_64(data, len))
		return detect_elf(data, len);
	if (is_bzimage(data, len))
		return X86_KERNEL_BZIMAGE;
	return X86_KERNEL_UNKNOWN;
}

/**
 * x86_kernel_format_name() - a short human name for @fmt.
 * @fmt: a format
 *
 * Return: a static string, "unknown" for anything unrecognised.
 */
const char *x86_kernel_format_name(enum x86_kernel_format fmt)
{
	switch (fmt) {
	case X86_KERNEL_PVH_ELF:
		return "PVH ELF";
	case X86_KERNEL_VMLINUX_ELF:
		return "vmlinux ELF";
	case X86_KERNEL_BZIMAGE:
		return "bzImage";
	case X86_KERNEL_UNKNOWN:
		break;
	}
	return "unknown";
}

/**
 * x86_boot_write() - copy a boot structure into guest RAM.
 * @as:   guest address space
 * @gpa:  destination
 * @src:  bytes to copy
 * @len:  how many
 * @what: what is written, for the message
 *
 * Return: 0, or -EFAULT with a message naming @what and the range.
 */
int x86_boot_write(const struct addr_space *as, uint64_t gpa, const void *src,
		   size_t len, const char *what)
{
	if (as_copy_to(as, gpa, src, len))
		return err_set(-EFAULT, "%s (0x%llx + 0x%zx) does not fit in guest RAM",
			       what, (unsigned long long)gpa, len);
	return 0;
}

/**
 * x86_boot_cmdline() - write the command line at X86_CMDLINE.
 * @as:         guest address space
 * @cmdline:    NUL-terminated command line
 * @kernel_max: the most bytes (without the NUL) the kernel accepts
 * @len:        set to strlen(@cmdline)
 *
 * Return: 0, or -E2BIG / -EFAULT with a message.
 */
int x86_boot_cmdline(const struct addr_space *as, const char *cmdline,
		     uint64_t kernel_max, size_t *len)
{
	size_t n = strlen(cmdline);

	if (n + 1 > X86_CMDLINE_MAX)
		return err_set(-E2BIG, "command line is %zu bytes; kite accepts at most %llu",
			       n, X86_CMDLINE_MAX - 1);
	if (n > kernel_max)
		return err_set(-E2BIG, "command line is %zu bytes; this kernel accepts at most %llu",
			       n, (unsigned long long)kernel_max);
	*len = n;
	return x86_boot_write(as, X86_CMDLINE, cmdline, n + 1, "command line");
}

/**
 * x86_boot_initrd() - place the initrd at the top of low RAM.
 * @as:         guest address space
 * @args:       boot arguments (initrd and RAM layout)
 * @kernel_end: first byte above everything the kernel occupies
 * @limit:      first byte the initrd may not reach (kernel's limit)
 * @entry:      initrd_gpa and initrd_len are set (0 when there is none)
 *
 * The initrd goes page-aligned at the highest address that ends below
 * min(@limit, low_end) and stays above @kernel_end.
 *
 * Return: 0, or -ENOSPC / -EFAULT with a message.
 */
int x86_boot_initrd(const struct addr_space *as,
		    const struct x86_boot_args *args, uint64_t kernel_end,
		    uint64_t limit, struct x86_boot_entry *entry)
{
	uint64_t len = args->initrd.len, top, gpa;

	entry->initrd_gpa = 0;
	entry->initrd_len = 0;
	if (len == 0)
		return 0;
	top = limit < args->ram.low_end ? limit : args->ram.low_end;
	gpa = len <= top ? (top - len) & ~(X86_PAGE_SIZE - 1) : 0;
	if (len > top || gpa < kernel_end)
		return err_set(-ENOSPC,
			       "initrd of %llu MiB (%llu bytes) does not fit below 0x%llx above the kernel (which ends at 0x%llx)",
			       x86_mib_up(len), (unsigned long long)len,
			       (unsigned long long)top,
			       (unsigned long long)kernel_end);
	if (x86_boot_write(as, gpa, args->initrd.data, len, "initrd"))
		return -EFAULT;
	entry->initrd_gpa = gpa;
	entry->initrd_len = len;
	return 0;
}

/**
 * x86_boot_load() - load a kernel of any supported format.
 * @as:    guest address space
 * @args:  kernel, initrd, command line, RSDP and RAM layout
 * @entry: filled on success
 *
 * Return: 0, or -errno with an err_set() message.
 */
int x86_boot_load(const struct addr_space *as, const struct x86_boot_args *args,
		  struct x86_boot_entry *entry)
{
	const uint8_t *data = args->kernel.data;
	size_t len = args->kernel.len;
	struct elf_image elf;
	int ret;

	memset(entry, 0, sizeof(*entry));
	if (len >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0) {
		/* elf_parse() names what is wrong with any other ELF. */
		ret = elf_parse(data, len, &elf);
		if (ret)
			return ret;
		if (args->protocol == X86_BOOT_PVH && !elf.has_pvh_entry)
			return err_set(-ENOEXEC, "the ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
		if (elf.has_pvh_entry && args->protocol != X86_BOOT_LINUX64)
			return x86_load_pvh(as, args, &elf, entry);
		return x86_load_vmlinux(as, args, &elf, entry);
	}
	if (is_bzimage(data, len)) {
		if (args->protocol == X86_BOOT_PVH)
			return err_set(-ENOEXEC, "a bzImage has no PVH entry: use --boot-protocol linux or auto");
		return x86_load_bzimage(as, args, entry);
	}
	return err_set(-ENOEXEC,
		       "not a kernel image kite understands (not ELF64 x86-64, not a bzImage)");
}
