// SPDX-License-Identifier: MIT
#include "core/rcu.h"

#include <pthread.h>
#include <stdlib.h>

#include <urcu/urcu-memb.h>

#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * ThreadSanitizer cannot see liburcu's grace periods (memb synchronizes
 * readers and writer through membarrier(), inside an uninstrumented
 * library).  Tell it what they guarantee: everything a reader did before
 * leaving its critical section happens before the writer's code after
 * synchronize_rcu() (freeing the old table, unmapping a backing).
 */
#if defined(__SANITIZE_THREAD__)
#define KRCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KRCU_TSAN 1
#endif
#endif
#ifdef KRCU_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static char krcu_tsan_grace_period;
#define tsan_reader_done() __tsan_release(&krcu_tsan_grace_period)
#define tsan_grace_period_over() __tsan_acquire(&krcu_tsan_grace_period)
#else
#define tsan_reader_done() do { } while (0)
#define tsan_grace_period_over() do { } while (0)
#endif


static __thread unsigned int reader_refs;
static pthread_key_t reader_key;
static pthread_once_t reader_key_once = PTHREAD_ONCE_INIT;

void krcu_register(void)
{
	if (reader_refs++ == 0)
		urcu_memb_register_thread();
}

void krcu_unregister(void)
{
	if (reader_refs && --reader_refs == 0)
		urcu_memb_unregister_thread();
}

/* Thread exit of an auto-registered thread: leave liburcu's registry. */
static void reader_exit(void *unused)
{
	(void)unused;
	if (reader_refs) {
		reader_refs = 1;
		krcu_unregister();
	}
}

static void reader_key_create(void)
{
	if (pthread_key_create(&reader_key, reader_exit))
		abort();	/* only fails when the process is out of keys */
}

static void __attribute__((noinline)) reader_auto_register(void)
{
	pthread_once(&reader_key_once, reader_key_create);
	krcu_register();
	pthread_setspecific(reader_key, (void *)1);
}

void krcu_read_lock(void)
{
	if (unlikely(!reader_refs))
		reader_auto_register();
	urcu_memb_read_lock();
}

void krcu_read_unlock(void)
{
	tsan_reader_done();
	urcu_memb_read_unlock();
}


void krcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
	tsan_grace_period_over();
}
