// SPDX-License-Identifier: MIT
/*
 * Unit tests of the kernel loaders on malformed images: each is refused with
 * a negative errno and a message that names the problem, and never crashes
 * (run under ASan/UBSan too).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "images.h"

static struct test_elf elf;
static struct test_bz bz;
static struct guest g;

/* Load @buf into a fresh 64 MiB guest; returns the loader's result. */
static int load_fresh(const uint8_t *buf, size_t len)
{
	guest_init(&g, GUEST_RAM);
	return guest_load(&g, buf, len);
}

/* --- ELF --- */

static void elf_truncated_header_is_refused(void)
{
	build_elf(&elf, 1);
	CHECK_EQ(load_fresh(elf.buf, 40), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "truncated ELF: header is 64 bytes, file is 40 bytes");
}

static void elf_32bit_image_is_refused_as_not_elf64_x86_64(void)
{
	build_elf(&elf, 1);
	elf.buf[EI_CLASS] = ELFCLASS32;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "not ELF64 little-endian x86-64");
}

static void elf_shared_object_is_refused(void)
{
	build_elf(&elf, 1);
	elf_eh(&elf)->e_type = ET_DYN;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "ET_EXEC");
}

static void elf_phoff_past_eof_is_refused(void)
{
	build_elf(&elf, 1);
	elf_eh(&elf)->e_phoff = ELF_LEN - 100;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "program header table ends at 12356, file is 12288 bytes");
}

static void elf_phdr_table_size_overflow_is_refused(void)
{
	build_elf(&elf, 1);
	elf_eh(&elf)->e_phoff = UINT64_MAX - 64;
	elf_eh(&elf)->e_phnum = 0xfffe;
	elf_eh(&elf)->e_phentsize = 0xffff;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "overflows");
}

static void elf_small_phentsize_and_zero_phnum_are_refused(void)
{
	build_elf(&elf, 1);
	elf_eh(&elf)->e_phentsize = 32;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "program header size 32");
	build_elf(&elf, 1);
	elf_eh(&elf)->e_phnum = 0;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "no program headers");
}

static void elf_segment_filesz_above_memsz_is_refused(void)
{
	build_elf(&elf, 1);
	elf_ph(&elf, 1)->p_filesz = SEG1_MEMSZ + 1;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "segment 1: file size 0x1001 exceeds memory size 0x1000");
}

static void elf_segment_past_eof_is_refused(void)
{
	build_elf(&elf, 1);
	elf_ph(&elf, 1)->p_offset = UINT64_MAX - 8;	/* offset + filesz wraps */
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "segment 1");
	build_elf(&elf, 1);
	elf_ph(&elf, 1)->p_offset = ELF_LEN - SEG1_FILESZ + 1;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "ends past the end of the file (12288 bytes)");
}

static void elf_segment_outside_guest_ram_is_refused_before_writing(void)
{
	build_elf(&elf, 1);
	elf_ph(&elf, 1)->p_paddr = GUEST_RAM - 0x100;	/* straddles the end */
	CHECK_EQ(load_fresh(elf.buf, elf.len), -EFAULT);
	CHECK_STR_CONTAINS(err_msg(), "ELF segment 1 (0x3ffff00 + 0x1000) lies outside guest RAM");
	CHECK_EQ(g.ram[SEG0_PADDR], 0);		/* segment 0 not written either */
}

static void elf_segment_wrapping_the_address_space_is_refused(void)
{
	build_elf(&elf, 1);
	elf_ph(&elf, 1)->p_paddr = UINT64_MAX - 0x10;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "wraps around");
}

static void elf_segment_overlapping_the_first_mib_is_refused(void)
{
	build_elf(&elf, 1);
	elf_ph(&elf, 0)->p_paddr = 0x7000;	/* the zero page */
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "segment 0 at 0x7000 lies below 1 MiB");
}

static void elf_without_load_segments_is_refused(void)
{
	build_elf(&elf, 0);
	elf_ph(&elf, 0)->p_type = PT_NULL;
	elf_ph(&elf, 1)->p_type = PT_NULL;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "no loadable");
}

