// SPDX-License-Identifier: MIT
#include "devices/serial.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/dev_state.h"
#include "core/log.h"

/* Register offsets */
enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI		0x01	/* receive data available */
#define IER_THRI	0x02	/* transmit holding register empty */
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

void serial_init(struct serial *s, struct irq_line irq, int out_fd, int space_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->irq = irq;
	s->out_fd = out_fd;
	s->space_fd = space_fd;
	s->mcr = MCR_OUT2;
	s->lcr = 0x03;		/* 8n1 */
	s->dll = 0x0c;		/* 9600 baud */
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->iir_thre)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* Called with the lock held after every state change. */
static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & IIR_NONE) && (s->mcr & MCR_OUT2);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

static void serial_rx_append(struct serial *s, uint8_t byte)
{
	if (s->rx_len == SERIAL_RX_BUF)
		return;		/* overrun, as on hardware (only in loopback) */
	s->rx[(s->rx_head + s->rx_len) % SERIAL_RX_BUF] = byte;
	s->rx_len++;
}

/* Wake the main loop if it stopped reading input and there is room again. */
static void serial_rx_space_freed(struct serial *s)
{
	uint64_t one = 1;

	if (s->rx_blocked && s->rx_len <= SERIAL_RX_BUF / 2 && s->space_fd >= 0) {
		s->rx_blocked = 0;
		if (write(s->space_fd, &one, sizeof(one)) < 0)
			log_debug("serial: cannot signal input space");
	}
}

static uint8_t serial_rx_pop(struct serial *s)
{
	uint8_t byte;

	if (!s->rx_len)
		return 0;
	byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_BUF;
	s->rx_len--;
	serial_rx_space_freed(s);
	return byte;
}

static void serial_transmit(struct serial *s, uint8_t byte)
{
	s->tx_bytes++;
	if (s->mcr & MCR_LOOP) {
		serial_rx_append(s, byte);
	} else if (s->out_fd >= 0) {
		ssize_t n;

		do {
			n = write(s->out_fd, &byte, 1);
		} while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN)
			s->out_fd = -1;	/* output closed: discard from now on */
	}
	s->iir_thre = 1;	/* the byte left at once: THR is empty again */
}

static uint8_t serial_msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (uint8_t)(((m & MCR_RTS) ? MSR_CTS : 0) | ((m & MCR_DTR) ? MSR_DSR : 0) |
			 ((m & MCR_OUT1) ? MSR_RI : 0) | ((m & MCR_OUT2) ? MSR_DCD : 0));
}

static uint8_t serial_read_reg(struct serial *s, unsigned int reg)
{
	uint8_t iir;

	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		return serial_rx_pop(s);
	case IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case IIR_FCR:
		iir = serial_iir(s);
		if ((iir & 0x0f) == IIR_THRI)
			s->iir_thre = 0;	/* reading IIR clears THRE */
		return iir;
	case LCR:
		return s->lcr;
	case MCR:
		return s->mcr;
	case LSR:
		return (uint8_t)(LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0));
	case MSR:
		return serial_msr(s);
	default:
		return s->scr;
	}
}

static void serial_write_reg(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			serial_transmit(s, v);
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI with an empty THR raises it at once. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->iir_thre = 1;
		s->ier = v & 0x0f;
		break;
	case IIR_FCR:
		s->fcr = v & (FCR_ENABLE | 0xc0);
		if (v & FCR_CLEAR_RX) {
			s->rx_head = s->rx_len = 0;
			serial_rx_space_freed(s);
		}
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		s->mcr = v & 0x1f;
		break;
	case SCR:
		s->scr = v;
		break;
	default:
		break;		/* LSR and MSR are read-only */
	}
}

static void serial_io_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct serial *s = opaque;

	memset(data, 0, size);
	pthread_mutex_lock(&s->lock);
	data[0] = serial_read_reg(s, (unsigned int)offset);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_io_write(void *opaque, uint64_t offset, const uint8_t *data,
			    uint32_t size)
{
	struct serial *s = opaque;

	(void)size;
	pthread_mutex_lock(&s->lock);
	serial_write_reg(s, (unsigned int)offset, data[0]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops serial_ops = {
	.read = serial_io_read,
	.write = serial_io_write,
};

int serial_register(struct serial *s, struct bus *pio, uint64_t base)
{
	return bus_register(pio, base, SERIAL_NR_REGS, &serial_ops, s, "serial");
}

size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; !s->frozen && i < len && s->rx_len < SERIAL_RX_BUF; i++)
		serial_rx_append(s, buf[i]);
	s->rx_bytes += i;
	if (s->rx_len == SERIAL_RX_BUF || s->frozen)
		s->rx_blocked = 1;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return i;
}

