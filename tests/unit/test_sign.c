/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "allowlist.h"
#include "build.h"
#include "keys.h"
#include "sign.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

typedef struct fixture {
	char *root, *list, *keys;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	f->root = tu_tmpdir();
	f->list = tu_path(f->root, "list");
	f->keys = tu_path(f->root, "keys");
	mkdir(f->keys, 0755);
	sw_build_entry e[3] = { 0 };
	for (unsigned i = 0; i < 3; i++) {
		char s[16], h[65];
		snprintf(s, sizeof s, "img-%u", i);
		sw_sha256_hex(s, strlen(s), h);
		snprintf(e[i].digest, sizeof e[i].digest, "sha256:%s", h);
	}
	sw_build_opts o = { .scope = "test", .serial = 1, .issued = sw_now() - 60, .expires = sw_now() + 86400 };
	sw_error err = { 0 };
	if (sw_build_write(e, 3, &o, f->list, &err) < 0)
		fail_msg("build: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tu_rmrf(f->root);
	free(f->root);
	free(f->list);
	free(f->keys);
	free(f);
	return 0;
}

static int count_signers(const fixture *f)
{
	sw_keyring kr;
	sw_error e = { 0 };
	if (sw_keyring_load(f->keys, &kr, &e) < 0)
		fail_msg("keyring: %s", e.msg);
	sw_list l;
	if (sw_list_open_dir(f->list, &l, &e) < 0)
		fail_msg("open: %s", e.msg);
	int n = sw_list_count_signers(&l, &kr, &e);
	sw_list_close(&l);
	sw_keyring_free(&kr);
	return n;
}

static void test_base64_roundtrip(void **state)
{
	(void)state;
	unsigned char in[256];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 1; n < sizeof in; n += 37) {
		char *b = sw_base64_encode(in, n);
		assert_non_null(b);
		unsigned char *out;
		size_t ol;
		assert_int_equal(sw_base64_decode(b, strlen(b), &out, &ol), 0);
		assert_int_equal(ol, n);
		assert_memory_equal(out, in, n);
		free(out);
		free(b);
	}
}

