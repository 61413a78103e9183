/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keys_lean: lib/keys without libcrypto, for sigward-hook alone. Key files are
 * still read and their ids computed (lib/keys.c, SHA-256 of lib/sha256.c: the
 * cached verification needs nothing more); decoding a key or checking a
 * signature is refused with SW_ENOCRYPTO, and the hook hands that start to
 * sigward-hook-verify, which is built with lib/keys_ossl.c.
 */
#include "keys.h"

int sw_key_decode(sw_key *k, const unsigned char *der, size_t der_len, sw_error *err)
{
	(void)der;
	(void)der_len;
	return sw_err(err, SW_ENOCRYPTO, "%s: decoding a key is sigward-hook-verify's (built without libcrypto)",
		      k->file ? k->file : "key");
}

void sw_key_release(sw_key *k)
{
	k->pkey = NULL; /* never set here */
}

int sw_key_verify(const sw_key *k, const unsigned char *sig, size_t sig_len, const void *msg, size_t msg_len,
		  sw_error *err)
{
	(void)sig;
	(void)sig_len;
	(void)msg;
	(void)msg_len;
	return sw_err(err, SW_ENOCRYPTO, "%s: checking a signature is sigward-hook-verify's (built without libcrypto)",
		      k->file ? k->file : "key");
}
