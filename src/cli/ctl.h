/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - `kite ctl`: the command-line client of the control API.
 *
 * It speaks HTTP/1.1 over the Unix socket by hand: one request per
 * connection ("Connection: close"), the response read to the end and parsed
 * by ctl_parse_response().  A full HTTP library would add a dependency to
 * the VMM binary for what is, against our own server, a status line, a few
 * headers and a Content-Length body.
 */
#ifndef KITE_CLI_CTL_H
#define KITE_CLI_CTL_H

#include <stddef.h>

#include "core/error.h"

/* Exit statuses of `kite ctl`. */
enum ctl_exit {
	CTL_EXIT_OK = 0,	/* 2xx */
	CTL_EXIT_API = 1,	/* the API answered with an error (4xx/5xx) */
	CTL_EXIT_USAGE = 2,	/* bad command line, no connection, bad response */
};

/* `kite ctl ARGS...`: argv[0] is "ctl" (main passes argv + 1). */
int ctl_main(int argc, char **argv);

/* A parsed response; body points into the buffer given to the parser. */
struct ctl_response {
	unsigned int status;
	const char *body;
	size_t body_len;
};

/*
 * Parse a complete HTTP/1.x response (all bytes until the server closed).
 * -EINVAL with a message when it is malformed or truncated.
 */
int ctl_parse_response(const char *buf, size_t len, struct ctl_response *out) KITE_WUR;

/*
 * The JSON text for @text as a value of attribute type @type ("u64": decimal
 * or 0x hex; "bool": true/false/1/0/on/off/yes/no; "string": as is;
 * "bytes": hex digits, two per byte, as the API shows them).
 * Returns a malloc'd string, or NULL with a message (err_msg()).
 */
char *ctl_value_json(const char *type, const char *text);

#endif
