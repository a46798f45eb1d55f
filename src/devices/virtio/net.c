// SPDX-License-Identifier: MIT
/*
 * net.c - virtio-net (virtio 1.2, 5.1) on a tap interface or on libslirp.
 *
 * Queues: receiveq0, transmitq0, ... receiveqN-1, transmitqN-1, then the
 * control queue (index 2N with VIRTIO_NET_F_MQ negotiated, else 2).  Every
 * frame carries a 12-byte struct virtio_net_hdr_v1 in front.
 *
 * Tap (one fd per queue pair, IFF_VNET_HDR with the same 12-byte header):
 *   TX  the whole readable part of a chain (header + frame) is translated
 *       into host iovecs and written with one writev(): no copy.
 *   RX  without MRG_RXBUF, a chain is popped first and the tap is read
 *       straight into its writable part, plus a trailing scratch iovec: a
 *       packet that spills into it did not fit the chain and is dropped
 *       (the chain is put back).  With MRG_RXBUF the packet is read into
 *       a per-pair bounce buffer (header + 64 KiB) and copied across as
 *       many chains as it needs (num_buffers); when the ring runs out the
 *       chains are put back and the packet waits in the bounce buffer.
 *       No rx buffers: the tap fd is taken out of the I/O thread's epoll
 *       set (virtio_dev_watch_enable) until the guest kicks the rx queue.
 * Slirp: frames from the guest go to slirp_input(); slirp's frames arrive
 *   through a callback and are copied into the rx queue (dropped when it
 *   is empty: slirp's TCP retransmits).
 *
 * Watch callbacks run in every device state: an inactive or failed device
 * turns its fds off (back on at activation and rx kicks), so a readable tap
 * never makes the I/O thread spin.
 *
 * Every call runs on the device's I/O thread, so nothing here is locked but
 * the config space (vd->lock).  Work per wakeup is bounded (budgets below):
 * a busy queue is revisited after the other fds (level-triggered epoll,
 * virtio_dev_rekick) instead of starving them.
 *
 * Guest errors (virtio_dev_fail, NEEDS_RESET), as QEMU does: a tx chain
 * with fewer readable bytes than the header, an rx chain with fewer
 * writable bytes than the header, a control chain without class/command
 * or ack byte, buffers outside RAM.  A packet that does not fit the
 * buffers (no MRG_RXBUF) is dropped and counted (rx_drops), as the spec
 * leaves it to the device.  Link down: tx chains are completed unsent and
 * rx packets are read and dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/dev_state.h"
#include "core/le.h"
#include "core/log.h"
#include "devices/virtio/virtio_devs.h"
#include "net/slirp.h"
#include "net/tap.h"

/* Feature bits (5.1.3). */
#define VNET_F_CSUM		0
#define VNET_F_GUEST_CSUM	1
#define VNET_F_MAC		5
#define VNET_F_GUEST_TSO4	7
#define VNET_F_GUEST_TSO6	8
#define VNET_F_GUEST_UFO	10
#define VNET_F_HOST_TSO4	11
#define VNET_F_HOST_TSO6	12
#define VNET_F_HOST_ECN		13
#define VNET_F_HOST_UFO		14
#define VNET_F_MRG_RXBUF	15
#define VNET_F_STATUS		16
#define VNET_F_CTRL_VQ		17
#define VNET_F_CTRL_RX		18
#define VNET_F_GUEST_ANNOUNCE	21
#define VNET_F_MQ		22

#define VNET_S_LINK_UP		1
#define VNET_S_ANNOUNCE		2	/* the driver should announce itself (gratuitous ARP) */

/* Control queue (5.1.6.5). */
#define VNET_CTRL_RX		0
#define VNET_CTRL_MAC		1
#define VNET_CTRL_MAC_TABLE_SET	0
#define VNET_CTRL_ANNOUNCE	3
#define VNET_CTRL_ANNOUNCE_ACK	0
#define VNET_CTRL_MQ		4
#define VNET_CTRL_MQ_PAIRS_SET	0
#define VNET_OK			0
#define VNET_ERR		1

/* Config space. */
#define CFG_MAC			0
#define CFG_STATUS		6
#define CFG_MAX_PAIRS		8
#define CFG_MTU			10
#define VNET_CONFIG_LEN		12

#define VNET_HDR_LEN		12
#define VNET_HDR_NUM_BUFFERS	10	/* offset of num_buffers in the header */
#define VNET_FRAME_MAX		(65535 + 14 + 4)	/* IP max + Ethernet + VLAN */
#define VNET_PKT_MAX		(VNET_HDR_LEN + VNET_FRAME_MAX)
#define VNET_QUEUE_SIZE		256
#define VNET_MRG_MAX		64	/* chains one merged packet may use */
#define VNET_RX_BUDGET		64	/* packets per pair per wakeup */
#define VNET_TX_BUDGET		256	/* chains per tx queue per wakeup */

enum rx_result { RX_DONE, RX_EMPTY, RX_NOROOM, RX_FAIL };

struct net_pair {
	unsigned int idx;
	int fd;			/* tap queue; -1 with slirp */
	bool watching;		/* fd in the I/O thread's epoll set */
	bool attached;		/* multi-queue tap: the kernel steers packets here */
	size_t pending;		/* bytes of a packet waiting in bounce */
	uint8_t *bounce;	/* VNET_PKT_MAX: header + frame */
};

