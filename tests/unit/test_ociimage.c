/* SPDX-License-Identifier: Apache-2.0 */
/* ociimage: the throwaway image of `sigward audit --negative-test`. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "ociimage.h"
#include "util.h"

/* Walk a tar archive: every header's checksum must hold; the names, in order,
 * are joined with ',' into names; the data of `want` is copied into data. */
static void tar_walk(const char *buf, size_t len, char *names, size_t nlen, const char *want, char *data, size_t dlen)
{
	size_t off = 0;
	names[0] = '\0';
	data[0] = '\0';
	for (;;) {
		assert_true(off + 512 <= len);
		const unsigned char *h = (const unsigned char *)buf + off;
		bool zero = true;
		for (size_t i = 0; i < 512; i++)
			zero &= h[i] == 0;
		if (zero) {
			/* The end: two zero blocks, nothing after them. */
			assert_int_equal(off + 1024, len);
			for (size_t i = 512; i < 1024; i++)
				assert_int_equal(buf[off + i], 0);
			return;
		}
		unsigned sum = 0;
		for (size_t i = 0; i < 512; i++)
			sum += (i >= 148 && i < 156) ? ' ' : h[i];
		assert_int_equal(strtoul((const char *)h + 148, NULL, 8), sum);
		assert_memory_equal(h + 257, "ustar", 6);
		size_t size = strtoull((const char *)h + 124, NULL, 8);
		char name[101] = { 0 };
		memcpy(name, h, 100);
		assert_int_equal(h[156], name[strlen(name) - 1] == '/' ? '5' : '0');
		snprintf(names + strlen(names), nlen - strlen(names), "%s%s", names[0] ? "," : "", name);
		if (want && strcmp(name, want) == 0) {
			assert_true(size < dlen);
			memcpy(data, buf + off + 512, size);
			data[size] = '\0';
		}
		off += 512 + (size + 511) / 512 * 512;
	}
}

static char *read_rel(const char *dir, const char *rel, size_t *len)
{
	char *p = tu_path(dir, rel);
	char *d;
	sw_error e = { 0 };
	if (sw_read_file(p, 1 << 20, &d, len, &e) < 0)
		fail_msg("%s", e.msg);
	free(p);
	return d;
}

static void check_blob(const char *dir, const char *digest, size_t want_len)
{
	char rel[512], hex[SW_SHA256_HEX + 1];
	snprintf(rel, sizeof rel, "layout/blobs/sha256/%s", digest + 7);
	size_t len;
	char *d = read_rel(dir, rel, &len);
	sw_sha256_hex(d, len, hex);
	assert_string_equal(hex, digest + 7);
	assert_int_equal(len, want_len);
	free(d);
}

