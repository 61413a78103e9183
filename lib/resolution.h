/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resolution: the digests the image sources found for one container, each with
 * the source that found it and its kind, and the check that the sources agree.
 *
 * The value every source fills: resolve.c (annotations, and the dispatch to the
 * stores) and each store reader (storage.c, dockerstore.c, containerd.c) add to
 * it; nothing here knows any source, so the stores depend on this module and
 * resolve.c on the stores, without a cycle.
 *
 * Sources must agree: two sources are linked when their sets share a digest, and
 * every source must be linked to every other through such links. Anything else
 * (two annotations naming different digests, an annotation contradicting storage)
 * is SW_ECONFLICT: the start is denied.
 *
 * Ownership: sw_resolution is a fixed-size value; nothing to free.
 */
#ifndef SW_RESOLUTION_H
#define SW_RESOLUTION_H

#include <stddef.h>

#include "error.h"
#include "util.h"

#define SW_RESOLVE_MAX 32
#define SW_SOURCE_MAX 96

typedef struct sw_found {
	char digest[SW_DIGEST_STR];
	char source[SW_SOURCE_MAX];
	char kind[16];              /* "manifest", "image-id", "index", "unknown" */
} sw_found;

typedef struct sw_resolution {
	size_t n;
	char reference[512];        /* an image reference when a source named one ("" if none) */
	char looked_at[512];        /* sources consulted, ", "-separated, for the "no digest" error */
	/* A source answered from the fewest records that name the image (a subset
	 * of what it knows, never a digest it would not report): a start that is
	 * not allowed on it is decided again with `exhaustive` (enforce.c). */
	bool partial;
	bool exhaustive;            /* input: every source reports all it knows */
	sw_found d[SW_RESOLVE_MAX]; /* last: only d[0..n) is ever read */
} sw_resolution;

/* Empty r: everything before d[] zeroed. d[] (6 KB) is written entry by entry
 * and read only up to n, so it is not cleared: clearing it touched pages of the
 * hook's stack on every start (bench/PROFILE.md). */
void sw_resolution_reset(sw_resolution *r);

/* Add one digest ("sha256:<64 lowercase hex>") from a source (deduplicated per
 * source). A malformed digest, a source name or kind that does not fit (a cut
 * name could merge two sources), or more than SW_RESOLVE_MAX entries: error. */
int sw_resolution_add(sw_resolution *r, const char *digest, const char *source,
		      const char *kind, sw_error *err);

/* Note that a source was consulted, whether or not it found anything. */
void sw_resolution_looked(sw_resolution *r, const char *source);

/* No digest: SW_ENOTFOUND. Disagreeing sources: SW_ECONFLICT. */
int sw_resolution_check(const sw_resolution *r, sw_error *err);

#endif
