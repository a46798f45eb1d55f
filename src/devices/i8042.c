// SPDX-License-Identifier: MIT
/*
 * i8042 keyboard controller: enough for a guest to probe it, read and write
 * its configuration byte, receive Ctrl-Alt-Del from the host (scancode set 1,
 * what the controller delivers with translation on), and reset the machine
 * (command 0xfe), which ends the VM with status 0.
 */
#include <errno.h>
#include <string.h>

#include "core/dev_state.h"
#include "devices/legacy.h"

#define STS_OBF		0x01
#define STS_SYS		0x04
#define CTR_KBD_INT	0x01
#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_AUX_TEST	0xa9
#define CMD_RESET	0xfe

/* Called with the lock held. */
static int i8042_push(struct i8042 *k, uint8_t v)
{
	if (k->q_len == I8042_QUEUE)
		return -ENOSPC;
	k->queue[(k->q_head + k->q_len) % I8042_QUEUE] = v;
	k->q_len++;
	return 0;
}

/* A keyboard byte is waiting: pulse IRQ 1 (edge) if the guest enabled it. */
static void i8042_kbd_interrupt(struct i8042 *k)
{
	if ((k->ctr & CTR_KBD_INT) && k->q_len) {
		irq_line_set(&k->kbd_irq, 1);
		irq_line_set(&k->kbd_irq, 0);
	}
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_push(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
		k->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		i8042_push(k, 0x55);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		i8042_push(k, 0x00);
		break;
	case CMD_RESET:
		runstate_request_stop(k->rs, VM_STOP_RESET, KITE_EXIT_OK,
				      "guest reset the machine (i8042)");
		break;
	default:
		break;		/* commands for devices that are not there */
	}
}