/* keygen, then sign with the generated key and count it as a trusted signer. */
static void test_keygen_and_sign_every_type(void **state)
{
	fixture *f = *state;
	const char *algs[] = { "ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(algs); i++) {
		char prefix[4200], id[SW_KEYID_HEX];
		snprintf(prefix, sizeof prefix, "%s/%s", f->keys, algs[i]);
		sw_error e = { 0 };
		if (sw_keygen(algs[i], prefix, id, &e) < 0)
			fail_msg("keygen %s: %s", algs[i], e.msg);
		char kp[4300], pp[4300];
		snprintf(kp, sizeof kp, "%s.key", prefix);
		snprintf(pp, sizeof pp, "%s.pub", prefix);
		struct stat st;
		assert_int_equal(stat(kp, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(stat(pp, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0644);
		/* Never overwrite a key. */
		assert_true(sw_keygen(algs[i], prefix, NULL, &e) < 0);
		assert_non_null(strstr(e.msg, "already exists"));

		sw_key pub;
		assert_int_equal(sw_key_load_file(pp, &pub, &e), 0);
		assert_string_equal(pub.id, id);
		assert_string_equal(pub.alg, algs[i]);

		sw_signer s;
		sw_sign_opts o = { 0 };
		if (sw_signer_open(kp, &o, &s, &e) < 0)
			fail_msg("open %s: %s", kp, e.msg);
		assert_string_equal(s.id, id);
		assert_string_equal(s.alg, algs[i]);
		unsigned char *sig;
		size_t sl;
		assert_int_equal(sw_signer_sign(&s, "hello", 5, &sig, &sl, &e), 0);
		assert_int_equal(sw_key_verify(&pub, sig, sl, "hello", 5, &e), 1);
		assert_int_equal(sw_key_verify(&pub, sig, sl, "hellO", 5, &e), 0);
		free(sig);
		sw_signer *one = &s;
		assert_int_equal(sw_list_sign(f->list, &one, 1, &e), 0);
		sw_signer_close(&s);
		free(pub.file);
		EVP_PKEY_free(pub.pkey);
		assert_int_equal(count_signers(f), (int)i + 1);
	}
	assert_true(sw_keygen("dsa", "/tmp/never", NULL, &(sw_error){ 0 }) < 0);
}

/* A signature file for any bytes (the audit bundle's SHA256SUMS.sig): one line
 * per signer in order, each verifying with its own key only, over these bytes only. */
static void test_sign_lines_and_verify(void **state)
{
	fixture *f = *state;
	const char *algs[] = { "ed25519", "ecdsa-p256", "rsa-3072" };
	sw_signer s[3];
	sw_key pub[3];
	sw_error e = { 0 };
	for (size_t i = 0; i < 3; i++) {
		char prefix[4200], kp[4300], pp[4300];
		snprintf(prefix, sizeof prefix, "%s/lines-%s", f->keys, algs[i]);
		snprintf(kp, sizeof kp, "%s.key", prefix);
		snprintf(pp, sizeof pp, "%s.pub", prefix);
		if (sw_keygen(algs[i], prefix, NULL, &e) < 0 || sw_signer_open(kp, &(sw_sign_opts){ 0 }, &s[i], &e) < 0 ||
		    sw_key_load_file(pp, &pub[i], &e) < 0)
			fail_msg("%s: %s", algs[i], e.msg);
	}
	const char msg[] = "0123  report.json\n4567  report.md\n";
	sw_signer *two[2] = { &s[0], &s[1] };
	char *text;
	size_t len;
	assert_int_equal(sw_sign_lines(two, 2, msg, strlen(msg), &text, &len, &e), 0);
	assert_int_equal(strlen(text), len);
	assert_int_equal(text[len - 1], '\n');
	char *nl = strchr(text, '\n');
	assert_non_null(nl);
	assert_ptr_equal(strchr(nl + 1, '\n'), text + len - 1);
	assert_int_equal(sw_sig_lines_verify(text, len, "S.sig", &pub[0], msg, strlen(msg), &e), 1);
	assert_int_equal(sw_sig_lines_verify(text, len, "S.sig", &pub[1], msg, strlen(msg), &e), 1);
	/* A key that did not sign, and bytes that were not signed. */
	assert_int_equal(sw_sig_lines_verify(text, len, "S.sig", &pub[2], msg, strlen(msg), &e), 0);
	assert_int_equal(sw_sig_lines_verify(text, len, "S.sig", &pub[0], msg, strlen(msg) - 1, &e), 0);
	/* Only its own line counts: the first line alone is not the second key's. */
	assert_int_equal(sw_sig_lines_verify(text, (size_t)(nl - text + 1), "S.sig", &pub[1], msg, strlen(msg), &e), 0);
	/* CRLF and blank lines are read; a line that is not base64 is an error naming it. */
	size_t l1 = (size_t)(nl - text);
	char *crlf = malloc(len + 8);
	memcpy(crlf, text, l1);
	memcpy(crlf + l1, "\r\n\n", 3);
	memcpy(crlf + l1 + 3, nl + 1, len - l1 - 1);
	assert_int_equal(sw_sig_lines_verify(crlf, len + 2, "S.sig", &pub[1], msg, strlen(msg), &e), 1);
	memcpy(crlf + l1 + 3, "not*base64\n", 11);
	assert_true(sw_sig_lines_verify(crlf, l1 + 14, "S.sig", &pub[0], msg, strlen(msg), &e) < 0);
	assert_string_equal(e.msg, "S.sig:3: not a base64 signature");
	free(crlf);
	free(text);
	/* Nothing is returned when one signer fails (a public half that does not match). */
	sw_signer bad = s[2];
	bad.pub = s[0].pub;
	sw_signer *with_bad[2] = { &s[0], &bad };
	text = NULL;
	assert_true(sw_sign_lines(with_bad, 2, msg, strlen(msg), &text, &len, &e) < 0);
	assert_null(text);
	for (size_t i = 0; i < 3; i++) {
		sw_signer_close(&s[i]);
		free(pub[i].file);
		EVP_PKEY_free(pub[i].pkey);
	}
}

/* PSS is selected on request and verifies with PSS only. */
static void test_rsa_pss(void **state)
{
	fixture *f = *state;
	EVP_PKEY *k = tu_keygen("rsa2048");
	char *kp = tu_path(f->root, "rsa.key");
	FILE *fp = fopen(kp, "w");
	assert_int_equal(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);
	sw_signer s;
	sw_error e = { 0 };
	sw_sign_opts o = { .rsa_pss = true };
	assert_int_equal(sw_signer_open(kp, &o, &s, &e), 0);
	unsigned char *sig;
	size_t sl;
	assert_int_equal(sw_signer_sign(&s, "m", 1, &sig, &sl, &e), 0);
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(k, NULL);
	unsigned char md[32];
	sw_sha256("m", 1, md);
	assert_int_equal(EVP_PKEY_verify_init(pc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32), 1);
	assert_int_equal(EVP_PKEY_verify(pc, sig, sl, md, 32), 1);
	EVP_PKEY_CTX_free(pc);
	free(sig);
	sw_signer_close(&s);
	EVP_PKEY_free(k);
	free(kp);
}

static void write_key(EVP_PKEY *k, const char *path, const char *pass)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_PrivateKey(fp, k, pass ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL, (void *)pass), 1);
	fclose(fp);
}

static void expect_open_fail(const char *path, const sw_sign_opts *o, const char *needle)
{
	sw_signer s;
	sw_error e = { 0 };
	if (sw_signer_open(path, o, &s, &e) >= 0)
		fail_msg("%s opened, expected '%s'", path, needle);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' does not mention '%s'", e.msg, needle);
	assert_non_null(strstr(e.msg, strncmp(path, "pkcs11:", 7) == 0 ? "pkcs11:" : path));
}

static void test_refused_keys(void **state)
{
	fixture *f = *state;
	char *p = tu_path(f->root, "k.pem");
	sw_sign_opts o = { 0 };

	EVP_PKEY *weak = tu_keygen("rsa1024");
	write_key(weak, p, NULL);
	expect_open_fail(p, &o, "too weak");
	EVP_PKEY_free(weak);

	EVP_PKEY *p521 = tu_keygen("p521");
	write_key(p521, p, NULL);
	expect_open_fail(p, &o, "not accepted");
	EVP_PKEY_free(p521);

	EVP_PKEY *ed = tu_keygen("ed25519");
	tu_write_pub(ed, f->root, "k.pem");
	expect_open_fail(p, &o, "not a PEM private key");
	tu_writes(f->root, "k.pem", "garbage\n");
	expect_open_fail(p, &o, "not a PEM private key");
	expect_open_fail("/nonexistent/key.pem", &o, "cannot open");

	/* Encrypted: refused without a passphrase, usable with the right one. */
	write_key(ed, p, "s3cret");
	expect_open_fail(p, &o, "no passphrase");
	sw_sign_opts wrong = { .passphrase = "nope" };
	expect_open_fail(p, &wrong, "not a PEM private key");
	sw_sign_opts right = { .passphrase = "s3cret" };
	sw_signer s;
	sw_error e = { 0 };
	assert_int_equal(sw_signer_open(p, &right, &s, &e), 0);
	sw_signer_close(&s);
	EVP_PKEY_free(ed);
	free(p);
}

static void test_sign_appends_and_refuses_bad_manifest(void **state)
{
	fixture *f = *state;
	EVP_PKEY *a = tu_keygen("p256"), *b = tu_keygen("ed25519");
	char *ka = tu_path(f->root, "a.key"), *kb = tu_path(f->root, "b.key");
	write_key(a, ka, NULL);
	write_key(b, kb, NULL);
	tu_write_pub(a, f->keys, "a.pub");
	tu_write_pub(b, f->keys, "b.pub");
	/* An existing file without a final newline keeps its line intact. */
	char *line = NULL;
	{
		size_t ml;
		char *m = tu_read(f->list, "manifest", &ml);
		line = tu_sign_b64(a, m, ml, 0);
		free(m);
	}
	tu_writes(f->list, "manifest.sig", line);
	sw_signer sa, sb;
	sw_error e = { 0 };
	sw_sign_opts o = { 0 };
	assert_int_equal(sw_signer_open(ka, &o, &sa, &e), 0);
	assert_int_equal(sw_signer_open(kb, &o, &sb, &e), 0);
	sw_signer *both[] = { &sb };
	assert_int_equal(sw_list_sign(f->list, both, 1, &e), 0);
	size_t len;
	char *sig = tu_read(f->list, "manifest.sig", &len);
	assert_true(strncmp(sig, line, strlen(line)) == 0 && sig[strlen(line)] == '\n');
	assert_int_equal(sig[len - 1], '\n');
	free(sig);
	assert_int_equal(count_signers(f), 2);

	/* A file that is not a manifest is not signed, and its sig file is untouched. */
	tu_writes(f->list, "manifest", "not a manifest\n");
	sw_signer *one[] = { &sa };
	assert_true(sw_list_sign(f->list, one, 1, &e) < 0);
	assert_non_null(strstr(e.msg, "not a sigward allowlist manifest"));
	char *sig2 = tu_read(f->list, "manifest.sig", &len);
	assert_int_equal(len > 0, 1);
	free(sig2);
	assert_true(sw_list_sign("/nonexistent/dir", one, 1, &e) < 0);

	sw_signer_close(&sa);
	sw_signer_close(&sb);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	free(line);
	free(ka);
	free(kb);
}

/* A real PKCS#11 token: softhsm2, keys imported with softhsm2-util, signing through
 * OpenSSL's pkcs11 engine. Skipped only when softhsm2 is not installed. */
static void test_pkcs11_softhsm(void **state)
{
	fixture *f = *state;
	if (access(SOFTHSM_MODULE, R_OK) != 0 || system("command -v softhsm2-util >/dev/null") != 0) {
		skip();
		return;
	}
	char *tok = tu_path(f->root, "tokens");
	mkdir(tok, 0700);
	char conf[4400];
	snprintf(conf, sizeof conf, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tok);
	tu_writes(f->root, "softhsm2.conf", conf);
	char *cp = tu_path(f->root, "softhsm2.conf");
	setenv("SOFTHSM2_CONF", cp, 1);
	EVP_PKEY *ec = tu_keygen("p384"), *rsa = tu_keygen("rsa2048");
	char *ke = tu_path(f->root, "ec.pem"), *kr = tu_path(f->root, "rsa.pem");
	write_key(ec, ke, NULL);
	write_key(rsa, kr, NULL);
	tu_write_pub(ec, f->keys, "ec.pub");
	tu_write_pub(rsa, f->keys, "rsa.pub");
	char cmd[16384];
	snprintf(cmd, sizeof cmd,
		 "softhsm2-util --init-token --free --label swtest --pin 1234 --so-pin 5678 >/dev/null && "
		 "softhsm2-util --import '%s' --token swtest --label ec --id 01 --pin 1234 >/dev/null && "
		 "softhsm2-util --import '%s' --token swtest --label rsa --id 02 --pin 1234 >/dev/null",
		 ke, kr);
	assert_int_equal(system(cmd), 0);

	sw_error e = { 0 };
	sw_signer s1, s2;
	sw_sign_opts o = { 0 };
	/* First (the engine keeps a session logged in for the process): wrong PIN, missing object, missing module: one clear line each. */
	expect_open_fail("pkcs11:token=swtest;object=ec;type=private?pin-value=0000&module-path=" SOFTHSM_MODULE, &o,
			 "no usable private key");
	expect_open_fail("pkcs11:token=swtest;object=nothere;type=private?pin-value=1234&module-path=" SOFTHSM_MODULE,
			 &o, "no usable private key");
	expect_open_fail("pkcs11:token=swtest;object=ec?pin-value=1234&module-path=/nonexistent/module.so", &o,
			 "PKCS#11 module");
	const char *u1 = "pkcs11:token=swtest;object=ec;type=private?pin-value=1234&module-path=" SOFTHSM_MODULE;
	if (sw_signer_open(u1, &o, &s1, &e) < 0)
		fail_msg("pkcs11 ec: %s", e.msg);
	assert_string_equal(s1.alg, "ecdsa-p384");
	/* The PIN is never shown. */
	assert_null(strstr(s1.source, "1234"));
	sw_sign_opts pss = { .rsa_pss = true, .pkcs11_module = SOFTHSM_MODULE };
	setenv("SIGWARD_PKCS11_PIN", "1234", 1);
	if (sw_signer_open("pkcs11:token=swtest;object=rsa;type=private", &pss, &s2, &e) < 0)
		fail_msg("pkcs11 rsa: %s", e.msg);
	unsetenv("SIGWARD_PKCS11_PIN");
	assert_string_equal(s2.alg, "rsa-2048");
	sw_signer *both[] = { &s1, &s2 };
	if (sw_list_sign(f->list, both, 2, &e) < 0)
		fail_msg("sign: %s", e.msg);
	assert_int_equal(count_signers(f), 2);
	sw_signer_close(&s1);
	sw_signer_close(&s2);

	unsetenv("SOFTHSM2_CONF");
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	free(ke);
	free(kr);
	free(cp);
	free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_roundtrip),
		cmocka_unit_test_setup_teardown(test_keygen_and_sign_every_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_lines_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_pss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_appends_and_refuses_bad_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pkcs11_softhsm, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
