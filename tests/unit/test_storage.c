/* SPDX-License-Identifier: Apache-2.0 */
/*
 * storage: the containers/storage reader, on a store written by a real podman
 * 4.3.1 (tests/unit/data/storage/root, trimmed as described in
 * docs/containers-storage.md), on damaged copies of it, and on synthetic stores
 * built here. A damaged store gives an error that names the file and adds no
 * digest; it never allows a digest the intact store would not give.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "storage.h"
#include "storeindex.h"

/* What the fixture holds (docs/containers-storage.md, "The unit-test fixture"). */
#define C_V1 "12a03b098a221bbb50cf97741a463bfd4561bb6c8e0cca8af81c9b79910cc4d3"
#define C_BASE "b8cb105d96162db3005a472ce869ef2a0b74b560a3fb1ff52a448e3b3412824b"
#define IMG_V1 "6b415b1c094cbcb77bdffcb3644ad70d933415647af0e318cdc1d15c805965b0"
#define IMG_BASE "5820f0f38770a88070e6bcb51a4cd33b0f097969a074d7823a73fa9c29b8692f"
#define MAN_V1 "sha256:8b19ce7efaf18216ddfa0593829b81c28bd9a9b224b23077f34d79050fb2ce9a"
#define IDX_V1 "sha256:0b1b622931e1f8fb9a892627f55b9472784af5aadfdb62118376ab71af495138"
#define MAN_BASE "sha256:6a417ee73a3cb85cdcd1d1b8d2e8b449ca6d299cac6916c5525491dd2b66cd50"
/* Layers: v1's one layer (its id is its diff digest, as containers/image names a
 * bottom layer) and the containers' own layers (overlay-layers/layers.json). */
#define V1_LAYER "65f6a76ee4dbad85fc3a064f6d0c3bf22cf93459861dc1c12ff6bf5939e7e640"
#define C_V1_LAYER "8fc9bf320e59217624ec5d48f97d2d90c7b6dfad36b4a7da858f209af0a4efe2"
#define C_BASE_LAYER "df61d68c8e6e40778b6e2a3cbe553c0220a8567e96212b715baa0fdc57674d85"
#define LAYERS "overlay-layers/layers.json"
#define CONTAINERS "overlay-containers/containers.json"
#define IMAGES "overlay-images/images.json"
#define V1_DIR "overlay-images/" IMG_V1
/* File names as podman wrote them (read off the real store, not computed). */
#define V1_MANIFEST_BY_DIGEST "=bWFuaWZlc3Qtc2hhMjU2OjhiMTljZTdlZmFmMTgyMTZkZGZhMDU5MzgyOWI4MWMyOGJkOWE5YjIyNGIyMzA3N2YzNGQ3OTA1MGZiMmNlOWE="
#define V1_INDEX_BY_DIGEST "=bWFuaWZlc3Qtc2hhMjU2OjBiMWI2MjI5MzFlMWY4ZmI5YTg5MjYyN2Y1NWI5NDcyNzg0YWY1YWFkZmRiNjIxMTgzNzZhYjcxYWY0OTUxMzg="
#define V1_CONFIG "=c2hhMjU2OjZiNDE1YjFjMDk0Y2JjYjc3YmRmZmNiMzY0NGFkNzBkOTMzNDE1NjQ3YWYwZTMxOGNkYzFkMTVjODA1OTY1YjA="
#define V1_SIGNATURE "=c2lnbmF0dXJlLThiMTljZTdlZmFmMTgyMTZkZGZhMDU5MzgyOWI4MWMyOGJkOWE5YjIyNGIyMzA3N2YzNGQ3OTA1MGZiMmNlOWE="

static char fixture[PATH_MAX];

/* The fixture sits next to this source file; the binary may run from any
 * directory (meson compiles with the build root as working directory). */
static void find_fixture(void)
{
	const char *env = getenv("SW_STORAGE_FIXTURE");
	if (env) {
		snprintf(fixture, sizeof fixture, "%s", env);
		return;
	}
	char src[PATH_MAX];
	snprintf(src, sizeof src, "%s", __FILE__);
	char *dir = dirname(src);
	if (dir[0] == '/') {
		snprintf(fixture, sizeof fixture, "%s/data/storage/root", dir);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	/* <build>/tests/unit/test-storage */
	char *bdir = dirname(dirname(dirname(exe)));
	snprintf(fixture, sizeof fixture, "%s/%s/data/storage/root", bdir, dir);
}

static int setup(void **state)
{
	(void)state;
	find_fixture();
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/%s", fixture, IMAGES);
	struct stat st;
	if (stat(p, &st) != 0) {
		fprintf(stderr, "fixture not found at %s (set SW_STORAGE_FIXTURE)\n", p);
		return -1;
	}
	return 0;
}

/* ---- helpers ---- */

/* A private copy of the fixture that a test may damage. */
static char *copy_fixture(void)
{
	char *dir = tu_tmpdir();
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "cp -a '%s/.' '%s/' && chmod -R u+w '%s'", fixture, dir, dir);
	assert_int_equal(system(cmd), 0);
	return dir;
}

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

static int resolve(const char *root, const char *id, sw_resolution *r, sw_error *e)
{
	*r = (sw_resolution){ 0 };
	*e = (sw_error){ 0 };
	return sw_storage_resolve(root, id, r, e);
}

static bool has(const sw_resolution *r, const char *digest, const char *kind)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->d[i].digest, digest) == 0 && strcmp(r->d[i].kind, kind) == 0 &&
		    strcmp(r->d[i].source, "containers-storage") == 0)
			return true;
	return false;
}

/* A refused store: an error naming `file` and saying `what`, one line, no digest. */
static void expect_refused_id(const char *root, const char *id, const char *file, const char *what)
{
	sw_resolution r;
	sw_error e;
	int rc = resolve(root, id, &r, &e);
	if (rc >= 0 || !strstr(e.msg, what) || !strstr(e.msg, file))
		fail_msg("expected an error naming %s with \"%s\", got %d: %s", file, what, rc, e.msg);
	assert_int_equal(r.n, 0);
	assert_string_equal(r.reference, "");
	assert_null(strchr(e.msg, '\n'));
}

static void expect_refused(const char *root, const char *file, const char *what)
{
	expect_refused_id(root, C_V1, file, what);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The big-data file name, written here independently of lib/storage.c:
 * containers/storage's makeBigDataBaseName. */
static void bd_name(const char *key, char *out)
{
	bool plain = true;
	for (const char *c = key; *c; c++)
		if (!(*c == '.' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z')))
			plain = false;
	if (plain) {
		strcpy(out, key);
		return;
	}
	out[0] = '=';
	EVP_EncodeBlock((unsigned char *)out + 1, (const unsigned char *)key, (int)strlen(key));
}

/* ---- synthetic stores ---- */

/* One image (config + OCI manifest) and one container, in the store of
 * `driver`, under a fresh temporary root. Tests rewrite pieces of it. */
typedef struct syn {
	char *root;
	char driver[16];
	char id[65];            /* image id = sha256 of the config */
	char man[72];           /* "sha256:<hex>" of the manifest */
	char cid[65];
	char top[65];           /* the image's top layer, "" for none */
} syn;

static void syn_item(const syn *s, const char *id, const char *key, const void *data, size_t len)
{
	char dir[PATH_MAX], name[400];
	snprintf(dir, sizeof dir, "%s/%s-images/%s", s->root, s->driver, id);
	sh("mkdir -p '%s'", dir);
	bd_name(key, name);
	tu_write(dir, name, data, len);
}

static void syn_images(const syn *s, const char *json)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/%s-images", s->root, s->driver);
	sh("mkdir -p '%s'", dir);
	tu_writes(dir, "images.json", json);
}

static void syn_containers(const syn *s, const char *file, const char *json)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/%s-containers", s->root, s->driver);
	sh("mkdir -p '%s'", dir);
	tu_writes(dir, file, json);
}

/* The container's own layer (containers/storage: 64 random hex digits). */
#define SYN_CLAYER "1111111111111111111111111111111111111111111111111111111111111111"

static void syn_layers(const syn *s, const char *json)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/%s-layers", s->root, s->driver);
	sh("mkdir -p '%s'", dir);
	tu_writes(dir, "layers.json", json);
}

/* The record containers/storage writes for the image (keys in Go's map order);
 * the image has no layers (its config's rootfs.diff_ids is empty). */
static void syn_record(const syn *s, char *out, size_t n)
{
	char layer[100] = "";
	if (s->top[0])
		snprintf(layer, sizeof layer, "\"layer\":\"%s\",", s->top);
	snprintf(out, n,
		 "{\"id\":\"%s\",\"digest\":\"%s\",\"names\":[\"localhost/syn:1\"],%s"
		 "\"big-data-names\":[\"sha256:%s\",\"manifest-%s\",\"manifest\"],"
		 "\"big-data-sizes\":{\"manifest\":1},"
		 "\"big-data-digests\":{\"manifest\":\"%s\",\"manifest-%s\":\"%s\",\"sha256:%s\":\"sha256:%s\"},"
		 "\"created\":\"2026-01-01T00:00:00Z\"}",
		 s->id, s->man, layer, s->id, s->man, s->man, s->man, s->man, s->id, s->id);
}

/* Write a manifest as the image's "manifest" and "manifest-<digest>" items and
 * return its digest. */
static void syn_manifest(syn *s, const char *text)
{
	char hex[65];
	sha256_hex(text, strlen(text), hex);
	snprintf(s->man, sizeof s->man, "sha256:%s", hex);
	char key[100];
	snprintf(key, sizeof key, "manifest-%s", s->man);
	syn_item(s, s->id, "manifest", text, strlen(text));
	syn_item(s, s->id, key, text, strlen(text));
}

static void syn_default_manifest(syn *s, const char *config_digest)
{
	char m[512];
	snprintf(m, sizeof m,
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":70},"
		 "\"layers\":[]}", config_digest);
	syn_manifest(s, m);
}

static void syn_write_default(syn *s)
{
	char rec[4096], json[4200], cont[512];
	syn_record(s, rec, sizeof rec);
	snprintf(json, sizeof json, "[%s]", rec);
	syn_images(s, json);
	snprintf(cont, sizeof cont, "[{\"id\":\"%s\",\"names\":[\"c\"],\"image\":\"%s\",\"layer\":\"" SYN_CLAYER "\"}]",
		 s->cid, s->id);
	syn_containers(s, "containers.json", cont);
	syn_layers(s, "[{\"id\":\"" SYN_CLAYER "\",\"names\":[\"c-layer\"],\"created\":\"2026-01-01T00:00:00Z\"}]");
}

/* A new config (so a new image id), with a manifest naming it, and the default
 * records (an image without layers). */
static void syn_config(syn *s, const char *config)
{
	sha256_hex(config, strlen(config), s->id);
	char key[80];
	snprintf(key, sizeof key, "sha256:%s", s->id);
	syn_item(s, s->id, key, config, strlen(config));
	syn_default_manifest(s, key);
	syn_write_default(s);
}

