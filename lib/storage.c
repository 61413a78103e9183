/* SPDX-License-Identifier: Apache-2.0 */
#include "storage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

/*
 * The graph drivers whose stores are looked at, in this order. containers/storage
 * names a store's directories "<driver>-containers" and "<driver>-images" after the
 * driver that made them; a node uses one driver, but a switch leaves the old
 * directories behind, so every known one is looked at (one failed openat each).
 */
static const char *const drivers[] = { "overlay", "vfs", "btrfs", "zfs" };

/* Captured strings of the record sigward looks for: keys like
 * "manifest-sha256:<64 hex>" and digests are under 100 bytes. */
#define SW_STORAGE_KEY_MAX 256
#define PATHBUF (PATH_MAX + 256)

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* ---- small helpers ---- */

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

/* 1 read, 0 the file does not exist, <0 error. Regular files only, no links
 * (sw_read_file_at), bounded. No lock is taken, and none is needed for one
 * file: containers/storage replaces each of its files whole (ioutils.
 * AtomicWriteFile: write ".tmp-<name>N" in the same directory, then rename(2)),
 * so this one open+read sees one complete version. Across files, see
 * "retries" below. */
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

/* The storage root, following links (it is configuration): 1, 0 missing, <0. */
static int open_root(const char *root, int *out, sw_error *err)
{
	if (!root || !*root)
		return sw_err(err, SW_EINVAL, "containers-storage: no storage root configured");
	if (strlen(root) >= PATH_MAX)
		return sw_err(err, SW_EINVAL, "%.64s...: storage root path too long", root);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		*out = fd;
		return 1;
	}
	if (errno == ENOENT)
		return 0;
	return sw_err_errno(err, errno, "%s: cannot open storage root", root);
}

/* ---- checks before yajl_tree ---- */

/* ---- containers.json / images.json: yajl's event parser ---- */

/*
 * The event parser rather than yajl_tree: these files may be large, and only one
 * record is kept; every string comes with its length (so a NUL byte is seen);
 * duplicate keys are seen as they come.
 */

enum rfield { RF_OTHER = 0, RF_ID, RF_IMAGE, RF_DIGEST, RF_NAMES, RF_BDNAMES, RF_BDDIGESTS };

static const char *const rfield_name[] = {
	[RF_OTHER] = "?", [RF_ID] = "id", [RF_IMAGE] = "image", [RF_DIGEST] = "digest",
	[RF_NAMES] = "names", [RF_BDNAMES] = "big-data-names", [RF_BDDIGESTS] = "big-data-digests",
};

enum vtype { T_NULL, T_BOOL, T_INT, T_DOUBLE, T_STRING, T_MAP, T_ARRAY };

static const char *vtype_name(enum vtype t)
{
	switch (t) {
	case T_NULL: return "null";
	case T_BOOL: return "a boolean";
	case T_INT: return "an integer";
	case T_DOUBLE: return "a number";
	case T_STRING: return "a string";
	case T_MAP: return "an object";
	case T_ARRAY: return "an array";
	}
	return "?";
}

typedef struct bd_item {
	char *key;
	char *digest;
} bd_item;

typedef struct record {
	char *id;
	char *image;                  /* containers: the image id; NULL when absent */
	char *digest;                 /* images: "digest"; NULL when absent */
	char *name;                   /* images: the first of "names" */
	bd_item items[SW_STORAGE_MAX_ITEMS];   /* big-data-digests, "manifest*"/"sha256:*" keys */
	size_t n_items;
	char *names[SW_STORAGE_MAX_ITEMS];     /* big-data-names, same keys */
	size_t n_names;
} record;

static void record_free(record *r)
{
	free(r->id);
	free(r->image);
	free(r->digest);
	free(r->name);
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].key);
		free(r->items[i].digest);
	}
	for (size_t i = 0; i < r->n_names; i++)
		free(r->names[i]);
	*r = (record){ 0 };
}

typedef struct rparse {
	const char *what;
	sw_error *err;
	bool failed;
	bool images;            /* images.json, else containers.json */
	const char *want;       /* the id looked for */
	unsigned depth;
	size_t index;           /* of the current record, for messages */
	enum rfield field;      /* record member whose value comes next */
	unsigned seen;          /* record members seen (1 << rfield) */
	bool id_seen;
	bool keep;              /* capture this record: its id matches, or is not known yet */
	size_t n_names;         /* elements of "names" so far */
	char *pending;          /* big-data-digests key waiting for its value (captured keys only) */
	record cur;
	record found;
	bool have_found;
} rparse;

static void rparse_done(rparse *p)
{
	free(p->pending);
	record_free(&p->cur);
	record_free(&p->found);
}

/* Record the first error and return 0, which makes yajl stop. */
#define FAIL(p, ...) (sw_err((p)->err, __VA_ARGS__), (p)->failed = true, 0)

static bool captured_key(const unsigned char *s, size_t len)
{
	/* What the chain of custody needs: the items containers/storage counts as
	 * manifests (every key that starts with "manifest") and the config item. */
	return has_prefix((const char *)s, len, "manifest") || has_prefix((const char *)s, len, "sha256:");
}

