// SPDX-License-Identifier: MIT
/*
 * elf.c - bounds-checked parsing and loading of ELF64 x86-64 kernels.
 *
 * The image is untrusted: every offset and size read from it is checked
 * against the file (with overflow checks) before it is used, and every
 * segment against guest RAM before anything is written.  Headers are copied
 * out with memcpy, so the image needs no particular alignment.
 */
#include "arch/x86/boot/elf_priv.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/boot/boot_priv.h"

#define ELF_NOTE_HDR_SIZE	sizeof(Elf64_Nhdr)	/* 12 bytes */

/**
 * elf_is_x86_64() - whether @data starts with an ELF64 little-endian
 * x86-64 header.
 * @data: the image
 * @len:  its size in bytes
 *
 * Return: 1 if so, 0 otherwise (including a file too short for the header).
 */
int elf_is_x86_64(const uint8_t *data, size_t len)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return 0;
	memcpy(&eh, data, sizeof(eh));
	return memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	       eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh.e_ident[EI_DATA] == ELFDATA2LSB &&
	       eh.e_machine == EM_X86_64;
}

static int elf_check_header(const uint8_t *data, size_t len, Elf64_Ehdr *eh)
{
	if (len < sizeof(*eh))
		return err_set(-ENOEXEC, "truncated ELF: header is %zu bytes, file is %zu bytes",
			       sizeof(*eh), len);
	memcpy(eh, data, sizeof(*eh));
	if (!elf_is_x86_64(data, len))
		return err_set(-ENOEXEC,
			       "ELF image is not ELF64 little-endian x86-64 (class %u, data %u, machine %u)",
			       eh->e_ident[EI_CLASS], eh->e_ident[EI_DATA],
			       eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return err_set(-ENOEXEC,
			       "ELF type %u is not supported: kite loads ET_EXEC kernels",
			       eh->e_type);
	if (eh->e_phnum == 0)
		return err_set(-ENOEXEC, "ELF has no program headers");
	if (eh->e_phnum == PN_XNUM)
		return err_set(-ENOEXEC,
			       "ELF uses extended program header numbering (e_phnum 0x%x), which kite does not support",
			       eh->e_phnum);
	if (eh->e_phentsize < sizeof(Elf64_Phdr))
		return err_set(-ENOEXEC,
			       "ELF program header size %u is smaller than %zu bytes",
			       eh->e_phentsize, sizeof(Elf64_Phdr));
	return 0;
}

static int elf_check_phdr_table(const Elf64_Ehdr *eh, size_t len)
{
	uint64_t size, end;

	if (__builtin_mul_overflow((uint64_t)eh->e_phnum, eh->e_phentsize, &size) ||
	    __builtin_add_overflow(eh->e_phoff, size, &end))
		return err_set(-ENOEXEC,
			       "ELF program header table at offset 0x%llx (%u x %u bytes) overflows",
			       (unsigned long long)eh->e_phoff, eh->e_phnum,
			       eh->e_phentsize);
	if (end > len)
		return err_set(-ENOEXEC,
			       "truncated ELF: program header table ends at %llu, file is %zu bytes",
			       (unsigned long long)end, len);
	return 0;
}

/**
 * elf_phdr() - copy out program header @i.
 * @img: an image that elf_parse() accepted (so the table is inside the file)
 * @i:   index, below e_phnum
 * @ph:  where to copy it
 */
void elf_phdr(const struct elf_image *img, unsigned int i, Elf64_Phdr *ph)
{
	/* elf_check_phdr_table() proved phoff + phnum * phentsize <= len. */
	size_t off = (size_t)img->eh.e_phoff + (size_t)i * img->eh.e_phentsize;

	memcpy(ph, img->data + off, sizeof(*ph));
}

static int elf_check_file_range(const struct elf_image *img, unsigned int i,
				const Elf64_Phdr *ph)
{
	uint64_t end;

	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &end) ||
	    end > img->len)
		return err_set(-ENOEXEC,
			       "truncated ELF: segment %u (offset 0x%llx + 0x%llx) ends past the end of the file (%zu bytes)",
			       i, (unsigned long long)ph->p_offset,
			       (unsigned long long)ph->p_filesz, img->len);
	return 0;
}

