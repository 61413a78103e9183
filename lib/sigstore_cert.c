/* SPDX-License-Identifier: Apache-2.0 */
/* sigstore: Fulcio chain, identity, embedded SCTs, RFC 3161 timestamps (sigstore.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/ct.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "sigstore.h"
#include "util.h"

int64_t sw_ss_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return INT64_MIN;
	return (int64_t)timegm(&tm);
}

/* A whole-string match of an extended regex (regexec finds a match anywhere;
 * an identity pattern must describe the whole identity). */
bool sw_ss_re_full(const regex_t *re, const char *s)
{
	regmatch_t m;
	return regexec(re, s, 1, &m, 0) == 0 && m.rm_so == 0 && (size_t)m.rm_eo == strlen(s);
}

bool sw_ss_cert_san(X509 *c, const char *id, const regex_t *re, char *out, size_t n)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	bool found = false;
	size_t idlen = id ? strlen(id) : 0;
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !found; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		ASN1_IA5STRING *s = g->type == GEN_URI ? g->d.uniformResourceIdentifier
				  : g->type == GEN_EMAIL ? g->d.rfc822Name : NULL;
		if (!s || s->length < 0)
			continue;
		if (id) {
			found = (size_t)s->length == idlen && memcmp(s->data, id, idlen) == 0;
		} else if (re) {
			/* A SAN with a NUL inside would be matched only up to it. */
			char *v = sw_memdup0(s->data, (size_t)s->length);
			found = v && strlen(v) == (size_t)s->length && sw_ss_re_full(re, v);
			free(v);
		}
		if (found && out)
			snprintf(out, n, "%.*s", s->length, (const char *)s->data);
	}
	GENERAL_NAMES_free(gens);
	return found;
}

bool sw_ss_cert_has_san(X509 *c, const char *id)
{
	return sw_ss_cert_san(c, id, NULL, NULL, 0);
}

/* The value of the extension with OID `oid`: 1 found, 0 absent, <0 twice. */
static int ext_value(X509 *c, const char *oid, const ASN1_OCTET_STRING **out)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	if (!o)
		return -1;
	int i = X509_get_ext_by_OBJ(c, o, -1);
	int again = i >= 0 ? X509_get_ext_by_OBJ(c, o, i) : -1;
	ASN1_OBJECT_free(o);
	if (i < 0)
		return 0;
	if (again >= 0)
		return -1;
	*out = X509_EXTENSION_get_data(X509_get_ext(c, i));
	return 1;
}

int sw_ss_cert_issuer(X509 *c, char *out, size_t n, sw_error *err)
{
	const ASN1_OCTET_STRING *v1 = NULL, *v8 = NULL;
	int r1 = ext_value(c, "1.3.6.1.4.1.57264.1.1", &v1);
	int r8 = ext_value(c, "1.3.6.1.4.1.57264.1.8", &v8);
	if (r1 < 0 || r8 < 0)
		return sw_err(err, SW_EINVAL, "certificate: OIDC issuer extension repeated");
	char i8[1024] = "", i1[1024] = "";
	if (r8) {
		const unsigned char *p = v8->data;
		ASN1_UTF8STRING *u = d2i_ASN1_UTF8STRING(NULL, &p, v8->length);
		if (!u || p != v8->data + v8->length || (size_t)u->length >= sizeof i8 ||
		    memchr(u->data, 0, (size_t)u->length)) {
			ASN1_UTF8STRING_free(u);
			return sw_err(err, SW_EINVAL, "certificate: extension 1.3.6.1.4.1.57264.1.8 (OIDC issuer) is not a UTF8String");
		}
		memcpy(i8, u->data, (size_t)u->length);
		i8[u->length] = '\0';
		ASN1_UTF8STRING_free(u);
	}
	if (r1) {
		if ((size_t)v1->length >= sizeof i1 || memchr(v1->data, 0, (size_t)v1->length))
			return sw_err(err, SW_EINVAL, "certificate: extension 1.3.6.1.4.1.57264.1.1 (OIDC issuer) invalid");
		memcpy(i1, v1->data, (size_t)v1->length);
		i1[v1->length] = '\0';
	}
	if (!r1 && !r8)
		return sw_err(err, SW_EVERIFY, "certificate: no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1)");
	/* Two spellings of one claim must not disagree: a verifier reading the
	 * other one would see another issuer. */
	if (r1 && r8 && strcmp(i1, i8) != 0)
		return sw_err(err, SW_EVERIFY, "certificate: OIDC issuer extensions .1.1 and .1.8 disagree");
	const char *v = r8 ? i8 : i1;
	if (strlen(v) >= n)
		return sw_err(err, SW_ETOOBIG, "certificate: OIDC issuer too long");
	strcpy(out, v);
	return 0;
}

