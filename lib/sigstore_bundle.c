/* SPDX-License-Identifier: Apache-2.0 */
/* sigstore: the bundle document, base64, keys and signatures (sigstore.h). */
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "json.h"
#include "sigstore.h"
#include "util.h"

void sw_ss_bytes_free(sw_ss_bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->n = 0;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Go's encoding/base64 (protojson) skips CR and LF inside the text, so
 * bundles wrapped at 64 columns exist: drop them, take nothing else. */
int sw_ss_b64dec(const char *in, size_t inlen, sw_ss_bytes *out)
{
	out->p = NULL;
	out->n = 0;
	char *s = malloc(inlen + 1);
	if (!s)
		return -1;
	size_t len = 0;
	for (size_t i = 0; i < inlen; i++)
		if (in[i] != '\r' && in[i] != '\n')
			s[len++] = in[i];
	int r = -1;
	unsigned char *p = NULL;
	if (len % 4 != 0)
		goto bad;
	p = malloc(len / 4 * 3 + 1);
	if (!p)
		goto bad;
	size_t n = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;
		for (int j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)s[i + j];
			if (c == '=' && i + 4 == len && j >= 2) {
				pad++;
				v[j] = 0;
				continue;
			}
			if (pad) /* data after padding */
				goto bad;
			v[j] = b64val(c);
			if (v[j] < 0)
				goto bad;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		p[n++] = (unsigned char)(w >> 16);
		if (pad < 2) p[n++] = (unsigned char)(w >> 8);
		if (pad < 1) p[n++] = (unsigned char)w;
	}
	out->p = p;
	out->n = n;
	p = NULL;
	r = 0;
bad:
	free(p);
	free(s);
	return r;
}

yajl_val sw_ss_jget(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

const char *sw_ss_jstr(yajl_val obj, const char *key)
{
	yajl_val v = sw_ss_jget(obj, key);
	return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

int sw_ss_jint(yajl_val obj, const char *key, int64_t *out)
{
	yajl_val v = sw_ss_jget(obj, key);
	if (YAJL_IS_INTEGER(v)) {
		*out = v->u.number.i;
		return 0;
	}
	if (!YAJL_IS_STRING(v))
		return -1;
	const char *s = v->u.string;
	bool neg = s[0] == '-';
	uint64_t u;
	if (sw_parse_u64(s + neg, strlen(s + neg), &u) < 0 || u > INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

int sw_ss_jb64(yajl_val obj, const char *key, const char *what, sw_ss_bytes *out, sw_error *err)
{
	const char *s = sw_ss_jstr(obj, key);
	if (!s)
		return sw_err(err, SW_EINVAL, "%s: %s: missing or not a string", what, key);
	if (sw_ss_b64dec(s, strlen(s), out) < 0)
		return sw_err(err, SW_EINVAL, "%s: %s: invalid base64", what, key);
	return 0;
}

int sw_ss_pubkey_pem(const char *pem, size_t len, const char *what, EVP_PKEY **out, sw_error *err)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return sw_err(err, ENOMEM, "%s: out of memory", what);
	*out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!*out)
		return sw_err(err, SW_EINVAL, "%s: not a PEM public key", what);
	int id = EVP_PKEY_get_base_id(*out);
	if (id != EVP_PKEY_EC && id != EVP_PKEY_ED25519 && id != EVP_PKEY_RSA) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return sw_err(err, SW_EINVAL, "%s: key type %s not supported (ECDSA, Ed25519, RSA)", what,
			      OBJ_nid2sn(id));
	}
	return 0;
}

static const EVP_MD *key_md(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return NULL;
	case EVP_PKEY_EC: {
		int bits = EVP_PKEY_get_bits(key);
		return bits > 384 ? EVP_sha512() : bits > 256 ? EVP_sha384() : EVP_sha256();
	}
	default:
		return EVP_sha256();
	}
}

