/* SPDX-License-Identifier: MIT */
/*
 * printf.c - a tiny printf: %d %i %u %x %X %p %c %s %%, flags '-' '0',
 * width, length modifiers l ll z.  printf() writes to COM1 under a spin lock
 * (APs may print too).
 */
#include "lib.h"
#include "serial.h"

struct out {
	char *buf;
	size_t size;
	size_t pos;
	bool to_serial;
};

static void out_char(struct out *o, char c)
{
	if (o->to_serial)
		serial_putc(c);
	else if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

static void out_str(struct out *o, const char *s, int width, bool left)
{
	int len = (int)strlen(s);

	if (!left)
		out_pad(o, ' ', width - len);
	while (*s)
		out_char(o, *s++);
	if (left)
		out_pad(o, ' ', width - len);
}

static void out_num(struct out *o, uint64_t v, unsigned int base, bool neg, bool upper,
		    int width, bool zero, bool left, const char *prefix)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0, len, plen = (int)strlen(prefix);

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + (neg ? 1 : 0) + plen;
	if (!left && !zero)
		out_pad(o, ' ', width - len);
	if (neg)
		out_char(o, '-');
	while (*prefix)
		out_char(o, *prefix++);
	if (!left && zero)
		out_pad(o, '0', width - len);
	while (n)
		out_char(o, tmp[--n]);
	if (left)
		out_pad(o, ' ', width - len);
}

static void format(struct out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool left = false, zero = false;
		int width = 0, lng = 0;

		if (*fmt != '%') {
			out_char(o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = 2;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);

			out_num(o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, false,
				width, zero, left, "");
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);

			out_num(o, v, *fmt == 'u' ? 10 : 16, false, *fmt == 'X',
				width, zero, left, "");
			break;
		}
		case 'p':
			out_num(o, (uintptr_t)va_arg(ap, void *), 16, false, false,
				width, zero, left, "0x");
			break;
		case 'c':
			out_char(o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			out_str(o, s ? s : "(null)", width, left);
			break;
		}
		case '%':
			out_char(o, '%');
			break;
		case 0:
			return;
		default:
			out_char(o, '%');
			out_char(o, *fmt);
			break;
		}
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0, false };

	format(&o, fmt, ap);
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = 0;
	return (int)o.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static volatile int print_lock;

static void lock(void)
{
	unsigned int spins = 0;

	/* Bounded: a CPU that died holding the lock must not silence the rest. */
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE) && ++spins < 100000000)
		cpu_relax();
}

static void unlock(void)
{
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

int vprintf(const char *fmt, va_list ap)
{
	struct out o = { NULL, 0, 0, true };

	lock();
	format(&o, fmt, ap);
	unlock();
	return (int)o.pos;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void puts_raw(const char *s)
{
	lock();
	serial_write(s, strlen(s));
	unlock();
}
