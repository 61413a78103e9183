/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allowlist.h"
#include "build.h"

#define NOW 1900000000LL    /* 2030-03-17 */

typedef struct fixture {
	char *root, *list, *keys, *state;
	EVP_PKEY *key;
} fixture;

static void digest_of(unsigned i, char out[SW_DIGEST_STR])
{
	char s[32];
	snprintf(s, sizeof s, "entry-%u", i);
	char hex[65];
	sw_sha256_hex(s, strlen(s), hex);
	snprintf(out, SW_DIGEST_STR, "sha256:%s", hex);
}

/* Build a list of n entries (entry-0 .. entry-n-1, every third with a reference). */
static void build(const char *dir, unsigned n, const char *scope, uint64_t serial, int64_t expires, uint32_t bins)
{
	size_t cap = n + 1;
	sw_build_entry *e = calloc(cap, sizeof *e);
	for (unsigned i = 0; i < n; i++) {
		digest_of(i, e[i].digest);
		if (i % 3 == 0) {
			e[i].ref = malloc(64);
			snprintf(e[i].ref, 64, "registry.example/app%u:v1", i);
		}
	}
	sw_build_opts o = { .scope = scope, .serial = serial, .issued = NOW - 3600, .expires = expires, .bins = bins };
	sw_error err = { 0 };
	if (sw_build_write(e, n, &o, dir, &err) < 0)
		fail_msg("build: %s", err.msg);
	sw_build_entries_free(e, n);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	f->root = tu_tmpdir();
	f->list = tu_path(f->root, "list");
	f->keys = tu_path(f->root, "keys");
	f->state = tu_path(f->root, "state");
	mkdir(f->keys, 0755);
	mkdir(f->state, 0700);
	f->key = tu_keygen("ed25519");
	tu_write_pub(f->key, f->keys, "k1.pub");
	build(f->list, 1000, "test", 5, NOW + 86400, 0);
	tu_sign_list(f->key, f->list, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tu_rmrf(f->root);
	EVP_PKEY_free(f->key);
	free(f->root);
	free(f->list);
	free(f->keys);
	free(f->state);
	free(f);
	return 0;
}

static sw_verify_opts opts(fixture *f)
{
	return (sw_verify_opts){ .scope = "test", .threshold = 1, .now = NOW, .grace = 0, .keys_dir = f->keys,
				 .state_dir = f->state, .use_cache = true, .update_state = true };
}

static int verify(fixture *f, const sw_verify_opts *o, sw_error *e)
{
	sw_list l;
	int r = sw_list_open_dir(f->list, &l, e);
	if (r >= 0)
		r = sw_list_verify(&l, o, e);
	sw_list_close(&l);
	return r;
}

static void expect_fail(fixture *f, const sw_verify_opts *o, const char *needle)
{
	sw_error e = { 0 };
	int r = verify(f, o, &e);
	if (r >= 0)
		fail_msg("expected failure containing '%s'", needle);
	if (!strstr(e.msg, needle))
		fail_msg("message '%s' lacks '%s'", e.msg, needle);
}

static void test_verify_and_lookup(void **state)
{
	fixture *f = *state;
	sw_verify_opts o = opts(f);
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_dir(f->list, &l, &e), 0);
	assert_int_equal(sw_list_verify(&l, &o, &e), 0);
	assert_int_equal(l.n_signers, 1);
	assert_string_equal(l.scope, "test");
	assert_int_equal(l.serial, 5);
	assert_int_equal(l.n_entries, 1000);
	assert_int_equal(l.n_bins, 32);
	for (unsigned i = 0; i < 1000; i++) {
		char d[SW_DIGEST_STR], ref[SW_REF_MAX + 1];
		digest_of(i, d);
		int r = sw_list_lookup(&l, d, NULL, ref, sizeof ref, &e);
		if (r != 1)
			fail_msg("entry %u not found (%d: %s)", i, r, e.msg);
		if (i % 3 == 0) {
			char want[64];
			snprintf(want, sizeof want, "registry.example/app%u:v1", i);
			assert_string_equal(ref, want);
		} else {
			assert_string_equal(ref, "");
		}
	}
	for (unsigned i = 1000; i < 3000; i++) {
		char d[SW_DIGEST_STR];
		digest_of(i, d);
		assert_int_equal(sw_list_lookup(&l, d, NULL, NULL, 0, &e), 0);
	}
	assert_true(sw_list_lookup(&l, "sha256:xyz", NULL, NULL, 0, &e) < 0);
	sw_list_close(&l);
}

