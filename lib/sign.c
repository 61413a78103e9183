/* SPDX-License-Identifier: Apache-2.0 */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/* The ENGINE API is deprecated in OpenSSL 3, but Debian 12 ships the PKCS#11
 * bridge only as an engine (libengine-pkcs11-openssl, i.e. libp11); the PKCS#11
 * provider is not packaged there. Until it is, signing with an HSM key needs the
 * engine, so the deprecation warnings are silenced for this file only. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "allowlist.h"
#include "cleanup.h"
#include "util.h"

#define URI_MAX 4096

/* The first OpenSSL error on the queue, for a message; the queue is cleared. */
static const char *ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	if (!e)
		snprintf(buf, len, "no details from OpenSSL");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

char *sw_base64_encode(const unsigned char *in, size_t len)
{
	if (len > (size_t)INT32_MAX / 2)
		return NULL;
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/* Algorithm policy for signing keys: the same set a node accepts (keys.h), so a
 * producer cannot make signatures that no node will count. */
static int classify(EVP_PKEY *pub, const char *what, char alg[32], sw_error *err)
{
	int id = EVP_PKEY_get_base_id(pub);
	if (id == EVP_PKEY_ED25519) {
		snprintf(alg, 32, "ed25519");
		return 0;
	}
	if (id == EVP_PKEY_EC) {
		char group[64] = "";
		size_t gl = 0;
		if (!EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl))
			group[0] = '\0';
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			snprintf(alg, 32, "ecdsa-p256");
		else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			snprintf(alg, 32, "ecdsa-p384");
		else
			return sw_err(err, SW_EINVAL, "%s: EC curve '%s' is not accepted (P-256 or P-384)", what,
				      group[0] ? group : "unknown");
		return 0;
	}
	if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(pub);
		if (bits < 2048)
			return sw_err(err, SW_EINVAL, "%s: RSA key of %d bits is too weak (2048 or more)", what, bits);
		snprintf(alg, 32, "rsa-%d", bits);
		return 0;
	}
	return sw_err(err, SW_EINVAL, "%s: unsupported key type (Ed25519, ECDSA P-256/P-384 or RSA >= 2048)", what);
}

/* Public half and key id from any private key, file or engine. */
static int public_half(sw_signer *s, sw_error *err)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY((EVP_PKEY *)s->pkey, &der);
	if (n <= 0) {
		char b[256];
		return sw_err(err, SW_EINVAL, "%s: cannot derive the public key: %s", s->source, ossl_reason(b, sizeof b));
	}
	unsigned char md[SW_SHA256_LEN];
	sw_sha256(der, (size_t)n, md);
	sw_hex(md, sizeof md, s->id);
	const unsigned char *p = der;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	if (!pub) {
		ERR_clear_error();
		return sw_err(err, SW_EINVAL, "%s: cannot decode the public key", s->source);
	}
	s->pub = pub;
	return classify(pub, s->source, s->alg, err);
}

static int passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	const char *pw = u;
	if (!pw)
		return -1;
	size_t n = strlen(pw);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

static int open_file_key(const char *path, const sw_sign_opts *o, sw_signer *s, sw_error *err)
{
	_cleanup_free_ char *pem = NULL;
	size_t len;
	int r = sw_read_file(path, SW_KEY_FILE_MAX, &pem, &len, err);
	if (r < 0)
		return r;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return sw_err_errno(err, ENOMEM, "%s", path);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, passphrase_cb, (void *)(o ? o->passphrase : NULL));
	BIO_free(bio);
	bool encrypted = memmem(pem, len, "ENCRYPTED", 9) != NULL;
	OPENSSL_cleanse(pem, len);
	if (!k) {
		char b[256];
		ossl_reason(b, sizeof b);
		if (encrypted && !(o && o->passphrase))
			return sw_err(err, SW_EINVAL, "%s: the key is encrypted and no passphrase was given", path);
		return sw_err(err, SW_EINVAL, "%s: not a PEM private key (%s)", path, b);
	}
	s->pkey = k;
	return 0;
}

/* Copy the URI without the module attributes (libp11 does not take them in the
 * URI) and return the module path when the URI names one. Also produce the form
 * shown to people, with any PIN blanked out. */
