/* SPDX-License-Identifier: MIT */
/*
 * test=bench kind=K [...]: micro-benchmarks for the benchmark harness
 * (bench/), booted identically on kite and on QEMU microvm.  Everything
 * timed runs in ring 3, polling (no interrupts), timed with rdtsc and
 * converted with tsc_hz().  Integer arithmetic only (the guest is built with
 * -mgeneral-regs-only).
 *
 *   kind=pio [n=200000]        inb from 0x3fd (UART line status register)
 *   kind=mmio [n=100000]       32-bit reads of Status (0x70) of the first
 *                              virtio-mmio device
 *   kind=ioeventfd [n=200000]  writes of 0 to QueueNotify of a virtio-mmio
 *                              device brought up to DRIVER_OK (an rng if there
 *                              is one, else the first), no buffers available
 *   kind=blk [rw=randread|randwrite|read|write] [bs=4096] [qd=32] [ms=2000]
 *            [warm_ms=300] [seed=1]   virtio-blk, one queue, qd requests in flight
 *   kind=net [size=64] [ms=2000] [warm_ms=300]
 *                              virtio-net transmit, ring kept full
 *
 * One result line, the only one starting with "bench " and a kind:
 *   bench pio ops=N cycles=C ns_per_op=X.XXX tsc_hz=H
 *   bench blk rw=randread bs=4096 qd=32 ops=N bytes=B ns=T iops=I mbps=M
 *   bench net dir=tx size=64 frames=N bytes=B ns=T pps=P mbps=M
 * then PASS.  Other lines start with "bench: ".  Every wait is bounded:
 * no completion for 5 s fails the test.
 */
#include "lib.h"
#include "tsc.h"
#include "virtq.h"

#define VMMIO_QUEUE_NOTIFY	0x050
#define VMMIO_STATUS		0x070
#define UART_LSR_PORT		0x3fd

#define STALL_MS		5000	/* no completion this long: fail */
#define RING_MAX		256
#define DATA_MAX		(12u << 20)	/* of the 16 MiB DMA arena */

#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1

#define VIRTIO_NET_F_MAC	5
#define NET_HDR			12	/* no MRG_RXBUF, VERSION_1 */
#define NET_RX_BUFS		16
#define NET_RX_LEN		2048
#define NET_ETHERTYPE		0x88b5	/* local experimental */

/* ---- helpers ---- */

/* a * b / c rounded to nearest, without libgcc (no 128-bit division there):
 * one divq of the 128-bit product.  UINT64_MAX if c is 0 or it overflows. */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 p = (unsigned __int128)a * b + c / 2;
	uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p, q, r;

	if (!c || hi >= c)
		return UINT64_MAX;
	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(c));
	(void)r;
	return q;
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	return muldiv(ticks, 1000000000ull, tsc_hz());
}

static uint64_t ms_to_ticks(uint64_t ms)
{
	return muldiv(ms, tsc_hz(), 1000);
}

/* Value of word name= (with K/M/G suffix if @size), @def when absent; a
 * malformed value fails the test rather than silently using the default. */
static uint64_t word_u64(const char *name, uint64_t def, bool size)
{
	char buf[32];
	uint64_t v;

	if (!cmdline_get(name, buf, sizeof(buf)))
		return def;
	if (!(size ? parse_size(buf, strlen(buf), &v) : parse_u64(buf, strlen(buf), &v)))
		fail("bench: %s=%s: not a number", name, buf);
	return v;
}

/* Largest power of two <= min(max, RING_MAX): split rings need one. */
static uint16_t ring_size(uint16_t max)
{
	uint16_t n = RING_MAX;

	while (n > max)
		n >>= 1;
	return n;
}

/* First virtio-mmio device; prefer @want (0: any type). */
static bool mmio_first(uint32_t want, struct virtio_dev *out)
{
	static struct virtio_dev all[VIRTIO_MAX_DEVICES];
	unsigned int n = virtio_mmio_enumerate(all, VIRTIO_MAX_DEVICES), i;

	for (i = 0; want && i < n; i++) {
		if (all[i].device_id == want) {
			*out = all[i];
			return true;
		}
	}
	if (!n)
		return false;
	*out = all[0];
	return true;
}

