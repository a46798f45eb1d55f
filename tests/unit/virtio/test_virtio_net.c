// SPDX-License-Identifier: MIT
/*
 * virtio-net driven through virtio-mmio as a guest driver would (split
 * rings in a fake guest RAM, QueueNotify), without KVM.
 *
 * Tap tests need root and /dev/net/tun: main() moves the whole process into
 * a new network namespace first (unshare(CLONE_NEWNET)), so the taps the
 * device creates never touch the host's network; an AF_PACKET socket bound
 * to the tap sees what the guest sends and injects what it receives.  The
 * slirp tests need no privileges (in the namespace, "lo" is brought up for
 * the host-forward test).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/virtio_devs.h"
#include "harness.h"
#include "virtio/mmio.h"

#define RAM_SIZE	(8u << 20)
#define BASE		0xd0000000ULL
#define QSZ		64
#define RINGS		0x10000ULL	/* queue q: desc, avail, used at +q*0x4000 */
#define BUFS		0x100000ULL
#define ETH_TEST	0x88b5		/* local experimental ethertype */

#define F_CSUM		(1ULL << 0)
#define F_MAC		(1ULL << 5)
#define F_MRG		(1ULL << 15)
#define F_STATUS	(1ULL << 16)
#define F_CTRL_VQ	(1ULL << 17)
#define F_ANNOUNCE	(1ULL << 21)
#define F_MQ		(1ULL << 22)

static bool tap_ok;
static const char *tap_why = "not root";
static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct rq {
	uint16_t avail_idx, next_desc, used_seen;
};

struct rig {
	struct addr_space as;
	uint8_t *ram;
	struct bus mmio;
	struct virtio_mmio m;
	struct virtio_dev *vd;
	struct rq q[17];
	uint64_t buf_next;
};

static uint64_t desc_gpa(unsigned int q)
{
	return RINGS + q * 0x4000ULL;
}

#include "mmio_rig.h"


