/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dockerstore: the Docker data root reader, on records written by a real dockerd
 * 20.10.24 (tests/unit/data/docker/root, made by tests/integration/docker-store.sh
 * with SW_DOCKER_FIXTURE_OUT, see docs/docker-store.md), on damaged copies of
 * them, and on synthetic data roots built here. A damaged root gives an error
 * that names the file and adds no digest; it never yields a digest the intact
 * root would not give.
 */
#include "testutil.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dockerstore.h"
#include "storeindex.h"

/* What the fixture holds (tests/unit/data/docker/ids). */
#define C_LOADED "b8794d20b3d844639a500eef05566282e18135902430b8b30945e7c9fdbd5f75"
#define IMG_V1 "sha256:0ea00a79b7a7138e4def4163d19fbe04e8d090f928cf330a48548110f46e9235"
#define C_BY_DIGEST "13b89934a0489d5bfdfe586f24efdef5ee6d4a6bdd3e9d34fff6960be8b10da4"
#define IMG_V2 "sha256:d5d051061087149664ccf65baf56f4a8a77be48b9ac0c5b82d7f1c71e108dc5c"
#define MAN_V2 "sha256:81db2f8fbfbabfb66fd244498ad0ba8d645c2e6e09fe3bc642918a336efcf3fa"
#define C_BY_INDEX "f3f88e51e5506a6963a65d414f5164228b2a96b173894e36cbf749e54677dc88"
#define IMG_V3 "sha256:953ab95608010f79bd1466774c797bf4cdff8dfe607b181e2e4241aa046d33bd"
#define MAN_V3 "sha256:d35bc949b5b98f3246b2a015b9b00de5cf092fd4378461fadab99a27a85b8a60"
#define INDEX_V3 "sha256:d30f8199e5a227b6a770c1754f01e725fedbc4461c5c9691e2d74a2bbc1451b6"
#define REG "127.0.0.1:42561"

#define CID "c0ffee0000000000000000000000000000000000000000000000000000000001"
#define CID2 "c0ffee0000000000000000000000000000000000000000000000000000000002"

static char fixture[PATH_MAX];

/* The fixture sits next to this source file; the binary may run from any
 * directory (meson compiles with the build root as working directory). */
static void find_fixture(void)
{
	const char *env = getenv("SW_DOCKER_FIXTURE");
	if (env) {
		snprintf(fixture, sizeof fixture, "%s", env);
		return;
	}
	char src[PATH_MAX];
	snprintf(src, sizeof src, "%s", __FILE__);
	char *dir = dirname(src);
	if (dir[0] == '/') {
		snprintf(fixture, sizeof fixture, "%s/data/docker/root", dir);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	/* <build>/tests/unit/test-dockerstore */
	char *bdir = dirname(dirname(dirname(exe)));
	snprintf(fixture, sizeof fixture, "%s/%s/data/docker/root", bdir, dir);
}

static int setup(void **state)
{
	(void)state;
	find_fixture();
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/image/overlay2/repositories.json", fixture);
	struct stat st;
	if (stat(p, &st) != 0) {
		fprintf(stderr, "fixture not found at %s (set SW_DOCKER_FIXTURE)\n", p);
		return -1;
	}
	return 0;
}

/* ---- helpers ---- */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static char *copy_fixture(void)
{
	char *dir = tu_tmpdir();
	sh("cp -a '%s/.' '%s/' && chmod -R u+w '%s'", fixture, dir, dir);
	return dir;
}

/* mkdir -p, without a shell: the flip test writes hundreds of files. */
static void mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

/* Write root/rel (parents created). */
static void put(const char *root, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	tu_write(path, slash + 1, data, len);
}

static void puts_(const char *root, const char *rel, const char *text)
{
	put(root, rel, text, strlen(text));
}

static void rm(const char *root, const char *rel)
{
	sh("rm -rf '%s/%s'", root, rel);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int resolve(const char *root, const char *id, sw_resolution *r, sw_error *e)
{
	*r = (sw_resolution){ 0 };
	*e = (sw_error){ 0 };
	return sw_docker_resolve(root, id, r, e);
}

static bool has(const sw_resolution *r, const char *digest, const char *kind)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->d[i].digest, digest) == 0 && strcmp(r->d[i].kind, kind) == 0 &&
		    strcmp(r->d[i].source, "docker") == 0)
			return true;
	return false;
}

/* A refused root: an error naming `file` and saying `what`, one line, no digest. */
static int expect_refused(const char *root, const char *id, const char *file, const char *what)
{
	sw_resolution r;
	sw_error e;
	int rc = resolve(root, id, &r, &e);
	if (rc >= 0 || !strstr(e.msg, what) || !strstr(e.msg, file))
		fail_msg("expected an error naming %s with \"%s\", got %d: %s", file, what, rc, e.msg);
	assert_int_equal(r.n, 0);
	assert_string_equal(r.reference, "");
	assert_null(strchr(e.msg, '\n'));
	return e.code;
}

static void expect_found(const char *root, const char *id, sw_resolution *r)
{
	sw_error e;
	int rc = resolve(root, id, r, &e);
	if (rc != 1)
		fail_msg("expected container %s to be found, got %d: %s", id, rc, e.msg);
}

static void expect_not_found(const char *root, const char *id)
{
	sw_resolution r;
	sw_error e;
	int rc = resolve(root, id, &r, &e);
	if (rc != 0)
		fail_msg("expected \"not found\" for %s, got %d: %s", id, rc, e.msg);
	assert_int_equal(r.n, 0);
	assert_string_equal(r.looked_at, "docker");
}

/* ---- synthetic data roots ---- */

/* One image with `layers` layers and one container made from it, in store
 * image/<driver>. Tests rewrite pieces of it. */
typedef struct syn {
	char *root;
	char driver[32];
	char id[72];            /* "sha256:<hex>" of the image config */
	char chain[72];         /* "" for no layers */
	char man[72];           /* a repository digest */
} syn;

static void chain_of(int layers, int seed, char out[72])
{
	out[0] = '\0';
	for (int i = 0; i < layers; i++) {
		char diff[72], hex[65], buf[160];
		snprintf(buf, sizeof buf, "layer %d of %d", i, seed);
		sha256_hex(buf, strlen(buf), hex);
		snprintf(diff, sizeof diff, "sha256:%s", hex);
		if (!out[0]) {
			snprintf(out, 72, "%s", diff);
			continue;
		}
		/* image-spec identity.ChainID, written here independently. */
		snprintf(buf, sizeof buf, "%s %s", out, diff);
		sha256_hex(buf, strlen(buf), hex);
		snprintf(out, 72, "sha256:%s", hex);
	}
}

