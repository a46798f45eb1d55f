// SPDX-License-Identifier: MIT
/*
 * bzimage.c - a Linux bzImage entered through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): the protected-mode kernel is loaded at
 * 1 MiB and entered at load + 0x200 in long mode with %rsi = boot_params.
 *
 * Nothing of the real-mode setup code runs, so kite needs protocol 2.12
 * (xloadflags) and a kernel that says XLF_KERNEL_64.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86/boot/boot_priv.h"

#define BZ_MIN_VERSION		0x020c
#define BZ_LOAD_ADDR		X86_HIMEM_START
#define BZ_ENTRY64_OFF		0x200
#define BZ_SECTOR		512
#define BZ_DEFAULT_SETUP_SECTS	4
#define BZ_TYPE_OF_LOADER	0xff	/* "undefined" boot loader */
#define BZ_VID_MODE_NORMAL	0xffff
#define BZ_VERSION_OFF		0x206
/* Image offset where the header must reach: through init_size (2.10+). */
#define BZ_HDR_NEEDED		(BZ_SETUP_HDR_OFF + \
				 offsetof(struct setup_header, init_size) + \
				 sizeof(uint32_t))

struct bz_image {
	const uint8_t *data;
	size_t len;
	struct setup_header hdr;	/* zero past what the image holds */
	uint64_t kernel_off, kernel_len;
	uint64_t kernel_end;		/* end of the decompression buffer */
};

/* Copy the setup header: 0x1f1 up to 0x202 + the jump byte at 0x201. */
static int bz_read_header(struct bz_image *bz)
{
	size_t end = BZ_HEADER_OFF + bz->data[BZ_JUMP_OFF + 1];
	size_t cap = BZ_SETUP_HDR_OFF + sizeof(struct setup_header);
	uint16_t version = 0;

	if (end > cap)
		end = cap;
	if (end > bz->len)
		return err_set(-ENOEXEC, "truncated bzImage: setup header ends at %zu, file is %zu bytes",
			       end, bz->len);
	memset(&bz->hdr, 0, sizeof(bz->hdr));
	memcpy(&bz->hdr, bz->data + BZ_SETUP_HDR_OFF, end - BZ_SETUP_HDR_OFF);
	if (end >= BZ_VERSION_OFF + sizeof(version))
		version = bz->hdr.version;
	if (version < BZ_MIN_VERSION)
		return err_set(-ENOEXEC,
			       "bzImage boot protocol %u.%02u is too old: kite needs 2.12 or later for the 64-bit entry",
			       version >> 8, version & 0xff);
	if (end < BZ_HDR_NEEDED)
		return err_set(-ENOEXEC, "bzImage setup header ends at 0x%zx; protocol %u.%02u needs it to reach 0x%zx",
			       end, version >> 8, version & 0xff, BZ_HDR_NEEDED);
	return 0;
}

static int bz_check_flags(const struct bz_image *bz)
{
	if (!(bz->hdr.loadflags & LOADED_HIGH))
		return err_set(-ENOEXEC,
			       "bzImage is not a high-loaded kernel (loadflags 0x%x lacks LOADED_HIGH)",
			       bz->hdr.loadflags);
	if (!(bz->hdr.xloadflags & XLF_KERNEL_64))
		return err_set(-ENOEXEC,
			       "bzImage has no 64-bit entry point (xloadflags 0x%x lacks XLF_KERNEL_64)",
			       bz->hdr.xloadflags);
	return 0;
}

/* The protected-mode kernel starts after the boot sector and setup code. */
static int bz_locate_kernel(struct bz_image *bz)
{
	unsigned int sects = bz->hdr.setup_sects ? bz->hdr.setup_sects
						 : BZ_DEFAULT_SETUP_SECTS;

	bz->kernel_off = (uint64_t)(sects + 1) * BZ_SECTOR;
	if (bz->kernel_off >= bz->len)
		return err_set(-ENOEXEC,
			       "bzImage setup_sects %u puts the kernel at offset %llu, past the end of the file (%zu bytes)",
			       sects, (unsigned long long)bz->kernel_off, bz->len);
	bz->kernel_len = bz->len - bz->kernel_off;
	return 0;
}

