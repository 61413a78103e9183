/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctrmeta: the bbolt reader and containerd resolution, on a store written by a
 * real containerd 1.6.20 (tests/unit/data/ctrmeta/root, made as described in
 * docs/containerd-metadata.md) and on corrupted copies of it. Every corruption
 * must give an error naming meta.db and add no digest.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctrmeta.h"

/* What the fixture holds (docs/containerd-metadata.md, "The unit-test fixture"). */
#define V1_MANIFEST "sha256:e2ff23b90dcede64c681406e44c85ee94416c5c1dd986883914220a644bb3aed"
#define V1_CONFIG "sha256:9d22770cf9971156729d1afc71900bc852615a04875d2d5a26c5a77db87fc5bf"
#define MULTI_INDEX "sha256:bfd5e20325b2bcc1f8f1f3e167cac523ca61ce87eb2896cfc630fd3195565505"
#define BASE_MANIFEST "sha256:cc869ba3877b31a062f072ebe4d4cc620109a3ddc4459d8056892dba3da8fe52"
#define BASE_CONFIG "sha256:daef3503de9a9212d5d8abbc0931957bccdda9e9ce2aec880cd6ad3ea9dba39c"
#define PAUSE_MANIFEST "sha256:f1da1c1fc59795f3473a03fa76c99b0d410922b86623f2059d47d278d36b6b4e"
#define PAUSE_CONFIG "sha256:c6f7e277ba403967f4eb7426345d549fa55a2515427d9aed79d5befd382ae521"
#define CRI_BY_TAG "2d6cc0fd1f9678f691cbd044a10d59ffd529c6582bae0b41c908f8f5ca2d7437"
#define CRI_BY_ID "7860281262e46bb93b7483e9788e1fcfc0dbcfa81b4fff4c5621b5c1b807ff96"
#define CRI_SANDBOX "bd67afd795b3ff767bd3f258dbbc6e81b31d1a282519751f2998c689e2e06a5d"
#define META "io.containerd.metadata.v1.bolt/meta.db"
#define BLOBS "io.containerd.content.v1.content/blobs/sha256"
#define PS 4096

static char fixture[PATH_MAX];

/* The fixture sits next to this source file; the test binary may run from any
 * directory, so find the source tree from the binary's place in the build tree
 * (meson compiles with the build root as working directory). */
static void find_fixture(void)
{
	const char *env = getenv("SW_CTRMETA_FIXTURE");
	if (env) {
		snprintf(fixture, sizeof fixture, "%s", env);
		return;
	}
	char src[PATH_MAX];
	snprintf(src, sizeof src, "%s", __FILE__);
	char *dir = dirname(src);
	if (dir[0] == '/') {
		snprintf(fixture, sizeof fixture, "%s/data/ctrmeta/root", dir);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	/* <build>/tests/unit/test-ctrmeta */
	char *bdir = dirname(dirname(dirname(exe)));
	snprintf(fixture, sizeof fixture, "%s/%s/data/ctrmeta/root", bdir, dir);
}

static int setup(void **state)
{
	(void)state;
	find_fixture();
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/%s", fixture, META);
	struct stat st;
	if (stat(p, &st) != 0) {
		fprintf(stderr, "fixture not found at %s (set SW_CTRMETA_FIXTURE)\n", p);
		return -1;
	}
	return 0;
}

/* A private copy of the fixture root that a test may damage. */
static char *copy_fixture(void)
{
	char *dir = tu_tmpdir();
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "cp -a '%s/.' '%s/' && chmod -R u+w '%s'", fixture, dir, dir);
	assert_int_equal(system(cmd), 0);
	return dir;
}

static unsigned char *read_db(const char *root, size_t *len)
{
	char *p = tu_path(root, META);
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	unsigned char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	free(p);
	return buf;
}

static void write_db(const char *root, const unsigned char *buf, size_t len)
{
	char *p = tu_path(root, META);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static uint64_t get64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t get16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }

/* Written independently of lib/ctrmeta.c: FNV-1a 64 over the meta's first 56 bytes. */
static void reseal_meta(unsigned char *page)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < 56; i++) {
		h ^= page[16 + i];
		h *= 0x100000001b3ull;
	}
	put64(page + 16 + 56, h);
}

static uint64_t meta_txid(const unsigned char *db, int i) { return get64(db + i * PS + 16 + 48); }
static int newest_meta(const unsigned char *db) { return meta_txid(db, 1) > meta_txid(db, 0) ? 1 : 0; }

/* Make the newest meta the only valid one, so a damaged page cannot be avoided
 * by falling back to the older transaction. */
static void drop_older_meta(unsigned char *db)
{
	int old = 1 - newest_meta(db);
	db[old * PS + 16] ^= 0xff;
}

/* Leaf page elements: {flags, pos, ksize, vsize}, pos relative to the element. */
static unsigned char *leaf_elem(unsigned char *page, int i) { return page + 16 + 16 * i; }
static unsigned char *elem_key(unsigned char *e) { return e + get32(e + 4); }
static unsigned char *elem_val(unsigned char *e) { return e + get32(e + 4) + get32(e + 8); }

/* Page of the root bucket, and of the "v1" bucket below it. */
static uint64_t root_page(const unsigned char *db) { return get64(db + newest_meta(db) * PS + 16 + 16); }
static uint64_t v1_page(unsigned char *db)
{
	unsigned char *root = db + root_page(db) * PS;
	assert_int_equal(get16(root + 8), 2);
	unsigned char *e = leaf_elem(root, 0);
	assert_memory_equal(elem_key(e), "v1", 2);
	return get64(elem_val(e));
}

