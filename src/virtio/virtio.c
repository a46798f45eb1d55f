// SPDX-License-Identifier: MIT
/*
 * virtio.c - the virtio device core: negotiation, queue registers, config
 * space, the per-device I/O thread, NEEDS_RESET, pause.  See virtio.h.
 */
#include "virtio/virtio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "virtio/virtio_internal.h"

/* Requests posted to the I/O thread (vd->requests). */
#define VIRTIO_REQ_ACTIVATE	0x1u
#define VIRTIO_REQ_RESET	0x2u
#define VIRTIO_REQ_POLL		0x4u	/* look at every ready queue (after a restore) */

/* epoll tags: high 32 bits say what, low 32 bits which. */
#define EV_CTL		1ULL
#define EV_KICK		2ULL
#define EV_WATCH	3ULL
#define EV_TAG(kind, i)	(((kind) << 32) | (uint32_t)(i))

#define VIRTIO_CORE_FEATURES						\
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC) |	\
	 (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_F_RING_PACKED))

static void eventfd_signal(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("eventfd write: %s", strerror(errno));
}

static uint64_t eventfd_drain(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

void virtio_lock(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
}

void virtio_unlock(struct virtio_dev *vd)
{
	pthread_mutex_unlock(&vd->lock);
}

/* Queue registers back to their reset values (under lock). */
static void virtio_queue_regs_reset(struct virtio_queue *q)
{
	q->size = q->max_size;
	q->enabled = false;
	q->desc = q->driver = q->device = 0;
	q->msix_vector = VIRTIO_MSI_NO_VECTOR;
}

static int epoll_add(struct virtio_dev *vd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (epoll_ctl(vd->epoll_fd, EPOLL_CTL_ADD, fd, &ev))
		return err_set(-errno, "%s: epoll_ctl: %s", vd->dev.id, strerror(errno));
	return 0;
}

int virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops,
		    const struct addr_space *as, unsigned int nr_queues,
		    uint16_t queue_max, uint64_t features, uint32_t config_len)
{
	unsigned int i;
	int ret;

	vd->ops = ops;
	vd->epoll_fd = vd->ctl_fd = -1;
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vd->queues[i].kick_fd = -1;
	if (!nr_queues || nr_queues > VIRTIO_MAX_QUEUES)
		return err_set(-EINVAL, "%s: %u virtqueues (1..%u)", vd->dev.id, nr_queues,
			       VIRTIO_MAX_QUEUES);
	if (!queue_max || queue_max > VQ_MAX_SIZE || (queue_max & (queue_max - 1)))
		return err_set(-EINVAL, "%s: queue size %u (a power of two up to %u)",
			       vd->dev.id, queue_max, VQ_MAX_SIZE);
	if (config_len > VIRTIO_CONFIG_MAX)
		return err_set(-EINVAL, "%s: config space of %u bytes", vd->dev.id, config_len);
	pthread_mutex_init(&vd->lock, NULL);
	pthread_cond_init(&vd->cond, NULL);
	vd->as = as;
	vd->nr_queues = nr_queues;
	vd->host_features = features | VIRTIO_CORE_FEATURES;
	vd->config_len = config_len;
	vd->msix_config = VIRTIO_MSI_NO_VECTOR;
	vd->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (vd->epoll_fd < 0)
		return err_set(-errno, "%s: epoll_create1: %s", vd->dev.id, strerror(errno));
	vd->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->ctl_fd < 0)
		return err_set(-errno, "%s: eventfd: %s", vd->dev.id, strerror(errno));
	ret = epoll_add(vd, vd->ctl_fd, EV_TAG(EV_CTL, 0));
	for (i = 0; !ret && i < nr_queues; i++) {
		struct virtio_queue *q = &vd->queues[i];

		q->max_size = queue_max;
		virtio_queue_regs_reset(q);
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0)
			return err_set(-errno, "%s: eventfd: %s", vd->dev.id, strerror(errno));
		ret = epoll_add(vd, q->kick_fd, EV_TAG(EV_KICK, i));
	}
	return ret;
}

int virtio_dev_watch(struct virtio_dev *vd, int fd, virtio_watch_fn fn, void *opaque)
{
	int ret = 0;

	if (vd->nr_watch >= VIRTIO_MAX_WATCH)
		return err_set(-ENOSPC, "%s: too many watched fds", vd->dev.id);
	if (fd >= 0)
		ret = epoll_add(vd, fd, EV_TAG(EV_WATCH, vd->nr_watch));
	if (ret)
		return ret;
	vd->watch[vd->nr_watch++] = (struct virtio_watch){ fd, fn, opaque };
	return 0;
}

