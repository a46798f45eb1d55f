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

#endif
