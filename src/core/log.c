// SPDX-License-Identifier: MIT
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum log_level log_level = LOG_WARN;

static const char *const log_names[] = {
	[LOG_ERROR] = "error", [LOG_WARN] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line so lines from different threads do not mix. */
	fprintf(stderr, "kite: %s: %s\n", log_names[level], buf);
}

int log_level_parse(const char *name, enum log_level *out)
{
	unsigned int i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (!strcmp(name, log_names[i]) ||
		    (i == LOG_WARN && !strcmp(name, "warn"))) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return err_set(-EINVAL, "unknown log level '%s' (error, warn, info, debug)", name);
}
