// SPDX-License-Identifier: MIT
/*
 * dynlib.c - shared libraries loaded on first use.  See dynlib.h.
 */
#include "core/dynlib.h"

#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* POSIX makes dlsym()'s void * usable as a function pointer; so does kite. */
static_assert(sizeof(void *) == sizeof(void (*)(void)),
	      "function pointers are stored from dlsym()'s void *");

static int dynlib_fail(const struct dynlib *lib, int code, const char *why)
{
	if (lib->package[0])
		return err_set(code, "cannot load %s (needed for %s): %s; install %s",
			       lib->soname, lib->needed_for, why, lib->package);
	return err_set(code, "cannot load %s (needed for %s): %s; install the package "
		       "that provides it", lib->soname, lib->needed_for, why);
}

/* Look up every symbol first, then store them all: a failure stores none. */
static int dynlib_resolve(struct dynlib *lib, void *handle)
{
	char why[160];
	size_t i;

	for (i = 0; i < lib->nr_syms; i++) {
		if (!dlsym(handle, lib->syms[i].name)) {
			snprintf(why, sizeof(why), "it has no symbol %s (an older version "
				 "than kite was built for?)", lib->syms[i].name);
			return dynlib_fail(lib, -ELIBBAD, why);
		}
	}
	for (i = 0; i < lib->nr_syms; i++) {
		void *p = dlsym(handle, lib->syms[i].name);

		memcpy((char *)lib->table + lib->syms[i].offset, &p, sizeof(p));
	}
	return 0;
}

int dynlib_load(struct dynlib *lib)
{
	int ret = 0;

	if (__atomic_load_n(&lib->loaded, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&lib->lock);
	if (!lib->loaded) {
		/* Never closed (see dynlib.h): a failed resolve keeps it open too. */
		void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

		if (handle) {
			ret = dynlib_resolve(lib, handle);
		} else {
			const char *why = dlerror();

			ret = dynlib_fail(lib, -ENOENT, why ? why : "dlopen() failed");
		}
		if (!ret)
			__atomic_store_n(&lib->loaded, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lib->lock);
	return ret;
}
