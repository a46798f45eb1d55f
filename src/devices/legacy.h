/* SPDX-License-Identifier: MIT */
/*
 * legacy.h - the small PC devices that end or pace a VM:
 *   i8042      keyboard controller at 0x60/0x64; command 0xfe resets the VM
 *   debug-exit port 0x501 (QEMU isa-debug-exit): byte V ends kite with (V<<1)|1
 *   acpi-pm    hardware-reduced ACPI sleep control/status at 0x600/0x601: S5 powers off
 *   post       port 0x80 (POST codes, used by guests as an I/O delay)
 */
#ifndef KITE_DEVICES_LEGACY_H
#define KITE_DEVICES_LEGACY_H

#include <pthread.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/runstate.h"
#include "devices/irq.h"

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define DEBUG_EXIT_PORT		0x501
#define POST_PORT		0x80

#define I8042_KBD_IRQ		1
#define I8042_QUEUE		16

struct i8042 {
	pthread_mutex_t lock;
	struct runstate *rs;
	struct irq_line kbd_irq;
	uint8_t ctr;		/* controller configuration byte */
	uint8_t queue[I8042_QUEUE];	/* output buffer: controller replies, scancodes */
	unsigned int q_head, q_len;
	uint8_t pending_cmd;	/* command awaiting a data byte */
};

int i8042_init(struct i8042 *k, struct runstate *rs, struct bus *pio,
	       struct irq_line kbd_irq) KITE_WUR;
void i8042_destroy(struct i8042 *k);
/* Queue the scancodes of Ctrl-Alt-Del (press and release) for the guest. */
int i8042_ctrl_alt_del(struct i8042 *k) KITE_WUR;

extern const struct dev_class i8042_class;
extern const struct dev_class debug_exit_class;
extern const struct dev_class acpi_pm_class;
extern const struct dev_class post_class;
int debug_exit_init(struct runstate *rs, struct bus *pio, uint64_t port) KITE_WUR;
int acpi_pm_init(struct runstate *rs, struct bus *pio) KITE_WUR;
int post_init(struct bus *pio) KITE_WUR;

#endif
