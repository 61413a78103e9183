/* SPDX-License-Identifier: Apache-2.0 */
/* ctrmeta: containerd's image records, read through the bbolt reader (bbolt.h);
 * see ctrmeta.h and docs/containerd-metadata.md for the format facts relied on
 * here. */

#include "ctrmeta.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

#define CRI_CONTAINER_EXT "io.cri-containerd.container.metadata"
#define CRI_SANDBOX_EXT "io.cri-containerd.sandbox.metadata"
#define CRI_CONTAINER_URL "github.com/containerd/cri/pkg/store/container/Metadata"
#define CRI_SANDBOX_URL "github.com/containerd/cri/pkg/store/sandbox/Metadata"
#define MAX_LAYERS 4096
#define MAX_INDEX_CHILDREN 1024
#define MAX_INDEX_DEPTH 3
#define LOCAL_MAX 16            /* digests one resolution may report */

/* containerd's identifier rule: alphanumeric components joined by single '.', '_'
 * or '-', at most 76 bytes. */
static bool ns_valid(const char *s, size_t n)
{
	if (n == 0 || n > SW_CONTAINERD_NS_MAX)
		return false;
	bool prev_sep = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) && c < 0x80)
			prev_sep = false;
		else if ((c == '.' || c == '_' || c == '-') && !prev_sep)
			prev_sep = true;
		else
			return false;
	}
	return !prev_sep;
}

int sw_containerd_bundle_namespace(const char *bundle, const char *container_id,
				   char ns[SW_CONTAINERD_NS_MAX + 1], sw_error *err)
{
	size_t n = strlen(bundle);
	while (n > 1 && bundle[n - 1] == '/')
		n--;
	/* Split off the last three components: <task dir>/<ns>/<id>. */
	const char *comp[3];
	size_t clen[3];
	size_t end = n;
	for (int i = 2; i >= 0; i--) {
		size_t start = end;
		while (start > 0 && bundle[start - 1] != '/')
			start--;
		if (start == 0 || start == end)
			return 0;
		comp[i] = bundle + start;
		clen[i] = end - start;
		end = start - 1;
		while (end > 0 && bundle[end - 1] == '/')
			end--;
	}
	static const char *const task_dirs[] = { "io.containerd.runtime.v2.task", "io.containerd.runtime.v1.linux" };
	bool task = false;
	for (size_t i = 0; i < SW_ARRAY_SIZE(task_dirs); i++)
		if (clen[0] == strlen(task_dirs[i]) && memcmp(comp[0], task_dirs[i], clen[0]) == 0)
			task = true;
	if (!task || clen[2] != strlen(container_id) || memcmp(comp[2], container_id, clen[2]) != 0)
		return 0;
	if (!ns_valid(comp[1], clen[1]))
		return sw_err(err, SW_EINVAL, "bundle %s: namespace \"%.*s\" is not a valid containerd namespace",
			      bundle, (int)(clen[1] > 80 ? 80 : clen[1]), comp[1]);
	memcpy(ns, comp[1], clen[1]);
	ns[clen[1]] = '\0';
	return 1;
}

typedef struct target {
	char digest[SW_DIGEST_STR];
	int kind;               /* 1 manifest, 2 index */
} target;

enum { MT_UNKNOWN = 0, MT_MANIFEST = 1, MT_INDEX = 2 };

static int media_kind(const char *mt)
{
	if (strcmp(mt, "application/vnd.oci.image.manifest.v1+json") == 0 ||
	    strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json") == 0)
		return MT_MANIFEST;
	if (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
	    strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0)
		return MT_INDEX;
	return MT_UNKNOWN;
}

typedef struct rctx {
	const char *root, *ns, *id;
	int rootfd;
	int content_fd;         /* blobs/sha256, opened on first use */
	char what[SW_ERROR_MAX / 2];   /* "<root>/.../meta.db" */
	/* results of one attempt */
	bool found;
	char source[32];
	char reference[512];
	sw_found out[LOCAL_MAX];
	size_t n;
	unsigned blobs;
	bool best_effort;       /* scanning other records: over budget means "absent" */
	/* CRI scan state */
	char image_id[SW_DIGEST_STR];
	char seen[SW_CONTAINERD_MAX_BLOBS][SW_DIGEST_STR];
	size_t n_seen;
	size_t n_images;
	int scan_err;
	bool exhaustive;        /* input: scan every image record even when the image id's own answers */
	bool partial;           /* the scan was left out (see resolve_view) */
} rctx;

static void add_found(rctx *c, const char *digest, const char *kind)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->out[i].digest, digest) == 0)
			return;
	/* Past the cap further digests are dropped: every digest here names the same
	 * verified image, so dropping one can only turn an allow into a deny. */
	if (c->n >= LOCAL_MAX)
		return;
	sw_found *f = &c->out[c->n++];
	snprintf(f->digest, sizeof f->digest, "%s", digest);
	snprintf(f->source, sizeof f->source, "%s", c->source);
	snprintf(f->kind, sizeof f->kind, "%s", kind);
}

/* ---- JSON (yajl tree) helpers ---- */

/* Member of an object, matched as Go's encoding/json matches a field
 * (containerd decodes these documents with it): case-insensitively with
 * Unicode folding (json.h's sw_json_go_key_eq; ASCII strcasecmp would miss
 * "\u017f" for 's' and "\u212a" for 'k', and so a field containerd reads). Two
 * matches are refused rather than guessing which one containerd used.
 * 1 found, 0 absent, <0 duplicate. */