/* An image config with `layers` layers (seed tells images apart); returns its id. */
static void syn_image(const char *root, const char *driver, int layers, int seed, char id[72])
{
	char config[16384], diffs[16000] = "";
	size_t n = 0;
	for (int i = 0; i < layers; i++) {
		char hex[65], buf[64];
		snprintf(buf, sizeof buf, "layer %d of %d", i, seed);
		sha256_hex(buf, strlen(buf), hex);
		n += (size_t)snprintf(diffs + n, sizeof diffs - n, "%s\"sha256:%s\"", i ? "," : "", hex);
	}
	snprintf(config, sizeof config,
		 "{\"architecture\":\"amd64\",\"config\":{\"Cmd\":[\"/bin/sh\"],\"Labels\":{\"seed\":\"%d\"}},"
		 "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}", seed, diffs);
	char hex[65], rel[256];
	sha256_hex(config, strlen(config), hex);
	snprintf(id, 72, "sha256:%s", hex);
	snprintf(rel, sizeof rel, "image/%s/imagedb/content/sha256/%s", driver, hex);
	puts_(root, rel, config);
}

static void syn_config(const syn *s, const char *cid, const char *json)
{
	char rel[256];
	snprintf(rel, sizeof rel, "containers/%s/config.v2.json", cid);
	puts_(s->root, rel, json);
}

/* config.v2.json as Docker writes it (trimmed), naming `image`. */
static void syn_default_config(const syn *s, const char *cid, const char *image)
{
	char json[2048];
	snprintf(json, sizeof json,
		 "{\"StreamConfig\":{},\"State\":{\"Running\":false,\"Pid\":0,\"Health\":null},"
		 "\"ID\":\"%s\",\"Created\":\"2026-11-25T08:00:00Z\",\"Path\":\"/bin/true\",\"Args\":[],"
		 "\"Config\":{\"Hostname\":\"c0ffee\",\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"/bin/true\"],"
		 "\"Image\":\"reg.example/app:1\",\"Labels\":{}},\"Image\":\"%s\",\"NetworkSettings\":null,"
		 "\"Name\":\"/syn\",\"Driver\":\"%s\",\"OS\":\"linux\",\"MountLabel\":\"\"}",
		 cid, image, s->driver);
	syn_config(s, cid, json);
}

static void syn_parent(const syn *s, const char *cid, const char *chain)
{
	char rel[256];
	snprintf(rel, sizeof rel, "image/%s/layerdb/mounts/%s/mount-id", s->driver, cid);
	puts_(s->root, rel, "0123456789abcdef");
	if (chain && *chain) {
		snprintf(rel, sizeof rel, "image/%s/layerdb/mounts/%s/parent", s->driver, cid);
		puts_(s->root, rel, chain);
	}
}

static void syn_repos(const syn *s, const char *json)
{
	char rel[128];
	snprintf(rel, sizeof rel, "image/%s/repositories.json", s->driver);
	puts_(s->root, rel, json);
}

/* The repositories.json of a pulled image plus another image's entry. */
static void syn_default_repos(const syn *s)
{
	char json[2048];
	snprintf(json, sizeof json,
		 "{\"Repositories\":{\"other/img\":{\"other/img:latest\":\"sha256:%064d\"},"
		 "\"reg.example/app\":{\"reg.example/app:1\":\"%s\",\"reg.example/app@%s\":\"%s\"}}}",
		 7, s->id, s->man, s->id);
	syn_repos(s, json);
}

static syn syn_new_driver(const char *driver, int layers)
{
	syn s = { 0 };
	s.root = tu_tmpdir();
	snprintf(s.driver, sizeof s.driver, "%s", driver);
	syn_image(s.root, driver, layers, 1, s.id);
	chain_of(layers, 1, s.chain);
	char hex[65];
	sha256_hex("a manifest", 10, hex);
	snprintf(s.man, sizeof s.man, "sha256:%s", hex);
	syn_default_config(&s, CID, s.id);
	syn_parent(&s, CID, s.chain);
	syn_default_repos(&s);
	return s;
}

static syn syn_new(void)
{
	return syn_new_driver("overlay2", 2);
}

static void syn_free(syn *s)
{
	tu_rmrf(s->root);
	free(s->root);
}

static void store_path(const syn *s, char *out, size_t n, const char *rel)
{
	snprintf(out, n, "image/%s/%s", s->driver, rel);
}

/* ---- enumeration (sw_docker_containers, for the audit) ---- */

typedef struct dlisted {
	char line[8][700];
	size_t n;
} dlisted;

static int dlist_one(const sw_docker_container *c, void *ctx)
{
	dlisted *l = ctx;
	if (l->n < SW_ARRAY_SIZE(l->line))
		snprintf(l->line[l->n++], sizeof l->line[0], "%s %s %s %s %s %s", c->id,
			 c->running ? (c->paused ? "paused" : "running") : "stopped",
			 c->image[0] ? c->image : "-", c->reference[0] ? c->reference : "-",
			 c->runtime[0] ? c->runtime : "-", c->error ? c->error : "ok");
	return 0;
}

static const char *dfind(const dlisted *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->line[i], id, strlen(id)) == 0)
			return l->line[i];
	return NULL;
}

#define CID3 "c0ffee0000000000000000000000000000000000000000000000000000000003"
#define CID4 "c0ffee0000000000000000000000000000000000000000000000000000000004"

static void test_list_containers(void **state)
{
	(void)state;
	sw_error e = { 0 };
	dlisted l = { 0 };
	assert_int_equal(sw_docker_containers("/nonexistent/sigward-docker", dlist_one, &l, &e), 0);
	assert_int_equal(l.n, 0);

	syn s = syn_new();
	/* a running container under another runtime */
	char json[2048];
	snprintf(json, sizeof json,
		 "{\"State\":{\"Running\":true,\"Paused\":false},\"ID\":\"%s\",\"Config\":{\"Image\":\"reg.example/app:2\"},"
		 "\"Image\":\"%s\",\"Driver\":\"%s\"}", CID2, s.id, s.driver);
	syn_config(&s, CID2, json);
	puts_(s.root, "containers/" CID2 "/hostconfig.json", "{\"Runtime\":\"sigward-runc\",\"Privileged\":false}");
	/* records that cannot be read: entries with their error, never skipped */
	syn_config(&s, CID3, "{\"State\":{\"Running\":true},\"ID\":");
	snprintf(json, sizeof json, "{\"ID\":\"%s\",\"Image\":\"%s\"}", CID, s.id);
	syn_config(&s, CID4, json);
	/* not a Docker container id: not Docker's */
	puts_(s.root, "containers/not-a-container/config.v2.json", "{}");

	assert_int_equal(sw_docker_containers(s.root, dlist_one, &l, &e), 0);
	assert_int_equal(l.n, 4);
	char want[700];
	snprintf(want, sizeof want, CID " stopped %s reg.example/app:1 - ok", s.id);
	assert_string_equal(dfind(&l, CID), want);
	snprintf(want, sizeof want, CID2 " running %s reg.example/app:2 sigward-runc ok", s.id);
	assert_string_equal(dfind(&l, CID2), want);
	const char *bad = dfind(&l, CID3);
	assert_non_null(bad);
	assert_non_null(strstr(bad, CID3 "/config.v2.json"));
	bad = dfind(&l, CID4);
	assert_non_null(bad);
	assert_non_null(strstr(bad, "not the container " CID4));

	/* a hostconfig.json that is not JSON: the container is still listed, with why */
	puts_(s.root, "containers/" CID2 "/hostconfig.json", "{\"Runtime\":");
	l = (dlisted){ 0 };
	assert_int_equal(sw_docker_containers(s.root, dlist_one, &l, &e), 0);
	bad = dfind(&l, CID2);
	assert_non_null(bad);
	assert_non_null(strstr(bad, "hostconfig.json"));
	assert_non_null(strstr(bad, CID2 " running"));
	syn_free(&s);
}

