/* SPDX-License-Identifier: Apache-2.0 */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "allowlist.h"
#include "evidence.h"
#include "json.h"
#include "util.h"

/* YAJL_GET_STRING is NULL for a non-string; callers checked the type already. */
static const char *ystr(yajl_val v)
{
	const char *s = YAJL_GET_STRING(v);
	return s ? s : "";
}

static const char *const list_files[] = { SW_MANIFEST_NAME, SW_ENTRIES_NAME, SW_SIGS_NAME };
#define OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define MANIFEST_MAX (1024 * 1024)

/* ------------------------------------------------------------------- HTTP */

typedef struct resp {
	long status;
	char *body;
	size_t len, max;
	bool too_big;
	char etag[256], last_modified[64], digest[80], www_auth[1024], location[2048];
} resp;

typedef struct http {
	const sw_config *c;
	CURL *curl;
	bool plain;                  /* oci+http:// */
	char auth[2048];             /* "Authorization: ..." once obtained */
	sw_fetch_state *st;
	const char *cache_key;       /* fetch_oci: keep the credentials it earns (below) */
} http;

/* The Authorization the last poll of a repository earned, kept for the next polls
 * of this process (sigwardd) while it is valid: a Bearer token until 90% of its
 * expires_in has passed (60 s when the token service gives none, as the
 * distribution spec says), Basic until the registry refuses it. It is sent with
 * the first request; a 401 (expired, revoked) is answered as without it. Saves
 * the token service a request and the registry a 401 on every poll. */
static struct {
	char key[2400];              /* "<base>/<repository> <credentials file>" */
	char auth[2048];
	int64_t until;
} auth_cache;

static void resp_free(resp *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	resp *r = ud;
	size_t len = size * n;
	if (r->len + len > r->max) {
		r->too_big = true;
		return 0; /* abort the transfer: endless data */
	}
	char *nb = realloc(r->body, r->len + len + 1);
	if (!nb)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	const char *v = line + nl + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	size_t n = (size_t)(end - v) < outlen - 1 ? (size_t)(end - v) : outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	resp *r = ud;
	size_t len = size * n;
	/* A new status line (after a redirect or 100-continue) starts a new response. */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0)
		r->etag[0] = r->last_modified[0] = r->digest[0] = r->www_auth[0] = r->location[0] = '\0';
	header_value(p, len, "ETag", r->etag, sizeof r->etag);
	header_value(p, len, "Last-Modified", r->last_modified, sizeof r->last_modified);
	header_value(p, len, "Docker-Content-Digest", r->digest, sizeof r->digest);
	header_value(p, len, "WWW-Authenticate", r->www_auth, sizeof r->www_auth);
	header_value(p, len, "Location", r->location, sizeof r->location);
	return len;
}

static int http_init(http *h, const sw_config *c, bool plain, sw_fetch_state *st, sw_error *err)
{
	memset(h, 0, sizeof *h);
	h->c = c;
	h->plain = plain;
	h->st = st;
	h->curl = curl_easy_init();
	if (!h->curl)
		return sw_err(err, ENOMEM, "refresh: cannot initialise libcurl");
	return 0;
}

static void http_free(http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
}

/* One request. method: "GET", "HEAD", "PUT", "POST". */
static int http_req(http *h, const char *method, const char *url, const char *const *headers,
		    const void *upload, size_t upload_len, size_t max, resp *r, sw_error *err)
{
	const sw_config *c = h->c;
	CURL *cu = h->curl;
	memset(r, 0, sizeof *r);
	r->max = max;
	curl_easy_reset(cu);
	struct curl_slist *hl = NULL;
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	if (h->auth[0])
		hl = curl_slist_append(hl, h->auth);
	const char *protos = h->plain ? "http,https" : "https";
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, protos);
	curl_easy_setopt(cu, CURLOPT_REDIR_PROTOCOLS_STR, protos);
	/* Registries redirect blob downloads to storage; a few hops at most. The
	 * Authorization header is not sent to another host (curl's default). */
	curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, strcmp(method, "GET") == 0 ? 1L : 0L);
	curl_easy_setopt(cu, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	long t = (long)(c->refresh_timeout > 0 ? c->refresh_timeout : 30);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, t);
	/* Slow retrieval: below 1 kB/s for `timeout` seconds aborts, and no transfer
	 * may take longer than ten times `timeout` in all. */
	curl_easy_setopt(cu, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(cu, CURLOPT_LOW_SPEED_TIME, t);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT, t * 10);
	curl_easy_setopt(cu, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	if (c->refresh_ca_file)
		curl_easy_setopt(cu, CURLOPT_CAINFO, c->refresh_ca_file);
	if (c->refresh_client_cert)
		curl_easy_setopt(cu, CURLOPT_SSLCERT, c->refresh_client_cert);
	if (c->refresh_client_key)
		curl_easy_setopt(cu, CURLOPT_SSLKEY, c->refresh_client_key);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(cu, CURLOPT_USERAGENT, "sigwardd/" SIGWARD_VERSION);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, upload ? upload : "");
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)upload_len);
	}
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hl);
	char detail[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, detail);
	CURLcode cr = curl_easy_perform(cu);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hl);
	if (h->st)
		h->st->requests++;
	if (r->too_big || cr == CURLE_FILESIZE_EXCEEDED) {
		resp_free(r);
		return sw_err(err, SW_ETOOBIG, "%s: response larger than max_size (%zu bytes)", url, max);
	}
	if (cr != CURLE_OK) {
		resp_free(r);
		detail[strcspn(detail, "\r\n")] = '\0';
		/* The local files first: curl's own words do not name them. */
		if (cr == CURLE_SSL_CERTPROBLEM)
			return sw_err(err, SW_EINVAL, "%s: [refresh] client_cert %s / client_key %s cannot be used: %s",
				      url, c->refresh_client_cert ? c->refresh_client_cert : "(none)",
				      c->refresh_client_key ? c->refresh_client_key : "(none)",
				      detail[0] ? detail : curl_easy_strerror(cr));
		if (cr == CURLE_SSL_CACERT_BADFILE)
			return sw_err(err, SW_EINVAL, "%s: [refresh] ca_file %s cannot be used: %s", url,
				      c->refresh_ca_file ? c->refresh_ca_file : "(none)",
				      detail[0] ? detail : curl_easy_strerror(cr));
		return sw_err(err, SW_EINVAL, "%s: %s%s%s", url, curl_easy_strerror(cr), detail[0] ? ": " : "", detail);
	}
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &r->status);
	if (h->st)
		h->st->bytes += r->len;
	return 0;
}

