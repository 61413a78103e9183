/* SPDX-License-Identifier: Apache-2.0 */
/* sigstore: the whole verification of a bundle (sigstore.h). */
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "json.h"
#include "sigstore.h"
#include "util.h"

#define INTOTO_TYPE "application/vnd.in-toto+json"
/* Rekor's clock and ours may differ a little; an entry further in our future
 * than this was not integrated when it says. */
#define CLOCK_SKEW 300

typedef struct ctx {
	const sw_ss_bundle *b;
	EVP_PKEY *key;
	const sw_ss_artifact *art;
	unsigned char pae_sha256[32];
} ctx;

static bool bytes_eq(const sw_ss_bytes *a, const unsigned char *p, size_t n)
{
	return a->n == n && (n == 0 || memcmp(a->p, p, n) == 0);
}

/* A base64 string member equal to `want`. */
static bool b64_eq(yajl_val obj, const char *key, const sw_ss_bytes *want)
{
	sw_ss_bytes v = { 0 };
	const char *s = sw_ss_jstr(obj, key);
	if (!s || sw_ss_b64dec(s, strlen(s), &v) < 0)
		return false;
	bool eq = bytes_eq(&v, want->p, want->n);
	sw_ss_bytes_free(&v);
	return eq;
}

/* The entry's verifier (base64 of a PEM certificate or public key) is the
 * bundle's certificate or the given key. */
static bool pem_material_eq(const ctx *c, const char *b64)
{
	sw_ss_bytes pem = { 0 };
	if (!b64 || sw_ss_b64dec(b64, strlen(b64), &pem) < 0)
		return false;
	BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.n);
	bool eq = false;
	if (bio && c->b->leaf) {
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		eq = x && X509_cmp(x, c->b->leaf) == 0;
		X509_free(x);
	} else if (bio) {
		EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		eq = k && EVP_PKEY_eq(k, c->key) == 1;
		EVP_PKEY_free(k);
	}
	BIO_free(bio);
	sw_ss_bytes_free(&pem);
	return eq;
}

static bool hex_eq(yajl_val h, const char *alg, const unsigned char dg[32])
{
	const char *a = sw_ss_jstr(h, "algorithm"), *v = sw_ss_jstr(h, "value");
	char hex[65];
	sw_hex(dg, 32, hex);
	return a && v && strcmp(a, alg) == 0 && strcmp(v, hex) == 0;
}

static int bind_hashedrekord1(const ctx *c, yajl_val spec, sw_error *err)
{
	if (c->b->dsse)
		return sw_err(err, SW_EVERIFY, "hashedrekord 0.0.1 entry for a DSSE envelope");
	if (!hex_eq(sw_ss_jget(sw_ss_jget(spec, "data"), "hash"), "sha256", c->art->sha256))
		return sw_err(err, SW_EVERIFY, "spec.data.hash: not the artifact's sha256");
	yajl_val sig = sw_ss_jget(spec, "signature");
	if (!b64_eq(sig, "content", &c->b->sig))
		return sw_err(err, SW_EVERIFY, "spec.signature.content: not the bundle's signature");
	if (!pem_material_eq(c, sw_ss_jstr(sw_ss_jget(sig, "publicKey"), "content")))
		return sw_err(err, SW_EVERIFY, "spec.signature.publicKey: not the bundle's certificate or key");
	return 0;
}

static int bind_hashedrekord2(const ctx *c, yajl_val spec, sw_error *err)
{
	yajl_val v = sw_ss_jget(spec, "hashedRekordV002");
	yajl_val data = sw_ss_jget(v, "data");
	const char *alg = sw_ss_jstr(data, "algorithm");
	/* Over a DSSE envelope, the entry holds SHA-256(PAE) (rekor v2 spec 6.1.4). */
	sw_ss_bytes want = { (unsigned char *)(c->b->dsse ? c->pae_sha256 : c->art->sha256), 32 };
	if (!alg || strcmp(alg, "SHA2_256") != 0 || !b64_eq(data, "digest", &want))
		return sw_err(err, SW_EVERIFY, "spec.hashedRekordV002.data: not the SHA2_256 of the %s",
			      c->b->dsse ? "envelope's PAE" : "artifact");
	yajl_val sig = sw_ss_jget(v, "signature");
	if (!b64_eq(sig, "content", &c->b->sig))
		return sw_err(err, SW_EVERIFY, "spec.hashedRekordV002.signature.content: not the bundle's signature");
	yajl_val ver = sw_ss_jget(sig, "verifier");
	unsigned char *der = NULL;
	int n = c->b->leaf ? i2d_X509(c->b->leaf, &der) : i2d_PUBKEY(c->key, &der);
	bool ok = n > 0;
	if (ok) {
		sw_ss_bytes d = { der, (size_t)n };
		ok = b64_eq(sw_ss_jget(ver, c->b->leaf ? "x509Certificate" : "publicKey"), "rawBytes", &d);
	}
	OPENSSL_free(der);
	if (!ok)
		return sw_err(err, SW_EVERIFY, "spec.hashedRekordV002.signature.verifier: not the bundle's certificate or key");
	return 0;
}

