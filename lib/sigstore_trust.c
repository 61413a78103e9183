/* SPDX-License-Identifier: Apache-2.0 */
/* sigstore: the trust root (trusted_root.json, sigstore.h). */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sigstore.h"
#include "util.h"

#define TRUST_MEDIA_TYPE "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

/* validFor: the start is required (a missing bound must not read as "since
 * ever"), the end optional (open), both inclusive. */
static int valid_for(yajl_val v, const char *what, int64_t *start, int64_t *end, sw_error *err)
{
	const char *s = sw_ss_jstr(v, "start"), *e = sw_ss_jstr(v, "end");
	if (!s)
		return sw_err(err, SW_EINVAL, "%s.validFor.start: missing", what);
	if (sw_parse_rfc3339(s, strlen(s), start) < 0)
		return sw_err(err, SW_EINVAL, "%s.validFor.start: not an RFC 3339 time", what);
	*end = INT64_MAX;
	yajl_val ev = sw_ss_jget(v, "end");
	if (ev && !YAJL_IS_NULL(ev) && (!e || sw_parse_rfc3339(e, strlen(e), end) < 0))
		return sw_err(err, SW_EINVAL, "%s.validFor.end: not an RFC 3339 time", what);
	if (*end < *start)
		return sw_err(err, SW_EINVAL, "%s.validFor: ends before it starts", what);
	return 0;
}

static int parse_log(yajl_val t, const char *what, sw_ss_log *l, sw_error *err)
{
	const char *url = sw_ss_jstr(t, "baseUrl");
	if (!url)
		return sw_err(err, SW_EINVAL, "%s.baseUrl: missing", what);
	l->base_url = strdup(url);
	if (!l->base_url)
		return sw_err(err, ENOMEM, "out of memory");
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	size_t hl = strcspn(h, "/");
	if (hl == 0 || hl >= sizeof l->host)
		return sw_err(err, SW_EINVAL, "%s.baseUrl: no host", what);
	memcpy(l->host, h, hl);
	l->host[hl] = '\0';
	yajl_val pk = sw_ss_jget(t, "publicKey");
	if (!YAJL_IS_OBJECT(pk))
		return sw_err(err, SW_EINVAL, "%s.publicKey: missing", what);
	sw_ss_bytes der = { 0 };
	if (sw_ss_jb64(pk, "rawBytes", what, &der, err) < 0)
		return sw_err_prefix(err, "publicKey");
	const unsigned char *q = der.p;
	/* PKCS1_RSA_* keys are a bare RSAPublicKey; every other kind of key is
	 * a SubjectPublicKeyInfo. */
	const char *details = sw_ss_jstr(pk, "keyDetails");
	if (details && strncmp(details, "PKCS1_RSA_", 10) == 0)
		l->key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)der.n);
	else
		l->key = d2i_PUBKEY(NULL, &q, (long)der.n);
	bool whole = q == der.p + der.n;
	sw_ss_bytes_free(&der);
	if (!l->key || !whole)
		return sw_err(err, SW_EINVAL, "%s.publicKey.rawBytes: not a DER SubjectPublicKeyInfo", what);
	if (valid_for(sw_ss_jget(pk, "validFor"), what, &l->start, &l->end, err) < 0)
		return -1;
	sw_ss_bytes id = { 0 };
	if (sw_ss_jb64(sw_ss_jget(t, "logId"), "keyId", what, &id, err) < 0)
		return sw_err_prefix(err, "logId");
	if (id.n == 0 || id.n > sizeof l->log_id) {
		sw_ss_bytes_free(&id);
		return sw_err(err, SW_EINVAL, "%s.logId.keyId: not a key id", what);
	}
	memcpy(l->log_id, id.p, id.n);
	l->log_id_len = id.n;
	sw_ss_bytes_free(&id);
	return 0;
}