struct virtio_net {
	struct virtio_dev vd;
	struct virtio_net_config_in cfg;
	unsigned int pairs;		/* offered (max_virtqueue_pairs) */
	unsigned int cur_pairs;		/* in use (I/O thread; API reads) */
	unsigned int tap_offloads;	/* TAP_OFF_* the tap accepts */
	struct net_pair pair[VNET_PAIRS_MAX];
	struct net_slirp *slirp;
	int slirp_fd[2];		/* its socket epoll fd and timerfd */
	bool slirp_watching;
	/* negotiated, set at activation */
	bool mrg, mq;
	unsigned int ctrl_q;		/* UINT32_MAX: none */
	bool link_up;			/* atomic: API writes, I/O thread reads */
	struct vq_elem tx_elem;		/* tx and control chains */
	struct vq_elem *rx_elems;	/* VNET_MRG_MAX */
	uint8_t *scratch;		/* VNET_PKT_MAX: tx copy for slirp, rx overflow */
	struct iovec iov[VQ_MAX_SEGS + 1];
	uint64_t rx_packets, rx_bytes, rx_drops, tx_packets, tx_bytes, tx_drops;
};

static void stat_add(uint64_t *ctr, uint64_t v)
{
	__atomic_add_fetch(ctr, v, __ATOMIC_RELAXED);
}

static bool net_link_up(const struct virtio_net *n)
{
	return __atomic_load_n(&n->link_up, __ATOMIC_RELAXED);
}

static struct virtqueue *net_vq(struct virtio_net *n, unsigned int q)
{
	return &n->vd.queues[q].vq;
}

/* ---- watches ---- */

static void net_watch(struct virtio_net *n, int fd, bool *state, bool on)
{
	if (fd < 0 || *state == on)
		return;
	if (virtio_dev_watch_enable(&n->vd, fd, on))
		log_warn("%s: %s", n->vd.dev.id, err_msg());
	else
		*state = on;
}

static void net_pair_watch(struct virtio_net *n, struct net_pair *p, bool on)
{
	net_watch(n, p->fd, &p->watching, on);
}

static void net_slirp_watch(struct virtio_net *n, bool on)
{
	bool st = n->slirp_watching;

	net_watch(n, n->slirp_fd[0], &st, on);
	net_watch(n, n->slirp_fd[1], &n->slirp_watching, on);
}

static void net_watch_none(struct virtio_net *n)
{
	unsigned int i;

	for (i = 0; i < n->pairs; i++)
		net_pair_watch(n, &n->pair[i], false);
	net_slirp_watch(n, false);
}

/* A failed device is not polled until the driver resets it. */
static void net_check_failed(struct virtio_net *n)
{
	if (n->vd.failed)
		net_watch_none(n);
}

/* ---- receive ---- */

static void net_rx_unpop(struct virtqueue *vq, const struct vq_elem *e, unsigned int k)
{
	while (k--)
		vq_unpop(vq, &e[k]);
}

/*
 * Pop chains on rx queue @q until they hold @len bytes (one chain without
 * MRG_RXBUF); *k gets their number.  RX_NOROOM: too few (all put back).
 * RX_DONE with *k == 0: the packet can never fit; dropped, chains put back.
 */
static enum rx_result net_rx_gather(struct virtio_net *n, unsigned int q, size_t len,
				    unsigned int *k)
{
	unsigned int max = n->mrg ? VNET_MRG_MAX : 1;
	uint64_t room = 0;

	for (*k = 0; room < len; (*k)++) {
		struct vq_elem *e = &n->rx_elems[*k];

		if (*k == max) {
			net_rx_unpop(net_vq(n, q), n->rx_elems, *k);
			stat_add(&n->rx_drops, 1);	/* does not fit: drop */
			*k = 0;
			return RX_DONE;
		}
		if (!virtio_pop(&n->vd, q, e)) {
			if (n->vd.failed)
				return RX_FAIL;
			net_rx_unpop(net_vq(n, q), n->rx_elems, *k);
			return RX_NOROOM;
		}
		if (e->in_len < VNET_HDR_LEN) {
			virtio_dev_fail(&n->vd, "rx chain with %llu writable bytes, less than the %d-byte header",
					(unsigned long long)e->in_len, VNET_HDR_LEN);
			return RX_FAIL;
		}
		room += e->in_len;
	}
	return RX_DONE;
}

/*
 * Copy @pkt (header + frame, @len bytes; the header's num_buffers is set
 * here) into rx queue @q.  RX_DONE also when the packet was dropped.
 */
static enum rx_result net_rx_copy(struct virtio_net *n, unsigned int q, uint8_t *pkt, size_t len)
{
	enum rx_result ret;
	unsigned int k = 0, i;
	size_t off = 0;

	ret = net_rx_gather(n, q, len, &k);
	if (ret != RX_DONE || !k)
		return ret;
	le_put(pkt + VNET_HDR_NUM_BUFFERS, (uint16_t)k, 2);
	for (i = 0; i < k; i++) {
		const struct vq_elem *e = &n->rx_elems[i];
		size_t chunk = len - off < e->in_len ? len - off : (size_t)e->in_len;
		struct vq_cursor c;

		vq_writer_init(&c, net_vq(n, q), e);
		if (vq_write(&c, pkt + off, chunk)) {
			virtio_dev_fail(&n->vd, "rx buffer outside guest RAM");
			return RX_FAIL;
		}
		virtio_push(&n->vd, q, e, (uint32_t)chunk);
		off += chunk;
	}
	stat_add(&n->rx_packets, 1);
	stat_add(&n->rx_bytes, len - VNET_HDR_LEN);
	return RX_DONE;
}