static int dup_string(rparse *p, const unsigned char *s, size_t len, char **out)
{
	if (memchr(s, '\0', len))
		return FAIL(p, SW_EINVAL, "%s: record %zu: \"%s\" contains a NUL byte",
			    p->what, p->index, rfield_name[p->field]);
	free(*out);
	*out = strndup((const char *)s, len);
	if (!*out)
		return FAIL(p, ENOMEM, "%s: out of memory", p->what);
	return 1;
}

/* A value directly in a record. */
static int member_value(rparse *p, enum vtype t, const unsigned char *s, size_t len)
{
	const char *name = rfield_name[p->field];
	switch (p->field) {
	case RF_OTHER:
		return 1;
	case RF_ID:
		if (t != T_STRING)
			return FAIL(p, SW_EINVAL, "%s: record %zu: \"id\" is not a string (got %s)",
				    p->what, p->index, vtype_name(t));
		if (!dup_string(p, s, len, &p->cur.id))
			return 0;
		p->id_seen = true;
		p->keep = strcmp(p->cur.id, p->want) == 0;
		return 1;
	case RF_IMAGE:
	case RF_DIGEST:
		/* Go reads null into a string as "unset". */
		if (t == T_NULL)
			return 1;
		if (t != T_STRING)
			return FAIL(p, SW_EINVAL, "%s: record %zu: \"%s\" is not a string (got %s)",
				    p->what, p->index, name, vtype_name(t));
		if (!p->keep)
			return 1;
		return dup_string(p, s, len, p->field == RF_IMAGE ? &p->cur.image : &p->cur.digest);
	case RF_NAMES:
	case RF_BDNAMES:
		if (t != T_NULL && t != T_ARRAY)
			return FAIL(p, SW_EINVAL, "%s: record %zu: \"%s\" is not an array (got %s)",
				    p->what, p->index, name, vtype_name(t));
		return 1;
	case RF_BDDIGESTS:
		if (t != T_NULL && t != T_MAP)
			return FAIL(p, SW_EINVAL, "%s: record %zu: \"%s\" is not an object (got %s)",
				    p->what, p->index, name, vtype_name(t));
		return 1;
	}
	return 1;
}

/* A value one level inside a record member ("names", "big-data-*"). */
static int element_value(rparse *p, enum vtype t, const unsigned char *s, size_t len)
{
	const char *name = rfield_name[p->field];
	if (p->field == RF_OTHER || p->field == RF_ID || p->field == RF_IMAGE || p->field == RF_DIGEST)
		return 1;
	if (t != T_STRING) {
		free(p->pending);
		p->pending = NULL;
		return FAIL(p, SW_EINVAL, "%s: record %zu: an element of \"%s\" is not a string (got %s)",
			    p->what, p->index, name, vtype_name(t));
	}
	if (memchr(s, '\0', len))
		return FAIL(p, SW_EINVAL, "%s: record %zu: an element of \"%s\" contains a NUL byte",
			    p->what, p->index, name);

	if (p->field == RF_NAMES) {
		if (p->n_names++ == 0 && p->keep) {
			p->cur.name = strndup((const char *)s, len);
			if (!p->cur.name)
				return FAIL(p, ENOMEM, "%s: out of memory", p->what);
		}
		return 1;
	}

	if (p->field == RF_BDNAMES) {
		if (!p->keep || !captured_key(s, len))
			return 1;
		if (p->cur.n_names >= SW_STORAGE_MAX_ITEMS)
			return FAIL(p, SW_ETOOBIG, "%s: record %zu: more than %d manifest and config items in \"%s\"",
				    p->what, p->index, SW_STORAGE_MAX_ITEMS, name);
		if (len > SW_STORAGE_KEY_MAX)
			return FAIL(p, SW_ETOOBIG, "%s: record %zu: a key in \"%s\" is longer than %d bytes",
				    p->what, p->index, name, SW_STORAGE_KEY_MAX);
		char *k = strndup((const char *)s, len);
		if (!k)
			return FAIL(p, ENOMEM, "%s: out of memory", p->what);
		p->cur.names[p->cur.n_names++] = k;
		return 1;
	}

	/* RF_BDDIGESTS: the value of the key in p->pending (if it was captured). */
	_cleanup_free_ char *key = TAKE_PTR(p->pending);
	if (!key)
		return 1;
	if (len > SW_STORAGE_KEY_MAX)
		return FAIL(p, SW_ETOOBIG, "%s: record %zu: \"%s\" of \"%.80s\" is longer than %d bytes",
			    p->what, p->index, name, key, SW_STORAGE_KEY_MAX);
	char *d = strndup((const char *)s, len);
	if (!d)
		return FAIL(p, ENOMEM, "%s: out of memory", p->what);
	p->cur.items[p->cur.n_items].key = TAKE_PTR(key);
	p->cur.items[p->cur.n_items].digest = d;
	p->cur.n_items++;
	return 1;
}

