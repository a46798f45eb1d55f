// SPDX-License-Identifier: MIT
#include "core/runstate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int runstate_init(struct runstate *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rs->wake_fd < 0)
		return err_set(-errno, "eventfd: %s", strerror(errno));
	return 0;
}

void runstate_destroy(struct runstate *rs)
{
	if (rs->wake_fd >= 0)
		close(rs->wake_fd);
	rs->wake_fd = -1;
}

bool runstate_request_stop(struct runstate *rs, enum vm_stop_reason reason,
			   int exit_status, const char *fmt, ...)
{
	int expected = 0;
	uint64_t one = 1;
	va_list ap;

	if (!__atomic_compare_exchange_n(&rs->stop_requested, &expected, -1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return false;
	rs->reason = reason;
	rs->exit_status = exit_status;
	va_start(ap, fmt);
	vsnprintf(rs->message, sizeof(rs->message), fmt, ap);
	va_end(ap);
	__atomic_store_n(&rs->stop_requested, 1, __ATOMIC_RELEASE);
	if (write(rs->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow with one write; nothing to do. */
	}
	return true;
}
