/* SPDX-License-Identifier: MIT */
/*
 * virtio.h - the virtio device core: what every virtio device has, whatever
 * its transport (virtio-mmio, virtio-pci) and whatever it does (blk, net,
 * console, rng).
 *
 * Layers
 *   transport (mmio.c, pci.c)  guest register accesses on a vCPU thread;
 *                              calls the virtio_* accessors below
 *   core (virtio.c)            status/feature negotiation, queue registers,
 *                              config space, the device's I/O thread,
 *                              NEEDS_RESET, pause, counters, attributes
 *   device (blk.c, rng.c, ...) struct virtio_dev_ops: runs on the I/O thread
 *
 * Threads and locks
 *   Each device has one I/O thread ("kite-<id>") running an epoll loop over
 *   its queues' kick eventfds (bound to KVM ioeventfds by the transport, so a
 *   guest kick never exits to user space), a control eventfd, and any fd the
 *   device adds (virtio_dev_watch).  The ops run on that thread only, so a
 *   device needs no lock for its queues.
 *   vd->lock protects the transport-visible registers (status, features,
 *   queue registers, config space); vCPU threads take it for each register
 *   access, the I/O thread to snapshot them at activation.  It is innermost:
 *   nothing else is taken while it is held.
 *   Activation (DRIVER_OK) and reset (status 0) are requests the vCPU posts
 *   to the I/O thread; it never waits for them.  After a reset request the
 *   status reads back non-zero until the I/O thread has finished it, which is
 *   what the spec's driver waits for.
 *
 * Misbehaving guests
 *   virtio_dev_fail() marks the device NEEDS_RESET (and sends a config
 *   interrupt); the I/O thread then processes nothing until the guest resets
 *   the device.  The VMM and every other device go on.
 */
#ifndef KITE_VIRTIO_VIRTIO_H
#define KITE_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/addr_space.h"
#include "core/device.h"
#include "core/error.h"
#include "virtio/virtqueue.h"

/* Device status bits (virtio 1.2, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* Device ids (5). */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4

/* Interrupt status bits (ISR: mmio InterruptStatus, pci ISR capability). */
#define VIRTIO_ISR_QUEUE	0x1
#define VIRTIO_ISR_CONFIG	0x2

#define VIRTIO_MAX_QUEUES	64
#define VIRTIO_MAX_WATCH	8
#define VIRTIO_CONFIG_MAX	256	/* bytes of device config space */
#define VIRTIO_MSI_NO_VECTOR	0xffff
#define VIRTIO_FAIL_MSG_MAX	160

struct virtio_dev;

/* Per-queue registers as the driver programs them, plus the runtime queue. */
struct virtio_queue {
	/* transport-visible (under vd->lock) */
	uint16_t max_size;	/* what the device offers (QueueNumMax) */
	uint16_t size;		/* what the driver chose (QueueNum) */
	bool enabled;		/* QueueReady / queue_enable */
	uint64_t desc, driver, device;	/* ring addresses */
	uint16_t msix_vector;	/* pci: queue_msix_vector */
	int kick_fd;		/* eventfd the guest's notifications arrive on */
	/* I/O thread only */
	struct virtqueue vq;
	uint64_t kicks;		/* notifications seen (eventfd counts) */
	uint64_t interrupts;	/* used-buffer interrupts sent */
};

struct ds_reader;
struct ds_writer;

/* transport_state's second byte: which transport wrote it. */
enum virtio_transport_id { VIRTIO_TID_NONE, VIRTIO_TID_MMIO, VIRTIO_TID_PCI };

