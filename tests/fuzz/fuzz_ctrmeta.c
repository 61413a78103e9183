/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * containerd's metadata store (lib/ctrmeta.c): the bbolt reader and the
 * containerd record readers, on edits of a real meta.db (the unit-test fixture
 * tests/unit/data/ctrmeta/root, written by containerd 1.6.20; SIGWARD_FUZZ_CTRMETA
 * names another root). Feeding the 300 KB file itself would spend nearly every
 * mutation on free space; an edit script keeps inputs small and every edit on
 * the file. The input is up to four parts separated by "\n%%%%\n":
 *   0  byte 0 picks the lookup (below); then edits of meta.db, each an op byte:
 *        op%4 == 0  write: offset (3 bytes LE, modulo the size), n-1 (1 byte),
 *                   then n bytes;
 *        op%4 == 1  truncate to an offset (3 bytes);
 *        op%4 == 2  copy page a over page b (1 byte each, modulo the pages);
 *        op%4 == 3  reseal both meta pages' checksums after the edits (so that
 *                   edits of the root, the high water mark, the txid get past
 *                   the checksum).
 *   1  an image config blob: stored under its digest C, which replaces the
 *      fixture's v1 config digest where meta.db holds it as a value (the CRI
 *      containers' ImageRef);
 *   2  a manifest blob, "@CFG@" replaced by C (or the v1 config): replaces the
 *      v1 manifest's digest as a value (the targets of v1, moving, gone);
 *   3  an index blob, "@MAN@" replaced by the manifest digest: replaces the
 *      multi index's digest as a value.
 * Blobs are content-addressed, so these parts are the way a mutated manifest,
 * index or config reaches the JSON readers behind the hash check.
 *
 * Lookups: the fixture's containers (ctr by name, by index, without layers,
 * re-tagged, removed, --rootfs; CRI by tag, by id, sandbox), image records by name,
 * and a generic walk of every bucket comparing each value sw_bolt_foreach
 * hands out with what sw_bolt_get finds for its key.
 */
#include "fuzz_util.h"

#include <libgen.h>

#include "ctrmeta.h"
#include "util.h"

#define SEP "\n%%%%\n"
#define META_DIR "io.containerd.metadata.v1.bolt"
#define PS 4096u

#define V1_MANIFEST "sha256:e2ff23b90dcede64c681406e44c85ee94416c5c1dd986883914220a644bb3aed"
#define V1_CONFIG "sha256:9d22770cf9971156729d1afc71900bc852615a04875d2d5a26c5a77db87fc5bf"
#define MULTI_INDEX "sha256:bfd5e20325b2bcc1f8f1f3e167cac523ca61ce87eb2896cfc630fd3195565505"
#define CRI_BY_TAG "2d6cc0fd1f9678f691cbd044a10d59ffd529c6582bae0b41c908f8f5ca2d7437"
#define CRI_BY_ID "7860281262e46bb93b7483e9788e1fcfc0dbcfa81b4fff4c5621b5c1b807ff96"
#define CRI_SANDBOX "bd67afd795b3ff767bd3f258dbbc6e81b31d1a282519751f2998c689e2e06a5d"

