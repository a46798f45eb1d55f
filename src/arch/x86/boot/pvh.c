// SPDX-License-Identifier: MIT
/*
 * pvh.c - the PVH boot protocol (Xen's hvm_start_info, version 1).
 *
 * The kernel is entered in 32-bit protected mode with paging off and %ebx
 * pointing at struct hvm_start_info; the initrd is module 0, the memory map
 * is in start_info (version 1), and the command line is a physical address.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/boot/boot_priv.h"

#define HVM_START_MAGIC		0x336ec578u
#define HVM_START_VERSION	1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version 1 */
	uint32_t memmap_entries;	/* version 1 */
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1 is 56 bytes");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry is 32 bytes");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
	       "hvm_memmap_table_entry is 24 bytes");
_Static_assert(X86_PVH_INFO + sizeof(struct hvm_start_info) <= X86_PVH_MODLIST,
	       "start_info overlaps the module list");
_Static_assert(X86_PVH_MODLIST + sizeof(struct hvm_modlist_entry) <= X86_PVH_MEMMAP,
	       "module list overlaps the memory map");
_Static_assert(X86_PVH_MEMMAP + X86_PVH_MEMMAP_MAX *
	       sizeof(struct hvm_memmap_table_entry) <= X86_ZERO_PAGE,
	       "PVH memory map overlaps the zero page");

/* Write the memory map at X86_PVH_MEMMAP; returns the entry count. */
static int pvh_write_memmap(const struct addr_space *as,
			    const struct x86_ram_layout *ram)
{
	struct x86_e820 e820[X86_PVH_MEMMAP_MAX];
	struct hvm_memmap_table_entry map[X86_PVH_MEMMAP_MAX];
	int i, n = x86_e820_build(ram, e820, X86_PVH_MEMMAP_MAX);

	if (n < 0)
		return n;
	memset(map, 0, sizeof(map));
	for (i = 0; i < n; i++) {
		map[i].addr = e820[i].addr;
		map[i].size = e820[i].size;
		map[i].type = e820[i].type;
	}
	if (x86_boot_write(as, X86_PVH_MEMMAP, map, (size_t)n * sizeof(map[0]),
			   "PVH memory map"))
		return -EFAULT;
	return n;
}

static int pvh_write_start_info(const struct addr_space *as,
				const struct x86_boot_args *args,
				const struct x86_boot_entry *entry, int nr_map)
{
	struct hvm_modlist_entry mod = {
		.paddr = entry->initrd_gpa, .size = entry->initrd_len,
	};
	struct hvm_start_info info = {
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.cmdline_paddr = X86_CMDLINE,
		.rsdp_paddr = args->rsdp_gpa,
		.memmap_paddr = X86_PVH_MEMMAP,
		.memmap_entries = (uint32_t)nr_map,
	};

	if (entry->initrd_len) {
		info.nr_modules = 1;
		info.modlist_paddr = X86_PVH_MODLIST;
		if (x86_boot_write(as, X86_PVH_MODLIST, &mod, sizeof(mod),
				   "PVH module list"))
			return -EFAULT;
	}
	return x86_boot_write(as, X86_PVH_INFO, &info, sizeof(info),
			      "PVH start_info");
}

/**
 * x86_load_pvh() - load an ELF kernel with a PVH entry note.
 * @as:    guest address space
 * @args:  boot arguments
 * @elf:   the parsed kernel (elf->has_pvh_entry set)
 * @entry: filled on success: X86_ENTRY_PVH32 at the note's entry point,
 *         info_gpa = X86_PVH_INFO
 *
 * Return: 0, or -errno with an err_set() message.
 */
int x86_load_pvh(const struct addr_space *as, const struct x86_boot_args *args,
		 const struct elf_image *elf, struct x86_boot_entry *entry)
{
	size_t cmdline_len;
	int ret, nr_map;

	if (!elf_addr_in_segment(elf, elf->pvh_entry))
		return err_set(-ENOEXEC,
			       "PVH entry point 0x%llx is not inside any loaded segment",
			       (unsigned long long)elf->pvh_entry);
	ret = elf_load_segments(as, elf);
	if (!ret)
		ret = x86_boot_cmdline(as, args->cmdline, X86_CMDLINE_MAX - 1,
				       &cmdline_len);
	if (!ret)
		ret = x86_boot_initrd(as, args, elf->end, UINT64_MAX, entry);
	if (ret)
		return ret;
	nr_map = pvh_write_memmap(as, &args->ram);
	if (nr_map < 0)
		return nr_map;
	ret = pvh_write_start_info(as, args, entry, nr_map);
	if (ret)
		return ret;
	entry->mode = X86_ENTRY_PVH32;
	entry->format = X86_KERNEL_PVH_ELF;
	entry->rip = elf->pvh_entry;
	entry->info_gpa = X86_PVH_INFO;
	entry->kernel_start = elf->start;
	entry->kernel_end = elf->end;
	return 0;
}
