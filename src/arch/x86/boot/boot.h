/* SPDX-License-Identifier: MIT */
/*
 * boot.h - loading a kernel into guest memory.
 *
 * The format is chosen by content, never by file name:
 *   - ELF64 with a XEN_ELFNOTE_PHYS32_ENTRY note: PVH (32-bit entry,
 *     %ebx = hvm_start_info), initrd as module 0, memory map in start_info;
 *   - other ELF64 x86-64 executables: Linux vmlinux (64-bit entry with a
 *     boot_params built from scratch);
 *   - "HdrS" setup header at 0x202: Linux bzImage (64-bit boot protocol).
 * All input is untrusted: every offset and size is checked, and every write
 * into the guest goes through the address space.
 */
#ifndef KITE_ARCH_X86_BOOT_H
#define KITE_ARCH_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/layout.h"
#include "core/addr_space.h"
#include "core/error.h"

enum x86_kernel_format {
	X86_KERNEL_UNKNOWN = 0,
	X86_KERNEL_PVH_ELF,
	X86_KERNEL_VMLINUX_ELF,
	X86_KERNEL_BZIMAGE,
};

enum x86_entry_mode {
	X86_ENTRY_PVH32,	/* 32-bit protected mode, paging off, %ebx = info */
	X86_ENTRY_LINUX64,	/* long mode, identity map, %rsi = boot_params */
};

struct x86_boot_image {
	const uint8_t *data;
	size_t len;
};

/* Which entry to use; AUTO picks by content (PVH when the ELF has the note). */
enum x86_boot_protocol {
	X86_BOOT_AUTO = 0,
	X86_BOOT_PVH,		/* refuse images without a PVH entry note */
	X86_BOOT_LINUX64,	/* Linux 64-bit entry even if a PVH note exists */
};

struct x86_boot_args {
	enum x86_boot_protocol protocol;
	struct x86_boot_image kernel;
	struct x86_boot_image initrd;	/* len == 0: none */
	const char *cmdline;		/* never NULL; "" for none */
	uint64_t rsdp_gpa;		/* 0: no ACPI */
	struct x86_ram_layout ram;
};

struct x86_boot_entry {
	enum x86_entry_mode mode;
	enum x86_kernel_format format;
	uint64_t rip;			/* guest-physical entry point */
	uint64_t info_gpa;		/* hvm_start_info or boot_params */
	uint64_t kernel_start, kernel_end; /* guest-physical extent loaded */
	uint64_t initrd_gpa, initrd_len;
};

/* Which format @data holds (X86_KERNEL_UNKNOWN if none). */
enum x86_kernel_format x86_kernel_detect(const uint8_t *data, size_t len);
const char *x86_kernel_format_name(enum x86_kernel_format fmt);

/*
 * Load kernel, initrd and command line into @as and write the boot
 * information block; fill @entry.  On failure returns -errno with an
 * err_set() message, e.g. "ELF segment 2 (0x.. + 0x..) lies outside guest
 * RAM".
 */
int x86_boot_load(const struct addr_space *as, const struct x86_boot_args *args,
		  struct x86_boot_entry *entry) KITE_WUR;

/* e820 types as in the Linux boot protocol. */
#define X86_E820_RAM		1
#define X86_E820_RESERVED	2

struct x86_e820 {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * The guest's memory map: RAM [0, EBDA), reserved EBDA..1 MiB, RAM
 * [1 MiB, low_end), RAM above 4 GiB.  Returns the number of entries written
 * (at most @max) or -ENOSPC.
 */
int x86_e820_build(const struct x86_ram_layout *ram, struct x86_e820 *out,
		   unsigned int max) KITE_WUR;

#endif
