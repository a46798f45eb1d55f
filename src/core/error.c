// SPDX-License-Identifier: MIT
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERR_MSG_MAX 512

static __thread char err_buf[ERR_MSG_MAX];

int err_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	return code;
}

int err_prefix(int code, const char *fmt, ...)
{
	char prefix[ERR_MSG_MAX];
	char old[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err_buf, sizeof(old));
	/* Truncation is acceptable: the message is for a person. */
	strcpy(err_buf, prefix);
	if (old[0]) {
		size_t n = strlen(err_buf);

		if (n + 2 < sizeof(err_buf)) {
			memcpy(err_buf + n, ": ", 3);
			n += 2;
			strncat(err_buf, old, sizeof(err_buf) - n - 1);
		}
	}
	return code;
}

const char *err_msg(void)
{
	return err_buf;
}

void err_clear(void)
{
	err_buf[0] = '\0';
}
