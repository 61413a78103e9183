/* SPDX-License-Identifier: Apache-2.0 */
/* `sigward allowlist compile` (lib/compile.h): a tool, never on the start path. */
#include "compile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>

#include "allowlist.h"
#include "cleanup.h"
#include "config.h"
#include "evidence.h"
#include "fetch.h"
#include "imagesig.h"
#include "sign.h"
#include "util.h"

/* The policy's signers of one repository as an imagesig requirement, with the
 * way back from the requirement's key and identity indexes to the signers. */
typedef struct req_map {
	EVP_PKEY *keys[SW_IMGPOL_MAX_SIGNERS];
	size_t key_signer[SW_IMGPOL_MAX_SIGNERS];
	sw_imgsig_identity ids[SW_IMGPOL_MAX_SIGNERS];
	size_t id_signer[SW_IMGPOL_MAX_SIGNERS];
	sw_imgsig_requirement req;
} req_map;

static void req_map_free(req_map *m)
{
	for (size_t i = 0; i < m->req.nidentities; i++)
		sw_imgsig_identity_free(&m->ids[i]);
}

static void req_build(const sw_compile_opts *o, const size_t *signers, size_t n, const char *reference, req_map *m)
{
	memset(m, 0, sizeof *m);
	const sw_imgpolicy *p = o->policy;
	for (size_t i = 0; i < n; i++) {
		const sw_imgpol_signer *s = &p->signers[signers[i]];
		if (s->keyed) {
			m->key_signer[m->req.nkeys] = signers[i];
			m->keys[m->req.nkeys++] = s->key.pkey;
			continue;
		}
		sw_imgsig_identity *id = &m->ids[m->req.nidentities];
		id->san = s->identity.is_re ? NULL : s->identity.text;
		id->san_regex = s->identity.is_re ? s->identity.text : NULL;
		id->issuer = s->issuer.is_re ? NULL : s->issuer.text;
		id->issuer_regex = s->issuer.is_re ? s->issuer.text : NULL;
		m->id_signer[m->req.nidentities++] = signers[i];
	}
	m->req.trust = o->trust;
	m->req.keys = m->keys;
	m->req.identities = m->ids;
	m->req.reference = reference;
	/* Every verified signature is wanted as evidence; the policy's k of n is
	 * decided here, over distinct principals (imgpolicy.h). */
	m->req.threshold = 1;
	m->req.now = o->now;
}

static sw_imgpol_principal principal(const sw_imgpolicy *p, const req_map *m, const sw_imgsig_evidence *ev)
{
	sw_imgpol_principal pr = { 0 };
	if (ev->key >= 0)
		pr.key_id = p->signers[m->key_signer[ev->key]].key.id;
	else {
		pr.identity = ev->san;
		pr.issuer = ev->issuer;
	}
	return pr;
}

/* ------------------------------------------------------------ evidence out */

static void jb_kv_str(sw_jsonbuf *b, const char *k, const char *v)
{
	sw_jsonbuf_lit(b, ",");
	sw_jsonbuf_key(b, k);
	sw_jsonbuf_str(b, v);
}

static void jb_kv_i64(sw_jsonbuf *b, const char *k, int64_t v)
{
	sw_jsonbuf_lit(b, ",");
	sw_jsonbuf_key(b, k);
	sw_jsonbuf_i64(b, v);
}

static void jb_kv_bool(sw_jsonbuf *b, const char *k, bool v)
{
	sw_jsonbuf_lit(b, ",");
	sw_jsonbuf_key(b, k);
	if (v)
		sw_jsonbuf_lit(b, "true");
	else
		sw_jsonbuf_lit(b, "false");
}

static void jb_kv_b64(sw_jsonbuf *b, const char *k, const void *data, size_t len)
{
	_cleanup_free_ char *s = sw_base64_encode(data, len);
	if (!s) {
		b->failed = true;
		return;
	}
	jb_kv_str(b, k, s);
}

