/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the tap back end of virtio-net: a Linux tap interface opened with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, so every frame read or written carries
 * a 12-byte struct virtio_net_hdr_v1 in front (TUNSETVNETHDRSZ 12,
 * little-endian: TUNSETVNETLE), the same header the guest uses.  With more
 * than one queue the interface is IFF_MULTI_QUEUE and each queue pair has
 * its own fd.  The fds are non-blocking and close-on-exec.
 */
#ifndef KITE_NET_TAP_H
#define KITE_NET_TAP_H

#include <stdbool.h>

#include "core/error.h"

#define TAP_QUEUES_MAX	8
#define TAP_VNET_HDR_LEN 12

/* Offloads (the kernel's TUN_F_* bits, linux/if_tun.h). */
#define TAP_OFF_CSUM	0x01
#define TAP_OFF_TSO4	0x02
#define TAP_OFF_TSO6	0x04
#define TAP_OFF_TSO_ECN	0x08
#define TAP_OFF_UFO	0x10

/*
 * Open (or create, with CAP_NET_ADMIN) tap @ifname with @queues fds
 * (1..TAP_QUEUES_MAX) into @fds.  -errno with a message naming the
 * interface; nothing stays open on failure.
 */
int tap_open(const char *ifname, unsigned int queues, int *fds) KITE_WUR;
/*
 * Which offloads the kernel lets this tap deliver to us (TUNSETOFFLOAD
 * probe: all of CSUM|TSO4|TSO6|UFO, then without UFO, then CSUM alone).
 * Leaves the offloads off.
 */
unsigned int tap_probe_offloads(int fd);
/* What the tap may hand us (TAP_OFF_*: what the guest accepts). */
int tap_set_offloads(int fd, unsigned int flags) KITE_WUR;
/* Multi-queue: let the kernel steer packets to this queue or not. */
int tap_queue_enable(int fd, bool on) KITE_WUR;

#endif
