/* SPDX-License-Identifier: Apache-2.0 */
/* imagesig: references, simple-signing payloads, and verification of sets built
 * here with keys made here (the registry and keyless paths: tests/integration/imagesig.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "imagesig.h"

#define DG_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DG_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DG_C "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define REPO "registry.example:5000/acme/app"

static char *payload(const char *digest, const char *ref)
{
	char *p;
	assert_true(asprintf(&p,
			     "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},\"image\":{\"docker-manifest-digest\":\"%s\"},"
			     "\"type\":\"cosign container image signature\"},\"optional\":{\"n\":\"1\"}}",
			     ref, digest) > 0);
	return p;
}

static void test_payload_parse(void **state)
{
	sw_error e;
	sw_imgsig_payload p;
	char *good = payload(DG_A, REPO ":v1");
	assert_int_equal(sw_imgsig_payload_parse(good, strlen(good), &p, &e), 0);
	assert_string_equal(p.digest, DG_A);
	assert_string_equal(p.reference, REPO ":v1");
	free(good);
	static const char *const bad[] = {
		/* another type of signed document */
		"{\"critical\":{\"identity\":{\"docker-reference\":\"r/a\"},\"image\":{\"docker-manifest-digest\":\"" DG_A "\"},"
		"\"type\":\"atomic container signature\"}}",
		/* no digest, a digest in another spelling */
		"{\"critical\":{\"identity\":{\"docker-reference\":\"r/a\"},\"image\":{},\"type\":\"cosign container image signature\"}}",
		"{\"critical\":{\"identity\":{\"docker-reference\":\"r/a\"},\"image\":{\"docker-manifest-digest\":\"sha256:AB\"},"
		"\"type\":\"cosign container image signature\"}}",
		/* no reference */
		"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" DG_A "\"},\"type\":\"cosign container image signature\"}}",
		"[]",
		"{\"critical\":",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_true(sw_imgsig_payload_parse(bad[i], strlen(bad[i]), &p, &e) < 0);
		assert_non_null(strstr(e.msg, "payload"));
	}
}