static void header(sw_compile *c, const sw_compile_opts *o)
{
	if (c->header_written)
		return;
	c->header_written = true;
	sw_jsonbuf *b = &c->evidence;
	sw_jsonbuf_lit(b, SW_EVIDENCE_MAGIC "\n{\"type\":\"compile\"");
	char t[32], h[SW_SHA256_HEX + 1] = "";
	sw_format_rfc3339(o->now ? o->now : sw_now(), t);
	jb_kv_str(b, "compiled", t);
	jb_kv_str(b, "sigward", SIGWARD_VERSION);
	jb_kv_str(b, "policy", o->policy->path);
	jb_kv_str(b, "policy_sha256", o->policy->sha256);
	if (o->trust_json)
		sw_sha256_hex(o->trust_json, o->trust_len, h);
	jb_kv_str(b, "trusted_root_sha256", o->trust_json ? h : NULL);
	sw_jsonbuf_lit(b, "}\n");
	if (o->trust_json) {
		/* The trust root itself: the list carries what its evidence was
		 * checked against, so an auditor re-verifies with no network. */
		sw_jsonbuf_lit(b, "{\"type\":\"trusted_root\"");
		jb_kv_str(b, "sha256", h);
		jb_kv_b64(b, "json_b64", o->trust_json, o->trust_len);
		sw_jsonbuf_lit(b, "}\n");
	}
	for (size_t i = 0; i < o->policy->n_signers; i++) {
		const sw_imgpol_signer *s = &o->policy->signers[i];
		sw_jsonbuf_lit(b, "{\"type\":\"signer\"");
		jb_kv_str(b, "name", s->name);
		if (s->keyed) {
			BIO *bio = BIO_new(BIO_s_mem());
			char *pem = NULL;
			long pl = 0;
			if (bio && PEM_write_bio_PUBKEY(bio, s->key.pkey) == 1)
				pl = BIO_get_mem_data(bio, &pem);
			jb_kv_str(b, "key_id", s->key.id);
			jb_kv_str(b, "alg", s->key.alg);
			if (pl > 0)
				sw_jsonbuf_lit(b, ",\"key_pem\":"), sw_jsonbuf_strn(b, pem, (size_t)pl);
			else
				b->failed = true;
			BIO_free(bio);
		} else {
			jb_kv_str(b, s->issuer.is_re ? "issuer_regex" : "issuer", s->issuer.text);
			jb_kv_str(b, s->identity.is_re ? "identity_regex" : "identity", s->identity.text);
		}
		sw_jsonbuf_lit(b, "}\n");
	}
}

/* A signature's id in the evidence: the SHA-256 of its blob and, for a classic
 * signature, its annotations. Not the layer digest alone: two signatures of
 * one image (a key and a certificate) carry the same simple-signing payload,
 * so the same layer, with different signature annotations. */
static void sig_id(const sw_imgsig_sig *s, char out[SW_SHA256_HEX + 1])
{
	sw_jsonbuf b = { 0 };
	const char *parts[] = { s->layer, s->signature, s->certificate, s->chain, s->rekor_bundle, s->timestamp };
	for (size_t i = 0; i < SW_ARRAY_SIZE(parts); i++) {
		sw_jsonbuf_str(&b, parts[i]);
		sw_jsonbuf_lit(&b, "\n");
	}
	sw_sha256_hex(b.p ? b.p : "", b.len, out);
	sw_jsonbuf_free(&b);
}

