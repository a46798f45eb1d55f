/* SPDX-License-Identifier: MIT */
/*
 * spawn_time - run one command once and time it precisely (kite benchmarks).
 *
 *   spawn_time [-m exit|first-byte] [-t SECONDS] [-c FILE] [-g BYTES] [-n N] -- CMD [ARG...]
 *
 *   -m exit        (default) wall time from just before fork() to wait4()
 *   -m first-byte  also the time to the first byte the child writes on its
 *                  stdout (a pipe); the rest is drained until EOF
 *   -t SECONDS     kill the child (SIGKILL) after this long; status=timeout
 *   -c FILE        save the child's stdout there (default: /dev/null in exit
 *                  mode, discarded in first-byte mode)
 *   -g BYTES       memory mode: trace the child's main thread (ptrace) and
 *                  take a snapshot of /proc/PID/status (VmHWM, VmRSS) and
 *                  /proc/PID/smaps when it is about to munmap() a region of
 *                  at least BYTES (a VMM releasing guest RAM) and when it
 *                  exits (PTRACE_EVENT_EXIT, address space still there).
 *                  guest_rss_kb: the largest resident size seen in mappings
 *                  at least BYTES long (the guest RAM).  Adds ptrace stops
 *                  at every syscall of the main thread: do not use its times.
 *   -n N           scaling mode (exit mode only): start N copies of CMD at
 *                  once (one fork after the other, no waiting in between);
 *                  wall_ns runs until the last one has exited.  status is
 *                  the common status of all N, or "mixed" (then statuses=
 *                  lists each distinct status with its count); maxrss_kb is
 *                  the largest of the N.  Each copy's stdout is /dev/null
 *                  (or FILE.I with -c FILE).
 *
 * The child gets /dev/null on stdin and inherits stderr.  One line on stdout:
 *   status=exit:N|signal:N|timeout wall_ns=N first_ns=N|-1 maxrss_kb=N
 *   [hwm_kb=N vmrss_kb=N guest_rss_kb=N guest_vmas=N]
 * maxrss_kb is ru_maxrss of the child from wait4() (peak RSS, KiB).
 * Exit status of spawn_time itself: 0 when it could run the command (whatever
 * the command's status), 2 on usage errors, 3 when it could not spawn it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: spawn_time [-m exit|first-byte] [-t SECONDS] [-c FILE] "
			"[-g BYTES] [-n N] -- CMD [ARG...]\n");
	exit(2);
}

struct mem {
	long hwm_kb, vmrss_kb, guest_rss_kb, guest_vmas;
};

/* Snapshot; guest_rss_kb/guest_vmas keep the largest values seen. */
static void read_mem(pid_t pid, unsigned long long min_bytes, struct mem *out)
{
	char path[64], line[512];
	FILE *f;
	int in_guest = 0;
	struct mem mm, *m = &mm;

	m->hwm_kb = m->vmrss_kb = m->guest_rss_kb = m->guest_vmas = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "VmHWM: %ld", &m->hwm_kb);
			sscanf(line, "VmRSS: %ld", &m->vmrss_kb);
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	m->guest_rss_kb = m->guest_vmas = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		long kb;

		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in_guest = hi - lo >= min_bytes;
			m->guest_vmas += in_guest;
		} else if (in_guest && sscanf(line, "Rss: %ld", &kb) == 1) {
			m->guest_rss_kb += kb;
		}
	}
	fclose(f);
	if (m->hwm_kb > out->hwm_kb)
		out->hwm_kb = m->hwm_kb;
	out->vmrss_kb = m->vmrss_kb;
	if (m->guest_rss_kb > out->guest_rss_kb)
		out->guest_rss_kb = m->guest_rss_kb;
	if (m->guest_vmas > out->guest_vmas)
		out->guest_vmas = m->guest_vmas;
}

/* At a syscall stop: is it the entry of munmap(addr, len >= min_bytes)? */
static int big_munmap_entry(pid_t pid, unsigned long long min_bytes)
{
#ifdef __x86_64__
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &r) < 0)
		return 0;
	return (long long)r.rax == -ENOSYS && r.orig_rax == SYS_munmap && r.rsi >= min_bytes;
#else
	(void)pid; (void)min_bytes;
	return 0;
#endif
}

static void status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit:%d", WEXITSTATUS(status));
	else
		snprintf(buf, len, "signal:%d", WTERMSIG(status));
}