/* What a transport does for the core. */
struct virtio_transport_ops {
	enum virtio_transport_id id;
	/* Tell the driver queue @q has used buffers (ISR bit + line, or MSI-X).
	 * I/O thread. */
	void (*notify_queue)(struct virtio_dev *vd, unsigned int q);
	/* Tell the driver the config space (or NEEDS_RESET) changed.  I/O thread. */
	void (*notify_config)(struct virtio_dev *vd);
	/*
	 * transport_state (virtio_state.c; API thread, VM paused).  state_save
	 * puts the transport's guest-programmed registers that are not in the
	 * core (at most VIRTIO_TRANSPORT_STATE_MAX bytes); state_load decodes
	 * and checks all of them, calls ds_reader_end(), and only when that
	 * returns 0 applies them (bus placement, interrupt routes).  NULL: the
	 * transport has no state of its own.
	 */
	void (*state_save)(struct virtio_dev *vd, struct ds_writer *w);
	int (*state_load)(struct virtio_dev *vd, struct ds_reader *r);
	/* virtio_state was restored: drive the interrupt output the restored
	 * ISR asks for (a level line asserted, an edge raised once).  May be NULL. */
	void (*restored)(struct virtio_dev *vd);
};

#define VIRTIO_TRANSPORT_STATE_MAX	4096

/*
 * What a device type implements.  Every callback runs on the I/O thread, or
 * (activate, reset) on a thread restoring or resetting the device while the
 * I/O thread is held parked (virtio_restore_begin): never both at once.
 */
struct virtio_dev_ops {
	uint32_t device_id;
	/* Prepare for a started set of queues (all enabled queues passed
	 * vq_start).  Non-zero: the device fails (NEEDS_RESET). */
	int (*activate)(struct virtio_dev *vd);
	/* Queue @q was kicked (or the device asked to be polled again). */
	void (*queue_kick)(struct virtio_dev *vd, unsigned int q);
	/* Stop: finish or cancel in-flight work, forget driver state. */
	void (*reset)(struct virtio_dev *vd);
	/* Pause: bring in-flight work to completion and take no new work
	 * until resume (may be NULL when the device has none). */
	void (*quiesce)(struct virtio_dev *vd);
	void (*resume)(struct virtio_dev *vd);
	/* The driver wrote device config bytes [off, off + len) (already
	 * stored in vd->config; may be NULL: config is read-only). Under
	 * vd->lock, on a vCPU thread: must not block. */
	void (*config_written)(struct virtio_dev *vd, uint32_t off, uint32_t len);
	/* Tear down device-private state at VM destruction (thread stopped). */
	void (*destroy)(struct virtio_dev *vd);
};

typedef void (*virtio_watch_fn)(struct virtio_dev *vd, int fd, void *opaque);

struct virtio_watch {
	int fd;
	virtio_watch_fn fn;
	void *opaque;
};

struct virtio_dev {
	struct device dev;		/* id, class (attributes, commands), resources */
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *tops;
	void *transport;		/* transport's state */
	void *priv;			/* device's state */
	const struct addr_space *as;

	pthread_mutex_t lock;		/* transport-visible registers below */
	uint64_t host_features;		/* offered: device bits + core bits */
	uint64_t guest_features;	/* accepted by the driver */
	uint32_t host_features_sel, guest_features_sel;
	uint8_t status;
	uint8_t isr;			/* VIRTIO_ISR_* pending (mmio, pci INTx) */
	uint32_t config_generation;
	uint16_t msix_config;		/* pci: config_msix_vector */
	uint16_t queue_sel;
	uint16_t nr_vectors;		/* MSI-X vectors the transport has (0: none) */
	uint32_t config_len;
	uint8_t config[VIRTIO_CONFIG_MAX];
	unsigned int nr_queues;
	struct virtio_queue queues[VIRTIO_MAX_QUEUES];

	/* I/O thread */
	pthread_t thread;
	bool thread_started;
	int epoll_fd;
	int ctl_fd;			/* eventfd: requests below are pending */
	unsigned int requests;		/* VIRTIO_REQ_*, under lock */
	bool io_busy;			/* activated or failed since the last reset:
					 * a reset must go through the I/O thread (lock) */
	bool active;			/* I/O thread: queues started, device running */
	bool failed;			/* I/O thread: NEEDS_RESET until reset */
	bool pause_req;			/* API: park the I/O thread (under lock) */
	bool paused;			/* I/O thread parked (under lock) */
	bool stop;			/* destroy: the I/O thread exits (under lock) */
	bool restoring;			/* another thread restores or resets the device:
					 * the parked I/O thread stays parked (under lock) */
	pthread_cond_t cond;		/* paused/reset changes */
	struct virtio_watch watch[VIRTIO_MAX_WATCH];
	unsigned int nr_watch;
	char fail_msg[VIRTIO_FAIL_MSG_MAX];	/* why NEEDS_RESET (I/O thread, then read under lock) */
	uint64_t resets, fails;		/* counters */
};

