/* SPDX-License-Identifier: MIT */
/*
 * test=snapwork [mb=N] [iters=N] [period_ms=N] [dirty_mb_s=N] [seed=N]
 *               [blk=1] [net=1] [port=N] [transport=mmio|pci] [ring=packed] [irq=...]
 *               [tick_us=N] [corrupt=I] [stale=I]
 *
 * A workload whose output proves continuity across pause / save / restore
 * (snapshots, live migration): memory, CPU state, time and device state.
 *
 * An mb MiB buffer in guest RAM above the image (and above the virtio DMA
 * arena) is cut into P = mb * 256 pages of 512 64-bit words.  Page writes
 * are numbered t = 0, 1, 2, ...; write t goes to page
 *     page(t) = ((t mod P) * A + B) mod P        (A coprime to P: a permutation)
 * and gives it version t / P + 1, so after T writes the page at sweep
 * position q = t mod P holds version (T > q ? (T - 1 - q) / P + 1 : 0).
 * Word w of page p at version v is mix(key(seed, p, v), w): the whole
 * buffer content is a function of (seed, mb, K, T) only.  Iteration I
 * (I = 1, 2, ...) does writes [(I - 1) K, I K) (K pages per iteration,
 * default 256 = 1 MiB; with dirty_mb_s, K = dirty_mb_s * 256 * period_ms / 1000
 * written in one slice per millisecond spread over the period, paced with
 * the TSC), then checks every word of the buffer against what it must hold
 * after T = I K writes and prints
 *     snapwork iter=I sum=0x%016llx tsc=T
 * where sum is a hash of the whole (expected = actual) content in address
 * order: a deterministic function of I for fixed seed/mb/K.  Any wrong word,
 * a TSC that goes backwards, or an iteration counter in memory that does not
 * follow the one in registers fails at once.
 *
 * blk=1: virtio-blk, each iteration writes 4 KiB of lib/pattern.h pattern,
 * seed (seed << 32) + I, at disk offset (I % 256) * 4096, reads it back,
 * and reads back the block of iteration I - 1 (must still hold its pattern:
 * the disk kept up with the restored guest) -> "snapwork blk iter=I ok".
 * net=1: virtio-net, each iteration a UDP datagram "snapwork I" from port
 * 40000 to gw:port (default 10.0.2.2:7) until the same payload comes back;
 * resent every 200 ms, 1 s to get it (the 1 s restarts if the TSC shows
 * the guest was paused) -> "snapwork net iter=I ok".
 *
 * tick_us=N (default 0: off): a fine heartbeat besides the lines, for
 * measuring how long the guest stops (a migration's downtime) to well under
 * a line's time (a line is ~55 bytes, one port exit each).  Once the
 * iterations start, the guest writes one '.' to the serial port whenever N
 * microseconds of TSC time have passed since the last one: it checks the
 * TSC in every place it spends time (the pacing waits, between page writes,
 * between pages of the buffer check), never inside a line, so a line reads
 * "....snapwork iter=I sum=... tsc=T".  One tick costs one port exit (two
 * every 16th: LSR is polled once per FIFO load); with iters=N a line after
 * the summary gives their number and cost.  The blk=1 / net=1 waits do not
 * tick.  Off (tick_us=0), the output is unchanged.
 *
 * Self-checks of the checker (must FAIL): corrupt=I zeroes page 0 before the
 * check of iteration I; stale=I puts back the previous version of the last
 * page written in iteration I (a lost dirty page).
 */
#include "lib.h"
#include "netframe.h"
#include "boot.h"
#include "paging.h"
#include "pattern.h"
#include "serial.h"
#include "tsc.h"
#include "virtq.h"

#define PAGE_WORDS	512
#define BUF_ALIGN	(2ull << 20)
/* lib/virtq.c puts its 16 MiB DMA arena at the first 2 MiB boundary above
 * the image: the buffer goes above that, whether or not virtio is used. */
