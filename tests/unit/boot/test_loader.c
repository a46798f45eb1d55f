// SPDX-License-Identifier: MIT
/* Unit tests of the kernel loaders on well-formed images (no KVM needed). */
#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "images.h"

static struct test_elf elf;
static struct test_bz bz;
static struct guest g;

static const char cmdline[] = "console=ttyS0 root=/dev/vda rw";

static void set_initrd(struct guest *gu, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	gu->args.initrd = (struct x86_boot_image){ .data = buf, .len = len };
}

/* --- detection --- */

static void detect_picks_pvh_for_elf_with_xen_entry_note(void)
{
	build_elf(&elf, 1);
	CHECK_EQ(x86_kernel_detect(elf.buf, elf.len), X86_KERNEL_PVH_ELF);
}

static void detect_picks_vmlinux_for_elf_without_xen_note(void)
{
	build_elf(&elf, 0);
	CHECK_EQ(x86_kernel_detect(elf.buf, elf.len), X86_KERNEL_VMLINUX_ELF);
}

static void detect_picks_bzimage_for_hdrs_header_and_boot_flag(void)
{
	build_bz(&bz);
	CHECK_EQ(x86_kernel_detect(bz.buf, bz.len), X86_KERNEL_BZIMAGE);
}

static void detect_returns_unknown_for_garbage_empty_and_truncated(void)
{
	static const uint8_t one = 0x7f;
	uint8_t garbage[1024];

	memset(garbage, 0x42, sizeof(garbage));
	build_elf(&elf, 1);
	build_bz(&bz);
	CHECK_EQ(x86_kernel_detect(garbage, sizeof(garbage)), X86_KERNEL_UNKNOWN);
	CHECK_EQ(x86_kernel_detect(NULL, 0), X86_KERNEL_UNKNOWN);
	CHECK_EQ(x86_kernel_detect(&one, 1), X86_KERNEL_UNKNOWN);
	CHECK_EQ(x86_kernel_detect(elf.buf, sizeof(Elf64_Ehdr) - 1), X86_KERNEL_UNKNOWN);
	CHECK_EQ(x86_kernel_detect(bz.buf, 0x205), X86_KERNEL_UNKNOWN);
	bz_hdr(&bz)->boot_flag = 0;
	CHECK_EQ(x86_kernel_detect(bz.buf, bz.len), X86_KERNEL_UNKNOWN);
	elf_eh(&elf)->e_machine = EM_386;
	CHECK_EQ(x86_kernel_detect(elf.buf, elf.len), X86_KERNEL_UNKNOWN);
}

static void detect_leaves_the_previous_error_message_alone(void)
{
	build_elf(&elf, 1);
	elf_eh(&elf)->e_phoff = 0x100000;	/* parse fails inside detect */
	err_set(-EIO, "earlier message");
	CHECK_EQ(x86_kernel_detect(elf.buf, elf.len), X86_KERNEL_VMLINUX_ELF);
	CHECK_STR_CONTAINS(err_msg(), "earlier message");
}

static void format_names_are_human_readable(void)
{
	CHECK_STR_CONTAINS(x86_kernel_format_name(X86_KERNEL_PVH_ELF), "PVH");
	CHECK_STR_CONTAINS(x86_kernel_format_name(X86_KERNEL_VMLINUX_ELF), "vmlinux");
	CHECK_STR_CONTAINS(x86_kernel_format_name(X86_KERNEL_BZIMAGE), "bzImage");
	CHECK_STR_CONTAINS(x86_kernel_format_name(X86_KERNEL_UNKNOWN), "unknown");
	CHECK_STR_CONTAINS(x86_kernel_format_name((enum x86_kernel_format)99), "unknown");
}

/* --- PVH --- */