static int bind_dsse1(const ctx *c, yajl_val spec, sw_error *err)
{
	if (!c->b->dsse)
		return sw_err(err, SW_EVERIFY, "dsse entry for a message signature");
	unsigned char ph[32];
	sw_sha256(c->b->payload.p, c->b->payload.n, ph);
	if (!hex_eq(sw_ss_jget(spec, "payloadHash"), "sha256", ph))
		return sw_err(err, SW_EVERIFY, "spec.payloadHash: not the sha256 of the envelope's payload");
	yajl_val sigs = sw_ss_jget(spec, "signatures");
	if (!YAJL_IS_ARRAY(sigs) || sigs->u.array.len != 1)
		return sw_err(err, SW_EVERIFY, "spec.signatures: not the envelope's one signature");
	yajl_val s = sigs->u.array.values[0];
	if (!b64_eq(s, "signature", &c->b->sig))
		return sw_err(err, SW_EVERIFY, "spec.signatures[0].signature: not the envelope's signature");
	if (!pem_material_eq(c, sw_ss_jstr(s, "verifier")))
		return sw_err(err, SW_EVERIFY, "spec.signatures[0].verifier: not the bundle's certificate or key");
	return 0;
}

static int bind_intoto2(const ctx *c, yajl_val spec, sw_error *err)
{
	if (!c->b->dsse)
		return sw_err(err, SW_EVERIFY, "intoto entry for a message signature");
	yajl_val content = sw_ss_jget(spec, "content");
	unsigned char ph[32];
	sw_sha256(c->b->payload.p, c->b->payload.n, ph);
	if (!hex_eq(sw_ss_jget(content, "payloadHash"), "sha256", ph))
		return sw_err(err, SW_EVERIFY, "spec.content.payloadHash: not the sha256 of the envelope's payload");
	yajl_val sigs = sw_ss_jget(sw_ss_jget(content, "envelope"), "signatures");
	if (!YAJL_IS_ARRAY(sigs) || sigs->u.array.len != 1)
		return sw_err(err, SW_EVERIFY, "spec.content.envelope.signatures: not the envelope's one signature");
	yajl_val s = sigs->u.array.values[0];
	/* intoto 0.0.2 stores the signature base64-encoded twice. */
	sw_ss_bytes once = { 0 };
	const char *sig = sw_ss_jstr(s, "sig");
	bool ok = sig && sw_ss_b64dec(sig, strlen(sig), &once) == 0;
	if (ok) {
		char *inner = sw_memdup0(once.p, once.n);
		sw_ss_bytes twice = { 0 };
		ok = inner && sw_ss_b64dec(inner, once.n, &twice) == 0 && bytes_eq(&twice, c->b->sig.p, c->b->sig.n);
		free(inner);
		sw_ss_bytes_free(&twice);
	}
	sw_ss_bytes_free(&once);
	if (!ok)
		return sw_err(err, SW_EVERIFY, "spec.content.envelope.signatures[0].sig: not the envelope's signature");
	if (!pem_material_eq(c, sw_ss_jstr(s, "publicKey")))
		return sw_err(err, SW_EVERIFY, "spec.content.envelope.signatures[0].publicKey: not the bundle's certificate or key");
	return 0;
}

