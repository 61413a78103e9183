/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ociimage: a minimal container image made on the spot, in the three forms the
 * runtimes import without a registry. Used by `sigward audit --negative-test`:
 * an image whose layer holds a random marker has a digest nobody can have
 * listed, so every wired runtime must refuse to start it.
 *
 * The image: one uncompressed layer holding one file, /sigward-audit-negative
 * (the marker text); a config for this machine's architecture (sw_oci_arch)
 * whose Cmd is that file; a manifest. Every byte is deterministic given the
 * marker: tar headers carry mtime 0, uid/gid 0.
 *
 * Written into an existing directory:
 *   layout/      an OCI image layout whose index.json names the manifest `tag`
 *                (podman pull oci:DIR/layout:TAG, skopeo, umoci)
 *   layout.tar   the same layout as one tar (ctr images import)
 *   docker.tar   a `docker save` archive tagged repo_tag (docker load)
 *
 * Fails with a message naming the file; files already written stay for the
 * caller to remove with the directory.
 */
#ifndef SW_OCIIMAGE_H
#define SW_OCIIMAGE_H

#include <stddef.h>

#include "error.h"
#include "util.h"

#define SW_OCIIMAGE_FILE "sigward-audit-negative"

typedef struct sw_ociimage {
	char manifest[SW_DIGEST_STR];   /* "sha256:<hex>" of the manifest */
	char config[SW_DIGEST_STR];     /* the image id */
	char layer[SW_DIGEST_STR];      /* also its diff id (uncompressed) */
	size_t manifest_len, config_len, layer_len;
} sw_ociimage;

/* tag: [a-z0-9._-]{1,64}; repo_tag: "name:tag" of [a-z0-9._/:-], at most 200
 * characters; marker: at most 4096 bytes. */
int sw_ociimage_write(const char *dir, const char *tag, const char *repo_tag, const char *marker,
		      sw_ociimage *img, sw_error *err);

/* This machine's architecture as OCI names it (GOARCH: amd64, arm64, ...). */
const char *sw_oci_arch(void);

/* One ustar record (header and data padded to 512 bytes) of a regular file
 * (mode 0644) or, with data NULL, a directory (0755; name ending in '/') appended
 * to *buf (grown with realloc). name: at most 99 bytes. */
int sw_tar_add(char **buf, size_t *len, const char *name, const void *data, size_t size, sw_error *err);
/* The two zero blocks that end an archive. */
int sw_tar_end(char **buf, size_t *len, sw_error *err);

#endif
