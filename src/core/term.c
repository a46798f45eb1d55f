// SPDX-License-Identifier: MIT
#include "core/term.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_termios;
static int saved_fd = -1;

void term_restore(void)
{
	/* Async-signal-safe: called from fatal signal handlers too. */
	if (saved_fd >= 0) {
		tcsetattr(saved_fd, TCSANOW, &saved_termios);
		saved_fd = -1;
	}
}

static void term_fatal_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

bool term_raw_enable(int fd)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT };
	struct termios raw;
	unsigned int i;

	if (!isatty(fd) || tcgetattr(fd, &saved_termios))
		return false;
	raw = saved_termios;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST;	/* keep \n -> \r\n for the guest's output */
	if (tcsetattr(fd, TCSANOW, &raw))
		return false;
	saved_fd = fd;
	atexit(term_restore);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], term_fatal_signal);
	return true;
}

size_t term_filter_input(struct term_escape *st, uint8_t *buf, size_t len, bool *quit)
{
	size_t in, out = 0;

	*quit = false;
	for (in = 0; in < len; in++) {
		uint8_t c = buf[in];

		if (st->pending) {
			st->pending = false;
			if (c == 'x' || c == 'X') {
				*quit = true;
				return out;
			}
			if (c == TERM_ESCAPE_CHAR)
				buf[out++] = c;
			continue;	/* unknown escapes are swallowed */
		}
		if (c == TERM_ESCAPE_CHAR) {
			st->pending = true;
			continue;
		}
		buf[out++] = c;
	}
	return out;
}