/* One packet from the tap straight into one chain (no MRG_RXBUF). */
static enum rx_result net_rx_tap_direct(struct virtio_net *n, struct net_pair *p)
{
	unsigned int q = 2 * p->idx;
	struct virtqueue *vq = net_vq(n, q);
	struct vq_elem *e = &n->rx_elems[0];
	uint8_t nb[2] = { 1, 0 };
	struct vq_cursor c;
	uint64_t want;
	ssize_t r;
	int cnt;

	if (!virtio_pop(&n->vd, q, e))
		return n->vd.failed ? RX_FAIL : RX_NOROOM;
	if (e->in_len < VNET_HDR_LEN) {
		virtio_dev_fail(&n->vd, "rx chain with %llu writable bytes, less than the %d-byte header",
				(unsigned long long)e->in_len, VNET_HDR_LEN);
		return RX_FAIL;
	}
	want = e->in_len < VNET_PKT_MAX ? e->in_len : VNET_PKT_MAX;
	vq_writer_init(&c, vq, e);
	cnt = vq_cursor_iov(&c, want, n->iov, VQ_MAX_SEGS);
	if (cnt < 0) {
		virtio_dev_fail(&n->vd, "rx buffer outside guest RAM");
		return RX_FAIL;
	}
	/* Whatever spills past the chain lands here: the packet was too big. */
	n->iov[cnt] = (struct iovec){ n->scratch, VNET_PKT_MAX };
	as_read_lock();
	r = readv(p->fd, n->iov, cnt + 1);
	as_read_unlock();
	if (r < 0 || (uint64_t)r > want || r < VNET_HDR_LEN) {
		vq_unpop(vq, e);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			log_debug("%s: tap read: %s", n->vd.dev.id, strerror(errno));
		if (r < 0)
			return RX_EMPTY;
		stat_add(&n->rx_drops, 1);
		return RX_DONE;
	}
	vq_writer_init(&c, vq, e);
	if (vq_cursor_skip(&c, VNET_HDR_NUM_BUFFERS) || vq_write(&c, nb, 2)) {
		virtio_dev_fail(&n->vd, "rx buffer outside guest RAM");
		return RX_FAIL;
	}
	vq_elem_mark_dirty(vq, e, (uint64_t)r);
	virtio_push(&n->vd, q, e, (uint32_t)r);
	stat_add(&n->rx_packets, 1);
	stat_add(&n->rx_bytes, (uint64_t)r - VNET_HDR_LEN);
	return RX_DONE;
}

/* One packet from the tap through the bounce buffer (MRG_RXBUF). */
static enum rx_result net_rx_tap_bounce(struct virtio_net *n, struct net_pair *p)
{
	enum rx_result ret;
	ssize_t r;

	if (!p->pending) {
		r = read(p->fd, p->bounce, VNET_PKT_MAX);
		if (r < 0)
			return RX_EMPTY;
		if (r < VNET_HDR_LEN) {
			stat_add(&n->rx_drops, 1);
			return RX_DONE;
		}
		p->pending = (size_t)r;
	}
	ret = net_rx_copy(n, 2 * p->idx, p->bounce, p->pending);
	if (ret != RX_NOROOM)
		p->pending = 0;
	return ret;
}

/* Link down: what the tap has is read and dropped. */
static enum rx_result net_rx_tap_discard(struct virtio_net *n, struct net_pair *p)
{
	if (p->pending || read(p->fd, n->scratch, VNET_PKT_MAX) >= 0) {
		p->pending = 0;
		stat_add(&n->rx_drops, 1);
		return RX_DONE;
	}
	return RX_EMPTY;
}

/* Move packets from a pair's tap into its rx queue, within the budget. */
static void net_rx_pair(struct virtio_net *n, struct net_pair *p)
{
	enum rx_result ret = RX_DONE;
	unsigned int budget = VNET_RX_BUDGET;
	bool up = net_link_up(n);
	uint64_t pushed = n->vd.queues[2 * p->idx].vq.pushed;

	if (p->fd < 0)
		return;
	if (!n->vd.active || n->vd.failed || p->idx >= n->cur_pairs ||
	    !n->vd.queues[2 * p->idx].vq.ready) {
		net_pair_watch(n, p, false);
		return;
	}
	while (budget-- && ret == RX_DONE) {
		if (!up)
			ret = net_rx_tap_discard(n, p);
		else
			ret = n->mrg ? net_rx_tap_bounce(n, p) : net_rx_tap_direct(n, p);
	}
	if (n->vd.queues[2 * p->idx].vq.pushed != pushed)
		virtio_notify(&n->vd, 2 * p->idx);
	/* No room: wait for the guest's rx kick.  Budget spent: the fd stays
	 * readable and epoll brings us back after the other fds. */
	net_pair_watch(n, p, ret == RX_DONE || ret == RX_EMPTY);
}

static void net_tap_event(struct virtio_dev *vd, int fd, void *opaque)
{
	struct virtio_net *n = vd->priv;

	(void)fd;
	net_rx_pair(n, opaque);
	net_check_failed(n);
}

