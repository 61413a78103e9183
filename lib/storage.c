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
#include "storeindex.h"

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

enum rfield {
	RF_OTHER = 0, RF_ID, RF_IMAGE, RF_DIGEST, RF_NAMES, RF_BDNAMES, RF_BDDIGESTS,
	RF_LAYER, RF_MAPPED, RF_PARENT, RF_DIFF,
};

static const char *const rfield_name[] = {
	[RF_OTHER] = "?", [RF_ID] = "id", [RF_IMAGE] = "image", [RF_DIGEST] = "digest",
	[RF_NAMES] = "names", [RF_BDNAMES] = "big-data-names", [RF_BDDIGESTS] = "big-data-digests",
	[RF_LAYER] = "layer", [RF_MAPPED] = "mapped-top-layers", [RF_PARENT] = "parent",
	[RF_DIFF] = "diff-digest",
};

/* Which of containers/storage's record files is parsed. */
enum rfile { FILE_CONTAINERS, FILE_IMAGES, FILE_LAYERS };

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
	char *layer;                  /* containers: its own layer; images: the top layer */
	char *parent;                 /* layers: the layer below; NULL for a bottom layer */
	char *diff;                   /* layers: "diff-digest", the uncompressed digest */
	bd_item items[SW_STORAGE_MAX_ITEMS];   /* big-data-digests, "manifest*"/"sha256:*" keys */
	size_t n_items;
	char *names[SW_STORAGE_MAX_ITEMS];     /* big-data-names, same keys */
	size_t n_names;
	char *mapped[SW_STORAGE_MAX_ITEMS];    /* images: mapped-top-layers */
	size_t n_mapped;
} record;

static void record_free(record *r)
{
	free(r->id);
	free(r->image);
	free(r->digest);
	free(r->name);
	free(r->layer);
	free(r->parent);
	free(r->diff);
	for (size_t i = 0; i < r->n_mapped; i++)
		free(r->mapped[i]);
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
	enum rfile file;
	const char *want;       /* the id looked for; NULL: every record (layers) */
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
	record *all;            /* want == NULL: every record, in file order */
	size_t n_all, cap_all;
	yajl_handle h;          /* the parser, for record offsets (with ix) */
	sw_storeindex_build *ix;   /* non-NULL: collect every record's id and span */
	uint64_t rec_start;     /* offset of the current record's '{' */
} rparse;