/* Verify cert at time t against chain (root last, trusted; the rest untrusted). */
static int verify_at(STACK_OF(X509) *chain, X509 *cert, int64_t t, int purpose, X509 **issuer)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok = 0;
	int n = sk_X509_num(chain);
	if (!st || !ctx || !untrusted || n < 1)
		goto out;
	if (X509_STORE_add_cert(st, sk_X509_value(chain, n - 1)) != 1)
		goto out;
	for (int i = 0; i < n - 1; i++)
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i)))
			goto out;
	if (X509_STORE_CTX_init(ctx, st, cert, untrusted) != 1)
		goto out;
	X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(p, (time_t)t);
	if (purpose)
		X509_STORE_CTX_set_purpose(ctx, purpose);
	ok = X509_verify_cert(ctx) == 1;
	if (ok && issuer) {
		STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
		*issuer = sk_X509_num(built) > 1 ? X509_dup(sk_X509_value(built, 1)) : NULL;
		ok = *issuer != NULL;
	}
out:
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok ? 0 : -1;
}

int sw_ss_cert_chain(const sw_ss_trust *tr, X509 *leaf, int64_t t, X509 **issuer, sw_error *err)
{
	*issuer = NULL;
	int64_t nb = sw_ss_asn1_time(X509_get0_notBefore(leaf));
	int64_t na = sw_ss_asn1_time(X509_get0_notAfter(leaf));
	if (t < nb || t > na)
		return sw_err(err, SW_EVERIFY, "certificate: not valid at the verified time %lld (valid %lld to %lld)",
			      (long long)t, (long long)nb, (long long)na);
	/* Fulcio leaves are code-signing certificates; nothing else signs here. */
	if (!(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN))
		return sw_err(err, SW_EVERIFY, "certificate: no code signing extended key usage");
	bool ca_in_time = false;
	for (size_t i = 0; i < tr->ncas; i++) {
		/* The CA must have been trusted when it issued the leaf. */
		if (nb < tr->cas[i].start || nb > tr->cas[i].end)
			continue;
		ca_in_time = true;
		if (verify_at(tr->cas[i].chain, leaf, t, 0, issuer) == 0)
			return 0;
	}
	if (!ca_in_time)
		return sw_err(err, SW_EVERIFY, "certificate: issued when no certificate authority of the trust root was valid");
	return sw_err(err, SW_EVERIFY, "certificate: does not chain to a certificate authority of the trust root");
}

static int sct_verify_one(const sw_ss_trust *tr, SCT *sct, const unsigned char *tbs, size_t tbslen,
			  const unsigned char ikh[32])
{
	unsigned char *lid;
	size_t lidlen = SCT_get0_log_id(sct, &lid);
	const sw_ss_log *log = NULL;
	for (size_t i = 0; i < tr->nctlogs; i++)
		if (tr->ctlogs[i].log_id_len == lidlen && memcmp(tr->ctlogs[i].log_id, lid, lidlen) == 0)
			log = &tr->ctlogs[i];
	if (!log || SCT_get_version(sct) != SCT_VERSION_V1)
		return -1;
	uint64_t ts = SCT_get_timestamp(sct);
	int64_t secs = (int64_t)(ts / 1000);
	if (secs < log->start || secs > log->end)
		return -1;
	unsigned char *ext, *sig;
	size_t extlen = SCT_get0_extensions(sct, &ext);
	size_t siglen = SCT_get0_signature(sct, &sig);
	if (extlen > 0xffff || tbslen > 0xffffff)
		return -1;
	/* RFC 6962 3.2: digitally-signed struct of a precert entry. */
	size_t n = 1 + 1 + 8 + 2 + 32 + 3 + tbslen + 2 + extlen;
	unsigned char *m = malloc(n), *p = m;
	if (!m)
		return -1;
	*p++ = 0;  /* v1 */
	*p++ = 0;  /* certificate_timestamp */
	for (int i = 7; i >= 0; i--)
		*p++ = (unsigned char)(ts >> (8 * i));
	*p++ = 0;
	*p++ = 1;  /* precert_entry */
	memcpy(p, ikh, 32);
	p += 32;
	*p++ = (unsigned char)(tbslen >> 16);
	*p++ = (unsigned char)(tbslen >> 8);
	*p++ = (unsigned char)tbslen;
	memcpy(p, tbs, tbslen);
	p += tbslen;
	*p++ = (unsigned char)(extlen >> 8);
	*p++ = (unsigned char)extlen;
	if (extlen)
		memcpy(p, ext, extlen);
	sw_ss_bytes s = { sig, siglen };
	int r = sw_ss_verify_msg(log->key, m, n, &s);
	free(m);
	return r;
}