static syn syn_new(const char *driver)
{
	syn s = { 0 };
	s.root = tu_tmpdir();
	snprintf(s.driver, sizeof s.driver, "%s", driver);
	memset(s.cid, 'c', 64);
	syn_config(&s, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
	return s;
}

static void syn_free(syn *s)
{
	tu_rmrf(s->root);
	free(s->root);
}

/* ---- the real store ---- */

static void test_fixture_found(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e;

	assert_int_equal(resolve(fixture, C_V1, &r, &e), 1);
	/* pulled by its manifest, then again through an index listing it */
	assert_int_equal(r.n, 3);
	assert_true(has(&r, "sha256:" IMG_V1, "image-id"));
	assert_true(has(&r, MAN_V1, "manifest"));
	assert_true(has(&r, IDX_V1, "index"));
	assert_string_equal(r.d[0].kind, "image-id");
	assert_string_equal(r.reference, "localhost/sw/v1:latest");
	assert_non_null(strstr(r.looked_at, "containers-storage"));
	assert_int_equal(sw_resolution_check(&r, &e), 0);

	assert_int_equal(resolve(fixture, C_BASE, &r, &e), 1);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, "sha256:" IMG_BASE, "image-id"));
	assert_true(has(&r, MAN_BASE, "manifest"));
	assert_string_equal(r.reference, "localhost/tmp/sw-storage/work/img:latest");

	/* a reference from another source is kept; digests of other sources too */
	r = (sw_resolution){ 0 };
	snprintf(r.reference, sizeof r.reference, "example.com/app:1");
	assert_int_equal(sw_resolution_add(&r, MAN_V1, "annotation:x", "manifest", &e), 0);
	assert_int_equal(sw_storage_resolve(fixture, C_V1, &r, &e), 1);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.reference, "example.com/app:1");
	assert_int_equal(sw_resolution_check(&r, &e), 0);

	/* the root may be reached through a link (it is configuration) */
	char *dir = tu_tmpdir();
	char *link = tu_path(dir, "root");
	assert_int_equal(symlink(fixture, link), 0);
	assert_int_equal(resolve(link, C_V1, &r, &e), 1);
	assert_int_equal(r.n, 3);
	tu_rmrf(dir);
	free(link);
	free(dir);
}

static void test_lower_level(void **state)
{
	(void)state;
	sw_error e = { 0 };
	char driver[SW_STORAGE_DRIVER_MAX], image[SW_SHA256_HEX + 1];

	assert_int_equal(sw_storage_container_image(fixture, C_V1, driver, image, &e), 1);
	assert_string_equal(driver, "overlay");
	assert_string_equal(image, IMG_V1);
	assert_int_equal(sw_storage_container_image(fixture, "nope", driver, image, &e), 0);
	assert_string_equal(image, "");
	assert_true(sw_storage_container_image(fixture, "", driver, image, &e) < 0);

	sw_storage_image img;
	const char *ids[] = { IMG_V1, "sha256:" IMG_V1 };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(sw_storage_image_digests(fixture, ids[i], &img, &e), 1);
		assert_string_equal(img.driver, "overlay");
		assert_string_equal(img.id, IMG_V1);
		assert_string_equal(img.name, "localhost/sw/v1:latest");
		assert_int_equal(img.n, 3);
		assert_string_equal(img.d[0].digest, "sha256:" IMG_V1);
		assert_string_equal(img.d[0].kind, "image-id");
		assert_string_equal(img.d[1].digest, MAN_V1);
		assert_string_equal(img.d[1].kind, "manifest");
		assert_string_equal(img.d[2].digest, IDX_V1);
		assert_string_equal(img.d[2].kind, "index");
	}
	assert_int_equal(sw_storage_image_digests(fixture, "sha256:" "0000000000000000000000000000000000000000000000000000000000000000",
						  &img, &e), 0);
	assert_int_equal(img.n, 0);
	assert_int_equal(sw_storage_image_digests("/nonexistent/sw", IMG_V1, &img, &e), 0);
	const char *bad[] = { "", "sha256:", "6B415B1C094CBCB77BDFFCB3644AD70D933415647AF0E318CDC1D15C805965B0",
			      "sha512:" IMG_V1, IMG_V1 "0", "localhost/sw/v1:latest" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		e = (sw_error){ 0 };
		assert_true(sw_storage_image_digests(fixture, bad[i], &img, &e) < 0);
		assert_int_equal(e.code, SW_EINVAL);
	}
}