/* The signature's material, once per signature id. */
static void sig_record(sw_compile *c, const sw_imgsig_sig *s, const char *id)
{
	for (size_t i = 0; i < c->n_sig_layers; i++)
		if (strcmp(c->sig_layers[i], id) == 0)
			return;
	char **nl = realloc(c->sig_layers, (c->n_sig_layers + 1) * sizeof *nl);
	if (!nl || !(nl[c->n_sig_layers] = strdup(id))) {
		if (nl)
			c->sig_layers = nl;
		c->evidence.failed = true;
		return;
	}
	c->sig_layers = nl;
	c->n_sig_layers++;
	sw_jsonbuf *b = &c->evidence;
	sw_jsonbuf_lit(b, "{\"type\":\"signature\"");
	jb_kv_str(b, "id", id);
	jb_kv_str(b, "layer", s->layer);
	jb_kv_str(b, "kind", sw_evidence_kind_name(s->kind));
	jb_kv_str(b, "manifest", s->manifest);
	jb_kv_str(b, "source", s->source);
	jb_kv_b64(b, "blob_b64", s->blob, s->blob_len);
	if (s->kind == SW_IMGSIG_SIMPLE) {
		jb_kv_str(b, "signature", s->signature);
		jb_kv_str(b, "certificate", s->certificate);
		jb_kv_str(b, "chain", s->chain);
		jb_kv_str(b, "rekor_bundle", s->rekor_bundle);
		jb_kv_str(b, "timestamp", s->timestamp);
	}
	sw_jsonbuf_lit(b, "}\n");
}

/* One signature that verified: which manifest it is of, the signature, and
 * what imagesig says about it. */
typedef struct verified {
	size_t manifest;
	const sw_imgsig_sig *sig;
	sw_imgsig_evidence ev;
} verified;

static void approval_record(sw_compile *c, const sw_imgpolicy *p, const sw_imgsig_set *set, const sw_imgsig_manifest *m,
			    const char *repository, const char *reference, const verified *vf, size_t signer)
{
	const sw_imgsig_evidence *ev = &vf->ev;
	char id[SW_SHA256_HEX + 1];
	sig_id(vf->sig, id);
	sig_record(c, vf->sig, id);
	sw_jsonbuf *b = &c->evidence;
	sw_jsonbuf_lit(b, "{\"type\":\"approval\"");
	jb_kv_str(b, "digest", m->digest);
	jb_kv_str(b, "repository", repository);
	jb_kv_str(b, "reference", reference);
	jb_kv_str(b, "platform", m->platform[0] ? m->platform : NULL);
	jb_kv_str(b, "signed_digest", set->m[vf->manifest].digest);
	jb_kv_bool(b, "via_index", vf->manifest != (size_t)(m - set->m));
	jb_kv_str(b, "signature_id", id);
	jb_kv_str(b, "kind", sw_evidence_kind_name(ev->kind));
	jb_kv_str(b, "layer", ev->layer);
	jb_kv_str(b, "signature_manifest", ev->manifest);
	jb_kv_str(b, "source", ev->source);
	jb_kv_str(b, "signer", p->signers[signer].name);
	jb_kv_str(b, "key_id", ev->key >= 0 ? p->signers[signer].key.id : NULL);
	jb_kv_str(b, "identity", ev->key >= 0 ? NULL : ev->san);
	jb_kv_str(b, "issuer", ev->key >= 0 ? NULL : ev->issuer);
	jb_kv_str(b, "docker_reference", ev->docker_reference[0] ? ev->docker_reference : NULL);
	jb_kv_bool(b, "tlog", ev->tlog);
	jb_kv_i64(b, "log_index", ev->tlog ? ev->log_index : -1);
	jb_kv_i64(b, "integrated_time", ev->tlog ? ev->integrated_time : 0);
	sw_jsonbuf_lit(b, "}\n");
}

/* ------------------------------------------------------------ attestations */

/* One bundle as an attestation of requirement a for image `digest`: a DSSE
 * in-toto statement naming the digest, of a's predicate type, signed by one of
 * a's signers, whose predicate meets a. 0, or <0 with err saying why not. */