/*
 * Set up the core part: @nr_queues queues of at most @queue_max entries,
 * @features the device-specific feature bits (the core adds VERSION_1,
 * INDIRECT_DESC, EVENT_IDX, RING_PACKED), @config_len bytes of config space
 * (the device fills vd->config).  Creates the eventfds; the I/O thread is
 * started by virtio_dev_start().  The caller fills vd->dev (id, class,
 * resources) and vd->priv, and the transport sets vd->tops/transport.
 */
int virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops,
		    const struct addr_space *as, unsigned int nr_queues,
		    uint16_t queue_max, uint64_t features, uint32_t config_len) KITE_WUR;
/* Start the I/O thread (before the vCPUs run). */
int virtio_dev_start(struct virtio_dev *vd) KITE_WUR;
/* Stop and join the I/O thread (idempotent): call before detaching the
 * transport, so that no interrupt or kick races with the teardown. */
void virtio_dev_stop(struct virtio_dev *vd);
/* Stop the thread, call ops->destroy, close fds.  Safe on a half-built device. */
void virtio_dev_destroy(struct virtio_dev *vd);

/* Pause/resume the I/O thread (API thread; the VM's vCPUs are parked first). */
void virtio_dev_pause(struct virtio_dev *vd);
void virtio_dev_resume(struct virtio_dev *vd);

/*
 * Let the I/O thread poll @fd (EPOLLIN, level-triggered) and call @fn;
 * -ENOSPC beyond VIRTIO_MAX_WATCH.  @fn is called whatever the device state
 * (also before DRIVER_OK and while it needs a reset): it must consume the
 * event or turn the watch off (virtio_dev_watch_enable), or the thread spins.
 */
int virtio_dev_watch(struct virtio_dev *vd, int fd, virtio_watch_fn fn, void *opaque) KITE_WUR;
/*
 * Turn polling of a watched @fd on or off (EPOLL_CTL_MOD; off keeps its
 * slot).  Watches are level-triggered, so a device whose fd can stay
 * readable while it has nothing to do with it (a tap with packets queued
 * but no rx buffers, an inactive or failed device) turns it off and back
 * on.  Off still reports EPOLLERR/EPOLLHUP (epoll always does).  I/O
 * thread, or before virtio_dev_start().  -ENOENT if @fd is not watched.
 */
int virtio_dev_watch_enable(struct virtio_dev *vd, int fd, bool on) KITE_WUR;
/*
 * Point watch @slot (the order of virtio_dev_watch calls; a slot may start
 * with fd -1) at another @fd (-1: none), e.g. a new client connection.
 * I/O thread only, or before virtio_dev_start().
 */
int virtio_dev_watch_replace(struct virtio_dev *vd, unsigned int slot, int fd) KITE_WUR;

/*
 * For a device class's own STATE setters (API thread, VM paused): keep the
 * device's I/O thread parked (or not started) while changing what it owns;
 * -EBUSY (message) when it runs, or while another restore of the device is
 * in progress.  Every successful begin needs an end.
 */
int virtio_restore_begin(struct virtio_dev *vd) KITE_WUR;
void virtio_restore_end(struct virtio_dev *vd);