int sw_ss_cert_scts(const sw_ss_trust *tr, X509 *leaf, X509 *issuer, sw_error *err)
{
	STACK_OF(SCT) *scts = X509_get_ext_d2i(leaf, NID_ct_precert_scts, NULL, NULL);
	if (!scts || sk_SCT_num(scts) == 0) {
		SCT_LIST_free(scts);
		return sw_err(err, SW_EVERIFY, "certificate: no embedded SCT (the trust root has CT logs)");
	}
	/* The precertificate TBS: the leaf's without the SCT list extension. */
	X509 *pre = X509_dup(leaf);
	unsigned char *tbs = NULL, *spki = NULL;
	int tbslen = -1, spkilen = -1;
	if (pre) {
		int idx = X509_get_ext_by_NID(pre, NID_ct_precert_scts, -1);
		X509_EXTENSION *e = idx >= 0 ? X509_delete_ext(pre, idx) : NULL;
		X509_EXTENSION_free(e);
		tbslen = i2d_re_X509_tbs(pre, &tbs);
	}
	spkilen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &spki);
	int ok = -1;
	if (tbslen > 0 && spkilen > 0) {
		unsigned char ikh[32];
		sw_sha256(spki, (size_t)spkilen, ikh);
		for (int i = 0; i < sk_SCT_num(scts) && ok < 0; i++)
			ok = sct_verify_one(tr, sk_SCT_value(scts, i), tbs, (size_t)tbslen, ikh);
	}
	OPENSSL_free(tbs);
	OPENSSL_free(spki);
	X509_free(pre);
	SCT_LIST_free(scts);
	if (ok < 0)
		return sw_err(err, SW_EVERIFY, "certificate: no embedded SCT verifies under a CT log of the trust root");
	return 0;
}

int sw_ss_tsa_verify(const sw_ss_trust *tr, const sw_ss_bytes *tsr, const sw_ss_bytes *data,
		     int64_t *t, sw_error *err)
{
	const unsigned char *q = tsr->p;
	TS_RESP *resp = d2i_TS_RESP(NULL, &q, (long)tsr->n);
	if (!resp || q != tsr->p + tsr->n) {
		TS_RESP_free(resp);
		return sw_err(err, SW_EINVAL, "rfc3161Timestamps: not a DER TimeStampResp");
	}
	TS_TST_INFO *info = TS_RESP_get_tst_info(resp);
	int64_t gen = info ? sw_ss_asn1_time(TS_TST_INFO_get_time(info)) : INT64_MIN;
	if (gen == INT64_MIN) {
		TS_RESP_free(resp);
		return sw_err(err, SW_EINVAL, "rfc3161Timestamps: no genTime");
	}
	int r = -1;
	bool in_time = false;
	for (size_t i = 0; i < tr->ntsas && r < 0; i++) {
		const sw_ss_ca *ca = &tr->tsas[i];
		if (gen < ca->start || gen > ca->end)
			continue;
		in_time = true;
		int n = sk_X509_num(ca->chain);
		X509_STORE *st = X509_STORE_new();
		STACK_OF(X509) *certs = sk_X509_new_null();
		TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
		BIO *bio = BIO_new_mem_buf(data->p, (int)data->n);
		if (!st || !certs || !ctx || !bio) {
			X509_STORE_free(st);
			sk_X509_free(certs);
			TS_VERIFY_CTX_free(ctx);
			BIO_free(bio);
			break;
		}
		X509_STORE_add_cert(st, sk_X509_value(ca->chain, n - 1));
		/* The TSA's chain is checked at the time it stamped, not now: its
		 * certificates may have expired since, the stamp stays good. */
		X509_VERIFY_PARAM *vp = X509_STORE_get0_param(st);
		X509_VERIFY_PARAM_set_time(vp, (time_t)gen);
		for (int j = 0; j < n - 1; j++)
			if (X509_up_ref(sk_X509_value(ca->chain, j)) == 1)
				sk_X509_push(certs, sk_X509_value(ca->chain, j));
		TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA);
		TS_VERIFY_CTX_set_data(ctx, bio);
		TS_VERIFY_CTX_set_store(ctx, st);
		TS_VERIFY_CTS_set_certs(ctx, certs);
		if (TS_RESP_verify_response(ctx, resp) == 1)
			r = 0;
		TS_VERIFY_CTX_free(ctx);
	}
	TS_RESP_free(resp);
	if (r < 0)
		return sw_err(err, SW_EVERIFY, in_time
			      ? "rfc3161Timestamps: the timestamp does not verify under a timestamp authority of the trust root (signature, chain or signed data)"
			      : "rfc3161Timestamps: no timestamp authority of the trust root was valid at the stamped time");
	*t = gen;
	return 0;
}