static void pvh_load_writes_start_info_cmdline_memmap_and_initrd_module(void)
{
	static uint8_t initrd[10000];
	struct test_start_info si;
	struct x86_e820 want[8];
	uint64_t mod[4];
	int i, n;

	build_elf(&elf, 1);
	guest_init(&g, GUEST_RAM);
	g.args.cmdline = cmdline;
	g.args.rsdp_gpa = 0xe0000;
	set_initrd(&g, initrd, sizeof(initrd));
	CHECK_EQ(guest_load(&g, elf.buf, elf.len), 0);

	memcpy(&si, g.ram + X86_PVH_INFO, sizeof(si));
	CHECK_EQ(si.magic, 0x336ec578);
	CHECK_EQ(si.version, 1);
	CHECK_EQ(si.flags, 0);
	CHECK_EQ(si.rsdp_paddr, 0xe0000);
	CHECK_STR_CONTAINS((char *)g.ram + si.cmdline_paddr, cmdline);
	CHECK_EQ(strlen((char *)g.ram + si.cmdline_paddr), strlen(cmdline));
	n = x86_e820_build(&g.args.ram, want, 8);
	CHECK_EQ(si.memmap_entries, n);
	for (i = 0; i < n; i++) {
		const uint8_t *e = g.ram + si.memmap_paddr + 24 * (uint64_t)i;

		CHECK(memcmp(e, &want[i].addr, 8) == 0);
		CHECK(memcmp(e + 8, &want[i].size, 8) == 0);
		CHECK(memcmp(e + 16, &want[i].type, 4) == 0);
	}
	CHECK_EQ(si.nr_modules, 1);
	memcpy(mod, g.ram + si.modlist_paddr, sizeof(mod));
	CHECK_EQ(mod[0], g.entry.initrd_gpa);
	CHECK_EQ(mod[1], sizeof(initrd));
	CHECK_EQ(g.entry.initrd_gpa % 4096, 0);
	CHECK(g.entry.initrd_gpa + sizeof(initrd) <= GUEST_RAM);
	CHECK(g.entry.initrd_gpa >= SEG1_PADDR + SEG1_MEMSZ);
	CHECK(memcmp(g.ram + g.entry.initrd_gpa, initrd, sizeof(initrd)) == 0);
}

static void pvh_load_enters_at_note_value_in_32bit_mode(void)
{
	build_elf(&elf, 1);
	guest_init(&g, GUEST_RAM);
	CHECK_EQ(guest_load(&g, elf.buf, elf.len), 0);
	CHECK_EQ(g.entry.mode, X86_ENTRY_PVH32);
	CHECK_EQ(g.entry.format, X86_KERNEL_PVH_ELF);
	CHECK_EQ(g.entry.rip, PVH_ENTRY);
	CHECK_EQ(g.entry.info_gpa, X86_PVH_INFO);
	CHECK_EQ(g.entry.kernel_start, SEG0_PADDR);
	CHECK_EQ(g.entry.kernel_end, SEG1_PADDR + SEG1_MEMSZ);
}

static void pvh_load_copies_segments_and_zeroes_bss(void)
{
	build_elf(&elf, 1);
	guest_init(&g, GUEST_RAM);
	memset(g.ram + SEG1_PADDR, 0xee, SEG1_MEMSZ + 16);
	CHECK_EQ(guest_load(&g, elf.buf, elf.len), 0);
	CHECK(memcmp(g.ram + SEG0_PADDR, elf.buf + SEG0_OFF, SEG0_SIZE) == 0);
	CHECK(memcmp(g.ram + SEG1_PADDR, elf.buf + SEG1_OFF, SEG1_FILESZ) == 0);
	for (int i = SEG1_FILESZ; i < SEG1_MEMSZ; i++)
		CHECK_EQ(g.ram[SEG1_PADDR + i], 0);
	CHECK_EQ(g.ram[SEG1_PADDR + SEG1_MEMSZ], 0xee);	/* nothing past memsz */
}

static void pvh_without_initrd_has_no_modules_and_empty_cmdline(void)
{
	struct test_start_info si;

	build_elf(&elf, 1);
	guest_init(&g, GUEST_RAM);
	CHECK_EQ(guest_load(&g, elf.buf, elf.len), 0);
	memcpy(&si, g.ram + X86_PVH_INFO, sizeof(si));
	CHECK_EQ(si.nr_modules, 0);
	CHECK_EQ(si.modlist_paddr, 0);
	CHECK_EQ(g.entry.initrd_len, 0);
	CHECK_EQ(g.ram[si.cmdline_paddr], 0);
}

static void pvh_note_with_8_byte_descriptor_is_accepted(void)
{
	uint64_t entry = PVH_ENTRY + 4;
	size_t notes;

	build_elf(&elf, 1);
	notes = GNU_NOTE_SIZE + elf_put_note(&elf, XEN_NOTE_OFF, "Xen", 18, &entry, 8);
	elf_ph(&elf, 2)->p_filesz = notes;
	guest_init(&g, GUEST_RAM);
	CHECK_EQ(guest_load(&g, elf.buf, elf.len), 0);
	CHECK_EQ(g.entry.rip, PVH_ENTRY + 4);
}

/* --- vmlinux --- */