static int finish_record(rparse *p)
{
	if (!p->id_seen)
		return FAIL(p, SW_EINVAL, "%s: record %zu has no \"id\"", p->what, p->index);
	if (p->keep) {
		/* containers/storage keeps one of two records with an id (which one
		 * depends on the version): refuse rather than pick. */
		if (p->have_found)
			return FAIL(p, SW_EINVAL, "%s: two records with id %.80s", p->what, p->want);
		p->found = p->cur;
		p->cur = (record){ 0 };
		p->have_found = true;
	} else {
		record_free(&p->cur);
	}
	p->index++;
	return 1;
}

static int on_value(rparse *p, enum vtype t, const unsigned char *s, size_t len)
{
	switch (p->depth) {
	case 0:
		/* Go reads "null" into the record slice as "no records". */
		if (t == T_ARRAY || t == T_NULL)
			return 1;
		return FAIL(p, SW_EINVAL, "%s: top level is not a JSON array (got %s)", p->what, vtype_name(t));
	case 1:
		if (t != T_MAP)
			return FAIL(p, SW_EINVAL, "%s: record %zu is not an object (got %s)",
				    p->what, p->index, vtype_name(t));
		record_free(&p->cur);
		p->field = RF_OTHER;
		p->seen = 0;
		p->id_seen = false;
		p->keep = true;
		p->n_names = 0;
		return 1;
	case 2:
		return member_value(p, t, s, len);
	case 3:
		return element_value(p, t, s, len);
	default:
		return 1;
	}
}

static int cb_null(void *ctx) { return on_value(ctx, T_NULL, NULL, 0); }
static int cb_bool(void *ctx, int v) { (void)v; return on_value(ctx, T_BOOL, NULL, 0); }
static int cb_int(void *ctx, long long v) { (void)v; return on_value(ctx, T_INT, NULL, 0); }
static int cb_double(void *ctx, double v) { (void)v; return on_value(ctx, T_DOUBLE, NULL, 0); }
static int cb_string(void *ctx, const unsigned char *s, size_t len) { return on_value(ctx, T_STRING, s, len); }

static int open_container(rparse *p, enum vtype t)
{
	if (!on_value(p, t, NULL, 0))
		return 0;
	if (++p->depth > SW_JSON_MAX_DEPTH)
		return FAIL(p, SW_EINVAL, "%s: nested deeper than %d levels", p->what, SW_JSON_MAX_DEPTH);
	return 1;
}

static int cb_start_map(void *ctx) { return open_container(ctx, T_MAP); }
static int cb_start_array(void *ctx) { return open_container(ctx, T_ARRAY); }

static int cb_end(void *ctx)
{
	rparse *p = ctx;
	p->depth--;
	if (p->depth == 1)
		return finish_record(p);
	return 1;
}

