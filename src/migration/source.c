// SPDX-License-Identifier: MIT
/*
 * source.c - the sending side of a live migration (migrate.h).
 */
#include "migration/migrate.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "core/log.h"
#include "core/vm.h"
#include "migration/stream.h"
#include "migration/transport.h"
#include "migration/wire.h"
#include "snapshot/format.h"
#include "snapshot/memfile.h"
#include "snapshot/vm_snapshot.h"

#define CONNECT_TIMEOUT_MS	10000
#define SEND_TIMEOUT_MS		30000	/* a destination that stops reading */
#define READY_TIMEOUT_MS	30000	/* validating and building the VM */
#define RUNNING_TIMEOUT_MS	10000
/* READY is polled for rather than slept on this long (transport.h). */
#define READY_SPIN_US		20000
#define CHUNK_PAGES		512	/* first pass: dirty bits cleared per chunk */
#define THROTTLE_PERIOD_MS	10
#define THROTTLE_FIRST		20
#define THROTTLE_STEP		10
#define THROTTLE_MAX		95
/* Pausing, the state sections and the commit (the destination builds the
 * VM while the pages stream: not in the downtime). */
#define FIXED_DOWNTIME_US	2000
/* Once the rest would go in less than this, more rounds gain nothing. */
#define SMALL_REST_US		500
#define MIN_ROUND_US		1000

struct vm_migration {
	struct vm *vm;
	struct mig_params p;
	pthread_t thread, throttler;
	bool thread_started, throttler_started;
	int fd;
	pthread_mutex_t lock;		/* guards st and the flags below */
	struct mig_status st;
	bool cancel;			/* also atomically read by the thread */
	bool reported;			/* the API showed the final state */
	bool stop_throttler;
	uint64_t t_start, deadline;
	/* the thread's own */
	struct mig_writer w;
	uint64_t *pending;		/* dirty bitmap by flat page index */
	uint64_t nr_pages, low_pages;
	bool logging_started;
	bool paused_here;		/* the thread paused the VM */
};

const char *mig_state_name(enum mig_state s)
{
	switch (s) {
	case MIG_NONE: return "None";
	case MIG_ACTIVE: return "Active";
	case MIG_STOPPING: return "Stopping";
	case MIG_COMPLETED: return "Completed";
	case MIG_FAILED: return "Failed";
	default: return "Cancelled";
	}
}

static uint64_t now_ms(void)
{
	return (uint64_t)mig_now_ms();
}

static bool cancelled(struct vm_migration *m)
{
	return __atomic_load_n(&m->cancel, __ATOMIC_ACQUIRE);
}

/*
 * The destination speaks before END only to refuse (it could not build the
 * machine: a missing disk, another CPU) or by closing the connection: either
 * way, stop sending now rather than after the whole guest.
 */
static int check_peer(struct vm_migration *m)
{
	struct pollfd p = { .fd = m->fd, .events = POLLIN };
	char msg[MIG_MSG_MAX + 1];
	int status, ret;

	if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	ret = mig_recv_ack(m->fd, 1000, &status, msg, sizeof(msg));
	if (ret)
		return ret;
	return err_set(status ? status : -EPROTO, "the destination refused the VM: %s",
		       status ? msg : "it acknowledged before the end of the stream");
}

/* Between batches of pages: cancelled, refused, or past timeout_s (unless @no_timeout)? */
static int check_going(struct vm_migration *m, bool no_timeout)
{
	if (cancelled(m))
		return err_set(-ECANCELED, "cancelled");
	if (!no_timeout && now_ms() >= m->deadline)
		return err_set(-ETIMEDOUT, "did not converge in %u s (timeout_s)", m->p.timeout_s);
	return check_peer(m);
}