static void vmlinux_load_builds_boot_params_and_enters_at_e_entry(void)
{
	static uint8_t initrd[5000];
	struct boot_params bp;

	build_elf(&elf, 0);
	guest_init(&g, GUEST_RAM);
	g.args.cmdline = cmdline;
	set_initrd(&g, initrd, sizeof(initrd));
	CHECK_EQ(guest_load(&g, elf.buf, elf.len), 0);
	CHECK_EQ(g.entry.mode, X86_ENTRY_LINUX64);
	CHECK_EQ(g.entry.format, X86_KERNEL_VMLINUX_ELF);
	CHECK_EQ(g.entry.rip, VMLINUX_ENTRY);
	CHECK_EQ(g.entry.info_gpa, X86_ZERO_PAGE);
	memcpy(&bp, g.ram + X86_ZERO_PAGE, sizeof(bp));
	CHECK_EQ(bp.hdr.boot_flag, 0xaa55);
	CHECK_EQ(bp.hdr.header, 0x53726448);
	CHECK_EQ(bp.hdr.type_of_loader, 0xff);
	CHECK_EQ(bp.hdr.kernel_alignment, 0x1000000);
	CHECK_STR_CONTAINS((char *)g.ram + bp.hdr.cmd_line_ptr, cmdline);
	CHECK_EQ(bp.hdr.ramdisk_image | (uint64_t)bp.ext_ramdisk_image << 32,
		 g.entry.initrd_gpa);
	CHECK_EQ(bp.hdr.ramdisk_size, sizeof(initrd));
	CHECK(memcmp(g.ram + g.entry.initrd_gpa, initrd, sizeof(initrd)) == 0);
	CHECK_EQ(bp.e820_entries, 3);
	CHECK_EQ(bp.e820_table[2].addr, 0x100000);
	CHECK_EQ(bp.e820_table[2].size, GUEST_RAM - 0x100000);
	CHECK(memcmp(g.ram + SEG0_PADDR, elf.buf + SEG0_OFF, SEG0_SIZE) == 0);
}

/* --- bzImage --- */

static void bzimage_load_fills_boot_params_and_loads_kernel_at_1mib(void)
{
	static uint8_t initrd[3 * 4096 + 5];
	struct boot_params bp;
	struct x86_e820 want[8];
	int i, n;

	build_bz(&bz);
	guest_init(&g, GUEST_RAM);
	g.args.cmdline = cmdline;
	set_initrd(&g, initrd, sizeof(initrd));
	CHECK_EQ(guest_load(&g, bz.buf, bz.len), 0);
	CHECK_EQ(g.entry.mode, X86_ENTRY_LINUX64);
	CHECK_EQ(g.entry.format, X86_KERNEL_BZIMAGE);
	CHECK_EQ(g.entry.rip, 0x100000 + 0x200);
	CHECK_EQ(g.entry.info_gpa, X86_ZERO_PAGE);
	CHECK(memcmp(g.ram + 0x100000, bz.buf + BZ_KERNEL_OFF, BZ_PAYLOAD) == 0);

	memcpy(&bp, g.ram + X86_ZERO_PAGE, sizeof(bp));
	CHECK_EQ(bp.hdr.type_of_loader, 0xff);
	CHECK_EQ(bp.hdr.header, 0x53726448);
	CHECK_EQ(bp.hdr.version, 0x020f);
	CHECK_EQ(bp.hdr.init_size, BZ_INIT_SIZE);
	CHECK_EQ(bp.hdr.pref_address, BZ_PREF_ADDRESS);
	CHECK_EQ(bp.hdr.loadflags, LOADED_HIGH);	/* CAN_USE_HEAP cleared */
	CHECK_EQ(bp.hdr.heap_end_ptr, 0);
	CHECK_EQ(bp.hdr.cmd_line_ptr, X86_CMDLINE);
	CHECK_EQ(strcmp((char *)g.ram + bp.hdr.cmd_line_ptr, cmdline), 0);
	n = x86_e820_build(&g.args.ram, want, 8);
	CHECK_EQ(bp.e820_entries, n);
	for (i = 0; i < n; i++) {
		CHECK_EQ(bp.e820_table[i].addr, want[i].addr);
		CHECK_EQ(bp.e820_table[i].size, want[i].size);
		CHECK_EQ(bp.e820_table[i].type, want[i].type);
	}
	CHECK_EQ(bp.hdr.ramdisk_image, g.entry.initrd_gpa);
	CHECK_EQ(bp.hdr.ramdisk_size, sizeof(initrd));
	CHECK_EQ(bp.hdr.ramdisk_image % 4096, 0);
	CHECK(bp.hdr.ramdisk_image >= BZ_PREF_ADDRESS + BZ_INIT_SIZE);
	CHECK(bp.hdr.ramdisk_image + sizeof(initrd) <= GUEST_RAM);
	CHECK(memcmp(g.ram + bp.hdr.ramdisk_image, initrd, sizeof(initrd)) == 0);
}