static int jget(yajl_val obj, const char *key, yajl_val *out)
{
	char field[32];
	size_t fl = strlen(key);
	if (fl >= sizeof field)
		return 0;
	for (size_t i = 0; i <= fl; i++)
		field[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] - 'A' + 'a' : key[i]);
	int found = 0;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];
		if (sw_json_go_key_eq((const unsigned char *)k, strlen(k), field)) {
			if (found)
				return -1;
			*out = obj->u.object.values[i];
			found = 1;
		}
	}
	return found;
}

static int jstring(yajl_val obj, const char *key, const char **out, const char *what, sw_error *err)
{
	yajl_val v = NULL;
	int r = jget(obj, key, &v);
	if (r < 0)
		return sw_err(err, SW_EINVAL, "%s: \"%s\" appears twice", what, key);
	if (r == 0 || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_STRING(v))
		return sw_err(err, SW_EINVAL, "%s: \"%s\" is not a string", what, key);
	*out = v->u.string;
	return 1;
}

static int jobject(yajl_val obj, const char *key, yajl_val *out, const char *what, sw_error *err)
{
	yajl_val v = NULL;
	int r = jget(obj, key, &v);
	if (r < 0)
		return sw_err(err, SW_EINVAL, "%s: \"%s\" appears twice", what, key);
	if (r == 0 || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_OBJECT(v))
		return sw_err(err, SW_EINVAL, "%s: \"%s\" is not an object", what, key);
	*out = v;
	return 1;
}

static int jarray(yajl_val obj, const char *key, yajl_val *out, const char *what, sw_error *err)
{
	yajl_val v = NULL;
	int r = jget(obj, key, &v);
	if (r < 0)
		return sw_err(err, SW_EINVAL, "%s: \"%s\" appears twice", what, key);
	if (r == 0 || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return sw_err(err, SW_EINVAL, "%s: \"%s\" is not an array", what, key);
	*out = v;
	return 1;
}

static int json_parse(const char *buf, size_t len, const char *what, yajl_val *out, sw_error *err)
{
	if (len > SW_CONTAINERD_JSON_MAX)
		return sw_err(err, SW_ETOOBIG, "%s: %zu bytes, more than the limit of %u",
			      what, len, SW_CONTAINERD_JSON_MAX);
	yajl_val v;
	int r = sw_json_tree(buf, len, what, &v, err);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		return sw_err(err, SW_EINVAL, "%s: not a JSON object", what);
	}
	*out = v;
	return 0;
}

static int digest_field(yajl_val obj, const char *key, char out[SW_DIGEST_STR], const char *what, sw_error *err)
{
	const char *s = NULL;
	int r = jstring(obj, key, &s, what, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, SW_EINVAL, "%s: no \"%s\"", what, key);
	if (strncmp(s, "sha256:", 7) != 0 || sw_digest_normalize(s, strlen(s), out) < 0)
		return sw_err(err, SW_EINVAL, "%s: \"%s\" is not a sha256 digest", what, key);
	return 0;
}

/* ---- content store ---- */

/* Read a blob, check that it hashes to its digest, parse it. 1 with *out, 0 when
 * the blob is absent (only an index's other platforms may be), <0 on error. */