/*
 * Where the kernel decompresses itself (arch/x86/boot/compressed/head_64.S):
 * a relocatable kernel uses its load address rounded up to kernel_alignment,
 * but never below LOAD_PHYSICAL_ADDR (pref_address); a fixed one uses
 * pref_address.  It needs init_size bytes there.
 */
static int bz_check_extent(struct bz_image *bz, const struct x86_ram_layout *ram)
{
	uint64_t align = bz->hdr.kernel_alignment;
	uint64_t pref = bz->hdr.pref_address ? bz->hdr.pref_address : BZ_LOAD_ADDR;
	uint64_t start = pref, end;

	if (bz->hdr.relocatable_kernel && align && !(align & (align - 1))) {
		start = (BZ_LOAD_ADDR + align - 1) & ~(align - 1);
		if (start < pref)
			start = pref;
	}
	if (__builtin_add_overflow(start, bz->hdr.init_size, &end))
		return err_set(-ENOEXEC, "bzImage pref_address 0x%llx + init_size 0x%x wraps",
			       (unsigned long long)pref, bz->hdr.init_size);
	if (end < BZ_LOAD_ADDR + bz->kernel_len)
		end = BZ_LOAD_ADDR + bz->kernel_len;
	if (end > ram->low_end)
		return err_set(-ENOMEM,
			       "--mem too small for this kernel (needs at least %llu MiB: it unpacks into 0x%llx-0x%llx)",
			       x86_mib_up(end), (unsigned long long)start,
			       (unsigned long long)end);
	bz->kernel_end = end;
	return 0;
}

/* Zero page: the image's setup header, with the loader's fields set. */
static void bz_boot_params(const struct bz_image *bz, struct boot_params *bp)
{
	memset(bp, 0, sizeof(*bp));
	bp->hdr = bz->hdr;
	bp->hdr.vid_mode = BZ_VID_MODE_NORMAL;
	bp->hdr.type_of_loader = BZ_TYPE_OF_LOADER;
	/* QUIET, KEEP_SEGMENTS and CAN_USE_HEAP are the loader's to set;
	 * KASLR_FLAG is written by the kernel itself. */
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.heap_end_ptr = 0;
	bp->hdr.ext_loader_ver = 0;
	bp->hdr.ext_loader_type = 0;
	bp->hdr.setup_data = 0;
	bp->hdr.hardware_subarch = 0;		/* X86_SUBARCH_PC */
	bp->hdr.hardware_subarch_data = 0;
}

/**
 * x86_load_bzimage() - load a Linux bzImage for the 64-bit entry.
 * @as:    guest address space
 * @args:  boot arguments (args->kernel holds a "HdrS" image)
 * @entry: filled on success: X86_ENTRY_LINUX64 at 1 MiB + 0x200,
 *         info_gpa = X86_ZERO_PAGE
 *
 * Return: 0, or -errno with an err_set() message.
 */
int x86_load_bzimage(const struct addr_space *as,
		     const struct x86_boot_args *args,
		     struct x86_boot_entry *entry)
{
	struct bz_image bz = { .data = args->kernel.data, .len = args->kernel.len };
	struct boot_params bp;
	int ret = bz_read_header(&bz);

	if (!ret)
		ret = bz_check_flags(&bz);
	if (!ret)
		ret = bz_locate_kernel(&bz);
	if (!ret)
		ret = bz_check_extent(&bz, &args->ram);
	if (!ret)
		ret = x86_boot_write(as, BZ_LOAD_ADDR, bz.data + bz.kernel_off,
				     (size_t)bz.kernel_len, "bzImage kernel");
	if (ret)
		return ret;
	bz_boot_params(&bz, &bp);
	entry->kernel_start = BZ_LOAD_ADDR;
	entry->kernel_end = bz.kernel_end;
	ret = x86_zeropage_finish(as, args, &bp,
				  (uint64_t)bz.hdr.initrd_addr_max + 1, entry);
	if (ret)
		return ret;
	entry->format = X86_KERNEL_BZIMAGE;
	entry->rip = BZ_LOAD_ADDR + BZ_ENTRY64_OFF;
	return 0;
}