/* The enforcement path opens `current` lazily: same answers, same refusals. */
static void test_lazy_current(void **state)
{
	fixture *f = *state;
	char *cur = tu_path(f->root, "current");
	assert_int_equal(symlink("list", cur), 0);
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_current_lazy(f->root, &l, &e), 0);
	assert_null(l.bins);
	sw_verify_opts o = opts(f);
	assert_int_equal(sw_list_verify(&l, &o, &e), 0);
	for (unsigned i = 0; i < 3000; i++) {
		char d[SW_DIGEST_STR];
		digest_of(i, d);
		assert_int_equal(sw_list_lookup(&l, d, NULL, NULL, 0, &e), i < 1000 ? 1 : 0);
	}
	sw_list_close(&l);
	/* a bin line naming the wrong index is refused when that bin is needed */
	size_t len;
	char *m = tu_read(f->list, "manifest", &len);
	char *b3 = strstr(m, "\nbin 3 ");
	assert_non_null(b3);
	b3[5] = '4';
	tu_write(f->list, "manifest", m, len);
	free(m);
	assert_int_equal(sw_list_open_current_lazy(f->root, &l, &e), 0);
	int refused = 0;
	for (unsigned i = 0; i < 1000; i++) {
		char d[SW_DIGEST_STR];
		digest_of(i, d);
		if (sw_list_lookup(&l, d, NULL, NULL, 0, &e) < 0) {
			refused++;
			assert_non_null(strstr(e.msg, "out of order"));
		}
	}
	assert_true(refused > 0);
	sw_list_close(&l);
	/* a missing last line is refused */
	m = tu_read(f->list, "manifest", &len);
	tu_write(f->list, "manifest", m, (size_t)(strrchr(m, 'b') - m));
	free(m);
	assert_true(sw_list_open_current_lazy(f->root, &l, &e) < 0 ||
		    sw_list_lookup(&l, "sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL, NULL, 0, &e) < 0);
	sw_list_close(&l);
	free(cur);
}

static void test_single_bin_and_empty(void **state)
{
	fixture *f = *state;
	char *d1 = tu_path(f->root, "one");
	build(d1, 7, "test", 1, NOW + 10, 1);
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_dir(d1, &l, &e), 0);
	assert_int_equal(l.n_bins, 1);
	for (unsigned i = 0; i < 7; i++) {
		char d[SW_DIGEST_STR];
		digest_of(i, d);
		assert_int_equal(sw_list_lookup(&l, d, NULL, NULL, 0, &e), 1);
	}
	sw_list_close(&l);
	char *d0 = tu_path(f->root, "empty");
	build(d0, 0, "test", 1, NOW + 10, 0);
	assert_int_equal(sw_list_open_dir(d0, &l, &e), 0);
	char d[SW_DIGEST_STR];
	digest_of(0, d);
	assert_int_equal(sw_list_lookup(&l, d, NULL, NULL, 0, &e), 0);
	sw_list_close(&l);
	free(d1);
	free(d0);
}

static void flip(const char *dir, const char *name, size_t at)
{
	size_t len;
	char *b = tu_read(dir, name, &len);
	assert_true(at < len);
	b[at] ^= 0x01;
	tu_write(dir, name, b, len);
	free(b);
}

/* Change one base64 character to another valid one, so the line still decodes. */
static void flip_b64(const char *dir, const char *name, size_t at)
{
	size_t len;
	char *b = tu_read(dir, name, &len);
	assert_true(at < len);
	b[at] = b[at] == 'A' ? 'B' : 'A';
	tu_write(dir, name, b, len);
	free(b);
}

static void replace_in(const char *dir, const char *name, const char *from, const char *to)
{
	size_t len;
	char *b = tu_read(dir, name, &len);
	char *p = strstr(b, from);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
	tu_write(dir, name, b, len);
	free(b);
}

static void test_tampering(void **state)
{
	fixture *f = *state;
	sw_verify_opts o = opts(f);
	o.use_cache = false;
	sw_error e = { 0 };
	/* a changed claim in the manifest: the signature no longer verifies */
	replace_in(f->list, "manifest", "serial 5\n", "serial 7\n");
	expect_fail(f, &o, "0 valid signatures");
	replace_in(f->list, "manifest", "serial 7\n", "serial 5\n");
	assert_int_equal(verify(f, &o, &e), 0);
	/* a structural flip is refused too, before anything is believed */
	flip(f->list, "manifest", 40);
	assert_true(verify(f, &o, &e) < 0);
	flip(f->list, "manifest", 40);

	/* changed byte in the signature */
	size_t slen;
	char *sig = tu_read(f->list, "manifest.sig", &slen);
	flip_b64(f->list, "manifest.sig", 10);
	expect_fail(f, &o, "0 valid signatures");
	tu_write(f->list, "manifest.sig", sig, slen);
	free(sig);

	/* flipped byte in the entries: the bin's hash catches it at lookup */
	flip(f->list, "entries", 100);
	sw_list l;
	assert_int_equal(sw_list_open_dir(f->list, &l, &e), 0);
	assert_int_equal(sw_list_verify(&l, &o, &e), 0);
	int errors = 0;
	for (unsigned i = 0; i < 1000; i++) {
		char d[SW_DIGEST_STR];
		digest_of(i, d);
		if (sw_list_lookup(&l, d, NULL, NULL, 0, &e) < 0) {
			errors++;
			assert_non_null(strstr(e.msg, "does not match its hash"));
		}
	}
	assert_true(errors > 0);
	sw_list_close(&l);
	flip(f->list, "entries", 100);

	/* entries of another size (mix-and-match / truncation) */
	size_t len;
	char *b = tu_read(f->list, "entries", &len);
	tu_write(f->list, "entries", b, len - 1);
	assert_int_equal(sw_list_open_dir(f->list, &l, &e), 0);
	char d[SW_DIGEST_STR];
	digest_of(0, d);
	assert_true(sw_list_lookup(&l, d, NULL, NULL, 0, &e) < 0);
	assert_non_null(strstr(e.msg, "the manifest says"));
	sw_list_close(&l);
	tu_write(f->list, "entries", b, len);
	free(b);

	/* garbage signature line, missing signature file */
	tu_writes(f->list, "manifest.sig", "not*base64\n");
	expect_fail(f, &o, "not a base64 signature");
	char *p = tu_path(f->list, "manifest.sig");
	unlink(p);
	free(p);
	expect_fail(f, &o, "not signed");
}