static int split_uri(const char *uri, char *clean, char *module, char *shown, sw_error *err)
{
	size_t ul = strlen(uri);
	if (ul >= URI_MAX)
		return sw_err(err, SW_ETOOBIG, "PKCS#11 URI longer than %d bytes", URI_MAX);
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : ul;
	memcpy(clean, uri, plen);
	memcpy(shown, uri, plen);
	size_t co = plen, so = plen;
	module[0] = '\0';
	bool first = true;
	for (const char *a = q ? q + 1 : NULL; a && *a;) {
		const char *amp = strchr(a, '&');
		size_t al = amp ? (size_t)(amp - a) : strlen(a);
		if (al > 12 && memcmp(a, "module-path=", 12) == 0) {
			memcpy(module, a + 12, al - 12);
			module[al - 12] = '\0';
		} else if (al && !(al >= 12 && memcmp(a, "module-name=", 12) == 0)) {
			clean[co++] = first ? '?' : '&';
			memcpy(clean + co, a, al);
			co += al;
			first = false;
		}
		if (al) {
			shown[so] = so == plen ? '?' : '&';
			so++;
			if (al >= 10 && memcmp(a, "pin-value=", 10) == 0) {
				memcpy(shown + so, "pin-value=***", 13);
				so += 13;
			} else {
				memcpy(shown + so, a, al);
				so += al;
			}
		}
		a = amp ? amp + 1 : NULL;
	}
	clean[co] = '\0';
	shown[so] = '\0';
	return 0;
}

static int open_pkcs11_key(const char *uri, const sw_sign_opts *o, sw_signer *s, sw_error *err)
{
	char clean[URI_MAX + 16], module[URI_MAX], shown[URI_MAX + 16];
	int r = split_uri(uri, clean, module, shown, err);
	if (r < 0)
		return r;
	free(s->source);
	s->source = strdup(shown);
	if (!s->source)
		return sw_err_errno(err, ENOMEM, "PKCS#11 URI");
	const char *mod = o && o->pkcs11_module ? o->pkcs11_module
			  : module[0] ? module
			  : getenv("SIGWARD_PKCS11_MODULE");

	ENGINE_load_builtin_engines();
	ENGINE *e = ENGINE_by_id("pkcs11");
	if (!e) {
		char b[256];
		return sw_err(err, SW_ENOTFOUND,
			      "%s: OpenSSL's pkcs11 engine is not available (install libengine-pkcs11-openssl): %s",
			      s->source, ossl_reason(b, sizeof b));
	}
	if ((mod && mod[0] && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", mod, 0)) ||
	    (getenv("SIGWARD_PKCS11_PIN") && !ENGINE_ctrl_cmd_string(e, "PIN", getenv("SIGWARD_PKCS11_PIN"), 0))) {
		char b[256];
		ENGINE_free(e);
		return sw_err(err, SW_EINVAL, "%s: cannot configure the pkcs11 engine: %s", s->source,
			      ossl_reason(b, sizeof b));
	}
	if (!ENGINE_init(e)) {
		char b[256];
		ENGINE_free(e);
		return sw_err(err, SW_EINVAL, "%s: cannot initialise the PKCS#11 module %s: %s", s->source,
			      mod && mod[0] ? mod : "(engine default)", ossl_reason(b, sizeof b));
	}
	/* ENGINE_init took a functional reference; drop the structural one. */
	ENGINE_free(e);
	s->engine = e;
	EVP_PKEY *k = ENGINE_load_private_key(e, clean, NULL, NULL);
	if (!k) {
		char b[256];
		return sw_err(err, SW_ENOTFOUND, "%s: no usable private key: %s", s->source, ossl_reason(b, sizeof b));
	}
	s->pkey = k;
	return 0;
}

int sw_signer_open(const char *key, const sw_sign_opts *o, sw_signer *s, sw_error *err)
{
	memset(s, 0, sizeof *s);
	s->rsa_pss = o && o->rsa_pss;
	s->source = strdup(key);
	if (!s->source)
		return sw_err_errno(err, ENOMEM, "%s", key);
	int r = strncmp(key, "pkcs11:", 7) == 0 ? open_pkcs11_key(key, o, s, err) : open_file_key(key, o, s, err);
	if (r >= 0)
		r = public_half(s, err);
	if (r < 0)
		sw_signer_close(s);
	return r;
}

void sw_signer_close(sw_signer *s)
{
	EVP_PKEY_free(s->pkey);
	EVP_PKEY_free(s->pub);
	/* The key must go before the engine that backs it. */
	if (s->engine)
		ENGINE_finish(s->engine);
	free(s->source);
	memset(s, 0, sizeof *s);
}

int sw_signer_sign(const sw_signer *s, const void *msg, size_t len,
		   unsigned char **sig, size_t *sig_len, sw_error *err)
{
	EVP_PKEY *k = s->pkey;
	bool ed = EVP_PKEY_get_base_id(s->pub) == EVP_PKEY_ED25519;
	bool rsa = EVP_PKEY_get_base_id(s->pub) == EVP_PKEY_RSA;
	_cleanup_evp_md_ctx_ EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	_cleanup_free_ unsigned char *buf = NULL;
	size_t n = 0;
	char b[256];
	if (!ctx)
		return sw_err_errno(err, ENOMEM, "%s", s->source);
	/* Ed25519 signs the message itself (no pre-hash); the others SHA-256 of it. */
	if (EVP_DigestSignInit(ctx, &pctx, ed ? NULL : EVP_sha256(), NULL, k) != 1)
		return sw_err(err, SW_EINVAL, "%s: cannot start signing: %s", s->source, ossl_reason(b, sizeof b));
	if (rsa && s->rsa_pss &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1))
		return sw_err(err, SW_EINVAL, "%s: cannot select RSA-PSS: %s", s->source, ossl_reason(b, sizeof b));
	if (EVP_DigestSign(ctx, NULL, &n, msg, len) != 1 || !(buf = malloc(n ? n : 1)) ||
	    EVP_DigestSign(ctx, buf, &n, msg, len) != 1)
		return sw_err(err, SW_EINVAL, "%s: signing failed: %s", s->source, ossl_reason(b, sizeof b));
	/* Check before anything is written: a token or engine that returns a bad
	 * signature must fail here, not on every node later. */
	sw_key pub = { .file = s->source, .pkey = s->pub };
	snprintf(pub.id, sizeof pub.id, "%s", s->id);
	int v = sw_key_verify(&pub, buf, n, msg, len, err);
	if (v < 0)
		return v;
	if (v != 1)
		return sw_err(err, SW_EVERIFY, "%s: the signature just made does not verify with the key's public half",
			      s->source);
	*sig = TAKE_PTR(buf);
	*sig_len = n;
	return 0;
}