static void bzimage_initrd_stays_below_initrd_addr_max(void)
{
	static uint8_t initrd[8192];

	build_bz(&bz);
	bz_hdr(&bz)->initrd_addr_max = 0x2000000 - 1;	/* 32 MiB */
	guest_init(&g, GUEST_RAM);
	set_initrd(&g, initrd, sizeof(initrd));
	CHECK_EQ(guest_load(&g, bz.buf, bz.len), 0);
	CHECK_EQ(g.entry.initrd_gpa, 0x2000000 - sizeof(initrd));
}

static void bzimage_setup_sects_zero_means_four(void)
{
	static struct test_bz four;

	build_bz(&bz);
	four = bz;
	bz_hdr(&four)->setup_sects = 0;
	memmove(four.buf + 5 * 512, bz.buf + BZ_KERNEL_OFF, BZ_PAYLOAD - 2 * 512);
	guest_init(&g, GUEST_RAM);
	CHECK_EQ(guest_load(&g, four.buf, four.len), 0);
	CHECK(memcmp(g.ram + 0x100000, bz.buf + BZ_KERNEL_OFF, 64) == 0);
}

/* --- a real kernel, when the host has one --- */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static uint8_t *real_kernel;
static size_t real_kernel_len;

static void real_bzimage_from_boot_is_detected_and_loads_into_256mib(void)
{
	struct boot_params bp;

	if (!real_kernel)
		SKIP("no readable /boot/vmlinuz-* on this host");
	CHECK_EQ(x86_kernel_detect(real_kernel, real_kernel_len), X86_KERNEL_BZIMAGE);
	guest_init(&g, GUEST_RAM_MAX);
	g.args.cmdline = "console=ttyS0 panic=-1";
	CHECK_EQ(guest_load(&g, real_kernel, real_kernel_len), 0);
	CHECK_EQ(g.entry.rip, 0x100200);
	memcpy(&bp, g.ram + X86_ZERO_PAGE, sizeof(bp));
	CHECK(bp.hdr.version >= 0x020c);
	CHECK(bp.hdr.xloadflags & XLF_KERNEL_64);
	CHECK(g.entry.kernel_end <= GUEST_RAM_MAX);
	CHECK(memcmp(g.ram + 0x100000,
		     real_kernel + (bp.hdr.setup_sects + 1) * 512, 4096) == 0);
}

static void load_real_kernel(void)
{
	glob_t gl;

	if (glob("/boot/vmlinuz-*", 0, NULL, &gl) == 0) {
		for (size_t i = 0; i < gl.gl_pathc && !real_kernel; i++)
			real_kernel = read_file(gl.gl_pathv[i], &real_kernel_len);
		globfree(&gl);
	}
}

int main(void)
{
	if (guest_ram_map_once())
		return 1;
	load_real_kernel();
	RUN(detect_picks_pvh_for_elf_with_xen_entry_note);
	RUN(detect_picks_vmlinux_for_elf_without_xen_note);
	RUN(detect_picks_bzimage_for_hdrs_header_and_boot_flag);
	RUN(detect_returns_unknown_for_garbage_empty_and_truncated);
	RUN(detect_leaves_the_previous_error_message_alone);
	RUN(format_names_are_human_readable);
	RUN(pvh_load_writes_start_info_cmdline_memmap_and_initrd_module);
	RUN(pvh_load_enters_at_note_value_in_32bit_mode);
	RUN(pvh_load_copies_segments_and_zeroes_bss);
	RUN(pvh_without_initrd_has_no_modules_and_empty_cmdline);
	RUN(pvh_note_with_8_byte_descriptor_is_accepted);
	RUN(vmlinux_load_builds_boot_params_and_enters_at_e_entry);
	RUN(bzimage_load_fills_boot_params_and_loads_kernel_at_1mib);
	RUN(bzimage_initrd_stays_below_initrd_addr_max);
	RUN(bzimage_setup_sects_zero_means_four);
	RUN(real_bzimage_from_boot_is_detected_and_loads_into_256mib);
	free(real_kernel);
	munmap(guest_ram_map, GUEST_RAM_MAX);
	return harness_done();
}
