/* SPDX-License-Identifier: MIT */
/*
 * ctl_priv.h - what the verbs of `kite ctl` share (ctl.c, ctl_migrate.c).
 */
#ifndef KITE_CLI_CTL_PRIV_H
#define KITE_CLI_CTL_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/ctl.h"

struct ctl {
	const char *sock;
	bool json;
	int timeout_s;
	bool quiet_connect;		/* a connection error is the caller's to report */
	char *buf;			/* the last response, raw */
	struct ctl_response resp;
};

/* One request; its reply printed if @print or an error; returns the exit status. */
int ctl_request_ex(struct ctl *c, const char *method, const char *path, const char *body,
		   bool print);
/* One JSON object from @n key/value strings (pairs with a NULL value are left
 * out; values are booleans where @is_bool[pair] is set).  NULL: out of memory. */
char *ctl_json_body(const char *const *kv, size_t n, const bool *is_bool);

/* `kite ctl migrate ...` (ctl_migrate.c) */
int ctl_verb_migrate(struct ctl *c, char **a, int n);

#endif