static int resolve(const char *root, const char *ns, const char *id, sw_resolution *r, sw_error *e)
{
	*r = (sw_resolution){ 0 };
	*e = (sw_error){ 0 };
	return sw_containerd_resolve(root, ns, id, r, e);
}

static bool has(const sw_resolution *r, const char *digest, const char *kind, const char *source)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->d[i].digest, digest) == 0 && strcmp(r->d[i].kind, kind) == 0 &&
		    strcmp(r->d[i].source, source) == 0)
			return true;
	return false;
}

/* A damaged store: an error that names the file and says `what`, no digest. */
static void expect_refused(const char *root, const char *what)
{
	sw_resolution r;
	sw_error e;
	int rc = resolve(root, "default", "ctr-v1", &r, &e);
	if (rc >= 0 || !strstr(e.msg, what) || !strstr(e.msg, "meta.db"))
		fail_msg("expected an error with \"%s\", got %d: %s", what, rc, e.msg);
	assert_int_equal(r.n, 0);
	assert_null(strchr(e.msg, '\n'));
}

/* ---- the reader on the intact store ---- */

typedef struct readctx {
	int calls;
	char *image;
	size_t image_len;
	int missing_key, missing_bucket, has_bucket;
	char keys[16][128];
	int nkeys;
	bool buckets[16];
	sw_error bucket_as_value, value_as_bucket;
	int r_bucket_as_value, r_value_as_bucket;
} readctx;

static int collect(const char *key, size_t klen, const char *value, size_t vlen,
		   bool is_bucket, void *ctx, sw_error *err)
{
	readctx *c = ctx;
	assert_int_equal(strlen(key), klen);
	if (c->nkeys < 16) {
		snprintf(c->keys[c->nkeys], sizeof c->keys[0], "%s", key);
		c->buckets[c->nkeys] = is_bucket;
		c->nkeys++;
	}
	assert_true(is_bucket ? value == NULL : value != NULL);
	return 0;
}

static int read_view(sw_bolt *db, void *ctx, sw_error *err)
{
	readctx *c = ctx;
	c->calls++;
	free(c->image);
	c->image = NULL;
	c->nkeys = 0;
	const char *cpath[] = { "v1", "default", "containers", "ctr-v1" };
	int r = sw_bolt_get(db, cpath, 4, "image", &c->image, &c->image_len, err);
	assert_int_equal(r, 1);
	char *v = NULL;
	size_t n = 0;
	c->missing_key = sw_bolt_get(db, cpath, 4, "no-such-key", &v, &n, err);
	const char *nopath[] = { "v1", "default", "containers", "no-such-container" };
	c->missing_bucket = sw_bolt_get(db, nopath, 4, "image", &v, &n, err);
	c->has_bucket = sw_bolt_has_bucket(db, cpath, 4, err);
	c->r_bucket_as_value = sw_bolt_get(db, cpath, 4, "labels", &v, &n, &c->bucket_as_value);
	const char *through[] = { "v1", "default", "containers", "ctr-v1", "image" };
	c->r_value_as_bucket = sw_bolt_get(db, through, 5, "x", &v, &n, &c->value_as_bucket);
	const char *v1[] = { "v1" };
	return sw_bolt_foreach(db, v1, 1, collect, c, err);
}

static void test_bolt_read(void **state)
{
	(void)state;
	char *p = tu_path(fixture, META);
	sw_bolt *db = NULL;
	sw_error e = { 0 };
	assert_int_equal(sw_bolt_open(p, &db, &e), 0);
	readctx c = { 0 };
	assert_int_equal(sw_bolt_view(db, read_view, &c, &e), 0);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.image, "localhost/img:v1");
	assert_int_equal(c.image_len, strlen("localhost/img:v1"));
	assert_int_equal(c.missing_key, 0);
	assert_int_equal(c.missing_bucket, 0);
	assert_int_equal(c.has_bucket, 1);
	assert_true(c.r_bucket_as_value < 0);
	assert_non_null(strstr(c.bucket_as_value.msg, "v1/default/containers/ctr-v1/labels: is a bucket"));
	assert_true(c.r_value_as_bucket < 0);
	assert_non_null(strstr(c.value_as_bucket.msg, "ctr-v1/image: is a value, expected a bucket"));
	/* v1 holds one bucket per namespace and the schema version value, in order */
	assert_int_equal(c.nkeys, 3);
	assert_string_equal(c.keys[0], "default");
	assert_true(c.buckets[0]);
	assert_string_equal(c.keys[1], "k8s.io");
	assert_true(c.buckets[1]);
	assert_string_equal(c.keys[2], "version");
	assert_false(c.buckets[2]);
	assert_int_equal(sw_bolt_txid(db), 213);
	free(c.image);

	/* reading outside a view is refused: there is no snapshot to read */
	char *v = NULL;
	size_t n;
	const char *path[] = { "v1" };
	assert_true(sw_bolt_get(db, path, 1, "version", &v, &n, &e) < 0);
	assert_non_null(strstr(e.msg, "outside a view"));
	sw_bolt_close(db);

	/* a missing file is ENOENT, a symbolic link is refused */
	assert_true(sw_bolt_open("/nonexistent/meta.db", &db, &e) < 0);
	assert_int_equal(e.code, ENOENT);
	char *dir = tu_tmpdir();
	char *link = tu_path(dir, "meta.db");
	assert_int_equal(symlink(p, link), 0);
	assert_true(sw_bolt_open(link, &db, &e) < 0);
	assert_non_null(strstr(e.msg, "symbolic link"));
	tu_rmrf(dir);
	free(link);
	free(dir);
	free(p);
}