static void i8042_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct i8042 *k = opaque;

	memset(data, 0, size);
	pthread_mutex_lock(&k->lock);
	if (offset == 0 && k->q_len) {
		data[0] = k->queue[k->q_head];
		k->q_head = (k->q_head + 1) % I8042_QUEUE;
		k->q_len--;
		i8042_kbd_interrupt(k);
	} else if (offset == I8042_CMD_PORT - I8042_DATA_PORT) {
		data[0] = (uint8_t)(STS_SYS | (k->q_len ? STS_OBF : 0));
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_write(void *opaque, uint64_t offset, const uint8_t *data,
			uint32_t size)
{
	struct i8042 *k = opaque;

	(void)size;
	pthread_mutex_lock(&k->lock);
	if (offset == I8042_CMD_PORT - I8042_DATA_PORT) {
		i8042_command(k, data[0]);
	} else if (offset == 0 && k->pending_cmd == CMD_WRITE_CTR) {
		k->ctr = data[0];
		k->pending_cmd = 0;
	}
	pthread_mutex_unlock(&k->lock);
}

static const struct bus_ops i8042_ops = { .read = i8042_read, .write = i8042_write };

int i8042_init(struct i8042 *k, struct runstate *rs, struct bus *pio,
	       struct irq_line kbd_irq)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->rs = rs;
	k->kbd_irq = kbd_irq;
	/* 0x60..0x64 as one range; 0x61 (system control port B) reads as zero. */
	return bus_register(pio, I8042_DATA_PORT, 5, &i8042_ops, k, "i8042");
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

int i8042_ctrl_alt_del(struct i8042 *k)
{
	/* Ctrl, Alt, Del (extended) pressed, then released in reverse order. */
	static const uint8_t seq[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	if (k->q_len + sizeof(seq) > I8042_QUEUE)
		ret = err_set(-EBUSY, "the keyboard buffer is full: the guest is not reading it");
	for (i = 0; !ret && i < sizeof(seq); i++)
		i8042_push(k, seq[i]);
	if (!ret)
		i8042_kbd_interrupt(k);
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static void i8042_get_ctr(struct device *dev, struct dev_value *v)
{
	struct i8042 *k = dev->priv;

	pthread_mutex_lock(&k->lock);
	v->u64 = k->ctr;
	pthread_mutex_unlock(&k->lock);
}

static int i8042_set_ctr(struct device *dev, const struct dev_value *v)
{
	struct i8042 *k = dev->priv;

	if (v->u64 > 0xff)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	k->ctr = (uint8_t)v->u64;
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static void i8042_get_pending_cmd(struct device *dev, struct dev_value *v)
{
	struct i8042 *k = dev->priv;

	pthread_mutex_lock(&k->lock);
	v->u64 = k->pending_cmd;
	pthread_mutex_unlock(&k->lock);
}

/* Only "write configuration byte" waits for a data byte. */
static int i8042_set_pending_cmd(struct device *dev, const struct dev_value *v)
{
	struct i8042 *k = dev->priv;

	if (v->u64 != 0 && v->u64 != CMD_WRITE_CTR)
		return err_set(-EINVAL, "pending_cmd 0x%llx: only 0 (none) or 0x%x waits for "
			       "data", (unsigned long long)v->u64, CMD_WRITE_CTR);
	pthread_mutex_lock(&k->lock);
	k->pending_cmd = (uint8_t)v->u64;
	pthread_mutex_unlock(&k->lock);
	return 0;
}

/* output_queue, layout version 1: u8 version, u8 count (<= I8042_QUEUE),
 * then the bytes waiting for the guest (replies, scancodes), oldest first. */
#define I8042_QUEUE_VERSION	1

static void i8042_get_output_queue(struct device *dev, struct dev_value *v)
{
	struct i8042 *k = dev->priv;
	struct ds_writer w;
	unsigned int i;

	ds_writer_start(&w, v, 2 + I8042_QUEUE, I8042_QUEUE_VERSION);
	pthread_mutex_lock(&k->lock);
	ds_put_u8(&w, (uint8_t)k->q_len);
	for (i = 0; i < k->q_len; i++)
		ds_put_u8(&w, k->queue[(k->q_head + i) % I8042_QUEUE]);
	pthread_mutex_unlock(&k->lock);
	ds_writer_end(&w);
}

/* A restored byte with the keyboard interrupt enabled raises one edge: the
 * driver reads the status first, so at worst it sees a spurious interrupt. */
static int i8042_set_output_queue(struct device *dev, const struct dev_value *v)
{
	struct i8042 *k = dev->priv;
	uint8_t buf[I8042_QUEUE], ver;
	struct ds_reader r;
	unsigned int n;
	int ret;

	ds_reader_start(&r, "output_queue", v, I8042_QUEUE_VERSION, &ver);
	n = ds_get_u8(&r);
	if (!r.in.err && n > I8042_QUEUE)
		ds_fail(&r, "%u bytes, the controller holds %u", n, I8042_QUEUE);
	if (!r.in.err)
		ds_get_bytes(&r, buf, n);
	ret = ds_reader_end(&r);
	if (ret)
		return ret;
	pthread_mutex_lock(&k->lock);
	memcpy(k->queue, buf, n);
	k->q_head = 0;
	k->q_len = n;
	i8042_kbd_interrupt(k);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static void i8042_get_pending(struct device *dev, struct dev_value *v)
{
	struct i8042 *k = dev->priv;

	pthread_mutex_lock(&k->lock);
	v->u64 = k->q_len;
	pthread_mutex_unlock(&k->lock);
}

static int i8042_cmd_reset(struct device *dev, const char *arg)
{
	struct i8042 *k = dev->priv;

	(void)arg;
	pthread_mutex_lock(&k->lock);
	k->ctr = 0;
	k->q_head = k->q_len = 0;
	k->pending_cmd = 0;
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static int i8042_cmd_cad(struct device *dev, const char *arg)
{
	(void)arg;
	return i8042_ctrl_alt_del(dev->priv);
}

/*
 * State: everything the controller models - the configuration byte, a
 * command waiting for its data byte, and the output buffer's bytes (the
 * status register follows from them).  Restored in this order.
 */
static const struct dev_attr i8042_attrs[] = {
	{ "ctr", DEV_ATTR_U64, DEV_ATTR_STATE, "controller configuration byte",
	  i8042_get_ctr, i8042_set_ctr },
	{ "pending_cmd", DEV_ATTR_U64, DEV_ATTR_STATE,
	  "command waiting for its data byte (0x60) or 0", i8042_get_pending_cmd,
	  i8042_set_pending_cmd },
	{ "output_queue", DEV_ATTR_BYTES, DEV_ATTR_STATE, "bytes waiting for the guest to read",
	  i8042_get_output_queue, i8042_set_output_queue },
	{ "pending", DEV_ATTR_U64, DEV_ATTR_INFO, "bytes waiting in the output buffer",
	  i8042_get_pending, NULL },
};

static const struct dev_cmd i8042_cmds[] = {
	{ "reset", "reset the controller (not the machine)", i8042_cmd_reset },
	{ "ctrl-alt-del", "press and release Ctrl-Alt-Del", i8042_cmd_cad },
};

const struct dev_class i8042_class = {
	.type = "i8042",
	.state_version = 2,	/* 2: pending_cmd, output_queue */
	.attrs = i8042_attrs,
	.nr_attrs = sizeof(i8042_attrs) / sizeof(i8042_attrs[0]),
	.cmds = i8042_cmds,
	.nr_cmds = sizeof(i8042_cmds) / sizeof(i8042_cmds[0]),
};
