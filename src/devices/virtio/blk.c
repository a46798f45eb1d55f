// SPDX-License-Identifier: MIT
/*
 * blk.c - virtio-blk (virtio 1.2, 5.2) on a raw image file, with io_uring.
 *
 * Reads and writes go straight between the image and guest memory: the
 * request's data segments are translated into host iovecs (through the
 * virtqueue cursors, so guest pages written by a read are dirty-tracked)
 * and submitted as one readv/writev.  FLUSH is an fdatasync (a driver that
 * did not negotiate FLUSH gets write-through: RWF_DSYNC writes); DISCARD and
 * WRITE_ZEROES are fallocate() calls.  Everything runs on the device's I/O
 * thread: it pops requests, submits them, and reaps completions when the
 * ring's eventfd fires.  Request slots are preallocated (queues x size), so
 * no guest request allocates host memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/le.h"
#include "core/log.h"
#include "devices/virtio/virtio_devs.h"

#define VBLK_F_SIZE_MAX		1
#define VBLK_F_SEG_MAX		2
#define VBLK_F_RO		5
#define VBLK_F_BLK_SIZE		6
#define VBLK_F_FLUSH		9
#define VBLK_F_MQ		12
#define VBLK_F_DISCARD		13
#define VBLK_F_WRITE_ZEROES	14

#define VBLK_T_IN		0
#define VBLK_T_OUT		1
#define VBLK_T_FLUSH		4
#define VBLK_T_GET_ID		8
#define VBLK_T_DISCARD		11
#define VBLK_T_WRITE_ZEROES	13

#define VBLK_S_OK		0
#define VBLK_S_IOERR		1
#define VBLK_S_UNSUPP		2
#define VBLK_S_FAULT		0xff	/* internal: a buffer is not in guest RAM */

#define VBLK_QUEUE_SIZE		256
#define VBLK_SEG_MAX		(VQ_MAX_SEGS - 2)	/* header and status take two */
#define VBLK_DISCARD_SEG_MAX	32
#define VBLK_DISCARD_SECTORS_MAX 0x3fffff
#define VBLK_ID_BYTES		20
#define VBLK_CONFIG_LEN		60

/* Offsets in struct virtio_blk_config. */
#define CFG_CAPACITY		0
#define CFG_SIZE_MAX		8
#define CFG_SEG_MAX		12
#define CFG_BLK_SIZE		20
#define CFG_NUM_QUEUES		34
#define CFG_MAX_DISCARD_SECTORS	36
#define CFG_MAX_DISCARD_SEG	40
#define CFG_DISCARD_ALIGN	44
#define CFG_MAX_WZ_SECTORS	48
#define CFG_MAX_WZ_SEG		52
#define CFG_WZ_MAY_UNMAP	56

struct blk_req {
	struct vq_elem elem;
	struct iovec iov[VQ_MAX_SEGS];
	unsigned int q;
	uint32_t type;
	uint64_t len;		/* data bytes */
	bool busy;
};

struct virtio_blk {
	struct virtio_dev vd;
	struct virtio_blk_config_in cfg;
	int fd;
	uint64_t size;		/* bytes, a multiple of 512 */
	struct io_uring ring;
	bool ring_ok;
	int ring_efd;
	unsigned int nr_slots;
	struct blk_req *slots;
	unsigned int free_hint, inflight;
	bool stalled;		/* no free slot or SQE: poll the queues again later */
	uint64_t reads, writes, flushes, discards, errors, bytes_read, bytes_written;
};

static void stat_add(uint64_t *ctr, uint64_t v)
{
	__atomic_add_fetch(ctr, v, __ATOMIC_RELAXED);
}

static struct blk_req *blk_slot_get(struct virtio_blk *b)
{
	unsigned int i, n = b->nr_slots;

	for (i = 0; i < n; i++) {
		struct blk_req *r = &b->slots[(b->free_hint + i) % n];

		if (!r->busy) {
			b->free_hint = (b->free_hint + i + 1) % n;
			r->busy = true;
			return r;
		}
	}
	return NULL;
}

