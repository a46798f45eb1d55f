/* SPDX-License-Identifier: MIT */
/*
 * test=serial expect=STRING [timeout=SECONDS]: COM1 receive interrupts
 * through the IOAPIC (ISA IRQ 4) to the BSP's local APIC.  The ring-0
 * handler drains RBR into a ring buffer; ring 3 matches it against STRING.
 */
#include "lib.h"
#include "apic.h"
#include "irq.h"
#include "serial.h"
#include "tsc.h"

#define RX_SIZE 256

static volatile uint8_t rx_buf[RX_SIZE];
static volatile uint32_t rx_head;

/* Ring 0: keep it short. */
static void serial_irq(unsigned int vector)
{
	unsigned int n = 0;

	(void)vector;
	while ((inb(COM1 + UART_LSR) & UART_LSR_DR) && n++ < RX_SIZE) {
		rx_buf[rx_head % RX_SIZE] = inb(COM1 + UART_RBR);
		rx_head++;
	}
	lapic_eoi();
}

GUEST_TEST(serial, "expect=STRING [timeout=S]: receive STRING on COM1 by interrupt (IOAPIC pin 4)")
{
	char expect[128], got[128], shown[RX_SIZE * 4 + 1];
	uint64_t timeout_s = 10, end;
	size_t want, have = 0, shown_len = 0;
	uint32_t tail = 0;
	unsigned int spins = 0;
	int gsi;

	if (!cmdline_get("expect", expect, sizeof(expect)) || !expect[0])
		fail("serial needs expect=STRING");
	cmdline_get_u64("timeout", &timeout_s);
	want = strlen(expect);

	outb(0x21, 0xff);			/* mask both 8259s */
	outb(0xa1, 0xff);
	lapic_enable();
	while ((inb(COM1 + UART_LSR) & UART_LSR_DR) && ++spins < 4096)
		inb(COM1 + UART_RBR);		/* drop stale input */
	irq_register(VEC_SERIAL, serial_irq);
	gsi = ioapic_route_isa_irq(4, VEC_SERIAL, lapic_id());
	if (gsi < 0)
		fail("no IOAPIC serves ISA IRQ 4");
	outb(COM1 + UART_FCR, 0x07);		/* FIFO on, trigger at 1 byte */
	outb(COM1 + UART_MCR, 0x0b);		/* DTR, RTS, OUT2 */
	outb(COM1 + UART_IER, 0x01);		/* received data available */
	printf("serial: COM1 IRQ 4 -> GSI %d -> vector 0x%x on APIC %u, waiting %llu s for \"%s\"\n",
	       gsi, VEC_SERIAL, lapic_id(), (unsigned long long)timeout_s, expect);
	printf("READY\n");

	irq_enable();
	end = rdtsc() + tsc_from_us(timeout_s * 1000000);
	while (have < want) {
		uint32_t head = READ_ONCE(rx_head);

		while (tail != head && have < want) {
			char c = (char)rx_buf[tail++ % RX_SIZE];

			if (shown_len + 4 < sizeof(shown)) {
				if (c >= ' ' && c < 0x7f) {
					shown[shown_len++] = c;
				} else {
					snprintf(shown + shown_len, 5, "\\x%02x", (uint8_t)c);
					shown_len += 4;
				}
			}
			if (c != '\r' && c != '\n')
				got[have++] = c;
		}
		if ((int64_t)(rdtsc() - end) > 0)
			break;
		cpu_relax();
	}
	irq_disable();
	outb(COM1 + UART_IER, 0);
	shown[shown_len] = 0;
	got[have] = 0;
	printf("serial: received \"%s\" in %llu interrupt(s)\n", shown,
	       (unsigned long long)irq_count(VEC_SERIAL));
	if (have < want)
		fail("timeout after %llu s: got \"%s\", expected \"%s\"", (unsigned long long)timeout_s,
		     got, expect);
	if (memcmp(got, expect, want))
		fail("received \"%s\", expected \"%s\"", got, expect);
	if (irq_count(VEC_SERIAL) < 1)
		fail("no receive interrupt");
	pass();
}