/* ---- resolution on the intact store ---- */

static void test_resolve_ctr(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(fixture, "default", "ctr-v1", &r, &e), 1);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, V1_MANIFEST, "manifest", "containerd"));
	assert_true(has(&r, V1_CONFIG, "image-id", "containerd"));
	assert_string_equal(r.reference, "localhost/img:v1");

	/* an image pulled by index: the index, the manifest chosen in it, the config */
	assert_int_equal(resolve(fixture, "default", "ctr-index", &r, &e), 1);
	assert_int_equal(r.n, 3);
	assert_true(has(&r, MULTI_INDEX, "index", "containerd"));
	assert_true(has(&r, V1_MANIFEST, "manifest", "containerd"));
	assert_true(has(&r, V1_CONFIG, "image-id", "containerd"));

	/* no layers: no snapshot parent, empty chain */
	assert_int_equal(resolve(fixture, "default", "ctr-nolayers", &r, &e), 1);
	assert_true(has(&r, BASE_MANIFEST, "manifest", "containerd"));
	assert_true(has(&r, BASE_CONFIG, "image-id", "containerd"));

	/* a reference already set by an earlier source is kept */
	r = (sw_resolution){ 0 };
	snprintf(r.reference, sizeof r.reference, "from-annotation");
	assert_int_equal(sw_containerd_resolve(fixture, "default", "ctr-v1", &r, &e), 1);
	assert_string_equal(r.reference, "from-annotation");
}

static void test_resolve_cri(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e;
	/* created by tag: ImageRef plus the manifest of the records with that config */
	assert_int_equal(resolve(fixture, "k8s.io", CRI_BY_TAG, &r, &e), 1);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, V1_CONFIG, "image-id", "containerd-cri"));
	assert_true(has(&r, V1_MANIFEST, "manifest", "containerd-cri"));
	assert_string_equal(r.reference, "localhost/img:v1");

	/* created by image id */
	assert_int_equal(resolve(fixture, "k8s.io", CRI_BY_ID, &r, &e), 1);
	assert_true(has(&r, V1_CONFIG, "image-id", "containerd-cri"));
	assert_true(has(&r, V1_MANIFEST, "manifest", "containerd-cri"));

	/* the pod sandbox: the pause image, judged like any other */
	assert_int_equal(resolve(fixture, "k8s.io", CRI_SANDBOX, &r, &e), 1);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, PAUSE_MANIFEST, "manifest", "containerd-cri"));
	assert_true(has(&r, PAUSE_CONFIG, "image-id", "containerd-cri"));
	assert_string_equal(r.reference, "localhost/img:pause");
}

/* An image record by name (sigward status: is the pause image listed?). */
static void test_image(void **state)
{
	(void)state;
	sw_resolution r = { 0 };
	sw_error e = { 0 };
	assert_int_equal(sw_containerd_image(fixture, "k8s.io", "localhost/img:pause", &r, &e), 1);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, PAUSE_MANIFEST, "manifest", "containerd"));
	assert_true(has(&r, PAUSE_CONFIG, "image-id", "containerd"));
	/* an index: the index, the manifests of it in the store, their configs */
	r = (sw_resolution){ 0 };
	assert_int_equal(sw_containerd_image(fixture, "default", "localhost/img:multi", &r, &e), 1);
	assert_int_equal(r.n, 3);
	assert_true(has(&r, MULTI_INDEX, "index", "containerd"));
	assert_true(has(&r, V1_MANIFEST, "manifest", "containerd"));
	assert_true(has(&r, V1_CONFIG, "image-id", "containerd"));
	/* absent: the record, the namespace, the store */
	r = (sw_resolution){ 0 };
	assert_int_equal(sw_containerd_image(fixture, "k8s.io", "localhost/img:nope", &r, &e), 0);
	assert_int_equal(sw_containerd_image(fixture, "no-such-ns", "localhost/img:pause", &r, &e), 0);
	assert_int_equal(sw_containerd_image("/nonexistent/containerd", "k8s.io", "localhost/img:pause", &r, &e), 0);
	assert_int_equal(r.n, 0);
	/* names that cannot be containerd's */
	assert_true(sw_containerd_image(fixture, "k8s.io", "", &r, &e) < 0);
	assert_true(sw_containerd_image(fixture, "../k8s.io", "localhost/img:pause", &r, &e) < 0);
}

static void test_resolve_not_found(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(fixture, "default", "no-such-container", &r, &e), 0);
	assert_int_equal(resolve(fixture, "no-such-ns", "ctr-v1", &r, &e), 0);
	/* a CRI container is not in another namespace */
	assert_int_equal(resolve(fixture, "default", CRI_BY_TAG, &r, &e), 0);
	assert_int_equal(resolve("/nonexistent/containerd", "default", "ctr-v1", &r, &e), 0);
	char *dir = tu_tmpdir();
	assert_int_equal(resolve(dir, "default", "ctr-v1", &r, &e), 0);   /* no meta.db */
	assert_int_equal(r.n, 0);
	tu_rmrf(dir);
	free(dir);
	/* names that cannot be containerd's */
	assert_true(resolve(fixture, "../default", "ctr-v1", &r, &e) < 0);
	assert_true(resolve(fixture, "", "ctr-v1", &r, &e) < 0);
	assert_true(resolve(fixture, "default", "a/b", &r, &e) < 0);
}

