// SPDX-License-Identifier: MIT
/*
 * Unit tests of the 16550A UART, driven through a port I/O bus the way a
 * vCPU drives it.  Output goes to a pipe the test reads back; the "input
 * space" eventfd is a real eventfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/bus.h"
#include "devices/serial.h"
#include "harness.h"

#define BASE	0x3f8
enum { THR = 0, RBR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3,
       MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct uart {
	struct serial s;
	struct bus bus;
	int out_r, out_w;	/* the pipe behind the UART's output */
	int space_fd;
};

static int uart_setup(struct uart *u)
{
	int p[2];

	memset(u, 0, sizeof(*u));
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return -1;
	u->out_r = p[0];
	u->out_w = p[1];
	u->space_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->space_fd < 0)
		return -1;
	serial_init(&u->s, (struct irq_line){ .vm_fd = -1 }, u->out_w, u->space_fd);
	bus_init(&u->bus, "pio");
	return serial_register(&u->s, &u->bus, BASE);
}

static void uart_teardown(struct uart *u)
{
	bus_destroy(&u->bus);
	serial_destroy(&u->s);
	close(u->out_r);
	close(u->out_w);
	close(u->space_fd);
}

static uint8_t rd(struct uart *u, unsigned int reg)
{
	uint8_t v = 0xee;

	if (!bus_access(&u->bus, BASE + reg, &v, 1, false))
		return 0xee;	/* never a valid answer in these tests */
	return v;
}

static void wr(struct uart *u, unsigned int reg, uint8_t v)
{
	(void)bus_access(&u->bus, BASE + reg, &v, 1, true);
}

/* Bytes waiting in the output pipe (at most @cap), -1 when none. */
static ssize_t out_read(struct uart *u, uint8_t *buf, size_t cap)
{
	return read(u->out_r, buf, cap);
}

static bool space_signalled(struct uart *u)
{
	uint64_t v;

	return read(u->space_fd, &v, sizeof(v)) == (ssize_t)sizeof(v) && v > 0;
}

/*
 * Each test runs on a fresh UART in U, built before and torn down after it
 * by RUN_UART, so that a failing check (which returns early) leaks nothing.
 */
static struct uart U;

#define RUN_UART(fn)							\
	do {								\
		if (uart_setup(&U)) {					\
			perror("uart_setup");				\
			abort();					\
		}							\
		RUN(fn);						\
		uart_teardown(&U);					\
	} while (0)

static void thr_write_appears_on_the_output_fd(void)
{
	uint8_t buf[8];

	wr(&U, THR, 'h');
	wr(&U, THR, 'i');
	wr(&U, THR, '\n');
	CHECK_EQ(out_read(&U, buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "hi\n", 3) == 0);
	CHECK_EQ(U.s.tx_bytes, 3);
}

static void lsr_reads_thre_and_temt_when_idle(void)
{
	CHECK_EQ(rd(&U, LSR), 0x60);
	wr(&U, THR, 'x');
	CHECK_EQ(rd(&U, LSR), 0x60);	/* the byte left at once */
}

static void lsr_sets_data_ready_once_input_is_queued(void)
{
	CHECK_EQ(serial_rx_push(&U.s, (const uint8_t *)"a", 1), 1);
	CHECK_EQ(rd(&U, LSR), 0x61);
	CHECK_EQ(rd(&U, RBR), 'a');
	CHECK_EQ(rd(&U, LSR), 0x60);
}

static void rbr_returns_pushed_bytes_in_order(void)
{
	const uint8_t in[] = { 'k', 'i', 't', 'e', 0x00, 0xff };
	unsigned int i;

	CHECK_EQ(serial_rx_push(&U.s, in, 3), 3);
	CHECK_EQ(serial_rx_push(&U.s, in + 3, 3), 3);
	for (i = 0; i < sizeof(in); i++)
		CHECK_EQ(rd(&U, RBR), in[i]);
	CHECK_EQ(rd(&U, LSR) & 0x01, 0);
	CHECK_EQ(U.s.rx_bytes, sizeof(in));
}

static void rbr_wraps_around_the_ring_in_order(void)
{
	uint8_t buf[SERIAL_RX_BUF];
	unsigned int i, round;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i * 7 + round);
		/* 700 at a time so the head moves around the ring. */
		CHECK_EQ(serial_rx_push(&U.s, buf, 700), 700);
		for (i = 0; i < 700; i++)
			CHECK_EQ(rd(&U, RBR), buf[i]);
	}
	CHECK_EQ(rd(&U, LSR), 0x60);
}

