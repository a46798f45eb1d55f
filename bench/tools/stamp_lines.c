/* SPDX-License-Identifier: MIT */
/*
 * stamp_lines - timestamp the lines of several streams on one clock (kite
 * benchmarks: the heartbeat of a migrating guest, whose serial output comes
 * from the source VMM first and from the destination VMM afterwards).
 *
 *   stamp_lines [-b] [-i USEC] OUT NAME=FIFO [NAME=FIFO...]
 *
 * Opens each FIFO read-write (so that it never reports end of file, whoever
 * opens and closes its write end, and opening never blocks), waits for data
 * on all of them with poll() and appends to OUT, for every line that ends
 * (a '\n' arrived):
 *     T_NS NAME TEXT
 * T_NS: CLOCK_MONOTONIC in nanoseconds when the read() that brought the '\n'
 * returned; TEXT: the line without '\r' and '\n' (a line longer than 4000
 * bytes is cut there).  Each line is written to OUT at once with one write(),
 * so OUT can be read while stamp_lines runs; OUT is created once every FIFO
 * is open.
 * -b: also one record per read() that brought bytes, before the lines it
 * ended:
 *     T_NS NAME+ N
 * (NAME followed by '+'; N: the number of bytes read), so that the arrival
 * of every burst of bytes is seen, not only of line ends: a guest that
 * writes a byte every few hundred microseconds between its lines (test=
 * snapwork tick_us=) then gives a heartbeat at the reader's resolution.
 * -i USEC: after each read, wait USEC microseconds before the next one, so
 * that a VMM writing its serial output one byte at a time does not wake the
 * reader (and take a CPU from the guest) for every byte; a line's time is
 * then late by at most USEC (and so is a -b record).  Default 0.
 * Runs until SIGTERM, SIGINT or SIGHUP; then reads what is still in the
 * FIFOs, writes each stream's unfinished line as "T_NS NAME~ TEXT" (NAME
 * followed by '~'; T_NS: the arrival of its last byte) and exits 0.
 * Exit status: 0 after a signal, 2 on usage errors, 3 on I/O errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_STREAMS	8
#define LINE_MAX_LEN	4000

struct stream {
	const char *name;
	int fd;
	char line[LINE_MAX_LEN + 1];
	size_t len;
	uint64_t last_ns;	/* arrival of the last byte of line[] */
};

static volatile sig_atomic_t stop;
static int out_fd = -1;
static int byte_records;	/* -b */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One record, with one write() (OUT is O_APPEND and read while we run). */
static void out_write(const char *buf, int n)
{
	size_t off = 0;

	while (off < (size_t)n) {
		ssize_t w = write(out_fd, buf + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("stamp_lines: write");
			exit(3);
		}
		off += (size_t)w;
	}
}

static void emit(const struct stream *s, uint64_t t, const char *suffix)
{
	char buf[LINE_MAX_LEN + 128];
	int n = snprintf(buf, sizeof(buf), "%llu %s%s %.*s\n", (unsigned long long)t, s->name,
			 suffix, (int)s->len, s->line);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	out_write(buf, n);
}

/* -b: "T_NS NAME+ N" for a read() of N bytes. */
static void emit_bytes(const struct stream *s, uint64_t t, ssize_t len)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%llu %s+ %zd\n", (unsigned long long)t, s->name, len);

	if (n > 0 && (size_t)n < sizeof(buf))
		out_write(buf, n);
}

/* Read what is there; false when nothing was. */
static int drain(struct stream *s)
{
	char buf[65536];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	uint64_t t = now_ns();
	ssize_t i;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		perror("stamp_lines: read");
		exit(3);
	}
	if (n > 0 && byte_records)
		emit_bytes(s, t, n);
	for (i = 0; i < n; i++) {
		char c = buf[i];

		if (c == '\n') {
			emit(s, t, "");
			s->len = 0;
		} else if (c != '\r' && s->len < LINE_MAX_LEN) {
			s->line[s->len++] = c;
		}
	}
	if (n > 0)
		s->last_ns = t;
	return n > 0;
}

int main(int argc, char **argv)
{
	struct stream st[MAX_STREAMS];
	struct pollfd pfd[MAX_STREAMS];
	struct sigaction sa;
	struct timespec coalesce = { 0, 0 };
	int i, n, opt;

	while ((opt = getopt(argc, argv, "bi:")) != -1) {
		long us;

		switch (opt) {
		case 'b':
			byte_records = 1;
			break;
		case 'i':
			us = atol(optarg);
			if (us < 0 || us > 100000) {
				fprintf(stderr, "stamp_lines: -i 0..100000\n");
				return 2;
			}
			coalesce.tv_sec = us / 1000000;
			coalesce.tv_nsec = us % 1000000 * 1000;
			break;
		default:
			return 2;
		}
	}
	argv += optind - 1;
	argc -= optind - 1;
	n = argc - 2;
	if (argc < 3 || n > MAX_STREAMS) {
		fprintf(stderr, "usage: stamp_lines [-b] [-i USEC] OUT NAME=FIFO [NAME=FIFO...] "
			"(at most %d)\n", MAX_STREAMS);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++) {
		char *eq = strchr(argv[i + 2], '=');

		if (!eq || eq == argv[i + 2] || !eq[1]) {
			fprintf(stderr, "stamp_lines: %s: want NAME=FIFO\n", argv[i + 2]);
			return 2;
		}
		*eq = '\0';
		memset(&st[i], 0, sizeof(st[i]));
		st[i].name = argv[i + 2];
		st[i].fd = open(eq + 1, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (st[i].fd < 0) {
			perror(eq + 1);
			return 3;
		}
		pfd[i].fd = st[i].fd;
		pfd[i].events = POLLIN;
	}
	/* OUT appears once every FIFO is open: a caller may wait for it. */
	out_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		perror(argv[1]);
		return 3;
	}
	while (!stop) {
		int r = poll(pfd, (nfds_t)n, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("stamp_lines: poll");
			return 3;
		}
		for (i = 0; i < n; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				drain(&st[i]);
		if (coalesce.tv_nsec || coalesce.tv_sec)
			nanosleep(&coalesce, NULL);
	}
	for (i = 0; i < n; i++) {
		while (drain(&st[i]))
			;
		if (st[i].len)
			emit(&st[i], st[i].last_ns, "~");
	}
	return 0;
}
