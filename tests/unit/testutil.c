/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	size_t n = strlen(base) + 32;
	char *p = malloc(n);
	if (!p)
		abort();
	snprintf(p, n, "%s/sw-unit-XXXXXX", base);
	assert_non_null(mkdtemp(p));
	return p;
}

void tu_rmrf(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

char *tu_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (!p)
		abort();
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

void tu_write(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = tu_path(dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(p);
}

void tu_writes(const char *dir, const char *name, const char *text)
{
	tu_write(dir, name, text, strlen(text));
}

char *tu_read(const char *dir, const char *name, size_t *len)
{
	char *p = tu_path(dir, name);
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (!buf)
		abort();
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	free(p);
	if (len)
		*len = (size_t)n;
	return buf;
}

EVP_PKEY *tu_keygen(const char *alg)
{
	EVP_PKEY *k = NULL;
	if (strcmp(alg, "ed25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (strcmp(alg, "p256") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(alg, "p384") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(alg, "p521") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	else if (strncmp(alg, "rsa", 3) == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(alg + 3));
	assert_non_null(k);
	return k;
}

void tu_write_pub(EVP_PKEY *k, const char *dir, const char *name)
{
	char *p = tu_path(dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
	free(p);
}

char *tu_sign_b64(EVP_PKEY *k, const void *data, size_t len, int pss)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ed = EVP_PKEY_is_a(k, "ED25519");
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, ed ? NULL : EVP_sha256(), NULL, k), 1);
	if (pss) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
	}
	size_t sl = 0;
	assert_int_equal(EVP_DigestSign(ctx, NULL, &sl, data, len), 1);
	unsigned char *sig = malloc(sl);
	assert_int_equal(EVP_DigestSign(ctx, sig, &sl, data, len), 1);
	EVP_MD_CTX_free(ctx);
	char *b64 = malloc(4 * ((sl + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)sl);
	free(sig);
	return b64;
}

void tu_sign_list(EVP_PKEY *k, const char *dir, int pss)
{
	size_t len;
	char *m = tu_read(dir, "manifest", &len);
	char *b64 = tu_sign_b64(k, m, len, pss);
	char *p = tu_path(dir, "manifest.sig");
	FILE *f = fopen(p, "a");
	assert_non_null(f);
	fprintf(f, "%s\n", b64);
	fclose(f);
	free(p);
	free(b64);
	free(m);
}
