/* SPDX-License-Identifier: Apache-2.0 */
#include "oci.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* The OCI documents sigward reads are shallow (config.json's seccomp rules are
 * about six levels deep); one deeper than SW_JSON_MAX_DEPTH is hostile or broken. */

/*
 * yajl's event parser rather than yajl_tree: the callbacks see every string with
 * its length (yajl_tree keeps C strings, so "a\u0000b" would silently read as "a"
 * while the runtime's Go reader sees three bytes), see duplicate keys as they come,
 * and nothing is built that a recursive free could overflow the stack on.
 */

enum doc { DOC_STATE, DOC_CONFIG };

enum field { F_OTHER = 0, F_ID = 1, F_BUNDLE = 2, F_PID = 4, F_ANNOTATIONS = 8 };

enum vtype { T_NULL, T_BOOL, T_INT, T_DOUBLE, T_STRING, T_MAP, T_ARRAY };

typedef struct parse_ctx {
	enum doc doc;
	const char *what;
	sw_error *err;
	bool failed;            /* a callback filled err and stopped the parse */
	unsigned depth;         /* open objects and arrays */
	enum field field;       /* top-level field whose value comes next */
	unsigned seen;          /* fields seen so far (enum field bits) */
	bool in_annotations;    /* directly inside config.json's "annotations" */
	char *ann_key;          /* annotation key waiting for its value */
	size_t ann_cap;
	sw_state st;
	sw_bundle b;
} parse_ctx;

static void parse_ctx_done(parse_ctx *p)
{
	free(p->ann_key);
	sw_state_free(&p->st);
	sw_bundle_free(&p->b);
}

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

static const char *field_name(enum field f)
{
	switch (f) {
	case F_ID: return "id";
	case F_BUNDLE: return "bundle";
	case F_PID: return "pid";
	case F_ANNOTATIONS: return "annotations";
	case F_OTHER: break;
	}
	return "?";
}

/* Record the first error and return 0, which makes yajl stop. */
#define FAIL(p, ...) (sw_err((p)->err, __VA_ARGS__), (p)->failed = true, 0)

static int field_string(parse_ctx *p, const unsigned char *s, size_t len, char **out)
{
	const char *name = field_name(p->field);
	if (memchr(s, '\0', len))
		return FAIL(p, SW_EINVAL, "%s: field \"%s\": contains a NUL byte", p->what, name);
	*out = strndup((const char *)s, len);
	if (!*out)
		return FAIL(p, ENOMEM, "%s: field \"%s\": out of memory", p->what, name);
	return 1;
}

/* A value directly under the top-level object. */
static int top_value(parse_ctx *p, enum vtype t, const unsigned char *s, size_t len, long long iv)
{
	const char *name = field_name(p->field);

	switch (p->field) {
	case F_OTHER:
		return 1;
	case F_ID:
		if (t != T_STRING)
			return FAIL(p, SW_EINVAL, "%s: field \"id\": not a string (got %s)", p->what, vtype_name(t));
		return field_string(p, s, len, &p->st.id);
	case F_BUNDLE:
		if (t != T_STRING)
			return FAIL(p, SW_EINVAL, "%s: field \"bundle\": not a string (got %s)", p->what, vtype_name(t));
		/* The hook opens this path: a relative one would resolve against
		 * whatever directory the runtime happened to start the hook in. */
		if (len == 0 || s[0] != '/')
			return FAIL(p, SW_EINVAL, "%s: field \"bundle\": not an absolute path", p->what);
		if (len >= PATH_MAX)
			return FAIL(p, SW_ETOOBIG, "%s: field \"bundle\": %zu bytes, longer than %d",
				    p->what, len, PATH_MAX - 1);
		return field_string(p, s, len, &p->st.bundle);
	case F_PID:
		if (t != T_INT)
			return FAIL(p, SW_EINVAL, "%s: field \"pid\": not an integer (got %s)", p->what, vtype_name(t));
		if (iv < 0 || iv > INT_MAX)
			return FAIL(p, SW_EINVAL, "%s: field \"pid\": %lld is out of range", p->what, iv);
		p->st.pid = (int)iv;
		return 1;
	case F_ANNOTATIONS:
		/* null is what Go's encoding/json (runc) reads as "no annotations":
		 * read it the same way. */
		if (t == T_NULL)
			return 1;
		if (t != T_MAP)
			return FAIL(p, SW_EINVAL, "%s: field \"%s\": not an object (got %s)",
				    p->what, name, vtype_name(t));
		p->in_annotations = true;
		return 1;
	}
	return 1;
}

