/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imagesig: find a container image's cosign signatures and verify them offline.
 * Tool code (the policy compiler, `sigward image verify`): nothing on the start
 * path links it.
 *
 * Two steps, so a caller can discover once and verify under several policies:
 *
 *  1. sw_imgsig_discover: from a registry (distribution API over libcurl, the
 *     [refresh] transport options) or an OCI image layout directory, resolve a tag
 *     to the manifest digest (every manifest is read by digest and its sha256
 *     checked), and an index to its platform manifests; for each of these
 *     manifests collect the signature material found:
 *       - the legacy cosign signature image, tag "sha256-<hex>.sig": one layer per
 *         signature, media type application/vnd.dev.cosign.simplesigning.v1+json,
 *         the payload as the blob, annotations dev.cosignproject.cosign/signature,
 *         dev.sigstore.cosign/certificate, dev.sigstore.cosign/chain,
 *         dev.sigstore.cosign/bundle (Rekor SET) and dev.sigstore.cosign/timestamp;
 *       - the OCI 1.1 referrers (GET /v2/<name>/referrers/<digest>, or the
 *         "sha256-<hex>" fallback tag's index when the registry has no such API)
 *         whose layer is a Sigstore bundle
 *         (application/vnd.dev.sigstore.bundle.v0.3+json, cosign v3), or a
 *         simple-signing layer as in the .sig image (cosign 2's experimental
 *         OCI 1.1 mode, artifactType ...cosign.artifact.sig.v1+json);
 *       - in a layout: the same two by index.json's org.opencontainers.image.ref.name
 *         tags, plus every manifest of index.json whose subject is the image.
 *     Discovery verifies nothing but digests; a registry that cannot be reached
 *     or answers wrongly is an error (never "no signatures").
 *
 *  2. sw_imgsig_verify: every signature of every manifest of the set against a
 *     requirement (keys and/or keyless identities, a pinned trust root, the
 *     docker-reference to match, whether a log entry is needed, k distinct
 *     signers). Simple signing: the payload's critical.type is "cosign container
 *     image signature", critical.image.docker-manifest-digest is the manifest's
 *     digest, critical.identity.docker-reference matches the requirement's
 *     reference, the signature verifies over the payload bytes under a key or the
 *     certificate (chained to a Fulcio CA of the trust root at the log's
 *     integrated time, or the RFC 3161 time); the Rekor SET binds all of it
 *     (lib/sigstore_verify.c does that part: the annotations are read as a v0.1
 *     message-signature bundle). Bundle: a DSSE envelope whose in-toto statement
 *     names the manifest digest as a subject and whose predicateType is
 *     https://sigstore.dev/cosign/sign/v1 (an attestation is not a signature),
 *     verified by sw_ss_verify.
 *     Multi-arch: an index's valid signature covers the platform manifests it
 *     lists (evidence with via_index set); a platform manifest's own signature is
 *     reported as its own. With each_platform, every platform manifest needs its
 *     own.
 *
 * Ownership: sets and results own all their strings; free them with
 * sw_imgsig_set_free / sw_imgsig_result_free (both accept a zeroed struct).
 * Failure: <0 and err naming the reference, manifest digest and the problem.
 */
#ifndef SW_IMAGESIG_H
#define SW_IMAGESIG_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "error.h"
#include "sigstore.h"
#include "util.h"

#define SW_IMGSIG_SIMPLESIGNING_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define SW_IMGSIG_BUNDLE_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"
/* cosign 2 --registry-referrers-mode=oci-1-1: classic signature layers in a referrer */
#define SW_IMGSIG_COSIGN2_SIG_TYPE "application/vnd.dev.cosign.artifact.sig.v1+json"
#define SW_IMGSIG_SIGN_PREDICATE "https://sigstore.dev/cosign/sign/v1"
#define SW_IMGSIG_MAX_MANIFEST (4u << 20)  /* a manifest, index or referrers list */
#define SW_IMGSIG_MAX_SIGS 64              /* signatures read per manifest */
#define SW_IMGSIG_MAX_PLATFORMS 64         /* platform manifests of an index */

/* ---- where to look ---- */

typedef struct sw_imgsig_src {
	/* Registry: base URL "https://host[:port]" (or "http://" for a plain-HTTP
	 * test registry) and repository "org/app"; layout NULL. */
	const char *registry;
	const char *repository;
	/* OCI image layout directory (registry NULL). */
	const char *layout;
	/* Transport, as [refresh] in sigward.conf: CA file, "user:password" file,
	 * connect/low-speed timeout in seconds (0: 30). All optional. */
	const char *ca_file;
	const char *credentials;
	int64_t timeout;
} sw_imgsig_src;

/* Parse an image reference into a source and the tag or digest:
 *   [oci://]host[:port]/repo[:tag|@sha256:hex]   a registry over https
 *   oci+http://host[:port]/repo[:tag|@sha256:hex]   plain http
 *   oci-layout:DIR[:tag|@sha256:hex]              an OCI image layout
 * No tag means "latest". The strings point into buf (size n), which the caller
 * keeps while src is used. docker_ref gets "host[:port]/repo" (layout: DIR's
 * org.opencontainers.image.ref.name is not a repository, so the repository given
 * with --reference is needed there). */
int sw_imgsig_parse_ref(const char *ref, char *buf, size_t n, sw_imgsig_src *src, const char **tag_or_digest,
			const char **docker_ref, sw_error *err);

/* ---- what was found ---- */

typedef enum sw_imgsig_kind {
	SW_IMGSIG_SIMPLE = 1,        /* cosign classic: simple-signing payload */
	SW_IMGSIG_BUNDLE = 2,        /* cosign v3: Sigstore bundle referrer */
} sw_imgsig_kind;

typedef struct sw_imgsig_sig {
	sw_imgsig_kind kind;
	char source[32];             /* "tag" (.sig), "referrers", "referrers-tag", "layout" */
	char manifest[SW_DIGEST_STR];/* the signature's (or referrer's) manifest digest */
	char layer[SW_DIGEST_STR];   /* the payload or bundle blob's digest */
	char *blob;                  /* payload or bundle JSON (digest checked), NUL-terminated */
	size_t blob_len;
	/* SIMPLE only: the layer annotations as found (NULL when absent). */
	char *signature;             /* base64 */
	char *certificate, *chain;   /* PEM */
	char *rekor_bundle;          /* JSON {"SignedEntryTimestamp","Payload":{...}} */
	char *timestamp;             /* JSON {"SignedRFC3161Timestamp": b64} */
} sw_imgsig_sig;

typedef struct sw_imgsig_manifest {
	char digest[SW_DIGEST_STR];
	char media_type[96];
	bool is_index;
	char platform[64];           /* "linux/amd64[/v8]" for an index's member, else "" */
	sw_imgsig_sig *sigs;
	size_t nsigs;
} sw_imgsig_manifest;

typedef struct sw_imgsig_set {
	char digest[SW_DIGEST_STR];  /* what the reference resolved to */
	/* [0] is that manifest (or index); an index's platform manifests follow (its
	 * attestation manifests, platform unknown/unknown, are skipped). */
	sw_imgsig_manifest *m;
	size_t nm;
	uint64_t requests;           /* registry requests made (tests, reports) */
} sw_imgsig_set;

int sw_imgsig_discover(const sw_imgsig_src *src, const char *tag_or_digest, sw_imgsig_set *out, sw_error *err);
void sw_imgsig_set_free(sw_imgsig_set *s);

/* ---- what must hold ---- */

typedef struct sw_imgsig_identity {
	/* Certificate identity (URI or email SAN): exact string, or a POSIX extended
	 * regex that must match a whole SAN (compiled by sw_imgsig_identity_compile).
	 * Same for the OIDC issuer. One of each is needed. */
	const char *san, *san_regex;
	const char *issuer, *issuer_regex;
	regex_t san_re, issuer_re;   /* filled by sw_imgsig_identity_compile */
	bool compiled;
} sw_imgsig_identity;

int sw_imgsig_identity_compile(sw_imgsig_identity *id, sw_error *err);

/* Whether a pattern is small enough to hand to regcomp: glibc copies the
 * subtree of a '+' or an interval once per repetition, so "a++++..." or nested
 * intervals take memory exponential in their count (a 439-byte policy made it
 * allocate 2 GB). At most SW_IMGSIG_RE_MAX bytes, no quantifier right after
 * another (undefined in POSIX EREs anyway), interval bounds of at most 16, and
 * the product of every '+' (2) and interval bound (treated as nested, the worst
 * case) at most 1024. 0, or -1 with *why set to a short reason. */
#define SW_IMGSIG_RE_MAX 256
int sw_imgsig_regex_bounded(const char *re, const char **why);
void sw_imgsig_identity_free(sw_imgsig_identity *id);

typedef struct sw_imgsig_requirement {
	const sw_ss_trust *trust;    /* pinned trusted_root.json; NULL only for keyed, no tlog */
	EVP_PKEY *const *keys;       /* PEM public keys (cosign.pub), any of them */
	size_t nkeys;
	sw_imgsig_identity *identities; /* keyless signers, any of them */
	size_t nidentities;
	/* critical.identity.docker-reference must equal this ("host[:port]/repo";
	 * a ":tag" or "@digest" on the payload's side is ignored). NULL: not checked
	 * (bundles carry no reference). */
	const char *reference;
	bool need_tlog;              /* keyed: a verified Rekor entry too (keyless always) */
	bool each_platform;          /* platform manifests need their own signature */
	unsigned threshold;          /* distinct signers (keys/identities) needed; 0 = 1 */
	int64_t now;                 /* 0: sw_now() */
} sw_imgsig_requirement;

/* ---- why it was approved ---- */

typedef struct sw_imgsig_evidence {
	char image[SW_DIGEST_STR];   /* the manifest this approves */
	char signed_digest[SW_DIGEST_STR]; /* the digest the signature names */
	bool via_index;              /* covered by the index's signature, not its own */
	sw_imgsig_kind kind;
	char source[32];
	char manifest[SW_DIGEST_STR];/* signature / referrer manifest */
	char layer[SW_DIGEST_STR];   /* payload / bundle blob */
	int key;                     /* index into req->keys, or -1 */
	int identity;                /* index into req->identities, or -1 */
	char key_id[SW_DIGEST_STR];  /* keyed: sha256 of the key's DER SubjectPublicKeyInfo */
	char san[512], issuer[512];  /* keyless: the certificate's matching SAN and issuer */
	char docker_reference[512];  /* simple signing: as the payload says */
	bool tlog;                   /* a Rekor entry verified */
	int64_t log_index, integrated_time; /* -1 / 0 when none */
} sw_imgsig_evidence;

/* Per manifest of the set: approved or why not. */
typedef struct sw_imgsig_status {
	char digest[SW_DIGEST_STR];
	char platform[64];
	bool approved;
	bool via_index;              /* approved only because the index is */
	unsigned signers;            /* distinct signers of its own */
	char reason[SW_ERROR_MAX];   /* not approved: the last signature's failure */
} sw_imgsig_status;

typedef struct sw_imgsig_result {
	bool approved;               /* every manifest of the set */
	sw_imgsig_evidence *ev;      /* one per verified signature (and per covered platform) */
	size_t nev;
	sw_imgsig_status *st;        /* parallel to set->m */
	size_t nst;
} sw_imgsig_result;

/* 0 when every manifest of the set is approved; otherwise SW_EVERIFY naming the
 * first manifest that is not, the result still filled (what did verify, and
 * why the rest did not). <0 other codes: the requirement itself is unusable. */
int sw_imgsig_verify(const sw_imgsig_set *set, const sw_imgsig_requirement *req, sw_imgsig_result *out,
		     sw_error *err);
void sw_imgsig_result_free(sw_imgsig_result *r);

/* ---- pieces (exposed for unit tests and the fuzzers) ---- */

typedef struct sw_imgsig_payload {
	char digest[SW_DIGEST_STR];  /* critical.image.docker-manifest-digest */
	char reference[512];         /* critical.identity.docker-reference */
} sw_imgsig_payload;

/* A simple-signing payload (json NUL-terminated at len). */
int sw_imgsig_payload_parse(const char *json, size_t len, sw_imgsig_payload *out, sw_error *err);

/* Does a docker-reference ("host/repo", "host/repo:tag", "host/repo@sha256:...")
 * name the repository want ("host/repo")? docker.io short names are expanded
 * ("alpine" is docker.io/library/alpine). */
bool sw_imgsig_reference_matches(const char *payload_ref, const char *want);

/* The in-toto predicateType of a DSSE payload, copied into out. */
int sw_imgsig_predicate_type(const sw_ss_bytes *payload, char *out, size_t n, sw_error *err);

/* A found bundle (kind SW_IMGSIG_BUNDLE) parsed into b, which must be a DSSE
 * envelope, and its in-toto predicateType: the first steps of verifying it as
 * a signature or as an attestation. b is the caller's to free
 * (sw_ss_bundle_free), also on failure. */
int sw_imgsig_bundle_open(const sw_imgsig_sig *s, sw_ss_bundle *b, char *predicate_type, size_t n, sw_error *err);

#endif