/* A frame from slirp (I/O thread, inside net_slirp_input/process). */
static void net_slirp_rx(void *opaque, const void *frame, size_t len)
{
	struct virtio_net *n = opaque;
	uint8_t *pkt = n->pair[0].bounce;

	if (!n->vd.active || n->vd.failed || !net_link_up(n) || len > VNET_FRAME_MAX) {
		stat_add(&n->rx_drops, 1);
		return;
	}
	memset(pkt, 0, VNET_HDR_LEN);
	memcpy(pkt + VNET_HDR_LEN, frame, len);
	if (net_rx_copy(n, 0, pkt, len + VNET_HDR_LEN) == RX_NOROOM)
		stat_add(&n->rx_drops, 1);
	else
		virtio_notify(&n->vd, 0);
}

static void net_slirp_event(struct virtio_dev *vd, int fd, void *opaque)
{
	struct virtio_net *n = vd->priv;

	(void)fd;
	(void)opaque;
	if (!vd->active || vd->failed) {
		net_slirp_watch(n, false);	/* back on at activation */
		return;
	}
	net_slirp_process(n->slirp);
	net_check_failed(n);
}

/* ---- transmit ---- */

static void net_tx_tap(struct virtio_net *n, struct net_pair *p, const struct vq_elem *e,
		       struct vq_cursor *c)
{
	ssize_t w;
	int cnt;

	cnt = vq_cursor_iov(c, e->out_len, n->iov, VQ_MAX_SEGS);
	if (cnt < 0) {
		virtio_dev_fail(&n->vd, "tx buffer outside guest RAM");
		return;
	}
	as_read_lock();
	w = writev(p->fd, n->iov, cnt);
	as_read_unlock();
	if (w < 0) {
		log_debug("%s: tap write: %s", n->vd.dev.id, strerror(errno));
		stat_add(&n->tx_drops, 1);
		return;
	}
	stat_add(&n->tx_packets, 1);
	stat_add(&n->tx_bytes, e->out_len - VNET_HDR_LEN);
}

/* Copy the frame out (slirp takes a flat buffer); the chain is pushed first. */
static size_t net_tx_copy(struct virtio_net *n, const struct vq_elem *e, struct vq_cursor *c)
{
	size_t len = (size_t)(e->out_len - VNET_HDR_LEN);

	if (vq_cursor_skip(c, VNET_HDR_LEN) || vq_read(c, n->scratch, len)) {
		virtio_dev_fail(&n->vd, "tx buffer outside guest RAM");
		return 0;
	}
	return len;
}

/* One tx chain; false when the device failed. */
static bool net_tx_one(struct virtio_net *n, unsigned int q)
{
	const struct vq_elem *e = &n->tx_elem;
	struct vq_cursor c;
	size_t len = 0;

	if (e->out_len < VNET_HDR_LEN) {
		virtio_dev_fail(&n->vd, "tx chain with %llu readable bytes, less than the %d-byte header",
				(unsigned long long)e->out_len, VNET_HDR_LEN);
		return false;
	}
	vq_reader_init(&c, net_vq(n, q), e);
	if (e->out_len > VNET_PKT_MAX || !net_link_up(n))
		stat_add(&n->tx_drops, 1);
	else if (n->slirp)
		len = net_tx_copy(n, e, &c);
	else
		net_tx_tap(n, &n->pair[q / 2], e, &c);
	if (n->vd.failed)
		return false;
	virtio_push(&n->vd, q, e, 0);
	if (len) {
		stat_add(&n->tx_packets, 1);
		stat_add(&n->tx_bytes, len);
		net_slirp_input(n->slirp, n->scratch, len);
	}
	return !n->vd.failed;
}

static void net_tx_queue(struct virtio_net *n, unsigned int q)
{
	unsigned int budget = VNET_TX_BUDGET;
	bool pushed = false;

	while (budget && virtio_pop(&n->vd, q, &n->tx_elem)) {
		if (!net_tx_one(n, q))
			return;
		pushed = true;
		budget--;
	}
	if (pushed)
		virtio_notify(&n->vd, q);
	if (!budget)
		virtio_dev_rekick(&n->vd, q);	/* more after the others */
}

/* ---- control queue ---- */

/* Multi-queue tap: attach or detach (each refused with EINVAL when repeated). */
static int net_pair_attach(struct virtio_net *n, struct net_pair *p, bool on)
{
	int ret;

	if (n->pairs < 2 || p->fd < 0 || p->attached == on)
		return 0;
	ret = tap_queue_enable(p->fd, on);
	if (!ret)
		p->attached = on;
	return ret;
}

/* Use the first @pairs queue pairs (tap queues attached, others detached). */
static void net_apply_pairs(struct virtio_net *n, unsigned int pairs)
{
	unsigned int i;

	for (i = 0; i < n->pairs; i++) {
		struct net_pair *p = &n->pair[i];

		if (net_pair_attach(n, p, i < pairs))
			log_warn("%s: %s", n->vd.dev.id, err_msg());
		if (i >= pairs) {
			net_pair_watch(n, p, false);
			if (p->pending)
				stat_add(&n->rx_drops, 1);
			p->pending = 0;
		}
	}
	__atomic_store_n(&n->cur_pairs, pairs, __ATOMIC_RELAXED);
}