/* ------------------------------------------------------------------- auth */

static int read_credentials(const sw_config *c, char *user, size_t ul, char *pass, size_t pl, sw_error *err)
{
	user[0] = pass[0] = '\0';
	if (!c->refresh_credentials)
		return 0;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = sw_read_file(c->refresh_credentials, 4096, &text, &len, err);
	if (r < 0)
		return r;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	char *colon = strchr(text, ':');
	if (!colon || strchr(text, '\n'))
		return sw_err(err, SW_EINVAL, "%s: expected one line 'user:password'", c->refresh_credentials);
	*colon = '\0';
	snprintf(user, ul, "%s", text);
	snprintf(pass, pl, "%s", colon + 1);
	return 0;
}

/* Value of key="..." in a WWW-Authenticate challenge. */
static void challenge_param(const char *ch, const char *key, char *out, size_t n)
{
	out[0] = '\0';
	size_t kl = strlen(key);
	for (const char *p = ch; (p = strcasestr(p, key)); p += kl) {
		if ((p != ch && p[-1] != ' ' && p[-1] != ',') || p[kl] != '=' || p[kl + 1] != '"')
			continue;
		const char *v = p + kl + 2, *e = strchr(v, '"');
		if (!e)
			return;
		size_t l = (size_t)(e - v) < n - 1 ? (size_t)(e - v) : n - 1;
		memcpy(out, v, l);
		out[l] = '\0';
		return;
	}
}

int sw_registry_token(const char *json, size_t len, const char *what, char token[SW_TOKEN_MAX + 1],
		      int64_t *expires_in, sw_error *err)
{
	/* Registry responses are hostile input: sw_json_tree bounds the nesting
	 * (yajl_tree_free recurses once per level) and refuses NUL bytes. */
	yajl_val doc;
	if (sw_json_tree(json, len, what, &doc, err) < 0)
		return -SW_EINVAL;
	const char *tok_path[] = { "token", NULL }, *acc_path[] = { "access_token", NULL };
	yajl_val tok = doc ? yajl_tree_get(doc, tok_path, yajl_t_string) : NULL;
	if (!tok && doc)
		tok = yajl_tree_get(doc, acc_path, yajl_t_string);
	if (!tok || strlen(ystr(tok)) > SW_TOKEN_MAX || strpbrk(ystr(tok), "\r\n")) {
		yajl_tree_free(doc);
		return sw_err(err, SW_EINVAL, "%s: no usable token in the response", what);
	}
	snprintf(token, SW_TOKEN_MAX + 1, "%s", ystr(tok));
	if (expires_in) {
		const char *exp_path[] = { "expires_in", NULL };
		yajl_val ex = yajl_tree_get(doc, exp_path, yajl_t_number);
		/* The distribution spec: 60 s when absent; at least 60 s, at most a day. */
		long long v = ex && YAJL_IS_INTEGER(ex) ? YAJL_GET_INTEGER(ex) : 60;
		*expires_in = v < 60 ? 60 : v > 86400 ? 86400 : v;
	}
	yajl_tree_free(doc);
	return 0;
}

static void cache_auth(const http *h, int64_t until)
{
	if (!h->cache_key)
		return;
	snprintf(auth_cache.key, sizeof auth_cache.key, "%s", h->cache_key);
	snprintf(auth_cache.auth, sizeof auth_cache.auth, "%s", h->auth);
	auth_cache.until = until;
}

