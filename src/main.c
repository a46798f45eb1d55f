// SPDX-License-Identifier: MIT
/* kite: a small virtual machine monitor for Linux KVM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/ctl.h"
#include "cli/options.h"
#include "core/runstate.h"
#include "core/vm.h"
#include "core/vm_boot.h"
#include "migration/migrate.h"
#include "snapshot/vm_snapshot.h"

static struct vm_snapshot snap;	/* large: not on the stack */
static struct vm_boot boot;		/* outlives the API server that uses it */

/* --restore FILE: build the VM from the snapshot. */
static int create_restored(struct vm *vm, struct vm_config *cfg, int *status)
{
	int ret;

	if (vm_snapshot_open(&snap, cfg->restore_path, cfg->restore_mem_file, cfg)) {
		*status = KITE_EXIT_BAD_IMAGE;
		return -1;
	}
	cfg->restore = &snap;
	ret = vm_create(vm, cfg, status);
	vm_snapshot_close(&snap);	/* everything is in the VM now */
	cfg->restore = NULL;
	if (!ret)
		vm->cfg.restore = NULL;
	return ret;
}

/* The signals vm_run() handles: blocked from here on, read from signalfds. */
static void block_signals(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* --incoming URI: a live migration's source builds the VM (migration/migrate.h). */
static int create_incoming(struct vm *vm, const struct vm_config *cfg, int *status)
{
	int signo = 0, ret;

	block_signals();
	ret = vm_migrate_incoming(cfg->incoming, cfg, vm, &snap, &signo);
	*status = KITE_EXIT_HOST_ERROR;
	if (ret == -EINTR) {
		*status = KITE_EXIT_SIGNAL;
		err_set(ret, "stopped by %s before a migration arrived", strsignal(signo));
	}
	return ret;
}

/*
 * Only --api-sock: serve the API at once and build the VM when a client
 * loads a snapshot (core/vm_boot.h).  The signals vm_run() handles are
 * blocked first, so the server's thread and the vCPUs never take them.
 */
static int create_on_request(struct vm *vm, const struct vm_config *cfg,
			     struct api_server **api, int *status)
{
	int ret, signo = 0;

	block_signals();
	*status = KITE_EXIT_HOST_ERROR;
	ret = vm_boot_init(&boot);
	if (ret)
		return ret;
	ret = api_server_start(api, cfg->api_sock, NULL, &boot);
	if (!ret)
		ret = vm_boot_wait(&boot, cfg, vm, &snap, &signo);
	if (ret == -EINTR) {
		*status = KITE_EXIT_SIGNAL;
		err_set(ret, "stopped by %s before a VM was loaded", strsignal(signo));
	}
	/* The server uses @boot until it stops (main destroys @boot after vm_run). */
	if (ret) {
		api_server_stop(*api);
		*api = NULL;
		vm_boot_destroy(&boot);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct api_server *api = NULL;
	enum cli_action action;
	struct vm_config cfg;
	struct vm vm;
	int status, ret;

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
	if (cfg.restore_path)
		ret = create_restored(&vm, &cfg, &status);
	else if (cfg.incoming)
		ret = create_incoming(&vm, &cfg, &status);
	else if (!cfg.kernel_path)
		ret = create_on_request(&vm, &cfg, &api, &status);
	else
		ret = vm_create(&vm, &cfg, &status);
	if (ret) {
		fprintf(stderr, "kite: %s\n", err_msg());
		return status;
	}
	status = vm_run(&vm, api);	/* stops the API server */
	if (api)
		vm_boot_destroy(&boot);
	vm_detach_teardown(&vm);
	vm_destroy(&vm);
	return status;
}