static void test_reference(void **state)
{
	assert_true(sw_imgsig_reference_matches(REPO, REPO));
	assert_true(sw_imgsig_reference_matches(REPO ":v1", REPO));
	assert_true(sw_imgsig_reference_matches(REPO "@" DG_A, REPO));
	assert_true(sw_imgsig_reference_matches("alpine", "docker.io/library/alpine"));
	assert_true(sw_imgsig_reference_matches("index.docker.io/library/alpine:3", "alpine"));
	assert_true(sw_imgsig_reference_matches("acme/app", "docker.io/acme/app"));
	assert_false(sw_imgsig_reference_matches(REPO "2", REPO));
	assert_false(sw_imgsig_reference_matches("registry.example/acme/app", REPO));
	assert_false(sw_imgsig_reference_matches("registry.example:5000/acme", REPO));
	assert_false(sw_imgsig_reference_matches("evil.example/acme/app", "acme/app"));

	char buf[1024];
	sw_imgsig_src s;
	const char *tag, *dref;
	sw_error e;
	assert_int_equal(sw_imgsig_parse_ref("oci+http://127.0.0.1:5000/acme/app:v1", buf, sizeof buf, &s, &tag, &dref, &e), 0);
	assert_string_equal(s.registry, "http://127.0.0.1:5000");
	assert_string_equal(s.repository, "acme/app");
	assert_string_equal(tag, "v1");
	assert_string_equal(dref, "127.0.0.1:5000/acme/app");
	assert_int_equal(sw_imgsig_parse_ref("registry.example/app@" DG_B, buf, sizeof buf, &s, &tag, &dref, &e), 0);
	assert_string_equal(s.registry, "https://registry.example");
	assert_string_equal(tag, DG_B);
	assert_string_equal(dref, "registry.example/app");
	assert_int_equal(sw_imgsig_parse_ref("oci://registry.example:443/app", buf, sizeof buf, &s, &tag, &dref, &e), 0);
	assert_string_equal(tag, "latest");
	assert_int_equal(sw_imgsig_parse_ref("docker.io/alpine:3.20", buf, sizeof buf, &s, &tag, &dref, &e), 0);
	assert_string_equal(s.registry, "https://registry-1.docker.io");
	assert_string_equal(s.repository, "library/alpine");
	assert_string_equal(tag, "3.20");
	assert_string_equal(dref, "docker.io/library/alpine");
	assert_int_equal(sw_imgsig_parse_ref("oci-layout:/srv/mirror:v2", buf, sizeof buf, &s, &tag, &dref, &e), 0);
	assert_string_equal(s.layout, "/srv/mirror");
	assert_null(s.registry);
	assert_null(dref);
	assert_string_equal(tag, "v2");
	static const char *const bad[] = {
		"app:v1",                            /* no registry host */
		"registry.example/App",              /* not a repository name */
		"registry.example/app:v 1",
		"registry.example/app@sha256:abc",
		"https://registry.example/app",      /* not a reference scheme */
		"registry.example/app/../x:v1?y",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_true(sw_imgsig_parse_ref(bad[i], buf, sizeof buf, &s, &tag, &dref, &e) < 0);
}

/* A classic signature of digest (naming ref) by k, as discovery would hold it. */
static void add_sig(sw_imgsig_manifest *m, EVP_PKEY *k, const char *digest, const char *ref, bool tamper)
{
	m->sigs = realloc(m->sigs, (m->nsigs + 1) * sizeof *m->sigs);
	assert_non_null(m->sigs);
	sw_imgsig_sig *s = &m->sigs[m->nsigs++];
	memset(s, 0, sizeof *s);
	s->kind = SW_IMGSIG_SIMPLE;
	strcpy(s->source, "tag");
	strcpy(s->manifest, DG_C);
	s->blob = payload(digest, ref);
	s->blob_len = strlen(s->blob);
	sw_sha256_hex(s->blob, s->blob_len, s->layer + 7);
	memcpy(s->layer, "sha256:", 7);
	s->signature = tu_sign_b64(k, s->blob, s->blob_len, 0);
	if (tamper)
		*strrchr(s->blob, '1') = '2'; /* optional.n: still valid JSON, no longer what was signed */
}

static void set_init(sw_imgsig_set *set, size_t n, bool index)
{
	memset(set, 0, sizeof *set);
	set->m = calloc(n, sizeof *set->m);
	assert_non_null(set->m);
	set->nm = n;
	static const char *const dg[] = { DG_A, DG_B, DG_C };
	for (size_t i = 0; i < n; i++) {
		strcpy(set->m[i].digest, dg[i]);
		if (index && i > 0)
			snprintf(set->m[i].platform, sizeof set->m[i].platform, "linux/%s", i == 1 ? "amd64" : "arm64");
	}
	set->m[0].is_index = index;
	strcpy(set->digest, DG_A);
}

static void test_verify_keyed(void **state)
{
	EVP_PKEY *k1 = tu_keygen("p256"), *k2 = tu_keygen("p256"), *k3 = tu_keygen("ed25519");
	EVP_PKEY *keys[] = { k1, k2 };
	sw_imgsig_requirement req = { .keys = keys, .nkeys = 1, .reference = REPO };
	sw_imgsig_result r;
	sw_error e;

	sw_imgsig_set set;
	set_init(&set, 1, false);
	add_sig(&set.m[0], k1, DG_A, REPO ":v1", false);
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), 0);
	assert_true(r.approved);
	assert_int_equal(r.nev, 1);
	assert_int_equal(r.ev[0].key, 0);
	assert_int_equal(r.ev[0].identity, -1);
	assert_false(r.ev[0].tlog);
	assert_string_equal(r.ev[0].image, DG_A);
	assert_string_equal(r.ev[0].docker_reference, REPO ":v1");
	assert_non_null(strstr(r.ev[0].key_id, "sha256:"));
	sw_imgsig_result_free(&r);

	/* The log is wanted: no entry, refused (and with no trust root to check one). */
	req.need_tlog = true;
	assert_true(sw_imgsig_verify(&set, &req, &r, &e) < 0);
	assert_false(r.approved);
	assert_non_null(strstr(r.st[0].reason, "no Rekor entry"));
	sw_imgsig_result_free(&r);
	req.need_tlog = false;

	/* Another reference in the policy. */
	req.reference = "registry.example:5000/acme/other";
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), -SW_EVERIFY);
	assert_non_null(strstr(e.msg, "docker-reference"));
	sw_imgsig_result_free(&r);
	req.reference = REPO;

	/* Only k2 named: k1's signature does not count. */
	req.keys = keys + 1;
	assert_true(sw_imgsig_verify(&set, &req, &r, &e) < 0);
	assert_int_equal(r.nev, 0);
	assert_non_null(strstr(r.st[0].reason, "does not verify"));
	sw_imgsig_result_free(&r);
	req.keys = keys;

	/* k of n: two signatures by k1 are one signer; then k2 signs too. */
	req.nkeys = 2;
	req.threshold = 2;
	add_sig(&set.m[0], k1, DG_A, REPO, false);
	assert_true(sw_imgsig_verify(&set, &req, &r, &e) < 0);
	assert_int_equal(r.nev, 2);
	assert_int_equal(r.st[0].signers, 1);
	assert_non_null(strstr(e.msg, "1 of the 2 signers"));
	sw_imgsig_result_free(&r);
	add_sig(&set.m[0], k2, DG_A, REPO, false);
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), 0);
	assert_int_equal(r.st[0].signers, 2);
	sw_imgsig_result_free(&r);
	req.threshold = 3;
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), -SW_EINVAL);
	req.threshold = 0;
	sw_imgsig_set_free(&set);

	/* Tampered payload; a payload naming another image (a copied signature). */
	set_init(&set, 1, false);
	add_sig(&set.m[0], k1, DG_A, REPO, true);
	add_sig(&set.m[0], k1, DG_B, REPO, false);
	req.nkeys = 1;
	assert_true(sw_imgsig_verify(&set, &req, &r, &e) < 0);
	assert_int_equal(r.nev, 0);
	assert_non_null(strstr(r.st[0].reason, "docker-manifest-digest is " DG_B));
	sw_imgsig_result_free(&r);
	set.nm = 1;
	set.m[0].nsigs = 1;
	assert_true(sw_imgsig_verify(&set, &req, &r, &e) < 0);
	assert_non_null(strstr(r.st[0].reason, "does not verify"));
	sw_imgsig_result_free(&r);
	set.m[0].nsigs = 2;
	sw_imgsig_set_free(&set);

	/* Ed25519 (a pure signature over the payload). */
	set_init(&set, 1, false);
	add_sig(&set.m[0], k3, DG_A, REPO, false);
	EVP_PKEY *ek[] = { k3 };
	req.keys = ek;
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), 0);
	sw_imgsig_result_free(&r);
	sw_imgsig_set_free(&set);

	/* Nothing to verify with. */
	req.nkeys = 0;
	set_init(&set, 1, false);
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), -SW_EINVAL);
	sw_imgsig_set_free(&set);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

