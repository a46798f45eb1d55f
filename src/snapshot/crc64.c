// SPDX-License-Identifier: MIT
#include "snapshot/crc64.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "snapshot/crc64_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define CRC64_CLMUL 1
#endif

/* ECMA-182, bit-reversed because the CRC is reflected. */
#define CRC64_POLY_REFLECTED	0xC96C5795D7870F42ULL

/*
 * Slice-by-8: table[k][b] is the CRC of byte b followed by k zero bytes, so
 * eight input bytes cost eight independent lookups instead of a serial chain
 * of eight.  16 KiB, built once on first use rather than spelled out here.
 */
static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init_tables(void)
{
	for (unsigned int b = 0; b < 256; b++) {
		uint64_t c = b;

		for (int bit = 0; bit < 8; bit++)
			c = (c >> 1) ^ ((c & 1) ? CRC64_POLY_REFLECTED : 0);
		crc64_table[0][b] = c;
	}
	for (unsigned int b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++) {
			uint64_t prev = crc64_table[k - 1][b];

			crc64_table[k][b] = (prev >> 8) ^ crc64_table[0][prev & 0xff];
		}
}

/* GCC does not fold le_get()'s byte loop into one load: spell it out. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static uint64_t crc64_bytes(uint64_t c, const uint8_t *p, size_t len)
{
	while (len--)
		c = (c >> 8) ^ crc64_table[0][(c ^ *p++) & 0xff];
	return c;
}

/* The running (inverted) CRC @c extended over @len bytes, table-driven. */
static uint64_t crc64_slice8(uint64_t c, const uint8_t *p, size_t len)
{
	/* The reflected CRC consumes bytes in little-endian order, so eight
	 * of them are one little-endian load. */
	for (; len >= 8; len -= 8, p += 8) {
		c ^= load_le64(p);
		c = crc64_table[7][c & 0xff] ^
		    crc64_table[6][(c >> 8) & 0xff] ^
		    crc64_table[5][(c >> 16) & 0xff] ^
		    crc64_table[4][(c >> 24) & 0xff] ^
		    crc64_table[3][(c >> 32) & 0xff] ^
		    crc64_table[2][(c >> 40) & 0xff] ^
		    crc64_table[1][(c >> 48) & 0xff] ^
		    crc64_table[0][c >> 56];
	}
	return crc64_bytes(c, p, len);
}

/*
 * Width in bytes of the widest carry-less multiply crc64_update() may use on
 * this CPU: 0 (none: slice-by-8 only), 16 (PCLMULQDQ) or 64 (VPCLMULQDQ on
 * AVX-512).  Set once by crc64_init().
 */
static unsigned int crc64_fold_width;

#ifdef CRC64_CLMUL
/*
 * Carry-less multiply folding (Intel, "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction", 2009), reflected variant.
 *
 * A 16-byte block loaded little-endian holds polynomial coefficients x^127
 * (bit 0) down to x^0 (bit 127): its low qword H is the upper half.  Moving
 * a block d bits further on multiplies it by x^d, and modulo P
 *	H * x^(64+d) + L * x^d == H * (x^(64+d) mod P) + L * (x^d mod P),
 * two 64x64-bit products whose 128-bit sum is XORed into the block d bits
 * on.  Bit k of PCLMULQDQ(a, b) is the coefficient of x^(126-k) of the
 * reflected product, one short of a block's x^(127-k), so each constant
 * carries one power of x less: {x^(63+d), x^(d-1)} mod P.
 *
 * The constants are computed at init from the polynomial; the functions
 * using them are compiled for PCLMULQDQ and SSE4.1 (and the wide ones for
 * AVX-512F and VPCLMULQDQ) and only called once CPUID has them.
 */
#define CRC64_TARGET	 __attribute__((target("pclmul,sse4.1")))
#define CRC64_TARGET_512 __attribute__((target("pclmul,sse4.1,avx512f,vpclmulqdq")))

/* crc64_fold_k[d / 128 - 1] moves a block d bits on, d = 128 ... 2048. */
static uint64_t crc64_fold_k[16][2] __attribute__((aligned(16)));
/* {floor(x^128 / P) - x^64, P - x^64}, reflected, for crc64_reduce(). */
static uint64_t crc64_barrett_k[2] __attribute__((aligned(16)));

#define CRC64_K(d) \
	_mm_load_si128((const __m128i *)(const void *)crc64_fold_k[(d) / 128 - 1])
#define LOAD128(p)	_mm_loadu_si128((const __m128i *)(const void *)(p))
#define LOAD512(p)	_mm512_loadu_si512((const void *)(p))