static void elf_note_with_huge_namesz_or_descsz_is_refused(void)
{
	Elf64_Nhdr *nh;

	build_elf(&elf, 1);
	nh = (Elf64_Nhdr *)(elf.buf + XEN_NOTE_OFF);
	nh->n_namesz = 0xfffffffd;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "ELF note 1 in segment 2 (name size 0xfffffffd");
	build_elf(&elf, 1);
	nh = (Elf64_Nhdr *)(elf.buf + XEN_NOTE_OFF);
	nh->n_descsz = 0xffffffff;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "runs past the segment");
	build_elf(&elf, 1);
	nh = (Elf64_Nhdr *)(elf.buf + XEN_NOTE_OFF);
	nh->n_descsz = 5;	/* padded to 8: one byte past the segment */
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
}

static void elf_note_segment_past_eof_is_refused(void)
{
	build_elf(&elf, 1);
	elf_ph(&elf, 2)->p_filesz = ELF_LEN;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "segment 2");
}

static void pvh_note_with_odd_descriptor_size_is_refused(void)
{
	uint8_t desc[6] = { 0 };
	size_t notes;

	build_elf(&elf, 1);
	notes = GNU_NOTE_SIZE + elf_put_note(&elf, XEN_NOTE_OFF, "Xen", 18, desc, 6);
	elf_ph(&elf, 2)->p_filesz = notes;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "6-byte descriptor");
}

static void pvh_entry_above_4gib_or_outside_segments_is_refused(void)
{
	uint64_t entry = 0x100000000ULL;
	size_t notes;

	build_elf(&elf, 1);
	notes = GNU_NOTE_SIZE + elf_put_note(&elf, XEN_NOTE_OFF, "Xen", 18, &entry, 8);
	elf_ph(&elf, 2)->p_filesz = notes;
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "above 4 GiB");
	entry = 0x300000;
	elf_put_note(&elf, XEN_NOTE_OFF, "Xen", 18, &entry, 8);
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "PVH entry point 0x300000 is not inside any loaded segment");
}