static void test_keys_and_threshold(void **state)
{
	fixture *f = *state;
	sw_verify_opts o = opts(f);
	o.use_cache = false;
	/* signature by an untrusted key only */
	EVP_PKEY *other = tu_keygen("p256");
	tu_writes(f->list, "manifest.sig", "");
	tu_sign_list(other, f->list, 0);
	expect_fail(f, &o, "0 valid signatures");

	/* threshold 2: one trusted signature is not enough, the same key twice neither */
	tu_writes(f->list, "manifest.sig", "");
	tu_sign_list(f->key, f->list, 0);
	tu_sign_list(f->key, f->list, 0);
	o.threshold = 2;
	expect_fail(f, &o, "1 valid signature by trusted keys, 2 required");
	/* trust the second key and add its signature: accepted */
	tu_write_pub(other, f->keys, "k2.pub");
	tu_sign_list(other, f->list, 0);
	sw_error e = { 0 };
	assert_int_equal(verify(f, &o, &e), 0);
	EVP_PKEY_free(other);

	/* RSA PSS and PKCS#1 v1.5, ECDSA P-384 */
	const char *algs[] = { "rsa3072", "rsa3072", "p384" };
	for (int i = 0; i < 3; i++) {
		EVP_PKEY *k = tu_keygen(algs[i]);
		char name[16];
		snprintf(name, sizeof name, "x%d.pub", i);
		char *kd = tu_path(f->root, name);
		mkdir(kd, 0755);
		tu_write_pub(k, kd, "k.pub");
		tu_writes(f->list, "manifest.sig", "");
		tu_sign_list(k, f->list, i == 0);
		sw_verify_opts o2 = opts(f);
		o2.keys_dir = kd;
		o2.use_cache = false;
		assert_int_equal(verify(f, &o2, &e), 0);
		EVP_PKEY_free(k);
		free(kd);
	}
}

static void test_policy(void **state)
{
	fixture *f = *state;
	sw_verify_opts o = opts(f);
	sw_error e = { 0 };
	o.scope = "prod";
	expect_fail(f, &o, "is for scope 'test', this node is configured for 'prod'");
	o = opts(f);
	o.now = NOW + 86400;
	expect_fail(f, &o, "expired at");
	o.grace = 60;
	assert_int_equal(verify(f, &o, &e), 0);
	o.now = NOW + 86400 + 60;
	expect_fail(f, &o, "grace period over");

	/* rollback: serial 5 accepted, then serial 4 refused; serial 6 raises */
	o = opts(f);
	assert_int_equal(verify(f, &o, &e), 0);
	uint64_t s = 0;
	assert_int_equal(sw_serial_get(f->state, "test", &s, &e), 0);
	assert_int_equal(s, 5);
	build(f->list, 10, "test", 4, NOW + 86400, 0);
	tu_sign_list(f->key, f->list, 0);
	expect_fail(f, &o, "older than serial 5");
	build(f->list, 10, "test", 6, NOW + 86400, 0);
	tu_sign_list(f->key, f->list, 0);
	assert_int_equal(verify(f, &o, &e), 0);
	assert_int_equal(sw_serial_get(f->state, "test", &s, &e), 0);
	assert_int_equal(s, 6);
	/* other scopes are independent and kept */
	assert_int_equal(sw_serial_raise(f->state, "prod", 9, &e), 0);
	assert_int_equal(sw_serial_get(f->state, "test", &s, &e), 0);
	assert_int_equal(s, 6);
	assert_int_equal(sw_serial_get(f->state, "prod", &s, &e), 0);
	assert_int_equal(s, 9);
	/* never lowered */
	assert_int_equal(sw_serial_raise(f->state, "prod", 3, &e), 0);
	assert_int_equal(sw_serial_get(f->state, "prod", &s, &e), 0);
	assert_int_equal(s, 9);
	/* dry run does not raise */
	build(f->list, 10, "test", 7, NOW + 86400, 0);
	tu_sign_list(f->key, f->list, 0);
	o.update_state = false;
	assert_int_equal(verify(f, &o, &e), 0);
	assert_int_equal(sw_serial_get(f->state, "test", &s, &e), 0);
	assert_int_equal(s, 6);
	/* a corrupt serial file denies */
	tu_writes(f->state, "serials", "test five\n");
	expect_fail(f, &o, "expected '<scope> <serial>'");
}

static void test_cache(void **state)
{
	fixture *f = *state;
	sw_verify_opts o = opts(f);
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_dir(f->list, &l, &e), 0);
	assert_int_equal(sw_list_verify(&l, &o, &e), 0);
	assert_false(l.from_cache);
	sw_list_close(&l);
	assert_int_equal(sw_list_open_dir(f->list, &l, &e), 0);
	assert_int_equal(sw_list_verify(&l, &o, &e), 0);
	assert_true(l.from_cache);
	assert_int_equal(l.n_signers, 1);
	sw_list_close(&l);

	/* a changed signature file misses the cache and is checked for real */
	size_t slen;
	char *sig = tu_read(f->list, "manifest.sig", &slen);
	flip_b64(f->list, "manifest.sig", 10);
	expect_fail(f, &o, "0 valid signatures");
	tu_write(f->list, "manifest.sig", sig, slen);
	free(sig);
	/* a changed key set misses the cache: the signer's key removed */
	EVP_PKEY *other = tu_keygen("ed25519");
	char *k1 = tu_path(f->keys, "k1.pub");
	unlink(k1);
	tu_write_pub(other, f->keys, "k2.pub");
	expect_fail(f, &o, "0 valid signatures");
	/* restoring the signer's key: a new key set, checked for real, accepted */
	tu_write_pub(f->key, f->keys, "k1.pub");
	assert_int_equal(verify(f, &o, &e), 0);
	EVP_PKEY_free(other);
	free(k1);
}

