/* SPDX-License-Identifier: MIT */
/*
 * slirp.h - the user-mode back end of virtio-net: libslirp's TCP/IP stack
 * (network 10.0.2.0/24, host/gateway 10.0.2.2, DNS 10.0.2.3, DHCP from
 * 10.0.2.15), host port forwards, no privileges needed.
 *
 * No event loop of its own: the owner (the virtio-net I/O thread) watches
 * two fds, net_slirp_fds(): an epoll fd over slirp's sockets (rebuilt after
 * every poll round from slirp_pollfds_fill) and a timerfd armed for slirp's
 * next deadline (its timers and its TCP timeout).  When either is readable
 * it calls net_slirp_process().  Every call runs on that one thread; frames
 * for the guest come back through the rx callback, from inside
 * net_slirp_input() or net_slirp_process().
 */
#ifndef KITE_NET_SLIRP_H
#define KITE_NET_SLIRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define NET_HOSTFWD_MAX		8
#define NET_HOSTFWD_LEN		64

/* "tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT" (or udp:), parsed. */
struct net_hostfwd {
	bool udp;
	uint32_t host_addr;	/* network order; 0: any */
	uint16_t host_port;
	uint32_t guest_addr;	/* network order; 0: 10.0.2.15 */
	uint16_t guest_port;
};

/* Parse one hostfwd rule; -EINVAL with a message quoting it. */
int net_hostfwd_parse(const char *s, struct net_hostfwd *out) KITE_WUR;

/* Deliver one Ethernet frame (no virtio header) to the guest. */
typedef void (*net_slirp_rx_fn)(void *opaque, const void *frame, size_t len);

struct net_slirp;

/*
 * A new stack with @nr rules from @hostfwd (strings as above; the listening
 * sockets are open when this returns).  @name prefixes messages.  The first
 * call loads libslirp (core/dynlib.h): -ENOENT or -ELIBBAD when it cannot.
 */
int net_slirp_new(const char *name, const char (*hostfwd)[NET_HOSTFWD_LEN], unsigned int nr,
		  net_slirp_rx_fn rx, void *opaque, struct net_slirp **out) KITE_WUR;
void net_slirp_free(struct net_slirp *s);
/* The two fds to watch for readability. */
void net_slirp_fds(const struct net_slirp *s, int *poll_fd, int *timer_fd);
/* A frame from the guest (Ethernet, no virtio header). */
void net_slirp_input(struct net_slirp *s, const void *frame, size_t len);
/* Poll slirp's sockets, run expired timers, rearm the fds. */
void net_slirp_process(struct net_slirp *s);

#endif