static struct virtio_dev *mmio_dev_or_fail(uint32_t want)
{
	static struct virtio_dev d;

	if (!mmio_first(want, &d))
		fail("bench: no virtio-mmio device (kite: --transport mmio --rng; QEMU: "
		     "-M microvm,acpi=off -device virtio-rng-device)");
	return &d;
}

/* ---- kind=pio|mmio|ioeventfd: cost of one exit ---- */

enum op_kind { OP_PIO, OP_MMIO, OP_NOTIFY };

/* The loops are kept apart so that each one is just the access and a count. */
static void run_ops(enum op_kind k, uint64_t base, uint64_t n)
{
	uint64_t i;

	switch (k) {
	case OP_PIO:
		for (i = 0; i < n; i++)
			(void)inb(UART_LSR_PORT);
		break;
	case OP_MMIO:
		for (i = 0; i < n; i++)
			(void)mmio_read32(base + VMMIO_STATUS);
		break;
	case OP_NOTIFY:
		for (i = 0; i < n; i++)
			mmio_write32(base + VMMIO_QUEUE_NOTIFY, 0);
		break;
	}
}

static void report_ops(const char *name, uint64_t n, uint64_t cycles)
{
	uint64_t hz = tsc_hz(), pns = muldiv(cycles, 1000000000000ull, hz * n);

	printf("bench %s ops=%llu cycles=%llu ns_per_op=%llu.%03llu tsc_hz=%llu\n", name,
	       (unsigned long long)n, (unsigned long long)cycles,
	       (unsigned long long)(pns / 1000), (unsigned long long)(pns % 1000),
	       (unsigned long long)hz);
}

static void bench_ops(enum op_kind k, const char *name, uint64_t def_n)
{
	static struct virtq vq;
	struct virtio_dev *d = NULL;
	uint64_t n = word_u64("n", def_n, true), base = 0, t0, t1;

	if (!n)
		fail("bench: n=0");
	if (k != OP_PIO) {
		d = mmio_dev_or_fail(k == OP_NOTIFY ? VIRTIO_ID_RNG : 0);
		base = d->base;
	}
	if (k == OP_NOTIFY) {
		uint16_t qmax;

		virtio_negotiate(d, 0);
		qmax = virtio_queue_max(d, 0);
		if (!qmax)
			fail("bench: %s: queue 0 has size 0", d->name);
		virtq_create(&vq, d, 0, ring_size(qmax));
		virtio_driver_ok(d);
	}
	printf("bench: %s: %llu ops (+%llu warm-up) on %s, tsc %llu Hz (%s)\n", name,
	       (unsigned long long)n, (unsigned long long)(n / 10),
	       d ? d->name : "port 0x3fd", (unsigned long long)tsc_hz(), tsc_source());
	run_ops(k, base, n / 10);
	t0 = rdtsc();
	run_ops(k, base, n);
	t1 = rdtsc();
	if (d) {
		uint8_t s = virtio_get_status(d);

		if (s & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED))
			fail("bench: %s: device status 0x%x after the loop", d->name, s);
	}
	report_ops(name, n, t1 - t0);
	if (k == OP_NOTIFY)
		virtio_reset(d);
	pass();
}

/* ---- the timed window of kind=blk and kind=net ---- */

/*
 * The caller polls in passes: reap what completed, then window_step(), which
 * reads the TSC.  What one pass reaps completed before that pass's TSC read,
 * so the window runs from the first read at or after the warm-up's end
 * (that pass not counted) to the first read at or after the end (counted).
 */
struct window {
	uint64_t warm_end, end, stall;	/* TSC deadlines; stall: ticks */
	uint64_t begin, stop;		/* the window as measured */
	uint64_t last_done;
	uint64_t count;			/* completions inside the window */
	bool timed;
};

enum win_state { WIN_RUN, WIN_DONE, WIN_STALL };

