// SPDX-License-Identifier: MIT
/*
 * transport.c - migration URIs, listening, accepting and connecting with
 * timeouts.  See transport.h.
 */
#include "migration/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "migration/wire.h"

_Static_assert(MIG_PATH_MAX + 1 == sizeof(((struct sockaddr_un *)0)->sun_path),
	       "MIG_PATH_MAX is sun_path's capacity");

/* ------------------------------------------------------------------ URIs */

static int bad_uri(const char *uri, const char *why)
{
	return err_set(-EINVAL, "migration URI '%.300s': %s (expected tcp:HOST:PORT or unix:PATH)",
		       uri, why);
}

/* Decimal 0..65535, digits only. */
static int parse_port(const char *uri, const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return bad_uri(uri, "no port");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return bad_uri(uri, "the port is not a decimal number");
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return bad_uri(uri, "the port is over 65535");
	}
	*port = (uint16_t)v;
	return 0;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static int parse_tcp(const char *uri, const char *rest, struct mig_uri *out)
{
	const char *colon, *host = rest;
	size_t n;

	if (rest[0] == '[') {
		struct in6_addr a6;
		const char *end = strchr(rest, ']');

		if (!end)
			return bad_uri(uri, "no ']' after the IPv6 address");
		host = rest + 1;
		n = (size_t)(end - host);
		if (end[1] != ':')
			return bad_uri(uri, "no ':PORT' after the IPv6 address");
		colon = end + 1;
		if (!n || n > MIG_HOST_MAX)
			return bad_uri(uri, "bad IPv6 address");
		memcpy(out->host, host, n);
		out->host[n] = '\0';
		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			return bad_uri(uri, "bad IPv6 address");
	} else {
		colon = strrchr(rest, ':');
		if (!colon)
			return bad_uri(uri, "no ':PORT'");
		n = (size_t)(colon - host);
		if (memchr(host, ':', n))
			return bad_uri(uri, "an IPv6 address goes in brackets, as in tcp:[::1]:4444");
		if (n > MIG_HOST_MAX)
			return bad_uri(uri, "the host name is too long");
		for (size_t i = 0; i < n; i++)
			if (!host_char(host[i]))
				return bad_uri(uri, "the host has a character not allowed in a name or address");
		memcpy(out->host, host, n);
		out->host[n] = '\0';
	}
	out->kind = MIG_TRANSPORT_TCP;
	return parse_port(uri, colon + 1, &out->port);
}

int mig_uri_parse(const char *uri, struct mig_uri *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!uri)
		return err_set(-EINVAL, "no migration URI (expected tcp:HOST:PORT or unix:PATH)");
	if (!strncmp(uri, "tcp:", 4))
		return parse_tcp(uri, uri + 4, out);
	if (strncmp(uri, "unix:", 5))
		return bad_uri(uri, "unknown transport");
	n = strlen(uri + 5);
	if (!n)
		return bad_uri(uri, "no socket path");
	if (n > MIG_PATH_MAX)
		return err_set(-EINVAL, "migration URI '%.300s': the socket path is longer than %d bytes",
			       uri, MIG_PATH_MAX);
	out->kind = MIG_TRANSPORT_UNIX;
	memcpy(out->path, uri + 5, n + 1);
	return 0;
}

void mig_uri_format(const struct mig_uri *u, char *buf, size_t len)
{
	if (u->kind == MIG_TRANSPORT_UNIX)
		snprintf(buf, len, "unix:%s", u->path);
	else if (strchr(u->host, ':'))
		snprintf(buf, len, "tcp:[%s]:%u", u->host, u->port);
	else
		snprintf(buf, len, "tcp:%s:%u", u->host, u->port);
}

/* ------------------------------------------------------------- helpers */

static int uri_err(const struct mig_uri *u, int code, const char *what)
{
	char text[MIG_URI_MAX];

	mig_uri_format(u, text, sizeof(text));
	return err_set(code, "migration %s: %s: %s", text, what, strerror(-code));
}

