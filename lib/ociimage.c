/* SPDX-License-Identifier: Apache-2.0 */
#include "ociimage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define TAR_BLOCK 512
#define MARKER_MAX 4096

const char *sw_oci_arch(void)
{
	static const struct { const char *uname, *oci; } map[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" }, { "armv6l", "arm" },
		{ "i686", "386" }, { "i386", "386" }, { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" }, { "mips64", "mips64" },
	};
	static struct utsname u;
	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < SW_ARRAY_SIZE(map); i++)
		if (strcmp(u.machine, map[i].uname) == 0)
			return map[i].oci;
	return u.machine;
}

/* Room for add more (zeroed) bytes after *len; *len is left to the caller. */
static int grow(char **buf, size_t *len, size_t add, sw_error *err)
{
	char *p = realloc(*buf, *len + add);
	if (!p)
		return sw_err_errno(err, ENOMEM, "tar");
	memset(p + *len, 0, add);
	*buf = p;
	return 0;
}

int sw_tar_add(char **buf, size_t *len, const char *name, const void *data, size_t size, sw_error *err)
{
	size_t nl = strlen(name);
	if (nl == 0 || nl > 99)
		return sw_err(err, SW_EINVAL, "tar: name '%.120s' is empty or longer than 99 bytes", name);
	if (!data)
		size = 0;
	size_t padded = (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
	size_t at = *len;
	int r = grow(buf, len, TAR_BLOCK + padded, err);
	if (r < 0)
		return r;
	unsigned char *h = (unsigned char *)*buf + at;
	memcpy(h, name, nl);                                        /* name */
	snprintf((char *)h + 100, 8, "%07o", data ? 0644 : 0755);  /* mode */
	snprintf((char *)h + 108, 8, "%07o", 0);                   /* uid */
	snprintf((char *)h + 116, 8, "%07o", 0);                   /* gid */
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011o", 0);                 /* mtime */
	h[156] = data ? '0' : '5';                                  /* typeflag */
	memcpy(h + 257, "ustar", 6);                                /* magic, NUL */
	memcpy(h + 263, "00", 2);                                   /* version */
	memcpy(h + 265, "root", 4);                                 /* uname */
	memcpy(h + 297, "root", 4);                                 /* gname */
	/* The checksum is computed with its own field as eight spaces. */
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);                 /* then NUL, then ' ' */
	h[155] = ' ';
	if (size)
		memcpy(h + TAR_BLOCK, data, size);
	*len = at + TAR_BLOCK + padded;
	return 0;
}

int sw_tar_end(char **buf, size_t *len, sw_error *err)
{
	int r = grow(buf, len, 2 * TAR_BLOCK, err);
	if (r == 0)
		*len += 2 * TAR_BLOCK;
	return r;
}

static int write_file(const char *dir, const char *rel, const void *data, size_t len, sw_error *err)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
		return sw_err(err, SW_EINVAL, "%s/%s: path too long", dir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s", path);
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			return sw_err_errno(err, e, "%s", path);
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		return sw_err_errno(err, errno, "%s", path);
	return 0;
}

static int make_dir(const char *dir, const char *rel, sw_error *err)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
		return sw_err(err, SW_EINVAL, "%s/%s: path too long", dir, rel);
	if (mkdir(path, 0755) < 0)
		return sw_err_errno(err, errno, "%s", path);
	return 0;
}

static bool chars_ok(const char *s, const char *allowed, size_t max)
{
	size_t n = strlen(s);
	return n > 0 && n <= max && strspn(s, allowed) == n;
}

static void digest_of(const void *data, size_t len, char out[SW_DIGEST_STR])
{
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(data, len, hex);
	snprintf(out, SW_DIGEST_STR, "sha256:%s", hex);
}

