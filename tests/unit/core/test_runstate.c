// SPDX-License-Identifier: MIT
/* Unit tests of the VM's stop request: the first request wins, from any thread. */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "core/runstate.h"
#include "harness.h"

static bool wake_fd_count(struct runstate *rs, uint64_t *count)
{
	return read(rs->wake_fd, count, sizeof(*count)) == (ssize_t)sizeof(*count);
}

static void fresh_runstate_is_not_stopping(void)
{
	struct runstate rs;
	uint64_t n;

	if (runstate_init(&rs))
		SKIP("no eventfd");
	CHECK(!runstate_stopping(&rs));
	CHECK_EQ(rs.reason, VM_STOP_NONE);
	CHECK(rs.wake_fd >= 0);
	CHECK(!wake_fd_count(&rs, &n));
	runstate_destroy(&rs);
	CHECK_EQ(rs.wake_fd, -1);
}

static void first_request_wins_with_its_reason_status_and_message(void)
{
	struct runstate rs;
	uint64_t n = 0;

	if (runstate_init(&rs))
		SKIP("no eventfd");
	CHECK(runstate_request_stop(&rs, VM_STOP_GUEST_CRASH, KITE_EXIT_GUEST_CRASH,
				    "triple fault on vCPU %d", 3));
	CHECK(runstate_stopping(&rs));
	CHECK(!runstate_request_stop(&rs, VM_STOP_SIGNAL, KITE_EXIT_SIGNAL, "signal"));
	CHECK(!runstate_request_stop(&rs, VM_STOP_POWEROFF, KITE_EXIT_OK, "%s", ""));
	CHECK_EQ(rs.reason, VM_STOP_GUEST_CRASH);
	CHECK_EQ(rs.exit_status, KITE_EXIT_GUEST_CRASH);
	CHECK(strcmp(rs.message, "triple fault on vCPU 3") == 0);
	CHECK(wake_fd_count(&rs, &n));
	CHECK_EQ(n, 1);				/* the losers do not wake it again */
	runstate_destroy(&rs);
}

static void long_message_is_truncated_not_overflowed(void)
{
	struct runstate rs;
	char big[2000];

	if (runstate_init(&rs))
		SKIP("no eventfd");
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(runstate_request_stop(&rs, VM_STOP_HOST_ERROR, KITE_EXIT_HOST_ERROR, "%s", big));
	CHECK_EQ(strlen(rs.message), sizeof(rs.message) - 1);
	runstate_destroy(&rs);
}

enum { NTHREADS = 8, ROUNDS = 200 };

struct racer {
	struct runstate *rs;
	pthread_barrier_t *start;
	int id;
	bool won;
};

static void *racer_main(void *opaque)
{
	struct racer *r = opaque;

	pthread_barrier_wait(r->start);
	r->won = runstate_request_stop(r->rs, VM_STOP_DEBUG_EXIT, 2 * r->id + 1,
				       "racer %d", r->id);
	return NULL;
}

static void concurrent_requests_from_8_threads_have_exactly_one_winner(void)
{
	unsigned int round;

	for (round = 0; round < ROUNDS; round++) {
		struct racer racers[NTHREADS];
		pthread_t threads[NTHREADS];
		pthread_barrier_t start;
		struct runstate rs;
		char want[32];
		int i, winners = 0, winner = -1;
		uint64_t n = 0;

		if (runstate_init(&rs))
			SKIP("no eventfd");
		pthread_barrier_init(&start, NULL, NTHREADS);
		for (i = 0; i < NTHREADS; i++) {
			racers[i] = (struct racer){ .rs = &rs, .start = &start, .id = i };
			CHECK(pthread_create(&threads[i], NULL, racer_main, &racers[i]) == 0);
		}
		for (i = 0; i < NTHREADS; i++)
			pthread_join(threads[i], NULL);
		pthread_barrier_destroy(&start);
		for (i = 0; i < NTHREADS; i++) {
			if (racers[i].won) {
				winners++;
				winner = i;
			}
		}
		CHECK_EQ(winners, 1);
		/* The state is the winner's, whole: no mix of two requests. */
		CHECK_EQ(rs.exit_status, 2 * winner + 1);
		snprintf(want, sizeof(want), "racer %d", winner);
		CHECK(strcmp(rs.message, want) == 0);
		CHECK(wake_fd_count(&rs, &n));
		CHECK_EQ(n, 1);
		runstate_destroy(&rs);
	}
}

int main(void)
{
	RUN(fresh_runstate_is_not_stopping);
	RUN(first_request_wins_with_its_reason_status_and_message);
	RUN(long_message_is_truncated_not_overflowed);
	RUN(concurrent_requests_from_8_threads_have_exactly_one_winner);
	return harness_done();
}
