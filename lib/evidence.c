/* SPDX-License-Identifier: Apache-2.0 */
/* A compiled list's evidence, read and verified again (lib/evidence.h). */
#include "evidence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

const char *sw_evidence_kind_name(sw_imgsig_kind k)
{
	return k == SW_IMGSIG_SIMPLE ? "simple-signing" : k == SW_IMGSIG_BUNDLE ? "bundle" : "unknown";
}

void sw_evidence_free(sw_evidence *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		yajl_tree_free(ev->rec[i]);
	free(ev->rec);
	free(ev->text);
	memset(ev, 0, sizeof *ev);
}

int sw_evidence_parse(const char *text, size_t len, const char *what, sw_evidence *ev, sw_error *err)
{
	memset(ev, 0, sizeof *ev);
	size_t ml = strlen(SW_EVIDENCE_MAGIC);
	if (len < ml + 1 || memcmp(text, SW_EVIDENCE_MAGIC "\n", ml + 1) != 0)
		return sw_err(err, SW_EINVAL, "%s:1: not a sigward evidence file (expected '%s')", what, SW_EVIDENCE_MAGIC);
	if (!(ev->text = sw_memdup0(text, len)))
		return sw_err_errno(err, ENOMEM, "%s", what);
	ev->len = len;
	sw_sha256_hex(text, len, ev->sha256);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (!(ev->rec = calloc(lines + 1, sizeof *ev->rec)))
		return sw_err_errno(err, ENOMEM, "%s", what);
	unsigned line = 1;
	for (char *p = ev->text + ml + 1, *end = ev->text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		line++;
		if (!nl)
			return sw_err(err, SW_EINVAL, "%s:%u: the last line is not terminated", what, line);
		*nl = '\0';
		char w[4200];
		sw_msgpath(w, sizeof w, "%s:%u", what, line);
		yajl_val v = NULL;
		int r = sw_json_tree(p, (size_t)(nl - p), w, &v, err);
		if (r < 0)
			return r;
		ev->rec[ev->n++] = v;
		if (!YAJL_IS_OBJECT(v) || !sw_ss_jstr(v, "type"))
			return sw_err(err, SW_EINVAL, "%s: not an object with a \"type\"", w);
		p = nl + 1;
	}
	return 0;
}

