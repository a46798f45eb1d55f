/* SPDX-License-Identifier: MIT */
/*
 * test=vnet [transport=mmio|pci] [ring=packed] [irq=1] [ip=A.B.C.D] [gw=A.B.C.D]
 *           [mode=ping|udp] [port=N] [timeout=S]
 *
 * virtio-net (queue 0 receive, 1 transmit; 12-byte header, no offloads,
 * VIRTIO_NET_F_MAC read when offered).  Defaults fit QEMU -netdev user
 * (slirp): ip 10.0.2.15, gw 10.0.2.2.
 *   1. ARP who-has gw (broadcast), until an ARP reply from gw (every 500 ms).
 *   2. mode=ping (default): ICMP echo request (id 0x6b74, seq 1, 56 bytes of
 *      payload) to gw, expect an echo reply with the same id/seq/payload.
 *      mode=udp: UDP datagram "kite-vnet-udp <tsc>" from port 40000 to gw:port
 *      (default 7), expect the same payload back from gw:port.
 * ARP requests for our ip are answered throughout.  Host side (tap): answer
 * ARP for gw and ICMP echo (a Linux interface holding gw does both), or run a
 * UDP echo server on gw:port.  Slirp: ICMP to 10.0.2.2 is answered by slirp;
 * UDP to 10.0.2.2:port goes to the host's 127.0.0.1:port.
 */
#include "lib.h"
#include "netframe.h"
#include "tsc.h"
#include "virtq.h"

#define VIRTIO_NET_F_MAC	5
#define NET_HDR			12
#define RX_BUFS			32
#define BUF_LEN			2048

static struct virtio_dev d;
static struct virtq rxq, txq;
static uint8_t mac[6], gw_mac[6];
static uint32_t my_ip, gw_ip;	/* host order */
static uint8_t *txbuf;
static unsigned int rx_frames, tx_frames;


static bool parse_ip(const char *s, uint32_t *ip)
{
	uint32_t r = 0;
	unsigned int parts = 0;

	while (parts < 4) {
		uint64_t v;
		size_t n = 0;

		while (s[n] >= '0' && s[n] <= '9')
			n++;
		if (!n || !parse_u64(s, n, &v) || v > 255)
			return false;
		r = r << 8 | (uint32_t)v;
		parts++;
		s += n;
		if (parts < 4 && *s++ != '.')
			return false;
	}
	*ip = r;
	return !*s;
}

static void send_frame(const uint8_t *frame, uint32_t len)
{
	struct vq_buf b = { dma_pa(txbuf), NET_HDR + len, false };
	uint32_t l;

	memset(txbuf, 0, NET_HDR);
	memcpy(txbuf + NET_HDR, frame, len);
	if (!virtq_submit_wait(&txq, &b, 1, false, &l, 2000))
		fail("vnet: transmit: no completion in 2 s (status 0x%x)", virtio_get_status(&d));
	tx_frames++;
}

static void send_arp(uint16_t op, const uint8_t *tha, const uint8_t *dst_mac, uint32_t tpa)
{
	uint8_t f[60];

	memset(f, 0, sizeof(f));
	frame_arp(f, op, dst_mac, mac, my_ip, tha, tpa);
	send_frame(f, sizeof(f));
}

/* IPv4 packet to gw: proto, payload. */
static void send_ip(uint8_t proto, const uint8_t *payload, uint16_t plen)
{
	static uint8_t f[1514];
	static uint16_t ip_id = 1;
	frame_ipv4(f, gw_mac, mac, my_ip, gw_ip, proto, ip_id++, plen);
	memcpy(f + ETH_HLEN + IPV4_HLEN, payload, plen);
	send_frame(f, 14 + 20 + plen < 60 ? 60 : 14u + 20 + plen);
}

static void rx_refill(uint8_t *p)
{
	struct vq_buf b = { dma_pa(p), BUF_LEN, true };

	virtq_add(&rxq, &b, 1, p, false);
	virtq_kick(&rxq);
}

enum { WANT_ARP, WANT_ICMP, WANT_UDP };

