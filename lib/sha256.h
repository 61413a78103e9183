/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sha256: SHA-256 without libcrypto, for the start path (lib/sha256.c says why).
 * sw_sha256 and sw_sha256_hex (util.h) are the one-shot forms.
 */
#ifndef SW_SHA256_H
#define SW_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sw_sha256_ctx {
	uint32_t h[8];
	uint64_t bytes;
	size_t used;
	unsigned char buf[64];
} sw_sha256_ctx;

void sw_sha256_init(sw_sha256_ctx *c);
void sw_sha256_update(sw_sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and clears the context. */
void sw_sha256_final(sw_sha256_ctx *c, unsigned char out[32]);

/* For the test: whether this CPU has the SHA extensions; use = false makes the
 * portable code run instead (use = true restores what the CPU has). */
bool sw_sha256_accelerated(bool use);

#endif
