// SPDX-License-Identifier: MIT
/*
 * Dirty tracking on a real VM (selftest style, needs /dev/kvm): a tiny PVH
 * guest, written here byte by byte, stores to three pages and exits through
 * the debug port.  The sync must report exactly those pages plus a page the
 * "device" (the VMM through the address space) wrote, and nothing after a
 * second sync.
 */
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/vm.h"
#include "harness.h"

#define LOAD_ADDR 0x100000u

/* 32-bit code: three stores, then outb(0x501, 0x2a). */
static const uint8_t guest_code[] = {
	0xb8, 0x78, 0x56, 0x34, 0x12,		/* mov $0x12345678, %eax */
	0xa3, 0x00, 0x00, 0x30, 0x00,		/* mov %eax, 0x300000 */
	0xa3, 0x10, 0x10, 0x30, 0x00,		/* mov %eax, 0x301010 */
	0xa3, 0xfc, 0xff, 0x5f, 0x00,		/* mov %eax, 0x5ffffc */
	0x66, 0xba, 0x01, 0x05,			/* mov $0x501, %dx */
	0xb0, 0x2a,				/* mov $0x2a, %al */
	0xee,					/* out %al, %dx */
	0xf4,					/* hlt */
};

/* Write a minimal ELF64 with one PT_LOAD (the code) and a PT_NOTE (PVH). */
static int write_guest(const char *path)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[2];
		uint32_t note[4 + 1];	/* namesz descsz type "Xen\0" entry */
		uint8_t code[sizeof(guest_code)];
	} __attribute__((packed)) img;
	int fd, ok;

	memset(&img, 0, sizeof(img));
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_X86_64;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = LOAD_ADDR;
	img.eh.e_phoff = sizeof(Elf64_Ehdr);
	img.eh.e_ehsize = sizeof(Elf64_Ehdr);
	img.eh.e_phentsize = sizeof(Elf64_Phdr);
	img.eh.e_phnum = 2;
	img.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
		.p_offset = offsetof(typeof(img), code), .p_vaddr = LOAD_ADDR,
		.p_paddr = LOAD_ADDR, .p_filesz = sizeof(guest_code),
		.p_memsz = sizeof(guest_code), .p_align = 16 };
	img.ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = offsetof(typeof(img), note),
		.p_filesz = sizeof(img.note), .p_memsz = sizeof(img.note), .p_align = 4 };
	img.note[0] = 4;
	img.note[1] = 4;
	img.note[2] = 18;	/* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(&img.note[3], "Xen", 4);
	img.note[4] = LOAD_ADDR;
	memcpy(img.code, guest_code, sizeof(guest_code));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, &img, sizeof(img)) == (ssize_t)sizeof(img);
	close(fd);
	return ok ? 0 : -1;
}

struct pages {
	uint64_t pfn[64];
	unsigned int n;
};

static int collect(void *opaque, uint64_t pfn, uint64_t npages)
{
	struct pages *p = opaque;
	uint64_t i;

	for (i = 0; i < npages && p->n < 64; i++)
		p->pfn[p->n++] = pfn + i;
	return 0;
}

static bool has(const struct pages *p, uint64_t pfn)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		if (p->pfn[i] == pfn)
			return true;
	return false;
}

static void dirty_sync_reports_vcpu_and_device_writes_exactly(void)
{
	char path[] = "/tmp/kite-dirty-guest-XXXXXX";
	struct vm_config cfg = {
		.cmdline = "", .mem_size = 16 << 20, .ncpus = 1,
		.serial_mode = SERIAL_NONE, .kvm_path = "/dev/kvm",
	};
	static struct vm vm;
	struct pages p = { .n = 0 };
	uint32_t v = 1;
	int fd, status;

	if (access("/dev/kvm", R_OK | W_OK)) {
		harness_fail(__FILE__, __LINE__, "/dev/kvm is missing or not accessible: "
			     "this test needs KVM");
		return;
	}
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(write_guest(path), 0);
	cfg.kernel_path = path;
	CHECK_EQ(vm_create(&vm, &cfg, &status), 0);
	unlink(path);
	CHECK_EQ(vm_dirty_log_start(&vm, false), 0);
	CHECK_EQ(as_copy_to(&vm.as, 0x700000, &v, sizeof(v)), 0);	/* a device write */
	CHECK_EQ(vm_run(&vm, NULL), (0x2a << 1) | 1);
	CHECK_EQ(vm_dirty_sync(&vm, collect, &p), 0);
	CHECK(has(&p, 0x300));
	CHECK(has(&p, 0x301));
	CHECK(has(&p, 0x5ff));
	CHECK(has(&p, 0x700));
	CHECK(!has(&p, 0x302));
	CHECK(p.n <= 8);	/* nothing else of note was written */
	p.n = 0;
	CHECK_EQ(vm_dirty_sync(&vm, collect, &p), 0);
	CHECK_EQ(p.n, 0);	/* cleared by the first sync */
	vm_dirty_log_stop(&vm);
	vm_destroy(&vm);
}

/*
 * Migration's start (all_dirty): with manual protection and INITIALLY_SET
 * every page starts dirty; a first pass clears each chunk before copying it.
 * Pages 0x300 and 0x301 are never cleared (still reported), 0x400 is cleared
 * and never written (not reported), 0x5ff is cleared, then written by the
 * guest (reported again: the clear write-protected it).
 */
static void all_dirty_start_and_chunk_clears(void)
{
	char path[] = "/tmp/kite-dirty-guest-XXXXXX";
	struct vm_config cfg = {
		.cmdline = "", .mem_size = 16 << 20, .ncpus = 1,
		.serial_mode = SERIAL_NONE, .kvm_path = "/dev/kvm",
	};
	static struct vm vm;
	struct pages p = { .n = 0 };
	int fd, status;

	if (access("/dev/kvm", R_OK | W_OK)) {
		harness_fail(__FILE__, __LINE__, "/dev/kvm is missing or not accessible: "
			     "this test needs KVM");
		return;
	}
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(write_guest(path), 0);
	cfg.kernel_path = path;
	CHECK_EQ(vm_create(&vm, &cfg, &status), 0);
	unlink(path);
	CHECK_EQ(vm_dirty_log_start(&vm, true), 0);
	if (!vm.dirty_manual)
		printf("# KVM lacks MANUAL_DIRTY_LOG_PROTECT2: the classic log is used\n");
	/* The first pass over RAM, every page but 0x300 and 0x301. */
	CHECK_EQ(vm_dirty_clear(&vm, 0, 0x300), 0);
	CHECK_EQ(vm_dirty_clear(&vm, 0x302, (16 << 20) / 4096 - 0x302), 0);
	/* A range across the end of the memslot is refused. */
	CHECK(vm_dirty_clear(&vm, 0xff0, 0x20) < 0 || !vm.dirty_manual);
	CHECK_EQ(vm_run(&vm, NULL), (0x2a << 1) | 1);
	CHECK_EQ(vm_dirty_sync(&vm, collect, &p), 0);
	CHECK(has(&p, 0x300));
	CHECK(has(&p, 0x301));
	CHECK(has(&p, 0x5ff));
	CHECK(!has(&p, 0x400));
	CHECK(p.n <= 8);
	p.n = 0;
	CHECK_EQ(vm_dirty_sync(&vm, collect, &p), 0);
	CHECK_EQ(p.n, 0);
	vm_dirty_log_stop(&vm);
	vm_destroy(&vm);
}

int main(void)
{
	RUN(dirty_sync_reports_vcpu_and_device_writes_exactly);
	RUN(all_dirty_start_and_chunk_clears);
	return harness_done();
}