int virtio_dev_watch_enable(struct virtio_dev *vd, int fd, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0 };
	unsigned int i;

	for (i = 0; i < vd->nr_watch && vd->watch[i].fd != fd; i++)
		;
	if (i == vd->nr_watch)
		return err_set(-ENOENT, "%s: fd %d is not watched", vd->dev.id, fd);
	ev.data.u64 = EV_TAG(EV_WATCH, i);
	if (epoll_ctl(vd->epoll_fd, EPOLL_CTL_MOD, fd, &ev))
		return err_set(-errno, "%s: epoll_ctl: %s", vd->dev.id, strerror(errno));
	return 0;
}

int virtio_dev_watch_replace(struct virtio_dev *vd, unsigned int slot, int fd)
{
	struct virtio_watch *w;
	int ret = 0;

	if (slot >= vd->nr_watch)
		return err_set(-ENOENT, "%s: no watch slot %u", vd->dev.id, slot);
	w = &vd->watch[slot];
	if (w->fd >= 0)
		epoll_ctl(vd->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);	/* may be closed already */
	w->fd = fd;
	if (fd >= 0)
		ret = epoll_add(vd, fd, EV_TAG(EV_WATCH, slot));
	return ret;
}

/* ---- NEEDS_RESET ---- */

void virtio_dev_fail(struct virtio_dev *vd, const char *fmt, ...)
{
	char msg[VIRTIO_FAIL_MSG_MAX];
	va_list ap;

	if (vd->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s: %s; the device needs a reset", vd->dev.id, msg);
	virtio_lock(vd);
	snprintf(vd->fail_msg, sizeof(vd->fail_msg), "%s", msg);
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	vd->io_busy = true;		/* the I/O thread must clear "failed" */
	vd->failed = true;
	vd->fails++;
	virtio_unlock(vd);
	if (vd->tops && vd->tops->notify_config)
		vd->tops->notify_config(vd);
}

/* ---- queue helpers for devices ---- */

int virtio_pop(struct virtio_dev *vd, unsigned int q, struct vq_elem *e)
{
	struct virtqueue *vq = &vd->queues[q].vq;
	unsigned int i;
	int ret;

	if (vd->failed || !vd->active || !vq->ready)
		return 0;
	ret = vq_pop(vq, e);
	if (ret == -EPROTO) {
		virtio_dev_fail(vd, "queue %u: %s", q, vq->err);
		return 0;
	}
	if (ret <= 0)
		return 0;
	/* Every buffer wholly in guest RAM (not a hole, not MMIO): checked
	 * once here, so no device ever starts on a chain it cannot finish. */
	for (i = 0; i < (unsigned int)e->nr_out + e->nr_in; i++) {
		if (!as_range_mapped(vd->as, e->segs[i].gpa, e->segs[i].len)) {
			virtio_dev_fail(vd, "queue %u: buffer [0x%" PRIx64 ", +0x%x) is not in guest RAM",
					q, e->segs[i].gpa, e->segs[i].len);
			return 0;
		}
	}
	return 1;
}

void virtio_push(struct virtio_dev *vd, unsigned int q, const struct vq_elem *e,
		 uint32_t written)
{
	struct virtqueue *vq = &vd->queues[q].vq;

	if (vd->failed)
		return;
	if (vq_push(vq, e, written))
		virtio_dev_fail(vd, "queue %u: the used ring is no longer in RAM", q);
}

void virtio_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_queue *vq = &vd->queues[q];

	if (vd->failed || !vq->vq.ready || !vq_should_interrupt(&vq->vq))
		return;
	__atomic_add_fetch(&vq->interrupts, 1, __ATOMIC_RELAXED);
	vd->tops->notify_queue(vd, q);
}

void virtio_config_changed(struct virtio_dev *vd)
{
	virtio_lock(vd);
	vd->config_generation++;
	virtio_unlock(vd);
	if (vd->tops && vd->tops->notify_config)
		vd->tops->notify_config(vd);
}

void virtio_dev_rekick(struct virtio_dev *vd, unsigned int q)
{
	if (q < vd->nr_queues)
		eventfd_signal(vd->queues[q].kick_fd);
}

/* ---- the I/O thread ---- */