static void test_bigdata_name(void **state)
{
	(void)state;
	char out[NAME_MAX + 1];
	/* the names podman 4.3.1 wrote into the fixture */
	assert_int_equal(sw_storage_bigdata_name("manifest", out), 0);
	assert_string_equal(out, "manifest");
	assert_int_equal(sw_storage_bigdata_name("manifest-" MAN_V1, out), 0);
	assert_string_equal(out, V1_MANIFEST_BY_DIGEST);
	assert_int_equal(sw_storage_bigdata_name("manifest-" IDX_V1, out), 0);
	assert_string_equal(out, V1_INDEX_BY_DIGEST);
	assert_int_equal(sw_storage_bigdata_name("sha256:" IMG_V1, out), 0);
	assert_string_equal(out, V1_CONFIG);
	assert_int_equal(sw_storage_bigdata_name("signature-" "8b19ce7efaf18216ddfa0593829b81c28bd9a9b224b23077f34d79050fb2ce9a", out), 0);
	assert_string_equal(out, V1_SIGNATURE);
	char *p = tu_path(fixture, V1_DIR "/" V1_SIGNATURE);
	assert_int_equal(access(p, F_OK), 0);
	free(p);

	/* padding, upper case, every allowed character */
	assert_int_equal(sw_storage_bigdata_name("Manifest", out), 0);
	assert_string_equal(out, "=TWFuaWZlc3Q=");
	assert_int_equal(sw_storage_bigdata_name("a", out), 0);
	assert_string_equal(out, "a");
	assert_int_equal(sw_storage_bigdata_name("a-", out), 0);
	assert_string_equal(out, "=YS0=");
	assert_int_equal(sw_storage_bigdata_name("abc.0123456789z", out), 0);
	assert_string_equal(out, "abc.0123456789z");

	/* not a safe single file name */
	assert_int_equal(sw_storage_bigdata_name("", out), -1);
	assert_int_equal(sw_storage_bigdata_name(".", out), -1);
	assert_int_equal(sw_storage_bigdata_name("..", out), -1);
	assert_int_equal(sw_storage_bigdata_name("\xff\xff\xff", out), -1);    /* "////" */
	char longkey[300];
	memset(longkey, 'm', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	assert_int_equal(sw_storage_bigdata_name(longkey, out), -1);
	longkey[190] = '-';
	longkey[191] = '\0';                  /* 1 + 4 * 64 = 257 > NAME_MAX */
	assert_int_equal(sw_storage_bigdata_name(longkey, out), -1);
	longkey[189] = '\0';                  /* 1 + 4 * 63 = 253 */
	longkey[188] = '-';
	assert_int_equal(sw_storage_bigdata_name(longkey, out), 0);
	assert_int_equal(strlen(out), 253);
}

static void test_bundle_is_container(void **state)
{
	(void)state;
	/* podman 4.3.1's bundle (seen by a real prestart hook), CRI-O's run directory */
	assert_int_equal(sw_storage_bundle_is_container("/var/lib/containers/storage/overlay-containers/" C_V1 "/userdata", C_V1), 1);
	assert_int_equal(sw_storage_bundle_is_container("/run/containers/storage/overlay-containers/" C_V1 "/userdata/", C_V1), 1);
	assert_int_equal(sw_storage_bundle_is_container("/x/vfs-containers/" C_V1 "/userdata", C_V1), 1);
	/* another runtime's bundle, another id, another layout */
	assert_int_equal(sw_storage_bundle_is_container("/run/containerd/io.containerd.runtime.v2.task/default/" C_V1, C_V1), 0);
	assert_int_equal(sw_storage_bundle_is_container("/var/lib/containers/storage/overlay-containers/" C_BASE "/userdata", C_V1), 0);
	assert_int_equal(sw_storage_bundle_is_container("/var/lib/containers/storage/overlay-containers/x" C_V1 "/userdata", C_V1), 0);
	assert_int_equal(sw_storage_bundle_is_container("/var/lib/containers/storage/overlay-containers/" C_V1 "/userdata/x", C_V1), 0);
	assert_int_equal(sw_storage_bundle_is_container("/var/lib/containers/storage/aufs-containers/" C_V1 "/userdata", C_V1), 0);
	assert_int_equal(sw_storage_bundle_is_container("/var/lib/docker/containers/" C_V1 "/userdata", C_V1), 0);
	assert_int_equal(sw_storage_bundle_is_container("overlay-containers/" C_V1 "/userdata", C_V1), 0);
	assert_int_equal(sw_storage_bundle_is_container("/overlay-containers/" C_V1 "/userdata", C_V1), 1);
	assert_int_equal(sw_storage_bundle_is_container("/userdata", ""), 0);
	assert_int_equal(sw_storage_bundle_is_container("/a/overlay-containers/x/y/userdata", "x/y"), 0);
	assert_int_equal(sw_storage_bundle_is_container(NULL, C_V1), 0);
}

/* ---- "not mine": 0, nothing added ---- */

static void test_not_found(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e;

	assert_int_equal(resolve(fixture, "0123", &r, &e), 0);
	assert_int_equal(r.n, 0);
	assert_non_null(strstr(r.looked_at, "containers-storage"));
	/* a container id is matched whole, never by prefix (podman's lookup
	 * accepts a prefix; the runtime always passes the full id) */
	assert_int_equal(resolve(fixture, "12a03b098a22", &r, &e), 0);
	assert_int_equal(resolve(fixture, C_V1 "0", &r, &e), 0);
	/* a container's name is not its id */
	assert_int_equal(resolve(fixture, "c-v1", &r, &e), 0);
	/* an image id is not a container id */
	assert_int_equal(resolve(fixture, IMG_V1, &r, &e), 0);
	assert_int_equal(resolve("/nonexistent/sw-storage", C_V1, &r, &e), 0);
	assert_int_equal(r.n, 0);
	assert_true(resolve("", C_V1, &r, &e) < 0);
	assert_true(resolve(fixture, "", &r, &e) < 0);

	/* an empty root (podman never ran), a store without containers.json, an
	 * empty file, "null" and "[]": no containers */
	char *root = tu_tmpdir();
	assert_int_equal(resolve(root, C_V1, &r, &e), 0);
	sh("mkdir -p '%s/overlay-containers'", root);
	assert_int_equal(resolve(root, C_V1, &r, &e), 0);
	const char *empty[] = { "", "null", "[]", " [ ] \n" };
	char *cdir = tu_path(root, "overlay-containers");
	for (size_t i = 0; i < SW_ARRAY_SIZE(empty); i++) {
		tu_writes(cdir, "containers.json", empty[i]);
		assert_int_equal(resolve(root, C_V1, &r, &e), 0);
	}
	free(cdir);
	tu_rmrf(root);
	free(root);

	/* the root is a file: an error, not "no storage" */
	char *dir = tu_tmpdir();
	tu_writes(dir, "file", "x");
	char *f = tu_path(dir, "file");
	assert_true(resolve(f, C_V1, &r, &e) < 0);
	assert_non_null(strstr(e.msg, f));
	tu_rmrf(dir);
	free(f);
	free(dir);
}

/* A container created from no image (buildah from scratch): no claim. */
static void test_no_image(void **state)
{
	(void)state;
	syn s = syn_new("overlay");
	char cont[256];
	const char *images[] = { "\"\"", "null" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(images); i++) {
		snprintf(cont, sizeof cont, "[{\"id\":\"%s\",\"image\":%s}]", s.cid, images[i]);
		syn_containers(&s, "containers.json", cont);
		sw_resolution r;
		sw_error e;
		assert_int_equal(resolve(s.root, s.cid, &r, &e), 0);
		assert_int_equal(r.n, 0);
		char driver[SW_STORAGE_DRIVER_MAX], image[SW_SHA256_HEX + 1];
		assert_int_equal(sw_storage_container_image(s.root, s.cid, driver, image, &e), 1);
		assert_string_equal(image, "");
	}
	syn_free(&s);
}

/* ---- where records live ---- */

static void test_synthetic_and_drivers(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e;
	const char *drivers[] = { "overlay", "vfs", "btrfs", "zfs" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(drivers); i++) {
		syn s = syn_new(drivers[i]);
		assert_int_equal(resolve(s.root, s.cid, &r, &e), 1);
		assert_int_equal(r.n, 2);
		char id[80];
		snprintf(id, sizeof id, "sha256:%s", s.id);
		assert_true(has(&r, id, "image-id"));
		assert_true(has(&r, s.man, "manifest"));
		assert_string_equal(r.reference, "localhost/syn:1");
		sw_storage_image img;
		assert_int_equal(sw_storage_image_digests(s.root, s.id, &img, &e), 1);
		assert_string_equal(img.driver, drivers[i]);
		syn_free(&s);
	}

	/* podman >= 4.4 keeps --rm containers in volatile-containers.json */
	syn s = syn_new("overlay");
	char *cdir = tu_path(s.root, "overlay-containers");
	char *cj = tu_read(cdir, "containers.json", NULL);
	tu_writes(cdir, "volatile-containers.json", cj);
	tu_writes(cdir, "containers.json", "[]");
	assert_int_equal(resolve(s.root, s.cid, &r, &e), 1);
	assert_int_equal(r.n, 2);
	/* ... but never in both */
	tu_writes(cdir, "containers.json", cj);
	expect_refused_id(s.root, s.cid, "volatile-containers.json", "also in");
	free(cj);
	free(cdir);

	/* a container in two drivers' stores */
	sh("rm '%s/overlay-containers/volatile-containers.json' && cp -a '%s/overlay-containers' '%s/vfs-containers'",
	   s.root, s.root, s.root);
	expect_refused_id(s.root, s.cid, "containers.json", "also in");
	syn_free(&s);
}

/* ---- enumeration (sw_storage_containers, for the audit) ---- */

typedef struct enumerated {
	char line[16][600];
	size_t n;
} enumerated;

static int list_one(const sw_storage_container *c, void *ctx)
{
	enumerated *l = ctx;
	if (l->n < SW_ARRAY_SIZE(l->line))
		snprintf(l->line[l->n++], sizeof l->line[0], "%s %s %s %s", c->driver, c->id[0] ? c->id : "-",
			 c->image_id[0] ? c->image_id : "-", c->error ? c->error : "ok");
	return 0;
}

static void test_list_containers(void **state)
{
	(void)state;
	sw_error e = { 0 };
	enumerated l = { 0 };
	/* no root: nothing, no error */
	assert_int_equal(sw_storage_containers("/nonexistent/sigward-storage", list_one, &l, &e), 0);
	assert_int_equal(l.n, 0);

	syn s = syn_new("overlay");
	syn_write_default(&s);
	/* every driver's store, not only overlay's; volatile-containers.json too */
	syn v = s;
	snprintf(v.driver, sizeof v.driver, "vfs");
	syn_containers(&v, "containers.json", "[{\"id\":\"vfs1\",\"image\":\"" IMG_BASE "\"}]");
	syn_containers(&v, "volatile-containers.json", "[{\"id\":\"vfs2\"}]");
	/* an unreadable store is an entry naming it, never skipped: a file that
	 * does not parse, and one that is a symbolic link */
	snprintf(v.driver, sizeof v.driver, "btrfs");
	syn_containers(&v, "containers.json", "[{\"id\":\"x\",");
	snprintf(v.driver, sizeof v.driver, "zfs");
	syn_containers(&v, "elsewhere.json", "[]");
	sh("ln -s elsewhere.json '%s/zfs-containers/containers.json'", s.root);
	/* a record whose image is no image id */
	syn_containers(&v, "volatile-containers.json", "[{\"id\":\"z1\",\"image\":\"../x\"}]");

	l = (enumerated){ 0 };
	assert_int_equal(sw_storage_containers(s.root, list_one, &l, &e), 0);
	assert_int_equal(l.n, 6);
	char want[600];
	snprintf(want, sizeof want, "overlay %s %s ok", s.cid, s.id);
	assert_string_equal(l.line[0], want);
	assert_string_equal(l.line[1], "vfs vfs1 " IMG_BASE " ok");
	assert_string_equal(l.line[2], "vfs vfs2 - ok");
	assert_non_null(strstr(l.line[3], "btrfs - - "));
	assert_non_null(strstr(l.line[3], "btrfs-containers/containers.json"));
	assert_non_null(strstr(l.line[4], "zfs - - "));
	assert_non_null(strstr(l.line[4], "zfs-containers/containers.json"));
	assert_non_null(strstr(l.line[5], "zfs z1 - "));
	assert_non_null(strstr(l.line[5], "is not an image id"));

	syn_free(&s);
}

/* ---- malformed, truncated, wrong types ---- */

static void test_malformed_containers(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *cdir = tu_path(root, "overlay-containers");
	size_t len;
	char *real = tu_read(cdir, "containers.json", &len);

	/* truncated anywhere: never an answer */
	for (size_t cut = 1; cut < len; cut += 7) {
		tu_write(cdir, "containers.json", real, cut);
		sw_resolution r;
		sw_error e;
		int rc = resolve(root, C_V1, &r, &e);
		if (rc >= 0)
			fail_msg("cut at %zu of %zu: got %d", cut, len, rc);
		assert_non_null(strstr(e.msg, "containers.json"));
		assert_int_equal(r.n, 0);
	}

	struct { const char *json, *what; } bad[] = {
		{ "{", "not a JSON array" },
		{ "[", "invalid JSON" },
		{ "garbage", "invalid JSON" },
		{ "[] []", "invalid JSON" },
		{ "[] x", "invalid JSON" },
		{ "/* c */ []", "invalid JSON" },
		{ "{}", "not a JSON array" },
		{ "\"x\"", "not a JSON array" },
		{ "[1]", "record 0 is not an object" },
		{ "[null]", "record 0 is not an object" },
		{ "[{}]", "record 0 has no \"id\"" },
		{ "[{\"image\":\"" IMG_V1 "\"}]", "no \"id\"" },
		{ "[{\"id\":1,\"image\":\"" IMG_V1 "\"}]", "\"id\" is not a string" },
		{ "[{\"id\":null}]", "\"id\" is not a string" },
		{ "[{\"id\":\"" C_V1 "\",\"image\":5}]", "\"image\" is not a string" },
		{ "[{\"id\":\"" C_V1 "\",\"image\":[\"" IMG_V1 "\"]}]", "\"image\" is not a string" },
		{ "[{\"id\":\"" C_V1 "\",\"image\":\"" IMG_V1 "\",\"image\":\"" IMG_BASE "\"}]", "\"image\" appears twice" },
		/* Go reads "Image" and "IMAGE" into the same field, and "ID" into "id" */
		{ "[{\"id\":\"" C_V1 "\",\"image\":\"" IMG_V1 "\",\"Image\":\"" IMG_BASE "\"}]", "\"image\" appears twice" },
		{ "[{\"ID\":\"" C_V1 "\",\"id\":\"x\"}]", "\"id\" appears twice" },
		{ "[{\"id\":\"" C_V1 "\",\"image\":\"" IMG_V1 "\"},{\"id\":\"" C_V1 "\",\"image\":\"" IMG_V1 "\"}]", "two records" },
		{ "[{\"id\":\"x\\u0000y\"}]", "NUL" },
		{ "[{\"id\":\"" C_V1 "\",\"image\":\"" IMG_V1 "\\u0000\"}]", "NUL" },
		{ "[{\"id\":\"\xff\"}]", "invalid JSON" },
		{ "[{\"id\":\"" C_V1 "\",\"image\":\"sha256:" IMG_V1 "\"}]", "not an image id" },
		{ "[{\"id\":\"" C_V1 "\",\"image\":\"../../x\"}]", "not an image id" },
		{ "[{\"id\":\"" C_V1 "\",\"image\":\"6B415B1C094CBCB77BDFFCB3644AD70D933415647AF0E318CDC1D15C805965B0\"}]", "not an image id" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		tu_writes(cdir, "containers.json", bad[i].json);
		expect_refused(root, "containers.json", bad[i].what);
	}

	/* too deep */
	char deep[400] = "[{\"id\":\"a\",\"x\":";
	for (int i = 0; i < 100; i++)
		strcat(deep, "[");
	tu_writes(cdir, "containers.json", deep);
	expect_refused(root, "containers.json", "nested deeper");

	/* Go's folding of U+212A (Kelvin) and U+017F (long s) does not apply to
	 * "id"/"image"; the same record with its keys in other case still is
	 * read the way podman reads it */
	tu_writes(cdir, "containers.json", "[{\"Id\":\"" C_V1 "\",\"IMAGE\":\"" IMG_V1 "\",\"LAYER\":\"" C_V1_LAYER "\"}]");
	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	assert_true(has(&r, MAN_V1, "manifest"));

	/* a malformed record elsewhere in the file still refuses the whole file:
	 * podman could not load it either */
	tu_writes(cdir, "containers.json", "[{\"id\":\"" C_V1 "\",\"image\":\"" IMG_V1 "\"},{\"id\":7}]");
	expect_refused(root, "containers.json", "record 1");

	free(real);
	free(cdir);
	tu_rmrf(root);
	free(root);
}

static void test_malformed_images(void **state)
{
	(void)state;
	syn s = syn_new("overlay");
	char rec[4096], json[8192];
	syn_record(&s, rec, sizeof rec);
	size_t rlen = strlen(rec);

	/* truncated anywhere */
	for (size_t cut = 1; cut < rlen + 2; cut += 5) {
		snprintf(json, sizeof json, "[%.*s", (int)cut, rec);
		syn_images(&s, json);
		sw_resolution r;
		sw_error e;
		int rc = resolve(s.root, s.cid, &r, &e);
		if (rc >= 0)
			fail_msg("cut at %zu: got %d", cut, rc);
		assert_non_null(strstr(e.msg, "images.json"));
		assert_int_equal(r.n, 0);
	}

	struct { const char *fmt, *what; } bad[] = {
		/* %1$s is the image id, %2$s the manifest digest */
		{ "[{\"id\":\"%1$s\",\"digest\":5}]", "\"digest\" is not a string" },
		{ "[{\"id\":\"%1$s\",\"digest\":{}}]", "\"digest\" is not a string" },
		{ "[{\"id\":\"%1$s\",\"names\":\"x\"}]", "\"names\" is not an array" },
		{ "[{\"id\":\"%1$s\",\"names\":[1]}]", "an element of \"names\" is not a string" },
		{ "[{\"id\":\"%1$s\",\"names\":[\"a\\u0000\"]}]", "NUL" },
		{ "[{\"id\":\"%1$s\",\"big-data-names\":{}}]", "\"big-data-names\" is not an array" },
		{ "[{\"id\":\"%1$s\",\"big-data-names\":[null]}]", "not a string" },
		{ "[{\"id\":\"%1$s\",\"big-data-digests\":[]}]", "\"big-data-digests\" is not an object" },
		{ "[{\"id\":\"%1$s\",\"big-data-digests\":{\"manifest\":5}}]", "not a string" },
		{ "[{\"id\":\"%1$s\",\"big-data-digests\":{\"manifest\":{}}}]", "not a string" },
		{ "[{\"id\":\"%1$s\",\"big-data-digests\":{\"manifest\":\"%2$s\",\"manifest\":\"%2$s\"}}]", "twice" },
		{ "[{\"id\":\"%1$s\",\"digest\":\"%2$s\",\"Digest\":\"%2$s\"}]", "\"digest\" appears twice" },
		/* U+017F LATIN SMALL LETTER LONG S: Go reads "dige\u017ft" as "digest" */
		{ "[{\"id\":\"%1$s\",\"digest\":\"%2$s\",\"dige\xc5\xbft\":\"%2$s\"}]", "\"digest\" appears twice" },
		{ "[{\"id\":\"%1$s\"},{\"id\":\"%1$s\"}]", "two records" },
		{ "[{\"id\":\"%1$s\"},5]", "record 1 is not an object" },
		{ "{\"id\":\"%1$s\"}", "not a JSON array" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(json, sizeof json, bad[i].fmt, s.id, s.man);
#pragma GCC diagnostic pop
		syn_images(&s, json);
		expect_refused_id(s.root, s.cid, "images.json", bad[i].what);
	}

	/* more manifest and config items than are kept */
	char *big = malloc(1 << 16);
	assert_non_null(big);
	int n = snprintf(big, 1 << 16, "[{\"id\":\"%s\",\"big-data-names\":[", s.id);
	for (int i = 0; i < SW_STORAGE_MAX_ITEMS + 1; i++)
		n += snprintf(big + n, (size_t)(1 << 16) - (size_t)n, "%s\"manifest-%d\"", i ? "," : "", i);
	snprintf(big + n, (size_t)(1 << 16) - (size_t)n, "]}]");
	syn_images(&s, big);
	expect_refused_id(s.root, s.cid, "images.json", "more than");
	/* ... which another image's record may have: only the record looked for
	 * is kept */
	char other[65];
	memset(other, 'a', 64);
	other[64] = '\0';
	n = snprintf(big, 1 << 16, "[{\"id\":\"%s\",\"big-data-names\":[", other);
	for (int i = 0; i < SW_STORAGE_MAX_ITEMS + 1; i++)
		n += snprintf(big + n, (size_t)(1 << 16) - (size_t)n, "%s\"manifest-%d\"", i ? "," : "", i);
	snprintf(big + n, (size_t)(1 << 16) - (size_t)n, "]},%s]", rec);
	syn_images(&s, big);
	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(s.root, s.cid, &r, &e), 1);
	free(big);
	syn_free(&s);
}

/* ---- bounds ---- */

static void test_oversized(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char p[PATH_MAX + 128];

	/* sparse files: the size check comes before any read */
	snprintf(p, sizeof p, "%s/%s", root, CONTAINERS);
	assert_int_equal(truncate(p, (off_t)SW_STORAGE_JSON_MAX + 1), 0);
	expect_refused(root, "containers.json", "more than the limit");
	assert_int_equal(truncate(p, 0), 0);
	sh("cp -a '%s/%s' '%s/%s'", fixture, CONTAINERS, root, CONTAINERS);

	snprintf(p, sizeof p, "%s/%s", root, IMAGES);
	assert_int_equal(truncate(p, (off_t)SW_STORAGE_JSON_MAX + 1), 0);
	expect_refused(root, "images.json", "more than the limit");
	sh("cp -a '%s/%s' '%s/%s'", fixture, IMAGES, root, IMAGES);

	snprintf(p, sizeof p, "%s/%s/manifest", root, V1_DIR);
	assert_int_equal(truncate(p, (off_t)SW_STORAGE_BLOB_MAX + 1), 0);
	expect_refused(root, V1_DIR "/manifest", "more than the limit");

	/* exactly at the limit is read (and then fails the hash) */
	assert_int_equal(truncate(p, (off_t)SW_STORAGE_BLOB_MAX), 0);
	expect_refused(root, V1_DIR "/manifest", "does not hash");

	tu_rmrf(root);
	free(root);
}

/* ---- links and other file types ---- */

static void test_links_refused(void **state)
{
	(void)state;
	char *root = copy_fixture();

	/* containers.json as a link to a perfectly good copy */
	sh("cd '%s/overlay-containers' && mv containers.json real.json && ln -s real.json containers.json", root);
	expect_refused(root, "containers.json", "symbolic link");
	sh("cd '%s/overlay-containers' && rm containers.json && mv real.json containers.json", root);

	sh("cd '%s/overlay-images' && mv images.json real.json && ln -s real.json images.json", root);
	expect_refused(root, "images.json", "symbolic link");
	sh("cd '%s/overlay-images' && rm images.json && mv real.json images.json", root);

	sh("cd '%s' && mv overlay-containers real && ln -s real overlay-containers", root);
	expect_refused(root, "overlay-containers", "symbolic link");
	sh("cd '%s' && rm overlay-containers && mv real overlay-containers", root);

	sh("cd '%s' && mv overlay-images real && ln -s real overlay-images", root);
	expect_refused(root, "overlay-images", "symbolic link");
	sh("cd '%s' && rm overlay-images && mv real overlay-images", root);

	sh("cd '%s/overlay-images' && mv %s real && ln -s real %s", root, IMG_V1, IMG_V1);
	expect_refused(root, IMG_V1, "symbolic link");
	sh("cd '%s/overlay-images' && rm %s && mv real %s", root, IMG_V1, IMG_V1);

	sh("cd '%s/%s' && mv manifest real && ln -s real manifest", root, V1_DIR);
	expect_refused(root, V1_DIR "/manifest", "symbolic link");
	sh("cd '%s/%s' && rm manifest && mv real manifest", root, V1_DIR);

	/* a FIFO would block a reader: refused without opening it for reading */
	sh("cd '%s/overlay-containers' && mv containers.json real.json && mkfifo containers.json", root);
	alarm(20);
	expect_refused(root, "containers.json", "not a regular file");
	alarm(0);
	sh("cd '%s/overlay-containers' && rm containers.json && mv real.json containers.json", root);

	/* a directory where a file belongs */
	sh("cd '%s/%s' && mv manifest real && mkdir manifest", root, V1_DIR);
	expect_refused(root, V1_DIR "/manifest", "manifest");
	sh("cd '%s/%s' && rmdir manifest && mv real manifest", root, V1_DIR);

	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	tu_rmrf(root);
	free(root);
}

/* ---- chain of custody ---- */

static void flip_byte(const char *root, const char *rel, long at)
{
	char p[PATH_MAX + 300];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	int fd = open(p, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void test_tampered_items(void **state)
{
	(void)state;
	const char *items[] = { "manifest", V1_MANIFEST_BY_DIGEST, V1_INDEX_BY_DIGEST, V1_CONFIG };
	for (size_t i = 0; i < SW_ARRAY_SIZE(items); i++) {
		char *root = copy_fixture();
		char rel[400];
		snprintf(rel, sizeof rel, "%s/%s", V1_DIR, items[i]);
		flip_byte(root, rel, 40);
		expect_refused(root, rel, "does not hash");
		sw_error e = { 0 };
		sw_storage_image img;
		assert_true(sw_storage_image_digests(root, IMG_V1, &img, &e) < 0);
		assert_int_equal(e.code, SW_EVERIFY);
		assert_int_equal(img.n, 0);
		/* the other image is untouched */
		sw_resolution r;
		assert_int_equal(resolve(root, C_BASE, &r, &e), 1);
		tu_rmrf(root);
		free(root);
	}

	/* a missing item that images.json records */
	char *root = copy_fixture();
	sh("rm '%s/%s/%s'", root, V1_DIR, V1_INDEX_BY_DIGEST);
	expect_refused(root, V1_INDEX_BY_DIGEST, "cannot open");
	sh("rm -r '%s/%s'", root, V1_DIR);
	expect_refused(root, IMG_V1, "missing");
	tu_rmrf(root);
	free(root);

	/* a recorded digest edited to match a different (swapped-in) manifest:
	 * the other image's manifest, recorded under the v1 image */
	root = copy_fixture();
	sh("cp '%s/overlay-images/%s/manifest' '%s/%s/manifest'", fixture, IMG_BASE, root, V1_DIR);
	sh("sed -i 's/\"manifest\":\"%s\"/\"manifest\":\"%s\"/' '%s/%s'", MAN_V1, MAN_BASE, root, IMAGES);
	expect_refused(root, V1_DIR "/manifest", "not the image id");
	tu_rmrf(root);
	free(root);
}

static void test_config_not_image_id(void **state)
{
	(void)state;
	syn s = syn_new("overlay");
	/* a well-formed manifest, correctly recorded, that names another config */
	syn_default_manifest(&s, "sha256:" "1111111111111111111111111111111111111111111111111111111111111111");
	syn_write_default(&s);
	expect_refused_id(s.root, s.cid, "manifest", "not the image id");
	sw_resolution r;
	sw_error e;
	assert_true(resolve(s.root, s.cid, &r, &e) < 0);
	assert_int_equal(e.code, SW_EVERIFY);
	syn_free(&s);
}

static void test_image_record_missing(void **state)
{
	(void)state;
	char *root = copy_fixture();
	sw_resolution r;
	sw_error e;

	/* the container's image is not in images.json */
	sh("sed -i 's/\"id\":\"%s\"/\"id\":\"%s\"/' '%s/%s'", IMG_V1,
	   "0000000000000000000000000000000000000000000000000000000000000000", root, IMAGES);
	expect_refused(root, "images.json", "no record of image " IMG_V1);
	assert_true(resolve(root, C_V1, &r, &e) < 0);
	assert_int_equal(e.code, SW_ENOTFOUND);

	/* no images.json, no image store */
	sh("rm '%s/%s'", root, IMAGES);
	expect_refused(root, "images.json", "no record");
	sh("rm -r '%s/overlay-images'", root);
	expect_refused(root, "images.json", "no record");
	tu_rmrf(root);
	free(root);
}

static void test_inconsistent(void **state)
{
	(void)state;
	syn s = syn_new("overlay");
	char json[8192];
	char other[72] = "sha256:";
	memset(other + 7, '2', 64);
	other[71] = '\0';

	struct { const char *fmt, *what; } bad[] = {
		/* %1$s id, %2$s manifest digest, %3$s another digest */
		/* "digest" names a manifest the image does not have */
		{ "[{\"id\":\"%1$s\",\"digest\":\"%3$s\",\"big-data-names\":[\"manifest\"],"
		  "\"big-data-digests\":{\"manifest\":\"%2$s\"}}]", "none of its stored manifests" },
		{ "[{\"id\":\"%1$s\",\"digest\":\"sha256:abc\",\"big-data-names\":[\"manifest\"],"
		  "\"big-data-digests\":{\"manifest\":\"%2$s\"}}]", "none of its stored manifests" },
		/* "manifest-<d>" recorded with another digest */
		{ "[{\"id\":\"%1$s\",\"big-data-names\":[\"manifest-%2$s\"],"
		  "\"big-data-digests\":{\"manifest-%2$s\":\"%3$s\"}}]", "recorded with digest" },
		/* a digest without its name */
		{ "[{\"id\":\"%1$s\",\"big-data-names\":[],"
		  "\"big-data-digests\":{\"manifest\":\"%2$s\"}}]", "not in \"big-data-names\"" },
		/* not sha256 */
		{ "[{\"id\":\"%1$s\",\"big-data-names\":[\"manifest\"],"
		  "\"big-data-digests\":{\"manifest\":\"sha512:abcd\"}}]", "not sha256" },
		{ "[{\"id\":\"%1$s\",\"big-data-names\":[\"manifest\"],"
		  "\"big-data-digests\":{\"manifest\":\"SHA256:%1$s\"}}]", "not sha256" },
		/* no manifest at all: nothing to check the image against */
		{ "[{\"id\":\"%1$s\",\"big-data-names\":[\"manifest\"]}]", "records no manifest" },
		{ "[{\"id\":\"%1$s\"}]", "records no manifest" },
		/* the config item recorded with another digest */
		{ "[{\"id\":\"%1$s\",\"big-data-names\":[\"manifest\"],"
		  "\"big-data-digests\":{\"manifest\":\"%2$s\",\"sha256:%1$s\":\"%3$s\"}}]", "config item" },
		/* no config: nothing binds the id to the layers (containers/image
		 * stores it with every pull and commit) */
		{ "[{\"id\":\"%1$s\",\"big-data-names\":[\"manifest\"],"
		  "\"big-data-digests\":{\"manifest\":\"%2$s\"}}]", "records no config" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(json, sizeof json, bad[i].fmt, s.id, s.man, other);
#pragma GCC diagnostic pop
		syn_images(&s, json);
		expect_refused_id(s.root, s.cid, "images.json", bad[i].what);
	}

	/* the minimal record sigward accepts works: "manifest" and the config */
	snprintf(json, sizeof json, "[{\"id\":\"%s\",\"big-data-names\":[\"manifest\",\"sha256:%s\"],"
		 "\"big-data-digests\":{\"manifest\":\"%s\",\"sha256:%s\":\"sha256:%s\"}}]",
		 s.id, s.id, s.man, s.id, s.id);
	syn_images(&s, json);
	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(s.root, s.cid, &r, &e), 1);
	assert_int_equal(r.n, 2);
	syn_free(&s);
}

/* Manifests and indexes that are not what sigward can check. */
static void test_manifest_kinds(void **state)
{
	(void)state;
	syn s = syn_new("overlay");
	char id[80], m[2048];
	snprintf(id, sizeof id, "sha256:%s", s.id);
	struct { const char *fmt, *what; } bad[] = {
		{ "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"1\",\"fsLayers\":[],\"signatures\":[]}", "schema 1" },
		{ "{\"schemaVersion\":3,\"config\":{\"digest\":\"%s\"}}", "schemaVersion 3" },
		{ "{\"config\":{\"digest\":\"%s\"}}", "schemaVersion" },
		{ "{\"schemaVersion\":\"2\",\"config\":{\"digest\":\"%s\"}}", "schemaVersion" },
		{ "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\",\"config\":{\"digest\":\"%s\"}}", "media type" },
		{ "{\"schemaVersion\":2,\"mediaType\":5,\"config\":{\"digest\":\"%s\"}}", "mediaType" },
		{ "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"manifests\":[]}", "both" },
		{ "{\"schemaVersion\":2}", "neither" },
		{ "{\"schemaVersion\":2,\"config\":{}}", "without a config digest" },
		{ "{\"schemaVersion\":2,\"config\":\"%s\"}", "\"config\" object" },
		{ "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"Digest\":\"%s\"}}", "appears twice" },
		{ "{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"}}", "appears twice" },
		{ "{\"schemaVersion\":2,\"mediaType\":\"" "application/vnd.oci.image.manifest.v1+json" "\",\"manifests\":[]}", "\"config\" object" },
		{ "[\"%s\"]", "not a JSON object" },
		{ "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"}", "invalid JSON" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(m, sizeof m, bad[i].fmt, id, id);
#pragma GCC diagnostic pop
		syn_manifest(&s, m);
		syn_write_default(&s);
		expect_refused_id(s.root, s.cid, "manifest", bad[i].what);
	}

	/* NUL and deep nesting in a manifest */
	const char nul[] = "{\"schemaVersion\":2,\"a\":\"\\u0000\"}";
	syn_manifest(&s, nul);
	syn_write_default(&s);
	/* yajl_tree would cut the string there, Go would not */
	expect_refused_id(s.root, s.cid, "manifest", "NUL");
	char deep[400] = "{\"schemaVersion\":2,\"a\":";
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	for (int i = 0; i < 70; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	syn_manifest(&s, deep);
	syn_write_default(&s);
	expect_refused_id(s.root, s.cid, "manifest", "nested deeper");

	/* Docker's media type, and an OCI manifest without one, are fine; Go-style
	 * key case too */
	const char *good[] = {
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{\"digest\":\"%s\"},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[]}",
		"{\"SchemaVersion\":2,\"CONFIG\":{\"Digest\":\"%s\"}}",
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(good); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(m, sizeof m, good[i], id);
#pragma GCC diagnostic pop
		syn_manifest(&s, m);
		syn_write_default(&s);
		sw_resolution r;
		sw_error e;
		if (resolve(s.root, s.cid, &r, &e) != 1)
			fail_msg("%s: %s", good[i], e.msg);
		assert_true(has(&r, s.man, "manifest"));
	}
	syn_free(&s);
}

/* An index item must list one of the image's manifests. */
static void test_index(void **state)
{
	(void)state;
	syn s = syn_new("overlay");
	char idx[1024], ihex[65], idig[80], key[100], json[8192], rec[4096];

	for (int variant = 0; variant < 4; variant++) {
		const char *listed = variant == 1 ? "sha256:3333333333333333333333333333333333333333333333333333333333333333" : s.man;
		if (variant == 2)
			snprintf(idx, sizeof idx, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"digest\":5}]}");
		else if (variant == 3)
			snprintf(idx, sizeof idx, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":{}}");
		else
			snprintf(idx, sizeof idx,
				 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
				 "\"manifests\":[{\"digest\":\"sha512:00\"},{\"digest\":\"%s\",\"platform\":{\"os\":\"linux\"}}]}", listed);
		sha256_hex(idx, strlen(idx), ihex);
		snprintf(idig, sizeof idig, "sha256:%s", ihex);
		snprintf(key, sizeof key, "manifest-%s", idig);
		syn_item(&s, s.id, key, idx, strlen(idx));
		syn_record(&s, rec, sizeof rec);
		/* add the index to names and digests */
		snprintf(json, sizeof json,
			 "[{\"id\":\"%s\",\"digest\":\"%s\",\"big-data-names\":[\"manifest\",\"%s\",\"sha256:%s\"],"
			 "\"big-data-digests\":{\"manifest\":\"%s\",\"%s\":\"%s\",\"sha256:%s\":\"sha256:%s\"}}]",
			 s.id, idig, key, s.id, s.man, key, idig, s.id, s.id);
		syn_images(&s, json);
		sw_resolution r;
		sw_error e;
		int rc = resolve(s.root, s.cid, &r, &e);
		if (variant == 0) {
			if (rc != 1)
				fail_msg("%s", e.msg);
			assert_int_equal(r.n, 3);
			assert_true(has(&r, idig, "index"));
			assert_true(has(&r, s.man, "manifest"));
		} else {
			assert_true(rc < 0);
			assert_int_equal(r.n, 0);
			assert_non_null(strstr(e.msg, variant == 1 ? "lists none" : "manifests"));
		}
	}
	syn_free(&s);
}

/* ---- the config and the layers (issue 14) ---- */

/* Append a record to a compact JSON array file "[...]". */
static void json_append(const char *root, const char *rel, const char *rec)
{
	char *dir = tu_path(root, rel), *slash = strrchr(dir, '/');
	*slash = '\0';
	size_t len;
	char *old = tu_read(dir, slash + 1, &len);
	while (len && (old[len - 1] == '\n' || old[len - 1] == ' '))
		len--;
	assert_true(len >= 2 && old[len - 1] == ']');
	size_t n = len + strlen(rec) + 4;
	char *out = malloc(n);
	assert_non_null(out);
	snprintf(out, n, "%.*s%s%s]", (int)(len - 1), old, len > 2 ? "," : "", rec);
	tu_writes(dir, slash + 1, out);
	free(out);
	free(old);
	free(dir);
}

#define C_FORGED "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"
#define C_FORGED_LAYER "f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1"

/*
 * The attack: an image whose config blob is a byte copy of a listed image's
 * manifest gets that manifest's digest as its image id. Stored as
 * `skopeo copy ... containers-storage:` stores it (here next to the real v1, over
 * v1's own layer) and started, it resolved to image id = MAN_V1 before.
 */
static void test_forged_config(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *vdir = tu_path(root, V1_DIR);
	size_t mlen;
	char *man = tu_read(vdir, "manifest", &mlen);
	const char *fid = MAN_V1 + 7;
	char fdir[PATH_MAX], key[100], name[400], fm[1024], fmhex[65], rec[2048], cont[512], lay[512];

	snprintf(fdir, sizeof fdir, "%s/overlay-images/%s", root, fid);
	assert_int_equal(mkdir(fdir, 0700), 0);
	snprintf(key, sizeof key, "sha256:%s", fid);
	bd_name(key, name);
	tu_write(fdir, name, man, mlen);
	snprintf(fm, sizeof fm,
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:%s\",\"size\":1}]}",
		 MAN_V1, mlen, V1_LAYER);
	sha256_hex(fm, strlen(fm), fmhex);
	tu_writes(fdir, "manifest", fm);
	snprintf(key, sizeof key, "manifest-sha256:%s", fmhex);
	bd_name(key, name);
	tu_writes(fdir, name, fm);
	snprintf(rec, sizeof rec,
		 "{\"id\":\"%s\",\"digest\":\"sha256:%s\",\"names\":[\"localhost/forged:1\"],\"layer\":\"" V1_LAYER "\","
		 "\"big-data-names\":[\"sha256:%s\",\"manifest-sha256:%s\",\"manifest\"],"
		 "\"big-data-digests\":{\"manifest\":\"sha256:%s\",\"manifest-sha256:%s\":\"sha256:%s\",\"sha256:%s\":\"sha256:%s\"}}",
		 fid, fmhex, fid, fmhex, fmhex, fmhex, fmhex, fid, fid);
	json_append(root, IMAGES, rec);
	snprintf(cont, sizeof cont, "{\"id\":\"" C_FORGED "\",\"names\":[\"forged\"],\"image\":\"%s\",\"layer\":\"" C_FORGED_LAYER "\"}", fid);
	json_append(root, CONTAINERS, cont);
	snprintf(lay, sizeof lay, "{\"id\":\"" C_FORGED_LAYER "\",\"parent\":\"" V1_LAYER "\"}");
	json_append(root, LAYERS, lay);

	/* refused, naming the config file; the real v1 is untouched */
	char cfgname[400];
	snprintf(key, sizeof key, "sha256:%s", fid);
	bd_name(key, cfgname);
	expect_refused_id(root, C_FORGED, cfgname, "not an image config (has a manifest's \"schemaVersion\")");
	sw_storage_image img;
	sw_error e = { 0 };
	assert_true(sw_storage_image_digests(root, fid, &img, &e) < 0);
	assert_non_null(strstr(e.msg, "not an image config"));
	assert_int_equal(img.n, 0);
	sw_resolution r;
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	assert_true(has(&r, MAN_V1, "manifest"));

	/* without its "schemaVersion", a manifest has no rootfs; with a rootfs
	 * added, it is still no config */
	char both[2048];
	size_t ml = mlen;
	while (ml && man[ml - 1] == '\n')
		ml--;
	assert_int_equal(man[ml - 1], '}');
	snprintf(both, sizeof both, "%.*s,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" V1_LAYER "\"]}}",
		 (int)(ml - 1), man);
	syn s = syn_new("overlay");
	syn_config(&s, both);
	expect_refused_id(s.root, s.cid, "=c2hhMjU2", "has a manifest's \"schemaVersion\"");
	syn_config(&s, "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"digest\":\"" MAN_V1 "\"},\"layers\":[]}");
	expect_refused_id(s.root, s.cid, "=c2hhMjU2", "not an image config (no \"rootfs\" object)");
	syn_free(&s);

	free(man);
	free(vdir);
	tu_rmrf(root);
	free(root);
}

#define OTHER_LAYER "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OTHER_DIFF "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* The variant: a listed image's real config (so its real image id) over other
 * layers. On a copy of the real store: v1's image record and its container sit
 * on another layer. */
static void test_config_over_other_layers(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *ldir = tu_path(root, "overlay-layers");
	sw_resolution r;
	sw_error e;

	/* the real chain resolves */
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	assert_int_equal(resolve(root, C_BASE, &r, &e), 1);

	sh("sed -i 's/\"layer\":\"" V1_LAYER "\"/\"layer\":\"" OTHER_LAYER "\"/' '%s/" IMAGES "'", root);
	tu_writes(ldir, "layers.json",
		  "[{\"id\":\"" OTHER_LAYER "\",\"diff-digest\":\"" OTHER_DIFF "\"},"
		  "{\"id\":\"" C_V1_LAYER "\",\"parent\":\"" OTHER_LAYER "\"},{\"id\":\"" C_BASE_LAYER "\"}]");
	expect_refused(root, "layers.json", "has diff-digest " OTHER_DIFF ", the config's rootfs.diff_ids[0] is sha256:" V1_LAYER);
	sw_storage_image img;
	assert_true(sw_storage_image_digests(root, IMG_V1, &img, &e) < 0);
	assert_non_null(strstr(e.msg, "diff-digest"));
	/* an image without layers is not concerned */
	assert_int_equal(resolve(root, C_BASE, &r, &e), 1);

	/* the same content under another layer id, with v1's record unchanged:
	 * the container does not sit on the image's top layer */
	sh("sed -i 's/\"layer\":\"" OTHER_LAYER "\"/\"layer\":\"" V1_LAYER "\"/' '%s/" IMAGES "'", root);
	tu_writes(ldir, "layers.json",
		  "[{\"id\":\"" V1_LAYER "\",\"diff-digest\":\"sha256:" V1_LAYER "\"},"
		  "{\"id\":\"" OTHER_LAYER "\",\"diff-digest\":\"sha256:" V1_LAYER "\"},"
		  "{\"id\":\"" C_V1_LAYER "\",\"parent\":\"" OTHER_LAYER "\"},{\"id\":\"" C_BASE_LAYER "\"}]");
	expect_refused(root, "layers.json", "sits on " OTHER_LAYER ", not on image " IMG_V1 "'s top layer " V1_LAYER);
	/* a container of an image without layers on some layer; on nothing */
	tu_writes(ldir, "layers.json",
		  "[{\"id\":\"" V1_LAYER "\",\"diff-digest\":\"sha256:" V1_LAYER "\"},"
		  "{\"id\":\"" C_V1_LAYER "\"},{\"id\":\"" C_BASE_LAYER "\",\"parent\":\"" V1_LAYER "\"}]");
	expect_refused_id(root, C_BASE, "layers.json", "sits on " V1_LAYER ", not on image " IMG_BASE "'s top layer (none)");
	expect_refused(root, "layers.json", "sits on nothing");

	/* a chain longer than the config says */
	tu_writes(ldir, "layers.json",
		  "[{\"id\":\"" V1_LAYER "\",\"parent\":\"" OTHER_LAYER "\",\"diff-digest\":\"sha256:" V1_LAYER "\"},"
		  "{\"id\":\"" OTHER_LAYER "\",\"diff-digest\":\"" OTHER_DIFF "\"},"
		  "{\"id\":\"" C_V1_LAYER "\",\"parent\":\"" V1_LAYER "\"}]");
	expect_refused(root, "layers.json", "longer than the config's 1 rootfs.diff_ids");
	/* ... a cycle ends there too */
	tu_writes(ldir, "layers.json",
		  "[{\"id\":\"" V1_LAYER "\",\"parent\":\"" V1_LAYER "\",\"diff-digest\":\"sha256:" V1_LAYER "\"},"
		  "{\"id\":\"" C_V1_LAYER "\",\"parent\":\"" V1_LAYER "\"}]");
	expect_refused(root, "layers.json", "longer than");
	/* no diff digest, no record, no file, no directory */
	tu_writes(ldir, "layers.json", "[{\"id\":\"" V1_LAYER "\"},{\"id\":\"" C_V1_LAYER "\",\"parent\":\"" V1_LAYER "\"}]");
	expect_refused(root, "layers.json", "diff-digest (none)");
	tu_writes(ldir, "layers.json", "[{\"id\":\"" C_V1_LAYER "\",\"parent\":\"" V1_LAYER "\"}]");
	expect_refused(root, "layers.json", "no record of layer " V1_LAYER);
	tu_writes(ldir, "layers.json", "[{\"id\":\"" V1_LAYER "\",\"diff-digest\":\"sha256:" V1_LAYER "\"}]");
	expect_refused(root, "layers.json", "no record of layer " C_V1_LAYER " of container");
	sh("rm '%s/layers.json'", ldir);
	expect_refused(root, "layers.json", "no record of layer");
	sh("rm -r '%s'", ldir);
	expect_refused(root, "layers.json", "no record of layer");
	/* malformed and duplicate records */
	sh("mkdir '%s'", ldir);
	tu_writes(ldir, "layers.json", "[{\"id\":\"" V1_LAYER "\",\"diff-digest\":5}]");
	expect_refused(root, "layers.json", "\"diff-digest\" is not a string");
	tu_writes(ldir, "layers.json", "[{\"id\":\"" V1_LAYER "\",\"parent\":\"x\",\"Parent\":\"y\"}]");
	expect_refused(root, "layers.json", "\"parent\" appears twice");
	tu_writes(ldir, "layers.json", "[{\"parent\":\"x\"}]");
	expect_refused(root, "layers.json", "has no \"id\"");
	tu_writes(ldir, "layers.json",
		  "[{\"id\":\"" V1_LAYER "\",\"diff-digest\":\"sha256:" V1_LAYER "\"},{\"id\":\"" C_V1_LAYER "\",\"parent\":\"" V1_LAYER "\"}]");
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	tu_writes(ldir, "volatile-layers.json", "[{\"id\":\"" C_V1_LAYER "\",\"parent\":\"" V1_LAYER "\"}]");
	expect_refused(root, "layers.json", "appears twice");
	/* podman >= 4.4 keeps a --rm container's layer in volatile-layers.json */
	tu_writes(ldir, "layers.json", "[{\"id\":\"" V1_LAYER "\",\"diff-digest\":\"sha256:" V1_LAYER "\"}]");
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	assert_true(has(&r, MAN_V1, "manifest"));

	/* a container record without a layer, or with something else */
	char *cdir = tu_path(root, "overlay-containers");
	tu_writes(cdir, "containers.json", "[{\"id\":\"" C_V1 "\",\"image\":\"" IMG_V1 "\"}]");
	expect_refused(root, "layers.json", "records no layer");
	tu_writes(cdir, "containers.json", "[{\"id\":\"" C_V1 "\",\"image\":\"" IMG_V1 "\",\"layer\":\"../x\"}]");
	expect_refused(root, "containers.json", "is not a layer id");
	free(cdir);
	free(ldir);
	tu_rmrf(root);
	free(root);
}

/* Chains of several layers, mapped top layers, and configs that are not image
 * configs, on synthetic stores. */
static void test_layer_chain(void **state)
{
	(void)state;
	syn s = syn_new("overlay");
	const char *l1 = "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a";
	const char *l2 = "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a";
	const char *mt = "3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a";
	const char *d1 = "sha256:d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1";
	const char *d2 = "sha256:d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2";
	char cfg[512], lay[2048], rec[4096], json[8192];
	sw_resolution r;
	sw_error e;

	snprintf(s.top, sizeof s.top, "%s", l2);
	snprintf(cfg, sizeof cfg, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}", d1, d2);
	syn_config(&s, cfg);
	char cont[512];
	snprintf(cont, sizeof cont, "[{\"id\":\"%s\",\"image\":\"%s\",\"layer\":\"" SYN_CLAYER "\"}]", s.cid, s.id);
	syn_containers(&s, "containers.json", cont);

	struct { const char *fmt, *what; } cases[] = {
		/* %1$s l1, %2$s l2, %3$s d1, %4$s d2, %5$s mapped */
		{ "[{\"id\":\"%1$s\",\"diff-digest\":\"%3$s\"},{\"id\":\"%2$s\",\"parent\":\"%1$s\",\"diff-digest\":\"%4$s\"},"
		  "{\"id\":\"" SYN_CLAYER "\",\"parent\":\"%2$s\"}]", NULL },
		/* the order of the diff_ids matters */
		{ "[{\"id\":\"%1$s\",\"diff-digest\":\"%4$s\"},{\"id\":\"%2$s\",\"parent\":\"%1$s\",\"diff-digest\":\"%3$s\"},"
		  "{\"id\":\"" SYN_CLAYER "\",\"parent\":\"%2$s\"}]", "rootfs.diff_ids[1]" },
		/* one layer short */
		{ "[{\"id\":\"%2$s\",\"diff-digest\":\"%4$s\"},{\"id\":\"" SYN_CLAYER "\",\"parent\":\"%2$s\"}]",
		  "holds 1 layers, the config lists 2" },
		/* a mapped top layer: a copy with the same parent and content */
		{ "[{\"id\":\"%1$s\",\"diff-digest\":\"%3$s\"},{\"id\":\"%2$s\",\"parent\":\"%1$s\",\"diff-digest\":\"%4$s\"},"
		  "{\"id\":\"%5$s\",\"parent\":\"%1$s\",\"diff-digest\":\"%4$s\"},{\"id\":\"" SYN_CLAYER "\",\"parent\":\"%5$s\"}]", NULL },
		{ "[{\"id\":\"%1$s\",\"diff-digest\":\"%3$s\"},{\"id\":\"%2$s\",\"parent\":\"%1$s\",\"diff-digest\":\"%4$s\"},"
		  "{\"id\":\"%5$s\",\"parent\":\"%1$s\",\"diff-digest\":\"%3$s\"},{\"id\":\"" SYN_CLAYER "\",\"parent\":\"%5$s\"}]",
		  "rootfs.diff_ids[1]" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(cases); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(lay, sizeof lay, cases[i].fmt, l1, l2, d1, d2, mt);
#pragma GCC diagnostic pop
		syn_layers(&s, lay);
		/* the mapped layer counts only when the image record lists it */
		syn_record(&s, rec, sizeof rec);
		rec[strlen(rec) - 1] = '\0';
		snprintf(json, sizeof json, "[%s,\"mapped-top-layers\":[\"%s\"]}]", rec, mt);
		syn_images(&s, json);
		if (!cases[i].what) {
			if (resolve(s.root, s.cid, &r, &e) != 1)
				fail_msg("case %zu: %s", i, e.msg);
			assert_true(has(&r, s.man, "manifest"));
		} else {
			expect_refused_id(s.root, s.cid, "layers.json", cases[i].what);
		}
		syn_record(&s, rec, sizeof rec);
		snprintf(json, sizeof json, "[%s]", rec);
		syn_images(&s, json);
		if (i == 3)
			expect_refused_id(s.root, s.cid, "layers.json", "not on image");
	}

	/* configs that are not image configs */
	struct { const char *cfg, *what; } bad[] = {
		{ "[]", "not a JSON object" },
		{ "{}", "no \"rootfs\" object" },
		{ "{\"rootfs\":[]}", "no \"rootfs\" object" },
		{ "{\"rootfs\":null}", "no \"rootfs\" object" },
		{ "{\"rootfs\":{\"diff_ids\":[]}}", "rootfs.type is not \"layers\"" },
		{ "{\"rootfs\":{\"type\":\"layer\",\"diff_ids\":[]}}", "rootfs.type is not \"layers\"" },
		{ "{\"rootfs\":{\"type\":5,\"diff_ids\":[]}}", "rootfs.type is not \"layers\"" },
		{ "{\"rootfs\":{\"type\":\"layers\"}}", "no rootfs.diff_ids array" },
		{ "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":null}}", "no rootfs.diff_ids array" },
		{ "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":{}}}", "no rootfs.diff_ids array" },
		{ "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[5]}}", "rootfs.diff_ids[0] is not" },
		{ "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:abc\"]}}", "rootfs.diff_ids[0] is not" },
		{ "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"RootFS\":{\"type\":\"layers\",\"diff_ids\":[]}}", "appears twice" },
		{ "{\"schemaVersion\":2,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", "schemaVersion" },
		{ "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}", "invalid JSON" },
	};
	s.top[0] = '\0';
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		syn_config(&s, bad[i].cfg);
		expect_refused_id(s.root, s.cid, "=c2hhMjU2", bad[i].what);
	}
	/* Go's key matching, as containers/image reads the config */
	syn_config(&s, "{\"ROOTFS\":{\"Type\":\"layers\",\"Diff_IDs\":[]}}");
	assert_int_equal(resolve(s.root, s.cid, &r, &e), 1);
	syn_free(&s);
}

/* ---- never a lock ---- */

/* podman holds its locks while it writes: a reader that waited for them would
 * stall every container start behind a pull. Another process holds every lock
 * file for writing; the lookup must still answer at once. */
static void test_no_locks(void **state)
{
	(void)state;
	char *root = copy_fixture();
	const char *locks[] = { "storage.lock", "overlay-containers/containers.lock",
				"overlay-images/images.lock", "overlay-layers/layers.lock" };
	sh("mkdir -p '%s/overlay-layers'", root);
	int go[2], done[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; i < SW_ARRAY_SIZE(locks); i++) {
			char p[PATH_MAX + 64];
			snprintf(p, sizeof p, "%s/%s", root, locks[i]);
			int fd = open(p, O_RDWR | O_CREAT, 0600);
			struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
			if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
				_exit(1);
		}
		(void)!write(go[1], "x", 1);
		char c;
		(void)!read(done[0], &c, 1);
		_exit(0);
	}
	char c;
	assert_int_equal(read(go[0], &c, 1), 1);
	/* the locks are really held: a would-be podman cannot take them */
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/%s", root, locks[2]);
	int fd = open(p, O_RDWR | O_CLOEXEC);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_SETLK, &fl), -1);
	close(fd);

	alarm(20);
	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	assert_int_equal(r.n, 3);
	alarm(0);
	assert_int_equal(write(done[1], "x", 1), 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	tu_rmrf(root);
	free(root);
}

/* ---- a store being written (issue 17) ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A child that holds containers/storage's write lock on images.lock (podman
 * in the middle of a change), and after hold_ms (0: until killed) puts
 * good_json in place of images.json by rename, as containers/storage does,
 * then lets go. Returns its pid once the lock is held. */
static pid_t writer_holding_lock(const char *root, int hold_ms, const char *good_json)
{
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char p[PATH_MAX + 64];
		snprintf(p, sizeof p, "%s/overlay-images/images.lock", root);
		int fd = open(p, O_RDWR | O_CREAT, 0600);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		(void)!write(go[1], "x", 1);
		if (hold_ms == 0)
			for (;;)
				pause();
		struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		char cmd[3 * PATH_MAX];
		snprintf(cmd, sizeof cmd, "cp '%s' '%s/overlay-images/.tmp-images.json' && mv '%s/overlay-images/.tmp-images.json' '%s/%s'",
			 good_json, root, root, root, IMAGES);
		_exit(system(cmd) == 0 ? 0 : 2);
	}
	char c;
	assert_int_equal(read(go[0], &c, 1), 1);
	close(go[0]);
	close(go[1]);
	return pid;
}