static char root[PATH_MAX], metadir[PATH_MAX], blobdir[PATH_MAX], metapath[PATH_MAX];
static unsigned char *fixture, *next, *cur;   /* cur: what meta.db holds now */
static size_t fixture_len, cur_len;
static char fixture_blobs[64][SW_SHA256_HEX + 1];
static size_t n_fixture_blobs;
static char extra[3][SW_SHA256_HEX + 1];   /* blobs the last input added */

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fz_die("open", path);
	size_t cap = 1 << 20;
	unsigned char *b = malloc(cap);
	if (!b)
		abort();
	*len = fread(b, 1, cap, f);
	if (ferror(f) || *len == cap)
		fz_die("read", path);
	fclose(f);
	return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char src[PATH_MAX];
	const char *env = getenv("SIGWARD_FUZZ_CTRMETA");
	if (env) {
		snprintf(src, sizeof src, "%s", env);
	} else {
		char here[PATH_MAX];
		snprintf(here, sizeof here, "%s", __FILE__);
		snprintf(src, sizeof src, "%s/../unit/data/ctrmeta/root", dirname(here));
	}
	char p[PATH_MAX + 128];
	snprintf(p, sizeof p, "%s/%s/meta.db", src, META_DIR);
	fixture = slurp(p, &fixture_len);
	if (fixture_len < 2 * PS)
		fz_die("too short", p);
	next = malloc(fixture_len);
	cur = calloc(1, fixture_len);
	if (!next || !cur)
		abort();

	snprintf(root, sizeof root, "%s/ctr", fz_tmp());
	snprintf(metadir, sizeof metadir, "%s/" META_DIR, root);
	snprintf(metapath, sizeof metapath, "%s/meta.db", metadir);
	fz_mkdir(root);
	fz_mkdir(metadir);
	char d[PATH_MAX];
	snprintf(d, sizeof d, "%s/io.containerd.content.v1.content", root);
	fz_mkdir(d);
	snprintf(d, sizeof d, "%s/io.containerd.content.v1.content/blobs", root);
	fz_mkdir(d);
	snprintf(blobdir, sizeof blobdir, "%s/io.containerd.content.v1.content/blobs/sha256", root);
	fz_mkdir(blobdir);

	/* The fixture's blobs, by name. */
	snprintf(p, sizeof p, "%s/io.containerd.content.v1.content/blobs/sha256", src);
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "ls '%s'", p);
	FILE *ls = popen(cmd, "r");
	if (!ls)
		fz_die("popen", p);
	char name[256];
	while (fgets(name, sizeof name, ls) && n_fixture_blobs < SW_ARRAY_SIZE(fixture_blobs)) {
		name[strcspn(name, "\n")] = '\0';
		if (strlen(name) != SW_SHA256_HEX)
			continue;
		char bp[PATH_MAX + 128];
		snprintf(bp, sizeof bp, "%s/%s", p, name);
		size_t bl;
		unsigned char *b = slurp(bp, &bl);
		fz_write(blobdir, name, b, bl);
		free(b);
		snprintf(fixture_blobs[n_fixture_blobs++], SW_SHA256_HEX + 1, "%s", name);
	}
	pclose(ls);
	if (n_fixture_blobs == 0)
		fz_die("no blobs in", p);
	return 0;
}

/* sw_bolt_view pauses (1 ms, 2 ms, ...) before reading a meta page again, in
 * case a writer was caught mid-commit; an input that damages both meta pages
 * would spend 28 ms there. Nothing writes during a fuzzing run, so the pause is
 * skipped (this definition takes the place of libc's in this program). */
int nanosleep(const struct timespec *req, struct timespec *rem);
int nanosleep(const struct timespec *req, struct timespec *rem)
{
	(void)req;
	(void)rem;
	return 0;
}

static bool is_fixture_blob(const char *hex)
{
	for (size_t i = 0; i < n_fixture_blobs; i++)
		if (strcmp(fixture_blobs[i], hex) == 0)
			return true;
	return false;
}

/* Store a blob under its digest, each placeholder ph in it (if any) replaced by repl. */
static void put_blob(const uint8_t *data, size_t n, const char *ph, const char *repl, char out[SW_DIGEST_STR],
		     char hex[SW_SHA256_HEX + 1])
{
	size_t pl = ph ? strlen(ph) : 0, rl = repl ? strlen(repl) : 0;
	char *b = malloc(n * (rl + 1) + 1);
	if (!b)
		abort();
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (pl && n - i >= pl && memcmp(data + i, ph, pl) == 0) {
			memcpy(b + o, repl, rl);
			o += rl;
			i += pl;
		} else {
			b[o++] = (char)data[i++];
		}
	}
	sw_sha256_hex(b, o, hex);
	snprintf(out, SW_DIGEST_STR, "sha256:%s", hex);
	fz_write(blobdir, hex, b, o);
	free(b);
}

/* Replace the digest `from` where it is a value: right after its key in a leaf
 * ("digest", a label name) or inside the CRI JSON ("ImageRef":"). Where it is a
 * key itself (content records, an image record named after it) it follows an
 * element's header bytes or '@' and stays: a new digest there would break the
 * key order, and every lookup would stop at that page. */
