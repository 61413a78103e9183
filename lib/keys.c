/* SPDX-License-Identifier: Apache-2.0 */
#include "keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "trust.h"

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int sw_base64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
	if (len == 0 || len % 4 != 0)
		return -1;
	size_t pad = 0;
	if (in[len - 1] == '=')
		pad++;
	if (in[len - 2] == '=')
		pad++;
	_cleanup_free_ unsigned char *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++) {
			bool is_pad = in[i + j] == '=';
			/* Padding only in the last one or two positions of the last quantum. */
			if (is_pad && (i + 4 != len || j < 4 - (int)pad))
				return -1;
			v[j] = is_pad ? 0 : b64val((unsigned char)in[i + j]);
			if (v[j] < 0)
				return -1;
		}
		uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		buf[o++] = (unsigned char)(q >> 16);
		if (i + 4 != len || pad < 2)
			buf[o++] = (unsigned char)(q >> 8);
		if (i + 4 != len || pad < 1)
			buf[o++] = (unsigned char)q;
		/* Non-canonical encodings (bits set under the padding) are refused so one
		 * signature has exactly one textual form. */
		if (i + 4 == len && ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15))))
			return -1;
	}
	*out = TAKE_PTR(buf);
	*out_len = o;
	return 0;
}

int sw_pem_pubkey_to_der(const char *pem, size_t len, const char *what,
			 unsigned char **der, size_t *der_len, sw_error *err)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----";
	static const char end[] = "-----END PUBLIC KEY-----";

	if (memmem(pem, len, "PRIVATE KEY-----", 16))
		return sw_err(err, SW_EINVAL, "%s: holds a private key; trusted keys must be public keys", what);
	const char *b = memmem(pem, len, begin, sizeof begin - 1);
	if (!b)
		return sw_err(err, SW_EINVAL, "%s: no PEM 'PUBLIC KEY' block", what);
	const char *body = b + sizeof begin - 1;
	const char *e = memmem(body, len - (size_t)(body - pem), end, sizeof end - 1);
	if (!e)
		return sw_err(err, SW_EINVAL, "%s: PEM block is not terminated", what);
	const char *after = e + sizeof end - 1;
	if (memmem(after, len - (size_t)(after - pem), "-----BEGIN", 10))
		return sw_err(err, SW_EINVAL, "%s: more than one PEM block; put one key per file", what);

	_cleanup_free_ char *b64 = malloc((size_t)(e - body) + 1);
	if (!b64)
		return sw_err_errno(err, ENOMEM, "%s", what);
	size_t n = 0;
	for (const char *p = body; p < e; p++) {
		if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
			continue;
		b64[n++] = *p;
	}
	if (sw_base64_decode(b64, n, der, der_len) < 0)
		return sw_err(err, SW_EINVAL, "%s: PEM body is not valid base64", what);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_key_id(const void *a, const void *b)
{
	return strcmp(((const sw_key *)a)->id, ((const sw_key *)b)->id);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

/* Read the key file into DER and compute its id. */
static int load_der(int dirfd, const char *dir, const char *name, sw_key *k,
		    unsigned char **der, size_t *der_len, sw_error *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	_cleanup_free_ char *pem = NULL;
	size_t len;
	/* A key file decides what is trusted: it (and any link to it, as
	 * configuration management often makes) must be root's and writable by no
	 * one else, or any account that could write it could trust its own key.
	 * sw_trust_open walks the whole path and refuses FIFOs and devices. */
	(void)dirfd;
	_cleanup_close_ int fd = sw_trust_open(path, SW_TRUST_FILE, err);
	if (fd < 0)
		return fd;
	int r = sw_read_fd(fd, SW_KEY_FILE_MAX, path, &pem, &len, err);
	if (r < 0)
		return r;
	r = sw_pem_pubkey_to_der(pem, len, path, der, der_len, err);
	if (r < 0)
		return r;
	unsigned char md[SW_SHA256_LEN];
	sw_sha256(*der, *der_len, md);
	sw_hex(md, sizeof md, k->id);
	k->file = strdup(path);
	if (!k->file)
		return sw_err_errno(err, ENOMEM, "%s", path);
	return 0;
}

static int load_dir(const char *dir, bool decode, sw_keyring *kr, sw_error *err)
{
	memset(kr, 0, offsetof(sw_keyring, keys));
	/* Who can add a file here can add a trusted key: root's only. */
	_cleanup_close_ int dfd = sw_trust_open(dir, SW_TRUST_DIR, err);
	if (dfd < 0)
		return -dfd == EPERM ? dfd : sw_err_errno(err, -dfd, "%s: cannot open keys directory", dir);
	sw_dirents d;
	sw_dirents_init(&d, dfd);
	char *names[SW_MAX_KEYS];
	size_t n = 0;
	const char *name;
	int r = 0;
	while ((name = sw_dirents_next(&d))) {
		size_t l = strlen(name);
		if (name[0] == '.' || l < 5 || strcmp(name + l - 4, ".pub") != 0)
			continue;
		if (n == SW_MAX_KEYS) {
			r = sw_err(err, SW_ETOOBIG, "%s: more than %d keys", dir, SW_MAX_KEYS);
			break;
		}
		names[n] = strdup(name);
		if (!names[n]) {
			r = sw_err_errno(err, ENOMEM, "%s", dir);
			break;
		}
		n++;
	}
	if (r >= 0 && errno)
		r = sw_err_errno(err, errno, "%s: cannot read keys directory", dir);
	if (r < 0) {
		free_names(names, n);
		return r;
	}
	if (n == 0)
		return sw_err(err, SW_ENOTFOUND, "%s: no trusted keys (*.pub)", dir);
	qsort(names, n, sizeof *names, cmp_str);

	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ unsigned char *der = NULL;
		size_t der_len = 0;
		sw_key *k = &kr->keys[kr->n];
		*k = (sw_key){ 0 };
		r = load_der(dfd, dir, names[i], k, &der, &der_len, err);
		if (r >= 0) {
			kr->n++;
			if (decode)
				r = sw_key_decode(k, der, der_len, err);
		}
	}
	free_names(names, n);
	if (r < 0) {
		sw_keyring_free(kr);
		return r;
	}

	/* Two files holding the same key must not count twice towards a threshold. */
	qsort(kr->keys, kr->n, sizeof kr->keys[0], cmp_key_id);
	for (size_t i = 1; i < kr->n; i++)
		if (strcmp(kr->keys[i].id, kr->keys[i - 1].id) == 0) {
			r = sw_err(err, SW_EINVAL, "%s and %s hold the same key", kr->keys[i - 1].file, kr->keys[i].file);
			sw_keyring_free(kr);
			return r;
		}
	char ids[SW_MAX_KEYS * SW_SHA256_HEX + 1];
	size_t o = 0;
	for (size_t i = 0; i < kr->n; i++) {
		memcpy(ids + o, kr->keys[i].id, SW_SHA256_HEX);
		o += SW_SHA256_HEX;
	}
	sw_sha256_hex(ids, o, kr->set_digest);
	return 0;
}