static int attest_one(const sw_compile_opts *o, const sw_imgpol_attest *a, const sw_imgsig_sig *s, const char *digest,
		      size_t *signer, int64_t *log_index, sw_error *err)
{
	_cleanup_(sw_ss_bundle_free) sw_ss_bundle b;
	memset(&b, 0, sizeof b);
	if (sw_ss_bundle_parse(s->blob, s->blob_len, "bundle", &b, err) < 0)
		return -1;
	if (!b.dsse)
		return sw_err(err, SW_EVERIFY, "not a DSSE envelope");
	char pt[256];
	if (sw_imgsig_predicate_type(&b.payload, pt, sizeof pt, err) < 0)
		return -1;
	if (strcmp(pt, a->predicate_type) != 0)
		return sw_err(err, SW_EVERIFY, "predicate type %.200s", pt);
	if (!o->trust)
		return sw_err(err, SW_EINVAL, "a bundle needs the policy's trusted_root");
	sw_ss_artifact art = { 0 };
	if (sw_unhex(digest + 7, 32, art.sha256) < 0)
		return sw_err(err, SW_EINVAL, "%s: not a sha256 digest", digest);
	int rc = -1;
	for (size_t i = 0; i < a->n_signers && rc < 0; i++) {
		const sw_imgpol_signer *sg = &o->policy->signers[a->signers[i]];
		sw_ss_policy pol = { .key = sg->keyed ? sg->key.pkey : NULL };
		if (!sg->keyed) {
			pol.identity = sg->identity.is_re ? NULL : sg->identity.text;
			pol.identity_re = sg->identity.is_re ? &sg->identity.re : NULL;
			pol.issuer = sg->issuer.is_re ? NULL : sg->issuer.text;
			pol.issuer_re = sg->issuer.is_re ? &sg->issuer.re : NULL;
		}
		/* sw_ss_verify checks the statement names the artifact digest. */
		rc = sw_ss_verify(o->trust, &b, &pol, &art, o->now ? o->now : sw_now(), err);
		if (rc == 0)
			*signer = a->signers[i];
	}
	if (rc < 0)
		return rc;
	_cleanup_free_ char *stmt = sw_memdup0(b.payload.p, b.payload.n);
	_cleanup_yajl_ yajl_val doc = NULL;
	if (!stmt || sw_json_tree(stmt, b.payload.n, "in-toto statement", &doc, err) < 0)
		return -1;
	static const char *const pp[] = { "predicate", NULL };
	if (sw_imgpol_attest_check(a, pt, yajl_tree_get(doc, (const char **)pp, yajl_t_object), err) < 0)
		return -1;
	*log_index = b.nentries ? b.entries[0].log_index : -1;
	return 0;
}

/* Every attestation the repository asks for, on the manifest the reference
 * names. 0 all met (records written), 1 one is not (reason set). */
