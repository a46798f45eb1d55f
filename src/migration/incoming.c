// SPDX-License-Identifier: MIT
/*
 * incoming.c - the receiving side of a live migration (migrate.h).
 *
 * Two threads.  The receiver reads the stream: guest pages straight into a
 * fresh memfd; the machine description (the first STATE record) goes to
 * the main thread, which builds the VM from it, paused, while the pages
 * still arrive.  At END the receiver puts the last STATE record into the
 * built VM and runs the commit itself (READY, GO, RUNNING), so that the
 * switch-over never waits for another thread to wake up.  The main thread
 * watches signals meanwhile.  Nothing runs unless the whole stream checked
 * out and the source said GO.
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
#include "migration/wire.h"
#include "snapshot/vm_snapshot.h"

#define RECV_TIMEOUT_MS		30000	/* a source that stops sending */
#define GO_TIMEOUT_MS		30000
/* The switch-over's waits poll rather than sleep for this long (transport.h). */
#define GO_SPIN_US		20000

enum build_state {
	BUILD_WAITING,		/* no machine yet, or the main thread builds it */
	BUILD_OK,
	BUILD_FAILED,		/* the source was told why */
	BUILD_NEVER,		/* the main thread stopped waiting (a signal) */
};

struct incoming {
	int fd;
	int wake_fd;			/* eventfd to the main thread: a machine, or the end */
	struct vm *vm;
	struct vm_snapshot *snap;	/* the machine description, kept for the end */
	struct mig_reader r;
	struct guest_ram_block *ram;
	uint64_t low_pages, high_pages;
	pthread_mutex_t lock;		/* guards the fields up to msg */
	pthread_cond_t cond;		/* @build changed */
	uint8_t *machine;		/* the first STATE record, until the main thread takes it */
	size_t machine_len;
	bool got_machine;
	enum build_state build;
	bool done;			/* the receiver ended: @result, @msg */
	int result;
	char msg[512];
	/* the receiver's own */
	uint8_t *state;			/* the last STATE record */
	size_t state_len;
	bool running;			/* the guest runs (else stays paused) */
	uint64_t t_end, t_applied, t_go, t_running;	/* us */
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

static void wake_main(struct incoming *in)
{
	static const uint64_t one = 1;

	if (write(in->wake_fd, &one, sizeof(one)) != sizeof(one))
		abort();	/* an eventfd write of 1 cannot fail */
}

/* Tell the source why this side refuses, best effort (it may be gone). */
static void refuse(struct incoming *in, int code, const char *why)
{
	if (mig_send_ack(in->fd, code, why))
		log_warn("incoming migration: cannot tell the source: %s", err_msg());
}

/* A STATE record: the first describes the machine (for the main thread now),
 * the last one is the VM's state. */
static int keep_state(struct incoming *in, const struct mig_event_info *info)
{
	uint8_t *copy = malloc(info->state_len ? info->state_len : 1);
	bool first;

	if (!copy)
		return err_set(-ENOMEM, "out of memory for the migrated state");
	memcpy(copy, info->state, info->state_len);
	pthread_mutex_lock(&in->lock);
	first = !in->got_machine;
	if (first) {
		in->got_machine = true;
		in->machine = copy;
		in->machine_len = info->state_len;
	}
	pthread_mutex_unlock(&in->lock);
	if (first) {
		wake_main(in);
	} else {
		free(in->state);
		in->state = copy;
		in->state_len = info->state_len;
	}
	return 0;
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
		ret = keep_state(in, &info);
		if (ret)
			return ret;
	}
	in->t_end = mig_now_us();
	if (!in->state)
		return err_set(-EPROTO, "migration stream: it ended without the VM's state");
	log_debug("incoming migration: %" PRIu64 " bytes received (%" PRIu64 " raw, %" PRIu64
		  " compressed, %" PRIu64 " zero pages)", in->r.bytes_read, in->r.pages_raw,
		  in->r.pages_zstd, in->r.pages_zero);
	return 0;
}

/* The "migration" section of a STATE record: the phase it must have, and
 * whether the guest was running. */
static int state_phase(const struct vm_snapshot *snap, uint8_t want, bool *running)
{
	const struct snap_section *sec;
	int ret = snap_image_require(&snap->img, "migration", MIG_SECTION_V, MIG_SECTION_V, &sec);

	if (!ret && (sec->len != 2 || sec->data[0] != want || sec->data[1] > 1))
		return err_set(-EPROTO, "the migrated state: section 'migration' is malformed or "
			       "out of order");
	if (!ret && running)
		*running = sec->data[1] != 0;
	return ret;
}