/* x^n mod P, reflected (x^0 is bit 63): times x is one bitwise CRC step. */
static uint64_t crc64_xpow(unsigned int n)
{
	uint64_t c = 1ULL << 63;

	while (n--)
		c = (c >> 1) ^ ((c & 1) ? CRC64_POLY_REFLECTED : 0);
	return c;
}

static uint64_t bitrev64(uint64_t v)
{
	uint64_t r = 0;

	for (int i = 0; i < 64; i++, v >>= 1)
		r = (r << 1) | (v & 1);
	return r;
}

/* floor(x^128 / P) less its x^64 term, reflected: long division in the
 * unreflected domain, one quotient bit (x^127 down to x^0) per step. */
static uint64_t crc64_barrett_mu(void)
{
	uint64_t poly = bitrev64(CRC64_POLY_REFLECTED);
	uint64_t r = 1, q = 0;	/* r: x^128 after its first step */

	for (int k = 127; k >= 0; k--) {
		uint64_t top = r >> 63;

		r = (r << 1) ^ (top ? poly : 0);
		q = (q << 1) | top;
	}
	return bitrev64(q);
}

static void crc64_init_clmul(void)
{
	if (!__builtin_cpu_supports("pclmul") || !__builtin_cpu_supports("sse4.1"))
		return;
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int d = 128 * (i + 1);

		crc64_fold_k[i][0] = crc64_xpow(63 + d);
		crc64_fold_k[i][1] = crc64_xpow(d - 1);
	}
	crc64_barrett_k[0] = crc64_barrett_mu();
	crc64_barrett_k[1] = CRC64_POLY_REFLECTED;
	crc64_fold_width = 16;
	/* Also checks that the OS saves the AVX-512 registers. */
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq"))
		crc64_fold_width = 64;
}

/* @a moved on by the d of @k, plus @b. */
CRC64_TARGET static inline __m128i crc64_fold(__m128i a, __m128i k, __m128i b)
{
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(a, k, 0x00),
					   _mm_clmulepi64_si128(a, k, 0x11)), b);
}

/*
 * The last 128 bits R of the folded message to the CRC state, R * x^64 mod P.
 * R's upper half H moves 128 bits on (H * x^128 == H * (x^128 mod P)),
 * leaving 128 bits S == R * x^64, which a Barrett reduction takes mod P:
 * q = floor(S / P) = floor(S_H * floor(x^128 / P) / x^64), and S mod P is the
 * low 64 bits of S + q * P.  The shifts by one undo PCLMULQDQ's offset.
 */
CRC64_TARGET static uint64_t crc64_reduce(__m128i r)
{
	const __m128i m = _mm_load_si128((const __m128i *)(const void *)crc64_barrett_k);
	__m128i s, u;
	uint64_t q;

	s = _mm_xor_si128(_mm_clmulepi64_si128(r, CRC64_K(128), 0x10),
			  _mm_srli_si128(r, 8));
	q = (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(s, m, 0x00)) << 1;
	q ^= (uint64_t)_mm_cvtsi128_si64(s);
	u = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)q), m, 0x10);
	return (uint64_t)_mm_extract_epi64(s, 1) ^
	       ((uint64_t)_mm_extract_epi64(u, 1) << 1) ^
	       ((uint64_t)_mm_cvtsi128_si64(u) >> 63);
}

/* The block @x followed by the @n 16-byte blocks at @p, to a CRC state. */
CRC64_TARGET static uint64_t crc64_finish(__m128i x, const uint8_t *p, size_t n)
{
	for (; n; p += 16, n--)
		x = crc64_fold(x, CRC64_K(128), LOAD128(p));
	return crc64_reduce(x);
}

/* The running CRC @c extended over the @n >= 1 16-byte blocks at @p. */
CRC64_TARGET static uint64_t crc64_clmul(uint64_t c, const uint8_t *p, size_t n)
{
	__m128i x0, x1, x2, x3;

	/* The state is XORed into the first eight bytes, as in slice-by-8. */
	x0 = _mm_xor_si128(LOAD128(p), _mm_cvtsi64_si128((long long)c));
	if (n < 4)
		return crc64_finish(x0, p + 16, n - 1);
	x1 = LOAD128(p + 16);
	x2 = LOAD128(p + 32);
	x3 = LOAD128(p + 48);
	/* Four independent lanes hide PCLMULQDQ's latency. */
	for (p += 64, n -= 4; n >= 4; p += 64, n -= 4) {
		x0 = crc64_fold(x0, CRC64_K(512), LOAD128(p));
		x1 = crc64_fold(x1, CRC64_K(512), LOAD128(p + 16));
		x2 = crc64_fold(x2, CRC64_K(512), LOAD128(p + 32));
		x3 = crc64_fold(x3, CRC64_K(512), LOAD128(p + 48));
	}
	x0 = crc64_fold(x0, CRC64_K(384),
			crc64_fold(x1, CRC64_K(256),
				   crc64_fold(x2, CRC64_K(128), x3)));
	return crc64_finish(x0, p, n);
}

