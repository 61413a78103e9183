/* SPDX-License-Identifier: Apache-2.0 */
/* dockerstore: the Docker data root, read-only; see dockerstore.h and
 * docs/docker-store.md for the format facts relied on here. */
#include "dockerstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "cleanup.h"
#include "storeindex.h"
#include "util.h"

#define PATHBUF (PATH_MAX + 256)
/* yajl's event parser does not recurse, but nothing Docker writes nests deeper
 * than a dozen levels: SW_JSON_MAX_DEPTH keeps the walk's bookkeeping simple. */
/* layerdb/mounts/<id>/parent holds one "sha256:<hex>". */
#define PARENT_MAX 256
/* A storage driver name (overlay2, vfs, btrfs, zfs, fuse-overlayfs, ...). */
#define DRIVER_MAX 64
/* Repository names in messages and in r->reference. */
#define NAME_SHOW 120

typedef struct docker_image {
	char id[SW_DIGEST_STR];                            /* "sha256:<image id>" */
	char digests[SW_DOCKER_MAX_DIGESTS][SW_DIGEST_STR]; /* repository digests */
	size_t n;
	char reference[sizeof ((sw_resolution *)0)->reference];
	size_t members;                                    /* repositories mapping a reference to it */
} docker_image;

/* ---- small helpers ---- */

/* A string from a file, for a message: at most NAME_SHOW bytes, a NUL byte shown
 * as '?' (sw_err keeps the line itself on one line). */
static void show(const unsigned char *s, size_t len, char out[NAME_SHOW + 4])
{
	size_t n = len > NAME_SHOW ? NAME_SHOW : len;
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] ? (char)s[i] : '?';
	if (len > n) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* ---- files below the data root ---- */

/* The data root, following links (it is configuration): 1, 0 missing, <0. */
static int open_root(const char *root, int *out, sw_error *err)
{
	if (!root || !*root)
		return sw_err(err, SW_EINVAL, "docker: no data root configured");
	if (strlen(root) >= PATH_MAX)
		return sw_err(err, SW_EINVAL, "%.64s...: Docker data root path too long", root);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		*out = fd;
		return 1;
	}
	if (errno == ENOENT)
		return 0;
	return sw_err_errno(err, errno, "%s: cannot open Docker data root", root);
}

/* A path of directories ("a/b/c") below dirfd, each opened without following a
 * link; base names dirfd in messages. 1 opened, 0 a component is missing (*missing
 * then names it), <0 error. */
static int open_dirs(int dirfd, const char *base, const char *rel, int *out,
		     char missing[PATHBUF], sw_error *err)
{
	char buf[PATHBUF];
	if (strlen(rel) >= sizeof buf)
		return sw_err(err, SW_EINVAL, "%s/%.64s...: path too long", base, rel);
	memcpy(buf, rel, strlen(rel) + 1);

	_cleanup_close_ int cur = -1;
	int at = dirfd;
	size_t done = 0;     /* bytes of rel opened so far */
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		char what[PATHBUF];
		done = (size_t)(c - buf) + strlen(c);
		sw_msgpath(what, sizeof what, "%s/%.*s", base, (int)done, rel);
		int fd = -1;
		int r = sw_open_subdir(at, c, what, &fd, err);
		if (r < 0)
			return r;
		if (r == 0) {
			if (missing)
				sw_msgpath(missing, PATHBUF, "%s", what);
			return 0;
		}
		if (cur >= 0)
			close(cur);
		cur = fd;
		at = fd;
	}
	if (cur < 0)
		return sw_err(err, SW_EINVAL, "%s: empty path below it", base);
	*out = TAKE_FD(cur);
	return 1;
}

/* 1 read, 0 the file does not exist, <0 error. Regular files only, no links
 * (sw_read_file_at), bounded. */
static int read_optional(int dirfd, const char *name, size_t max, const char *what,
			 char **buf, size_t *len, sw_error *err)
{
	sw_error e = { 0 };
	int r = sw_read_file_at(dirfd, name, max, what, buf, len, &e);
	if (r >= 0)
		return 1;
	if (e.code == ENOENT)
		return 0;
	if (err)
		*err = e;
	return r;
}

/* ---- JSON: yajl's event parser ---- */

/*
 * The event parser rather than yajl_tree: every string comes with its length (a
 * NUL byte is seen, not cut), duplicate keys are seen as they come, nothing
 * recurses, and only what sigward needs is kept. yajl's defaults matter: no
 * comments, UTF-8 validated, no trailing garbage, one value.
 */

enum jtype { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_MAP, J_ARRAY };

static const char *jtype_name(enum jtype t)
{
	switch (t) {
	case J_NULL: return "null";
	case J_BOOL: return "a boolean";
	case J_NUMBER: return "a number";
	case J_STRING: return "a string";
	case J_MAP: return "an object";
	case J_ARRAY: return "an array";
	}
	return "?";
}

typedef struct jwalk jwalk;
struct jwalk {
	const char *what;         /* the file, for messages */
	sw_error *err;
	bool failed;
	unsigned depth;           /* containers open around the current event */
	/* A key of the object at `depth`; a value (a container's start included)
	 * at `depth`; the end of a container that sat at `depth`. Return 1 to go
	 * on, 0 after FAIL. */
	int (*key)(jwalk *w, const unsigned char *k, size_t len);
	int (*value)(jwalk *w, enum jtype t, const unsigned char *s, size_t len);
	int (*end)(jwalk *w);
	void *doc;
	yajl_handle h;            /* the parser, for offsets (storeindex spans) */
};

