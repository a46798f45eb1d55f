// SPDX-License-Identifier: MIT
/*
 * vm_dirty.c - the complete dirty log of a VM: pages written by vCPUs (KVM's
 * dirty log on every RAM memslot) united with pages written by devices (the
 * address space's bitmaps), in guest-physical page numbers.  What
 * migration and diff snapshots need.
 *
 * Where KVM has it, the log uses KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with
 * INITIALLY_SET: turning logging on write-protects nothing (every bit starts
 * set), KVM_GET_DIRTY_LOG only reads, and pages are write-protected again
 * when their bits are cleared (KVM_CLEAR_DIRTY_LOG) - by a sync right after
 * reading them, before their contents are copied, or chunk by chunk by
 * migration's first pass (vm_dirty_clear), so that a large guest never stops
 * for one long write-protection of all its memory.
 */
#include "core/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

/* Kite's RAM memslots: 0 below the MMIO hole, 1 above it. */
static int vm_set_ram_slot_flags(struct vm *vm, uint32_t flags)
{
	const struct x86_ram_layout *l = &vm->ram_layout;
	int ret = kvm_vm_set_memory(vm->vm_fd, 0, 0, l->low_end, vm->ram, flags);

	if (!ret && l->high_size)
		ret = kvm_vm_set_memory(vm->vm_fd, 1, X86_MMIO_HOLE_END, l->high_size,
					vm->ram + l->low_end, flags);
	return ret;
}

static uint64_t slot_pages(const struct vm *vm, uint32_t slot)
{
	return (slot ? vm->ram_layout.high_size : vm->ram_layout.low_end) >> 12;
}

static int vm_kvm_dirty(void *opaque, uint32_t slot, uint64_t *bitmap)
{
	struct vm *vm = opaque;
	int ret = kvm_vm_get_dirty_log(vm->vm_fd, slot, bitmap);

	/* Write-protect what was read before anyone copies it: a write from
	 * here on sets the bit again and is reported by the next sync. */
	if (!ret && vm->dirty_manual)
		ret = kvm_vm_clear_dirty_log(vm->vm_fd, slot, 0, (uint32_t)slot_pages(vm, slot),
					     bitmap);
	return ret;
}

static int discard_run(void *opaque, uint64_t pfn, uint64_t npages)
{
	(void)opaque, (void)pfn, (void)npages;
	return 0;
}

int vm_dirty_log_start(struct vm *vm, bool all_dirty)
{
	int ret = 0;

	/* Once per VM, before the first memslot logs: it cannot be turned off. */
	if (!vm->dirty_manual_tried) {
		vm->dirty_manual_tried = true;
		ret = kvm_vm_manual_dirty_log(vm->vm_fd);
		vm->dirty_manual = !ret;
		if (ret == -EOPNOTSUPP)
			ret = 0;
	}
	if (!ret)
		ret = vm_set_ram_slot_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);
	if (!ret)
		ret = as_dirty_log_start(&vm->as);
	/* Only writes from now on: read (and clear) the initially set log once. */
	if (!ret && vm->dirty_manual && !all_dirty)
		ret = vm_dirty_sync(vm, discard_run, NULL);
	if (ret) {
		as_dirty_log_stop(&vm->as);
		(void)vm_set_ram_slot_flags(vm, 0);
	}
	return ret;
}

void vm_dirty_log_stop(struct vm *vm)
{
	as_dirty_log_stop(&vm->as);
	(void)vm_set_ram_slot_flags(vm, 0);
}

int vm_dirty_clear(struct vm *vm, uint64_t pfn, uint64_t npages)
{
	const struct x86_ram_layout *l = &vm->ram_layout;
	uint64_t first, end, gpa = pfn << 12, base;
	uint64_t bitmap[64];	/* 4096 pages at a time */
	uint32_t slot;
	int ret = 0;

	if (!vm->dirty_manual || !npages)
		return 0;
	if (gpa + (npages << 12) <= l->low_end) {
		slot = 0;
		base = 0;
	} else if (l->high_size && gpa >= X86_MMIO_HOLE_END &&
		   gpa + (npages << 12) <= X86_MMIO_HOLE_END + l->high_size) {
		slot = 1;
		base = X86_MMIO_HOLE_END >> 12;
	} else {
		return err_set(-EINVAL, "pages 0x%llx+%llu are not in one RAM memslot",
			       (unsigned long long)pfn, (unsigned long long)npages);
	}
	first = pfn - base;
	end = first + npages;
	while (!ret && first < end) {
		uint64_t start = first & ~63ULL, n = end - start, i;

		if (n > 64 * 64)
			n = 64 * 64;
		if (start + n > slot_pages(vm, slot))
			n = slot_pages(vm, slot) - start;
		memset(bitmap, 0, sizeof(bitmap));
		for (i = first - start; i < n && start + i < end; i++)
			bitmap[i / 64] |= 1ULL << (i % 64);
		ret = kvm_vm_clear_dirty_log(vm->vm_fd, slot, start, (uint32_t)n, bitmap);
		first = start + n;
	}
	return ret;
}

int vm_dirty_sync(struct vm *vm, int (*fn)(void *opaque, uint64_t pfn, uint64_t npages),
		  void *opaque)
{
	return as_dirty_sync(&vm->as, vm_kvm_dirty, vm, fn, opaque);
}