static int annotation_value(parse_ctx *p, enum vtype t, const unsigned char *s, size_t len)
{
	_cleanup_free_ char *key = TAKE_PTR(p->ann_key);
	if (t != T_STRING)
		return FAIL(p, SW_EINVAL, "%s: annotation \"%.64s\": value is not a string (got %s)",
			    p->what, key, vtype_name(t));
	if (memchr(s, '\0', len))
		return FAIL(p, SW_EINVAL, "%s: annotation \"%.64s\": value contains a NUL byte", p->what, key);
	if (len > SW_ANNOTATION_VALUE_MAX)
		return FAIL(p, SW_ETOOBIG, "%s: annotation \"%.64s\": value of %zu bytes, more than %d",
			    p->what, key, len, SW_ANNOTATION_VALUE_MAX);
	if (p->b.n_annotations == p->ann_cap) {
		size_t ncap = p->ann_cap ? p->ann_cap * 2 : 16;
		if (ncap > SW_MAX_ANNOTATIONS)
			ncap = SW_MAX_ANNOTATIONS;
		sw_annotation *na = realloc(p->b.annotations, ncap * sizeof *na);
		if (!na)
			return FAIL(p, ENOMEM, "%s: field \"annotations\": out of memory", p->what);
		p->b.annotations = na;
		p->ann_cap = ncap;
	}
	char *v = strndup((const char *)s, len);
	if (!v)
		return FAIL(p, ENOMEM, "%s: field \"annotations\": out of memory", p->what);
	p->b.annotations[p->b.n_annotations].key = TAKE_PTR(key);
	p->b.annotations[p->b.n_annotations].value = v;
	p->b.n_annotations++;
	return 1;
}

/* Every value, scalar or the start of an object or array, passes through here. */
static int on_value(parse_ctx *p, enum vtype t, const unsigned char *s, size_t len, long long iv)
{
	if (p->depth == 0)
		return t == T_MAP ? 1 : FAIL(p, SW_EINVAL, "%s: top level is not a JSON object (got %s)",
					     p->what, vtype_name(t));
	if (p->depth == 1)
		return top_value(p, t, s, len, iv);
	if (p->depth == 2 && p->in_annotations)
		return annotation_value(p, t, s, len);
	return 1;
}

static int cb_null(void *ctx) { return on_value(ctx, T_NULL, NULL, 0, 0); }
static int cb_bool(void *ctx, int v) { (void)v; return on_value(ctx, T_BOOL, NULL, 0, 0); }
static int cb_int(void *ctx, long long v) { return on_value(ctx, T_INT, NULL, 0, v); }
static int cb_double(void *ctx, double v) { (void)v; return on_value(ctx, T_DOUBLE, NULL, 0, 0); }

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	return on_value(ctx, T_STRING, s, len, 0);
}

static int open_container(parse_ctx *p, enum vtype t)
{
	if (!on_value(p, t, NULL, 0, 0))
		return 0;
	if (++p->depth > SW_JSON_MAX_DEPTH)
		return FAIL(p, SW_EINVAL, "%s: nested deeper than %d levels", p->what, SW_JSON_MAX_DEPTH);
	return 1;
}

static int cb_start_map(void *ctx) { return open_container(ctx, T_MAP); }
static int cb_start_array(void *ctx) { return open_container(ctx, T_ARRAY); }

static int cb_end(void *ctx)
{
	parse_ctx *p = ctx;
	p->depth--;
	if (p->depth == 1)
		p->in_annotations = false;
	return 1;
}

static enum field top_field(enum doc doc, const unsigned char *k, size_t len)
{
#define IS(lit) (len == sizeof(lit) - 1 && memcmp(k, lit, len) == 0)
	if (doc == DOC_STATE) {
		if (IS("id"))
			return F_ID;
		if (IS("bundle"))
			return F_BUNDLE;
		if (IS("pid"))
			return F_PID;
	} else if (IS("annotations")) {
		return F_ANNOTATIONS;
	}
	return F_OTHER;
#undef IS
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t len)
{
	parse_ctx *p = ctx;

	if (p->depth == 1) {
		p->field = top_field(p->doc, k, len);
		/* Go's reader takes the last of two equal keys (and merges two
		 * "annotations" objects), other readers the first: refuse the
		 * ambiguity instead of guessing which one the runtime used. */
		if (p->field != F_OTHER) {
			if (p->seen & p->field)
				return FAIL(p, SW_EINVAL, "%s: field \"%s\": duplicate key",
					    p->what, field_name(p->field));
			p->seen |= p->field;
		}
		return 1;
	}
	if (p->depth == 2 && p->in_annotations) {
		if (memchr(k, '\0', len))
			return FAIL(p, SW_EINVAL, "%s: field \"annotations\": key \"%.64s\" contains a NUL byte",
				    p->what, (const char *)k);
		if (len > SW_ANNOTATION_KEY_MAX)
			return FAIL(p, SW_ETOOBIG, "%s: field \"annotations\": key \"%.64s...\" of %zu bytes, more than %d",
				    p->what, (const char *)k, len, SW_ANNOTATION_KEY_MAX);
		if (p->b.n_annotations >= SW_MAX_ANNOTATIONS)
			return FAIL(p, SW_ETOOBIG, "%s: field \"annotations\": more than %d entries",
				    p->what, SW_MAX_ANNOTATIONS);
		free(p->ann_key);
		p->ann_key = strndup((const char *)k, len);
		if (!p->ann_key)
			return FAIL(p, ENOMEM, "%s: field \"annotations\": out of memory", p->what);
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

static int run_parser(parse_ctx *p, const char *json, size_t len)
{
	if (len == 0)
		return sw_err(p->err, SW_EINVAL, "%s: empty document", p->what);
	return sw_json_events(&callbacks, p, &p->failed, json, len, p->what, p->err);
}

void sw_state_free(sw_state *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->bundle);
	*st = (sw_state){ 0 };
}

int sw_state_parse(const char *json, size_t len, const char *what, sw_state *st, sw_error *err)
{
	*st = (sw_state){ 0 };
	_cleanup_(parse_ctx_done) parse_ctx p = { .doc = DOC_STATE, .what = what, .err = err };

	int r = run_parser(&p, json, len);
	if (r < 0)
		return r;
	if (!p.st.id)
		return sw_err(err, SW_EINVAL, "%s: field \"id\": missing", what);
	if (!p.st.bundle)
		return sw_err(err, SW_EINVAL, "%s: field \"bundle\": missing", what);
	char idwhat[256];
	snprintf(idwhat, sizeof idwhat, "%s: field \"id\"", what);
	r = sw_check_id(p.st.id, idwhat, err);
	if (r < 0)
		return r;
	*st = p.st;
	p.st = (sw_state){ 0 };
	return 0;
}

void sw_bundle_free(sw_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_annotations; i++) {
		free(b->annotations[i].key);
		free(b->annotations[i].value);
	}
	free(b->annotations);
	*b = (sw_bundle){ 0 };
}

