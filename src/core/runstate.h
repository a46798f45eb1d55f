/* SPDX-License-Identifier: MIT */
/*
 * runstate.h - how a VM ends, and with which exit status.
 *
 * Any thread (a vCPU handling a guest power-off, the main loop on a signal)
 * may ask the VM to stop; the first request wins and fixes the reason, the
 * exit status and the one-line message.  The request wakes the main loop
 * through an eventfd; the main loop then kicks and joins the vCPU threads.
 */
#ifndef KITE_CORE_RUNSTATE_H
#define KITE_CORE_RUNSTATE_H

#include <stdbool.h>

#include "core/error.h"

/*
 * kite's exit statuses.  Guest-chosen statuses from the debug-exit port are
 * odd ((V << 1) | 1, as QEMU's isa-debug-exit), so every failure of kite
 * itself is even and never collides with them.
 */
enum kite_exit_status {
	KITE_EXIT_OK = 0,		/* guest powered off or reset */
	KITE_EXIT_USAGE = 2,		/* bad command line */
	KITE_EXIT_NO_KVM = 4,		/* KVM missing, not permitted, lacking a capability */
	KITE_EXIT_BAD_IMAGE = 6,	/* kernel/initrd unreadable or malformed */
	KITE_EXIT_GUEST_CRASH = 8,	/* triple fault, emulation failure, failed entry */
	KITE_EXIT_HOST_ERROR = 10,	/* out of memory, KVM ioctl failure, I/O error */
	KITE_EXIT_SIGNAL = 12,		/* stopped by SIGINT/SIGTERM/SIGHUP or Ctrl-A x */
};

enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_POWEROFF,
	VM_STOP_RESET,
	VM_STOP_DEBUG_EXIT,
	VM_STOP_GUEST_CRASH,
	VM_STOP_HOST_ERROR,
	VM_STOP_SIGNAL,
	VM_STOP_MIGRATED,	/* the guest runs on a migration's destination now */
};

struct runstate {
	int stop_requested;		/* atomic: 0 until the first request */
	enum vm_stop_reason reason;	/* written once by the winner */
	int exit_status;
	char message[512];		/* "" when the stop is not an error */
	int wake_fd;			/* eventfd the main loop watches */
};

int runstate_init(struct runstate *rs) KITE_WUR;
void runstate_destroy(struct runstate *rs);
/* Returns true if this call won (was the first request). */
bool runstate_request_stop(struct runstate *rs, enum vm_stop_reason reason,
			   int exit_status, const char *fmt, ...) KITE_PRINTF(4, 5);
/*
 * True from the moment a request won, possibly before the winner has
 * finished writing reason/status/message: read those only after the wake
 * eventfd fired or the vCPU threads were joined.
 */
static inline bool runstate_stopping(const struct runstate *rs)
{
	return __atomic_load_n(&rs->stop_requested, __ATOMIC_ACQUIRE);
}

#endif