/* Handle one received frame; true if it is what we wait for. */
static bool handle(const uint8_t *f, uint32_t len, int want, const uint8_t *payload,
		   uint16_t plen, uint16_t port)
{
	uint16_t type;

	if (len < 14)
		return false;
	type = be16(f + 12);
	if (type == 0x0806 && len >= 42 && be16(f + 14) == 1 && be16(f + 16) == 0x0800) {
		uint16_t op = be16(f + 20);
		uint32_t spa = be32(f + 28), tpa = be32(f + 38);

		if (op == 1 && tpa == my_ip) {		/* who-has us: answer */
			printf("vnet: ARP who-has %u.%u.%u.%u from %u.%u.%u.%u: answering\n",
			       my_ip >> 24, (my_ip >> 16) & 255, (my_ip >> 8) & 255, my_ip & 255,
			       spa >> 24, (spa >> 16) & 255, (spa >> 8) & 255, spa & 255);
			send_arp(2, f + 22, f + 22, spa);
			return false;
		}
		if (op == 2 && spa == gw_ip && want == WANT_ARP) {
			memcpy(gw_mac, f + 22, 6);
			return true;
		}
		return false;
	}
	if (type == 0x0800 && len >= 34) {
		const uint8_t *ip = f + 14;
		uint32_t ihl = (ip[0] & 15) * 4u, tot = be16(ip + 2);
		const uint8_t *l4 = ip + ihl;

		if ((ip[0] >> 4) != 4 || ihl < 20 || 14 + tot > len || be32(ip + 12) != gw_ip ||
		    be32(ip + 16) != my_ip)
			return false;
		if (want == WANT_ICMP && ip[9] == 1 && tot >= ihl + plen && l4[0] == 0 &&
		    be16(l4 + 4) == 0x6b74 && be16(l4 + 6) == 1 &&
		    !memcmp(l4 + 8, payload + 8, plen - 8))
			return true;
		if (want == WANT_UDP && ip[9] == 17 && tot >= ihl + 8 && be16(l4) == port &&
		    be16(l4 + 2) == 40000 && be16(l4 + 4) == 8 + plen &&
		    !memcmp(l4 + 8, payload, plen))
			return true;
	}
	return false;
}

/* Receive until handle() says yes or @ms pass. */
static bool rx_until(int want, const uint8_t *payload, uint16_t plen, uint16_t port, uint64_t ms)
{
	uint64_t end = rdtsc() + tsc_from_us(ms * 1000);

	while ((int64_t)(end - rdtsc()) > 0) {
		uint32_t len;
		uint8_t *p = virtq_wait(&rxq, &len, tsc_to_us(end - rdtsc()) / 1000 + 1);
		bool ok;

		if (!p)
			return false;
		rx_frames++;
		if (len < NET_HDR || len > BUF_LEN)
			fail("vnet: receive used length %u", len);
		ok = handle(p + NET_HDR, len - NET_HDR, want, payload, plen, port);
		rx_refill(p);
		if (ok)
			return true;
	}
	return false;
}