/* Start every enabled queue from the registers the driver wrote. */
static int virtio_activate_queues(struct virtio_dev *vd)
{
	struct vq_config cfg[VIRTIO_MAX_QUEUES];
	bool enabled[VIRTIO_MAX_QUEUES];
	unsigned int i;

	virtio_lock(vd);
	for (i = 0; i < vd->nr_queues; i++) {
		const struct virtio_queue *q = &vd->queues[i];

		enabled[i] = q->enabled;
		cfg[i] = (struct vq_config){ .size = q->size, .desc_gpa = q->desc,
					     .driver_gpa = q->driver, .device_gpa = q->device,
					     .features = vd->guest_features };
	}
	virtio_unlock(vd);
	for (i = 0; i < vd->nr_queues; i++) {
		if (!enabled[i])
			continue;
		if (vq_start(&vd->queues[i].vq, vd->as, &cfg[i])) {
			virtio_dev_fail(vd, "queue %u: %s", i, err_msg());
			return -EINVAL;
		}
	}
	return 0;
}

/* Call queue_kick on every ready queue: chains may be waiting that no
 * notification will announce (made available before DRIVER_OK, or before a
 * snapshot whose kicks were not served). */
static void virtio_poll_queues(struct virtio_dev *vd)
{
	unsigned int i;

	for (i = 0; i < vd->nr_queues && vd->active && !vd->failed; i++)
		if (vd->queues[i].vq.ready && vd->ops->queue_kick)
			vd->ops->queue_kick(vd, i);
}

static void virtio_do_activate(struct virtio_dev *vd)
{
	uint8_t status;

	virtio_lock(vd);
	status = vd->status;
	virtio_unlock(vd);
	if (vd->active || vd->failed || !(status & VIRTIO_STATUS_DRIVER_OK))
		return;
	if (virtio_activate_queues(vd))
		return;
	if (vd->ops->activate && vd->ops->activate(vd)) {
		virtio_dev_fail(vd, "activation failed: %s", err_msg());
		return;
	}
	vd->active = true;
	virtio_poll_queues(vd);
}

/* Registers back to their reset values (under lock). */
static void virtio_regs_reset(struct virtio_dev *vd)
{
	unsigned int i;

	vd->status = 0;
	vd->guest_features = 0;
	vd->host_features_sel = vd->guest_features_sel = 0;
	vd->isr = 0;
	vd->queue_sel = 0;
	vd->msix_config = VIRTIO_MSI_NO_VECTOR;
	vd->fail_msg[0] = '\0';
	for (i = 0; i < vd->nr_queues; i++)
		virtio_queue_regs_reset(&vd->queues[i]);
	vd->resets++;
}

static void virtio_do_reset(struct virtio_dev *vd)
{
	unsigned int i;

	if ((vd->active || vd->failed) && vd->ops->reset)
		vd->ops->reset(vd);
	for (i = 0; i < vd->nr_queues; i++)
		vq_reset(&vd->queues[i].vq);
	vd->active = false;
	vd->failed = false;
	virtio_lock(vd);
	virtio_regs_reset(vd);
	vd->io_busy = false;
	pthread_cond_broadcast(&vd->cond);
	virtio_unlock(vd);
}

/* Park while a pause is requested; true when the thread must exit. */
static bool virtio_park(struct virtio_dev *vd)
{
	bool stop;

	if (vd->ops->quiesce && vd->active)
		vd->ops->quiesce(vd);
	virtio_lock(vd);
	vd->paused = true;
	pthread_cond_broadcast(&vd->cond);
	while ((vd->pause_req || vd->restoring) && !vd->stop)
		pthread_cond_wait(&vd->cond, &vd->lock);
	vd->paused = false;
	stop = vd->stop;
	virtio_unlock(vd);
	if (!stop && vd->ops->resume && vd->active)
		vd->ops->resume(vd);
	return stop;
}

/* Handle the control eventfd; true when the thread must exit. */
static bool virtio_handle_ctl(struct virtio_dev *vd, bool drain)
{
	unsigned int req;
	bool stop, pause;

	if (drain)
		eventfd_drain(vd->ctl_fd);
	virtio_lock(vd);
	req = vd->requests;
	vd->requests = 0;
	stop = vd->stop;
	pause = vd->pause_req;
	virtio_unlock(vd);
	if (stop)
		return true;
	if (req & VIRTIO_REQ_RESET)
		virtio_do_reset(vd);
	if (req & VIRTIO_REQ_ACTIVATE)
		virtio_do_activate(vd);
	if (req & VIRTIO_REQ_POLL)
		virtio_poll_queues(vd);
	return pause ? virtio_park(vd) : false;
}

