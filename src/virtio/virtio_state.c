// SPDX-License-Identifier: MIT
/*
 * virtio_state.c - a virtio device's state as two DEV_ATTR_BYTES attributes
 * (virtio.h: VIRTIO_COMMON_ATTRS), and how writing them restores a device.
 *
 * virtio_state, layout version 1 (little-endian, offsets in bytes):
 *    0  u8   layout version (1)
 *    1  u8   flags: bit 0 QUIESCED: read while the device's I/O thread was
 *            parked (VM paused) or not started, so ring positions are exact;
 *            bit 1 ACTIVE: the device was running its queues (activated at
 *            DRIVER_OK, not failed since)
 *    2  u8   device status
 *    3  u8   ISR (bit 0 queue, bit 1 config)
 *    4  u64  driver features
 *   12  u32  device_feature_select
 *   16  u32  driver_feature_select
 *   20  u32  config_generation
 *   24  u16  msix_config (0xffff: no vector)
 *   26  u16  queue_select
 *   28  u16  N: number of queues (must be the device's)
 *   30  u16  C: config space length (must be the device's)
 *   32  u8   M: length of the NEEDS_RESET message (< 160)
 *   33  C bytes of device config space, then M bytes of message (no NUL),
 *       then N queue records of 40 bytes:
 *         +0 u16 size   +2 u16 MSI-X vector   +4 u8 flags (bit 0 enabled)
 *         +5 u8 wrap counters, packed rings (bit 0 avail, bit 1 used)
 *         +6 u16 chains in flight (popped, not yet used)
 *         +8 u64 descriptor area   +16 u64 driver area   +24 u64 device area
 *        +32 u16 last_avail  +34 u16 used_idx  (split)
 *        +36 u16 next_avail  +38 u16 next_used (packed)
 *       Positions, wrap counters and the in-flight count are those of a
 *       started queue of an ACTIVE device; they are 0 otherwise.
 *
 * Writing virtio_state (VM paused) resets the device if it was ever used,
 * sets every register, and, when the value is ACTIVE or its status says the
 * driver completed initialisation (DRIVER_OK and FEATURES_OK, neither FAILED
 * nor NEEDS_RESET: an activation the I/O thread had not run yet), starts
 * every enabled queue from the restored addresses (vq_start: the checks the
 * driver's DRIVER_OK gets), restores its positions (vq_set_state), runs the
 * device's activate hook on the calling thread and has the I/O thread poll
 * every queue when it runs again.  A NEEDS_RESET value restores a device
 * that needs a reset, with its message.  The transport is told last
 * (tops->restored) to re-drive a pending interrupt.  Every field is decoded
 * and checked, and the queues started on the side, before anything changes.
 *
 * transport_state, layout version 1: u8 version, u8 transport id (enum
 * virtio_transport_id), then the transport's own fields (mmio.c: none;
 * pci.c: config space, MSI-X).
 *
 * In-flight requests.  A paused device has none: pause parks the I/O thread
 * only after the device's quiesce hook completed its in-flight I/O (virtio-blk
 * waits for io_uring), and the other devices complete each chain before they
 * return to the epoll loop (or put it back with vq_unpop).  So every chain
 * popped has been pushed, positions are consistent (split: last_avail ==
 * used_idx; packed: next_avail == next_used, same wrap), and nothing needs
 * replaying: chains the driver made available but the device had not popped
 * are still in the ring, and the restored device polls every queue when it
 * runs again.  A value with chains in flight is refused.
 *
 * Not state: host back ends (files, taps, sockets), the kick and interrupt
 * eventfds (the transport binds them), counters, and the interrupt
 * suppression bookkeeping (the restored queue's first interrupt is never
 * suppressed: at worst one spurious interrupt).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dev_state.h"
#include "core/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_internal.h"

#define VS_VERSION		1
#define VS_F_QUIESCED		0x01
#define VS_F_ACTIVE		0x02
#define VS_HEADER_LEN		33
#define VS_QUEUE_LEN		40
#define VS_Q_ENABLED		0x01
#define VS_WRAP_AVAIL		0x01
#define VS_WRAP_USED		0x02
#define TS_VERSION		1

#define VD(dev) virtio_from_dev(dev)

struct vs_queue {
	uint16_t size, vector, in_flight;
	uint8_t flags, wrap;
	uint64_t desc, driver, device;
	struct vq_state pos;
};

/* A decoded virtio_state, and the queues started from it (before commit). */
struct vs_image {
	uint8_t flags, status, isr, msg_len;
	uint64_t features;
	uint32_t dfsel, gfsel, generation;
	uint16_t msix_config, queue_sel, nr_queues, config_len;
	uint8_t config[VIRTIO_CONFIG_MAX];
	char msg[VIRTIO_FAIL_MSG_MAX];
	struct vs_queue q[VIRTIO_MAX_QUEUES];
	bool running;			/* the restored device runs its queues */
	struct virtqueue vq[VIRTIO_MAX_QUEUES];	/* started (running, enabled) */
};