static void test_resolve_refused(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e;
	/* the tag was moved to another image after the container was created */
	assert_true(resolve(fixture, "default", "ctr-retagged", &r, &e) < 0);
	assert_int_equal(e.code, SW_EVERIFY);
	assert_non_null(strstr(e.msg, "container ctr-retagged: image localhost/img:moving does not match its root filesystem"));
	assert_int_equal(r.n, 0);
	/* the image record was removed */
	assert_true(resolve(fixture, "default", "ctr-gone", &r, &e) < 0);
	assert_int_equal(e.code, SW_ENOTFOUND);
	assert_non_null(strstr(e.msg, "image localhost/img:gone is no longer in the store"));
	/* created from a directory: containerd claims no image (as for Docker's
	 * containers), so this source adds nothing and the decision, with no digest
	 * from any source, denies */
	assert_int_equal(resolve(fixture, "default", "ctr-rootfs", &r, &e), 0);
	assert_int_equal(r.n, 0);
}

static void test_resolve_content_tampered(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *blobs = tu_path(root, BLOBS);
	sw_resolution r;
	sw_error e;
	/* a config edited in place no longer hashes to its name */
	size_t len;
	char *cfg = tu_read(blobs, V1_CONFIG + 7, &len);
	char *at = strstr(cfg, "amd64");
	assert_non_null(at);
	at[0] = 'A';
	tu_write(blobs, V1_CONFIG + 7, cfg, len);
	free(cfg);
	assert_true(resolve(root, "default", "ctr-v1", &r, &e) < 0);
	assert_int_equal(e.code, SW_EVERIFY);
	assert_non_null(strstr(e.msg, "content does not match its digest"));
	assert_true(resolve(root, "k8s.io", CRI_BY_TAG, &r, &e) < 0);
	assert_int_equal(e.code, SW_EVERIFY);
	assert_int_equal(r.n, 0);
	/* a missing manifest */
	char *m = tu_path(blobs, PAUSE_MANIFEST + 7);
	assert_int_equal(unlink(m), 0);
	assert_true(resolve(root, "k8s.io", CRI_SANDBOX, &r, &e) < 0);
	assert_int_equal(e.code, SW_ENOTFOUND);
	assert_non_null(strstr(e.msg, "manifest blob is missing"));
	free(m);
	tu_rmrf(root);
	free(blobs);
	free(root);
}

/* The container's snapshot record is gone: its root filesystem cannot be tied
 * to the image it names. */
static void test_snapshot_missing(void **state)
{
	(void)state;
	char *root = copy_fixture();
	size_t len;
	unsigned char *db = read_db(root, &len);
	int n = 0;
	for (size_t i = 0; i + 17 <= len; i++) {
		if (memcmp(db + i, "snapshotKeyctr-v1", 17) == 0) {
			db[i + 16] = 'X';
			n++;
		}
	}
	assert_true(n > 0);
	write_db(root, db, len);
	free(db);
	sw_resolution r;
	sw_error e;
	assert_true(resolve(root, "default", "ctr-v1", &r, &e) < 0);
	assert_int_equal(e.code, SW_EVERIFY);
	assert_non_null(strstr(e.msg, "container ctr-v1: snapshot overlayfs/ctr-vX does not exist"));
	assert_int_equal(r.n, 0);
	tu_rmrf(root);
	free(root);
}

/* Replace the first occurrence of `from` in the store by `to` (same length). */
static void patch_db(const char *root, const char *from, const char *to, size_t n)
{
	size_t len;
	unsigned char *db = read_db(root, &len);
	unsigned char *at = memmem(db, len, from, n);
	assert_non_null(at);
	memcpy(at, to, n);
	write_db(root, db, len);
	free(db);
}

/*
 * The CRI metadata JSON is a bbolt value with a length; a NUL byte inside it must
 * be refused, not read around. A copy that stopped at the NUL (strndup) while the
 * JSON scan went on to the value's length read past the copy: after a backslash
 * the scan looks at the next five bytes (a heap over-read that AddressSanitizer
 * reports, found by tests/fuzz/fuzz_ctrmeta.c).
 */