/* ---- the real fixture ---- */

static void test_fixture_loaded(void **state)
{
	(void)state;
	sw_resolution r;
	expect_found(fixture, C_LOADED, &r);
	/* docker load records a tag, never a digest. */
	assert_int_equal(r.n, 1);
	assert_true(has(&r, IMG_V1, "image-id"));
	assert_string_equal(r.reference, "test/img:v1");
	assert_string_equal(r.looked_at, "docker");
}

static void test_fixture_by_digest(void **state)
{
	(void)state;
	sw_resolution r;
	expect_found(fixture, C_BY_DIGEST, &r);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, IMG_V2, "image-id"));
	assert_true(has(&r, MAN_V2, "unknown"));
	assert_string_equal(r.d[0].digest, IMG_V2);
	assert_string_equal(r.reference, REG "/sw/two@" MAN_V2);
}

static void test_fixture_by_index(void **state)
{
	(void)state;
	sw_resolution r;
	expect_found(fixture, C_BY_INDEX, &r);
	/* A tag pull through an index: Docker records the index, not the manifest. */
	assert_int_equal(r.n, 2);
	assert_true(has(&r, IMG_V3, "image-id"));
	assert_true(has(&r, INDEX_V3, "unknown"));
	for (size_t i = 0; i < r.n; i++)
		assert_string_not_equal(r.d[i].digest, MAN_V3);
	assert_string_equal(r.reference, REG "/sw/multi:m");
}

static void test_fixture_reference_kept(void **state)
{
	(void)state;
	sw_resolution r = { 0 };
	sw_error e = { 0 };
	snprintf(r.reference, sizeof r.reference, "from-an-annotation:1");
	assert_int_equal(sw_docker_resolve(fixture, C_BY_DIGEST, &r, &e), 1);
	assert_string_equal(r.reference, "from-an-annotation:1");
	/* Added after what was there, looked_at appended. */
	snprintf(r.looked_at, sizeof r.looked_at, "annotation:x");
	assert_int_equal(sw_docker_resolve(fixture, C_LOADED, &r, &e), 1);
	assert_string_equal(r.looked_at, "annotation:x, docker");
	assert_int_equal(r.n, 3);
}

/* The test the issue asks of a real dockerd, on its records: config.v2.json
 * edited to name another image that is intact (and perhaps listed). */
static void test_fixture_swapped_image(void **state)
{
	(void)state;
	char *root = copy_fixture();
	sh("sed -i 's/\"Image\":\"%s\"/\"Image\":\"%s\"/' '%s/containers/%s/config.v2.json'",
	   IMG_V2, IMG_V1, root, C_BY_DIGEST);
	int code = expect_refused(root, C_BY_DIGEST, "layerdb/mounts/" C_BY_DIGEST "/parent", "layer chain");
	assert_int_equal(code, SW_EVERIFY);
	/* And the other way round: a one-layer image's container naming the
	 * two-layer image. */
	sh("sed -i 's/\"Image\":\"%s\"/\"Image\":\"%s\"/' '%s/containers/%s/config.v2.json'",
	   IMG_V1, IMG_V2, root, C_LOADED);
	expect_refused(root, C_LOADED, "parent", "layer chain");
	tu_rmrf(root);
	free(root);
}

static void test_fixture_tampered(void **state)
{
	(void)state;
	char *root = copy_fixture();
	sh("printf ' ' >>'%s/image/overlay2/imagedb/content/sha256/%s'", root, IMG_V2 + 7);
	int code = expect_refused(root, C_BY_DIGEST, "imagedb/content/sha256/", "hashes to");
	assert_int_equal(code, SW_EVERIFY);
	/* Another container, another image: unaffected. */
	sw_resolution r;
	expect_found(root, C_LOADED, &r);
	tu_rmrf(root);
	free(root);
}

/* One byte changed anywhere in config.v2.json, the image config or the parent
 * record: an error, or exactly the intact answer (a byte in a field sigward
 * does not read). Never another digest. */
static void test_fixture_flips(void **state)
{
	(void)state;
	sw_resolution want;
	expect_found(fixture, C_BY_DIGEST, &want);
	const char *files[] = {
		"containers/" C_BY_DIGEST "/config.v2.json",
		"image/overlay2/imagedb/content/sha256/d5d051061087149664ccf65baf56f4a8a77be48b9ac0c5b82d7f1c71e108dc5c",
		"image/overlay2/layerdb/mounts/" C_BY_DIGEST "/parent",
	};
	char *root = copy_fixture();
	unsigned seed = 12345;
	for (size_t f = 0; f < SW_ARRAY_SIZE(files); f++) {
		size_t len;
		char *orig = tu_read(root, files[f], &len);
		for (int i = 0; i < 150; i++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			char *b = malloc(len);
			assert_non_null(b);
			memcpy(b, orig, len);
			b[at] ^= (char)(1u << ((seed >> 4) % 8));
			put(root, files[f], b, len);
			free(b);
			sw_resolution r;
			sw_error e;
			int rc = resolve(root, C_BY_DIGEST, &r, &e);
			if (rc < 0) {
				assert_int_equal(r.n, 0);
				continue;
			}
			if (rc != 1 || r.n != want.n || memcmp(r.d, want.d, r.n * sizeof r.d[0]) != 0)
				fail_msg("%s byte %zu flipped: rc %d, %zu digests, first %s", files[f], at, rc, r.n,
					 r.n ? r.d[0].digest : "-");
		}
		put(root, files[f], orig, len);
		free(orig);
	}
	tu_rmrf(root);
	free(root);
}

/* ---- synthetic: found ---- */

static void test_found_with_repository_digest(void **state)
{
	(void)state;
	syn s = syn_new();
	sw_resolution r;
	expect_found(s.root, CID, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.d[0].digest, s.id);
	assert_string_equal(r.d[0].kind, "image-id");
	assert_string_equal(r.d[0].source, "docker");
	assert_true(has(&r, s.man, "unknown"));
	assert_string_equal(r.reference, "reg.example/app:1");
	syn_free(&s);
}