int sw_ss_verify_msg(EVP_PKEY *key, const void *msg, size_t len, const sw_ss_bytes *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -1;
	int ok = EVP_DigestVerifyInit(ctx, NULL, key_md(key), NULL, key) == 1 &&
		 EVP_DigestVerify(ctx, sig->p, sig->n, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

int sw_ss_verify_digest(EVP_PKEY *key, const EVP_MD *md, const unsigned char *dg, size_t dglen,
			const sw_ss_bytes *sig)
{
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 || (size_t)EVP_MD_get_size(md) != dglen)
		return -1;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	if (!ctx)
		return -1;
	int ok = EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
		 (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
		  EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1) &&
		 EVP_PKEY_verify(ctx, sig->p, sig->n, dg, dglen) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* ---- the bundle ---- */

/* Fail closed on fields this verifier does not know: a field it skipped
 * could carry a meaning (a second signature, another timestamp) that another
 * client honours. NULL-terminated list of the known keys. */
static int known_keys(yajl_val obj, const char *const *keys, const char *what, sw_error *err)
{
	if (!YAJL_IS_OBJECT(obj))
		return 0;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];
		bool ok = false;
		for (size_t j = 0; keys[j] && !ok; j++)
			ok = strcmp(k, keys[j]) == 0;
		if (!ok)
			return sw_err(err, SW_EINVAL, "%s: unknown field \"%.64s\"", what, k);
	}
	return 0;
}
#define KNOWN(obj, what, ...) \
	do { \
		static const char *const k_[] = { __VA_ARGS__, NULL }; \
		if (known_keys((obj), k_, (what), err) < 0) \
			return -1; \
	} while (0)

static const struct {
	const char *media_type;
	int minor;
} media_types[] = {
	{ "application/vnd.dev.sigstore.bundle+json;version=0.1", 1 },
	{ "application/vnd.dev.sigstore.bundle+json;version=0.2", 2 },
	{ "application/vnd.dev.sigstore.bundle+json;version=0.3", 3 },
	{ "application/vnd.dev.sigstore.bundle.v0.3+json", 3 },
};