/* Publish the writer's counters and @fn's changes under the lock. */
static void publish(struct vm_migration *m)
{
	pthread_mutex_lock(&m->lock);
	m->st.bytes_sent = m->w.bytes_sent;
	m->st.pages_sent = m->w.pages_raw + m->w.pages_zstd + m->w.pages_zero;
	m->st.pages_skipped = m->w.pages_skipped;
	m->st.elapsed_ms = now_ms() - m->t_start;
	pthread_mutex_unlock(&m->lock);
}

/*
 * The link's bandwidth: the best rate of any round so far (bytes over the
 * round's time).  The first pass also scans memory that is never sent, so a
 * run-wide average would underestimate it and never let the rounds stop.
 */
static void round_rate(struct vm_migration *m, uint64_t bytes0, uint64_t t0)
{
	uint64_t dt = now_ms() - t0, rate;

	if (!dt)
		dt = 1;
	/* A small round's rate is mostly noise (a burst into socket buffers). */
	if (bytes0 && m->w.bytes_sent - bytes0 < (4u << 20))
		return;
	rate = (m->w.bytes_sent - bytes0) * 1000 / dt;
	pthread_mutex_lock(&m->lock);
	if (rate > m->st.bandwidth_bps)
		m->st.bandwidth_bps = rate;
	pthread_mutex_unlock(&m->lock);
}

/* ---- pages ---- */

static uint64_t flat_to_pfn(const struct vm_migration *m, uint64_t i)
{
	return i < m->low_pages ? i : (X86_MMIO_HOLE_END >> 12) + (i - m->low_pages);
}

static const uint8_t *page_host(const struct vm_migration *m, uint64_t i)
{
	return m->vm->ram + (i << 12);	/* the flat image: low RAM, then high */
}

/*
 * First pass: every page that may hold data (resident in the mapping or in a
 * data extent of the backing: reading a hole would allocate it), zero pages
 * skipped; each chunk's dirty bits are cleared just before it is scanned.
 */
static int send_all(struct vm_migration *m)
{
	unsigned char vec[CHUNK_PAGES];
	uint64_t i, j, ds = 0, de = 0;
	int ret = 0;

	for (i = 0; !ret && i < m->nr_pages; i += CHUNK_PAGES) {
		uint64_t n = m->nr_pages - i < CHUNK_PAGES ? m->nr_pages - i : CHUNK_PAGES;

		/* Chunks never straddle the hole: low RAM ends on a 2 MiB boundary. */
		if (i < m->low_pages && i + n > m->low_pages)
			n = m->low_pages - i;
		ret = check_going(m, false);
		if (!ret)
			ret = vm_dirty_clear(m->vm, flat_to_pfn(m, i), n);
		if (mincore((void *)page_host(m, i), n << 12, vec))
			memset(vec, 1, sizeof(vec));	/* cannot tell: read them all */
		for (j = 0; !ret && j < n; j++) {
			if (!(vec[j] & 1) &&
			    !vm_memfile_in_data(m->vm->ram_fd, (i + j) << 12, &ds, &de)) {
				m->w.pages_skipped++;	/* never written: zero there too */
				continue;
			}
			ret = mig_put_page(&m->w, flat_to_pfn(m, i + j), page_host(m, i + j), true);
		}
		if (!ret && (i / CHUNK_PAGES) % 64 == 63)
			publish(m);
	}
	if (!ret)
		ret = mig_put_round(&m->w, 1, m->nr_pages);
	return ret;
}

static int mark_pending(void *opaque, uint64_t pfn, uint64_t npages)
{
	struct vm_migration *m = opaque;
	uint64_t i, flat;

	for (i = 0; i < npages; i++, pfn++) {
		if (pfn < m->low_pages)
			flat = pfn;
		else if (pfn >= (X86_MMIO_HOLE_END >> 12) &&
			 pfn - (X86_MMIO_HOLE_END >> 12) < m->nr_pages - m->low_pages)
			flat = m->low_pages + pfn - (X86_MMIO_HOLE_END >> 12);
		else
			continue;	/* not RAM (never logged) */
		m->pending[flat / 64] |= 1ULL << (flat % 64);
	}
	return 0;
}