static void test_busy_writer(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char good[PATH_MAX + 64];
	snprintf(good, sizeof good, "%s/images.json.good", root);
	sh("cp '%s/%s' '%s'", root, IMAGES, good);
	/* The store as a writer may leave it between two files: the container's
	 * image missing from images.json. */
	sh("sed -i 's/\"id\":\"%s\"/\"id\":\"%s\"/' '%s/%s'", IMG_V1,
	   "0000000000000000000000000000000000000000000000000000000000000000", root, IMAGES);
	sw_resolution r;
	sw_error e;

	/* Nobody writing: the failure is real, returned at once, not retried
	 * for the budget and not called busy. */
	int64_t t0 = mono_ms();
	assert_true(resolve(root, C_V1, &r, &e) < 0);
	assert_int_equal(e.code, SW_ENOTFOUND);
	assert_true(mono_ms() - t0 < 500);

	/* A writer holds images.lock the whole time: every lookup fails while
	 * the store is being written, for the whole budget, then SW_EBUSY, whose
	 * message also says what the last lookup saw. */
	pid_t w = writer_holding_lock(root, 0, good);
	t0 = mono_ms();
	int rc = resolve(root, C_V1, &r, &e);
	int64_t spent = mono_ms() - t0;
	kill(w, SIGKILL);
	int status;
	assert_int_equal(waitpid(w, &status, 0), w);
	print_message("busy store: rc %d after %lld ms: %s\n", rc, (long long)spent, e.msg);
	assert_int_equal(rc, -SW_EBUSY);
	assert_int_equal(e.code, SW_EBUSY);
	assert_int_equal(r.n, 0);
	assert_true(spent >= SW_STORE_BUSY_MS && spent < SW_STORE_BUSY_MS + 1000);
	assert_non_null(strstr(e.msg, "(containers/storage was writing it)"));
	assert_non_null(strstr(e.msg, "no record of image " IMG_V1));
	assert_null(strchr(e.msg, '\n'));

	/* A writer that finishes after 300 ms (renames the complete images.json
	 * into place and lets go of the lock): waited out within the budget. */
	w = writer_holding_lock(root, 300, good);
	t0 = mono_ms();
	rc = resolve(root, C_V1, &r, &e);
	spent = mono_ms() - t0;
	assert_int_equal(waitpid(w, &status, 0), w);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	print_message("writer done after 300 ms: rc %d after %lld ms %s\n", rc, (long long)spent, rc < 0 ? e.msg : "");
	assert_int_equal(rc, 1);
	assert_int_equal(r.n, 3);
	assert_true(has(&r, MAN_V1, "manifest"));
	assert_true(spent >= 250 && spent < SW_STORE_BUSY_MS);
	tu_rmrf(root);
	free(root);
}