static int read_blob(rctx *c, const char *digest, yajl_val *out, sw_error *err)
{
	char what[SW_ERROR_MAX];
	snprintf(what, sizeof what, "%s/%s/%s", c->root, SW_CONTAINERD_CONTENT, digest + 7);
	if (c->content_fd < 0) {
		int fd = c->rootfd;
		static const char *const dirs[] = { "io.containerd.content.v1.content", "blobs", "sha256" };
		for (size_t i = 0; i < SW_ARRAY_SIZE(dirs); i++) {
			int nfd = openat(fd, dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			int e = errno;
			if (fd != c->rootfd)
				close(fd);
			if (nfd < 0)
				return sw_err_errno(err, e, "%s/%s: cannot open the content store", c->root,
						    SW_CONTAINERD_CONTENT);
			fd = nfd;
		}
		c->content_fd = fd;
	}
	if (c->best_effort && c->blobs >= SW_CONTAINERD_MAX_BLOBS / 2)
		return 0;
	if (++c->blobs > SW_CONTAINERD_MAX_BLOBS)
		return sw_err(err, SW_ETOOBIG, "%s: more than %d blobs needed to resolve container %s",
			      c->root, SW_CONTAINERD_MAX_BLOBS, c->id);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	sw_error e = { 0 };
	if (sw_read_file_at(c->content_fd, digest + 7, SW_CONTAINERD_JSON_MAX, what, &buf, &len, &e) < 0) {
		if (e.code == ENOENT)
			return 0;
		if (err)
			*err = e;
		return -e.code;
	}
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(buf, len, hex);
	/* The store is content-addressed: a blob that does not hash to its name was
	 * altered after it was pulled, and nothing in it can be trusted. */
	if (strcmp(hex, digest + 7) != 0)
		return sw_err(err, SW_EVERIFY, "%s: content does not match its digest (sha256 is %s)", what, hex);
	int r = json_parse(buf, len, what, out, err);
	return r < 0 ? r : 1;
}

static int need_blob(rctx *c, const char *digest, const char *role, yajl_val *out, sw_error *err)
{
	int r = read_blob(c, digest, out, err);
	if (r == 0)
		return sw_err(err, SW_ENOTFOUND, "%s/%s/%s: %s blob is missing", c->root,
			      SW_CONTAINERD_CONTENT, digest + 7, role);
	return r < 0 ? r : 0;
}

/* Layer chain id of an image config: chain(0) = diff_id(0), chain(n) =
 * sha256(chain(n-1) + " " + diff_id(n)). "" for an image without layers. */
static int config_chain(rctx *c, const char *config, char chain[SW_DIGEST_STR], sw_error *err)
{
	_cleanup_yajl_ yajl_val doc = NULL;
	int r = need_blob(c, config, "image config", &doc, err);
	if (r < 0)
		return r;
	char what[SW_ERROR_MAX];
	snprintf(what, sizeof what, "image config %s", config);
	yajl_val rootfs = NULL, ids = NULL;
	if ((r = jobject(doc, "rootfs", &rootfs, what, err)) < 0)
		return r;
	if (r == 0)
		return sw_err(err, SW_EINVAL, "%s: no \"rootfs\"", what);
	const char *type = NULL;
	if ((r = jstring(rootfs, "type", &type, what, err)) < 0)
		return r;
	if (r == 0 || strcmp(type, "layers") != 0)
		return sw_err(err, SW_EINVAL, "%s: rootfs type is not \"layers\"", what);
	if ((r = jarray(rootfs, "diff_ids", &ids, what, err)) < 0)
		return r;
	size_t n = ids ? ids->u.array.len : 0;
	if (n > MAX_LAYERS)
		return sw_err(err, SW_ETOOBIG, "%s: %zu layers, more than %d", what, n, MAX_LAYERS);
	chain[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		yajl_val d = ids->u.array.values[i];
		char diff[SW_DIGEST_STR];
		if (!YAJL_IS_STRING(d) || strncmp(d->u.string, "sha256:", 7) != 0 ||
		    sw_digest_normalize(d->u.string, strlen(d->u.string), diff) < 0)
			return sw_err(err, SW_EINVAL, "%s: diff_ids[%zu] is not a sha256 digest", what, i);
		sw_chain_next(chain, diff);
	}
	return 0;
}

static int manifest_config(rctx *c, const char *manifest, char config[SW_DIGEST_STR], sw_error *err)
{
	_cleanup_yajl_ yajl_val doc = NULL;
	int r = need_blob(c, manifest, "manifest", &doc, err);
	if (r < 0)
		return r;
	char what[SW_ERROR_MAX];
	snprintf(what, sizeof what, "manifest %s", manifest);
	yajl_val cfg = NULL;
	if ((r = jobject(doc, "config", &cfg, what, err)) < 0)
		return r;
	if (r == 0)
		return sw_err(err, SW_EINVAL, "%s: no \"config\" (not an image manifest)", what);
	return digest_field(cfg, "digest", config, what, err);
}

typedef struct match {
	char manifest[SW_DIGEST_STR];
	char config[SW_DIGEST_STR];
} match;

typedef struct matches {
	match m[8];
	size_t n;
	bool differ;            /* matches with different configs (some may not fit in m) */
} matches;

/* Manifests reachable from an index (nested indexes followed) whose config
 * satisfies want: chain == parent when want_chain, config == want_config otherwise.
 * Manifests of other platforms are often absent from the store and skipped. */
static int index_matches(rctx *c, const char *index, int depth, bool optional, const char *want_chain,
			 const char *want_config, matches *out, sw_error *err)
{
	if (depth >= MAX_INDEX_DEPTH)
		return sw_err(err, SW_EINVAL, "index %s: nested deeper than %d", index, MAX_INDEX_DEPTH);
	_cleanup_yajl_ yajl_val doc = NULL;
	int r = optional ? read_blob(c, index, &doc, err) : need_blob(c, index, "index", &doc, err);
	if (r < 0 || (optional && r == 0))
		return r;
	char what[SW_ERROR_MAX];
	snprintf(what, sizeof what, "index %s", index);
	yajl_val list = NULL;
	if ((r = jarray(doc, "manifests", &list, what, err)) < 0)
		return r;
	if (r == 0)
		return sw_err(err, SW_EINVAL, "%s: no \"manifests\"", what);
	if (list->u.array.len > MAX_INDEX_CHILDREN)
		return sw_err(err, SW_ETOOBIG, "%s: more than %d manifests", what, MAX_INDEX_CHILDREN);
	for (size_t i = 0; i < list->u.array.len; i++) {
		yajl_val d = list->u.array.values[i];
		if (!YAJL_IS_OBJECT(d))
			return sw_err(err, SW_EINVAL, "%s: manifests[%zu] is not an object", what, i);
		char dg[SW_DIGEST_STR];
		const char *mt = NULL;
		if ((r = digest_field(d, "digest", dg, what, err)) < 0)
			return r;
		if ((r = jstring(d, "mediaType", &mt, what, err)) < 0)
			return r;
		int kind = r ? media_kind(mt) : MT_UNKNOWN;
		if (kind == MT_INDEX) {
			r = index_matches(c, dg, depth + 1, true, want_chain, want_config, out, err);
			if (r < 0)
				return r;
			continue;
		}
		if (kind != MT_MANIFEST)
			continue;   /* attestations, artifacts: not runnable images */
		_cleanup_yajl_ yajl_val man = NULL;
		r = read_blob(c, dg, &man, err);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		yajl_val cfg = NULL;
		char mwhat[SW_ERROR_MAX / 2];
		snprintf(mwhat, sizeof mwhat, "manifest %s", dg);
		char config[SW_DIGEST_STR];
		if ((r = jobject(man, "config", &cfg, mwhat, err)) < 0)
			return r;
		if (r == 0)
			return sw_err(err, SW_EINVAL, "%s: no \"config\"", mwhat);
		if ((r = digest_field(cfg, "digest", config, mwhat, err)) < 0)
			return r;
		bool ok;
		if (want_chain) {
			char chain[SW_DIGEST_STR];
			if ((r = config_chain(c, config, chain, err)) < 0)
				return r;
			ok = strcmp(chain, want_chain) == 0;
		} else {
			ok = !want_config || strcmp(config, want_config) == 0;
		}
		if (!ok)
			continue;
		if (out->n && strcmp(out->m[0].config, config) != 0)
			out->differ = true;
		if (out->n < SW_ARRAY_SIZE(out->m)) {
			snprintf(out->m[out->n].manifest, SW_DIGEST_STR, "%s", dg);
			snprintf(out->m[out->n].config, SW_DIGEST_STR, "%s", config);
			out->n++;
		}
	}
	return 0;
}

/* ---- reading containerd's records ---- */

static int getv(sw_bolt *db, const char *const *path, size_t n, const char *key, char **val, size_t *len, sw_error *err)
{
	*val = NULL;
	*len = 0;
	return sw_bolt_get(db, path, n, key, val, len, err);
}

/* A value that must be a short printable string (names, keys, digests). One
 * that is not is an error, or with `lenient` (records scanned, not named by the
 * container) absent: 0. */
static int get_str_mode(rctx *c, sw_bolt *db, const char *const *path, size_t n, const char *key, bool lenient,
			char **out, sw_error *err)
{
	size_t len;
	int r = getv(db, path, n, key, out, &len, err);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)(*out)[i] < 0x20 || (*out)[i] == 0x7f) {
			free(*out);
			*out = NULL;
			if (lenient)
				return 0;
			char where[512];
			sw_bolt_path_string(path, n, key, where, sizeof where);
			return sw_err(err, SW_EINVAL, "%s: %s: control character in value", c->what, where);
		}
	}
	return 1;
}

