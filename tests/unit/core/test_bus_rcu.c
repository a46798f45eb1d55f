// SPDX-License-Identifier: MIT
/*
 * The bus under concurrency: reader threads dispatch accesses continuously
 * while a writer registers and unregisters a device.  After
 * bus_unregister() returns the writer poisons the device; a reader still
 * inside its handler would see the poison.  Runs under ASan and TSan too.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "core/bus.h"
#include "core/rcu.h"
#include "harness.h"

#define READERS 2
#define ROUNDS 200

struct fake_dev {
	int alive;		/* 1 while registered; 0 after unregister returned */
	uint64_t hits;
};

static struct bus bus;
static int stop;
static int bad;
static int started;

static void dev_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct fake_dev *d = opaque;

	(void)offset;
	if (!__atomic_load_n(&d->alive, __ATOMIC_ACQUIRE))
		__atomic_store_n(&bad, 1, __ATOMIC_RELAXED);
	/* Stay inside the handler a while: an unregister that did not wait
	 * for us would "free" the device under our feet. */
	sched_yield();
	for (uint32_t i = 0; i < size; i++)
		data[i] = 0x5a;
	if (!__atomic_load_n(&d->alive, __ATOMIC_ACQUIRE))
		__atomic_store_n(&bad, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&d->hits, 1, __ATOMIC_RELAXED);
}

static const struct bus_ops dev_ops = { .read = dev_read };

static void *reader(void *arg)
{
	unsigned int n = 0;
	uint8_t b;

	(void)arg;
	krcu_register();
	__atomic_fetch_add(&started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		bool claimed = bus_access(&bus, 0x1000, &b, 1, false);

		/* Like a vCPU between exits; on 2 cores spinning readers would
		 * starve the writer of CPU time. */
		if (++n % 64 == 0)
			sched_yield();
		if ((claimed && b != 0x5a) || (!claimed && b != 0xff))
			__atomic_store_n(&bad, 1, __ATOMIC_RELAXED);
	}
	krcu_unregister();
	return NULL;
}

static void unregister_waits_for_handlers_and_readers_never_see_a_dead_device(void)
{
	static struct fake_dev devs[2];
	pthread_t th[READERS];
	struct timespec t0, t;
	unsigned int i, rounds = 0;

	bus_init(&bus, "pio");
	bus_set_live(&bus);
	for (i = 0; i < READERS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, reader, NULL), 0);
	while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < READERS)
		sched_yield();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct fake_dev *d = &devs[rounds % 2];
		uint64_t before = __atomic_load_n(&d->hits, __ATOMIC_RELAXED);

		__atomic_store_n(&d->alive, 1, __ATOMIC_RELEASE);
		if (bus_register(&bus, 0x1000, 4, &dev_ops, d, "fake"))
			break;
		/* Let the readers reach the device before it goes away. */
		while (__atomic_load_n(&d->hits, __ATOMIC_RELAXED) == before)
			sched_yield();
		if (bus_unregister(&bus, 0x1000))
			break;
		__atomic_store_n(&d->alive, 0, __ATOMIC_RELEASE);	/* "freed" */
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (rounds < ROUNDS && t.tv_sec - t0.tv_sec < 20);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	printf("# %u register/unregister rounds, %llu + %llu handler calls\n", rounds,
	       (unsigned long long)devs[0].hits, (unsigned long long)devs[1].hits);
	CHECK_EQ(rounds, ROUNDS);
	CHECK(devs[0].hits >= ROUNDS / 2 && devs[1].hits >= ROUNDS / 2);
	CHECK_EQ(bad, 0);
	CHECK_EQ(bus_count(&bus), 0);
	CHECK_EQ(bus_unregister(&bus, 0x1000), -ENOENT);
	bus_destroy(&bus);
}

int main(void)
{
	RUN(unregister_waits_for_handlers_and_readers_never_see_a_dead_device);
	return harness_done();
}