static int attestations(sw_compile *c, const sw_compile_opts *o, const sw_imgpol_repo *r, const sw_imgsig_set *set,
			char *reason, size_t rn)
{
	const sw_imgsig_manifest *m = &set->m[0];
	for (size_t k = 0; k < r->n_attests; k++) {
		const sw_imgpol_attest *a = &o->policy->attests[r->attests[k]];
		sw_error last = { 0 };
		snprintf(last.msg, sizeof last.msg, "no Sigstore bundle found");
		bool met = false;
		for (size_t j = 0; j < m->nsigs && !met; j++) {
			const sw_imgsig_sig *s = &m->sigs[j];
			if (s->kind != SW_IMGSIG_BUNDLE)
				continue;
			size_t signer = 0;
			int64_t li = -1;
			sw_error e = { 0 };
			if (attest_one(o, a, s, m->digest, &signer, &li, &e) < 0) {
				last = e;
				continue;
			}
			met = true;
			char id[SW_SHA256_HEX + 1];
			sig_id(s, id);
			sig_record(c, s, id);
			sw_jsonbuf *b = &c->evidence;
			sw_jsonbuf_lit(b, "{\"type\":\"attestation\"");
			jb_kv_str(b, "digest", m->digest);
			jb_kv_str(b, "requirement", a->name);
			jb_kv_str(b, "predicate_type", a->predicate_type);
			jb_kv_str(b, "layer", s->layer);
			jb_kv_str(b, "signature_id", id);
			jb_kv_str(b, "signer", o->policy->signers[signer].name);
			jb_kv_i64(b, "log_index", li);
			sw_jsonbuf_lit(b, "}\n");
		}
		if (!met) {
			sw_msgpath(reason, rn, "attestation '%s' (%s) not verified: %s", a->name, a->predicate_type, last.msg);
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ one image */

static sw_compile_report *report_add(sw_compile *c, const char *ref, sw_error *err)
{
	sw_compile_report *n = realloc(c->reports, (c->n_reports + 1) * sizeof *n);
	if (!n)
		return sw_err_errno(err, ENOMEM, "%s", ref), NULL;
	c->reports = n;
	sw_compile_report *r = &c->reports[c->n_reports];
	memset(r, 0, sizeof *r);
	if (!(r->ref = strdup(ref)))
		return sw_err_errno(err, ENOMEM, "%s", ref), NULL;
	c->n_reports++;
	return r;
}

static int refuse(sw_compile *c, sw_compile_report *rep, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(sw_compile *c, sw_compile_report *rep, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof rep->reason, fmt, ap);
	va_end(ap);
	c->refused++;
	return 1;
}

/* Per manifest of the set: the signers met, own signatures first, then (for
 * a platform manifest) the index's, whose signature covers the digests it lists. */
static void decide(const sw_compile_opts *o, const sw_imgpol_repo *r, const req_map *m, const verified *vf, size_t nvf,
		   size_t i, bool index_ok, sw_imgpol_verdict *v, const verified **evs)
{
	sw_imgpol_principal pr[SW_IMGSIG_MAX_SIGS * 2];
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t want = pass == 0 ? i : 0;
		if (pass == 1 && (i == 0 || !index_ok))
			break;
		for (size_t k = 0; k < nvf && n < SW_ARRAY_SIZE(pr); k++) {
			if (vf[k].manifest != want)
				continue;
			evs[n] = &vf[k];
			pr[n++] = principal(o->policy, m, &vf[k].ev);
		}
	}
	sw_imgpolicy_decide(o->policy, r, pr, n, v);
}

/* Each signature of each manifest verified on its own, so that the evidence
 * names the very signature that verified. *why gets the last failure of
 * manifest i (for the report). */
static int verify_each(const sw_imgsig_set *set, const sw_imgsig_requirement *req, verified **out, size_t *n,
		       char (*why)[SW_ERROR_MAX], sw_error *err)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < set->nm; i++) {
		const sw_imgsig_manifest *m = &set->m[i];
		snprintf(why[i], SW_ERROR_MAX, "no signature found");
		for (size_t j = 0; j < m->nsigs; j++) {
			sw_imgsig_manifest one = *m;
			one.sigs = &m->sigs[j];
			one.nsigs = 1;
			one.is_index = false;
			sw_imgsig_set s1 = { .m = &one, .nm = 1 };
			memcpy(s1.digest, m->digest, sizeof s1.digest);
			sw_imgsig_result res = { 0 };
			sw_error e = { 0 };
			int rc = sw_imgsig_verify(&s1, req, &res, &e);
			if (rc < 0 && e.code != SW_EVERIFY) {
				sw_imgsig_result_free(&res);
				*err = e;
				return -1;
			}
			if (rc == 0 && res.nev > 0) {
				verified *nv = realloc(*out, (*n + 1) * sizeof *nv);
				if (!nv) {
					sw_imgsig_result_free(&res);
					return sw_err_errno(err, ENOMEM, "%s", m->digest);
				}
				*out = nv;
				nv[*n].manifest = i;
				nv[*n].sig = &m->sigs[j];
				nv[*n].ev = res.ev[0];
				(*n)++;
			} else {
				snprintf(why[i], SW_ERROR_MAX, "%s", res.nst && res.st[0].reason[0] ? res.st[0].reason : e.msg);
			}
			sw_imgsig_result_free(&res);
		}
	}
	return 0;
}