/* Take the dirty set into m->pending; returns how many pages it has. */
static int collect_dirty(struct vm_migration *m, uint64_t *count)
{
	uint64_t w, n = 0;
	int ret = vm_dirty_sync(m->vm, mark_pending, m);

	for (w = 0; w < (m->nr_pages + 63) / 64; w++)
		n += (uint64_t)__builtin_popcountll(m->pending[w]);
	*count = n;
	return ret;
}

static int send_pending(struct vm_migration *m, uint32_t round, uint64_t count, bool no_timeout)
{
	uint64_t w;
	int ret = 0;

	for (w = 0; !ret && w < (m->nr_pages + 63) / 64; w++) {
		uint64_t bits = m->pending[w];

		m->pending[w] = 0;
		while (bits && !ret) {
			uint64_t i = w * 64 + (uint64_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			ret = mig_put_page(&m->w, flat_to_pfn(m, i), page_host(m, i), false);
		}
		if (!ret && w % 256 == 255) {
			ret = check_going(m, no_timeout);
			publish(m);
		}
	}
	if (!ret)
		ret = mig_put_round(&m->w, round, count);
	return ret;
}

/* ---- auto-converge ---- */

static void *throttler_thread(void *arg)
{
	struct vm_migration *m = arg;
	struct timespec period = { 0, THROTTLE_PERIOD_MS * 1000000L };
	unsigned int i;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		if (m->stop_throttler) {
			pthread_mutex_unlock(&m->lock);
			return NULL;
		}
		pthread_mutex_unlock(&m->lock);
		/* A kick makes each vCPU leave KVM_RUN and sleep its share (vcpu.c). */
		for (i = 0; i < m->vm->nr_vcpus; i++)
			vcpu_kick(&m->vm->vcpus[i]);
		nanosleep(&period, NULL);
	}
}

static void throttle_set(struct vm_migration *m, unsigned int pct)
{
	__atomic_store_n(&m->vm->throttle_pct, pct, __ATOMIC_RELEASE);
	pthread_mutex_lock(&m->lock);
	m->st.throttle_pct = pct;
	pthread_mutex_unlock(&m->lock);
	if (pct && !m->throttler_started &&
	    !pthread_create(&m->throttler, NULL, throttler_thread, m)) {
		m->throttler_started = true;
		pthread_setname_np(m->throttler, "kite-throttle");
	}
	log_info("migration: vCPUs throttled to %u%% sleep (auto-converge)", pct);
}

static void throttle_off(struct vm_migration *m)
{
	__atomic_store_n(&m->vm->throttle_pct, 0, __ATOMIC_RELEASE);
	if (m->throttler_started) {
		pthread_mutex_lock(&m->lock);
		m->stop_throttler = true;
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->throttler, NULL);
		m->throttler_started = false;
	}
}

/* ---- the rounds ---- */

/*
 * Pre-copy until the dirty remainder fits the downtime target, and then on
 * while each round still shrinks it by a quarter (a shorter pause for the
 * price of a round that takes less time than the last), until it would go
 * in SMALL_REST_US.  Auto-converge throttles only a guest that dirties
 * faster than the link drains: the remainder neither fits nor shrinks.
 */
