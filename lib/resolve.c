/* SPDX-License-Identifier: Apache-2.0 */
#include "resolve.h"

#include "ctrmeta.h"
#include "dockerstore.h"
#include "storage.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool is_digest(const char *d)
{
	return strlen(d) == 7 + SW_SHA256_HEX && memcmp(d, "sha256:", 7) == 0 &&
	       sw_is_hex64(d + 7, SW_SHA256_HEX);
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

/* Characters of a Docker/OCI image reference (name, :tag, @digest). */
static bool ref_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '/' || c == ':';
}

static bool is_ref_name(const char *s, size_t len)
{
	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
			  (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!ref_char(s[i]))
			return false;
	return true;
}

int sw_digest_from_value(const char *value, char out[SW_DIGEST_STR])
{
	if (!value)
		return -1;
	const char *at = strchr(value, '@');
	if (at) {
		if (!is_ref_name(value, (size_t)(at - value)))
			return -1;
		value = at + 1;
		/* Only the algorithm-qualified form after '@': "name@<hex>" is no
		 * reference syntax anyone writes. */
		if (strncmp(value, "sha256:", 7) != 0)
			return -1;
	}
	/* sw_digest_normalize takes exactly "sha256:<64 hex>" or 64 hex, lowercase:
	 * anything before or after (a second '@', a newline) fails. */
	return sw_digest_normalize(value, strlen(value), out) < 0 ? -1 : 0;
}

/* A value that tries to name a digest but is not one sigward reads: another
 * algorithm, uppercase hex, a broken "@" form. */
static bool names_digest(const char *v)
{
	static const char *const algs[] = { "sha256:", "sha384:", "sha512:", "blake3:" };
	if (strchr(v, '@'))
		return true;
	for (size_t i = 0; i < SW_ARRAY_SIZE(algs); i++)
		if (strncasecmp(v, algs[i], strlen(algs[i])) == 0)
			return true;
	size_t len = strlen(v);
	if (len != SW_SHA256_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') ||
		      (v[i] >= 'A' && v[i] <= 'F')))
			return false;
	return true;
}

static void set_reference(sw_resolution *r, const char *value)
{
	/* A cut reference would name another image in the log: keep none instead. */
	if (r->reference[0] || strlen(value) >= sizeof r->reference)
		return;
	snprintf(r->reference, sizeof r->reference, "%s", value);
}

int sw_resolve_annotations(const sw_config *c, const sw_bundle *b, sw_resolution *r, sw_error *err)
{
	unsigned n = c->n_annotations < SW_MAX_ANNOTATION_KEYS ? c->n_annotations : SW_MAX_ANNOTATION_KEYS;

	for (unsigned i = 0; i < n; i++) {
		const char *key = c->annotations[i];
		if (!key || !*key)
			continue;
		char source[SW_SOURCE_MAX];
		int sl = snprintf(source, sizeof source, "annotation:%s", key);
		if (sl < 0 || (size_t)sl >= sizeof source)
			return sw_err(err, SW_EINVAL, "annotation \"%.64s...\": key longer than %zu bytes",
				      key, sizeof source - sizeof "annotation:");
		sw_resolution_looked(r, source);

		const char *v = sw_bundle_annotation(b, key);
		if (!v)
			continue;
		char digest[SW_DIGEST_STR];
		if (sw_digest_from_value(v, digest) == 0) {
			bool has_ref = strchr(v, '@') != NULL;
			/* A bare 64-hex value is how containers/storage and CRI-O write
			 * an image id (CRI-O's ImageRef); repository digests always
			 * carry their algorithm, and "name@sha256:" may be a manifest or
			 * an index digest. */
			const char *kind = (!has_ref && strncmp(v, "sha256:", 7) != 0) ? "image-id" : "unknown";
			int rr = sw_resolution_add(r, digest, source, kind, err);
			if (rr < 0)
				return rr;
			if (has_ref)
				set_reference(r, v);
			continue;
		}
		/* The annotation claims an image by digest but not in a form we read:
		 * skipping it would let the remaining sources decide alone against a
		 * source that may well disagree with them. */
		if (names_digest(v))
			return sw_err(err, SW_EINVAL, "%s: \"%.100s\" is not a sha256 digest or digest reference",
				      source, v);
		/* A tag names no particular image: it cannot be checked, only logged. */
		if (is_ref_name(v, strlen(v)))
			set_reference(r, v);
	}
	return 0;
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

int sw_resolve(const sw_config *c, const sw_state *st, const sw_bundle *b,
	       sw_resolution *r, sw_error *err)
{
	*r = (sw_resolution){ 0 };

	int rc = sw_resolve_annotations(c, b, r, err);
	if (rc < 0)
		return rc;

	/* The image stores. Each answers 1 (digests added), 0 (does not know this
	 * container) or an error, which denies. They all run before the check below,
	 * so an annotation that contradicts a store is a conflict. */
	/* Container ids are unique per runtime only: ask containers/storage about
	 * a container only when its bundle is that store's. */
	if (c->containers_storage && st && st->id && st->bundle && sw_storage_bundle_is_container(st->bundle, st->id)) {
		rc = sw_storage_resolve(c->storage_root, st->id, r, err);
		if (rc < 0)
			return rc;
	}
	if ((c->containerd || c->docker) && st && st->bundle) {
		char ns[SW_CONTAINERD_NS_MAX + 1];
		rc = sw_containerd_bundle_namespace(st->bundle, st->id, ns, err);
		if (rc < 0)
			return rc;
		/* Docker's containers live in containerd's "moby" namespace without an
		 * image record there; Docker's own data root answers for them. */
		if (rc == 1 && strcmp(ns, "moby") == 0 && c->docker) {
			rc = sw_docker_resolve(c->docker_root, st->id, r, err);
			if (rc < 0)
				return rc;
		} else if (rc == 1 && strcmp(ns, "moby") != 0 && c->containerd) {
			rc = sw_containerd_resolve(c->containerd_root, ns, st->id, r, err);
			if (rc < 0)
				return rc;
		}
	}

	return sw_resolution_check(r, err);
}