/* The logged entry is about this signature, this artifact, this signer. */
static int bind_entry(const ctx *c, const sw_ss_entry *e, sw_error *err)
{
	char *doc = sw_memdup0(e->body.p, e->body.n);
	if (!doc)
		return sw_err(err, ENOMEM, "out of memory");
	yajl_val body = NULL;
	int r = sw_json_tree(doc, e->body.n, "canonicalizedBody", &body, err);
	free(doc);
	if (r < 0)
		return -1;
	const char *kind = sw_ss_jstr(body, "kind"), *ver = sw_ss_jstr(body, "apiVersion");
	yajl_val spec = sw_ss_jget(body, "spec");
	if (!kind || !ver || !YAJL_IS_OBJECT(spec))
		r = sw_err(err, SW_EINVAL, "canonicalizedBody: kind, apiVersion or spec missing");
	else if (strcmp(kind, e->kind) != 0 || strcmp(ver, e->version) != 0)
		r = sw_err(err, SW_EVERIFY, "canonicalizedBody: %s %s, but kindVersion says %s %s", kind, ver, e->kind, e->version);
	else if (strcmp(kind, "hashedrekord") == 0 && strcmp(ver, "0.0.1") == 0)
		r = bind_hashedrekord1(c, spec, err);
	else if (strcmp(kind, "hashedrekord") == 0 && strcmp(ver, "0.0.2") == 0)
		r = bind_hashedrekord2(c, spec, err);
	else if (strcmp(kind, "dsse") == 0 && strcmp(ver, "0.0.1") == 0)
		r = bind_dsse1(c, spec, err);
	else if (strcmp(kind, "intoto") == 0 && strcmp(ver, "0.0.2") == 0)
		r = bind_intoto2(c, spec, err);
	else
		r = sw_err(err, SW_EINVAL, "canonicalizedBody: entry kind %s %s not supported", kind, ver);
	yajl_tree_free(body);
	return r;
}

static int verify_content(ctx *c, sw_error *err)
{
	const sw_ss_bundle *b = c->b;
	if (b->dsse) {
		if (strcmp(b->payload_type, INTOTO_TYPE) != 0)
			return sw_err(err, SW_EINVAL, "dsseEnvelope.payloadType: not %s", INTOTO_TYPE);
		sw_ss_bytes pae = { 0 };
		if (sw_ss_pae(b->payload_type, b->payload.p, b->payload.n, &pae) < 0)
			return sw_err(err, ENOMEM, "out of memory");
		sw_sha256(pae.p, pae.n, c->pae_sha256);
		int r = sw_ss_verify_msg(c->key, pae.p, pae.n, &b->sig);
		sw_ss_bytes_free(&pae);
		if (r < 0)
			return sw_err(err, SW_EVERIFY, "dsseEnvelope: the signature does not verify under the %s",
				      b->leaf ? "certificate's key" : "given key");
		return sw_ss_intoto_has_subject(&b->payload, c->art->sha256, err);
	}
	const EVP_MD *md = EVP_sha256();
	if (b->has_digest) {
		if (strcmp(b->digest_alg, "SHA2_256") == 0)
			md = EVP_sha256();
		else if (strcmp(b->digest_alg, "SHA2_384") == 0)
			md = EVP_sha384();
		else if (strcmp(b->digest_alg, "SHA2_512") == 0)
			md = EVP_sha512();
		else
			return sw_err(err, SW_EINVAL, "messageSignature.messageDigest.algorithm: unknown \"%.20s\"", b->digest_alg);
	}
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dglen = 32;
	if (md == EVP_sha256())
		memcpy(dg, c->art->sha256, 32);
	else if (!c->art->data || EVP_Digest(c->art->data, c->art->len, dg, &dglen, md, NULL) != 1)
		return sw_err(err, SW_EINVAL, "messageSignature: %s needs the artifact itself, not its sha256", b->digest_alg);
	/* The digest in the bundle is a hint, but one that disagrees with the
	 * artifact says the bundle is about something else. */
	if (b->has_digest && !bytes_eq(&b->digest, dg, dglen))
		return sw_err(err, SW_EVERIFY, "messageSignature.messageDigest: not the artifact's digest");
	int r;
	if (EVP_PKEY_get_base_id(c->key) == EVP_PKEY_ED25519) {
		if (!c->art->data)
			return sw_err(err, SW_EINVAL, "messageSignature: an Ed25519 signature needs the artifact itself, not its sha256");
		r = sw_ss_verify_msg(c->key, c->art->data, c->art->len, &b->sig);
	} else {
		r = sw_ss_verify_digest(c->key, md, dg, dglen, &b->sig);
	}
	if (r < 0)
		return sw_err(err, SW_EVERIFY, "messageSignature: the signature does not verify over the artifact under the %s",
			      b->leaf ? "certificate's key" : "given key");
	return 0;
}