static int precopy(struct vm_migration *m)
{
	uint64_t deadline = m->deadline, prev = UINT64_MAX, target_us;
	uint32_t round = 1;
	int ret;

	uint64_t t_first = now_ms();

	/* The fixed part counts unless the target is too small to hold it. */
	target_us = (uint64_t)m->p.downtime_ms * 1000;
	if (target_us > 2 * FIXED_DOWNTIME_US)
		target_us -= FIXED_DOWNTIME_US;
	ret = send_all(m);
	if (!ret)
		ret = mig_flush(&m->w);
	publish(m);
	round_rate(m, 0, t_first);
	while (!ret) {
		uint64_t t0 = mig_now_us(), bytes0 = m->w.bytes_sent, count, bw, expect_us, dirtied_us;
		bool fits, shrinking;

		ret = collect_dirty(m, &count);
		if (ret)
			break;
		pthread_mutex_lock(&m->lock);
		bw = m->st.bandwidth_bps ? m->st.bandwidth_bps : 1;
		expect_us = count * 4096 * 1000000 / bw;
		m->st.dirty_pages = count;
		m->st.expected_downtime_ms = (expect_us + FIXED_DOWNTIME_US + 999) / 1000;
		pthread_mutex_unlock(&m->lock);
		fits = expect_us <= target_us;
		shrinking = prev == UINT64_MAX || count * 4 <= prev * 3;
		log_debug("migration: after round %u: %" PRIu64 " pages dirty, %" PRIu64 " us to "
			  "send at %" PRIu64 " MB/s", round, count, expect_us, bw / 1000000);
		if (fits && (expect_us <= SMALL_REST_US || !shrinking || now_ms() >= deadline))
			return 0;
		if (now_ms() >= deadline)
			return err_set(-ETIMEDOUT, "did not converge in %u s (%" PRIu64 " pages "
				       "dirty, %" PRIu64 " ms expected downtime, target %u ms)%s",
				       m->p.timeout_s, count, (expect_us + 999) / 1000,
				       m->p.downtime_ms,
				       m->p.auto_converge ? "" : "; auto_converge is off");
		if (m->p.auto_converge && round >= 2 && !fits && !shrinking) {
			unsigned int pct = m->vm->throttle_pct ? m->vm->throttle_pct + THROTTLE_STEP
							      : THROTTLE_FIRST;

			throttle_set(m, pct > THROTTLE_MAX ? THROTTLE_MAX : pct);
		}
		prev = count;
		round++;
		/* Small rounds back to back only spin on the dirty log. */
		dirtied_us = mig_now_us() - t0;
		if (dirtied_us < MIN_ROUND_US) {
			struct timespec ts = { 0, (long)(MIN_ROUND_US - dirtied_us) * 1000L };

			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&m->lock);
		m->st.round = round;
		pthread_mutex_unlock(&m->lock);
		/* A round that only shortens a pause that already fits never times out. */
		ret = send_pending(m, round, count, fits);
		if (!ret)
			ret = mig_flush(&m->w);
		publish(m);
		round_rate(m, bytes0, t0 / 1000);
		pthread_mutex_lock(&m->lock);
		dirtied_us = mig_now_us() - t0;
		m->st.dirty_rate_bps = count * 4096 * 1000000 / (dirtied_us ? dirtied_us : 1);
		pthread_mutex_unlock(&m->lock);
	}
	return ret;
}

/*
 * A STATE record: @phase MIG_PHASE_MACHINE, the machine alone (sent first,
 * the VM running: the destination builds it while the pages stream), or
 * MIG_PHASE_FINAL, every state section of the paused VM, plus whether the
 * guest was running.
 */
static int send_state(struct vm_migration *m, uint8_t phase, bool running, size_t *out_len)
{
	struct snap_image img;
	uint8_t *buf = NULL, sec[2] = { phase, running };
	size_t len = 0;
	int ret = snap_image_init(&img, m->vm->cfg.version ? m->vm->cfg.version : "unknown");

	if (ret)
		return ret;
	if (phase == MIG_PHASE_MACHINE)
		ret = vm_snapshot_add_machine(m->vm, &img);
	else
		ret = vm_snapshot_add_state(m->vm, &img);
	if (!ret)
		ret = snap_image_add(&img, "migration", MIG_SECTION_V, sec, sizeof(sec));
	if (!ret)
		ret = snap_image_serialize(&img, &buf, &len);
	snap_image_free(&img);
	if (!ret)
		ret = mig_put_state(&m->w, buf, len);
	free(buf);
	if (out_len)
		*out_len = len;
	return ret;
}