static int get_str(rctx *c, sw_bolt *db, const char *const *path, size_t n, const char *key,
		   char **out, sw_error *err)
{
	return get_str_mode(c, db, path, n, key, false, out, err);
}

/* Decode the protobuf Any containerd stores for an extension (gogo types.Any:
 * field 1 type_url, field 2 value, both length-delimited). */
static int parse_any(const unsigned char *p, size_t n, const unsigned char **url, size_t *ulen,
		     const unsigned char **val, size_t *vlen)
{
	bool have_url = false, have_val = false;
	size_t i = 0;
	while (i < n) {
		unsigned tag = p[i++];
		if (tag != 0x0a && tag != 0x12)
			return -1;
		uint64_t len = 0;
		int shift = 0;
		for (;;) {
			if (i >= n || shift > 35)
				return -1;
			unsigned char b = p[i++];
			len |= (uint64_t)(b & 0x7f) << shift;
			shift += 7;
			if (!(b & 0x80))
				break;
		}
		if (len > n - i)
			return -1;
		if (tag == 0x0a) {
			if (have_url)
				return -1;
			have_url = true;
			*url = p + i;
			*ulen = (size_t)len;
		} else {
			if (have_val)
				return -1;
			have_val = true;
			*val = p + i;
			*vlen = (size_t)len;
		}
		i += (size_t)len;
	}
	return have_url && have_val ? 0 : -1;
}

/* The CRI plugin's metadata extension: Any{type_url, JSON of
 * {"Version":"v1","Metadata":{...}}}. Returns the Metadata object inside *doc. */
static int cri_metadata(rctx *c, const char *ext, size_t len, const char *want_url,
			yajl_val *doc, yajl_val *meta, sw_error *err)
{
	char what[SW_ERROR_MAX];
	snprintf(what, sizeof what, "%s: container %s: CRI metadata", c->what, c->id);
	const unsigned char *url = NULL, *val = NULL;
	size_t ulen = 0, vlen = 0;
	if (parse_any((const unsigned char *)ext, len, &url, &ulen, &val, &vlen) < 0)
		return sw_err(err, SW_EINVAL, "%s: not a protobuf Any", what);
	if (ulen != strlen(want_url) || memcmp(url, want_url, ulen) != 0)
		return sw_err(err, SW_EINVAL, "%s: unexpected type \"%.*s\"", what, (int)(ulen > 100 ? 100 : ulen), url);
	/* All vlen bytes: the scan in json_parse reads that many, and refuses a NUL
	 * among them (yajl_tree would judge the document by its prefix). */
	_cleanup_free_ char *json = sw_memdup0(val, vlen);
	if (!json)
		return sw_err_errno(err, ENOMEM, "%s", what);
	int r = json_parse(json, vlen, what, doc, err);
	if (r < 0)
		return r;
	const char *version = NULL, *id = NULL;
	if ((r = jstring(*doc, "Version", &version, what, err)) < 0)
		return r;
	/* containerd refuses any other version too ("unsupported version"). */
	if (r == 0 || strcmp(version, "v1") != 0)
		return sw_err(err, SW_EINVAL, "%s: unsupported version", what);
	if ((r = jobject(*doc, "Metadata", meta, what, err)) < 0)
		return r;
	if (r == 0)
		return sw_err(err, SW_EINVAL, "%s: no \"Metadata\"", what);
	if ((r = jstring(*meta, "ID", &id, what, err)) < 0)
		return r;
	if (r == 0 || strcmp(id, c->id) != 0)
		return sw_err(err, SW_EINVAL, "%s: records another container's id", what);
	return 0;
}

static const char *kind_name(int kind)
{
	return kind == MT_INDEX ? "index" : "manifest";
}

/* Target of an image record: 1 with t, 0 when there is no such record. Not
 * strict (scanning other records): a record we cannot use counts as absent. */