static void window_start(struct window *w)
{
	uint64_t ms = word_u64("ms", 2000, false), warm = word_u64("warm_ms", 300, false);

	if (!ms)
		fail("bench: ms=0");
	memset(w, 0, sizeof(*w));
	w->last_done = rdtsc();
	w->warm_end = w->last_done + ms_to_ticks(warm);
	w->end = w->warm_end + ms_to_ticks(ms);
	w->stall = ms_to_ticks(STALL_MS);
}

static enum win_state window_step(struct window *w, unsigned int done)
{
	uint64_t now = rdtsc();

	if (done)
		w->last_done = now;
	else if (now - w->last_done > w->stall)
		return WIN_STALL;
	if (!w->timed) {
		if ((int64_t)(now - w->warm_end) >= 0) {
			w->timed = true;
			w->begin = now;
		}
		return WIN_RUN;
	}
	w->count += done;
	if ((int64_t)(now - w->end) < 0)
		return WIN_RUN;
	w->stop = now;
	return WIN_DONE;
}

/* ---- kind=blk ---- */

struct blk_req {
	struct {
		uint32_t type;
		uint32_t reserved;
		uint64_t sector;
	} hdr;			/* device reads */
	uint8_t status;		/* device writes */
	uint8_t *data;		/* bs bytes, allocated once */
};

static struct {
	struct virtio_dev d;
	struct virtq vq;
	bool write, random, indirect;
	uint32_t bs;
	uint64_t slots, next_slot, rng;	/* slots: bs-sized blocks on the disk */
} blk;

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void blk_submit(struct blk_req *r)
{
	uint64_t slot;
	struct vq_buf bufs[3];

	if (blk.random) {
		slot = xorshift64(&blk.rng) % blk.slots;
	} else {
		slot = blk.next_slot++;
		if (blk.next_slot == blk.slots)
			blk.next_slot = 0;
	}
	r->hdr.type = blk.write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	r->hdr.sector = slot * (blk.bs / 512);
	r->status = 0xff;
	bufs[0] = (struct vq_buf){ dma_pa(&r->hdr), sizeof(r->hdr), false };
	bufs[1] = (struct vq_buf){ dma_pa(r->data), blk.bs, !blk.write };
	bufs[2] = (struct vq_buf){ dma_pa(&r->status), 1, true };
	if (!virtq_add(&blk.vq, bufs, 3, r, blk.indirect))
		fail("bench: blk: no room in the ring with %u requests in flight", blk.vq.inflight);
}

/* Reap every used request (each must be OK); resubmit them if @again.
 * One kick for the batch. */
static unsigned int blk_reap(bool again)
{
	struct blk_req *r;
	unsigned int n = 0;

	__asm__ volatile("mfence" ::: "memory");
	while ((r = virtq_get(&blk.vq, NULL))) {
		if (r->status != 0)
			fail("bench: blk: %s of %u bytes at sector %llu: status %u",
			     blk.write ? "write" : "read", blk.bs,
			     (unsigned long long)r->hdr.sector, r->status);
		if (again)
			blk_submit(r);
		n++;
	}
	if (n && again)
		virtq_kick(&blk.vq);
	return n;
}

static void blk_drain(void)
{
	uint64_t t = rdtsc(), stall = ms_to_ticks(STALL_MS);

	while (blk.vq.inflight) {
		if (blk_reap(false))
			t = rdtsc();
		else if (rdtsc() - t > stall)
			fail("bench: blk: %u requests still in flight 5 s after the end (status 0x%x)",
			     blk.vq.inflight, virtio_get_status(&blk.d));
	}
}