/* Reset, negotiate VERSION_1 + @features, set up queues [0, @nq), DRIVER_OK. */
static uint32_t rig_driver_init(struct rig *r, uint64_t features, unsigned int nq)
{
	unsigned int q;

	wr32(r, VMMIO_STATUS, 0);
	while (rd32(r, VMMIO_STATUS))
		sleep_ms(1);
	wr32(r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(r, VMMIO_DRV_FEATURES_SEL, 1);
	wr32(r, VMMIO_DRV_FEATURES, 1u | (uint32_t)(features >> 32));
	wr32(r, VMMIO_DRV_FEATURES_SEL, 0);
	wr32(r, VMMIO_DRV_FEATURES, (uint32_t)features);
	wr32(r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK);
	memset(r->q, 0, sizeof(r->q));
	memset(r->ram + RINGS, 0, BUFS - RINGS);
	r->buf_next = BUFS;
	for (q = 0; q < nq; q++) {
		wr32(r, VMMIO_QUEUE_SEL, q);
		wr32(r, VMMIO_QUEUE_NUM, QSZ);
		wr32(r, VMMIO_QUEUE_DESC_LO, (uint32_t)desc_gpa(q));
		wr32(r, VMMIO_QUEUE_DRIVER_LO, (uint32_t)(desc_gpa(q) + 0x1000));
		wr32(r, VMMIO_QUEUE_DEVICE_LO, (uint32_t)(desc_gpa(q) + 0x2000));
		wr32(r, VMMIO_QUEUE_READY, 1);
	}
	wr32(r, VMMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	sleep_ms(5);
	return rd32(r, VMMIO_STATUS);
}

static uint64_t buf_alloc(struct rig *r, uint32_t len)
{
	uint64_t gpa = r->buf_next;

	r->buf_next += (len + 63) & ~63u;
	return gpa;
}

/* Add one descriptor to queue @q's table; returns its index. */
static uint16_t add_desc(struct rig *r, unsigned int q, uint64_t gpa, uint32_t len, uint16_t flags)
{
	uint16_t i = r->q[q].next_desc++ % QSZ;
	uint8_t *d = r->ram + desc_gpa(q) + 16 * i;
	uint16_t next = (uint16_t)((i + 1) % QSZ);

	memcpy(d, &gpa, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	return i;
}

static void make_avail(struct rig *r, unsigned int q, uint16_t head)
{
	uint16_t *avail = (uint16_t *)(r->ram + desc_gpa(q) + 0x1000);

	avail[2 + r->q[q].avail_idx % QSZ] = head;
	__atomic_store_n(&avail[1], ++r->q[q].avail_idx, __ATOMIC_RELEASE);
}

static void kick(struct rig *r, unsigned int q)
{
	wr32(r, VMMIO_QUEUE_NOTIFY, q);
}

/* A device-writable buffer of @len bytes on rx queue @q (not kicked). */
static uint64_t post_rx(struct rig *r, unsigned int q, uint32_t len)
{
	uint64_t gpa = buf_alloc(r, len);

	memset(r->ram + gpa, 0xee, len);
	make_avail(r, q, add_desc(r, q, gpa, len, 2 /* WRITE */));
	return gpa;
}

/* A header + @frame in one readable buffer on tx queue @q, kicked. */
static void send_tx(struct rig *r, unsigned int q, const uint8_t *frame, uint32_t len)
{
	uint64_t gpa = buf_alloc(r, 12 + len);

	memset(r->ram + gpa, 0, 12);
	memcpy(r->ram + gpa + 12, frame, len);
	make_avail(r, q, add_desc(r, q, gpa, 12 + len, 0));
	kick(r, q);
}

static uint16_t used_idx(struct rig *r, unsigned int q)
{
	return __atomic_load_n((uint16_t *)(r->ram + desc_gpa(q) + 0x2002), __ATOMIC_ACQUIRE);
}

static int wait_used(struct rig *r, unsigned int q, uint16_t want)
{
	int i;

	for (i = 0; i < 2000 && used_idx(r, q) != want; i++)
		sleep_ms(1);
	return used_idx(r, q) == want ? 0 : -1;
}

/* Used element @i of queue @q: descriptor id and length. */
static void used_elem(struct rig *r, unsigned int q, unsigned int i, uint32_t *id, uint32_t *len)
{
	const uint8_t *e = r->ram + desc_gpa(q) + 0x2004 + 8 * (i % QSZ);

	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
}

static uint64_t desc_addr(struct rig *r, unsigned int q, uint32_t id)
{
	uint64_t a;

	memcpy(&a, r->ram + desc_gpa(q) + 16 * id, 8);
	return a;
}

static int wait_status_bit(struct rig *r, uint32_t bit)
{
	int i;

	for (i = 0; i < 2000 && !(rd32(r, VMMIO_STATUS) & bit); i++)
		sleep_ms(1);
	return (rd32(r, VMMIO_STATUS) & bit) ? 0 : -1;
}

static uint64_t attr_u64(struct virtio_dev *vd, const char *name)
{
	struct dev_value v = { 0 };

	if (dev_attr_get(&vd->dev, name, &v))
		return ~0ULL;
	return v.u64;
}

/* ---- the tap side ---- */

static int if_up(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return ret;
}

static int pkt_open(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd;

	if (if_up(ifname))
		return -1;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next test frame the tap sent out (what the guest transmitted). */
static ssize_t pkt_recv(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct sockaddr_ll sll;
	socklen_t sl;
	ssize_t n;

	while (poll(&pfd, 1, 2000) == 1) {
		sl = sizeof(sll);
		n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&sll, &sl);
		if (n >= 14 && sll.sll_pkttype != PACKET_OUTGOING &&
		    buf[12] == ETH_TEST >> 8 && buf[13] == (ETH_TEST & 0xff))
			return n;
	}
	return -1;
}

static size_t make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	size_t i;

	memcpy(f, guest_mac, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 13 + seed);
	return len;
}

struct tap_case {
	struct rig r;
	struct virtio_dev *vd;
	int pkt;
};

static int tap_case_init(struct tap_case *t, const char *ifname, unsigned int queues)
{
	struct virtio_net_config_in cfg = { .kind = NET_TAP, .queues = queues, .has_mac = true };

	snprintf(cfg.ifname, sizeof(cfg.ifname), "%s", ifname);
	snprintf(cfg.id, sizeof(cfg.id), "net-%s", ifname);
	memcpy(cfg.mac, guest_mac, 6);
	t->pkt = -1;
	if (virtio_net_create(&cfg, NULL, &t->vd)) {
		printf("# %s\n", err_msg());
		return -1;
	}
	if (rig_init(&t->r, t->vd))
		return -1;
	t->pkt = pkt_open(ifname);
	return t->pkt >= 0 ? 0 : -1;
}

static void tap_case_fini(struct tap_case *t)
{
	rig_destroy(&t->r);
	if (t->pkt >= 0)
		close(t->pkt);
}

static void test_tap_offers_offloads_and_mac(void)
{
	struct tap_case t;
	uint8_t mac[6];

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap0", 1), 0);
	CHECK_EQ(rd32(&t.r, VMMIO_DEVICE_ID), VIRTIO_ID_NET);
	CHECK((t.vd->host_features & (F_MAC | F_STATUS | F_MRG | F_CSUM | F_CTRL_VQ)) ==
	      (F_MAC | F_STATUS | F_MRG | F_CSUM | F_CTRL_VQ));
	CHECK(!(t.vd->host_features & F_MQ));
	CHECK(t.vd->host_features & (1ULL << 1));	/* GUEST_CSUM: the tap takes TUN_F_CSUM */
	virtio_config_read(t.vd, 0, mac, 6);
	CHECK(!memcmp(mac, guest_mac, 6));
	CHECK_EQ(t.vd->config[6], 1);			/* LINK_UP */
	tap_case_fini(&t);
}

static void test_tap_tx_frame_reaches_the_tap(void)
{
	uint8_t frame[300], got[2048];
	struct tap_case t;

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap0", 1), 0);
	CHECK(rig_driver_init(&t.r, F_MAC | F_STATUS, 2) & VIRTIO_STATUS_DRIVER_OK);
	make_frame(frame, sizeof(frame), 1);
	send_tx(&t.r, 1, frame, sizeof(frame));
	CHECK_EQ(wait_used(&t.r, 1, 1), 0);
	CHECK_EQ(pkt_recv(t.pkt, got, sizeof(got)), sizeof(frame));
	CHECK(!memcmp(got, frame, sizeof(frame)));
	CHECK_EQ(attr_u64(t.vd, "tx_packets"), 1);
	CHECK_EQ(attr_u64(t.vd, "tx_bytes"), sizeof(frame));
	tap_case_fini(&t);
}

static void test_tap_rx_frame_lands_in_one_buffer_with_header(void)
{
	uint8_t frame[200];
	struct tap_case t;
	uint32_t id, len;
	uint64_t gpa;
	uint16_t nb;

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap0", 1), 0);
	CHECK(rig_driver_init(&t.r, F_MAC, 2) & VIRTIO_STATUS_DRIVER_OK);
	gpa = post_rx(&t.r, 0, 2048);
	kick(&t.r, 0);
	make_frame(frame, sizeof(frame), 2);
	CHECK_EQ(send(t.pkt, frame, sizeof(frame), 0), sizeof(frame));
	CHECK_EQ(wait_used(&t.r, 0, 1), 0);
	used_elem(&t.r, 0, 0, &id, &len);
	CHECK_EQ(len, 12 + sizeof(frame));
	CHECK_EQ(t.r.ram[gpa], 0);			/* flags */
	CHECK_EQ(t.r.ram[gpa + 1], 0);			/* GSO_NONE */
	memcpy(&nb, t.r.ram + gpa + 10, 2);
	CHECK_EQ(nb, 1);
	CHECK(!memcmp(t.r.ram + gpa + 12, frame, sizeof(frame)));
	CHECK_EQ(attr_u64(t.vd, "rx_packets"), 1);
	tap_case_fini(&t);
}

static void test_tap_rx_mergeable_spreads_a_big_frame(void)
{
	uint8_t frame[1400], got[1500];
	struct tap_case t;
	uint32_t id, len, off = 0;
	unsigned int i;
	uint16_t nb;

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap0", 1), 0);
	CHECK(rig_driver_init(&t.r, F_MAC | F_MRG, 2) & VIRTIO_STATUS_DRIVER_OK);
	for (i = 0; i < 4; i++)
		post_rx(&t.r, 0, 512);
	kick(&t.r, 0);
	make_frame(frame, sizeof(frame), 3);
	CHECK_EQ(send(t.pkt, frame, sizeof(frame), 0), sizeof(frame));
	CHECK_EQ(wait_used(&t.r, 0, 3), 0);		/* 12 + 1400 = 512 + 512 + 388 */
	for (i = 0; i < 3; i++) {
		used_elem(&t.r, 0, i, &id, &len);
		CHECK_EQ(len, i < 2 ? 512 : 388);
		memcpy(got + off, t.r.ram + desc_addr(&t.r, 0, id), len);
		off += len;
	}
	memcpy(&nb, got + 10, 2);
	CHECK_EQ(nb, 3);
	CHECK(!memcmp(got + 12, frame, sizeof(frame)));
	tap_case_fini(&t);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void test_tap_rx_waits_without_spinning_until_a_kick(void)
{
	uint8_t frame[100];
	struct tap_case t;
	uint64_t t0;
	uint32_t id, len;

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap0", 1), 0);
	CHECK(rig_driver_init(&t.r, F_MAC | F_MRG, 2) & VIRTIO_STATUS_DRIVER_OK);
	make_frame(frame, sizeof(frame), 4);
	CHECK_EQ(send(t.pkt, frame, sizeof(frame), 0), sizeof(frame));
	t0 = cpu_ns();
	sleep_ms(200);
	CHECK(cpu_ns() - t0 < 50000000ULL);		/* the I/O thread sleeps */
	CHECK_EQ(used_idx(&t.r, 0), 0);
	CHECK_EQ(attr_u64(t.vd, "rx_drops"), 0);
	post_rx(&t.r, 0, 2048);
	kick(&t.r, 0);
	CHECK_EQ(wait_used(&t.r, 0, 1), 0);
	used_elem(&t.r, 0, 0, &id, &len);
	CHECK_EQ(len, 12 + sizeof(frame));
	tap_case_fini(&t);
}

static void test_tap_rx_too_big_for_the_buffer_is_dropped(void)
{
	uint8_t big[300], small[60];
	struct tap_case t;
	uint32_t id, len;
	uint64_t gpa;

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap0", 1), 0);
	CHECK(rig_driver_init(&t.r, F_MAC, 2) & VIRTIO_STATUS_DRIVER_OK);
	gpa = post_rx(&t.r, 0, 128);
	kick(&t.r, 0);
	make_frame(big, sizeof(big), 5);
	CHECK_EQ(send(t.pkt, big, sizeof(big), 0), sizeof(big));
	make_frame(small, sizeof(small), 6);
	CHECK_EQ(send(t.pkt, small, sizeof(small), 0), sizeof(small));
	CHECK_EQ(wait_used(&t.r, 0, 1), 0);		/* the same chain took the small one */
	used_elem(&t.r, 0, 0, &id, &len);
	CHECK_EQ(len, 12 + sizeof(small));
	CHECK(!memcmp(t.r.ram + gpa + 12, small, sizeof(small)));
	CHECK_EQ(attr_u64(t.vd, "rx_drops"), 1);
	tap_case_fini(&t);
}

static void test_rx_chain_shorter_than_header_needs_reset(void)
{
	uint8_t frame[100];
	struct tap_case t;

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap0", 1), 0);
	CHECK(rig_driver_init(&t.r, F_MAC, 2) & VIRTIO_STATUS_DRIVER_OK);
	post_rx(&t.r, 0, 8);
	kick(&t.r, 0);
	make_frame(frame, sizeof(frame), 7);
	CHECK_EQ(send(t.pkt, frame, sizeof(frame), 0), sizeof(frame));
	CHECK_EQ(wait_status_bit(&t.r, VIRTIO_STATUS_NEEDS_RESET), 0);
	/* A reset brings it back; a tx chain shorter than the header fails it again. */
	CHECK(rig_driver_init(&t.r, F_MAC, 2) & VIRTIO_STATUS_DRIVER_OK);
	CHECK(!(rd32(&t.r, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));
	make_avail(&t.r, 1, add_desc(&t.r, 1, buf_alloc(&t.r, 64), 4, 0));
	kick(&t.r, 1);
	CHECK_EQ(wait_status_bit(&t.r, VIRTIO_STATUS_NEEDS_RESET), 0);
	tap_case_fini(&t);
}

/* A control command on queue @q: class, cmd, @data; returns the ack. */
static int ctrl_cmd(struct rig *r, unsigned int q, uint8_t cls, uint8_t cmd, const void *data,
		    uint32_t len, uint16_t want_used)
{
	uint64_t gpa = buf_alloc(r, 64);
	uint16_t head;

	r->ram[gpa] = cls;
	r->ram[gpa + 1] = cmd;
	memcpy(r->ram + gpa + 2, data, len);
	r->ram[gpa + 32] = 0xff;
	head = add_desc(r, q, gpa, 2 + len, 1 /* NEXT */);
	add_desc(r, q, gpa + 32, 1, 2);
	make_avail(r, q, head);
	kick(r, q);
	if (wait_used(r, q, want_used))
		return -1;
	return r->ram[gpa + 32];
}

static void test_multiqueue_tap_sets_pairs_and_uses_the_second(void)
{
	uint8_t frame[100], got[2048];
	uint16_t two = 2, nine = 9;
	struct tap_case t;

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap1", 2), 0);
	CHECK(t.vd->host_features & F_MQ);
	CHECK_EQ(t.vd->config[8], 2);			/* max_virtqueue_pairs */
	CHECK(rig_driver_init(&t.r, F_MAC | F_CTRL_VQ | F_MQ, 5) & VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(ctrl_cmd(&t.r, 4, 4, 0, &nine, 2, 1), 1);	/* out of range: ERR */
	CHECK_EQ(ctrl_cmd(&t.r, 4, 4, 0, &two, 2, 2), 0);
	CHECK_EQ(attr_u64(t.vd, "cur_pairs"), 2);
	CHECK_EQ(ctrl_cmd(&t.r, 4, 0, 0, "\x01", 1, 3), 0);	/* RX promisc: ack */
	make_frame(frame, sizeof(frame), 8);
	send_tx(&t.r, 3, frame, sizeof(frame));	/* transmitq1 */
	CHECK_EQ(wait_used(&t.r, 3, 1), 0);
	CHECK_EQ(pkt_recv(t.pkt, got, sizeof(got)), sizeof(frame));
	CHECK(!memcmp(got, frame, sizeof(frame)));
	/* RX: the kernel picks the queue; either pair gets it. */
	post_rx(&t.r, 0, 2048);
	kick(&t.r, 0);
	post_rx(&t.r, 2, 2048);
	kick(&t.r, 2);
	CHECK_EQ(send(t.pkt, frame, sizeof(frame), 0), sizeof(frame));
	for (int i = 0; i < 2000 && used_idx(&t.r, 0) + used_idx(&t.r, 2) < 1; i++)
		sleep_ms(1);
	CHECK_EQ(used_idx(&t.r, 0) + used_idx(&t.r, 2), 1);
	tap_case_fini(&t);
}

static void test_link_down_sets_status_drops_tx_and_interrupts(void)
{
	uint8_t frame[100], st[2];
	struct tap_case t;

	if (!tap_ok)
		SKIP(tap_why);
	CHECK_EQ(tap_case_init(&t, "ktap0", 1), 0);
	CHECK(rig_driver_init(&t.r, F_MAC | F_STATUS, 2) & VIRTIO_STATUS_DRIVER_OK);
	CHECK(dev_cmd_run(&t.vd->dev, "link", "sideways") < 0);
	CHECK_EQ(dev_cmd_run(&t.vd->dev, "link", "down"), 0);
	virtio_config_read(t.vd, 6, st, 2);
	CHECK_EQ(st[0], 0);
	CHECK(rd32(&t.r, VMMIO_INT_STATUS) & VIRTIO_ISR_CONFIG);
	make_frame(frame, sizeof(frame), 9);
	send_tx(&t.r, 1, frame, sizeof(frame));
	CHECK_EQ(wait_used(&t.r, 1, 1), 0);
	CHECK_EQ(attr_u64(t.vd, "tx_drops"), 1);
	CHECK_EQ(dev_cmd_run(&t.vd->dev, "link", "up"), 0);
	virtio_config_read(t.vd, 6, st, 2);
	CHECK_EQ(st[0], 1);
	tap_case_fini(&t);
}

/* ---- slirp ---- */

static const uint8_t slirp_ip[4] = { 10, 0, 2, 2 }, guest_ip[4] = { 10, 0, 2, 15 };

static size_t make_arp_request(uint8_t *f)
{
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);	/* Ethernet/IPv4, request */
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, guest_ip, 4);
	memcpy(f + 38, slirp_ip, 4);
	return 60;
}

static int slirp_case_init(struct rig *r, struct virtio_dev **vd, uint16_t hostport)
{
	struct virtio_net_config_in cfg = { .kind = NET_USER, .has_mac = true, .id = "unet" };

	memcpy(cfg.mac, guest_mac, 6);
	if (hostport) {
		snprintf(cfg.hostfwd[0], sizeof(cfg.hostfwd[0]), "tcp:127.0.0.1:%u-:22", hostport);
		cfg.nr_hostfwd = 1;
	}
	if (virtio_net_create(&cfg, NULL, vd)) {
		printf("# %s\n", err_msg());
		return -1;
	}
	return rig_init(r, *vd);
}

/* The first rx frame from @from on with ethertype @type; its offset in RAM or 0. */
static uint64_t find_rx(struct rig *r, uint16_t *from, uint16_t type)
{
	uint32_t id, len;
	int i;

	for (i = 0; i < 3000; i++) {
		while (*from != used_idx(r, 0)) {
			uint64_t gpa;

			used_elem(r, 0, (*from)++, &id, &len);
			gpa = desc_addr(r, 0, id);
			if (len >= 12 + 14 && r->ram[gpa + 24] == type >> 8 &&
			    r->ram[gpa + 25] == (type & 0xff))
				return gpa;
		}
		sleep_ms(1);
	}
	return 0;
}

static void test_slirp_answers_arp_for_the_gateway(void)
{
	struct virtio_dev *vd;
	uint8_t f[60];
	uint16_t seen = 0;
	struct rig r;
	uint64_t gpa;
	unsigned int i;

	CHECK_EQ(slirp_case_init(&r, &vd, 0), 0);
	CHECK(!(vd->host_features & F_CSUM));		/* slirp wants whole checksums */
	CHECK(rig_driver_init(&r, F_MAC | F_MRG, 2) & VIRTIO_STATUS_DRIVER_OK);
	for (i = 0; i < 8; i++)
		post_rx(&r, 0, 2048);
	kick(&r, 0);
	send_tx(&r, 1, f, (uint32_t)make_arp_request(f));
	gpa = find_rx(&r, &seen, 0x0806);
	CHECK(gpa);
	CHECK(!memcmp(r.ram + gpa + 12, guest_mac, 6));	/* to us */
	CHECK_EQ(r.ram[gpa + 12 + 21], 2);		/* ARP reply */
	CHECK(!memcmp(r.ram + gpa + 12 + 28, slirp_ip, 4));
	CHECK_EQ(r.ram[gpa + 10], 1);			/* num_buffers */
	CHECK(attr_u64(vd, "rx_packets") >= 1);
	rig_destroy(&r);
}

static void test_slirp_hostfwd_connect_arrives_as_a_syn(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint16_t port = (uint16_t)(20000 + getpid() % 20000), seen = 0;
	struct virtio_dev *vd;
	uint8_t f[60];
	uint64_t gpa = 0;
	struct rig r;
	unsigned int i;
	int s;

	CHECK_EQ(slirp_case_init(&r, &vd, port), 0);
	CHECK(rig_driver_init(&r, F_MAC, 2) & VIRTIO_STATUS_DRIVER_OK);
	for (i = 0; i < 16; i++)
		post_rx(&r, 0, 2048);
	kick(&r, 0);
	send_tx(&r, 1, f, (uint32_t)make_arp_request(f));	/* slirp learns our MAC */
	CHECK(find_rx(&r, &seen, 0x0806));
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(s >= 0);
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(!connect(s, (struct sockaddr *)&sa, sizeof(sa)) || errno == EINPROGRESS);
	while ((gpa = find_rx(&r, &seen, 0x0800))) {
		const uint8_t *ip = r.ram + gpa + 12 + 14;
		const uint8_t *tcp = ip + 4 * (ip[0] & 15);

		if (ip[9] == 6 && !memcmp(ip + 16, guest_ip, 4) && tcp[2] == 0 && tcp[3] == 22 &&
		    (tcp[13] & 0x02))
			break;
	}
	close(s);
	CHECK(gpa);
	rig_destroy(&r);
}

/* ---- the --net parser ---- */

static void test_parse_accepts_tap_and_user(void)
{
	struct virtio_net_config_in c;

	CHECK_EQ(virtio_net_parse("tap=tap0,mac=52:54:00:ab:cd:ef,queues=4,id=n1", &c), 0);
	CHECK_EQ(c.kind, NET_TAP);
	CHECK(!strcmp(c.ifname, "tap0"));
	CHECK(c.has_mac);
	CHECK_EQ(c.mac[5], 0xef);
	CHECK_EQ(c.queues, 4);
	CHECK(!strcmp(c.id, "n1"));
	CHECK_EQ(virtio_net_parse("user,hostfwd=tcp::2222-:22,hostfwd=udp:127.0.0.1:53-10.0.2.15:53",
				  &c), 0);
	CHECK_EQ(c.kind, NET_USER);
	CHECK_EQ(c.nr_hostfwd, 2);
	CHECK(!strcmp(c.hostfwd[1], "udp:127.0.0.1:53-10.0.2.15:53"));
	CHECK_EQ(c.queues, 1);
}

static void test_parse_refuses_bad_values_with_a_message(void)
{
	static const struct { const char *arg, *msg; } bad[] = {
		{ "", "tap=NAME or user" },
		{ "bridge=br0", "start with tap=NAME or user" },
		{ "tap=", "interface name" },
		{ "tap=averyveryverylongname", "interface name" },
		{ "tap=t0,mac=52:54:00:12:34", "six hex bytes" },
		{ "tap=t0,mac=53:54:00:12:34:56", "multicast" },
		{ "tap=t0,mac=52:54:00:12:34:zz", "six hex bytes" },
		{ "tap=t0,queues=0", "out of range" },
		{ "tap=t0,queues=99", "out of range" },
		{ "tap=t0,hostfwd=tcp::1-:2", "user back end only" },
		{ "user,queues=2", "tap back end only" },
		{ "user,hostfwd=tcp::2222", "missing '-'" },
		{ "user,hostfwd=tcp::0-:22", "1..65535" },
		{ "user,hostfwd=sctp::1-:2", "tcp:" },
		{ "user,hostfwd=tcp:1.2.3:1-:2", "IPv4 address" },
		{ "user,id=a b", "id 'a b'" },
		{ "user,speed=10", "unknown key 'speed'" },
		{ "user,,id=x", "empty item" },
	};
	struct virtio_net_config_in c;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(virtio_net_parse(bad[i].arg, &c), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), bad[i].msg);
	}
}

static void test_create_refuses_queues_for_user(void)
{
	struct virtio_net_config_in cfg = { .kind = NET_USER, .queues = 2, .id = "u" };
	struct virtio_dev *vd;

	CHECK(virtio_net_create(&cfg, NULL, &vd) < 0);
	CHECK_STR_CONTAINS(err_msg(), "queue pairs");
}

/* ---- a restored copy's new MAC ---- */

/* VIRTIO_NET_CTRL_ANNOUNCE_ACK on control queue 2; the device's ack byte. */
static int ctrl_announce_ack(struct rig *r, uint16_t *used)
{
	uint64_t cmd = buf_alloc(r, 2), ack = buf_alloc(r, 1);
	uint16_t head;

	r->ram[cmd] = 3;				/* VIRTIO_NET_CTRL_ANNOUNCE */
	r->ram[cmd + 1] = 0;				/* ..._ACK */
	r->ram[ack] = 0xee;
	head = add_desc(r, 2, cmd, 2, 1 /* NEXT */);
	add_desc(r, 2, ack, 1, 2 /* WRITE */);
	make_avail(r, 2, head);
	kick(r, 2);
	if (wait_used(r, 2, ++*used))
		return -1;
	return r->ram[ack];
}

static void test_new_mac_changes_config_generation_and_asks_to_announce(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xc0, 0xff, 0xee };
	struct dev_value v = { 0 };
	struct virtio_dev *vd;
	uint16_t used = 0;
	uint32_t gen;
	struct rig r;
	uint8_t c[8];

	CHECK_EQ(slirp_case_init(&r, &vd, 0), 0);
	CHECK(vd->host_features & F_ANNOUNCE);
	CHECK(rig_driver_init(&r, F_MAC | F_STATUS | F_CTRL_VQ | F_ANNOUNCE, 3) &
	      VIRTIO_STATUS_DRIVER_OK);
	gen = rd32(&r, VMMIO_CONFIG_GEN);
	wr32(&r, VMMIO_INT_ACK, rd32(&r, VMMIO_INT_STATUS));
	CHECK_EQ(virtio_net_set_mac(vd, mac), 0);
	virtio_config_read(vd, 0, c, 8);
	CHECK(!memcmp(c, mac, 6));
	CHECK_EQ(c[6], 1 | 2);				/* LINK_UP | ANNOUNCE */
	CHECK(rd32(&r, VMMIO_CONFIG_GEN) != gen);
	CHECK(rd32(&r, VMMIO_INT_STATUS) & VIRTIO_ISR_CONFIG);
	CHECK_EQ(dev_attr_get(&vd->dev, "mac", &v), 0);
	CHECK(!strcmp(v.str, "52:54:00:c0:ff:ee"));
	/* The link status changes, the request stays until the driver acks. */
	CHECK_EQ(dev_cmd_run(&vd->dev, "link", "down"), 0);
	CHECK_EQ(dev_cmd_run(&vd->dev, "link", "up"), 0);
	virtio_config_read(vd, 6, c, 1);
	CHECK_EQ(c[0], 1 | 2);
	CHECK_EQ(ctrl_announce_ack(&r, &used), 0);	/* VIRTIO_NET_OK */
	virtio_config_read(vd, 6, c, 1);
	CHECK_EQ(c[0], 1);
	rig_destroy(&r);
}