static void expect_parse_fail(const char *text, const char *needle)
{
	sw_list l = { .dirfd = -1 };
	sw_error e = { 0 };
	if (sw_manifest_parse(text, strlen(text), "m", &l, &e) >= 0)
		fail_msg("parsed: %s", text);
	if (!strstr(e.msg, needle))
		fail_msg("message '%s' lacks '%s'", e.msg, needle);
	free(l.bins);
}

#define HDR "sigward-allowlist 1\nscope test\nserial 1\nissued 2026-01-01T00:00:00Z\nexpires 2027-01-01T00:00:00Z\n"
#define H64 "0000000000000000000000000000000000000000000000000000000000000000"

static void test_manifest_parse(void **state)
{
	(void)state;
	sw_list l = { .dirfd = -1 };
	sw_error e = { 0 };
	const char *ok = HDR "entries 1\nbins 2\nbin 0 0 72 1 " H64 "\nbin 1 72 0 0 " H64 "\n";
	assert_int_equal(sw_manifest_parse(ok, strlen(ok), "m", &l, &e), 0);
	assert_int_equal(l.bin_bits, 1);
	free(l.bins);
	expect_parse_fail("", "not a sigward allowlist");
	expect_parse_fail("sigward-allowlist 3\n", "unsupported format version");
	expect_parse_fail("sigward-allowlist 0\n", "unsupported format version");
	expect_parse_fail(HDR "entries 1\nbins 3\n", "power of two");
	expect_parse_fail(HDR "entries 1\nbins 1\nbin 0 0 72 1 " H64, "not terminated");
	expect_parse_fail(HDR "entries 1\nbins 1\n", "unexpected end");
	expect_parse_fail(HDR "entries 2\nbins 1\nbin 0 0 72 1 " H64 "\n", "header says 2");
	expect_parse_fail(HDR "entries 1\nbins 2\nbin 0 0 72 1 " H64 "\nbin 1 80 0 0 " H64 "\n", "not contiguous");
	expect_parse_fail(HDR "entries 1\nbins 2\nbin 1 0 72 1 " H64 "\nbin 0 72 0 0 " H64 "\n", "out of order");
	expect_parse_fail(HDR "entries 1\nbins 1\nbin 0 0 72 1 " H64 "\nextra\n", "after the last bin");
	expect_parse_fail(HDR "entries 1\nbins 1\nbin 0 0 72 1 xyz\n", "expected 'bin");
	expect_parse_fail(HDR "entries 1\nbins 1\nbin 0 0 10 5 " H64 "\n", "impossible size");
	expect_parse_fail("sigward-allowlist 1\nscope a/b\n", "scope must be");
	expect_parse_fail("sigward-allowlist 1\nscope test\nserial -1\n", "serial is not");
	expect_parse_fail("sigward-allowlist 1\nscope test\nserial 1\nissued yesterday\n", "RFC 3339");
	expect_parse_fail("sigward-allowlist 1\nscope test\nserial 1\nissued 2027-01-01T00:00:00Z\n"
			  "expires 2026-01-01T00:00:00Z\nentries 0\nbins 1\nbin 0 0 0 0 " H64 "\n", "not after issued");
	expect_parse_fail("sigward-allowlist 1\nscope test\nserial 99999999999999999999999\n", "serial is not");
	char nul[] = HDR "entries 0\nbins 1\nbin 0 0 0 0 " H64 "\n";
	sw_list l2 = { .dirfd = -1 };
	nul[30] = '\0';
	assert_true(sw_manifest_parse(nul, sizeof nul - 1, "m", &l2, &e) < 0);
	assert_non_null(strstr(e.msg, "NUL"));
	free(l2.bins);
}

static void test_build_input(void **state)
{
	(void)state;
	sw_build_entry *e = NULL;
	size_t n = 0, cap = 0;
	sw_error err = { 0 };
	const char *in = "# comment\n\n sha256:" H64 " \nreg.example/a:v1@sha256:" H64 "\r\n";
	assert_int_equal(sw_build_parse_input(in, strlen(in), "in", &e, &n, &cap, &err), 0);
	assert_int_equal(n, 2);
	assert_null(e[0].ref);
	assert_string_equal(e[1].ref, "reg.example/a:v1");
	const char *bad[] = { "sha256:abc\n", "sha512:" H64 "\n", "a b@sha256:" H64 "\n", "@sha256:" H64 "\n",
			      H64 "\n", "sha256:" H64 "0\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n2 = 0, cap2 = 0;
		sw_build_entry *e2 = NULL;
		assert_true(sw_build_parse_input(bad[i], strlen(bad[i]), "in", &e2, &n2, &cap2, &err) < 0);
		assert_non_null(strstr(err.msg, "in:1:"));
		sw_build_entries_free(e2, n2);
	}
	sw_build_entries_free(e, n);
}