/* Write the status byte (the last writable byte), return the chain, notify later. */
static void blk_complete(struct virtio_blk *b, struct blk_req *r, uint8_t status,
			 uint32_t data_written)
{
	struct virtio_dev *vd = &b->vd;
	struct vq_cursor c;

	if (status != VBLK_S_OK)
		stat_add(&b->errors, 1);
	vq_writer_init(&c, &vd->queues[r->q].vq, &r->elem);
	if (vq_cursor_skip(&c, r->elem.in_len - 1) || vq_write(&c, &status, 1))
		virtio_dev_fail(vd, "block status byte outside guest RAM");
	else
		virtio_push(vd, r->q, &r->elem, data_written + 1);
	r->busy = false;
}

static int blk_check_range(struct virtio_blk *b, uint64_t sector, uint64_t len)
{
	if (sector > b->size / 512 || len > b->size - sector * 512)
		return -ERANGE;
	return 0;
}

/* Submit a read or write of the data segments; false: completed at once. */
static bool blk_submit_rw(struct virtio_blk *b, struct blk_req *r, struct vq_cursor *c,
			  uint64_t sector)
{
	struct io_uring_sqe *sqe;
	int n;

	if (!r->len) {
		blk_complete(b, r, VBLK_S_OK, 0);
		return false;
	}
	n = vq_cursor_iov(c, r->len, r->iov, VQ_MAX_SEGS);
	if (n == -EFAULT || n == -EMSGSIZE) {
		/* Buffers outside guest RAM (or in MMIO): the driver broke the rules. */
		r->busy = false;
		virtio_dev_fail(&b->vd, "block data buffer of %" PRIu64 " bytes is not in guest RAM",
				r->len);
		return false;
	}
	if (n < 0 || blk_check_range(b, sector, r->len) || (r->len & 511)) {
		blk_complete(b, r, VBLK_S_IOERR, 0);
		return false;
	}
	sqe = io_uring_get_sqe(&b->ring);
	if (!sqe) {
		blk_complete(b, r, VBLK_S_IOERR, 0);	/* cannot happen: ring >= slots */
		return false;
	}
	if (r->type == VBLK_T_IN) {
		io_uring_prep_readv(sqe, b->fd, r->iov, (unsigned int)n, sector * 512);
	} else {
		io_uring_prep_writev(sqe, b->fd, r->iov, (unsigned int)n, sector * 512);
		/* A driver without FLUSH cannot ask for durability, so it assumes
		 * a write-through device (virtio 1.2, 5.2.6.2; Linux treats the
		 * disk as having no write cache): complete writes only once they
		 * are on stable storage. */
		if (!virtio_has_feature(&b->vd, VBLK_F_FLUSH))
			sqe->rw_flags = RWF_DSYNC;
	}
	io_uring_sqe_set_data(sqe, r);
	b->inflight++;
	return true;
}

static bool blk_submit_flush(struct virtio_blk *b, struct blk_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

	stat_add(&b->flushes, 1);
	if (!sqe) {
		blk_complete(b, r, VBLK_S_IOERR, 0);
		return false;
	}
	io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, r);
	b->inflight++;
	return true;
}

/* DISCARD / WRITE_ZEROES: segments of {sector u64, num_sectors u32, flags u32}. */
static uint8_t blk_do_zero(struct virtio_blk *b, struct blk_req *r, struct vq_cursor *c)
{
	uint64_t nseg = vq_cursor_left(c) / 16, i;

	if (vq_cursor_left(c) % 16 || !nseg || nseg > VBLK_DISCARD_SEG_MAX)
		return VBLK_S_IOERR;
	for (i = 0; i < nseg; i++) {
		uint8_t seg[16];
		uint64_t sector = 0, num = 0;
		uint32_t flags, j;
		int mode;

		if (vq_read(c, seg, sizeof(seg)))
			return VBLK_S_FAULT;
		for (j = 0; j < 8; j++)
			sector |= (uint64_t)seg[j] << (8 * j);
		for (j = 0; j < 4; j++)
			num |= (uint64_t)seg[8 + j] << (8 * j);
		flags = (uint32_t)seg[12] | (uint32_t)seg[13] << 8;
		if ((flags & ~1u) || num > VBLK_DISCARD_SECTORS_MAX ||
		    blk_check_range(b, sector, num * 512))
			return VBLK_S_IOERR;
		if (r->type == VBLK_T_DISCARD || (flags & 1))
			mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		else
			mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		if (num && fallocate(b->fd, mode, (off_t)(sector * 512), (off_t)(num * 512))) {
			log_warn("%s: fallocate: %s", b->vd.dev.id, strerror(errno));
			return VBLK_S_IOERR;
		}
	}
	stat_add(&b->discards, 1);
	return VBLK_S_OK;
}