/* ---- what an error leaves behind ---- */

static void test_nothing_added_on_error(void **state)
{
	(void)state;
	sw_error e;
	/* no room for the third digest: none of the three is added */
	sw_resolution r = { 0 };
	char d[80];
	for (int i = 0; i < SW_RESOLVE_MAX - 2; i++) {
		snprintf(d, sizeof d, "sha256:%064x", i);
		assert_int_equal(sw_resolution_add(&r, d, "annotation:x", "manifest", &e), 0);
	}
	size_t before = r.n;
	assert_true(sw_storage_resolve(fixture, C_V1, &r, &e) < 0);
	assert_int_equal(r.n, before);
	assert_string_equal(r.reference, "");
	/* with room it fits */
	r.n = 0;
	assert_int_equal(sw_storage_resolve(fixture, C_V1, &r, &e), 1);
}

/* ---- random damage never yields a digest the intact store does not give ---- */

static void test_random_flips(void **state)
{
	(void)state;
	char *root = copy_fixture();
	sw_resolution want;
	sw_error e;
	assert_int_equal(resolve(root, C_V1, &want, &e), 1);

	const char *files[] = { CONTAINERS, IMAGES, V1_DIR "/manifest", V1_DIR "/" V1_MANIFEST_BY_DIGEST,
				V1_DIR "/" V1_INDEX_BY_DIGEST, V1_DIR "/" V1_CONFIG, LAYERS };
	unsigned seed = 20261125, errors = 0, answers = 0;
	for (int it = 0; it < 600; it++) {
		seed = seed * 1103515245u + 12345u;
		const char *f = files[(seed >> 8) % SW_ARRAY_SIZE(files)];
		char p[PATH_MAX + 300];
		snprintf(p, sizeof p, "%s/%s", root, f);
		struct stat st;
		assert_int_equal(stat(p, &st), 0);
		off_t off = (off_t)((seed >> 4) % (unsigned)st.st_size);
		int fd = open(p, O_RDWR | O_CLOEXEC);
		assert_true(fd >= 0);
		unsigned char orig, flipped;
		assert_int_equal(pread(fd, &orig, 1, off), 1);
		flipped = orig ^ (unsigned char)(1u << ((seed >> 1) & 7));
		assert_int_equal(pwrite(fd, &flipped, 1, off), 1);

		sw_resolution r;
		int rc = resolve(root, C_V1, &r, &e);
		if (rc < 0) {
			errors++;
			assert_int_equal(r.n, 0);
		} else if (rc == 1) {
			answers++;
			for (size_t i = 0; i < r.n; i++) {
				bool known = false;
				for (size_t j = 0; j < want.n; j++)
					known |= strcmp(r.d[i].digest, want.d[j].digest) == 0 &&
						 strcmp(r.d[i].kind, want.d[j].kind) == 0;
				if (!known)
					fail_msg("flip at %s:%lld gave %s %s", f, (long long)off, r.d[i].kind, r.d[i].digest);
			}
		}
		assert_int_equal(pwrite(fd, &orig, 1, off), 1);
		close(fd);
	}
	assert_true(errors > 0);
	assert_true(answers > 0);
	tu_rmrf(root);
	free(root);
}