#define DM "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define DI "sha256:8888888888888888888888888888888888888888888888888888888888888888"
#define DX "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

/* A list of a manifest digest DM (with a reference) and an image id DI. */
static void build_kinds(const char *dir, unsigned format)
{
	sw_build_entry *e = calloc(2, sizeof *e);
	snprintf(e[0].digest, sizeof e[0].digest, "%s", DI);
	e[0].kind = SW_ENTRY_IMAGE_ID;
	snprintf(e[1].digest, sizeof e[1].digest, "%s", DM);
	e[1].kind = SW_ENTRY_MANIFEST;
	e[1].ref = strdup("reg.example/app:v1");
	sw_build_opts o = { .scope = "test", .serial = 1, .issued = NOW - 3600, .expires = NOW + 3600, .bins = 2,
			    .format = format };
	sw_error err = { 0 };
	if (sw_build_write(e, 2, &o, dir, &err) < 0)
		fail_msg("build: %s", err.msg);
	sw_build_entries_free(e, 2);
}

static int lookup_kind(const char *dir, const char *digest, const char *kind, char *ref, size_t rl)
{
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_dir(dir, &l, &e), 0);
	int r = sw_list_lookup(&l, digest, kind, ref, rl, &e);
	if (r < 0)
		fail_msg("lookup %s: %s", digest, e.msg);
	sw_list_close(&l);
	return r;
}

/* A digest matches only an entry of its kind (format 2). */
static void test_kinds(void **state)
{
	(void)state;
	char *root = tu_tmpdir();
	char *dir = tu_path(root, "v2");
	build_kinds(dir, 0);
	char *man = tu_read(dir, "manifest", NULL), *ent = tu_read(dir, "entries", NULL);
	assert_non_null(strstr(man, "sigward-allowlist 2\n"));
	assert_string_equal(ent, DM " manifest reg.example/app:v1\n" DI " image-id\n");

	char ref[SW_REF_MAX + 1];
	/* the manifest entry: manifest and index digests, Docker's repository
	 * digests ("unknown"); never an image id */
	assert_int_equal(lookup_kind(dir, DM, "manifest", ref, sizeof ref), 1);
	assert_string_equal(ref, "reg.example/app:v1");
	assert_int_equal(lookup_kind(dir, DM, "index", NULL, 0), 1);
	assert_int_equal(lookup_kind(dir, DM, "unknown", NULL, 0), 1);
	assert_int_equal(lookup_kind(dir, DM, "image-id", NULL, 0), 0);
	/* the image-id entry: only an image id */
	assert_int_equal(lookup_kind(dir, DI, "image-id", ref, sizeof ref), 1);
	assert_string_equal(ref, "");
	assert_int_equal(lookup_kind(dir, DI, "manifest", NULL, 0), 0);
	assert_int_equal(lookup_kind(dir, DI, "index", NULL, 0), 0);
	assert_int_equal(lookup_kind(dir, DI, "unknown", NULL, 0), 0);
	/* a kind sigward does not know matches nothing; "any" and NULL everything */
	assert_int_equal(lookup_kind(dir, DM, "config", NULL, 0), 0);
	assert_int_equal(lookup_kind(dir, DI, "", NULL, 0), 0);
	assert_int_equal(lookup_kind(dir, DM, "any", NULL, 0), 1);
	assert_int_equal(lookup_kind(dir, DI, NULL, NULL, 0), 1);
	assert_int_equal(lookup_kind(dir, DX, "any", NULL, 0), 0);
	/* the lazy open (the hook's) reads the same */
	char *lists = tu_path(root, "lists");
	assert_int_equal(mkdir(lists, 0755), 0);
	char *cur = tu_path(lists, "current");
	assert_int_equal(symlink(dir, cur), 0);
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_current_lazy(lists, &l, &e), 0);
	sw_entry_kind k = SW_ENTRY_UNTYPED;
	assert_int_equal(sw_list_find(&l, DI, &k, NULL, 0, &e), 1);
	assert_int_equal(k, SW_ENTRY_IMAGE_ID);
	assert_int_equal(sw_list_lookup(&l, DI, "manifest", NULL, 0, &e), 0);
	assert_int_equal(sw_list_lookup(&l, DM, "manifest", NULL, 0, &e), 1);
	sw_list_close(&l);

	/* a format 2 line without its kind, or with another word, is malformed */
	const char *bad[] = { DM "\n", DM " Manifest\n", DM " image-idx\n", DM " untyped\n", DM " manifest \n",
			      DM "  manifest\n", DM " manifest\tx\n" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++)
		assert_int_equal(sw_entry_parse(bad[i], strlen(bad[i]), 2, NULL, NULL, NULL), 0);
	const char *good = DM " image-id r@x\n";
	sw_entry_kind gk;
	const char *gr;
	size_t grl;
	assert_int_equal(sw_entry_parse(good, strlen(good), 2, &gk, &gr, &grl), strlen(good));
	assert_int_equal(gk, SW_ENTRY_IMAGE_ID);
	assert_int_equal(grl, 3);
	/* in format 1 the same word is a reference */
	good = DM " manifest\n";
	assert_int_equal(sw_entry_parse(good, strlen(good), 1, &gk, &gr, &grl), strlen(good));
	assert_int_equal(gk, SW_ENTRY_UNTYPED);
	assert_int_equal(grl, 8);

	/* the full entries check (install, verify) refuses a v1 line in a v2 list */
	tu_writes(dir, "entries", DM " reg.example/app:v1\n" DI " image-id\n");
	sw_list fl;
	assert_int_equal(sw_list_open_dir(dir, &fl, &e), 0);
	char ref2[64];
	/* the bin hash catches it first at lookup */
	assert_true(sw_list_lookup(&fl, DM, "manifest", ref2, sizeof ref2, &e) < 0);
	sw_list_close(&fl);

	free(man);
	free(ent);
	free(cur);
	free(lists);
	free(dir);
	tu_rmrf(root);
	free(root);
}

