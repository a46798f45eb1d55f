// SPDX-License-Identifier: MIT
/*
 * gen_boot_seeds.c - writes the seed corpus of fuzz_boot.c into a directory:
 * small valid and almost-valid kernels from the loader tests' image builders
 * (tests/unit/boot/images.h), each behind fuzz_boot's flags byte.  Not run by
 * the build; the seeds are committed (fuzz/README.md says how to remake them):
 *   ninja -C BUILD fuzz/fuzz-gen-boot-seeds && BUILD/fuzz/fuzz-gen-boot-seeds fuzz/corpus/boot
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"

/* fuzz_boot.c's flags byte. */
#define F_PVH		0x01
#define F_LINUX64	0x02
#define F_INITRD	0x04
#define F_SMALL_RAM	0x08
#define F_CMDLINE_SHORT	0x10
#define F_CMDLINE_LONG	0x20
#define F_RSDP		0x40

/* The segments moved up behind the notes: a 1.1 KiB ELF instead of 12 KiB. */
#define SMALL_SEG0_OFF	0x300
#define SMALL_SEG1_OFF	0x400
#define SMALL_ELF_LEN	(SMALL_SEG1_OFF + SEG1_FILESZ)

static const char *outdir;
static int failed;

static void put(const char *name, uint8_t flags, const uint8_t *img, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&flags, 1, 1, f) != 1 || fwrite(img, 1, len, f) != len) {
		perror(path);
		failed = 1;
	}
	if (f && fclose(f)) {
		perror(path);
		failed = 1;
	}
}

static void small_elf(struct test_elf *t, int pvh)
{
	build_elf(t, pvh);
	memmove(t->buf + SMALL_SEG0_OFF, t->buf + SEG0_OFF, SEG0_SIZE);
	memmove(t->buf + SMALL_SEG1_OFF, t->buf + SEG1_OFF, SEG1_FILESZ);
	elf_ph(t, 0)->p_offset = SMALL_SEG0_OFF;
	elf_ph(t, 1)->p_offset = SMALL_SEG1_OFF;
	t->len = SMALL_ELF_LEN;
}

static void elf_seeds(void)
{
	static struct test_elf t;

	small_elf(&t, 1);
	put("elf-pvh", 0, t.buf, t.len);
	put("elf-pvh-initrd-cmdline-acpi", F_INITRD | F_CMDLINE_SHORT | F_RSDP, t.buf, t.len);
	put("elf-pvh-as-linux64-small-ram", F_LINUX64 | F_SMALL_RAM, t.buf, t.len);
	small_elf(&t, 0);
	put("elf-vmlinux", 0, t.buf, t.len);
	put("elf-vmlinux-initrd-long-cmdline", F_INITRD | F_CMDLINE_LONG, t.buf, t.len);
	put("elf-vmlinux-as-pvh", F_PVH, t.buf, t.len);
	small_elf(&t, 1);
	elf_ph(&t, 1)->p_paddr = GUEST_RAM - 0x100;	/* straddles the end of RAM */
	put("bad-elf-segment-past-ram", 0, t.buf, t.len);
	small_elf(&t, 1);
	elf_ph(&t, 2)->p_filesz = 0xffff;		/* notes past the end of the file */
	put("bad-elf-notes-past-eof", 0, t.buf, t.len);
	small_elf(&t, 0);
	put("bad-elf-truncated", 0, t.buf, 100);
}

static void bz_seeds(void)
{
	static struct test_bz t;

	build_bz(&t);
	put("bz", 0, t.buf, t.len);
	put("bz-initrd-cmdline-acpi", F_INITRD | F_CMDLINE_SHORT | F_RSDP, t.buf, t.len);
	put("bad-bz-small-ram", F_SMALL_RAM, t.buf, t.len);	/* unpacks at 16 MiB */
	put("bz-long-cmdline", F_CMDLINE_LONG, t.buf, t.len);
	put("bz-as-pvh", F_PVH, t.buf, t.len);
	build_bz(&t);
	bz_hdr(&t)->version = 0x0205;			/* too old for 64-bit */
	put("bad-bz-old-protocol", 0, t.buf, t.len);
	build_bz(&t);
	bz_hdr(&t)->setup_sects = 0xff;			/* setup past the end */
	put("bad-bz-setup-past-eof", 0, t.buf, t.len);
	build_bz(&t);
	bz_hdr(&t)->init_size = 0xfff00000u;		/* bigger than RAM */
	put("bad-bz-init-size", 0, t.buf, t.len);
	put("not-a-kernel", 0, (const uint8_t *)"MZ\x90\0not a kernel", 17);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTPUT-DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	elf_seeds();
	bz_seeds();
	return failed;
}