/*
 * Pause, send the rest, commit.  *committed once GO went out; *@t_pause and
 * *@t_running (microseconds) bound the downtime as this side sees it.
 */
static int stop_and_copy(struct vm_migration *m, bool *committed, uint64_t *t_pause,
			 uint64_t *t_running)
{
	char msg[MIG_MSG_MAX + 1];
	bool running = vm_get_state(m->vm) == VM_STATE_RUNNING;
	uint64_t count, t[5];
	size_t state_len = 0;
	int status, ret;

	pthread_mutex_lock(&m->lock);
	m->st.state = MIG_STOPPING;
	pthread_mutex_unlock(&m->lock);
	*t_pause = mig_now_us();
	/* Throttled vCPUs must not sleep on while they are asked to park. */
	__atomic_store_n(&m->vm->throttle_pct, 0, __ATOMIC_RELEASE);
	if (running) {
		ret = vm_pause(m->vm);
		if (ret)
			return ret;
		m->paused_here = true;
	}
	t[0] = mig_now_us();
	/* The throttler ends at its next tick; finish() joins it, outside the downtime. */
	pthread_mutex_lock(&m->lock);
	m->stop_throttler = true;
	pthread_mutex_unlock(&m->lock);
	ret = collect_dirty(m, &count);
	t[1] = mig_now_us();
	if (!ret)
		ret = send_pending(m, m->st.round + 1, count, true);
	t[2] = mig_now_us();
	if (!ret)
		ret = send_state(m, MIG_PHASE_FINAL, running, &state_len);
	if (!ret)
		ret = mig_put_end(&m->w);
	t[3] = mig_now_us();
	publish(m);
	if (ret)
		return ret;
	mig_spin_readable(m->fd, READY_SPIN_US);
	ret = mig_recv_ack(m->fd, READY_TIMEOUT_MS, &status, msg, sizeof(msg));
	t[4] = mig_now_us();
	if (ret)
		return err_prefix(ret, "waiting for the destination to accept the VM");
	if (status)
		return err_set(status, "the destination refused the VM: %s", msg);
	ret = mig_send_ack(m->fd, 0, "go");
	if (ret)
		return err_prefix(ret, "telling the destination to run the VM");
	*committed = true;
	ret = mig_recv_ack(m->fd, RUNNING_TIMEOUT_MS, &status, msg, sizeof(msg));
	if (!ret && status)
		ret = err_set(status, "%s", msg);
	*t_running = mig_now_us();
	log_info("migration: stop-and-copy (us): pause %" PRIu64 ", dirty sync %" PRIu64
		 ", %" PRIu64 " last pages %" PRIu64 ", state (%zu bytes) %" PRIu64
		 ", destination ready %" PRIu64 ", running %" PRIu64, t[0] - *t_pause,
		 t[1] - t[0], count, t[2] - t[1], state_len, t[3] - t[2], t[4] - t[3],
		 *t_running - t[4]);
	return ret;
}

