// SPDX-License-Identifier: MIT
/*
 * incoming.c - the receiving side of a live migration (migrate.h).
 *
 * A receiver thread reads the stream (guest pages straight into a fresh
 * memfd, the state into memory) while the main thread waits for it or for a
 * signal; the VM is built only from a stream that ended correctly.
 */
#include "migration/migrate.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "core/guest_ram.h"
#include "core/log.h"
#include "core/vm.h"
#include "migration/stream.h"
#include "migration/transport.h"
#include "snapshot/vm_snapshot.h"

#define RECV_TIMEOUT_MS		30000	/* a source that stops sending */
#define GO_TIMEOUT_MS		30000

struct incoming {
	int fd;
	int done_fd;			/* eventfd: the receiver finished */
	struct mig_reader r;
	struct guest_ram_block *ram;
	uint64_t low_pages, high_pages;
	uint8_t *state;			/* the last STATE record */
	size_t state_len;
	int result;
	char msg[512];
};

static void *page_ptr(void *opaque, uint64_t pfn)
{
	struct incoming *in = opaque;
	uint64_t hole = X86_MMIO_HOLE_END >> 12;

	if (pfn < in->low_pages)
		return in->ram->host + (pfn << 12);
	if (pfn >= hole && pfn - hole < in->high_pages)
		return in->ram->host + ((in->low_pages + pfn - hole) << 12);
	return NULL;
}

static int receive(struct incoming *in)
{
	static const struct guest_ram_backing memfd = { GUEST_RAM_MEMFD, NULL };
	struct x86_ram_layout l;
	struct mig_event_info info;
	enum mig_event ev;
	int ret;

	ret = mig_reader_init(&in->r, in->fd, 0, page_ptr, in);
	if (ret)
		return ret;
	if (in->r.ram_size < VM_MEM_MIN || in->r.ram_size > VM_MEM_MAX ||
	    in->r.ram_size % 4096)
		return err_set(-EPROTO, "migration stream: %" PRIu64 " bytes of guest RAM is not "
			       "a machine kite builds", in->r.ram_size);
	ret = guest_ram_create(&memfd, in->r.ram_size, "kite-guest-ram", &in->ram);
	if (ret)
		return ret;
	l = x86_ram_layout(in->r.ram_size);
	in->low_pages = l.low_end >> 12;
	in->high_pages = l.high_size >> 12;
	for (;;) {
		ret = mig_read(&in->r, &ev, &info);
		if (ret)
			return ret;
		if (ev == MIG_EV_END)
			break;
		if (ev == MIG_EV_ROUND) {
			log_debug("incoming migration: round %u, %" PRIu64 " pages", info.round,
				  info.round_pages);
			continue;
		}
		free(in->state);
		in->state = malloc(info.state_len ? info.state_len : 1);
		if (!in->state)
			return err_set(-ENOMEM, "out of memory for the migrated state");
		memcpy(in->state, info.state, info.state_len);
		in->state_len = info.state_len;
	}
	if (!in->state)
		return err_set(-EPROTO, "migration stream: it ended without the VM's state");
	log_info("incoming migration: %" PRIu64 " bytes received (%" PRIu64 " raw, %" PRIu64
		 " compressed, %" PRIu64 " zero pages)", in->r.bytes_read, in->r.pages_raw,
		 in->r.pages_zstd, in->r.pages_zero);
	return 0;
}

static void *receiver_thread(void *arg)
{
	static const uint64_t one = 1;
	struct incoming *in = arg;

	in->result = receive(in);
	if (in->result)
		snprintf(in->msg, sizeof(in->msg), "%s", err_msg());
	if (write(in->done_fd, &one, sizeof(one)) != sizeof(one))
		abort();	/* an eventfd write of 1 cannot fail */
	return NULL;
}

/* Wait for @fd or a signal; -EINTR with *signo on a signal. */
static int wait_or_signal(int fd, int sigfd, int *signo)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_set(-errno, "poll: %s", strerror(errno));
		}
		if (p[1].revents && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			*signo = (int)si.ssi_signo;
			return -EINTR;
		}
		if (p[0].revents)
			return 0;
	}
}