static enum rfield record_field(const rparse *p, const unsigned char *k, size_t len)
{
	if (sw_json_go_key_eq(k, len, "id"))
		return RF_ID;
	if (!p->images)
		return sw_json_go_key_eq(k, len, "image") ? RF_IMAGE : RF_OTHER;
	if (sw_json_go_key_eq(k, len, "digest"))
		return RF_DIGEST;
	if (sw_json_go_key_eq(k, len, "names"))
		return RF_NAMES;
	if (sw_json_go_key_eq(k, len, "big-data-names"))
		return RF_BDNAMES;
	if (sw_json_go_key_eq(k, len, "big-data-digests"))
		return RF_BDDIGESTS;
	return RF_OTHER;
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t len)
{
	rparse *p = ctx;

	if (p->depth == 2) {
		p->field = record_field(p, k, len);
		/* Go takes the last of two equal (or case-folded equal) keys: refuse
		 * the ambiguity instead of guessing which one podman used. */
		if (p->field != RF_OTHER) {
			if (p->seen & (1u << p->field))
				return FAIL(p, SW_EINVAL, "%s: record %zu: \"%s\" appears twice",
					    p->what, p->index, rfield_name[p->field]);
			p->seen |= 1u << p->field;
		}
		return 1;
	}
	if (p->depth == 3 && p->field == RF_BDDIGESTS && p->keep && captured_key(k, len)) {
		if (memchr(k, '\0', len))
			return FAIL(p, SW_EINVAL, "%s: record %zu: a key of \"big-data-digests\" contains a NUL byte",
				    p->what, p->index);
		if (len > SW_STORAGE_KEY_MAX)
			return FAIL(p, SW_ETOOBIG, "%s: record %zu: a key in \"big-data-digests\" is longer than %d bytes",
				    p->what, p->index, SW_STORAGE_KEY_MAX);
		for (size_t i = 0; i < p->cur.n_items; i++)
			if (strlen(p->cur.items[i].key) == len && memcmp(p->cur.items[i].key, k, len) == 0)
				return FAIL(p, SW_EINVAL, "%s: record %zu: \"big-data-digests\" has \"%.80s\" twice",
					    p->what, p->index, p->cur.items[i].key);
		if (p->cur.n_items >= SW_STORAGE_MAX_ITEMS)
			return FAIL(p, SW_ETOOBIG, "%s: record %zu: more than %d manifest and config items in \"big-data-digests\"",
				    p->what, p->index, SW_STORAGE_MAX_ITEMS);
		free(p->pending);
		p->pending = strndup((const char *)k, len);
		if (!p->pending)
			return FAIL(p, ENOMEM, "%s: out of memory", p->what);
	}
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_bool,
	.yajl_integer = cb_int,
	.yajl_double = cb_double,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

/*
 * Find the record with id `want` in a containers.json or images.json text.
 * 1 with *out filled (caller frees with record_free), 0 when there is none, <0
 * when the document is malformed anywhere: containers/storage would fail to load
 * it too, and a file sigward reads differently from podman must not decide.
 */
static int find_record(const char *json, size_t len, const char *what, bool images,
		       const char *want, record *out, sw_error *err)
{
	/* containers/storage treats an empty file as an empty store. */
	if (len == 0)
		return 0;

	_cleanup_(rparse_done) rparse p = { .what = what, .err = err, .images = images, .want = want };
	int r = sw_json_events(&callbacks, &p, &p.failed, json, len, what, err);
	if (r < 0)
		return r;
	if (!p.have_found)
		return 0;
	*out = p.found;
	p.found = (record){ 0 };
	return 1;
}

/* ---- big-data file names ---- */

int sw_storage_bigdata_name(const char *key, char out[NAME_MAX + 1])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(key);
	if (n == 0)
		return -1;

	bool plain = true;
	for (size_t i = 0; i < n && plain; i++) {
		char c = key[i];
		plain = c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
	}
	if (plain) {
		if (n > NAME_MAX || strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
			return -1;
		memcpy(out, key, n + 1);
		return 0;
	}

	if (1 + 4 * ((n + 2) / 3) > NAME_MAX)
		return -1;
	const unsigned char *in = (const unsigned char *)key;
	char *o = out;
	*o++ = '=';
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	/* Base64 has '/' in its alphabet: such a name would be a path. The keys
	 * containers/image writes are ASCII text, whose encoding never has one. */
	if (strchr(out, '/'))
		return -1;
	return 0;
}

/* ---- manifests ---- */

/* Member of a manifest object as Go's encoding/json (containers/image) selects
 * it; two members that select the same field are refused. 1, 0 absent or
 * null, <0 error. */
static int mget(yajl_val obj, const char *field, yajl_val *out, const char *what, sw_error *err)
{
	int found = 0;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];
		if (sw_json_go_key_eq((const unsigned char *)k, strlen(k), field)) {
			if (found)
				return sw_err(err, SW_EINVAL, "%s: \"%s\" appears twice", what, field);
			*out = obj->u.object.values[i];
			found = 1;
		}
	}
	/* Go reads null as "absent". */
	if (found && YAJL_IS_NULL(*out)) {
		*out = NULL;
		return 0;
	}
	return found;
}

enum item_kind { ITEM_MANIFEST, ITEM_INDEX };

typedef struct vitem {
	char digest[SW_DIGEST_STR];
	enum item_kind kind;
	char (*listed)[SW_DIGEST_STR];   /* an index's sha256 entries */
	size_t n_listed;
	char key[SW_STORAGE_KEY_MAX + 1];
} vitem;

static int parse_index_entries(yajl_val list, const char *what, vitem *it, sw_error *err)
{
	size_t n = list->u.array.len;
	if (n > SW_STORAGE_MAX_INDEX)
		return sw_err(err, SW_ETOOBIG, "%s: more than %d entries in \"manifests\"", what, SW_STORAGE_MAX_INDEX);
	it->listed = calloc(n ? n : 1, sizeof *it->listed);
	if (!it->listed)
		return sw_err(err, ENOMEM, "%s: out of memory", what);
	for (size_t i = 0; i < n; i++) {
		yajl_val e = list->u.array.values[i];
		if (!YAJL_IS_OBJECT(e))
			return sw_err(err, SW_EINVAL, "%s: entry %zu of \"manifests\" is not an object", what, i);
		yajl_val d = NULL;
		int r = mget(e, "digest", &d, what, err);
		if (r < 0)
			return r;
		if (r == 0 || !YAJL_IS_STRING(d))
			return sw_err(err, SW_EINVAL, "%s: entry %zu of \"manifests\" has no digest string", what, i);
		/* Another algorithm cannot name one of the image's (sha256) manifests. */
		if (sw_is_sha256_digest(d->u.string, strlen(d->u.string)))
			memcpy(it->listed[it->n_listed++], d->u.string, SW_DIGEST_STR);
	}
	return 0;
}

/* Classify a verified manifest item; for a manifest check that it names the
 * image's config (the image id), for an index keep what it lists. */
