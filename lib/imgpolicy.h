/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imgpolicy: the image signing policy of `sigward allowlist compile` (which
 * repositories need which signers, k of n, and which attestations), in
 * sigward.conf's syntax (docs/sigstore.md "The image policy", sigward(1) IMAGE
 * POLICY). A tool: the hook and the wrapper never link it.
 *
 *   [policy]
 *   trusted_root = trusted_root.json        # needed by keyless signers
 *   [signer ci]                             # keyless: a Fulcio certificate
 *   issuer = https://token.actions.githubusercontent.com
 *   identity_regex = https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*
 *   [signer release]                        # keyed: a PEM public key
 *   key = release.pub
 *   [attestation provenance]
 *   predicate_type = https://slsa.dev/provenance/v1
 *   builder = https://github.com/actions/runner/github-hosted
 *   source = https://github.com/acme/app
 *   signers = ci
 *   [repository registry.acme.example/app]
 *   signers = ci release
 *   threshold = 2
 *   attestations = provenance
 *
 * Strict: an unknown section or key, a key given twice in a section, a name
 * defined twice, a reference to an undefined name, a signer that is neither
 * keyed nor keyless (or both), a threshold above the number of signers, a key
 * file that does not load, a regex that does not compile: each an error
 * "FILE:LINE: problem". Relative paths are relative to the policy's directory.
 * Regexes are POSIX extended and always anchored (the whole value must match):
 * an unanchored "https://github.com/acme/" would also match
 * "https://evil.example/?https://github.com/acme/".
 *
 * Repository patterns are matched against "host/path" (no tag, no digest): '*'
 * matches within one path component, '**' across components; the first
 * [repository] section in file order that matches decides, and a repository
 * that matches none is never approved.
 *
 * k of n: a repository's threshold counts distinct signers satisfied by
 * distinct signing principals (a key, or an issuer + certificate identity): one
 * signature, or two signatures by the same key or identity, never satisfy two
 * signers, however the signers' patterns overlap (a maximum matching decides).
 *
 * Ownership: sw_imgpolicy owns everything it holds; sw_imgpolicy_free releases
 * it and zeroes the struct (safe twice).
 */
#ifndef SW_IMGPOLICY_H
#define SW_IMGPOLICY_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "error.h"
#include "keys.h"

#define SW_IMGPOL_NAME_MAX 64
#define SW_IMGPOL_MAX_SIGNERS 32      /* per policy, and so per repository */
#define SW_IMGPOL_MAX_ATTESTS 16
#define SW_IMGPOL_MAX_REPOS 1024
#define SW_IMGPOL_MAX_SIZE (256 * 1024)

/* A string that must equal a value exactly, or an anchored regex. */
typedef struct sw_imgpol_match {
	char *text;                   /* the value as written; NULL: unset */
	bool is_re;
	regex_t re;
} sw_imgpol_match;

typedef struct sw_imgpol_signer {
	char name[SW_IMGPOL_NAME_MAX + 1];
	unsigned line;                /* of the section header */
	bool keyed;
	sw_key key;                   /* keyed: the loaded public key (id, alg, pkey) */
	sw_imgpol_match issuer, identity;   /* keyless */
} sw_imgpol_signer;

typedef struct sw_imgpol_attest {
	char name[SW_IMGPOL_NAME_MAX + 1];
	unsigned line;
	char *predicate_type;         /* exact */
	char *builder;                /* SLSA builder id, exact; NULL: any */
	char *source;                 /* source repository URI; NULL: any */
	size_t signers[SW_IMGPOL_MAX_SIGNERS];   /* one of them must have signed it */
	size_t n_signers;
} sw_imgpol_attest;

typedef struct sw_imgpol_repo {
	char *pattern;
	unsigned line;
	size_t signers[SW_IMGPOL_MAX_SIGNERS];   /* indexes into sw_imgpolicy.signers */
	size_t n_signers;
	unsigned threshold;           /* 1..n_signers */
	size_t attests[SW_IMGPOL_MAX_ATTESTS];
	size_t n_attests;
	/* need_tlog = yes: a keyed signature needs a verified Rekor entry too (a
	 * key can sign in private; the log makes it public). Keyless always does. */
	bool need_tlog;
} sw_imgpol_repo;

typedef struct sw_imgpolicy {
	char *path;
	char *trusted_root;           /* resolved path, or NULL */
	unsigned trusted_root_line;
	sw_imgpol_signer *signers;
	size_t n_signers;
	sw_imgpol_attest *attests;
	size_t n_attests;
	sw_imgpol_repo *repos;
	size_t n_repos;
	/* SHA-256 of the policy's bytes, for the evidence of a compiled list. */
	char sha256[SW_SHA256_HEX + 1];
} sw_imgpolicy;

int sw_imgpolicy_parse(const char *path, const char *text, size_t len, sw_imgpolicy *p, sw_error *err);
int sw_imgpolicy_load(const char *path, sw_imgpolicy *p, sw_error *err);
void sw_imgpolicy_free(sw_imgpolicy *p);

/* Does a pattern match "host/path"? */
bool sw_imgpol_pattern_match(const char *pattern, const char *repository);
/* The first [repository] that matches, or NULL. */
const sw_imgpol_repo *sw_imgpolicy_repo(const sw_imgpolicy *p, const char *repository);

/* Who made a verified signature: a key id (keyed), or the certificate's SAN
 * and OIDC issuer (keyless). */
typedef struct sw_imgpol_principal {
	const char *key_id;           /* hex SHA-256 of the DER SPKI, or NULL */
	const char *identity, *issuer;
} sw_imgpol_principal;

bool sw_imgpol_signer_matches(const sw_imgpol_signer *s, const sw_imgpol_principal *pr);

/* The k-of-n decision over verified signatures. */
typedef struct sw_imgpol_verdict {
	bool ok;
	unsigned satisfied;           /* distinct signers met, at most the threshold asks for none beyond */
	/* by_signer[i]: the index of the signature that satisfied the repository's
	 * i-th signer, or -1. */
	int by_signer[SW_IMGPOL_MAX_SIGNERS];
} sw_imgpol_verdict;

void sw_imgpolicy_decide(const sw_imgpolicy *p, const sw_imgpol_repo *r, const sw_imgpol_principal *sigs,
			 size_t n, sw_imgpol_verdict *v);

/* Does an in-toto statement's predicate meet the attestation's requirements
 * (type, SLSA builder id, source)? predicate_type is the statement's;
 * predicate its "predicate" member (may be NULL). 0 yes, <0 with err saying
 * which requirement failed. SLSA v1: runDetails.builder.id, source from
 * buildDefinition.externalParameters.workflow.repository or a
 * resolvedDependencies[].uri; v0.2: builder.id, invocation.configSource.uri. A
 * source matches the URI exactly, or followed by '@' (a pinned revision). */
int sw_imgpol_attest_check(const sw_imgpol_attest *a, const char *predicate_type, yajl_val predicate,
			   sw_error *err);

#endif
