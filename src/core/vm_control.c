// SPDX-License-Identifier: MIT
/*
 * vm_control.c - pause, resume and the other operations the control API
 * performs on a running VM.  Called from the API thread only.
 */
#include "core/vm_control.h"

#include <errno.h>
#include <sched.h>

#include <linux/kvm.h>

#include "core/vm.h"

enum vm_state vm_get_state(struct vm *vm)
{
	bool paused;

	if (runstate_stopping(&vm->rs))
		return VM_STATE_SHUTTING_DOWN;
	pthread_mutex_lock(&vm->pause.lock);
	paused = vm->pause.requested;
	pthread_mutex_unlock(&vm->pause.lock);
	return paused ? VM_STATE_PAUSED : VM_STATE_RUNNING;
}

const char *vm_state_name(enum vm_state s)
{
	switch (s) {
	case VM_STATE_RUNNING: return "Running";
	case VM_STATE_PAUSED: return "Paused";
	default: return "ShuttingDown";
	}
}

/* sched_yield() polls for parked vCPUs before vm_pause() sleeps (~1 ms). */
#define PAUSE_SPIN_POLLS	2000

/* vCPUs whose threads run (all of them once the VM is started). */
static unsigned int vm_running_vcpus(const struct vm *vm)
{
	unsigned int i, n = 0;

	for (i = 0; i < vm->nr_vcpus; i++)
		n += __atomic_load_n(&vm->vcpus[i].thread_started, __ATOMIC_ACQUIRE);
	return n;
}

int vm_pause(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;
	unsigned int i, want = vm_running_vcpus(vm);

	pthread_mutex_lock(&p->lock);
	if (p->requested) {
		pthread_mutex_unlock(&p->lock);
		return 0;		/* already paused: idempotent */
	}
	__atomic_store_n(&p->requested, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	/* A kicked vCPU parks within microseconds: poll for that briefly
	 * rather than sleep (waking a halted CPU costs far more here). */
	for (i = 0; i < PAUSE_SPIN_POLLS &&
	     __atomic_load_n(&p->parked, __ATOMIC_ACQUIRE) < want; i++)
		sched_yield();
	pthread_mutex_lock(&p->lock);
	while (p->parked < want && !runstate_stopping(&vm->rs))
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	if (runstate_stopping(&vm->rs))
		return err_set(-ESHUTDOWN, "the VM is shutting down");
	serial_freeze(&vm->serial, true);
	vm_pause_virtio(vm);		/* in-flight device I/O completes first */
	return 0;
}

int vm_resume(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;

	if (runstate_stopping(&vm->rs))
		return err_set(-ESHUTDOWN, "the VM is shutting down");
	serial_freeze(&vm->serial, false);
	vm_resume_virtio(vm);
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->requested, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void vm_shutdown(struct vm *vm)
{
	runstate_request_stop(&vm->rs, VM_STOP_POWEROFF, KITE_EXIT_OK,
			      "shut down through the control API");
	vm_pause_wake_all(vm);
}

int vm_send_ctrl_alt_del(struct vm *vm)
{
	return i8042_ctrl_alt_del(&vm->i8042);
}

unsigned int vm_nr_vcpus(const struct vm *vm)
{
	return vm->nr_vcpus;
}

uint64_t vm_mem_size(const struct vm *vm)
{
	return vm->cfg.mem_size;
}

struct dev_registry *vm_devices(struct vm *vm)
{
	return &vm->devices;
}

uint64_t vm_vcpu_exit_count(const struct vm *vm, unsigned int vcpu, unsigned int reason)
{
	if (vcpu >= vm->nr_vcpus || reason >= VM_EXIT_REASONS)
		return 0;
	return __atomic_load_n(&vm->vcpus[vcpu].exit_counts[reason], __ATOMIC_RELAXED);
}

const char *vm_exit_reason_name(unsigned int reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return "io";
	case KVM_EXIT_MMIO: return "mmio";
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_INTR: return "intr";
	case KVM_EXIT_SHUTDOWN: return "shutdown";
	case KVM_EXIT_FAIL_ENTRY: return "fail_entry";
	case KVM_EXIT_INTERNAL_ERROR: return "internal_error";
	case KVM_EXIT_SYSTEM_EVENT: return "system_event";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq_window_open";
	case KVM_EXIT_DEBUG: return "debug";
	default: return NULL;
	}
}