static void test_found_without_repository_digest(void **state)
{
	(void)state;
	syn s = syn_new();
	sw_resolution r;

	/* A tag only (docker load, docker tag, docker build). */
	char json[512];
	snprintf(json, sizeof json, "{\"Repositories\":{\"local/x\":{\"local/x:v1\":\"%s\"}}}", s.id);
	syn_repos(&s, json);
	expect_found(s.root, CID, &r);
	assert_int_equal(r.n, 1);
	assert_true(has(&r, s.id, "image-id"));
	assert_string_equal(r.reference, "local/x:v1");

	/* Untagged: no name at all. */
	syn_repos(&s, "{\"Repositories\":{}}");
	expect_found(s.root, CID, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.reference, "");

	/* No repositories.json: Docker never named an image. */
	char rel[128];
	store_path(&s, rel, sizeof rel, "repositories.json");
	rm(s.root, rel);
	expect_found(s.root, CID, &r);
	assert_int_equal(r.n, 1);

	/* null where Go reads "nothing". */
	const char *nulls[] = {
		"null",
		"{\"Repositories\":null}",
		"{\"Repositories\":{\"a\":null}}",
		"{\"Other\":[1,{\"x\":null}],\"Repositories\":{}}",
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(nulls); i++) {
		syn_repos(&s, nulls[i]);
		expect_found(s.root, CID, &r);
		assert_int_equal(r.n, 1);
	}
	syn_free(&s);
}

static void test_digests_deduplicated_tag_preferred(void **state)
{
	(void)state;
	syn s = syn_new();
	char other[72], json[2048];
	sha256_hex("another manifest", 16, other + 7);
	memcpy(other, "sha256:", 7);
	/* The same manifest pulled through two names, a second manifest, and the
	 * tag after the digest references in file order. */
	snprintf(json, sizeof json,
		 "{\"Repositories\":{\"a.example/app\":{\"a.example/app@%s\":\"%s\"},"
		 "\"b.example/app\":{\"b.example/app@%s\":\"%s\",\"b.example/app@%s\":\"%s\","
		 "\"b.example/app:2\":\"%s\"}}}",
		 s.man, s.id, s.man, s.id, other, s.id, s.id);
	syn_repos(&s, json);
	sw_resolution r;
	expect_found(s.root, CID, &r);
	assert_int_equal(r.n, 3);
	assert_true(has(&r, s.man, "unknown"));
	assert_true(has(&r, other, "unknown"));
	assert_string_equal(r.reference, "b.example/app:2");
	syn_free(&s);
}

static void test_layers(void **state)
{
	(void)state;
	/* No layers: no parent record. One layer: the chain is the diff id. Many. */
	const int counts[] = { 0, 1, 5, 125 };
	for (size_t i = 0; i < SW_ARRAY_SIZE(counts); i++) {
		syn s = syn_new_driver("overlay2", counts[i]);
		sw_resolution r;
		expect_found(s.root, CID, &r);
		assert_true(has(&r, s.id, "image-id"));
		syn_free(&s);
	}

	/* Docker reads parent with strings.TrimSpace. */
	syn s = syn_new();
	char chain[100];
	snprintf(chain, sizeof chain, "%s\n", s.chain);
	syn_parent(&s, CID, chain);
	sw_resolution r;
	expect_found(s.root, CID, &r);

	/* "rootfs": null, and no rootfs at all: no layers. */
	const char *configs[] = {
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":null}",
		"{\"architecture\":\"amd64\",\"os\":\"linux\"}",
		"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":null}}",
		"{\"rootfs\":{\"type\":\"layers\"}}",
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(configs); i++) {
		char hex[65], rel[256], id[72];
		sha256_hex(configs[i], strlen(configs[i]), hex);
		snprintf(id, sizeof id, "sha256:%s", hex);
		snprintf(rel, sizeof rel, "image/overlay2/imagedb/content/sha256/%s", hex);
		puts_(s.root, rel, configs[i]);
		syn_default_config(&s, CID2, id);
		syn_parent(&s, CID2, NULL);
		expect_found(s.root, CID2, &r);
		assert_true(has(&r, id, "image-id"));
	}
	syn_free(&s);
}

static void test_go_key_rules(void **state)
{
	(void)state;
	syn s = syn_new();
	char json[1024];
	sw_resolution r;

	/* Go selects struct fields case-insensitively (and with Unicode folding:
	 * U+017F for 's', U+212A for 'k'): dockerd reads these keys as Image, ID,
	 * rootfs and Repositories, so sigward does too. */
	snprintf(json, sizeof json, "{\"id\":\"%s\",\"IMAGE\":\"%s\",\"driver\":\"overlay2\"}", CID, s.id);
	syn_config(&s, CID, json);
	expect_found(s.root, CID, &r);
	assert_true(has(&r, s.id, "image-id"));

	snprintf(json, sizeof json,
		 "{\"Repositorie\xc5\xbf\":{\"reg.example/app\":{\"reg.example/app@%s\":\"%s\"}}}", s.man, s.id);
	syn_repos(&s, json);
	expect_found(s.root, CID, &r);
	assert_true(has(&r, s.man, "unknown"));

	/* An image whose layers hide behind "rootf\u017f": Docker sees them. */
	char hex[65], rel[256], id[72], cfg[512], diff[65];
	sha256_hex("d", 1, diff);
	snprintf(cfg, sizeof cfg, "{\"ROOTF\xc5\xbf\":{\"Diff_IDs\":[\"sha256:%s\"]}}", diff);
	sha256_hex(cfg, strlen(cfg), hex);
	snprintf(id, sizeof id, "sha256:%s", hex);
	snprintf(rel, sizeof rel, "image/overlay2/imagedb/content/sha256/%s", hex);
	puts_(s.root, rel, cfg);
	syn_default_config(&s, CID2, id);
	syn_parent(&s, CID2, NULL);
	expect_refused(s.root, CID2, "parent", "missing");
	char chain[80];
	snprintf(chain, sizeof chain, "sha256:%s", diff);
	syn_parent(&s, CID2, chain);
	expect_found(s.root, CID2, &r);
	syn_free(&s);
}

/* ---- synthetic: not found ---- */

