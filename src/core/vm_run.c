// SPDX-License-Identifier: MIT
/*
 * vm_run.c - the main thread's event loop while the guest runs.
 *
 * It waits on: the stop eventfd (any thread asked the VM to stop), a
 * signalfd (SIGINT/SIGTERM/SIGHUP: stop cleanly, terminal restored), the
 * console input (stdin with --serial stdio) and the serial device's
 * "input room" eventfd.  When the VM stops it kicks and joins every vCPU.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "migration/migrate.h"
#include "arch/x86/cpu.h"
#include "core/log.h"
#include "core/term.h"
#include "core/vm.h"

enum loop_token { TOK_STOP = 1, TOK_SIGNAL, TOK_INPUT, TOK_SPACE };

struct loop {
	struct vm *vm;
	int epfd, sigfd, in_fd;
	bool in_polled;		/* in_fd is in the epoll set */
	bool in_is_file;	/* a regular file: always readable, no epoll */
	bool in_tty;
	struct term_escape esc;
};

static int loop_watch(struct loop *l, int fd, enum loop_token tok, int op)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tok };

	return epoll_ctl(l->epfd, op, fd, &ev) ? -errno : 0;
}

static void loop_input_stop(struct loop *l)
{
	if (l->in_polled)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->in_fd, NULL);
	l->in_polled = false;
}

/* Move console input into the serial device, as much as it has room for. */
static void loop_pump_input(struct loop *l)
{
	uint8_t buf[256];
	size_t room = serial_rx_space(&l->vm->serial);
	ssize_t n;
	bool quit;

	if (room == 0) {
		loop_input_stop(l);	/* resumes on TOK_SPACE */
		return;
	}
	n = read(l->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {			/* EOF or error: no more input */
		loop_input_stop(l);
		l->in_fd = -1;
		return;
	}
	if (l->in_tty) {
		n = (ssize_t)term_filter_input(&l->esc, buf, (size_t)n, &quit);
		if (quit)
			runstate_request_stop(&l->vm->rs, VM_STOP_SIGNAL, KITE_EXIT_SIGNAL,
					      "stopped from the console (Ctrl-A x)");
	}
	serial_rx_push(&l->vm->serial, buf, (size_t)n);
}

static void loop_input_resume(struct loop *l)
{
	uint64_t v;

	if (read(l->vm->serial_space_fd, &v, sizeof(v)) < 0) {
		/* spurious wake-up; nothing to do */
	}
	if (l->in_fd >= 0 && !l->in_polled && !l->in_is_file &&
	    loop_watch(l, l->in_fd, TOK_INPUT, EPOLL_CTL_ADD) == 0)
		l->in_polled = true;
}

static void loop_handle_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	if (read(l->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	runstate_request_stop(&l->vm->rs, VM_STOP_SIGNAL, KITE_EXIT_SIGNAL,
			      "stopped by signal %s", strsignal((int)si.ssi_signo));
}

static int loop_init_input(struct loop *l)
{
	struct stat st;

	l->in_fd = -1;
	if (l->vm->cfg.serial_mode != SERIAL_STDIO || fstat(STDIN_FILENO, &st))
		return 0;
	if (l->vm->cfg.console == VM_CONSOLE_STDIO)
		return 0;	/* stdin belongs to the virtio console */
	l->in_fd = STDIN_FILENO;
	if (S_ISREG(st.st_mode)) {
		l->in_is_file = true;
		return 0;
	}
	l->in_tty = term_raw_enable(STDIN_FILENO);
	if (loop_watch(l, l->in_fd, TOK_INPUT, EPOLL_CTL_ADD)) {
		l->in_fd = -1;	/* not pollable: no console input */
		return 0;
	}
	l->in_polled = true;
	return 0;
}

static int loop_init(struct loop *l, struct vm *vm, const sigset_t *sigs)
{
	memset(l, 0, sizeof(*l));
	l->vm = vm;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sigfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->epfd < 0 || l->sigfd < 0)
		return err_set(-errno, "cannot set up the event loop: %s", strerror(errno));
	if (loop_watch(l, vm->rs.wake_fd, TOK_STOP, EPOLL_CTL_ADD) ||
	    loop_watch(l, l->sigfd, TOK_SIGNAL, EPOLL_CTL_ADD) ||
	    loop_watch(l, vm->serial_space_fd, TOK_SPACE, EPOLL_CTL_ADD))
		return err_set(-EIO, "cannot set up the event loop");
	return loop_init_input(l);
}

static void loop_run(struct loop *l)
{
	while (!runstate_stopping(&l->vm->rs)) {
		struct epoll_event evs[8];
		int timeout = (l->in_is_file && l->in_fd >= 0) ? 0 : -1;
		int i, n = epoll_wait(l->epfd, evs, 8, timeout);

		if (n < 0 && errno != EINTR) {
			runstate_request_stop(&l->vm->rs, VM_STOP_HOST_ERROR,
					      KITE_EXIT_HOST_ERROR, "epoll_wait: %s",
					      strerror(errno));
			break;
		}
		if (timeout == 0 && n <= 0 && serial_rx_space(&l->vm->serial))
			loop_pump_input(l);
		else if (timeout == 0 && n <= 0)
			usleep(1000);	/* file input waits for the guest to read */
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case TOK_SIGNAL:
				loop_handle_signal(l);
				break;
			case TOK_INPUT:
				loop_pump_input(l);
				break;
			case TOK_SPACE:
				loop_input_resume(l);
				break;
			default:
				break;	/* TOK_STOP: the loop condition sees it */
			}
		}
	}
}