#define BUF_MIN_OFFSET	(16ull << 20)
#define DEFAULT_K	256

/* ---- memory workload ---- */

static uint64_t *buf;
static uint64_t npages, perm_a, perm_a_inv, perm_b, k_pages, seed;

/* State kept in memory; checked against the loop's registers each round. */
static volatile uint64_t mem_iter, mem_tsc;

static uint64_t tsc_now(void)
{
	uint64_t t = rdtsc();

	if (t < mem_tsc)
		fail("snapwork: TSC went backwards: 0x%llx after 0x%llx (iter %llu)",
		     (unsigned long long)t, (unsigned long long)mem_tsc,
		     (unsigned long long)mem_iter);
	mem_tsc = t;
	return t;
}

/* tick_us: TSC ticks between two '.' (0: off), the last one, count, cost */
static uint64_t tick_every, tick_last, tick_count, tick_cost, tick_cost_max;

/* A '.' on the serial port if tick_every has passed since the last one.
 * Called between units of work, never while a line is being printed. */
static inline void tick(void)
{
	uint64_t t, cost;

	if (!tick_every)
		return;
	t = rdtsc();
	if (t - tick_last < tick_every)
		return;
	serial_putc('.');
	tick_last = rdtsc();
	cost = tick_last - t;
	tick_count++;
	tick_cost += cost;
	if (cost > tick_cost_max)
		tick_cost_max = cost;
}

/* Spin until the TSC reaches @deadline, ticking on the way. */
static void wait_until(uint64_t deadline)
{
	while ((int64_t)(tsc_now() - deadline) < 0) {
		tick();
		cpu_relax();
	}
}

static inline uint64_t page_key(uint64_t page, uint64_t version)
{
	return pattern_splitmix64(pattern_splitmix64(seed ^ (page << 1)) ^ version);
}