/* -n N: N copies at once; see the header comment. */
static int run_many(char **argv, int n, double timeout, const char *capture)
{
	enum { MAX_KINDS = 8 };
	char kinds[MAX_KINDS][32], first[32] = "";
	int counts[MAX_KINDS] = { 0 }, nkinds = 0, started = 0, left, i, mixed = 0;
	long maxrss = 0;
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	int64_t t0, t1;

	if (!pids) {
		perror("spawn_time: calloc");
		return 3;
	}
	if (timeout > 0) {
		struct itimerval it = { { 0, 0 }, { (time_t)timeout,
				(suseconds_t)((timeout - (time_t)timeout) * 1e6) } };
		setitimer(ITIMER_REAL, &it, NULL);
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("spawn_time: fork");
			break;
		}
		if (pids[i] == 0) {
			char path[4096];
			int in = open("/dev/null", O_RDONLY), out;

			if (capture)
				snprintf(path, sizeof(path), "%s.%d", capture, i);
			out = open(capture ? path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
				_exit(127);
			execvp(argv[0], argv);
			fprintf(stderr, "spawn_time: %s: %s\n", argv[0], strerror(errno));
			_exit(127);
		}
		started++;
	}
	for (left = started; left > 0;) {
		struct rusage ru;
		char st[32];
		int status, k;
		pid_t r = wait4(-1, &status, 0, &ru);

		if (r < 0) {
			if (errno == EINTR) {
				if (timed_out)
					for (i = 0; i < started; i++)
						kill(pids[i], SIGKILL);
				continue;
			}
			perror("spawn_time: wait4");
			return 3;
		}
		left--;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		if (timed_out && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			snprintf(st, sizeof(st), "timeout");
		else
			status_str(status, st, sizeof(st));
		if (!first[0])
			snprintf(first, sizeof(first), "%s", st);
		mixed |= strcmp(first, st) != 0;
		for (k = 0; k < nkinds && strcmp(kinds[k], st); k++)
			;
		if (k == nkinds && nkinds < MAX_KINDS)
			snprintf(kinds[nkinds++], sizeof(kinds[0]), "%s", st);
		if (k < nkinds)
			counts[k]++;
	}
	t1 = now_ns();
	free(pids);
	if (started < n)
		mixed = 1;
	printf("status=%s wall_ns=%lld first_ns=-1 maxrss_kb=%ld started=%d", mixed ? "mixed" : first,
	       (long long)(t1 - t0), maxrss, started);
	if (mixed) {
		printf(" statuses=");
		for (i = 0; i < nkinds; i++)
			printf("%s%s*%d", i ? "," : "", kinds[i], counts[i]);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = "exit", *capture = NULL;
	double timeout = 0;
	unsigned long long min_bytes = 0;
	int first_byte, opt, traced = 0, many = 1, pfd[2] = { -1, -1 }, cfd = -1, status = 0;
	struct mem mem = { -1, -1, -1, -1 };
	struct rusage ru;
	struct sigaction sa;
	int64_t t0, t1, tfirst = -1;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+m:t:c:g:n:")) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 't': timeout = atof(optarg); break;
		case 'c': capture = optarg; break;
		case 'g': min_bytes = strtoull(optarg, NULL, 0); break;
		case 'n': many = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	if (strcmp(mode, "exit") && strcmp(mode, "first-byte"))
		usage();
	first_byte = !strcmp(mode, "first-byte");
	if (first_byte && min_bytes)
		usage();
	if (many < 1 || many > 4096 || (many > 1 && (first_byte || min_bytes)))
		usage();

	if (capture) {
		cfd = open(capture, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (cfd < 0) {
			fprintf(stderr, "spawn_time: %s: %s\n", capture, strerror(errno));
			return 3;
		}
	}
	if (first_byte && pipe2(pfd, O_CLOEXEC) < 0) {
		perror("spawn_time: pipe");
		return 3;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: wait4/read return EINTR */
	sigaction(SIGALRM, &sa, NULL);
	if (many > 1)
		return run_many(argv + optind, many, timeout, capture);

	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("spawn_time: fork");
		return 3;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = first_byte ? pfd[1] : cfd >= 0 ? cfd : open("/dev/null", O_WRONLY);

		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(127);
		if (min_bytes && ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(127);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "spawn_time: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}

	if (timeout > 0) {
		struct itimerval it = { { 0, 0 }, { (time_t)timeout,
				(suseconds_t)((timeout - (time_t)timeout) * 1e6) } };
		setitimer(ITIMER_REAL, &it, NULL);
	}

	if (first_byte) {
		char buf[4096];

		close(pfd[1]);
		for (;;) {
			ssize_t n = read(pfd[0], buf, sizeof(buf));

			if (n > 0 && timed_out) {	/* a child that never stops talking */
				kill(pid, SIGKILL);
				break;
			}
			if (n > 0) {
				if (tfirst < 0)
					tfirst = now_ns();
				if (cfd >= 0 && write(cfd, buf, n) != n)
					perror("spawn_time: capture");
				continue;
			}
			if (n == 0)
				break;
			if (errno == EINTR && timed_out) {
				kill(pid, SIGKILL);
				break;
			}
			if (errno != EINTR) {
				perror("spawn_time: read");
				kill(pid, SIGKILL);
				break;
			}
		}
		close(pfd[0]);
	}

	for (;;) {
		pid_t r = wait4(pid, &status, min_bytes ? __WALL : 0, &ru);

		if (r < 0) {
			if (errno == EINTR) {
				if (timed_out)
					kill(pid, SIGKILL);
				continue;
			}
			perror("spawn_time: wait4");
			return 3;
		}
		if (!WIFSTOPPED(status))
			break;
		/* Only in memory mode: the child's main thread is traced. */
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			if (big_munmap_entry(pid, min_bytes))
				read_mem(pid, min_bytes, &mem);
			ptrace(PTRACE_SYSCALL, pid, NULL, NULL);
		} else if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXIT) {
			read_mem(pid, min_bytes, &mem);
			ptrace(PTRACE_CONT, pid, NULL, NULL);
		} else if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0 && !traced++) {
			/* the stop after execve */
			ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT |
				PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD));
			ptrace(PTRACE_SYSCALL, pid, NULL, NULL);
		} else {
			ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)WSTOPSIG(status));
		}
	}
	t1 = now_ns();

	if (timed_out && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		printf("status=timeout");
	else if (WIFEXITED(status))
		printf("status=exit:%d", WEXITSTATUS(status));
	else
		printf("status=signal:%d", WTERMSIG(status));
	printf(" wall_ns=%lld first_ns=%lld maxrss_kb=%ld", (long long)(t1 - t0),
	       (long long)(tfirst < 0 ? -1 : tfirst - t0), ru.ru_maxrss);
	if (min_bytes)
		printf(" hwm_kb=%ld vmrss_kb=%ld guest_rss_kb=%ld guest_vmas=%ld", mem.hwm_kb,
		       mem.vmrss_kb, mem.guest_rss_kb, mem.guest_vmas);
	printf("\n");
	return 0;
}