static int fail(jwalk *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(jwalk *w, int code, const char *fmt, ...)
{
	char msg[SW_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	w->failed = true;
	(void)sw_err(w->err, code, "%s: %s", w->what, msg);
	return 0;
}

static int cb_value(jwalk *w, enum jtype t, const unsigned char *s, size_t len)
{
	return w->value ? w->value(w, t, s, len) : 1;
}

static int cb_null(void *ctx) { return cb_value(ctx, J_NULL, NULL, 0); }
static int cb_bool(void *ctx, int v) { return cb_value(ctx, J_BOOL, v ? (const unsigned char *)"true" : NULL, v ? 4 : 0); }
/* Numbers as text: nothing here reads one, and none can overflow. */
static int cb_number(void *ctx, const char *s, size_t len) { (void)s; (void)len; return cb_value(ctx, J_NUMBER, NULL, 0); }
static int cb_string(void *ctx, const unsigned char *s, size_t len) { return cb_value(ctx, J_STRING, s, len); }

static int cb_open(jwalk *w, enum jtype t)
{
	if (!cb_value(w, t, NULL, 0))
		return 0;
	if (++w->depth > SW_JSON_MAX_DEPTH)
		return fail(w, SW_EINVAL, "nested deeper than %d levels", SW_JSON_MAX_DEPTH);
	return 1;
}

static int cb_start_map(void *ctx) { return cb_open(ctx, J_MAP); }
static int cb_start_array(void *ctx) { return cb_open(ctx, J_ARRAY); }

static int cb_end(void *ctx)
{
	jwalk *w = ctx;
	w->depth--;
	return w->end ? w->end(w) : 1;
}

static int cb_key(void *ctx, const unsigned char *k, size_t len)
{
	jwalk *w = ctx;
	return w->key ? w->key(w, k, len) : 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_bool,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

/* Walk a whole document. 0, or <0 with the walker's error or yajl's. */
static int jwalk_run(jwalk *w, const char *json, size_t len)
{
	return sw_json_events_h(&callbacks, w, &w->h, &w->failed, json, len, w->what, w->err);
}

/* ---- keys seen in one object, for duplicates ---- */

/* Go's encoding/json keeps the last of two equal map keys; sigward refuses the
 * file instead of guessing which one dockerd kept. */
typedef struct keyset {
	struct kv { char *s; size_t len; } *v;
	size_t n, cap;
} keyset;

static void keyset_clear(keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->v[i].s);
	ks->n = 0;
}

static void keyset_free(keyset *ks)
{
	keyset_clear(ks);
	free(ks->v);
	*ks = (keyset){ 0 };
}

static int keyset_add(keyset *ks, const unsigned char *k, size_t len)
{
	if (ks->n == ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 16;
		struct kv *nv = realloc(ks->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		ks->v = nv;
		ks->cap = ncap;
	}
	char *s = malloc(len + 1);
	if (!s)
		return -1;
	memcpy(s, k, len);
	s[len] = '\0';
	ks->v[ks->n++] = (struct kv){ s, len };
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* The first key that appears twice, or NULL. */
static const struct kv *keyset_dup(keyset *ks)
{
	if (ks->n < 2)
		return NULL;
	qsort(ks->v, ks->n, sizeof *ks->v, kv_cmp);
	for (size_t i = 1; i < ks->n; i++)
		if (kv_cmp(&ks->v[i - 1], &ks->v[i]) == 0)
			return &ks->v[i];
	return NULL;
}

/* ---- containers/<id>/config.v2.json ---- */

/* container.Container's fields sigward reads (json tags "ID", "Image", "Driver"). */
enum cfield { CF_OTHER = 0, CF_ID, CF_IMAGE, CF_DRIVER, CF_N };
static const char *const cfield_name[CF_N] = { "?", "ID", "Image", "Driver" };

typedef struct cfg_doc {
	enum cfield field;            /* selected by the last key of the top object */
	bool seen[CF_N];
	/* For the listing only (sw_docker_containers): State.Running, State.Paused,
	 * Config.Image. */
	enum { SUB_NONE, SUB_STATE, SUB_CONFIG } sub;   /* the top-level key's object */
	enum { SF_NONE, SF_RUNNING, SF_PAUSED, SF_IMAGE } sub_field;
	bool running, paused;
	char reference[512];
	char id[SW_SHA256_HEX + 1];   /* "" when absent or null */
	char image[SW_DIGEST_STR];
	char driver[DRIVER_MAX + 1];
} cfg_doc;

/* Docker's storage driver names: letters, digits, '-', '_', '.'; never "." or "..". */
static bool is_driver_name(const unsigned char *s, size_t len)
{
	if (len == 0 || len > DRIVER_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static int cfg_key(jwalk *w, const unsigned char *k, size_t len)
{
	cfg_doc *d = w->doc;
	if (w->depth == 2) {
		d->sub_field = SF_NONE;
		if (d->sub == SUB_STATE && sw_json_go_key_eq(k, len, "running"))
			d->sub_field = SF_RUNNING;
		else if (d->sub == SUB_STATE && sw_json_go_key_eq(k, len, "paused"))
			d->sub_field = SF_PAUSED;
		else if (d->sub == SUB_CONFIG && sw_json_go_key_eq(k, len, "image"))
			d->sub_field = SF_IMAGE;
		return 1;
	}
	if (w->depth != 1)
		return 1;
	d->sub = sw_json_go_key_eq(k, len, "state") ? SUB_STATE
		 : sw_json_go_key_eq(k, len, "config") ? SUB_CONFIG : SUB_NONE;
	d->field = CF_OTHER;
	for (int f = CF_ID; f < CF_N; f++) {
		char lower[16];
		size_t n = strlen(cfield_name[f]);
		for (size_t i = 0; i <= n; i++)
			lower[i] = (char)(cfield_name[f][i] >= 'A' && cfield_name[f][i] <= 'Z'
					  ? cfield_name[f][i] - 'A' + 'a' : cfield_name[f][i]);
		if (sw_json_go_key_eq(k, len, lower))
			d->field = (enum cfield)f;
	}
	if (d->field == CF_OTHER)
		return 1;
	/* Go keeps the last of two keys selecting one field (in any case). */
	if (d->seen[d->field])
		return fail(w, SW_EINVAL, "\"%s\" appears twice", cfield_name[d->field]);
	d->seen[d->field] = true;
	return 1;
}

static int cfg_value(jwalk *w, enum jtype t, const unsigned char *s, size_t len)
{
	cfg_doc *d = w->doc;
	if (w->depth == 0) {
		if (t != J_MAP)
			return fail(w, SW_EINVAL, "top level is %s, not an object", jtype_name(t));
		return 1;
	}
	if (w->depth == 2 && d->sub != SUB_NONE) {
		/* Go's last value wins; these only describe, they decide nothing. */
		if (d->sub_field == SF_RUNNING)
			d->running = t == J_BOOL && s;
		else if (d->sub_field == SF_PAUSED)
			d->paused = t == J_BOOL && s;
		else if (d->sub_field == SF_IMAGE && t == J_STRING && len < sizeof d->reference &&
			 !memchr(s, '\0', len)) {
			memcpy(d->reference, s, len);
			d->reference[len] = '\0';
		}
		return 1;
	}
	if (w->depth != 1 || d->field == CF_OTHER)
		return 1;
	const char *name = cfield_name[d->field];
	/* Go leaves a field that is null at its zero value: absent. */
	if (t == J_NULL)
		return 1;
	if (t != J_STRING)
		return fail(w, SW_EINVAL, "\"%s\" is %s, not a string", name, jtype_name(t));

	char v[NAME_SHOW + 4];
	switch (d->field) {
	case CF_ID:
		/* Docker's container ids: stringid.GenerateRandomID, 64 lowercase hex. */
		if (len == 0)
			return 1;
		if (len != SW_SHA256_HEX || !sw_is_hex64((const char *)s, len)) {
			show(s, len, v);
			return fail(w, SW_EINVAL, "\"ID\" is \"%s\", not a container id", v);
		}
		memcpy(d->id, s, len);
		d->id[len] = '\0';
		return 1;
	case CF_IMAGE:
		if (len == 0)
			return 1;
		if (!sw_is_sha256_digest((const char *)s, len)) {
			show(s, len, v);
			return fail(w, SW_EINVAL, "\"Image\" is \"%s\", not an image id (sha256:<64 hex>)", v);
		}
		memcpy(d->image, s, len);
		d->image[len] = '\0';
		return 1;
	case CF_DRIVER:
		if (len == 0)
			return 1;
		/* It becomes a directory name below image/. */
		if (!is_driver_name(s, len)) {
			show(s, len, v);
			return fail(w, SW_EINVAL, "\"Driver\" is \"%s\", not a storage driver name", v);
		}
		memcpy(d->driver, s, len);
		d->driver[len] = '\0';
		return 1;
	default:
		return 1;
	}
}

static int parse_config(const char *json, size_t len, const char *what, cfg_doc *out, sw_error *err)
{
	*out = (cfg_doc){ 0 };
	jwalk w = { .what = what, .err = err, .key = cfg_key, .value = cfg_value, .doc = out };
	return jwalk_run(&w, json, len);
}

/* ---- the image config: rootfs.diff_ids -> chain id ---- */

typedef struct img_doc {
	bool rootfs_key, rootfs_seen, in_rootfs;        /* top-level "rootfs" */
	bool diffids_key, diffids_seen, in_diffids;     /* rootfs "diff_ids" */
	size_t n_layers;
	char chain[SW_DIGEST_STR];                      /* "" for no layers */
} img_doc;

static int img_key(jwalk *w, const unsigned char *k, size_t len)
{
	img_doc *d = w->doc;
	if (w->depth == 1) {
		d->rootfs_key = sw_json_go_key_eq(k, len, "rootfs");
		if (d->rootfs_key && d->rootfs_seen)
			return fail(w, SW_EINVAL, "\"rootfs\" appears twice");
		d->rootfs_seen |= d->rootfs_key;
	} else if (w->depth == 2 && d->in_rootfs) {
		d->diffids_key = sw_json_go_key_eq(k, len, "diff_ids");
		if (d->diffids_key && d->diffids_seen)
			return fail(w, SW_EINVAL, "\"rootfs\": \"diff_ids\" appears twice");
		d->diffids_seen |= d->diffids_key;
	}
	return 1;
}

static int img_value(jwalk *w, enum jtype t, const unsigned char *s, size_t len)
{
	img_doc *d = w->doc;
	if (w->depth == 0) {
		if (t != J_MAP)
			return fail(w, SW_EINVAL, "top level is %s, not an object", jtype_name(t));
		return 1;
	}
	if (w->depth == 1 && d->rootfs_key) {
		/* Go: a null *RootFS is an image without layers. */
		if (t == J_NULL)
			return 1;
		if (t != J_MAP)
			return fail(w, SW_EINVAL, "\"rootfs\" is %s, not an object", jtype_name(t));
		d->in_rootfs = true;
		return 1;
	}
	if (w->depth == 2 && d->in_rootfs && d->diffids_key) {
		if (t == J_NULL)
			return 1;
		if (t != J_ARRAY)
			return fail(w, SW_EINVAL, "\"rootfs\": \"diff_ids\" is %s, not an array", jtype_name(t));
		d->in_diffids = true;
		return 1;
	}
	if (w->depth == 3 && d->in_diffids) {
		char v[NAME_SHOW + 4];
		if (t != J_STRING)
			return fail(w, SW_EINVAL, "\"rootfs\": diff_ids[%zu] is %s, not a string",
				    d->n_layers, jtype_name(t));
		if (!sw_is_sha256_digest((const char *)s, len)) {
			show(s, len, v);
			return fail(w, SW_EINVAL, "\"rootfs\": diff_ids[%zu] is \"%s\", not sha256:<64 hex>",
				    d->n_layers, v);
		}
		if (d->n_layers >= SW_DOCKER_MAX_LAYERS)
			return fail(w, SW_ETOOBIG, "\"rootfs\": more than %d layers", SW_DOCKER_MAX_LAYERS);
		sw_chain_next(d->chain, (const char *)s);
		d->n_layers++;
	}
	return 1;
}

static int img_end(jwalk *w)
{
	img_doc *d = w->doc;
	/* Only strings sit inside diff_ids, and nothing of interest deeper inside
	 * rootfs: a container ending at depth 2 or 1 is diff_ids or rootfs. */
	if (w->depth == 2 && d->in_diffids)
		d->in_diffids = false;
	else if (w->depth == 1 && d->in_rootfs)
		d->in_rootfs = false;
	return 1;
}

static int parse_image(const char *json, size_t len, const char *what, img_doc *out, sw_error *err)
{
	*out = (img_doc){ 0 };
	jwalk w = { .what = what, .err = err, .key = img_key, .value = img_value, .end = img_end, .doc = out };
	return jwalk_run(&w, json, len);
}

/* ---- repositories.json ---- */

/*
 * {"Repositories": {"<name>": {"<name>:<tag>": "sha256:<id>",
 *                             "<name>@sha256:<hex>": "sha256:<id>"}}}
 * (reference/store.go: familiar names, one map per repository name). Every entry
 * is checked, not only the image's: the file is Docker's one record of names,
 * and a broken one says it cannot be trusted for any.
 */
typedef struct repos_doc {
	const char *want;             /* "sha256:<image id>" */
	bool repos_key, repos_seen, in_repos;
	bool in_repo;
	char *repo;                   /* the current repository name */
	size_t repo_len;
	char *ref;                    /* the current reference key */
	size_t ref_len;
	keyset names, refs;
	docker_image *img;
	bool ref_is_tag;              /* img->reference holds a "name:tag" */
	bool member_hit;              /* the current repository maps a reference to the image */
	/* Building the index (ix non-NULL): where the current repository's member
	 * ("<name>": {...}) starts in json, and the image ids it maps to. */
	sw_storeindex_build *ix;
	const char *json;
	uint64_t member_start;
	char (*ids)[SW_SHA256_HEX + 1];
	size_t n_ids, cap_ids;
} repos_doc;

static void repos_doc_free(repos_doc *d)
{
	free(d->ids);
	free(d->repo);
	free(d->ref);
	keyset_free(&d->names);
	keyset_free(&d->refs);
}

/* A repository name as Docker stores it: printable ASCII, no blanks. */
static bool is_repo_name(const unsigned char *s, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '@')
			return false;
	return true;
}

/* distribution/reference's tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
static bool is_tag(const unsigned char *s, size_t len)
{
	if (len == 0 || len > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static int dup_name(char **dst, size_t *dlen, const unsigned char *s, size_t len)
{
	free(*dst);
	*dst = malloc(len + 1);
	if (!*dst)
		return -1;
	memcpy(*dst, s, len);
	(*dst)[len] = '\0';
	*dlen = len;
	return 0;
}

static int repos_key(jwalk *w, const unsigned char *k, size_t len)
{
	repos_doc *d = w->doc;
	char v[NAME_SHOW + 4];
	if (w->depth == 1) {
		d->repos_key = sw_json_go_key_eq(k, len, "repositories");
		if (d->repos_key && d->repos_seen)
			return fail(w, SW_EINVAL, "\"Repositories\" appears twice");
		d->repos_seen |= d->repos_key;
	} else if (w->depth == 2 && d->in_repos) {
		if (!is_repo_name(k, len)) {
			show(k, len, v);
			return fail(w, SW_EINVAL, "\"%s\" is not a repository name", v);
		}
		if (dup_name(&d->repo, &d->repo_len, k, len) < 0 || keyset_add(&d->names, k, len) < 0)
			return fail(w, ENOMEM, "out of memory");
		d->member_hit = false;
		if (d->ix && w->h) {
			/* yajl has consumed the key's closing quote; its opening quote is
			 * the nearest one before that no odd run of backslashes escapes. */
			size_t q = yajl_get_bytes_consumed(w->h) - 1;
			while (q > 0) {
				q--;
				size_t bs = 0;
				while (q > bs && d->json[q - 1 - bs] == '\\')
					bs++;
				if (d->json[q] == '"' && bs % 2 == 0)
					break;
			}
			d->member_start = q;
			d->n_ids = 0;
		}
	} else if (w->depth == 3 && d->in_repo) {
		if (dup_name(&d->ref, &d->ref_len, k, len) < 0 || keyset_add(&d->refs, k, len) < 0)
			return fail(w, ENOMEM, "out of memory");
	}
	return 1;
}

static void set_reference(repos_doc *d, bool tag)
{
	docker_image *img = d->img;
	/* The first tag wins; a digest reference only until a tag turns up. A cut
	 * reference would name another image in the log: keep none instead. */
	if (img->reference[0] && (d->ref_is_tag || !tag))
		return;
	if (d->ref_len >= sizeof img->reference)
		return;
	memcpy(img->reference, d->ref, d->ref_len + 1);
	d->ref_is_tag = tag;
}

/* One "<ref>": "sha256:<id>" entry of repository d->repo. */
static int repos_entry(jwalk *w, repos_doc *d, const unsigned char *s, size_t len)
{
	char r[NAME_SHOW + 4], v[NAME_SHOW + 4];
	show((const unsigned char *)d->ref, d->ref_len, r);
	if (!sw_is_sha256_digest((const char *)s, len)) {
		show(s, len, v);
		return fail(w, SW_EINVAL, "\"%s\" maps to \"%s\", not an image id", r, v);
	}
	/* Docker files a reference under its own name: "<name>:<tag>" or
	 * "<name>@<digest>" in the map of "<name>". */
	const unsigned char *k = (const unsigned char *)d->ref;
	if (d->ref_len <= d->repo_len + 1 || memcmp(k, d->repo, d->repo_len) != 0 ||
	    (k[d->repo_len] != ':' && k[d->repo_len] != '@')) {
		show((const unsigned char *)d->repo, d->repo_len, v);
		return fail(w, SW_EINVAL, "\"%s\" is filed under repository \"%s\", not its own name", r, v);
	}
	const unsigned char *rest = k + d->repo_len + 1;
	size_t rest_len = d->ref_len - d->repo_len - 1;
	bool tag = k[d->repo_len] == ':';
	if (tag && !is_tag(rest, rest_len))
		return fail(w, SW_EINVAL, "\"%s\" is not a name:tag reference", r);
	/* Docker resolves only sha256 digests; another algorithm or a malformed
	 * digest is a record sigward cannot read, not one to skip. */
	if (!tag && !sw_is_sha256_digest((const char *)rest, rest_len))
		return fail(w, SW_EINVAL, "\"%s\" is not a name@sha256:<64 hex> reference", r);

	if (d->ix) {
		bool seen = false;
		for (size_t i = 0; i < d->n_ids && !seen; i++)
			seen = memcmp(d->ids[i], s + 7, SW_SHA256_HEX) == 0;
		if (!seen && d->n_ids == d->cap_ids) {
			size_t nc = d->cap_ids ? 2 * d->cap_ids : 8;
			void *n = realloc(d->ids, nc * sizeof *d->ids);
			if (!n)
				return fail(w, ENOMEM, "out of memory");
			d->ids = n;
			d->cap_ids = nc;
		}
		if (!seen) {
			memcpy(d->ids[d->n_ids], s + 7, SW_SHA256_HEX);
			d->ids[d->n_ids++][SW_SHA256_HEX] = '\0';
		}
	}

	if (len != strlen(d->want) || memcmp(s, d->want, len) != 0)
		return 1;

	d->member_hit = true;
	set_reference(d, tag);
	if (tag)
		return 1;
	docker_image *img = d->img;
	for (size_t i = 0; i < img->n; i++)
		if (memcmp(img->digests[i], rest, rest_len) == 0)
			return 1;
	if (img->n >= SW_DOCKER_MAX_DIGESTS)
		return fail(w, SW_ETOOBIG, "image %s has more than %d repository digests",
			    d->want, SW_DOCKER_MAX_DIGESTS);
	memcpy(img->digests[img->n], rest, rest_len);
	img->digests[img->n][rest_len] = '\0';
	img->n++;
	return 1;
}

static int repos_value(jwalk *w, enum jtype t, const unsigned char *s, size_t len)
{
	repos_doc *d = w->doc;
	char v[NAME_SHOW + 4];
	switch (w->depth) {
	case 0:
		/* Go reads null into the store as "no references". */
		if (t != J_MAP && t != J_NULL)
			return fail(w, SW_EINVAL, "top level is %s, not an object", jtype_name(t));
		return 1;
	case 1:
		if (!d->repos_key || t == J_NULL)
			return 1;
		if (t != J_MAP)
			return fail(w, SW_EINVAL, "\"Repositories\" is %s, not an object", jtype_name(t));
		d->in_repos = true;
		return 1;
	case 2:
		if (!d->in_repos || t == J_NULL)
			return 1;
		if (t != J_MAP) {
			show((const unsigned char *)d->repo, d->repo_len, v);
			return fail(w, SW_EINVAL, "repository \"%s\" is %s, not an object", v, jtype_name(t));
		}
		d->in_repo = true;
		keyset_clear(&d->refs);
		return 1;
	case 3:
		if (!d->in_repo)
			return 1;
		if (t != J_STRING) {
			show((const unsigned char *)d->ref, d->ref_len, v);
			return fail(w, SW_EINVAL, "\"%s\" maps to %s, not an image id", v, jtype_name(t));
		}
		return repos_entry(w, d, s, len);
	default:
		return 1;
	}
}

static int repos_end(jwalk *w)
{
	repos_doc *d = w->doc;
	char v[NAME_SHOW + 4];
	/* Inside a repository only strings are allowed and inside "Repositories"
	 * only objects: an end at depth 2 or 1 closes one of those. */
	if (w->depth == 2 && d->in_repo) {
		d->in_repo = false;
		const struct kv *dup = keyset_dup(&d->refs);
		if (dup) {
			show((const unsigned char *)dup->s, dup->len, v);
			return fail(w, SW_EINVAL, "\"%s\" appears twice", v);
		}
		if (d->member_hit)
			d->img->members++;
		if (d->ix && w->h) {
			uint64_t end = yajl_get_bytes_consumed(w->h);
			for (size_t i = 0; i < d->n_ids; i++)
				sw_storeindex_add(d->ix, d->ids[i], SW_SHA256_HEX, d->member_start,
						  end - d->member_start);
		}
	} else if (w->depth == 1 && d->in_repos) {
		d->in_repos = false;
		const struct kv *dup = keyset_dup(&d->names);
		if (dup) {
			show((const unsigned char *)dup->s, dup->len, v);
			return fail(w, SW_EINVAL, "repository \"%s\" appears twice", v);
		}
	}
	return 1;
}

static int parse_repositories(const char *json, size_t len, const char *what, docker_image *img,
			      sw_storeindex_build *ix, sw_error *err)
{
	_cleanup_(repos_doc_free) repos_doc d = { .want = img->id, .img = img, .ix = ix, .json = json };
	jwalk w = { .what = what, .err = err, .key = repos_key, .value = repos_value, .end = repos_end, .doc = &d };
	return jwalk_run(&w, json, len);
}

/*
 * repositories.json grows with every image and tag of the node, and it was read
 * whole on every start (issue 17). Its index (storeindex.h), built from exactly
 * this version of the file (inode, size, mtime, ctime: dockerd replaces it by
 * rename), names for each image id the repositories ("<name>": {...} members)
 * that map a reference to it. Those members are read from the file itself and
 * parsed as a document of their own, {"Repositories": {<members>}}, with the
 * whole file's rules: a reference is added only where the file maps it to the
 * image, so an index can leave digests out (a denied start; the file is parsed
 * whole again when a span does not read as a member) but never add one. Without
 * a usable index: the whole file, as before, which rebuilds it.
 * 1 read, 0 no such file, <0 error.
 */
static int read_repositories(int storefd, const char *what, docker_image *img, sw_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int o = sw_storeindex_open(storefd, "repositories.json", what, SW_DOCKER_REPOS_MAX, &st, &fd, err);
	if (o <= 0)
		return o;
	bool index = sw_storeindex_enabled();
	if (index) {
		sw_storeindex_entry spans[SW_STOREINDEX_MAX_SPANS];
		size_t n = 0;
		int r = sw_storeindex_lookup("docker-repos", what, &st, img->id + 7, spans, SW_ARRAY_SIZE(spans), &n,
					     NULL);
		if (r == 0)
			return 1;
		_cleanup_free_ char *doc = NULL;
		size_t dlen = 0;
		static const char head[] = "{\"Repositories\":{", tail[] = "}}";
		for (size_t i = 0; r == 1 && i < n; i++) {
			_cleanup_free_ char *span = NULL;
			size_t slen = 0;
			if (sw_storeindex_read_span(fd, &st, &spans[i], "{,", ",}", &span, &slen) < 0 || span[0] != '"') {
				r = -1;
				break;
			}
			char *nd = realloc(doc, dlen + slen + sizeof head + sizeof tail + 1);
			if (!nd) {
				r = -1;
				break;
			}
			doc = nd;
			if (i == 0) {
				memcpy(doc, head, sizeof head - 1);
				dlen = sizeof head - 1;
			} else {
				doc[dlen++] = ',';
			}
			memcpy(doc + dlen, span, slen);
			dlen += slen;
		}
		if (r == 1) {
			memcpy(doc + dlen, tail, sizeof tail);
			dlen += sizeof tail - 1;
			/* Every member the index names maps a reference to the image
			 * (that is why it was named): one that does not is a wrong index. */
			docker_image got = *img;
			got.members = 0;
			if (parse_repositories(doc, dlen, what, &got, NULL, NULL) == 0 && got.members == n) {
				*img = got;
				return 1;
			}
		}
	}
	_cleanup_free_ char *json = NULL;
	size_t len = 0;
	int r = sw_read_fd(fd, SW_DOCKER_REPOS_MAX, what, &json, &len, err);
	if (r < 0)
		return r;
	_cleanup_(sw_storeindex_build_free) sw_storeindex_build ix = { 0 };
	r = parse_repositories(json, len, what, img, index ? &ix : NULL, err);
	if (r == 0 && index)
		sw_storeindex_store("docker-repos", what, &st, &ix);
	return r < 0 ? r : 1;
}

/* ---- the image store ---- */

/* Does store `name` below image/ hold the config of image `hex`? 1, 0, <0. */
static int store_holds(int imagefd, const char *image_path, const char *name, const char *hex, sw_error *err)
{
	char base[PATHBUF], rel[128];
	sw_msgpath(base, sizeof base, "%s/%s", image_path, name);
	_cleanup_close_ int storefd = -1;
	int r = sw_open_subdir(imagefd, name, base, &storefd, err);
	if (r <= 0)
		return r;
	_cleanup_close_ int contentfd = -1;
	r = open_dirs(storefd, base, "imagedb/content/sha256", &contentfd, NULL, err);
	if (r <= 0)
		return r;
	struct stat st;
	if (fstatat(contentfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	sw_msgpath(rel, sizeof rel, "imagedb/content/sha256/%s", hex);
	return sw_err_errno(err, errno, "%s/%s: cannot stat", base, rel);
}

/*
 * Without "Driver": the one directory below image/ that holds the image's
 * config. Two would be two stores with possibly different names for the image;
 * refuse rather than pick.
 */
static int find_store(int imagefd, const char *image_path, const char *hex, const char *cfg_what,
		      char driver[DRIVER_MAX + 1], sw_error *err)
{
	int fd = openat(imagefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open directory", image_path);
	_cleanup_closedir_ DIR *dir = fdopendir(fd);
	if (!dir) {
		int e = errno;
		close(fd);
		return sw_err_errno(err, e, "%s: cannot list", image_path);
	}
	driver[0] = '\0';
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (!de) {
			if (errno)
				return sw_err_errno(err, errno, "%s: cannot list", image_path);
			break;
		}
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		/* Only directories are stores; a file there is none of Docker's. */
		struct stat st;
		if (fstatat(imagefd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISREG(st.st_mode))
			continue;
		if (!is_driver_name((const unsigned char *)name, strlen(name)))
			continue;
		int r = store_holds(imagefd, image_path, name, hex, err);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (driver[0])
			return sw_err(err, SW_EINVAL, "%s: names no \"Driver\", and image sha256:%s is in two stores, %s/%s and %s/%s",
				      cfg_what, hex, image_path, driver, image_path, name);
		snprintf(driver, DRIVER_MAX + 1, "%s", name);
	}
	if (!driver[0])
		return sw_err(err, ENOENT, "%s: no image store holds image sha256:%s (and %s names no \"Driver\")",
			      image_path, hex, cfg_what);
	return 1;
}

/* ---- the lookup ---- */

static int lookup(const char *root, const char *cid, docker_image *img, sw_error *err)
{
	_cleanup_close_ int rootfd = -1;
	int r = open_root(root, &rootfd, err);
	if (r <= 0)
		return r;

	/* containers/<id>: the container's own directory. Missing: not Docker's. */
	char rel[PATHBUF], cdir[PATHBUF], cfg_what[PATHBUF];
	sw_msgpath(rel, sizeof rel, "containers/%s", cid);
	sw_msgpath(cdir, sizeof cdir, "%s/%s", root, rel);
	sw_msgpath(cfg_what, sizeof cfg_what, "%s/config.v2.json", cdir);
	_cleanup_close_ int cfd = -1;
	r = open_dirs(rootfd, root, rel, &cfd, NULL, err);
	if (r <= 0)
		return r;

	_cleanup_free_ char *cjson = NULL;
	size_t clen = 0;
	/* A container directory without its config is a broken record (Docker
	 * writes config.v2.json when it creates the directory, long before any
	 * start), and must not fall through to "unknown container". */
	r = sw_read_file_at(cfd, "config.v2.json", SW_DOCKER_CONFIG_MAX, cfg_what, &cjson, &clen, err);
	if (r < 0)
		return r;
	cfg_doc cfg;
	r = parse_config(cjson, clen, cfg_what, &cfg, err);
	if (r < 0)
		return r;
	/* A config.v2.json copied in from another container's directory names the
	 * other container. */
	if (!cfg.id[0])
		return sw_err(err, SW_EINVAL, "%s: no \"ID\"", cfg_what);
	if (strcmp(cfg.id, cid) != 0)
		return sw_err(err, SW_EVERIFY, "%s: \"ID\" is %s, not the container %s", cfg_what, cfg.id, cid);
	if (!cfg.image[0])
		return sw_err(err, SW_EINVAL, "%s: no \"Image\" (the container's image id)", cfg_what);
	const char *hex = cfg.image + 7;

	/* The image store: image/<Driver>, or the one store holding the image. */
	char image_path[PATHBUF];
	sw_msgpath(image_path, sizeof image_path, "%s/image", root);
	_cleanup_close_ int imagefd = -1;
	r = sw_open_subdir(rootfd, "image", image_path, &imagefd, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, ENOENT, "%s: missing, but container %s is in %s/containers", image_path, cid, root);
	char driver[DRIVER_MAX + 1];
	if (cfg.driver[0]) {
		snprintf(driver, sizeof driver, "%s", cfg.driver);
	} else {
		r = find_store(imagefd, image_path, hex, cfg_what, driver, err);
		if (r < 0)
			return r;
	}
	char store_path[PATHBUF];
	sw_msgpath(store_path, sizeof store_path, "%s/%s", image_path, driver);
	_cleanup_close_ int storefd = -1;
	r = sw_open_subdir(imagefd, driver, store_path, &storefd, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, ENOENT, "%s: missing: the image store of driver \"%s\" that %s names",
			      store_path, driver, cfg_what);

	/* Chain of custody 1: the image id is the digest of the stored config. */
	char missing[PATHBUF], img_what[PATHBUF];
	sw_msgpath(img_what, sizeof img_what, "%s/imagedb/content/sha256/%s", store_path, hex);
	_cleanup_close_ int contentfd = -1;
	r = open_dirs(storefd, store_path, "imagedb/content/sha256", &contentfd, missing, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, ENOENT, "%s: missing: no image config for container %s", missing, cid);
	_cleanup_free_ char *ijson = NULL;
	size_t ilen = 0;
	r = read_optional(contentfd, hex, SW_DOCKER_IMAGE_MAX, img_what, &ijson, &ilen, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, ENOENT, "%s: missing: the config of image %s of container %s", img_what, cfg.image, cid);
	char got[SW_SHA256_HEX + 1];
	sw_sha256_hex(ijson, ilen, got);
	if (strcmp(got, hex) != 0)
		return sw_err(err, SW_EVERIFY, "%s: content hashes to sha256:%s, not to its image id",
			      img_what, got);

	/* Chain of custody 2: the container's read-write layer was made on this
	 * image's layers. Docker keeps the chain id of the layer below it in
	 * layerdb/mounts/<container id>/parent (none for an image without layers).
	 * A config.v2.json edited to name another image, whose config is intact
	 * and hashes fine, fails here. */
	img_doc layers;
	r = parse_image(ijson, ilen, img_what, &layers, err);
	if (r < 0)
		return r;
	char mounts_rel[PATHBUF], mount_what[PATHBUF];
	sw_msgpath(mounts_rel, sizeof mounts_rel, "layerdb/mounts/%s", cid);
	_cleanup_close_ int mountfd = -1;
	r = open_dirs(storefd, store_path, mounts_rel, &mountfd, missing, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, ENOENT, "%s: missing: no read-write layer record for container %s", missing, cid);
	sw_msgpath(mount_what, sizeof mount_what, "%s/%s/parent", store_path, mounts_rel);
	_cleanup_free_ char *parent = NULL;
	size_t plen = 0;
	r = read_optional(mountfd, "parent", PARENT_MAX, mount_what, &parent, &plen, err);
	if (r < 0)
		return r;
	if (r == 1) {
		/* Docker reads it with strings.TrimSpace (layer/filestore.go). */
		const char *p = parent;
		while (plen && strchr(" \t\n\r\v\f", p[0]) && p[0])
			p++, plen--;
		while (plen && strchr(" \t\n\r\v\f", p[plen - 1]) && p[plen - 1])
			plen--;
		if (!sw_is_sha256_digest(p, plen))
			return sw_err(err, SW_EINVAL, "%s: not a layer chain id (sha256:<64 hex>)", mount_what);
		if (!layers.chain[0])
			return sw_err(err, SW_EVERIFY, "%s: the container's layer chain is %.*s, but image %s has no layers (config.v2.json names an image the container was not made from)",
				      mount_what, (int)plen, p, cfg.image);
		if (memcmp(p, layers.chain, plen) != 0)
			return sw_err(err, SW_EVERIFY, "%s: the container's layer chain is %.*s, image %s's is %s (config.v2.json names an image the container was not made from)",
				      mount_what, (int)plen, p, cfg.image, layers.chain);
	} else if (layers.chain[0]) {
		return sw_err(err, SW_EVERIFY, "%s: missing (no layers under the container), but image %s has layer chain %s",
			      mount_what, cfg.image, layers.chain);
	}

	snprintf(img->id, sizeof img->id, "%s", cfg.image);

	/* Repository digests: what Docker recorded pulling this image by.
	 * Missing repositories.json: Docker has never named an image. */
	char repos_what[PATHBUF];
	sw_msgpath(repos_what, sizeof repos_what, "%s/repositories.json", store_path);
	r = read_repositories(storefd, repos_what, img, err);
	if (r < 0)
		return r;
	return 1;
}

int sw_docker_resolve(const char *docker_root, const char *container_id,
		      sw_resolution *r, sw_error *err)
{
	sw_resolution_looked(r, SW_DOCKER_SOURCE);
	if (!container_id || !*container_id)
		return sw_err(err, SW_EINVAL, "docker: empty container id");
	/* Docker names every container with 64 lowercase hex
	 * (stringid.GenerateRandomID): anything else is another runtime's
	 * container, and is never turned into a path. */
	if (!sw_is_hex64(container_id, strlen(container_id)))
		return 0;

	docker_image img = { 0 };
	int rc = lookup(docker_root, container_id, &img, err);
	if (rc <= 0)
		return rc;

	/* All or nothing: a half-added set could let another source's digest
	 * look linked to a partial view. */
	size_t n0 = r->n;
	rc = sw_resolution_add(r, img.id, SW_DOCKER_SOURCE, "image-id", err);
	/* A repository digest is a manifest's or, for a pull through a
	 * multi-platform index, the index's; Docker keeps neither to tell. */
	for (size_t i = 0; i < img.n && rc >= 0; i++)
		rc = sw_resolution_add(r, img.digests[i], SW_DOCKER_SOURCE, "unknown", err);
	if (rc < 0) {
		r->n = n0;
		return rc;
	}
	if (!r->reference[0] && img.reference[0])
		snprintf(r->reference, sizeof r->reference, "%s", img.reference);
	return 1;
}

/* ---- the listing (sw_docker_containers) ---- */

/* hostconfig.json: "Runtime" only. */
typedef struct hc_doc {
	bool at_runtime;
	char runtime[256];
} hc_doc;

static int hc_key(jwalk *w, const unsigned char *k, size_t len)
{
	hc_doc *d = w->doc;
	if (w->depth == 1)
		d->at_runtime = sw_json_go_key_eq(k, len, "runtime");
	return 1;
}

static int hc_value(jwalk *w, enum jtype t, const unsigned char *s, size_t len)
{
	hc_doc *d = w->doc;
	if (w->depth == 0 && t != J_MAP)
		return fail(w, SW_EINVAL, "top level is %s, not an object", jtype_name(t));
	if (w->depth != 1 || !d->at_runtime || t == J_NULL)
		return 1;
	if (t != J_STRING)
		return fail(w, SW_EINVAL, "\"Runtime\" is %s, not a string", jtype_name(t));
	if (len >= sizeof d->runtime || memchr(s, '\0', len))
		return fail(w, SW_EINVAL, "\"Runtime\" is not a runtime name");
	memcpy(d->runtime, s, len);
	d->runtime[len] = '\0';
	return 1;
}

/* One containers/<id>: fills c (strings in cfg and hc); 0, or <0 with err. */
static int list_one(int containersfd, const char *dir_path, const char *id, sw_docker_container *c,
		    cfg_doc *cfg, hc_doc *hc, sw_error *err)
{
	char cdir[PATHBUF], what[PATHBUF];
	sw_msgpath(cdir, sizeof cdir, "%s/%s", dir_path, id);
	_cleanup_close_ int cfd = -1;
	int r = sw_open_subdir(containersfd, id, cdir, &cfd, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, ENOENT, "%s: removed while listing", cdir);
	sw_msgpath(what, sizeof what, "%s/config.v2.json", cdir);
	_cleanup_free_ char *json = NULL;
	size_t len = 0;
	r = sw_read_file_at(cfd, "config.v2.json", SW_DOCKER_CONFIG_MAX, what, &json, &len, err);
	if (r < 0)
		return r;
	r = parse_config(json, len, what, cfg, err);
	if (r < 0)
		return r;
	c->running = cfg->running;
	c->paused = cfg->paused;
	c->reference = cfg->reference;
	if (strcmp(cfg->id, id) != 0)
		return sw_err(err, SW_EVERIFY, "%s: \"ID\" is %s, not the container %s", what,
			      cfg->id[0] ? cfg->id : "(none)", id);
	c->image = cfg->image;
	sw_msgpath(what, sizeof what, "%s/hostconfig.json", cdir);
	_cleanup_free_ char *hjson = NULL;
	size_t hlen = 0;
	r = read_optional(cfd, "hostconfig.json", SW_DOCKER_CONFIG_MAX, what, &hjson, &hlen, err);
	if (r < 0)
		return r;
	if (r == 1) {
		jwalk w = { .what = what, .err = err, .key = hc_key, .value = hc_value, .doc = hc };
		r = jwalk_run(&w, hjson, hlen);
		if (r < 0)
			return r;
	}
	c->runtime = hc->runtime;
	return 0;
}

int sw_docker_containers(const char *docker_root, sw_docker_container_fn fn, void *ctx, sw_error *err)
{
	_cleanup_close_ int rootfd = -1;
	int r = open_root(docker_root, &rootfd, err);
	if (r <= 0)
		return r;
	char dir_path[PATHBUF];
	sw_msgpath(dir_path, sizeof dir_path, "%s/containers", docker_root);
	_cleanup_close_ int containersfd = -1;
	r = open_dirs(rootfd, docker_root, "containers", &containersfd, NULL, err);
	if (r <= 0)
		return r;
	int fd = openat(containersfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open directory", dir_path);
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int e = errno;
		close(fd);
		return sw_err_errno(err, e, "%s: cannot read directory", dir_path);
	}
	int ret = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (!de) {
			if (errno)
				ret = sw_err_errno(err, errno, "%s: cannot read directory", dir_path);
			break;
		}
		/* Docker names every container with 64 lowercase hex; anything else
		 * is no container of Docker's (and never becomes a path). */
		if (!sw_is_hex64(de->d_name, strlen(de->d_name)))
			continue;
		cfg_doc cfg = { 0 };
		hc_doc hc = { 0 };
		sw_error e = { 0 };
		sw_docker_container c = { .id = de->d_name, .image = "", .reference = "", .runtime = "" };
		if (list_one(containersfd, dir_path, de->d_name, &c, &cfg, &hc, &e) < 0)
			c.error = e.msg;
		ret = fn(&c, ctx);
		if (ret)
			break;
	}
	closedir(dir);
	return ret;
}
