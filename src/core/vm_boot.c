// SPDX-License-Identifier: MIT
/*
 * vm_boot.c - waiting for the request that builds the VM (vm_boot.h).
 */
#include "core/vm_boot.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/vm.h"
#include "snapshot/vm_snapshot.h"

int vm_boot_init(struct vm_boot *b)
{
	memset(b, 0, sizeof(*b));
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0)
		return err_set(-errno, "eventfd: %s", strerror(errno));
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	return 0;
}

void vm_boot_destroy(struct vm_boot *b)
{
	if (b->efd >= 0)
		close(b->efd);
	b->efd = -1;
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}

/* Build @vm from the posted request; 0 or -errno with err_msg(). */
static int build(const struct vm_boot_request *req, const struct vm_config *host_cfg,
		 struct vm *vm, struct vm_snapshot *snap)
{
	struct vm_config cfg = *host_cfg;
	int status, ret;

	cfg.restore_path = NULL;	/* the request's buffers do not outlive it */
	cfg.restore_mem_file = NULL;
	cfg.resume = req->resume;
	cfg.keep_identity = req->keep_identity;
	cfg.diff_snapshots = req->diff_snapshots;
	ret = vm_snapshot_open(snap, req->snapshot_path,
			       req->mem_file_path[0] ? req->mem_file_path : NULL, &cfg);
	if (ret)
		return ret;
	cfg.restore = snap;
	ret = vm_create(vm, &cfg, &status);
	vm_snapshot_close(snap);
	if (!ret)
		vm->cfg.restore = NULL;
	return ret;
}

/* Publish the answer to the waiting API thread. */
static void answer(struct vm_boot *b, int result, struct vm *vm)
{
	pthread_mutex_lock(&b->lock);
	b->result = result;
	snprintf(b->msg, sizeof(b->msg), "%s", result ? err_msg() : "");
	b->vm = result ? NULL : vm;
	b->phase = VM_BOOT_ANSWERED;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void close_wait(struct vm_boot *b)
{
	pthread_mutex_lock(&b->lock);
	b->closed = true;
	if (b->phase == VM_BOOT_REQUESTED) {
		b->result = -ESHUTDOWN;
		snprintf(b->msg, sizeof(b->msg), "kite is exiting");
		b->phase = VM_BOOT_ANSWERED;
	}
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

int vm_boot_wait(struct vm_boot *b, const struct vm_config *host_cfg, struct vm *vm,
		 struct vm_snapshot *snap, int *signo)
{
	struct vm_boot_request req;
	struct pollfd p[2];
	sigset_t sigs;
	int sigfd, ret;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		close_wait(b);
		return err_set(-errno, "signalfd: %s", strerror(errno));
	}
	p[0] = (struct pollfd){ .fd = b->efd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	log_info("no machine yet: waiting for PUT /snapshot/load on %s", host_cfg->api_sock);
	for (;;) {
		struct signalfd_siginfo si;
		uint64_t v;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = err_set(-errno, "poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			*signo = (int)si.ssi_signo;
			ret = -EINTR;
			break;
		}
		if (!p[0].revents || read(b->efd, &v, sizeof(v)) != sizeof(v))
			continue;
		pthread_mutex_lock(&b->lock);
		req = b->req;
		pthread_mutex_unlock(&b->lock);
		err_clear();
		ret = build(&req, host_cfg, vm, snap);
		if (ret)
			log_info("loading %s failed: %s", req.snapshot_path, err_msg());
		answer(b, ret, vm);
		if (!ret)
			break;
	}
	close(sigfd);
	if (ret)
		close_wait(b);
	return ret;
}

struct vm *vm_boot_request(struct vm_boot *b, const struct vm_boot_request *req, int *err)
{
	static const uint64_t one = 1;
	struct vm *vm = NULL;

	pthread_mutex_lock(&b->lock);
	if (b->closed || b->phase != VM_BOOT_IDLE) {
		*err = b->closed ? -ESHUTDOWN : -EALREADY;
		pthread_mutex_unlock(&b->lock);
		err_set(*err, b->closed ? "kite is exiting" : "this kite already has a VM (or is "
			"building one): a snapshot is loaded only into a fresh kite");
		return NULL;
	}
	b->req = *req;
	b->phase = VM_BOOT_REQUESTED;
	if (write(b->efd, &one, sizeof(one)) != sizeof(one)) {
		b->phase = VM_BOOT_IDLE;
		pthread_mutex_unlock(&b->lock);
		*err = err_set(-EIO, "cannot wake the main thread");
		return NULL;
	}
	while (b->phase == VM_BOOT_REQUESTED)
		pthread_cond_wait(&b->cond, &b->lock);
	*err = b->result;
	if (b->result) {
		err_set(b->result, "%s", b->msg);
		b->phase = b->closed ? VM_BOOT_DONE : VM_BOOT_IDLE;	/* may try again */
	} else {
		vm = b->vm;
		b->phase = VM_BOOT_DONE;
	}
	pthread_mutex_unlock(&b->lock);
	return vm;
}
