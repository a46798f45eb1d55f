/* SPDX-License-Identifier: MIT */
/*
 * virtio_devs.h - kite's virtio devices: block, network, console, entropy.
 *
 * Each *_create() allocates a device, fills its struct virtio_dev (id,
 * class, config space, ops) and returns it; the VM builder then attaches it
 * to a transport (virtio/mmio.h or virtio/virtio_pci.h), registers it in the
 * device model and starts its I/O thread.  virtio_dev_destroy() stops the
 * thread and calls the device's destroy op, which frees what *_create made.
 */
#ifndef KITE_DEVICES_VIRTIO_DEVS_H
#define KITE_DEVICES_VIRTIO_DEVS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr_space.h"
#include "core/error.h"
#include "virtio/virtio.h"

/* virtio-rng: entropy from getrandom(), at most VRNG_MAX_PER_REQUEST per chain. */
#define VRNG_MAX_PER_REQUEST	(64 * 1024)
int virtio_rng_create(const char *id, const struct addr_space *as,
		      struct virtio_dev **out) KITE_WUR;
extern const struct dev_class virtio_rng_class;

/* virtio-console: one port on host fds (stdio) or a Unix socket. */
struct virtio_console_config_in {
	char id[DEV_ID_MAX];		/* "" : "console0" */
	const char *socket_path;	/* non-NULL: listen here instead of the fds */
	int in_fd, out_fd;		/* stdio mode; -1: none */
	bool in_tty;			/* in_fd is a raw terminal: Ctrl-A x quits */
	void (*quit)(void *opaque);	/* called (I/O thread) on Ctrl-A x */
	void *quit_opaque;
};
int virtio_console_create(const struct virtio_console_config_in *cfg,
			  const struct addr_space *as, struct virtio_dev **out) KITE_WUR;
extern const struct dev_class virtio_console_class;

/* virtio-blk: a raw image (regular file or block device) through io_uring. */
#define VBLK_QUEUES_MAX		16
#define VBLK_PATH_MAX		1024
struct virtio_blk_config_in {
	char path[VBLK_PATH_MAX];
	char id[DEV_ID_MAX];	/* device id and GET_ID serial (20 bytes seen) */
	bool ro;		/* read-only: VIRTIO_BLK_F_RO, writes refused */
	bool direct;		/* O_DIRECT */
	unsigned int queues;	/* 1..VBLK_QUEUES_MAX (0: 1) */
};
int virtio_blk_create(const struct virtio_blk_config_in *cfg, const struct addr_space *as,
		      struct virtio_dev **out) KITE_WUR;
extern const struct dev_class virtio_blk_class;

/*
 * virtio-net: a tap interface (IFF_VNET_HDR, offloads, multi-queue) or
 * libslirp user-mode networking (10.0.2.0/24, host port forwards).
 */
#define VNET_PAIRS_MAX		8	/* queue pairs (tap: one fd each) */
#define VNET_HOSTFWD_MAX	8
struct virtio_net_config_in {
	enum { NET_TAP, NET_USER } kind;
	char ifname[16];		/* tap: the interface (IFNAMSIZ) */
	uint8_t mac[6];
	bool has_mac;			/* else 52:54:00 + 3 random bytes */
	unsigned int queues;		/* queue pairs, 1..VNET_PAIRS_MAX; user: 1; 0 from the
					 * parser: one per vCPU (the VM decides), else 1 */
	char hostfwd[VNET_HOSTFWD_MAX][64];	/* user: "tcp:[ADDR]:PORT-[ADDR]:PORT" */
	unsigned int nr_hostfwd;
	char id[DEV_ID_MAX];		/* "" : "net0" */
};
/*
 * Parse "tap=NAME[,mac=52:54:00:12:34:56][,queues=N][,id=ID]" or
 * "user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...[,mac=..][,id=..]" into @out
 * (zeroed first).  -EINVAL with a message naming the bad part.
 */
int virtio_net_parse(const char *arg, struct virtio_net_config_in *out) KITE_WUR;
int virtio_net_create(const struct virtio_net_config_in *cfg, const struct addr_space *as,
		      struct virtio_dev **out) KITE_WUR;
extern const struct dev_class virtio_net_class;
/*
 * Give a (restored) virtio-net device a new MAC: config space, generation
 * + 1, a config interrupt, and VIRTIO_NET_S_ANNOUNCE when the driver
 * negotiated VIRTIO_NET_F_GUEST_ANNOUNCE (it then sends gratuitous ARPs and
 * acknowledges on the control queue).  A driver reads the MAC at probe: a
 * running Linux guest keeps its old address until told (ip link set
 * address).  Any thread; -EINVAL if @vd is not a virtio-net device.
 */
int virtio_net_set_mac(struct virtio_dev *vd, const uint8_t mac[6]) KITE_WUR;

#endif