static int parse_manifest(const char *buf, size_t len, const char *what, const char *image_digest,
			  vitem *it, sw_error *err)
{
	_cleanup_yajl_ yajl_val doc = NULL;
	int r = sw_json_tree(buf, len, what, &doc, err);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(doc))
		return sw_err(err, SW_EINVAL, "%s: not a JSON object", what);

	yajl_val sv = NULL, mt = NULL, cfg = NULL, list = NULL;
	if ((r = mget(doc, "schemaversion", &sv, what, err)) < 0 ||
	    (r = mget(doc, "mediatype", &mt, what, err)) < 0 ||
	    (r = mget(doc, "config", &cfg, what, err)) < 0 ||
	    (r = mget(doc, "manifests", &list, what, err)) < 0)
		return r;

	if (!sv || !YAJL_IS_INTEGER(sv))
		return sw_err(err, SW_EINVAL, "%s: no integer \"schemaVersion\"", what);
	/* A schema 1 manifest is signed inside the document, and its digest is
	 * taken over the document without the signatures: the stored file does
	 * not hash to it, so it cannot be checked like the others. */
	if (YAJL_GET_INTEGER(sv) == 1)
		return sw_err(err, SW_EINVAL, "%s: a Docker schema 1 manifest, not supported", what);
	if (YAJL_GET_INTEGER(sv) != 2)
		return sw_err(err, SW_EINVAL, "%s: unknown schemaVersion %lld", what, YAJL_GET_INTEGER(sv));

	const char *media = NULL;
	if (mt) {
		if (!YAJL_IS_STRING(mt))
			return sw_err(err, SW_EINVAL, "%s: \"mediaType\" is not a string", what);
		media = mt->u.string;
	}
	if (cfg && list)
		return sw_err(err, SW_EINVAL, "%s: has both \"config\" and \"manifests\"", what);

	bool is_index;
	if (media && (strcmp(media, MT_OCI_MANIFEST) == 0 || strcmp(media, MT_DOCKER_MANIFEST) == 0))
		is_index = false;
	else if (media && (strcmp(media, MT_OCI_INDEX) == 0 || strcmp(media, MT_DOCKER_LIST) == 0))
		is_index = true;
	else if (media && *media)
		return sw_err(err, SW_EINVAL, "%s: media type \"%.100s\" is not an image manifest or index", what, media);
	else if (cfg || list)
		is_index = list != NULL;     /* OCI allows leaving mediaType out */
	else
		return sw_err(err, SW_EINVAL, "%s: neither a manifest nor an index", what);

	if (is_index) {
		if (!list || !YAJL_IS_ARRAY(list))
			return sw_err(err, SW_EINVAL, "%s: index without a \"manifests\" array", what);
		it->kind = ITEM_INDEX;
		return parse_index_entries(list, what, it, err);
	}

	if (!cfg || !YAJL_IS_OBJECT(cfg))
		return sw_err(err, SW_EINVAL, "%s: manifest without a \"config\" object", what);
	yajl_val cd = NULL;
	if ((r = mget(cfg, "digest", &cd, what, err)) < 0)
		return r;
	if (r == 0 || !YAJL_IS_STRING(cd))
		return sw_err(err, SW_EINVAL, "%s: manifest without a config digest", what);
	/* The link from the manifest (what the allowlist names) to the image
	 * (what the container runs): containers/image gives a pulled image the id
	 * of its config's digest. */
	if (strcmp(cd->u.string, image_digest) != 0)
		return sw_err(err, SW_EVERIFY, "%s: manifest names config %.80s, not the image id %s",
			      what, cd->u.string, image_digest + 7);
	it->kind = ITEM_MANIFEST;
	return 0;
}

/* ---- an image record, verified ---- */

typedef struct store_paths {
	const char *root;
	const char *driver;
} store_paths;

static bool has_name(const record *img, const char *key)
{
	for (size_t i = 0; i < img->n_names; i++)
		if (strcmp(img->names[i], key) == 0)
			return true;
	return false;
}

/* Read one big-data item and check that it hashes to `digest`. */
static int read_item(int datafd, const char *images_path, const char *id, const char *key,
		     const char *digest, char **buf, size_t *len, char *what, size_t what_len, sw_error *err)
{
	char name[NAME_MAX + 1];
	if (sw_storage_bigdata_name(key, name) < 0)
		return sw_err(err, SW_EINVAL, "%s/%s: big-data key \"%.80s\" has no safe file name",
			      images_path, id, key);
	sw_msgpath(what, what_len, "%s/%s/%s", images_path, id, name);
	int r = sw_read_file_at(datafd, name, SW_STORAGE_BLOB_MAX, what, buf, len, err);
	if (r < 0)
		return r;
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(*buf, *len, hex);
	if (strcmp(hex, digest + 7) != 0)
		return sw_err(err, SW_EVERIFY, "%s: does not hash to its recorded digest %s (big-data \"%.80s\")",
			      what, digest, key);
	return 0;
}

static void vitems_free(vitem *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i].listed);
}

static int add_digest(sw_storage_image *out, const char *digest, const char *kind,
		      const char *what, sw_error *err)
{
	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->d[i].digest, digest) == 0)
			return 0;
	if (out->n >= SW_STORAGE_MAX_DIGESTS)
		return sw_err(err, SW_ETOOBIG, "%s: more than %d digests for one image", what, SW_STORAGE_MAX_DIGESTS);
	snprintf(out->d[out->n].digest, sizeof out->d[0].digest, "%s", digest);
	snprintf(out->d[out->n].kind, sizeof out->d[0].kind, "%s", kind);
	out->n++;
	return 0;
}