static int parse_entry(yajl_val t, size_t i, sw_ss_entry *e, sw_error *err)
{
	char what[64];
	snprintf(what, sizeof what, "tlogEntries[%zu]", i);
	if (!YAJL_IS_OBJECT(t))
		return sw_err(err, SW_EINVAL, "%s: not an object", what);
	KNOWN(t, what, "logIndex", "logId", "kindVersion", "integratedTime", "inclusionPromise",
	      "inclusionProof", "canonicalizedBody");
	KNOWN(sw_ss_jget(t, "logId"), "logId", "keyId");
	KNOWN(sw_ss_jget(t, "kindVersion"), "kindVersion", "kind", "version");
	KNOWN(sw_ss_jget(t, "inclusionPromise"), "inclusionPromise", "signedEntryTimestamp");
	KNOWN(sw_ss_jget(t, "inclusionProof"), "inclusionProof", "logIndex", "rootHash", "treeSize", "hashes", "checkpoint");
	KNOWN(sw_ss_jget(sw_ss_jget(t, "inclusionProof"), "checkpoint"), "checkpoint", "envelope");
	if (sw_ss_jint(t, "logIndex", &e->log_index) < 0)
		return sw_err(err, SW_EINVAL, "%s.logIndex: missing or not an integer", what);
	/* A negative index names no leaf: refuse it before anything reads it. */
	if (e->log_index < 0)
		return sw_err(err, SW_EINVAL, "%s.logIndex: negative (%lld)", what, (long long)e->log_index);
	if (sw_ss_jb64(sw_ss_jget(t, "logId"), "keyId", what, &e->log_id, err) < 0)
		return sw_err_prefix(err, "logId");
	yajl_val kv = sw_ss_jget(t, "kindVersion");
	const char *kind = sw_ss_jstr(kv, "kind"), *ver = sw_ss_jstr(kv, "version");
	if (!kind || !ver || strlen(kind) >= sizeof e->kind || strlen(ver) >= sizeof e->version)
		return sw_err(err, SW_EINVAL, "%s.kindVersion: missing or invalid", what);
	strcpy(e->kind, kind);
	strcpy(e->version, ver);
	if (sw_ss_jget(t, "integratedTime") && sw_ss_jint(t, "integratedTime", &e->integrated_time) < 0)
		return sw_err(err, SW_EINVAL, "%s.integratedTime: not an integer", what);
	if (e->integrated_time < 0)
		return sw_err(err, SW_EINVAL, "%s.integratedTime: negative", what);
	yajl_val ip = sw_ss_jget(t, "inclusionPromise");
	if (ip && sw_ss_jb64(ip, "signedEntryTimestamp", "inclusionPromise", &e->set, err) < 0)
		return sw_err_prefix(err, "%s", what);
	const char *body = sw_ss_jstr(t, "canonicalizedBody");
	if (!body)
		return sw_err(err, SW_EINVAL, "%s.canonicalizedBody: missing (an entry without its body cannot be checked offline)", what);
	e->body_b64 = strdup(body);
	if (!e->body_b64 || sw_ss_b64dec(body, strlen(body), &e->body) < 0)
		return sw_err(err, SW_EINVAL, "%s.canonicalizedBody: invalid base64", what);
	yajl_val pr = sw_ss_jget(t, "inclusionProof");
	if (pr) {
		e->has_proof = true;
		if (sw_ss_jint(pr, "logIndex", &e->proof_index) < 0 || e->proof_index < 0 ||
		    sw_ss_jint(pr, "treeSize", &e->tree_size) < 0 || e->tree_size <= 0)
			return sw_err(err, SW_EINVAL, "%s.inclusionProof: logIndex or treeSize missing or invalid", what);
		if (sw_ss_jb64(pr, "rootHash", what, &e->root, err) < 0)
			return sw_err_prefix(err, "inclusionProof");
		yajl_val hs = sw_ss_jget(pr, "hashes");
		if (hs && !YAJL_IS_ARRAY(hs))
			return sw_err(err, SW_EINVAL, "%s.inclusionProof.hashes: not an array", what);
		size_t n = hs ? hs->u.array.len : 0;
		if (n > SW_SS_MAX_PROOF)
			return sw_err(err, SW_ETOOBIG, "%s.inclusionProof.hashes: %zu hashes, over %d", what, n, SW_SS_MAX_PROOF);
		for (size_t j = 0; j < n; j++) {
			yajl_val h = hs->u.array.values[j];
			e->nhashes = j + 1; /* freed with the bundle, whatever comes next */
			if (!YAJL_IS_STRING(h) || sw_ss_b64dec(h->u.string, strlen(h->u.string), &e->hashes[j]) < 0 ||
			    e->hashes[j].n != 32)
				return sw_err(err, SW_EINVAL, "%s.inclusionProof.hashes[%zu]: not a base64 SHA-256", what, j);
		}
		const char *cp = sw_ss_jstr(sw_ss_jget(pr, "checkpoint"), "envelope");
		if (!cp)
			return sw_err(err, SW_EINVAL, "%s.inclusionProof.checkpoint.envelope: missing", what);
		e->checkpoint = strdup(cp);
		if (!e->checkpoint)
			return sw_err(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int parse_x509(const unsigned char *p, size_t n, X509 **out)
{
	const unsigned char *q = p;
	*out = d2i_X509(NULL, &q, (long)n);
	if (!*out || q != p + n) {
		X509_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int parse_material(yajl_val vm, sw_ss_bundle *b, sw_error *err)
{
	if (!YAJL_IS_OBJECT(vm))
		return sw_err(err, SW_EINVAL, "verificationMaterial: missing or not an object");
	KNOWN(vm, "verificationMaterial", "x509CertificateChain", "certificate", "publicKey", "tlogEntries",
	      "timestampVerificationData");
	KNOWN(sw_ss_jget(vm, "x509CertificateChain"), "x509CertificateChain", "certificates");
	KNOWN(sw_ss_jget(vm, "certificate"), "certificate", "rawBytes");
	KNOWN(sw_ss_jget(vm, "publicKey"), "publicKey", "hint");
	KNOWN(sw_ss_jget(vm, "timestampVerificationData"), "timestampVerificationData", "rfc3161Timestamps");
	yajl_val chain = sw_ss_jget(vm, "x509CertificateChain");
	yajl_val cert = sw_ss_jget(vm, "certificate");
	yajl_val pk = sw_ss_jget(vm, "publicKey");
	if (!!chain + !!cert + !!pk != 1)
		return sw_err(err, SW_EINVAL, "verificationMaterial: exactly one of x509CertificateChain, certificate, publicKey");
	if (chain) {
		/* v0.3 carries the leaf alone (certificate); the chain form belongs to v0.1/v0.2. */
		if (b->minor >= 3)
			return sw_err(err, SW_EINVAL, "verificationMaterial.x509CertificateChain: not allowed in a v0.3 bundle");
		yajl_val certs = sw_ss_jget(chain, "certificates");
		if (!YAJL_IS_ARRAY(certs) || certs->u.array.len == 0)
			return sw_err(err, SW_EINVAL, "verificationMaterial.x509CertificateChain.certificates: empty");
		for (size_t i = 0; i < certs->u.array.len; i++) {
			sw_ss_bytes der = { 0 };
			X509 *c = NULL;
			if (sw_ss_jb64(certs->u.array.values[i], "rawBytes", "certificate", &der, err) < 0)
				return sw_err_prefix(err, "x509CertificateChain.certificates[%zu]", i);
			int r = parse_x509(der.p, der.n, &c);
			sw_ss_bytes_free(&der);
			if (r < 0)
				return sw_err(err, SW_EINVAL, "x509CertificateChain.certificates[%zu]: not a DER certificate", i);
			/* The trust anchors come from the trust root only: a bundle that
			 * ships a self-signed root asks to be trusted by its own say-so. */
			bool selfsigned = X509_check_issued(c, c) == X509_V_OK;
			if (i == 0)
				b->leaf = c;
			else
				X509_free(c);
			if (selfsigned)
				return sw_err(err, SW_EVERIFY, "x509CertificateChain.certificates[%zu]: a self-signed (root) certificate in the bundle", i);
		}
	} else if (cert) {
		sw_ss_bytes der = { 0 };
		if (sw_ss_jb64(cert, "rawBytes", "verificationMaterial.certificate", &der, err) < 0)
			return -1;
		int r = parse_x509(der.p, der.n, &b->leaf);
		sw_ss_bytes_free(&der);
		if (r < 0)
			return sw_err(err, SW_EINVAL, "verificationMaterial.certificate: not a DER certificate");
		if (X509_check_issued(b->leaf, b->leaf) == X509_V_OK)
			return sw_err(err, SW_EVERIFY, "verificationMaterial.certificate: self-signed");
	} else {
		b->has_public_key = true;
	}
	yajl_val tl = sw_ss_jget(vm, "tlogEntries");
	if (tl && !YAJL_IS_ARRAY(tl))
		return sw_err(err, SW_EINVAL, "verificationMaterial.tlogEntries: not an array");
	size_t n = tl ? tl->u.array.len : 0;
	if (n > SW_SS_MAX_ENTRIES)
		return sw_err(err, SW_ETOOBIG, "verificationMaterial.tlogEntries: %zu entries, over %d", n, SW_SS_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		b->nentries = i + 1;
		if (parse_entry(tl->u.array.values[i], i, &b->entries[i], err) < 0)
			return -1;
	}
	yajl_val tv = sw_ss_jget(vm, "timestampVerificationData");
	yajl_val ts = sw_ss_jget(tv, "rfc3161Timestamps");
	if (ts && !YAJL_IS_ARRAY(ts))
		return sw_err(err, SW_EINVAL, "timestampVerificationData.rfc3161Timestamps: not an array");
	n = ts ? ts->u.array.len : 0;
	if (n > SW_SS_MAX_ENTRIES)
		return sw_err(err, SW_ETOOBIG, "rfc3161Timestamps: %zu timestamps, over %d", n, SW_SS_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		b->ntsa = i + 1;
		if (sw_ss_jb64(ts->u.array.values[i], "signedTimestamp", "rfc3161Timestamps", &b->tsa[i], err) < 0)
			return -1;
	}
	return 0;
}

int sw_ss_bundle_parse(const char *json, size_t len, const char *what, sw_ss_bundle *b, sw_error *err)
{
	memset(b, 0, sizeof *b);
	_cleanup_yajl_ yajl_val root = NULL;
	if (sw_json_tree(json, len, what, &root, err) < 0)
		return -1;
	if (!YAJL_IS_OBJECT(root))
		return sw_err(err, SW_EINVAL, "%s: not a JSON object", what);
	if (known_keys(root, (const char *const[]){ "mediaType", "verificationMaterial", "messageSignature",
						    "dsseEnvelope", NULL }, what, err) < 0)
		return -1;
	const char *mt = sw_ss_jstr(root, "mediaType");
	if (!mt)
		return sw_err(err, SW_EINVAL, "%s: mediaType: missing", what);
	for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++)
		if (strcmp(mt, media_types[i].media_type) == 0)
			b->minor = media_types[i].minor;
	if (!b->minor)
		return sw_err(err, SW_EINVAL, "%s: mediaType: unsupported bundle version \"%.80s\"", what, mt);
	if (parse_material(sw_ss_jget(root, "verificationMaterial"), b, err) < 0)
		return sw_err_prefix(err, "%s", what);
	yajl_val ms = sw_ss_jget(root, "messageSignature");
	yajl_val de = sw_ss_jget(root, "dsseEnvelope");
	if (!!ms + !!de != 1)
		return sw_err(err, SW_EINVAL, "%s: exactly one of messageSignature and dsseEnvelope", what);
	if (known_keys(ms, (const char *const[]){ "messageDigest", "signature", NULL }, "messageSignature", err) < 0 ||
	    known_keys(sw_ss_jget(ms, "messageDigest"), (const char *const[]){ "algorithm", "digest", NULL },
		       "messageSignature.messageDigest", err) < 0 ||
	    known_keys(de, (const char *const[]){ "payload", "payloadType", "signatures", NULL }, "dsseEnvelope", err) < 0)
		return sw_err_prefix(err, "%s", what);
	if (ms) {
		if (sw_ss_jb64(ms, "signature", "messageSignature", &b->sig, err) < 0)
			return sw_err_prefix(err, "%s", what);
		yajl_val md = sw_ss_jget(ms, "messageDigest");
		if (md) {
			const char *alg = sw_ss_jstr(md, "algorithm");
			if (!alg || strlen(alg) >= sizeof b->digest_alg)
				return sw_err(err, SW_EINVAL, "%s: messageSignature.messageDigest.algorithm: missing or unknown", what);
			strcpy(b->digest_alg, alg);
			if (sw_ss_jb64(md, "digest", "messageSignature.messageDigest", &b->digest, err) < 0)
				return sw_err_prefix(err, "%s", what);
			b->has_digest = true;
		}
	} else {
		b->dsse = true;
		const char *pt = sw_ss_jstr(de, "payloadType");
		if (!pt)
			return sw_err(err, SW_EINVAL, "%s: dsseEnvelope.payloadType: missing", what);
		b->payload_type = strdup(pt);
		if (!b->payload_type)
			return sw_err(err, ENOMEM, "out of memory");
		if (sw_ss_jb64(de, "payload", "dsseEnvelope", &b->payload, err) < 0)
			return sw_err_prefix(err, "%s", what);
		yajl_val sigs = sw_ss_jget(de, "signatures");
		/* Sigstore bundles carry one signer: a second signature would be a
		 * signature nobody checks. */
		if (!YAJL_IS_ARRAY(sigs) || sigs->u.array.len != 1)
			return sw_err(err, SW_EINVAL, "%s: dsseEnvelope.signatures: exactly one signature expected", what);
		if (known_keys(sigs->u.array.values[0], (const char *const[]){ "sig", "keyid", NULL },
			       "dsseEnvelope.signatures[0]", err) < 0)
			return sw_err_prefix(err, "%s", what);
		if (sw_ss_jb64(sigs->u.array.values[0], "sig", "dsseEnvelope.signatures[0]", &b->sig, err) < 0)
			return sw_err_prefix(err, "%s", what);
	}
	if (b->sig.n == 0)
		return sw_err(err, SW_EINVAL, "%s: empty signature", what);
	return 0;
}

void sw_ss_bundle_free(sw_ss_bundle *b)
{
	X509_free(b->leaf);
	for (size_t i = 0; i < b->nentries; i++) {
		sw_ss_entry *e = &b->entries[i];
		sw_ss_bytes_free(&e->log_id);
		sw_ss_bytes_free(&e->set);
		sw_ss_bytes_free(&e->body);
		sw_ss_bytes_free(&e->root);
		for (size_t j = 0; j < e->nhashes; j++)
			sw_ss_bytes_free(&e->hashes[j]);
		free(e->body_b64);
		free(e->checkpoint);
	}
	for (size_t i = 0; i < b->ntsa; i++)
		sw_ss_bytes_free(&b->tsa[i]);
	sw_ss_bytes_free(&b->digest);
	sw_ss_bytes_free(&b->sig);
	sw_ss_bytes_free(&b->payload);
	free(b->payload_type);
	memset(b, 0, sizeof *b);
}
