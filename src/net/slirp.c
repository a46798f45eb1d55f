// SPDX-License-Identifier: MIT
/*
 * slirp.c - libslirp on the virtio-net I/O thread.  See slirp.h.
 *
 * slirp wants a poll loop: before each wait it lists its sockets
 * (slirp_pollfds_fill) and after it reads their revents
 * (slirp_pollfds_poll).  Here the "wait" is the device thread's epoll: the
 * sockets of the last fill are put into a private epoll fd, which the
 * device watches like any fd, and a timerfd carries slirp's deadline.  A
 * round (net_slirp_process) polls the listed fds with a zero timeout, hands
 * the revents to slirp, runs expired timers and refills.
 *
 * libslirp is not linked: net_slirp_new() loads it (core/dynlib.h), so that
 * only a VM with --net user maps it and glib.  Its functions are called
 * through the table slirp (slirp_input() is slirp.input()); libslirp.h
 * still gives the types and constants.  kite calls no glib function itself.
 */
#include "net/slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/dynlib.h"
#include "core/log.h"

#if !defined(KITE_SLIRP_SONAME) || !defined(KITE_SLIRP_PACKAGE)
#error "meson.build defines KITE_SLIRP_SONAME and KITE_SLIRP_PACKAGE (scripts/soname.sh)"
#endif

#define SLIRP_NET		"10.0.2.0"
#define SLIRP_MASK		"255.255.255.0"
#define SLIRP_HOST		"10.0.2.2"
#define SLIRP_DNS		"10.0.2.3"
#define SLIRP_DHCP_START	"10.0.2.15"
#define SLIRP_PFD_MAX		4096	/* sockets polled per round, at most */

/* The libslirp functions kite calls, each as slirp_<name>. */
#define NET_SLIRP_FUNCS(X)						\
	X(new) X(cleanup) X(add_hostfwd) X(input)			\
	X(pollfds_fill) X(pollfds_poll)
#define NET_SLIRP_MEMBER(f)	__typeof__(slirp_##f) *f;
#define NET_SLIRP_SYM(f)	DYNLIB_SYM(struct net_slirp_fns, f, "slirp_" #f),

/* Written once by dynlib_load(), before the first stack is created. */
static struct net_slirp_fns {
	NET_SLIRP_FUNCS(NET_SLIRP_MEMBER)
} slirp;

static const struct dynlib_sym net_slirp_syms[] = {
	NET_SLIRP_FUNCS(NET_SLIRP_SYM)
};

static struct dynlib net_slirp_lib = {
	.soname = KITE_SLIRP_SONAME,
	.needed_for = "--net user",
	.package = KITE_SLIRP_PACKAGE,
	.syms = net_slirp_syms,
	.nr_syms = sizeof(net_slirp_syms) / sizeof(net_slirp_syms[0]),
	.table = &slirp,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;	/* -1: not armed */
};

struct net_slirp {
	char name[32];
	Slirp *slirp;
	net_slirp_rx_fn rx;
	void *opaque;
	int epoll_fd, timer_fd;
	struct pollfd *pfd;	/* the last fill; also what epoll_fd holds */
	unsigned int nr_pfd, cap_pfd;
	struct slirp_timer *timers;
};

/* ---- hostfwd rules ---- */

static int hostfwd_addr_port(const char *rule, char *s, uint32_t *addr, uint16_t *port)
{
	char *colon = strrchr(s, ':'), *end;
	struct in_addr a = { 0 };
	unsigned long v;

	if (!colon)
		return err_set(-EINVAL, "hostfwd=%s: '%s' is not [ADDR]:PORT", rule, s);
	*colon = '\0';
	if (*s && inet_pton(AF_INET, s, &a) != 1)
		return err_set(-EINVAL, "hostfwd=%s: '%s' is not an IPv4 address", rule, s);
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno || !colon[1] || *end || !v || v > 65535)
		return err_set(-EINVAL, "hostfwd=%s: port '%s' is not 1..65535", rule, colon + 1);
	*addr = a.s_addr;
	*port = (uint16_t)v;
	return 0;
}

