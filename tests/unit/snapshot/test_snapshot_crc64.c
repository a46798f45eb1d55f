// SPDX-License-Identifier: MIT
/* Unit tests of CRC-64/XZ (src/snapshot/crc64.c), and its throughput. */
#include <stdint.h>
#include <time.h>

#include "harness.h"
#include "snapshot/crc64.h"

/* Bit at a time, straight from the definition: the slice-by-8 reference. */
static uint64_t crc64_bitwise(const uint8_t *p, size_t len)
{
	uint64_t c = ~0ULL;

	while (len--) {
		c ^= *p++;
		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ ((c & 1) ? 0xC96C5795D7870F42ULL : 0);
	}
	return ~c;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint8_t rng_byte(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)rng_state;
}

static void crc64_matches_the_published_check_values(void)
{
	static uint8_t zeros[4096];
	uint8_t ramp[1024];

	for (size_t i = 0; i < sizeof(ramp); i++)
		ramp[i] = (uint8_t)i;
	CHECK_EQ(crc64_update(0, "123456789", 9), 0x995DC9BBDF1939FAULL);
	CHECK_EQ(crc64_update(0, NULL, 0), 0);
	CHECK_EQ(crc64_update(0, "a", 1), 0x330284772E652B05ULL);
	CHECK_EQ(crc64_update(0, "The quick brown fox jumps over the lazy dog", 43),
		 0x5B5EB8C2E54AA1C4ULL);
	CHECK_EQ(crc64_update(0, zeros, sizeof(zeros)), 0x26D3D39425EAF0A5ULL);
	CHECK_EQ(crc64_update(0, ramp, sizeof(ramp)), 0xD51FB58DC789C400ULL);
}

static void crc64_equals_the_bitwise_definition_at_every_length_and_alignment(void)
{
	uint8_t buf[300];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rng_byte();
	for (size_t start = 0; start < 8; start++)
		for (size_t len = 0; start + len <= sizeof(buf); len++)
			CHECK_EQ(crc64_update(0, buf + start, len),
				 crc64_bitwise(buf + start, len));
}

static void crc64_fed_in_pieces_equals_crc64_of_the_whole(void)
{
	uint8_t buf[200];
	uint64_t whole;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rng_byte();
	whole = crc64_update(0, buf, sizeof(buf));
	for (size_t cut = 0; cut <= sizeof(buf); cut++) {
		uint64_t c = crc64_update(0, buf, cut);

		CHECK_EQ(crc64_update(c, buf + cut, sizeof(buf) - cut), whole);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Informational: printed, never a failure (sanitizer builds are slow). */
static void crc64_throughput_is_reported(void)
{
	const size_t len = 32 << 20;
	uint8_t *buf = malloc(len);
	volatile uint64_t sink = 0;
	double t0, t;
	int rounds = 0;

	CHECK(buf != NULL);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + (i >> 9));
	t0 = now_s();
	do {
		sink ^= crc64_update(0, buf, len);
		rounds++;
		t = now_s() - t0;
	} while (t < 0.25);
	printf("# crc64: %.0f MB/s (%d x %zu MiB in %.3f s)\n",
	       (double)len * rounds / t / 1e6, rounds, len >> 20, t);
	(void)sink;
	free(buf);
}

int main(void)
{
	RUN(crc64_matches_the_published_check_values);
	RUN(crc64_equals_the_bitwise_definition_at_every_length_and_alignment);
	RUN(crc64_fed_in_pieces_equals_crc64_of_the_whole);
	RUN(crc64_throughput_is_reported);
	return harness_done();
}
