/* SPDX-License-Identifier: MIT */
/*
 * harness.h - the unit-test harness (header only).
 *
 * A test file defines test functions and a main() that calls RUN() on each,
 * then returns harness_done().  Each test prints one line that tests/run.sh
 * counts:  "ok NAME", "not ok NAME: file:line: what failed", or
 * "skip NAME: why".  Test names state the expected outcome.
 */
#ifndef KITE_TEST_HARNESS_H
#define KITE_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failed_total;
static int harness_cur_failed;
static const char *harness_skip_why;

#define CHECK(cond)                                                          \
	do {                                                                  \
		if (!(cond)) {                                                \
			harness_fail(__FILE__, __LINE__, #cond);              \
			return;                                               \
		}                                                             \
	} while (0)

#define CHECK_EQ(a, b)                                                       \
	do {                                                                  \
		unsigned long long _a = (unsigned long long)(a);              \
		unsigned long long _b = (unsigned long long)(b);              \
		if (_a != _b) {                                               \
			char _m[256];                                         \
			snprintf(_m, sizeof(_m), "%s == %s (0x%llx != 0x%llx)", \
				 #a, #b, _a, _b);                             \
			harness_fail(__FILE__, __LINE__, _m);                 \
			return;                                               \
		}                                                             \
	} while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                      \
	do {                                                                  \
		const char *_h = (hay);                                       \
		if (!_h || !strstr(_h, (needle))) {                           \
			char _m[512];                                         \
			snprintf(_m, sizeof(_m), "\"%s\" contains \"%s\"",    \
				 _h ? _h : "(null)", (needle));               \
			harness_fail(__FILE__, __LINE__, _m);                 \
			return;                                               \
		}                                                             \
	} while (0)

/* Mark the running test skipped (say why) and return from it. */
#define SKIP(why)                                                            \
	do {                                                                  \
		harness_skip_why = (why);                                     \
		return;                                                       \
	} while (0)

static inline void harness_fail(const char *file, int line, const char *what)
{
	if (!harness_cur_failed)
		printf("# %s:%d: check failed: %s\n", file, line, what);
	harness_cur_failed = 1;
}

static inline void harness_run(const char *name, void (*fn)(void))
{
	harness_cur_failed = 0;
	harness_skip_why = NULL;
	fn();
	if (harness_cur_failed) {
		printf("not ok %s\n", name);
		harness_failed_total++;
	} else if (harness_skip_why) {
		printf("skip %s: %s\n", name, harness_skip_why);
	} else {
		printf("ok %s\n", name);
	}
	fflush(stdout);
}

#define RUN(fn) harness_run(#fn, fn)

static inline int harness_done(void)
{
	return harness_failed_total ? 1 : 0;
}

#endif
