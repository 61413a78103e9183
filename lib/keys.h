/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keys: the trusted public keys (PEM files "*.pub" in the keys directory) and
 * signature verification.
 *
 * A key's id is the lowercase hex SHA-256 of its DER SubjectPublicKeyInfo.
 * Accepted: Ed25519; ECDSA on P-256 and P-384; RSA of 2048 bits or more. Anything
 * else (DSA, a small RSA key, another curve, a private key, garbage) is an error
 * naming the file: a node must not silently run with fewer keys than configured.
 *
 * Signatures: ECDSA (DER) and RSA (PKCS#1 v1.5, then PSS with MGF1-SHA256 and any
 * salt length) over SHA-256 of the message; Ed25519 over the message itself. This is
 * what `openssl dgst -sha256 -sign` and `cosign sign-blob` produce.
 *
 * Two levels: sw_keyids_load only reads the files and computes ids (no OpenSSL
 * provider set-up: the hook's cached path); sw_keyring_load also decodes each key
 * with OpenSSL (the full verification path and the CLI).
 *
 * Ownership: sw_keyring owns its keys; sw_keyring_free releases them.
 */
#ifndef SW_KEYS_H
#define SW_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "util.h"

#define SW_MAX_KEYS 64
#define SW_KEY_FILE_MAX (64 * 1024)
#define SW_KEYID_HEX (SW_SHA256_HEX + 1)

typedef struct sw_key {
	char id[SW_KEYID_HEX];   /* hex SHA-256 of DER SPKI */
	char *file;              /* path it came from */
	char alg[32];            /* "ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072", ... */
	void *pkey;              /* EVP_PKEY *, NULL when loaded with sw_keyids_load */
} sw_key;

typedef struct sw_keyring {
	size_t n;
	/* SHA-256 over the sorted key ids: changes whenever the trusted set changes. */
	char set_digest[SW_SHA256_HEX + 1];
	/* Last: only keys[0..n) is set or read (a load clears each entry as it
	 * fills it, not the 7.7 KB: fresh pages on every start). */
	sw_key keys[SW_MAX_KEYS];
} sw_keyring;

/* Read every *.pub in dir (sorted by name), PEM -> DER -> id; no OpenSSL decoding. */
int sw_keyids_load(const char *dir, sw_keyring *kr, sw_error *err);
/* The same plus OpenSSL decoding and the algorithm/strength policy. */
int sw_keyring_load(const char *dir, sw_keyring *kr, sw_error *err);
/* Load a single public key file (for the CLI). */
int sw_key_load_file(const char *path, sw_key *k, sw_error *err);
void sw_keyring_free(sw_keyring *kr);
/* Release what sw_key_load_file filled in. */
void sw_key_free(sw_key *k);

/* What else lies in a keys directory. Only "*.pub" files are keys; anything else
 * is ignored by the loader, and a private key (in any file, "*.pub" included)
 * must not be on a node at all. sw_keys_survey reports, in name order, every
 * entry that is not a "*.pub" file (dot files included) and every file holding a
 * PEM private key ("... PRIVATE KEY-----", any flavour). *n is the number found
 * (may exceed max: only the first max are filled). 0, or <0 when dir cannot be
 * read. */
typedef struct sw_keys_extra {
	char name[256];
	bool private_key;       /* holds a PEM private key: remove it from the node */
	bool pub_name;          /* named *.pub: the loader reads it (and refuses it) */
} sw_keys_extra;

int sw_keys_survey(const char *dir, sw_keys_extra *out, size_t max, size_t *n, sw_error *err);

/* Decode a PEM "PUBLIC KEY" block to DER (malloc'ed). */
int sw_pem_pubkey_to_der(const char *pem, size_t len, const char *what,
			 unsigned char **der, size_t *der_len, sw_error *err);

/* The part that needs libcrypto: lib/keys_ossl.c, or lib/keys_lean.c in
 * sigward-hook, where each fails with SW_ENOCRYPTO. */
/* Decode k's DER with OpenSSL into k->pkey and apply the algorithm policy. */
int sw_key_decode(sw_key *k, const unsigned char *der, size_t der_len, sw_error *err);
/* Free k->pkey. */
void sw_key_release(sw_key *k);
/* 1 when sig is a valid signature of msg by k, 0 when not, <0 on error. */
int sw_key_verify(const sw_key *k, const unsigned char *sig, size_t sig_len,
		  const void *msg, size_t msg_len, sw_error *err);

/* A signature file's text (what manifest.sig holds: one base64 signature per
 * line, blank lines and a trailing '\r' ignored; `what` names it in errors):
 * 1 when one of its lines is a valid signature of msg by k, 0 when none is, <0
 * when the file is malformed (a line that is not base64: what:line) or too long. */
int sw_sig_lines_verify(const char *text, size_t len, const char *what, const sw_key *k,
			const void *msg, size_t msg_len, sw_error *err);

/* Base64 (standard alphabet, padding required, no whitespace inside) decode. */
int sw_base64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

#endif
