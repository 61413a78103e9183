/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixed Sigstore material of the fuzz targets that verify (fuzz_sigstore,
 * fuzz_imagesig): a trust root whose one transparency log has the P-256 key
 * SPKI, and that key as a PEM public key. Aborts when they do not load (the
 * harness's fault, not a finding).
 */
#ifndef SW_FUZZ_SS_H
#define SW_FUZZ_SS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigstore.h"
#include "util.h"

#define FZ_SPKI "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE27wtB4jQ+DvCJYTJnh/KzEyFq578vuwZCZvI0OYtutn+hKN31AlBd5USXFelTJMNoWABrasR6+Iofa5XWNiqiQ=="
#define FZ_LOGID "WN9SlHWCq+zF0H08x6F5zDVQ45P1g9dRFPbXBOvJs5Y="

/* The input after its first byte (which picks the case), NUL-terminated. */
static inline char *fz_doc(const uint8_t *data, size_t size, size_t *len)
{
	char *doc = sw_memdup0(data + 1, size - 1);
	if (!doc)
		abort();
	*len = size - 1;
	return doc;
}

/* A refusal is one line with a message, never an empty or multi-line one. */
static inline void check_err(const sw_error *e)
{
	if (!e->msg[0] || strchr(e->msg, '\n'))
		abort();
}

static inline void fz_ss_fixture(sw_ss_trust *trust, EVP_PKEY **key)
{
	sw_error e = { 0 };
	static const char root[] =
		"{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\"tlogs\":[{"
		"\"baseUrl\":\"https://log.example\",\"hashAlgorithm\":\"SHA2_256\",\"publicKey\":{\"rawBytes\":\"" FZ_SPKI "\","
		"\"keyDetails\":\"PKIX_ECDSA_P256_SHA_256\",\"validFor\":{\"start\":\"2020-01-01T00:00:00Z\"}},"
		"\"logId\":{\"keyId\":\"" FZ_LOGID "\"}}]}";
	static const char pem[] = "-----BEGIN PUBLIC KEY-----\n" FZ_SPKI "\n-----END PUBLIC KEY-----\n";
	if (sw_ss_trust_parse(root, sizeof root - 1, "fuzz-root", trust, &e) < 0 ||
	    sw_ss_pubkey_pem(pem, sizeof pem - 1, "fuzz-key", key, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		abort();
	}
}

#endif