static int image_target(rctx *c, sw_bolt *db, const char *name, bool strict, target *t, sw_error *err)
{
	const char *path[] = { "v1", c->ns, "images", name, "target" };
	_cleanup_free_ char *dg = NULL, *mt = NULL;
	int r = get_str_mode(c, db, path, SW_ARRAY_SIZE(path), "digest", !strict, &dg, err);
	if (r <= 0)
		return r;
	if ((r = get_str_mode(c, db, path, SW_ARRAY_SIZE(path), "mediatype", !strict, &mt, err)) < 0)
		return r;
	t->kind = r ? media_kind(mt) : MT_UNKNOWN;
	bool bad_digest = strncmp(dg, "sha256:", 7) != 0 || sw_digest_normalize(dg, strlen(dg), t->digest) < 0;
	if (!strict && (bad_digest || t->kind == MT_UNKNOWN))
		return 0;
	if (bad_digest)
		return sw_err(err, SW_EINVAL, "%s: image %s: target digest is not a sha256 digest", c->what, name);
	if (t->kind == MT_UNKNOWN)
		return sw_err(err, SW_EINVAL, "%s: image %s: unsupported target media type \"%.100s\"",
			      c->what, name, r ? mt : "");
	return 1;
}

/* The manifest digests under a target whose config is c->image_id (CRI scan). */
static int cri_target_blobs(rctx *c, const target *t, sw_error *err)
{
	for (size_t i = 0; i < c->n_seen; i++)
		if (strcmp(c->seen[i], t->digest) == 0)
			return 0;
	if (c->n_seen >= SW_ARRAY_SIZE(c->seen))
		return 1;   /* bound reached: the image id is still reported */
	snprintf(c->seen[c->n_seen++], SW_DIGEST_STR, "%s", t->digest);
	if (t->kind == MT_MANIFEST) {
		char config[SW_DIGEST_STR];
		_cleanup_yajl_ yajl_val doc = NULL;
		int r = read_blob(c, t->digest, &doc, err);
		if (r <= 0)
			return r;   /* a record whose manifest is gone says nothing about ours */
		yajl_val cfg = NULL;
		char what[SW_ERROR_MAX];
		snprintf(what, sizeof what, "manifest %s", t->digest);
		if ((r = jobject(doc, "config", &cfg, what, err)) < 0)
			return r;
		if (r == 0)
			return 0;
		if ((r = digest_field(cfg, "digest", config, what, err)) < 0)
			return r;
		if (strcmp(config, c->image_id) == 0)
			add_found(c, t->digest, "manifest");
		return 0;
	}
	matches m = { 0 };
	int r = index_matches(c, t->digest, 0, true, NULL, c->image_id, &m, err);
	if (r < 0)
		return r;
	if (m.n) {
		add_found(c, t->digest, "index");
		for (size_t i = 0; i < m.n; i++)
			add_found(c, m.m[i].manifest, "manifest");
	}
	return 0;
}

/*
 * The scan reads the blobs of every image record of the namespace, and on a
 * Kubernetes node any pod's image is one of them (kubelet pulls before a start
 * is judged). A record whose blobs sigward cannot read (JSON that containerd's
 * Go decoder takes and sigward refuses, a digest of another algorithm in an
 * index, a blob gone or altered) says nothing about this container: it adds no
 * digest. An error here would let one pulled image deny every CRI start of the
 * namespace. Dropping a record can only drop digests, never add one: the image
 * id was bound to the container's snapshot before the scan.
 */
static int cri_target(rctx *c, const target *t, sw_error *err)
{
	sw_error ignored = { 0 };
	size_t n = c->n;
	(void)err;
	if (cri_target_blobs(c, t, &ignored) < 0)
		c->n = n;   /* nothing half-added from that record */
	return 0;
}

typedef struct scan {
	rctx *c;
	sw_bolt *db;
} scan;

static int scan_image(const char *key, size_t klen, const char *value, size_t vlen,
		      bool is_bucket, void *ctx, sw_error *err)
{
	scan *s = ctx;
	rctx *c = s->c;
	/* A key with a NUL byte is no name containerd gives a record, and as a C
	 * string it would name another record. */
	if (!is_bucket || strlen(key) != klen)
		return 0;
	if (++c->n_images > SW_CONTAINERD_MAX_IMAGES)
		return 1;
	target t;
	int r = image_target(c, s->db, key, false, &t, err);
	if (r < 0)
		return r;
	if (r == 0)
		return 0;
	r = cri_target(c, &t, err);
	return r < 0 ? r : 0;
}

/* Chain of custody: the container's root filesystem snapshot was prepared on top
 * of the image's top layer, whose snapshot is named by the layer chain id. */
static int snapshot_parent(rctx *c, sw_bolt *db, const char *const *cpath, size_t cn,
			   char parent[SW_DIGEST_STR], sw_error *err)
{
	_cleanup_free_ char *snapshotter = NULL, *key = NULL, *p = NULL;
	int r;
	if ((r = get_str(c, db, cpath, cn, "snapshotter", &snapshotter, err)) < 0)
		return r;
	if (r == 0 || !*snapshotter || (r = get_str(c, db, cpath, cn, "snapshotKey", &key, err)) <= 0 || !*key) {
		if (r < 0)
			return r;
		return sw_err(err, SW_EVERIFY, "%s: container %s has no snapshot: its root filesystem "
			      "is not tied to an image", c->what, c->id);
	}
	const char *spath[] = { "v1", c->ns, "snapshots", snapshotter, key };
	if ((r = sw_bolt_has_bucket(db, spath, SW_ARRAY_SIZE(spath), err)) < 0)
		return r;
	if (r == 0)
		return sw_err(err, SW_EVERIFY, "%s: container %s: snapshot %s/%s does not exist",
			      c->what, c->id, snapshotter, key);
	if ((r = get_str(c, db, spath, SW_ARRAY_SIZE(spath), "parent", &p, err)) < 0)
		return r;
	parent[0] = '\0';
	if (r == 1 && (strncmp(p, "sha256:", 7) != 0 || sw_digest_normalize(p, strlen(p), parent) < 0))
		return sw_err(err, SW_EVERIFY, "%s: container %s: snapshot parent \"%.80s\" is not a layer chain id",
			      c->what, c->id, p);
	return 0;
}