int net_hostfwd_parse(const char *s, struct net_hostfwd *out)
{
	char buf[NET_HOSTFWD_LEN], *p = buf, *dash;
	int ret;

	if (strlen(s) >= sizeof(buf))
		return err_set(-EINVAL, "hostfwd=%s: longer than %zu characters", s,
			       sizeof(buf) - 1);
	memset(out, 0, sizeof(*out));
	snprintf(buf, sizeof(buf), "%s", s);
	if (!strncmp(p, "tcp:", 4)) {
		p += 4;
	} else if (!strncmp(p, "udp:", 4)) {
		out->udp = true;
		p += 4;
	} else if (*p == ':') {
		p++;	/* tcp */
	} else {
		return err_set(-EINVAL, "hostfwd=%s: use tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (or udp:)",
			       s);
	}
	dash = strchr(p, '-');
	if (!dash)
		return err_set(-EINVAL, "hostfwd=%s: missing '-' between host and guest parts", s);
	*dash = '\0';
	ret = hostfwd_addr_port(s, p, &out->host_addr, &out->host_port);
	if (!ret)
		ret = hostfwd_addr_port(s, dash + 1, &out->guest_addr, &out->guest_port);
	return ret;
}

/* ---- callbacks from slirp ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;

	s->rx(s->opaque, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;

	log_debug("%s: slirp: guest error: %s", s->name, msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer **pp;

	for (pp = &s->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = ((struct slirp_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	if (timer)
		((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

static void cb_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;	/* sockets are listed by every fill: nothing to keep */
}

static void cb_notify(void *opaque)
{
	(void)opaque;	/* the next round refills anyway */
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_poll_fd,
	.unregister_poll_fd = cb_poll_fd,
	.notify = cb_notify,
};

/* ---- the poll round ---- */

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	short ev = 0;

	if (s->nr_pfd == s->cap_pfd) {
		unsigned int cap = s->cap_pfd ? 2 * s->cap_pfd : 16;
		struct pollfd *p;

		if (cap > SLIRP_PFD_MAX || !(p = realloc(s->pfd, cap * sizeof(*p)))) {
			log_warn("%s: slirp: too many sockets, fd %d not polled", s->name, fd);
			return -1;
		}
		s->pfd = p;
		s->cap_pfd = cap;
	}
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	s->pfd[s->nr_pfd] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)s->nr_pfd++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	short re;
	int ev = 0;

	if (idx < 0 || (unsigned int)idx >= s->nr_pfd)
		return 0;
	re = s->pfd[idx].revents;
	if (re & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (re & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (re & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (re & (POLLERR | POLLNVAL))
		ev |= SLIRP_POLL_ERR;
	if (re & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/*
 * Put the fds of a new fill into the epoll set.  Everything of the last
 * fill is removed first: fd numbers slirp closed may have been reused, and
 * a failed removal (closed, or never added) is harmless.
 */
static void slirp_epoll_rebuild(struct net_slirp *s, unsigned int old_n, const int *old_fds)
{
	unsigned int i;

	for (i = 0; i < old_n; i++)
		epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, old_fds[i], NULL);
	for (i = 0; i < s->nr_pfd; i++) {
		struct epoll_event ev = { .data.fd = s->pfd[i].fd };

		if (s->pfd[i].events & POLLIN)
			ev.events |= EPOLLIN;
		if (s->pfd[i].events & POLLOUT)
			ev.events |= EPOLLOUT;
		if (s->pfd[i].events & POLLPRI)
			ev.events |= EPOLLPRI;
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->pfd[i].fd, &ev) && errno != EEXIST)
			log_debug("%s: slirp: epoll add %d: %s", s->name, s->pfd[i].fd,
				  strerror(errno));
	}
}

/* Arm the timerfd for the earliest of slirp's timeout and its timers. */
static void slirp_arm(struct net_slirp *s, uint32_t timeout_ms)
{
	int64_t now = now_ns(), when = INT64_MAX;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	struct slirp_timer *t;

	if (timeout_ms != UINT32_MAX)
		when = now + (int64_t)timeout_ms * 1000000LL;
	for (t = s->timers; t; t = t->next)
		if (t->expire_ms >= 0 && t->expire_ms * 1000000LL < when)
			when = t->expire_ms * 1000000LL;
	if (when == INT64_MAX)
		return;		/* nothing to wait for: leave it disarmed */
	if (when <= 0)
		when = 1;	/* 0 would disarm: fire at once */
	its.it_value.tv_sec = when / 1000000000LL;
	its.it_value.tv_nsec = when % 1000000000LL;
	if (timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL))
		log_warn("%s: timerfd_settime: %s", s->name, strerror(errno));
}

static void slirp_refill(struct net_slirp *s)
{
	int old[SLIRP_PFD_MAX];
	unsigned int i, old_n = s->nr_pfd;
	uint32_t timeout = UINT32_MAX;

	for (i = 0; i < old_n; i++)
		old[i] = s->pfd[i].fd;
	s->nr_pfd = 0;
	slirp.pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
	slirp_epoll_rebuild(s, old_n, old);
	slirp_arm(s, timeout);
}

