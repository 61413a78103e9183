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
 * Sources must agree: two sources are linked when their sets share a digest, and
 * every source must be linked to every other through such links. Anything else
 * (two annotations naming different digests, an annotation contradicting storage)
 * is SW_ECONFLICT: the start is denied.
 *
 * Ownership: sw_resolution is a fixed-size value; nothing to free.
 */
#ifndef SW_RESOLVE_H
#define SW_RESOLVE_H

#include <stddef.h>

#include "config.h"
#include "error.h"
#include "oci.h"
#include "util.h"

#define SW_RESOLVE_MAX 32
#define SW_SOURCE_MAX 96

typedef struct sw_found {
	char digest[SW_DIGEST_STR];
	char source[SW_SOURCE_MAX];
	char kind[16];              /* "manifest", "image-id", "index", "unknown" */
} sw_found;

typedef struct sw_resolution {
	sw_found d[SW_RESOLVE_MAX];
	size_t n;
	char reference[512];        /* an image reference when a source named one ("" if none) */
	char looked_at[512];        /* sources consulted, ", "-separated, for the "no digest" error */
} sw_resolution;

/* Add one digest ("sha256:<64 lowercase hex>") from a source (deduplicated per
 * source). A malformed digest, a source name or kind that does not fit (a cut
 * name could merge two sources), or more than SW_RESOLVE_MAX entries: error. */
int sw_resolution_add(sw_resolution *r, const char *digest, const char *source,
		      const char *kind, sw_error *err);

/* Note that a source was consulted, whether or not it found anything. */
void sw_resolution_looked(sw_resolution *r, const char *source);

/* Extract a digest from an annotation value: "sha256:<hex>", bare 64-hex, or
 * "<ref>@sha256:<hex>", all lowercase, nothing before or after; out receives
 * "sha256:<hex>". 0 ok, -1 when it carries none. */
int sw_digest_from_value(const char *value, char out[SW_DIGEST_STR]);

/* Add digests from the configured annotation keys, sources "annotation:<key>". A
 * tag-only reference contributes no digest but fills r->reference when empty. A
 * value that names a digest sigward cannot read ("x@sha512:..", "sha256:XYZ"):
 * SW_EINVAL, rather than letting the other sources decide alone. */
int sw_resolve_annotations(const sw_config *c, const sw_bundle *b, sw_resolution *r, sw_error *err);

/* Reset r, run every configured source for this container, then sw_resolution_check. */
int sw_resolve(const sw_config *c, const sw_state *st, const sw_bundle *b,
	       sw_resolution *r, sw_error *err);

/* No digest: SW_ENOTFOUND. Disagreeing sources: SW_ECONFLICT. */
int sw_resolution_check(const sw_resolution *r, sw_error *err);

#endif