static inline uint64_t word_val(uint64_t key, uint64_t w)
{
	uint64_t x = key + (w + 1) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	return x ^ (x >> 29);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* a^-1 mod m (gcd(a, m) = 1) */
static uint64_t mod_inverse(uint64_t a, uint64_t m)
{
	int64_t t = 0, nt = 1, r = (int64_t)m, nr = (int64_t)(a % m);

	while (nr) {
		int64_t q = r / nr, x;

		x = t - q * nt; t = nt; nt = x;
		x = r - q * nr; r = nr; nr = x;
	}
	return (uint64_t)(t < 0 ? t + (int64_t)m : t);
}

static inline uint64_t version_at(uint64_t q, uint64_t writes)
{
	return writes > q ? (writes - 1 - q) / npages + 1 : 0;
}

static void write_page(uint64_t page, uint64_t version)
{
	uint64_t key = page_key(page, version), *p = buf + page * PAGE_WORDS, w;

	for (w = 0; w < PAGE_WORDS; w++)
		p[w] = word_val(key, w);
}

/* Page writes [from, to). */
static void do_writes(uint64_t from, uint64_t to)
{
	uint64_t t;

	for (t = from; t < to; t++) {
		uint64_t q = t % npages;

		write_page((q * perm_a + perm_b) % npages, t / npages + 1);
		tick();
	}
}

static NORETURN void bad_word(uint64_t iter, uint64_t writes, uint64_t page, uint64_t w,
			      uint64_t version)
{
	uint64_t got = buf[page * PAGE_WORDS + w], v;
	uint64_t want = word_val(page_key(page, version), w);

	for (v = 0; v < version + 4; v++)
		if (v != version && word_val(page_key(page, v), w) == got)
			break;
	printf("snapwork: iter %llu (%llu page writes): page %llu (0x%llx) word %llu: "
	       "0x%016llx, want 0x%016llx (version %llu)\n", (unsigned long long)iter,
	       (unsigned long long)writes, (unsigned long long)page,
	       (unsigned long long)(uintptr_t)(buf + page * PAGE_WORDS + w),
	       (unsigned long long)w, (unsigned long long)got, (unsigned long long)want,
	       (unsigned long long)version);
	if (v < version + 4)
		fail("snapwork: memory at 0x%llx holds version %llu of page %llu, must be %llu "
		     "(stale or lost writes)", (unsigned long long)(uintptr_t)(buf + page * PAGE_WORDS),
		     (unsigned long long)v, (unsigned long long)page, (unsigned long long)version);
	fail("snapwork: memory at 0x%llx is %s (page %llu version %llu)",
	     (unsigned long long)(uintptr_t)(buf + page * PAGE_WORDS + w),
	     got ? "corrupt" : "zero", (unsigned long long)page, (unsigned long long)version);
}

/* Check the whole buffer after @writes page writes; returns the hash. */
static uint64_t verify(uint64_t iter, uint64_t writes)
{
	uint64_t s[4] = { 1, 2, 3, 4 }, page;

	for (page = 0; page < npages; page++) {
		uint64_t q = (page + npages - perm_b) % npages * perm_a_inv % npages;
		uint64_t version = version_at(q, writes), key = page_key(page, version);
		const uint64_t *p = buf + page * PAGE_WORDS;
		uint64_t w;

		for (w = 0; w < PAGE_WORDS; w += 4) {
			uint64_t v0 = word_val(key, w), v1 = word_val(key, w + 1);
			uint64_t v2 = word_val(key, w + 2), v3 = word_val(key, w + 3);

			if ((p[w] ^ v0) | (p[w + 1] ^ v1) | (p[w + 2] ^ v2) | (p[w + 3] ^ v3)) {
				while (p[w] == word_val(key, w))
					w++;
				bad_word(iter, writes, page, w, version);
			}
			s[0] = (s[0] ^ v0) * 0x100000001b3ull;
			s[1] = (s[1] ^ v1) * 0x100000001b3ull;
			s[2] = (s[2] ^ v2) * 0x100000001b3ull;
			s[3] = (s[3] ^ v3) * 0x100000001b3ull;
		}
		tick();
	}
	return pattern_splitmix64(s[0] ^ pattern_splitmix64(s[1] ^ pattern_splitmix64(s[2] ^
				  pattern_splitmix64(s[3]))));
}

/* First free RAM of @size bytes at or above @min, 2 MiB aligned. */
static uint64_t find_ram(uint64_t min, uint64_t size)
{
	const struct hvm_memmap_entry *m;
	unsigned int n, i;

	m = memmap_get(&n);
	for (i = 0; i < n; i++) {
		uint64_t a, end = m[i].addr + m[i].size;

		if (m[i].type != E820_RAM)
			continue;
		a = m[i].addr > min ? m[i].addr : min;
		a = (a + BUF_ALIGN - 1) & ~(BUF_ALIGN - 1);
		for (; a + size <= end && a + size > a; a += BUF_ALIGN)
			if (!memmap_overlaps_boot_data(a, size))
				return a;
	}
	return 0;
}

/* ---- virtio-blk (blk=1) ---- */

#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define BLK_SLOTS		256

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct virtio_dev bdev;
static struct virtq bq;
static struct blk_hdr *bhdr;
static uint8_t *bstatus, *bwbuf, *brbuf;

static uint64_t blk_seed(uint64_t iter)
{
	return (seed << 32) + iter;
}

static void blk_setup(void)
{
	uint64_t capacity;
	uint16_t qmax;

	virtio_start_cmdline(VIRTIO_ID_BLOCK, &bdev, BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_FLUSH));
	if (virtio_has(&bdev, VIRTIO_BLK_F_RO))
		fail("snapwork: blk=1: %s is read-only", bdev.name);
	capacity = virtio_cfg64(&bdev, 0);
	if (capacity < BLK_SLOTS * 8)
		fail("snapwork: blk=1: disk of %llu sectors, need >= %u (1 MiB)",
		     (unsigned long long)capacity, BLK_SLOTS * 8);
	qmax = virtio_queue_max(&bdev, 0);
	if (!qmax)
		fail("snapwork: blk=1: queue 0 has size 0");
	virtq_create(&bq, &bdev, 0, qmax < 16 ? qmax : 16);
	virtio_driver_ok(&bdev);
	bhdr = dma_alloc(sizeof(*bhdr), 16);
	bstatus = dma_alloc(1, 16);
	bwbuf = dma_alloc(4096, 4096);
	brbuf = dma_alloc(4096, 4096);
	printf("snapwork: blk %s, %llu sectors, block of iteration I at (I %% %u) * 4096, "
	       "pattern seed (%llu << 32) + I\n", bdev.name, (unsigned long long)capacity,
	       BLK_SLOTS, (unsigned long long)seed);
}