/* Would the device's I/O thread run queues with this status? (as virtio.c) */
static bool vs_status_running(uint8_t status)
{
	return (status & VIRTIO_STATUS_DRIVER_OK) && (status & VIRTIO_STATUS_FEATURES_OK) &&
	       !(status & (VIRTIO_STATUS_FAILED | VIRTIO_STATUS_NEEDS_RESET));
}

/* ---- reading ---- */

static void vs_put_queue(struct ds_writer *w, const struct virtio_queue *q, bool running)
{
	struct vq_state s = { 0 };
	uint64_t in_flight = 0;

	if (running && q->vq.ready) {
		vq_get_state(&q->vq, &s);
		in_flight = q->vq.popped - q->vq.pushed;
	}
	ds_put_u16(w, q->size);
	ds_put_u16(w, q->msix_vector);
	ds_put_u8(w, q->enabled ? VS_Q_ENABLED : 0);
	ds_put_u8(w, running && q->vq.ready ? (uint8_t)((s.avail_wrap ? VS_WRAP_AVAIL : 0) |
							 (s.used_wrap ? VS_WRAP_USED : 0)) : 0);
	ds_put_u16(w, in_flight > 0xffff ? 0xffff : (uint16_t)in_flight);
	ds_put_u64(w, q->desc);
	ds_put_u64(w, q->driver);
	ds_put_u64(w, q->device);
	ds_put_u16(w, s.last_avail);
	ds_put_u16(w, s.used_idx);
	ds_put_u16(w, s.next_avail);
	ds_put_u16(w, s.next_used);
}

/*
 * Everything under vd->lock, with no restore in progress.  Queue positions
 * belong to the I/O thread: they are read only while it is parked (it cannot
 * leave the park without this lock) or not started.
 */
void virtio_attr_virtio_state(struct device *dev, struct dev_value *out)
{
	struct virtio_dev *vd = VD(dev);
	size_t msg_len, max = VS_HEADER_LEN + VIRTIO_CONFIG_MAX + VIRTIO_FAIL_MSG_MAX +
			      (size_t)VS_QUEUE_LEN * VIRTIO_MAX_QUEUES;
	struct ds_writer w;
	bool quiet, running;
	unsigned int i;

	ds_writer_start(&w, out, max, VS_VERSION);
	virtio_lock(vd);
	virtio_wait_restore_locked(vd);
	quiet = virtio_io_quiet_locked(vd);
	running = quiet && vd->active && !vd->failed;
	msg_len = strnlen(vd->fail_msg, sizeof(vd->fail_msg) - 1);
	ds_put_u8(&w, (uint8_t)((quiet ? VS_F_QUIESCED : 0) | (running ? VS_F_ACTIVE : 0)));
	ds_put_u8(&w, vd->status);
	ds_put_u8(&w, vd->isr);
	ds_put_u64(&w, vd->guest_features);
	ds_put_u32(&w, vd->host_features_sel);
	ds_put_u32(&w, vd->guest_features_sel);
	ds_put_u32(&w, vd->config_generation);
	ds_put_u16(&w, vd->msix_config);
	ds_put_u16(&w, vd->queue_sel);
	ds_put_u16(&w, (uint16_t)vd->nr_queues);
	ds_put_u16(&w, (uint16_t)vd->config_len);
	ds_put_u8(&w, (uint8_t)msg_len);
	ds_put_bytes(&w, vd->config, vd->config_len);
	ds_put_bytes(&w, vd->fail_msg, msg_len);
	for (i = 0; i < vd->nr_queues; i++)
		vs_put_queue(&w, &vd->queues[i], running);
	virtio_unlock(vd);
	ds_writer_end(&w);
}

