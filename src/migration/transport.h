/* SPDX-License-Identifier: MIT */
/*
 * transport.h - the connection a migration stream runs over: where to
 * listen or connect ("tcp:HOST:PORT", "unix:PATH"), and connected stream
 * sockets with timeouts.
 *
 * URIs:
 *   tcp:HOST:PORT   HOST is a name, an IPv4 address or an IPv6 address in
 *                   brackets ("tcp:[::1]:4444"); empty ("tcp::4444") means
 *                   every local address, for listening only.  PORT is
 *                   decimal, 1..65535 (0 when listening: any free port,
 *                   mig_listen_port() tells which).
 *   unix:PATH       a Unix socket file, at most MIG_PATH_MAX bytes.
 *
 * The connected sockets are blocking, close-on-exec, with TCP_NODELAY on
 * TCP: the stream is written in large buffers anyway, and the last small
 * one (the END record, the ACK) must not wait for a delayed ACK, which
 * would add up to 40 ms to the guest's downtime.  Socket buffer sizes are
 * left to the kernel's autotuning (setting them turns it off).
 *
 * Names are resolved with getaddrinfo(), which the timeouts do not bound.
 * Errors: -EINVAL (a malformed URI), -ENOENT (a name that does not
 * resolve), -ETIMEDOUT, -EEXIST / -EADDRINUSE (unix: the path is taken),
 * or the errno of the failed system call; each with a message naming the
 * URI.
 */
#ifndef KITE_MIGRATION_TRANSPORT_H
#define KITE_MIGRATION_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define MIG_HOST_MAX	255
#define MIG_PATH_MAX	107	/* sizeof(sun_path) - 1 */
#define MIG_URI_MAX	(5 + MIG_HOST_MAX + 2 + 1 + 5 + 1)	/* "tcp:[host]:65535" */

enum mig_transport {
	MIG_TRANSPORT_TCP = 1,
	MIG_TRANSPORT_UNIX,
};

struct mig_uri {
	enum mig_transport kind;
	char host[MIG_HOST_MAX + 1];	/* tcp: without brackets; "" = any */
	uint16_t port;			/* tcp */
	char path[MIG_PATH_MAX + 1];	/* unix */
};

/* Parse @uri; -EINVAL with a message saying what is wrong and what is expected. */
int mig_uri_parse(const char *uri, struct mig_uri *out) KITE_WUR;
/* @u back as text ("tcp:[::1]:4444"), for messages; at most MIG_URI_MAX bytes. */
void mig_uri_format(const struct mig_uri *u, char *buf, size_t len);

/**
 * mig_listen() - a listening socket for the destination
 * @lfd: set to it (blocking, close-on-exec)
 *
 * TCP: SO_REUSEADDR, so that a destination restarted at once gets its port
 * back; an empty host listens on IPv6 and IPv4 where it can.  Unix: a path
 * that exists and is not a socket is refused (-EEXIST), as is a socket some
 * process still listens on (-EADDRINUSE); a stale socket is replaced.
 */
int mig_listen(const struct mig_uri *u, int *lfd) KITE_WUR;
/* The TCP port @lfd listens on (after listening on port 0). */
int mig_listen_port(int lfd, uint16_t *port) KITE_WUR;
/* Close @lfd and, for a Unix URI, remove its socket file. */
void mig_listen_close(const struct mig_uri *u, int lfd);
/**
 * mig_accept() - wait for the source
 * @timeout_ms: -1 for no limit; -ETIMEDOUT after it
 * @fd: set to the connected socket
 */
int mig_accept(int lfd, int timeout_ms, int *fd) KITE_WUR;
/**
 * mig_connect() - connect to the destination
 * @timeout_ms: for the connection (each address in turn shares it); -1 for
 *              no limit
 * @fd: set to the connected socket, blocking again
 */
int mig_connect(const struct mig_uri *u, int timeout_ms, int *fd) KITE_WUR;
/**
 * mig_set_recv_timeout() - bound every wait for data on @fd (SO_RCVTIMEO),
 * so that a destination never waits forever on a stalled source: the
 * reader then fails with -ETIMEDOUT.  0 or less: no limit.
 */
int mig_set_recv_timeout(int fd, int timeout_ms) KITE_WUR;
/* The same for sends (SO_SNDTIMEO): a source stuck on a stalled destination. */
int mig_set_send_timeout(int fd, int timeout_ms) KITE_WUR;
/*
 * Before a read that is on the switch-over's critical path (READY, GO):
 * poll @fd without sleeping, yielding the CPU between polls, for at most
 * @spin_us or until it is readable.  Waking a thread blocked in a read costs
 * hundreds of microseconds on an idle virtual CPU (it has halted), far more
 * than the wait itself; the caller's blocking read then finds the data.
 */
void mig_spin_readable(int fd, unsigned int spin_us);

#endif
