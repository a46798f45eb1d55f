// SPDX-License-Identifier: MIT
/*
 * Unit tests of CRC-64/XZ (src/snapshot/crc64.c), and its throughput.  The
 * carry-less multiply paths are checked against the portable slice-by-8 one,
 * which is checked against the bitwise definition; on a CPU without them
 * they are the portable path and the comparisons hold trivially.
 */
#include <stdint.h>
#include <time.h>

#include "harness.h"
#include "snapshot/crc64.h"
#include "snapshot/crc64_impl.h"

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

static uint64_t rng_u64(void)
{
	rng_byte();
	return rng_state;
}

/* @len random bytes @align bytes into an allocation that ends with them,
 * so that ASan sees a read past either end; free the returned base. */
static uint8_t *alloc_random_at(size_t align, size_t len, uint8_t **data)
{
	uint8_t *base = malloc(align + len ? align + len : 1);

	if (base) {
		*data = base + align;
		for (size_t i = 0; i < len; i++)
			(*data)[i] = rng_byte();
	}
	return base;
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

static void crc64_every_path_gives_the_check_value(void)
{
	uint8_t long_check[64 * 9];	/* long enough for every fold width */
	uint64_t want;

	CHECK_EQ(crc64_update_portable(0, "123456789", 9), 0x995DC9BBDF1939FAULL);
	CHECK_EQ(crc64_update_clmul(0, "123456789", 9), 0x995DC9BBDF1939FAULL);
	for (size_t i = 0; i < sizeof(long_check); i++)
		long_check[i] = (uint8_t)("123456789"[i % 9]);
	want = crc64_bitwise(long_check, sizeof(long_check));
	CHECK_EQ(crc64_update_portable(0, long_check, sizeof(long_check)), want);
	CHECK_EQ(crc64_update_clmul(0, long_check, sizeof(long_check)), want);
	CHECK_EQ(crc64_update(0, long_check, sizeof(long_check)), want);
	printf("# crc64: %s\n", crc64_have_vpclmul() ? "VPCLMULQDQ (AVX-512) and PCLMULQDQ folds" :
	       crc64_have_clmul() ? "PCLMULQDQ fold" : "portable only (no carry-less multiply)");
}

static void crc64_of_nothing_returns_the_crc_passed_in(void)
{
	static const uint8_t one = 0x5a;
	const uint64_t crcs[] = { 0, 1, 0x995DC9BBDF1939FAULL, ~0ULL };

	for (size_t i = 0; i < sizeof(crcs) / sizeof(crcs[0]); i++) {
		CHECK_EQ(crc64_update(crcs[i], NULL, 0), crcs[i]);
		CHECK_EQ(crc64_update(crcs[i], &one, 0), crcs[i]);
		CHECK_EQ(crc64_update_clmul(crcs[i], NULL, 0), crcs[i]);
		CHECK_EQ(crc64_update_portable(crcs[i], NULL, 0), crcs[i]);
	}
}

/* Both fast paths against the portable one on @len random bytes at @align,
 * from a CRC of 0 and from a random one. */
static bool crc64_paths_agree(size_t align, size_t len)
{
	uint8_t *data, *base = alloc_random_at(align, len, &data);
	uint64_t seed = rng_u64();
	bool ok;

	if (!base) {
		printf("# out of memory for %zu bytes\n", align + len);
		return false;
	}
	ok = crc64_update(0, data, len) == crc64_update_portable(0, data, len) &&
	     crc64_update_clmul(0, data, len) == crc64_update_portable(0, data, len) &&
	     crc64_update(seed, data, len) == crc64_update_portable(seed, data, len) &&
	     crc64_update_clmul(seed, data, len) == crc64_update_portable(seed, data, len);
	free(base);
	if (!ok)
		printf("# paths differ: length %zu at alignment %zu\n", len, align);
	return ok;
}

static void crc64_fast_paths_equal_the_portable_one_at_every_length_to_1100_and_alignment(void)
{
	for (size_t align = 0; align < 16; align++)
		for (size_t len = 0; len <= 1100; len++)
			CHECK(crc64_paths_agree(align, len));
}

static void crc64_fast_paths_equal_the_portable_one_on_long_buffers(void)
{
	const size_t lens[] = { 4095, 4096, 4097, 4096 + 240, 65536 + 48,
				(1 << 20) - 1, 1 << 20 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t align = 0; align < 16; align++)
			CHECK(crc64_paths_agree(align, lens[i]));
}

static void crc64_fed_in_random_pieces_equals_crc64_of_the_whole(void)
{
	const size_t len = (1 << 20) + 13;
	uint8_t *data, *base = alloc_random_at(3, len, &data);
	uint64_t whole, fast = 0, clmul = 0;

	CHECK(base != NULL);
	whole = crc64_update_portable(0, data, len);
	for (size_t off = 0, piece; off < len; off += piece) {
		/* Mostly short pieces, some up to 16 KiB, some empty. */
		piece = rng_u64() % (rng_byte() < 32 ? 16384 : 600);
		if (piece > len - off)
			piece = len - off;
		fast = crc64_update(fast, data + off, piece);
		clmul = crc64_update_clmul(clmul, data + off, piece);
	}
	free(base);
	CHECK_EQ(fast, whole);
	CHECK_EQ(clmul, whole);
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
	RUN(crc64_every_path_gives_the_check_value);
	RUN(crc64_of_nothing_returns_the_crc_passed_in);
	RUN(crc64_fast_paths_equal_the_portable_one_at_every_length_to_1100_and_alignment);
	RUN(crc64_fast_paths_equal_the_portable_one_on_long_buffers);
	RUN(crc64_fed_in_random_pieces_equals_crc64_of_the_whole);
	RUN(crc64_throughput_is_reported);
	return harness_done();
}