static void finish(struct vm_migration *m, int ret, bool committed, uint64_t downtime_us)
{
	/* A cancel shuts the connection down: whatever failed then, it was the cancel. */
	enum mig_state st = cancelled(m) ? MIG_CANCELLED : MIG_FAILED;
	char why[MIG_ERROR_MAX / 2];

	snprintf(why, sizeof(why), "%s", ret ? err_msg() : "");
	throttle_off(m);
	if (ret && !committed) {
		(void)mig_put_abort(&m->w, ret, why);
		if (m->paused_here && vm_resume(m->vm))
			log_warn("migration: resuming after the failure: %s", err_msg());
	}
	if (m->logging_started)
		vm_dirty_log_stop(m->vm);
	pthread_mutex_lock(&m->lock);
	m->st.elapsed_ms = now_ms() - m->t_start;
	if (!ret) {
		m->st.state = MIG_COMPLETED;
		m->st.downtime_ms = (downtime_us + 999) / 1000;
	} else if (committed) {
		m->st.state = MIG_FAILED;
		m->st.source_paused = true;
		snprintf(m->st.error, sizeof(m->st.error), "the destination got GO but did not "
			 "confirm it runs the VM (%s): this VM stays paused; resume it (PATCH /vm) "
			 "only if the destination is not running it", why);
	} else {
		m->st.state = st;
		snprintf(m->st.error, sizeof(m->st.error), "%s", st == MIG_CANCELLED ? "cancelled" : why);
	}
	pthread_mutex_unlock(&m->lock);
	if (!ret) {
		log_info("migration to %s completed: %" PRIu64 " ms, downtime %" PRIu64 " ms "
			 "(%" PRIu64 " us)", m->p.destination, m->st.elapsed_ms,
			 m->st.downtime_ms, downtime_us);
		runstate_request_stop(&m->vm->rs, VM_STOP_MIGRATED, KITE_EXIT_OK,
				      "migrated to %s", m->p.destination);
		vm_pause_wake_all(m->vm);
	} else {
		log_warn("migration to %s: %s", m->p.destination, m->st.error);
	}
}

static void *migration_thread(void *arg)
{
	struct vm_migration *m = arg;
	uint64_t t_pause = 0, t_running = 0;
	bool committed = false;
	int ret;

	ret = mig_writer_init(&m->w, m->fd, m->vm->cfg.mem_size, m->p.zstd);
	/* The machine first, on its own: the destination builds it meanwhile. */
	if (!ret)
		ret = send_state(m, MIG_PHASE_MACHINE, false, NULL);
	if (!ret)
		ret = mig_flush(&m->w);
	if (!ret) {
		/* A diff snapshot's base is gone once migration reads the log. */
		if (!vm_memfile_drop_diff_base(m->vm)) {
			ret = vm_dirty_log_start(m->vm, true);
			m->logging_started = !ret;
		}
	}
	if (!ret)
		ret = precopy(m);
	if (!ret)
		ret = stop_and_copy(m, &committed, &t_pause, &t_running);
	finish(m, ret, committed, t_running - t_pause);
	mig_writer_destroy(&m->w);
	shutdown(m->fd, SHUT_RDWR);
	return NULL;
}

/* ---- the API thread's side ---- */

static int check_params(const struct mig_params *p)
{
	if (p->downtime_ms < 1 || p->downtime_ms > 60000)
		return err_set(-EINVAL, "downtime_ms must be 1..60000");
	if (p->timeout_s < 1 || p->timeout_s > 86400)
		return err_set(-EINVAL, "timeout_s must be 1..86400");
	return 0;
}

/* Join and free a finished migration (its status is kept in @keep). */
static void migration_reap(struct vm *vm, struct mig_status *keep)
{
	struct vm_migration *m = vm->migration;

	if (!m)
		return;
	if (m->thread_started)
		pthread_join(m->thread, NULL);
	if (keep)
		*keep = m->st;
	if (m->fd >= 0)
		close(m->fd);
	free(m->pending);
	pthread_mutex_destroy(&m->lock);
	free(m);
	vm->migration = NULL;
}

bool vm_migrate_active(struct vm *vm)
{
	struct vm_migration *m = vm->migration;
	bool active;

	if (!m)
		return false;
	pthread_mutex_lock(&m->lock);
	active = m->st.state == MIG_ACTIVE || m->st.state == MIG_STOPPING;
	pthread_mutex_unlock(&m->lock);
	return active;
}

