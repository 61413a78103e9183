/* SPDX-License-Identifier: Apache-2.0 */
/* lib/sigstore*: Merkle audit paths, checkpoints, DSSE PAE, SAN and issuer. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "sigstore.h"
#include "util.h"

/* ---- Merkle: RFC 6962 2.1 MTH and PATH, computed the slow way ---- */

static void leaf_of(size_t i, unsigned char out[32])
{
	char data[32];
	int n = snprintf(data, sizeof data, "leaf %zu", i);
	sw_ss_leaf_hash(data, (size_t)n, out);
}

static void mth(size_t lo, size_t hi, unsigned char out[32])
{
	if (hi - lo == 1) {
		leaf_of(lo, out);
		return;
	}
	size_t k = 1;
	while (k * 2 < hi - lo)
		k *= 2;
	unsigned char buf[65];
	buf[0] = 0x01;
	mth(lo, lo + k, buf + 1);
	mth(lo + k, hi, buf + 33);
	sw_sha256(buf, sizeof buf, out);
}

/* PATH(m, D[lo:hi]) appended to path[*n]. */
static void audit_path(size_t m, size_t lo, size_t hi, sw_ss_bytes *path, size_t *n)
{
	if (hi - lo == 1)
		return;
	size_t k = 1;
	while (k * 2 < hi - lo)
		k *= 2;
	unsigned char h[32];
	if (m - lo < k) {
		audit_path(m, lo, lo + k, path, n);
		mth(lo + k, hi, h);
	} else {
		audit_path(m, lo + k, hi, path, n);
		mth(lo, lo + k, h);
	}
	path[*n].p = malloc(32);
	assert_non_null(path[*n].p);
	memcpy(path[*n].p, h, 32);
	path[*n].n = 32;
	(*n)++;
}

static void test_merkle(void **state)
{
	(void)state;
	sw_error e = { 0 };
	for (size_t size = 1; size <= 17; size++) {
		unsigned char want[32];
		mth(0, size, want);
		for (size_t i = 0; i < size; i++) {
			sw_ss_bytes path[SW_SS_MAX_PROOF] = { 0 };
			size_t n = 0;
			audit_path(i, 0, size, path, &n);
			unsigned char leaf[32], root[32];
			leaf_of(i, leaf);
			assert_int_equal(sw_ss_merkle_root(i, size, leaf, path, n, root, &e), 0);
			assert_memory_equal(root, want, 32);
			if (n > 0) {
				/* A flipped bit anywhere leads elsewhere. */
				path[n - 1].p[7] ^= 0x10;
				assert_int_equal(sw_ss_merkle_root(i, size, leaf, path, n, root, &e), 0);
				assert_memory_not_equal(root, want, 32);
				path[n - 1].p[7] ^= 0x10;
				/* One hash short, or the leaf at another index: refused or wrong. */
				assert_true(sw_ss_merkle_root(i, size, leaf, path, n - 1, root, &e) < 0 ||
					    memcmp(root, want, 32) != 0);
				if (size > 1)
					assert_true(sw_ss_merkle_root((i + 1) % size, size, leaf, path, n, root, &e) < 0 ||
						    memcmp(root, want, 32) != 0);
			}
			/* One hash too many: refused. */
			path[n].p = calloc(1, 32);
			path[n].n = 32;
			assert_true(sw_ss_merkle_root(i, size, leaf, path, n + 1, root, &e) < 0);
			for (size_t j = 0; j <= n; j++)
				free(path[j].p);
		}
	}
	unsigned char leaf[32] = { 0 }, root[32];
	assert_true(sw_ss_merkle_root(5, 5, leaf, NULL, 0, root, &e) < 0);
	assert_non_null(strstr(e.msg, "not below tree size"));
}

/* ---- checkpoints ---- */

