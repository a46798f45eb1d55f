/* SPDX-License-Identifier: MIT */
/* serial.h - 16550 UART at COM1 (I/O 0x3f8), polled output from ring 3. */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#define COM1		0x3f8
#define UART_RBR	0	/* receive buffer (read) */
#define UART_THR	0	/* transmit holding (write) */
#define UART_IER	1
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_SCR	7
#define UART_LSR_DR	0x01
#define UART_LSR_THRE	0x20

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
bool serial_present(void);	/* scratch register read-back */

#endif
