// SPDX-License-Identifier: MIT
/*
 * The virtio core, the virtio-mmio transport and the rng and blk devices,
 * driven through the MMIO bus exactly as a guest driver would (register
 * accesses, split rings in guest RAM, QueueNotify), without KVM: the
 * device's I/O thread runs for real, notifications go through its kick
 * eventfds, interrupts are counted on the (unconnected) line.
 */
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
#define DESC		0x10000ULL	/* desc table, avail, used of queue 0 */
#define AVAIL		0x11000ULL
#define USED		0x12000ULL
#define BUF		0x20000ULL

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


/* The driver's initialisation sequence for queue 0; returns the status read back. */
static uint32_t rig_driver_init(struct rig *r, uint64_t extra_features)
{
	wr32(r, VMMIO_STATUS, 0);
	while (rd32(r, VMMIO_STATUS))
		sleep_ms(1);
	wr32(r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(r, VMMIO_DRV_FEATURES_SEL, 1);
	wr32(r, VMMIO_DRV_FEATURES, 1u);	/* VERSION_1 */
	wr32(r, VMMIO_DRV_FEATURES_SEL, 0);
	wr32(r, VMMIO_DRV_FEATURES, (uint32_t)extra_features);
	wr32(r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK);
	r->avail_idx = 0;
	memset(r->ram + DESC, 0, 0x3000);	/* fresh rings before DRIVER_OK */
	wr32(r, VMMIO_QUEUE_SEL, 0);
	wr32(r, VMMIO_QUEUE_NUM, QSZ);
	wr32(r, VMMIO_QUEUE_DESC_LO, (uint32_t)DESC);
	wr32(r, VMMIO_QUEUE_DRIVER_LO, (uint32_t)AVAIL);
	wr32(r, VMMIO_QUEUE_DEVICE_LO, (uint32_t)USED);
	wr32(r, VMMIO_QUEUE_READY, 1);
	wr32(r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return rd32(r, VMMIO_STATUS);
}

/* Make chain @head available and kick; wait for used idx to reach @want. */
static int submit_wait(struct rig *r, uint16_t head, uint16_t want_used)
{
	uint16_t *avail = (uint16_t *)(r->ram + AVAIL);
	uint16_t *used_idx = (uint16_t *)(r->ram + USED + 2);
	int i;

	avail[2 + r->avail_idx % QSZ] = head;
	__atomic_store_n(&avail[1], ++r->avail_idx, __ATOMIC_RELEASE);
	wr32(r, VMMIO_QUEUE_NOTIFY, 0);
	for (i = 0; i < 2000 && __atomic_load_n(used_idx, __ATOMIC_ACQUIRE) != want_used; i++)
		sleep_ms(1);
	return __atomic_load_n(used_idx, __ATOMIC_ACQUIRE) == want_used ? 0 : -1;
}

static uint32_t used_len(struct rig *r, unsigned int i)
{
	uint32_t len;

	memcpy(&len, r->ram + USED + 4 + 8 * (i % QSZ) + 4, 4);
	return len;
}

static int wait_status_bit(struct rig *r, uint32_t bit)
{
	int i;

	for (i = 0; i < 2000 && !(rd32(r, VMMIO_STATUS) & bit); i++)
		sleep_ms(1);
	return (rd32(r, VMMIO_STATUS) & bit) ? 0 : -1;
}

static void test_mmio_identifies_the_device(void)
{
	struct virtio_dev *vd;
	struct rig r;

	CHECK_EQ(virtio_rng_create("rng0", NULL, &vd), 0);
	vd->as = NULL;
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	CHECK_EQ(rd32(&r, VMMIO_MAGIC), VIRTIO_MMIO_MAGIC);
	CHECK_EQ(rd32(&r, VMMIO_VERSION), 2);
	CHECK_EQ(rd32(&r, VMMIO_DEVICE_ID), VIRTIO_ID_RNG);
	wr32(&r, VMMIO_DEV_FEATURES_SEL, 1);
	CHECK(rd32(&r, VMMIO_DEV_FEATURES) & 1);	/* VERSION_1 */
	wr32(&r, VMMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd32(&r, VMMIO_QUEUE_NUM_MAX), 256);
	wr32(&r, VMMIO_QUEUE_SEL, 1);
	CHECK_EQ(rd32(&r, VMMIO_QUEUE_NUM_MAX), 0);	/* no such queue */
	rig_destroy(&r);
}

static void test_features_without_version_1_are_refused(void)
{
	struct virtio_dev *vd;
	struct rig r;

	CHECK_EQ(virtio_rng_create("rng0", NULL, &vd), 0);
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	wr32(&r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(&r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(rd32(&r, VMMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK));
	rig_destroy(&r);
}

static void test_rng_fills_a_buffer_and_interrupts(void)
{
	struct virtio_dev *vd;
	struct dev_value v;
	struct rig r;
	unsigned int i, nonzero = 0;

	CHECK_EQ(virtio_rng_create("rng0", NULL, &vd), 0);
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	CHECK(rig_driver_init(&r, 0) & VIRTIO_STATUS_DRIVER_OK);
	set_desc(&r, 0, BUF, 256, 2 /* WRITE */, 0);
	CHECK_EQ(submit_wait(&r, 0, 1), 0);
	CHECK_EQ(used_len(&r, 0), 256);
	for (i = 0; i < 256; i++)
		nonzero += r.ram[BUF + i] != 0;
	CHECK(nonzero > 200);
	CHECK(__atomic_load_n(&r.m.irq.raised, __ATOMIC_RELAXED) >= 1);
	CHECK_EQ(rd32(&r, VMMIO_INT_STATUS) & VIRTIO_ISR_QUEUE, VIRTIO_ISR_QUEUE);
	wr32(&r, VMMIO_INT_ACK, VIRTIO_ISR_QUEUE);
	CHECK_EQ(rd32(&r, VMMIO_INT_STATUS), 0);
	CHECK_EQ(dev_attr_get(&vd->dev, "bytes", &v), 0);
	CHECK_EQ(v.u64, 256);
	/* A request larger than the cap gets the cap. */
	set_desc(&r, 1, BUF, 1u << 20, 2, 0);
	CHECK_EQ(submit_wait(&r, 1, 2), 0);
	CHECK_EQ(used_len(&r, 1), VRNG_MAX_PER_REQUEST);
	rig_destroy(&r);
}

static void test_bad_descriptor_needs_reset_and_reset_recovers(void)
{
	struct virtio_dev *vd;
	struct dev_value v;
	struct rig r;

	CHECK_EQ(virtio_rng_create("rng0", NULL, &vd), 0);
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	CHECK(rig_driver_init(&r, 0) & VIRTIO_STATUS_DRIVER_OK);
	set_desc(&r, 0, 0, 16, 2 | 1 /* NEXT */, 0);	/* a loop */
	submit_wait(&r, 0, 1);
	CHECK_EQ(wait_status_bit(&r, VIRTIO_STATUS_NEEDS_RESET), 0);
	CHECK(rd32(&r, VMMIO_INT_STATUS) & VIRTIO_ISR_CONFIG);
	CHECK_EQ(dev_attr_get(&vd->dev, "needs_reset", &v), 0);
	CHECK(v.b);
	CHECK_EQ(dev_attr_get(&vd->dev, "fail_reason", &v), 0);
	CHECK(v.str[0]);
	/* The driver resets and starts over: the device works again. */
	CHECK(rig_driver_init(&r, 0) & VIRTIO_STATUS_DRIVER_OK);
	CHECK(!(rd32(&r, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));
	set_desc(&r, 0, BUF, 64, 2, 0);
	CHECK_EQ(submit_wait(&r, 0, 1), 0);
	CHECK_EQ(used_len(&r, 0), 64);
	/* A buffer outside RAM fails the device, too. */
	set_desc(&r, 1, RAM_SIZE - 8, 64, 2, 0);
	submit_wait(&r, 1, 2);
	CHECK_EQ(wait_status_bit(&r, VIRTIO_STATUS_NEEDS_RESET), 0);
	rig_destroy(&r);
}

static void test_notify_before_driver_ok_needs_reset(void)
{
	struct virtio_dev *vd;
	struct rig r;

	CHECK_EQ(virtio_rng_create("rng0", NULL, &vd), 0);
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	wr32(&r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(&r, VMMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(wait_status_bit(&r, VIRTIO_STATUS_NEEDS_RESET), 0);
	rig_destroy(&r);
}

static void test_ring_outside_ram_needs_reset(void)
{
	struct virtio_dev *vd;
	struct rig r;

	CHECK_EQ(virtio_rng_create("rng0", NULL, &vd), 0);
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	wr32(&r, VMMIO_STATUS, 0);
	wr32(&r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(&r, VMMIO_DRV_FEATURES_SEL, 1);
	wr32(&r, VMMIO_DRV_FEATURES, 1u);
	wr32(&r, VMMIO_STATUS, 0xb);
	wr32(&r, VMMIO_QUEUE_NUM, QSZ);
	wr32(&r, VMMIO_QUEUE_DESC_LO, 0xfffff000u);	/* not RAM */
	wr32(&r, VMMIO_QUEUE_DRIVER_LO, (uint32_t)AVAIL);
	wr32(&r, VMMIO_QUEUE_DEVICE_LO, (uint32_t)USED);
	wr32(&r, VMMIO_QUEUE_READY, 1);
	wr32(&r, VMMIO_STATUS, 0xf);
	CHECK_EQ(wait_status_bit(&r, VIRTIO_STATUS_NEEDS_RESET), 0);
	rig_destroy(&r);
}

/* ---- virtio-blk ---- */

static int make_disk(char *path, size_t size)
{
	int fd;

	snprintf(path, 64, "/tmp/kite-vblk-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* header at BUF, data at BUF+0x1000 (len), status at BUF+0x100 */
static int blk_request(struct rig *r, uint32_t type, uint64_t sector, uint32_t len, uint16_t n)
{
	uint8_t *h = r->ram + BUF;
	bool data_in = type == 0 || type == 8;

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	r->ram[BUF + 0x100] = 0xff;
	set_desc(r, 0, BUF, 16, 1, 1);
	if (len) {
		set_desc(r, 1, BUF + 0x1000, len, (uint16_t)(1 | (data_in ? 2 : 0)), 2);
		set_desc(r, 2, BUF + 0x100, 1, 2, 0);
	} else {
		set_desc(r, 1, BUF + 0x100, 1, 2, 0);
	}
	if (submit_wait(r, 0, n))
		return -1;
	return r->ram[BUF + 0x100];
}

static void test_blk_write_read_flush_id_discard(void)
{
	struct virtio_blk_config_in cfg = { .id = "vda", .queues = 1 };
	struct virtio_dev *vd;
	struct dev_value v;
	uint8_t pattern[8192], file[8192];
	struct rig r;
	unsigned int i;
	int fd;

	CHECK_EQ(make_disk(cfg.path, 1 << 20), 0);
	CHECK_EQ(virtio_blk_create(&cfg, NULL, &vd), 0);
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	CHECK_EQ(vd->config[0], (1 << 20) / 512 & 0xff);	/* capacity */
	CHECK(rig_driver_init(&r, 1u << 9 /* FLUSH */) & VIRTIO_STATUS_DRIVER_OK);
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	memcpy(r.ram + BUF + 0x1000, pattern, sizeof(pattern));
	CHECK_EQ(blk_request(&r, 1, 8, sizeof(pattern), 1), 0);
	CHECK_EQ(used_len(&r, 0), 1);
	memset(r.ram + BUF + 0x1000, 0, sizeof(pattern));
	CHECK_EQ(blk_request(&r, 0, 8, sizeof(pattern), 2), 0);
	CHECK_EQ(used_len(&r, 1), sizeof(pattern) + 1);
	CHECK(!memcmp(r.ram + BUF + 0x1000, pattern, sizeof(pattern)));
	CHECK_EQ(blk_request(&r, 4, 0, 0, 3), 0);		/* flush */
	fd = open(cfg.path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(pread(fd, file, sizeof(file), 8 * 512), sizeof(file));
	close(fd);
	CHECK(!memcmp(file, pattern, sizeof(pattern)));
	CHECK_EQ(blk_request(&r, 8, 0, 20, 4), 0);		/* GET_ID */
	CHECK(!memcmp(r.ram + BUF + 0x1000, "vda", 4));
	/* Beyond the end: an I/O error, nothing written. */
	CHECK_EQ(blk_request(&r, 1, 2047, 1024, 5), 1);
	/* Unknown type: unsupported. */
	CHECK_EQ(blk_request(&r, 99, 0, 0, 6), 2);
	/* WRITE_ZEROES of sectors 8..15: reads back as zeros. */
	{
		uint8_t seg[16] = { 0 };
		uint64_t sector = 8;
		uint32_t num = 8;

		memcpy(seg, &sector, 8);
		memcpy(seg + 8, &num, 4);
		memcpy(r.ram + BUF + 0x1000, seg, 16);
		CHECK_EQ(blk_request(&r, 13, 0, 16, 7), 0);
		CHECK_EQ(blk_request(&r, 0, 8, 4096, 8), 0);
		for (i = 0; i < 4096; i++)
			CHECK_EQ(r.ram[BUF + 0x1000 + i], 0);
		CHECK(r.ram[BUF + 0x1000 + 4096] == pattern[4096]);
	}
	CHECK_EQ(dev_attr_get(&vd->dev, "writes", &v), 0);
	CHECK_EQ(v.u64, 1);
	CHECK_EQ(dev_attr_get(&vd->dev, "errors", &v), 0);
	CHECK_EQ(v.u64, 2);
	/* Pause drains, resume continues. */
	virtio_dev_pause(vd);
	virtio_dev_resume(vd);
	CHECK_EQ(blk_request(&r, 0, 0, 512, 9), 0);
	rig_destroy(&r);
	unlink(cfg.path);
}

static void test_blk_read_only_refuses_writes(void)
{
	struct virtio_blk_config_in cfg = { .id = "ro", .ro = true };
	struct virtio_dev *vd;
	struct rig r;

	CHECK_EQ(make_disk(cfg.path, 1 << 16), 0);
	CHECK_EQ(virtio_blk_create(&cfg, NULL, &vd), 0);
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	CHECK(vd->host_features & (1u << 5));		/* VIRTIO_BLK_F_RO */
	CHECK(rig_driver_init(&r, 1u << 5) & VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(blk_request(&r, 1, 0, 512, 1), 1);	/* IOERR */
	CHECK_EQ(blk_request(&r, 0, 0, 512, 2), 0);
	rig_destroy(&r);
	unlink(cfg.path);
}

static void test_blk_missing_header_needs_reset(void)
{
	struct virtio_blk_config_in cfg = { .id = "vdb" };
	struct virtio_dev *vd;
	struct rig r;

	CHECK_EQ(make_disk(cfg.path, 1 << 16), 0);
	CHECK_EQ(virtio_blk_create(&cfg, NULL, &vd), 0);
	CHECK_EQ(rig_init(&r, vd), 0);
	vd->as = &r.as;
	CHECK(rig_driver_init(&r, 0) & VIRTIO_STATUS_DRIVER_OK);
	set_desc(&r, 0, BUF, 4, 1, 1);		/* 4-byte header */
	set_desc(&r, 1, BUF + 0x100, 1, 2, 0);
	submit_wait(&r, 0, 1);
	CHECK_EQ(wait_status_bit(&r, VIRTIO_STATUS_NEEDS_RESET), 0);
	rig_destroy(&r);
	unlink(cfg.path);
}

static void test_blk_refuses_a_missing_file(void)
{
	struct virtio_blk_config_in cfg = { .path = "/nonexistent/disk.img", .id = "x" };
	struct virtio_dev *vd;

	CHECK(virtio_blk_create(&cfg, NULL, &vd) < 0);
	CHECK_STR_CONTAINS(err_msg(), "/nonexistent/disk.img");
}

int main(void)
{
	RUN(test_mmio_identifies_the_device);
	RUN(test_features_without_version_1_are_refused);
	RUN(test_rng_fills_a_buffer_and_interrupts);
	RUN(test_bad_descriptor_needs_reset_and_reset_recovers);
	RUN(test_notify_before_driver_ok_needs_reset);
	RUN(test_ring_outside_ram_needs_reset);
	RUN(test_blk_write_read_flush_id_discard);
	RUN(test_blk_read_only_refuses_writes);
	RUN(test_blk_missing_header_needs_reset);
	RUN(test_blk_refuses_a_missing_file);
	return harness_done();
}
