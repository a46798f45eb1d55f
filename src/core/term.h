/* SPDX-License-Identifier: MIT */
/*
 * term.h - the host terminal behind --serial stdio.
 *
 * When stdin is a terminal it is put in raw mode so that every key reaches
 * the guest; Ctrl-A x quits kite and Ctrl-A Ctrl-A sends a Ctrl-A.  The
 * terminal is restored on every exit path: normal return, atexit, and fatal
 * signals (SIGINT/SIGTERM/SIGHUP are handled by the main loop instead).
 */
#ifndef KITE_CORE_TERM_H
#define KITE_CORE_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERM_ESCAPE_CHAR 0x01	/* Ctrl-A */

struct term_escape {
	bool pending;		/* the previous byte was the escape character */
};

/* Raw mode on @fd if it is a terminal; returns true if it was changed. */
bool term_raw_enable(int fd);
void term_restore(void);

/*
 * Filter input for escape sequences in place; returns the number of bytes
 * left for the guest and sets *quit when Ctrl-A x was typed.
 */
size_t term_filter_input(struct term_escape *st, uint8_t *buf, size_t len, bool *quit);

#endif
