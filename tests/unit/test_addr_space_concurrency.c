// SPDX-License-Identifier: MIT
/*
 * Concurrency test of the address space: reader threads translate and copy
 * continuously (through the accessors, a translation cache, a long-lived
 * mapping and iovecs) while the main thread adds and removes regions,
 * toggles read-only and dirty logging, and syncs the log, for a bounded time.
 *
 * Every region incarnation is a fresh memfd backing filled with words
 * (slot << 32 | incarnation); a reader checks that everything it reads in
 * one critical section names the slot it asked for and one incarnation, and
 * reads it twice around a yield.  A stale or freed mapping shows up as a
 * wrong pattern, a SIGSEGV (backings are munmapped), or an ASan/TSan report.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "core/addr_space.h"
#include "harness.h"

#define NSLOTS		16
#define SLOT_GPA(i)	((uint64_t)(i) << 20)
#define PG		4096u
#define REGION		(16 * PG)
#define DATA		(15 * PG)	/* pattern; the last page is the readers' scratch */
#define NREADERS	4
#define RUN_NS		1500000000LL

static struct addr_space as;
static int stop;

struct reader {
	pthread_t thread;
	unsigned int id;
	bool auto_register;		/* rely on registration at first access */
	uint64_t ok_reads, faults, bad;
	char why[128];
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* All @n words name @slot and the same incarnation. */
static bool pattern_ok(const uint64_t *w, unsigned int n, unsigned int slot)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (w[i] >> 32 != slot || (uint32_t)w[i] != (uint32_t)w[0] || !(uint32_t)w[i])
			return false;
	return true;
}

static void reader_bad(struct reader *r, const char *what, unsigned int slot)
{
	if (!r->bad++)
		snprintf(r->why, sizeof(r->why), "%s in slot %u", what, slot);
}

/* Copy through the accessor (its own critical section). */
static void read_copy(struct reader *r, unsigned int slot, uint64_t off, unsigned int n)
{
	uint64_t w[32];

	if (as_copy_from(&as, w, SLOT_GPA(slot) + off, n * 8)) {
		r->faults++;
		return;
	}
	if (!pattern_ok(w, n, slot))
		reader_bad(r, "copy_from read a wrong pattern", slot);
	r->ok_reads++;
}

/* Translate through the cache and read twice, holding the pointer across a yield. */
static void read_cached(struct reader *r, struct as_cache *c, unsigned int slot,
			uint64_t off, unsigned int n)
{
	const uint64_t *p;
	uint64_t first;

	as_read_lock();
	p = as_cache_translate(c, SLOT_GPA(slot) + off, n * 8, false);
	if (!p) {
		as_read_unlock();
		r->faults++;
		return;
	}
	first = p[0];
	if (!pattern_ok(p, n, slot))
		reader_bad(r, "cached translation read a wrong pattern", slot);
	sched_yield();		/* a writer may publish now: this memory must stay */
	if (p[n - 1] != first)
		reader_bad(r, "memory changed under a held translation", slot);
	as_read_unlock();
	r->ok_reads++;
}

static void read_iov(struct reader *r, unsigned int slot, uint64_t off, unsigned int n)
{
	struct iovec iov[2];
	int cnt;

	as_read_lock();
	cnt = as_translate_iov(&as, SLOT_GPA(slot) + off, n * 8, false, iov, 2);
	if (cnt == 1 && !pattern_ok(iov[0].iov_base, n, slot))
		reader_bad(r, "iovec read a wrong pattern", slot);
	if (cnt != 1 && cnt != -EFAULT)
		reader_bad(r, "iovec translation returned an unexpected count", slot);
	as_read_unlock();
	if (cnt == 1)
		r->ok_reads++;
	else
		r->faults++;
}

static void read_mapping(struct reader *r, struct as_mapping *m)
{
	const uint64_t *p;

	as_read_lock();
	p = as_mapping_get(m);
	if (p && !pattern_ok(p, 16, 0))
		reader_bad(r, "mapping read a wrong pattern", 0);
	as_read_unlock();
	if (p)
		r->ok_reads++;
	else
		r->faults++;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (r->id + 1);
	struct as_cache c;
	struct as_mapping m;
	bool have_map;

	if (!r->auto_register)
		as_reader_register();
	as_cache_init(&c, &as);
	have_map = as_mapping_init(&m, &as, SLOT_GPA(0) + 64, 128, false) == 0;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint64_t x = rnd(&seed);
		unsigned int slot = (unsigned int)(x % NSLOTS);
		unsigned int n = 1 + (unsigned int)((x >> 8) % 32);
		uint64_t off = ((x >> 16) % (DATA / 8 - 32)) * 8;

		switch ((x >> 40) % 5) {
		case 0: read_copy(r, slot, off, n); break;
		case 1: read_cached(r, &c, slot, off, n); break;
		case 2: read_iov(r, slot, off, n); break;
		case 3:
			if (have_map)
				read_mapping(r, &m);
			else
				have_map = as_mapping_init(&m, &as, SLOT_GPA(0) + 64, 128, false) == 0;
			break;
		default:	/* each reader writes only its own scratch bytes */
			if (as_write_u64(&as, SLOT_GPA(slot) + DATA + r->id * 64, x))
				r->faults++;
			break;
		}
	}
	if (!r->auto_register)
		as_reader_unregister();
	return NULL;
}