static void virtio_handle_kick(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_queue *vq = &vd->queues[q];
	uint8_t status;

	__atomic_add_fetch(&vq->kicks, eventfd_drain(vq->kick_fd), __ATOMIC_RELAXED);
	if (vd->failed)
		return;
	if (!vd->active) {
		virtio_lock(vd);
		status = vd->status;
		virtio_unlock(vd);
		/* A driver in the middle of initialisation must not notify. */
		if (status && !(status & VIRTIO_STATUS_DRIVER_OK))
			virtio_dev_fail(vd, "queue %u notified before DRIVER_OK", q);
		return;
	}
	if (!vq->vq.ready) {
		log_debug("%s: notification for disabled queue %u", vd->dev.id, q);
		return;
	}
	if (vd->ops->queue_kick)
		vd->ops->queue_kick(vd, q);
}

static void *virtio_thread(void *arg)
{
	struct virtio_dev *vd = arg;
	struct epoll_event evs[16];
	int n, i;

	as_reader_register();
	for (;;) {
		n = epoll_wait(vd->epoll_fd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("%s: epoll_wait: %s", vd->dev.id, strerror(errno));
			break;
		}
		/* Control first: an activation must precede the kicks that
		 * follow it (its request is visible under the lock even
		 * when epoll reports the kick first). */
		for (i = 0; i < n && evs[i].data.u64 >> 32 != EV_CTL; i++)
			;
		if (virtio_handle_ctl(vd, i < n))
			break;
		for (i = 0; i < n; i++) {
			uint64_t kind = evs[i].data.u64 >> 32;
			uint32_t idx = (uint32_t)evs[i].data.u64;

			if (kind == EV_KICK && idx < vd->nr_queues)
				virtio_handle_kick(vd, idx);
			else if (kind == EV_WATCH && idx < vd->nr_watch)
				vd->watch[idx].fn(vd, vd->watch[idx].fd, vd->watch[idx].opaque);
		}
	}
	as_reader_unregister();
	return NULL;
}

int virtio_dev_start(struct virtio_dev *vd)
{
	char name[16];
	int ret;

	ret = pthread_create(&vd->thread, NULL, virtio_thread, vd);
	if (ret)
		return err_set(-ret, "%s: pthread_create: %s", vd->dev.id, strerror(ret));
	snprintf(name, sizeof(name), "kite-%.10s", vd->dev.id);
	pthread_setname_np(vd->thread, name);
	vd->thread_started = true;
	return 0;
}

static void virtio_post(struct virtio_dev *vd)
{
	eventfd_signal(vd->ctl_fd);
}

void virtio_dev_stop(struct virtio_dev *vd)
{
	if (vd->thread_started) {
		virtio_lock(vd);
		vd->stop = true;
		pthread_cond_broadcast(&vd->cond);
		virtio_unlock(vd);
		virtio_post(vd);
		pthread_join(vd->thread, NULL);
		vd->thread_started = false;
	}
}

void virtio_dev_destroy(struct virtio_dev *vd)
{
	unsigned int i;

	virtio_dev_stop(vd);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (vd->queues[i].kick_fd >= 0)
			close(vd->queues[i].kick_fd);
		vd->queues[i].kick_fd = -1;
	}
	if (vd->ctl_fd >= 0)
		close(vd->ctl_fd);
	if (vd->epoll_fd >= 0)
		close(vd->epoll_fd);
	vd->ctl_fd = vd->epoll_fd = -1;
	/* Last: it may free the memory @vd lives in. */
	if (vd->ops && vd->ops->destroy)
		vd->ops->destroy(vd);
}

void virtio_dev_pause(struct virtio_dev *vd)
{
	if (!vd->thread_started)
		return;
	virtio_lock(vd);
	vd->pause_req = true;
	virtio_unlock(vd);
	virtio_post(vd);
	virtio_lock(vd);
	while (!vd->paused && !vd->stop)
		pthread_cond_wait(&vd->cond, &vd->lock);
	virtio_unlock(vd);
}

void virtio_dev_resume(struct virtio_dev *vd)
{
	virtio_lock(vd);
	vd->pause_req = false;
	pthread_cond_broadcast(&vd->cond);
	virtio_unlock(vd);
}

/* ---- for virtio_state.c: restoring while the I/O thread is parked ---- */