static void vmlinux_entry_outside_segments_is_refused(void)
{
	build_elf(&elf, 0);
	elf_eh(&elf)->e_entry = SEG1_PADDR + SEG1_FILESZ;	/* in bss */
	CHECK_EQ(load_fresh(elf.buf, elf.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "ELF entry point 0x200080 is not inside any loaded segment");
}

/* --- bzImage --- */

static void bzimage_protocol_2_05_is_refused_as_too_old(void)
{
	build_bz(&bz);
	bz_hdr(&bz)->version = 0x0205;
	CHECK_EQ(load_fresh(bz.buf, bz.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "bzImage boot protocol 2.05 is too old: kite needs 2.12");
}

static void bzimage_header_past_eof_is_refused(void)
{
	build_bz(&bz);
	CHECK_EQ(load_fresh(bz.buf, 0x210), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "truncated bzImage: setup header ends at 620, file is 528 bytes");
}

static void bzimage_short_setup_header_is_refused(void)
{
	build_bz(&bz);
	bz.buf[0x201] = 0x30;	/* header ends at 0x232, before init_size */
	CHECK_EQ(load_fresh(bz.buf, bz.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "setup header ends at 0x232");
}

static void bzimage_setup_sects_past_eof_is_refused(void)
{
	build_bz(&bz);
	bz_hdr(&bz)->setup_sects = 200;
	CHECK_EQ(load_fresh(bz.buf, bz.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "setup_sects 200 puts the kernel at offset 102912, past the end of the file (3584 bytes)");
}

static void bzimage_without_xlf_kernel_64_is_refused(void)
{
	build_bz(&bz);
	bz_hdr(&bz)->xloadflags = XLF_EFI_HANDOVER_32;
	CHECK_EQ(load_fresh(bz.buf, bz.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "no 64-bit entry point (xloadflags 0x4 lacks XLF_KERNEL_64)");
}

static void bzimage_not_loaded_high_is_refused(void)
{
	build_bz(&bz);
	bz_hdr(&bz)->loadflags = 0;
	CHECK_EQ(load_fresh(bz.buf, bz.len), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "LOADED_HIGH");
}

static void bzimage_init_size_beyond_ram_is_refused(void)
{
	build_bz(&bz);
	bz_hdr(&bz)->init_size = 0x3000001;	/* 16 MiB + 48 MiB + 1 > 64 MiB */
	CHECK_EQ(load_fresh(bz.buf, bz.len), -ENOMEM);
	CHECK_STR_CONTAINS(err_msg(), "--mem too small for this kernel (needs at least 65 MiB");
	CHECK_EQ(g.ram[0x100000], 0);		/* nothing written */
}

static void bzimage_huge_pref_address_is_refused(void)
{
	build_bz(&bz);
	bz_hdr(&bz)->pref_address = UINT64_MAX - 0x1000;
	CHECK(load_fresh(bz.buf, bz.len) < 0);
	CHECK_STR_CONTAINS(err_msg(), "wraps");
}

/* --- shared: command line, initrd, unknown formats, tiny RAM --- */

static void cmdline_longer_than_kernel_limit_is_refused(void)
{
	static char line[BZ_CMDLINE_SIZE + 2];

	memset(line, 'a', sizeof(line) - 1);
	build_bz(&bz);
	guest_init(&g, GUEST_RAM);
	g.args.cmdline = line;
	CHECK_EQ(guest_load(&g, bz.buf, bz.len), -E2BIG);
	CHECK_STR_CONTAINS(err_msg(), "command line is 2048 bytes; this kernel accepts at most 2047");
}

static void cmdline_longer_than_kite_limit_is_refused(void)
{
	static char line[X86_CMDLINE_MAX + 1];

	memset(line, 'b', sizeof(line) - 1);
	build_elf(&elf, 1);
	guest_init(&g, GUEST_RAM);
	g.args.cmdline = line;
	CHECK_EQ(guest_load(&g, elf.buf, elf.len), -E2BIG);
	CHECK_STR_CONTAINS(err_msg(), "command line is 65536 bytes; kite accepts at most 65535");
}

static void initrd_too_large_to_fit_is_refused(void)
{
	static uint8_t big[1];

	build_bz(&bz);
	guest_init(&g, GUEST_RAM);
	/* Only the length matters: placement fails before any copy. */
	g.args.initrd = (struct x86_boot_image){ .data = big, .len = 45 * MIB };
	CHECK_EQ(guest_load(&g, bz.buf, bz.len), -ENOSPC);
	CHECK_STR_CONTAINS(err_msg(), "initrd of 45 MiB (47185920 bytes) does not fit below 0x4000000");
	g.args.initrd.len = GUEST_RAM + 1;
	CHECK_EQ(guest_load(&g, bz.buf, bz.len), -ENOSPC);
	build_elf(&elf, 1);
	g.args.initrd.len = GUEST_RAM - 0x1000;
	CHECK_EQ(guest_load(&g, elf.buf, elf.len), -ENOSPC);
	CHECK_STR_CONTAINS(err_msg(), "does not fit");
}

static void unknown_format_is_refused_with_message(void)
{
	uint8_t garbage[4096];

	memset(garbage, 0x90, sizeof(garbage));
	CHECK_EQ(load_fresh(garbage, sizeof(garbage)), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "not a kernel image kite understands (not ELF64 x86-64, not a bzImage)");
	CHECK_EQ(load_fresh(NULL, 0), -ENOEXEC);
	CHECK_STR_CONTAINS(err_msg(), "not a kernel image");
}

static void guest_too_small_for_boot_structures_is_refused(void)
{
	build_elf(&elf, 1);
	guest_init(&g, 0x1000);		/* not even the command line fits */
	CHECK(guest_load(&g, elf.buf, elf.len) < 0);
	CHECK_STR_CONTAINS(err_msg(), "outside guest RAM");
}

/* --- every truncation and random corruption: an error or success, no crash --- */

/* Load a private heap copy of exactly @len bytes, so ASan sees over-reads. */
static int load_exact_copy(const uint8_t *src, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	if (!copy)
		abort();
	memcpy(copy, src, len);
	guest_init(&g, GUEST_RAM);
	ret = guest_load(&g, copy, len);
	free(copy);
	return ret;
}

static int result_is_sane(int ret)
{
	return ret == 0 || (ret < 0 && ret >= -4095 && err_msg()[0] != '\0');
}

static void every_truncation_of_valid_images_fails_cleanly(void)
{
	size_t len;
	int bad = 0;

	build_elf(&elf, 1);
	build_bz(&bz);
	for (len = 0; len < ELF_LEN; len += (len < 0x400 ? 1 : 61))
		bad += !result_is_sane(load_exact_copy(elf.buf, len));
	for (len = 0; len < BZ_LEN; len++) {
		int ret = load_exact_copy(bz.buf, len);

		bad += !result_is_sane(ret) || (ret == 0 && len <= BZ_KERNEL_OFF);
	}
	CHECK_EQ(bad, 0);
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void random_header_corruption_never_crashes(void)
{
	static struct test_elf e2;
	static struct test_bz b2;
	uint32_t seed = 12345;
	int i, k, bad = 0;

	build_elf(&elf, 1);
	build_bz(&bz);
	for (i = 0; i < 3000; i++) {
		e2 = elf;
		b2 = bz;
		for (k = 0; k < 4; k++) {
			e2.buf[lcg(&seed) % 0x240] = (uint8_t)lcg(&seed);
			b2.buf[0x1f1 + lcg(&seed) % 0x80] = (uint8_t)lcg(&seed);
		}
		bad += !result_is_sane(load_exact_copy(e2.buf, e2.len));
		bad += !result_is_sane(load_exact_copy(b2.buf, b2.len));
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	if (guest_ram_map_once())
		return 1;
	RUN(elf_truncated_header_is_refused);
	RUN(elf_32bit_image_is_refused_as_not_elf64_x86_64);
	RUN(elf_shared_object_is_refused);
	RUN(elf_phoff_past_eof_is_refused);
	RUN(elf_phdr_table_size_overflow_is_refused);
	RUN(elf_small_phentsize_and_zero_phnum_are_refused);
	RUN(elf_segment_filesz_above_memsz_is_refused);
	RUN(elf_segment_past_eof_is_refused);
	RUN(elf_segment_outside_guest_ram_is_refused_before_writing);
	RUN(elf_segment_wrapping_the_address_space_is_refused);
	RUN(elf_segment_overlapping_the_first_mib_is_refused);
	RUN(elf_without_load_segments_is_refused);
	RUN(elf_note_with_huge_namesz_or_descsz_is_refused);
	RUN(elf_note_segment_past_eof_is_refused);
	RUN(pvh_note_with_odd_descriptor_size_is_refused);
	RUN(pvh_entry_above_4gib_or_outside_segments_is_refused);
	RUN(vmlinux_entry_outside_segments_is_refused);
	RUN(bzimage_protocol_2_05_is_refused_as_too_old);
	RUN(bzimage_header_past_eof_is_refused);
	RUN(bzimage_short_setup_header_is_refused);
	RUN(bzimage_setup_sects_past_eof_is_refused);
	RUN(bzimage_without_xlf_kernel_64_is_refused);
	RUN(bzimage_not_loaded_high_is_refused);
	RUN(bzimage_init_size_beyond_ram_is_refused);
	RUN(bzimage_huge_pref_address_is_refused);
	RUN(cmdline_longer_than_kernel_limit_is_refused);
	RUN(cmdline_longer_than_kite_limit_is_refused);
	RUN(initrd_too_large_to_fit_is_refused);
	RUN(unknown_format_is_refused_with_message);
	RUN(guest_too_small_for_boot_structures_is_refused);
	RUN(every_truncation_of_valid_images_fails_cleanly);
	RUN(random_header_corruption_never_crashes);
	munmap(guest_ram_map, GUEST_RAM_MAX);
	return harness_done();
}