static int cmp_extra(const void *a, const void *b)
{
	return strcmp(((const sw_keys_extra *)a)->name, ((const sw_keys_extra *)b)->name);
}

int sw_keys_survey(const char *dir, sw_keys_extra *out, size_t max, size_t *n, sw_error *err)
{
	*n = 0;
	_cleanup_close_ int dfd = sw_trust_open(dir, SW_TRUST_DIR, err);
	if (dfd < 0)
		return dfd;
	DIR *d = sw_dir_stream(dfd);
	if (!d)
		return sw_err_errno(err, errno, "%s: cannot read keys directory", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		size_t l = strlen(de->d_name);
		bool pub = de->d_name[0] != '.' && l >= 5 && strcmp(de->d_name + l - 4, ".pub") == 0;
		/* Look inside regular files only (a FIFO must not block the survey),
		 * bounded like a key file. */
		bool priv = false;
		int fd = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
		if (fd >= 0) {
			struct stat st;
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
				char buf[SW_KEY_FILE_MAX + 1];
				ssize_t got = pread(fd, buf, SW_KEY_FILE_MAX, 0);
				if (got > 0) {
					buf[got] = '\0';
					priv = memmem(buf, (size_t)got, "PRIVATE KEY-----", 16) != NULL;
				}
			}
			close(fd);
		}
		if (pub && !priv)
			continue;
		if (*n < max) {
			sw_keys_extra *x = &out[*n];
			snprintf(x->name, sizeof x->name, "%s", de->d_name);
			x->private_key = priv;
			x->pub_name = pub;
		}
		(*n)++;
	}
	closedir(d);
	qsort(out, *n < max ? *n : max, sizeof *out, cmp_extra);
	return 0;
}

int sw_keyids_load(const char *dir, sw_keyring *kr, sw_error *err)
{
	return load_dir(dir, false, kr, err);
}

int sw_keyring_load(const char *dir, sw_keyring *kr, sw_error *err)
{
	return load_dir(dir, true, kr, err);
}

int sw_key_load_file(const char *path, sw_key *k, sw_error *err)
{
	memset(k, 0, sizeof *k);
	_cleanup_free_ char *pem = NULL;
	size_t len;
	int r = sw_read_file(path, SW_KEY_FILE_MAX, &pem, &len, err);
	if (r < 0)
		return r;
	_cleanup_free_ unsigned char *der = NULL;
	size_t der_len;
	r = sw_pem_pubkey_to_der(pem, len, path, &der, &der_len, err);
	if (r < 0)
		return r;
	unsigned char md[SW_SHA256_LEN];
	sw_sha256(der, der_len, md);
	sw_hex(md, sizeof md, k->id);
	k->file = strdup(path);
	if (!k->file)
		return sw_err_errno(err, ENOMEM, "%s", path);
	r = sw_key_decode(k, der, der_len, err);
	if (r < 0) {
		free(k->file);
		k->file = NULL;
	}
	return r;
}

void sw_key_free(sw_key *k)
{
	free(k->file);
	sw_key_release(k);
	k->file = NULL;
}

void sw_keyring_free(sw_keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++) {
		free(kr->keys[i].file);
		sw_key_release(&kr->keys[i]);
		kr->keys[i].file = NULL;
	}
	kr->n = 0;
}

int sw_sig_lines_verify(const char *text, size_t len, const char *what, const sw_key *k,
			const void *msg, size_t msg_len, sw_error *err)
{
	unsigned line = 0, sigs = 0;
	int found = 0;
	/* Every line is decoded, also after a match: a malformed file is reported as
	 * such, not accepted because a good line happened to come first. */
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);
		line++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n) {
			/* One line per signing key at most is meaningful; bounds the work. */
			if (++sigs > SW_MAX_KEYS)
				return sw_err(err, SW_ETOOBIG, "%s: more than %d signatures", what, SW_MAX_KEYS);
			unsigned char *sig;
			size_t sl;
			if (sw_base64_decode(p, n, &sig, &sl) < 0)
				return sw_err(err, SW_EVERIFY, "%s:%u: not a base64 signature", what, line);
			int r = found ? 1 : sw_key_verify(k, sig, sl, msg, msg_len, err);
			free(sig);
			if (r < 0)
				return r;
			if (r == 1)
				found = 1;
		}
		p = nl ? nl + 1 : end;
	}
	return found;
}