static int elf_check_load(struct elf_image *img, unsigned int i,
			  const Elf64_Phdr *ph)
{
	uint64_t end;
	int ret;

	if (ph->p_filesz > ph->p_memsz)
		return err_set(-ENOEXEC,
			       "ELF segment %u: file size 0x%llx exceeds memory size 0x%llx",
			       i, (unsigned long long)ph->p_filesz,
			       (unsigned long long)ph->p_memsz);
	ret = elf_check_file_range(img, i, ph);
	if (ret)
		return ret;
	if (ph->p_memsz == 0)
		return 0;
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &end))
		return err_set(-ENOEXEC,
			       "ELF segment %u (0x%llx + 0x%llx) wraps around the address space",
			       i, (unsigned long long)ph->p_paddr,
			       (unsigned long long)ph->p_memsz);
	if (ph->p_paddr < X86_HIMEM_START)
		return err_set(-ENOEXEC,
			       "ELF segment %u at 0x%llx lies below 1 MiB, where kite keeps the boot structures",
			       i, (unsigned long long)ph->p_paddr);
	if (img->end == 0 || ph->p_paddr < img->start)
		img->start = ph->p_paddr;
	if (end > img->end)
		img->end = end;
	return 0;
}

static int elf_pvh_desc(const uint8_t *desc, uint32_t descsz, uint64_t *entry)
{
	uint32_t e32;

	if (descsz == sizeof(uint32_t)) {
		memcpy(&e32, desc, sizeof(e32));
		*entry = e32;
	} else if (descsz == sizeof(uint64_t)) {
		memcpy(entry, desc, sizeof(*entry));
	} else {
		return err_set(-ENOEXEC,
			       "PVH entry note has a %u-byte descriptor; expected 4 or 8",
			       descsz);
	}
	if (*entry > UINT32_MAX)
		return err_set(-ENOEXEC,
			       "PVH entry point 0x%llx is above 4 GiB; a 32-bit entry cannot reach it",
			       (unsigned long long)*entry);
	return 0;
}

/* Look at one note whose name and descriptor lie inside the segment. */
static int elf_note_visit(struct elf_image *img, const Elf64_Nhdr *nh,
			  const uint8_t *name, const uint8_t *desc)
{
	if (img->has_pvh_entry || nh->n_type != ELF_XEN_PHYS32_ENTRY ||
	    nh->n_namesz != sizeof(ELF_XEN_NOTE_NAME) ||
	    memcmp(name, ELF_XEN_NOTE_NAME, sizeof(ELF_XEN_NOTE_NAME)) != 0)
		return 0;
	img->has_pvh_entry = 1;
	return elf_pvh_desc(desc, nh->n_descsz, &img->pvh_entry);
}

/*
 * Walk the notes of PT_NOTE segment @i.  Name and descriptor are padded to
 * 4 bytes (8 when the segment says p_align 8, as binutils reads it).  All
 * sizes are 32-bit, so the sums below cannot overflow 64 bits.
 */
static int elf_scan_notes(struct elf_image *img, unsigned int i,
			  const Elf64_Phdr *ph)
{
	uint64_t align = ph->p_align == 8 ? 8 : 4;
	uint64_t pos = 0, left, namesz, descsz;
	unsigned int n;
	Elf64_Nhdr nh;
	int ret = elf_check_file_range(img, i, ph);

	for (n = 0; ret == 0 && ph->p_filesz - pos >= ELF_NOTE_HDR_SIZE; n++) {
		const uint8_t *p = img->data + ph->p_offset + pos;

		memcpy(&nh, p, sizeof(nh));
		left = ph->p_filesz - pos - ELF_NOTE_HDR_SIZE;
		namesz = (nh.n_namesz + align - 1) & ~(align - 1);
		descsz = (nh.n_descsz + align - 1) & ~(align - 1);
		if (namesz > left || descsz > left - namesz)
			return err_set(-ENOEXEC,
				       "ELF note %u in segment %u (name size 0x%x, descriptor size 0x%x) runs past the segment (0x%llx bytes left)",
				       n, i, nh.n_namesz, nh.n_descsz,
				       (unsigned long long)left);
		p += ELF_NOTE_HDR_SIZE;
		ret = elf_note_visit(img, &nh, p, p + namesz);
		pos += ELF_NOTE_HDR_SIZE + namesz + descsz;
	}
	return ret;
}