static void test_cri_metadata_nul(void **state)
{
	(void)state;
	static const struct {
		const char *ns, *id, *from, *to;
	} cases[] = {
		/* a backslash, then the NUL: the over-read */
		{ "k8s.io", CRI_BY_TAG, "\"Name\":\"c0_pod1", "\"Name\":\"\\\0_pod1" },
		/* the NUL alone, at the start of a key */
		{ "k8s.io", CRI_BY_ID, "\"Name\":\"c1_pod1", "\"Name\":\"\0\\_pod1" },
		/* the sandbox's metadata goes through the same reader */
		{ "k8s.io", CRI_SANDBOX, "\"Name\":\"pod1_ns1", "\"Name\":\"\\\0od1_ns1" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(cases); i++) {
		char *root = copy_fixture();
		patch_db(root, cases[i].from, cases[i].to, strlen(cases[i].from));
		sw_resolution r;
		sw_error e;
		int rc = resolve(root, cases[i].ns, cases[i].id, &r, &e);
		if (rc >= 0 || !strstr(e.msg, "CRI metadata: NUL byte in JSON") || !strstr(e.msg, cases[i].id))
			fail_msg("case %zu: expected a NUL byte error, got %d: %s", i, rc, e.msg);
		assert_int_equal(e.code, SW_EINVAL);
		assert_int_equal(r.n, 0);
		tu_rmrf(root);
		free(root);
	}
}

/*
 * A CRI container's manifests are found by scanning every image record of its
 * namespace. Any pod's image lands there (kubelet pulls before a start is
 * judged), so one record whose manifest sigward cannot read (here a "\u0000" in
 * an annotation: Go reads it, sigward refuses NULs) must not fail the
 * resolution of every other CRI container: that record adds nothing. Its own
 * container (the sandbox, resolved by name) is still refused.
 */
static void test_cri_scan_skips_unreadable_record(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *blobs = tu_path(root, BLOBS);
	size_t len;
	char *man = tu_read(blobs, PAUSE_MANIFEST + 7, &len);
	char *end = strrchr(man, '}');
	assert_non_null(end);
	*end = '\0';
	char *bad = NULL;
	assert_true(asprintf(&bad, "%s,\"annotations\":{\"x\":\"a\\u0000b\"}}", man) > 0);
	char hex[SW_SHA256_HEX + 1], digest[SW_DIGEST_STR];
	sw_sha256_hex(bad, strlen(bad), hex);
	snprintf(digest, sizeof digest, "sha256:%s", hex);
	tu_write(blobs, hex, bad, strlen(bad));
	size_t dlen;
	unsigned char *db = read_db(root, &dlen);
	/* Re-point the records' targets (a "digest" key followed by its value in a
	 * leaf); the same digest as a key elsewhere keeps its place in key order. */
	int n = 0;
	static const char key_and_value[] = "digest" PAUSE_MANIFEST;
	const size_t kvl = sizeof key_and_value - 1;
	for (unsigned char *p = db; (p = memmem(p, dlen - (size_t)(p - db), key_and_value, kvl)) != NULL; p += kvl, n++)
		memcpy(p + 6, digest, 71);
	assert_true(n > 0);
	write_db(root, db, dlen);
	free(db);

	sw_resolution r;
	sw_error e;
	int rc = resolve(root, "k8s.io", CRI_BY_TAG, &r, &e);
	if (rc != 1)
		fail_msg("%d: %s", rc, e.msg);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, V1_CONFIG, "image-id", "containerd-cri"));
	assert_true(has(&r, V1_MANIFEST, "manifest", "containerd-cri"));
	assert_int_equal(resolve(root, "k8s.io", CRI_BY_ID, &r, &e), 1);
	assert_true(has(&r, V1_MANIFEST, "manifest", "containerd-cri"));
	/* the pod whose image it is: refused */
	assert_true(resolve(root, "k8s.io", CRI_SANDBOX, &r, &e) < 0);
	assert_non_null(strstr(e.msg, "NUL byte in JSON"));
	assert_int_equal(r.n, 0);

	free(bad);
	free(man);
	tu_rmrf(root);
	free(blobs);
	free(root);
}

static void test_bundle_namespace(void **state)
{
	(void)state;
	char ns[SW_CONTAINERD_NS_MAX + 1];
	sw_error e = { 0 };
	assert_int_equal(sw_containerd_bundle_namespace("/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc",
							"abc", ns, &e), 1);
	assert_string_equal(ns, "k8s.io");
	assert_int_equal(sw_containerd_bundle_namespace("/tmp/st/io.containerd.runtime.v2.task/default/c1/",
							"c1", ns, &e), 1);
	assert_string_equal(ns, "default");
	assert_int_equal(sw_containerd_bundle_namespace("/run/containerd/io.containerd.runtime.v1.linux/moby/x",
							"x", ns, &e), 1);
	assert_string_equal(ns, "moby");
	/* another id, another layout, too short */
	assert_int_equal(sw_containerd_bundle_namespace("/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc",
							"abd", ns, &e), 0);
	assert_int_equal(sw_containerd_bundle_namespace("/var/lib/containers/storage/overlay-containers/abc/userdata",
							"abc", ns, &e), 0);
	assert_int_equal(sw_containerd_bundle_namespace("/abc", "abc", ns, &e), 0);
	assert_int_equal(sw_containerd_bundle_namespace("io.containerd.runtime.v2.task/ns/abc", "abc", ns, &e), 0);
	/* the layout, but not a namespace containerd would create */
	assert_true(sw_containerd_bundle_namespace("/r/io.containerd.runtime.v2.task/-bad/abc", "abc", ns, &e) < 0);
	assert_true(sw_containerd_bundle_namespace("/r/io.containerd.runtime.v2.task/a..b/abc", "abc", ns, &e) < 0);
}

/* ---- corrupted copies ---- */

typedef void (*damage_fn)(unsigned char *db, size_t *len);

static void with_damage(damage_fn fn, const char *what)
{
	char *root = copy_fixture();
	size_t len;
	unsigned char *db = read_db(root, &len);
	fn(db, &len);
	write_db(root, db, len);
	free(db);
	expect_refused(root, what);
	tu_rmrf(root);
	free(root);
}

