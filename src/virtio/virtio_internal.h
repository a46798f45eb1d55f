/* SPDX-License-Identifier: MIT */
/*
 * virtio_internal.h - what virtio_state.c needs from the device core
 * (virtio.c) and nothing else includes.
 *
 * A restore runs on the caller's thread (the API or snapshot code) while the
 * device's I/O thread is parked in a pause (or not started yet): between
 * virtio_restore_begin() and virtio_restore_end() the thread stays parked
 * even if the VM is resumed, so the restore owns the queues and the
 * device's private state as the I/O thread normally does.  The pause
 * handshake and these two calls go through vd->lock, which orders the
 * restore's writes before the thread's next reads.
 */
#ifndef KITE_VIRTIO_VIRTIO_INTERNAL_H
#define KITE_VIRTIO_VIRTIO_INTERNAL_H

#include <stdbool.h>

#include "core/error.h"
#include "virtio/virtio.h"

/* virtio_restore_begin()/end() are in virtio.h: device classes use them too. */
/* Under vd->lock: wait until no restore is in progress (readers). */
void virtio_wait_restore_locked(struct virtio_dev *vd);
/* Under vd->lock: the I/O thread is parked or not started, so its queues
 * can be read from this thread. */
bool virtio_io_quiet_locked(const struct virtio_dev *vd);
/* Between begin and end: a device reset as the I/O thread does it (device
 * reset hook, queues stopped, registers to reset values), if the device was
 * ever activated or failed; pending requests are dropped. */
void virtio_reset_parked(struct virtio_dev *vd);
/* Ask the I/O thread to look at every ready queue when it runs again. */
void virtio_request_poll(struct virtio_dev *vd);

#endif
