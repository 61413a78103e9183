/* SPDX-License-Identifier: Apache-2.0 */
#include "resolution.h"

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

static bool is_digest(const char *d)
{
	return sw_is_sha256_digest(d, strlen(d));
}

int sw_resolution_add(sw_resolution *r, const char *digest, const char *source,
		      const char *kind, sw_error *err)
{
	if (!kind)
		kind = "unknown";
	if (!source || !*source)
		return sw_err(err, SW_EINVAL, "image source without a name");
	/* A cut name could make two sources one, and one source cannot disagree
	 * with itself: refuse rather than truncate. */
	if (strlen(source) >= SW_SOURCE_MAX)
		return sw_err(err, SW_EINVAL, "image source \"%.64s...\": name longer than %d bytes",
			      source, SW_SOURCE_MAX - 1);
	if (strlen(kind) >= sizeof r->d[0].kind)
		return sw_err(err, SW_EINVAL, "%s: digest kind \"%.32s\" too long", source, kind);
	if (!digest || !is_digest(digest))
		return sw_err(err, SW_EINVAL, "%s: \"%.80s\" is not a sha256 digest", source,
			      digest ? digest : "(null)");

	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->d[i].digest, digest) == 0 && strcmp(r->d[i].source, source) == 0)
			return 0;
	if (r->n >= SW_RESOLVE_MAX)
		return sw_err(err, SW_ETOOBIG, "%s: more than %d image digests from all sources",
			      source, SW_RESOLVE_MAX);
	sw_found *f = &r->d[r->n++];
	snprintf(f->digest, sizeof f->digest, "%s", digest);
	snprintf(f->source, sizeof f->source, "%s", source);
	snprintf(f->kind, sizeof f->kind, "%s", kind);
	return 0;
}

void sw_resolution_looked(sw_resolution *r, const char *source)
{
	size_t have = strnlen(r->looked_at, sizeof r->looked_at);
	size_t need = (have ? 2 : 0) + strlen(source);
	/* Already cut: the list says so at its end. */
	if (have >= 3 && strcmp(r->looked_at + have - 3, "...") == 0)
		return;
	/* Keep room for ", ..." so that a long list says it was cut. */
	if (have + need + sizeof ", ..." > sizeof r->looked_at) {
		snprintf(r->looked_at + have, sizeof r->looked_at - have, "%s", have ? ", ..." : "...");
		return;
	}
	snprintf(r->looked_at + have, sizeof r->looked_at - have, "%s%s", have ? ", " : "", source);
}

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x)
		x = parent[x] = parent[parent[x]];
	return x;
}

int sw_resolution_check(const sw_resolution *r, sw_error *err)
{
	if (r->n == 0)
		return sw_err(err, SW_ENOTFOUND, "no image digest found (looked at: %s)",
			      r->looked_at[0] ? r->looked_at : "no source configured");
	if (r->n > SW_RESOLVE_MAX)
		return sw_err(err, SW_EINVAL, "image resolution holds %zu digests, more than %d",
			      r->n, (int)SW_RESOLVE_MAX);

	/* Sources, each with the first of its digests (for the message). */
	size_t src_of[SW_RESOLVE_MAX] = { 0 }, first[SW_RESOLVE_MAX] = { 0 }, parent[SW_RESOLVE_MAX] = { 0 };
	size_t ns = 0;
	for (size_t i = 0; i < r->n; i++) {
		size_t s = 0;
		while (s < ns && strcmp(r->d[first[s]].source, r->d[i].source) != 0)
			s++;
		if (s == ns) {
			first[ns] = i;
			parent[ns] = ns;
			ns++;
		}
		src_of[i] = s;
	}

	/* Two sources are linked when they share a digest; the sources must form
	 * one connected group. A bridge is fine (storage knows both the image id
	 * and the manifest digest, each annotation one of them); two annotations
	 * that share nothing mean the workload, or a runtime, lies somewhere. */
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = i + 1; j < r->n; j++)
			if (strcmp(r->d[i].digest, r->d[j].digest) == 0) {
				size_t a = uf_find(parent, src_of[i]), b = uf_find(parent, src_of[j]);
				if (a != b)
					parent[b] = a;
			}
	size_t root = uf_find(parent, 0);
	for (size_t s = 1; s < ns; s++)
		if (uf_find(parent, s) != root)
			return sw_err(err, SW_ECONFLICT,
				      "image sources disagree: %s says %s, %s says %s (no digest in common)",
				      r->d[first[0]].source, r->d[first[0]].digest,
				      r->d[first[s]].source, r->d[first[s]].digest);
	return 0;
}

void sw_resolution_reset(sw_resolution *r)
{
	memset(r, 0, offsetof(sw_resolution, d));
}
