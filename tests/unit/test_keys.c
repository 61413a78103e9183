/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "keys.h"

static void test_base64_strict(void **state)
{
	(void)state;
	unsigned char *out;
	size_t n;
	assert_int_equal(sw_base64_decode("aGVsbG8=", 8, &out, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	free(out);
	assert_int_equal(sw_base64_decode("aGVsbA==", 8, &out, &n), 0);
	assert_int_equal(n, 4);
	free(out);
	/* wrong length, bad char, padding in the middle, non-canonical tail bits */
	assert_int_equal(sw_base64_decode("aGVsbG8", 7, &out, &n), -1);
	assert_int_equal(sw_base64_decode("aGV*bG8=", 8, &out, &n), -1);
	assert_int_equal(sw_base64_decode("aG=sbG8=", 8, &out, &n), -1);
	assert_int_equal(sw_base64_decode("aGVsbG9=", 8, &out, &n), -1);
	assert_int_equal(sw_base64_decode("", 0, &out, &n), -1);
}

static void load_one(const char *alg, const char *want_alg)
{
	char *dir = tu_tmpdir();
	EVP_PKEY *k = tu_keygen(alg);
	tu_write_pub(k, dir, "a.pub");
	sw_keyring kr;
	sw_error e = { 0 };
	assert_int_equal(sw_keyring_load(dir, &kr, &e), 0);
	assert_int_equal(kr.n, 1);
	assert_string_equal(kr.keys[0].alg, want_alg);

	/* id = SHA-256 of the DER SubjectPublicKeyInfo */
	unsigned char *der = NULL;
	int dl = i2d_PUBKEY(k, &der);
	char hex[65];
	sw_sha256_hex(der, (size_t)dl, hex);
	assert_string_equal(kr.keys[0].id, hex);
	OPENSSL_free(der);

	/* the cheap loader computes the same id and set digest */
	sw_keyring ids;
	assert_int_equal(sw_keyids_load(dir, &ids, &e), 0);
	assert_string_equal(ids.keys[0].id, hex);
	assert_string_equal(ids.set_digest, kr.set_digest);
	assert_null(ids.keys[0].pkey);

	/* verify: good, bad message, bad signature */
	for (int pss = 0; pss <= (strncmp(alg, "rsa", 3) == 0); pss++) {
		char *b64 = tu_sign_b64(k, "message", 7, pss);
		unsigned char *sig;
		size_t sl;
		assert_int_equal(sw_base64_decode(b64, strlen(b64), &sig, &sl), 0);
		assert_int_equal(sw_key_verify(&kr.keys[0], sig, sl, "message", 7, &e), 1);
		assert_int_equal(sw_key_verify(&kr.keys[0], sig, sl, "messagf", 7, &e), 0);
		sig[sl / 2] ^= 1;
		assert_int_equal(sw_key_verify(&kr.keys[0], sig, sl, "message", 7, &e), 0);
		free(sig);
		free(b64);
	}
	sw_keyring_free(&ids);
	sw_keyring_free(&kr);
	EVP_PKEY_free(k);
	tu_rmrf(dir);
	free(dir);
}

static void test_types(void **state)
{
	(void)state;
	load_one("ed25519", "ed25519");
	load_one("p256", "ecdsa-p256");
	load_one("p384", "ecdsa-p384");
	load_one("rsa2048", "rsa-2048");
	load_one("rsa3072", "rsa-3072");
}

static void expect_load_error(const char *pem_or_alg, int is_alg, const char *needle)
{
	char *dir = tu_tmpdir();
	if (is_alg) {
		EVP_PKEY *k = tu_keygen(pem_or_alg);
		tu_write_pub(k, dir, "bad.pub");
		EVP_PKEY_free(k);
	} else {
		tu_writes(dir, "bad.pub", pem_or_alg);
	}
	sw_keyring kr;
	sw_error e = { 0 };
	assert_true(sw_keyring_load(dir, &kr, &e) < 0);
	if (!strstr(e.msg, needle) || !strstr(e.msg, "bad.pub"))
		fail_msg("message '%s' lacks '%s' or the file name", e.msg, needle);
	tu_rmrf(dir);
	free(dir);
}

static void test_rejects(void **state)
{
	(void)state;
	expect_load_error("rsa1024", 1, "too weak");
	expect_load_error("p521", 1, "not accepted");
	expect_load_error("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0, "private key");
	expect_load_error("hello\n", 0, "no PEM");
	expect_load_error("-----BEGIN PUBLIC KEY-----\nAAAA\n", 0, "not terminated");
	expect_load_error("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", 0, "base64");
	expect_load_error("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 0, "not a valid public key");

	/* empty dir, missing dir */
	char *dir = tu_tmpdir();
	sw_keyring kr;
	sw_error e = { 0 };
	assert_true(sw_keyring_load(dir, &kr, &e) < 0);
	assert_non_null(strstr(e.msg, "no trusted keys"));
	char *missing = tu_path(dir, "nope");
	assert_true(sw_keyring_load(missing, &kr, &e) < 0);
	assert_non_null(strstr(e.msg, "nope"));
	free(missing);

	/* oversized key file */
	char *big = malloc(SW_KEY_FILE_MAX + 10);
	memset(big, 'A', SW_KEY_FILE_MAX + 9);
	big[SW_KEY_FILE_MAX + 9] = '\0';
	tu_writes(dir, "big.pub", big);
	free(big);
	assert_true(sw_keyring_load(dir, &kr, &e) < 0);
	assert_non_null(strstr(e.msg, "limit"));
	tu_rmrf(dir);
	free(dir);
}

static void test_duplicate_key(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	EVP_PKEY *k = tu_keygen("ed25519");
	tu_write_pub(k, dir, "a.pub");
	tu_write_pub(k, dir, "b.pub");
	sw_keyring kr;
	sw_error e = { 0 };
	assert_true(sw_keyring_load(dir, &kr, &e) < 0);
	assert_non_null(strstr(e.msg, "same key"));
	EVP_PKEY_free(k);
	tu_rmrf(dir);
	free(dir);
}

static void test_set_digest_changes(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	EVP_PKEY *a = tu_keygen("ed25519"), *b = tu_keygen("ed25519");
	tu_write_pub(a, dir, "a.pub");
	sw_keyring k1, k2;
	sw_error e = { 0 };
	assert_int_equal(sw_keyids_load(dir, &k1, &e), 0);
	tu_write_pub(b, dir, "b.pub");
	assert_int_equal(sw_keyids_load(dir, &k2, &e), 0);
	assert_int_equal(k2.n, 2);
	assert_string_not_equal(k1.set_digest, k2.set_digest);
	/* files not named *.pub are ignored */
	tu_writes(dir, "README", "not a key");
	sw_keyring k3;
	assert_int_equal(sw_keyids_load(dir, &k3, &e), 0);
	assert_string_equal(k3.set_digest, k2.set_digest);
	sw_keyring_free(&k1);
	sw_keyring_free(&k2);
	sw_keyring_free(&k3);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_set_digest_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