static void test_image_forms(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	sw_ociimage img;
	sw_error e = { 0 };
	if (sw_ociimage_write(dir, "neg-1a2b", "localhost/sigward-audit-negative:neg-1a2b", "marker 1a2b\n", &img, &e) < 0)
		fail_msg("%s", e.msg);
	/* The layout's blobs hash to their names, with the sizes the manifest gives. */
	check_blob(dir, img.layer, img.layer_len);
	check_blob(dir, img.config, img.config_len);
	check_blob(dir, img.manifest, img.manifest_len);
	size_t len;
	char *index = read_rel(dir, "layout/index.json", &len);
	yajl_val v = yajl_tree_parse(index, NULL, 0);
	assert_non_null(v);
	const char *dp[] = { "manifests", NULL };
	yajl_val m = yajl_tree_get(v, dp, yajl_t_array);
	assert_non_null(m);
	assert_int_equal(m->u.array.len, 1);
	const char *dg[] = { "digest", NULL }, *rn[] = { "annotations", "org.opencontainers.image.ref.name", NULL };
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(m->u.array.values[0], dg, yajl_t_string)), img.manifest);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(m->u.array.values[0], rn, yajl_t_string)), "neg-1a2b");
	yajl_tree_free(v);
	free(index);
	/* The manifest names the config and the layer; the config's diff id is the layer. */
	char rel[512];
	snprintf(rel, sizeof rel, "layout/blobs/sha256/%s", img.manifest + 7);
	char *man = read_rel(dir, rel, &len);
	v = yajl_tree_parse(man, NULL, 0);
	assert_non_null(v);
	const char *cd[] = { "config", "digest", NULL }, *ly[] = { "layers", NULL };
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(v, cd, yajl_t_string)), img.config);
	yajl_val layers = yajl_tree_get(v, ly, yajl_t_array);
	assert_int_equal(layers->u.array.len, 1);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(layers->u.array.values[0], dg, yajl_t_string)), img.layer);
	yajl_tree_free(v);
	free(man);
	snprintf(rel, sizeof rel, "layout/blobs/sha256/%s", img.config + 7);
	char *cfg = read_rel(dir, rel, &len);
	v = yajl_tree_parse(cfg, NULL, 0);
	const char *di[] = { "rootfs", "diff_ids", NULL }, *ar[] = { "architecture", NULL };
	yajl_val ids = yajl_tree_get(v, di, yajl_t_array);
	assert_string_equal(YAJL_GET_STRING(ids->u.array.values[0]), img.layer);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(v, ar, yajl_t_string)), sw_oci_arch());
	yajl_tree_free(v);
	free(cfg);

	/* The layer: one file holding the marker. */
	char names[1024], data[8192];
	snprintf(rel, sizeof rel, "layout/blobs/sha256/%s", img.layer + 7);
	char *layer = read_rel(dir, rel, &len);
	tar_walk(layer, len, names, sizeof names, SW_OCIIMAGE_FILE, data, sizeof data);
	assert_string_equal(names, SW_OCIIMAGE_FILE);
	assert_string_equal(data, "marker 1a2b\n");
	free(layer);

	/* layout.tar: the same files; docker.tar: manifest.json, config, layer. */
	char *lt = read_rel(dir, "layout.tar", &len);
	char want[1024];
	snprintf(want, sizeof want, "oci-layout,index.json,blobs/,blobs/sha256/,blobs/sha256/%s,blobs/sha256/%s,blobs/sha256/%s",
		 img.layer + 7, img.config + 7, img.manifest + 7);
	tar_walk(lt, len, names, sizeof names, NULL, data, sizeof data);
	assert_string_equal(names, want);
	free(lt);
	char *dt = read_rel(dir, "docker.tar", &len);
	tar_walk(dt, len, names, sizeof names, "manifest.json", data, sizeof data);
	snprintf(want, sizeof want, "manifest.json,%s.json,%s/,%s/layer.tar", img.config + 7, img.layer + 7, img.layer + 7);
	assert_string_equal(names, want);
	snprintf(want, sizeof want, "[{\"Config\":\"%s.json\",\"RepoTags\":[\"localhost/sigward-audit-negative:neg-1a2b\"],"
		 "\"Layers\":[\"%s/layer.tar\"]}]", img.config + 7, img.layer + 7);
	assert_string_equal(data, want);
	free(dt);

	/* GNU tar reads both archives the same way. */
	if (access("/bin/tar", X_OK) == 0) {
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "tar -xOf %s/docker.tar %s/layer.tar | tar -xOf - " SW_OCIIMAGE_FILE, dir,
			 img.layer + 7);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		size_t n = fread(data, 1, sizeof data - 1, p);
		data[n] = '\0';
		assert_int_equal(pclose(p), 0);
		assert_string_equal(data, "marker 1a2b\n");
	}

	/* The same marker makes the same image; another marker another one. */
	char *dir2 = tu_tmpdir();
	sw_ociimage img2;
	if (sw_ociimage_write(dir2, "neg-1a2b", "localhost/sigward-audit-negative:neg-1a2b", "marker 1a2b\n", &img2, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(img2.manifest, img.manifest);
	tu_rmrf(dir2);
	assert_int_equal(mkdir(dir2, 0700), 0);
	if (sw_ociimage_write(dir2, "neg-1a2b", "localhost/sigward-audit-negative:neg-1a2b", "marker 1a2c\n", &img2, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_not_equal(img2.manifest, img.manifest);
	assert_string_not_equal(img2.config, img.config);
	tu_rmrf(dir2);
	free(dir2);

	/* Existing files are never overwritten. */
	assert_true(sw_ociimage_write(dir, "neg-1a2b", "localhost/x:y", "m", &img2, &e) < 0);
	assert_non_null(strstr(e.msg, "/layout: File exists"));
	tu_rmrf(dir);
	free(dir);
}

static void test_refused_names(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	sw_ociimage img;
	sw_error e = { 0 };
	assert_true(sw_ociimage_write(dir, "Upper", "localhost/x:y", "m", &img, &e) < 0);
	assert_non_null(strstr(e.msg, "image tag 'Upper'"));
	assert_true(sw_ociimage_write(dir, "a\"b", "localhost/x:y", "m", &img, &e) < 0);
	assert_true(sw_ociimage_write(dir, "", "localhost/x:y", "m", &img, &e) < 0);
	assert_true(sw_ociimage_write(dir, "t", "localhost/x", "m", &img, &e) < 0);
	assert_non_null(strstr(e.msg, "want name:tag"));
	assert_true(sw_ociimage_write(dir, "t", "localhost/x\":y", "m", &img, &e) < 0);
	char big[5000];
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_true(sw_ociimage_write(dir, "t", "localhost/x:y", big, &img, &e) < 0);
	/* Nothing was written for a refused name. */
	char *p = tu_path(dir, "layout");
	assert_int_not_equal(access(p, F_OK), 0);
	free(p);
	char *buf = NULL;
	size_t len = 0;
	char name[101];
	memset(name, 'n', 100);
	name[100] = '\0';
	assert_true(sw_tar_add(&buf, &len, name, "x", 1, &e) < 0);
	assert_true(sw_tar_add(&buf, &len, "", "x", 1, &e) < 0);
	assert_int_equal(len, 0);
	free(buf);
	tu_rmrf(dir);
	free(dir);
}

static void test_arch(void **state)
{
	(void)state;
	const char *a = sw_oci_arch();
	assert_true(strlen(a) > 0);
#if defined(__x86_64__)
	assert_string_equal(a, "amd64");
#elif defined(__aarch64__)
	assert_string_equal(a, "arm64");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_forms),
		cmocka_unit_test(test_refused_names),
		cmocka_unit_test(test_arch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