static void bad_magic(unsigned char *db, size_t *len) { db[16] ^= 1; db[PS + 16] ^= 1; }
static void bad_checksums(unsigned char *db, size_t *len) { db[16 + 60] ^= 1; db[PS + 16 + 60] ^= 1; }
static void bad_version(unsigned char *db, size_t *len)
{
	for (int i = 0; i < 2; i++) {
		put32(db + i * PS + 20, 3);
		reseal_meta(db + i * PS);
	}
}
static void truncated_half(unsigned char *db, size_t *len) { *len /= 2; }
static void truncated_tiny(unsigned char *db, size_t *len) { *len = 100; }
static void root_out_of_range(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	unsigned char *e = leaf_elem(db + root_page(db) * PS, 0);
	put64(elem_val(e), 1u << 20);     /* the v1 bucket's root page */
}
static void root_is_meta_page(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	unsigned char *e = leaf_elem(db + root_page(db) * PS, 0);
	put64(elem_val(e), 1);
}
/* Turn the v1 bucket's page into a branch page whose only child is itself. */
static void cycle(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	uint64_t id = v1_page(db);
	unsigned char *p = db + id * PS;
	memset(p + 8, 0, PS - 8);
	put16(p + 8, 1);            /* branch */
	put16(p + 10, 1);
	put32(p + 16, 16);          /* pos: the key follows the element */
	put32(p + 20, 2);
	put64(p + 24, id);
	memcpy(p + 32, "v1", 2);
}
static void header_id(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	put64(db + v1_page(db) * PS, 7);
}
static void keys_out_of_order(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	unsigned char *p = db + v1_page(db) * PS;
	unsigned char *k = elem_key(leaf_elem(p, 0));
	assert_memory_equal(k, "default", 7);
	k[0] = 'z';
}
static void key_outside_page(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	unsigned char *p = db + v1_page(db) * PS;
	put32(leaf_elem(p, 1) + 8, PS);
}
static void overflow_past_end(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	put32(db + v1_page(db) * PS + 12, 1000);
}
static void freelist_as_tree(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	put16(db + v1_page(db) * PS + 8, 0x10);
}
static void bucket_value_size(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	unsigned char *e = leaf_elem(db + root_page(db) * PS, 0);
	put32(e + 12, 12);          /* vsize shorter than a bucket header */
}
static void too_many_elements(unsigned char *db, size_t *len)
{
	drop_older_meta(db);
	put16(db + v1_page(db) * PS + 10, 0xffff);
}

static void test_corrupt(void **state)
{
	(void)state;
	with_damage(bad_magic, "no valid meta page (page 0: bad magic; page 1: bad magic)");
	with_damage(bad_checksums, "no valid meta page (page 0: bad checksum; page 1: bad checksum)");
	with_damage(bad_version, "unsupported version");
	with_damage(truncated_half, "truncated: 74 pages of 4096 bytes in use but the file has 151552 bytes");
	with_damage(truncated_tiny, "truncated: 100 bytes");
	with_damage(root_out_of_range, "page id 1048576 out of range (2..73)");
	with_damage(root_is_meta_page, "page id 1 out of range");
	with_damage(cycle, "cycle back to page");
	with_damage(header_id, "header names page 7");
	with_damage(keys_out_of_order, "keys out of order");
	with_damage(key_outside_page, "element 1 points outside the page");
	with_damage(overflow_past_end, "overflow pages run past");
	with_damage(freelist_as_tree, "type 0x10 where a branch or leaf page was expected");
	with_damage(bucket_value_size, "shorter than a bucket header");
	with_damage(too_many_elements, "65535 elements do not fit");
}

/* A damaged newest meta page: the previous transaction is still whole. */
static void test_torn_newest_meta(void **state)
{
	(void)state;
	char *root = copy_fixture();
	size_t len;
	unsigned char *db = read_db(root, &len);
	int newest = newest_meta(db);
	uint64_t older = meta_txid(db, 1 - newest);
	db[newest * PS + 16 + 60] ^= 0x40;     /* torn checksum */
	write_db(root, db, len);
	free(db);
	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(root, "default", "ctr-v1", &r, &e), 1);
	assert_true(has(&r, V1_MANIFEST, "manifest", "containerd"));

	char *p = tu_path(root, META);
	sw_bolt *b = NULL;
	assert_int_equal(sw_bolt_open(p, &b, &e), 0);
	readctx c = { 0 };
	assert_int_equal(sw_bolt_view(b, read_view, &c, &e), 0);
	assert_int_equal(sw_bolt_txid(b), older);
	free(c.image);
	sw_bolt_close(b);
	free(p);
	tu_rmrf(root);
	free(root);
}

/* ---- concurrent commits ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct commitctx {
	const char *path;
	int calls;
	int commits;            /* how many calls simulate a commit */
} commitctx;

/* What a bbolt commit does last: write the next meta page (txid + 1) over the
 * older of the two. */
static void commit_meta(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	unsigned char m[2][PS];
	assert_int_equal(pread(fd, m[0], PS, 0), PS);
	assert_int_equal(pread(fd, m[1], PS, PS), PS);
	int newest = get64(m[1] + 64) > get64(m[0] + 64) ? 1 : 0;
	unsigned char page[PS];
	memcpy(page, m[newest], PS);
	put64(page, (uint64_t)(1 - newest));
	put64(page + 64, get64(m[newest] + 64) + 1);
	reseal_meta(page);
	assert_int_equal(pwrite(fd, page, PS, (off_t)(1 - newest) * PS), PS);
	close(fd);
}

static int committing_view(sw_bolt *db, void *ctx, sw_error *err)
{
	commitctx *c = ctx;
	if (c->calls++ < c->commits)
		commit_meta(c->path);
	return 0;
}