int virtio_restore_begin(struct virtio_dev *vd)
{
	int ret = 0;

	virtio_lock(vd);
	if (vd->restoring)
		ret = err_set(-EBUSY, "%s: another restore of this device is in progress",
			      vd->dev.id);
	else if (vd->thread_started && !vd->paused)
		ret = err_set(-EBUSY, "%s: the device's I/O thread runs: pause the VM first",
			      vd->dev.id);
	else
		vd->restoring = true;
	virtio_unlock(vd);
	return ret;
}

void virtio_restore_end(struct virtio_dev *vd)
{
	virtio_lock(vd);
	vd->restoring = false;
	pthread_cond_broadcast(&vd->cond);
	virtio_unlock(vd);
}

void virtio_wait_restore_locked(struct virtio_dev *vd)
{
	while (vd->restoring)
		pthread_cond_wait(&vd->cond, &vd->lock);
}

bool virtio_io_quiet_locked(const struct virtio_dev *vd)
{
	return !vd->thread_started || vd->paused;
}

void virtio_reset_parked(struct virtio_dev *vd)
{
	if (vd->io_busy || vd->active || vd->failed)
		virtio_do_reset(vd);
	virtio_lock(vd);
	vd->requests = 0;
	virtio_unlock(vd);
}

void virtio_request_poll(struct virtio_dev *vd)
{
	virtio_lock(vd);
	vd->requests |= VIRTIO_REQ_POLL;
	virtio_unlock(vd);
	virtio_post(vd);
}

/* ---- transport side (vCPU threads) ---- */

uint32_t virtio_read_host_features(struct virtio_dev *vd, uint32_t sel)
{
	uint32_t v = 0;

	virtio_lock(vd);
	if (sel < 2)
		v = (uint32_t)(vd->host_features >> (32 * sel));
	virtio_unlock(vd);
	return v;
}

uint32_t virtio_read_guest_features(struct virtio_dev *vd, uint32_t sel)
{
	uint32_t v = 0;

	virtio_lock(vd);
	if (sel < 2)
		v = (uint32_t)(vd->guest_features >> (32 * sel));
	virtio_unlock(vd);
	return v;
}

void virtio_write_guest_features(struct virtio_dev *vd, uint32_t sel, uint32_t val)
{
	uint64_t mask;

	if (sel >= 2)
		return;
	mask = 0xffffffffULL << (32 * sel);
	virtio_lock(vd);
	/* Features are fixed once FEATURES_OK was accepted. */
	if (!(vd->status & VIRTIO_STATUS_FEATURES_OK))
		vd->guest_features = (vd->guest_features & ~mask) |
				     ((uint64_t)val << (32 * sel));
	virtio_unlock(vd);
}

uint8_t virtio_read_status(struct virtio_dev *vd)
{
	uint8_t v;

	virtio_lock(vd);
	v = vd->status;
	virtio_unlock(vd);
	return v;
}

static bool virtio_features_ok(const struct virtio_dev *vd)
{
	return !(vd->guest_features & ~vd->host_features) &&
	       (vd->guest_features & (1ULL << VIRTIO_F_VERSION_1));
}

void virtio_write_status(struct virtio_dev *vd, uint8_t val)
{
	uint8_t old;

	virtio_lock(vd);
	old = vd->status;
	if (!val) {
		if (!vd->io_busy && !(vd->requests & VIRTIO_REQ_RESET)) {
			/* Never started: nothing runs on the I/O thread. */
			virtio_regs_reset(vd);
			virtio_unlock(vd);
			return;
		}
		vd->requests |= VIRTIO_REQ_RESET;
		virtio_unlock(vd);
		virtio_post(vd);	/* status reads non-zero until done */
		return;
	}
	if (vd->requests & VIRTIO_REQ_RESET) {
		virtio_unlock(vd);	/* the driver must wait for the reset */
		return;
	}
	val &= (uint8_t)~VIRTIO_STATUS_NEEDS_RESET;	/* the device's bit */
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !virtio_features_ok(vd))
		val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	vd->status = val | (old & VIRTIO_STATUS_NEEDS_RESET);
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    (val & VIRTIO_STATUS_FEATURES_OK) && !(val & VIRTIO_STATUS_FAILED)) {
		vd->requests |= VIRTIO_REQ_ACTIVATE;
		vd->io_busy = true;
		virtio_unlock(vd);
		virtio_post(vd);
		return;
	}
	virtio_unlock(vd);
}

