/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resolve: which image digests a container was started from, and from where.
 *
 * Every configured source contributes a set of digests with its name:
 *   annotation:<key>    a runtime annotation in config.json (CRI-O, containerd CRI),
 *                       when its value is "sha256:<hex>", bare 64-hex, or
 *                       "<ref>@sha256:<hex>"; a tag-only value contributes nothing
 *   containers-storage  (podman, CRI-O) image id + manifest digests, chain of custody checked
 *   docker              Docker data root: image id + repository digests
 *   containerd          containerd's metadata store
 * Sources must agree (sw_resolution_check, resolution.h).
 *
 * The stores (storage.h, dockerstore.h, containerd.h) fill a sw_resolution
 * (resolution.h) and know nothing of this file: resolve.c calls them, never the
 * reverse.
 */
#ifndef SW_RESOLVE_H
#define SW_RESOLVE_H

#include <stddef.h>

#include "config.h"
#include "error.h"
#include "oci.h"
#include "resolution.h"
#include "util.h"

/* Extract a digest from an annotation value: "sha256:<hex>", bare 64-hex, or
 * "<ref>@sha256:<hex>", all lowercase, nothing before or after; out receives
 * "sha256:<hex>". 0 ok, -1 when it carries none. */
int sw_digest_from_value(const char *value, char out[SW_DIGEST_STR]);

/* Add digests from the configured annotation keys, sources "annotation:<key>". A
 * tag-only reference contributes no digest but fills r->reference when empty. A
 * value that names a digest sigward cannot read ("x@sha512:..", "sha256:XYZ"):
 * SW_EINVAL, rather than letting the other sources decide alone. */
int sw_resolve_annotations(const sw_config *c, const sw_bundle *b, sw_resolution *r, sw_error *err);

/* Reset r, run every configured source for container_id, whose bundle is the
 * directory bundle_path with config.json b, then sw_resolution_check. The stores
 * are asked only when both container_id and bundle_path are given (they decide
 * from the bundle's path which store the container is in). */
int sw_resolve(const sw_config *c, const char *container_id, const char *bundle_path,
	       const sw_bundle *b, sw_resolution *r, sw_error *err);

/* The same with r->exhaustive set: no source answers from a subset (r->partial
 * stays false). For a start that sw_resolve's answer did not allow. */
int sw_resolve_exhaustive(const sw_config *c, const char *container_id, const char *bundle_path,
			  const sw_bundle *b, sw_resolution *r, sw_error *err);

#endif
