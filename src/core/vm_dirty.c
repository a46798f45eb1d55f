// SPDX-License-Identifier: MIT
/*
 * vm_dirty.c - the complete dirty log of a VM: pages written by vCPUs (KVM's
 * dirty log on every RAM memslot) united with pages written by devices (the
 * address space's bitmaps), in guest-physical page numbers.  What
 * migration and diff snapshots need.
 */
#include "core/vm.h"

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

int vm_dirty_log_start(struct vm *vm)
{
	int ret = vm_set_ram_slot_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);

	if (!ret)
		ret = as_dirty_log_start(&vm->as);
	if (ret)
		(void)vm_set_ram_slot_flags(vm, 0);
	return ret;
}

void vm_dirty_log_stop(struct vm *vm)
{
	as_dirty_log_stop(&vm->as);
	(void)vm_set_ram_slot_flags(vm, 0);
}

static int vm_kvm_dirty(void *opaque, uint32_t slot, uint64_t *bitmap)
{
	struct vm *vm = opaque;

	return kvm_vm_get_dirty_log(vm->vm_fd, slot, bitmap);
}

int vm_dirty_sync(struct vm *vm, int (*fn)(void *opaque, uint64_t pfn, uint64_t npages),
		  void *opaque)
{
	return as_dirty_sync(&vm->as, vm_kvm_dirty, vm, fn, opaque);
}
