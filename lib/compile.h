/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compile: `sigward allowlist compile`. Image references (or every tag of a
 * repository) are checked against the image policy (imgpolicy.h): each one's
 * cosign signatures are found and verified offline (imagesig.h), the policy's
 * k of n is decided per manifest (an index and each of its platform manifests;
 * a platform manifest counts the index's signers too, since the index lists
 * its digest), attestations are checked when the repository asks for them, and
 * what passes becomes list entries (kind manifest, with the reference) plus
 * evidence records (docs/allowlist-format.md "evidence"): which signature or
 * bundle, its digest, the policy signer, the key or identity and issuer, the
 * log index and time, and the signature material itself, so `sigward audit`
 * can verify it again offline.
 *
 * Outcomes per reference: approved (listed), refused (not listed, reported
 * with the reason), or an error: a registry that cannot be reached or answers
 * wrongly, a reference that does not resolve. An error stops the whole
 * compile; the caller writes nothing, so the old list stays.
 *
 * Ownership: sw_compile owns its entries, evidence and reports;
 * sw_compile_free releases them. A tool: the start path never links it.
 */
#ifndef SW_COMPILE_H
#define SW_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "build.h"
#include "error.h"
#include "imgpolicy.h"
#include "json.h"
#include "sigstore.h"

typedef struct sw_compile_opts {
	const sw_imgpolicy *policy;
	const sw_ss_trust *trust;   /* the policy's trusted_root, loaded; NULL if it names none */
	const char *trust_json;     /* its bytes, stored in the evidence for offline re-verification */
	size_t trust_len;
	/* Registry transport (as [refresh]): all optional. */
	const char *ca_file, *credentials;
	int64_t timeout;
	/* The repository ("host/path") an OCI layout's images are published
	 * under: the policy and the payloads' docker-reference are matched
	 * against it. Required for oci-layout: references. */
	const char *layout_repository;
	int64_t now;                /* 0: sw_now() */
} sw_compile_opts;

typedef struct sw_compile_report {
	char *ref;                  /* as given */
	char *reference;            /* what is listed: "host/repo:tag" or "host/repo@sha256:..." */
	char digest[SW_DIGEST_STR]; /* what it resolved to */
	bool approved;
	size_t manifests;           /* listed digests (an index and its platforms) */
	char reason[SW_ERROR_MAX];  /* refused: why */
} sw_compile_report;

typedef struct sw_compile {
	sw_build_entry *entries;
	size_t n, cap;
	sw_jsonbuf evidence;        /* the evidence file, line by line */
	char **sig_layers;          /* signature material already written (by layer digest) */
	size_t n_sig_layers;
	bool header_written;
	sw_compile_report *reports;
	size_t n_reports;
	size_t approved, refused;
	uint64_t requests;          /* registry requests made */
} sw_compile;

/* One reference: [oci://]host[:port]/repo[:tag|@digest], oci+http://...,
 * oci-layout:DIR[:tag|@digest]. 0 approved, 1 refused (the report says why),
 * <0 error (stop: nothing may be written). */
int sw_compile_ref(sw_compile *c, const sw_compile_opts *o, const char *ref, sw_error *err);

/* Every tag of a repository (registry: /v2/<name>/tags/list; OCI layout:
 * index.json's ref names), except cosign's own "sha256-<hex>[.sig|.att]"
 * tags. Per tag as sw_compile_ref; <0 stops. */
int sw_compile_repository(sw_compile *c, const sw_compile_opts *o, const char *repo, sw_error *err);

/* The evidence file's bytes (c keeps them) and its anchor entry appended to
 * c->entries; call once, after the last reference. */
int sw_compile_finish(sw_compile *c, const char **evidence, size_t *len, sw_error *err);

void sw_compile_free(sw_compile *c);

#endif