/* crc64_fold() on four blocks at once. */
CRC64_TARGET_512 static inline __m512i crc64_fold4(__m512i a, unsigned int d, __m512i b)
{
	const __m512i k = _mm512_broadcast_i32x4(CRC64_K(d));

	/* 0x96: a ^ b ^ c */
	return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(a, k, 0x00),
					 _mm512_clmulepi64_epi128(a, k, 0x11), b, 0x96);
}

/*
 * crc64_clmul() for @n >= 16 blocks, four times as wide: sixteen lanes in
 * four registers, 256 bytes a step.
 */
CRC64_TARGET_512 static uint64_t crc64_vpclmul(uint64_t c, const uint8_t *p, size_t n)
{
	__m512i z0, z1, z2, z3;
	__m128i x;

	z0 = _mm512_xor_si512(LOAD512(p), _mm512_zextsi128_si512(
				      _mm_cvtsi64_si128((long long)c)));
	z1 = LOAD512(p + 64);
	z2 = LOAD512(p + 128);
	z3 = LOAD512(p + 192);
	for (p += 256, n -= 16; n >= 16; p += 256, n -= 16) {
		z0 = crc64_fold4(z0, 2048, LOAD512(p));
		z1 = crc64_fold4(z1, 2048, LOAD512(p + 64));
		z2 = crc64_fold4(z2, 2048, LOAD512(p + 128));
		z3 = crc64_fold4(z3, 2048, LOAD512(p + 192));
	}
	z0 = crc64_fold4(z0, 1536, crc64_fold4(z1, 1024, crc64_fold4(z2, 512, z3)));
	/* Its four blocks into one, as crc64_clmul() does its lanes. */
	x = crc64_fold(_mm512_extracti32x4_epi32(z0, 0), CRC64_K(384),
		       crc64_fold(_mm512_extracti32x4_epi32(z0, 1), CRC64_K(256),
				  crc64_fold(_mm512_extracti32x4_epi32(z0, 2), CRC64_K(128),
					     _mm512_extracti32x4_epi32(z0, 3))));
	/* Clear the upper halves: left dirty, they slow down every later
	 * SSE instruction of the thread, crc64_finish()'s first. */
	_mm256_zeroupper();
	return crc64_finish(x, p, n);
}
#endif /* CRC64_CLMUL */

static void crc64_init(void)
{
	crc64_init_tables();
#ifdef CRC64_CLMUL
	crc64_init_clmul();
#endif
}

/* Below this the fold's fixed cost (a reduction) outweighs its speed. */
#define CRC64_CLMUL_MIN	16

/*
 * The running CRC @c extended over @len bytes at @p, with carry-less
 * multiplies at most @width bytes wide; the tail short of a 16-byte block
 * goes through the tables.  The folds load unaligned: a misaligned buffer
 * measured no slower, so there is no head to align.
 */
static uint64_t crc64_run(uint64_t c, const uint8_t *p, size_t len, unsigned int width)
{
#ifdef CRC64_CLMUL
	if (width && len >= CRC64_CLMUL_MIN) {
		size_t n = len / 16;

		c = width == 64 && n >= 16 ? crc64_vpclmul(c, p, n) : crc64_clmul(c, p, n);
		p += n * 16;
		len -= n * 16;
	}
#else
	(void)width;
#endif
	return crc64_slice8(c, p, len);
}

uint64_t crc64_update(uint64_t crc, const void *buf, size_t len)
{
	pthread_once(&crc64_once, crc64_init);
	return ~crc64_run(~crc, buf, len, crc64_fold_width);
}

uint64_t crc64_update_portable(uint64_t crc, const void *buf, size_t len)
{
	pthread_once(&crc64_once, crc64_init);
	return ~crc64_run(~crc, buf, len, 0);
}

uint64_t crc64_update_clmul(uint64_t crc, const void *buf, size_t len)
{
	pthread_once(&crc64_once, crc64_init);
	return ~crc64_run(~crc, buf, len, crc64_fold_width ? 16 : 0);
}

bool crc64_have_clmul(void)
{
	pthread_once(&crc64_once, crc64_init);
	return crc64_fold_width >= 16;
}

bool crc64_have_vpclmul(void)
{
	pthread_once(&crc64_once, crc64_init);
	return crc64_fold_width == 64;
}