static int accept_one(const char *uri, int sigfd, int *fd, int *signo)
{
	struct mig_uri u;
	int lfd, ret;

	ret = mig_uri_parse(uri, &u);
	if (!ret)
		ret = mig_listen(&u, &lfd);
	if (ret)
		return err_prefix(ret, "--incoming %s", uri);
	log_info("waiting for an incoming migration on %s", uri);
	ret = wait_or_signal(lfd, sigfd, signo);
	if (!ret)
		ret = mig_accept(lfd, 1000, fd);
	mig_listen_close(&u, lfd);	/* one source per kite */
	if (!ret)
		ret = mig_set_recv_timeout(*fd, RECV_TIMEOUT_MS);
	return ret;
}

/* Receive the whole stream on a thread, the main thread watching signals. */
static int receive_all(struct incoming *in, int sigfd, int *signo)
{
	pthread_t t;
	int ret;

	in->done_fd = eventfd(0, EFD_CLOEXEC);
	if (in->done_fd < 0)
		return err_set(-errno, "eventfd: %s", strerror(errno));
	ret = pthread_create(&t, NULL, receiver_thread, in);
	if (ret) {
		close(in->done_fd);
		return err_set(-ret, "cannot start the receiver thread: %s", strerror(ret));
	}
	pthread_setname_np(t, "kite-incoming");
	ret = wait_or_signal(in->done_fd, sigfd, signo);
	if (ret)
		shutdown(in->fd, SHUT_RDWR);	/* the receiver fails at once */
	pthread_join(t, NULL);
	close(in->done_fd);
	if (!ret && in->result)
		ret = err_set(in->result, "%s", in->msg);
	return ret;
}

/* Build @vm from what arrived; the source learns the outcome from the ACK. */
static int build(struct incoming *in, const struct vm_config *host_cfg, struct vm *vm,
		 struct vm_snapshot *snap)
{
	struct vm_config cfg = *host_cfg;
	const struct snap_section *sec;
	int status, ret;

	cfg.keep_identity = true;	/* the same VM, moved: not a copy */
	ret = vm_snapshot_open_incoming(snap, in->state, in->state_len, in->ram, &cfg);
	if (ret)
		return ret;
	ret = snap_image_require(&snap->img, "migration", 1, 1, &sec);
	if (!ret && sec->len != 1)
		ret = err_set(-EPROTO, "the migrated state: section 'migration' is malformed");
	if (!ret) {
		cfg.resume = sec->data[0] != 0;
		cfg.restore = snap;
		ret = vm_create(vm, &cfg, &status);
		if (ret)
			ret = err_prefix(ret, "building the migrated VM");
	}
	vm_snapshot_close(snap);
	if (!ret)
		vm->cfg.restore = NULL;
	return ret;
}

int vm_migrate_incoming(const char *uri, const struct vm_config *host_cfg, struct vm *vm,
			struct vm_snapshot *snap, int *signo)
{
	struct incoming in = { .fd = -1 };
	char msg[MIG_MSG_MAX + 1];
	sigset_t sigs;
	int sigfd, status, ret;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return err_set(-errno, "signalfd: %s", strerror(errno));
	ret = accept_one(uri, sigfd, &in.fd, signo);
	if (!ret)
		ret = receive_all(&in, sigfd, signo);
	if (!ret) {
		ret = build(&in, host_cfg, vm, snap);
		if (ret) {
			char why[512];

			snprintf(why, sizeof(why), "%s", err_msg());
			if (mig_send_ack(in.fd, ret, why))
				log_warn("incoming migration: cannot tell the source: %s", err_msg());
			err_set(ret, "%s", why);
		}
	}
	if (!ret) {
		ret = mig_send_ack(in.fd, 0, "ready");
		if (!ret)
			ret = mig_recv_ack(in.fd, GO_TIMEOUT_MS, &status, msg, sizeof(msg));
		if (!ret && status)
			ret = err_set(status, "the source called the migration off: %s", msg);
		if (ret) {
			ret = err_prefix(ret, "the source did not confirm the migration");
			vm_destroy(vm);
		}
	}
	if (!ret && mig_send_ack(in.fd, 0, "running"))
		log_warn("incoming migration: the source did not hear that the VM runs here: %s",
			 err_msg());
	mig_reader_destroy(&in.r);
	guest_ram_put(in.ram);	/* the VM holds its own reference */
	free(in.state);
	if (in.fd >= 0)
		close(in.fd);
	close(sigfd);
	if (!ret)
		log_info("incoming migration complete: the guest %s",
			 vm->cfg.resume ? "runs" : "stays paused, as on the source");
	return ret;
}
