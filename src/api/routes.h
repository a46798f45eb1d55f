/* SPDX-License-Identifier: MIT */
/*
 * routes.h - the control API without HTTP: (method, path, body) in, (status,
 * JSON body) out.  server.c feeds it from libmicrohttpd; the unit tests feed
 * it directly, against a fake VM through the same ops table.
 *
 * Thread use: api_handle() is called by one thread at a time (the API thread).
 */
#ifndef KITE_API_ROUTES_H
#define KITE_API_ROUTES_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/vm_boot.h"
#include "core/vm_control.h"
#include "migration/migrate.h"

/* Largest request body accepted (Firecracker allows 50 KiB). */
#define API_BODY_MAX	(64 * 1024)

/* What the API needs from a VM: the functions of vm_control.h. */
struct api_vm_ops {
	enum vm_state (*get_state)(struct vm *vm);
	const char *(*state_name)(enum vm_state s);
	int (*pause)(struct vm *vm);
	int (*resume)(struct vm *vm);
	void (*shutdown)(struct vm *vm);
	int (*ctrl_alt_del)(struct vm *vm);
	unsigned int (*nr_vcpus)(const struct vm *vm);
	uint64_t (*mem_size)(const struct vm *vm);
	struct dev_registry *(*devices)(struct vm *vm);
	uint64_t (*exit_count)(const struct vm *vm, unsigned int vcpu, unsigned int reason);
	const char *(*exit_reason_name)(unsigned int reason);
	/* Save the paused VM (snapshot/vm_snapshot.h); NULL: not offered. */
	int (*snapshot_create)(struct vm *vm, const char *snapshot_path, const char *mem_file_path,
			       bool diff);
	/* Live migration (migration/migrate.h); NULL: not offered. */
	int (*migrate_start)(struct vm *vm, const struct mig_params *p);
	void (*migrate_status)(struct vm *vm, struct mig_status *out);
	int (*migrate_cancel)(struct vm *vm);
	bool (*migrate_active)(struct vm *vm);
	/* Build the VM on a kite started without one (core/vm_boot.h). */
	struct vm *(*boot_request)(struct vm_boot *boot, const struct vm_boot_request *req,
				   int *err);
};

/* Counters shown under "api" in GET /metrics; updated with relaxed atomics. */
struct api_stats {
	uint64_t requests;	/* requests that reached a handler */
	uint64_t errors;	/* answered 4xx/5xx by kite (not libmicrohttpd's own) */
	uint64_t timeouts;	/* connections closed for stalling */
	uint64_t aborted;	/* clients gone mid-request or mid-response */
};

struct api_ctx {
	struct vm *vm;			/* NULL until a VM exists (then set once, by this thread) */
	struct vm_boot *boot;		/* a kite started without a VM: how to build one */
	const struct api_vm_ops *ops;
	struct api_stats stats;
};

struct api_request {
	const char *method;	/* "GET", "PUT", ... */
	const char *path;	/* already percent-decoded, without the query */
	const char *body;	/* not NUL-terminated; NULL when empty */
	size_t body_len;
};

struct api_reply {
	unsigned int status;	/* HTTP status */
	char *body;		/* malloc'd JSON text, NULL for none (204) */
	char allow[32];		/* the Allow header of a 405, else "" */
};

/* Handle one request.  Never fails: errors are replies with a fault_message. */
void api_handle(struct api_ctx *ctx, const struct api_request *req, struct api_reply *rep);
void api_reply_free(struct api_reply *rep);

#endif