static int parse_ca(yajl_val t, const char *what, sw_ss_ca *c, sw_error *err)
{
	yajl_val certs = sw_ss_jget(sw_ss_jget(t, "certChain"), "certificates");
	if (!YAJL_IS_ARRAY(certs) || certs->u.array.len == 0)
		return sw_err(err, SW_EINVAL, "%s.certChain.certificates: missing or empty", what);
	c->chain = sk_X509_new_null();
	if (!c->chain)
		return sw_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < certs->u.array.len; i++) {
		sw_ss_bytes der = { 0 };
		if (sw_ss_jb64(certs->u.array.values[i], "rawBytes", what, &der, err) < 0)
			return sw_err_prefix(err, "certChain.certificates[%zu]", i);
		const unsigned char *q = der.p;
		X509 *x = d2i_X509(NULL, &q, (long)der.n);
		bool whole = q == der.p + der.n;
		sw_ss_bytes_free(&der);
		if (!x || !whole || !sk_X509_push(c->chain, x)) {
			X509_free(x);
			return sw_err(err, SW_EINVAL, "%s.certChain.certificates[%zu]: not a DER certificate", what, i);
		}
	}
	return valid_for(sw_ss_jget(t, "validFor"), what, &c->start, &c->end, err);
}

int sw_ss_trust_parse(const char *json, size_t len, const char *what, sw_ss_trust *tr, sw_error *err)
{
	memset(tr, 0, sizeof *tr);
	_cleanup_yajl_ yajl_val root = NULL;
	if (sw_json_tree(json, len, what, &root, err) < 0)
		return -1;
	const char *mt = sw_ss_jstr(root, "mediaType");
	if (!mt || strcmp(mt, TRUST_MEDIA_TYPE) != 0)
		return sw_err(err, SW_EINVAL, "%s: mediaType: not %s", what, TRUST_MEDIA_TYPE);
	static const char *const names[] = { "tlogs", "ctlogs", "certificateAuthorities", "timestampAuthorities" };
	for (int k = 0; k < 4; k++) {
		yajl_val a = sw_ss_jget(root, names[k]);
		if (a && !YAJL_IS_ARRAY(a))
			return sw_err(err, SW_EINVAL, "%s: %s: not an array", what, names[k]);
		size_t n = a ? a->u.array.len : 0;
		if (n > 64)
			return sw_err(err, SW_ETOOBIG, "%s: %s: over 64 entries", what, names[k]);
		if (n == 0)
			continue;
		void *arr = calloc(n, k < 2 ? sizeof(sw_ss_log) : sizeof(sw_ss_ca));
		if (!arr)
			return sw_err(err, ENOMEM, "out of memory");
		switch (k) {
		case 0: tr->tlogs = arr; break;
		case 1: tr->ctlogs = arr; break;
		case 2: tr->cas = arr; break;
		default: tr->tsas = arr; break;
		}
		for (size_t i = 0; i < n; i++) {
			char w[64];
			snprintf(w, sizeof w, "%s[%zu]", names[k], i);
			int r;
			switch (k) {
			case 0: tr->ntlogs = i + 1; r = parse_log(a->u.array.values[i], w, &tr->tlogs[i], err); break;
			case 1: tr->nctlogs = i + 1; r = parse_log(a->u.array.values[i], w, &tr->ctlogs[i], err); break;
			case 2: tr->ncas = i + 1; r = parse_ca(a->u.array.values[i], w, &tr->cas[i], err); break;
			default: tr->ntsas = i + 1; r = parse_ca(a->u.array.values[i], w, &tr->tsas[i], err); break;
			}
			if (r < 0)
				return sw_err_prefix(err, "%s", what);
		}
	}
	if (tr->ntlogs == 0)
		return sw_err(err, SW_EINVAL, "%s: tlogs: no transparency log", what);
	return 0;
}

void sw_ss_trust_free(sw_ss_trust *tr)
{
	for (size_t i = 0; i < tr->ntlogs; i++) {
		free(tr->tlogs[i].base_url);
		EVP_PKEY_free(tr->tlogs[i].key);
	}
	for (size_t i = 0; i < tr->nctlogs; i++) {
		free(tr->ctlogs[i].base_url);
		EVP_PKEY_free(tr->ctlogs[i].key);
	}
	for (size_t i = 0; i < tr->ncas; i++)
		sk_X509_pop_free(tr->cas[i].chain, X509_free);
	for (size_t i = 0; i < tr->ntsas; i++)
		sk_X509_pop_free(tr->tsas[i].chain, X509_free);
	free(tr->tlogs);
	free(tr->ctlogs);
	free(tr->cas);
	free(tr->tsas);
	memset(tr, 0, sizeof *tr);
}