/* Answer a 401: Basic with the credentials, or the registry token flow. */
static int authenticate(http *h, const resp *r401, sw_error *err)
{
	char user[400], pass[900];
	int r = read_credentials(h->c, user, sizeof user, pass, sizeof pass, err);
	if (r < 0)
		return r;
	if (strncasecmp(r401->www_auth, "Basic", 5) == 0) {
		if (!user[0])
			return sw_err(err, SW_EVERIFY, "registry asks for credentials and [refresh] credentials is not set");
		char up[1400], b64[1900];
		int n = snprintf(up, sizeof up, "%s:%s", user, pass);
		size_t o = 0;
		static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		for (int i = 0; i < n; i += 3) {
			uint32_t v = (uint32_t)(unsigned char)up[i] << 16;
			if (i + 1 < n)
				v |= (uint32_t)(unsigned char)up[i + 1] << 8;
			if (i + 2 < n)
				v |= (unsigned char)up[i + 2];
			b64[o++] = tbl[v >> 18 & 63];
			b64[o++] = tbl[v >> 12 & 63];
			b64[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
			b64[o++] = i + 2 < n ? tbl[v & 63] : '=';
		}
		b64[o] = '\0';
		snprintf(h->auth, sizeof h->auth, "Authorization: Basic %s", b64);
		cache_auth(h, INT64_MAX);
		return 0;
	}
	if (strncasecmp(r401->www_auth, "Bearer", 6) != 0)
		return sw_err(err, SW_EVERIFY, "registry: unsupported authentication challenge '%.60s'", r401->www_auth);
	char realm[1024], service[256], scope[512];
	challenge_param(r401->www_auth, "realm", realm, sizeof realm);
	challenge_param(r401->www_auth, "service", service, sizeof service);
	challenge_param(r401->www_auth, "scope", scope, sizeof scope);
	if (!realm[0])
		return sw_err(err, SW_EINVAL, "registry: Bearer challenge without a realm");
	char *es = curl_easy_escape(h->curl, service, 0), *esc = curl_easy_escape(h->curl, scope, 0);
	char url[2200];
	snprintf(url, sizeof url, "%s%sservice=%s%s%s", realm, strchr(realm, '?') ? "&" : "?", es ? es : "",
		 scope[0] ? "&scope=" : "", scope[0] && esc ? esc : "");
	curl_free(es);
	curl_free(esc);
	h->auth[0] = '\0';
	if (user[0]) {
		resp dummy = { 0 };
		snprintf(dummy.www_auth, sizeof dummy.www_auth, "Basic");
		if ((r = authenticate(h, &dummy, err)) < 0)
			return r;
	}
	resp tr;
	r = http_req(h, "GET", url, NULL, NULL, 0, 64 * 1024, &tr, err);
	h->auth[0] = '\0';
	if (r < 0)
		return r;
	if (tr.status != 200) {
		long st = tr.status;
		resp_free(&tr);
		return sw_err(err, SW_EVERIFY, "%s: token request answered %ld", realm, st);
	}
	char token[SW_TOKEN_MAX + 1];
	int64_t life = 0;
	r = sw_registry_token(tr.body ? tr.body : "", tr.len, realm, token, &life, err);
	resp_free(&tr);
	if (r < 0)
		return r;
	snprintf(h->auth, sizeof h->auth, "Authorization: Bearer %s", token);
	cache_auth(h, sw_now() + life * 9 / 10);
	return 0;
}

/* A request that answers one 401 with authentication and retries once. */
static int http_auth_req(http *h, const char *method, const char *url, const char *const *headers,
			 const void *up, size_t up_len, size_t max, resp *r, sw_error *err)
{
	int rc = http_req(h, method, url, headers, up, up_len, max, r, err);
	if (rc < 0 || r->status != 401)
		return rc;
	resp r401 = *r;
	r->body = NULL;
	rc = authenticate(h, &r401, err);
	resp_free(&r401);
	resp_free(r);
	if (rc < 0)
		return rc;
	return http_req(h, method, url, headers, up, up_len, max, r, err);
}

/* ----------------------------------------------------------------- output */

static int write_file(int dfd, const char *dir, const char *name, const void *data, size_t len, sw_error *err)
{
	_cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot create", dir, name);
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return sw_err_errno(err, errno, "%s/%s: write failed", dir, name);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* ------------------------------------------------------------------- file */

static int fetch_file(const sw_config *c, const char *src, int dfd, const char *dest, const sw_fetch_state *prev,
		      sw_fetch_state *next, bool *changed, sw_error *err)
{
	_cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return sw_err_errno(err, errno, "%s: cannot open source directory", src);
	char *data[3] = { NULL, NULL, NULL };
	size_t len[3];
	unsigned char all[3 * SW_SHA256_LEN];
	int r = 0;
	for (int i = 0; i < 3 && r >= 0; i++) {
		char what[4200];
		snprintf(what, sizeof what, "%s/%s", src, list_files[i]);
		r = sw_read_file_at(sfd, list_files[i], c->refresh_max_size, what, &data[i], &len[i], err);
		if (r >= 0)
			sw_sha256(data[i], len[i], all + i * SW_SHA256_LEN);
	}
	if (r >= 0) {
		char hex[SW_SHA256_HEX + 1];
		sw_sha256_hex(all, sizeof all, hex);
		snprintf(next->digest, sizeof next->digest, "sha256:%s", hex);
		*changed = strcmp(next->digest, prev->digest) != 0;
		for (int i = 0; i < 3 && r >= 0 && *changed; i++)
			r = write_file(dfd, dest, list_files[i], data[i], len[i], err);
	}
	for (int i = 0; i < 3; i++)
		free(data[i]);
	return r;
}

/* ------------------------------------------------------------------ https */

static int fetch_https(const sw_config *c, const char *base, int dfd, const char *dest, const sw_fetch_state *prev,
		       sw_fetch_state *next, bool *changed, sw_error *err)
{
	http h;
	int r = http_init(&h, c, false, next, err);
	if (r < 0)
		return r;
	char url[4200];
	const char *sep = base[strlen(base) - 1] == '/' ? "" : "/";
	/* Poll the signature file only: a changed manifest always comes with new
	 * signatures, so an unchanged signature file means an unchanged list, and
	 * a poll of an unchanged list costs one 304. */
	char inm[300] = "", ims[100] = "";
	const char *hdrs[3] = { NULL, NULL, NULL };
	int nh = 0;
	if (prev->etag[0]) {
		snprintf(inm, sizeof inm, "If-None-Match: %s", prev->etag);
		hdrs[nh++] = inm;
	}
	if (prev->last_modified[0]) {
		snprintf(ims, sizeof ims, "If-Modified-Since: %s", prev->last_modified);
		hdrs[nh++] = ims;
	}
	snprintf(url, sizeof url, "%s%s%s", base, sep, SW_SIGS_NAME);
	resp sig;
	if ((r = http_req(&h, "GET", url, hdrs, NULL, 0, c->refresh_max_size, &sig, err)) < 0)
		goto out;
	if (sig.status == 304) {
		*changed = false;
		resp_free(&sig);
		goto out;
	}
	if (sig.status != 200) {
		r = sw_err(err, SW_EINVAL, "%s: HTTP status %ld", url, sig.status);
		resp_free(&sig);
		goto out;
	}
	snprintf(next->etag, sizeof next->etag, "%s", sig.etag);
	snprintf(next->last_modified, sizeof next->last_modified, "%s", sig.last_modified);
	*changed = true;
	for (int i = 0; i < 2 && r >= 0; i++) {
		resp f;
		snprintf(url, sizeof url, "%s%s%s", base, sep, list_files[i]);
		if ((r = http_req(&h, "GET", url, NULL, NULL, 0, c->refresh_max_size, &f, err)) < 0)
			break;
		if (f.status != 200)
			r = sw_err(err, SW_EINVAL, "%s: HTTP status %ld", url, f.status);
		else
			r = write_file(dfd, dest, list_files[i], f.body ? f.body : "", f.len, err);
		resp_free(&f);
	}
	if (r >= 0)
		r = write_file(dfd, dest, SW_SIGS_NAME, sig.body ? sig.body : "", sig.len, err);
	resp_free(&sig);
out:
	http_free(&h);
	return r;
}

/* -------------------------------------------------------------------- oci */

typedef struct oci_ref {
	char base[1024];     /* scheme://host[:port] */
	char repo[512];
	char ref[160];       /* tag or sha256:... */
	bool plain;
} oci_ref;

static int parse_oci(const char *url, oci_ref *o, sw_error *err)
{
	memset(o, 0, sizeof *o);
	const char *rest;
	if (strncmp(url, "oci://", 6) == 0)
		rest = url + 6;
	else if (strncmp(url, "oci+http://", 11) == 0) {
		rest = url + 11;
		o->plain = true;
	} else
		return sw_err(err, SW_EINVAL, "'%s' is not an oci:// reference", url);
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest || (size_t)(slash - rest) > 255)
		return sw_err(err, SW_EINVAL, "%s: expected oci://host[:port]/repository:tag", url);
	snprintf(o->base, sizeof o->base, "%s://%.*s", o->plain ? "http" : "https", (int)(slash - rest), rest);
	const char *path = slash + 1;
	const char *at = strchr(path, '@');
	const char *last_slash = strrchr(path, '/');
	const char *colon = strrchr(last_slash ? last_slash : path, ':');
	const char *end = at ? at : colon;
	if (!end || end == path)
		return sw_err(err, SW_EINVAL, "%s: the reference needs a tag or a digest", url);
	if ((size_t)(end - path) >= sizeof o->repo || strlen(end + 1) >= sizeof o->ref)
		return sw_err(err, SW_EINVAL, "%s: reference too long", url);
	memcpy(o->repo, path, (size_t)(end - path));
	snprintf(o->ref, sizeof o->ref, "%s", end + 1);
	/* Only the characters the distribution spec allows: nothing that could bend
	 * the request URL. */
	for (const char *p = o->repo; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-/", *p)))
			return sw_err(err, SW_EINVAL, "%s: invalid repository name", url);
	for (const char *p = o->ref; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._-:", *p)))
			return sw_err(err, SW_EINVAL, "%s: invalid tag or digest", url);
	return 0;
}

/* One layer of a sigward artifact: titled (org.opencontainers.image.title) one of
 * titles[0..n), with a sha256 digest and a size of at most max_size. Returns the
 * title's index, or -1 when the layer is none of that. */
static int artifact_layer(yajl_val l, const char *const *titles, int n, uint64_t max_size, sw_oci_layer *out)
{
	const char *dp[] = { "digest", NULL }, *sp[] = { "size", NULL },
		   *tp[] = { "annotations", "org.opencontainers.image.title", NULL };
	yajl_val dg = yajl_tree_get(l, dp, yajl_t_string), sz = yajl_tree_get(l, sp, yajl_t_number),
		 ti = yajl_tree_get(l, tp, yajl_t_string);
	int which = -1;
	for (int k = 0; ti && k < n; k++)
		if (strcmp(ystr(ti), titles[k]) == 0)
			which = k;
	char norm[SW_DIGEST_STR];
	const char *ds = dg ? ystr(dg) : "";
	if (which < 0 || !sz || !YAJL_IS_INTEGER(sz) || YAJL_GET_INTEGER(sz) < 0 ||
	    (uint64_t)YAJL_GET_INTEGER(sz) > max_size || strlen(ds) != 71 ||
	    sw_digest_normalize(ds, strlen(ds), norm) < 0 || strncmp(ds, "sha256:", 7) != 0)
		return -1;
	out->file = which;
	memcpy(out->digest, ds, SW_DIGEST_STR);
	out->size = (uint64_t)YAJL_GET_INTEGER(sz);
	return which;
}

int sw_oci_manifest_layers(const char *json, size_t len, const char *what, uint64_t max_size,
			   sw_oci_layer layers[3], sw_error *err)
{
	yajl_val doc;
	if (sw_json_tree(json, len, what, &doc, err) < 0)
		return -SW_EINVAL;
	const char *layers_path[] = { "layers", NULL };
	yajl_val ls = doc ? yajl_tree_get(doc, layers_path, yajl_t_array) : NULL;
	int r = 0;
	if (!ls || YAJL_GET_ARRAY(ls)->len != 3) {
		yajl_tree_free(doc);
		return sw_err(err, SW_EINVAL, "%s: not a sigward allowlist artifact (expected 3 layers)", what);
	}
	bool seen[3] = { false, false, false };
	for (size_t i = 0; i < 3; i++) {
		int which = artifact_layer(YAJL_GET_ARRAY(ls)->values[i], list_files, 3, max_size, &layers[i]);
		if (which < 0 || seen[which]) {
			r = sw_err(err, SW_EINVAL, "%s: layer %zu is not a valid allowlist file", what, i);
			break;
		}
		seen[which] = true;
	}
	yajl_tree_free(doc);
	return r;
}

/* A client for the repository of o, with what an earlier poll of it earned
 * (auth_cache). key (sizeof auth_cache.key) must outlive h. */
static int oci_open(const sw_config *c, const oci_ref *o, http *h, char *key, sw_fetch_state *st, sw_error *err)
{
	int r = http_init(h, c, o->plain, st, err);
	if (r < 0)
		return r;
	snprintf(key, sizeof auth_cache.key, "%s/%s %s", o->base, o->repo,
		 c->refresh_credentials ? c->refresh_credentials : "-");
	h->cache_key = key;
	if (strcmp(auth_cache.key, key) == 0 && sw_now() < auth_cache.until)
		snprintf(h->auth, sizeof h->auth, "%s", auth_cache.auth);
	return 0;
}

/* GET one blob of o's repository: it must have exactly the size and SHA-256 its
 * manifest gives (checked before anything is written). On success b is the
 * caller's to free. */
static int get_blob(http *h, const oci_ref *o, const sw_oci_layer *l, resp *b, sw_error *err)
{
	char burl[2200];
	snprintf(burl, sizeof burl, "%s/v2/%s/blobs/%s", o->base, o->repo, l->digest);
	int r = http_auth_req(h, "GET", burl, NULL, NULL, 0, (size_t)l->size, b, err);
	if (r < 0)
		return r;
	char bh[SW_SHA256_HEX + 1];
	sw_sha256_hex(b->body ? b->body : "", b->len, bh);
	if (b->status != 200)
		r = sw_err(err, SW_EINVAL, "%s: HTTP status %ld", burl, b->status);
	else if (b->len != (size_t)l->size || strcmp(bh, l->digest + 7) != 0)
		r = sw_err(err, SW_EVERIFY, "%s: blob does not match its digest or size", burl);
	if (r < 0)
		resp_free(b);
	return r;
}

static int fetch_oci(const sw_config *c, const char *src, int dfd, const char *dest, const sw_fetch_state *prev,
		     sw_fetch_state *next, bool *changed, sw_error *err)
{
	oci_ref o;
	int r = parse_oci(src, &o, err);
	if (r < 0)
		return r;
	http h;
	char key[sizeof auth_cache.key];
	if ((r = oci_open(c, &o, &h, key, next, err)) < 0)
		return r;
	char url[2200];
	static const char *const accept[] = { "Accept: " OCI_MANIFEST_TYPE, NULL };
	snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", o.base, o.repo, o.ref);
	resp m = { 0 };
	/* An unchanged manifest digest means an unchanged list: one HEAD request. */
	if ((r = http_auth_req(&h, "HEAD", url, accept, NULL, 0, MANIFEST_MAX, &m, err)) < 0)
		goto out;
	if (m.status == 200 && m.digest[0] && prev->digest[0] && strcmp(m.digest, prev->digest) == 0) {
		*changed = false;
		goto out;
	}
	resp_free(&m);
	if ((r = http_auth_req(&h, "GET", url, accept, NULL, 0, MANIFEST_MAX, &m, err)) < 0)
		goto out;
	if (m.status != 200) {
		r = sw_err(err, SW_EINVAL, "%s: HTTP status %ld", url, m.status);
		goto out;
	}
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(m.body ? m.body : "", m.len, hex);
	snprintf(next->digest, sizeof next->digest, "sha256:%s", hex);
	if ((m.digest[0] && strcmp(m.digest, next->digest) != 0) ||
	    (strncmp(o.ref, "sha256:", 7) == 0 && strcmp(o.ref, next->digest) != 0)) {
		r = sw_err(err, SW_EVERIFY, "%s: manifest does not match its digest", url);
		goto out;
	}
	sw_oci_layer layers[3];
	if ((r = sw_oci_manifest_layers(m.body ? m.body : "", m.len, url, c->refresh_max_size, layers, err)) < 0)
		goto out;
	for (size_t i = 0; i < 3 && r >= 0; i++) {
		resp b;
		if ((r = get_blob(&h, &o, &layers[i], &b, err)) < 0)
			break;
		r = write_file(dfd, dest, list_files[layers[i].file], b.body ? b.body : "", b.len, err);
		resp_free(&b);
	}
	if (r >= 0)
		*changed = true;
out:
	resp_free(&m);
	http_free(&h);
	return r;
}

int sw_fetch(const sw_config *c, const char *dest_dir, const sw_fetch_state *prev, sw_fetch_state *next,
	     bool *changed, sw_error *err)
{
	*next = *prev;
	next->requests = next->bytes = 0;
	*changed = false;
	const char *src = c->refresh_source;
	if (!src)
		return sw_err(err, SW_EINVAL, "[refresh] source is not set");
	_cleanup_close_ int dfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", dest_dir);
	if (strncmp(src, "file://", 7) == 0)
		return fetch_file(c, src + 7, dfd, dest_dir, prev, next, changed, err);
	if (strncmp(src, "https://", 8) == 0)
		return fetch_https(c, src, dfd, dest_dir, prev, next, changed, err);
	if (strncmp(src, "oci://", 6) == 0 || strncmp(src, "oci+http://", 11) == 0)
		return fetch_oci(c, src, dfd, dest_dir, prev, next, changed, err);
	return sw_err(err, SW_EINVAL, "[refresh] source '%s': expected file://, https:// or oci://", src);
}

/* --------------------------------------------------------------- evidence */

/* The evidence of a compiled list (docs/allowlist-format.md "evidence") travels as
 * an artifact of its own, beside the list's: an artifact with a fourth layer would
 * be refused by every sigwardd that accepts exactly three. Its tag is derived from
 * the list manifest's digest, so it names the evidence of exactly that list: a node
 * pinned to a digest finds it too, and a tag moved on to a newer list cannot pair
 * it with another list's evidence. It also names the list as its OCI 1.1 subject. */
#define EVIDENCE_ARTIFACT_TYPE "application/vnd.sigward.allowlist.evidence.v1"

static void evidence_tag(const char *list_digest, char *out, size_t n)
{
	snprintf(out, n, "sha256-%s.evidence", list_digest + 7);
}

static uint64_t evidence_max(const sw_config *c)
{
	return c->refresh_max_size < SW_EVIDENCE_MAX ? c->refresh_max_size : SW_EVIDENCE_MAX;
}

/* The one layer of an evidence artifact's manifest. */
static int evidence_layer(const char *json, size_t len, const char *what, uint64_t max, sw_oci_layer *l, sw_error *err)
{
	yajl_val doc;
	if (sw_json_tree(json, len, what, &doc, err) < 0)
		return -SW_EINVAL;
	static const char *const title[] = { SW_EVIDENCE_NAME };
	const char *lp[] = { "layers", NULL }, *ap[] = { "artifactType", NULL };
	yajl_val ls = doc ? yajl_tree_get(doc, lp, yajl_t_array) : NULL, at = doc ? yajl_tree_get(doc, ap, yajl_t_string) : NULL;
	int r = 0;
	if (!at || strcmp(ystr(at), EVIDENCE_ARTIFACT_TYPE) != 0 || !ls || YAJL_GET_ARRAY(ls)->len != 1 ||
	    artifact_layer(YAJL_GET_ARRAY(ls)->values[0], title, 1, max, l) < 0)
		r = sw_err(err, SW_EINVAL, "%s: not a sigward evidence artifact (one layer titled '" SW_EVIDENCE_NAME
			   "', sha256, at most %llu bytes)", what, (unsigned long long)max);
	yajl_tree_free(doc);
	return r;
}

int sw_fetch_evidence(const sw_config *c, const char *dest_dir, const char *list_digest, sw_error *err)
{
	const char *src = c->refresh_source;
	if (!src || (strncmp(src, "oci://", 6) != 0 && strncmp(src, "oci+http://", 11) != 0))
		return 0;
	if (!list_digest || !sw_is_sha256_digest(list_digest, strlen(list_digest)))
		return sw_err(err, SW_EINVAL, "%s: no list manifest digest to find the evidence by", src);
	oci_ref o;
	int r = parse_oci(src, &o, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", dest_dir);
	http h;
	char key[sizeof auth_cache.key];
	if ((r = oci_open(c, &o, &h, key, NULL, err)) < 0)
		return r;
	char tag[100], url[2200];
	evidence_tag(list_digest, tag, sizeof tag);
	snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", o.base, o.repo, tag);
	static const char *const accept[] = { "Accept: " OCI_MANIFEST_TYPE, NULL };
	resp m = { 0 }, b = { 0 };
	sw_oci_layer l;
	if ((r = http_auth_req(&h, "GET", url, accept, NULL, 0, MANIFEST_MAX, &m, err)) < 0)
		goto out;
	if (m.status == 404)  /* a list pushed without evidence (or by an older push) */
		goto out;
	if (m.status != 200) {
		r = sw_err(err, SW_EINVAL, "%s: HTTP status %ld", url, m.status);
		goto out;
	}
	if ((r = evidence_layer(m.body ? m.body : "", m.len, url, evidence_max(c), &l, err)) < 0 ||
	    (r = get_blob(&h, &o, &l, &b, err)) < 0)
		goto out;
	r = write_file(dfd, dest_dir, SW_EVIDENCE_NAME, b.body ? b.body : "", b.len, err);
	/* The registry is not trusted with the evidence either: it is kept only when
	 * its SHA-256 is the list's anchor entry, which the list's signatures cover
	 * once sw_list_install has verified this same list. Anything else is dropped. */
	if (r >= 0) {
		sw_list lst;
		if ((r = sw_list_open_dir(dest_dir, &lst, err)) >= 0) {
			sw_evidence ev;
			r = sw_evidence_open(&lst, &ev, err);
			sw_evidence_free(&ev);
		}
		sw_list_close(&lst);
		if (r == 0)
			r = sw_err(err, SW_EINVAL, "%s/%s: vanished", dest_dir, SW_EVIDENCE_NAME);
	}
	if (r < 0)
		(void)unlinkat(dfd, SW_EVIDENCE_NAME, 0);
	else
		r = 1;
out:
	resp_free(&b);
	resp_free(&m);
	http_free(&h);
	return r;
}

/* ------------------------------------------------------------------- push */

static int push_blob(http *h, const oci_ref *o, const void *data, size_t len, char digest[SW_DIGEST_STR], sw_error *err)
{
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(data, len, hex);
	snprintf(digest, SW_DIGEST_STR, "sha256:%s", hex);
	char url[2200];
	snprintf(url, sizeof url, "%s/v2/%s/blobs/uploads/", o->base, o->repo);
	resp r;
	int rc = http_auth_req(h, "POST", url, NULL, "", 0, 64 * 1024, &r, err);
	if (rc < 0)
		return rc;
	if (r.status != 202 || !r.location[0]) {
		long st = r.status;
		resp_free(&r);
		return sw_err(err, SW_EINVAL, "%s: upload not accepted (HTTP %ld)", url, st);
	}
	char put[4400];
	const char *loc = r.location;
	/* Location may be relative to the registry. */
	snprintf(put, sizeof put, "%s%s%sdigest=%s", loc[0] == '/' ? o->base : "", loc, strchr(loc, '?') ? "&" : "?",
		 digest);
	resp_free(&r);
	static const char *const hdr[] = { "Content-Type: application/octet-stream", NULL };
	rc = http_auth_req(h, "PUT", put, hdr, data, len, 64 * 1024, &r, err);
	if (rc < 0)
		return rc;
	long st = r.status;
	resp_free(&r);
	if (st != 201)
		return sw_err(err, SW_EINVAL, "%s: blob upload answered HTTP %ld", o->base, st);
	return 0;
}

/* PUT a manifest under ref (a tag) of o's repository. */
static int put_manifest(http *h, const oci_ref *o, const char *ref, const char *man, size_t len, sw_error *err)
{
	char murl[2200];
	snprintf(murl, sizeof murl, "%s/v2/%s/manifests/%s", o->base, o->repo, ref);
	static const char *const hdr[] = { "Content-Type: " OCI_MANIFEST_TYPE, NULL };
	resp rr = { 0 };
	int r = http_auth_req(h, "PUT", murl, hdr, man, len, 64 * 1024, &rr, err);
	if (r >= 0 && rr.status != 201)
		r = sw_err(err, SW_EINVAL, "%s: manifest upload answered HTTP %ld: %.200s", murl, rr.status,
			   rr.body ? rr.body : "");
	resp_free(&rr);
	return r;
}

/* The evidence of the list whose manifest is `list` (when src_dir has one), as
 * the artifact sw_fetch_evidence reads. */
static int push_evidence(http *h, const sw_config *c, const oci_ref *o, int sfd, const char *src_dir,
			 const char *cfg_digest, const char *list, size_t list_len, sw_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", src_dir, SW_EVIDENCE_NAME);
	int r = sw_read_file_at(sfd, SW_EVIDENCE_NAME, evidence_max(c), what, &data, &len, err);
	if (r == -ENOENT)
		return 0;
	char digest[SW_DIGEST_STR], hex[SW_SHA256_HEX + 1], list_digest[SW_DIGEST_STR], tag[100], man[2048];
	if (r < 0 || (r = push_blob(h, o, data, len, digest, err)) < 0)
		return r;
	sw_sha256_hex(list, list_len, hex);
	snprintf(list_digest, sizeof list_digest, "sha256:%s", hex);
	int m = snprintf(man, sizeof man,
			 "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST_TYPE "\",\"artifactType\":\"" EVIDENCE_ARTIFACT_TYPE "\","
			 "\"config\":{\"mediaType\":\"" SW_ARTIFACT_CONFIG_TYPE "\",\"digest\":\"%s\",\"size\":2},"
			 "\"layers\":[{\"mediaType\":\"" SW_ARTIFACT_LAYER_TYPE "\",\"digest\":\"%s\",\"size\":%zu,"
			 "\"annotations\":{\"org.opencontainers.image.title\":\"" SW_EVIDENCE_NAME "\"}}],"
			 "\"subject\":{\"mediaType\":\"" OCI_MANIFEST_TYPE "\",\"digest\":\"%s\",\"size\":%zu}}",
			 cfg_digest, digest, len, list_digest, list_len);
	evidence_tag(list_digest, tag, sizeof tag);
	return put_manifest(h, o, tag, man, (size_t)m, err);
}

int sw_push(const sw_config *c, const char *src_dir, const char *url, char *digest_out, size_t n, sw_error *err)
{
	oci_ref o;
	int r = parse_oci(url, &o, err);
	if (r < 0)
		return r;
	_cleanup_close_ int sfd = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", src_dir);
	http h;
	if ((r = http_init(&h, c, o.plain, NULL, err)) < 0)
		return r;
	char digests[3][SW_DIGEST_STR], cfg_digest[SW_DIGEST_STR];
	size_t sizes[3];
	for (int i = 0; i < 3 && r >= 0; i++) {
		_cleanup_free_ char *data = NULL;
		char what[4200];
		snprintf(what, sizeof what, "%s/%s", src_dir, list_files[i]);
		r = sw_read_file_at(sfd, list_files[i], c->refresh_max_size, what, &data, &sizes[i], err);
		if (r >= 0)
			r = push_blob(&h, &o, data, sizes[i], digests[i], err);
	}
	static const char cfg[] = "{}";
	if (r >= 0)
		r = push_blob(&h, &o, cfg, 2, cfg_digest, err);
	char man[4096];
	int m = 0;
	if (r >= 0) {
		m = snprintf(man, sizeof man,
			     "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST_TYPE "\",\"artifactType\":\"" SW_ARTIFACT_TYPE "\","
			     "\"config\":{\"mediaType\":\"" SW_ARTIFACT_CONFIG_TYPE "\",\"digest\":\"%s\",\"size\":2},\"layers\":[",
			     cfg_digest);
		for (int i = 0; i < 3; i++)
			m += snprintf(man + m, sizeof man - (size_t)m,
				      "%s{\"mediaType\":\"" SW_ARTIFACT_LAYER_TYPE "\",\"digest\":\"%s\",\"size\":%zu,"
				      "\"annotations\":{\"org.opencontainers.image.title\":\"%s\"}}",
				      i ? "," : "", digests[i], sizes[i], list_files[i]);
		m += snprintf(man + m, sizeof man - (size_t)m, "]}");
		/* The evidence before the list: a node that fetches the new list finds
		 * its evidence already there (it does not look again at an unchanged list). */
		r = push_evidence(&h, c, &o, sfd, src_dir, cfg_digest, man, (size_t)m, err);
	}
	if (r >= 0) {
		r = put_manifest(&h, &o, o.ref, man, (size_t)m, err);
		if (r >= 0 && digest_out) {
			char hex[SW_SHA256_HEX + 1];
			sw_sha256_hex(man, (size_t)m, hex);
			snprintf(digest_out, n, "sha256:%s", hex);
		}
	}
	http_free(&h);
	return r;
}

/* ------------------------------------------------- registry reads (imagesig) */

struct sw_registry {
	http h;
	sw_fetch_state st;
	char base[1024];
};

int sw_registry_open(const sw_config *c, const char *base, sw_registry **out, sw_error *err)
{
	bool plain = strncmp(base, "http://", 7) == 0;
	if (!plain && strncmp(base, "https://", 8) != 0)
		return sw_err(err, SW_EINVAL, "registry %.200s: expected https:// or http://", base);
	if (strlen(base) >= sizeof((sw_registry *)0)->base)
		return sw_err(err, SW_ETOOBIG, "registry %.200s: URL too long", base);
	sw_registry *r = calloc(1, sizeof *r);
	if (!r)
		return sw_err(err, ENOMEM, "out of memory");
	snprintf(r->base, sizeof r->base, "%s", base);
	int rc = http_init(&r->h, c, plain, &r->st, err);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int sw_registry_get(sw_registry *r, const char *path, const char *accept, size_t max, long *status, char **body,
		    size_t *len, sw_error *err)
{
	char url[2400], hdr[600];
	snprintf(url, sizeof url, "%s%s", r->base, path);
	snprintf(hdr, sizeof hdr, "Accept: %s", accept ? accept : "*/*");
	const char *const hdrs[] = { hdr, NULL };
	resp rr;
	int rc = http_auth_req(&r->h, "GET", url, hdrs, NULL, 0, max, &rr, err);
	if (rc < 0)
		return rc;
	*status = rr.status;
	*len = rr.len;
	*body = rr.body ? rr.body : calloc(1, 1);
	if (!*body)
		return sw_err(err, ENOMEM, "out of memory");
	return 0;
}

uint64_t sw_registry_requests(const sw_registry *r)
{
	return r->st.requests;
}

void sw_registry_close(sw_registry *r)
{
	if (!r)
		return;
	http_free(&r->h);
	free(r);
}