/**
 * elf_parse() - validate an ELF64 x86-64 kernel image against its own size.
 * @data: the image
 * @len:  its size in bytes
 * @img:  filled on success (keeps a pointer to @data)
 *
 * Checks the header, the program header table, the file range and address
 * range of every PT_LOAD segment, and walks every PT_NOTE segment looking
 * for XEN_ELFNOTE_PHYS32_ENTRY.  Guest RAM is checked later, by
 * elf_load_segments().
 *
 * Return: 0, or -ENOEXEC with an err_set() message.
 */
int elf_parse(const uint8_t *data, size_t len, struct elf_image *img)
{
	Elf64_Phdr ph;
	unsigned int i;
	int ret;

	memset(img, 0, sizeof(*img));
	img->data = data;
	img->len = len;
	ret = elf_check_header(data, len, &img->eh);
	if (!ret)
		ret = elf_check_phdr_table(&img->eh, len);
	for (i = 0; ret == 0 && i < img->eh.e_phnum; i++) {
		elf_phdr(img, i, &ph);
		if (ph.p_type == PT_LOAD)
			ret = elf_check_load(img, i, &ph);
		else if (ph.p_type == PT_NOTE)
			ret = elf_scan_notes(img, i, &ph);
	}
	if (ret)
		return ret;
	if (img->end == 0)
		return err_set(-ENOEXEC, "ELF has no loadable (PT_LOAD) segments");
	return 0;
}

/**
 * elf_load_segments() - copy every PT_LOAD segment into guest RAM.
 * @as:  guest address space
 * @img: an image that elf_parse() accepted
 *
 * Every segment is checked to lie wholly in guest RAM before the first byte
 * is written, so a refused image leaves guest memory untouched.  p_filesz
 * bytes are copied to p_paddr and the rest of p_memsz is zeroed.
 *
 * Return: 0, or -EFAULT with an err_set() message naming the segment.
 */
int elf_load_segments(const struct addr_space *as, const struct elf_image *img)
{
	Elf64_Phdr ph;
	unsigned int i;

	for (i = 0; i < img->eh.e_phnum; i++) {
		elf_phdr(img, i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_memsz &&
		    !as_range_mapped(as, ph.p_paddr, ph.p_memsz))
			return err_set(-EFAULT,
				       "ELF segment %u (0x%llx + 0x%llx) lies outside guest RAM",
				       i, (unsigned long long)ph.p_paddr,
				       (unsigned long long)ph.p_memsz);
	}
	for (i = 0; i < img->eh.e_phnum; i++) {
		elf_phdr(img, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		/* Ranges were checked above and in elf_check_load(). */
		if (as_copy_to(as, ph.p_paddr, img->data + ph.p_offset,
			       ph.p_filesz) ||
		    as_fill_zero(as, ph.p_paddr + ph.p_filesz,
				 ph.p_memsz - ph.p_filesz))
			return err_set(-EFAULT, "cannot write ELF segment %u at 0x%llx",
				       i, (unsigned long long)ph.p_paddr);
	}
	return 0;
}

/**
 * elf_addr_in_segment() - whether @addr lies in the file-backed part of a
 * PT_LOAD segment (where an entry point's code must be).
 * @img:  an image that elf_parse() accepted
 * @addr: guest-physical address
 *
 * Return: 1 if so, 0 otherwise.
 */
int elf_addr_in_segment(const struct elf_image *img, uint64_t addr)
{
	Elf64_Phdr ph;
	unsigned int i;

	for (i = 0; i < img->eh.e_phnum; i++) {
		elf_phdr(img, i, &ph);
		/* elf_check_load() proved p_paddr + p_memsz does not wrap. */
		if (ph.p_type == PT_LOAD && addr >= ph.p_paddr &&
		    addr - ph.p_paddr < ph.p_filesz)
			return 1;
	}
	return 0;
}