static int resolve(const struct mig_uri *u, bool passive, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0),
	};
	char port[8], text[MIG_URI_MAX];
	int ret;

	snprintf(port, sizeof(port), "%u", u->port);
	ret = getaddrinfo(u->host[0] ? u->host : NULL, port, &hints, res);
	if (!ret)
		return 0;
	mig_uri_format(u, text, sizeof(text));
	return err_set(ret == EAI_SYSTEM ? -errno : -ENOENT, "migration %s: cannot resolve '%s': %s",
		       text, u->host, gai_strerror(ret));
}

static void tcp_nodelay(int fd)
{
	int one = 1;

	/* Best effort: only a TCP socket has it, and it is a latency nicety. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void unix_addr(const struct mig_uri *u, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, u->path, strlen(u->path) + 1);	/* fits: parse checked */
}

/* ---------------------------------------------------------------- listen */

static int tcp_listen_one(const struct addrinfo *ai, int *lfd)
{
	int one = 1, fd, ret;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 4)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*lfd = fd;
	return 0;
}

/*
 * In which pass an address is tried: a named host's addresses in their
 * order; for any address, IPv6 first (it takes IPv4 too unless the host
 * set bindv6only), then the rest.
 */
static int listen_pass(const struct mig_uri *u, const struct addrinfo *ai)
{
	return u->host[0] || ai->ai_family == AF_INET6 ? 0 : 1;
}

static int tcp_listen(const struct mig_uri *u, int *lfd)
{
	struct addrinfo *res, *ai;
	int ret;

	ret = resolve(u, true, &res);
	if (ret)
		return ret;
	ret = -EADDRNOTAVAIL;
	for (int pass = 0; pass < 2 && ret; pass++)
		for (ai = res; ai && ret; ai = ai->ai_next)
			if (listen_pass(u, ai) == pass)
				ret = tcp_listen_one(ai, lfd);
	freeaddrinfo(res);
	return ret ? uri_err(u, ret, "cannot listen") : 0;
}

/* Refuse a path that is taken; remove a stale socket file. */
static int clear_stale_socket(const struct mig_uri *u, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(u->path, &st))
		return errno == ENOENT ? 0 : uri_err(u, -errno, "cannot check the socket path");
	if (!S_ISSOCK(st.st_mode))
		return err_set(-EEXIST, "migration unix:%s: the path exists and is not a socket",
			       u->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return uri_err(u, -errno, "socket()");
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
	close(fd);
	if (!ret || ret == -EAGAIN)
		return err_set(-EADDRINUSE, "migration unix:%s: another process listens on it",
			       u->path);
	if (unlink(u->path) && errno != ENOENT)
		return uri_err(u, -errno, "cannot remove the stale socket");
	return 0;
}

static int unix_listen(const struct mig_uri *u, int *lfd)
{
	struct sockaddr_un sa;
	int fd, ret;

	unix_addr(u, &sa);
	ret = clear_stale_socket(u, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return uri_err(u, -errno, "socket()");
	/* Whoever connects writes the guest's memory: owner only, from bind on. */
	if (fchmod(fd, 0600) || bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 4)) {
		ret = -errno;
		close(fd);
		return uri_err(u, ret, "cannot listen");
	}
	*lfd = fd;
	return 0;
}

int mig_listen(const struct mig_uri *u, int *lfd)
{
	*lfd = -1;
	return u->kind == MIG_TRANSPORT_UNIX ? unix_listen(u, lfd) : tcp_listen(u, lfd);
}

int mig_listen_port(int lfd, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(lfd, (struct sockaddr *)&ss, &len))
		return err_set(-errno, "migration: getsockname(): %s", strerror(errno));
	if (ss.ss_family == AF_INET)
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return err_set(-EINVAL, "migration: the listening socket is not TCP");
	return 0;
}