static void ev_sanitize_reason(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
}

int sw_compile_ref(sw_compile *c, const sw_compile_opts *o, const char *ref, sw_error *err)
{
	header(c, o);
	sw_compile_report *rep = report_add(c, ref, err);
	if (!rep)
		return -1;
	char buf[4096];
	sw_imgsig_src src;
	const char *tag = NULL, *docker_ref = NULL;
	if (sw_imgsig_parse_ref(ref, buf, sizeof buf, &src, &tag, &docker_ref, err) < 0)
		return -1;
	src.ca_file = o->ca_file;
	src.credentials = o->credentials;
	src.timeout = o->timeout;
	if (src.layout) {
		if (!o->layout_repository)
			return sw_err(err, SW_EINVAL, "%s: an OCI layout's images need the repository they are published "
				      "under (--layout-repository)", ref);
		docker_ref = o->layout_repository;
	}
	bool by_digest = sw_is_sha256_digest(tag, strlen(tag));
	if (asprintf(&rep->reference, "%s%s%s", docker_ref, by_digest ? "" : ":", by_digest ? "" : tag) < 0)
		return sw_err_errno(err, ENOMEM, "%s", ref);
	const sw_imgpol_repo *r = sw_imgpolicy_repo(o->policy, docker_ref);
	if (!r)
		return refuse(c, rep, "no [repository] of %s matches %s", o->policy->path, docker_ref);

	/* Discovery fails only when the source cannot be read as it must be
	 * (unreachable, an HTTP error, a digest mismatch, no such tag): that is
	 * an error for the whole compile, never "unsigned". */
	_cleanup_(sw_imgsig_set_free) sw_imgsig_set set = { 0 };
	if (sw_imgsig_discover(&src, tag, &set, err) < 0)
		return sw_err_prefix(err, "%s", ref);
	c->requests += set.requests;
	snprintf(rep->digest, sizeof rep->digest, "%s", set.digest);

	_cleanup_(req_map_free) req_map m;
	req_build(o, r->signers, r->n_signers, docker_ref, &m);
	m.req.need_tlog = r->need_tlog;
	_cleanup_free_ verified *vf = NULL;
	size_t nvf = 0;
	static char why[SW_IMGSIG_MAX_PLATFORMS + 1][SW_ERROR_MAX];
	if (set.nm > SW_ARRAY_SIZE(why))
		return refuse(c, rep, "%s: %zu manifests, more than %zu", set.digest, set.nm, SW_ARRAY_SIZE(why));
	if (verify_each(&set, &m.req, &vf, &nvf, why, err) < 0)
		return sw_err_prefix(err, "%s", ref);
	/* The policy's k of n, manifest by manifest; the index first, since its
	 * signers count for the platform manifests it lists. */
	sw_imgpol_verdict v[SW_IMGSIG_MAX_PLATFORMS + 1];
	static const verified *evs[SW_IMGSIG_MAX_PLATFORMS + 1][SW_IMGSIG_MAX_SIGS * 2];
	bool index_ok = false;
	for (size_t i = 0; i < set.nm; i++) {
		decide(o, r, &m, vf, nvf, i, index_ok, &v[i], evs[i]);
		if (i == 0)
			index_ok = set.m[0].is_index && v[0].ok;
		if (!v[i].ok) {
			ev_sanitize_reason(why[i]);
			return refuse(c, rep, "%s%s%s%s: %u of the %u signer(s) required by [repository %s] (line %u)%s%s",
				      set.m[i].digest, set.m[i].platform[0] ? " (" : "", set.m[i].platform,
				      set.m[i].platform[0] ? ")" : "", v[i].satisfied, r->threshold, r->pattern, r->line,
				      v[i].satisfied ? "" : "; ", v[i].satisfied ? "" : why[i]);
		}
	}
	/* Attestations the repository asks for: on the manifest the reference names. */
	size_t mark = c->evidence.len, mark_sigs = c->n_sig_layers;
	if (attestations(c, o, r, &set, rep->reason, sizeof rep->reason) == 1) {
		/* Nothing of a refused image stays in the evidence, nor in the
		 * record of what it already holds. */
		c->evidence.len = mark;
		if (c->evidence.p)
			c->evidence.p[mark] = '\0';
		while (c->n_sig_layers > mark_sigs)
			free(c->sig_layers[--c->n_sig_layers]);
		c->refused++;
		return 1;
	}
	for (size_t i = 0; i < set.nm; i++) {
		for (size_t k = 0; k < r->n_signers; k++) {
			int j = v[i].by_signer[k];
			if (j >= 0)
				approval_record(c, o->policy, &set, &set.m[i], docker_ref, rep->reference, evs[i][j], r->signers[k]);
		}
		if (c->n == c->cap) {
			size_t nc = c->cap ? c->cap * 2 : 64;
			sw_build_entry *ne = realloc(c->entries, nc * sizeof *ne);
			if (!ne)
				return sw_err_errno(err, ENOMEM, "%s", ref);
			c->entries = ne;
			c->cap = nc;
		}
		sw_build_entry *be = &c->entries[c->n];
		memset(be, 0, sizeof *be);
		snprintf(be->digest, sizeof be->digest, "%s", set.m[i].digest);
		be->kind = SW_ENTRY_MANIFEST;
		be->ref = strdup(rep->reference);
		be->what = strdup(ref);
		if (!be->ref || !be->what) {
			free(be->ref);
			free(be->what);
			return sw_err_errno(err, ENOMEM, "%s", ref);
		}
		c->n++;
	}
	rep->approved = true;
	rep->manifests = set.nm;
	c->approved++;
	return 0;
}

