/* SPDX-License-Identifier: MIT */
/*
 * test=vblk [transport=mmio|pci] [ring=packed] [irq=1|msix|intx] [seed=N]
 *           [ro=1] [dev=N] [queues=N] [indirect=0] [event_idx=0] [discard_zeroes=1]
 *           [flush=0]
 *
 * virtio-blk: capacity, seeded pattern writes (lib/pattern.h) of 512 B ..
 * 1 MiB at scattered offsets and at the last sectors, spread over every
 * queue (VIRTIO_BLK_F_MQ), read back and compared; FLUSH; GET_ID; WRITE_ZEROES
 * and DISCARD when offered (reads must return zeros); a read past the end
 * must fail with IOERR.  ro=1: the device must offer VIRTIO_BLK_F_RO and a
 * write must complete with VIRTIO_BLK_S_IOERR.
 *
 * For the host, every range left on the disk is printed:
 *   blk wrote OFFSET LEN SEED     (bytes; check with kite-pattern check FILE SEED OFFSET LEN)
 *   blk zeroed OFFSET LEN         (kite-pattern zero FILE OFFSET LEN)
 *   blk discarded OFFSET LEN      (DISCARD that did not read back as zeros:
 *                                  content undefined; discard_zeroes=1 fails instead)
 * Ranges do not overlap.
 */
#include "lib.h"
#include "pattern.h"
#include "tsc.h"
#include "virtq.h"

#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_MQ		12
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_T_DISCARD	11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define MAX_QUEUES		8
#define SEG_BYTES		(64u << 10)

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;		/* bit 0: unmap (WRITE_ZEROES) */
};

struct blk_req {
	struct blk_hdr hdr;	/* DMA: device reads */
	uint8_t status;		/* DMA: device writes */
	bool done;
	uint32_t used_len;
};

static struct virtio_dev dev;
static struct virtq vqs[MAX_QUEUES];
static unsigned int nq, max_segs, next_q;
static uint64_t capacity;	/* sectors */
static unsigned int nreq;

static const char *status_name(uint8_t s)
{
	switch (s) {
	case VIRTIO_BLK_S_OK: return "OK";
	case VIRTIO_BLK_S_IOERR: return "IOERR";
	case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
	default: return "?";
	}
}

/* Poll every queue for completions; in interrupt mode wait for an interrupt
 * when none is there.  Returns the number completed, 0 on timeout. */
static unsigned int reap(uint64_t timeout_ms)
{
	uint64_t end = rdtsc() + tsc_from_us(timeout_ms * 1000);

	for (;;) {
		uint64_t seen = virtio_irq_count(&dev);
		unsigned int q, n = 0;

		__asm__ volatile("mfence" ::: "memory");
		for (q = 0; q < nq; q++) {
			struct blk_req *r;
			uint32_t len;

			while ((r = virtq_get(&vqs[q], &len))) {
				r->used_len = len;
				WRITE_ONCE(r->done, true);
				n++;
			}
		}
		if (n)
			return n;
		while (dev.irq_mode != VIRTIO_IRQ_NONE && virtio_irq_count(&dev) == seen) {
			if ((int64_t)(rdtsc() - end) > 0)
				return 0;
			cpu_relax();
		}
		if ((int64_t)(rdtsc() - end) > 0)
			return 0;
	}
}

static void add_or_reap(struct virtq *vq, const struct vq_buf *bufs, unsigned int n,
			void *tok, bool indirect)
{
	while (!virtq_add(vq, bufs, n, tok, indirect)) {
		virtq_kick(vq);
		if (!reap(5000))
			fail("vblk: ring %u full and nothing completes in 5 s (status 0x%x)",
			     vq->index, virtio_get_status(&dev));
	}
}