static void test_not_found(void **state)
{
	(void)state;
	syn s = syn_new();
	expect_not_found(s.root, CID2);
	expect_not_found("/nonexistent/sigward/docker", CID);

	/* A data root without containers/ (a fresh dockerd). */
	char *empty = tu_tmpdir();
	expect_not_found(empty, CID);
	tu_rmrf(empty);
	free(empty);

	/* Ids Docker never makes are never used in a path. */
	const char *ids[] = {
		"abc", "../../../etc", "C0FFEE0000000000000000000000000000000000000000000000000000000001",
		"c0ffee000000000000000000000000000000000000000000000000000000001",
		"c0ffee00000000000000000000000000000000000000000000000000000000011",
		"c0ffee0000000000000000000000000000000000000000000000000000000001/",
		"../containers/c0ffee0000000000000000000000000000000000000000000000000000000001",
		"c0ffee000000000000000000000000000000000000000000000000000000000g",
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(ids); i++)
		expect_not_found(s.root, ids[i]);

	sw_resolution r = { 0 };
	sw_error e = { 0 };
	assert_true(sw_docker_resolve(s.root, "", &r, &e) < 0);
	assert_non_null(strstr(e.msg, "empty container id"));
	assert_true(sw_docker_resolve(s.root, NULL, &r, &e) < 0);
	assert_true(sw_docker_resolve(NULL, CID, &r, &e) < 0);
	assert_true(sw_docker_resolve("", CID, &r, &e) < 0);
	syn_free(&s);
}

/* ---- synthetic: config.v2.json ---- */

static void test_config_missing(void **state)
{
	(void)state;
	syn s = syn_new();
	rm(s.root, "containers/" CID "/config.v2.json");
	/* The container's directory exists: a broken record, not "unknown". */
	expect_refused(s.root, CID, "containers/" CID "/config.v2.json", "cannot open");
	syn_free(&s);
}

