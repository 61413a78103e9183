/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keys_ossl: what of lib/keys needs libcrypto: decoding a key with OpenSSL (and
 * the algorithm policy) and checking a signature. Linked into everything but
 * sigward-hook, which links lib/keys_lean.c instead and hands the starts that
 * need a signature checked to sigward-hook-verify (hook/sigward-hook.c).
 */
#include "keys.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cleanup.h"

/* Decode with OpenSSL and apply the algorithm policy. */
int sw_key_decode(sw_key *k, const unsigned char *der, size_t der_len, sw_error *err)
{
	const unsigned char *p = der;
	_cleanup_evp_pkey_ EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)der_len);
	if (!pkey || p != der + der_len) {
		ERR_clear_error();
		return sw_err(err, SW_EINVAL, "%s: not a valid public key", k->file);
	}
	int id = EVP_PKEY_get_base_id(pkey);
	if (id == EVP_PKEY_ED25519) {
		snprintf(k->alg, sizeof k->alg, "ed25519");
	} else if (id == EVP_PKEY_EC) {
		char group[64] = "";
		size_t gl = 0;
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl))
			group[0] = '\0';
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
			snprintf(k->alg, sizeof k->alg, "ecdsa-p256");
		} else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
			snprintf(k->alg, sizeof k->alg, "ecdsa-p384");
		} else {
			return sw_err(err, SW_EINVAL, "%s: EC curve '%s' is not accepted (P-256 or P-384)",
				      k->file, group[0] ? group : "unknown");
		}
	} else if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(pkey);
		if (bits < 2048) {
			return sw_err(err, SW_EINVAL, "%s: RSA key of %d bits is too weak (2048 or more)", k->file, bits);
		}
		snprintf(k->alg, sizeof k->alg, "rsa-%d", bits);
	} else {
		return sw_err(err, SW_EINVAL, "%s: unsupported key type (Ed25519, ECDSA P-256/P-384 or RSA >= 2048)",
			      k->file);
	}
	k->pkey = TAKE_PTR(pkey);
	return 0;
}

void sw_key_release(sw_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

static int verify_with(EVP_PKEY *pkey, const EVP_MD *md, int padding,
		       const unsigned char *sig, size_t sig_len, const void *msg, size_t msg_len)
{
	_cleanup_evp_md_ctx_ EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	if (!ctx)
		return -1;
	bool ready = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) == 1;
	/* Accept any salt length: producers' tools differ (openssl uses the
	 * digest length or the maximum, cosign and KMS the digest length). */
	if (ready && padding == RSA_PKCS1_PSS_PADDING)
		ready = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
			EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1 &&
			EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
	int ok = ready && EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
	ERR_clear_error();
	return ok;
}

int sw_key_verify(const sw_key *k, const unsigned char *sig, size_t sig_len,
		  const void *msg, size_t msg_len, sw_error *err)
{
	EVP_PKEY *pkey = k->pkey;
	if (!pkey)
		return sw_err(err, SW_EINVAL, "%s: key not decoded", k->file ? k->file : "key");
	int id = EVP_PKEY_get_base_id(pkey);
	int r;
	if (id == EVP_PKEY_ED25519)
		r = verify_with(pkey, NULL, 0, sig, sig_len, msg, msg_len);
	else if (id == EVP_PKEY_EC)
		r = verify_with(pkey, EVP_sha256(), 0, sig, sig_len, msg, msg_len);
	else if (id == EVP_PKEY_RSA) {
		r = verify_with(pkey, EVP_sha256(), RSA_PKCS1_PADDING, sig, sig_len, msg, msg_len);
		if (r == 0)
			r = verify_with(pkey, EVP_sha256(), RSA_PKCS1_PSS_PADDING, sig, sig_len, msg, msg_len);
	} else
		return sw_err(err, SW_EINVAL, "%s: unsupported key type", k->file);
	if (r < 0)
		return sw_err_errno(err, ENOMEM, "%s: verification", k->file);
	return r;
}