static void iir_reports_rdi_when_enabled_and_data_present(void)
{
	CHECK(serial_rx_push(&U.s, (const uint8_t *)"z", 1) == 1);
	CHECK_EQ(rd(&U, IIR), 0x01);		/* IER = 0: nothing pending */
	wr(&U, IER, 0x01);
	CHECK_EQ(rd(&U, IIR), 0x04);
	CHECK_EQ(rd(&U, IIR), 0x04);		/* reading IIR does not clear RDI */
	CHECK_EQ(rd(&U, RBR), 'z');
	CHECK_EQ(rd(&U, IIR), 0x01);
}

static void iir_reports_thri_after_enabling_it_until_iir_is_read(void)
{
	wr(&U, IER, 0x02);
	CHECK_EQ(rd(&U, IER), 0x02);
	CHECK_EQ(rd(&U, IIR), 0x02);
	CHECK_EQ(rd(&U, IIR), 0x01);		/* the read cleared it */
	wr(&U, THR, 'x');			/* THR empties again: raised again */
	CHECK_EQ(rd(&U, IIR), 0x02);
	CHECK_EQ(rd(&U, IIR), 0x01);
}

static void iir_gives_rdi_priority_over_thri(void)
{
	wr(&U, IER, 0x03);
	CHECK(serial_rx_push(&U.s, (const uint8_t *)"q", 1) == 1);
	CHECK_EQ(rd(&U, IIR), 0x04);
	CHECK_EQ(rd(&U, RBR), 'q');
	CHECK_EQ(rd(&U, IIR), 0x02);		/* THRI was still pending */
	CHECK_EQ(rd(&U, IIR), 0x01);
}

static void iir_reads_no_interrupt_when_nothing_is_pending(void)
{
	CHECK_EQ(rd(&U, IIR), 0x01);
	wr(&U, IER, 0x01);			/* RDI enabled but no data */
	CHECK_EQ(rd(&U, IIR), 0x01);
}

static void iir_has_fifo_bits_when_fcr_enables_the_fifo(void)
{
	wr(&U, FCR, 0x01);
	CHECK_EQ(rd(&U, IIR), 0xc1);
	wr(&U, IER, 0x01);
	CHECK(serial_rx_push(&U.s, (const uint8_t *)"f", 1) == 1);
	CHECK_EQ(rd(&U, IIR), 0xc4);
	wr(&U, FCR, 0x00);
	CHECK_EQ(rd(&U, IIR), 0x04);
}