static int custody_error(rctx *c, const char *image, const char *parent, sw_error *err)
{
	return sw_err(err, SW_EVERIFY, "%s: container %s: image %s does not match its root filesystem "
		      "(snapshot parent %s); the image was changed after the container was created",
		      c->what, c->id, image, *parent ? parent : "(none)");
}

/* ctr/nerdctl containers and CRI sandboxes: the recorded image name. */
static int resolve_by_name(rctx *c, sw_bolt *db, const char *name, const char *parent, sw_error *err)
{
	target t;
	int r = image_target(c, db, name, true, &t, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, SW_ENOTFOUND, "%s: container %s: image %s is no longer in the store",
			      c->what, c->id, name);
	if (t.kind == MT_MANIFEST) {
		char config[SW_DIGEST_STR], chain[SW_DIGEST_STR];
		if ((r = manifest_config(c, t.digest, config, err)) < 0 ||
		    (r = config_chain(c, config, chain, err)) < 0)
			return r;
		if (strcmp(chain, parent) != 0)
			return custody_error(c, name, parent, err);
		add_found(c, t.digest, "manifest");
		add_found(c, config, "image-id");
		return 0;
	}
	matches m = { 0 };
	if ((r = index_matches(c, t.digest, 0, false, parent, NULL, &m, err)) < 0)
		return r;
	if (m.n == 0)
		return custody_error(c, name, parent, err);
	/* Two platforms with the same layers but different configs: the rootfs
	 * cannot tell which config (entrypoint, user, env) the container got. */
	if (m.differ)
		return sw_err(err, SW_ECONFLICT, "%s: container %s: index %s holds several images "
				      "with its root filesystem; cannot tell which one it runs",
				      c->what, c->id, t.digest);
	add_found(c, t.digest, kind_name(t.kind));
	for (size_t i = 0; i < m.n; i++)
		add_found(c, m.m[i].manifest, "manifest");
	add_found(c, m.m[0].config, "image-id");
	return 0;
}

/* Start from scratch: a view's function may run again after a concurrent commit. */
static void attempt_reset(rctx *c)
{
	c->found = false;
	c->n = 0;
	c->blobs = 0;
	c->best_effort = false;
	c->n_seen = 0;
	c->n_images = 0;
	c->partial = false;
	c->reference[0] = '\0';
	c->image_id[0] = '\0';
}

static int resolve_view(sw_bolt *db, void *ctx, sw_error *err)
{
	rctx *c = ctx;
	attempt_reset(c);

	const char *cpath[] = { "v1", c->ns, "containers", c->id };
	const size_t cn = SW_ARRAY_SIZE(cpath);
	int r = sw_bolt_has_bucket(db, cpath, cn, err);
	if (r <= 0)
		return r;
	c->found = true;

	const char *epath[] = { "v1", c->ns, "containers", c->id, "extensions" };
	_cleanup_free_ char *cext = NULL, *sext = NULL, *image = NULL;
	size_t clen = 0, slen = 0;
	if ((r = getv(db, epath, SW_ARRAY_SIZE(epath), CRI_CONTAINER_EXT, &cext, &clen, err)) < 0)
		return r;
	if ((r = getv(db, epath, SW_ARRAY_SIZE(epath), CRI_SANDBOX_EXT, &sext, &slen, err)) < 0)
		return r;
	if (cext && sext)
		return sw_err(err, SW_EINVAL, "%s: container %s is both a CRI container and a sandbox", c->what, c->id);
	if ((r = get_str(c, db, cpath, cn, "image", &image, err)) < 0)
		return r;

	/* Docker's containers (namespace moby) and `ctr run --rootfs` record no image:
	 * containerd makes no claim about them, so this source says nothing and the
	 * other sources decide (with none, the start is denied for want of a digest). */
	if (!cext && !sext && (!image || !*image)) {
		c->found = false;
		return 0;
	}

	char parent[SW_DIGEST_STR];
	if ((r = snapshot_parent(c, db, cpath, cn, parent, err)) < 0)
		return r;

	if (cext) {
		snprintf(c->source, sizeof c->source, "containerd-cri");
		_cleanup_yajl_ yajl_val doc = NULL;
		yajl_val meta = NULL;
		if ((r = cri_metadata(c, cext, clen, CRI_CONTAINER_URL, &doc, &meta, err)) < 0)
			return r;
		char what[SW_ERROR_MAX];
		snprintf(what, sizeof what, "%s: container %s: CRI metadata", c->what, c->id);
		if ((r = digest_field(meta, "ImageRef", c->image_id, what, err)) < 0)
			return r;
		/* The reference kubelet asked for, for the decision log only. */
		yajl_val cfg = NULL, img = NULL;
		const char *ref = NULL;
		if (jobject(meta, "Config", &cfg, what, NULL) > 0 && jobject(cfg, "image", &img, what, NULL) > 0 &&
		    jstring(img, "image", &ref, what, NULL) > 0)
			snprintf(c->reference, sizeof c->reference, "%s", ref);
		char chain[SW_DIGEST_STR];
		if ((r = config_chain(c, c->image_id, chain, err)) < 0)
			return r;
		if (strcmp(chain, parent) != 0)
			return custody_error(c, c->image_id, parent, err);
		add_found(c, c->image_id, "image-id");
		/* The CRI plugin names a record after the image id itself; look at it
		 * first so the bounds below never hide it, then at every other record. */
		target t;
		c->best_effort = true;
		if ((r = image_target(c, db, c->image_id, false, &t, err)) < 0)
			return r;
		if (r == 1 && (r = cri_target(c, &t, err)) < 0)
			return r;
		/* The scan below reads every image record of the namespace and its
		 * blobs: its cost followed the node's image count (issue 17). When the
		 * image id's own record already gave manifest digests (kubelet pulls
		 * through the CRI plugin, which always writes it), they are the
		 * answer: a subset of the scan's, and a start is allowed when any
		 * digest is listed, so an allow on it is the scan's allow. A start it
		 * does not allow is resolved again with the scan (r->partial,
		 * enforce.c), so no listed digest is ever missed. */
		if (!c->exhaustive && c->n > 1) {
			c->partial = true;
			return 0;
		}
		const char *ipath[] = { "v1", c->ns, "images" };
		scan s = { .c = c, .db = db };
		r = sw_bolt_foreach(db, ipath, SW_ARRAY_SIZE(ipath), scan_image, &s, err);
		return r < 0 ? r : 0;
	}

	snprintf(c->source, sizeof c->source, "%s", sext ? "containerd-cri" : "containerd");
	if (sext) {
		_cleanup_yajl_ yajl_val doc = NULL;
		yajl_val meta = NULL;
		if ((r = cri_metadata(c, sext, slen, CRI_SANDBOX_URL, &doc, &meta, err)) < 0)
			return r;
	}
	if (!image || !*image)
		return sw_err(err, SW_ENOTFOUND, "%s: sandbox %s records no image", c->what, c->id);
	snprintf(c->reference, sizeof c->reference, "%s", image);
	return resolve_by_name(c, db, image, parent, err);
}