static int net_set_pairs(struct virtio_net *n, unsigned int pairs)
{
	unsigned int i;

	net_apply_pairs(n, pairs);
	for (i = 0; i < pairs; i++)
		net_rx_pair(n, &n->pair[i]);
	return 0;
}

static uint8_t net_ctrl_mq(struct virtio_net *n, uint8_t cmd, struct vq_cursor *rd)
{
	uint8_t v[2];
	unsigned int pairs;

	if (cmd != VNET_CTRL_MQ_PAIRS_SET || !n->mq || vq_read(rd, v, 2))
		return VNET_ERR;
	pairs = (unsigned int)v[0] | (unsigned int)v[1] << 8;
	if (pairs < 1 || pairs > n->pairs)
		return VNET_ERR;
	return net_set_pairs(n, pairs) ? VNET_ERR : VNET_OK;
}

/* Config status: the link bit (and keep a pending announce request). */
static void net_status_set_link(struct virtio_net *n, bool up)
{
	virtio_lock(&n->vd);
	n->vd.config[CFG_STATUS] = (uint8_t)((n->vd.config[CFG_STATUS] & VNET_S_ANNOUNCE) |
					     (up ? VNET_S_LINK_UP : 0));
	virtio_unlock(&n->vd);
}

/* The driver announced itself: the request is done (5.1.6.5.4). */
static uint8_t net_ctrl_announce(struct virtio_net *n, uint8_t cmd)
{
	if (cmd != VNET_CTRL_ANNOUNCE_ACK || !virtio_has_feature(&n->vd, VNET_F_GUEST_ANNOUNCE))
		return VNET_ERR;
	virtio_lock(&n->vd);
	n->vd.config[CFG_STATUS] &= (uint8_t)~VNET_S_ANNOUNCE;
	virtio_unlock(&n->vd);
	return VNET_OK;
}

static uint8_t net_ctrl_cmd(struct virtio_net *n, uint8_t cls, uint8_t cmd, struct vq_cursor *rd)
{
	switch (cls) {
	case VNET_CTRL_RX:	/* promisc, allmulti, ...: a tap sees everything */
		return cmd <= 5 ? VNET_OK : VNET_ERR;
	case VNET_CTRL_MAC:	/* filter tables: accepted, not applied */
		return cmd == VNET_CTRL_MAC_TABLE_SET ? VNET_OK : VNET_ERR;
	case VNET_CTRL_ANNOUNCE:
		return net_ctrl_announce(n, cmd);
	case VNET_CTRL_MQ:
		return net_ctrl_mq(n, cmd, rd);
	default:
		return VNET_ERR;
	}
}

static void net_ctrl_queue(struct virtio_net *n, unsigned int q)
{
	struct vq_elem *e = &n->tx_elem;
	bool pushed = false;

	while (virtio_pop(&n->vd, q, e)) {
		struct vq_cursor rd, wr;
		uint8_t hdr[2], ack;

		if (e->out_len < 2 || e->in_len < 1) {
			virtio_dev_fail(&n->vd, "control chain without class/command or ack byte");
			return;
		}
		vq_reader_init(&rd, net_vq(n, q), e);
		vq_writer_init(&wr, net_vq(n, q), e);
		if (vq_read(&rd, hdr, 2))
			goto fault;
		ack = net_ctrl_cmd(n, hdr[0], hdr[1], &rd);
		if (vq_write(&wr, &ack, 1))
			goto fault;
		virtio_push(&n->vd, q, e, 1);
		pushed = true;
	}
	if (pushed)
		virtio_notify(&n->vd, q);
	return;
fault:
	virtio_dev_fail(&n->vd, "control buffer outside guest RAM");
}

/* ---- virtio ops ---- */

static void net_queue_kick(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_net *n = vd->priv;

	if (q == n->ctrl_q)
		net_ctrl_queue(n, q);
	else if (q / 2 >= n->pairs || (!n->mq && q > 1))
		log_debug("%s: kick of unused queue %u", vd->dev.id, q);
	else if (q & 1)
		net_tx_queue(n, q);
	else if (!n->slirp)
		net_rx_pair(n, &n->pair[q / 2]);	/* slirp drops when the ring is empty */
	net_check_failed(n);
}

static unsigned int net_tap_offloads_for(const struct virtio_dev *vd)
{
	unsigned int f = 0;

	if (virtio_has_feature(vd, VNET_F_GUEST_CSUM))
		f |= TAP_OFF_CSUM;
	if (virtio_has_feature(vd, VNET_F_GUEST_TSO4))
		f |= TAP_OFF_TSO4;
	if (virtio_has_feature(vd, VNET_F_GUEST_TSO6))
		f |= TAP_OFF_TSO6;
	if (virtio_has_feature(vd, VNET_F_GUEST_UFO))
		f |= TAP_OFF_UFO;
	return f;
}

static int net_activate(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;
	unsigned int i, off = net_tap_offloads_for(vd);
	int ret;

	n->mrg = virtio_has_feature(vd, VNET_F_MRG_RXBUF);
	n->mq = virtio_has_feature(vd, VNET_F_MQ);
	n->ctrl_q = !virtio_has_feature(vd, VNET_F_CTRL_VQ) ? UINT32_MAX :
		    n->mq ? 2 * n->pairs : 2;
	__atomic_store_n(&n->cur_pairs, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n->pairs; i++) {
		struct net_pair *p = &n->pair[i];

		p->pending = 0;
		if (p->fd < 0)
			continue;
		ret = tap_set_offloads(p->fd, off);
		if (!ret)
			ret = net_pair_attach(n, p, i == 0);
		if (ret)
			return ret;
	}
	/* The core kicks every ready queue next: rx queues turn their tap on. */
	if (n->slirp)
		net_slirp_watch(n, true);
	return 0;
}