int sw_sign_lines(sw_signer *const *signers, size_t n, const void *msg, size_t len,
		  char **out, size_t *out_len, sw_error *err)
{
	/* base64 of a signature of at most 1024 bytes (RSA-8192) plus newline */
	_cleanup_free_ char *buf = malloc(n * 1400 + 1);
	size_t o = 0;
	if (!buf)
		return sw_err_errno(err, ENOMEM, "signature lines");
	for (size_t i = 0; i < n; i++) {
		unsigned char *sig = NULL;
		size_t sl = 0;
		int r = sw_signer_sign(signers[i], msg, len, &sig, &sl, err);
		if (r < 0)
			return r;
		_cleanup_free_ char *b64 = sl <= 1024 ? sw_base64_encode(sig, sl) : NULL;
		free(sig);
		if (!b64)
			return sw_err(err, SW_ETOOBIG, "%s: signature too large", signers[i]->source);
		size_t bl = strlen(b64);
		memcpy(buf + o, b64, bl);
		o += bl;
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	*out = TAKE_PTR(buf);
	*out_len = o;
	return 0;
}

int sw_list_sign(const char *dir, sw_signer *const *signers, size_t n, sw_error *err)
{
	sw_list l;
	/* Only a well-formed manifest is signed: a signature is a promise. */
	int r = sw_list_open_dir(dir, &l, err);
	if (r < 0) {
		sw_list_close(&l);
		return r;
	}
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", dir, SW_SIGS_NAME);
	_cleanup_free_ char *old = NULL;
	size_t old_len = 0;
	r = sw_read_file_at(l.dirfd, SW_SIGS_NAME, SW_SIGS_MAX, what, &old, &old_len, err);
	if (r < 0 && -r == ENOENT) {
		old_len = 0;
		r = 0;
	}
	size_t lines = 0;
	for (size_t i = 0; r >= 0 && i < old_len; i++)
		if (old[i] == '\n' || i + 1 == old_len)
			lines++;
	if (r >= 0 && lines + n > SW_MAX_SIGS)
		r = sw_err(err, SW_ETOOBIG, "%s: would hold more than %d signatures", what, SW_MAX_SIGS);
	_cleanup_free_ char *add = NULL, *out = NULL;
	size_t add_len = 0, o = 0;
	if (r >= 0)
		r = sw_sign_lines(signers, n, l.manifest, l.manifest_len, &add, &add_len, err);
	if (r >= 0) {
		out = malloc(old_len + 1 + add_len);
		if (!out)
			r = sw_err_errno(err, ENOMEM, "%s", what);
	}
	if (r >= 0) {
		if (old_len)
			memcpy(out, old, old_len);
		o = old_len;
		if (o && out[o - 1] != '\n')
			out[o++] = '\n';
		memcpy(out + o, add, add_len);
		o += add_len;
	}
	if (r >= 0 && o > SW_SIGS_MAX)
		r = sw_err(err, SW_ETOOBIG, "%s: would exceed %d bytes", what, SW_SIGS_MAX);
	if (r >= 0)
		r = sw_write_file_atomic_at(l.dirfd, dir, SW_SIGS_NAME, out, o, 0644, err);
	sw_list_close(&l);
	return r;
}

/* ---------------------------------------------------------------- keygen */

static int write_new(const char *path, const void *data, size_t len, mode_t mode, sw_error *err)
{
	/* O_EXCL: never overwrite a key, and never follow a planted symlink. */
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot create", path);
	const char *p = data;
	for (size_t left = len; left;) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			(void)unlink(path);
			return sw_err_errno(err, e, "%s: write failed", path);
		}
		p += w;
		left -= (size_t)w;
	}
	/* The umask must not widen or narrow what was asked for. */
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		int e = errno;
		(void)unlink(path);
		return sw_err_errno(err, e, "%s: cannot sync", path);
	}
	return 0;
}