GUEST_TEST(vnet, "[transport=mmio|pci] [mode=ping|udp] [ip=] [gw=]: ARP + ICMP echo (or UDP echo)")
{
	char buf[32], mode[8] = "ping";
	uint8_t *rx, pkt[64];
	uint64_t timeout_s = 10, port = 7, end;
	unsigned int i;
	bool ok = false;
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];

	my_ip = 0x0a00020f;
	gw_ip = 0x0a000202;
	if (cmdline_get("ip", buf, sizeof(buf)) && !parse_ip(buf, &my_ip))
		fail("vnet: ip=%s", buf);
	if (cmdline_get("gw", buf, sizeof(buf)) && !parse_ip(buf, &gw_ip))
		fail("vnet: gw=%s", buf);
	cmdline_get("mode", mode, sizeof(mode));
	cmdline_get_u64("timeout", &timeout_s);
	cmdline_get_u64("port", &port);
	if (strcmp(mode, "ping") && strcmp(mode, "udp") && strcmp(mode, "echo"))
		fail("vnet: mode=%s: expected ping or udp", mode);

	virtio_start_cmdline(VIRTIO_ID_NET, &d, BIT(VIRTIO_NET_F_MAC));
	if (virtio_has(&d, VIRTIO_NET_F_MAC))
		for (i = 0; i < 6; i++)
			mac[i] = virtio_cfg8(&d, i);
	else
		memcpy(mac, (const uint8_t[6]){ 0x52, 0x54, 0x00, 0x6b, 0x74, 0x01 }, 6);
	if (!virtio_queue_max(&d, 0) || !virtio_queue_max(&d, 1))
		fail("vnet: %s: missing queues", d.name);
	virtq_create(&rxq, &d, 0, virtio_queue_max(&d, 0) < 64 ? virtio_queue_max(&d, 0) : 64);
	virtq_create(&txq, &d, 1, virtio_queue_max(&d, 1) < 64 ? virtio_queue_max(&d, 1) : 64);
	virtio_driver_ok(&d);
	rx = dma_alloc((size_t)RX_BUFS * BUF_LEN, 4096);
	txbuf = dma_alloc(BUF_LEN, 4096);
	for (i = 0; i < RX_BUFS && i < rxq.size; i++) {
		struct vq_buf b = { dma_pa(rx + (size_t)i * BUF_LEN), BUF_LEN, true };

		virtq_add(&rxq, &b, 1, rx + (size_t)i * BUF_LEN, false);
	}
	virtq_kick(&rxq);
	printf("vnet: %s mac %02x:%02x:%02x:%02x:%02x:%02x ip %u.%u.%u.%u gw %u.%u.%u.%u\n", d.name,
	       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], my_ip >> 24, (my_ip >> 16) & 255,
	       (my_ip >> 8) & 255, my_ip & 255, gw_ip >> 24, (gw_ip >> 16) & 255,
	       (gw_ip >> 8) & 255, gw_ip & 255);
	printf("READY\n");

	end = rdtsc() + tsc_from_us(timeout_s * 1000000);
	while (!ok && (int64_t)(end - rdtsc()) > 0) {
		send_arp(1, zero, bcast, gw_ip);
		ok = rx_until(WANT_ARP, NULL, 0, 0, 500);
	}
	if (!ok)
		fail("vnet: no ARP reply from the gateway in %llu s (%u frames received)",
		     (unsigned long long)timeout_s, rx_frames);
	printf("vnet: ARP: gw is at %02x:%02x:%02x:%02x:%02x:%02x\n", gw_mac[0], gw_mac[1],
	       gw_mac[2], gw_mac[3], gw_mac[4], gw_mac[5]);

	ok = false;
	if (!strcmp(mode, "ping")) {
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 8;
		put16(pkt + 4, 0x6b74);
		put16(pkt + 6, 1);
		for (i = 8; i < 64; i++)
			pkt[i] = (uint8_t)(i * 7 + 1);
		put16(pkt + 2, inet_csum(pkt, 64));
		while (!ok && (int64_t)(end - rdtsc()) > 0) {
			send_ip(1, pkt, 64);
			ok = rx_until(WANT_ICMP, pkt, 64, 0, 1000);
		}
		if (!ok)
			fail("vnet: no ICMP echo reply from the gateway");
		printf("vnet: ICMP echo reply from the gateway (56 bytes of payload match)\n");
	} else {
		uint8_t udp[8 + 40];
		int n = snprintf((char *)udp + 8, 40, "kite-vnet-udp %llu",
				 (unsigned long long)rdtsc());

		put16(udp, 40000);
		put16(udp + 2, (uint16_t)port);
		put16(udp + 4, (uint16_t)(8 + n));
		put16(udp + 6, 0);		/* no checksum */
		while (!ok && (int64_t)(end - rdtsc()) > 0) {
			send_ip(17, udp, (uint16_t)(8 + n));
			ok = rx_until(WANT_UDP, udp + 8, (uint16_t)n, (uint16_t)port, 1000);
		}
		if (!ok)
			fail("vnet: no UDP echo from the gateway port %llu", (unsigned long long)port);
		printf("vnet: UDP echo from the gateway port %llu: \"%s\"\n", (unsigned long long)port,
		       (char *)udp + 8);
	}
	printf("vnet: %u frames sent, %u received", tx_frames, rx_frames);
	if (d.irq_mode != VIRTIO_IRQ_NONE)
		printf(", %llu interrupts", (unsigned long long)virtio_irq_count(&d));
	printf("\n");
	virtio_reset(&d);
	pass();
}
