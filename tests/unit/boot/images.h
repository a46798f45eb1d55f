/* SPDX-License-Identifier: MIT */
/*
 * images.h - synthetic kernel images and a fake guest for the loader tests.
 *
 * Guest RAM is one anonymous mapping made once per test binary; each test
 * zeroes it again with MADV_DONTNEED, so a failing CHECK leaks nothing.
 */
#ifndef KITE_TEST_BOOT_IMAGES_H
#define KITE_TEST_BOOT_IMAGES_H

#include <asm/bootparam.h>
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/boot/boot.h"

#define MIB			(1ULL << 20)
#define GUEST_RAM_MAX		(256 * MIB)
#define GUEST_RAM		(64 * MIB)

/* ELF test image: two PT_LOAD segments and a PT_NOTE. */
#define SEG0_OFF		0x1000
#define SEG0_PADDR		0x100000ULL
#define SEG0_SIZE		0x100
#define SEG1_OFF		0x2000
#define SEG1_PADDR		0x200000ULL
#define SEG1_FILESZ		0x80
#define SEG1_MEMSZ		0x1000
#define NOTE_OFF		0x200
#define VMLINUX_ENTRY		SEG0_PADDR
#define PVH_ENTRY		(SEG0_PADDR + 0x40)
#define ELF_LEN			0x3000
#define GNU_NOTE_SIZE		(12 + 4 + 20)
#define XEN_NOTE_OFF		(NOTE_OFF + GNU_NOTE_SIZE)

/* bzImage test image: 2 setup sectors, then the protected-mode kernel. */
#define BZ_SETUP_SECTS		2
#define BZ_KERNEL_OFF		((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PAYLOAD		0x800
#define BZ_LEN			(BZ_KERNEL_OFF + BZ_PAYLOAD)
#define BZ_PREF_ADDRESS		0x1000000ULL
#define BZ_INIT_SIZE		0x400000u
#define BZ_CMDLINE_SIZE		2047

/* The PVH start_info ABI (version 1), as the guest reads it. */
struct test_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct test_elf {
	_Alignas(8) uint8_t buf[ELF_LEN];
	size_t len;
};

struct test_bz {
	uint8_t buf[BZ_LEN];
	size_t len;
};

struct guest {
	struct addr_space as;
	uint8_t *ram;
	struct x86_boot_args args;
	struct x86_boot_entry entry;
};

static uint8_t *guest_ram_map;

static inline int guest_ram_map_once(void)
{
	void *p = mmap(NULL, GUEST_RAM_MAX, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	guest_ram_map = p;
	return 0;
}

/* A zeroed guest with @size bytes of RAM at 0 and no kernel. */
static inline void guest_init(struct guest *g, uint64_t size)
{
	memset(g, 0, sizeof(*g));
	madvise(guest_ram_map, GUEST_RAM_MAX, MADV_DONTNEED);
	g->ram = guest_ram_map;
	as_init(&g->as);
	if (as_add_region(&g->as, 0, size, g->ram, -1, 0, 0))
		abort();
	g->args.ram = x86_ram_layout(size);
	g->args.cmdline = "";
	err_clear();
}

static inline int guest_load(struct guest *g, const uint8_t *kernel, size_t len)
{
	g->args.kernel = (struct x86_boot_image){ .data = kernel, .len = len };
	return x86_boot_load(&g->as, &g->args, &g->entry);
}

static inline Elf64_Ehdr *elf_eh(struct test_elf *t)
{
	return (Elf64_Ehdr *)t->buf;
}

static inline Elf64_Phdr *elf_ph(struct test_elf *t, int i)
{
	return (Elf64_Phdr *)(t->buf + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static inline void elf_set_load(struct test_elf *t, int i, uint64_t off,
				uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	Elf64_Phdr *ph = elf_ph(t, i);

	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_X;
	ph->p_offset = off;
	ph->p_vaddr = 0xffffffff80000000ULL + paddr;
	ph->p_paddr = paddr;
	ph->p_filesz = filesz;
	ph->p_memsz = memsz;
	ph->p_align = 0x1000;
}

/* Append a note at @off; returns its size. */
static inline size_t elf_put_note(struct test_elf *t, size_t off, const char *name,
				  uint32_t type, const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = { .n_namesz = (uint32_t)strlen(name) + 1,
			  .n_descsz = descsz, .n_type = type };
	size_t namesz = (nh.n_namesz + 3) & ~3u;

	memcpy(t->buf + off, &nh, sizeof(nh));
	memcpy(t->buf + off + sizeof(nh), name, nh.n_namesz);
	memcpy(t->buf + off + sizeof(nh) + namesz, desc, descsz);
	return sizeof(nh) + namesz + ((descsz + 3) & ~3u);
}

/*
 * An ELF64 x86-64 ET_EXEC kernel: code segment at 1 MiB, data+bss at 2 MiB,
 * a PT_NOTE with a GNU build-id note and, when @pvh, a Xen PVH entry note.
 */
static inline void build_elf(struct test_elf *t, int pvh)
{
	Elf64_Ehdr *eh = elf_eh(t);
	uint8_t build_id[20] = { 1, 2, 3 };
	uint32_t entry = (uint32_t)PVH_ENTRY;
	size_t notes;
	int i;

	memset(t, 0, sizeof(*t));
	t->len = ELF_LEN;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = VMLINUX_ENTRY;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 3;
	elf_set_load(t, 0, SEG0_OFF, SEG0_PADDR, SEG0_SIZE, SEG0_SIZE);
	elf_set_load(t, 1, SEG1_OFF, SEG1_PADDR, SEG1_FILESZ, SEG1_MEMSZ);
	notes = elf_put_note(t, NOTE_OFF, "GNU", NT_GNU_BUILD_ID, build_id, 20);
	if (pvh)
		notes += elf_put_note(t, XEN_NOTE_OFF, "Xen", 18, &entry, 4);
	*elf_ph(t, 2) = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
				      .p_filesz = notes, .p_align = 4 };
	for (i = 0; i < SEG0_SIZE; i++)
		t->buf[SEG0_OFF + i] = (uint8_t)(0xa0 + i);
	memset(t->buf + SEG1_OFF, 0x5a, SEG1_FILESZ);
}

static inline struct setup_header *bz_hdr(struct test_bz *t)
{
	return (struct setup_header *)(t->buf + 0x1f1);
}

/* A bzImage with protocol 2.15 and a 64-bit entry; payload is a pattern. */
static inline void build_bz(struct test_bz *t)
{
	struct setup_header *h = bz_hdr(t);
	int i;

	memset(t, 0, sizeof(*t));
	t->len = BZ_LEN;
	h->setup_sects = BZ_SETUP_SECTS;
	h->syssize = BZ_PAYLOAD / 16;
	h->vid_mode = 0xffff;
	h->boot_flag = 0xaa55;
	t->buf[0x200] = 0xeb;	/* jmp to the end of the header */
	t->buf[0x201] = (uint8_t)(0x1f1 + sizeof(struct setup_header) - 0x202);
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH | CAN_USE_HEAP;
	h->heap_end_ptr = 0x1234;
	h->code32_start = 0x100000;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	h->cmdline_size = BZ_CMDLINE_SIZE;
	h->pref_address = BZ_PREF_ADDRESS;
	h->init_size = BZ_INIT_SIZE;
	for (i = 0; i < BZ_PAYLOAD; i++)
		t->buf[BZ_KERNEL_OFF + i] = (uint8_t)(i * 7);
}

#endif
