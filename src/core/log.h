/* SPDX-License-Identifier: MIT */
/*
 * log.h - diagnostics on stderr ("kite: warning: ...").
 *
 * The level is process-wide, set once from the command line before any
 * thread starts.  Guest-triggered messages use log_ratelimited() so that a
 * guest cannot flood the host's log.
 */
#ifndef KITE_CORE_LOG_H
#define KITE_CORE_LOG_H

#include "core/error.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_msg(enum log_level level, const char *fmt, ...) KITE_PRINTF(2, 3);
int log_level_parse(const char *name, enum log_level *out) KITE_WUR;

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