/* Queue one request: header, data (split in SEG_BYTES segments), status. */
static struct blk_req *submit(uint32_t type, uint64_t sector, void *data, uint32_t len,
			      bool dev_writes)
{
	struct vq_buf bufs[2 + 64];
	struct blk_req *r = dma_alloc(sizeof(*r), 16);
	struct virtq *vq = &vqs[next_q++ % nq];
	unsigned int n = 0;
	uint32_t off;
	bool indirect;

	r->hdr.type = type;
	r->hdr.sector = sector;
	r->status = 0xff;
	bufs[n++] = (struct vq_buf){ dma_pa(&r->hdr), sizeof(r->hdr), false };
	for (off = 0; off < len; off += SEG_BYTES)
		bufs[n++] = (struct vq_buf){ dma_pa((uint8_t *)data + off),
					     len - off < SEG_BYTES ? len - off : SEG_BYTES,
					     dev_writes };
	bufs[n++] = (struct vq_buf){ dma_pa(&r->status), 1, true };
	/* every other request indirect when possible */
	indirect = vq->indirect_ok && n <= VIRTQ_MAX_INDIRECT && (nreq++ & 1);
	if (!indirect && n > vq->size)
		fail("vblk: %u descriptors do not fit a ring of %u", n, vq->size);
	add_or_reap(vq, bufs, n, r, indirect);
	return r;
}

static void kick_all(void)
{
	unsigned int q;

	for (q = 0; q < nq; q++)
		virtq_kick(&vqs[q]);
}

static void wait_req(struct blk_req *r, const char *what)
{
	kick_all();
	while (!READ_ONCE(r->done))
		if (!reap(5000))
			fail("vblk: %s: no completion in 5 s (device status 0x%x)", what,
			     virtio_get_status(&dev));
}

/* Synchronous request; returns the virtio-blk status byte. */
static uint8_t do_req(uint32_t type, uint64_t sector, void *data, uint32_t len, bool dev_writes,
		      const char *what)
{
	struct blk_req *r = submit(type, sector, data, len, dev_writes);

	wait_req(r, what);
	return r->status;
}

/* Read or write [off, off+len) in as many requests as the segment limits
 * need; all queued (spread over the queues), not waited for. */
static unsigned int rw_async(bool write, uint64_t off, void *buf, uint32_t len,
			     struct blk_req **reqs, unsigned int nreqs)
{
	uint32_t chunk = max_segs * SEG_BYTES, done = 0;

	while (done < len) {
		uint32_t n = len - done < chunk ? len - done : chunk;

		reqs[nreqs++] = submit(write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
				       (off + done) / 512, (uint8_t *)buf + done, n, !write);
		done += n;
	}
	return nreqs;
}

static void wait_all(struct blk_req **reqs, unsigned int n, const char *what)
{
	unsigned int i;

	kick_all();
	for (i = 0; i < n; i++) {
		wait_req(reqs[i], what);
		if (reqs[i]->status != VIRTIO_BLK_S_OK)
			fail("vblk: %s sector %llu: status %u (%s)", what,
			     (unsigned long long)reqs[i]->hdr.sector, reqs[i]->status,
			     status_name(reqs[i]->status));
	}
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	return pattern_splitmix64(rng_state++);
}

static bool all_zero(const uint8_t *p, size_t n, size_t *where)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i]) {
			*where = i;
			return false;
		}
	}
	return true;
}

#define NWRITES 12

static void test_ro(void)
{
	uint8_t *b = dma_alloc(4096, 4096);
	uint8_t s;

	if (!virtio_has(&dev, VIRTIO_BLK_F_RO))
		fail("vblk: ro=1 but the device does not offer VIRTIO_BLK_F_RO (features 0x%llx)",
		     (unsigned long long)dev.dev_features);
	s = do_req(VIRTIO_BLK_T_IN, 0, b, 4096, true, "read sector 0");
	if (s != VIRTIO_BLK_S_OK)
		fail("vblk: read of a read-only disk: status %u (%s)", s, status_name(s));
	pattern_fill(b, 1, 0, 4096);
	s = do_req(VIRTIO_BLK_T_OUT, 0, b, 4096, false, "write to a read-only disk");
	printf("vblk: write to the read-only disk: status %u (%s)\n", s, status_name(s));
	if (s != VIRTIO_BLK_S_IOERR)
		fail("vblk: write to a read-only disk: status %u (%s), expected IOERR", s,
		     status_name(s));
	if (virtio_has(&dev, VIRTIO_BLK_F_FLUSH)) {
		s = do_req(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, "flush");
		printf("vblk: flush on the read-only disk: status %u (%s)\n", s, status_name(s));
	}
}

