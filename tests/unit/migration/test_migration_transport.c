// SPDX-License-Identifier: MIT
/*
 * Unit tests of the migration transport (migration/transport.h): URIs,
 * listening, accepting and connecting over TCP on the loopback and over
 * Unix sockets, stale and foreign socket paths, timeouts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "migration/transport.h"

static void good_uris_parse_to_their_parts(void)
{
	struct mig_uri u;
	char text[MIG_URI_MAX];

	CHECK_EQ(mig_uri_parse("tcp:127.0.0.1:4444", &u), 0);
	CHECK_EQ(u.kind, MIG_TRANSPORT_TCP);
	CHECK(!strcmp(u.host, "127.0.0.1"));
	CHECK_EQ(u.port, 4444);
	CHECK_EQ(mig_uri_parse("tcp:dest-host.example_1:65535", &u), 0);
	CHECK(!strcmp(u.host, "dest-host.example_1"));
	CHECK_EQ(u.port, 65535);
	CHECK_EQ(mig_uri_parse("tcp:[::1]:1", &u), 0);
	CHECK(!strcmp(u.host, "::1"));
	CHECK_EQ(u.port, 1);
	mig_uri_format(&u, text, sizeof(text));
	CHECK(!strcmp(text, "tcp:[::1]:1"));
	CHECK_EQ(mig_uri_parse("tcp:[fe80::1:2]:80", &u), 0);
	CHECK(!strcmp(u.host, "fe80::1:2"));
	CHECK_EQ(mig_uri_parse("tcp::4444", &u), 0);	/* any address */
	CHECK(!strcmp(u.host, ""));
	CHECK_EQ(mig_uri_parse("tcp:localhost:0", &u), 0);
	CHECK_EQ(u.port, 0);
	CHECK_EQ(mig_uri_parse("unix:/run/kite/mig.sock", &u), 0);
	CHECK_EQ(u.kind, MIG_TRANSPORT_UNIX);
	CHECK(!strcmp(u.path, "/run/kite/mig.sock"));
	mig_uri_format(&u, text, sizeof(text));
	CHECK(!strcmp(text, "unix:/run/kite/mig.sock"));
	CHECK_EQ(mig_uri_parse("unix:relative:with:colons", &u), 0);
	CHECK(!strcmp(u.path, "relative:with:colons"));
}

static void bad_uris_are_refused_with_what_is_wrong(void)
{
	static const struct {
		const char *uri, *why;
	} bad[] = {
		{ "", "unknown transport" },
		{ "udp:1.2.3.4:5", "unknown transport" },
		{ "TCP:1.2.3.4:5", "unknown transport" },
		{ "/tmp/sock", "unknown transport" },
		{ "tcp:", "no ':PORT'" },
		{ "tcp:host", "no ':PORT'" },
		{ "tcp:host:", "no port" },
		{ "tcp:host:65536", "over 65535" },
		{ "tcp:host:99999999999999999999", "over 65535" },
		{ "tcp:host:-1", "not a decimal number" },
		{ "tcp:host:+1", "not a decimal number" },
		{ "tcp:host: 1", "not a decimal number" },
		{ "tcp:host:0x10", "not a decimal number" },
		{ "tcp:::1:4444", "an IPv6 address goes in brackets" },
		{ "tcp:[::1:4444", "no ']'" },
		{ "tcp:[::1]4444", "no ':PORT' after the IPv6 address" },
		{ "tcp:[]:4444", "bad IPv6 address" },
		{ "tcp:[not-v6]:4444", "bad IPv6 address" },
		{ "tcp:ho st:1", "not allowed" },
		{ "tcp:host/x:1", "not allowed" },
		{ "unix:", "no socket path" },
	};
	char long_path[200];
	struct mig_uri u;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear();
		if (mig_uri_parse(bad[i].uri, &u) != -EINVAL)
			printf("# '%s' accepted\n", bad[i].uri);
		CHECK_EQ(mig_uri_parse(bad[i].uri, &u), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), bad[i].why);
		CHECK_STR_CONTAINS(err_msg(), "expected tcp:HOST:PORT or unix:PATH");
	}
	CHECK_EQ(mig_uri_parse(NULL, &u), -EINVAL);
	memcpy(long_path, "unix:", 5);
	memset(long_path + 5, 'a', 108);
	long_path[5 + 108] = '\0';
	CHECK_EQ(mig_uri_parse(long_path, &u), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "longer than 107 bytes");
	long_path[5 + 107] = '\0';
	CHECK_EQ(mig_uri_parse(long_path, &u), 0);
}