static void blk_rw(bool write, uint64_t off, uint8_t *data, uint64_t iter)
{
	struct vq_buf b[3];
	uint32_t len;

	bhdr->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	bhdr->reserved = 0;
	bhdr->sector = off / 512;
	*bstatus = 0xff;
	b[0] = (struct vq_buf){ dma_pa(bhdr), sizeof(*bhdr), false };
	b[1] = (struct vq_buf){ dma_pa(data), 4096, !write };
	b[2] = (struct vq_buf){ dma_pa(bstatus), 1, true };
	if (!virtq_submit_wait(&bq, b, 3, false, &len, 5000))
		fail("snapwork: blk iter %llu: %s at %llu: no completion in 5 s (status 0x%x)",
		     (unsigned long long)iter, write ? "write" : "read", (unsigned long long)off,
		     virtio_get_status(&bdev));
	if (READ_ONCE(*bstatus) != 0)
		fail("snapwork: blk iter %llu: %s at %llu: status %u", (unsigned long long)iter,
		     write ? "write" : "read", (unsigned long long)off, *bstatus);
}

static void blk_check(uint64_t iter, uint64_t of_iter)
{
	uint64_t off = (of_iter % BLK_SLOTS) * 4096;
	size_t bad;

	memset(brbuf, 0xa5, 4096);
	blk_rw(false, off, brbuf, iter);
	bad = pattern_check(brbuf, blk_seed(of_iter), off, 4096);
	if (bad != 4096)
		fail("snapwork: blk iter %llu: block of iteration %llu at %llu differs at +%zu: "
		     "0x%02x, want 0x%02x", (unsigned long long)iter, (unsigned long long)of_iter,
		     (unsigned long long)off, bad, brbuf[bad],
		     pattern_byte(blk_seed(of_iter), off + bad));
}

static void blk_iter(uint64_t iter)
{
	pattern_fill(bwbuf, blk_seed(iter), (iter % BLK_SLOTS) * 4096, 4096);
	blk_rw(true, (iter % BLK_SLOTS) * 4096, bwbuf, iter);
	blk_check(iter, iter);
	if (iter > 1)
		blk_check(iter, iter - 1);
	printf("snapwork blk iter=%llu ok\n", (unsigned long long)iter);
}

/* ---- virtio-net (net=1): ARP + UDP echo ---- */

#define VIRTIO_NET_F_MAC	5
#define NET_HDR			12
#define NET_RX_BUFS		16
#define NET_BUF_LEN		2048
#define NET_SRC_PORT		40000

static struct virtio_dev ndev;
static struct virtq nrxq, ntxq;
static uint8_t nmac[6], gw_mac[6], *ntxbuf;
static uint32_t my_ip = 0x0a00020f, gw_ip = 0x0a000202;
static uint16_t udp_port = 7, ip_id;


static void net_send(uint32_t len)
{
	struct vq_buf b = { dma_pa(ntxbuf), NET_HDR + (len < 60 ? 60 : len), false };
	uint32_t l;

	memset(ntxbuf, 0, NET_HDR);
	if (len < 60)
		memset(ntxbuf + NET_HDR + len, 0, 60 - len);
	if (!virtq_submit_wait(&ntxq, &b, 1, false, &l, 2000))
		fail("snapwork: net: transmit: no completion in 2 s (status 0x%x)",
		     virtio_get_status(&ndev));
}

