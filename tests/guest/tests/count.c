/* SPDX-License-Identifier: MIT */
/*
 * count: print "count N" every interval_ms milliseconds (default 20), N = 1,
 * 2, 3, ...  A host test pauses and resumes the VM and then checks that the
 * sequence has no gap: pause loses nothing but time.  Stops after n=N lines
 * (default: never) with PASS.
 */
#include "lib.h"
#include "tsc.h"

GUEST_TEST(count, "[interval_ms=M] [n=N]: print an increasing counter forever or N times")
{
	uint64_t interval = 20, n = 0, i;
	uint64_t next, step;

	cmdline_get_u64("interval_ms", &interval);
	cmdline_get_u64("n", &n);
	if (interval == 0 || interval > 10000)
		fail("interval_ms must be 1..10000");
	step = tsc_from_us(interval * 1000);
	next = rdtsc() + step;
	for (i = 1; n == 0 || i <= n; i++) {
		printf("count %llu\n", (unsigned long long)i);
		while (rdtsc() < next)
			cpu_relax();
		next += step;
		/* After a long pause, do not race to catch up: keep the cadence. */
		if (rdtsc() > next + 10 * step)
			next = rdtsc() + step;
	}
	pass();
}