static void test_view_retries(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *p = tu_path(root, META);
	sw_bolt *db = NULL;
	sw_error e = { 0 };
	assert_int_equal(sw_bolt_open(p, &db, &e), 0);

	/* one commit during the first read: read again, at the new transaction */
	commitctx c = { .path = p, .commits = 1 };
	assert_int_equal(sw_bolt_view(db, committing_view, &c, &e), 0);
	assert_int_equal(c.calls, 2);
	assert_int_equal(sw_bolt_txid(db), 214);

	/* a commit during every read: keep reading for the whole time budget (not
	 * a count of tries), then give up with SW_EBUSY, a "store busy" error that
	 * says nothing is wrong with the file */
	c = (commitctx){ .path = p, .commits = 1000000 };
	int64_t t0 = mono_ms();
	assert_int_equal(sw_bolt_view(db, committing_view, &c, &e), -SW_EBUSY);
	int64_t spent = mono_ms() - t0;
	assert_int_equal(e.code, SW_EBUSY);
	assert_true(spent >= SW_STORE_BUSY_MS);
	assert_true(spent < SW_STORE_BUSY_MS + 1000);
	assert_true(c.calls > 8);       /* the old count of tries */
	assert_non_null(strstr(e.msg, "meta.db: a transaction committed during each of "));
	assert_non_null(strstr(e.msg, "(containerd was writing its store)"));
	sw_bolt_close(db);

	/* the store still resolves after the simulated commits */
	sw_resolution r;
	assert_int_equal(resolve(root, "default", "ctr-v1", &r, &e), 1);
	free(p);
	tu_rmrf(root);
	free(root);
}

static int count_view(sw_bolt *db, void *ctx, sw_error *err)
{
	int *calls = ctx;
	(*calls)++;
	return 0;
}

/* A writer that commits during every read for 300 ms (a large namespace under
 * `ctr images import`: each read takes 2 ms and a commit lands in each): far
 * more than the 8 tries the reader used to give up after ("transactions
 * committed during each of 8 attempts", a listed image refused). Within the
 * time budget the read outlasts the writer and answers from one consistent
 * transaction, the writer's last. */
typedef struct busyctx {
	const char *path;
	int64_t until_ms;
	int calls;
} busyctx;

static int busy_view(sw_bolt *db, void *ctx, sw_error *err)
{
	busyctx *c = ctx;
	c->calls++;
	struct timespec ts = { 0, 2000000L };
	nanosleep(&ts, NULL);
	if (mono_ms() < c->until_ms)
		commit_meta(c->path);
	return 0;
}

static void test_view_outlasts_writer(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *p = tu_path(root, META);
	sw_error e = { 0 };
	sw_bolt *db = NULL;
	assert_int_equal(sw_bolt_open(p, &db, &e), 0);
	int64_t t0 = mono_ms();
	busyctx c = { .path = p, .until_ms = t0 + 300 };
	int r = sw_bolt_view(db, busy_view, &c, &e);
	int64_t spent = mono_ms() - t0;
	print_message("view under a writer: %d reads in %lld ms, rc %d %s\n", c.calls, (long long)spent, r,
		      r < 0 ? e.msg : "");
	assert_int_equal(r, 0);
	assert_true(c.calls > 8);
	assert_true(spent >= 300 && spent < SW_STORE_BUSY_MS);
	/* the transaction read is the writer's last one */
	uint64_t seen = sw_bolt_txid(db);
	sw_bolt_close(db);
	assert_int_equal(sw_bolt_open(p, &db, &e), 0);
	int calls = 0;
	assert_int_equal(sw_bolt_view(db, count_view, &calls, &e), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(sw_bolt_txid(db), seen);
	sw_bolt_close(db);
	free(p);
	tu_rmrf(root);
	free(root);
}

/* A read that a commit overtakes stops at the next check (every 32 steps)
 * instead of walking on: the next attempt then starts right after the commit.
 * The walk: every blob record of namespace k8s.io, 30 times over (a namespace
 * of many records). */
typedef struct walkctx {
	const char *path;
	int calls;
	int seen[4];            /* elements walked in each call */
} walkctx;

static int count_each(const char *key, size_t klen, const char *value, size_t vlen, bool is_bucket, void *ctx,
		      sw_error *err)
{
	(*(int *)ctx)++;
	return 0;
}

static int walking_view(sw_bolt *db, void *ctx, sw_error *err)
{
	walkctx *c = ctx;
	int call = c->calls++;
	if (call == 0)
		commit_meta(c->path);
	const char *path[] = { "v1", "k8s.io", "content", "blob" };
	int n = 0, r = 0;
	for (int i = 0; i < 30 && r >= 0; i++)
		r = sw_bolt_foreach(db, path, 4, count_each, &n, err);
	if (call < 4)
		c->seen[call] = n;
	return r < 0 ? r : 0;
}

static void test_view_stops_at_commit(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *p = tu_path(root, META);
	sw_error e = { 0 };
	sw_bolt *db = NULL;
	assert_int_equal(sw_bolt_open(p, &db, &e), 0);
	walkctx quiet = { .path = NULL, .calls = 1 };
	assert_int_equal(sw_bolt_view(db, walking_view, &quiet, &e), 0);
	int total = quiet.seen[1];
	print_message("elements walked: %d\n", total);
	assert_true(total > 100);
	walkctx c = { .path = p };
	assert_int_equal(sw_bolt_view(db, walking_view, &c, &e), 0);
	assert_int_equal(c.calls, 2);
	assert_true(c.seen[0] < 40);        /* stopped at the first check after the commit */
	assert_int_equal(c.seen[1], total);
	sw_bolt_close(db);
	free(p);
	tu_rmrf(root);
	free(root);
}

/* Any single flipped bit anywhere in the store: an error, "not found", or the
 * very same answer; never another digest, never a crash (run under ASan). */
static bool same(const sw_resolution *a, const sw_resolution *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!has(b, a->d[i].digest, a->d[i].kind, a->d[i].source))
			return false;
	return true;
}