static void net_arp(uint16_t op, const uint8_t *dst, const uint8_t *tha, uint32_t tpa)
{
	frame_arp(ntxbuf + NET_HDR, op, dst, nmac, my_ip, tha, tpa);
	net_send(ARP_FRAME_LEN);
}

static void net_udp(const char *payload, uint16_t plen)
{
	uint8_t *f = ntxbuf + NET_HDR, *udp = f + ETH_HLEN + IPV4_HLEN;

	frame_ipv4(f, gw_mac, nmac, my_ip, gw_ip, 17, ++ip_id, (uint16_t)(8 + plen));
	put16(udp, NET_SRC_PORT);
	put16(udp + 2, udp_port);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);		/* no checksum */
	memcpy(udp + 8, payload, plen);
	net_send(14u + 20 + 8 + plen);
}

enum { NET_WANT_ARP, NET_WANT_UDP };

/* One received frame: answers ARP for us; true if it is what we wait for. */
static bool net_handle(const uint8_t *f, uint32_t len, int want, const char *payload,
		       uint16_t plen)
{
	uint16_t type;

	if (len < 14)
		return false;
	type = be16(f + 12);
	if (type == 0x0806 && len >= 42 && be16(f + 14) == 1 && be16(f + 16) == 0x0800) {
		uint16_t op = be16(f + 20);
		uint32_t spa = be32(f + 28), tpa = be32(f + 38);

		if (op == 1 && tpa == my_ip) {
			uint8_t sha[6];

			memcpy(sha, f + 22, 6);
			net_arp(2, sha, sha, spa);
			return false;
		}
		if (op == 2 && spa == gw_ip && want == NET_WANT_ARP) {
			memcpy(gw_mac, f + 22, 6);
			return true;
		}
		return false;
	}
	if (type == 0x0800 && len >= 34 && want == NET_WANT_UDP) {
		const uint8_t *ip = f + 14, *udp;
		uint32_t ihl = (ip[0] & 15) * 4u, tot = be16(ip + 2);

		if ((ip[0] >> 4) != 4 || ihl < 20 || 14 + tot > len || ip[9] != 17 ||
		    be32(ip + 12) != gw_ip || be32(ip + 16) != my_ip || tot < ihl + 8 + plen)
			return false;
		udp = ip + ihl;
		return be16(udp) == udp_port && be16(udp + 2) == NET_SRC_PORT &&
		       be16(udp + 4) == 8 + plen && !memcmp(udp + 8, payload, plen);
	}
	return false;
}

/* Receive for up to @ms; true when net_handle() says so. */
static bool net_rx(int want, const char *payload, uint16_t plen, uint64_t ms)
{
	uint64_t end = rdtsc() + tsc_from_us(ms * 1000);

	for (;;) {
		int64_t left = (int64_t)(end - rdtsc());
		uint32_t len;
		uint8_t *p;
		bool ok;
		struct vq_buf b;

		if (left <= 0)
			return false;
		p = virtq_wait(&nrxq, &len, tsc_to_us((uint64_t)left) / 1000 + 1);
		if (!p)
			return false;
		if (len < NET_HDR || len > NET_BUF_LEN)
			fail("snapwork: net: receive used length %u", len);
		ok = net_handle(p + NET_HDR, len - NET_HDR, want, payload, plen);
		b = (struct vq_buf){ dma_pa(p), NET_BUF_LEN, true };
		virtq_add(&nrxq, &b, 1, p, false);
		virtq_kick(&nrxq);
		if (ok)
			return true;
	}
}

