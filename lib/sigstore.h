/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigstore: offline verification of Sigstore bundles (v0.1-v0.3) over a pinned
 * trusted_root.json, on OpenSSL 3 and yajl. Tool code: nothing on the start path
 * links it.
 *
 * Split by concern:
 *  - sigstore_trust.c   the trust root (Fulcio CAs, Rekor logs, CT logs, TSAs);
 *  - sigstore_bundle.c  the bundle document, base64, keys and signatures;
 *  - sigstore_tlog.c    Rekor v1/v2 entries: SET, RFC 6962/9162 Merkle audit
 *                       path, signed checkpoints (C2SP signed note);
 *  - sigstore_cert.c    the Fulcio chain, SAN and OIDC issuer, embedded SCTs,
 *                       RFC 3161 timestamps;
 *  - sigstore_dsse.c    DSSE PAE and the in-toto statement;
 *  - sigstore_verify.c  the whole verification, in the order sigstore clients use.
 * Every check fails closed: an unknown media type, kind, algorithm or field shape
 * is an error naming the field.
 */
#ifndef SW_SIGSTORE_H
#define SW_SIGSTORE_H

#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "error.h"

#define SW_SS_MAX_DOC (16u << 20)      /* bundle or trust root, bytes */
#define SW_SS_MAX_ARTIFACT (1u << 30)  /* an artifact read whole (Ed25519, SHA-384) */
#define SW_SS_MAX_PROOF 64             /* audit path hashes (trees below 2^64) */
#define SW_SS_MAX_NOTE_SIGS 16
#define SW_SS_MAX_ENTRIES 8

typedef struct sw_ss_bytes {
	unsigned char *p;
	size_t n;
} sw_ss_bytes;

void sw_ss_bytes_free(sw_ss_bytes *b);

/* Strict standard base64 (padding required, nothing else allowed). */
int sw_ss_b64dec(const char *s, size_t len, sw_ss_bytes *out);

/* JSON tree helpers (yajl): a member by exact key, a string member, an int64
 * member (protobuf JSON writes int64 as a string; a number is accepted too). */
#include <yajl/yajl_tree.h>
yajl_val sw_ss_jget(yajl_val obj, const char *key);
const char *sw_ss_jstr(yajl_val obj, const char *key);
int sw_ss_jint(yajl_val obj, const char *key, int64_t *out);
/* A base64 string member, decoded; missing or invalid: <0 with err naming it. */
int sw_ss_jb64(yajl_val obj, const char *key, const char *what, sw_ss_bytes *out, sw_error *err);

/* ---- trust root ---- */

typedef struct sw_ss_log {
	char *base_url;
	char host[256];               /* baseUrl without scheme and path: the note name */
	EVP_PKEY *key;
	unsigned char log_id[32];
	size_t log_id_len;
	int64_t start, end;           /* validFor; end INT64_MAX when open */
} sw_ss_log;

typedef struct sw_ss_ca {
	STACK_OF(X509) *chain;        /* leaf-most first, root last */
	int64_t start, end;
} sw_ss_ca;

typedef struct sw_ss_trust {
	sw_ss_log *tlogs, *ctlogs;
	size_t ntlogs, nctlogs;
	sw_ss_ca *cas, *tsas;
	size_t ncas, ntsas;
} sw_ss_trust;

int sw_ss_trust_parse(const char *json, size_t len, const char *what, sw_ss_trust *out, sw_error *err);
void sw_ss_trust_free(sw_ss_trust *t);

/* ---- bundle ---- */

typedef struct sw_ss_entry {
	int64_t log_index;
	sw_ss_bytes log_id;
	char kind[32], version[16];
	int64_t integrated_time;      /* 0: none (Rekor v2) */
	sw_ss_bytes set;              /* inclusionPromise.signedEntryTimestamp, or empty */
	char *body_b64;               /* canonicalizedBody as in the bundle */
	sw_ss_bytes body;
	bool has_proof;
	int64_t proof_index, tree_size;
	sw_ss_bytes root;
	sw_ss_bytes hashes[SW_SS_MAX_PROOF];
	size_t nhashes;
	char *checkpoint;
} sw_ss_entry;

typedef struct sw_ss_bundle {
	int minor;                    /* 1, 2 or 3 */
	X509 *leaf;                   /* keyless */
	bool has_public_key;          /* keyed (publicKey hint) */
	sw_ss_entry entries[SW_SS_MAX_ENTRIES];
	size_t nentries;
	sw_ss_bytes tsa[SW_SS_MAX_ENTRIES];
	size_t ntsa;
	bool dsse;
	/* messageSignature */
	bool has_digest;
	char digest_alg[16];
	sw_ss_bytes digest;
	sw_ss_bytes sig;              /* message or the envelope's one signature */
	/* dsseEnvelope */
	char *payload_type;
	sw_ss_bytes payload;
} sw_ss_bundle;

int sw_ss_bundle_parse(const char *json, size_t len, const char *what, sw_ss_bundle *out, sw_error *err);
void sw_ss_bundle_free(sw_ss_bundle *b);

