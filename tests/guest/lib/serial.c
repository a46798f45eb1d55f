/* SPDX-License-Identifier: MIT */
/*
 * serial.c - COM1 output.  Every port access is a VM exit (~10-25 us), so
 * when the UART reports a working 16-byte FIFO we poll LSR.THRE once per 16
 * bytes (THRE set = transmit FIFO empty); otherwise once per byte.
 */
#include "lib.h"
#include "serial.h"

static unsigned int tx_room;	/* bytes we may write before polling LSR */
static unsigned int fifo_size = 1;

void serial_init(void)
{
	outb(COM1 + UART_FCR, 0x07);	/* enable and clear FIFOs */
	if ((inb(COM1 + UART_IIR) & 0xc0) == 0xc0)
		fifo_size = 16;
	tx_room = 0;
}

void serial_putc(char c)
{
	if (tx_room == 0) {
		unsigned int spins = 0;

		while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE) && ++spins < 1000000)
			cpu_relax();
		tx_room = fifo_size;
	}
	outb(COM1 + UART_THR, (uint8_t)c);
	tx_room--;
}

void serial_write(const char *s, size_t n)
{
	while (n--)
		serial_putc(*s++);
}

bool serial_present(void)
{
	uint8_t old = inb(COM1 + UART_SCR);
	bool ok;

	outb(COM1 + UART_SCR, 0x5a);
	ok = inb(COM1 + UART_SCR) == 0x5a;
	outb(COM1 + UART_SCR, 0xa5);
	ok = ok && inb(COM1 + UART_SCR) == 0xa5;
	outb(COM1 + UART_SCR, old);
	return ok;
}