static int bio_take(BIO *bio, char **out, size_t *len)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);
	if (n <= 0)
		return -1;
	*out = malloc((size_t)n);
	if (!*out)
		return -1;
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int sw_keygen(const char *alg, const char *prefix, char id_out[SW_KEYID_HEX], sw_error *err)
{
	EVP_PKEY *k = NULL;
	if (strcmp(alg, "ed25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (strcmp(alg, "ecdsa-p256") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(alg, "ecdsa-p384") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(alg, "rsa-3072") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else
		return sw_err(err, SW_EINVAL, "unknown algorithm '%s' (ed25519, ecdsa-p256, ecdsa-p384, rsa-3072)", alg);
	if (!k) {
		char b[256];
		return sw_err(err, SW_EINVAL, "key generation (%s) failed: %s", alg, ossl_reason(b, sizeof b));
	}
	size_t pl = strlen(prefix);
	_cleanup_free_ char *kpath = malloc(pl + 5), *ppath = malloc(pl + 5);
	BIO *kb = BIO_new(BIO_s_mem()), *pb = BIO_new(BIO_s_mem());
	_cleanup_free_ char *kpem = NULL, *ppem = NULL;
	size_t kl = 0, ppl = 0;
	int r = 0;
	if (!kpath || !ppath || !kb || !pb) {
		r = sw_err_errno(err, ENOMEM, "%s", prefix);
		goto out;
	}
	sprintf(kpath, "%s.key", prefix);
	sprintf(ppath, "%s.pub", prefix);
	if (PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) != 1 || PEM_write_bio_PUBKEY(pb, k) != 1 ||
	    bio_take(kb, &kpem, &kl) < 0 || bio_take(pb, &ppem, &ppl) < 0) {
		char b[256];
		r = sw_err(err, SW_EINVAL, "%s: cannot encode the key: %s", prefix, ossl_reason(b, sizeof b));
		goto out;
	}
	/* Refuse up front when either exists, so nothing is half-written. */
	struct stat st;
	if (lstat(kpath, &st) == 0 || lstat(ppath, &st) == 0) {
		r = sw_err(err, EEXIST, "%s.key or %s.pub already exists; not overwriting a key", prefix, prefix);
		goto out;
	}
	if ((r = write_new(kpath, kpem, kl, 0600, err)) < 0)
		goto out;
	if ((r = write_new(ppath, ppem, ppl, 0644, err)) < 0) {
		(void)unlink(kpath);
		goto out;
	}
	if (id_out) {
		sw_key pk;
		r = sw_key_load_file(ppath, &pk, err);
		if (r >= 0) {
			memcpy(id_out, pk.id, SW_KEYID_HEX);
			free(pk.file);
			EVP_PKEY_free(pk.pkey);
		}
	}
out:
	if (kpem)
		OPENSSL_cleanse(kpem, kl);
	BIO_free_all(kb);
	BIO_free(pb);
	EVP_PKEY_free(k);
	return r;
}
