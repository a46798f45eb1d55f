// SPDX-License-Identifier: MIT
/*
 * rng.c - virtio-rng (virtio 1.2, 5.4): one request queue; each chain's
 * writable part is filled with bytes from getrandom(), capped per request so
 * that no guest request makes the host do unbounded work in one go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "devices/virtio/virtio_devs.h"

#define VRNG_QUEUE_SIZE	256
#define VRNG_CHUNK	4096

struct virtio_rng {
	struct virtio_dev vd;		/* first: struct device is its first member */
	struct vq_elem elem;
	uint64_t requests, bytes;	/* I/O thread writes, API reads (atomics) */
};

/* Fill up to VRNG_MAX_PER_REQUEST writable bytes; returns bytes written or -errno. */
static int64_t rng_fill(struct virtio_rng *r, const struct vq_elem *e)
{
	uint8_t buf[VRNG_CHUNK];
	struct vq_cursor c;
	uint64_t want, done = 0;

	vq_writer_init(&c, &r->vd.queues[0].vq, e);
	want = vq_cursor_left(&c);
	if (want > VRNG_MAX_PER_REQUEST)
		want = VRNG_MAX_PER_REQUEST;
	while (done < want) {
		size_t n = want - done < sizeof(buf) ? (size_t)(want - done) : sizeof(buf);
		ssize_t got = getrandom(buf, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			log_warn("%s: getrandom: %s", r->vd.dev.id, strerror(errno));
			break;
		}
		if (vq_write(&c, buf, (size_t)got))
			return -EFAULT;
		done += (uint64_t)got;
	}
	return (int64_t)done;
}

static void rng_queue_kick(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_rng *r = vd->priv;
	bool pushed = false;

	while (virtio_pop(vd, q, &r->elem) > 0) {
		int64_t n = rng_fill(r, &r->elem);

		if (n < 0) {
			virtio_dev_fail(vd, "entropy buffer outside guest RAM");
			return;
		}
		virtio_push(vd, q, &r->elem, (uint32_t)n);
		__atomic_add_fetch(&r->requests, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->bytes, (uint64_t)n, __ATOMIC_RELAXED);
		pushed = true;
	}
	if (pushed)
		virtio_notify(vd, q);
}

static void rng_destroy(struct virtio_dev *vd)
{
	free(vd->priv);
}

static const struct virtio_dev_ops rng_ops = {
	.device_id = VIRTIO_ID_RNG,
	.queue_kick = rng_queue_kick,
	.destroy = rng_destroy,
};


VIRTIO_COUNTER_GETTER(rng_get_requests, struct virtio_rng, requests)
VIRTIO_COUNTER_GETTER(rng_get_bytes, struct virtio_rng, bytes)

static const struct dev_attr rng_attrs[] = {
	VIRTIO_COMMON_ATTRS,
	{ "requests", DEV_ATTR_U64, DEV_ATTR_INFO, "entropy requests served", rng_get_requests, NULL },
	{ "bytes", DEV_ATTR_U64, DEV_ATTR_INFO, "entropy bytes delivered", rng_get_bytes, NULL },
};

/* State: only what VIRTIO_COMMON_ATTRS carries; counters are not state. */
static const struct dev_cmd rng_cmds[] = { VIRTIO_COMMON_CMDS };

const struct dev_class virtio_rng_class = {
	.type = "virtio-rng",
	.state_version = 2,	/* 2: transport_state and virtio_state */
	.attrs = rng_attrs,
	.nr_attrs = sizeof(rng_attrs) / sizeof(rng_attrs[0]),
	.cmds = rng_cmds,
	.nr_cmds = sizeof(rng_cmds) / sizeof(rng_cmds[0]),
};

int virtio_rng_create(const char *id, const struct addr_space *as, struct virtio_dev **out)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return err_set(-ENOMEM, "%s: out of memory", id);
	snprintf(r->vd.dev.id, sizeof(r->vd.dev.id), "%s", id);
	r->vd.dev.cls = &virtio_rng_class;
	r->vd.dev.priv = r;
	r->vd.priv = r;
	ret = virtio_dev_init(&r->vd, &rng_ops, as, 1, VRNG_QUEUE_SIZE, 0, 0);
	if (ret) {
		virtio_dev_destroy(&r->vd);
		return ret;
	}
	*out = &r->vd;
	return 0;
}
