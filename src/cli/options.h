/* SPDX-License-Identifier: MIT */
/*
 * options.h - the command line of `kite run`.
 */
#ifndef KITE_CLI_OPTIONS_H
#define KITE_CLI_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/vm.h"

/* "64M", "1G", "4096K", "1048576": bytes in *out; refuses garbage and overflow. */
int parse_size(const char *s, uint64_t *out) KITE_WUR;

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION };

/*
 * Parse argv (argv[0] is the program).  Fills @cfg for CLI_RUN.  On a usage
 * error returns -EINVAL with a message.
 */
int cli_parse(int argc, char **argv, enum cli_action *action,
	      struct vm_config *cfg) KITE_WUR;
void cli_usage(FILE *out);

#endif