int vm_migrate_start(struct vm *vm, const struct mig_params *p)
{
	struct vm_migration *m;
	struct mig_uri u;
	int ret;

	if (vm_migrate_active(vm))
		return err_set(-EBUSY, "a migration is in progress (GET /migrate; DELETE "
			       "/migrate cancels it)");
	if (vm_get_state(vm) == VM_STATE_SHUTTING_DOWN)
		return err_set(-ESHUTDOWN, "the VM is shutting down");
	if (vm->migration && vm->migration->st.source_paused)
		return err_set(-EBUSY, "the last migration may have left the VM running on its "
			       "destination: resume this one first if it is not");
	ret = check_params(p);
	if (!ret)
		ret = mig_uri_parse(p->destination, &u);
	if (ret)
		return ret;
	migration_reap(vm, NULL);
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(-ENOMEM, "out of memory");
	m->vm = vm;
	m->p = *p;
	m->fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	m->low_pages = vm->ram_layout.low_end >> 12;
	m->nr_pages = vm->cfg.mem_size >> 12;
	m->pending = calloc((m->nr_pages + 63) / 64, sizeof(uint64_t));
	if (!m->pending)
		ret = err_set(-ENOMEM, "out of memory for the dirty bitmap");
	if (!ret)
		ret = mig_connect(&u, CONNECT_TIMEOUT_MS, &m->fd);
	if (!ret)
		ret = mig_set_send_timeout(m->fd, SEND_TIMEOUT_MS);
	if (ret) {
		vm->migration = m;
		migration_reap(vm, NULL);
		return err_prefix(ret, "migration to %s", p->destination);
	}
	m->st.state = MIG_ACTIVE;
	m->st.round = 1;
	m->st.ram_bytes = vm->cfg.mem_size;
	m->st.downtime_target_ms = p->downtime_ms;
	snprintf(m->st.destination, sizeof(m->st.destination), "%s", p->destination);
	m->t_start = now_ms();
	m->deadline = m->t_start + (uint64_t)p->timeout_s * 1000;
	vm->migration = m;
	ret = pthread_create(&m->thread, NULL, migration_thread, m);
	if (ret) {
		m->st.state = MIG_FAILED;
		return err_set(-ret, "cannot start the migration thread: %s", strerror(ret));
	}
	m->thread_started = true;
	pthread_setname_np(m->thread, "kite-migrate");
	log_info("migration to %s started", p->destination);
	return 0;
}

void vm_migrate_status(struct vm *vm, struct mig_status *out)
{
	struct vm_migration *m = vm->migration;

	memset(out, 0, sizeof(*out));
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	*out = m->st;
	if (out->state == MIG_ACTIVE || out->state == MIG_STOPPING)
		out->elapsed_ms = now_ms() - m->t_start;
	else
		m->reported = true;
	pthread_mutex_unlock(&m->lock);
}

int vm_migrate_cancel(struct vm *vm)
{
	struct vm_migration *m = vm->migration;

	if (!vm_migrate_active(vm))
		return err_set(-ENOENT, "no migration is in progress");
	pthread_mutex_lock(&m->lock);
	if (m->st.state == MIG_STOPPING) {
		pthread_mutex_unlock(&m->lock);
		return err_set(-EBUSY, "the migration is in its final phase and cannot be "
			       "cancelled now");
	}
	__atomic_store_n(&m->cancel, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->lock);
	/* Unblock a send stuck on a slow destination. */
	shutdown(m->fd, SHUT_RDWR);
	return 0;
}

void vm_migrate_linger(struct vm *vm, unsigned int max_ms)
{
	struct timespec tick = { 0, 10 * 1000000L };
	struct vm_migration *m = vm->migration;
	unsigned int waited;
	bool seen = false;

	if (!m || m->st.state != MIG_COMPLETED)
		return;
	for (waited = 0; waited < max_ms && !seen; waited += 10) {
		pthread_mutex_lock(&m->lock);
		seen = m->reported;
		pthread_mutex_unlock(&m->lock);
		if (!seen)
			nanosleep(&tick, NULL);
	}
}

void vm_migrate_destroy(struct vm *vm)
{
	struct vm_migration *m = vm->migration;

	if (!m)
		return;
	if (vm_migrate_active(vm)) {
		__atomic_store_n(&m->cancel, true, __ATOMIC_RELEASE);
		shutdown(m->fd, SHUT_RDWR);
	}
	migration_reap(vm, NULL);
}