int sw_ociimage_write(const char *dir, const char *tag, const char *repo_tag, const char *marker,
		      sw_ociimage *img, sw_error *err)
{
	/* Everything below goes into JSON and file names unescaped: only these. */
	if (!chars_ok(tag, "abcdefghijklmnopqrstuvwxyz0123456789._-", 64))
		return sw_err(err, SW_EINVAL, "image tag '%.80s': want 1-64 of [a-z0-9._-]", tag);
	if (!chars_ok(repo_tag, "abcdefghijklmnopqrstuvwxyz0123456789._/:-", 200) || !strchr(repo_tag, ':'))
		return sw_err(err, SW_EINVAL, "image reference '%.80s': want name:tag of [a-z0-9._/:-]", repo_tag);
	if (strlen(marker) > MARKER_MAX)
		return sw_err(err, SW_ETOOBIG, "image marker: more than %d bytes", MARKER_MAX);
	memset(img, 0, sizeof *img);
	_cleanup_free_ char *layer = NULL, *config = NULL, *manifest = NULL, *index = NULL, *dmanifest = NULL;
	_cleanup_free_ char *ltar = NULL, *dtar = NULL;
	size_t llen = 0, ltlen = 0, dtlen = 0;
	int r = sw_tar_add(&layer, &llen, SW_OCIIMAGE_FILE, marker, strlen(marker), err);
	if (r < 0 || (r = sw_tar_end(&layer, &llen, err)) < 0)
		return r;
	digest_of(layer, llen, img->layer);
	img->layer_len = llen;

	if (asprintf(&config,
		     "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/" SW_OCIIMAGE_FILE "\"]},"
		     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		     sw_oci_arch(), img->layer) < 0)
		return sw_err_errno(err, ENOMEM, "image config");
	digest_of(config, strlen(config), img->config);
	img->config_len = strlen(config);

	if (asprintf(&manifest,
		     "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		     "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		     "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}],"
		     "\"annotations\":{\"org.opencontainers.image.description\":"
		     "\"sigward audit: a throwaway image that no allowlist holds\"}}",
		     img->config, img->config_len, img->layer, img->layer_len) < 0)
		return sw_err_errno(err, ENOMEM, "image manifest");
	digest_of(manifest, strlen(manifest), img->manifest);
	img->manifest_len = strlen(manifest);

	if (asprintf(&index,
		     "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
		     "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
		     "\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
		     img->manifest, img->manifest_len, tag) < 0)
		return sw_err_errno(err, ENOMEM, "image index");
	static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

	/* The layout, as a directory and as one tar. */
	struct { const char *digest; const char *data; size_t len; } blobs[] = {
		{ img->layer, layer, llen },
		{ img->config, config, img->config_len },
		{ img->manifest, manifest, img->manifest_len },
	};
	if ((r = make_dir(dir, "layout", err)) < 0 || (r = make_dir(dir, "layout/blobs", err)) < 0 ||
	    (r = make_dir(dir, "layout/blobs/sha256", err)) < 0 ||
	    (r = write_file(dir, "layout/oci-layout", oci_layout, strlen(oci_layout), err)) < 0 ||
	    (r = write_file(dir, "layout/index.json", index, strlen(index), err)) < 0 ||
	    (r = sw_tar_add(&ltar, &ltlen, "oci-layout", oci_layout, strlen(oci_layout), err)) < 0 ||
	    (r = sw_tar_add(&ltar, &ltlen, "index.json", index, strlen(index), err)) < 0 ||
	    (r = sw_tar_add(&ltar, &ltlen, "blobs/", NULL, 0, err)) < 0 ||
	    (r = sw_tar_add(&ltar, &ltlen, "blobs/sha256/", NULL, 0, err)) < 0)
		return r;
	for (size_t i = 0; i < SW_ARRAY_SIZE(blobs); i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "blobs/sha256/%s", blobs[i].digest + 7);
		char lrel[160];
		snprintf(lrel, sizeof lrel, "layout/%s", rel);
		if ((r = write_file(dir, lrel, blobs[i].data, blobs[i].len, err)) < 0 ||
		    (r = sw_tar_add(&ltar, &ltlen, rel, blobs[i].data, blobs[i].len, err)) < 0)
			return r;
	}
	if ((r = sw_tar_end(&ltar, &ltlen, err)) < 0 || (r = write_file(dir, "layout.tar", ltar, ltlen, err)) < 0)
		return r;

	/* docker save's format: manifest.json naming the config and layer files. */
	char cfg_name[80], layer_dir[80], layer_name[96];
	snprintf(cfg_name, sizeof cfg_name, "%s.json", img->config + 7);
	snprintf(layer_dir, sizeof layer_dir, "%s/", img->layer + 7);
	snprintf(layer_name, sizeof layer_name, "%s/layer.tar", img->layer + 7);
	if (asprintf(&dmanifest, "[{\"Config\":\"%s\",\"RepoTags\":[\"%s\"],\"Layers\":[\"%s\"]}]", cfg_name, repo_tag,
		     layer_name) < 0)
		return sw_err_errno(err, ENOMEM, "docker archive manifest");
	if ((r = sw_tar_add(&dtar, &dtlen, "manifest.json", dmanifest, strlen(dmanifest), err)) < 0 ||
	    (r = sw_tar_add(&dtar, &dtlen, cfg_name, config, img->config_len, err)) < 0 ||
	    (r = sw_tar_add(&dtar, &dtlen, layer_dir, NULL, 0, err)) < 0 ||
	    (r = sw_tar_add(&dtar, &dtlen, layer_name, layer, llen, err)) < 0 ||
	    (r = sw_tar_end(&dtar, &dtlen, err)) < 0)
		return r;
	return write_file(dir, "docker.tar", dtar, dtlen, err);
}