/* An image record by name: its target, and below it the manifests present in
 * the store and their configs. No container, so no chain of custody. */
static int image_view(sw_bolt *db, void *ctx, sw_error *err)
{
	rctx *c = ctx;
	attempt_reset(c);
	target t;
	int r = image_target(c, db, c->id, true, &t, err);
	if (r <= 0)
		return r;
	c->found = true;
	add_found(c, t.digest, kind_name(t.kind));
	if (t.kind == MT_MANIFEST) {
		char config[SW_DIGEST_STR];
		if ((r = manifest_config(c, t.digest, config, err)) < 0)
			return r;
		add_found(c, config, "image-id");
		return 0;
	}
	matches m = { 0 };
	if ((r = index_matches(c, t.digest, 0, false, NULL, NULL, &m, err)) < 0)
		return r;
	for (size_t i = 0; i < m.n; i++) {
		add_found(c, m.m[i].manifest, "manifest");
		add_found(c, m.m[i].config, "image-id");
	}
	return 0;
}

static int run_view(const char *containerd_root, const char *ns, const char *id, sw_bolt_view_fn fn,
		    const char *source, sw_resolution *r, sw_error *err);

int sw_containerd_image(const char *containerd_root, const char *ns, const char *name, sw_resolution *r,
			sw_error *err)
{
	if (!*name || strlen(name) > 1024)
		return sw_err(err, SW_EINVAL, "image name \"%.80s\" is not a containerd image name", name);
	return run_view(containerd_root, ns, name, image_view, "containerd", r, err);
}

int sw_containerd_resolve(const char *containerd_root, const char *ns, const char *container_id,
			  sw_resolution *r, sw_error *err)
{
	/* run_view reads r->exhaustive and sets r->partial. */
	if (!*container_id || strlen(container_id) > 1024 || strchr(container_id, '/'))
		return sw_err(err, SW_EINVAL, "container id \"%.80s\" is not a containerd id", container_id);
	return run_view(containerd_root, ns, container_id, resolve_view, NULL, r, err);
}

static int run_view(const char *containerd_root, const char *ns, const char *id, sw_bolt_view_fn fn,
		    const char *source, sw_resolution *r, sw_error *err)
{
	if (!ns_valid(ns, strlen(ns)))
		return sw_err(err, SW_EINVAL, "containerd namespace \"%.80s\" is not a valid identifier", ns);
	_cleanup_close_ int rootfd = open(containerd_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		if (errno == ENOENT)
			return 0;
		return sw_err_errno(err, errno, "%s: cannot open containerd's root", containerd_root);
	}
	sw_resolution_looked(r, "containerd");
	rctx *c = calloc(1, sizeof *c);
	if (!c)
		return sw_err_errno(err, ENOMEM, "%s", containerd_root);
	c->root = containerd_root;
	c->ns = ns;
	c->id = id;
	if (source)
		snprintf(c->source, sizeof c->source, "%s", source);
	c->rootfd = rootfd;
	c->content_fd = -1;
	c->exhaustive = r->exhaustive;
	snprintf(c->what, sizeof c->what, "%s/%s", containerd_root, SW_CONTAINERD_META);

	int ret;
	_cleanup_close_ int metafd = openat(rootfd, "io.containerd.metadata.v1.bolt",
					    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (metafd < 0) {
		ret = errno == ENOENT ? 0 : sw_err_errno(err, errno, "%s: cannot open", c->what);
		goto out;
	}
	{
		_cleanup_bolt_ sw_bolt *db = NULL;
		sw_error e = { 0 };
		if (sw_bolt_open_at(metafd, "meta.db", c->what, &db, &e) < 0) {
			if (e.code == ENOENT) {
				ret = 0;
			} else {
				if (err)
					*err = e;
				ret = -e.code;
			}
			goto out;
		}
		ret = sw_bolt_view(db, fn, c, err);
		if (ret < 0)
			goto out;
	}
	if (!c->found) {
		ret = 0;
		goto out;
	}
	/* Only a complete, consistent answer reaches the resolution. */
	for (size_t i = 0; i < c->n; i++) {
		ret = sw_resolution_add(r, c->out[i].digest, c->out[i].source, c->out[i].kind, err);
		if (ret < 0)
			goto out;
	}
	if (!r->reference[0] && c->reference[0])
		snprintf(r->reference, sizeof r->reference, "%s", c->reference);
	if (c->partial)
		r->partial = true;
	ret = 1;
out:
	if (c->content_fd >= 0)
		close(c->content_fd);
	free(c);
	return ret;
}

/* ---- the task bundles (sw_containerd_tasks) ---- */

#define TASKS_DIR "io.containerd.runtime.v2.task"

/* A directory of dirfd, for readdir (dirfd itself stays open). */
static DIR *dir_of(int dirfd, const char *what, sw_error *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		(void)sw_err_errno(err, errno, "%s: cannot open directory", what);
		return NULL;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		(void)sw_err_errno(err, e, "%s: cannot read directory", what);
	}
	return d;
}

