/* SPDX-License-Identifier: MIT */
/*
 * dynlib.h - a shared library loaded on first use, called through a table
 * of function pointers resolved up front.
 *
 * kite links no library that only some VMs need: libmicrohttpd (for
 * --api-sock) pulls in gnutls and its crypto stack, libslirp (for --net
 * user) pulls in glib, and mapping and initializing them would cost every
 * VM start-up time and megabytes of memory.  The module that needs one
 * describes it with a struct dynlib (its soname, determined at build time by
 * scripts/soname.sh, and a table of the functions it calls) and calls
 * dynlib_load() before its first call through the table.  It still compiles
 * against the library's header, for types and constants; declaring the
 * table's members with __typeof__ of the header's prototypes lets the
 * compiler check every call.
 *
 * The library is opened RTLD_NOW | RTLD_LOCAL (all its references resolved
 * at once; its symbols not made visible to anything loaded later) and every
 * symbol is looked up before any is stored: once dynlib_load() has returned
 * 0 the whole table is valid and never written again.  The library is never
 * closed: its code stays mapped for the life of the process, as a linked
 * one would, which sanitizers and leak reports need to name its frames.
 *
 * Threads: any thread may call dynlib_load() at any time.  The first load
 * runs under the library's mutex; later calls read one flag (acquire) and
 * return.  A failed load is retried by the next call.
 */
#ifndef KITE_CORE_DYNLIB_H
#define KITE_CORE_DYNLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* One function: its symbol and where its pointer goes in the table. */
struct dynlib_sym {
	const char *name;
	size_t offset;
};

/* The entry for member @field of table type @type, looked up as @sym. */
#define DYNLIB_SYM(type, field, sym)	{ (sym), offsetof(type, field) }

struct dynlib {
	const char *soname;	/* "libmicrohttpd.so.12" */
	const char *needed_for;	/* what the user asked for: "--api-sock" */
	const char *package;	/* that installs it: "libmicrohttpd12"; "" if unknown */
	const struct dynlib_sym *syms;
	size_t nr_syms;
	void *table;		/* a struct of function pointers only */
	/* Private: initialize .lock with PTHREAD_MUTEX_INITIALIZER. */
	pthread_mutex_t lock;
	bool loaded;		/* atomic; written once, under lock */
};

/**
 * dynlib_load() - make sure @lib is loaded and its table filled.
 * Return: 0, or a negative errno with a message naming the library, what it
 * is needed for and the package to install: -ENOENT when it cannot be
 * loaded, -ELIBBAD when a symbol of the table is missing from it.
 */
int dynlib_load(struct dynlib *lib) KITE_WUR;

#endif