/* Lists of format 1, as `sigward allowlist build` wrote them before kinds:
 * still read, every entry untyped and matching a digest of any kind. */
static void test_old_lists(void **state)
{
	(void)state;
	char *root = tu_tmpdir();
	char *dir = tu_path(root, "v1");
	build_kinds(dir, 1);
	char *man = tu_read(dir, "manifest", NULL), *ent = tu_read(dir, "entries", NULL);
	assert_non_null(strstr(man, "sigward-allowlist 1\n"));
	/* byte for byte what the old builder wrote */
	assert_string_equal(ent, DM " reg.example/app:v1\n" DI "\n");
	char ref[SW_REF_MAX + 1];
	const char *kinds[] = { "manifest", "index", "image-id", "unknown", "any" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(kinds); i++) {
		assert_int_equal(lookup_kind(dir, DM, kinds[i], ref, sizeof ref), 1);
		assert_string_equal(ref, "reg.example/app:v1");
		assert_int_equal(lookup_kind(dir, DI, kinds[i], NULL, 0), 1);
		assert_int_equal(lookup_kind(dir, DX, kinds[i], NULL, 0), 0);
	}
	sw_list l;
	sw_error e = { 0 };
	sw_entry_kind k = SW_ENTRY_MANIFEST;
	assert_int_equal(sw_list_open_dir(dir, &l, &e), 0);
	assert_int_equal(l.format, 1);
	assert_int_equal(sw_list_find(&l, DI, &k, NULL, 0, &e), 1);
	assert_int_equal(k, SW_ENTRY_UNTYPED);
	sw_list_close(&l);
	free(man);
	free(ent);
	free(dir);
	tu_rmrf(root);
	free(root);
}

static void test_build_kinds(void **state)
{
	(void)state;
	sw_build_entry *e = NULL;
	size_t n = 0, cap = 0;
	sw_error err = { 0 };
	const char *in = "image-id sha256:" H64 "\nimage-id\treg.example/a:v1@sha256:" H64 "\n"
			 "manifest reg.example/a:v1@" DM "\n" DX "\n";
	assert_int_equal(sw_build_parse_input(in, strlen(in), "in", &e, &n, &cap, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].kind, SW_ENTRY_IMAGE_ID);
	assert_null(e[0].ref);
	assert_int_equal(e[1].kind, SW_ENTRY_IMAGE_ID);
	assert_string_equal(e[1].ref, "reg.example/a:v1");
	assert_int_equal(e[2].kind, SW_ENTRY_MANIFEST);
	assert_int_equal(e[3].kind, SW_ENTRY_MANIFEST);
	char *root = tu_tmpdir(), *dir = tu_path(root, "l");
	sw_build_opts o = { .scope = "test", .serial = 1, .issued = NOW - 3600, .expires = NOW + 3600 };
	assert_int_equal(sw_build_write(e, n, &o, dir, &err), 0);
	char *ent = tu_read(dir, "entries", NULL);
	assert_string_equal(ent, "sha256:" H64 " image-id reg.example/a:v1\n" DM " manifest reg.example/a:v1\n" DX " manifest\n");
	free(ent);
	sw_build_entries_free(e, n);

	/* one digest as both kinds: refused, naming both input lines */
	e = NULL;
	n = cap = 0;
	in = "reg.example/a:v1@" DM "\n# the forged image's id\nimage-id " DM "\n";
	assert_int_equal(sw_build_parse_input(in, strlen(in), "list.txt", &e, &n, &cap, &err), 0);
	assert_true(sw_build_write(e, n, &o, dir, &err) < 0);
	assert_non_null(strstr(err.msg, "list.txt:3"));
	assert_non_null(strstr(err.msg, "list.txt:1"));
	assert_non_null(strstr(err.msg, "cannot be both"));
	/* format 1 has no kinds: one untyped entry */
	o.format = 1;
	assert_int_equal(sw_build_write(e, n, &o, dir, &err), 0);
	ent = tu_read(dir, "entries", NULL);
	assert_string_equal(ent, DM " reg.example/a:v1\n");
	free(ent);
	o.format = 3;
	assert_true(sw_build_write(e, n, &o, dir, &err) < 0);
	sw_build_entries_free(e, n);

	const char *bad[] = { "image-id\n", "image-id \n", "image-idsha256:" H64 "\n", "imageid sha256:" H64 "\n",
			      "image-id image-id sha256:" H64 "\n", "config sha256:" H64 "\n" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		size_t n2 = 0, cap2 = 0;
		sw_build_entry *e2 = NULL;
		if (sw_build_parse_input(bad[i], strlen(bad[i]), "in", &e2, &n2, &cap2, &err) >= 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err.msg, "in:1:"));
		sw_build_entries_free(e2, n2);
	}
	free(dir);
	tu_rmrf(root);
	free(root);
}

