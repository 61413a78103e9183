/* SPDX-License-Identifier: Apache-2.0 */
/* imagesig: an image's cosign signatures, found and verified (imagesig.h). */
#include "imagesig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <openssl/pem.h>

#include "cleanup.h"
#include "config.h"
#include "fetch.h"
#include "json.h"

#define OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define ACCEPT_ANY OCI_INDEX ", " OCI_MANIFEST ", " DOCKER_LIST ", " DOCKER_MANIFEST
#define SIMPLE_TYPE "cosign container image signature"
#define ANN_SIG "dev.cosignproject.cosign/signature"
#define ANN_CERT "dev.sigstore.cosign/certificate"
#define ANN_CHAIN "dev.sigstore.cosign/chain"
#define ANN_BUNDLE "dev.sigstore.cosign/bundle"
#define ANN_TSA "dev.sigstore.cosign/timestamp"
#define REF_NAME "org.opencontainers.image.ref.name"
#define MAX_BLOB (1u << 20)           /* a payload or annotation-sized blob */
#define MAX_LAYOUT_MANIFESTS 4096

static const char *jstr(yajl_val o, const char *k)
{
	return sw_ss_jstr(o, k);
}

/* ------------------------------------------------------------ references */

static bool alnum_lc(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The distribution spec's name: components of [a-z0-9] joined by '.', '_', '-'
 * and separated by '/'; nothing that could bend the request path ("..", "//"). */
static bool repo_ok(const char *s)
{
	if (!*s || strlen(s) > 255)
		return false;
	for (const char *p = s; *p; p++) {
		if (alnum_lc(*p))
			continue;
		if (!strchr("._-/", *p) || p == s || !alnum_lc(p[-1]) || !alnum_lc(p[1]))
			return false;
	}
	return true;
}

static bool tag_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return false;
	return true;
}

/* Split "name[:tag|@digest]" in place: *ref gets the tag or digest ("latest"). */
static int split_ref(char *name, const char **ref, const char *what, sw_error *err)
{
	char *at = strrchr(name, '@');
	if (at) {
		*at = '\0';
		*ref = at + 1;
		if (!sw_is_sha256_digest(*ref, strlen(*ref)))
			return sw_err(err, SW_EINVAL, "%s: digest is not sha256:<64 lowercase hex>", what);
		return 0;
	}
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	*ref = "latest";
	if (colon) {
		*colon = '\0';
		*ref = colon + 1;
	}
	if (!tag_ok(*ref))
		return sw_err(err, SW_EINVAL, "%s: invalid tag", what);
	return 0;
}

int sw_imgsig_parse_ref(const char *ref, char *buf, size_t n, sw_imgsig_src *src, const char **tag_or_digest,
			const char **docker_ref, sw_error *err)
{
	memset(src, 0, sizeof *src);
	*docker_ref = NULL;
	size_t len = strlen(ref);
	/* base, repository, tag and docker reference, each NUL-terminated */
	if (4 * len + 64 > n)
		return sw_err(err, SW_ETOOBIG, "%.200s: reference too long", ref);
	if (strncmp(ref, "oci-layout:", 11) == 0) {
		memcpy(buf, ref + 11, len - 10);
		int r = split_ref(buf, tag_or_digest, ref, err);
		if (r < 0)
			return r;
		if (!buf[0])
			return sw_err(err, SW_EINVAL, "%s: no layout directory", ref);
		src->layout = buf;
		return 0;
	}
	const char *rest = ref, *scheme = "https";
	if (strncmp(ref, "oci://", 6) == 0)
		rest = ref + 6;
	else if (strncmp(ref, "oci+http://", 11) == 0) {
		rest = ref + 11;
		scheme = "http";
	} else if (strstr(ref, "://"))
		return sw_err(err, SW_EINVAL, "%s: expected [oci://]host/repository[:tag|@digest], oci+http:// or oci-layout:", ref);
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest)
		return sw_err(err, SW_EINVAL, "%s: expected host[:port]/repository (a registry host is required)", ref);
	int hl = (int)(slash - rest);
	_cleanup_free_ char *name = strdup(slash + 1);
	if (!name)
		return sw_err(err, ENOMEM, "out of memory");
	const char *tag;
	int r = split_ref(name, &tag, ref, err);
	if (r < 0)
		return r;
	if (!repo_ok(name))
		return sw_err(err, SW_EINVAL, "%s: invalid repository name", ref);
	for (int i = 0; i < hl; i++)
		if (!((rest[i] >= 'a' && rest[i] <= 'z') || (rest[i] >= 'A' && rest[i] <= 'Z') ||
		      (rest[i] >= '0' && rest[i] <= '9') || strchr(".-:[]", rest[i])))
			return sw_err(err, SW_EINVAL, "%s: invalid registry host", ref);
	/* Docker Hub: its API lives on registry-1.docker.io and its official
	 * images under library/, as every docker client spells them. */
	bool hub = (hl == 9 && strncmp(rest, "docker.io", 9) == 0) || (hl == 15 && strncmp(rest, "index.docker.io", 15) == 0);
	const char *lib = hub && !strchr(name, '/') ? "library/" : "";
	/* buf: base, NUL, repository, NUL, tag, NUL, docker reference, NUL */
	int o = snprintf(buf, n, "%s://%.*s", scheme, hub ? 20 : hl, hub ? "registry-1.docker.io" : rest) + 1;
	char *repo = buf + o;
	o += snprintf(repo, n - (size_t)o, "%s%s", lib, name) + 1;
	char *t = buf + o;
	o += snprintf(t, n - (size_t)o, "%s", tag) + 1;
	char *dref = buf + o;
	snprintf(dref, n - (size_t)o, "%.*s/%s%s", hub ? 9 : hl, hub ? "docker.io" : rest, lib, name);
	src->registry = buf;
	src->repository = repo;
	*tag_or_digest = t;
	*docker_ref = dref;
	return 0;
}

/* "alpine" -> "docker.io/library/alpine", "index.docker.io/x/y" -> "docker.io/x/y";
 * tag and digest dropped. */