/* ------------------------------------------------------------ a repository */

/* cosign's own tags: signatures, attestations, the referrers fallback. */
static bool cosign_tag(const char *t)
{
	return strncmp(t, "sha256-", 7) == 0;
}

/* Each tag of `tags` (strings of a JSON array or of index.json's ref names). */
static int compile_tags(sw_compile *c, const sw_compile_opts *o, const char *prefix, const char *const *tags,
			size_t n, sw_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (cosign_tag(tags[i]))
			continue;
		_cleanup_free_ char *ref = NULL;
		if (asprintf(&ref, "%s:%s", prefix, tags[i]) < 0)
			return sw_err_errno(err, ENOMEM, "%s", prefix);
		if (sw_compile_ref(c, o, ref, err) < 0)
			return -1;
	}
	return 0;
}

/* The strings found at `key` of every member of array `arr` (key NULL: the
 * members themselves); they point into the tree. */
static int strings(yajl_val arr, const char *const *key, const char ***out, size_t *n, const char *what, sw_error *err)
{
	size_t len = YAJL_IS_ARRAY(arr) ? YAJL_GET_ARRAY(arr)->len : 0;
	*n = 0;
	*out = calloc(len ? len : 1, sizeof **out);
	if (!*out)
		return sw_err_errno(err, ENOMEM, "%s", what);
	for (size_t i = 0; i < len; i++) {
		yajl_val v = YAJL_GET_ARRAY(arr)->values[i];
		if (key)
			v = yajl_tree_get(v, (const char **)key, yajl_t_string);
		if (v && YAJL_IS_STRING(v))
			(*out)[(*n)++] = YAJL_GET_STRING(v);
	}
	return 0;
}