static int verify_image(int imagesfd, const char *images_path, const char *images_json,
			const char *id, record *img, sw_storage_image *out, sw_error *err)
{
	char image_digest[SW_DIGEST_STR];
	snprintf(image_digest, sizeof image_digest, "sha256:%s", id);

	char dir_what[PATHBUF];
	sw_msgpath(dir_what, sizeof dir_what, "%s/%s", images_path, id);
	_cleanup_close_ int datafd = -1;
	int r = sw_open_subdir(imagesfd, id, dir_what, &datafd, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, ENOENT, "%s: image data directory is missing", dir_what);

	r = add_digest(out, image_digest, "image-id", images_json, err);
	if (r < 0)
		return r;

	vitem items[SW_STORAGE_MAX_ITEMS];
	size_t n = 0;
	int rc = 0;
	bool have_manifest = false;

	for (size_t i = 0; i < img->n_items && rc == 0; i++) {
		const char *key = img->items[i].key, *d = img->items[i].digest;
		char what[PATHBUF];
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;

		if (has_prefix(key, strlen(key), "sha256:")) {
			/* The config item: the image id is its digest. Other non-layer
			 * blobs are stored under their own digests; they say nothing
			 * about identity and are left alone. */
			if (strcmp(key, image_digest) != 0)
				continue;
			if (strcmp(d, image_digest) != 0) {
				rc = sw_err(err, SW_EVERIFY, "%s: image %s: config item recorded with digest %.80s",
					    images_json, id, d);
				break;
			}
			rc = read_item(datafd, images_path, id, key, d, &buf, &len, what, sizeof what, err);
			continue;
		}

		/* Every "manifest*" item is one of the image's digests for
		 * containers/storage (podman finds the image by any of them). */
		if (!sw_is_sha256_digest(d, strlen(d))) {
			rc = sw_err(err, SW_EINVAL, "%s: image %s: big-data \"%.80s\" has digest \"%.80s\", not sha256:<hex>",
				    images_json, id, key, d);
			break;
		}
		if (has_prefix(key, strlen(key), "manifest-") && strcmp(key + 9, d) != 0) {
			rc = sw_err(err, SW_EVERIFY, "%s: image %s: big-data \"%.80s\" is recorded with digest %s",
				    images_json, id, key, d);
			break;
		}
		if (!has_name(img, key)) {
			rc = sw_err(err, SW_EINVAL, "%s: image %s: big-data \"%.80s\" has a digest but is not in \"big-data-names\"",
				    images_json, id, key);
			break;
		}
		rc = read_item(datafd, images_path, id, key, d, &buf, &len, what, sizeof what, err);
		if (rc < 0)
			break;
		vitem *it = &items[n++];
		*it = (vitem){ 0 };
		memcpy(it->digest, d, SW_DIGEST_STR);
		snprintf(it->key, sizeof it->key, "%s", key);
		rc = parse_manifest(buf, len, what, image_digest, it, err);
		if (rc == 0 && it->kind == ITEM_MANIFEST)
			have_manifest = true;
	}

	if (rc == 0 && !have_manifest)
		rc = sw_err(err, SW_EVERIFY, "%s: image %s records no manifest (no \"manifest\" big-data digest)",
			    images_json, id);

	/* Manifests first, so that d[] reads id, manifests, indexes. */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (items[i].kind == ITEM_MANIFEST)
			rc = add_digest(out, items[i].digest, "manifest", images_json, err);

	/* An index is one of the image's digests only because the image was
	 * pulled through it: it must list one of the image's manifests. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (items[i].kind != ITEM_INDEX)
			continue;
		bool linked = false;
		for (size_t j = 0; j < items[i].n_listed && !linked; j++)
			for (size_t k = 0; k < n && !linked; k++)
				linked = items[k].kind == ITEM_MANIFEST &&
					 strcmp(items[i].listed[j], items[k].digest) == 0;
		if (!linked)
			rc = sw_err(err, SW_EVERIFY, "%s: image %s: index %s (big-data \"%.80s\") lists none of the image's manifests",
				    images_json, id, items[i].digest, items[i].key);
		else
			rc = add_digest(out, items[i].digest, "index", images_json, err);
	}

	/* The record's own "digest" is how podman names the image (and finds it by
	 * digest): it must be one that was just verified. */
	if (rc == 0 && img->digest && *img->digest) {
		bool known = false;
		for (size_t i = 1; i < out->n && !known; i++)
			known = strcmp(out->d[i].digest, img->digest) == 0;
		if (!known)
			rc = sw_err(err, SW_EVERIFY, "%s: image %s: \"digest\" %.80s is none of its stored manifests",
				    images_json, id, img->digest);
	}

	vitems_free(items, n);
	return rc;
}

/* The record of image `id` (64 hex) in one driver's image store: 1 verified,
 * 0 no such store or record, <0 error. */