uint8_t virtio_isr_read_clear(struct virtio_dev *vd)
{
	uint8_t v;

	virtio_lock(vd);
	v = vd->isr;
	vd->isr = 0;
	virtio_unlock(vd);
	return v;
}

void virtio_isr_ack(struct virtio_dev *vd, uint8_t bits)
{
	virtio_lock(vd);
	vd->isr &= (uint8_t)~bits;
	virtio_unlock(vd);
}

void virtio_config_read(struct virtio_dev *vd, uint32_t off, uint8_t *buf, uint32_t len)
{
	uint32_t i;

	virtio_lock(vd);
	for (i = 0; i < len; i++)
		buf[i] = off + i < vd->config_len ? vd->config[off + i] : 0;
	virtio_unlock(vd);
}

void virtio_config_write(struct virtio_dev *vd, uint32_t off, const uint8_t *buf,
			 uint32_t len)
{
	if (!vd->ops->config_written || off >= vd->config_len || len > vd->config_len - off)
		return;
	virtio_lock(vd);
	memcpy(vd->config + off, buf, len);
	vd->ops->config_written(vd, off, len);
	virtio_unlock(vd);
}

struct virtio_queue *virtio_queue_get(struct virtio_dev *vd, uint32_t q)
{
	return q < vd->nr_queues ? &vd->queues[q] : NULL;
}

bool virtio_queue_writable(const struct virtio_dev *vd)
{
	return !(vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->requests & VIRTIO_REQ_RESET);
}

void virtio_kick(struct virtio_dev *vd, uint32_t q)
{
	if (q < vd->nr_queues)
		eventfd_signal(vd->queues[q].kick_fd);
}

/* ---- device model ---- */

#define VD(dev) virtio_from_dev(dev)

void virtio_attr_status(struct device *dev, struct dev_value *out)
{
	out->u64 = virtio_read_status(VD(dev));
}

void virtio_attr_driver_features(struct device *dev, struct dev_value *out)
{
	struct virtio_dev *vd = VD(dev);

	virtio_lock(vd);
	out->u64 = vd->guest_features;
	virtio_unlock(vd);
}

void virtio_attr_device_features(struct device *dev, struct dev_value *out)
{
	out->u64 = VD(dev)->host_features;
}

void virtio_attr_needs_reset(struct device *dev, struct dev_value *out)
{
	out->b = virtio_read_status(VD(dev)) & VIRTIO_STATUS_NEEDS_RESET;
}

void virtio_attr_fail_reason(struct device *dev, struct dev_value *out)
{
	struct virtio_dev *vd = VD(dev);

	virtio_lock(vd);
	snprintf(out->str, sizeof(out->str), "%s", vd->fail_msg);
	virtio_unlock(vd);
}

void virtio_attr_resets(struct device *dev, struct dev_value *out)
{
	struct virtio_dev *vd = VD(dev);

	virtio_lock(vd);
	out->u64 = vd->resets;
	virtio_unlock(vd);
}

void virtio_attr_kicks(struct device *dev, struct dev_value *out)
{
	struct virtio_dev *vd = VD(dev);
	unsigned int i;

	out->u64 = 0;
	for (i = 0; i < vd->nr_queues; i++)
		out->u64 += __atomic_load_n(&vd->queues[i].kicks, __ATOMIC_RELAXED);
}

void virtio_attr_interrupts(struct device *dev, struct dev_value *out)
{
	struct virtio_dev *vd = VD(dev);
	unsigned int i;

	out->u64 = 0;
	for (i = 0; i < vd->nr_queues; i++)
		out->u64 += __atomic_load_n(&vd->queues[i].interrupts, __ATOMIC_RELAXED);
}

void virtio_attr_queues(struct device *dev, struct dev_value *out)
{
	out->u64 = VD(dev)->nr_queues;
}

int virtio_cmd_reset(struct device *dev, const char *arg)
{
	struct virtio_dev *vd = VD(dev);

	(void)arg;
	virtio_lock(vd);
	/* The I/O thread parked (VM paused) or not started: reset here, so the
	 * state read before the resume is already the reset device's. */
	if (!vd->restoring && virtio_io_quiet_locked(vd)) {
		vd->restoring = true;
		vd->requests = 0;
		virtio_unlock(vd);
		virtio_do_reset(vd);
		virtio_restore_end(vd);
		return 0;
	}
	vd->io_busy = true;
	vd->requests |= VIRTIO_REQ_RESET;
	virtio_unlock(vd);
	virtio_post(vd);
	return 0;
}