/* ---- the writer (main thread) ---- */

static uint32_t incarnation;

static int add_slot(unsigned int slot)
{
	static const struct guest_ram_backing memfd = { .kind = GUEST_RAM_MEMFD };
	struct guest_ram_block *g;
	uint64_t *w, i;
	int ret = guest_ram_create(&memfd, REGION, "conc", &g);

	if (ret)
		return ret;
	w = (uint64_t *)g->host;
	++incarnation;
	for (i = 0; i < DATA / 8; i++)
		w[i] = (uint64_t)slot << 32 | incarnation;
	ret = as_add(&as, &(struct as_region_spec){ .gpa = SLOT_GPA(slot), .size = REGION,
						    .backing = g, .slot = slot });
	guest_ram_put(g);	/* the region holds its own reference */
	return ret;
}

static int count_pages(void *opaque, uint64_t pfn, uint64_t npages)
{
	(void)pfn;
	*(uint64_t *)opaque += npages;
	return 0;
}

static int writer_step(uint64_t *seed, bool *present, unsigned int *npresent,
		       uint64_t *synced)
{
	uint64_t x = rnd(seed);
	unsigned int slot = (unsigned int)(x % NSLOTS);
	int ret = 0;

	switch ((x >> 32) % 16) {
	case 0:
		ret = as_dirty_log_start(&as);
		break;
	case 1:
		as_dirty_log_stop(&as);
		break;
	case 2:
		ret = as_dirty_sync(&as, NULL, NULL, count_pages, synced);
		if (ret == -EINVAL)	/* logging off */
			ret = 0;
		break;
	case 3:
		if (present[slot])
			ret = as_set_flags(&as, SLOT_GPA(slot), (x >> 40) & 1 ? AS_REGION_READONLY : 0);
		break;
	default:
		if (present[slot] && *npresent > 4) {
			ret = as_remove(&as, SLOT_GPA(slot));
			present[slot] = false;
			(*npresent)--;
		} else if (!present[slot]) {
			ret = add_slot(slot);
			present[slot] = true;
			(*npresent)++;
		}
	}
	return ret;
}

static void readers_see_consistent_memory_while_regions_change(void)
{
	struct reader readers[NREADERS] = { 0 };
	bool present[NSLOTS] = { 0 };
	unsigned int i, npresent = 0;
	uint64_t seed = 12345, steps = 0, synced = 0;
	int64_t end;
	int ret = 0;

	as_init(&as);
	for (i = 0; i < NSLOTS; i += 2) {
		CHECK_EQ(add_slot(i), 0);
		present[i] = true;
		npresent++;
	}
	for (i = 0; i < NREADERS; i++) {
		readers[i].id = i;
		readers[i].auto_register = i == NREADERS - 1;
		CHECK_EQ(pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]), 0);
	}
	end = now_ns() + RUN_NS;
	while (!ret && now_ns() < end) {
		ret = writer_step(&seed, present, &npresent, &synced);
		steps++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NREADERS; i++)
		pthread_join(readers[i].thread, NULL);
	printf("# %llu updates, %llu dirty pages synced\n", (unsigned long long)steps,
	       (unsigned long long)synced);
	as_destroy(&as);
	CHECK_EQ(ret, 0);
	CHECK(steps > 20);
	for (i = 0; i < NREADERS; i++) {
		printf("# reader %u: %llu reads, %llu faults (unmapped), %llu bad\n", i,
		       (unsigned long long)readers[i].ok_reads,
		       (unsigned long long)readers[i].faults, (unsigned long long)readers[i].bad);
		if (readers[i].bad)
			printf("# reader %u: %s\n", i, readers[i].why);
		CHECK_EQ(readers[i].bad, 0);
		CHECK(readers[i].ok_reads > 0);
	}
}

int main(void)
{
	RUN(readers_see_consistent_memory_while_regions_change);
	return harness_done();
}