static int image_in_store(int rootfd, const store_paths *sp, const char *id,
			  sw_storage_image *out, sw_error *err)
{
	char dirname[SW_STORAGE_DRIVER_MAX + 16];
	sw_msgpath(dirname, sizeof dirname, "%s-images", sp->driver);
	char images_path[PATHBUF], images_json[PATHBUF];
	sw_msgpath(images_path, sizeof images_path, "%s/%s", sp->root, dirname);
	sw_msgpath(images_json, sizeof images_json, "%s/images.json", images_path);

	_cleanup_close_ int imagesfd = -1;
	int r = sw_open_subdir(rootfd, dirname, images_path, &imagesfd, err);
	if (r <= 0)
		return r;

	_cleanup_free_ char *json = NULL;
	size_t len = 0;
	r = read_optional(imagesfd, "images.json", SW_STORAGE_JSON_MAX, images_json, &json, &len, err);
	if (r <= 0)
		return r;

	_cleanup_(record_free) record img = { 0 };
	r = find_record(json, len, images_json, true, id, &img, err);
	if (r <= 0)
		return r;

	sw_storage_image res = { 0 };
	snprintf(res.driver, sizeof res.driver, "%s", sp->driver);
	snprintf(res.id, sizeof res.id, "%s", id);
	if (img.name && strlen(img.name) < sizeof res.name)
		snprintf(res.name, sizeof res.name, "%s", img.name);
	r = verify_image(imagesfd, images_path, images_json, id, &img, &res, err);
	if (r < 0)
		return r;
	*out = res;
	return 1;
}

/* ---- containers ---- */

static int container_once(int rootfd, const char *root, const char *container_id,
			  char driver[SW_STORAGE_DRIVER_MAX], char image_id[SW_SHA256_HEX + 1], sw_error *err)
{
	static const char *const files[] = { "containers.json", "volatile-containers.json" };
	char found_in[PATHBUF] = "";

	for (size_t d = 0; d < SW_ARRAY_SIZE(drivers); d++) {
		char dirname[SW_STORAGE_DRIVER_MAX + 16], dir_path[PATHBUF];
		sw_msgpath(dirname, sizeof dirname, "%s-containers", drivers[d]);
		sw_msgpath(dir_path, sizeof dir_path, "%s/%s", root, dirname);
		_cleanup_close_ int cfd = -1;
		int r = sw_open_subdir(rootfd, dirname, dir_path, &cfd, err);
		if (r < 0)
			return r;
		if (r == 0)
			continue;

		for (size_t f = 0; f < SW_ARRAY_SIZE(files); f++) {
			char what[PATHBUF];
			sw_msgpath(what, sizeof what, "%s/%s", dir_path, files[f]);
			_cleanup_free_ char *json = NULL;
			size_t len = 0;
			r = read_optional(cfd, files[f], SW_STORAGE_JSON_MAX, what, &json, &len, err);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			_cleanup_(record_free) record c = { 0 };
			r = find_record(json, len, what, false, container_id, &c, err);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			/* One container, two records: which one podman uses depends
			 * on its configuration; refuse rather than guess. */
			if (found_in[0])
				return sw_err(err, SW_EINVAL, "%s: container %.80s is also in %s",
					      what, container_id, found_in);
			sw_msgpath(found_in, sizeof found_in, "%s", what);
			const char *img = c.image ? c.image : "";
			if (*img && !sw_is_hex64(img, strlen(img)))
				return sw_err(err, SW_EINVAL, "%s: container %.80s: image \"%.80s\" is not an image id",
					      what, container_id, img);
			snprintf(driver, SW_STORAGE_DRIVER_MAX, "%s", drivers[d]);
			snprintf(image_id, SW_SHA256_HEX + 1, "%s", img);
		}
	}
	return found_in[0] ? 1 : 0;
}

int sw_storage_container_image(const char *storage_root, const char *container_id,
			       char driver[SW_STORAGE_DRIVER_MAX], char image_id[SW_SHA256_HEX + 1],
			       sw_error *err)
{
	driver[0] = '\0';
	image_id[0] = '\0';
	if (!container_id || !*container_id)
		return sw_err(err, SW_EINVAL, "containers-storage: empty container id");
	_cleanup_close_ int rootfd = -1;
	int r = open_root(storage_root, &rootfd, err);
	if (r <= 0)
		return r;
	char drv[SW_STORAGE_DRIVER_MAX], img[SW_SHA256_HEX + 1];
	r = container_once(rootfd, storage_root, container_id, drv, img, err);
	if (r == 1) {
		memcpy(driver, drv, sizeof drv);
		memcpy(image_id, img, sizeof img);
	}
	return r;
}

int sw_storage_bundle_is_container(const char *bundle, const char *container_id)
{
	if (!bundle || !container_id || !*container_id || strchr(container_id, '/'))
		return 0;
	size_t blen = strlen(bundle), idlen = strlen(container_id);
	const char *tail = "/userdata";
	size_t tlen = strlen(tail);
	/* ".../<driver>-containers/<id>/userdata", nothing after (a trailing
	 * slash is the same directory) */
	while (blen > 1 && bundle[blen - 1] == '/')
		blen--;
	if (blen < tlen + idlen + 2 || memcmp(bundle + blen - tlen, tail, tlen) != 0)
		return 0;
	const char *id = bundle + blen - tlen - idlen;
	if (memcmp(id, container_id, idlen) != 0 || id[-1] != '/')
		return 0;
	const char *dir_end = id - 1;     /* the '/' before the id */
	for (size_t d = 0; d < SW_ARRAY_SIZE(drivers); d++) {
		char want[SW_STORAGE_DRIVER_MAX + 16];
		int n = snprintf(want, sizeof want, "/%s-containers", drivers[d]);
		if (n < 0 || (size_t)n >= sizeof want)
			continue;
		if ((size_t)(dir_end - bundle) >= (size_t)n && memcmp(dir_end - n, want, (size_t)n) == 0)
			return 1;
	}
	return 0;
}