static uint8_t blk_do_get_id(struct virtio_blk *b, struct blk_req *r, uint32_t *written)
{
	uint8_t id[VBLK_ID_BYTES] = { 0 };
	struct vq_cursor c;
	size_t n = r->elem.in_len - 1 < VBLK_ID_BYTES ? r->elem.in_len - 1 : VBLK_ID_BYTES;

	memcpy(id, b->vd.dev.id, strnlen(b->vd.dev.id, VBLK_ID_BYTES));
	vq_writer_init(&c, &b->vd.queues[r->q].vq, &r->elem);
	if (vq_write(&c, id, n))
		return VBLK_S_FAULT;
	*written = (uint32_t)n;
	return VBLK_S_OK;
}

/* Parse and start one request; true when it went to io_uring. */
static bool blk_start(struct virtio_blk *b, struct blk_req *r)
{
	uint8_t hdr[16];
	struct vq_cursor rd, wr;
	uint64_t sector = 0;
	uint32_t written = 0;
	uint8_t status;
	unsigned int i;

	vq_reader_init(&rd, &b->vd.queues[r->q].vq, &r->elem);
	vq_writer_init(&wr, &b->vd.queues[r->q].vq, &r->elem);
	if (vq_read(&rd, hdr, sizeof(hdr))) {
		r->busy = false;
		virtio_dev_fail(&b->vd, "block request without a 16-byte header");
		return false;
	}
	r->type = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
		  (uint32_t)hdr[3] << 24;
	for (i = 0; i < 8; i++)
		sector |= (uint64_t)hdr[8 + i] << (8 * i);
	switch (r->type) {
	case VBLK_T_IN:
		r->len = r->elem.in_len - 1;
		return blk_submit_rw(b, r, &wr, sector);
	case VBLK_T_OUT:
		r->len = vq_cursor_left(&rd);
		if (b->cfg.ro) {
			blk_complete(b, r, VBLK_S_IOERR, 0);
			return false;
		}
		return blk_submit_rw(b, r, &rd, sector);
	case VBLK_T_FLUSH:
		return blk_submit_flush(b, r);
	case VBLK_T_GET_ID:
		status = blk_do_get_id(b, r, &written);
		break;
	case VBLK_T_DISCARD:
	case VBLK_T_WRITE_ZEROES:
		status = b->cfg.ro ? VBLK_S_IOERR : blk_do_zero(b, r, &rd);
		break;
	default:
		status = VBLK_S_UNSUPP;
		break;
	}
	if (status == VBLK_S_FAULT) {
		r->busy = false;
		virtio_dev_fail(&b->vd, "block request buffer is not in guest RAM");
		return false;
	}
	blk_complete(b, r, status, written);
	return false;
}

static void blk_reap(struct virtio_blk *b);

static void blk_queue_kick(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_blk *b = vd->priv;
	bool submitted = false, completed = false;
	struct blk_req *r;

	for (;;) {
		r = blk_slot_get(b);
		if (!r) {
			b->stalled = true;	/* completions will poll again */
			break;
		}
		r->q = q;
		if (virtio_pop(vd, q, &r->elem) <= 0) {
			r->busy = false;
			break;
		}
		if (r->elem.in_len < 1) {
			r->busy = false;
			virtio_dev_fail(vd, "block request without a status byte");
			return;
		}
		if (blk_start(b, r))
			submitted = true;
		else
			completed = true;
		if (vd->failed)
			return;
	}
	if (completed)
		virtio_notify(vd, q);
	if (submitted) {
		io_uring_submit(&b->ring);
		/* Reads from the page cache (and most buffered writes) complete
		 * inside the submit: hand them back now instead of after another
		 * trip through epoll.  (Not io_uring_register_eventfd_async:
		 * completions posted by task work in this thread, e.g. O_DIRECT
		 * reads, would then never signal the eventfd.) */
		blk_reap(b);
	}
}