static void loop_close(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	term_restore();
}

int vm_start_vcpus(struct vm *vm)
{
	sigset_t sigs;
	unsigned int i;
	int ret;

	/* Blocked before the vCPU threads exist, so only vm_run's signalfd sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	ret = vcpu_signals_init();
	/* From here on readers exist: bus updates wait for grace periods. */
	bus_set_live(&vm->pio);
	bus_set_live(&vm->mmio);
	for (i = 0; !ret && i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].thread_started)
			ret = vcpu_start(&vm->vcpus[i]);
	return ret;
}

void vm_stop_vcpus(struct vm *vm)
{
	unsigned int i;

	vm_pause_wake_all(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].thread_started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].thread_started = false;
	}
}

/* Where every vCPU was when the VM stopped (after the threads are joined). */
static void vm_dump_vcpus(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		fprintf(stderr, "kite: vCPU %u (%llu exits):\n", i,
			(unsigned long long)vm->vcpus[i].exits);
		x86_vcpu_dump(stderr, vm->vcpus[i].fd, &vm->as);
	}
}

static int vm_report_stop(struct vm *vm)
{
	const struct runstate *rs = &vm->rs;

	switch (rs->reason) {
	case VM_STOP_GUEST_CRASH:
	case VM_STOP_HOST_ERROR:
	case VM_STOP_SIGNAL:
		fprintf(stderr, "kite: %s\n", rs->message);
		break;
	default:
		log_info("%s", rs->message);
		break;
	}
	return rs->exit_status;
}

int vm_run(struct vm *vm, struct api_server *api)
{
	struct loop l;
	sigset_t sigs;
	int ret;

	memset(&l, 0, sizeof(l));
	l.epfd = l.sigfd = -1;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	/* Blocked before the vCPU threads exist, so only the signalfd sees them. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = loop_init(&l, vm, &sigs);
	/* The API first: a socket that cannot be served stops kite before the guest runs. */
	if (!ret && vm->cfg.api_sock && !api)
		ret = api_server_start(&api, vm->cfg.api_sock, vm, NULL);
	if (!ret)
		ret = vm_start_vcpus(vm);	/* those not started yet */
	if (ret)
		runstate_request_stop(&vm->rs, VM_STOP_HOST_ERROR, KITE_EXIT_HOST_ERROR,
				      "%s", err_msg());
	else
		loop_run(&l);
	/* API handlers blocked in vm_pause() return once they see the stop. */
	vm_pause_wake_all(vm);
	if (api && vm->rs.reason == VM_STOP_MIGRATED)
		vm_migrate_linger(vm, 1000);
	if (api)
		api_server_stop(api);
	vm_migrate_destroy(vm);		/* after the API: nobody starts another */
	vm_stop_vcpus(vm);
	loop_close(&l);
	if (vm->rs.reason == VM_STOP_SIGNAL && log_level >= LOG_DEBUG)
		vm_dump_vcpus(vm);
	return vm_report_stop(vm);
}
