// SPDX-License-Identifier: MIT
/*
 * core/dynlib: libraries loaded on first use (libmicrohttpd for the API
 * server, libslirp for user networking).  The tests load the C library,
 * which every process has mapped already, and libraries that do not exist.
 */
#include <errno.h>
#include <gnu/lib-names.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "core/dynlib.h"
#include "harness.h"

struct test_libc {
	__typeof__(getpid) *getpid;
	__typeof__(strlen) *strlen;
};

static const struct dynlib_sym libc_syms[] = {
	DYNLIB_SYM(struct test_libc, getpid, "getpid"),
	DYNLIB_SYM(struct test_libc, strlen, "strlen"),
};

/* strlen is "missing": looked up under a name nothing defines. */
static const struct dynlib_sym libc_syms_missing[] = {
	DYNLIB_SYM(struct test_libc, getpid, "getpid"),
	DYNLIB_SYM(struct test_libc, strlen, "kite_test_no_such_symbol"),
};

static void lib_init(struct dynlib *lib, const char *soname, const char *package,
		     const struct dynlib_sym *syms, struct test_libc *table)
{
	memset(table, 0, sizeof(*table));
	*lib = (struct dynlib){
		.soname = soname,
		.needed_for = "--test-option",
		.package = package,
		.syms = syms,
		.nr_syms = 2,
		.table = table,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
}

static void table_is_filled_and_calls_reach_the_library(void)
{
	struct test_libc t;
	struct dynlib lib;

	lib_init(&lib, LIBC_SO, "libc6", libc_syms, &t);
	CHECK_EQ(dynlib_load(&lib), 0);
	CHECK(t.getpid && t.strlen);
	CHECK_EQ(t.getpid(), getpid());
	CHECK_EQ(t.strlen("kite"), 4);
	/* Later calls find it loaded. */
	CHECK_EQ(dynlib_load(&lib), 0);
}

static void missing_library_names_it_its_use_and_its_package(void)
{
	struct test_libc t;
	struct dynlib lib;

	lib_init(&lib, "libkite-test-missing.so.7", "libkite-test-missing7", libc_syms, &t);
	CHECK_EQ(dynlib_load(&lib), -ENOENT);
	CHECK_STR_CONTAINS(err_msg(), "cannot load libkite-test-missing.so.7 "
			   "(needed for --test-option): ");
	CHECK_STR_CONTAINS(err_msg(), "; install libkite-test-missing7");
	CHECK(!t.getpid && !t.strlen);
}

static void missing_library_without_a_known_package_says_so(void)
{
	struct test_libc t;
	struct dynlib lib;

	lib_init(&lib, "libkite-test-missing.so.7", "", libc_syms, &t);
	CHECK_EQ(dynlib_load(&lib), -ENOENT);
	CHECK_STR_CONTAINS(err_msg(), "install the package that provides it");
}

static void missing_symbol_is_named_and_no_symbol_is_stored(void)
{
	struct test_libc t;
	struct dynlib lib;

	lib_init(&lib, LIBC_SO, "libc6", libc_syms_missing, &t);
	CHECK_EQ(dynlib_load(&lib), -ELIBBAD);
	CHECK_STR_CONTAINS(err_msg(), "cannot load " LIBC_SO " (needed for --test-option)");
	CHECK_STR_CONTAINS(err_msg(), "no symbol kite_test_no_such_symbol");
	CHECK_STR_CONTAINS(err_msg(), "; install libc6");
	CHECK(!t.getpid && !t.strlen);
}

static void failed_load_is_retried_by_the_next_call(void)
{
	struct test_libc t;
	struct dynlib lib;

	lib_init(&lib, "libkite-test-missing.so.7", "", libc_syms, &t);
	CHECK_EQ(dynlib_load(&lib), -ENOENT);
	lib.soname = LIBC_SO;
	CHECK_EQ(dynlib_load(&lib), 0);
	CHECK_EQ(t.strlen("ab"), 2);
}

#define RACERS 8

static void *load_thread(void *arg)
{
	return (void *)(long)dynlib_load(arg);
}

static void concurrent_first_loads_all_succeed(void)
{
	pthread_t th[RACERS];
	struct test_libc t;
	struct dynlib lib;
	int i, created, failed = 0;
	void *ret;

	lib_init(&lib, LIBC_SO, "libc6", libc_syms, &t);
	for (created = 0; created < RACERS; created++)
		if (pthread_create(&th[created], NULL, load_thread, &lib))
			break;
	for (i = 0; i < created; i++) {
		pthread_join(th[i], &ret);
		failed += ret != NULL;
	}
	CHECK_EQ(created, RACERS);
	CHECK_EQ(failed, 0);
	CHECK_EQ(t.strlen("abc"), 3);
}

int main(void)
{
	RUN(table_is_filled_and_calls_reach_the_library);
	RUN(missing_library_names_it_its_use_and_its_package);
	RUN(missing_library_without_a_known_package_says_so);
	RUN(missing_symbol_is_named_and_no_symbol_is_stored);
	RUN(failed_load_is_retried_by_the_next_call);
	RUN(concurrent_first_loads_all_succeed);
	return harness_done();
}