/* ---- decoding and checking (nothing changes yet) ---- */

static bool vs_vector_ok(const struct virtio_dev *vd, uint16_t v)
{
	return v == VIRTIO_MSI_NO_VECTOR || v < vd->nr_vectors;
}

static void vs_get_header(struct ds_reader *r, struct vs_image *im)
{
	im->flags = ds_get_u8(r);
	im->status = ds_get_u8(r);
	im->isr = ds_get_u8(r);
	im->features = ds_get_u64(r);
	im->dfsel = ds_get_u32(r);
	im->gfsel = ds_get_u32(r);
	im->generation = ds_get_u32(r);
	im->msix_config = ds_get_u16(r);
	im->queue_sel = ds_get_u16(r);
	im->nr_queues = ds_get_u16(r);
	im->config_len = ds_get_u16(r);
	im->msg_len = ds_get_u8(r);
}

/* Does the restored device run its queues?  Sets im->running. */
static void vs_check_activity(struct ds_reader *r, struct vs_image *im)
{
	bool active = im->flags & VS_F_ACTIVE;
	uint8_t need = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;

	if (active && (!(im->flags & VS_F_QUIESCED) || (im->status & need) != need ||
		       (im->status & VIRTIO_STATUS_NEEDS_RESET)))
		ds_fail(r, "an active device with status 0x%x%s", im->status,
			im->flags & VS_F_QUIESCED ? "" : " read while it ran");
	/* The driver's FAILED bit does not stop an activated device. */
	im->running = active || vs_status_running(im->status);
	if ((im->status & VIRTIO_STATUS_DRIVER_OK) && !(im->flags & VS_F_QUIESCED) &&
	    !(im->status & VIRTIO_STATUS_NEEDS_RESET))
		ds_fail(r, "read while the device was running: its ring positions are not "
			"known (pause the VM before reading it)");
}

static void vs_check_header(struct ds_reader *r, const struct virtio_dev *vd,
			    struct vs_image *im)
{
	if (im->flags & ~(VS_F_QUIESCED | VS_F_ACTIVE))
		ds_fail(r, "unknown flags 0x%x", im->flags);
	if (im->nr_queues != vd->nr_queues)
		ds_fail(r, "%u queues, this device has %u", im->nr_queues, vd->nr_queues);
	if (im->config_len != vd->config_len)
		ds_fail(r, "%u bytes of config space, this device has %u", im->config_len,
			vd->config_len);
	if (im->msg_len >= VIRTIO_FAIL_MSG_MAX)
		ds_fail(r, "a NEEDS_RESET message of %u bytes (at most %u)", im->msg_len,
			VIRTIO_FAIL_MSG_MAX - 1);
	if (im->msg_len && !(im->status & VIRTIO_STATUS_NEEDS_RESET))
		ds_fail(r, "a NEEDS_RESET message without the NEEDS_RESET status bit");
	if (im->isr & ~(VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG))
		ds_fail(r, "ISR 0x%x has unknown bits", im->isr);
	if ((im->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((im->features & ~vd->host_features) ||
	     !(im->features & (1ULL << VIRTIO_F_VERSION_1))))
		ds_fail(r, "FEATURES_OK with driver features 0x%" PRIx64 " (offered 0x%" PRIx64
			", VERSION_1 required)", im->features, vd->host_features);
	if (!vs_vector_ok(vd, im->msix_config))
		ds_fail(r, "config MSI-X vector %u (the device has %u)", im->msix_config,
			vd->nr_vectors);
	vs_check_activity(r, im);
}

static void vs_get_queue(struct ds_reader *r, struct vs_queue *q)
{
	q->size = ds_get_u16(r);
	q->vector = ds_get_u16(r);
	q->flags = ds_get_u8(r);
	q->wrap = ds_get_u8(r);
	q->in_flight = ds_get_u16(r);
	q->desc = ds_get_u64(r);
	q->driver = ds_get_u64(r);
	q->device = ds_get_u64(r);
	q->pos.last_avail = ds_get_u16(r);
	q->pos.used_idx = ds_get_u16(r);
	q->pos.next_avail = ds_get_u16(r);
	q->pos.next_used = ds_get_u16(r);
	q->pos.avail_wrap = q->wrap & VS_WRAP_AVAIL;
	q->pos.used_wrap = q->wrap & VS_WRAP_USED;
}

/* Chains popped and not used: a pause never leaves any (see the top). */
static bool vs_in_flight(const struct vs_queue *q, bool packed)
{
	if (q->in_flight)
		return true;
	if (packed)
		return q->pos.next_avail != q->pos.next_used ||
		       q->pos.avail_wrap != q->pos.used_wrap;
	return q->pos.last_avail != q->pos.used_idx;
}

/* Check queue @i; a running, enabled one is started into im->vq[i]. */
static void vs_check_queue(struct ds_reader *r, const struct virtio_dev *vd,
			   struct vs_image *im, unsigned int i)
{
	const struct vs_queue *q = &im->q[i];
	bool packed = im->features & (1ULL << VIRTIO_F_RING_PACKED);
	struct vq_config cfg = { .size = q->size, .desc_gpa = q->desc, .driver_gpa = q->driver,
				 .device_gpa = q->device, .features = im->features };
	bool has_pos;