/* ---- retries ---- */

/*
 * A lookup reads several files, each a complete version (written by rename), but
 * not necessarily the same generation: podman may commit between two reads (a
 * re-pull rewrites a manifest item, then images.json). The failures such a race
 * can cause are a missing record or file and a digest mismatch; those are
 * retried from scratch after a short pause. Every attempt must succeed on its
 * own, so a real mismatch still fails, only later.
 */
static bool transient(int code)
{
	return code == SW_EVERIFY || code == SW_ENOTFOUND || code == ENOENT;
}

static void pause_before(unsigned attempt)
{
	struct timespec ts = { 0, 5L * 1000 * 1000 * attempt };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int digests_once(const char *root, const char *id, sw_storage_image *out, sw_error *err)
{
	_cleanup_close_ int rootfd = -1;
	int r = open_root(root, &rootfd, err);
	if (r <= 0)
		return r;
	for (size_t d = 0; d < SW_ARRAY_SIZE(drivers); d++) {
		store_paths sp = { .root = root, .driver = drivers[d] };
		r = image_in_store(rootfd, &sp, id, out, err);
		if (r != 0)
			return r;
	}
	return 0;
}

int sw_storage_image_digests(const char *storage_root, const char *image_id,
			     sw_storage_image *out, sw_error *err)
{
	*out = (sw_storage_image){ 0 };
	char norm[SW_DIGEST_STR];
	if (!image_id || sw_digest_normalize(image_id, strlen(image_id), norm) < 0)
		return sw_err(err, SW_EINVAL, "containers-storage: \"%.80s\" is not an image id",
			      image_id ? image_id : "(null)");
	sw_error e = { 0 };
	int r;
	for (unsigned attempt = 1;; attempt++) {
		sw_storage_image res = { 0 };
		e = (sw_error){ 0 };
		r = digests_once(storage_root, norm + 7, &res, &e);
		if (r >= 0) {
			if (r == 1)
				*out = res;
			return r;
		}
		if (attempt >= SW_STORAGE_ATTEMPTS || !transient(e.code))
			break;
		pause_before(attempt);
	}
	if (err)
		*err = e;
	return r;
}

static int resolve_once(const char *root, const char *container_id, sw_storage_image *out, sw_error *err)
{
	_cleanup_close_ int rootfd = -1;
	int r = open_root(root, &rootfd, err);
	if (r <= 0)
		return r;
	char driver[SW_STORAGE_DRIVER_MAX], image_id[SW_SHA256_HEX + 1];
	r = container_once(rootfd, root, container_id, driver, image_id, err);
	if (r <= 0)
		return r;
	/* buildah's "from scratch" containers: no image, no claim. */
	if (!image_id[0])
		return 0;
	/* A container's image lives in the same driver's store (additional,
	 * read-only image stores are not consulted: such a container is denied). */
	store_paths sp = { .root = root, .driver = driver };
	r = image_in_store(rootfd, &sp, image_id, out, err);
	if (r == 0)
		return sw_err(err, SW_ENOTFOUND, "%s/%s-images/images.json: no record of image %s of container %.80s",
			      root, driver, image_id, container_id);
	return r;
}

int sw_storage_resolve(const char *storage_root, const char *container_id,
		       sw_resolution *r, sw_error *err)
{
	sw_resolution_looked(r, SW_STORAGE_SOURCE);
	if (!container_id || !*container_id)
		return sw_err(err, SW_EINVAL, "containers-storage: empty container id");

	sw_storage_image img;
	sw_error e = { 0 };
	int rc;
	for (unsigned attempt = 1;; attempt++) {
		img = (sw_storage_image){ 0 };
		e = (sw_error){ 0 };
		rc = resolve_once(storage_root, container_id, &img, &e);
		if (rc >= 0 || attempt >= SW_STORAGE_ATTEMPTS || !transient(e.code))
			break;
		pause_before(attempt);
	}
	if (rc < 0) {
		if (err)
			*err = e;
		return rc;
	}
	if (rc == 0)
		return 0;

	/* All or nothing: a half-added set could let another source's digest
	 * look linked to a partial view. */
	size_t n0 = r->n;
	for (size_t i = 0; i < img.n; i++) {
		int a = sw_resolution_add(r, img.d[i].digest, SW_STORAGE_SOURCE, img.d[i].kind, err);
		if (a < 0) {
			r->n = n0;
			return a;
		}
	}
	if (!r->reference[0] && img.name[0])
		snprintf(r->reference, sizeof r->reference, "%s", img.name);
	return 1;
}
