// SPDX-License-Identifier: MIT
/* kite: a small virtual machine monitor for Linux KVM. */
#include <stdio.h>

#include "cli/ctl.h"
#include "cli/options.h"
#include <string.h>
#include "core/runstate.h"
#include "core/vm.h"
#include "snapshot/vm_snapshot.h"

int main(int argc, char **argv)
{
	enum cli_action action;
	static struct vm_snapshot snap;	/* large: not on the stack */
	struct vm_config cfg;
	struct vm vm;
	int status;

	if (argc >= 2 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc - 1, argv + 1);
	if (cli_parse(argc, argv, &action, &cfg)) {
		fprintf(stderr, "kite: %s\n", err_msg());
		return KITE_EXIT_USAGE;
	}
	if (action == CLI_HELP) {
		cli_usage(stdout);
		return 0;
	}
	if (action == CLI_VERSION) {
		printf("kite %s\n", KITE_VERSION);
		return 0;
	}
	cfg.version = KITE_VERSION;
	if (cfg.restore_path) {
		if (vm_snapshot_open(&snap, cfg.restore_path, cfg.restore_mem_file, &cfg)) {
			fprintf(stderr, "kite: %s\n", err_msg());
			return KITE_EXIT_BAD_IMAGE;
		}
		cfg.restore = &snap;
	}
	if (vm_create(&vm, &cfg, &status)) {
		fprintf(stderr, "kite: %s\n", err_msg());
		if (cfg.restore)
			vm_snapshot_close(&snap);
		return status;
	}
	if (cfg.restore)
		vm_snapshot_close(&snap);	/* everything is in the VM now */
	vm.cfg.restore = NULL;
	status = vm_run(&vm);
	vm_detach_teardown(&vm);
	vm_destroy(&vm);
	return status;
}