static void net_setup(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];
	uint64_t port, end;
	uint8_t *rx;
	unsigned int i;
	uint16_t m0, m1;

	if (cmdline_get_u64("port", &port)) {
		if (!port || port > 65535)
			fail("snapwork: port=%llu", (unsigned long long)port);
		udp_port = (uint16_t)port;
	}
	virtio_start_cmdline(VIRTIO_ID_NET, &ndev, BIT(VIRTIO_NET_F_MAC));
	if (virtio_has(&ndev, VIRTIO_NET_F_MAC))
		for (i = 0; i < 6; i++)
			nmac[i] = virtio_cfg8(&ndev, i);
	else
		memcpy(nmac, (const uint8_t[6]){ 0x52, 0x54, 0x00, 0x6b, 0x74, 0x02 }, 6);
	m0 = virtio_queue_max(&ndev, 0);
	m1 = virtio_queue_max(&ndev, 1);
	if (!m0 || !m1)
		fail("snapwork: net=1: %s: missing queues", ndev.name);
	virtq_create(&nrxq, &ndev, 0, m0 < 32 ? m0 : 32);
	virtq_create(&ntxq, &ndev, 1, m1 < 32 ? m1 : 32);
	virtio_driver_ok(&ndev);
	rx = dma_alloc((size_t)NET_RX_BUFS * NET_BUF_LEN, 4096);
	ntxbuf = dma_alloc(NET_BUF_LEN, 4096);
	for (i = 0; i < NET_RX_BUFS && i < nrxq.size; i++) {
		struct vq_buf b = { dma_pa(rx + (size_t)i * NET_BUF_LEN), NET_BUF_LEN, true };

		virtq_add(&nrxq, &b, 1, rx + (size_t)i * NET_BUF_LEN, false);
	}
	virtq_kick(&nrxq);
	end = rdtsc() + tsc_from_us(10 * 1000000);
	for (;;) {
		if ((int64_t)(end - rdtsc()) <= 0)
			fail("snapwork: net=1: no ARP reply from 10.0.2.2 in 10 s");
		net_arp(1, bcast, zero, gw_ip);
		if (net_rx(NET_WANT_ARP, NULL, 0, 500))
			break;
	}
	printf("snapwork: net %s mac %02x:%02x:%02x:%02x:%02x:%02x, 10.0.2.15:%u -> 10.0.2.2:%u "
	       "(gw mac %02x:%02x:%02x:%02x:%02x:%02x)\n", ndev.name, nmac[0], nmac[1], nmac[2],
	       nmac[3], nmac[4], nmac[5], NET_SRC_PORT, udp_port, gw_mac[0], gw_mac[1],
	       gw_mac[2], gw_mac[3], gw_mac[4], gw_mac[5]);
}

static void net_iter(uint64_t iter)
{
	char payload[32];
	uint16_t plen = (uint16_t)snprintf(payload, sizeof(payload), "snapwork %llu",
					   (unsigned long long)iter);
	uint64_t ms200 = tsc_from_us(200000), sec = tsc_from_us(1000000);
	uint64_t deadline = rdtsc() + sec;
	unsigned int sends = 0;

	for (;;) {
		uint64_t before, now = rdtsc();

		if ((int64_t)(deadline - now) <= 0)
			fail("snapwork: net iter %llu: no UDP echo of \"%s\" from port %u in 1 s "
			     "(%u sends)", (unsigned long long)iter, payload, udp_port, sends);
		net_udp(payload, plen);
		sends++;
		before = rdtsc();
		if (net_rx(NET_WANT_UDP, payload, plen, 200))
			break;
		/* The TSC jumped: the guest was paused (snapshot) and the
		 * datagram may be gone with the old network back end. */
		now = rdtsc();
		if (now - before > 2 * ms200)
			deadline = now + sec;
	}
	if (sends > 1)
		printf("snapwork: net iter=%llu sent %u times\n", (unsigned long long)iter, sends);
	printf("snapwork net iter=%llu ok\n", (unsigned long long)iter);
}

/* ---- the scenario ---- */

static uint64_t word_or(const char *name, uint64_t def)
{
	uint64_t v;

	return cmdline_get_u64(name, &v) ? v : def;
}