static void test_new_mac_without_guest_announce_sets_no_announce_bit(void)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	struct virtio_dev *vd, *rng;
	uint16_t used = 0;
	struct rig r;
	uint8_t c[8];

	CHECK_EQ(slirp_case_init(&r, &vd, 0), 0);
	CHECK(rig_driver_init(&r, F_MAC | F_STATUS | F_CTRL_VQ, 3) & VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(virtio_net_set_mac(vd, mac), 0);
	virtio_config_read(vd, 0, c, 8);
	CHECK(!memcmp(c, mac, 6));
	CHECK_EQ(c[6], 1);
	CHECK_EQ(ctrl_announce_ack(&r, &used), 1);	/* VIRTIO_NET_ERR: not negotiated */
	CHECK_EQ(virtio_rng_create("rng0", NULL, &rng), 0);
	CHECK_EQ(virtio_net_set_mac(rng, mac), -EINVAL);
	virtio_dev_destroy(rng);
	rig_destroy(&r);
}

/* Root with /dev/net/tun: a private network namespace for the tap tests. */
static void net_sandbox(void)
{
	int fd;

	if (geteuid() != 0)
		return;
	if (access("/dev/net/tun", R_OK | W_OK)) {
		tap_why = "no /dev/net/tun";
		return;
	}
	if (unshare(CLONE_NEWNET)) {
		tap_why = "unshare(CLONE_NEWNET) failed";
		return;
	}
	if_up("lo");
	fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY);
	if (fd >= 0) {
		/* no router solicitations or MLD reports in the rx tests */
		if (write(fd, "1", 1) < 0)
			perror("disable_ipv6");
		close(fd);
	}
	tap_ok = true;
}