/* Connect from a thread (the accept side runs on the test's thread). */
struct connector {
	struct mig_uri uri;
	int fd, ret;
};

static void *connect_thread(void *arg)
{
	struct connector *c = arg;

	c->ret = mig_connect(&c->uri, 2000, &c->fd);
	return NULL;
}

/* Listen on @uri, connect to it, and pass bytes both ways. */
static void listen_connect_accept(const char *uri, bool any_port)
{
	struct connector c = { .fd = -1 };
	struct mig_uri lu;
	pthread_t t;
	uint16_t port;
	char buf[8];
	int lfd, fd;

	CHECK_EQ(mig_uri_parse(uri, &lu), 0);
	CHECK_EQ(mig_listen(&lu, &lfd), 0);
	c.uri = lu;
	if (any_port) {
		CHECK_EQ(mig_listen_port(lfd, &port), 0);
		CHECK(port != 0);
		c.uri.port = port;
	}
	CHECK_EQ(pthread_create(&t, NULL, connect_thread, &c), 0);
	CHECK_EQ(mig_accept(lfd, 2000, &fd), 0);
	pthread_join(t, NULL);
	CHECK_EQ(c.ret, 0);
	CHECK(!(fcntl(c.fd, F_GETFL) & O_NONBLOCK));	/* blocking again */
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(write(c.fd, "ping", 4), 4);
	CHECK_EQ(read(fd, buf, 4), 4);
	CHECK(!memcmp(buf, "ping", 4));
	CHECK_EQ(write(fd, "pong", 4), 4);
	CHECK_EQ(read(c.fd, buf, 4), 4);
	CHECK(!memcmp(buf, "pong", 4));
	close(fd);
	close(c.fd);
	mig_listen_close(&lu, lfd);
}

static void tcp_on_the_loopback_connects_and_carries_bytes(void)
{
	listen_connect_accept("tcp:127.0.0.1:0", true);
}

static void tcp_on_ipv6_loopback_connects_when_the_host_has_it(void)
{
	struct mig_uri u;
	int lfd;

	CHECK_EQ(mig_uri_parse("tcp:[::1]:0", &u), 0);
	if (mig_listen(&u, &lfd))
		SKIP("no IPv6 loopback here");
	mig_listen_close(&u, lfd);
	listen_connect_accept("tcp:[::1]:0", true);
}

/* A fresh socket path under /tmp; removed by the caller. */
static void tmp_sock(char *uri, size_t len, const char *name)
{
	snprintf(uri, len, "unix:/tmp/kite-mig-test-%d-%s.sock", (int)getpid(), name);
	unlink(uri + 5);
}

static void unix_sockets_connect_and_the_file_is_owner_only(void)
{
	char uri[128];
	struct mig_uri u;
	struct stat st;
	int lfd;

	tmp_sock(uri, sizeof(uri), "a");
	listen_connect_accept(uri, false);
	CHECK(access(uri + 5, F_OK) != 0);	/* mig_listen_close removed it */
	CHECK_EQ(mig_uri_parse(uri, &u), 0);
	CHECK_EQ(mig_listen(&u, &lfd), 0);
	CHECK_EQ(stat(u.path, &st), 0);
	CHECK_EQ(st.st_mode & 0077, 0);
	mig_listen_close(&u, lfd);
}

static void a_stale_socket_is_replaced_and_a_live_one_refused(void)
{
	char uri[128];
	struct mig_uri u;
	int lfd, lfd2;

	tmp_sock(uri, sizeof(uri), "b");
	CHECK_EQ(mig_uri_parse(uri, &u), 0);
	CHECK_EQ(mig_listen(&u, &lfd), 0);
	/* Someone listens: refused, and the socket file is left alone. */
	CHECK_EQ(mig_listen(&u, &lfd2), -EADDRINUSE);
	CHECK_STR_CONTAINS(err_msg(), "another process listens on it");
	close(lfd);		/* a crashed destination: the file stays */
	CHECK_EQ(access(u.path, F_OK), 0);
	CHECK_EQ(mig_listen(&u, &lfd), 0);
	mig_listen_close(&u, lfd);
}