static void rparse_done(rparse *p)
{
	free(p->pending);
	record_free(&p->cur);
	record_free(&p->found);
	for (size_t i = 0; i < p->n_all; i++)
		record_free(&p->all[i]);
	free(p->all);
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
		p->keep = !p->want || strcmp(p->cur.id, p->want) == 0;
		return 1;
	case RF_IMAGE:
	case RF_DIGEST:
	case RF_LAYER:
	case RF_PARENT:
	case RF_DIFF: {
		/* Go reads null into a string as "unset". */
		if (t == T_NULL)
			return 1;
		if (t != T_STRING)
			return FAIL(p, SW_EINVAL, "%s: record %zu: \"%s\" is not a string (got %s)",
				    p->what, p->index, name, vtype_name(t));
		if (!p->keep)
			return 1;
		char **dst = p->field == RF_IMAGE ? &p->cur.image : p->field == RF_DIGEST ? &p->cur.digest
			   : p->field == RF_LAYER ? &p->cur.layer : p->field == RF_PARENT ? &p->cur.parent
			   : &p->cur.diff;
		return dup_string(p, s, len, dst);
	}
	case RF_NAMES:
	case RF_BDNAMES:
	case RF_MAPPED:
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
	if (p->field != RF_NAMES && p->field != RF_BDNAMES && p->field != RF_BDDIGESTS && p->field != RF_MAPPED)
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

	if (p->field == RF_MAPPED) {
		if (!p->keep)
			return 1;
		if (p->cur.n_mapped >= SW_STORAGE_MAX_ITEMS)
			return FAIL(p, SW_ETOOBIG, "%s: record %zu: more than %d elements in \"%s\"",
				    p->what, p->index, SW_STORAGE_MAX_ITEMS, name);
		char *m = strndup((const char *)s, len);
		if (!m)
			return FAIL(p, ENOMEM, "%s: out of memory", p->what);
		p->cur.mapped[p->cur.n_mapped++] = m;
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
	if (p->ix && p->h && p->cur.id)
		sw_storeindex_add(p->ix, p->cur.id, strlen(p->cur.id), p->rec_start,
				  yajl_get_bytes_consumed(p->h) - p->rec_start);
	if (!p->want) {
		if (p->n_all == p->cap_all) {
			size_t nc = p->cap_all ? 2 * p->cap_all : 64;
			record *na = realloc(p->all, nc * sizeof *na);
			if (!na)
				return FAIL(p, ENOMEM, "%s: out of memory", p->what);
			p->all = na;
			p->cap_all = nc;
		}
		p->all[p->n_all++] = p->cur;
		p->cur = (record){ 0 };
	} else if (p->keep) {
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
		/* yajl has just consumed the record's '{'. */
		if (p->ix && p->h)
			p->rec_start = yajl_get_bytes_consumed(p->h) - 1;
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
	if (p->file == FILE_LAYERS) {
		if (sw_json_go_key_eq(k, len, "parent"))
			return RF_PARENT;
		return sw_json_go_key_eq(k, len, "diff-digest") ? RF_DIFF : RF_OTHER;
	}
	if (sw_json_go_key_eq(k, len, "layer"))
		return RF_LAYER;
	if (p->file == FILE_CONTAINERS)
		return sw_json_go_key_eq(k, len, "image") ? RF_IMAGE : RF_OTHER;
	if (sw_json_go_key_eq(k, len, "mapped-top-layers"))
		return RF_MAPPED;
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
static int find_record(const char *json, size_t len, const char *what, enum rfile file,
		       const char *want, record *out, sw_storeindex_build *ix, sw_error *err)
{
	/* containers/storage treats an empty file as an empty store. */
	if (len == 0)
		return 0;

	_cleanup_(rparse_done) rparse p = { .what = what, .err = err, .file = file, .want = want, .ix = ix };
	int r = sw_json_events_h(&callbacks, &p, &p.h, &p.failed, json, len, what, err);
	if (r < 0)
		return r;
	if (!p.have_found)
		return 0;
	*out = p.found;
	p.found = (record){ 0 };
	return 1;
}

/* Every record of a layers.json or containers.json text, in file order: 0 with *out and *n set
 * (caller frees each with record_free, then the array), <0 when the document is
 * malformed anywhere. */
static int all_records(const char *json, size_t len, const char *what, enum rfile file,
		       record **out, size_t *n, sw_storeindex_build *ix, sw_error *err)
{
	*out = NULL;
	*n = 0;
	if (len == 0)
		return 0;
	_cleanup_(rparse_done) rparse p = { .what = what, .err = err, .file = file, .want = NULL, .ix = ix };
	int r = sw_json_events_h(&callbacks, &p, &p.h, &p.failed, json, len, what, err);
	if (r < 0)
		return r;
	*out = TAKE_PTR(p.all);
	*n = p.n_all;
	p.n_all = p.cap_all = 0;
	return 0;
}

/* ---- one store file, through its index (storeindex.h) ---- */

/*
 * containers.json, images.json and layers.json grow with the node (4 MB of
 * images.json at 3 000 images), and parsing them whole made every start cost
 * follow the node's image and container count (issue 17). A lookup reads the
 * one record it needs at the span the file's index names, when the index was
 * built from exactly this version of the file (same inode, size, mtime and
 * ctime: containers/storage replaces these files by rename), and parses it
 * with the same strict rules; the record must carry the id looked for and sit
 * between '[' or ',' and ',' or ']'. Anything else (no index, another version,
 * a span that does not hold the record) parses the file whole, as before, which
 * also rebuilds the index. So the index only says where a record is: the record
 * itself is always read from the store.
 */
typedef struct sfile {
	int fd;                 /* -1: the file does not exist */
	struct stat st;         /* the version read: all reads go through fd */
	enum rfile kind;
	char what[PATHBUF];
} sfile;

static const char *const sfile_kind[] = {
	[FILE_CONTAINERS] = "cs-containers", [FILE_IMAGES] = "cs-images", [FILE_LAYERS] = "cs-layers",
};

static void sfile_close(sfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* 1 opened, 0 the file does not exist (f->fd -1), <0 error. Regular files only,
 * no links, bounded, as sw_read_file_at. */
static int sfile_open(int dirfd, const char *name, const char *what, enum rfile kind, sfile *f, sw_error *err)
{
	f->kind = kind;
	sw_msgpath(f->what, sizeof f->what, "%s", what);
	return sw_storeindex_open(dirfd, name, what, SW_STORAGE_JSON_MAX, &f->st, &f->fd, err);
}

/* The whole file, from the descriptor whose version f->st describes. */
static int sfile_read(sfile *f, char **json, size_t *len, sw_error *err)
{
	if (lseek(f->fd, 0, SEEK_SET) < 0)
		return sw_err_errno(err, errno, "%s: cannot seek", f->what);
	return sw_read_fd(f->fd, SW_STORAGE_JSON_MAX, f->what, json, len, err);
}

/* The records of span e (one record, or with `whole` a run of records) read
 * from the file and parsed as an array with the whole file's rules: 1 with
 * *out when the record `want` is among them, 0 when not, -1 when the span is not
 * where records sit or does not parse. */
static int sfile_span_find(sfile *f, const sw_storeindex_entry *e, const char *before, const char *after,
			   const char *want, record *out)
{
	_cleanup_free_ char *span = NULL;
	size_t len = 0;
	if (sw_storeindex_read_span(f->fd, &f->st, e, before, after, &span, &len) < 0 || span[0] != '{')
		return -1;
	_cleanup_free_ char *arr = malloc(len + 3);
	if (!arr)
		return -1;
	arr[0] = '[';
	memcpy(arr + 1, span, len);
	arr[len + 1] = ']';
	arr[len + 2] = '\0';
	int r = find_record(arr, len + 2, f->what, f->kind, want, out, NULL, NULL);
	return r < 0 ? -1 : r;
}

/*
 * The record `want` through the index: 1 found (*out), 0 the index says the
 * file has no such record, -1 not answered this way (parse whole).
 *
 * An index of exactly this version answers alone. One of an earlier version
 * answers too when this version is that one with records appended, which is
 * what `podman create` (CRI-O's CreateContainer) makes of containers.json and
 * layers.json just before the start: the earlier version's last record must
 * still be at its span, followed by ',' and nothing but records up to the
 * closing ']' (at most SW_STOREINDEX_TAIL_MAX bytes, parsed here). A removal or
 * a resized record before it moves the last record: parsed whole. Every record
 * used is read from this version of the file, as always; a record both in the
 * earlier part and appended is refused by the whole parse.
 */
static int sfile_indexed(sfile *f, const char *want, record *out)
{
	if (!sw_storeindex_enabled() || !sw_is_hex64(want, strlen(want)))
		return -1;
	sw_storeindex_entry spans[2];
	size_t n = 0;
	sw_storeindex_prev prev;
	int r = sw_storeindex_lookup(sfile_kind[f->kind], f->what, &f->st, want, spans, SW_ARRAY_SIZE(spans), &n,
				     &prev);
	/* Ids are unique in a file whose index was built (a duplicate fails the
	 * build): two spans are a damaged index. */
	if (r < 0 || n > 1)
		return -1;
	_cleanup_(record_free) record found = { 0 };
	if (n == 1 && sfile_span_find(f, &spans[0], "[,", ",]", want, &found) != 1)
		return -1;
	if (!prev.exact) {
		uint64_t size = (uint64_t)f->st.st_size;
		if (!prev.last.key[0] || size - prev.size > SW_STOREINDEX_TAIL_MAX)
			return -1;
		_cleanup_(record_free) record last = { 0 };
		if (sfile_span_find(f, &prev.last, "[,", size > prev.size ? "," : "]", prev.last.key, &last) != 1)
			return -1;
		if (size > prev.size) {
			/* prev.size - 1 held the earlier version's ']', now ',':
			 * the appended records run from prev.size to the new ']'. */
			sw_storeindex_entry tail = { .off = prev.size, .len = (uint32_t)(size - 1 - prev.size) };
			_cleanup_(record_free) record appended = { 0 };
			int t = sfile_span_find(f, &tail, ",", "]", want, &appended);
			if (t < 0 || (t == 1 && n == 1))
				return -1;
			if (t == 1) {
				*out = appended;
				appended = (record){ 0 };
				return 1;
			}
		}
	}
	if (n == 0)
		return 0;
	*out = found;
	found = (record){ 0 };
	return 1;
}

/* The record `want` of an open file: 1 found, 0 none, <0 error (the file is
 * malformed: see find_record). */
static int sfile_find(sfile *f, const char *want, record *out, sw_error *err)
{
	if (f->fd < 0)
		return 0;
	int r = sfile_indexed(f, want, out);
	if (r >= 0)
		return r;
	_cleanup_free_ char *json = NULL;
	size_t len = 0;
	if ((r = sfile_read(f, &json, &len, err)) < 0)
		return r;
	_cleanup_(sw_storeindex_build_free) sw_storeindex_build ix = { 0 };
	bool index = sw_storeindex_enabled();
	r = find_record(json, len, f->what, f->kind, want, out, index ? &ix : NULL, err);
	if (r >= 0 && index)
		sw_storeindex_store(sfile_kind[f->kind], f->what, &f->st, &ix);
	return r;
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

/* ---- the image config and the layer chain ---- */

/* rootfs.diff_ids of an image config, bottom layer first. */
typedef struct diffids {
	char (*d)[SW_DIGEST_STR];
	size_t n;
} diffids;

static void diffids_free(diffids *ids)
{
	free(ids->d);
	*ids = (diffids){ 0 };
}

/*
 * The config item parsed as what its digest claims to be: an OCI or Docker image
 * config. The image id only says that the bytes hash to it; a blob whose bytes
 * are a listed image's manifest hashes to that manifest's digest, and stored as
 * a config it would give a forged image a listed digest as its id. So it must
 * be a JSON object with rootfs.type "layers" and an array rootfs.diff_ids of
 * sha256 digests (what containers/image unpacked the layers against), and it
 * must not carry a manifest's or an index's "schemaVersion" (no config format
 * has one: a document that is both is the forgery's shape).
 */
static int parse_config(const char *buf, size_t len, const char *what, diffids *out, sw_error *err)
{
	_cleanup_yajl_ yajl_val doc = NULL;
	int r = sw_json_tree(buf, len, what, &doc, err);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(doc))
		return sw_err(err, SW_EVERIFY, "%s: not an image config (not a JSON object)", what);
	yajl_val sv = NULL, rootfs = NULL, type = NULL, ids = NULL;
	if ((r = mget(doc, "schemaversion", &sv, what, err)) < 0)
		return r;
	if (r == 1)
		return sw_err(err, SW_EVERIFY, "%s: not an image config (has a manifest's \"schemaVersion\")", what);
	if ((r = mget(doc, "rootfs", &rootfs, what, err)) < 0)
		return r;
	if (r == 0 || !YAJL_IS_OBJECT(rootfs))
		return sw_err(err, SW_EVERIFY, "%s: not an image config (no \"rootfs\" object)", what);
	if ((r = mget(rootfs, "type", &type, what, err)) < 0)
		return r;
	if (r == 0 || !YAJL_IS_STRING(type) || strcmp(type->u.string, "layers") != 0)
		return sw_err(err, SW_EVERIFY, "%s: not an image config (rootfs.type is not \"layers\")", what);
	if ((r = mget(rootfs, "diff_ids", &ids, what, err)) < 0)
		return r;
	if (r == 0 || !YAJL_IS_ARRAY(ids))
		return sw_err(err, SW_EVERIFY, "%s: not an image config (no rootfs.diff_ids array)", what);
	size_t n = ids->u.array.len;
	if (n > SW_STORAGE_MAX_LAYERS)
		return sw_err(err, SW_ETOOBIG, "%s: more than %d rootfs.diff_ids", what, SW_STORAGE_MAX_LAYERS);
	out->d = calloc(n ? n : 1, sizeof *out->d);
	if (!out->d)
		return sw_err(err, ENOMEM, "%s: out of memory", what);
	for (size_t i = 0; i < n; i++) {
		yajl_val d = ids->u.array.values[i];
		if (!YAJL_IS_STRING(d) || !sw_is_sha256_digest(d->u.string, strlen(d->u.string))) {
			diffids_free(out);
			return sw_err(err, SW_EVERIFY, "%s: rootfs.diff_ids[%zu] is not sha256:<64 hex>", what, i);
		}
		memcpy(out->d[i], d->u.string, SW_DIGEST_STR);
	}
	out->n = n;
	return 0;
}

/*
 * One driver's layer records (layers.json and volatile-layers.json). Read one
 * record at a time through the files' indexes (the chain of one image is a few
 * records of thousands), or, when an index cannot answer, parsed whole (which
 * rebuilds the indexes) and kept sorted by id.
 */
typedef struct layerset {
	sfile f[2];                  /* layers.json, volatile-layers.json (fd -1: absent) */
	bool whole;                  /* parsed whole: l[] holds every record */
	record *l;                   /* whole: every record, sorted; else the records read so far */
	size_t n, cap;
	char what[PATHBUF];          /* <root>/<driver>-layers/layers.json, for messages */
} layerset;

static void layerset_free(layerset *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		record_free(&ls->l[i]);
	free(ls->l);
	ls->l = NULL;
	ls->n = ls->cap = 0;
	for (size_t i = 0; i < SW_ARRAY_SIZE(ls->f); i++)
		sfile_close(&ls->f[i]);
}

static int cmp_layer(const void *a, const void *b)
{
	return strcmp(((const record *)a)->id, ((const record *)b)->id);
}

/* Both files whole, into l[] sorted; a layer in both, or twice, is refused. */
static int layers_whole(layerset *ls, sw_error *err)
{
	for (size_t i = 0; i < ls->n; i++)
		record_free(&ls->l[i]);
	ls->n = 0;
	ls->whole = true;
	bool index = sw_storeindex_enabled();
	for (size_t f = 0; f < SW_ARRAY_SIZE(ls->f); f++) {
		sfile *sf = &ls->f[f];
		if (sf->fd < 0)
			continue;
		_cleanup_free_ char *json = NULL;
		size_t len = 0;
		int r = sfile_read(sf, &json, &len, err);
		if (r < 0)
			return r;
		record *recs = NULL;
		size_t n = 0;
		_cleanup_(sw_storeindex_build_free) sw_storeindex_build ix = { 0 };
		r = all_records(json, len, sf->what, FILE_LAYERS, &recs, &n, index ? &ix : NULL, err);
		if (r < 0)
			return r;
		record *nl = n ? realloc(ls->l, (ls->n + n) * sizeof *nl) : ls->l;
		if (n && !nl) {
			for (size_t i = 0; i < n; i++)
				record_free(&recs[i]);
			free(recs);
			return sw_err(err, ENOMEM, "%s: out of memory", sf->what);
		}
		ls->l = nl;
		if (n)
			memcpy(ls->l + ls->n, recs, n * sizeof *recs);
		ls->n += n;
		ls->cap = ls->n;
		free(recs);
		if (index)
			sw_storeindex_store(sfile_kind[FILE_LAYERS], sf->what, &sf->st, &ix);
	}
	if (ls->n)
		qsort(ls->l, ls->n, sizeof *ls->l, cmp_layer);
	for (size_t i = 1; i < ls->n; i++)
		if (strcmp(ls->l[i - 1].id, ls->l[i].id) == 0)
			return sw_err(err, SW_EINVAL, "%s: layer %.80s appears twice", ls->what, ls->l[i].id);
	return 0;
}

/*
 * The record of layer id: 1 with *out (valid until the layerset is freed), 0
 * when there is none, <0 error. Through the indexes, a layer found in both files
 * is refused as the whole parse refuses it (for the layers looked up: the
 * whole parse that built the indexes refused duplicates within each file).
 */
static int layer_get(layerset *ls, const char *id, const record **out, sw_error *err)
{
	*out = NULL;
	if (!ls->whole) {
		for (size_t i = 0; i < ls->n; i++)
			if (strcmp(ls->l[i].id, id) == 0) {
				*out = &ls->l[i];
				return 1;
			}
		record got[2] = { { 0 } };
		size_t n_got = 0;
		bool answered = true;
		for (size_t f = 0; f < SW_ARRAY_SIZE(ls->f) && answered; f++) {
			if (ls->f[f].fd < 0)
				continue;
			int r = sfile_indexed(&ls->f[f], id, &got[n_got]);
			if (r < 0)
				answered = false;
			else if (r == 1)
				n_got++;
		}
		if (answered && n_got == 2) {
			record_free(&got[0]);
			record_free(&got[1]);
			return sw_err(err, SW_EINVAL, "%s: layer %.80s appears twice", ls->what, id);
		}
		if (answered && n_got == 0)
			return 0;
		if (answered && ls->n == ls->cap) {
			size_t nc = ls->cap ? 2 * ls->cap : 8;
			record *nl = realloc(ls->l, nc * sizeof *nl);
			if (!nl)
				answered = false;
			else {
				ls->l = nl;
				ls->cap = nc;
			}
		}
		if (answered) {
			/* l[] may move on the next call: callers copy what they keep
			 * of a record before asking for another (check_chain). */
			ls->l[ls->n] = got[0];
			*out = &ls->l[ls->n++];
			return 1;
		}
		for (size_t i = 0; i < n_got; i++)
			record_free(&got[i]);
		int r = layers_whole(ls, err);
		if (r < 0)
			return r;
	}
	record key = { .id = (char *)id };
	*out = ls->n ? bsearch(&key, ls->l, ls->n, sizeof *ls->l, cmp_layer) : NULL;
	return *out ? 1 : 0;
}

/*
 * containers/storage keeps the layers in <driver>-layers/layers.json, and the
 * layers of volatile containers (podman >= 4.4, --rm) in volatile-layers.json
 * next to it, both written whole by rename like the other files. A missing
 * directory or file holds no layers. Only opened here: records are read by
 * layer_get.
 */
static int load_layers(int rootfd, const char *root, const char *driver, layerset *ls, sw_error *err)
{
	static const char *const files[] = { "layers.json", "volatile-layers.json" };
	char dirname[SW_STORAGE_DRIVER_MAX + 16], dir_path[PATHBUF];
	sw_msgpath(dirname, sizeof dirname, "%s-layers", driver);
	sw_msgpath(dir_path, sizeof dir_path, "%s/%s", root, dirname);
	sw_msgpath(ls->what, sizeof ls->what, "%s/layers.json", dir_path);
	for (size_t f = 0; f < SW_ARRAY_SIZE(ls->f); f++)
		ls->f[f].fd = -1;
	_cleanup_close_ int lfd = -1;
	int r = sw_open_subdir(rootfd, dirname, dir_path, &lfd, err);
	if (r <= 0)
		return r;
	for (size_t f = 0; f < SW_ARRAY_SIZE(files); f++) {
		char what[PATHBUF];
		sw_msgpath(what, sizeof what, "%s/%s", dir_path, files[f]);
		r = sfile_open(lfd, files[f], what, FILE_LAYERS, &ls->f[f], err);
		if (r < 0)
			return r;
	}
	/* Without indexes, every record at once, as before. */
	return sw_storeindex_enabled() ? 0 : layers_whole(ls, err);
}

/*
 * The layers a container runs on are the chain below `top` (each layer's
 * "parent"); their "diff-digest"s (the uncompressed digests containers/storage
 * computed while it unpacked them), bottom first, must be the config's
 * rootfs.diff_ids exactly. Without this a config (and so an image id) could sit
 * over any layers: a listed image's real config bytes over other content.
 */
static int check_chain(layerset *ls, const char *top, const diffids *ids, const char *image_id,
		       sw_error *err)
{
	if (!top || !*top) {
		if (ids->n)
			return sw_err(err, SW_EVERIFY, "%s: image %s has no top layer, its config lists %zu rootfs.diff_ids",
				      ls->what, image_id, ids->n);
		return 0;
	}
	/* k falls by one per layer: a cycle in "parent" cannot loop. layer_get
	 * may move the records read before: the id walked is a copy. */
	size_t k = ids->n;
	_cleanup_free_ char *cur = strdup(top);
	if (!cur)
		return sw_err(err, ENOMEM, "%s: out of memory", ls->what);
	while (*cur) {
		if (k == 0)
			return sw_err(err, SW_EVERIFY, "%s: image %s: the layer chain below %.80s is longer than the config's %zu rootfs.diff_ids",
				      ls->what, image_id, top, ids->n);
		const record *l = NULL;
		int r = layer_get(ls, cur, &l, err);
		if (r < 0)
			return r;
		if (r == 0)
			return sw_err(err, SW_EVERIFY, "%s: image %s: no record of layer %.80s", ls->what, image_id, cur);
		k--;
		if (!l->diff || strcmp(l->diff, ids->d[k]) != 0)
			return sw_err(err, SW_EVERIFY, "%s: image %s: layer %.80s has diff-digest %.80s, the config's rootfs.diff_ids[%zu] is %s",
				      ls->what, image_id, cur, l->diff ? l->diff : "(none)", k, ids->d[k]);
		char *next = strdup(l->parent ? l->parent : "");
		if (!next)
			return sw_err(err, ENOMEM, "%s: out of memory", ls->what);
		free(cur);
		cur = next;
	}
	if (k != 0)
		return sw_err(err, SW_EVERIFY, "%s: image %s: the layer chain below %.80s holds %zu layers, the config lists %zu rootfs.diff_ids",
			      ls->what, image_id, top, ids->n - k, ids->n);
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
			const char *id, record *img, sw_storage_image *out, diffids *ids, sw_error *err)
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
	bool have_manifest = false, have_config = false;

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
			if (rc == 0)
				rc = parse_config(buf, len, what, ids, err);
			have_config = rc == 0;
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

	/* The config is what binds the id to the layers (below): an image without
	 * one is refused, where it was checked only "when stored" before.
	 * containers/image stores it with every pull and every commit. */
	if (rc == 0 && !have_config)
		rc = sw_err(err, SW_EVERIFY, "%s: image %s records no config (no \"%s\" big-data digest)",
			    images_json, id, image_digest);

	vitems_free(items, n);
	return rc;
}

/*
 * The container's own layer must sit on the image's layers: its "parent" is the
 * image's top layer (or one of the image's mapped top layers, copies that
 * containers/storage makes for another ID mapping, with the same parent and
 * content, whose chain is then checked too). Otherwise the image record names an
 * image the container does not run.
 */
static int check_container_layer(layerset *ls, const record *img, const char *id, const char *cid,
				 const char *clayer, const diffids *ids, sw_error *err)
{
	if (!clayer || !*clayer)
		return sw_err(err, SW_EVERIFY, "%s: container %.80s of image %s records no layer", ls->what, cid, id);
	const record *l = NULL;
	int r = layer_get(ls, clayer, &l, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sw_err(err, SW_EVERIFY, "%s: no record of layer %.80s of container %.80s", ls->what, clayer, cid);
	/* A copy: check_chain reads more records, which may move this one. */
	char parent[SW_STORAGE_KEY_MAX + 1];
	if (l->parent && strlen(l->parent) >= sizeof parent)
		return sw_err(err, SW_EINVAL, "%s: layer %.80s: \"parent\" is longer than %d bytes", ls->what, clayer,
			      SW_STORAGE_KEY_MAX);
	snprintf(parent, sizeof parent, "%s", l->parent ? l->parent : "");
	const char *top = img->layer ? img->layer : "";
	if (strcmp(parent, top) == 0)
		return 0;
	for (size_t i = 0; i < img->n_mapped; i++)
		if (*parent && strcmp(parent, img->mapped[i]) == 0)
			return check_chain(ls, parent, ids, id, err);
	return sw_err(err, SW_EVERIFY, "%s: layer %.80s of container %.80s sits on %.80s, not on image %s's top layer %.80s",
		      ls->what, clayer, cid, *parent ? parent : "nothing", id, *top ? top : "(none)");
}

/* The record of image `id` (64 hex) in one driver's image store: 1 verified,
 * 0 no such store or record, <0 error. With cid, the container's layer
 * (clayer) must sit on the image's layers. */
static int image_in_store(int rootfd, const store_paths *sp, const char *id, const char *cid,
			  const char *clayer, sw_storage_image *out, sw_error *err)
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

	_cleanup_(sfile_close) sfile imf = { .fd = -1 };
	r = sfile_open(imagesfd, "images.json", images_json, FILE_IMAGES, &imf, err);
	if (r <= 0)
		return r;
	_cleanup_(record_free) record img = { 0 };
	r = sfile_find(&imf, id, &img, err);
	if (r <= 0)
		return r;

	sw_storage_image res = { 0 };
	snprintf(res.driver, sizeof res.driver, "%s", sp->driver);
	snprintf(res.id, sizeof res.id, "%s", id);
	if (img.name && strlen(img.name) < sizeof res.name)
		snprintf(res.name, sizeof res.name, "%s", img.name);
	_cleanup_(diffids_free) diffids ids = { 0 };
	r = verify_image(imagesfd, images_path, images_json, id, &img, &res, &ids, err);
	if (r < 0)
		return r;
	_cleanup_(layerset_free) layerset ls = { .f = { { .fd = -1 }, { .fd = -1 } } };
	r = load_layers(rootfd, sp->root, sp->driver, &ls, err);
	if (r < 0)
		return r;
	r = check_chain(&ls, img.layer, &ids, id, err);
	if (r == 0 && cid)
		r = check_container_layer(&ls, &img, id, cid, clayer, &ids, err);
	if (r < 0)
		return r;
	*out = res;
	return 1;
}

/* ---- containers ---- */

static int container_once(int rootfd, const char *root, const char *container_id,
			  char driver[SW_STORAGE_DRIVER_MAX], char image_id[SW_SHA256_HEX + 1],
			  char layer[SW_SHA256_HEX + 1], sw_error *err)
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
			_cleanup_(sfile_close) sfile cf = { .fd = -1 };
			r = sfile_open(cfd, files[f], what, FILE_CONTAINERS, &cf, err);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			_cleanup_(record_free) record c = { 0 };
			r = sfile_find(&cf, container_id, &c, err);
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
			/* containers/storage makes every layer id 64 random hex digits. */
			const char *lay = c.layer ? c.layer : "";
			if (*lay && !sw_is_hex64(lay, strlen(lay)))
				return sw_err(err, SW_EINVAL, "%s: container %.80s: layer \"%.80s\" is not a layer id",
					      what, container_id, lay);
			snprintf(driver, SW_STORAGE_DRIVER_MAX, "%s", drivers[d]);
			snprintf(image_id, SW_SHA256_HEX + 1, "%s", img);
			snprintf(layer, SW_SHA256_HEX + 1, "%s", lay);
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
	char drv[SW_STORAGE_DRIVER_MAX], img[SW_SHA256_HEX + 1], layer[SW_SHA256_HEX + 1];
	r = container_once(rootfd, storage_root, container_id, drv, img, layer, err);
	if (r == 1) {
		memcpy(driver, drv, sizeof drv);
		memcpy(image_id, img, sizeof img);
	}
	return r;
}

/* One containers.json (or volatile-containers.json) of a driver: every record,
 * or one error entry naming the file. fn's non-zero answer is returned. */
static int list_file(int cfd, const char *dir_path, const char *driver, const char *file,
		     sw_storage_container_fn fn, void *ctx)
{
	char what[PATHBUF];
	sw_msgpath(what, sizeof what, "%s/%s", dir_path, file);
	sw_error e = { 0 };
	_cleanup_free_ char *json = NULL;
	size_t len = 0;
	sw_storage_container c = { .driver = driver, .file = what, .id = "", .image_id = "" };
	int r = read_optional(cfd, file, SW_STORAGE_JSON_MAX, what, &json, &len, &e);
	if (r == 0)
		return 0;
	record *all = NULL;
	size_t n = 0;
	if (r > 0)
		r = all_records(json, len, what, FILE_CONTAINERS, &all, &n, NULL, &e);
	if (r < 0) {
		c.error = e.msg;
		return fn(&c, ctx);
	}
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		sw_error bad = { 0 };
		c = (sw_storage_container){ .driver = driver, .file = what, .id = all[i].id,
					    .image_id = all[i].image ? all[i].image : "" };
		if (*c.image_id && !sw_is_hex64(c.image_id, strlen(c.image_id))) {
			(void)sw_err(&bad, SW_EINVAL, "%s: container %.80s: image \"%.80s\" is not an image id",
				     what, c.id, c.image_id);
			c.error = bad.msg;
			c.image_id = "";
		}
		ret = fn(&c, ctx);
	}
	for (size_t i = 0; i < n; i++)
		record_free(&all[i]);
	free(all);
	return ret;
}

int sw_storage_containers(const char *storage_root, sw_storage_container_fn fn, void *ctx, sw_error *err)
{
	static const char *const files[] = { "containers.json", "volatile-containers.json" };
	_cleanup_close_ int rootfd = -1;
	int r = open_root(storage_root, &rootfd, err);
	if (r <= 0)
		return r;
	for (size_t d = 0; d < SW_ARRAY_SIZE(drivers); d++) {
		char dirname[SW_STORAGE_DRIVER_MAX + 16], dir_path[PATHBUF];
		sw_msgpath(dirname, sizeof dirname, "%s-containers", drivers[d]);
		sw_msgpath(dir_path, sizeof dir_path, "%s/%s", storage_root, dirname);
		_cleanup_close_ int cfd = -1;
		sw_error e = { 0 };
		r = sw_open_subdir(rootfd, dirname, dir_path, &cfd, &e);
		if (r == 0)
			continue;
		if (r < 0) {
			/* A store sigward cannot open may hold containers: say so. */
			sw_storage_container c = { .driver = drivers[d], .file = dir_path, .id = "",
						   .image_id = "", .error = e.msg };
			r = fn(&c, ctx);
			if (r)
				return r;
			continue;
		}
		for (size_t f = 0; f < SW_ARRAY_SIZE(files); f++) {
			r = list_file(cfd, dir_path, drivers[d], files[f], fn, ctx);
			if (r)
				return r;
		}
	}
	return 0;
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
 * can cause are a missing record or file and a digest mismatch. After one, the
 * lookup runs again between two stamps of the store: a failure while the store
 * stood still (same stamps, no writer holding a lock) is real and returned at
 * once; one while it changed is retried, for SW_STORE_BUSY_MS at most, then
 * refused as SW_EBUSY (store busy). Every attempt must succeed on its own, so a
 * real mismatch still fails, and a store that is merely busy is never mistaken
 * for a tampered one (or the reverse, while it stands still).
 */
static bool transient(int code)
{
	return code == SW_EVERIFY || code == SW_ENOTFOUND || code == ENOENT;
}

/* Every file a lookup reads, per driver: containers/storage rewrites one of
 * these (a new inode, by rename) in every change it makes, after the big-data
 * items the change writes, and all while holding the directory's lock file. */
static const struct stamp_dir {
	const char *suffix, *lock, *files[2];
} stamp_dirs[] = {
	{ "containers", "containers.lock", { "containers.json", "volatile-containers.json" } },
	{ "images", "images.lock", { "images.json", NULL } },
	{ "layers", "layers.lock", { "layers.json", "volatile-layers.json" } },
};
#define STAMP_N (SW_ARRAY_SIZE(drivers) * SW_ARRAY_SIZE(stamp_dirs) * 2)

typedef struct store_stamp {
	struct { dev_t dev; ino_t ino; off_t size; struct timespec mtime, ctime; } f[STAMP_N];
	bool writing;      /* a writer held one of the lock files when the stamp was taken */
} store_stamp;

/* Does someone hold a write lock on dir/lock? containers/storage's writers take
 * an fcntl F_WRLCK on the whole file (its readers F_RDLCK). Asked with F_GETLK,
 * which takes no lock: podman, CRI-O and buildah never wait for sigward. */
static bool write_locked(int rootfd, const char *path)
{
	_cleanup_close_ int fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	return fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_WRLCK;
}

static void store_stamp_take(const char *root, store_stamp *s)
{
	memset(s, 0, sizeof *s);
	_cleanup_close_ int rootfd = -1;
	sw_error e = { 0 };
	if (open_root(root, &rootfd, &e) <= 0)
		return;
	size_t k = 0;
	for (size_t d = 0; d < SW_ARRAY_SIZE(drivers); d++) {
		for (size_t i = 0; i < SW_ARRAY_SIZE(stamp_dirs); i++) {
			const struct stamp_dir *sd = &stamp_dirs[i];
			char path[SW_STORAGE_DRIVER_MAX + 64];
			snprintf(path, sizeof path, "%s-%s/%s", drivers[d], sd->suffix, sd->lock);
			if (write_locked(rootfd, path))
				s->writing = true;
			for (size_t f = 0; f < 2; f++, k++) {
				struct stat st;
				if (!sd->files[f])
					continue;
				snprintf(path, sizeof path, "%s-%s/%s", drivers[d], sd->suffix, sd->files[f]);
				if (fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue;   /* missing: all zero, as in the other stamp if still missing */
				s->f[k].dev = st.st_dev;
				s->f[k].ino = st.st_ino;
				s->f[k].size = st.st_size;
				s->f[k].mtime = st.st_mtim;
				s->f[k].ctime = st.st_ctim;
			}
		}
	}
}

static bool store_stamp_same(const store_stamp *a, const store_stamp *b)
{
	return !a->writing && !b->writing && memcmp(a->f, b->f, sizeof a->f) == 0;
}

/* Run once(root, key, out, err) until it succeeds, fails for real, or the
 * store stayed busy for the whole budget (SW_EBUSY). Costs nothing extra when
 * the first lookup succeeds or fails for a reason no writer causes. */
typedef int (*lookup_fn)(const char *root, const char *key, sw_storage_image *out, sw_error *err);

static int lookup_settled(lookup_fn once, const char *root, const char *key, sw_storage_image *out,
			  sw_error *err)
{
	sw_error e = { 0 };
	sw_storage_image res = { 0 };
	int r = once(root, key, &res, &e);
	if (r >= 0 || !transient(e.code))
		goto done;
	sw_deadline dl;
	sw_deadline_start(&dl, SW_STORE_BUSY_MS);
	unsigned changed = 0;
	for (;;) {
		store_stamp before, after;
		store_stamp_take(root, &before);
		res = (sw_storage_image){ 0 };
		e = (sw_error){ 0 };
		r = once(root, key, &res, &e);
		if (r >= 0 || !transient(e.code))
			goto done;
		store_stamp_take(root, &after);
		/* The store stood still while the lookup failed: no writer caused it. */
		if (store_stamp_same(&before, &after))
			goto done;
		changed++;
		if (!sw_deadline_pause(&dl))
			break;
	}
	/* Fail closed, and say both what happened and what the last lookup saw,
	 * so that a busy store hides nothing. */
	return sw_err(err, SW_EBUSY, "%s: a writer held a lock of the store or replaced its files during each "
		      "of %u lookups in %lld ms (containers/storage was writing it); the last one: %.300s", root, changed,
		      (long long)(sw_deadline_spent_us(&dl) / 1000), e.msg);
done:
	if (r < 0) {
		if (err)
			*err = e;
		return r;
	}
	if (r == 1)
		*out = res;
	return r;
}

static int digests_once(const char *root, const char *id, sw_storage_image *out, sw_error *err)
{
	_cleanup_close_ int rootfd = -1;
	int r = open_root(root, &rootfd, err);
	if (r <= 0)
		return r;
	for (size_t d = 0; d < SW_ARRAY_SIZE(drivers); d++) {
		store_paths sp = { .root = root, .driver = drivers[d] };
		r = image_in_store(rootfd, &sp, id, NULL, NULL, out, err);
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
	return lookup_settled(digests_once, storage_root, norm + 7, out, err);
}

static int resolve_once(const char *root, const char *container_id, sw_storage_image *out, sw_error *err)
{
	_cleanup_close_ int rootfd = -1;
	int r = open_root(root, &rootfd, err);
	if (r <= 0)
		return r;
	char driver[SW_STORAGE_DRIVER_MAX], image_id[SW_SHA256_HEX + 1], layer[SW_SHA256_HEX + 1];
	r = container_once(rootfd, root, container_id, driver, image_id, layer, err);
	if (r <= 0)
		return r;
	/* buildah's "from scratch" containers: no image, no claim. */
	if (!image_id[0])
		return 0;
	/* A container's image lives in the same driver's store (additional,
	 * read-only image stores are not consulted: such a container is denied). */
	store_paths sp = { .root = root, .driver = driver };
	r = image_in_store(rootfd, &sp, image_id, container_id, layer, out, err);
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

	sw_storage_image img = { 0 };
	int rc = lookup_settled(resolve_once, storage_root, container_id, &img, err);
	if (rc <= 0)
		return rc;

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