static void blk_parse(char *rw, size_t rw_size, uint64_t *qd)
{
	uint64_t bs = word_u64("bs", 4096, true);

	if (!cmdline_get("rw", rw, rw_size))
		memcpy(rw, "randread", sizeof("randread"));
	if (!strcmp(rw, "randread") || !strcmp(rw, "read"))
		blk.write = false;
	else if (!strcmp(rw, "randwrite") || !strcmp(rw, "write"))
		blk.write = true;
	else
		fail("bench: rw=%s: expected randread, randwrite, read or write", rw);
	blk.random = str_starts(rw, "rand");
	*qd = word_u64("qd", 32, false);
	blk.rng = word_u64("seed", 1, false);
	if (!blk.rng)
		blk.rng = 0x9e3779b97f4a7c15ull;	/* xorshift needs a non-zero state */
	if (!bs || bs % 512 || bs > DATA_MAX)
		fail("bench: bs=%llu: must be a non-zero multiple of 512, at most %u MiB",
		     (unsigned long long)bs, DATA_MAX >> 20);
	blk.bs = (uint32_t)bs;
	if (!*qd || *qd * blk.bs > DATA_MAX)
		fail("bench: qd=%llu bs=%u: qd must be >= 1 and qd * bs <= %u MiB",
		     (unsigned long long)*qd, blk.bs, DATA_MAX >> 20);
}

/* Device, queue, chain layout; fails on what the benchmark cannot do. */
static void blk_setup(uint64_t qd)
{
	uint64_t capacity;
	uint16_t qmax;

	/* FLUSH accepted (never used) like a Linux guest does: a driver without
	 * it gets a write-through cache from QEMU (fdatasync after each write). */
	virtio_start_cmdline(VIRTIO_ID_BLOCK, &blk.d, BIT(VIRTIO_BLK_F_SIZE_MAX) |
			     BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_FLUSH));
	if (blk.write && virtio_has(&blk.d, VIRTIO_BLK_F_RO))
		fail("bench: blk: %s is read-only", blk.d.name);
	if (virtio_has(&blk.d, VIRTIO_BLK_F_SIZE_MAX) && virtio_cfg32(&blk.d, 8) &&
	    blk.bs > virtio_cfg32(&blk.d, 8))
		fail("bench: blk: bs=%u above the device's size_max %u", blk.bs,
		     virtio_cfg32(&blk.d, 8));
	capacity = virtio_cfg64(&blk.d, 0);
	blk.slots = capacity / (blk.bs / 512);
	if (!blk.slots)
		fail("bench: blk: disk of %llu sectors is smaller than bs=%u",
		     (unsigned long long)capacity, blk.bs);
	qmax = virtio_queue_max(&blk.d, 0);
	if (!qmax)
		fail("bench: blk: %s: queue 0 has size 0", blk.d.name);
	virtq_create(&blk.vq, &blk.d, 0, ring_size(qmax));
	virtq_set_poll_only(&blk.vq);
	/* Three descriptors a request; an indirect table each only when the
	 * ring cannot hold qd direct chains. */
	blk.indirect = qd * 3 > blk.vq.size;
	if (qd > blk.vq.size || (blk.indirect && !blk.vq.indirect_ok))
		fail("bench: blk: qd=%llu does not fit a ring of %u%s",
		     (unsigned long long)qd, blk.vq.size,
		     blk.vq.indirect_ok ? "" : " (no INDIRECT_DESC: qd <= size / 3)");
	virtio_driver_ok(&blk.d);
	printf("bench: blk: %s: %llu sectors, ring %u (%s%s), %s chains\n", blk.d.name,
	       (unsigned long long)capacity, blk.vq.size, blk.vq.packed ? "packed" : "split",
	       blk.vq.event_idx ? ", event_idx" : "", blk.indirect ? "indirect" : "direct");
}

static void report_rate(uint64_t ns, uint64_t n, uint64_t bytes, const char *count,
			const char *rate)
{
	uint64_t mb10 = muldiv(bytes, 10000, ns);

	printf("%s=%llu bytes=%llu ns=%llu %s=%llu mbps=%llu.%llu\n", count,
	       (unsigned long long)n, (unsigned long long)bytes, (unsigned long long)ns, rate,
	       (unsigned long long)muldiv(n, 1000000000ull, ns),
	       (unsigned long long)(mb10 / 10), (unsigned long long)(mb10 % 10));
}