static void test_config_malformed(void **state)
{
	(void)state;
	syn s = syn_new();
	char good[1024];
	snprintf(good, sizeof good, "{\"ID\":\"%s\",\"Image\":\"%s\",\"Driver\":\"overlay2\"}", CID, s.id);
	struct { const char *json; const char *what; } cases[] = {
		{ "", "invalid JSON" },
		{ "{", "invalid JSON" },
		{ "[]", "top level is an array" },
		{ "null", "top level is null" },
		{ "\"x\"", "top level is a string" },
		{ "{\"ID\":1}", "\"ID\" is a number" },
		{ "{\"Image\":{}}", "\"Image\" is an object" },
		{ "{\"Image\":[\"sha256:00\"]}", "\"Image\" is an array" },
		{ "{\"Image\":true}", "\"Image\" is a boolean" },
		{ "{\"Driver\":2}", "\"Driver\" is a number" },
		{ "{\"Image\":\"sha256:XYZ\"}", "not an image id" },
		{ "{\"Image\":\"sha512:00\"}", "not an image id" },
		{ "{\"Image\":\"sha256:\\u0000\"}", "not an image id" },
		{ "{\"ID\":\"c0ffee\"}", "not a container id" },
		{ "{\"Driver\":\"../../..\"}", "not a storage driver name" },
		{ "{\"Driver\":\".\"}", "not a storage driver name" },
		{ "{\"Driver\":\"a/b\"}", "not a storage driver name" },
		{ "{\"Image\":null,\"image\":null}", "\"Image\" appears twice" },
		{ "{\"ID\":null,\"Id\":null}", "\"ID\" appears twice" },
		{ "/* c */ {}", "invalid JSON" },
		{ "{} {}", "invalid JSON" },
		{ "{\"a\":\"\xff\"}", "invalid JSON" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(cases); i++) {
		syn_config(&s, CID, cases[i].json);
		expect_refused(s.root, CID, "containers/" CID "/config.v2.json", cases[i].what);
	}

	/* Nested deeper than the walker goes (far less than a 4 MiB file holds). */
	char deep[4096];
	size_t n = (size_t)snprintf(deep, sizeof deep, "{\"ID\":\"%s\",\"Config\":", CID);
	for (int i = 0; i < 200; i++)
		deep[n++] = '[';
	for (int i = 0; i < 200; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	syn_config(&s, CID, deep);
	expect_refused(s.root, CID, "config.v2.json", "nested deeper");

	syn_config(&s, CID, good);
	sw_resolution r;
	expect_found(s.root, CID, &r);
	syn_free(&s);
}

static void test_config_fields(void **state)
{
	(void)state;
	syn s = syn_new();
	char json[1024];

	snprintf(json, sizeof json, "{\"ID\":\"%s\",\"Driver\":\"overlay2\"}", CID);
	syn_config(&s, CID, json);
	expect_refused(s.root, CID, "config.v2.json", "no \"Image\"");
	snprintf(json, sizeof json, "{\"ID\":\"%s\",\"Image\":null,\"Driver\":\"overlay2\"}", CID);
	syn_config(&s, CID, json);
	expect_refused(s.root, CID, "config.v2.json", "no \"Image\"");
	snprintf(json, sizeof json, "{\"ID\":\"%s\",\"Image\":\"\",\"Driver\":\"overlay2\"}", CID);
	syn_config(&s, CID, json);
	expect_refused(s.root, CID, "config.v2.json", "no \"Image\"");

	snprintf(json, sizeof json, "{\"Image\":\"%s\",\"Driver\":\"overlay2\"}", s.id);
	syn_config(&s, CID, json);
	expect_refused(s.root, CID, "config.v2.json", "no \"ID\"");

	/* Another container's config.v2.json copied in. */
	snprintf(json, sizeof json, "{\"ID\":\"%s\",\"Image\":\"%s\",\"Driver\":\"overlay2\"}", CID2, s.id);
	syn_config(&s, CID, json);
	int code = expect_refused(s.root, CID, "config.v2.json", "not the container " CID);
	assert_int_equal(code, SW_EVERIFY);
	syn_free(&s);
}

static void test_config_oversized(void **state)
{
	(void)state;
	syn s = syn_new();
	char head[512];
	int hn = snprintf(head, sizeof head, "{\"ID\":\"%s\",\"Image\":\"%s\",\"Driver\":\"overlay2\"}", CID, s.id);
	/* Exactly at the limit (trailing blanks are JSON): read. One more: refused. */
	size_t max = SW_DOCKER_CONFIG_MAX;
	char *big = malloc(max + 1);
	assert_non_null(big);
	memcpy(big, head, (size_t)hn);
	memset(big + hn, ' ', max + 1 - (size_t)hn);
	put(s.root, "containers/" CID "/config.v2.json", big, max);
	sw_resolution r;
	expect_found(s.root, CID, &r);
	put(s.root, "containers/" CID "/config.v2.json", big, max + 1);
	int code = expect_refused(s.root, CID, "config.v2.json", "limit");
	assert_int_equal(code, SW_ETOOBIG);
	free(big);
	syn_free(&s);
}

/* ---- synthetic: links ---- */

static void test_links_refused(void **state)
{
	(void)state;
	syn s = syn_new();
	sw_resolution r;

	/* config.v2.json pointing elsewhere. */
	sh("mv '%s/containers/%s/config.v2.json' '%s/elsewhere.json' && ln -s ../../elsewhere.json '%s/containers/%s/config.v2.json'",
	   s.root, CID, s.root, s.root, CID);
	expect_refused(s.root, CID, "config.v2.json", "symbolic link");
	sh("rm '%s/containers/%s/config.v2.json' && mv '%s/elsewhere.json' '%s/containers/%s/config.v2.json'",
	   s.root, CID, s.root, s.root, CID);
	expect_found(s.root, CID, &r);

	/* The container's directory. */
	sh("mv '%s/containers/%s' '%s/cdir' && ln -s ../cdir '%s/containers/%s'", s.root, CID, s.root, s.root, CID);
	expect_refused(s.root, CID, "containers/" CID, "symbolic link");
	sh("rm '%s/containers/%s' && mv '%s/cdir' '%s/containers/%s'", s.root, CID, s.root, s.root, CID);

	/* The image config. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/image/overlay2/imagedb/content/sha256", s.root);
	sh("mv '%s/%s' '%s/img' && ln -s ../../../../../img '%s/%s'", dir, s.id + 7, s.root, dir, s.id + 7);
	expect_refused(s.root, CID, "imagedb/content/sha256/", "symbolic link");
	sh("rm '%s/%s' && mv '%s/img' '%s/%s'", dir, s.id + 7, s.root, dir, s.id + 7);

	/* The image store, the parent record, repositories.json. */
	sh("mv '%s/image/overlay2' '%s/store' && ln -s ../store '%s/image/overlay2'", s.root, s.root, s.root);
	expect_refused(s.root, CID, "image/overlay2", "symbolic link");
	sh("rm '%s/image/overlay2' && mv '%s/store' '%s/image/overlay2'", s.root, s.root, s.root);
	sh("cd '%s/image/overlay2' && mv layerdb/mounts/%s/parent p && ln -s ../../../p layerdb/mounts/%s/parent",
	   s.root, CID, CID);
	expect_refused(s.root, CID, "parent", "symbolic link");
	sh("cd '%s/image/overlay2' && rm layerdb/mounts/%s/parent && mv p layerdb/mounts/%s/parent", s.root, CID, CID);
	sh("cd '%s/image/overlay2' && mv repositories.json r.json && ln -s r.json repositories.json", s.root);
	expect_refused(s.root, CID, "repositories.json", "symbolic link");
	sh("cd '%s/image/overlay2' && rm repositories.json && mv r.json repositories.json", s.root);
	expect_found(s.root, CID, &r);

	/* The data root itself is configuration: a link to it is followed. */
	char link[PATH_MAX];
	snprintf(link, sizeof link, "%s.link", s.root);
	assert_int_equal(symlink(s.root, link), 0);
	expect_found(link, CID, &r);
	unlink(link);

	/* A FIFO would block the read: refused as not a regular file. */
	rm(s.root, "containers/" CID "/config.v2.json");
	sh("mkfifo '%s/containers/%s/config.v2.json'", s.root, CID);
	sw_error e;
	assert_true(resolve(s.root, CID, &r, &e) < 0);
	assert_int_equal(r.n, 0);
	syn_free(&s);
}

/* ---- synthetic: the image config ---- */

static void test_image_config(void **state)
{
	(void)state;
	syn s = syn_new();
	char rel[256];
	store_path(&s, rel, sizeof rel, "imagedb/content/sha256/");
	strcat(rel, s.id + 7);

	/* Tampered: SW_EVERIFY naming the file. */
	size_t len;
	char *orig = tu_read(s.root, rel, &len);
	char *bad = strdup(orig);
	assert_non_null(bad);
	bad[len / 2] ^= 1;
	puts_(s.root, rel, bad);
	int code = expect_refused(s.root, CID, rel, "hashes to");
	assert_int_equal(code, SW_EVERIFY);
	free(bad);

	/* Missing. */
	rm(s.root, rel);
	expect_refused(s.root, CID, rel, "missing");
	store_path(&s, rel, sizeof rel, "imagedb");
	rm(s.root, rel);
	expect_refused(s.root, CID, "imagedb", "missing");
	rm(s.root, "image");
	expect_refused(s.root, CID, "image", "missing");

	/* Oversized: the bound holds before the hash. */
	syn_free(&s);
	s = syn_new();
	char *big = malloc(SW_DOCKER_IMAGE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', SW_DOCKER_IMAGE_MAX + 1);
	big[0] = '{';
	big[SW_DOCKER_IMAGE_MAX] = '}';
	char hex[65], id[72];
	sha256_hex(big, SW_DOCKER_IMAGE_MAX + 1, hex);
	snprintf(id, sizeof id, "sha256:%s", hex);
	store_path(&s, rel, sizeof rel, "imagedb/content/sha256/");
	strcat(rel, hex);
	put(s.root, rel, big, SW_DOCKER_IMAGE_MAX + 1);
	syn_default_config(&s, CID2, id);
	syn_parent(&s, CID2, NULL);
	code = expect_refused(s.root, CID2, rel, "limit");
	assert_int_equal(code, SW_ETOOBIG);
	free(big);
	free(orig);

	/* Hashes right but is no image config sigward can read. */
	const char *cases[][2] = {
		{ "[]", "top level is an array" },
		{ "{\"rootfs\":[]}", "\"rootfs\" is an array" },
		{ "{\"rootfs\":{\"diff_ids\":{}}}", "\"diff_ids\" is an object" },
		{ "{\"rootfs\":{\"diff_ids\":[1]}}", "diff_ids[0] is a number" },
		{ "{\"rootfs\":{\"diff_ids\":[null]}}", "diff_ids[0] is null" },
		{ "{\"rootfs\":{\"diff_ids\":[\"sha256:abc\"]}}", "not sha256:<64 hex>" },
		{ "{\"rootfs\":{},\"RootFS\":{}}", "\"rootfs\" appears twice" },
		{ "{\"rootfs\":{\"diff_ids\":[],\"diff_IDs\":[]}}", "\"diff_ids\" appears twice" },
		{ "{\"rootfs\":{", "invalid JSON" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(cases); i++) {
		sha256_hex(cases[i][0], strlen(cases[i][0]), hex);
		snprintf(id, sizeof id, "sha256:%s", hex);
		store_path(&s, rel, sizeof rel, "imagedb/content/sha256/");
		strcat(rel, hex);
		puts_(s.root, rel, cases[i][0]);
		syn_default_config(&s, CID2, id);
		expect_refused(s.root, CID2, rel, cases[i][1]);
	}

	/* More layers than the bound. */
	char *many = malloc(80 * (SW_DOCKER_MAX_LAYERS + 2) + 64);
	assert_non_null(many);
	size_t n = (size_t)sprintf(many, "{\"rootfs\":{\"diff_ids\":[");
	for (int i = 0; i <= SW_DOCKER_MAX_LAYERS; i++)
		n += (size_t)sprintf(many + n, "%s\"sha256:%064x\"", i ? "," : "", i);
	strcpy(many + n, "]}}");
	sha256_hex(many, strlen(many), hex);
	snprintf(id, sizeof id, "sha256:%s", hex);
	store_path(&s, rel, sizeof rel, "imagedb/content/sha256/");
	strcat(rel, hex);
	puts_(s.root, rel, many);
	syn_default_config(&s, CID2, id);
	expect_refused(s.root, CID2, rel, "more than");
	free(many);
	syn_free(&s);
}

/* ---- synthetic: the container's layer chain ---- */

static void test_layer_chain(void **state)
{
	(void)state;
	syn s = syn_new();
	char rel[256];

	/* Another image, intact, with other layers: the config.v2.json edit. */
	char other[72];
	syn_image(s.root, "overlay2", 2, 99, other);
	syn_default_config(&s, CID, other);
	int code = expect_refused(s.root, CID, "layerdb/mounts/" CID "/parent", "layer chain");
	assert_int_equal(code, SW_EVERIFY);
	/* An image without layers named instead. */
	syn_image(s.root, "overlay2", 0, 98, other);
	syn_default_config(&s, CID, other);
	expect_refused(s.root, CID, "parent", "has no layers");
	syn_default_config(&s, CID, s.id);

	/* The parent record missing while the image has layers. */
	store_path(&s, rel, sizeof rel, "layerdb/mounts/" CID "/parent");
	rm(s.root, rel);
	code = expect_refused(s.root, CID, rel, "missing");
	assert_int_equal(code, SW_EVERIFY);

	/* Garbage in it; too big; empty. */
	const char *bad[] = { "sha256:xyz", "", "sha256:", "\n", "sha512:00" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		puts_(s.root, rel, bad[i]);
		expect_refused(s.root, CID, rel, "not a layer chain id");
	}
	char big[400];
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, s.chain, strlen(s.chain));
	puts_(s.root, rel, big);
	expect_refused(s.root, CID, rel, "limit");

	/* No record of the container's read-write layer at all. */
	store_path(&s, rel, sizeof rel, "layerdb/mounts/" CID);
	rm(s.root, rel);
	expect_refused(s.root, CID, rel, "missing");
	syn_free(&s);
}

/* ---- synthetic: drivers ---- */

static void test_drivers(void **state)
{
	(void)state;
	sw_resolution r;
	char json[1024];

	/* Another driver's store, named by "Driver". */
	syn s = syn_new_driver("vfs", 1);
	expect_found(s.root, CID, &r);
	assert_true(has(&r, s.man, "unknown"));

	/* A "Driver" whose store is not there. */
	snprintf(json, sizeof json, "{\"ID\":\"%s\",\"Image\":\"%s\",\"Driver\":\"overlay2\"}", CID, s.id);
	syn_config(&s, CID, json);
	expect_refused(s.root, CID, "image/overlay2", "missing");

	/* No "Driver": the one store holding the image answers, even with
	 * another store next to it. */
	snprintf(json, sizeof json, "{\"ID\":\"%s\",\"Image\":\"%s\"}", CID, s.id);
	syn_config(&s, CID, json);
	char other[72];
	syn_image(s.root, "overlay2", 1, 5, other);
	puts_(s.root, "image/README", "not a store");
	expect_found(s.root, CID, &r);
	assert_true(has(&r, s.id, "image-id"));
	assert_true(has(&r, s.man, "unknown"));

	/* ... two stores holding it: refused rather than picked. */
	sh("mkdir -p '%s/image/btrfs' && cp -a '%s/image/vfs/imagedb' '%s/image/btrfs/'", s.root, s.root, s.root);
	expect_refused(s.root, CID, "config.v2.json", "two stores");
	rm(s.root, "image/btrfs");

	/* ... none. */
	sh("rm -rf '%s/image/vfs/imagedb'", s.root);
	expect_refused(s.root, CID, "image", "no image store holds");
	syn_free(&s);
}

/* ---- synthetic: repositories.json ---- */

static void test_repositories_malformed(void **state)
{
	(void)state;
	syn s = syn_new();
	char rel[128];
	store_path(&s, rel, sizeof rel, "repositories.json");
	char id[72], d[72], json[8192];
	snprintf(id, sizeof id, "%s", s.id);
	snprintf(d, sizeof d, "%s", s.man);

	struct { const char *fmt; const char *what; } cases[] = {
		{ "", "invalid JSON" },
		{ "{\"Repositories\":{}", "invalid JSON" },
		{ "[]", "top level is an array" },
		{ "{\"Repositories\":[]}", "\"Repositories\" is an array" },
		{ "{\"Repositories\":\"x\"}", "\"Repositories\" is a string" },
		{ "{\"Repositories\":{\"a\":\"x\"}}", "repository \"a\" is a string" },
		{ "{\"Repositories\":{\"a\":[]}}", "repository \"a\" is an array" },
		{ "{\"Repositories\":{\"a\":{\"a:1\":5}}}", "\"a:1\" maps to a number" },
		{ "{\"Repositories\":{\"a\":{\"a:1\":null}}}", "\"a:1\" maps to null" },
		{ "{\"Repositories\":{\"a\":{\"a:1\":{}}}}", "\"a:1\" maps to an object" },
		{ "{\"Repositories\":{\"a\":{\"a:1\":\"sha256:abc\"}}}", "not an image id" },
		{ "{\"Repositories\":{\"a\":{\"b:1\":\"%1$s\"}}}", "not its own name" },
		{ "{\"Repositories\":{\"a\":{\"a\":\"%1$s\"}}}", "not its own name" },
		{ "{\"Repositories\":{\"a\":{\"a:\":\"%1$s\"}}}", "not its own name" },
		{ "{\"Repositories\":{\"a\":{\"a:x y\":\"%1$s\"}}}", "not a name:tag" },
		{ "{\"Repositories\":{\"a\":{\"a:1@%2$s\":\"%1$s\"}}}", "not a name:tag" },
		{ "{\"Repositories\":{\"a\":{\"a@sha512:00\":\"%1$s\"}}}", "not a name@sha256" },
		{ "{\"Repositories\":{\"a\":{\"a@%2$sX\":\"%1$s\"}}}", "not a name@sha256" },
		{ "{\"Repositories\":{\"a\":{\"a@SHA256:%3$s\":\"%1$s\"}}}", "not a name@sha256" },
		{ "{\"Repositories\":{\"a b\":{}}}", "not a repository name" },
		{ "{\"Repositories\":{\"\":{}}}", "not a repository name" },
		{ "{\"Repositories\":{\"a\":{},\"b\":{},\"a\":{}}}", "repository \"a\" appears twice" },
		{ "{\"Repositories\":{\"a\":{\"a:1\":\"%1$s\",\"a:1\":\"%1$s\"}}}", "\"a:1\" appears twice" },
		{ "{\"Repositories\":{},\"repositories\":{}}", "\"Repositories\" appears twice" },
		{ "{\"Repositories\":{\"a\":{\"a:1\":\"%1$s\"}}} x", "invalid JSON" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(cases); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(json, sizeof json, cases[i].fmt, id, d, d + 7);
#pragma GCC diagnostic pop
		syn_repos(&s, json);
		expect_refused(s.root, CID, rel, cases[i].what);
	}

	/* Oversized. */
	char *big = malloc(SW_DOCKER_REPOS_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', SW_DOCKER_REPOS_MAX + 1);
	memcpy(big, "{}", 2);
	put(s.root, rel, big, SW_DOCKER_REPOS_MAX + 1);
	int code = expect_refused(s.root, CID, rel, "limit");
	assert_int_equal(code, SW_ETOOBIG);
	free(big);

	/* Too many digests for one image. */
	size_t n = (size_t)snprintf(json, sizeof json, "{\"Repositories\":{\"a\":{");
	for (int i = 0; i <= SW_DOCKER_MAX_DIGESTS; i++)
		n += (size_t)snprintf(json + n, sizeof json - n, "%s\"a@sha256:%064x\":\"%s\"", i ? "," : "", i, id);
	snprintf(json + n, sizeof json - n, "}}}");
	syn_repos(&s, json);
	expect_refused(s.root, CID, rel, "more than");
	syn_free(&s);
}

/* Nothing is half-added: with no room for both digests, neither is there. */
static void test_nothing_added_on_error(void **state)
{
	(void)state;
	syn s = syn_new();
	sw_resolution r = { 0 };
	sw_error e = { 0 };
	for (int i = 0; i < SW_RESOLVE_MAX - 1; i++) {
		char d[72];
		snprintf(d, sizeof d, "sha256:%064x", i + 1);
		assert_int_equal(sw_resolution_add(&r, d, "other", "unknown", &e), 0);
	}
	size_t n0 = r.n;
	assert_true(sw_docker_resolve(s.root, CID, &r, &e) < 0);
	assert_int_equal(r.n, n0);
	assert_string_equal(r.reference, "");
	syn_free(&s);
}

/* ---- the repositories.json index (storeindex.h): never read stale, never trusted ---- */

static void settle(void)
{
	/* Older than SW_STOREINDEX_SETTLE_MS: the next lookup indexes the file. */
	struct timespec ts = { 0, (SW_STOREINDEX_SETTLE_MS + 30) * 1000000L };
	nanosleep(&ts, NULL);
}

static void test_repositories_index(void **state)
{
	(void)state;
	syn s = syn_new();
	char *st = tu_tmpdir();
	sw_storeindex_set_dir(st);
	sw_resolution r;
	char other[80];
	snprintf(other, sizeof other, "sha256:%064d", 7);

	settle();
	expect_found(s.root, CID, &r);   /* parses whole, writes the index */
	assert_true(has(&r, s.man, "unknown"));
	char cmd[2 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "grep -l '^sigward-store-index 2 docker-repos ' '%s'/store-index/* | head -1", st);
	FILE *f = popen(cmd, "r");
	char idx[PATH_MAX] = "";
	assert_non_null(fgets(idx, sizeof idx, f));
	pclose(f);
	idx[strcspn(idx, "\n")] = '\0';
	expect_found(s.root, CID, &r);   /* through the index */
	assert_int_equal(r.n, 2);
	assert_true(has(&r, s.id, "image-id"));
	assert_true(has(&r, s.man, "unknown"));
	assert_string_equal(r.reference, "reg.example/app:1");

	/* The digest reference moved to another image (dockerd renames a new
	 * file over the old one): the image loses it at once. */
	char json[2048];
	snprintf(json, sizeof json,
		 "{\"Repositories\":{\"other/img\":{\"other/img:latest\":\"%s\"},"
		 "\"reg.example/app\":{\"reg.example/app:1\":\"%s\",\"reg.example/app@%s\":\"%s\"}}}",
		 other, s.id, s.man, other);
	syn_repos(&s, json);
	expect_found(s.root, CID, &r);
	assert_false(has(&r, s.man, "unknown"));
	settle();
	expect_found(s.root, CID, &r);   /* re-indexed */
	assert_false(has(&r, s.man, "unknown"));
	expect_found(s.root, CID, &r);
	assert_false(has(&r, s.man, "unknown"));
	assert_int_equal(r.n, 1);

	/* Back, then the index tampered: the image's entry pointing at the
	 * other repository's member (which maps nothing to it), garbage, a cut
	 * file. Each is parsed whole again: the same answer, never more. */
	syn_default_repos(&s);
	settle();
	expect_found(s.root, CID, &r);
	assert_true(has(&r, s.man, "unknown"));
	snprintf(cmd, sizeof cmd,
		 "python3 - '%s' '%s' '%s' <<'PY'\n"
		 "import sys\n"
		 "p,me,ot=sys.argv[1],sys.argv[2][7:].encode(),sys.argv[3][7:].encode()\n"
		 "b=open(p,'rb').read(); h=b[:256]; L=b[256:].split(b'\\n')[:-1]\n"
		 "d={l[:64]:l[64:] for l in L}\n"
		 "d[me]=d[ot]\n"
		 "open(p,'wb').write(h+b''.join(k+v+b'\\n' for k,v in sorted(d.items())))\n"
		 "PY", idx, s.id, other);
	assert_int_equal(system(cmd), 0);
	expect_found(s.root, CID, &r);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, s.man, "unknown"));
	snprintf(cmd, sizeof cmd, "printf garbage > '%s'", idx);
	assert_int_equal(system(cmd), 0);
	expect_found(s.root, CID, &r);
	assert_int_equal(r.n, 2);
	snprintf(cmd, sizeof cmd, "truncate -s 260 '%s'", idx);
	assert_int_equal(system(cmd), 0);
	expect_found(s.root, CID, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.reference, "reg.example/app:1");

	sw_storeindex_set_dir(NULL);
	tu_rmrf(st);
	free(st);
	syn_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_loaded),
		cmocka_unit_test(test_list_containers),
		cmocka_unit_test(test_fixture_by_digest),
		cmocka_unit_test(test_fixture_by_index),
		cmocka_unit_test(test_fixture_reference_kept),
		cmocka_unit_test(test_fixture_swapped_image),
		cmocka_unit_test(test_fixture_tampered),
		cmocka_unit_test(test_fixture_flips),
		cmocka_unit_test(test_found_with_repository_digest),
		cmocka_unit_test(test_found_without_repository_digest),
		cmocka_unit_test(test_digests_deduplicated_tag_preferred),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_go_key_rules),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_config_missing),
		cmocka_unit_test(test_config_malformed),
		cmocka_unit_test(test_config_fields),
		cmocka_unit_test(test_config_oversized),
		cmocka_unit_test(test_links_refused),
		cmocka_unit_test(test_image_config),
		cmocka_unit_test(test_layer_chain),
		cmocka_unit_test(test_drivers),
		cmocka_unit_test(test_repositories_malformed),
		cmocka_unit_test(test_repositories_index),
		cmocka_unit_test(test_nothing_added_on_error),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