static void replace_values(unsigned char *db, size_t len, const char *from, const char *to)
{
	size_t n = strlen(from);
	for (unsigned char *p = db; (p = memmem(p, len - (size_t)(p - db), from, n)) != NULL; p += n) {
		unsigned char prev = p > db ? p[-1] : 0;
		if ((prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z') || (prev >= '0' && prev <= '9') ||
		    prev == '"')
			memcpy(p, to, n);
	}
}

static void reseal(unsigned char *db, size_t len)
{
	for (size_t pg = 0; pg < 2 && (pg + 1) * PS <= len; pg++) {
		unsigned char *m = db + pg * PS + 16;
		uint64_t h = 0xcbf29ce484222325ull;
		for (int i = 0; i < 56; i++) {
			h ^= m[i];
			h *= 0x100000001b3ull;
		}
		memcpy(m + 56, &h, 8);
	}
}

/* Apply the edit script; returns the new length. */
static size_t edit(unsigned char *db, size_t len, const uint8_t *s, size_t n)
{
	bool want_reseal = false;
	size_t i = 0;
	while (i < n) {
		uint8_t op = s[i++];
		switch (op & 3) {
		case 0: {
			if (n - i < 4)
				return len;
			size_t off = ((size_t)s[i] | (size_t)s[i + 1] << 8 | (size_t)s[i + 2] << 16) % len;
			size_t k = (size_t)s[i + 3] + 1;
			i += 4;
			if (k > n - i)
				k = n - i;
			if (k > len - off)
				k = len - off;
			memcpy(db + off, s + i, k);
			i += k;
			break;
		}
		case 1: {
			if (n - i < 3)
				return len;
			size_t off = ((size_t)s[i] | (size_t)s[i + 1] << 8 | (size_t)s[i + 2] << 16) % len;
			i += 3;
			if (off > 0)
				len = off;
			break;
		}
		case 2: {
			if (n - i < 2 || len < PS)
				return len;
			size_t pages = len / PS;
			size_t a = s[i] % pages, b = s[i + 1] % pages;
			i += 2;
			memmove(db + b * PS, db + a * PS, PS);
			break;
		}
		default:
			want_reseal = true;
			break;
		}
	}
	if (want_reseal)
		reseal(db, len);
	return len;
}

/* Make meta.db hold db[0..len): only the pages that differ from what it holds
 * are written (a whole 300 KB file per input made the write the slowest step). */
static void store(const unsigned char *db, size_t len)
{
	int fd = open(metapath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		fz_die("open", metapath);
	for (size_t off = 0; off < len; off += PS) {
		size_t n = len - off < PS ? len - off : PS;
		if (off + n <= cur_len && memcmp(cur + off, db + off, n) == 0)
			continue;
		if (pwrite(fd, db + off, n, (off_t)off) != (ssize_t)n)
			fz_die("write", metapath);
		memcpy(cur + off, db + off, n);
	}
	if (len != cur_len && ftruncate(fd, (off_t)len) < 0)
		fz_die("truncate", metapath);
	cur_len = len;
	close(fd);
}

static void check_resolution(int rc, const sw_resolution *r, const sw_error *e, size_t n0)
{
	if (rc < 0) {
		/* one line naming the problem, nothing added */
		if (!e->msg[0] || strchr(e->msg, '\n') || r->n != n0)
			abort();
		return;
	}
	if (rc == 0 && r->n != n0)
		abort();
	for (size_t i = 0; i < r->n; i++) {
		const sw_found *f = &r->d[i];
		if (strlen(f->digest) != 71 || strncmp(f->digest, "sha256:", 7) != 0 ||
		    !sw_is_hex64(f->digest + 7, 64))
			abort();
		if (strcmp(f->kind, "manifest") && strcmp(f->kind, "index") && strcmp(f->kind, "image-id"))
			abort();
	}
}

/* ---- the generic walk ---- */

typedef struct gwalk {
	sw_bolt *db;
	const char *path[SW_BOLT_MAX_PATH];
	size_t n;
	unsigned visits;
	bool mismatch;
} gwalk;

static int visit(const char *key, size_t klen, const char *value, size_t vlen, bool is_bucket, void *ctx,
		 sw_error *err)
{
	gwalk *g = ctx;
	if (++g->visits > 2000)
		return 1;
	if (strlen(key) != klen)
		return 0;   /* a path is C strings: a key with a NUL cannot be named */
	if (is_bucket) {
		if (value || vlen)
			abort();
		if (g->n + 1 >= SW_BOLT_MAX_PATH || g->n >= 6)
			return 0;
		g->path[g->n++] = key;
		int r = sw_bolt_foreach(g->db, g->path, g->n, visit, g, err);
		g->n--;
		return r;
	}
	/* Keep a copy: the lookup below may reuse what value points into. */
	char *copy = sw_memdup0(value, vlen);
	if (!copy)
		abort();
	char *v = NULL;
	size_t vl = 0;
	sw_error e = { 0 };
	int r = sw_bolt_get(g->db, g->path, g->n, key, &v, &vl, &e);
	if (r < 0 && (!e.msg[0] || strchr(e.msg, '\n')))
		abort();
	if (r == 1) {
		if (v[vl] != '\0')
			abort();   /* documented: NUL-terminated one past the length */
		if (vl != vlen || memcmp(v, copy, vl) != 0)
			g->mismatch = true;
	}
	free(v);
	free(copy);
	return 0;
}

static int walk_view(sw_bolt *db, void *ctx, sw_error *err)
{
	gwalk *g = ctx;
	g->db = db;
	g->n = 0;
	g->visits = 0;
	g->mismatch = false;
	return sw_bolt_foreach(db, g->path, 0, visit, g, err);
}

static void generic_walk(void)
{
	sw_bolt *db = NULL;
	sw_error e = { 0 };
	if (sw_bolt_open(metapath, &db, &e) < 0) {
		if (!e.msg[0])
			abort();
		return;
	}
	gwalk g = { 0 };
	int r = sw_bolt_view(db, walk_view, &g, &e);
	fz_debug("walk", r, r < 0 ? e.msg : "");
	if (r < 0 && (!e.msg[0] || strchr(e.msg, '\n')))
		abort();
	/* A walk that saw the whole tree in order: every lookup that found a key
	 * must have found the very value the walk saw (one key, one element). */
	if (r == 0 && g.mismatch)
		abort();
	sw_bolt_close(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[4] = { 0 };
	size_t plen[4] = { 0 };
	size_t np = fz_split(data, size, SEP, part, plen, 4);

	for (size_t i = 0; i < 3; i++) {
		if (extra[i][0] && !is_fixture_blob(extra[i]))
			fz_unlink(blobdir, extra[i]);
		extra[i][0] = '\0';
	}
	unsigned char *db = next;
	memcpy(db, fixture, fixture_len);
	char cfg[SW_DIGEST_STR] = V1_CONFIG, man[SW_DIGEST_STR] = V1_MANIFEST, idx[SW_DIGEST_STR];
	if (np > 1) {
		put_blob(part[1], plen[1], NULL, NULL, cfg, extra[0]);
		replace_values(db, fixture_len, V1_CONFIG, cfg);
	}
	if (np > 2) {
		put_blob(part[2], plen[2], "@CFG@", cfg, man, extra[1]);
		replace_values(db, fixture_len, V1_MANIFEST, man);
	}
	if (np > 3) {
		put_blob(part[3], plen[3], "@MAN@", man, idx, extra[2]);
		replace_values(db, fixture_len, MULTI_INDEX, idx);
	}
	uint8_t sel = plen[0] ? part[0][0] : 0;
	size_t len = plen[0] ? edit(db, fixture_len, part[0] + 1, plen[0] - 1) : fixture_len;
	store(db, len);

	static const struct {
		const char *ns, *id;
		bool image;
	} lookups[] = {
		{ "default", "ctr-v1", false },      { "default", "ctr-index", false },
		{ "default", "ctr-nolayers", false }, { "default", "ctr-retagged", false },
		{ "default", "ctr-gone", false },     { "default", "ctr-rootfs", false },
		{ "k8s.io", CRI_BY_TAG, false },      { "k8s.io", CRI_BY_ID, false },
		{ "k8s.io", CRI_SANDBOX, false },     { "default", "localhost/img:multi", true },
		{ "k8s.io", "localhost/img:pause", true },
	};
	size_t which = sel % (SW_ARRAY_SIZE(lookups) + 1);
	if (which == SW_ARRAY_SIZE(lookups)) {
		generic_walk();
		return 0;
	}
	sw_resolution r = { 0 };
	sw_error e = { 0 };
	/* A digest from an earlier source stays; nothing half-added. */
	(void)sw_resolution_add(&r, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
				"annotation", "manifest", &e);
	size_t n0 = r.n;
	int rc = lookups[which].image ? sw_containerd_image(root, lookups[which].ns, lookups[which].id, &r, &e)
				      : sw_containerd_resolve(root, lookups[which].ns, lookups[which].id, &r, &e);
	fz_debug(lookups[which].id, rc, rc < 0 ? e.msg : r.n > n0 ? r.d[r.n - 1].digest : "");
	check_resolution(rc, &r, &e, n0);
	if (r.n < n0)
		abort();

	/* The bundle path parser, with the edit bytes as the namespace. */
	char bundle[512], ns[SW_CONTAINERD_NS_MAX + 1];
	size_t bl = plen[0] < 200 ? plen[0] : 200;
	int bn = snprintf(bundle, sizeof bundle, "/run/containerd/io.containerd.runtime.v2.task/");
	memcpy(bundle + bn, part[0], bl);
	snprintf(bundle + bn + bl, sizeof bundle - (size_t)bn - bl, "/ctr-v1");
	int br = sw_containerd_bundle_namespace(bundle, "ctr-v1", ns, &e);
	if (br == 1 && (!ns[0] || strchr(ns, '/') || strlen(ns) > SW_CONTAINERD_NS_MAX))
		abort();
	return 0;
}