static NORETURN void bench_blk(void)
{
	char rw[16];
	uint64_t qd, i, ns;
	struct blk_req *reqs;
	uint8_t *data;
	struct window w;
	enum win_state st;

	blk_parse(rw, sizeof(rw), &qd);
	blk_setup(qd);
	reqs = dma_alloc(sizeof(*reqs) * qd, 64);
	data = dma_alloc(qd * blk.bs, 4096);
	if (blk.write)		/* not zeros: a backend may treat those specially */
		for (i = 0; i < qd * blk.bs / 8; i++)
			((uint64_t *)data)[i] = xorshift64(&blk.rng);
	window_start(&w);
	for (i = 0; i < qd; i++) {
		reqs[i].data = data + i * blk.bs;
		blk_submit(&reqs[i]);
	}
	virtq_kick(&blk.vq);
	while ((st = window_step(&w, blk_reap(true))) == WIN_RUN)
		;
	if (st == WIN_STALL)
		fail("bench: blk: no completion in 5 s (%u in flight, status 0x%x)",
		     blk.vq.inflight, virtio_get_status(&blk.d));
	blk_drain();
	if (virtio_get_status(&blk.d) & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED))
		fail("bench: blk: device status 0x%x", virtio_get_status(&blk.d));
	ns = ticks_to_ns(w.stop - w.begin);
	printf("bench blk rw=%s bs=%u qd=%llu ", rw, blk.bs, (unsigned long long)qd);
	report_rate(ns, w.count, w.count * blk.bs, "ops", "iops");
	virtio_reset(&blk.d);
	pass();
}

/* ---- kind=net ---- */

static struct {
	struct virtio_dev d;
	struct virtq rxq, txq;
	uint64_t rx_frames;
} net;

/* Requeue every used receive buffer (content ignored). */
static void net_rx_recycle(void)
{
	uint8_t *p;
	unsigned int n = 0;

	while ((p = virtq_get(&net.rxq, NULL))) {
		struct vq_buf b = { dma_pa(p), NET_RX_LEN, true };

		if (!virtq_add(&net.rxq, &b, 1, p, false))
			fail("bench: net: receive ring full");
		n++;
	}
	net.rx_frames += n;
	if (n)
		virtq_kick(&net.rxq);
}

/* Reap used transmit buffers, put them back if @again; one kick. */
static unsigned int net_tx_reap(uint32_t len, bool again)
{
	uint8_t *p;
	unsigned int n = 0;

	__asm__ volatile("mfence" ::: "memory");
	while ((p = virtq_get(&net.txq, NULL))) {
		struct vq_buf b = { dma_pa(p), NET_HDR + len, false };

		if (again && !virtq_add(&net.txq, &b, 1, p, false))
			fail("bench: net: transmit ring full");
		n++;
	}
	if (n && again)
		virtq_kick(&net.txq);
	net_rx_recycle();
	return n;
}

static void net_setup(void)
{
	uint16_t rmax, tmax, i;
	uint8_t *rx;

	/* VERSION_1 and MAC only: no offloads, no MRG_RXBUF (12-byte header),
	 * no EVENT_IDX (so the rings' polling flags suppress interrupts). */
	virtio_open_cmdline(VIRTIO_ID_NET, &net.d);
	virtio_negotiate(&net.d, BIT(VIRTIO_NET_F_MAC));
	rmax = virtio_queue_max(&net.d, 0);
	tmax = virtio_queue_max(&net.d, 1);
	if (!rmax || !tmax)
		fail("bench: net: %s: missing queues", net.d.name);
	virtq_create(&net.rxq, &net.d, 0, ring_size(rmax));
	virtq_create(&net.txq, &net.d, 1, ring_size(tmax));
	virtq_set_poll_only(&net.rxq);
	virtq_set_poll_only(&net.txq);
	virtio_driver_ok(&net.d);
	rx = dma_alloc((size_t)NET_RX_BUFS * NET_RX_LEN, 4096);
	for (i = 0; i < NET_RX_BUFS && i < net.rxq.size; i++) {
		struct vq_buf b = { dma_pa(rx + (size_t)i * NET_RX_LEN), NET_RX_LEN, true };

		virtq_add(&net.rxq, &b, 1, rx + (size_t)i * NET_RX_LEN, false);
	}
	virtq_kick(&net.rxq);
}