int sw_ss_verify(const sw_ss_trust *tr, const sw_ss_bundle *b, const sw_ss_policy *pol,
		 const sw_ss_artifact *art, int64_t now, sw_error *err)
{
	ctx c = { .b = b, .art = art };
	if (pol->key) {
		if (!b->has_public_key)
			return sw_err(err, SW_EVERIFY, "bundle: signed with a certificate, but a key was given");
		c.key = pol->key;
	} else {
		if (!b->leaf)
			return sw_err(err, SW_EVERIFY, "bundle: signed with a key, but a certificate identity was given");
		if ((!pol->identity && !pol->identity_re) || (!pol->issuer && !pol->issuer_re))
			return sw_err(err, SW_EINVAL, "keyless verification needs a certificate identity and OIDC issuer");
		c.key = X509_get0_pubkey(b->leaf);
		if (!c.key)
			return sw_err(err, SW_EINVAL, "certificate: unreadable public key");
	}
	if (verify_content(&c, err) < 0)
		return -1;

	int64_t times[2 * SW_SS_MAX_ENTRIES];
	size_t ntimes = 0;
	if (b->nentries == 0)
		return sw_err(err, SW_EVERIFY, "verificationMaterial.tlogEntries: no transparency log entry");
	for (size_t i = 0; i < b->nentries; i++) {
		const sw_ss_entry *e = &b->entries[i];
		const sw_ss_log *log = NULL;
		for (size_t j = 0; j < tr->ntlogs && !log; j++)
			if (tr->tlogs[j].log_id_len == e->log_id.n && memcmp(tr->tlogs[j].log_id, e->log_id.p, e->log_id.n) == 0)
				log = &tr->tlogs[j];
		if (!log)
			return sw_err(err, SW_EVERIFY, "tlogEntries[%zu].logId: not a transparency log of the trust root", i);
		if (bind_entry(&c, e, err) < 0)
			return sw_err_prefix(err, "tlogEntries[%zu]", i);
		bool v2 = e->integrated_time == 0 && e->set.n == 0;
		/* Offline, only a proof or a promise shows the entry is in the log. */
		if ((b->minor >= 2 || v2) && !e->has_proof)
			return sw_err(err, SW_EVERIFY, "tlogEntries[%zu].inclusionProof: missing (required from bundle v0.2 and for Rekor v2)", i);
		if (b->minor == 1 && e->set.n == 0)
			return sw_err(err, SW_EVERIFY, "tlogEntries[%zu].inclusionPromise: missing (required in a v0.1 bundle)", i);
		bool set_ok;
		if (sw_ss_entry_verify_log(e, log, &set_ok, err) < 0)
			return sw_err_prefix(err, "tlogEntries[%zu]", i);
		if (set_ok) {
			int64_t t = e->integrated_time;
			if (t < log->start || t > log->end)
				return sw_err(err, SW_EVERIFY, "tlogEntries[%zu].integratedTime: outside the validity of %s in the trust root", i, log->base_url);
			if (t > now + CLOCK_SKEW)
				return sw_err(err, SW_EVERIFY, "tlogEntries[%zu].integratedTime: in the future", i);
			times[ntimes++] = t;
		}
	}
	for (size_t i = 0; i < b->ntsa; i++) {
		int64_t t;
		if (sw_ss_tsa_verify(tr, &b->tsa[i], &b->sig, &t, err) < 0)
			return sw_err_prefix(err, "timestamp %zu", i);
		times[ntimes++] = t;
	}
	if (ntimes == 0)
		return sw_err(err, SW_EVERIFY, "bundle: no verified time (no signed entry timestamp, no RFC 3161 timestamp)");
	if (pol->key)
		return 0;

	/* Keyless: the certificate, at every verified time. */
	X509 *issuer = NULL;
	for (size_t i = 0; i < ntimes; i++) {
		X509 *is = NULL;
		if (sw_ss_cert_chain(tr, b->leaf, times[i], &is, err) < 0) {
			X509_free(issuer);
			return -1;
		}
		if (!issuer)
			issuer = is;
		else
			X509_free(is);
	}
	int r = 0;
	if (tr->nctlogs > 0)
		r = sw_ss_cert_scts(tr, b->leaf, issuer, err);
	X509_free(issuer);
	if (r < 0)
		return -1;
	if (!sw_ss_cert_san(b->leaf, pol->identity, pol->identity ? NULL : pol->identity_re, NULL, 0)) {
		if (pol->identity)
			return sw_err(err, SW_EVERIFY, "certificate: identity %.200s is not among its URI or email SANs", pol->identity);
		return sw_err(err, SW_EVERIFY, "certificate: none of its URI or email SANs matches the identity pattern");
	}
	char iss[1024];
	if (sw_ss_cert_issuer(b->leaf, iss, sizeof iss, err) < 0)
		return -1;
	if (pol->issuer && strcmp(iss, pol->issuer) != 0)
		return sw_err(err, SW_EVERIFY, "certificate: OIDC issuer %.200s, expected %.200s", iss, pol->issuer);
	if (!pol->issuer && !sw_ss_re_full(pol->issuer_re, iss))
		return sw_err(err, SW_EVERIFY, "certificate: OIDC issuer %.200s does not match the issuer pattern", iss);
	return 0;
}