static void net_reset(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;
	unsigned int i;

	net_watch_none(n);
	for (i = 0; i < n->pairs; i++)
		n->pair[i].pending = 0;
	__atomic_store_n(&n->cur_pairs, 1, __ATOMIC_RELAXED);
	n->ctrl_q = UINT32_MAX;
	n->mrg = n->mq = false;
	virtio_lock(vd);		/* an announce request ends with the driver */
	vd->config[CFG_STATUS] &= (uint8_t)~VNET_S_ANNOUNCE;
	virtio_unlock(vd);
}

static void net_destroy(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;
	unsigned int i;

	for (i = 0; i < VNET_PAIRS_MAX; i++) {
		if (n->pair[i].fd >= 0)
			close(n->pair[i].fd);
		free(n->pair[i].bounce);
	}
	net_slirp_free(n->slirp);
	free(n->rx_elems);
	free(n->scratch);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
	.device_id = VIRTIO_ID_NET,
	.activate = net_activate,
	.queue_kick = net_queue_kick,
	.reset = net_reset,
	.destroy = net_destroy,
};

/* ---- device model ---- */

#define NET(dev) ((struct virtio_net *)virtio_from_dev(dev)->priv)
VIRTIO_COUNTER_GETTER(net_get_rx_packets, struct virtio_net, rx_packets)
VIRTIO_COUNTER_GETTER(net_get_rx_bytes, struct virtio_net, rx_bytes)
VIRTIO_COUNTER_GETTER(net_get_rx_drops, struct virtio_net, rx_drops)
VIRTIO_COUNTER_GETTER(net_get_tx_packets, struct virtio_net, tx_packets)
VIRTIO_COUNTER_GETTER(net_get_tx_bytes, struct virtio_net, tx_bytes)
VIRTIO_COUNTER_GETTER(net_get_tx_drops, struct virtio_net, tx_drops)
VIRTIO_COUNTER_GETTER(net_get_cur_pairs, struct virtio_net, cur_pairs)

