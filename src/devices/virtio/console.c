// SPDX-License-Identifier: MIT
/*
 * console.c - virtio-console (virtio 1.2, 5.3), one port, no MULTIPORT:
 * queue 0 receives (host -> guest), queue 1 transmits (guest -> host).
 *
 * Back ends: stdio (output to stdout, input from stdin, which kite's main
 * loop then leaves alone; on a terminal Ctrl-A x still quits) or a Unix
 * socket (one client at a time; a new client replaces the old one; output
 * with no client is dropped).  Input is read only when the guest has posted
 * receive buffers: with none, the input fd is not polled until the guest
 * kicks the receive queue, so nothing is lost and nothing spins.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/term.h"
#include "devices/virtio/virtio_devs.h"

#define VCONS_QUEUE_SIZE	128
#define VCONS_RXQ		0
#define VCONS_TXQ		1
#define VCONS_CONFIG_LEN	12	/* cols, rows, max_nr_ports, emerg_wr */
#define VCONS_CHUNK		4096

/* Watch slots, in the order they are added. */
#define SLOT_IN			0
#define SLOT_LISTEN		1

struct virtio_console {
	struct virtio_dev vd;
	struct virtio_console_config_in cfg;
	int in_fd, out_fd;	/* stdio: 0 and 1; socket: the client (both) or -1 */
	int listen_fd;		/* socket mode */
	bool in_on;		/* the input fd is polled */
	bool in_tty;
	struct term_escape esc;
	struct vq_elem elem;
	uint64_t rx_bytes, tx_bytes, connects;
};

static void cons_in_enable(struct virtio_console *c, bool on)
{
	if (c->in_fd < 0 || c->in_on == on)
		return;
	if (virtio_dev_watch_enable(&c->vd, c->in_fd, on) == 0)
		c->in_on = on;
}

static void cons_drop_client(struct virtio_console *c)
{
	if (c->listen_fd < 0 || c->in_fd < 0)
		return;
	if (virtio_dev_watch_replace(&c->vd, SLOT_IN, -1))
		log_warn("%s", err_msg());
	close(c->in_fd);
	c->in_fd = c->out_fd = -1;
	c->in_on = false;
}

