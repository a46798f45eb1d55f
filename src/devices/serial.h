/* SPDX-License-Identifier: MIT */
/*
 * serial.h - a 16550A UART (COM1: I/O 0x3f8, IRQ 4).
 *
 * Output goes to a host fd (stdout, a file, or nowhere).  Input is pushed by
 * the main loop with serial_rx_push(); when the receive buffer is full the
 * main loop stops reading its input, and the device writes @space_fd (an
 * eventfd) once the guest has drained it, so no input byte is ever dropped.
 * Thread use: register accesses come from vCPU threads, input from the main
 * thread; one mutex protects the state.
 */
#ifndef KITE_DEVICES_SERIAL_H
#define KITE_DEVICES_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "devices/irq.h"

#define SERIAL_COM1_BASE	0x3f8
#define SERIAL_COM1_IRQ		4
#define SERIAL_NR_REGS		8
#define SERIAL_RX_BUF		1024

struct serial {
	pthread_mutex_t lock;
	struct irq_line irq;
	int out_fd;			/* -1: discard output */
	int space_fd;			/* eventfd: rx space freed; -1: none */
	uint8_t ier, iir_thre, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t rx[SERIAL_RX_BUF];
	unsigned int rx_head, rx_len;
	int irq_level;
	int rx_blocked;			/* the main loop waits for space */
	bool frozen;			/* VM paused: take no input */
	uint64_t tx_bytes, rx_bytes;
};

void serial_init(struct serial *s, struct irq_line irq, int out_fd, int space_fd);
void serial_destroy(struct serial *s);
int serial_register(struct serial *s, struct bus *pio, uint64_t base) KITE_WUR;
/* Queue input; returns how many bytes were taken (less than @len if full). */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len);
/* Free space in the receive buffer (0 while frozen). */
size_t serial_rx_space(struct serial *s);
/* While the VM is paused, input waits on the host side. */
void serial_freeze(struct serial *s, bool frozen);
/* The device-model class ("serial": attributes and commands). */
extern const struct dev_class serial_class;

#endif