static void dlab_maps_offsets_0_and_1_to_the_divisor_latch(void)
{
	uint8_t buf[4];

	wr(&U, IER, 0x05);
	wr(&U, LCR, 0x83);			/* DLAB | 8n1 */
	CHECK_EQ(rd(&U, DLL), 0x0c);		/* the reset divisor: 9600 baud */
	CHECK_EQ(rd(&U, DLM), 0x00);
	wr(&U, DLL, 0x01);
	wr(&U, DLM, 0x02);
	CHECK_EQ(rd(&U, DLL), 0x01);
	CHECK_EQ(rd(&U, DLM), 0x02);
	CHECK_EQ(out_read(&U, buf, sizeof(buf)), -1);	/* nothing transmitted */
	CHECK_EQ(U.s.tx_bytes, 0);
	wr(&U, LCR, 0x03);
	CHECK_EQ(rd(&U, LCR), 0x03);
	CHECK_EQ(rd(&U, IER), 0x05);		/* IER was not overwritten */
	wr(&U, THR, 'T');
	CHECK_EQ(out_read(&U, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'T');
}

static void dlab_read_of_offset_0_does_not_consume_input(void)
{
	CHECK(serial_rx_push(&U.s, (const uint8_t *)"d", 1) == 1);
	wr(&U, LCR, 0x80);
	CHECK_EQ(rd(&U, DLL), 0x0c);
	wr(&U, LCR, 0x03);
	CHECK_EQ(rd(&U, LSR), 0x61);
	CHECK_EQ(rd(&U, RBR), 'd');
}

static void scratch_register_round_trips(void)
{
	CHECK_EQ(rd(&U, SCR), 0x00);
	wr(&U, SCR, 0xa5);
	CHECK_EQ(rd(&U, SCR), 0xa5);
	wr(&U, SCR, 0x5a);
	CHECK_EQ(rd(&U, SCR), 0x5a);
}

static void loopback_returns_transmitted_bytes_as_input(void)
{
	uint8_t buf[4];

	wr(&U, MCR, 0x10);
	wr(&U, THR, 0x42);
	wr(&U, THR, 0x43);
	CHECK_EQ(out_read(&U, buf, sizeof(buf)), -1);	/* not sent to the host */
	CHECK_EQ(rd(&U, LSR) & 0x01, 0x01);
	CHECK_EQ(rd(&U, RBR), 0x42);
	CHECK_EQ(rd(&U, RBR), 0x43);
	CHECK_EQ(rd(&U, LSR) & 0x01, 0);
}

static void loopback_msr_mirrors_mcr_outputs(void)
{
	static const struct { uint8_t mcr, msr_hi; } cases[] = {
		{ 0x10, 0x00 },
		{ 0x12, 0x10 },		/* RTS -> CTS */
		{ 0x11, 0x20 },		/* DTR -> DSR */
		{ 0x14, 0x40 },		/* OUT1 -> RI */
		{ 0x18, 0x80 },		/* OUT2 -> DCD */
		{ 0x1f, 0xf0 },
		{ 0x1a, 0x90 },		/* what Linux's 8250 probe writes and expects */
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wr(&U, MCR, cases[i].mcr);
		CHECK_EQ(rd(&U, MCR), cases[i].mcr);
		CHECK_EQ(rd(&U, MSR) & 0xf0, cases[i].msr_hi);
	}
}

static void msr_reports_carrier_dsr_cts_outside_loopback(void)
{
	wr(&U, MCR, 0x00);
	CHECK_EQ(rd(&U, MSR) & 0xf0, 0xb0);
}

static void rx_push_beyond_the_buffer_takes_exactly_its_size(void)
{
	static uint8_t big[SERIAL_RX_BUF + 100];

	memset(big, 'b', sizeof(big));
	CHECK_EQ(serial_rx_push(&U.s, big, sizeof(big)), SERIAL_RX_BUF);
	CHECK_EQ(serial_rx_space(&U.s), 0);
	CHECK_EQ(serial_rx_push(&U.s, big, 1), 0);
	CHECK_EQ(U.s.rx_bytes, SERIAL_RX_BUF);
}

static void draining_a_full_buffer_below_half_signals_the_space_eventfd(void)
{
	static uint8_t big[SERIAL_RX_BUF];
	unsigned int i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	CHECK_EQ(serial_rx_push(&U.s, big, sizeof(big)), SERIAL_RX_BUF);
	/* Down to exactly half + 1 left: not yet. */
	for (i = 0; i < SERIAL_RX_BUF / 2 - 1; i++)
		CHECK_EQ(rd(&U, RBR), big[i]);
	CHECK(!space_signalled(&U));
	CHECK_EQ(rd(&U, RBR), big[i]);		/* now half is left */
	CHECK(space_signalled(&U));
	CHECK_EQ(serial_rx_space(&U.s), SERIAL_RX_BUF / 2);
	/* Signalled once per blocking, not per byte. */
	(void)rd(&U, RBR);
	CHECK(!space_signalled(&U));
}

static void space_eventfd_is_signalled_again_after_refilling(void)
{
	static uint8_t big[SERIAL_RX_BUF];
	unsigned int i;

	CHECK_EQ(serial_rx_push(&U.s, big, sizeof(big)), SERIAL_RX_BUF);
	for (i = 0; i < SERIAL_RX_BUF / 2; i++)
		(void)rd(&U, RBR);
	CHECK(space_signalled(&U));
	/* Refill what was drained: full and blocked again. */
	CHECK_EQ(serial_rx_push(&U.s, big, sizeof(big)), SERIAL_RX_BUF / 2);
	CHECK_EQ(serial_rx_space(&U.s), 0);
	for (i = 0; i < SERIAL_RX_BUF / 2; i++)
		(void)rd(&U, RBR);
	CHECK(space_signalled(&U));
}

/*
 * The main loop stops reading console input while the buffer is full and
 * waits for the space eventfd.  A guest that empties the buffer by clearing
 * the receive FIFO (FCR bit 1, which Linux's 8250 does when the port is
 * opened) must wake it too, or console input stops for good.
 */
static void fifo_clear_of_a_full_buffer_signals_the_space_eventfd(void)
{
	static uint8_t big[SERIAL_RX_BUF];

	CHECK_EQ(serial_rx_push(&U.s, big, SERIAL_RX_BUF), SERIAL_RX_BUF);
	CHECK_EQ(serial_rx_space(&U.s), 0);
	wr(&U, FCR, 0x03);			/* enable + clear receive FIFO */
	CHECK_EQ(rd(&U, LSR) & 0x01, 0);
	CHECK_EQ(serial_rx_space(&U.s), SERIAL_RX_BUF);
	CHECK(space_signalled(&U));
}

static void irq_level_follows_pending_interrupts_gated_by_out2(void)
{
	CHECK_EQ(rd(&U, MCR), 0x08);		/* OUT2 set at reset */
	CHECK_EQ(U.s.irq_level, 0);
	wr(&U, IER, 0x01);
	CHECK_EQ(U.s.irq_level, 0);		/* enabled, but no data */
	CHECK(serial_rx_push(&U.s, (const uint8_t *)"i", 1) == 1);
	CHECK_EQ(U.s.irq_level, 1);
	wr(&U, MCR, 0x00);			/* OUT2 off: line gated */
	CHECK_EQ(U.s.irq_level, 0);
	wr(&U, MCR, 0x08);
	CHECK_EQ(U.s.irq_level, 1);
	CHECK_EQ(rd(&U, RBR), 'i');		/* nothing pending any more */
	CHECK_EQ(U.s.irq_level, 0);
	wr(&U, IER, 0x02);			/* THRI raises the line at once */
	CHECK_EQ(U.s.irq_level, 1);
	CHECK_EQ(rd(&U, IIR), 0x02);		/* reading IIR acknowledges it */
	CHECK_EQ(U.s.irq_level, 0);
	wr(&U, IER, 0x00);
	CHECK_EQ(U.s.irq_level, 0);
}

static void disabling_ier_drops_the_irq_line(void)
{
	wr(&U, IER, 0x01);
	CHECK(serial_rx_push(&U.s, (const uint8_t *)"j", 1) == 1);
	CHECK_EQ(U.s.irq_level, 1);
	wr(&U, IER, 0x00);
	CHECK_EQ(U.s.irq_level, 0);
	CHECK_EQ(rd(&U, IIR), 0x01);
}

static void output_to_a_closed_pipe_is_discarded_from_then_on(void)
{
	close(U.out_r);
	U.out_r = -1;
	wr(&U, THR, 'a');			/* EPIPE (SIGPIPE ignored below) */
	CHECK_EQ(U.s.out_fd, -1);
	wr(&U, THR, 'b');
	CHECK_EQ(U.s.tx_bytes, 2);
	CHECK_EQ(rd(&U, LSR), 0x60);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN_UART(thr_write_appears_on_the_output_fd);
	RUN_UART(lsr_reads_thre_and_temt_when_idle);
	RUN_UART(lsr_sets_data_ready_once_input_is_queued);
	RUN_UART(rbr_returns_pushed_bytes_in_order);
	RUN_UART(rbr_wraps_around_the_ring_in_order);
	RUN_UART(iir_reports_rdi_when_enabled_and_data_present);
	RUN_UART(iir_reports_thri_after_enabling_it_until_iir_is_read);
	RUN_UART(iir_gives_rdi_priority_over_thri);
	RUN_UART(iir_reads_no_interrupt_when_nothing_is_pending);
	RUN_UART(iir_has_fifo_bits_when_fcr_enables_the_fifo);
	RUN_UART(dlab_maps_offsets_0_and_1_to_the_divisor_latch);
	RUN_UART(dlab_read_of_offset_0_does_not_consume_input);
	RUN_UART(scratch_register_round_trips);
	RUN_UART(loopback_returns_transmitted_bytes_as_input);
	RUN_UART(loopback_msr_mirrors_mcr_outputs);
	RUN_UART(msr_reports_carrier_dsr_cts_outside_loopback);
	RUN_UART(rx_push_beyond_the_buffer_takes_exactly_its_size);
	RUN_UART(draining_a_full_buffer_below_half_signals_the_space_eventfd);
	RUN_UART(space_eventfd_is_signalled_again_after_refilling);
	RUN_UART(fifo_clear_of_a_full_buffer_signals_the_space_eventfd);
	RUN_UART(irq_level_follows_pending_interrupts_gated_by_out2);
	RUN_UART(disabling_ier_drops_the_irq_line);
	RUN_UART(output_to_a_closed_pipe_is_discarded_from_then_on);
	return harness_done();
}