/* ---- for devices (I/O thread) ---- */
/* The guest broke the rules: log, NEEDS_RESET, config interrupt, stop. */
void virtio_dev_fail(struct virtio_dev *vd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Pop from queue @q; a protocol violation fails the device (returns 0 then). */
int virtio_pop(struct virtio_dev *vd, unsigned int q, struct vq_elem *e);
/* Push a used chain (failure fails the device). */
void virtio_push(struct virtio_dev *vd, unsigned int q, const struct vq_elem *e,
		 uint32_t written);
/* After a batch of pushes: interrupt the driver if it wants one. */
void virtio_notify(struct virtio_dev *vd, unsigned int q);
/* Device config changed (vd->config updated under vd->lock): generation++, interrupt. */
void virtio_config_changed(struct virtio_dev *vd);
/* Ask the I/O thread to call ops->queue_kick(q) again (e.g. host-side room freed). */
void virtio_dev_rekick(struct virtio_dev *vd, unsigned int q);
/* Negotiated? (I/O thread or under lock) */
static inline bool virtio_has_feature(const struct virtio_dev *vd, unsigned int bit)
{
	return (vd->guest_features >> bit) & 1;
}

/* ---- for transports (vCPU threads; each takes vd->lock) ---- */
uint32_t virtio_read_host_features(struct virtio_dev *vd, uint32_t sel);
void virtio_write_guest_features(struct virtio_dev *vd, uint32_t sel, uint32_t val);
uint32_t virtio_read_guest_features(struct virtio_dev *vd, uint32_t sel);
uint8_t virtio_read_status(struct virtio_dev *vd);
/* Status writes: FEATURES_OK is refused (stays clear) when the accepted
 * features are not a subset of the offered ones or lack VERSION_1;
 * DRIVER_OK posts activation, 0 posts a reset. */
void virtio_write_status(struct virtio_dev *vd, uint8_t val);
/* Read-and-clear the ISR (pci ISR capability) / clear bits (mmio ACK). */
uint8_t virtio_isr_read_clear(struct virtio_dev *vd);
void virtio_isr_ack(struct virtio_dev *vd, uint8_t bits);
/* Config space: out-of-range bytes read as 0 and writes are dropped. */
void virtio_config_read(struct virtio_dev *vd, uint32_t off, uint8_t *buf, uint32_t len);
void virtio_config_write(struct virtio_dev *vd, uint32_t off, const uint8_t *buf, uint32_t len);
/*
 * Queue register access: the queue @q or NULL if out of range.  Changes to
 * a queue's registers are accepted only while the driver has not set
 * DRIVER_OK (virtio_queue_writable) - later writes are ignored.  Call under
 * vd->lock (virtio_lock/virtio_unlock).
 */
struct virtio_queue *virtio_queue_get(struct virtio_dev *vd, uint32_t q);
bool virtio_queue_writable(const struct virtio_dev *vd);
void virtio_lock(struct virtio_dev *vd);
void virtio_unlock(struct virtio_dev *vd);
/* A notification arrived by a register write (no ioeventfd): kick queue @q. */
void virtio_kick(struct virtio_dev *vd, uint32_t q);

/*
 * Common device-model attributes every virtio class lists first:
 *   static const struct dev_attr x_attrs[] = { VIRTIO_COMMON_ATTRS, ...own... };
 * and the common command "reset" (a device-side reset, as if the driver had
 * written 0 to the status: the driver sees a freshly reset device).
 *
 * The device's state is two STATE attributes, restored in this order
 * (virtio_state.c documents both layouts):
 *   transport_state  the transport's own registers (virtio-pci: the PCI
 *                    config space and the MSI-X table and PBA); written
 *                    first, so BARs and MSI-X routes are in place;
 *   virtio_state     the core: status, features, ISR, config space, and per
 *                    queue its registers and ring positions.  Written while
 *                    paused, it brings the device to exactly that state: a
 *                    running device (DRIVER_OK) gets its queues started from
 *                    the restored addresses and positions and its activate()
 *                    hook run, and polls its queues at resume.
 * A device class may add its own STATE attributes after these (restored
 * after virtio_state, i.e. onto an activated device).
 * "status" and "driver_features" are read-only views of virtio_state.
 */
void virtio_attr_status(struct device *dev, struct dev_value *out);
void virtio_attr_driver_features(struct device *dev, struct dev_value *out);
void virtio_attr_device_features(struct device *dev, struct dev_value *out);
void virtio_attr_needs_reset(struct device *dev, struct dev_value *out);
void virtio_attr_fail_reason(struct device *dev, struct dev_value *out);
void virtio_attr_resets(struct device *dev, struct dev_value *out);
void virtio_attr_kicks(struct device *dev, struct dev_value *out);
void virtio_attr_interrupts(struct device *dev, struct dev_value *out);
void virtio_attr_queues(struct device *dev, struct dev_value *out);
void virtio_attr_transport_state(struct device *dev, struct dev_value *out);
int virtio_attr_set_transport_state(struct device *dev, const struct dev_value *in);
void virtio_attr_virtio_state(struct device *dev, struct dev_value *out);
int virtio_attr_set_virtio_state(struct device *dev, const struct dev_value *in);
#define VIRTIO_COMMON_ATTRS						\
	{ "transport_state", DEV_ATTR_BYTES, DEV_ATTR_STATE,			\
	  "the transport's registers (virtio-pci: PCI config space, MSI-X table and PBA)", \
	  virtio_attr_transport_state, virtio_attr_set_transport_state },	\
	{ "virtio_state", DEV_ATTR_BYTES, DEV_ATTR_STATE,			\
	  "status, features, ISR, config space, queue registers and ring positions", \
	  virtio_attr_virtio_state, virtio_attr_set_virtio_state },		\
	{ "status", DEV_ATTR_U64, DEV_ATTR_INFO, "device status byte",		\
	  virtio_attr_status, NULL },						\
	{ "driver_features", DEV_ATTR_U64, DEV_ATTR_INFO, "features the driver accepted", \
	  virtio_attr_driver_features, NULL },					\
	{ "device_features", DEV_ATTR_U64, DEV_ATTR_INFO, "features the device offers", \
	  virtio_attr_device_features, NULL },					\
	{ "needs_reset", DEV_ATTR_BOOL, DEV_ATTR_INFO,				\
	  "the driver broke the rules; the device waits for a reset",		\
	  virtio_attr_needs_reset, NULL },					\
	{ "fail_reason", DEV_ATTR_STR, DEV_ATTR_INFO, "why the device needs a reset", \
	  virtio_attr_fail_reason, NULL },					\
	{ "resets", DEV_ATTR_U64, DEV_ATTR_INFO, "device resets", virtio_attr_resets, NULL }, \
	{ "kicks", DEV_ATTR_U64, DEV_ATTR_INFO, "guest notifications, all queues", \
	  virtio_attr_kicks, NULL },						\
	{ "interrupts", DEV_ATTR_U64, DEV_ATTR_INFO, "used-buffer interrupts sent", \
	  virtio_attr_interrupts, NULL },					\
	{ "queues", DEV_ATTR_U64, DEV_ATTR_INFO, "number of virtqueues",		\
	  virtio_attr_queues, NULL }
int virtio_cmd_reset(struct device *dev, const char *arg);
#define VIRTIO_COMMON_CMDS						\
	{ "reset", "device-side reset: the driver sees a freshly reset device", \
	  virtio_cmd_reset }

/*
 * A getter for a u64 counter @field of the device's private struct @type
 * (vd->priv), written by the I/O thread with __atomic adds:
 *   VIRTIO_COUNTER_GETTER(blk_get_reads, struct virtio_blk, reads)
 */
#define VIRTIO_COUNTER_GETTER(fn, type, field)					\
	static void fn(struct device *dev, struct dev_value *out)		\
	{									\
		out->u64 = __atomic_load_n(&((type *)virtio_from_dev(dev)->priv)->field, \
					   __ATOMIC_RELAXED);			\
	}

/* struct device -> struct virtio_dev */
static inline struct virtio_dev *virtio_from_dev(struct device *dev)
{
	return (struct virtio_dev *)dev;	/* dev is the first member */
}

#endif
