/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for the unit tests: temp dirs, files, keys and signatures. */
#ifndef SW_TESTUTIL_H
#define SW_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>

char *tu_tmpdir(void);                 /* mkdtemp under $TMPDIR, caller frees */
void tu_rmrf(const char *path);
void tu_write(const char *dir, const char *name, const void *data, size_t len);
void tu_writes(const char *dir, const char *name, const char *text);
char *tu_read(const char *dir, const char *name, size_t *len);
char *tu_path(const char *dir, const char *name);   /* malloc'ed dir/name */

/* alg: "ed25519", "p256", "p384", "rsa2048", "rsa3072", "rsa1024" */
EVP_PKEY *tu_keygen(const char *alg);
void tu_write_pub(EVP_PKEY *k, const char *dir, const char *name);
/* Base64 signature line (no newline) of data; pss selects RSA-PSS. */
char *tu_sign_b64(EVP_PKEY *k, const void *data, size_t len, int pss);
/* Append one signature line of dir/manifest to dir/manifest.sig. */
void tu_sign_list(EVP_PKEY *k, const char *dir, int pss);

#endif