int main(void)
{
	net_sandbox();
	if (!tap_ok)
		printf("# skipping the tap tests: %s\n", tap_why);
	RUN(test_parse_accepts_tap_and_user);
	RUN(test_parse_refuses_bad_values_with_a_message);
	RUN(test_create_refuses_queues_for_user);
	RUN(test_tap_offers_offloads_and_mac);
	RUN(test_tap_tx_frame_reaches_the_tap);
	RUN(test_tap_rx_frame_lands_in_one_buffer_with_header);
	RUN(test_tap_rx_mergeable_spreads_a_big_frame);
	RUN(test_tap_rx_waits_without_spinning_until_a_kick);
	RUN(test_tap_rx_too_big_for_the_buffer_is_dropped);
	RUN(test_rx_chain_shorter_than_header_needs_reset);
	RUN(test_multiqueue_tap_sets_pairs_and_uses_the_second);
	RUN(test_link_down_sets_status_drops_tx_and_interrupts);
	RUN(test_slirp_answers_arp_for_the_gateway);
	RUN(test_slirp_hostfwd_connect_arrives_as_a_syn);
	RUN(test_new_mac_changes_config_generation_and_asks_to_announce);
	RUN(test_new_mac_without_guest_announce_sets_no_announce_bit);
	return harness_done();
}