static void a_path_that_is_not_a_socket_is_refused(void)
{
	char uri[128];
	struct mig_uri u;
	int fd, lfd;

	tmp_sock(uri, sizeof(uri), "c");
	CHECK_EQ(mig_uri_parse(uri, &u), 0);
	fd = open(u.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(mig_listen(&u, &lfd), -EEXIST);
	CHECK_STR_CONTAINS(err_msg(), "exists and is not a socket");
	CHECK_EQ(access(u.path, F_OK), 0);	/* untouched */
	unlink(u.path);
}

static void accept_ends_at_its_timeout(void)
{
	struct mig_uri u;
	int lfd, fd;

	CHECK_EQ(mig_uri_parse("tcp:127.0.0.1:0", &u), 0);
	CHECK_EQ(mig_listen(&u, &lfd), 0);
	CHECK_EQ(mig_accept(lfd, 50, &fd), -ETIMEDOUT);
	CHECK_STR_CONTAINS(err_msg(), "no source connected within 50 ms");
	CHECK_EQ(fd, -1);
	mig_listen_close(&u, lfd);
}

static void connecting_to_nobody_names_the_uri_and_the_reason(void)
{
	char uri[128];
	struct mig_uri u;
	uint16_t port;
	int lfd, fd;

	/* A port that was just free: listen, note it, close. */
	CHECK_EQ(mig_uri_parse("tcp:127.0.0.1:0", &u), 0);
	CHECK_EQ(mig_listen(&u, &lfd), 0);
	CHECK_EQ(mig_listen_port(lfd, &port), 0);
	mig_listen_close(&u, lfd);
	u.port = port;
	CHECK_EQ(mig_connect(&u, 1000, &fd), -ECONNREFUSED);
	snprintf(uri, sizeof(uri), "migration tcp:127.0.0.1:%u: cannot connect", port);
	CHECK_STR_CONTAINS(err_msg(), uri);
	CHECK_EQ(fd, -1);

	tmp_sock(uri, sizeof(uri), "d");
	CHECK_EQ(mig_uri_parse(uri, &u), 0);
	CHECK(mig_connect(&u, 1000, &fd) == -ENOENT);
	CHECK_STR_CONTAINS(err_msg(), "cannot connect");

	CHECK_EQ(mig_uri_parse("tcp::4444", &u), 0);
	CHECK_EQ(mig_connect(&u, 1000, &fd), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "connecting needs a host and a port");
	CHECK_EQ(mig_uri_parse("tcp:no-such-host.invalid:4444", &u), 0);
	CHECK(mig_connect(&u, 1000, &fd) < 0);
	CHECK_STR_CONTAINS(err_msg(), "no-such-host.invalid");
}

static void receive_timeouts_apply_to_the_socket(void)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);
	int sv[2];
	char c;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(mig_set_recv_timeout(sv[0], 1500), 0);
	CHECK_EQ(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
	CHECK_EQ(tv.tv_sec, 1);
	CHECK_EQ(tv.tv_usec, 500000);
	CHECK_EQ(mig_set_recv_timeout(sv[0], 20), 0);
	CHECK_EQ(read(sv[0], &c, 1), -1);
	CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
	CHECK_EQ(mig_set_send_timeout(sv[0], 0), 0);	/* no limit */
	CHECK_EQ(getsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, &len), 0);
	CHECK_EQ(tv.tv_sec, 0);
	CHECK_EQ(tv.tv_usec, 0);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	RUN(good_uris_parse_to_their_parts);
	RUN(bad_uris_are_refused_with_what_is_wrong);
	RUN(tcp_on_the_loopback_connects_and_carries_bytes);
	RUN(tcp_on_ipv6_loopback_connects_when_the_host_has_it);
	RUN(unix_sockets_connect_and_the_file_is_owner_only);
	RUN(a_stale_socket_is_replaced_and_a_live_one_refused);
	RUN(a_path_that_is_not_a_socket_is_refused);
	RUN(accept_ends_at_its_timeout);
	RUN(connecting_to_nobody_names_the_uri_and_the_reason);
	RUN(receive_timeouts_apply_to_the_socket);
	return harness_done();
}
