// SPDX-License-Identifier: MIT
/*
 * fuzz_boot.c - the x86 kernel loaders (ELF/PVH, vmlinux, bzImage) on
 * arbitrary images, loaded with x86_boot_load() into a guest of 64 MiB (or
 * 4 MiB, kite's smallest) of RAM, as `kite run --kernel` does.
 *
 * Input: one flags byte, then the kernel image:
 *   bits 0-1  protocol: 0 and 3 auto, 1 PVH, 2 Linux 64-bit
 *   bit  2    the last eighth of the image is also passed as the initrd
 *   bit  3    4 MiB of RAM instead of 64 MiB
 *   bits 4-5  command line: none, a short one, 3000 bytes (over a bzImage's
 *             usual 2047), X86_CMDLINE_MAX bytes (over kite's limit)
 *   bit  6    an RSDP address (ACPI) is passed
 * Guest RAM is zeroed again before each input.  x86_kernel_detect() (the
 * format named in kite's messages) sees the same image first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/boot/boot.h"

#define FUZZ_BOOT_RAM		(64ULL << 20)
#define FUZZ_BOOT_RAM_SMALL	(4ULL << 20)

#define F_PROTO_MASK		0x03
#define F_INITRD		0x04
#define F_SMALL_RAM		0x08
#define F_CMDLINE_SHIFT		4
#define F_CMDLINE_MASK		0x03
#define F_RSDP			0x40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_guest {
	struct addr_space as;
	uint64_t ram_size;
};

/* Made once, kept for the life of the process; they share one mapping. */
static uint8_t *ram;
static struct fuzz_guest guests[2];
static char *cmdline_long, *cmdline_max;

static char *make_cmdline(size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memset(s, 'x', len);
	memcpy(s, "console=ttyS0 ", 14);
	s[len] = '\0';
	return s;
}

static void setup_once(void)
{
	unsigned int i;

	ram = mmap(NULL, FUZZ_BOOT_RAM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		abort();
	guests[0].ram_size = FUZZ_BOOT_RAM;
	guests[1].ram_size = FUZZ_BOOT_RAM_SMALL;
	for (i = 0; i < 2; i++) {
		as_init(&guests[i].as);
		if (as_add_region(&guests[i].as, 0, guests[i].ram_size, ram, -1, 0, 0))
			abort();
	}
	cmdline_long = make_cmdline(3000);
	cmdline_max = make_cmdline(X86_CMDLINE_MAX);
}

static const char *pick_cmdline(uint8_t flags)
{
	switch ((flags >> F_CMDLINE_SHIFT) & F_CMDLINE_MASK) {
	case 1:
		return "console=ttyS0 panic=-1 test=fuzz";
	case 2:
		return cmdline_long;
	case 3:
		return cmdline_max;
	default:
		return "";
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum x86_boot_protocol protos[] = {
		X86_BOOT_AUTO, X86_BOOT_PVH, X86_BOOT_LINUX64, X86_BOOT_AUTO,
	};
	struct x86_boot_args args = { 0 };
	struct x86_boot_entry entry;
	struct fuzz_guest *g;
	uint8_t flags, *kernel;
	size_t len;

	if (!ram)
		setup_once();
	if (!size)
		return 0;
	flags = data[0];
	len = size - 1;
	/* An exact-size copy, so that any read past the image is caught. */
	kernel = malloc(len ? len : 1);
	if (!kernel)
		abort();
	memcpy(kernel, data + 1, len);
	g = &guests[(flags & F_SMALL_RAM) ? 1 : 0];
	madvise(ram, FUZZ_BOOT_RAM, MADV_DONTNEED);
	args.protocol = protos[flags & F_PROTO_MASK];
	args.kernel = (struct x86_boot_image){ .data = kernel, .len = len };
	if (flags & F_INITRD) {
		size_t ilen = len / 8;

		args.initrd = (struct x86_boot_image){ .data = kernel + len - ilen, .len = ilen };
	}
	args.cmdline = pick_cmdline(flags);
	args.rsdp_gpa = (flags & F_RSDP) ? X86_ACPI_START : 0;
	args.ram = x86_ram_layout(g->ram_size);
	err_clear();
	if (!x86_kernel_format_name(x86_kernel_detect(kernel, len)))
		abort();
	if (x86_boot_load(&g->as, &args, &entry) == 0 &&
	    (entry.kernel_end < entry.kernel_start || entry.kernel_end > g->ram_size ||
	     entry.initrd_gpa + entry.initrd_len > g->ram_size))
		abort();	/* loaded, but claims an extent outside guest RAM */
	free(kernel);
	return 0;
}
