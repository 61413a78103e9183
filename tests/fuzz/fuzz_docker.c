/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The Docker data root reader (lib/dockerstore.c) on a synthetic data root: the
 * input is up to four parts separated by "\n%%%%\n":
 *   0  containers/<id>/config.v2.json
 *   1  the image config, stored as image/overlay2/imagedb/content/sha256/<its hex>
 *   2  image/overlay2/repositories.json
 *   3  image/overlay2/layerdb/mounts/<id>/parent
 * A missing part is a missing file. "@CID@" in parts 0 and 2 is replaced by the
 * container id (64 'c') and "@IMG@" by "sha256:" and the image config's digest, so
 * the fuzzer gets past the id and hash checks to the layer chain and the names.
 * The seeds are the unit-test fixture's files (tests/unit/data/docker, written by
 * dockerd). An answer must be all or nothing: on success the first digest added
 * is the image id, the config's own digest, and every other one is a repository
 * digest ("unknown"); on failure, one line and nothing added.
 */
#include "fuzz_util.h"

#include "dockerstore.h"
#include "json.h"
#include "util.h"

#define SEP "\n%%%%\n"
#define CID "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char root[PATH_MAX], cdir[PATH_MAX], store[PATH_MAX], content[PATH_MAX], mount[PATH_MAX];
static char last_image[SW_SHA256_HEX + 1];

static void mkdirs(const char *base, const char *rel, char *out)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", base);
	char r[PATH_MAX];
	snprintf(r, sizeof r, "%s", rel);
	for (char *save = NULL, *c = strtok_r(r, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		size_t l = strlen(p);
		snprintf(p + l, sizeof p - l, "/%s", c);
		fz_mkdir(p);
	}
	if (out)
		snprintf(out, PATH_MAX, "%s", p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(root, sizeof root, "%s/docker", fz_tmp());
	fz_mkdir(root);
	mkdirs(root, "containers/" CID, cdir);
	mkdirs(root, "image/overlay2", store);
	mkdirs(root, "image/overlay2/imagedb/content/sha256", content);
	mkdirs(root, "image/overlay2/layerdb/mounts/" CID, mount);
	return 0;
}

/* Copy src replacing "@CID@" and "@IMG@"; *out is malloc'ed. */
static size_t subst(const uint8_t *src, size_t n, const char *img, char **out)
{
	size_t cap = n * 15 + 1, o = 0; /* 5 bytes -> at most 71 */
	char *b = malloc(cap);
	if (!b)
		abort();
	for (size_t i = 0; i < n;) {
		if (n - i >= 5 && memcmp(src + i, "@CID@", 5) == 0) {
			memcpy(b + o, CID, 64);
			o += 64;
			i += 5;
		} else if (n - i >= 5 && memcmp(src + i, "@IMG@", 5) == 0) {
			memcpy(b + o, img, 71);
			o += 71;
			i += 5;
		} else {
			b[o++] = (char)src[i++];
		}
	}
	b[o] = '\0';
	*out = b;
	return o;
}

static void put(const char *dir, const char *name, const uint8_t *data, size_t n, const char *img, bool present)
{
	if (!present) {
		fz_unlink(dir, name);
		return;
	}
	char *t;
	size_t tl = subst(data, n, img, &t);
	fz_write(dir, name, t, tl);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[4] = { 0 };
	size_t plen[4] = { 0 };
	size_t np = fz_split(data, size, SEP, part, plen, 4);

	if (last_image[0])
		fz_unlink(content, last_image);
	last_image[0] = '\0';
	char img[SW_DIGEST_STR];
	if (np > 1) {
		sw_sha256_hex(part[1], plen[1], last_image);
		fz_write(content, last_image, part[1], plen[1]);
		snprintf(img, sizeof img, "sha256:%s", last_image);
	} else {
		snprintf(img, sizeof img, "sha256:%064d", 0);
	}
	put(cdir, "config.v2.json", part[0], plen[0], img, true);
	put(store, "repositories.json", np > 2 ? part[2] : NULL, np > 2 ? plen[2] : 0, img, np > 2);
	put(mount, "parent", np > 3 ? part[3] : NULL, np > 3 ? plen[3] : 0, img, np > 3);

	sw_resolution r = { 0 };
	sw_error e = { 0 };
	/* A digest from an earlier source stays; nothing half-added. */
	(void)sw_resolution_add(&r, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
				"annotation", "manifest", &e);
	size_t n0 = r.n;
	int rc = sw_docker_resolve(root, CID, &r, &e);
	fz_debug("resolve", rc, rc < 0 ? e.msg : r.n > n0 ? r.d[n0].digest : "");
	if (rc < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n') || r.n != n0)
			abort();
	} else if (rc == 0) {
		abort();   /* the container directory is always there */
	} else {
		/* chain of custody: the image id is the stored config's digest */
		if (r.n <= n0 || strcmp(r.d[n0].digest, img) != 0 || strcmp(r.d[n0].kind, "image-id") != 0 || np < 2)
			abort();
		for (size_t i = n0 + 1; i < r.n; i++)
			if (!sw_is_sha256_digest(r.d[i].digest, strlen(r.d[i].digest)) ||
			    strcmp(r.d[i].kind, "unknown") != 0 || strcmp(r.d[i].source, SW_DOCKER_SOURCE) != 0)
				abort();
		if (strlen(r.reference) >= sizeof r.reference)
			abort();
	}

	/* Ids that are not Docker's are never turned into a path. */
	if (sw_docker_resolve(root, "../" CID, &r, &e) != 0)
		abort();
	return 0;
}
