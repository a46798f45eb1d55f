/* SPDX-License-Identifier: MIT */
/*
 * vm_control.h - what the control API (and tests) may do to a running VM.
 *
 * Thread use: these are called from the API thread (never from a vCPU).
 * vm_pause() returns once every vCPU is parked outside KVM_RUN and device
 * input is frozen; vm_resume() lets them continue exactly where they were.
 */
#ifndef KITE_CORE_VM_CONTROL_H
#define KITE_CORE_VM_CONTROL_H

#include <stdint.h>

#include "core/device.h"
#include "core/error.h"

struct vm;

enum vm_state { VM_STATE_RUNNING, VM_STATE_PAUSED, VM_STATE_SHUTTING_DOWN };

enum vm_state vm_get_state(struct vm *vm);
const char *vm_state_name(enum vm_state s);	/* "Running", "Paused", "ShuttingDown" */
int vm_pause(struct vm *vm) KITE_WUR;		/* -ESHUTDOWN if stopping */
int vm_resume(struct vm *vm) KITE_WUR;
/* Stop the VM as if the guest powered off (exit status 0). */
void vm_shutdown(struct vm *vm);
/* Press Ctrl-Alt-Del on the i8042 keyboard. */
int vm_send_ctrl_alt_del(struct vm *vm) KITE_WUR;

unsigned int vm_nr_vcpus(const struct vm *vm);
uint64_t vm_mem_size(const struct vm *vm);
struct dev_registry *vm_devices(struct vm *vm);

/* Exit counts: KVM exit reasons below VM_EXIT_REASONS, per vCPU. */
#define VM_EXIT_REASONS 64
uint64_t vm_vcpu_exit_count(const struct vm *vm, unsigned int vcpu, unsigned int reason);
const char *vm_exit_reason_name(unsigned int reason);	/* NULL if unused */

#endif