/* The last STATE record into the built VM, which stays paused. */
static int apply_final(struct incoming *in)
{
	struct vm_config scratch = in->vm->cfg;
	struct vm_snapshot fin;
	int ret = vm_snapshot_open_incoming(&fin, in->state, in->state_len, in->ram, &scratch);

	if (ret)
		return err_prefix(ret, "the migrated state");
	ret = state_phase(&fin, MIG_PHASE_FINAL, &in->running);
	if (!ret)
		ret = vm_snapshot_same_machine(&fin, in->snap, in->vm->nr_vcpus);
	if (!ret)
		ret = vm_restore_state(in->vm, &fin);
	vm_snapshot_close(&fin);
	return ret ? err_prefix(ret, "the migrated state") : 0;
}

/*
 * READY, wait for GO, then run (or keep paused) and confirm RUNNING.  The
 * vCPU threads, started parked after the build, poll for the resume from
 * READY on: GO wakes only this thread on the way to the guest running.
 */
static int commit(struct incoming *in)
{
	char msg[MIG_MSG_MAX + 1];
	int status, ret;

	ret = mig_send_ack(in->fd, 0, "ready");
	if (!ret) {
		vm_pause_spin_until(in->vm, (mig_now_us() + GO_SPIN_US) * 1000);
		ret = mig_recv_ack(in->fd, GO_TIMEOUT_MS, &status, msg, sizeof(msg));
	}
	if (!ret && status)
		ret = err_set(status, "the source called the migration off: %s", msg);
	if (ret)
		return err_prefix(ret, "the source did not confirm the migration");
	/* Committed: the guest is this kite's now, whatever the source hears. */
	in->t_go = mig_now_us();
	in->vm->cfg.resume = in->running;
	if (in->running && vm_resume(in->vm))
		log_warn("incoming migration: %s", err_msg());
	vm_pause_spin_until(in->vm, 0);
	if (mig_send_ack(in->fd, 0, "running"))
		log_warn("incoming migration: the source did not hear that the VM runs here: %s",
			 err_msg());
	in->t_running = mig_now_us();
	return 0;
}

/* After END: wait for the build (it began with the first record), then the state and the commit. */
static int finish(struct incoming *in)
{
	enum build_state b;
	bool machine;
	int ret;

	pthread_mutex_lock(&in->lock);
	machine = in->got_machine;
	while (machine && in->build == BUILD_WAITING)
		pthread_cond_wait(&in->cond, &in->lock);
	b = in->build;
	pthread_mutex_unlock(&in->lock);
	if (!machine)
		return err_set(-EPROTO, "migration stream: it ended without describing the machine");
	if (b == BUILD_FAILED)
		return err_set(-ECANCELED, "the machine could not be built here");
	if (b == BUILD_NEVER)
		return err_set(-ECANCELED, "stopped while building the machine");
	ret = apply_final(in);
	in->t_applied = mig_now_us();
	if (ret) {
		refuse(in, ret, err_msg());
		return ret;
	}
	return commit(in);
}

static void *receiver_thread(void *arg)
{
	struct incoming *in = arg;
	int result = receive(in);

	if (!result)
		result = finish(in);
	pthread_mutex_lock(&in->lock);
	in->result = result;
	if (result)
		snprintf(in->msg, sizeof(in->msg), "%s", err_msg());
	in->done = true;
	pthread_mutex_unlock(&in->lock);
	wake_main(in);
	return NULL;
}

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

/*
 * The first STATE record: build the machine it describes into in->vm,
 * paused, its state still to come (in->snap keeps the description for the
 * check at the end).  The receiver fills guest RAM meanwhile; nothing
 * reads it yet.
 */
static int build_machine(struct incoming *in, const uint8_t *machine, size_t len,
			 const struct vm_config *host_cfg)
{
	struct vm_config cfg = *host_cfg;
	int status, ret;

	cfg.keep_identity = true;	/* the same VM, moved: not a copy */
	ret = vm_snapshot_open_incoming(in->snap, machine, len, in->ram, &cfg);
	if (ret)
		return ret;
	ret = state_phase(in->snap, MIG_PHASE_MACHINE, NULL);
	if (!ret) {
		cfg.resume = false;	/* after GO */
		cfg.restore = in->snap;
		cfg.restore_later = true;
		ret = vm_create(in->vm, &cfg, &status);
		if (ret)
			ret = err_prefix(ret, "building the migrated VM");
	}
	if (ret)
		vm_snapshot_close(in->snap);
	return ret;
}

static void set_build(struct incoming *in, enum build_state b)
{
	pthread_mutex_lock(&in->lock);
	if (in->build == BUILD_WAITING)
		in->build = b;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
}

