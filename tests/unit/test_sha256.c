/* SPDX-License-Identifier: Apache-2.0 */
/* lib/sha256: sigward's own SHA-256 (the hook's, without libcrypto) against
 * OpenSSL's, on both of its block functions (SHA-NI where the CPU has it, and
 * the portable one). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sha256.h"
#include "util.h"

static void openssl_sha256(const void *d, size_t n, unsigned char out[32])
{
	unsigned int len = 0;
	assert_int_equal(EVP_Digest(d, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

static void hex_equal(const unsigned char got[32], const char *want_hex)
{
	char hex[65];
	sw_hex(got, 32, hex);
	assert_string_equal(hex, want_hex);
}

/* FIPS 180-4 examples, and the million 'a' of the NIST test vectors. */
static void vectors(void)
{
	unsigned char md[32];
	sw_sha256("", 0, md);
	hex_equal(md, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sw_sha256("abc", 3, md);
	hex_equal(md, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sw_sha256(m, strlen(m), md);
	hex_equal(md, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	sw_sha256(a, 1000000, md);
	hex_equal(md, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* The same through updates of 1, 63, 64 and 65 bytes. */
	static const size_t steps[] = { 1, 63, 64, 65, 4096 };
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		sw_sha256_ctx c;
		sw_sha256_init(&c);
		for (size_t o = 0; o < 1000000; o += steps[s])
			sw_sha256_update(&c, a + o, 1000000 - o < steps[s] ? 1000000 - o : steps[s]);
		sw_sha256_final(&c, md);
		hex_equal(md, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
	free(a);
}

/* Every length from 0 to 1 100 bytes (all the padding cases, one to eighteen
 * blocks) of pseudo-random bytes, whole and split at every 37th offset. */
static void against_openssl(void)
{
	enum { MAX = 1100 };
	unsigned char buf[MAX];
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < MAX; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	for (size_t n = 0; n <= MAX; n++) {
		unsigned char want[32], got[32];
		openssl_sha256(buf, n, want);
		sw_sha256(buf, n, got);
		if (memcmp(want, got, 32) != 0)
			fail_msg("length %zu differs from OpenSSL", n);
		for (size_t cut = 0; cut <= n; cut += 37) {
			sw_sha256_ctx c;
			sw_sha256_init(&c);
			sw_sha256_update(&c, buf, cut);
			sw_sha256_update(&c, buf + cut, n - cut);
			sw_sha256_final(&c, got);
			if (memcmp(want, got, 32) != 0)
				fail_msg("length %zu split at %zu differs from OpenSSL", n, cut);
		}
	}
}

static void test_accelerated(void **state)
{
	(void)state;
	bool ni = sw_sha256_accelerated(true);
	print_message("SHA extensions: %s\n", ni ? "yes (tested)" : "not on this CPU (portable code only)");
	vectors();
	against_openssl();
}

static void test_portable(void **state)
{
	(void)state;
	sw_sha256_accelerated(false);
	vectors();
	against_openssl();
	sw_sha256_accelerated(true);
}

/* The hex form the lists and the log use. */
static void test_hex(void **state)
{
	(void)state;
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accelerated),
		cmocka_unit_test(test_portable),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