	if (q->flags & ~VS_Q_ENABLED || q->wrap & ~(VS_WRAP_AVAIL | VS_WRAP_USED)) {
		ds_fail(r, "queue %u: unknown flags 0x%x/0x%x", i, q->flags, q->wrap);
		return;
	}
	if (!vs_vector_ok(vd, q->vector)) {
		ds_fail(r, "queue %u: MSI-X vector %u (the device has %u)", i, q->vector,
			vd->nr_vectors);
		return;
	}
	/* Only an ACTIVE device's enabled (so started) queues have positions;
	 * an activation still to run starts its queues afresh. */
	has_pos = (im->flags & VS_F_ACTIVE) && (q->flags & VS_Q_ENABLED);
	if (!has_pos && (q->wrap || q->in_flight || q->pos.last_avail || q->pos.used_idx ||
			 q->pos.next_avail || q->pos.next_used)) {
		ds_fail(r, "queue %u: ring positions for a queue that does not run", i);
		return;
	}
	if (!im->running || !(q->flags & VS_Q_ENABLED))
		return;
	if (has_pos && vs_in_flight(q, packed)) {
		ds_fail(r, "queue %u: chains in flight (the device was not quiesced when "
			"its state was read)", i);
		return;
	}
	if (!vd->as) {
		ds_fail(r, "queue %u: the device has no guest memory", i);
		return;
	}
	/* The checks the driver's DRIVER_OK gets: size, alignment, rings in RAM. */
	if (vq_start(&im->vq[i], vd->as, &cfg)) {
		ds_fail(r, "queue %u: %s", i, err_msg());
		return;
	}
	if (has_pos && vq_set_state(&im->vq[i], &q->pos))
		ds_fail(r, "queue %u: %s", i, err_msg());
}

/* Decode and check all of @in for @vd into @im: 0 or -EINVAL with a message. */
static int vs_decode(struct virtio_dev *vd, const struct dev_value *in, struct vs_image *im)
{
	struct ds_reader r;
	unsigned int i;
	uint8_t ver;

	ds_reader_start(&r, "virtio_state", in, VS_VERSION, &ver);
	vs_get_header(&r, im);
	vs_check_header(&r, vd, im);
	if (r.in.err)
		return ds_reader_end(&r);	/* counts are wrong: stop here */
	ds_get_bytes(&r, im->config, im->config_len);
	ds_get_bytes(&r, im->msg, im->msg_len);
	im->msg[im->msg_len] = '\0';
	if (strlen(im->msg) != im->msg_len)
		ds_fail(&r, "the NEEDS_RESET message contains a NUL byte");
	for (i = 0; i < im->nr_queues; i++)
		vs_get_queue(&r, &im->q[i]);
	for (i = 0; i < im->nr_queues && !r.in.err; i++)
		vs_check_queue(&r, vd, im, i);
	return ds_reader_end(&r);
}

/* ---- applying (the I/O thread parked) ---- */

static void vs_apply_registers(struct virtio_dev *vd, const struct vs_image *im)
{
	unsigned int i;

	virtio_lock(vd);
	vd->status = im->status;
	vd->isr = im->isr;
	vd->guest_features = im->features;
	vd->host_features_sel = im->dfsel;
	vd->guest_features_sel = im->gfsel;
	vd->config_generation = im->generation;
	vd->msix_config = im->msix_config;
	vd->queue_sel = im->queue_sel;
	memcpy(vd->config, im->config, im->config_len);
	memcpy(vd->fail_msg, im->msg, (size_t)im->msg_len + 1);
	for (i = 0; i < vd->nr_queues; i++) {
		struct virtio_queue *q = &vd->queues[i];

		q->size = im->q[i].size;
		q->enabled = im->q[i].flags & VS_Q_ENABLED;
		q->desc = im->q[i].desc;
		q->driver = im->q[i].driver;
		q->device = im->q[i].device;
		q->msix_vector = im->q[i].vector;
	}
	vd->failed = im->status & VIRTIO_STATUS_NEEDS_RESET;
	vd->io_busy = im->running || vd->failed;
	virtio_unlock(vd);
}

/* The device as if the driver had just set DRIVER_OK: queues, then the
 * device's activate hook (run here: the I/O thread is parked). */
static int vs_activate(struct virtio_dev *vd, struct vs_image *im)
{
	unsigned int i;

	for (i = 0; i < vd->nr_queues; i++)
		if (im->vq[i].ready)
			vd->queues[i].vq = im->vq[i];
	if (vd->ops->activate && vd->ops->activate(vd)) {
		char why[VIRTIO_FAIL_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err_msg());
		virtio_dev_fail(vd, "activation failed on restore: %s", why);
		return err_set(-EIO, "%s: restored, but activating the device failed: %s "
			       "(it now needs a reset)", vd->dev.id, why);
	}
	vd->active = true;
	virtio_request_poll(vd);	/* kicks served before the snapshot may be lost */
	return 0;
}

int virtio_attr_set_virtio_state(struct device *dev, const struct dev_value *in)
{
	struct virtio_dev *vd = VD(dev);
	struct vs_image *im = calloc(1, sizeof(*im));
	int ret;

	if (!im)
		return err_set(-ENOMEM, "out of memory");
	ret = vs_decode(vd, in, im);
	if (!ret)
		ret = virtio_restore_begin(vd);
	if (ret) {
		free(im);
		return ret;
	}
	virtio_reset_parked(vd);
	vs_apply_registers(vd, im);
	if (im->running)
		ret = vs_activate(vd, im);
	virtio_restore_end(vd);
	if (!ret && vd->tops && vd->tops->restored)
		vd->tops->restored(vd);
	free(im);
	return ret;
}

/* ---- transport_state ---- */

static const char *ts_name(unsigned int id)
{
	switch (id) {
	case VIRTIO_TID_NONE: return "no transport";
	case VIRTIO_TID_MMIO: return "virtio-mmio";
	case VIRTIO_TID_PCI: return "virtio-pci";
	default: return "an unknown transport";
	}
}

static uint8_t ts_id(const struct virtio_dev *vd)
{
	return vd->tops ? (uint8_t)vd->tops->id : VIRTIO_TID_NONE;
}

void virtio_attr_transport_state(struct device *dev, struct dev_value *out)
{
	struct virtio_dev *vd = VD(dev);
	struct ds_writer w;

	ds_writer_start(&w, out, VIRTIO_TRANSPORT_STATE_MAX, TS_VERSION);
	ds_put_u8(&w, ts_id(vd));
	if (vd->tops && vd->tops->state_save)
		vd->tops->state_save(vd, &w);
	ds_writer_end(&w);
}

int virtio_attr_set_transport_state(struct device *dev, const struct dev_value *in)
{
	struct virtio_dev *vd = VD(dev);
	struct ds_reader r;
	uint8_t ver, id;

	ds_reader_start(&r, "transport_state", in, TS_VERSION, &ver);
	id = ds_get_u8(&r);
	if (!r.in.err && id != ts_id(vd))
		ds_fail(&r, "written by %s (%u); this device is on %s", ts_name(id), id,
			ts_name(ts_id(vd)));
	if (r.in.err || !vd->tops || !vd->tops->state_load)
		return ds_reader_end(&r);
	return vd->tops->state_load(vd, &r);
}
