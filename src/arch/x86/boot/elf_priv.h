/* SPDX-License-Identifier: MIT */
/*
 * elf_priv.h - a bounds-checked reader of ELF64 x86-64 kernel images.
 *
 * elf_parse() validates everything that can be checked against the file
 * alone (header, program header table, PT_LOAD file ranges, PT_NOTE notes);
 * elf_load_segments() then checks each segment against guest RAM before it
 * writes anything.  Only PT_NOTE segments are searched for notes: every
 * PVH-capable kernel (Linux, FreeBSD, Xen) puts its notes in one, so
 * section headers (SHT_NOTE) are never read.
 */
#ifndef KITE_ARCH_X86_ELF_PRIV_H
#define KITE_ARCH_X86_ELF_PRIV_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr_space.h"

/* XEN_ELFNOTE_PHYS32_ENTRY: owner "Xen", 32-bit physical PVH entry. */
#define ELF_XEN_NOTE_NAME		"Xen"
#define ELF_XEN_PHYS32_ENTRY		18

struct elf_image {
	const uint8_t *data;
	size_t len;
	Elf64_Ehdr eh;
	int has_pvh_entry;
	uint64_t pvh_entry;
	uint64_t start, end;	/* extent of the PT_LOAD segments */
};

int elf_is_x86_64(const uint8_t *data, size_t len);
int elf_parse(const uint8_t *data, size_t len, struct elf_image *img) KITE_WUR;
void elf_phdr(const struct elf_image *img, unsigned int i, Elf64_Phdr *ph);
int elf_load_segments(const struct addr_space *as,
		      const struct elf_image *img) KITE_WUR;
int elf_addr_in_segment(const struct elf_image *img, uint64_t addr);

#endif