static void normalize_ref(const char *in, char *out, size_t n)
{
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s", in);
	char *at = strchr(tmp, '@');
	if (at)
		*at = '\0';
	char *slash = strrchr(tmp, '/');
	char *colon = strrchr(slash ? slash : tmp, ':');
	if (colon)
		*colon = '\0';
	char *first = strchr(tmp, '/');
	bool has_host = first && (memchr(tmp, '.', (size_t)(first - tmp)) || memchr(tmp, ':', (size_t)(first - tmp)) ||
				  strncmp(tmp, "localhost/", 10) == 0);
	if (!has_host)
		sw_msgpath(out, n, "docker.io/%s%s", first ? "" : "library/", tmp);
	else if (strncmp(tmp, "index.docker.io/", 16) == 0)
		snprintf(out, n, "docker.io/%s", tmp + 16);
	else
		snprintf(out, n, "%s", tmp);
}

bool sw_imgsig_reference_matches(const char *payload_ref, const char *want)
{
	char a[512], b[512];
	if (!payload_ref || !want || strlen(payload_ref) >= sizeof a || strlen(want) >= sizeof b)
		return false;
	normalize_ref(payload_ref, a, sizeof a);
	normalize_ref(want, b, sizeof b);
	return strcmp(a, b) == 0;
}

/* --------------------------------------------------------------- payloads */

int sw_imgsig_payload_parse(const char *json, size_t len, sw_imgsig_payload *out, sw_error *err)
{
	memset(out, 0, sizeof *out);
	_cleanup_yajl_ yajl_val doc = NULL;
	if (sw_json_tree(json, len, "simple-signing payload", &doc, err) < 0)
		return -1;
	yajl_val crit = sw_ss_jget(doc, "critical");
	const char *type = jstr(crit, "type");
	const char *dg = jstr(sw_ss_jget(crit, "image"), "docker-manifest-digest");
	const char *ref = jstr(sw_ss_jget(crit, "identity"), "docker-reference");
	if (!YAJL_IS_OBJECT(crit))
		return sw_err(err, SW_EINVAL, "simple-signing payload: no critical object");
	/* Another type is another kind of document (an atomic signature, some
	 * other payload) that happens to be signed by the same key. */
	if (!type || strcmp(type, SIMPLE_TYPE) != 0)
		return sw_err(err, SW_EINVAL, "simple-signing payload: critical.type is not \"" SIMPLE_TYPE "\"");
	if (!dg || !sw_is_sha256_digest(dg, strlen(dg)))
		return sw_err(err, SW_EINVAL, "simple-signing payload: critical.image.docker-manifest-digest missing or not sha256:<hex>");
	if (!ref || strlen(ref) >= sizeof out->reference)
		return sw_err(err, SW_EINVAL, "simple-signing payload: critical.identity.docker-reference missing or too long");
	snprintf(out->digest, sizeof out->digest, "%s", dg);
	snprintf(out->reference, sizeof out->reference, "%s", ref);
	return 0;
}

int sw_imgsig_predicate_type(const sw_ss_bytes *payload, char *out, size_t n, sw_error *err)
{
	_cleanup_free_ char *doc = sw_memdup0(payload->p, payload->n);
	if (!doc)
		return sw_err(err, ENOMEM, "out of memory");
	_cleanup_yajl_ yajl_val root = NULL;
	if (sw_json_tree(doc, payload->n, "in-toto statement", &root, err) < 0)
		return -1;
	const char *t = jstr(root, "predicateType");
	if (!t || strlen(t) >= n)
		return sw_err(err, SW_EINVAL, "in-toto statement: predicateType missing or too long");
	snprintf(out, n, "%s", t);
	return 0;
}

/* ------------------------------------------------------------- reading */

typedef struct reader {
	const sw_imgsig_src *src;
	sw_config cfg;
	sw_registry *reg;
	int layout_fd, blobs_fd;
	char *index_text;
	yajl_val index;              /* layout: index.json */
	char what[600];              /* names the source in errors */
} reader;

static void reader_close(reader *r)
{
	sw_registry_close(r->reg);
	if (r->layout_fd >= 0)
		close(r->layout_fd);
	if (r->blobs_fd >= 0)
		close(r->blobs_fd);
	yajl_tree_free(r->index);
	free(r->index_text);
}

