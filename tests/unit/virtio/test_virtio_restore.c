// SPDX-License-Identifier: MIT
/*
 * Moving a running virtio device to a second, identical one through its
 * STATE attributes, as a snapshot restore or a migration does: a driver
 * brings virtio-blk up over virtio-mmio and does I/O; the VM pauses; every
 * state attribute is read; a fresh device on a second address space, whose
 * RAM is a copy of the first's, is written with them (paused) and resumed;
 * the driver goes on with its rings on the second device.  Then hostile
 * values: each is refused with a message naming the field, and the device
 * is left as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/virtio_devs.h"
#include "harness.h"
#include "virtio/mmio.h"

#define RAM_SIZE	(4u << 20)
#define BASE		0xd0000000ULL
#define QSZ		16
#define DESC		0x10000ULL
#define AVAIL		0x11000ULL
#define USED		0x12000ULL
#define BUF		0x20000ULL
#define DATA		(BUF + 0x1000)
#define STATUS		(BUF + 0x100)

#define F_FLUSH		(1u << 9)
#define F_EVENT_IDX	(1u << 29)
#define F_RING_PACKED	34

/* virtio_state offsets (virtio_state.c) for a device with C config bytes. */
#define VS_FLAGS	1
#define VS_STATUS	2
#define VS_FEATURES	4
#define VS_NR_QUEUES	28
#define VS_MSIX_CONFIG	24
#define VS_QUEUE(c)	(33 + (c))	/* first queue record, no NEEDS_RESET message */
#define VQ_SIZE		0
#define VQ_VECTOR	2
#define VQ_IN_FLIGHT	6
#define VQ_DESC		8
#define VQ_LAST_AVAIL	32
#define VQ_NEXT_AVAIL	36
#define VQ_NEXT_USED	38
#define BLK_CONFIG_LEN	60

struct rig {
	struct addr_space as;
	uint8_t *ram;
	struct bus mmio;
	struct virtio_mmio m;
	struct virtio_dev *vd;
	uint16_t avail_idx;
};

#include "mmio_rig.h"
#include "split_ring.h"

/* Every STATE attribute of a device, in its class's order. */
struct saved {
	const char *name[32];
	struct dev_value v[32];
	unsigned int n;
};

static int save_state(struct device *dev, struct saved *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < dev->cls->nr_attrs; i++) {
		const struct dev_attr *a = &dev->cls->attrs[i];

		if (a->access != DEV_ATTR_STATE)
			continue;
		s->name[s->n] = a->name;
		if (dev_attr_get(dev, a->name, &s->v[s->n]))
			return -1;
		s->n++;
	}
	return 0;
}

static int load_state(struct device *dev, const struct saved *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		if (dev_attr_set(dev, s->name[i], &s->v[i], true)) {
			printf("# %s: %s\n", s->name[i], err_msg());
			return -1;
		}
	}
	return 0;
}

static void free_state(struct saved *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		dev_value_release(&s->v[i]);
	s->n = 0;
}

static struct dev_value *find_saved(struct saved *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return &s->v[i];
	abort();
}