static char *b64(const unsigned char *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static char *sign_note(EVP_PKEY *k, const char *name, const unsigned char hint[4], const char *body,
		       const char *extra_lines)
{
	unsigned char sig[4 + 64];
	size_t siglen = 64;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(c, NULL, NULL, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(c, sig + 4, &siglen, (const unsigned char *)body, strlen(body)), 1);
	EVP_MD_CTX_free(c);
	memcpy(sig, hint, 4);
	char *s = b64(sig, 4 + siglen);
	size_t n = strlen(body) + strlen(extra_lines) + strlen(name) + strlen(s) + 16;
	char *note = malloc(n);
	assert_non_null(note);
	snprintf(note, n, "%s\n%s\xe2\x80\x94 %s %s\n", body, extra_lines, name, s);
	free(s);
	return note;
}

static void test_checkpoint_parse(void **state)
{
	(void)state;
	sw_error e = { 0 };
	sw_ss_checkpoint cp;
	static const char ok[] =
		"log.example - 42\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\nTimestamp: 1\n\n"
		"\xe2\x80\x94 witness.example AAAAAQID\n"
		"\xe2\x80\x94 log.example AQIDBAUG\n";
	assert_int_equal(sw_ss_checkpoint_parse(ok, strlen(ok), &cp, &e), 0);
	assert_string_equal(cp.origin, "log.example - 42");
	assert_int_equal(cp.size, 7);
	assert_int_equal(cp.root[0], 0xae);
	assert_int_equal(cp.nsigs, 2);
	assert_string_equal(cp.sigs[1].name, "log.example");
	assert_memory_equal(cp.sigs[1].hint, "\x01\x02\x03\x04", 4);
	assert_int_equal(cp.sigs[1].sig.n, 2);
	/* The signed text ends with the last body line's newline. */
	assert_int_equal(cp.signed_len, strlen("log.example - 42\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\nTimestamp: 1\n"));
	sw_ss_checkpoint_free(&cp);

	static const char *const bad[] = {
		/* no origin */ "\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n\xe2\x80\x94 a AQIDBAUG\n",
		/* no size */ "o\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n\xe2\x80\x94 a AQIDBAUG\n",
		/* size not decimal */ "o\n-7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n\xe2\x80\x94 a AQIDBAUG\n",
		/* no root */ "o\n7\n\n\xe2\x80\x94 a AQIDBAUG\n",
		/* short root */ "o\n7\nrs1YPY0ydAV0lxgf\n\n\xe2\x80\x94 a AQIDBAUG\n",
		/* no blank line */ "o\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\xe2\x80\x94 a AQIDBAUG\n",
		/* no signature */ "o\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n",
		/* hyphen, not em dash */ "o\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n- a AQIDBAUG\n",
		/* signature under 5 bytes */ "o\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n\xe2\x80\x94 a AQID\n",
		/* no final newline */ "o\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n\xe2\x80\x94 a AQIDBAUG",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_true(sw_ss_checkpoint_parse(bad[i], strlen(bad[i]), &cp, &e) < 0);
		assert_non_null(strstr(e.msg, "checkpoint"));
	}
}

static void test_checkpoint_verify(void **state)
{
	(void)state;
	sw_error e = { 0 };
	EVP_PKEY *k = tu_keygen("ed25519"), *other = tu_keygen("ed25519");
	sw_ss_log log = { .key = k, .log_id = { 0xde, 0xad, 0xbe, 0xef, 1 }, .log_id_len = 32 };
	strcpy(log.host, "log.example");
	static const unsigned char hint[4] = { 0xde, 0xad, 0xbe, 0xef };
	static const unsigned char badhint[4] = { 0xde, 0xad, 0xbe, 0xee };
	const char *body = "log.example\n3\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n";
	struct {
		EVP_PKEY *key;
		const char *name;
		const unsigned char *hint;
		const char *extra;
		int ok;
	} cases[] = {
		{ k, "log.example", hint, "", 1 },
		/* a witness cosignature first is skipped */
		{ k, "log.example", hint, "\xe2\x80\x94 witness.example AAAAAQIDBAUGBwg=\n", 1 },
		{ k, "other.example", hint, "", 0 },   /* not named after the log */
		{ k, "log.example", badhint, "", 0 },  /* another key's hint */
		{ other, "log.example", hint, "", 0 }, /* signed by another key */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *note = sign_note(cases[i].key, cases[i].name, cases[i].hint, body, cases[i].extra);
		sw_ss_checkpoint cp;
		assert_int_equal(sw_ss_checkpoint_parse(note, strlen(note), &cp, &e), 0);
		assert_int_equal(sw_ss_checkpoint_verify(note, &cp, &log, &e) == 0, cases[i].ok);
		sw_ss_checkpoint_free(&cp);
		if (cases[i].ok) {
			/* The tree size is signed: change it and nothing verifies. */
			note[strlen("log.example\n")] = '4';
			assert_int_equal(sw_ss_checkpoint_parse(note, strlen(note), &cp, &e), 0);
			assert_true(sw_ss_checkpoint_verify(note, &cp, &log, &e) < 0);
			sw_ss_checkpoint_free(&cp);
		}
		free(note);
	}
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* ---- DSSE ---- */

static void test_pae(void **state)
{
	(void)state;
	sw_ss_bytes p = { 0 };
	/* The example of the DSSE protocol document. */
	assert_int_equal(sw_ss_pae("http://example.com/HelloWorld", (const unsigned char *)"hello world", 11, &p), 0);
	static const char want[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
	assert_int_equal(p.n, strlen(want));
	assert_memory_equal(p.p, want, p.n);
	sw_ss_bytes_free(&p);
	assert_int_equal(sw_ss_pae("", (const unsigned char *)"", 0, &p), 0);
	assert_int_equal(p.n, strlen("DSSEv1 0  0 "));
	assert_memory_equal(p.p, "DSSEv1 0  0 ", p.n);
	sw_ss_bytes_free(&p);
}

static void test_intoto_subject(void **state)
{
	(void)state;
	sw_error e = { 0 };
	unsigned char dg[32];
	sw_sha256("a", 1, dg);
	char hex[65];
	sw_hex(dg, 32, hex);
	char doc[512];
	snprintf(doc, sizeof doc,
		 "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"x\",\"digest\":{\"sha256\":\"%064d\"}},"
		 "{\"name\":\"a\",\"digest\":{\"sha256\":\"%s\"}}],\"predicateType\":\"p\"}", 0, hex);
	sw_ss_bytes p = { (unsigned char *)doc, strlen(doc) };
	assert_int_equal(sw_ss_intoto_has_subject(&p, dg, &e), 0);
	unsigned char other[32];
	sw_sha256("b", 1, other);
	assert_true(sw_ss_intoto_has_subject(&p, other, &e) < 0);
	static const char notype[] = "{\"_type\":\"https://example.com/Statement\",\"subject\":[]}";
	sw_ss_bytes q = { (unsigned char *)notype, strlen(notype) };
	assert_true(sw_ss_intoto_has_subject(&q, dg, &e) < 0);
	assert_non_null(strstr(e.msg, "_type"));
}

/* ---- SAN and OIDC issuer ---- */

static void add_raw_ext(X509 *x, const char *oid, const unsigned char *v, int n)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
	assert_non_null(o);
	assert_int_equal(ASN1_OCTET_STRING_set(s, v, n), 1);
	X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, o, 0, s);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(s);
	ASN1_OBJECT_free(o);
}

/* A certificate with SANs and the issuer extensions (NULL: left out). */
static X509 *make_cert(const char *san, const char *iss1, const char *iss8)
{
	X509 *x = X509_new();
	assert_non_null(x);
	if (san) {
		X509V3_CTX ctx;
		X509V3_set_ctx_nodb(&ctx);
		X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		assert_non_null(e);
		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	if (iss1)
		add_raw_ext(x, "1.3.6.1.4.1.57264.1.1", (const unsigned char *)iss1, (int)strlen(iss1));
	if (iss8) {
		ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();
		assert_int_equal(ASN1_STRING_set(u, iss8, (int)strlen(iss8)), 1);
		unsigned char *der = NULL;
		int n = i2d_ASN1_UTF8STRING(u, &der);
		assert_true(n > 0);
		add_raw_ext(x, "1.3.6.1.4.1.57264.1.8", der, n);
		OPENSSL_free(der);
		ASN1_UTF8STRING_free(u);
	}
	return x;
}

static void test_san_issuer(void **state)
{
	(void)state;
	sw_error e = { 0 };
	char iss[256];
	X509 *x = make_cert("URI:https://github.com/o/r/.github/workflows/w.yml@refs/heads/main,email:dev@example.com",
			    "https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com");
	assert_true(sw_ss_cert_has_san(x, "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main"));
	assert_true(sw_ss_cert_has_san(x, "dev@example.com"));
	/* Exact only: no prefix, no case folding, no suffix. */
	assert_false(sw_ss_cert_has_san(x, "https://github.com/o/r/.github/workflows/w.yml"));
	assert_false(sw_ss_cert_has_san(x, "DEV@example.com"));
	assert_false(sw_ss_cert_has_san(x, "dev@example.com.evil"));
	assert_int_equal(sw_ss_cert_issuer(x, iss, sizeof iss, &e), 0);
	assert_string_equal(iss, "https://token.actions.githubusercontent.com");
	X509_free(x);

	/* DNS names are no identity here. */
	x = make_cert("DNS:example.com", NULL, "https://accounts.google.com");
	assert_false(sw_ss_cert_has_san(x, "example.com"));
	assert_int_equal(sw_ss_cert_issuer(x, iss, sizeof iss, &e), 0);
	assert_string_equal(iss, "https://accounts.google.com");
	X509_free(x);

	x = make_cert(NULL, "https://legacy.example", NULL);   /* .1.1 alone */
	assert_int_equal(sw_ss_cert_issuer(x, iss, sizeof iss, &e), 0);
	assert_string_equal(iss, "https://legacy.example");
	X509_free(x);

	x = make_cert(NULL, "https://a.example", "https://b.example"); /* they disagree */
	assert_true(sw_ss_cert_issuer(x, iss, sizeof iss, &e) < 0);
	assert_non_null(strstr(e.msg, "disagree"));
	X509_free(x);

	x = make_cert("email:a@example.com", NULL, NULL);       /* no issuer at all */
	assert_true(sw_ss_cert_issuer(x, iss, sizeof iss, &e) < 0);
	X509_free(x);

	/* .1.8 must be a DER UTF8String, not raw bytes. */
	x = make_cert(NULL, NULL, NULL);
	add_raw_ext(x, "1.3.6.1.4.1.57264.1.8", (const unsigned char *)"https://raw", 11);
	assert_true(sw_ss_cert_issuer(x, iss, sizeof iss, &e) < 0);
	X509_free(x);
}

static void test_base64(void **state)
{
	(void)state;
	sw_ss_bytes b;
	assert_int_equal(sw_ss_b64dec("aGk=", 4, &b), 0);
	assert_int_equal(b.n, 2);
	assert_memory_equal(b.p, "hi", 2);
	sw_ss_bytes_free(&b);
	assert_int_equal(sw_ss_b64dec("aG\nk=", 5, &b), 0); /* wrapped, as Go reads it */
	assert_int_equal(b.n, 2);
	sw_ss_bytes_free(&b);
	assert_true(sw_ss_b64dec("aGk", 3, &b) < 0);       /* unpadded */
	assert_true(sw_ss_b64dec("a=Gk", 4, &b) < 0);      /* padding inside */
	assert_true(sw_ss_b64dec("aGk=aGk=", 8, &b) < 0);  /* data after padding */
	assert_true(sw_ss_b64dec("aG-_", 4, &b) < 0);      /* URL alphabet */
	assert_true(sw_ss_b64dec("aG k", 4, &b) < 0);
}

static int parse_doc(const char *doc, sw_error *e)
{
	sw_ss_bundle b;
	int r = sw_ss_bundle_parse(doc, strlen(doc), "b.json", &b, e);
	sw_ss_bundle_free(&b);
	return r;
}

static void test_bundle_parse(void **state)
{
	(void)state;
	sw_error e = { 0 };
#define MT3 "\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\""
#define VM "\"verificationMaterial\":{\"publicKey\":{\"hint\":\"k\"}}"
	assert_int_equal(parse_doc("{" MT3 "," VM ",\"messageSignature\":{\"signature\":\"aGk=\"}}", &e), 0);
	/* Unknown fields, anywhere, are refused by name. */
	assert_true(parse_doc("{" MT3 "," VM ",\"messageSignature\":{\"signature\":\"aGk=\"},\"x\":1}", &e) < 0);
	assert_non_null(strstr(e.msg, "unknown field \"x\""));
	assert_true(parse_doc("{" MT3 "," VM ",\"messageSignature\":{\"signature\":\"aGk=\",\"sig2\":\"aGk=\"}}", &e) < 0);
	assert_non_null(strstr(e.msg, "sig2"));
	/* Unknown versions, both signature kinds at once, two DSSE signatures. */
	assert_true(parse_doc("{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.4+json\"," VM
			      ",\"messageSignature\":{\"signature\":\"aGk=\"}}", &e) < 0);
	assert_non_null(strstr(e.msg, "mediaType"));
	assert_true(parse_doc("{" MT3 "," VM ",\"messageSignature\":{\"signature\":\"aGk=\"},"
			      "\"dsseEnvelope\":{\"payload\":\"aGk=\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"aGk=\"}]}}", &e) < 0);
	assert_true(parse_doc("{" MT3 "," VM ",\"dsseEnvelope\":{\"payload\":\"aGk=\",\"payloadType\":\"t\","
			      "\"signatures\":[{\"sig\":\"aGk=\"},{\"sig\":\"aGk=\"}]}}", &e) < 0);
	/* A negative log index. */
	assert_true(parse_doc("{" MT3 ",\"verificationMaterial\":{\"publicKey\":{\"hint\":\"k\"},\"tlogEntries\":[{\"logIndex\":\"-1\"}]},"
			      "\"messageSignature\":{\"signature\":\"aGk=\"}}", &e) < 0);
	assert_non_null(strstr(e.msg, "negative"));
#undef MT3
#undef VM
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merkle),
		cmocka_unit_test(test_checkpoint_parse),
		cmocka_unit_test(test_checkpoint_verify),
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_intoto_subject),
		cmocka_unit_test(test_san_issuer),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_bundle_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