/* ------------------------------------------------------------- list index */

/* The hook's open and verification with the list index in f->state. */
static int open_indexed(fixture *f, sw_list *l, sw_error *e)
{
	sw_verify_opts o = opts(f);
	int r = sw_list_open_current_indexed(f->root, f->state, l, e);
	return r < 0 ? r : sw_list_verify(l, &o, e);
}

/* Every entry found, 2 000 others not: the answers of the manifest. */
static void expect_answers(const sw_list *l)
{
	sw_error e = { 0 };
	for (unsigned i = 0; i < 3000; i++) {
		char d[SW_DIGEST_STR];
		digest_of(i, d);
		int r = sw_list_lookup(l, d, NULL, NULL, 0, &e);
		if (r != (i < 1000))
			fail_msg("entry %u: %d (%s)", i, r, e.msg);
	}
}

/* A generation whose manifest is old enough to be indexed (INDEX_SETTLE_MS). */
static void settle(void)
{
	usleep(80 * 1000);
}

static void test_index_used(void **state)
{
	fixture *f = *state;
	char *cur = tu_path(f->root, "current");
	assert_int_equal(symlink("list", cur), 0);
	settle();
	sw_list l;
	sw_error e = { 0 };
	/* first start: no index, the manifest is read and verified; the index is written */
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_false(l.indexed);
	assert_non_null(l.manifest);
	expect_answers(&l);
	sw_list_close(&l);
	struct stat st;
	char *idx = tu_path(f->state, "listindex");
	assert_int_equal(stat(idx, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 288 + 32 * 64);
	/* second start: from the index, the manifest never read */
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_true(l.indexed);
	assert_null(l.manifest);
	assert_true(l.from_cache);
	assert_string_equal(l.scope, "test");
	assert_int_equal(l.serial, 5);
	assert_int_equal(l.n_bins, 32);
	/* The manifest emptied in place after the open (the same file, still
	 * the identity the index names): the index alone answers; a lookup that
	 * read the manifest would find it changed and fail. */
	char *m = tu_path(f->list, "manifest");
	size_t mlen;
	char *mtext = tu_read(f->list, "manifest", &mlen);
	assert_int_equal(truncate(m, 0), 0);
	expect_answers(&l);
	assert_true(l.indexed);
	sw_list_close(&l);
	tu_write(f->list, "manifest", mtext, mlen);
	free(mtext);
	free(m);
	free(idx);
	free(cur);
}

/* `current` -> list, old enough to be indexed, opened once: the index is
 * written. Returns the link's path. */
static char *indexed_current(fixture *f)
{
	char *cur = tu_path(f->root, "current");
	assert_int_equal(symlink("list", cur), 0);
	settle();
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(open_indexed(f, &l, &e), 0);
	sw_list_close(&l);
	return cur;
}

static void test_index_identity(void **state)
{
	fixture *f = *state;
	char *cur = indexed_current(f);
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_true(l.indexed);
	sw_list_close(&l);

	/* a new generation with the same bytes: another directory, another file */
	char *gen2 = tu_path(f->root, "gen2");
	assert_int_equal(mkdir(gen2, 0755), 0);
	const char *files[] = { "manifest", "entries", "manifest.sig" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(files); i++) {
		size_t len;
		char *b = tu_read(f->list, files[i], &len);
		tu_write(gen2, files[i], b, len);
		free(b);
	}
	assert_int_equal(unlink(cur), 0);
	assert_int_equal(symlink("gen2", cur), 0);
	settle();
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_false(l.indexed);
	expect_answers(&l);
	sw_list_close(&l);
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_true(l.indexed);
	sw_list_close(&l);

	/* the manifest rewritten in place with the same bytes: new times */
	size_t len;
	char *b = tu_read(gen2, "manifest", &len);
	tu_write(gen2, "manifest", b, len);
	free(b);
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_false(l.indexed);
	sw_list_close(&l);
	/* ...and a manifest younger than the settle time got no index */
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_false(l.indexed);
	sw_list_close(&l);
	settle();
	assert_int_equal(open_indexed(f, &l, &e), 0);
	sw_list_close(&l);
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_true(l.indexed);
	sw_list_close(&l);

	/* another key set: the index still names the file, but the verification
	 * cache does not, so the manifest is read and its signatures checked */
	EVP_PKEY *other = tu_keygen("ed25519");
	tu_write_pub(other, f->keys, "k2.pub");
	assert_int_equal(sw_list_open_current_indexed(f->root, f->state, &l, &e), 0);
	assert_true(l.indexed);
	sw_verify_opts o = opts(f);
	assert_int_equal(sw_list_verify(&l, &o, &e), 0);
	assert_false(l.indexed);
	assert_false(l.from_cache);
	expect_answers(&l);
	sw_list_close(&l);
	/* the signer's key gone: refused, index or not */
	char *k1 = tu_path(f->keys, "k1.pub");
	assert_int_equal(unlink(k1), 0);
	e = (sw_error){ 0 };
	assert_true(open_indexed(f, &l, &e) < 0);
	assert_non_null(strstr(e.msg, "0 valid signatures"));
	sw_list_close(&l);
	EVP_PKEY_free(other);
	free(k1);
	free(gen2);
	free(cur);
}

/* Change the index in state_dir at byte `at` (NULL: truncate to `at`). */
static void edit_index(fixture *f, size_t at, const unsigned char *bytes, size_t n)
{
	size_t len;
	char *b = tu_read(f->state, "listindex", &len);
	assert_true(at + n <= len);
	if (bytes)
		memcpy(b + at, bytes, n);
	tu_write(f->state, "listindex", b, bytes ? len : at);
	free(b);
}

static void test_index_tampered(void **state)
{
	fixture *f = *state;
	char *cur = indexed_current(f);
	sw_list l;
	sw_error e = { 0 };
	size_t good_len;
	char *good = tu_read(f->state, "listindex", &good_len);

	/* a garbled header (the serial): not used */
	unsigned char x = 0x7f;
	edit_index(f, 144, &x, 1);
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_false(l.indexed);
	assert_int_equal(l.serial, 5);
	expect_answers(&l);
	sw_list_close(&l);

	/* Truncated after the header, or a record garbled, or a bin hash
	 * changed (and the record's check made to fit it, as only root could):
	 * the index is opened, and every lookup it cannot answer is asked of
	 * the manifest, with the manifest's answers. */
	for (int k = 0; k < 3; k++) {
		tu_write(f->state, "listindex", good, good_len);
		if (k == 0) {
			edit_index(f, 288 + 64, NULL, 0);
		} else {
			/* every record: its bin hash changed */
			for (uint32_t i = 0; i < 32; i++) {
				size_t at = 288 + (size_t)i * 64;
				unsigned char rec[64];
				memcpy(rec, good + at, 64);
				rec[24] ^= 0x01;
				if (k == 2) {
					unsigned char buf[32 + 4 + 56], md[32];
					memcpy(buf, good + 104, 32);     /* the manifest's SHA-256 (header byte 104) */
					memcpy(buf + 32, &i, 4);
					memcpy(buf + 36, rec, 56);
					sw_sha256(buf, sizeof buf, md);
					memcpy(rec + 56, md, 8);
				}
				edit_index(f, at, rec, 64);
			}
		}
		assert_int_equal(open_indexed(f, &l, &e), 0);
		assert_true(l.indexed);
		expect_answers(&l);
		sw_list_close(&l);
	}

	/* the good index back, the entries file swapped for another list's:
	 * refused (the size the manifest fixed), and a byte changed in a bin:
	 * refused, for the digest whose line it is and for its neighbours */
	tu_write(f->state, "listindex", good, good_len);
	size_t elen;
	char *entries = tu_read(f->list, "entries", &elen);
	char *other = tu_path(f->root, "other");
	build(other, 1001, "test", 5, NOW + 86400, 0);
	size_t olen;
	char *oentries = tu_read(other, "entries", &olen);
	tu_write(f->list, "entries", oentries, olen);
	char d0[SW_DIGEST_STR];
	digest_of(0, d0);
	assert_int_equal(sw_list_open_current_indexed(f->root, f->state, &l, &e), 0);
	assert_true(l.indexed);
	sw_verify_opts o = opts(f);
	assert_int_equal(sw_list_verify(&l, &o, &e), 0);
	e = (sw_error){ 0 };
	assert_true(sw_list_lookup(&l, d0, NULL, NULL, 0, &e) < 0);
	assert_non_null(strstr(e.msg, "the manifest says"));
	sw_list_close(&l);
	/* entry 0's digest with its last hex digit changed: an unlisted digest
	 * in place of a listed one, same size */
	char *line = strstr(entries, d0);
	assert_non_null(line);
	line[7 + 63] = line[7 + 63] == '0' ? '1' : '0';
	char dx[SW_DIGEST_STR];
	memcpy(dx, line, 7 + 64);
	dx[7 + 64] = '\0';
	tu_write(f->list, "entries", entries, elen);
	assert_int_equal(open_indexed(f, &l, &e), 0);
	assert_true(l.indexed);
	e = (sw_error){ 0 };
	assert_true(sw_list_lookup(&l, dx, NULL, NULL, 0, &e) < 0);
	assert_non_null(strstr(e.msg, "does not match its hash"));
	assert_true(sw_list_lookup(&l, d0, NULL, NULL, 0, &e) < 0);
	sw_list_close(&l);
	free(oentries);
	free(other);
	free(entries);
	free(good);
	free(cur);
}

/* The builder's bins: sqrt(n) for small lists, at most 64 entries a bin on
 * average for large ones (the list index spares the manifest's size). */
static void test_build_bins(void **state)
{
	fixture *f = *state;
	const struct { unsigned n; uint32_t bins; } c[] = { { 1000, 32 }, { 4096, 64 }, { 4097, 128 }, { 10000, 256 } };
	for (size_t i = 0; i < SW_ARRAY_SIZE(c); i++) {
		char name[32];
		snprintf(name, sizeof name, "b%u", c[i].n);
		char *dir = tu_path(f->root, name);
		build(dir, c[i].n, "test", 1, NOW + 10, 0);
		sw_list l;
		sw_error e = { 0 };
		assert_int_equal(sw_list_open_dir(dir, &l, &e), 0);
		assert_int_equal(l.n_bins, c[i].bins);
		sw_list_close(&l);
		free(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify_and_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_bin_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_current, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_and_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_bins, setup, teardown),
		cmocka_unit_test(test_manifest_parse),
		cmocka_unit_test(test_build_input),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_old_lists),
		cmocka_unit_test(test_build_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