/* One task <ns>/<id>: is its init process alive? 0, or <0 when init.pid is
 * there but cannot be read. */
static int task_alive(int nsfd, const char *ns_path, const char *id, bool *alive, sw_error *err)
{
	char tdir[PATH_MAX + 256], what[PATH_MAX + 300];
	sw_msgpath(tdir, sizeof tdir, "%s/%s", ns_path, id);
	_cleanup_close_ int tfd = -1;
	int r = sw_open_subdir(nsfd, id, tdir, &tfd, err);
	if (r <= 0)
		return r < 0 ? r : sw_err(err, ENOENT, "%s: removed while listing", tdir);
	sw_msgpath(what, sizeof what, "%s/init.pid", tdir);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	sw_error e = { 0 };
	r = sw_read_file_at(tfd, "init.pid", 64, what, &text, &len, &e);
	if (r < 0 && e.code == ENOENT)
		return 0;     /* created, not started */
	if (r < 0) {
		if (err)
			*err = e;
		return r;
	}
	uint64_t pid = 0;
	if (sw_parse_u64(text, strcspn(text, "\n"), &pid) < 0 || pid == 0 || pid >= INT32_MAX)
		return sw_err(err, SW_EINVAL, "%s: not a process id", what);
	*alive = kill((pid_t)pid, 0) == 0 || errno == EPERM;
	return 0;
}

static int tasks_of(int tasksfd, const char *tasks_path, const char *ns, sw_containerd_task_fn fn, void *ctx)
{
	char ns_path[PATH_MAX + 128];
	sw_msgpath(ns_path, sizeof ns_path, "%s/%s", tasks_path, ns);
	sw_error e = { 0 };
	sw_containerd_task t = { .ns = ns, .id = "", .bundle = ns_path };
	/* containerd makes a directory per namespace it runs tasks in, named by
	 * the namespace: anything else there is not what containerd wrote. */
	if (!ns_valid(ns, strlen(ns))) {
		(void)sw_err(&e, SW_EINVAL, "%s: not a containerd namespace", ns_path);
		t.error = e.msg;
		return fn(&t, ctx);
	}
	_cleanup_close_ int nsfd = -1;
	int r = sw_open_subdir(tasksfd, ns, ns_path, &nsfd, &e);
	if (r == 0)
		return 0;
	DIR *d = r > 0 ? dir_of(nsfd, ns_path, &e) : NULL;
	if (!d) {
		t.error = e.msg;
		return fn(&t, ctx);
	}
	int ret = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno) {
				(void)sw_err_errno(&e, errno, "%s: cannot read directory", ns_path);
				t = (sw_containerd_task){ .ns = ns, .id = "", .bundle = ns_path, .error = e.msg };
				ret = fn(&t, ctx);
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char bundle[PATH_MAX + 256];
		sw_msgpath(bundle, sizeof bundle, "%s/%s", ns_path, de->d_name);
		t = (sw_containerd_task){ .ns = ns, .id = de->d_name, .bundle = bundle };
		e = (sw_error){ 0 };
		if (task_alive(nsfd, ns_path, de->d_name, &t.alive, &e) < 0)
			t.error = e.msg;
		ret = fn(&t, ctx);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

int sw_containerd_tasks(const char *state_dir, sw_containerd_task_fn fn, void *ctx, sw_error *err)
{
	if (!state_dir || !*state_dir)
		return sw_err(err, SW_EINVAL, "containerd: no state directory configured");
	/* The state directory itself may be a link: it is configuration. */
	_cleanup_close_ int sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return errno == ENOENT ? 0 : sw_err_errno(err, errno, "%s: cannot open containerd state directory", state_dir);
	char tasks_path[PATH_MAX + 64];
	sw_msgpath(tasks_path, sizeof tasks_path, "%s/%s", state_dir, TASKS_DIR);
	_cleanup_close_ int tfd = -1;
	int r = sw_open_subdir(sfd, TASKS_DIR, tasks_path, &tfd, err);
	if (r <= 0)
		return r;
	DIR *d = dir_of(tfd, tasks_path, err);
	if (!d)
		return -(err && err->code > 0 ? err->code : SW_EINVAL);
	int ret = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				ret = sw_err_errno(err, errno, "%s: cannot read directory", tasks_path);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ret = tasks_of(tfd, tasks_path, de->d_name, fn, ctx);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}