static void slirp_run_timers(struct net_slirp *s)
{
	int64_t now_ms = now_ns() / 1000000LL;
	struct slirp_timer *t;
	bool again = true;

	/* A callback may free or re-arm timers: restart the walk after each. */
	while (again) {
		again = false;
		for (t = s->timers; t; t = t->next) {
			if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
				t->expire_ms = -1;
				t->cb(t->cb_opaque);
				again = true;
				break;
			}
		}
	}
}

void net_slirp_process(struct net_slirp *s)
{
	uint64_t ticks;
	int n;

	if (read(s->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_debug("%s: timerfd: %s", s->name, strerror(errno));
	n = poll(s->pfd, s->nr_pfd, 0);
	if (n < 0 && errno == EINTR)
		n = 0;
	slirp.pollfds_poll(s->slirp, n < 0, cb_get_revents, s);
	slirp_run_timers(s);
	slirp_refill(s);
}

void net_slirp_input(struct net_slirp *s, const void *frame, size_t len)
{
	if (len > INT32_MAX)
		return;
	slirp.input(s->slirp, frame, (int)len);
	/* New sockets or timers may exist now. */
	slirp_refill(s);
}

void net_slirp_fds(const struct net_slirp *s, int *poll_fd, int *timer_fd)
{
	*poll_fd = s->epoll_fd;
	*timer_fd = s->timer_fd;
}

/* ---- creation ---- */

static int slirp_add_rules(struct net_slirp *s, const char (*hostfwd)[NET_HOSTFWD_LEN],
			   unsigned int nr)
{
	struct in_addr host, guest;
	struct net_hostfwd f;
	unsigned int i;
	int ret;

	for (i = 0; i < nr; i++) {
		ret = net_hostfwd_parse(hostfwd[i], &f);
		if (ret)
			return ret;
		host.s_addr = f.host_addr;
		guest.s_addr = f.guest_addr;
		if (!guest.s_addr)
			inet_pton(AF_INET, SLIRP_DHCP_START, &guest);
		if (slirp.add_hostfwd(s->slirp, f.udp, host, f.host_port, guest, f.guest_port) < 0)
			return err_set(-EADDRINUSE, "%s: hostfwd=%s: cannot listen on host port %u",
				       s->name, hostfwd[i], f.host_port);
	}
	return 0;
}

static void slirp_fill_config(SlirpConfig *c)
{
	memset(c, 0, sizeof(*c));
	c->version = 4;
	c->in_enabled = true;
	inet_pton(AF_INET, SLIRP_NET, &c->vnetwork);
	inet_pton(AF_INET, SLIRP_MASK, &c->vnetmask);
	inet_pton(AF_INET, SLIRP_HOST, &c->vhost);
	inet_pton(AF_INET, SLIRP_DHCP_START, &c->vdhcp_start);
	inet_pton(AF_INET, SLIRP_DNS, &c->vnameserver);
	c->vhostname = "kite";
}

int net_slirp_new(const char *name, const char (*hostfwd)[NET_HOSTFWD_LEN], unsigned int nr,
		  net_slirp_rx_fn rx, void *opaque, struct net_slirp **out)
{
	struct net_slirp *s;
	SlirpConfig cfg;
	int ret;

	ret = dynlib_load(&net_slirp_lib);
	if (ret)
		return err_prefix(ret, "%s", name);
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(-ENOMEM, "%s: out of memory", name);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->rx = rx;
	s->opaque = opaque;
	s->timer_fd = -1;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0) {
		ret = err_set(-errno, "%s: epoll_create1: %s", name, strerror(errno));
		goto fail;
	}
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timer_fd < 0) {
		ret = err_set(-errno, "%s: timerfd_create: %s", name, strerror(errno));
		goto fail;
	}
	slirp_fill_config(&cfg);
	s->slirp = slirp.new(&cfg, &slirp_cbs, s);
	if (!s->slirp) {
		ret = err_set(-ENOMEM, "%s: slirp_new failed", name);
		goto fail;
	}
	ret = nr > NET_HOSTFWD_MAX ? err_set(-EINVAL, "%s: %u hostfwd rules (at most %d)",
					     name, nr, NET_HOSTFWD_MAX)
				   : slirp_add_rules(s, hostfwd, nr);
	if (ret)
		goto fail;
	slirp_refill(s);
	*out = s;
	return 0;
fail:
	net_slirp_free(s);
	return ret;
}

void net_slirp_free(struct net_slirp *s)
{
	struct slirp_timer *t;

	if (!s)
		return;
	if (s->slirp)
		slirp.cleanup(s->slirp);
	while ((t = s->timers)) {
		s->timers = t->next;
		free(t);
	}
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	free(s->pfd);
	free(s);
}
