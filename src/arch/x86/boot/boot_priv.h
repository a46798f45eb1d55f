/* SPDX-License-Identifier: MIT */
/*
 * boot_priv.h - helpers shared by the x86 kernel loaders (not a public API).
 *
 * Guest structures are little-endian and so is every host kite runs on
 * (x86-64 KVM), so structures are built in host memory and copied as is.
 */
#ifndef KITE_ARCH_X86_BOOT_PRIV_H
#define KITE_ARCH_X86_BOOT_PRIV_H

#include <stdint.h>

#include "arch/x86/boot/boot.h"
#include "arch/x86/boot/elf_priv.h"

#define X86_PAGE_SIZE	0x1000ULL
#define X86_MIB		(1ULL << 20)

/* Linux bzImage: boot sector flag and setup header signature. */
#define BZ_SETUP_HDR_OFF	0x1f1
#define BZ_BOOT_FLAG_OFF	0x1fe
#define BZ_JUMP_OFF		0x200
#define BZ_HEADER_OFF		0x202
#define BZ_BOOT_FLAG		0xaa55
#define BZ_HEADER_MAGIC		0x53726448u	/* "HdrS" */

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kite's x86 boot structures assume a little-endian host"
#endif

/* Bytes rounded up to whole MiB, for messages. */
static inline unsigned long long x86_mib_up(uint64_t bytes)
{
	return (unsigned long long)(bytes / X86_MIB + (bytes % X86_MIB != 0));
}

int x86_boot_write(const struct addr_space *as, uint64_t gpa, const void *src,
		   size_t len, const char *what) KITE_WUR;
int x86_boot_cmdline(const struct addr_space *as, const char *cmdline,
		     uint64_t kernel_max, size_t *len) KITE_WUR;
int x86_boot_initrd(const struct addr_space *as,
		    const struct x86_boot_args *args, uint64_t kernel_end,
		    uint64_t limit, struct x86_boot_entry *entry) KITE_WUR;

int x86_load_pvh(const struct addr_space *as, const struct x86_boot_args *args,
		 const struct elf_image *elf, struct x86_boot_entry *entry) KITE_WUR;
int x86_load_vmlinux(const struct addr_space *as,
		     const struct x86_boot_args *args,
		     const struct elf_image *elf,
		     struct x86_boot_entry *entry) KITE_WUR;
int x86_load_bzimage(const struct addr_space *as,
		     const struct x86_boot_args *args,
		     struct x86_boot_entry *entry) KITE_WUR;

struct boot_params;
int x86_zeropage_finish(const struct addr_space *as,
			const struct x86_boot_args *args,
			struct boot_params *bp, uint64_t initrd_limit,
			struct x86_boot_entry *entry) KITE_WUR;

#endif