size_t serial_rx_space(struct serial *s)
{
	size_t space;

	pthread_mutex_lock(&s->lock);
	space = s->frozen ? 0 : SERIAL_RX_BUF - s->rx_len;
	if (!space)
		s->rx_blocked = 1;
	pthread_mutex_unlock(&s->lock);
	return space;
}

void serial_freeze(struct serial *s, bool frozen)
{
	pthread_mutex_lock(&s->lock);
	s->frozen = frozen;
	if (!frozen)
		serial_rx_space_freed(s);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Device model: registers are state, counters are info.
 *
 * The state is every register the guest can set (IER, LCR, MCR, SCR, the
 * divisor latch, FCR), the pending transmitter-empty interrupt (IIR's THRE
 * source, cleared by reading IIR) and the receive FIFO's contents; IIR,
 * LSR and MSR follow from those, and the interrupt line is recomputed after
 * each write (a pending interrupt raises the line: at most one spurious
 * edge).  A register value with bits the guest cannot set is refused.  Not
 * state: the host side (output fd, input flow control), counters.
 */
#define SERIAL_GETTER(field)                                                  \
	static void serial_get_##field(struct device *dev, struct dev_value *v) \
	{                                                                     \
		struct serial *s = dev->priv;                                 \
		pthread_mutex_lock(&s->lock);                                 \
		v->u64 = s->field;                                            \
		pthread_mutex_unlock(&s->lock);                               \
	}

#define SERIAL_REG_ATTR(field, mask)                                          \
	SERIAL_GETTER(field)                                                  \
	static int serial_set_##field(struct device *dev, const struct dev_value *v) \
	{                                                                     \
		struct serial *s = dev->priv;                                 \
		if (v->u64 & ~(uint64_t)(mask))                               \
			return err_set(-EINVAL, #field " 0x%" PRIx64 " is out of range " \
				       "(bits outside 0x%x)", v->u64, (unsigned int)(mask)); \
		pthread_mutex_lock(&s->lock);                                 \
		s->field = (uint8_t)v->u64;                                   \
		serial_update_irq(s);                                         \
		pthread_mutex_unlock(&s->lock);                               \
		return 0;                                                     \
	}

SERIAL_REG_ATTR(ier, 0x0f)
SERIAL_REG_ATTR(lcr, 0xff)
SERIAL_REG_ATTR(mcr, 0x1f)
SERIAL_REG_ATTR(scr, 0xff)
SERIAL_REG_ATTR(dll, 0xff)
SERIAL_REG_ATTR(dlm, 0xff)
SERIAL_REG_ATTR(fcr, FCR_ENABLE | 0xc0)

#define SERIAL_COUNTER(field) SERIAL_GETTER(field)

SERIAL_COUNTER(tx_bytes)
SERIAL_COUNTER(rx_bytes)
SERIAL_COUNTER(rx_len)

static void serial_get_thre_pending(struct device *dev, struct dev_value *v)
{
	struct serial *s = dev->priv;

	pthread_mutex_lock(&s->lock);
	v->b = s->iir_thre;
	pthread_mutex_unlock(&s->lock);
}

static int serial_set_thre_pending(struct device *dev, const struct dev_value *v)
{
	struct serial *s = dev->priv;

	pthread_mutex_lock(&s->lock);
	s->iir_thre = v->b;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* rx_fifo, layout version 1: u8 version, u16 count (<= SERIAL_RX_BUF), then
 * the bytes the guest has not read yet, oldest first. */
#define SERIAL_FIFO_VERSION	1

static void serial_get_rx_fifo(struct device *dev, struct dev_value *v)
{
	struct serial *s = dev->priv;
	struct ds_writer w;
	unsigned int i;

	ds_writer_start(&w, v, 3 + SERIAL_RX_BUF, SERIAL_FIFO_VERSION);
	pthread_mutex_lock(&s->lock);
	ds_put_u16(&w, (uint16_t)s->rx_len);
	for (i = 0; i < s->rx_len; i++)
		ds_put_u8(&w, s->rx[(s->rx_head + i) % SERIAL_RX_BUF]);
	pthread_mutex_unlock(&s->lock);
	ds_writer_end(&w);
}

static int serial_set_rx_fifo(struct device *dev, const struct dev_value *v)
{
	struct serial *s = dev->priv;
	uint8_t buf[SERIAL_RX_BUF], ver;
	struct ds_reader r;
	unsigned int n;
	int ret;

	ds_reader_start(&r, "rx_fifo", v, SERIAL_FIFO_VERSION, &ver);
	n = ds_get_u16(&r);
	if (!r.in.err && n > SERIAL_RX_BUF)
		ds_fail(&r, "%u bytes, the FIFO holds %u", n, SERIAL_RX_BUF);
	if (!r.in.err)
		ds_get_bytes(&r, buf, n);
	ret = ds_reader_end(&r);
	if (ret)
		return ret;
	pthread_mutex_lock(&s->lock);
	memcpy(s->rx, buf, n);
	s->rx_head = 0;
	s->rx_len = n;
	serial_rx_space_freed(s);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int serial_cmd_inject(struct device *dev, const char *arg)
{
	struct serial *s = dev->priv;
	size_t len = arg ? strlen(arg) : 0;

	if (!len)
		return err_set(-EINVAL, "inject needs the text to send as its argument");
	if (s->frozen)
		return err_set(-EBUSY, "the VM is paused: resume it before injecting input");
	if (serial_rx_push(s, (const uint8_t *)arg, len) != len)
		return err_set(-ENOSPC, "the serial receive buffer is full");
	return 0;
}

static int serial_cmd_reset(struct device *dev, const char *arg)
{
	struct serial *s = dev->priv;

	(void)arg;
	pthread_mutex_lock(&s->lock);
	s->ier = s->iir_thre = s->scr = s->dlm = s->fcr = 0;
	s->lcr = 0x03;
	s->dll = 0x0c;
	s->mcr = MCR_OUT2;
	s->rx_head = s->rx_len = 0;
	serial_rx_space_freed(s);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

#define REG(n, doc) { #n, DEV_ATTR_U64, DEV_ATTR_STATE, doc, serial_get_##n, serial_set_##n }
#define CTR(n, doc) { #n, DEV_ATTR_U64, DEV_ATTR_INFO, doc, serial_get_##n, NULL }

/* State attributes in restore order: registers, then the interrupt source
 * and the FIFO (each write recomputes the line). */
static const struct dev_attr serial_attrs[] = {
	REG(ier, "interrupt enable register"),
	REG(lcr, "line control register"),
	REG(mcr, "modem control register"),
	REG(scr, "scratch register"),
	REG(dll, "divisor latch, low byte"),
	REG(dlm, "divisor latch, high byte"),
	REG(fcr, "FIFO control (enable and trigger bits)"),
	{ "thre_pending", DEV_ATTR_BOOL, DEV_ATTR_STATE,
	  "a transmitter-empty interrupt is pending (reading IIR clears it)",
	  serial_get_thre_pending, serial_set_thre_pending },
	{ "rx_fifo", DEV_ATTR_BYTES, DEV_ATTR_STATE, "received bytes the guest has not read",
	  serial_get_rx_fifo, serial_set_rx_fifo },
	CTR(tx_bytes, "bytes the guest transmitted"),
	CTR(rx_bytes, "bytes received from the host"),
	CTR(rx_len, "bytes waiting for the guest to read"),
};

static const struct dev_cmd serial_cmds[] = {
	{ "inject", "queue the argument as input for the guest", serial_cmd_inject },
	{ "reset", "reset the UART to its power-on state", serial_cmd_reset },
};

const struct dev_class serial_class = {
	.type = "serial-16550a",
	.state_version = 2,	/* 2: thre_pending, rx_fifo */
	.attrs = serial_attrs,
	.nr_attrs = sizeof(serial_attrs) / sizeof(serial_attrs[0]),
	.cmds = serial_cmds,
	.nr_cmds = sizeof(serial_cmds) / sizeof(serial_cmds[0]),
};
