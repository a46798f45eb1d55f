// SPDX-License-Identifier: MIT
/*
 * as_bench.c - micro-benchmark of kite's guest address space (no KVM).
 *
 * Built by bench/metrics/addr_space.sh against BUILD/libkite.a:
 *   cc -O2 -Isrc bench/tools/as_bench.c BUILD/libkite.a \
 *      $(pkg-config --cflags --libs liburcu-memb) -lpthread -o as_bench
 * AS_BENCH_QUICK=1 does 1/16 of the work (for `make bench QUICK=1`).
 * Prints one "key=value" per line (medians over repetitions):
 *   cached_ns            as_cache_translate() hit, inside one read lock
 *   cached_locked_ns     the same with as_read_lock/unlock around each call
 *   uncached64_ns        as_map_ro() binary search, 64 regions, random gpas
 *   copy_{4k,64k,1m}_pct as_copy_to+as_copy_from throughput, % of memcpy's
 *   lookups_1t_mops, lookups_2t_mops, scale_2t   uncached lookups per second,
 *                        one reader thread vs two (each on its own cache line)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr_space.h"

#define NREGIONS	64
#define REGION		(64u << 10)
#define BIG_GPA		(1ULL << 32)
#define BIG		(4u << 20)
#define REPS		11
#define NLOOKUP		4096

static struct addr_space as;
static uint64_t gpas[NLOOKUP];
static volatile uintptr_t sink;
static int scale = 1;		/* AS_BENCH_QUICK=1: 1/16 of the work (smoke test) */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void setup(void)
{
	static const struct guest_ram_backing memfd = { .kind = GUEST_RAM_MEMFD };
	struct guest_ram_block *g;
	unsigned int i;
	uint64_t s = 88172645463325252ULL;

	as_init(&as);
	if (guest_ram_create(&memfd, (uint64_t)NREGIONS * REGION + BIG, "bench", &g))
		exit(1);
	memset(g->host, 1, (size_t)g->size);
	for (i = 0; i < NREGIONS; i++)	/* 64 regions with 64 KiB holes between them */
		if (as_add(&as, &(struct as_region_spec){ .gpa = (uint64_t)i * 2 * REGION,
				.size = REGION, .backing = g, .fd_offset = (uint64_t)i * REGION,
				.slot = i }))
			exit(1);
	if (as_add(&as, &(struct as_region_spec){ .gpa = BIG_GPA, .size = BIG, .backing = g,
			.fd_offset = (uint64_t)NREGIONS * REGION, .slot = NREGIONS }))
		exit(1);
	guest_ram_put(g);
	for (i = 0; i < NLOOKUP; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		gpas[i] = (s % NREGIONS) * 2 * REGION + (s >> 32) % (REGION - 64);
	}
}

/* A device walking a scatter-gather list inside one region. */
static double bench_cached(int locked)
{
	double v[REPS];
	struct as_cache c;
	int r, i, n = (1 << 20) / scale;

	as_cache_init(&c, &as);
	for (r = 0; r < REPS; r++) {
		double t0 = now_ns();

		if (!locked)
			as_read_lock();
		for (i = 0; i < n; i++) {
			if (locked)
				as_read_lock();
			sink += (uintptr_t)as_cache_translate(&c, BIG_GPA + (uint64_t)(i & 1023) * 64,
							      64, false);
			if (locked)
				as_read_unlock();
		}
		if (!locked)
			as_read_unlock();
		v[r] = (now_ns() - t0) / n;
	}
	return median(v, REPS);
}

/* @n lookups; the sum stays in a register (a shared sink would bounce between threads). */
static double lookups(int n, uintptr_t *acc)
{
	int i;

	as_read_lock();
	for (i = 0; i < n; i++)
		*acc += (uintptr_t)as_map_ro(&as, gpas[i & (NLOOKUP - 1)], 16);
	as_read_unlock();
	return n;
}

static double bench_uncached(void)
{
	double v[REPS];
	int r, n = (1 << 20) / scale;

	for (r = 0; r < REPS; r++) {
		double t0 = now_ns();
		uintptr_t acc = 0;

		lookups(n, &acc);
		sink += acc;
		v[r] = (now_ns() - t0) / n;
	}
	return median(v, REPS);
}

/* as_copy_to + as_copy_from of @len bytes vs two memcpy()s, same buffers. */
static double bench_copy(size_t len)
{
	double va[REPS], vm[REPS];
	const uint8_t *host = as_map_ro(&as, BIG_GPA, BIG);
	uint8_t *buf = aligned_alloc(4096, len);
	int r, i, n = (int)((256u << 20) / len) / scale;

	memset(buf, 2, len);
	for (r = 0; r < REPS; r++) {
		double t0 = now_ns();

		for (i = 0; i < n; i++)
			if (as_copy_to(&as, BIG_GPA, buf, len) || as_copy_from(&as, buf, BIG_GPA, len))
				exit(1);
		va[r] = now_ns() - t0;
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			memcpy((void *)host, buf, len);
			__asm__ volatile("" ::: "memory");
			memcpy(buf, host, len);
			__asm__ volatile("" ::: "memory");
		}
		vm[r] = now_ns() - t0;
	}
	free(buf);
	/* throughput(as) / throughput(memcpy) in percent */
	return 100.0 * median(vm, REPS) / median(va, REPS);
}

static int stop_flag;

static void *lookup_thread(void *arg)
{
	double *ops = arg, n = 0;
	uintptr_t acc = 0;

	as_reader_register();
	while (!__atomic_load_n(&stop_flag, __ATOMIC_RELAXED))
		n += lookups(4096, &acc);
	*ops = n;
	sink += acc;
	as_reader_unregister();
	return NULL;
}

static double bench_threads(int nthreads)
{
	struct { _Alignas(64) double ops; } cnt[2] = { { 0 } };
	struct timespec run = { .tv_sec = 0, .tv_nsec = 400000000 / scale };
	pthread_t t[2];
	double t0;
	int i;

	__atomic_store_n(&stop_flag, 0, __ATOMIC_RELAXED);
	t0 = now_ns();
	for (i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, lookup_thread, &cnt[i].ops);
	nanosleep(&run, NULL);	/* sleep: the main thread must not take a CPU */
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	return (cnt[0].ops + cnt[1].ops) / (now_ns() - t0) * 1e3;	/* Mops/s */
}

int main(void)
{
	const char *quick = getenv("AS_BENCH_QUICK");
	double one, two;

	if (quick && !strcmp(quick, "1"))
		scale = 16;
	as_reader_register();
	setup();
	printf("cached_ns=%.2f\n", bench_cached(0));
	printf("cached_locked_ns=%.2f\n", bench_cached(1));
	printf("uncached64_ns=%.2f\n", bench_uncached());
	printf("copy_4k_pct=%.1f\n", bench_copy(4096));
	printf("copy_64k_pct=%.1f\n", bench_copy(64 << 10));
	printf("copy_1m_pct=%.1f\n", bench_copy(1 << 20));
	one = bench_threads(1);
	two = bench_threads(2);
	printf("lookups_1t_mops=%.1f\nlookups_2t_mops=%.1f\nscale_2t=%.2f\n", one, two, two / one);
	as_destroy(&as);
	as_reader_unregister();
	return 0;
}
