/* SPDX-License-Identifier: MIT */
/* lib.h - the kite test guest's small C library: printing, strings, command
 * line, verdicts, ring-0 calls and the test registry. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "layout.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NORETURN __attribute__((noreturn))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* printf.c: output goes to COM1 */
int printf(const char *fmt, ...) PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void puts_raw(const char *s);		/* no newline added */

/* string.c */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
bool str_starts(const char *s, const char *prefix);

/* cmdline.c: "word word name=value ..." (words separated by spaces) */
void cmdline_set(const char *cmdline);
const char *cmdline(void);
/* Copy the value of the first "name=" word into buf; false if absent. */
bool cmdline_get(const char *name, char *buf, size_t size);
bool cmdline_get_u64(const char *name, uint64_t *v);	/* decimal or 0x */
bool cmdline_get_size(const char *name, uint64_t *v);	/* K/M/G/T suffix */
/* Iterate words: returns the next word start and its length, NULL at end. */
const char *cmdline_next_word(const char *p, size_t *len);
bool parse_u64(const char *s, size_t len, uint64_t *v);
bool parse_size(const char *s, size_t len, uint64_t *v);

/* main.c: verdicts (debug-exit port 0x501; status (v << 1) | 1) */
#define DEBUG_EXIT_PORT 0x501
NORETURN void pass(void);				/* "PASS", status 1 */
NORETURN void fail(const char *fmt, ...) PRINTF(1, 2);	/* "FAIL: ...", status 3 */
NORETURN void guest_exit(uint8_t v);
NORETURN void halt(void);				/* this CPU, forever */
NORETURN void triple_fault(void);			/* shutdown: VMM reset/exit */

/* Run fn(arg) in ring 0 (ud2 gate, entry.S).  Keep fn tiny: ring 0 is
 * emulated.  Ring 3 only. */
typedef unsigned long (*kcall_fn)(unsigned long);
static inline unsigned long kcall(kcall_fn fn, unsigned long arg)
{
	unsigned long ret;
	__asm__ volatile("call gate_kcall" : "=a"(ret) : "a"(fn), "D"(arg) : "memory");
	return ret;
}

/* CPUID in ring 0 (one kcall): the vCPU's values, not the host's. */
void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4]);
static inline void cpuid(uint32_t leaf, uint32_t r[4]) { cpuid_count(leaf, 0, r); }

/* Test registry: GUEST_TEST(name, "description") { ... } */
struct guest_test {
	const char *name;
	const char *help;
	void (*run)(void);
};
#define GUEST_TEST(id, desc)						\
	static void test_##id(void);					\
	static const struct guest_test guest_test_##id			\
		__attribute__((used, section(".guest_tests"), aligned(8))) = \
		{ #id, desc, test_##id };				\
	static void test_##id(void)

/* Image bounds (guest.ld) */
extern char __image_start[], __image_end[];

#endif