GUEST_TEST(snapwork, "[mb=16] [iters=0] [period_ms=100] [dirty_mb_s=N] [blk=1] [net=1] "
	   "[tick_us=0]: snapshot/migration continuity workload (tick_us=N: a '.' on the serial "
	   "port every N us between lines)")
{
	uint64_t mb = word_or("mb", 16), iters = word_or("iters", 0);
	uint64_t period_ms = word_or("period_ms", 100), dirty_mb_s = 0, base, t0, t1, sum;
	uint64_t period, deadline, iter, slices, hz, corrupt_at = 0, stale_at = 0;
	uint64_t busy, busy_sum = 0, busy_max = 0, ver, ver_sum = 0, ver_max = 0, tick_us;
	bool dirty_rate = cmdline_get_u64("dirty_mb_s", &dirty_mb_s);
	bool use_blk = word_or("blk", 0), use_net = word_or("net", 0);

	seed = word_or("seed", 1);
	tick_us = word_or("tick_us", 0);
	/* self-checks of the checker (must FAIL): corrupt=I zeroes a page,
	 * stale=I puts back the previous version of the last page written */
	cmdline_get_u64("corrupt", &corrupt_at);
	cmdline_get_u64("stale", &stale_at);
	if (!mb || mb > (PAGING_MAP_LIMIT >> 20))
		fail("snapwork: mb=%llu", (unsigned long long)mb);
	if (dirty_rate && !period_ms)
		fail("snapwork: dirty_mb_s needs period_ms > 0");
	npages = mb * 256;
	k_pages = dirty_rate ? (dirty_mb_s * 256 * period_ms + 500) / 1000 : DEFAULT_K;
	if (dirty_rate && dirty_mb_s && !k_pages)
		k_pages = 1;
	if (!dirty_rate && k_pages > npages)
		k_pages = npages;
	perm_a = 1000003 % npages;
	while (!perm_a || gcd(perm_a, npages) != 1)
		perm_a++;
	perm_a_inv = mod_inverse(perm_a, npages);
	perm_b = pattern_splitmix64(seed) % npages;

	base = find_ram((((uintptr_t)__image_end + BUF_ALIGN - 1) & ~(BUF_ALIGN - 1)) +
			BUF_MIN_OFFSET, mb << 20);
	if (!base)
		fail("snapwork: no free RAM for %llu MiB above 0x%llx (RAM %llu MiB): give the "
		     "guest >= %llu MiB", (unsigned long long)mb,
		     (unsigned long long)((((uintptr_t)__image_end + BUF_ALIGN - 1) &
					   ~(BUF_ALIGN - 1)) + BUF_MIN_OFFSET),
		     (unsigned long long)(memmap_ram_total() >> 20),
		     (unsigned long long)(mb + 24));
	if (base + (mb << 20) > (4ull << 30) && !paging_map_high(base + (mb << 20)))
		fail("snapwork: cannot map [0x%llx, +%llu MiB)", (unsigned long long)base,
		     (unsigned long long)mb);
	buf = (uint64_t *)(uintptr_t)base;
	hz = tsc_hz();
	period = tsc_from_us(period_ms * 1000);
	slices = k_pages < period_ms ? k_pages : period_ms;
	printf("snapwork: mb=%llu at 0x%llx, %llu pages, %llu page writes per iteration%s, "
	       "period %llu ms, seed %llu, iters %llu, tsc %llu Hz (%s)\n",
	       (unsigned long long)mb, (unsigned long long)base, (unsigned long long)npages,
	       (unsigned long long)k_pages, dirty_rate ? " (dirty_mb_s, paced)" : "",
	       (unsigned long long)period_ms, (unsigned long long)seed,
	       (unsigned long long)iters, (unsigned long long)hz, tsc_source());

	if (tick_us)
		printf("snapwork: tick_us=%llu: a '.' on the serial port every %llu us of work, "
		       "between lines\n", (unsigned long long)tick_us, (unsigned long long)tick_us);
	if (use_blk)
		blk_setup();
	if (use_net)
		net_setup();

	mem_tsc = 0;
	t0 = tsc_now();
	{
		uint64_t p;

		for (p = 0; p < npages; p++)
			write_page(p, 0);
	}
	t1 = tsc_now();
	sum = verify(0, 0);
	printf("snapwork: filled in %llu us, verified in %llu us, sum 0x%016llx\n",
	       (unsigned long long)tsc_to_us(t1 - t0), (unsigned long long)tsc_to_us(tsc_now() - t1),
	       (unsigned long long)sum);

	mem_iter = 0;
	deadline = tsc_now();
	tick_last = deadline;
	tick_every = tick_us ? tsc_from_us(tick_us) : 0;
	if (tick_us && !tick_every)
		tick_every = 1;
	for (iter = 1; !iters || iter <= iters; iter++) {
		uint64_t start, s, tsc;

		/* memory must agree with the registers */
		if (mem_iter != iter - 1)
			fail("snapwork: iteration counter jumped: memory says %llu, the loop is at %llu",
			     (unsigned long long)mem_iter, (unsigned long long)iter - 1);
		wait_until(deadline);
		start = tsc_now();
		if (start - deadline > period) {	/* late (or paused): no burst */
			if (start - deadline > hz)
				printf("snapwork: iteration %llu starts %llu ms late (paused?)\n",
				       (unsigned long long)iter,
				       (unsigned long long)tsc_to_us(start - deadline) / 1000);
			deadline = start;
		}
		if (dirty_rate) {
			for (s = 0; s < slices; s++) {
				uint64_t from = (iter - 1) * k_pages + s * k_pages / slices;
				uint64_t to = (iter - 1) * k_pages + (s + 1) * k_pages / slices;

				wait_until(deadline + s * period / slices);
				do_writes(from, to);
			}
		} else {
			do_writes((iter - 1) * k_pages, iter * k_pages);
		}
		if (iter == corrupt_at) {
			printf("snapwork: corrupt=%llu: zeroing page 0\n", (unsigned long long)iter);
			memset(buf, 0, PAGE_WORDS * 8);
		}
		if (iter == stale_at && k_pages) {
			uint64_t t = iter * k_pages - 1, q = t % npages;

			printf("snapwork: stale=%llu: page write %llu undone\n",
			       (unsigned long long)iter, (unsigned long long)t);
			write_page((q * perm_a + perm_b) % npages, t / npages);
		}
		ver = tsc_now();
		sum = verify(iter, iter * k_pages);
		tsc = tsc_now();
		ver = tsc - ver;
		ver_sum += ver;
		if (ver > ver_max)
			ver_max = ver;
		printf("snapwork iter=%llu sum=0x%016llx tsc=%llu\n", (unsigned long long)iter,
		       (unsigned long long)sum, (unsigned long long)tsc);
		if (use_blk)
			blk_iter(iter);
		if (use_net)
			net_iter(iter);
		mem_iter = iter;
		busy = tsc_now() - start;
		busy_sum += busy;
		if (busy > busy_max)
			busy_max = busy;
		deadline += period;
	}
	iter--;
	printf("snapwork: %llu iterations; verify avg %llu us max %llu us; work per iteration "
	       "(writes%s + verify%s%s) avg %llu us max %llu us\n", (unsigned long long)iter,
	       (unsigned long long)tsc_to_us(ver_sum / iter), (unsigned long long)tsc_to_us(ver_max),
	       dirty_rate ? " paced over the period" : "", use_blk ? " + blk" : "",
	       use_net ? " + net" : "", (unsigned long long)tsc_to_us(busy_sum / iter),
	       (unsigned long long)tsc_to_us(busy_max));
	if (tick_count)
		printf("snapwork: %llu ticks; a tick (one '.') took avg %llu ns max %llu us\n",
		       (unsigned long long)tick_count,
		       (unsigned long long)(tsc_to_us(tick_cost * 1000 / tick_count)),
		       (unsigned long long)tsc_to_us(tick_cost_max));
	pass();
}