GUEST_TEST(vblk, "[transport=mmio|pci] [ring=packed] [irq=1] [seed=N] [ro=1]: virtio-blk I/O")
{
	static const uint32_t sizes[NWRITES - 1] = {
		512, 1024, 4096, 4096 + 512, 8192, 65536, 65536 + 4096, 131072, 262144,
		512 * 1024, 1024 * 1024,
	};
	struct blk_req *reqs[256];
	uint64_t seed, off[NWRITES], qcount, v, slot;
	uint32_t len[NWRITES], blk_size = 512, size_max = 0, seg_max = 0;
	uint8_t *wbuf[NWRITES], *rbuf[NWRITES], *id, s;
	unsigned int i, n, q;
	size_t where;
	char idstr[21];

	char flush_word[4] = "1";

	/* flush=0: do not accept FLUSH (the device must then write through) */
	cmdline_get("flush", flush_word, sizeof(flush_word));
	virtio_start_cmdline(VIRTIO_ID_BLOCK, &dev,
			     BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |
			     BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
			     (strcmp(flush_word, "0") ? BIT(VIRTIO_BLK_F_FLUSH) : 0) |
			     BIT(VIRTIO_BLK_F_MQ) |
			     BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	capacity = virtio_cfg64(&dev, 0);
	if (virtio_has(&dev, VIRTIO_BLK_F_SIZE_MAX))
		size_max = virtio_cfg32(&dev, 8);
	if (virtio_has(&dev, VIRTIO_BLK_F_SEG_MAX))
		seg_max = virtio_cfg32(&dev, 12);
	if (virtio_has(&dev, VIRTIO_BLK_F_BLK_SIZE))
		blk_size = virtio_cfg32(&dev, 20);
	nq = virtio_has(&dev, VIRTIO_BLK_F_MQ) ? virtio_cfg16(&dev, 34) : 1;
	printf("vblk: capacity %llu sectors (%llu MiB), blk_size %u, size_max %u, seg_max %u, "
	       "%u queue(s)%s%s%s%s\n", (unsigned long long)capacity,
	       (unsigned long long)(capacity >> 11), blk_size, size_max, seg_max, nq,
	       virtio_has(&dev, VIRTIO_BLK_F_RO) ? ", RO" : "",
	       virtio_has(&dev, VIRTIO_BLK_F_FLUSH) ? ", FLUSH" : "",
	       virtio_has(&dev, VIRTIO_BLK_F_DISCARD) ? ", DISCARD" : "",
	       virtio_has(&dev, VIRTIO_BLK_F_WRITE_ZEROES) ? ", WRITE_ZEROES" : "");
	if (!nq)
		fail("vblk: num_queues is 0");
	if (nq > MAX_QUEUES) {
		printf("vblk: using the first %u of %u queues\n", MAX_QUEUES, nq);
		nq = MAX_QUEUES;
	}
	if (cmdline_get_u64("queues", &qcount) && qcount != nq)
		fail("vblk: queues=%llu expected, device has %u", (unsigned long long)qcount, nq);
	if (size_max && size_max < SEG_BYTES)
		fail("vblk: size_max %u < %u not supported by this driver", size_max, SEG_BYTES);
	for (q = 0; q < nq; q++) {
		uint16_t qmax = virtio_queue_max(&dev, q);

		if (!qmax)
			fail("vblk: queue %u: size 0", q);
		virtq_create(&vqs[q], &dev, q, qmax < 128 ? qmax : 128);
	}
	max_segs = vqs[0].size - 2;
	if (seg_max && seg_max < max_segs)
		max_segs = seg_max;
	if (max_segs > 64)
		max_segs = 64;
	virtio_driver_ok(&dev);
	printf("vblk: %s ring, %u entries per queue, %u data segments of <= %u bytes per request\n",
	       vqs[0].packed ? "packed" : "split", vqs[0].size, max_segs, SEG_BYTES);

	/* GET_ID */
	id = dma_alloc(20, 16);
	s = do_req(VIRTIO_BLK_T_GET_ID, 0, id, 20, true, "GET_ID");
	for (i = 0; i < 20 && id[i]; i++)
		idstr[i] = id[i] >= ' ' && id[i] < 0x7f ? (char)id[i] : '?';
	idstr[i] = 0;
	printf("vblk: GET_ID status %u (%s): \"%s\"\n", s, status_name(s), idstr);
	if (s != VIRTIO_BLK_S_OK && s != VIRTIO_BLK_S_UNSUPP)
		fail("vblk: GET_ID status %u", s);

	/* reading past the end must fail */
	{
		uint8_t *b = dma_alloc(1024, 512);

		s = do_req(VIRTIO_BLK_T_IN, capacity - 1, b, 1024, true, "read across the end");
		printf("vblk: read of 2 sectors at sector %llu (across the end): status %u (%s)\n",
		       (unsigned long long)(capacity - 1), s, status_name(s));
		if (s != VIRTIO_BLK_S_IOERR)
			fail("vblk: read across the end: status %u, expected IOERR", s);
	}

	if (cmdline_get_u64("ro", &v) && v) {
		test_ro();
		virtio_reset(&dev);
		pass();
	}
	if (virtio_has(&dev, VIRTIO_BLK_F_RO))
		fail("vblk: device is read-only (VIRTIO_BLK_F_RO); use ro=1");
	if (capacity < 8192)
		fail("vblk: disk of %llu sectors: need at least 4 MiB", (unsigned long long)capacity);

	if (!cmdline_get_u64("seed", &seed))
		seed = rdtsc() & 0xffffffff;
	rng_state = seed;
	printf("vblk: seed %llu\n", (unsigned long long)seed);

	/* Layout: slot i of NWRITES + 1 equal slots gets write i (sizes clipped to
	 * the slot, at a random sector-aligned offset in it); the last write
	 * ends at the last sector; the last slot is for WRITE_ZEROES/DISCARD. */
	slot = (capacity * 512 / (NWRITES + 1)) & ~4095ull;
	for (i = 0; i < NWRITES; i++) {
		uint32_t l = i < NWRITES - 1 ? sizes[i] : 4096 + 512;

		if (l > slot)
			l = (uint32_t)slot & ~511u;
		len[i] = l;
		if (i == NWRITES - 1)
			off[i] = capacity * 512 - l;
		else if (i == 0)
			off[i] = 0;
		else
			off[i] = slot * i + (rnd() % ((slot - l) / 512 + 1)) * 512;
		wbuf[i] = dma_alloc(l, 4096);
		rbuf[i] = dma_alloc(l, 4096);
		pattern_fill(wbuf[i], seed, off[i], l);
		memset(rbuf[i], 0xa5, l);
	}
	/* all writes in flight at once (over all queues), then all reads */
	for (i = n = 0; i < NWRITES; i++)
		n = rw_async(true, off[i], wbuf[i], len[i], reqs, n);
	wait_all(reqs, n, "write");
	printf("vblk: %u writes in %u requests done\n", NWRITES, n);
	if (virtio_has(&dev, VIRTIO_BLK_F_FLUSH)) {
		s = do_req(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, "flush");
		printf("vblk: FLUSH status %u (%s)\n", s, status_name(s));
		if (s != VIRTIO_BLK_S_OK)
			fail("vblk: FLUSH status %u", s);
		/* hold=1: report the flushed ranges and wait to be killed (a
		 * host test checks they survive kill -9 of the VMM). */
		if (cmdline_get("hold", NULL, 0)) {
			for (i = 0; i < NWRITES; i++)
				printf("blk flushed %llu %u %llu\n", (unsigned long long)off[i],
				       len[i], (unsigned long long)seed);
			printf("vblk: holding\n");
			halt();
		}
	}
	for (i = n = 0; i < NWRITES; i++)
		n = rw_async(false, off[i], rbuf[i], len[i], reqs, n);
	wait_all(reqs, n, "read");
	for (i = 0; i < NWRITES; i++) {
		size_t bad = pattern_check(rbuf[i], seed, off[i], len[i]);

		if (bad != len[i])
			fail("vblk: read back of %u bytes at %llu differs at +%zu: 0x%02x, wrote 0x%02x",
			     len[i], (unsigned long long)off[i], bad, rbuf[i][bad], wbuf[i][bad]);
	}
	printf("vblk: %u ranges read back and match\n", NWRITES);
	for (i = 0; i < NWRITES; i++)
		printf("blk wrote %llu %u %llu\n", (unsigned long long)off[i], len[i],
		       (unsigned long long)seed);

	/* WRITE_ZEROES and DISCARD in the last slot: 64 KiB of pattern, then
	 * zeroes on [16K, 32K) and discard on [40K, 48K). */
	if (virtio_has(&dev, VIRTIO_BLK_F_WRITE_ZEROES) || virtio_has(&dev, VIRTIO_BLK_F_DISCARD)) {
		uint64_t base = slot * NWRITES;
		uint8_t *b = dma_alloc(65536, 4096);
		struct blk_dwz_seg *seg = dma_alloc(sizeof(*seg), 16);
		static const struct { uint32_t type, bit, from, to; const char *name; } ops[2] = {
			{ VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_F_WRITE_ZEROES, 16384, 32768,
			  "WRITE_ZEROES" },
			{ VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_F_DISCARD, 40960, 49152, "DISCARD" },
		};
		uint32_t edge = 0;
		bool discard_zeroes = cmdline_get_u64("discard_zeroes", &v) && v;

		if (base + 65536 > off[NWRITES - 1])
			fail("vblk: disk too small for the WRITE_ZEROES/DISCARD region");
		pattern_fill(b, seed, base, 65536);
		s = do_req(VIRTIO_BLK_T_OUT, base / 512, b, 65536, false, "write");
		if (s)
			fail("vblk: write status %u", s);
		for (i = 0; i < 2; i++) {
			if (!virtio_has(&dev, ops[i].bit))
				continue;
			seg->sector = (base + ops[i].from) / 512;
			seg->num_sectors = (ops[i].to - ops[i].from) / 512;
			seg->flags = 0;
			s = do_req(ops[i].type, 0, seg, sizeof(*seg), false, ops[i].name);
			printf("vblk: %s of %u bytes at %llu: status %u (%s)\n", ops[i].name,
			       ops[i].to - ops[i].from, (unsigned long long)(base + ops[i].from),
			       s, status_name(s));
			if (s)
				fail("vblk: %s status %u", ops[i].name, s);
		}
		memset(b, 0xa5, 65536);
		s = do_req(VIRTIO_BLK_T_IN, base / 512, b, 65536, true, "read");
		if (s)
			fail("vblk: read status %u", s);
		for (i = 0; i < 2; i++) {
			uint32_t from = ops[i].from, to = ops[i].to;

			if (!virtio_has(&dev, ops[i].bit))
				continue;
			if (pattern_check(b + edge, seed, base + edge, from - edge) != from - edge)
				fail("vblk: %s changed data before its range", ops[i].name);
			printf("blk wrote %llu %u %llu\n", (unsigned long long)(base + edge),
			       from - edge, (unsigned long long)seed);
			if (all_zero(b + from, to - from, &where)) {
				printf("blk zeroed %llu %u\n", (unsigned long long)(base + from),
				       to - from);
			} else if (ops[i].type == VIRTIO_BLK_T_DISCARD && !discard_zeroes) {
				/* allowed: discarded data is undefined */
				printf("vblk: DISCARD range does not read as zeros (byte %llu is "
				       "0x%02x; allowed, discard_zeroes=1 makes it a failure)\n",
				       (unsigned long long)(base + from + where), b[from + where]);
				printf("blk discarded %llu %u\n", (unsigned long long)(base + from),
				       to - from);
			} else {
				fail("vblk: after %s, byte %llu reads 0x%02x, not 0", ops[i].name,
				     (unsigned long long)(base + from + where), b[from + where]);
			}
			edge = to;
		}
		if (pattern_check(b + edge, seed, base + edge, 65536 - edge) != 65536 - edge)
			fail("vblk: data after the zeroed range changed");
		printf("blk wrote %llu %u %llu\n", (unsigned long long)(base + edge), 65536 - edge,
		       (unsigned long long)seed);
		printf("vblk: zeroed ranges read back as zeros, neighbours intact\n");
	}

	for (q = 0; q < nq; q++)
		printf("vblk: queue %u: %llu requests, %llu notifications\n", q,
		       (unsigned long long)vqs[q].completions, (unsigned long long)vqs[q].kicks);
	if (dev.irq_mode != VIRTIO_IRQ_NONE) {
		printf("vblk: %llu interrupts (vector 0x%x)\n",
		       (unsigned long long)virtio_irq_count(&dev), dev.vector);
		if (!virtio_irq_count(&dev))
			fail("vblk: interrupt mode but no interrupt");
	}
	virtio_reset(&dev);
	pass();
}
