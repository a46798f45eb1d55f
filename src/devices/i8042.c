// SPDX-License-Identifier: MIT
/*
 * i8042 keyboard controller: just enough for a guest to probe it, read and
 * write its configuration byte, and reset the machine (command 0xfe), which
 * ends the VM with status 0.  There is no keyboard behind it.
 */
#include <string.h>

#include "devices/legacy.h"

#define STS_OBF		0x01
#define STS_SYS		0x04
#define STS_CMD		0x08
#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_AUX_TEST	0xa9
#define CMD_RESET	0xfe

static void i8042_output(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->out_full = 1;
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_output(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
		k->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		i8042_output(k, 0x55);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		i8042_output(k, 0x00);
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
	if (offset == 0) {
		data[0] = k->out;
		k->out_full = 0;
	} else if (offset == I8042_CMD_PORT - I8042_DATA_PORT) {
		data[0] = (uint8_t)(STS_SYS | (k->out_full ? STS_OBF : 0));
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

int i8042_init(struct i8042 *k, struct runstate *rs, struct bus *pio)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->rs = rs;
	k->ctr = 0x00;		/* no interrupts, no ports: nothing behind it */
	/* 0x60..0x64 as one range; 0x61 (system control port B) reads as zero. */
	return bus_register(pio, I8042_DATA_PORT, 5, &i8042_ops, k, "i8042");
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}
