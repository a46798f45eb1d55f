// SPDX-License-Identifier: MIT
/*
 * vCPU threads: KVM_RUN in a loop, exits dispatched to the PIO/MMIO buses.
 *
 * A vCPU is stopped by vcpu_kick(): a signal whose handler sets
 * run->immediate_exit, so that a kick that lands just before KVM_RUN is not
 * lost (KVM returns -EINTR at once).  Application processors sit in KVM_RUN
 * (in KVM's "wait for SIPI" state) until the guest starts them.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "core/log.h"
#include "core/vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static __thread struct vcpu *current_vcpu;

static void vcpu_kick_handler(int sig)
{
	(void)sig;
	if (current_vcpu)
		current_vcpu->run->immediate_exit = 1;
}

int vcpu_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL))
		return err_set(-errno, "sigaction: %s", strerror(errno));
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (__atomic_load_n(&vcpu->thread_started, __ATOMIC_ACQUIRE))
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t i;

	for (i = 0; i < run->io.count; i++) {
		bus_access(&vcpu->vm->pio, run->io.port, data, run->io.size,
			   run->io.direction == KVM_EXIT_IO_OUT);
		data += run->io.size;
	}
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;

	bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len,
		   run->mmio.is_write);
}

/* A fatal guest condition: dump the registers and stop the VM. */
static void vcpu_guest_died(struct vcpu *vcpu, const char *what)
{
	struct vm *vm = vcpu->vm;

	if (!runstate_request_stop(&vm->rs, VM_STOP_GUEST_CRASH, KITE_EXIT_GUEST_CRASH,
				   "guest stopped on vCPU %u: %s", vcpu->id, what))
		return;
	flockfile(stderr);
	fprintf(stderr, "kite: vCPU %u: %s\n", vcpu->id, what);
	x86_vcpu_dump(stderr, vcpu->fd, &vm->as);
	funlockfile(stderr);
}

static void vcpu_handle_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[160];

	snprintf(what, sizeof(what),
		 "KVM internal error, suberror %u%s", run->internal.suberror,
		 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
		 " (instruction emulation failed)" : "");
	vcpu_guest_died(vcpu, what);
}

static void vcpu_handle_system_event(struct vcpu *vcpu)
{
	struct runstate *rs = &vcpu->vm->rs;

	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		runstate_request_stop(rs, VM_STOP_POWEROFF, KITE_EXIT_OK, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		runstate_request_stop(rs, VM_STOP_RESET, KITE_EXIT_OK, "guest reset");
		break;
	default:
		vcpu_guest_died(vcpu, "guest reported a crash (system event)");
		break;
	}
}

/* Returns false when the vCPU must stop. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[128];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		vcpu_guest_died(vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_handle_internal_error(vcpu);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_guest_died(vcpu, what);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(vcpu);
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
		vcpu_guest_died(vcpu, what);
		return false;
	}
}

/*
 * Migration's auto-converge: a vCPU kicked out of KVM_RUN every
 * THROTTLE_PERIOD_MS (migration/source.c) sleeps @pct percent of that period,
 * so a guest that dirties memory faster than the link carries it slows down.
 */
static void vcpu_throttle(struct vcpu *vcpu)
{
	unsigned int pct = __atomic_load_n(&vcpu->vm->throttle_pct, __ATOMIC_ACQUIRE);
	struct timespec ts = { 0, (long)pct * 100000L };	/* pct% of 10 ms */

	if (pct && !__atomic_load_n(&vcpu->vm->pause.requested, __ATOMIC_ACQUIRE))
		nanosleep(&ts, NULL);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct runstate *rs = &vcpu->vm->rs;
	sigset_t set;

	current_vcpu = vcpu;
	as_reader_register();
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!runstate_stopping(rs)) {
		int ret;

		if (__atomic_load_n(&vcpu->vm->pause.requested, __ATOMIC_ACQUIRE)) {
			/* KVM finishes an IN/MMIO read only on the next KVM_RUN:
			 * do that now (without running guest code), so that a
			 * paused vCPU's registers are complete for a snapshot. */
			if (kvm_vcpu_complete_io(vcpu->fd, vcpu->run))
				log_warn("vCPU %u: %s", vcpu->id, err_msg());
			vcpu_park(vcpu);
			continue;
		}
		ret = kvm_vcpu_run(vcpu->fd);

		if (ret == -EINTR || ret == -EAGAIN) {
			vcpu->run->immediate_exit = 0;
			vcpu_throttle(vcpu);
			continue;
		}
		if (ret < 0) {
			runstate_request_stop(rs, VM_STOP_HOST_ERROR, KITE_EXIT_HOST_ERROR,
					      "KVM_RUN failed on vCPU %u: %s", vcpu->id,
					      strerror(-ret));
			break;
		}
		vcpu->exits++;
		if (vcpu->run->exit_reason < VM_EXIT_REASONS)
			__atomic_fetch_add(&vcpu->exit_counts[vcpu->run->exit_reason], 1,
					   __ATOMIC_RELAXED);
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	as_reader_unregister();
	return NULL;
}

/*
 * Park until the pause is lifted or the VM stops.  The vCPU is outside
 * KVM_RUN, at an instruction boundary (KVM completed the last exit).
 */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

void vm_pause_spin_until(struct vm *vm, uint64_t ns)
{
	__atomic_store_n(&vm->pause.spin_until_ns, ns, __ATOMIC_RELEASE);
	if (ns)
		vm_pause_wake_all(vm);
}

void vcpu_park(struct vcpu *vcpu)
{
	struct vm_pause *p = &vcpu->vm->pause;
	struct runstate *rs = &vcpu->vm->rs;

	pthread_mutex_lock(&p->lock);
	__atomic_add_fetch(&p->parked, 1, __ATOMIC_RELEASE);	/* vm_pause() polls it */
	pthread_cond_broadcast(&p->cond);
	while (p->requested && !runstate_stopping(rs)) {
		uint64_t spin = __atomic_load_n(&p->spin_until_ns, __ATOMIC_ACQUIRE);

		if (spin && mono_ns() < spin) {
			/* A resume due any moment: poll for it (yielding) rather
			 * than sleep, which costs a wake-up of a halted CPU. */
			pthread_mutex_unlock(&p->lock);
			while (__atomic_load_n(&p->requested, __ATOMIC_ACQUIRE) &&
			       !runstate_stopping(rs) && mono_ns() < spin)
				sched_yield();
			pthread_mutex_lock(&p->lock);
			continue;
		}
		pthread_cond_wait(&p->cond, &p->lock);
	}
	__atomic_sub_fetch(&p->parked, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Wake parked vCPUs and waiting pausers (the VM is stopping). */
void vm_pause_wake_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

int vcpu_start(struct vcpu *vcpu)
{
	char name[16];
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret)
		return err_set(-ret, "cannot start vCPU %u thread: %s", vcpu->id, strerror(ret));
	__atomic_store_n(&vcpu->thread_started, true, __ATOMIC_RELEASE);
	snprintf(name, sizeof(name), "kite-vcpu%u", vcpu->id);
	pthread_setname_np(vcpu->thread, name);
	return 0;
}