/* What the guest reads in config space (a restore may have brought another). */
static void net_get_mac(struct device *dev, struct dev_value *out)
{
	struct virtio_dev *vd = virtio_from_dev(dev);
	uint8_t m[6];

	virtio_lock(vd);
	memcpy(m, vd->config + CFG_MAC, sizeof(m));
	virtio_unlock(vd);
	snprintf(out->str, sizeof(out->str), "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void net_get_backend(struct device *dev, struct dev_value *out)
{
	const struct virtio_net *n = NET(dev);

	if (n->cfg.kind == NET_TAP)
		snprintf(out->str, sizeof(out->str), "tap:%s", n->cfg.ifname);
	else
		snprintf(out->str, sizeof(out->str), "user");
}

static void net_get_pairs(struct device *dev, struct dev_value *out)
{
	out->u64 = NET(dev)->pairs;
}

static void net_get_link(struct device *dev, struct dev_value *out)
{
	out->b = net_link_up(NET(dev));
}

/* Any thread: the config space changes under vd->lock, then an interrupt. */
static void net_set_link_up(struct virtio_net *n, bool up)
{
	if (__atomic_exchange_n(&n->link_up, up, __ATOMIC_RELAXED) == up)
		return;
	net_status_set_link(n, up);
	virtio_config_changed(&n->vd);
}

static int net_set_link(struct device *dev, const struct dev_value *in)
{
	net_set_link_up(NET(dev), in->b);
	return 0;
}

static int net_cmd_link(struct device *dev, const char *arg)
{
	if (!arg || (strcmp(arg, "up") && strcmp(arg, "down")))
		return err_set(-EINVAL, "%s: link: say up or down", dev->id);
	net_set_link_up(NET(dev), !strcmp(arg, "up"));
	return 0;
}

/*
 * net_state, layout 1: u8 version, u16 queue pairs in use (VIRTIO_NET_CTRL_MQ),
 * u8 link (1: up); the MAC and link status the guest reads are config space
 * (virtio_state).  Not state: the back end, a packet waiting in a bounce
 * buffer (dropped, as a network may), counters.  Written onto the device
 * virtio_state activated (activation went back to one pair).
 */
static void net_get_state(struct device *dev, struct dev_value *out)
{
	struct ds_writer w;

	ds_writer_start(&w, out, 4, 1);
	ds_put_u16(&w, (uint16_t)__atomic_load_n(&NET(dev)->cur_pairs, __ATOMIC_RELAXED));
	ds_put_u8(&w, net_link_up(NET(dev)));
	ds_writer_end(&w);
}

static int net_set_state(struct device *dev, const struct dev_value *in)
{
	struct virtio_net *n = NET(dev);
	unsigned int pairs;
	struct ds_reader r;
	uint8_t ver, link;
	int ret;

	ds_reader_start(&r, "net_state", in, 1, &ver);
	pairs = ds_get_u16(&r);
	link = ds_get_u8(&r);
	if (!r.in.err && (pairs < 1 || pairs > n->pairs || link > 1))
		ds_fail(&r, "%u queue pairs in use (the device has %u), link %u", pairs,
			n->pairs, link);
	ret = ds_reader_end(&r);
	if (ret || (ret = virtio_restore_begin(&n->vd)))	/* pairs: the I/O thread's */
		return ret;
	if (pairs > 1 && !(n->vd.active && n->mq)) {
		ret = err_set(-EINVAL, "net_state: %u queue pairs in use, but the device does "
			      "not run multi-queue (restore virtio_state first)", pairs);
	} else {
		net_apply_pairs(n, pairs);
		__atomic_store_n(&n->link_up, link != 0, __ATOMIC_RELAXED);
		net_status_set_link(n, link != 0);	/* virtio_state holds the announce bit */
	}
	virtio_restore_end(&n->vd);
	return ret;
}

#define INFO_U64(n, doc) { #n, DEV_ATTR_U64, DEV_ATTR_INFO, doc, net_get_##n, NULL }

static const struct dev_attr net_attrs[] = {
	VIRTIO_COMMON_ATTRS,
	{ "net_state", DEV_ATTR_BYTES, DEV_ATTR_STATE, "queue pairs in use and link status",
	  net_get_state, net_set_state },
	{ "mac", DEV_ATTR_STR, DEV_ATTR_INFO, "the guest's MAC address", net_get_mac, NULL },
	{ "backend", DEV_ATTR_STR, DEV_ATTR_INFO, "tap:IFNAME or user", net_get_backend, NULL },
	{ "link", DEV_ATTR_BOOL, DEV_ATTR_CONFIG, "link up (config status, config interrupt)",
	  net_get_link, net_set_link },
	INFO_U64(pairs, "queue pairs offered (max_virtqueue_pairs)"),
	INFO_U64(cur_pairs, "queue pairs the driver uses"),
	INFO_U64(rx_packets, "packets delivered to the guest"),
	INFO_U64(rx_bytes, "bytes delivered to the guest (frames, no header)"),
	INFO_U64(rx_drops, "packets for the guest dropped (too big, no buffers, link down)"),
	INFO_U64(tx_packets, "packets sent by the guest"),
	INFO_U64(tx_bytes, "bytes sent by the guest (frames, no header)"),
	INFO_U64(tx_drops, "guest packets dropped (too big, back end error, link down)"),
};

static const struct dev_cmd net_cmds[] = {
	VIRTIO_COMMON_CMDS,
	{ "link", "up|down: set the link status the guest sees", net_cmd_link },
};

const struct dev_class virtio_net_class = {
	.type = "virtio-net",
	.state_version = 2,	/* 2: transport_state, virtio_state, net_state */
	.attrs = net_attrs,
	.nr_attrs = sizeof(net_attrs) / sizeof(net_attrs[0]),
	.cmds = net_cmds,
	.nr_cmds = sizeof(net_cmds) / sizeof(net_cmds[0]),
};

int virtio_net_set_mac(struct virtio_dev *vd, const uint8_t mac[6])
{
	struct virtio_net *n = vd->priv;

	if (vd->dev.cls != &virtio_net_class)
		return err_set(-EINVAL, "%s is not a network device", vd->dev.id);
	virtio_lock(vd);
	memcpy(vd->config + CFG_MAC, mac, 6);
	memcpy(n->cfg.mac, mac, 6);
	n->cfg.has_mac = true;
	if (virtio_has_feature(vd, VNET_F_GUEST_ANNOUNCE))
		vd->config[CFG_STATUS] |= VNET_S_ANNOUNCE;
	virtio_unlock(vd);
	virtio_config_changed(vd);	/* generation + 1, config interrupt */
	return 0;
}

/* ---- creation ---- */

static uint64_t net_tap_features(struct virtio_net *n)
{
	unsigned int off;
	uint64_t f;

	/* The tap takes any offload from us; it hands us what it may. */
	f = (1ULL << VNET_F_CSUM) | (1ULL << VNET_F_HOST_TSO4) | (1ULL << VNET_F_HOST_TSO6) |
	    (1ULL << VNET_F_HOST_ECN);
	n->tap_offloads = off = tap_probe_offloads(n->pair[0].fd);
	if (off & TAP_OFF_UFO)
		f |= (1ULL << VNET_F_HOST_UFO) | (1ULL << VNET_F_GUEST_UFO);
	if (off & TAP_OFF_CSUM)
		f |= 1ULL << VNET_F_GUEST_CSUM;
	if (off & TAP_OFF_TSO4)
		f |= 1ULL << VNET_F_GUEST_TSO4;
	if (off & TAP_OFF_TSO6)
		f |= 1ULL << VNET_F_GUEST_TSO6;
	if (n->pairs > 1)
		f |= 1ULL << VNET_F_MQ;
	return f;
}

static int net_open_tap(struct virtio_net *n)
{
	int fds[TAP_QUEUES_MAX];
	unsigned int i;
	int ret;

	ret = tap_open(n->cfg.ifname, n->pairs, fds);
	if (ret)
		return err_prefix(ret, "%s", n->vd.dev.id);
	for (i = 0; i < n->pairs; i++)
		n->pair[i].fd = fds[i];
	for (i = 0; i < n->pairs; i++) {
		ret = virtio_dev_watch(&n->vd, fds[i], net_tap_event, &n->pair[i]);
		if (!ret)
			ret = virtio_dev_watch_enable(&n->vd, fds[i], false);
		if (ret)
			return ret;
	}
	n->vd.host_features |= net_tap_features(n);
	return 0;
}

static int net_open_slirp(struct virtio_net *n)
{
	int ret;

	ret = net_slirp_new(n->vd.dev.id, (const char (*)[NET_HOSTFWD_LEN])n->cfg.hostfwd,
			   n->cfg.nr_hostfwd, net_slirp_rx, n, &n->slirp);
	if (ret)
		return ret;
	net_slirp_fds(n->slirp, &n->slirp_fd[0], &n->slirp_fd[1]);
	ret = virtio_dev_watch(&n->vd, n->slirp_fd[0], net_slirp_event, NULL);
	if (!ret)
		ret = virtio_dev_watch(&n->vd, n->slirp_fd[1], net_slirp_event, NULL);
	if (!ret)
		ret = virtio_dev_watch_enable(&n->vd, n->slirp_fd[0], false);
	if (!ret)
		ret = virtio_dev_watch_enable(&n->vd, n->slirp_fd[1], false);
	return ret;
}

static int net_alloc(struct virtio_net *n)
{
	unsigned int i;

	n->rx_elems = calloc(VNET_MRG_MAX, sizeof(*n->rx_elems));
	n->scratch = malloc(VNET_PKT_MAX);
	for (i = 0; i < n->pairs; i++)
		n->pair[i].bounce = malloc(VNET_PKT_MAX);
	for (i = 0; i < n->pairs; i++)
		if (!n->pair[i].bounce)
			break;
	if (!n->rx_elems || !n->scratch || i < n->pairs)
		return err_set(-ENOMEM, "%s: out of memory", n->vd.dev.id);
	return 0;
}

static void net_fill_config(struct virtio_net *n)
{
	uint8_t *c = n->vd.config;

	if (!n->cfg.has_mac) {
		n->cfg.mac[0] = 0x52;
		n->cfg.mac[1] = 0x54;
		n->cfg.mac[2] = 0x00;
		if (getrandom(n->cfg.mac + 3, 3, 0) != 3)
			memcpy(n->cfg.mac + 3, "\x12\x34\x56", 3);
	}
	memcpy(c + CFG_MAC, n->cfg.mac, 6);
	le_put(c + CFG_STATUS, VNET_S_LINK_UP, 2);
	le_put(c + CFG_MAX_PAIRS, (uint16_t)n->pairs, 2);
	le_put(c + CFG_MTU, 1500, 2);
}

static int net_check_config(const struct virtio_net_config_in *cfg, unsigned int pairs)
{
	if (cfg->kind != NET_TAP && cfg->kind != NET_USER)
		return err_set(-EINVAL, "%s: unknown network back end", cfg->id);
	if (pairs > VNET_PAIRS_MAX || (cfg->kind == NET_USER && pairs != 1))
		return err_set(-EINVAL, "%s: %u queue pairs (tap: 1..%d, user: 1)", cfg->id,
			       pairs, VNET_PAIRS_MAX);
	if (cfg->nr_hostfwd > VNET_HOSTFWD_MAX)
		return err_set(-EINVAL, "%s: %u hostfwd rules (at most %d)", cfg->id,
			       cfg->nr_hostfwd, VNET_HOSTFWD_MAX);
	return 0;
}

int virtio_net_create(const struct virtio_net_config_in *cfg, const struct addr_space *as,
		      struct virtio_dev **out)
{
	unsigned int i, pairs = cfg->queues ? cfg->queues : 1;
	struct virtio_net *n;
	uint64_t features;
	int ret;

	ret = net_check_config(cfg, pairs);
	if (ret)
		return ret;
	n = calloc(1, sizeof(*n));
	if (!n)
		return err_set(-ENOMEM, "out of memory");
	n->cfg = *cfg;
	n->pairs = pairs;
	n->cur_pairs = 1;
	n->ctrl_q = UINT32_MAX;
	n->link_up = true;
	n->slirp_fd[0] = n->slirp_fd[1] = -1;
	for (i = 0; i < VNET_PAIRS_MAX; i++)
		n->pair[i] = (struct net_pair){ .idx = i, .fd = -1, .attached = true };
	snprintf(n->vd.dev.id, sizeof(n->vd.dev.id), "%s", cfg->id[0] ? cfg->id : "net0");
	n->vd.dev.cls = &virtio_net_class;
	n->vd.dev.priv = n;
	n->vd.priv = n;
	features = (1ULL << VNET_F_MAC) | (1ULL << VNET_F_STATUS) | (1ULL << VNET_F_MRG_RXBUF) |
		   (1ULL << VNET_F_CTRL_VQ) | (1ULL << VNET_F_CTRL_RX) |
		   (1ULL << VNET_F_GUEST_ANNOUNCE);
	ret = virtio_dev_init(&n->vd, &net_ops, as, 2 * pairs + 1, VNET_QUEUE_SIZE, features,
			      VNET_CONFIG_LEN);
	if (!ret)
		ret = net_alloc(n);
	if (!ret)
		ret = cfg->kind == NET_TAP ? net_open_tap(n) : net_open_slirp(n);
	if (ret) {
		virtio_dev_destroy(&n->vd);
		return ret;
	}
	net_fill_config(n);
	*out = &n->vd;
	return 0;
}