/* Header (zero) + frame to 02:00:00:00:00:fe (not the host: dropped early). */
static void net_frame(uint8_t *p, uint32_t len, const uint8_t *mac)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0xfe };
	uint32_t i;

	memset(p, 0, NET_HDR);
	p += NET_HDR;
	memcpy(p, dst, 6);
	memcpy(p + 6, mac, 6);
	p[12] = NET_ETHERTYPE >> 8;
	p[13] = NET_ETHERTYPE & 0xff;
	for (i = 14; i < len; i++)
		p[i] = (uint8_t)i;
}

static NORETURN void bench_net(void)
{
	uint64_t size = word_u64("size", 64, true), t, ns;
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x6b, 0x74, 0x01 }, *tx;
	uint32_t len, stride, i;
	struct window w;
	enum win_state st;

	if (size < 60 || size > 1514)
		fail("bench: net: size=%llu: expected 60..1514 (frame bytes without FCS)",
		     (unsigned long long)size);
	len = (uint32_t)size;
	net_setup();
	if (virtio_has(&net.d, VIRTIO_NET_F_MAC))
		for (i = 0; i < 6; i++)
			mac[i] = virtio_cfg8(&net.d, i);
	stride = (NET_HDR + len + 63) & ~63u;
	tx = dma_alloc((size_t)stride * net.txq.size, 4096);
	printf("bench: net: %s: tx ring %u, rx ring %u (%u buffers), %u-byte frames\n",
	       net.d.name, net.txq.size, net.rxq.size, net.rxq.inflight, len);
	window_start(&w);
	for (i = 0; i < net.txq.size; i++) {
		struct vq_buf b = { dma_pa(tx + (size_t)i * stride), NET_HDR + len, false };

		net_frame(tx + (size_t)i * stride, len, mac);
		virtq_add(&net.txq, &b, 1, tx + (size_t)i * stride, false);
	}
	virtq_kick(&net.txq);
	while ((st = window_step(&w, net_tx_reap(len, true))) == WIN_RUN)
		;
	if (st == WIN_STALL)
		fail("bench: net: no transmit completion in 5 s (%u in flight, status 0x%x)",
		     net.txq.inflight, virtio_get_status(&net.d));
	for (t = rdtsc(); net.txq.inflight;) {
		if (net_tx_reap(len, false))
			t = rdtsc();
		else if (rdtsc() - t > ms_to_ticks(STALL_MS))
			fail("bench: net: %u frames still in flight 5 s after the end",
			     net.txq.inflight);
	}
	if (virtio_get_status(&net.d) & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED))
		fail("bench: net: device status 0x%x", virtio_get_status(&net.d));
	printf("bench: net: %llu frames received and dropped\n",
	       (unsigned long long)net.rx_frames);
	ns = ticks_to_ns(w.stop - w.begin);
	printf("bench net dir=tx size=%u ", len);
	report_rate(ns, w.count, w.count * len, "frames", "pps");
	virtio_reset(&net.d);
	pass();
}

GUEST_TEST(bench, "kind=pio|mmio|ioeventfd|blk|net [n=] [ms=] [warm_ms=] ...: benchmarks")
{
	char kind[16] = "";

	if (!cmdline_get("kind", kind, sizeof(kind)))
		fail("bench: kind= missing (pio, mmio, ioeventfd, blk, net)");
	if (!strcmp(kind, "pio"))
		bench_ops(OP_PIO, "pio", 200000);
	if (!strcmp(kind, "mmio"))
		bench_ops(OP_MMIO, "mmio", 100000);
	if (!strcmp(kind, "ioeventfd"))
		bench_ops(OP_NOTIFY, "ioeventfd", 200000);
	if (!strcmp(kind, "blk"))
		bench_blk();
	if (!strcmp(kind, "net"))
		bench_net();
	fail("bench: kind=%s: expected pio, mmio, ioeventfd, blk or net", kind);
}