int sw_evidence_open(const sw_list *l, sw_evidence *ev, sw_error *err)
{
	memset(ev, 0, sizeof *ev);
	char what[4200];
	sw_msgpath(what, sizeof what, "%s/%s", l->path, SW_EVIDENCE_NAME);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = sw_read_file_at(l->dirfd, SW_EVIDENCE_NAME, SW_EVIDENCE_MAX, what, &text, &len, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* Covered? The anchor is looked up like any digest: its bin is hashed and
	 * compared with the manifest, which the signatures cover. */
	char h[SW_SHA256_HEX + 1], dg[SW_DIGEST_STR], ref[SW_REF_MAX + 1] = "";
	sw_sha256_hex(text, len, h);
	snprintf(dg, sizeof dg, "sha256:%s", h);
	sw_entry_kind kind = SW_ENTRY_UNTYPED;
	r = sw_list_find(l, dg, &kind, ref, sizeof ref, err);
	if (r < 0)
		return r;
	if (r == 0 || kind != SW_ENTRY_IMAGE_ID || strcmp(ref, SW_EVIDENCE_REF) != 0)
		return sw_err(err, SW_EVERIFY, "%s: not covered by the list (no image-id entry %s " SW_EVIDENCE_REF "): "
			      "not evidence of this list", what, dg);
	r = sw_evidence_parse(text, len, what, ev, err);
	return r < 0 ? r : 1;
}

/* The record of `type` whose `key` is `value`, or NULL. */
static yajl_val find_rec(const sw_evidence *ev, const char *type, const char *key, const char *value)
{
	for (size_t i = 0; i < ev->n; i++) {
		const char *t = sw_ss_jstr(ev->rec[i], "type"), *v = key ? sw_ss_jstr(ev->rec[i], key) : NULL;
		if (t && strcmp(t, type) == 0 && (!key || (v && strcmp(v, value) == 0)))
			return ev->rec[i];
	}
	return NULL;
}

/* One approval verified again: the stored signature under the stored signer. */
static int check_one(const sw_evidence *ev, yajl_val ap, const sw_ss_trust *trust, int64_t now, sw_evidence_check *c)
{
	sw_error e = { 0 };
	const char *layer = sw_ss_jstr(ap, "layer"), *signer = sw_ss_jstr(ap, "signer");
	const char *sid = sw_ss_jstr(ap, "signature_id");
	const char *signed_digest = sw_ss_jstr(ap, "signed_digest"), *repo = sw_ss_jstr(ap, "repository");
	yajl_val sig = sid ? find_rec(ev, "signature", "id", sid) : NULL;
	yajl_val sr = signer ? find_rec(ev, "signer", "name", signer) : NULL;
	if (!sig || !sr || !layer || !signed_digest || !sw_is_sha256_digest(signed_digest, strlen(signed_digest)))
		return sw_err(&e, SW_EINVAL, "the approval's signature, signer or signed digest is missing"),
		       snprintf(c->error, sizeof c->error, "%s", e.msg), 0;
	sw_ss_bytes blob = { 0 };
	if (sw_ss_jb64(sig, "blob_b64", "signature.blob_b64", &blob, &e) < 0) {
		snprintf(c->error, sizeof c->error, "%s", e.msg);
		return 0;
	}
	/* The stored blob must be the one the approval names. */
	char h[SW_SHA256_HEX + 1];
	sw_sha256_hex(blob.p, blob.n, h);
	_cleanup_free_ char *b0 = sw_memdup0(blob.p, blob.n);
	size_t bn = blob.n;
	sw_ss_bytes_free(&blob);
	if (!b0 || strncmp(layer, "sha256:", 7) != 0 || strcmp(layer + 7, h) != 0) {
		snprintf(c->error, sizeof c->error, "the stored %s does not hash to %s", "signature", layer);
		return 0;
	}
	const char *kind = sw_ss_jstr(sig, "kind");
	sw_imgsig_sig s = { .kind = kind && strcmp(kind, "bundle") == 0 ? SW_IMGSIG_BUNDLE : SW_IMGSIG_SIMPLE,
			    .blob = b0, .blob_len = bn,
			    .signature = (char *)sw_ss_jstr(sig, "signature"),
			    .certificate = (char *)sw_ss_jstr(sig, "certificate"),
			    .chain = (char *)sw_ss_jstr(sig, "chain"),
			    .rekor_bundle = (char *)sw_ss_jstr(sig, "rekor_bundle"),
			    .timestamp = (char *)sw_ss_jstr(sig, "timestamp") };
	sw_copy_str(s.layer, sizeof s.layer, layer);
	sw_copy_str(s.source, sizeof s.source, sw_ss_jstr(sig, "source"));
	sw_copy_str(s.manifest, sizeof s.manifest, sw_ss_jstr(sig, "manifest"));
	sw_imgsig_manifest m = { .sigs = &s, .nsigs = 1 };
	sw_copy_str(m.digest, sizeof m.digest, signed_digest);
	sw_imgsig_set set = { .m = &m, .nm = 1 };
	sw_copy_str(set.digest, sizeof set.digest, signed_digest);

	/* The signer as the list recorded it: its key, or exactly the identity
	 * and issuer the approval names (not the policy's pattern: the same
	 * certificate must verify again). */
	EVP_PKEY *key = NULL;
	sw_imgsig_identity id = { 0 };
	sw_imgsig_requirement req = { .trust = trust, .reference = repo, .threshold = 1, .now = now };
	const char *pem = sw_ss_jstr(sr, "key_pem");
	if (pem) {
		if (sw_ss_pubkey_pem(pem, strlen(pem), "signer.key_pem", &key, &e) < 0) {
			snprintf(c->error, sizeof c->error, "%s", e.msg);
			return 0;
		}
		req.keys = &key;
		req.nkeys = 1;
	} else {
		id.san = sw_ss_jstr(ap, "identity");
		id.issuer = sw_ss_jstr(ap, "issuer");
		if (!id.san || !id.issuer) {
			snprintf(c->error, sizeof c->error, "a keyless approval without identity and issuer");
			return 0;
		}
		req.identities = &id;
		req.nidentities = 1;
	}
	sw_imgsig_result res = { 0 };
	int r = sw_imgsig_verify(&set, &req, &res, &e);
	if (r == 0 && res.nev > 0) {
		c->ok = true;
		c->log_index = res.ev[0].tlog ? res.ev[0].log_index : -1;
		c->integrated_time = res.ev[0].tlog ? res.ev[0].integrated_time : 0;
	} else {
		snprintf(c->error, sizeof c->error, "%s", res.nst && res.st[0].reason[0] ? res.st[0].reason : e.msg);
	}
	sw_imgsig_result_free(&res);
	sw_imgsig_identity_free(&id);
	EVP_PKEY_free(key);
	return 0;
}

int sw_evidence_reverify(const sw_evidence *ev, const char *digest, int64_t now, sw_evidence_check *out, size_t max,
			 size_t *n, sw_error *err)
{
	*n = 0;
	_cleanup_(sw_ss_trust_free) sw_ss_trust trust;
	memset(&trust, 0, sizeof trust);
	bool have_trust = false;
	int found = 0;
	for (size_t i = 0; i < ev->n; i++) {
		yajl_val ap = ev->rec[i];
		const char *t = sw_ss_jstr(ap, "type"), *d = sw_ss_jstr(ap, "digest");
		if (!t || strcmp(t, "approval") != 0 || !d || strcmp(d, digest) != 0)
			continue;
		found++;
		if (*n == max)
			continue;
		if (!have_trust) {
			yajl_val tr = find_rec(ev, "trusted_root", NULL, NULL);
			sw_ss_bytes tj = { 0 };
			if (tr) {
				if (sw_ss_jb64(tr, "json_b64", "trusted_root.json_b64", &tj, err) < 0)
					return -1;
				_cleanup_free_ char *z = sw_memdup0(tj.p, tj.n);
				size_t zl = tj.n;
				sw_ss_bytes_free(&tj);
				if (!z)
					return sw_err_errno(err, ENOMEM, "evidence");
				if (sw_ss_trust_parse(z, zl, "evidence trusted_root", &trust, err) < 0)
					return -1;
			}
			have_trust = true;
		}
		sw_evidence_check *c = &out[(*n)++];
		memset(c, 0, sizeof *c);
		sw_copy_str(c->digest, sizeof c->digest, d);
		sw_copy_str(c->signed_digest, sizeof c->signed_digest, sw_ss_jstr(ap, "signed_digest"));
		sw_copy_str(c->kind, sizeof c->kind, sw_ss_jstr(ap, "kind"));
		sw_copy_str(c->layer, sizeof c->layer, sw_ss_jstr(ap, "layer"));
		sw_copy_str(c->signer, sizeof c->signer, sw_ss_jstr(ap, "signer"));
		sw_copy_str(c->key_id, sizeof c->key_id, sw_ss_jstr(ap, "key_id"));
		sw_copy_str(c->identity, sizeof c->identity, sw_ss_jstr(ap, "identity"));
		sw_copy_str(c->issuer, sizeof c->issuer, sw_ss_jstr(ap, "issuer"));
		sw_copy_str(c->reference, sizeof c->reference, sw_ss_jstr(ap, "reference"));
		c->log_index = -1;
		check_one(ev, ap, trust.ntlogs || trust.ncas ? &trust : NULL, now, c);
	}
	return found;
}
