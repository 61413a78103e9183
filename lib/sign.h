/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign: the producer side. Sign an allowlist manifest with a private key held in a
 * PEM file or behind a PKCS#11 URI (an HSM, a smart card, softhsm2), and generate
 * key pairs.
 *
 * Signatures are exactly what sigward verifies and what the openssl CLI makes
 * (docs/allowlist-format.md): Ed25519 over the bytes themselves; ECDSA (DER) and
 * RSA over SHA-256 of the bytes, RSA with PKCS#1 v1.5 padding unless rsa_pss is
 * set (then PSS, MGF1-SHA-256, salt length = 32, as cosign and cloud KMSs do).
 * Keys follow the same policy as trusted keys (keys.h): Ed25519, ECDSA P-256 or
 * P-384, RSA of 2048 bits or more; anything else is refused before signing.
 * Every signature is verified with the key's public half before it is written,
 * so a broken token or engine can never leave a bad line in manifest.sig.
 *
 * PKCS#11 goes through OpenSSL's "pkcs11" ENGINE (libp11, Debian package
 * libengine-pkcs11-openssl). The module is, in order: sw_sign_opts.pkcs11_module,
 * the URI's `module-path` query attribute, $SIGWARD_PKCS11_MODULE, the engine's
 * default (p11-kit's proxy). The PIN comes from the URI's `pin-value` attribute or
 * $SIGWARD_PKCS11_PIN.
 *
 * Ownership: sw_signer owns its key (and engine reference); sw_signer_close
 * releases it. Buffers returned through out-pointers are malloc'ed, caller frees.
 */
#ifndef SW_SIGN_H
#define SW_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "keys.h"

typedef struct sw_sign_opts {
	bool rsa_pss;               /* RSA keys: PSS instead of PKCS#1 v1.5 */
	const char *pkcs11_module;  /* NULL: see above */
	const char *passphrase;     /* for an encrypted PEM key; NULL: such a key is refused */
} sw_sign_opts;

typedef struct sw_signer {
	void *pkey;                 /* EVP_PKEY * (private; an engine key for PKCS#11) */
	void *pub;                  /* EVP_PKEY * of the public half */
	void *engine;               /* ENGINE *, NULL for a file key */
	char id[SW_KEYID_HEX];      /* key id: hex SHA-256 of the DER SubjectPublicKeyInfo */
	char alg[32];               /* "ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072", ... */
	char *source;               /* file name or URI, with any PIN blanked out */
	bool rsa_pss;
} sw_signer;

/* key: a PEM private key file or a "pkcs11:" URI. */
int sw_signer_open(const char *key, const sw_sign_opts *o, sw_signer *s, sw_error *err);
void sw_signer_close(sw_signer *s);

/* Sign msg; *sig is malloc'ed. The signature is checked with the public key. */
int sw_signer_sign(const sw_signer *s, const void *msg, size_t len,
		   unsigned char **sig, size_t *sig_len, sw_error *err);

/* Standard base64 with padding, no newlines; malloc'ed, NULL on memory exhaustion. */
char *sw_base64_encode(const unsigned char *in, size_t len);

/* Sign msg with each signer: the text of a signature file, one base64 signature
 * per signer and line, each line ending in '\n', in signer order (the format of
 * manifest.sig; sw_sig_lines_verify in keys.h reads it). *out is malloc'ed and
 * NUL-terminated; nothing is returned unless every signature was made. */
int sw_sign_lines(sw_signer *const *signers, size_t n, const void *msg, size_t len,
		  char **out, size_t *out_len, sw_error *err);

/* Sign dir/manifest (which must parse as a manifest) with each signer and append
 * one base64 line per signer to dir/manifest.sig (replaced atomically). */
int sw_list_sign(const char *dir, sw_signer *const *signers, size_t n, sw_error *err);

/* Generate a key pair: alg "ed25519", "ecdsa-p256", "ecdsa-p384" or "rsa-3072".
 * Writes PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (PEM SubjectPublicKeyInfo,
 * 0644); refuses to overwrite either. id_out (may be NULL) receives the key id. */
int sw_keygen(const char *alg, const char *prefix, char id_out[SW_KEYID_HEX], sw_error *err);

#endif
