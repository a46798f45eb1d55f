/* SPDX-License-Identifier: MIT */
/*
 * migrate.h - live migration of a running VM to another kite (pre-copy).
 *
 * Source (source.c): PUT /migrate (kite ctl migrate) connects to the
 * destination on the API thread, so that a wrong address fails at once,
 * then hands the connection to a migration thread:
 *   1. the machine first (vm.config, CPUID: a STATE record of phase
 *      MIG_PHASE_MACHINE), so that the destination builds the VM while the
 *      pages stream and not during the downtime;
 *   2. dirty logging on (vm_dirty.c: KVM's log with manual protection and
 *      INITIALLY_SET, united with device writes);
 *   3. round 1 sends every page that may hold data, clearing each chunk's
 *      dirty bits just before reading it;
 *   4. each next round sends what was dirtied during the last one, until
 *      the remainder fits the downtime target at the best bandwidth seen,
 *      and on while a round still shrinks it by a quarter, until it would
 *      take under 0.5 ms: a shorter pause for little more time; when it
 *      neither fits nor shrinks, the vCPUs are throttled (auto-converge:
 *      they sleep a growing share of each 10 ms);
 *   5. stop-and-copy: pause, send the last dirty pages and the state
 *      sections of a snapshot (phase MIG_PHASE_FINAL), END;
 *   6. commit: the destination answers READY once it put the state into
 *      the VM it built; the source answers GO; the destination resumes and
 *      confirms RUNNING; the source then stops (exit status 0, "migrated").
 *      The waits on this path poll instead of sleeping (READY on the
 *      source, the resume in the destination's parked vCPUs): waking a
 *      sleeping thread on an idle virtual CPU costs more than the rest.
 * Any failure before GO (connection lost, destination refused the stream
 * or the machine, or died, timeout, cancel) resumes the source exactly as
 * it was (throttle off, dirty logging off) and is reported by GET
 * /migrate.  A destination that got GO but whose RUNNING never arrives
 * leaves the source paused: it may be running the guest, so only an
 * operator may resume the source.  Between batches the source looks for an
 * early answer: a destination that cannot build the machine (a missing
 * disk, another CPU) refuses at once, with the reason, and the source
 * stops sending.
 *
 * Destination (incoming.c): `kite run --incoming URI` listens, accepts one
 * source, receives guest RAM into a fresh memfd, builds the machine from
 * the first STATE record meanwhile (paused, vCPU threads parked), validates
 * the whole stream (CRCs, END), puts the last STATE record into the VM
 * exactly as a snapshot restore does (the machine must be the one first
 * described), and only then says READY; it runs the guest after GO.
 * Anything wrong ends it with a clear message and no VM ever run.
 *
 * Threads: vm_migrate_start/status/cancel are called from the API thread;
 * the migration thread owns the connection and the stream; the status is
 * copied under the migration's lock.  The throttle thread only kicks vCPUs.
 */
#ifndef KITE_MIGRATION_MIGRATE_H
#define KITE_MIGRATION_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct vm;
struct vm_config;
struct api_server;

/*
 * Between source.c and incoming.c: every STATE record carries a snapshot
 * image (snapshot/format.h) with a section "migration", version
 * MIG_SECTION_V: u8 phase, u8 running.  The first STATE record, sent before
 * any page, is MIG_PHASE_MACHINE: vm.config and cpuid.N only, so that the
 * destination builds the VM while the pages stream; the last, after the
 * last pages, is MIG_PHASE_FINAL: every state section of the paused VM
 * (vm_snapshot_add_state()), whose machine must be the first one's, and
 * whether the guest was running.
 */
#define MIG_SECTION_V		2
#define MIG_PHASE_MACHINE	0
#define MIG_PHASE_FINAL		1

#define MIG_DOWNTIME_DEFAULT_MS	50
#define MIG_TIMEOUT_DEFAULT_S	300
#define MIG_ERROR_MAX		512

struct mig_params {
	char destination[320];		/* "tcp:HOST:PORT" or "unix:PATH" */
	unsigned int downtime_ms;	/* 1..60000 */
	unsigned int timeout_s;		/* 1..86400 */
	bool zstd;			/* compress pages */
	bool auto_converge;		/* throttle vCPUs that dirty too fast */
};

enum mig_state {
	MIG_NONE,		/* never started */
	MIG_ACTIVE,		/* rounds running */
	MIG_STOPPING,		/* paused: the last pages, state, commit */
	MIG_COMPLETED,		/* the destination runs the guest; this kite stops */
	MIG_FAILED,		/* gave up; the source runs on (or stays paused, see error) */
	MIG_CANCELLED,		/* DELETE /migrate; the source runs on */
};

struct mig_status {
	enum mig_state state;
	char destination[320];
	unsigned int downtime_target_ms;
	uint32_t round;
	uint64_t ram_bytes;
	uint64_t bytes_sent;		/* on the wire */
	uint64_t pages_sent;		/* entries: raw, zstd and zero */
	uint64_t pages_skipped;		/* zero pages never sent */
	uint64_t dirty_pages;		/* dirty at the last sync */
	uint64_t dirty_rate_bps;	/* bytes dirtied per second, last round */
	uint64_t bandwidth_bps;		/* bytes sent per second, so far */
	uint64_t expected_downtime_ms;
	unsigned int throttle_pct;	/* auto-converge: share of time vCPUs sleep */
	uint64_t elapsed_ms;		/* since the start (total time once done) */
	uint64_t downtime_ms;		/* pause to RUNNING, once completed */
	bool source_paused;		/* failed after GO: the source stays paused */
	char error[MIG_ERROR_MAX];
};

const char *mig_state_name(enum mig_state s);

/* The API thread: start a migration of @vm (-EBUSY if one is active,
 * -EINVAL for bad parameters, the connect error if the destination cannot
 * be reached). */
int vm_migrate_start(struct vm *vm, const struct mig_params *p) KITE_WUR;
void vm_migrate_status(struct vm *vm, struct mig_status *out);
/* Stop an active migration; the source runs on.  -ENOENT if none is active. */
int vm_migrate_cancel(struct vm *vm) KITE_WUR;
/* Is a migration active (it owns pause/resume until it ends)? */
bool vm_migrate_active(struct vm *vm);
/*
 * After a completed migration stopped the VM: wait (at most @max_ms) until
 * the API has shown the final state once, so that a client following the
 * migration (kite ctl migrate) learns the outcome before the socket goes.
 */
void vm_migrate_linger(struct vm *vm, unsigned int max_ms);
/* Teardown: cancel and join the migration thread, free everything. */
void vm_migrate_destroy(struct vm *vm);

/*
 * The destination (main thread): accept one source on @uri, receive and
 * validate everything, build @vm from it (on top of @host_cfg's host-side
 * options).  Returns 0 with the VM built and the source told GO was
 * received (*@resume: whether the guest runs or stays paused as on the
 * source); the caller then runs it.  -EINTR when a signal ended the wait
 * (*@signo set); otherwise -errno with a message, and nothing built.
 */
struct vm_snapshot;
int vm_migrate_incoming(const char *uri, const struct vm_config *host_cfg, struct vm *vm,
			struct vm_snapshot *snap, int *signo) KITE_WUR;

#endif