static void test_verify_index(void **state)
{
	EVP_PKEY *k = tu_keygen("p256");
	EVP_PKEY *keys[] = { k };
	sw_imgsig_requirement req = { .keys = keys, .nkeys = 1, .reference = REPO };
	sw_imgsig_result r;
	sw_error e;
	sw_imgsig_set set;

	/* Index signed: both platforms covered by it; B also signed on its own. */
	set_init(&set, 3, true);
	add_sig(&set.m[0], k, DG_A, REPO, false);
	add_sig(&set.m[1], k, DG_B, REPO, false);
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), 0);
	assert_true(r.st[1].approved && !r.st[1].via_index);
	assert_true(r.st[2].approved && r.st[2].via_index);
	size_t covered = 0;
	for (size_t i = 0; i < r.nev; i++)
		if (r.ev[i].via_index) {
			covered++;
			assert_string_equal(r.ev[i].image, DG_C);
			assert_string_equal(r.ev[i].signed_digest, DG_A);
		}
	assert_int_equal(covered, 1);
	sw_imgsig_result_free(&r);

	/* Each platform its own: C is not. */
	req.each_platform = true;
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), -SW_EVERIFY);
	assert_non_null(strstr(e.msg, DG_C " (linux/arm64): not approved: no signature found"));
	assert_true(r.st[0].approved && r.st[1].approved && !r.st[2].approved);
	sw_imgsig_result_free(&r);
	req.each_platform = false;
	sw_imgsig_set_free(&set);

	/* Index unsigned: platforms stand alone; one unsigned refuses the set. */
	set_init(&set, 3, true);
	add_sig(&set.m[1], k, DG_B, REPO, false);
	assert_int_equal(sw_imgsig_verify(&set, &req, &r, &e), -SW_EVERIFY);
	assert_false(r.st[0].approved);
	assert_true(r.st[1].approved);
	assert_false(r.st[2].approved);
	assert_int_equal(r.nev, 1);
	sw_imgsig_result_free(&r);
	sw_imgsig_set_free(&set);
	EVP_PKEY_free(k);
}

static void test_bundle_predicate(void **state)
{
	/* An attestation is refused before any key is tried: its predicate says so. */
	static const char stmt[] = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"x\",\"digest\":"
				   "{\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}],"
				   "\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":{}}";
	char pt[128];
	sw_error e;
	sw_ss_bytes b = { (unsigned char *)stmt, strlen(stmt) };
	assert_int_equal(sw_imgsig_predicate_type(&b, pt, sizeof pt, &e), 0);
	assert_string_equal(pt, "https://slsa.dev/provenance/v1");
	sw_ss_bytes nb = { (unsigned char *)"{}", 2 };
	assert_true(sw_imgsig_predicate_type(&nb, pt, sizeof pt, &e) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_parse),
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_verify_keyed),
		cmocka_unit_test(test_verify_index),
		cmocka_unit_test(test_bundle_predicate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