static void blk_account(struct virtio_blk *b, const struct blk_req *r, int res)
{
	if (r->type == VBLK_T_IN) {
		stat_add(&b->reads, 1);
		stat_add(&b->bytes_read, (uint64_t)res);
	} else if (r->type == VBLK_T_OUT) {
		stat_add(&b->writes, 1);
		stat_add(&b->bytes_written, (uint64_t)res);
	}
}

/* Reap every completion; notify each queue that got some. */
static void blk_reap(struct virtio_blk *b)
{
	bool touched[VIRTIO_MAX_QUEUES] = { false };
	struct io_uring_cqe *cqe;
	unsigned int q;

	while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		bool ok;

		io_uring_cqe_seen(&b->ring, cqe);
		b->inflight--;
		ok = r->type == VBLK_T_FLUSH ? res == 0 : res >= 0 && (uint64_t)res == r->len;
		if (!ok)
			log_info("%s: %s failed: %s", b->vd.dev.id,
				 r->type == VBLK_T_IN ? "read" : r->type == VBLK_T_OUT ? "write" : "flush",
				 res < 0 ? strerror(-res) : "short transfer");
		else
			blk_account(b, r, res);
		if (ok && r->type == VBLK_T_IN)
			vq_elem_mark_dirty(&b->vd.queues[r->q].vq, &r->elem, r->len);
		touched[r->q] = true;
		blk_complete(b, r, ok ? VBLK_S_OK : VBLK_S_IOERR,
			     ok && r->type == VBLK_T_IN ? (uint32_t)r->len : 0);
	}
	for (q = 0; q < b->vd.nr_queues; q++)
		if (touched[q])
			virtio_notify(&b->vd, q);
	if (b->stalled) {
		b->stalled = false;
		for (q = 0; q < b->vd.nr_queues; q++)
			virtio_dev_rekick(&b->vd, q);
	}
}

static void blk_ring_event(struct virtio_dev *vd, int fd, void *opaque)
{
	uint64_t n;

	(void)opaque;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("%s: eventfd: %s", vd->dev.id, strerror(errno));
	blk_reap(vd->priv);
}

/* Wait for every request in flight (pause, reset). */
static void blk_drain(struct virtio_dev *vd)
{
	struct virtio_blk *b = vd->priv;
	struct io_uring_cqe *cqe;

	while (b->inflight) {
		if (io_uring_wait_cqe(&b->ring, &cqe) < 0)
			break;
		blk_reap(b);
	}
}

static void blk_reset(struct virtio_dev *vd)
{
	struct virtio_blk *b = vd->priv;
	unsigned int i;

	blk_drain(vd);
	for (i = 0; i < b->nr_slots; i++)
		b->slots[i].busy = false;
	b->stalled = false;
}

static void blk_destroy(struct virtio_dev *vd)
{
	struct virtio_blk *b = vd->priv;

	if (b->ring_ok) {
		blk_drain(vd);
		io_uring_queue_exit(&b->ring);
	}
	if (b->ring_efd >= 0)
		close(b->ring_efd);
	if (b->fd >= 0)
		close(b->fd);
	free(b->slots);
	free(b);
}

static int blk_activate(struct virtio_dev *vd)
{
	struct virtio_blk *b = vd->priv;

	if (!b->cfg.ro && !virtio_has_feature(vd, VBLK_F_FLUSH))
		log_info("%s: the driver did not negotiate FLUSH: writes are written through "
			 "(RWF_DSYNC)", vd->dev.id);
	return 0;
}

static const struct virtio_dev_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.activate = blk_activate,
	.queue_kick = blk_queue_kick,
	.reset = blk_reset,
	.quiesce = blk_drain,
	.destroy = blk_destroy,
};

/* ---- device model ---- */