void mig_listen_close(const struct mig_uri *u, int lfd)
{
	struct stat st;

	if (lfd < 0)
		return;
	close(lfd);
	if (u->kind == MIG_TRANSPORT_UNIX && !lstat(u->path, &st) && S_ISSOCK(st.st_mode))
		unlink(u->path);
}

/* --------------------------------------------------------- accept/connect */

/* Wait for @events on @fd until @deadline_ms (-1: none); 0 when ready. */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline_ms < 0 ? -1 : deadline_ms - mig_now_ms();
		if (deadline_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left < 0 || left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

void mig_spin_readable(int fd, unsigned int spin_us)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = mig_now_us() + spin_us;

	/* Until readable, closed, or an error the read reports. */
	while (poll(&pfd, 1, 0) == 0 && mig_now_us() < end)
		sched_yield();
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : mig_now_ms() + timeout_ms;
}

int mig_accept(int lfd, int timeout_ms, int *fd)
{
	int64_t deadline = deadline_of(timeout_ms);
	int ret, c;

	*fd = -1;
	for (;;) {
		ret = wait_fd(lfd, POLLIN, deadline);
		if (ret == -ETIMEDOUT)
			return err_set(ret, "migration: no source connected within %d ms", timeout_ms);
		if (ret)
			return err_set(ret, "migration: waiting for the source: %s", strerror(-ret));
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			break;
		if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN)
			return err_set(-errno, "migration: accept(): %s", strerror(errno));
	}
	tcp_nodelay(c);
	*fd = c;
	return 0;
}

/* The pending connect() of @fd: wait, then its outcome. */
static int connect_wait(int fd, int64_t deadline)
{
	socklen_t len = sizeof(int);
	int err = 0, ret;

	ret = wait_fd(fd, POLLOUT, deadline);
	if (ret)
		return ret;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

/* Connect a fresh socket to @sa before @deadline: the fd, or -errno. */
static int connect_one(int family, const struct sockaddr *sa, socklen_t salen,
		       int64_t deadline)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	while (connect(fd, sa, salen)) {
		if (errno == EINPROGRESS || errno == EINTR) {
			ret = connect_wait(fd, deadline);
			break;
		}
		/* A Unix listener with a full backlog: try again shortly. */
		if (errno != EAGAIN || family != AF_UNIX) {
			ret = -errno;
			break;
		}
		if (deadline >= 0 && mig_now_ms() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
	if (!ret && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int mig_connect(const struct mig_uri *u, int timeout_ms, int *fd)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct addrinfo *res, *ai;
	struct sockaddr_un sa;
	int ret;

	*fd = -1;
	if (u->kind == MIG_TRANSPORT_UNIX) {
		unix_addr(u, &sa);
		ret = connect_one(AF_UNIX, (const struct sockaddr *)&sa, sizeof(sa), deadline);
	} else {
		if (!u->host[0] || !u->port)
			return uri_err(u, -EINVAL, "connecting needs a host and a port");
		ret = resolve(u, false, &res);
		if (ret)
			return ret;
		ret = -EADDRNOTAVAIL;
		for (ai = res; ai && ret < 0; ai = ai->ai_next)
			ret = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
		freeaddrinfo(res);
	}
	if (ret == -ETIMEDOUT)
		return uri_err(u, ret, timeout_ms >= 0 ? "cannot connect in time" : "cannot connect");
	if (ret < 0)
		return uri_err(u, ret, "cannot connect");
	tcp_nodelay(ret);
	*fd = ret;
	return 0;
}

static int set_timeout(int fd, int opt, int timeout_ms)
{
	struct timeval tv = { 0 };

	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)))
		return err_set(-errno, "migration: setting a %s timeout: %s",
			       opt == SO_RCVTIMEO ? "receive" : "send", strerror(errno));
	return 0;
}

int mig_set_recv_timeout(int fd, int timeout_ms)
{
	return set_timeout(fd, SO_RCVTIMEO, timeout_ms);
}

int mig_set_send_timeout(int fd, int timeout_ms)
{
	return set_timeout(fd, SO_SNDTIMEO, timeout_ms);
}