static void test_random_flips(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *p = tu_path(root, META);
	const char *ids[][2] = { { "default", "ctr-v1" }, { "default", "ctr-index" },
				 { "k8s.io", CRI_BY_TAG }, { "k8s.io", CRI_SANDBOX } };
	sw_resolution want[4];
	sw_error e;
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(resolve(root, ids[i][0], ids[i][1], &want[i], &e), 1);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	int fd = open(p, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	unsigned seed = 20261125;
	unsigned errors = 0, changed_answers = 0;
	for (int it = 0; it < 4000; it++) {
		seed = seed * 1103515245u + 12345u;
		off_t off = (off_t)((seed >> 4) % (unsigned)st.st_size);
		unsigned char orig, flipped;
		assert_int_equal(pread(fd, &orig, 1, off), 1);
		flipped = orig ^ (unsigned char)(1u << ((seed >> 1) & 7));
		assert_int_equal(pwrite(fd, &flipped, 1, off), 1);
		size_t which = (size_t)it % 4;
		sw_resolution r;
		int rc = resolve(root, ids[which][0], ids[which][1], &r, &e);
		if (rc < 0) {
			errors++;
			assert_int_equal(r.n, 0);
		} else if (rc == 1 && !same(&r, &want[which])) {
			changed_answers++;
			fprintf(stderr, "flip at %lld changed the answer for %s\n", (long long)off, ids[which][1]);
		}
		assert_int_equal(pwrite(fd, &orig, 1, off), 1);
	}
	close(fd);
	assert_int_equal(changed_answers, 0);
	assert_true(errors > 0);
	tu_rmrf(root);
	free(p);
	free(root);
}

/* ---- the task bundles (sw_containerd_tasks, for the audit) ---- */

typedef struct tlisted {
	char line[8][600];
	size_t n;
} tlisted;

static int tlist_one(const sw_containerd_task *t, void *ctx)
{
	tlisted *l = ctx;
	if (l->n < SW_ARRAY_SIZE(l->line))
		snprintf(l->line[l->n++], sizeof l->line[0], "%s/%s %s %s", t->ns, t->id[0] ? t->id : "-",
			 t->alive ? "alive" : "not-alive", t->error ? t->error : "ok");
	return 0;
}

static const char *tfind(const tlisted *l, const char *prefix)
{
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->line[i], prefix, strlen(prefix)) == 0)
			return l->line[i];
	return NULL;
}

static void mkdir_p(const char *base, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", base, rel);
	for (char *c = p + strlen(base) + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			(void)mkdir(p, 0700);
			*c = '/';
		}
	assert_int_equal(mkdir(p, 0700) == 0 || errno == EEXIST, 1);
}

static void test_list_tasks(void **state)
{
	(void)state;
	sw_error e = { 0 };
	tlisted l = { 0 };
	assert_int_equal(sw_containerd_tasks("/nonexistent/sigward-containerd", tlist_one, &l, &e), 0);
	assert_int_equal(l.n, 0);

	char *dir = tu_tmpdir();
	char pid[32];
	snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	mkdir_p(dir, "io.containerd.runtime.v2.task/default/running1");
	char *t1 = tu_path(dir, "io.containerd.runtime.v2.task/default/running1");
	tu_writes(t1, "init.pid", pid);
	mkdir_p(dir, "io.containerd.runtime.v2.task/k8s.io/created1");
	/* what cannot be read is an entry with its error, never skipped: an
	 * init.pid that is a symbolic link, a directory that is no namespace */
	mkdir_p(dir, "io.containerd.runtime.v2.task/k8s.io/linked1");
	char *t2 = tu_path(dir, "io.containerd.runtime.v2.task/k8s.io/linked1");
	tu_writes(t2, "elsewhere", pid);
	char *lnk = tu_path(t2, "init.pid");
	assert_int_equal(symlink("elsewhere", lnk), 0);
	mkdir_p(dir, "io.containerd.runtime.v2.task/not a namespace!/x");

	assert_int_equal(sw_containerd_tasks(dir, tlist_one, &l, &e), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(tfind(&l, "default/running1"), "default/running1 alive ok");
	assert_string_equal(tfind(&l, "k8s.io/created1"), "k8s.io/created1 not-alive ok");
	const char *bad = tfind(&l, "k8s.io/linked1");
	assert_non_null(bad);
	assert_non_null(strstr(bad, "linked1/init.pid"));
	bad = tfind(&l, "not a namespace!/-");
	assert_non_null(bad);
	assert_non_null(strstr(bad, "not a containerd namespace"));
	free(lnk);
	free(t1);
	free(t2);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bolt_read),
		cmocka_unit_test(test_list_tasks),
		cmocka_unit_test(test_resolve_ctr),
		cmocka_unit_test(test_resolve_cri),
		cmocka_unit_test(test_image),
		cmocka_unit_test(test_resolve_not_found),
		cmocka_unit_test(test_resolve_refused),
		cmocka_unit_test(test_resolve_content_tampered),
		cmocka_unit_test(test_snapshot_missing),
		cmocka_unit_test(test_cri_metadata_nul),
		cmocka_unit_test(test_cri_scan_skips_unreadable_record),
		cmocka_unit_test(test_bundle_namespace),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_torn_newest_meta),
		cmocka_unit_test(test_view_retries),
		cmocka_unit_test(test_view_outlasts_writer),
		cmocka_unit_test(test_view_stops_at_commit),
		cmocka_unit_test(test_random_flips),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