#define BLK(dev) ((struct virtio_blk *)virtio_from_dev(dev)->priv)
VIRTIO_COUNTER_GETTER(blk_get_reads, struct virtio_blk, reads)
VIRTIO_COUNTER_GETTER(blk_get_writes, struct virtio_blk, writes)
VIRTIO_COUNTER_GETTER(blk_get_flushes, struct virtio_blk, flushes)
VIRTIO_COUNTER_GETTER(blk_get_discards, struct virtio_blk, discards)
VIRTIO_COUNTER_GETTER(blk_get_errors, struct virtio_blk, errors)
VIRTIO_COUNTER_GETTER(blk_get_bytes_read, struct virtio_blk, bytes_read)
VIRTIO_COUNTER_GETTER(blk_get_bytes_written, struct virtio_blk, bytes_written)

static void blk_get_capacity(struct device *dev, struct dev_value *out)
{
	out->u64 = BLK(dev)->size / 512;
}

static void blk_get_read_only(struct device *dev, struct dev_value *out)
{
	out->b = BLK(dev)->cfg.ro;
}

static void blk_get_path(struct device *dev, struct dev_value *out)
{
	snprintf(out->str, sizeof(out->str), "%.*s", DEV_STR_MAX - 1, BLK(dev)->cfg.path);
}

#define INFO_U64(n, doc) { #n, DEV_ATTR_U64, DEV_ATTR_INFO, doc, blk_get_##n, NULL }

static void blk_get_write_cache(struct device *dev, struct dev_value *out)
{
	struct dev_value f;

	virtio_attr_driver_features(dev, &f);	/* under the device lock */
	out->b = (f.u64 >> VBLK_F_FLUSH) & 1;
}

static const struct dev_attr blk_attrs[] = {
	VIRTIO_COMMON_ATTRS,
	INFO_U64(capacity, "size in 512-byte sectors"),
	{ "read_only", DEV_ATTR_BOOL, DEV_ATTR_INFO, "writes are refused", blk_get_read_only, NULL },
	{ "path", DEV_ATTR_STR, DEV_ATTR_INFO, "the image file", blk_get_path, NULL },
	{ "write_cache", DEV_ATTR_BOOL, DEV_ATTR_INFO,
	  "the driver negotiated FLUSH (writes may wait in the host page cache until it "
	  "flushes); false: every write is written through", blk_get_write_cache, NULL },
	INFO_U64(reads, "read requests completed"),
	INFO_U64(writes, "write requests completed"),
	INFO_U64(flushes, "flush requests"),
	INFO_U64(discards, "discard and write-zeroes requests completed"),
	INFO_U64(errors, "requests answered with an error"),
	INFO_U64(bytes_read, "bytes read from the image"),
	INFO_U64(bytes_written, "bytes written to the image"),
};

/*
 * State: only what VIRTIO_COMMON_ATTRS carries (capacity, limits and the
 * rest of config space are in virtio_state).  Not state: the image (the
 * restored VM opens the same file), io_uring and request slots (a paused
 * device has no request in flight: quiesce waited for them), counters.
 */
static const struct dev_cmd blk_cmds[] = { VIRTIO_COMMON_CMDS };

const struct dev_class virtio_blk_class = {
	.type = "virtio-blk",
	.state_version = 2,	/* 2: transport_state and virtio_state */
	.attrs = blk_attrs,
	.nr_attrs = sizeof(blk_attrs) / sizeof(blk_attrs[0]),
	.cmds = blk_cmds,
	.nr_cmds = sizeof(blk_cmds) / sizeof(blk_cmds[0]),
};

/* ---- creation ---- */