/*
 * The main thread: start the receiver, build the machine as soon as its
 * description arrives, wait for the receiver's end or a signal.  A machine
 * that cannot be built here is refused at once (an early ACK with the
 * reason: the source stops sending and aborts).
 */
static int run_incoming(struct incoming *in, const struct vm_config *host_cfg, int sigfd,
			int *signo, bool *built, uint64_t *build_us)
{
	char why[512] = "";
	int build_err = 0, ret;
	pthread_t t;

	in->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (in->wake_fd < 0)
		return err_set(-errno, "eventfd: %s", strerror(errno));
	ret = pthread_create(&t, NULL, receiver_thread, in);
	if (ret) {
		close(in->wake_fd);
		return err_set(-ret, "cannot start the receiver thread: %s", strerror(ret));
	}
	pthread_setname_np(t, "kite-incoming");
	for (;;) {
		uint8_t *machine;
		size_t len;
		uint64_t n, t0;
		bool done;

		ret = wait_or_signal(in->wake_fd, sigfd, signo);
		if (ret)
			break;
		if (read(in->wake_fd, &n, sizeof(n)) != sizeof(n))
			continue;
		pthread_mutex_lock(&in->lock);
		machine = in->machine;
		len = in->machine_len;
		in->machine = NULL;
		done = in->done;
		pthread_mutex_unlock(&in->lock);
		if (machine) {
			t0 = mig_now_us();
			build_err = build_machine(in, machine, len, host_cfg);
			*built = !build_err;
			/* The vCPU threads too: they park (the VM is paused). */
			if (!build_err)
				build_err = vm_start_vcpus(in->vm);
			*build_us = mig_now_us() - t0;
			free(machine);
			if (build_err) {
				snprintf(why, sizeof(why), "%s", err_msg());
				refuse(in, build_err, why);
			}
			set_build(in, build_err ? BUILD_FAILED : BUILD_OK);
		}
		if (done)
			break;
	}
	if (ret) {
		set_build(in, BUILD_NEVER);
		shutdown(in->fd, SHUT_RDWR);	/* the receiver fails at once */
	}
	pthread_join(t, NULL);
	close(in->wake_fd);
	if (ret) {
		if (!in->result)
			log_warn("incoming migration: stopped by a signal right after the guest "
				 "moved here: it is lost");
		return ret;
	}
	if (build_err)
		return err_set(build_err, "%s", why);
	if (in->result)
		return err_set(in->result, "%s", in->msg);
	return 0;
}

int vm_migrate_incoming(const char *uri, const struct vm_config *host_cfg, struct vm *vm,
			struct vm_snapshot *snap, int *signo)
{
	struct incoming in = { .fd = -1, .vm = vm, .snap = snap };
	bool built = false;
	uint64_t build_us = 0;
	sigset_t sigs;
	int sigfd, ret;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return err_set(-errno, "signalfd: %s", strerror(errno));
	pthread_mutex_init(&in.lock, NULL);
	pthread_cond_init(&in.cond, NULL);
	ret = accept_one(uri, sigfd, &in.fd, signo);
	if (!ret)
		ret = run_incoming(&in, host_cfg, sigfd, signo, &built, &build_us);
	if (ret && built) {
		/* vCPU threads commit() may have started: parked, never ran. */
		runstate_request_stop(&vm->rs, VM_STOP_HOST_ERROR, KITE_EXIT_HOST_ERROR,
				      "the migration failed");
		vm_stop_vcpus(vm);
		vm_destroy(vm);
	}
	if (built) {
		vm_snapshot_close(snap);
		vm->cfg.restore = NULL;
	}
	if (!ret) {
		log_info("incoming migration: %" PRIu64 " bytes received (%" PRIu64 " raw, %"
			 PRIu64 " compressed, %" PRIu64 " zero pages)", in.r.bytes_read,
			 in.r.pages_raw, in.r.pages_zstd, in.r.pages_zero);
		log_info("incoming migration (us): the machine built in %" PRIu64 " while the "
			 "pages came; from the end of the stream: the state put back %" PRIu64
			 ", GO %" PRIu64 ", running %" PRIu64, build_us, in.t_applied - in.t_end,
			 in.t_go - in.t_end, in.t_running - in.t_end);
		log_info("incoming migration complete: the guest %s",
			 in.running ? "runs" : "stays paused, as on the source");
	}
	mig_reader_destroy(&in.r);
	guest_ram_put(in.ram);	/* the VM holds its own reference */
	free(in.machine);
	free(in.state);
	pthread_cond_destroy(&in.cond);
	pthread_mutex_destroy(&in.lock);
	if (in.fd >= 0)
		close(in.fd);
	close(sigfd);
	return ret;
}