/* ---- indexes (storeindex.h): never read stale, never trusted ---- */

#define C_NEW "00000000000000000000000000000000000000000000000000000000000000a1"
#define C_NEW2 "00000000000000000000000000000000000000000000000000000000000000a2"

static void settle(void)
{
	/* Older than SW_STOREINDEX_SETTLE_MS: the next lookup indexes the files. */
	struct timespec ts = { 0, (SW_STOREINDEX_SETTLE_MS + 30) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The index file of a given kind in <state>/store-index ("" when none). */
static void index_of(const char *state, const char *kind, char *out, size_t n)
{
	char cmd[2 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "grep -l '^sigward-store-index 2 %s ' '%s'/store-index/* 2>/dev/null | head -1", kind, state);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	out[0] = '\0';
	if (fgets(out, (int)n, f))
		out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

static void expect_v1(const char *root)
{
	sw_resolution r;
	sw_error e;
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	assert_int_equal(r.n, 3);
	assert_true(has(&r, "sha256:" IMG_V1, "image-id"));
	assert_true(has(&r, MAN_V1, "manifest"));
	assert_false(has(&r, "sha256:" IMG_BASE, "image-id"));
}

static void test_index_follows_store(void **state)
{
	(void)state;
	char *root = copy_fixture();
	char *st = tu_tmpdir();
	sw_storeindex_set_dir(st);
	sw_resolution r;
	sw_error e;

	/* Fresh files are not indexed yet (their ctime is within a clock tick). */
	expect_v1(root);
	char idx[PATH_MAX];
	index_of(st, "cs-containers", idx, sizeof idx);
	assert_string_equal(idx, "");
	settle();
	expect_v1(root);   /* parses whole, writes the indexes */
	index_of(st, "cs-containers", idx, sizeof idx);
	assert_string_not_equal(idx, "");
	index_of(st, "cs-images", idx, sizeof idx);
	assert_string_not_equal(idx, "");
	index_of(st, "cs-layers", idx, sizeof idx);
	assert_string_not_equal(idx, "");
	expect_v1(root);   /* through the indexes */

	/* A container record replaced (as podman does: a new file, renamed over):
	 * c-v1 now runs the base image. The decision follows the store at once. */
	sh("cd '%s/overlay-containers' && python3 -c \"import json;c=json.load(open('containers.json'));"
	   "c[0]['image'],c[0]['layer']=c[1]['image'],c[1]['layer'];c[1]['layer']='%s';"
	   "json.dump(c,open('.tmp-c','w'),separators=(',',':'))\" && mv .tmp-c containers.json", root,
	   C_V1_LAYER);
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);
	assert_true(has(&r, "sha256:" IMG_BASE, "image-id"));
	assert_false(has(&r, "sha256:" IMG_V1, "image-id"));
	settle();
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);   /* re-indexed */
	assert_true(has(&r, "sha256:" IMG_BASE, "image-id"));
	assert_int_equal(resolve(root, C_V1, &r, &e), 1);   /* through the new index */
	assert_true(has(&r, "sha256:" IMG_BASE, "image-id"));

	/* And back, written in place this time (same inode): the stamp moved,
	 * so the index of the other version is not read. */
	sh("cat '%s/" CONTAINERS "' > '%s/" CONTAINERS "'", fixture, root);
	expect_v1(root);
	settle();
	expect_v1(root);
	expect_v1(root);

	/* Containers appended, as `podman create` does just before a start: the
	 * index of the earlier version answers for what it holds, the appended
	 * records are read and parsed; a second record of an indexed id among
	 * them is refused (the whole file is parsed, which refuses it). */
	settle();
	expect_v1(root);
	sh("cd '%s/overlay-containers' && python3 -c \"import json;c=json.load(open('containers.json'));"
	   "n=dict(c[0]);n['id']='%s';b=dict(c[1]);b['id']='%s';c+= [n,b];"
	   "json.dump(c,open('.tmp-c','w'),separators=(',',':'))\" && mv .tmp-c containers.json", root,
	   C_NEW, C_NEW2);
	expect_v1(root);
	assert_int_equal(resolve(root, C_NEW, &r, &e), 1);
	assert_true(has(&r, "sha256:" IMG_V1, "image-id"));
	assert_int_equal(resolve(root, C_NEW2, &r, &e), 1);
	assert_true(has(&r, "sha256:" IMG_BASE, "image-id"));
	assert_false(has(&r, "sha256:" IMG_V1, "image-id"));
	sh("cd '%s/overlay-containers' && python3 -c \"import json;c=json.load(open('containers.json'));"
	   "c.append(dict(c[1],id='%s'));"
	   "json.dump(c,open('.tmp-c','w'),separators=(',',':'))\" && mv .tmp-c containers.json", root, C_V1);
	assert_true(resolve(root, C_V1, &r, &e) < 0);
	assert_non_null(strstr(e.msg, "two records"));
	/* A record removed before the last one: the last record moved, so the
	 * earlier index is not used; the removed container is gone at once. */
	sh("cat '%s/" CONTAINERS "' > '%s/" CONTAINERS "'", fixture, root);
	settle();
	expect_v1(root);
	sh("cd '%s/overlay-containers' && python3 -c \"import json;c=json.load(open('containers.json'));"
	   "c=c[1:]+[dict(c[1],id='%s')];"
	   "json.dump(c,open('.tmp-c','w'),separators=(',',':'))\" && mv .tmp-c containers.json", root, C_NEW);
	assert_int_equal(resolve(root, C_V1, &r, &e), 0);
	assert_int_equal(resolve(root, C_NEW, &r, &e), 1);
	assert_true(has(&r, "sha256:" IMG_BASE, "image-id"));
	sh("cat '%s/" CONTAINERS "' > '%s/" CONTAINERS "'", fixture, root);
	expect_v1(root);
	settle();
	expect_v1(root);

	/* A tampered index: c-v1's entry pointing at c-base's record (same
	 * kind of span, another container). The record read there is not
	 * c-v1's, so the file is parsed whole again: still v1, never base. */
	index_of(st, "cs-containers", idx, sizeof idx);
	assert_string_not_equal(idx, "");
	sh("python3 - '%s' <<'PY'\n"
	   "import sys\n"
	   "p=sys.argv[1]; b=open(p,'rb').read(); h=b[:256]; L=b[256:].split(b'\\n')[:-1]\n"
	   "d={l[:64]:l[64:] for l in L}\n"
	   "d[b'" C_V1 "']=d[b'" C_BASE "']\n"
	   "open(p,'wb').write(h+b''.join(k+v+b'\\n' for k,v in sorted(d.items())))\n"
	   "PY", idx);
	expect_v1(root);
	/* Garbage, a cut file, a header naming another version: rebuilt. */
	sh("printf 'garbage' > '%s'", idx);
	expect_v1(root);
	expect_v1(root);
	sh("truncate -s 300 '%s'", idx);
	expect_v1(root);
	sh("sed -i '1s/^sigward-store-index 2 cs-containers [0-9]* [0-9]*/sigward-store-index 2 cs-containers 1 2/' '%s'", idx);
	expect_v1(root);
	/* The images index: v1's id pointing at the base image's record. */
	index_of(st, "cs-images", idx, sizeof idx);
	sh("python3 - '%s' <<'PY'\n"
	   "import sys\n"
	   "p=sys.argv[1]; b=open(p,'rb').read(); h=b[:256]; L=b[256:].split(b'\\n')[:-1]\n"
	   "d={l[:64]:l[64:] for l in L}\n"
	   "d[b'" IMG_V1 "']=d[b'" IMG_BASE "']\n"
	   "open(p,'wb').write(h+b''.join(k+v+b'\\n' for k,v in sorted(d.items())))\n"
	   "PY", idx);
	expect_v1(root);
	/* An index that leaves c-v1 out says "no such container": the start
	 * finds no digest (denied), never another container's. */
	settle();
	expect_v1(root);
	index_of(st, "cs-containers", idx, sizeof idx);
	sh("python3 - '%s' <<'PY'\n"
	   "import sys,re\n"
	   "p=sys.argv[1]; b=open(p,'rb').read(); h=b[:256]; L=[l for l in b[256:].split(b'\\n')[:-1] if not l.startswith(b'" C_V1 "')]\n"
	   "t=h.split(); t[10]=b'%%d' %% len(L); h=b' '.join(t).ljust(255)+b'\\n'\n"
	   "open(p,'wb').write(h+b''.join(l+b'\\n' for l in L))\n"
	   "PY", idx);
	int rc = resolve(root, C_V1, &r, &e);
	assert_true(rc == 0 || (rc == 1 && has(&r, "sha256:" IMG_V1, "image-id") && !has(&r, "sha256:" IMG_BASE, "image-id")));

	sw_storeindex_set_dir(NULL);
	tu_rmrf(st);
	tu_rmrf(root);
	free(st);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_found),
		cmocka_unit_test(test_lower_level),
		cmocka_unit_test(test_bigdata_name),
		cmocka_unit_test(test_bundle_is_container),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_no_image),
		cmocka_unit_test(test_synthetic_and_drivers),
		cmocka_unit_test(test_list_containers),
		cmocka_unit_test(test_malformed_containers),
		cmocka_unit_test(test_malformed_images),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_links_refused),
		cmocka_unit_test(test_tampered_items),
		cmocka_unit_test(test_config_not_image_id),
		cmocka_unit_test(test_image_record_missing),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_manifest_kinds),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_forged_config),
		cmocka_unit_test(test_config_over_other_layers),
		cmocka_unit_test(test_layer_chain),
		cmocka_unit_test(test_no_locks),
		cmocka_unit_test(test_busy_writer),
		cmocka_unit_test(test_nothing_added_on_error),
		cmocka_unit_test(test_random_flips),
		cmocka_unit_test(test_index_follows_store),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
