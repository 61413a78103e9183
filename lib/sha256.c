/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 (FIPS 180-4) for the start path, without libcrypto.
 *
 * Why not OpenSSL's: linking libcrypto into the hook at all costs a start about
 * a quarter of a millisecond in a VM (its constructor, and glibc and OpenSSL code
 * and data spread over a 4 MB binary: ~20 more page faults at ~11 us each), even
 * when the only thing called is SHA256_Update (bench/PROFILE.md). sigward-hook is
 * now built without libcrypto and hands the few starts that need a signature
 * checked to sigward-hook-verify; SHA-256 is all it computes.
 *
 * Two block functions: the x86 SHA extensions (SHA-NI: the same instructions
 * OpenSSL selects on this hardware, ~1.9 GB/s) when the CPU has them, else
 * portable C. tests/unit/test_sha256.c checks both against OpenSSL's SHA-256 over
 * every length from 0 to 1 100 bytes, split updates, and the FIPS vectors.
 */
#include "sha256.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SW_SHA_X86 1
#endif

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void blocks_c(uint32_t h[8], const unsigned char *p, size_t n)
{
	for (; n; n--, p += 64) {
		uint32_t w[64];
		for (unsigned i = 0; i < 16; i++)
			w[i] = be32(p + 4 * i);
		for (unsigned i = 16; i < 64; i++) {
			uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
		for (unsigned i = 0; i < 64; i++) {
			uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
			uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			k = g;
			g = f;
			f = e;
			e = d + t1;
			d = c;
			c = b;
			b = a;
			a = t1 + t2;
		}
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
		h[4] += e;
		h[5] += f;
		h[6] += g;
		h[7] += k;
	}
}

#ifdef SW_SHA_X86
/* The SHA extensions keep the state as ABEF and CDGH; each sha256rnds2 does two
 * rounds, and sha256msg1/msg2 extend the message schedule four words at a time:
 * W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]. */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i tmp = _mm_loadu_si128((const __m128i *)&h[0]);
	__m128i st1 = _mm_loadu_si128((const __m128i *)&h[4]);
	tmp = _mm_shuffle_epi32(tmp, 0xb1);            /* CDAB */
	st1 = _mm_shuffle_epi32(st1, 0x1b);            /* EFGH */
	__m128i st0 = _mm_alignr_epi8(tmp, st1, 8);    /* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xf0);         /* CDGH */

	for (; n; n--, p += 64) {
		const __m128i abef = st0, cdgh = st1;
		__m128i w[4];
		for (unsigned i = 0; i < 16; i++) {
			__m128i m;
			if (i < 4) {
				m = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
			} else {
				m = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
				m = _mm_add_epi32(m, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
				m = _mm_sha256msg2_epu32(m, w[(i + 3) & 3]);
			}
			w[i & 3] = m;
			__m128i kw = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&K[4 * i]));
			st1 = _mm_sha256rnds2_epu32(st1, st0, kw);
			kw = _mm_shuffle_epi32(kw, 0x0e);
			st0 = _mm_sha256rnds2_epu32(st0, st1, kw);
		}
		st0 = _mm_add_epi32(st0, abef);
		st1 = _mm_add_epi32(st1, cdgh);
	}

	tmp = _mm_shuffle_epi32(st0, 0x1b);            /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xb1);            /* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xf0);         /* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8);            /* ABEF */
	_mm_storeu_si128((__m128i *)&h[0], st0);
	_mm_storeu_si128((__m128i *)&h[4], st1);
}

/* 1: SHA-NI, 0: portable; -1 until asked (CPUID leaf 7 EBX bit 29, with
 * SSSE3 and SSE4.1 from leaf 1). */
static int g_have_ni = -1;

static int have_ni(void)
{
	if (g_have_ni < 0) {
		unsigned a, b, c, d;
		int ni = 0;
		if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
		    __get_cpuid_count(7, 0, &a, &b, &c, &d))
			ni = (b >> 29) & 1;
		g_have_ni = ni;
	}
	return g_have_ni;
}
#endif

static void blocks(uint32_t h[8], const unsigned char *p, size_t n)
{
#ifdef SW_SHA_X86
	if (have_ni()) {
		blocks_ni(h, p, n);
		return;
	}
#endif
	blocks_c(h, p, n);
}

bool sw_sha256_accelerated(bool use)
{
#ifdef SW_SHA_X86
	bool had = have_ni();
	g_have_ni = use && had;
	return had;
#else
	(void)use;
	return false;
#endif
}

void sw_sha256_init(sw_sha256_ctx *c)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(c->h, iv, sizeof iv);
	c->bytes = 0;
	c->used = 0;
}

void sw_sha256_update(sw_sha256_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	c->bytes += len;
	if (c->used) {
		size_t take = 64 - c->used < len ? 64 - c->used : len;
		memcpy(c->buf + c->used, p, take);
		c->used += take;
		p += take;
		len -= take;
		if (c->used < 64)
			return;
		blocks(c->h, c->buf, 1);
		c->used = 0;
	}
	if (len >= 64) {
		blocks(c->h, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	if (len) {
		memcpy(c->buf, p, len);
		c->used = len;
	}
}

void sw_sha256_final(sw_sha256_ctx *c, unsigned char out[32])
{
	uint64_t bits = c->bytes * 8;
	c->buf[c->used++] = 0x80;
	if (c->used > 56) {
		memset(c->buf + c->used, 0, 64 - c->used);
		blocks(c->h, c->buf, 1);
		c->used = 0;
	}
	memset(c->buf + c->used, 0, 56 - c->used);
	for (unsigned i = 0; i < 8; i++)
		c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	blocks(c->h, c->buf, 1);
	for (unsigned i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
	memset(c, 0, sizeof *c);
}