/* A PEM public key (SubjectPublicKeyInfo). */
int sw_ss_pubkey_pem(const char *pem, size_t len, const char *what, EVP_PKEY **out, sw_error *err);

/* Verify sig over msg with key, hashing as the key type wants (P-256: SHA-256,
 * P-384: SHA-384, RSA: SHA-256, Ed25519: pure). 0 or <0. */
int sw_ss_verify_msg(EVP_PKEY *key, const void *msg, size_t len, const sw_ss_bytes *sig);
/* Verify sig over an already computed digest (ECDSA/RSA only). */
int sw_ss_verify_digest(EVP_PKEY *key, const EVP_MD *md, const unsigned char *dg, size_t dglen,
			const sw_ss_bytes *sig);

/* ---- transparency log ---- */

/* RFC 9162 2.1.3.2: the root computed from leaf_hash at index in a tree of size. */
int sw_ss_merkle_root(uint64_t index, uint64_t size, const unsigned char leaf_hash[32],
		      const sw_ss_bytes *path, size_t npath, unsigned char root[32], sw_error *err);
void sw_ss_leaf_hash(const void *data, size_t len, unsigned char out[32]);

typedef struct sw_ss_note_sig {
	char name[256];
	unsigned char hint[4];
	sw_ss_bytes sig;              /* after the 4-byte key hint */
} sw_ss_note_sig;

typedef struct sw_ss_checkpoint {
	char origin[256];
	uint64_t size;
	unsigned char root[32];
	size_t signed_len;            /* the note text the signatures cover */
	sw_ss_note_sig sigs[SW_SS_MAX_NOTE_SIGS];
	size_t nsigs;
} sw_ss_checkpoint;

int sw_ss_checkpoint_parse(const char *text, size_t len, sw_ss_checkpoint *cp, sw_error *err);
void sw_ss_checkpoint_free(sw_ss_checkpoint *cp);
/* One signature line named after the log, with its key hint, verifies. */
int sw_ss_checkpoint_verify(const char *text, const sw_ss_checkpoint *cp, const sw_ss_log *log,
			    sw_error *err);

/* Entry checks against its log: SET, inclusion proof and checkpoint. */
int sw_ss_entry_verify_log(const sw_ss_entry *e, const sw_ss_log *log, bool *set_ok, sw_error *err);

/* ---- certificates and timestamps ---- */

/* Does the certificate carry `id` as a URI or rfc822 SAN, byte for byte? */
bool sw_ss_cert_has_san(X509 *c, const char *id);
/* The same with a pattern: id exact, else re (a POSIX regex, matching a whole
 * SAN); the matching SAN copied to out (n bytes, NULL: not wanted). */
bool sw_ss_cert_san(X509 *c, const char *id, const regex_t *re, char *out, size_t n);
/* re matches all of s. */
bool sw_ss_re_full(const regex_t *re, const char *s);
/* The OIDC issuer: extension 1.3.6.1.4.1.57264.1.8 (a DER UTF8String), else the
 * legacy 1.3.6.1.4.1.57264.1.1 (raw bytes); both present must agree. */
int sw_ss_cert_issuer(X509 *c, char *out, size_t n, sw_error *err);
/* The leaf chains to a CA of the trust root valid at its notBefore, checked at t. */
int sw_ss_cert_chain(const sw_ss_trust *tr, X509 *leaf, int64_t t, X509 **issuer, sw_error *err);
/* At least one embedded SCT verifies under a CT log of the trust root. */
int sw_ss_cert_scts(const sw_ss_trust *tr, X509 *leaf, X509 *issuer, sw_error *err);
/* An RFC 3161 response over data, from a TSA of the trust root: its time. */
int sw_ss_tsa_verify(const sw_ss_trust *tr, const sw_ss_bytes *tsr, const sw_ss_bytes *data,
		     int64_t *t, sw_error *err);
int64_t sw_ss_asn1_time(const ASN1_TIME *t);

/* ---- DSSE ---- */

/* "DSSEv1 <len(type)> <type> <len(body)> <body>", malloc'd. */
int sw_ss_pae(const char *type, const unsigned char *body, size_t len, sw_ss_bytes *out);
/* An in-toto statement (v0.1 or v1) naming sha256 among its subjects. */
int sw_ss_intoto_has_subject(const sw_ss_bytes *payload, const unsigned char sha256[32], sw_error *err);

/* ---- the whole verification ---- */

typedef struct sw_ss_policy {
	EVP_PKEY *key;                /* keyed, or NULL */
	const char *identity, *issuer;/* keyless: exact SAN and OIDC issuer */
	/* ... or patterns (whole-string POSIX regexes), used where the exact
	 * string is NULL */
	const regex_t *identity_re, *issuer_re;
} sw_ss_policy;

typedef struct sw_ss_artifact {
	unsigned char sha256[32];
	const unsigned char *data;    /* the bytes, when known (NULL for sha256:<hex>) */
	size_t len;
} sw_ss_artifact;

int sw_ss_verify(const sw_ss_trust *tr, const sw_ss_bundle *b, const sw_ss_policy *pol,
		 const sw_ss_artifact *art, int64_t now, sw_error *err);

#endif