/* Write all of @buf to the host side; a broken client is dropped. */
static void cons_out(struct virtio_console *c, const uint8_t *buf, size_t len)
{
	while (len && c->out_fd >= 0) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cons_drop_client(c);
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void cons_tx(struct virtio_dev *vd)
{
	struct virtio_console *c = vd->priv;
	uint8_t buf[VCONS_CHUNK];
	bool pushed = false;

	while (virtio_pop(vd, VCONS_TXQ, &c->elem) > 0) {
		struct vq_cursor rd;
		uint64_t left;

		vq_reader_init(&rd, &vd->queues[VCONS_TXQ].vq, &c->elem);
		while ((left = vq_cursor_left(&rd))) {
			size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);

			if (vq_read(&rd, buf, n))
				break;	/* cannot happen: checked at pop */
			cons_out(c, buf, n);
			__atomic_add_fetch(&c->tx_bytes, n, __ATOMIC_RELAXED);
		}
		virtio_push(vd, VCONS_TXQ, &c->elem, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify(vd, VCONS_TXQ);
}

/* Move available input into one receive buffer; false when it should stop. */
static bool cons_rx_one(struct virtio_console *c)
{
	struct virtio_dev *vd = &c->vd;
	uint8_t buf[VCONS_CHUNK];
	struct vq_cursor wr;
	size_t room;
	ssize_t n;
	bool quit = false;

	if (!vd->active || vd->failed || virtio_pop(vd, VCONS_RXQ, &c->elem) <= 0) {
		cons_in_enable(c, false);	/* until the guest posts buffers */
		return false;
	}
	vq_writer_init(&wr, &vd->queues[VCONS_RXQ].vq, &c->elem);
	room = vq_cursor_left(&wr) < sizeof(buf) ? (size_t)vq_cursor_left(&wr) : sizeof(buf);
	n = room ? read(c->in_fd, buf, room) : 0;
	if (n > 0 && c->in_tty)
		n = (ssize_t)term_filter_input(&c->esc, buf, (size_t)n, &quit);
	if (quit && c->cfg.quit)
		c->cfg.quit(c->cfg.quit_opaque);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		n = 0;
	if (n <= 0) {
		vq_unpop(&vd->queues[VCONS_RXQ].vq, &c->elem);
		if (n == 0 && room) {		/* EOF */
			if (c->listen_fd >= 0)
				cons_drop_client(c);
			else
				cons_in_enable(c, false);
		}
		return false;
	}
	if (vq_write(&wr, buf, (size_t)n)) {
		virtio_dev_fail(vd, "receive buffer is not in guest RAM");
		return false;
	}
	virtio_push(vd, VCONS_RXQ, &c->elem, (uint32_t)n);
	__atomic_add_fetch(&c->rx_bytes, (uint64_t)n, __ATOMIC_RELAXED);
	return true;
}

static void cons_input(struct virtio_dev *vd, int fd, void *opaque)
{
	struct virtio_console *c = opaque;
	unsigned int budget = 64;

	(void)fd;
	while (budget-- && cons_rx_one(c))
		;
	virtio_notify(vd, VCONS_RXQ);
}

static void cons_accept(struct virtio_dev *vd, int fd, void *opaque)
{
	struct virtio_console *c = opaque;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (conn < 0)
		return;
	if (c->in_fd >= 0)
		cons_drop_client(c);	/* a new client replaces the old one */
	c->in_fd = c->out_fd = conn;
	c->in_on = true;
	__atomic_add_fetch(&c->connects, 1, __ATOMIC_RELAXED);
	if (virtio_dev_watch_replace(vd, SLOT_IN, conn)) {
		log_warn("%s", err_msg());
		cons_drop_client(c);
	}
}

static void cons_queue_kick(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_console *c = vd->priv;

	if (q == VCONS_TXQ)
		cons_tx(vd);
	else
		cons_in_enable(c, true);	/* new receive buffers */
}

static int cons_activate(struct virtio_dev *vd)
{
	cons_in_enable(vd->priv, true);
	return 0;
}

static void cons_reset(struct virtio_dev *vd)
{
	cons_in_enable(vd->priv, false);
}

static void cons_destroy(struct virtio_dev *vd)
{
	struct virtio_console *c = vd->priv;

	if (c->listen_fd >= 0) {
		if (c->in_fd >= 0)
			close(c->in_fd);
		close(c->listen_fd);
		unlink(c->cfg.socket_path);
	}
	free(c);
}

static const struct virtio_dev_ops cons_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.activate = cons_activate,
	.queue_kick = cons_queue_kick,
	.reset = cons_reset,
	.destroy = cons_destroy,
};

VIRTIO_COUNTER_GETTER(cons_get_rx_bytes, struct virtio_console, rx_bytes)
VIRTIO_COUNTER_GETTER(cons_get_tx_bytes, struct virtio_console, tx_bytes)
VIRTIO_COUNTER_GETTER(cons_get_connects, struct virtio_console, connects)

static const struct dev_attr cons_attrs[] = {
	VIRTIO_COMMON_ATTRS,
	{ "rx_bytes", DEV_ATTR_U64, DEV_ATTR_INFO, "bytes delivered to the guest", cons_get_rx_bytes, NULL },
	{ "tx_bytes", DEV_ATTR_U64, DEV_ATTR_INFO, "bytes the guest wrote", cons_get_tx_bytes, NULL },
	{ "connects", DEV_ATTR_U64, DEV_ATTR_INFO, "socket clients accepted", cons_get_connects, NULL },
};

/*
 * State: only what VIRTIO_COMMON_ATTRS carries (no MULTIPORT: no control
 * queue state).  Not state: the host side (stdio, the socket and its
 * client, the Ctrl-A escape state), input not yet read (it stays in the
 * host fd), counters.
 */
static const struct dev_cmd cons_cmds[] = { VIRTIO_COMMON_CMDS };

const struct dev_class virtio_console_class = {
	.type = "virtio-console",
	.state_version = 2,	/* 2: transport_state and virtio_state */
	.attrs = cons_attrs,
	.nr_attrs = sizeof(cons_attrs) / sizeof(cons_attrs[0]),
	.cmds = cons_cmds,
	.nr_cmds = sizeof(cons_cmds) / sizeof(cons_cmds[0]),
};

static int cons_listen(struct virtio_console *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = c->cfg.socket_path;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(-ENAMETOOLONG, "--console socket=%s: path too long", path);
	strcpy(sa.sun_path, path);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return err_set(-errno, "--console: socket: %s", strerror(errno));
	unlink(path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(c->listen_fd, 1))
		return err_set(-errno, "--console socket=%s: %s", path, strerror(errno));
	return 0;
}

int virtio_console_create(const struct virtio_console_config_in *cfg, const struct addr_space *as,
			  struct virtio_dev **out)
{
	struct virtio_console *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return err_set(-ENOMEM, "out of memory");
	c->cfg = *cfg;
	c->in_fd = c->out_fd = c->listen_fd = -1;
	snprintf(c->vd.dev.id, sizeof(c->vd.dev.id), "%s", cfg->id[0] ? cfg->id : "console0");
	c->vd.dev.cls = &virtio_console_class;
	c->vd.dev.priv = c;
	c->vd.priv = c;
	ret = virtio_dev_init(&c->vd, &cons_ops, as, 2, VCONS_QUEUE_SIZE, 0, VCONS_CONFIG_LEN);
	if (!ret && cfg->socket_path) {
		ret = cons_listen(c);
		if (!ret)
			ret = virtio_dev_watch(&c->vd, -1, cons_input, c);	/* SLOT_IN */
		if (!ret)
			ret = virtio_dev_watch(&c->vd, c->listen_fd, cons_accept, c);
	} else if (!ret) {
		c->in_fd = cfg->in_fd;
		c->out_fd = cfg->out_fd;
		c->in_tty = cfg->in_tty;
		if (c->in_fd >= 0) {
			fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) | O_NONBLOCK);
			ret = virtio_dev_watch(&c->vd, c->in_fd, cons_input, c);
			if (!ret)
				ret = virtio_dev_watch_enable(&c->vd, c->in_fd, false);
		}
	}
	if (ret) {
		virtio_dev_destroy(&c->vd);
		return ret;
	}
	*out = &c->vd;
	return 0;
}
