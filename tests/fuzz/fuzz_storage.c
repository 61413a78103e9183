/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The containers/storage readers (lib/storage.c) on a synthetic store: the input
 * is up to five parts separated by "\n%%%%\n":
 *   0  overlay-containers/containers.json
 *   1  overlay-images/images.json
 *   2  the image's manifest big-data item (stored as "manifest" and
 *      "manifest-<its digest>")
 *   3  the image's config item ("sha256:<id>", id = its SHA-256)
 *   4  overlay-layers/layers.json (the layer chain checked against the config)
 * "@ID@" in parts 0-2 and 4 is replaced by the config's hex digest and "@MAN@" in
 * parts 0-1 and 4 by the manifest's digest, so the fuzzer can reach the
 * cross-file checks without guessing hashes. The container looked up is 64 'c'.
 */
#include "fuzz_util.h"

#include "storage.h"

#define SEP "\n%%%%\n"
#define CID "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char root[PATH_MAX], cdir[PATH_MAX], idir[PATH_MAX], ldir[PATH_MAX], item[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(root, sizeof root, "%s/storage", fz_tmp());
	snprintf(cdir, sizeof cdir, "%s/overlay-containers", root);
	snprintf(idir, sizeof idir, "%s/overlay-images", root);
	snprintf(ldir, sizeof ldir, "%s/overlay-layers", root);
	fz_mkdir(root);
	fz_mkdir(cdir);
	fz_mkdir(idir);
	fz_mkdir(ldir);
	return 0;
}

/* Copy src replacing each placeholder; *out is malloc'ed. */
static size_t subst(const uint8_t *src, size_t n, const char *id, const char *man, char **out)
{
	size_t cap = n * 18 + 1, o = 0; /* "@ID@" (4) -> 64, "@MAN@" (5) -> 71 */
	char *b = malloc(cap);
	if (!b)
		abort();
	for (size_t i = 0; i < n;) {
		if (id && n - i >= 4 && memcmp(src + i, "@ID@", 4) == 0) {
			memcpy(b + o, id, 64);
			o += 64;
			i += 4;
		} else if (man && n - i >= 5 && memcmp(src + i, "@MAN@", 5) == 0) {
			memcpy(b + o, man, 71);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[5] = { 0 };
	size_t plen[5] = { 0 };
	size_t np = fz_split(data, size, SEP, part, plen, 5);

	/* Config first: it fixes the image id. */
	const uint8_t *cfg = np > 3 ? part[3] : (const uint8_t *)"{}";
	size_t cfg_len = np > 3 ? plen[3] : 2;
	char id[SW_SHA256_HEX + 1], man[SW_DIGEST_STR], key[SW_DIGEST_STR + 16], name[NAME_MAX + 1];
	sw_sha256_hex(cfg, cfg_len, id);

	fz_rmrf(item);
	snprintf(item, sizeof item, "%s/%s", idir, id);
	fz_mkdir(item);
	snprintf(key, sizeof key, "sha256:%s", id);
	if (sw_storage_bigdata_name(key, name) < 0)
		abort();
	fz_write(item, name, cfg, cfg_len);

	char *mtext = NULL;
	size_t mlen = np > 2 ? subst(part[2], plen[2], id, NULL, &mtext) : 0;
	if (np > 2) {
		sw_sha256_hex(mtext, mlen, man + 7);
		memcpy(man, "sha256:", 7);
		fz_write(item, "manifest", mtext, mlen);
		snprintf(key, sizeof key, "manifest-%s", man);
		if (sw_storage_bigdata_name(key, name) < 0)
			abort();
		fz_write(item, name, mtext, mlen);
	} else {
		snprintf(man, sizeof man, "sha256:%064d", 0);
	}
	free(mtext);

	for (int i = 0; i < 5; i++) {
		if (i == 2 || i == 3)
			continue;
		const char *file = i == 0 ? "containers.json" : i == 1 ? "images.json" : "layers.json";
		const char *dir = i == 0 ? cdir : i == 1 ? idir : ldir;
		if ((size_t)i < np) {
			char *t;
			size_t tl = subst(part[i], plen[i], id, man, &t);
			fz_write(dir, file, t, tl);
			free(t);
		} else {
			fz_unlink(dir, file);
		}
	}

	sw_error e = { 0 };
	sw_resolution r = { 0 };
	int rc = sw_storage_resolve(root, CID, &r, &e);
	fz_debug("resolve", rc, rc < 0 ? e.msg : r.n ? r.d[r.n - 1].digest : "");
	if (rc < 0 && (!e.msg[0] || strchr(e.msg, '\n') || r.n != 0))
		abort(); /* an error names the file in one line and adds nothing */
	if (rc == 1)
		for (size_t i = 0; i < r.n; i++)
			if (strlen(r.d[i].digest) != 71)
				abort();

	sw_storage_image img;
	rc = sw_storage_image_digests(root, id, &img, &e);
	fz_debug("image_digests", rc, rc < 0 ? e.msg : "");
	if (rc == 1 && (img.n == 0 || img.n > SW_STORAGE_MAX_DIGESTS || strcmp(img.id, id) != 0))
		abort();

	char driver[SW_STORAGE_DRIVER_MAX], image_id[SW_SHA256_HEX + 1];
	(void)sw_storage_container_image(root, CID, driver, image_id, &e);

	/* The two pure helpers, on a prefix of the input as a string. */
	char s[600];
	size_t sl = size < sizeof s - 1 ? size : sizeof s - 1;
	memcpy(s, data, sl);
	s[sl] = '\0';
	(void)sw_storage_bundle_is_container(s, CID);
	if (sw_storage_bigdata_name(s, name) == 0 &&
	    (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
		abort();
	return 0;
}