int sw_compile_repository(sw_compile *c, const sw_compile_opts *o, const char *repo, sw_error *err)
{
	header(c, o);
	char buf[4096];
	sw_imgsig_src src;
	const char *tag = NULL, *docker_ref = NULL;
	if (sw_imgsig_parse_ref(repo, buf, sizeof buf, &src, &tag, &docker_ref, err) < 0)
		return -1;
	/* A repository, not an image: no tag or digest given. */
	if (tag && strcmp(tag, "latest") == 0) {
		size_t rl = strlen(repo);
		if (rl > 7 && strcmp(repo + rl - 7, ":latest") == 0)
			return sw_err(err, SW_EINVAL, "%s: a repository is named without a tag or digest", repo);
	} else if (tag && *tag) {
		return sw_err(err, SW_EINVAL, "%s: a repository is named without a tag or digest", repo);
	}
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ const char **tags = NULL;
	size_t len = 0, n = 0;
	_cleanup_yajl_ yajl_val doc = NULL;
	char prefix[4200];
	if (src.layout) {
		char path[4200];
		sw_msgpath(path, sizeof path, "%s/index.json", src.layout);
		if (sw_read_file(path, SW_IMGSIG_MAX_MANIFEST, &text, &len, err) < 0 ||
		    sw_json_tree(text, len, path, &doc, err) < 0)
			return -1;
		static const char *const mp[] = { "manifests", NULL };
		static const char *const rp[] = { "annotations", "org.opencontainers.image.ref.name", NULL };
		if (strings(yajl_tree_get(doc, (const char **)mp, yajl_t_array), rp, &tags, &n, path, err) < 0)
			return -1;
		snprintf(prefix, sizeof prefix, "oci-layout:%s", src.layout);
		return compile_tags(c, o, prefix, tags, n, err);
	}
	sw_config cfg = { 0 };
	cfg.refresh_ca_file = (char *)o->ca_file;
	cfg.refresh_credentials = (char *)o->credentials;
	cfg.refresh_timeout = o->timeout > 0 ? o->timeout : 30;
	sw_registry *reg = NULL;
	if (sw_registry_open(&cfg, src.registry, &reg, err) < 0)
		return -1;
	char path[1200];
	snprintf(path, sizeof path, "/v2/%s/tags/list?n=10000", src.repository);
	long status = 0;
	int rc = sw_registry_get(reg, path, "application/json", SW_IMGSIG_MAX_MANIFEST, &status, &text, &len, err);
	c->requests += sw_registry_requests(reg);
	sw_registry_close(reg);
	if (rc < 0)
		return sw_err_prefix(err, "%s", repo);
	if (status != 200)
		return sw_err(err, SW_EINVAL, "%s%s: HTTP %ld", src.registry, path, status);
	static const char *const tp[] = { "tags", NULL };
	if (sw_json_tree(text, len, path, &doc, err) < 0 ||
	    strings(yajl_tree_get(doc, (const char **)tp, yajl_t_array), NULL, &tags, &n, path, err) < 0)
		return -1;
	/* The reference as given (its scheme kept: oci+http:// stays plain HTTP),
	 * without a trailing ":latest" that parsing assumed. */
	snprintf(prefix, sizeof prefix, "%s", repo);
	return compile_tags(c, o, prefix, tags, n, err);
}

int sw_compile_finish(sw_compile *c, const char **evidence, size_t *len, sw_error *err)
{
	if (c->evidence.failed || !c->evidence.p)
		return sw_err_errno(err, ENOMEM, "evidence");
	if (sw_build_evidence_entry(c->evidence.p, c->evidence.len, &c->entries, &c->n, &c->cap, err) < 0)
		return -1;
	*evidence = c->evidence.p;
	*len = c->evidence.len;
	return 0;
}

void sw_compile_free(sw_compile *c)
{
	sw_build_entries_free(c->entries, c->n);
	sw_jsonbuf_free(&c->evidence);
	for (size_t i = 0; i < c->n_sig_layers; i++)
		free(c->sig_layers[i]);
	free(c->sig_layers);
	for (size_t i = 0; i < c->n_reports; i++) {
		free(c->reports[i].ref);
		free(c->reports[i].reference);
	}
	free(c->reports);
	memset(c, 0, sizeof *c);
}