static int blk_open(struct virtio_blk *b)
{
	int flags = (b->cfg.ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | (b->cfg.direct ? O_DIRECT : 0);
	struct stat st;

	b->fd = open(b->cfg.path, flags);
	if (b->fd < 0)
		return err_set(-errno, "--disk %s: %s", b->cfg.path, strerror(errno));
	if (fstat(b->fd, &st))
		return err_set(-errno, "--disk %s: %s", b->cfg.path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return err_set(-EINVAL, "--disk %s: not a regular file or block device",
			       b->cfg.path);
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(b->fd, 0, SEEK_END);

		if (end < 0)
			return err_set(-errno, "--disk %s: %s", b->cfg.path, strerror(errno));
		st.st_size = end;
	}
	if (st.st_size % 512)
		log_warn("--disk %s: size is not a multiple of 512; the last %lld bytes are not seen",
			 b->cfg.path, (long long)(st.st_size % 512));
	b->size = (uint64_t)st.st_size & ~511ULL;
	return 0;
}

static int blk_ring_init(struct virtio_blk *b)
{
	int ret;

	b->nr_slots = b->cfg.queues * VBLK_QUEUE_SIZE;
	b->slots = calloc(b->nr_slots, sizeof(*b->slots));
	if (!b->slots)
		return err_set(-ENOMEM, "%s: out of memory", b->vd.dev.id);
	ret = io_uring_queue_init(b->nr_slots, &b->ring, 0);
	if (ret < 0)
		return err_set(ret, "%s: io_uring_queue_init: %s", b->vd.dev.id, strerror(-ret));
	b->ring_ok = true;
	b->ring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->ring_efd < 0)
		return err_set(-errno, "%s: eventfd: %s", b->vd.dev.id, strerror(errno));
	ret = io_uring_register_eventfd(&b->ring, b->ring_efd);
	if (ret < 0)
		return err_set(ret, "%s: io_uring_register_eventfd: %s", b->vd.dev.id,
			       strerror(-ret));
	return virtio_dev_watch(&b->vd, b->ring_efd, blk_ring_event, NULL);
}

static void blk_fill_config(struct virtio_blk *b)
{
	uint8_t *c = b->vd.config;

	le_put(c + CFG_CAPACITY, b->size / 512, 8);
	le_put(c + CFG_SIZE_MAX, 1u << 20, 4);
	le_put(c + CFG_SEG_MAX, VBLK_SEG_MAX, 4);
	le_put(c + CFG_BLK_SIZE, 512, 4);
	le_put(c + CFG_NUM_QUEUES, b->cfg.queues, 2);
	le_put(c + CFG_MAX_DISCARD_SECTORS, VBLK_DISCARD_SECTORS_MAX, 4);
	le_put(c + CFG_MAX_DISCARD_SEG, VBLK_DISCARD_SEG_MAX, 4);
	le_put(c + CFG_DISCARD_ALIGN, 1, 4);
	le_put(c + CFG_MAX_WZ_SECTORS, VBLK_DISCARD_SECTORS_MAX, 4);
	le_put(c + CFG_MAX_WZ_SEG, VBLK_DISCARD_SEG_MAX, 4);
	c[CFG_WZ_MAY_UNMAP] = 1;
}

int virtio_blk_create(const struct virtio_blk_config_in *cfg, const struct addr_space *as,
		      struct virtio_dev **out)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint64_t features;
	int ret;

	if (!b)
		return err_set(-ENOMEM, "out of memory");
	b->cfg = *cfg;
	if (!b->cfg.queues)
		b->cfg.queues = 1;
	b->fd = b->ring_efd = -1;
	snprintf(b->vd.dev.id, sizeof(b->vd.dev.id), "%s", cfg->id);
	b->vd.dev.cls = &virtio_blk_class;
	b->vd.dev.priv = b;
	b->vd.priv = b;
	features = (1ULL << VBLK_F_SIZE_MAX) | (1ULL << VBLK_F_SEG_MAX) |
		   (1ULL << VBLK_F_BLK_SIZE) | (1ULL << VBLK_F_FLUSH);
	if (cfg->ro)
		features |= 1ULL << VBLK_F_RO;
	else
		features |= (1ULL << VBLK_F_DISCARD) | (1ULL << VBLK_F_WRITE_ZEROES);
	if (b->cfg.queues > 1)
		features |= 1ULL << VBLK_F_MQ;
	ret = virtio_dev_init(&b->vd, &blk_ops, as, b->cfg.queues, VBLK_QUEUE_SIZE, features,
			      VBLK_CONFIG_LEN);
	if (!ret)
		ret = blk_open(b);
	if (!ret)
		ret = blk_ring_init(b);
	if (ret) {
		virtio_dev_destroy(&b->vd);
		return ret;
	}
	blk_fill_config(b);
	*out = &b->vd;
	return 0;
}