static int reader_open(reader *r, const sw_imgsig_src *src, sw_error *err)
{
	memset(r, 0, sizeof *r);
	r->layout_fd = r->blobs_fd = -1;
	r->src = src;
	if (src->layout) {
		snprintf(r->what, sizeof r->what, "%.590s", src->layout);
		r->layout_fd = open(src->layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (r->layout_fd < 0)
			return sw_err_errno(err, errno, "%s: cannot open the OCI layout", src->layout);
		_cleanup_close_ int bfd = -1;
		int rc = sw_open_subdir(r->layout_fd, "blobs", "OCI layout blobs", &bfd, err);
		if (rc == 0)
			return sw_err(err, SW_EINVAL, "%s: no blobs directory (not an OCI layout)", src->layout);
		if (rc < 0 || (rc = sw_open_subdir(bfd, "sha256", "OCI layout blobs/sha256", &r->blobs_fd, err)) < 0)
			return rc;
		if (rc == 0)
			return sw_err(err, SW_EINVAL, "%s: no blobs/sha256 directory", src->layout);
		size_t len;
		if (sw_read_file_at(r->layout_fd, "index.json", SW_IMGSIG_MAX_MANIFEST, "index.json", &r->index_text, &len, err) < 0 ||
		    sw_json_tree(r->index_text, len, "index.json", &r->index, err) < 0)
			return sw_err_prefix(err, "%s", src->layout);
		return 0;
	}
	if (!src->registry || !src->repository || !repo_ok(src->repository))
		return sw_err(err, SW_EINVAL, "image source: a registry and a valid repository, or a layout, are needed");
	snprintf(r->what, sizeof r->what, "%.300s/%.280s", src->registry, src->repository);
	/* The fetch transport, configured as [refresh] configures it. */
	r->cfg.refresh_ca_file = (char *)src->ca_file;
	r->cfg.refresh_credentials = (char *)src->credentials;
	r->cfg.refresh_timeout = src->timeout > 0 ? src->timeout : 30;
	return sw_registry_open(&r->cfg, src->registry, &r->reg, err);
}

/* Check the bytes are what the digest names. */
static int check_digest(const char *data, size_t len, const char *digest, const char *what, sw_error *err)
{
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(data, len, hex);
	if (strncmp(digest, "sha256:", 7) != 0 || strcmp(digest + 7, hex) != 0)
		return sw_err(err, SW_EVERIFY, "%s: content does not match its digest %.80s", what, digest);
	return 0;
}

static int layout_blob(reader *r, const char *digest, size_t max, char **body, size_t *len, sw_error *err)
{
	char what[800];
	sw_msgpath(what, sizeof what, "%s/blobs/sha256/%s", r->src->layout, digest + 7);
	if (sw_read_file_at(r->blobs_fd, digest + 7, max, what, body, len, err) < 0)
		return -1;
	return check_digest(*body, *len, digest, what, err);
}

/* GET a registry path; 1 found (200), 0 not found (404), <0 anything else. */
static int reg_get(reader *r, const char *path, const char *accept, size_t max, char **body, size_t *len, sw_error *err)
{
	long status;
	*body = NULL;
	int rc = sw_registry_get(r->reg, path, accept, max, &status, body, len, err);
	if (rc < 0)
		return rc;
	if (status == 200)
		return 1;
	free(*body);
	*body = NULL;
	if (status == 404)
		return 0;
	return sw_err(err, SW_EINVAL, "%s%s: HTTP %ld", r->src->registry, path, status);
}

static int blob(reader *r, const char *digest, size_t max, char **body, size_t *len, sw_error *err)
{
	if (!sw_is_sha256_digest(digest, strlen(digest)))
		return sw_err(err, SW_EINVAL, "%s: blob digest %.80s is not sha256:<hex>", r->what, digest);
	if (r->src->layout)
		return layout_blob(r, digest, max, body, len, err);
	char path[1200];
	snprintf(path, sizeof path, "/v2/%s/blobs/%s", r->src->repository, digest);
	int rc = reg_get(r, path, NULL, max, body, len, err);
	if (rc == 0)
		return sw_err(err, SW_EINVAL, "%s: blob %s not found", r->what, digest);
	if (rc < 0)
		return rc;
	return check_digest(*body, *len, digest, path, err);
}

/* A manifest by tag or digest; 1 found (digest set, checked), 0 no such tag. */
static int manifest(reader *r, const char *ref, char **body, size_t *len, char digest[SW_DIGEST_STR], sw_error *err)
{
	bool by_digest = sw_is_sha256_digest(ref, strlen(ref));
	if (r->src->layout) {
		const char *want = by_digest ? ref : NULL;
		yajl_val ms = sw_ss_jget(r->index, "manifests");
		for (size_t i = 0; !want && YAJL_IS_ARRAY(ms) && i < ms->u.array.len; i++) {
			yajl_val d = ms->u.array.values[i];
			const char *name = jstr(sw_ss_jget(d, "annotations"), REF_NAME);
			if (name && strcmp(name, ref) == 0)
				want = jstr(d, "digest");
		}
		if (!want)
			return 0;
		if (!sw_is_sha256_digest(want, strlen(want)))
			return sw_err(err, SW_EINVAL, "%s/index.json: %s: digest is not sha256:<hex>", r->what, ref);
		snprintf(digest, SW_DIGEST_STR, "%s", want);
		if (layout_blob(r, digest, SW_IMGSIG_MAX_MANIFEST, body, len, err) < 0)
			return -1;
		return 1;
	}
	char path[1200];
	snprintf(path, sizeof path, "/v2/%s/manifests/%s", r->src->repository, ref);
	int rc = reg_get(r, path, ACCEPT_ANY, SW_IMGSIG_MAX_MANIFEST, body, len, err);
	if (rc <= 0)
		return rc;
	/* The digest is computed, never taken from Docker-Content-Digest: a tag
	 * names whatever bytes the registry returns, and those are what is judged. */
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(*body, *len, hex);
	snprintf(digest, SW_DIGEST_STR, "sha256:%s", hex);
	if (by_digest && strcmp(digest, ref) != 0) {
		free(*body);
		*body = NULL;
		return sw_err(err, SW_EVERIFY, "%s%s: content does not match the digest", r->src->registry, path);
	}
	return 1;
}

/* manifest(), parsed: 1 found (*doc set), 0 not found, <0 error. */
static int manifest_doc(reader *r, const char *ref, yajl_val *doc, char digest[SW_DIGEST_STR], sw_error *err)
{
	_cleanup_free_ char *body = NULL;
	size_t len;
	*doc = NULL;
	int rc = manifest(r, ref, &body, &len, digest, err);
	if (rc <= 0)
		return rc;
	if (sw_json_tree(body, len, ref, doc, err) < 0)
		return sw_err_prefix(err, "%s", r->what);
	return 1;
}

/* ------------------------------------------------------------ discovery */

static void sig_free(sw_imgsig_sig *s)
{
	free(s->blob);
	free(s->signature);
	free(s->certificate);
	free(s->chain);
	free(s->rekor_bundle);
	free(s->timestamp);
}

/* One more zeroed element at the end of *arr (of *n elements of size each). */
static void *grow(void *arr, size_t *n, size_t size, sw_error *err)
{
	void **a = arr;
	char *g = realloc(*a, (*n + 1) * size);
	if (!g) {
		sw_err(err, ENOMEM, "out of memory");
		return NULL;
	}
	*a = g;
	memset(g + *n * size, 0, size);
	return g + (*n)++ * size;
}

static sw_imgsig_sig *sig_add(sw_imgsig_manifest *m, sw_error *err)
{
	if (m->nsigs >= SW_IMGSIG_MAX_SIGS) {
		sw_err(err, SW_ETOOBIG, "%s: more than %d signatures", m->digest, SW_IMGSIG_MAX_SIGS);
		return NULL;
	}
	return grow(&m->sigs, &m->nsigs, sizeof *m->sigs, err);
}

static int dup_ann(yajl_val ann, const char *key, char **out, sw_error *err)
{
	const char *v = jstr(ann, key);
	if (v && !(*out = strdup(v)))
		return sw_err(err, ENOMEM, "out of memory");
	return 0;
}

/* A layer of a signature manifest (mdg) of the media type `kind` reads: its blob
 * as a new signature of m (*out). 1 added, 0 another type, <0 error. */
static int layer_sig(reader *r, sw_imgsig_manifest *m, yajl_val l, sw_imgsig_kind kind, const char *source,
		     const char *mdg, sw_imgsig_sig **out, sw_error *err)
{
	const char *mt = jstr(l, "mediaType"), *dg = jstr(l, "digest");
	const char *want = kind == SW_IMGSIG_SIMPLE ? SW_IMGSIG_SIMPLESIGNING_TYPE : SW_IMGSIG_BUNDLE_TYPE;
	if (!mt || strcmp(mt, want) != 0 || !dg)
		return 0;
	sw_imgsig_sig *s = sig_add(m, err);
	if (!s)
		return -1;
	s->kind = kind;
	snprintf(s->source, sizeof s->source, "%s", source);
	snprintf(s->manifest, sizeof s->manifest, "%s", mdg);
	snprintf(s->layer, sizeof s->layer, "%.71s", dg);
	if (blob(r, dg, kind == SW_IMGSIG_SIMPLE ? MAX_BLOB : SW_SS_MAX_DOC, &s->blob, &s->blob_len, err) < 0)
		return -1;
	yajl_val ann = sw_ss_jget(l, "annotations");
	if (kind == SW_IMGSIG_SIMPLE &&
	    (dup_ann(ann, ANN_SIG, &s->signature, err) < 0 || dup_ann(ann, ANN_CERT, &s->certificate, err) < 0 ||
	     dup_ann(ann, ANN_CHAIN, &s->chain, err) < 0 || dup_ann(ann, ANN_BUNDLE, &s->rekor_bundle, err) < 0 ||
	     dup_ann(ann, ANN_TSA, &s->timestamp, err) < 0))
		return -1;
	*out = s;
	return 1;
}

/* The legacy signature image: tag sha256-<hex>.sig, a layer per signature. */
static int find_sig_tag(reader *r, sw_imgsig_manifest *m, sw_error *err)
{
	char tag[SW_DIGEST_STR + 8], sdg[SW_DIGEST_STR];
	snprintf(tag, sizeof tag, "sha256-%s.sig", m->digest + 7);
	_cleanup_yajl_ yajl_val doc = NULL;
	int rc = manifest_doc(r, tag, &doc, sdg, err);
	if (rc <= 0)
		return rc;
	yajl_val layers = sw_ss_jget(doc, "layers");
	if (!YAJL_IS_ARRAY(layers))
		return sw_err(err, SW_EINVAL, "%s: %s: no layers", r->what, tag);
	for (size_t i = 0; i < layers->u.array.len; i++) {
		sw_imgsig_sig *s;
		rc = layer_sig(r, m, layers->u.array.values[i], SW_IMGSIG_SIMPLE, r->src->layout ? "layout" : "tag", sdg, &s, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One referrer manifest: its signature layers, if it is about m. */
static int add_referrer(reader *r, sw_imgsig_manifest *m, const char *digest, const char *source, sw_error *err)
{
	_cleanup_yajl_ yajl_val doc = NULL;
	char dg[SW_DIGEST_STR];
	int rc = manifest_doc(r, digest, &doc, dg, err);
	if (rc == 0)
		return sw_err(err, SW_EINVAL, "%s: referrer %s not found", r->what, digest);
	if (rc < 0)
		return rc;
	/* A referrers list is the registry's word; the subject is the artifact's. */
	const char *subj = jstr(sw_ss_jget(doc, "subject"), "digest");
	if (!subj || strcmp(subj, m->digest) != 0)
		return 0;
	yajl_val layers = sw_ss_jget(doc, "layers");
	/* Bundles (cosign v3), or cosign 2's experimental OCI 1.1 mode: the
	 * classic signature layers in a referrer. */
	for (size_t i = 0; YAJL_IS_ARRAY(layers) && i < layers->u.array.len; i++) {
		sw_imgsig_sig *s;
		if ((rc = layer_sig(r, m, layers->u.array.values[i], SW_IMGSIG_BUNDLE, source, dg, &s, err)) < 0 ||
		    (rc = layer_sig(r, m, layers->u.array.values[i], SW_IMGSIG_SIMPLE, source, dg, &s, err)) < 0)
			return rc;
	}
	return 0;
}

/* Descriptors of a referrers list (an index): those that may hold a bundle. */
static int add_referrers(reader *r, sw_imgsig_manifest *m, yajl_val ms, const char *source, sw_error *err)
{
	size_t fetched = 0;
	for (size_t i = 0; YAJL_IS_ARRAY(ms) && i < ms->u.array.len && i < MAX_LAYOUT_MANIFESTS; i++) {
		yajl_val d = ms->u.array.values[i];
		const char *at = jstr(d, "artifactType"), *dg = jstr(d, "digest"), *mt = jstr(d, "mediaType");
		/* Other artifacts (SBOMs, other tools' signatures) are not read. */
		if (!dg || (at && strcmp(at, SW_IMGSIG_BUNDLE_TYPE) != 0 && strcmp(at, SW_IMGSIG_COSIGN2_SIG_TYPE) != 0) ||
		    (mt && strcmp(mt, OCI_MANIFEST) != 0))
			continue;
		/* A registry listing endless referrers gets a bounded number of
		 * requests (a layout's index.json may list many images: unbounded). */
		if (!r->src->layout && ++fetched > 2 * SW_IMGSIG_MAX_SIGS)
			return sw_err(err, SW_ETOOBIG, "%s: %s: more than %d referrers that may be bundles", r->what, m->digest,
				      2 * SW_IMGSIG_MAX_SIGS);
		if (add_referrer(r, m, dg, source, err) < 0)
			return -1;
	}
	return 0;
}

static int find_referrers(reader *r, sw_imgsig_manifest *m, sw_error *err)
{
	_cleanup_free_ char *body = NULL;
	_cleanup_yajl_ yajl_val doc = NULL;
	size_t len;
	if (r->src->layout) {
		/* A layout has no API: every manifest it lists may be a referrer. */
		return add_referrers(r, m, sw_ss_jget(r->index, "manifests"), "layout", err);
	}
	char path[1200];
	snprintf(path, sizeof path, "/v2/%s/referrers/%s", r->src->repository, m->digest);
	long status;
	int rc = sw_registry_get(r->reg, path, OCI_INDEX, SW_IMGSIG_MAX_MANIFEST, &status, &body, &len, err);
	if (rc < 0)
		return rc;
	/* Without the API a registry answers 404 (distribution-spec 1.1); some
	 * answer 400, 405 or 501. Any of those: the fallback tag. */
	rc = status == 200;
	if (status != 200 && status != 404 && status != 400 && status != 405 && status != 501)
		return sw_err(err, SW_EINVAL, "%s%s: HTTP %ld", r->src->registry, path, status);
	if (!rc) {
		free(body);
		body = NULL;
	}
	const char *source = "referrers";
	if (rc == 0) {
		/* No referrers API: the fallback tag (distribution spec 1.1). */
		char tag[SW_DIGEST_STR + 8], dg[SW_DIGEST_STR];
		snprintf(tag, sizeof tag, "sha256-%s", m->digest + 7);
		rc = manifest(r, tag, &body, &len, dg, err);
		if (rc <= 0)
			return rc;
		source = "referrers-tag";
	}
	if (sw_json_tree(body, len, path, &doc, err) < 0)
		return sw_err_prefix(err, "%s", r->what);
	return add_referrers(r, m, sw_ss_jget(doc, "manifests"), source, err);
}

static int collect(reader *r, sw_imgsig_manifest *m, sw_error *err)
{
	if (find_sig_tag(r, m, err) < 0 || find_referrers(r, m, err) < 0)
		return sw_err_prefix(err, "%s", m->digest);
	return 0;
}

static bool is_index(yajl_val doc, const char *mt)
{
	if (mt)
		return strcmp(mt, OCI_INDEX) == 0 || strcmp(mt, DOCKER_LIST) == 0;
	return sw_ss_jget(doc, "manifests") != NULL;
}

static int discover(reader *r, const char *ref, sw_imgsig_set *out, sw_error *err)
{
	_cleanup_yajl_ yajl_val doc = NULL;
	char dg[SW_DIGEST_STR];
	int rc = manifest_doc(r, ref, &doc, dg, err);
	if (rc == 0)
		return sw_err(err, SW_ENOTFOUND, "%s: %s: no such manifest", r->what, ref);
	if (rc < 0)
		return rc;
	snprintf(out->digest, sizeof out->digest, "%s", dg);
	sw_imgsig_manifest *top = grow(&out->m, &out->nm, sizeof *out->m, err);
	if (!top)
		return -1;
	snprintf(top->digest, sizeof top->digest, "%s", dg);
	const char *mt = jstr(doc, "mediaType");
	snprintf(top->media_type, sizeof top->media_type, "%s", mt ? mt : "");
	top->is_index = is_index(doc, mt);
	if (collect(r, top, err) < 0)
		return -1;
	if (!top->is_index)
		return 0;
	yajl_val ms = sw_ss_jget(doc, "manifests");
	if (!YAJL_IS_ARRAY(ms))
		return sw_err(err, SW_EINVAL, "%s: index %s: manifests is not an array", r->what, dg);
	for (size_t i = 0; i < ms->u.array.len; i++) {
		yajl_val d = ms->u.array.values[i];
		yajl_val p = sw_ss_jget(d, "platform");
		const char *os = jstr(p, "os"), *arch = jstr(p, "architecture"), *var = jstr(p, "variant");
		const char *pd = jstr(d, "digest"), *pmt = jstr(d, "mediaType");
		/* BuildKit's attestation manifests (unknown/unknown) run nowhere. */
		const char *kind = jstr(sw_ss_jget(d, "annotations"), "vnd.docker.reference.type");
		if ((kind && strcmp(kind, "attestation-manifest") == 0) || (os && strcmp(os, "unknown") == 0))
			continue;
		if (!pd || !sw_is_sha256_digest(pd, strlen(pd)))
			return sw_err(err, SW_EINVAL, "%s: index %s: manifests[%zu].digest is not sha256:<hex>", r->what, dg, i);
		if (out->nm > SW_IMGSIG_MAX_PLATFORMS)
			return sw_err(err, SW_ETOOBIG, "%s: index %s: more than %d platform manifests", r->what, dg,
				      SW_IMGSIG_MAX_PLATFORMS);
		sw_imgsig_manifest *m = grow(&out->m, &out->nm, sizeof *out->m, err);
		if (!m)
			return -1;
		snprintf(m->digest, sizeof m->digest, "%s", pd);
		snprintf(m->media_type, sizeof m->media_type, "%s", pmt ? pmt : "");
		m->is_index = pmt && is_index(NULL, pmt);
		snprintf(m->platform, sizeof m->platform, "%.20s/%.20s%s%.16s", os ? os : "?", arch ? arch : "?",
			 var ? "/" : "", var ? var : "");
		if (collect(r, m, err) < 0)
			return -1;
	}
	return 0;
}

int sw_imgsig_discover(const sw_imgsig_src *src, const char *tag_or_digest, sw_imgsig_set *out, sw_error *err)
{
	memset(out, 0, sizeof *out);
	reader r;
	int rc = reader_open(&r, src, err);
	if (rc >= 0)
		rc = discover(&r, tag_or_digest, out, err);
	if (r.reg)
		out->requests = sw_registry_requests(r.reg);
	reader_close(&r);
	if (rc < 0) {
		uint64_t req = out->requests;
		sw_imgsig_set_free(out);
		out->requests = req;
	}
	return rc;
}

void sw_imgsig_set_free(sw_imgsig_set *s)
{
	for (size_t i = 0; i < s->nm; i++) {
		for (size_t j = 0; j < s->m[i].nsigs; j++)
			sig_free(&s->m[i].sigs[j]);
		free(s->m[i].sigs);
	}
	free(s->m);
	memset(s, 0, sizeof *s);
}

/* --------------------------------------------------------- requirement */

int sw_imgsig_regex_bounded(const char *re, const char **why)
{
	if (strlen(re) > SW_IMGSIG_RE_MAX) {
		*why = "longer than 256 bytes";
		return -1;
	}
	unsigned long weight = 1;
	bool after_quant = false;   /* the last token was a quantifier */
	for (const char *p = re; *p; p++) {
		unsigned long w = 0;
		bool quant = false;
		if (*p == '\\') {
			if (p[1])
				p++;
		} else if (*p == '[') {
			/* A bracket expression: its characters are literal. */
			const char *q = p + 1;
			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']') {
				if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
					const char *e = strchr(q + 2, q[1]);
					q = e && e[1] == ']' ? e + 2 : q + 1;
				} else {
					q++;
				}
			}
			if (!*q)
				break;   /* unterminated: regcomp refuses it */
			p = q;
		} else if (*p == '*' || *p == '?') {
			quant = true;
			w = 1;
		} else if (*p == '+') {
			quant = true;
			w = 2;
		} else if (*p == '{') {
			char *end;
			unsigned long lo = strtoul(p + 1, &end, 10), hi = lo;
			if (*end == ',')
				hi = end[1] == '}' ? lo : strtoul(end + 1, &end, 10);
			if (*end == ',')
				end++;
			if (lo > 16 || hi > 16) {
				*why = "an interval bound over 16";
				return -1;
			}
			quant = true;
			w = (hi > lo ? hi : lo) + 1;
			const char *close = strchr(p, '}');
			if (close)
				p = close;
		}
		if (quant) {
			if (after_quant) {
				*why = "a quantifier right after another";
				return -1;
			}
			weight *= w;
			if (weight > 1024) {
				*why = "too many repetitions ('+' and intervals multiply)";
				return -1;
			}
		}
		after_quant = quant;
	}
	return 0;
}

int sw_imgsig_identity_compile(sw_imgsig_identity *id, sw_error *err)
{
	if (id->compiled)
		return 0;
	if (!id->san == !id->san_regex || !id->issuer == !id->issuer_regex)
		return sw_err(err, SW_EINVAL, "identity: one of an exact SAN or a SAN pattern, and one of an issuer or an issuer pattern, are needed");
	char msg[200];
	int rc;
	const char *why;
	if (id->san_regex && sw_imgsig_regex_bounded(id->san_regex, &why) < 0)
		return sw_err(err, SW_EINVAL, "identity pattern %.200s: %s", id->san_regex, why);
	if (id->issuer_regex && sw_imgsig_regex_bounded(id->issuer_regex, &why) < 0)
		return sw_err(err, SW_EINVAL, "issuer pattern %.200s: %s", id->issuer_regex, why);
	if (id->san_regex && (rc = regcomp(&id->san_re, id->san_regex, REG_EXTENDED)) != 0) {
		regerror(rc, &id->san_re, msg, sizeof msg);
		return sw_err(err, SW_EINVAL, "identity pattern %.200s: %s", id->san_regex, msg);
	}
	if (id->issuer_regex && (rc = regcomp(&id->issuer_re, id->issuer_regex, REG_EXTENDED)) != 0) {
		regerror(rc, &id->issuer_re, msg, sizeof msg);
		if (id->san_regex)
			regfree(&id->san_re);
		return sw_err(err, SW_EINVAL, "issuer pattern %.200s: %s", id->issuer_regex, msg);
	}
	id->compiled = true;
	return 0;
}

void sw_imgsig_identity_free(sw_imgsig_identity *id)
{
	if (!id->compiled)
		return;
	if (id->san_regex)
		regfree(&id->san_re);
	if (id->issuer_regex)
		regfree(&id->issuer_re);
	id->compiled = false;
}

/* ---------------------------------------------------------- verification */

/* The Rekor bundle annotation as a v0.1 tlog entry:
 * {"SignedEntryTimestamp": b64, "Payload": {"body": b64, "integratedTime": n,
 *  "logIndex": n, "logID": hex}}. */
static int rekor_entry(const char *json, sw_ss_entry *e, sw_error *err)
{
	_cleanup_yajl_ yajl_val doc = NULL;
	if (sw_json_tree(json, strlen(json), ANN_BUNDLE, &doc, err) < 0)
		return -1;
	yajl_val p = sw_ss_jget(doc, "Payload");
	const char *body = jstr(p, "body"), *lid = jstr(p, "logID");
	if (sw_ss_jb64(doc, "SignedEntryTimestamp", ANN_BUNDLE, &e->set, err) < 0)
		return -1;
	if (!body || !lid || sw_ss_jint(p, "integratedTime", &e->integrated_time) < 0 ||
	    sw_ss_jint(p, "logIndex", &e->log_index) < 0 || e->log_index < 0 || e->integrated_time <= 0)
		return sw_err(err, SW_EINVAL, ANN_BUNDLE ": Payload.body, logID, integratedTime or logIndex missing or invalid");
	size_t ll = strlen(lid);
	if (ll != 64 || !(e->log_id.p = malloc(32)) || sw_unhex(lid, 32, e->log_id.p) < 0)
		return sw_err(err, SW_EINVAL, ANN_BUNDLE ": Payload.logID is not 64 hex digits");
	e->log_id.n = 32;
	if (!(e->body_b64 = strdup(body)) || sw_ss_b64dec(body, strlen(body), &e->body) < 0)
		return sw_err(err, SW_EINVAL, ANN_BUNDLE ": Payload.body is not base64");
	/* kind and version are the body's own: the entry binding compares them
	 * with nothing else here, and checks the body field by field. */
	_cleanup_free_ char *bj = sw_memdup0(e->body.p, e->body.n);
	_cleanup_yajl_ yajl_val bd = NULL;
	if (!bj || sw_json_tree(bj, e->body.n, ANN_BUNDLE " Payload.body", &bd, err) < 0)
		return -1;
	const char *kind = jstr(bd, "kind"), *ver = jstr(bd, "apiVersion");
	if (!kind || !ver || strlen(kind) >= sizeof e->kind || strlen(ver) >= sizeof e->version)
		return sw_err(err, SW_EINVAL, ANN_BUNDLE ": Payload.body without kind or apiVersion");
	snprintf(e->kind, sizeof e->kind, "%s", kind);
	snprintf(e->version, sizeof e->version, "%s", ver);
	return 0;
}

/* The annotations of a classic signature as a v0.1 message-signature bundle, so
 * that sw_ss_verify checks signature, log entry, certificate and identity the
 * way it does for any bundle. */
static int classic_bundle(const sw_imgsig_sig *s, sw_ss_bundle *b, sw_error *err)
{
	memset(b, 0, sizeof *b);
	b->minor = 1;
	if (!s->signature || sw_ss_b64dec(s->signature, strlen(s->signature), &b->sig) < 0)
		return sw_err(err, SW_EINVAL, ANN_SIG ": missing or not base64");
	if (s->certificate) {
		_cleanup_bio_ BIO *bio = BIO_new_mem_buf(s->certificate, (int)strlen(s->certificate));
		if (!bio || !(b->leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
			return sw_err(err, SW_EINVAL, ANN_CERT ": not a PEM certificate");
	} else {
		b->has_public_key = true;
	}
	if (s->rekor_bundle) {
		b->nentries = 1;
		if (rekor_entry(s->rekor_bundle, &b->entries[0], err) < 0)
			return -1;
	}
	if (s->timestamp) {
		_cleanup_yajl_ yajl_val doc = NULL;
		if (sw_json_tree(s->timestamp, strlen(s->timestamp), ANN_TSA, &doc, err) < 0)
			return -1;
		if (sw_ss_jb64(doc, "SignedRFC3161Timestamp", ANN_TSA, &b->tsa[0], err) < 0)
			return -1;
		b->ntsa = 1;
	}
	return 0;
}

static void key_id(EVP_PKEY *k, char out[SW_DIGEST_STR])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);
	char hex[SW_SHA256_HEX + 1] = "";
	if (n > 0)
		sw_sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	snprintf(out, SW_DIGEST_STR, "sha256:%s", hex);
}

/* Try the requirement's keys or identities in turn; the first that verifies. */
static int verify_signers(const sw_ss_bundle *b, const sw_imgsig_requirement *req, const sw_ss_artifact *art,
			  bool direct, sw_imgsig_evidence *ev, sw_error *err)
{
	int64_t now = req->now ? req->now : sw_now();
	if (b->has_public_key) {
		if (req->nkeys == 0)
			return sw_err(err, SW_EVERIFY, "signed with a key, and the policy names no key");
		for (size_t k = 0; k < req->nkeys; k++) {
			int rc;
			if (direct)
				rc = sw_ss_verify_msg(req->keys[k], art->data, art->len, &b->sig) < 0
					     ? sw_err(err, SW_EVERIFY, "the signature does not verify under the policy's key")
					     : 0;
			else {
				sw_ss_policy pol = { .key = req->keys[k] };
				rc = sw_ss_verify(req->trust, b, &pol, art, now, err);
			}
			if (rc == 0) {
				ev->key = (int)k;
				key_id(req->keys[k], ev->key_id);
				return 0;
			}
		}
		if (req->nkeys > 1)
			return sw_err_prefix(err, "none of the policy's %zu keys (last)", req->nkeys);
		return -1;
	}
	if (req->nidentities == 0)
		return sw_err(err, SW_EVERIFY, "signed with a certificate, and the policy names no identity");
	if (!req->trust)
		return sw_err(err, SW_EINVAL, "a certificate signature needs a trusted root");
	for (size_t i = 0; i < req->nidentities; i++) {
		sw_imgsig_identity *id = &req->identities[i];
		if (sw_imgsig_identity_compile(id, err) < 0)
			return -1;
		sw_ss_policy pol = { .identity = id->san, .issuer = id->issuer,
				     .identity_re = id->san_regex ? &id->san_re : NULL,
				     .issuer_re = id->issuer_regex ? &id->issuer_re : NULL };
		if (sw_ss_verify(req->trust, b, &pol, art, now, err) == 0) {
			ev->identity = (int)i;
			sw_ss_cert_san(b->leaf, id->san, id->san ? NULL : &id->san_re, ev->san, sizeof ev->san);
			sw_error e2;
			sw_ss_cert_issuer(b->leaf, ev->issuer, sizeof ev->issuer, &e2);
			return 0;
		}
	}
	if (req->nidentities > 1)
		return sw_err_prefix(err, "none of the policy's %zu identities (last)", req->nidentities);
	return -1;
}

static void ev_log(const sw_ss_bundle *b, sw_imgsig_evidence *ev)
{
	if (b->nentries == 0)
		return;
	ev->tlog = true;
	ev->log_index = b->entries[0].log_index;
	ev->integrated_time = b->entries[0].integrated_time;
}

static int verify_simple(const char *digest, const sw_imgsig_sig *s, const sw_imgsig_requirement *req,
			 sw_imgsig_evidence *ev, sw_error *err)
{
	sw_imgsig_payload p;
	if (sw_imgsig_payload_parse(s->blob, s->blob_len, &p, err) < 0)
		return -1;
	/* A valid signature over another image's payload says nothing about this one
	 * (a signature copied to another tag). */
	if (strcmp(p.digest, digest) != 0)
		return sw_err(err, SW_EVERIFY, "payload: docker-manifest-digest is %s, not this image's", p.digest);
	snprintf(ev->docker_reference, sizeof ev->docker_reference, "%s", p.reference);
	if (req->reference && !sw_imgsig_reference_matches(p.reference, req->reference))
		return sw_err(err, SW_EVERIFY, "payload: docker-reference %.200s is not %.200s", p.reference, req->reference);
	_cleanup_(sw_ss_bundle_free) sw_ss_bundle b;
	if (classic_bundle(s, &b, err) < 0)
		return -1;
	sw_ss_artifact art = { .data = (const unsigned char *)s->blob, .len = s->blob_len };
	sw_sha256(s->blob, s->blob_len, art.sha256);
	/* Keyed without a log entry: the signature alone, unless the policy wants
	 * the log (a key can sign in private; the log makes it public). Keyless
	 * always needs the entry (sw_ss_verify): a Fulcio certificate lives minutes. */
	bool direct = false;
	/* (A timestamp without a log entry bounds nothing for a key, which has no
	 * validity period: it is not what decides.) */
	if (b.has_public_key && b.nentries == 0) {
		if (req->need_tlog)
			return sw_err(err, SW_EVERIFY, "no Rekor entry (" ANN_BUNDLE "), and the policy needs one");
		direct = true;
	} else if (b.has_public_key && !req->trust) {
		if (req->need_tlog)
			return sw_err(err, SW_EINVAL, "the policy needs a log entry, and gives no trusted root to check it");
		direct = true;
	}
	if (verify_signers(&b, req, &art, direct, ev, err) < 0)
		return -1;
	if (!direct)
		ev_log(&b, ev);
	return 0;
}

int sw_imgsig_bundle_open(const sw_imgsig_sig *s, sw_ss_bundle *b, char *predicate_type, size_t n, sw_error *err)
{
	memset(b, 0, sizeof *b);
	if (s->kind != SW_IMGSIG_BUNDLE)
		return sw_err(err, SW_EINVAL, "%s: not a bundle", s->layer);
	if (sw_ss_bundle_parse(s->blob, s->blob_len, "bundle", b, err) < 0)
		return -1;
	if (!b->dsse)
		return sw_err(err, SW_EVERIFY, "bundle: a message signature, not a DSSE envelope (cosign's image signature or attestation)");
	return sw_imgsig_predicate_type(&b->payload, predicate_type, n, err);
}

static int verify_bundle(const char *digest, const sw_imgsig_sig *s, const sw_imgsig_requirement *req,
			 sw_imgsig_evidence *ev, sw_error *err)
{
	_cleanup_(sw_ss_bundle_free) sw_ss_bundle b;
	char pt[256];
	if (sw_imgsig_bundle_open(s, &b, pt, sizeof pt, err) < 0)
		return -1;
	/* An attestation (provenance, SBOM) names the image as its subject too, but
	 * says something about it; only cosign's sign predicate approves it. */
	if (strcmp(pt, SW_IMGSIG_SIGN_PREDICATE) != 0)
		return sw_err(err, SW_EVERIFY, "bundle: an attestation (predicateType %.200s), not a signature", pt);
	if (!req->trust)
		return sw_err(err, SW_EINVAL, "a bundle needs a trusted root");
	sw_ss_artifact art = { 0 };
	if (sw_unhex(digest + 7, 32, art.sha256) < 0)
		return sw_err(err, SW_EINVAL, "%s: not a sha256 digest", digest);
	if (verify_signers(&b, req, &art, false, ev, err) < 0)
		return -1;
	ev_log(&b, ev);
	return 0;
}

static int ev_push(sw_imgsig_result *r, const sw_imgsig_evidence *ev, sw_error *err)
{
	sw_imgsig_evidence *n = grow(&r->ev, &r->nev, sizeof *r->ev, err);
	if (!n)
		return -1;
	*n = *ev;
	return 0;
}

int sw_imgsig_verify(const sw_imgsig_set *set, const sw_imgsig_requirement *req, sw_imgsig_result *out,
		     sw_error *err)
{
	memset(out, 0, sizeof *out);
	size_t nsigners = req->nkeys + req->nidentities;
	if (nsigners == 0)
		return sw_err(err, SW_EINVAL, "image policy: no key and no identity");
	unsigned need = req->threshold ? req->threshold : 1;
	if (need > nsigners)
		return sw_err(err, SW_EINVAL, "image policy: %u signers needed of %zu named", need, nsigners);
	if (set->nm == 0)
		return sw_err(err, SW_EINVAL, "image set: empty");
	_cleanup_free_ bool *seen = calloc(nsigners, sizeof *seen);
	out->st = calloc(set->nm, sizeof *out->st);
	if (!seen || !out->st)
		return sw_err(err, ENOMEM, "out of memory");
	out->nst = set->nm;
	for (size_t i = 0; i < set->nm; i++) {
		const sw_imgsig_manifest *m = &set->m[i];
		sw_imgsig_status *st = &out->st[i];
		snprintf(st->digest, sizeof st->digest, "%s", m->digest);
		snprintf(st->platform, sizeof st->platform, "%s", m->platform);
		memset(seen, 0, nsigners * sizeof *seen);
		if (m->nsigs == 0)
			snprintf(st->reason, sizeof st->reason, "no signature found");
		for (size_t j = 0; j < m->nsigs; j++) {
			const sw_imgsig_sig *s = &m->sigs[j];
			sw_imgsig_evidence ev = { .key = -1, .identity = -1, .log_index = -1, .kind = s->kind };
			snprintf(ev.image, sizeof ev.image, "%s", m->digest);
			snprintf(ev.signed_digest, sizeof ev.signed_digest, "%s", m->digest);
			snprintf(ev.source, sizeof ev.source, "%s", s->source);
			snprintf(ev.manifest, sizeof ev.manifest, "%s", s->manifest);
			snprintf(ev.layer, sizeof ev.layer, "%s", s->layer);
			sw_error e;
			sw_error_clear(&e);
			int rc = s->kind == SW_IMGSIG_SIMPLE ? verify_simple(m->digest, s, req, &ev, &e)
							     : verify_bundle(m->digest, s, req, &ev, &e);
			if (rc < 0) {
				/* Whatever went wrong, this signature approves nothing; only
				 * running out of memory stops the whole verification. */
				if (e.code == ENOMEM) {
					*err = e;
					return -1;
				}
				if (!e.msg[0])
					snprintf(e.msg, sizeof e.msg, "not verified");
				sw_msgpath(st->reason, sizeof st->reason, "%s %s (%s): %s",
					   s->kind == SW_IMGSIG_SIMPLE ? "signature" : "bundle", s->layer, s->source, e.msg);
				continue;
			}
			if (ev_push(out, &ev, err) < 0)
				return -1;
			size_t who = ev.key >= 0 ? (size_t)ev.key : req->nkeys + (size_t)ev.identity;
			if (!seen[who]) {
				seen[who] = true;
				st->signers++;
			}
		}
		st->approved = st->signers >= need;
		if (!st->approved && st->signers > 0)
			snprintf(st->reason, sizeof st->reason, "%u of the %u signers needed", st->signers, need);
	}
	/* Multi-arch: the index's signature covers what the index lists. */
	if (set->m[0].is_index && out->st[0].approved && !req->each_platform) {
		size_t nev = out->nev;
		for (size_t i = 1; i < set->nm; i++) {
			if (out->st[i].approved)
				continue;
			out->st[i].approved = out->st[i].via_index = true;
			out->st[i].reason[0] = '\0';
			for (size_t k = 0; k < nev; k++) {
				if (strcmp(out->ev[k].image, set->m[0].digest) != 0)
					continue;
				sw_imgsig_evidence ev = out->ev[k];
				snprintf(ev.image, sizeof ev.image, "%s", set->m[i].digest);
				ev.via_index = true;
				if (ev_push(out, &ev, err) < 0)
					return -1;
			}
		}
	}
	out->approved = true;
	for (size_t i = 0; i < out->nst && out->approved; i++) {
		if (out->st[i].approved)
			continue;
		out->approved = false;
		sw_err(err, SW_EVERIFY, "%s%s%s%s: not approved: %s", set->m[i].digest, set->m[i].platform[0] ? " (" : "",
		       set->m[i].platform, set->m[i].platform[0] ? ")" : "", out->st[i].reason);
	}
	return out->approved ? 0 : -SW_EVERIFY;
}

void sw_imgsig_result_free(sw_imgsig_result *r)
{
	free(r->ev);
	free(r->st);
	memset(r, 0, sizeof *r);
}