static bool same_bytes(const struct dev_value *a, const struct dev_value *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

/* ---- the driver (split ring, queue 0) ---- */

static void driver_init(struct rig *r, uint32_t features)
{
	wr32(r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(r, VMMIO_DRV_FEATURES_SEL, 1);
	wr32(r, VMMIO_DRV_FEATURES, 1u);		/* VERSION_1 */
	wr32(r, VMMIO_DRV_FEATURES_SEL, 0);
	wr32(r, VMMIO_DRV_FEATURES, features);
	wr32(r, VMMIO_STATUS, 0x0b);
	memset(r->ram + DESC, 0, 0x3000);	/* fresh rings, as a driver allocates */
	wr32(r, VMMIO_QUEUE_SEL, 0);
	wr32(r, VMMIO_QUEUE_NUM, QSZ);
	wr32(r, VMMIO_QUEUE_DESC_LO, (uint32_t)DESC);
	wr32(r, VMMIO_QUEUE_DRIVER_LO, (uint32_t)AVAIL);
	wr32(r, VMMIO_QUEUE_DEVICE_LO, (uint32_t)USED);
	wr32(r, VMMIO_QUEUE_READY, 1);
	wr32(r, VMMIO_STATUS, 0x0f);
	r->avail_idx = 0;
}

/* One block request (header, data, status) through descriptors 0..2; its
 * status byte, or -1 when it did not complete. */
static int blk_request(struct rig *r, uint32_t type, uint64_t sector, uint32_t len)
{
	uint16_t *avail = (uint16_t *)(r->ram + AVAIL);
	uint16_t want = (uint16_t)(r->avail_idx + 1);
	uint8_t *h = r->ram + BUF;
	int i;

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	r->ram[STATUS] = 0xff;
	set_desc(r, 0, BUF, 16, 1, 1);
	set_desc(r, 1, DATA, len, (uint16_t)(1 | (type == 0 ? 2 : 0)), 2);
	set_desc(r, 2, STATUS, 1, 2, 0);
	avail[2 + r->avail_idx % QSZ] = 0;
	__atomic_store_n(&avail[1], ++r->avail_idx, __ATOMIC_RELEASE);
	wr32(r, VMMIO_QUEUE_NOTIFY, 0);
	for (i = 0; i < 3000 && used_idx(r) != want; i++)
		sleep_ms(1);
	return used_idx(r) == want ? r->ram[STATUS] : -1;
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13 + seed);
}

static int make_disk(char *path)
{
	int fd;

	snprintf(path, VBLK_PATH_MAX, "/tmp/kite-restore-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, 1 << 20)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A virtio-blk on @path behind a fresh rig; @start: its I/O thread runs. */
static int blk_rig(struct rig *r, const char *path, bool start)
{
	struct virtio_blk_config_in cfg = { .id = "vda", .queues = 1 };
	struct virtio_dev *vd;

	snprintf(cfg.path, sizeof(cfg.path), "%s", path);
	if (virtio_blk_create(&cfg, NULL, &vd))
		return -1;
	return start ? rig_init(r, vd) : rig_attach(r, vd);
}

/* Bring @a up and do 20 requests (the ring wraps), leaving @pattern at sector 8. */
static int drive_source(struct rig *a, uint8_t *pattern, size_t len)
{
	unsigned int i;

	driver_init(a, F_FLUSH | F_EVENT_IDX);
	if (!(rd32(a, VMMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK))
		return -1;
	for (i = 0; i < 19; i++) {
		fill(a->ram + DATA, len, i);
		if (blk_request(a, 1, 8, (uint32_t)len))
			return -1;
	}
	memcpy(pattern, a->ram + DATA, len);
	return blk_request(a, 4, 0, 0) == 0 ? 0 : -1;	/* flush */
}

/* ---- moving a device ---- */

static void restored_blk_over_mmio_continues_the_drivers_rings(void)
{
	static uint8_t pattern[4096];
	char path[VBLK_PATH_MAX];
	struct rig a, b;
	struct saved sa, sb;
	struct virtqueue *vq;
	uint64_t raised;

	CHECK_EQ(make_disk(path), 0);
	CHECK_EQ(blk_rig(&a, path, true), 0);
	CHECK_EQ(drive_source(&a, pattern, sizeof(pattern)), 0);
	CHECK_EQ(used_idx(&a), 20);
	/* Pause: in-flight requests complete first, so positions agree. */
	virtio_dev_pause(a.vd);
	vq = &a.vd->queues[0].vq;
	CHECK_EQ(vq->last_avail, 20);
	CHECK_EQ(vq->used_idx, 20);
	CHECK_EQ(vq->popped, vq->pushed);
	CHECK_EQ(save_state(&a.vd->dev, &sa), 0);
	CHECK_EQ(sa.n, 2);				/* transport_state, virtio_state */
	/* Written back onto the running (paused) device itself: it reads the same. */
	CHECK_EQ(load_state(&a.vd->dev, &sa), 0);
	CHECK_EQ(save_state(&a.vd->dev, &sb), 0);
	CHECK(same_bytes(find_saved(&sa, "virtio_state"), find_saved(&sb, "virtio_state")));
	free_state(&sb);

	/* A second machine: same device, RAM copied, paused, never run. */
	CHECK_EQ(blk_rig(&b, path, true), 0);
	memcpy(b.ram, a.ram, RAM_SIZE);
	b.avail_idx = a.avail_idx;
	virtio_dev_pause(b.vd);
	raised = __atomic_load_n(&b.m.irq.raised, __ATOMIC_RELAXED);
	CHECK_EQ(load_state(&b.vd->dev, &sa), 0);
	CHECK_EQ(save_state(&b.vd->dev, &sb), 0);
	CHECK(same_bytes(find_saved(&sa, "virtio_state"), find_saved(&sb, "virtio_state")));
	CHECK(same_bytes(find_saved(&sa, "transport_state"), find_saved(&sb, "transport_state")));
	free_state(&sb);
	virtio_dev_resume(b.vd);

	/* The driver goes on where it was: index 20, data, interrupt. */
	CHECK_EQ(rd32(&b, VMMIO_STATUS), 0x0f);
	wr32(&b, VMMIO_INT_ACK, rd32(&b, VMMIO_INT_STATUS));
	memset(b.ram + DATA, 0, sizeof(pattern));
	CHECK_EQ(blk_request(&b, 0, 8, sizeof(pattern)), 0);
	CHECK_EQ(used_idx(&b), 21);
	CHECK(!memcmp(b.ram + DATA, pattern, sizeof(pattern)));
	CHECK(__atomic_load_n(&b.m.irq.raised, __ATOMIC_RELAXED) > raised);
	CHECK_EQ(rd32(&b, VMMIO_INT_STATUS) & VIRTIO_ISR_QUEUE, VIRTIO_ISR_QUEUE);
	fill(b.ram + DATA, sizeof(pattern), 77);
	CHECK_EQ(blk_request(&b, 1, 16, sizeof(pattern)), 0);
	memset(b.ram + DATA, 0, sizeof(pattern));
	CHECK_EQ(blk_request(&b, 0, 16, sizeof(pattern)), 0);
	CHECK_EQ(b.ram[DATA + 5], (uint8_t)(5 * 13 + 77));
	CHECK_EQ(b.vd->queues[0].vq.used_idx, 23);	/* avail_event kept up, too */
	CHECK_EQ(((uint16_t *)(b.ram + USED))[2 + QSZ * 4], 23);
	free_state(&sa);
	rig_destroy(&b);
	rig_destroy(&a);
	unlink(path);
}

/* A VM restored before it ever ran: the device thread starts afterwards. */
static void restore_before_the_device_thread_starts_works_too(void)
{
	static uint8_t pattern[512];
	char path[VBLK_PATH_MAX];
	struct rig a, b;
	struct saved sa;

	CHECK_EQ(make_disk(path), 0);
	CHECK_EQ(blk_rig(&a, path, true), 0);
	CHECK_EQ(drive_source(&a, pattern, sizeof(pattern)), 0);
	virtio_dev_pause(a.vd);
	CHECK_EQ(save_state(&a.vd->dev, &sa), 0);
	CHECK_EQ(blk_rig(&b, path, false), 0);
	memcpy(b.ram, a.ram, RAM_SIZE);
	b.avail_idx = a.avail_idx;
	CHECK_EQ(load_state(&b.vd->dev, &sa), 0);
	CHECK_EQ(virtio_dev_start(b.vd), 0);
	memset(b.ram + DATA, 0, sizeof(pattern));
	CHECK_EQ(blk_request(&b, 0, 8, sizeof(pattern)), 0);
	CHECK(!memcmp(b.ram + DATA, pattern, sizeof(pattern)));
	free_state(&sa);
	rig_destroy(&b);
	rig_destroy(&a);
	unlink(path);
}

/* A chain made available but not popped before the pause is served after
 * the restore, without another kick (its notification is lost with the
 * source machine). */
static void chain_made_available_before_the_pause_is_served_after_restore(void)
{
	static uint8_t pattern[512];
	uint16_t *avail;
	char path[VBLK_PATH_MAX];
	struct rig a, b;
	struct saved sa;
	int i;

	CHECK_EQ(make_disk(path), 0);
	CHECK_EQ(blk_rig(&a, path, true), 0);
	CHECK_EQ(drive_source(&a, pattern, sizeof(pattern)), 0);
	virtio_dev_pause(a.vd);
	/* The driver queues a read and its kick reaches nobody. */
	memset(a.ram + BUF, 0, 16);
	a.ram[BUF + 8] = 8;				/* IN, sector 8 */
	a.ram[STATUS] = 0xff;
	set_desc(&a, 1, DATA, sizeof(pattern), 1 | 2, 2);
	avail = (uint16_t *)(a.ram + AVAIL);
	avail[2 + a.avail_idx % QSZ] = 0;
	avail[1] = ++a.avail_idx;
	memset(a.ram + DATA, 0, sizeof(pattern));
	CHECK_EQ(save_state(&a.vd->dev, &sa), 0);
	CHECK_EQ(blk_rig(&b, path, true), 0);
	memcpy(b.ram, a.ram, RAM_SIZE);
	virtio_dev_pause(b.vd);
	CHECK_EQ(load_state(&b.vd->dev, &sa), 0);
	virtio_dev_resume(b.vd);
	for (i = 0; i < 3000 && used_idx(&b) != 21; i++)
		sleep_ms(1);
	CHECK_EQ(used_idx(&b), 21);
	CHECK_EQ(b.ram[STATUS], 0);
	CHECK(!memcmp(b.ram + DATA, pattern, sizeof(pattern)));
	free_state(&sa);
	rig_destroy(&b);
	rig_destroy(&a);
	unlink(path);
}

static void needs_reset_device_restores_as_needing_reset(void)
{
	char path[VBLK_PATH_MAX];
	struct dev_value v;
	struct rig a, b;
	struct saved sa;
	int i;

	CHECK_EQ(make_disk(path), 0);
	CHECK_EQ(blk_rig(&a, path, true), 0);
	driver_init(&a, 0);
	set_desc(&a, 0, BUF, 4, 1, 1);			/* a 4-byte header */
	set_desc(&a, 1, STATUS, 1, 2, 0);
	((uint16_t *)(a.ram + AVAIL))[2] = 0;
	__atomic_store_n((uint16_t *)(a.ram + AVAIL) + 1, 1, __ATOMIC_RELEASE);
	wr32(&a, VMMIO_QUEUE_NOTIFY, 0);
	for (i = 0; i < 3000 && !(rd32(&a, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET); i++)
		sleep_ms(1);
	CHECK(rd32(&a, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	virtio_dev_pause(a.vd);
	CHECK_EQ(save_state(&a.vd->dev, &sa), 0);
	CHECK_EQ(blk_rig(&b, path, true), 0);
	memcpy(b.ram, a.ram, RAM_SIZE);
	virtio_dev_pause(b.vd);
	CHECK_EQ(load_state(&b.vd->dev, &sa), 0);
	virtio_dev_resume(b.vd);
	CHECK_EQ(dev_attr_get(&b.vd->dev, "needs_reset", &v), 0);
	CHECK(v.b);
	CHECK_EQ(dev_attr_get(&b.vd->dev, "fail_reason", &v), 0);
	CHECK_STR_CONTAINS(v.str, "header");
	CHECK_EQ(rd32(&b, VMMIO_INT_STATUS) & VIRTIO_ISR_CONFIG, VIRTIO_ISR_CONFIG);
	/* The driver resets it, as it would have on the first machine. */
	wr32(&b, VMMIO_STATUS, 0);
	for (i = 0; i < 3000 && rd32(&b, VMMIO_STATUS); i++)
		sleep_ms(1);
	CHECK_EQ(rd32(&b, VMMIO_STATUS), 0);
	driver_init(&b, 0);
	CHECK_EQ(blk_request(&b, 0, 0, 512), 0);
	free_state(&sa);
	rig_destroy(&b);
	rig_destroy(&a);
	unlink(path);
}

/* ---- hostile values ---- */

struct hostile {
	const char *what;
	unsigned int off;	/* first byte of the field to change */
	unsigned int width;
	uint64_t val;
	const char *why;
};

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* @good with one field changed is refused with @h->why; @dev unchanged. */
static int refused(struct device *dev, const struct dev_value *good, const struct hostile *h,
		   const struct dev_value *before)
{
	struct dev_value bad = *good, after;
	uint8_t buf[4096];
	int ok;

	memcpy(buf, good->bytes, good->len);
	bad.bytes = buf;
	put_le(buf + h->off, h->val, h->width);
	ok = dev_attr_set(dev, "virtio_state", &bad, true) == -EINVAL &&
	     strstr(err_msg(), h->why) && strstr(err_msg(), "device 'vda': virtio_state: ");
	if (!ok)
		printf("# %s: \"%s\" (wanted \"%s\")\n", h->what, err_msg(), h->why);
	if (dev_attr_get(dev, "virtio_state", &after))
		return 0;
	ok = ok && same_bytes(before, &after);
	dev_value_release(&after);
	return ok;
}

static void hostile_virtio_state_is_refused_and_changes_nothing(void)
{
	const unsigned int q = VS_QUEUE(BLK_CONFIG_LEN);
	const struct hostile cases[] = {
		{ "version", 0, 1, 2, "layout version 2 is not known" },
		{ "flags", VS_FLAGS, 1, 0x83, "unknown flags" },
		{ "not quiesced", VS_FLAGS, 1, 0x00, "read while the device was running" },
		{ "queues", VS_NR_QUEUES, 2, 2, "2 queues, this device has 1" },
		{ "features", VS_FEATURES, 8, (1ULL << 32) | (1ULL << 60),
		  "FEATURES_OK with driver features" },
		{ "no VERSION_1", VS_FEATURES, 8, 0, "VERSION_1 required" },
		{ "config vector", VS_MSIX_CONFIG, 2, 0, "config MSI-X vector 0 (the device has 0)" },
		{ "size", q + VQ_SIZE, 2, 3, "queue 0: split queue size 3 is not a power of two" },
		{ "big size", q + VQ_SIZE, 2, 2048, "queue 0: queue size 2048 not in 1..1024" },
		{ "ring outside RAM", q + VQ_DESC, 8, RAM_SIZE + 0x1000,
		  "queue 0: descriptor area" },
		{ "ring in a hole", q + VQ_DESC, 8, 0xfffffffff000ULL, "not inside one" },
		{ "misaligned ring", q + VQ_DESC, 8, DESC + 8, "not 16-byte aligned" },
		{ "in flight", q + VQ_IN_FLIGHT, 2, 1, "queue 0: chains in flight" },
		{ "positions apart", q + VQ_LAST_AVAIL, 2, 25, "queue 0: chains in flight" },
		{ "vector", q + VQ_VECTOR, 2, 1, "queue 0: MSI-X vector 1" },
		{ "status", VS_STATUS, 1, 0x4f, "an active device with status 0x4f" },
	};
	static uint8_t pattern[512];
	char path[VBLK_PATH_MAX];
	struct dev_value before, *good, bad;
	struct rig a, b;
	struct saved sa;
	unsigned int i;

	CHECK_EQ(make_disk(path), 0);
	CHECK_EQ(blk_rig(&a, path, true), 0);
	CHECK_EQ(drive_source(&a, pattern, sizeof(pattern)), 0);
	virtio_dev_pause(a.vd);
	CHECK_EQ(save_state(&a.vd->dev, &sa), 0);
	good = find_saved(&sa, "virtio_state");
	CHECK_EQ(good->len, q + 40);
	CHECK_EQ(blk_rig(&b, path, true), 0);
	memcpy(b.ram, a.ram, RAM_SIZE);
	/* Running: refused whatever the value. */
	CHECK_EQ(dev_attr_set(&b.vd->dev, "virtio_state", good, true), -EBUSY);
	CHECK_STR_CONTAINS(err_msg(), "I/O thread runs: pause the VM first");
	virtio_dev_pause(b.vd);
	CHECK_EQ(dev_attr_get(&b.vd->dev, "virtio_state", &before), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(refused(&b.vd->dev, good, &cases[i], &before));
	/* Cut in the header, in the last queue, or empty. */
	bad = *good;
	bad.len = 32;
	CHECK_EQ(dev_attr_set(&b.vd->dev, "virtio_state", &bad, true), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "truncated at byte 32");
	bad.len = good->len - 1;
	CHECK_EQ(dev_attr_set(&b.vd->dev, "virtio_state", &bad, true), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "truncated at byte");
	bad.len = 0;
	CHECK_EQ(dev_attr_set(&b.vd->dev, "virtio_state", &bad, true), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "empty");
	/* Packed-ring positions beyond the ring. */
	{
		struct hostile p1 = { "packed", VS_FEATURES + 4, 1, 1 | (1u << (F_RING_PACKED - 32)),
				      "", };
		uint8_t buf[4096];

		memcpy(buf, good->bytes, good->len);
		put_le(buf + p1.off, p1.val, p1.width);
		put_le(buf + q + VQ_LAST_AVAIL, 0, 2);
		put_le(buf + q + VQ_LAST_AVAIL + 2, 0, 2);
		put_le(buf + q + VQ_NEXT_AVAIL, QSZ + 3, 2);
		put_le(buf + q + VQ_NEXT_USED, QSZ + 3, 2);
		bad = *good;
		bad.bytes = buf;
		CHECK_EQ(dev_attr_set(&b.vd->dev, "virtio_state", &bad, true), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "queue 0: virtqueue: packed position out of range");
	}
	/* Trailing bytes. */
	{
		uint8_t buf[4096];

		memcpy(buf, good->bytes, good->len);
		buf[good->len] = 0;
		bad = *good;
		bad.bytes = buf;
		bad.len = good->len + 1;
		CHECK_EQ(dev_attr_set(&b.vd->dev, "virtio_state", &bad, true), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "1 bytes left over");
	}
	/* transport_state of another transport. */
	{
		uint8_t pci[] = { 1, VIRTIO_TID_PCI };

		bad = (struct dev_value){ .type = DEV_ATTR_BYTES, .bytes = pci, .len = 2 };
		CHECK_EQ(dev_attr_set(&b.vd->dev, "transport_state", &bad, true), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "written by virtio-pci (2); this device is on "
				   "virtio-mmio");
	}
	CHECK_EQ(rd32(&b, VMMIO_STATUS), 0);
	/* And the good value still restores. */
	CHECK_EQ(dev_attr_set(&b.vd->dev, "virtio_state", good, true), 0);
	CHECK_EQ(rd32(&b, VMMIO_STATUS), 0x0f);
	dev_value_release(&before);
	free_state(&sa);
	rig_destroy(&b);
	rig_destroy(&a);
	unlink(path);
}

int main(void)
{
	RUN(restored_blk_over_mmio_continues_the_drivers_rings);
	RUN(restore_before_the_device_thread_starts_works_too);
	RUN(chain_made_available_before_the_pause_is_served_after_restore);
	RUN(needs_reset_device_restores_as_needing_reset);
	RUN(hostile_virtio_state_is_refused_and_changes_nothing);
	return harness_done();
}
