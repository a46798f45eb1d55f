/* SPDX-License-Identifier: MIT */
/*
 * error.h - one clear message per failure.
 *
 * Fallible functions return 0 or a negative errno.  The layer that detects a
 * failure records a one-line message with err_set(); layers above may add
 * context with err_prefix().  The top level (main) prints the final message
 * once.  The message buffer is per thread, so vCPU threads and the main thread
 * never overwrite each other's messages.
 */
#ifndef KITE_CORE_ERROR_H
#define KITE_CORE_ERROR_H

#include <stddef.h>

#define KITE_WUR __attribute__((warn_unused_result))
#define KITE_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Record a message; returns @code (a negative errno) for `return err_set(...)`. */
int err_set(int code, const char *fmt, ...) KITE_PRINTF(2, 3);
/* Prepend context ("loading kernel: ") to the current message; returns @code. */
int err_prefix(int code, const char *fmt, ...) KITE_PRINTF(2, 3);
/* The current thread's last message ("" when none). */
const char *err_msg(void);
void err_clear(void);

#endif
