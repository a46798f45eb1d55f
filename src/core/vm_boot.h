/* SPDX-License-Identifier: MIT */
/*
 * vm_boot.h - a kite started without a machine: `kite run --api-sock PATH`
 * with neither --kernel nor --restore waits, serving the API, until a client
 * asks it to build the VM (`PUT /snapshot/load`), like Firecracker's
 * snapshot-load flow.
 *
 * Threads: the main thread owns the wait (vm_boot_wait): it watches the
 * request eventfd and a signalfd (SIGINT/SIGTERM/SIGHUP end the wait), and
 * builds the VM itself, so the VM is created on the thread that then runs
 * it.  The API thread posts a request (vm_boot_request) and blocks until the
 * main thread answered: success (the VM exists, paused or resumed as asked)
 * or a failure with its message, after which nothing of the VM is left and
 * kite waits for the next request.
 */
#ifndef KITE_CORE_VM_BOOT_H
#define KITE_CORE_VM_BOOT_H

#include <pthread.h>
#include <stdbool.h>

#include "core/error.h"

struct vm;
struct vm_config;
struct vm_snapshot;

#define VM_BOOT_PATH_MAX	4096

struct vm_boot_request {
	char snapshot_path[VM_BOOT_PATH_MAX];
	char mem_file_path[VM_BOOT_PATH_MAX];	/* "": the one the snapshot names */
	bool resume;
	bool keep_identity;	/* no new VM generation ID (the one-copy case) */
	bool diff_snapshots;	/* Firecracker's enable_diff_snapshots */
};

enum vm_boot_phase { VM_BOOT_IDLE, VM_BOOT_REQUESTED, VM_BOOT_ANSWERED, VM_BOOT_DONE };

struct vm_boot {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int efd;			/* the main thread's wake-up: a request is posted */
	enum vm_boot_phase phase;	/* under lock */
	bool closed;			/* the wait ended without a VM: requests fail */
	struct vm_boot_request req;
	int result;			/* the answer: 0 or -errno */
	char msg[512];			/* its message */
	struct vm *vm;			/* the VM once built */
};

int vm_boot_init(struct vm_boot *b) KITE_WUR;
void vm_boot_destroy(struct vm_boot *b);

/*
 * The main thread: wait for a request and build @vm from it on top of
 * @host_cfg's host-side options (serial, API socket, logging); @snap is
 * scratch space for the snapshot being read.  Returns 0 with @vm built, or
 * -EINTR when a signal ended the wait (*signo set), or another -errno.
 */
int vm_boot_wait(struct vm_boot *b, const struct vm_config *host_cfg, struct vm *vm,
		 struct vm_snapshot *snap, int *signo) KITE_WUR;

/*
 * The API thread: ask the main thread to build the VM and wait for the
 * answer.  Returns the VM, or NULL with the message in err_msg() and the
 * error in *err: -EALREADY (a VM exists or is being built), -ESHUTDOWN (kite
 * is exiting), or what building it failed with.
 */
struct vm *vm_boot_request(struct vm_boot *b, const struct vm_boot_request *req, int *err);

#endif