static int cmp_annotation(const void *a, const void *b)
{
	return strcmp(((const sw_annotation *)a)->key, ((const sw_annotation *)b)->key);
}

int sw_bundle_parse(const char *json, size_t len, const char *what, sw_bundle *b, sw_error *err)
{
	*b = (sw_bundle){ 0 };
	_cleanup_(parse_ctx_done) parse_ctx p = { .doc = DOC_CONFIG, .what = what, .err = err };

	int r = run_parser(&p, json, len);
	if (r < 0)
		return r;
	/* Sorted, equal keys sit next to each other: one pass finds a duplicate,
	 * which would let sigward and the runtime read different values. */
	if (p.b.n_annotations > 1)
		qsort(p.b.annotations, p.b.n_annotations, sizeof *p.b.annotations, cmp_annotation);
	for (size_t i = 1; i < p.b.n_annotations; i++)
		if (strcmp(p.b.annotations[i - 1].key, p.b.annotations[i].key) == 0)
			return sw_err(err, SW_EINVAL, "%s: field \"annotations\": duplicate key \"%.64s\"",
				      what, p.b.annotations[i].key);
	*b = p.b;
	p.b = (sw_bundle){ 0 };
	return 0;
}

int sw_bundle_load(int bundle_dirfd, const char *bundle_path, sw_bundle *b, sw_error *err)
{
	*b = (sw_bundle){ 0 };
	char what[PATH_MAX + 16];
	snprintf(what, sizeof what, "%s/config.json", bundle_path);

	/* Read once into memory and parse that copy: a config.json rewritten
	 * while we look at it cannot show us two versions. sw_read_file_at
	 * refuses a symlink, a FIFO or anything else that is not a regular file. */
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = sw_read_file_at(bundle_dirfd, "config.json", SW_CONFIG_JSON_MAX, what, &text, &len, err);
	if (r < 0)
		return r;
	return sw_bundle_parse(text, len, what, b, err);
}

const char *sw_bundle_annotation(const sw_bundle *b, const char *key)
{
	if (!b || !key)
		return NULL;
	for (size_t i = 0; i < b->n_annotations; i++)
		if (strcmp(b->annotations[i].key, key) == 0)
			return b->annotations[i].value;
	return NULL;
}

int sw_check_id(const char *id, const char *what, sw_error *err)
{
	if (!id || !*id)
		return sw_err(err, SW_EINVAL, "%s: empty container id", what);
	size_t len = strnlen(id, SW_ID_MAX + 1);
	if (len > SW_ID_MAX)
		return sw_err(err, SW_EINVAL, "%s: container id longer than %d bytes", what, SW_ID_MAX);
	/* "." and ".." would name a directory, not a file, when the id is used
	 * in a path. */
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return sw_err(err, SW_EINVAL, "%s: container id \"%s\" is not a name", what, id);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c == '/')
			return sw_err(err, SW_EINVAL, "%s: container id contains '/'", what);
		/* Space, control and non-ASCII bytes could forge or blur log lines. */
		if (c <= 0x20 || c >= 0x7f)
			return sw_err(err, SW_EINVAL, "%s: container id contains byte 0x%02x at offset %zu",
				      what, c, i);
	}
	return 0;
}
