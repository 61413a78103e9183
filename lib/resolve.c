/* SPDX-License-Identifier: Apache-2.0 */
#include "resolve.h"

#include "ctrmeta.h"
#include "dockerstore.h"
#include "storage.h"
#include "storeindex.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

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

static int resolve_with(const sw_config *c, const char *id, const char *bundle_path,
			const sw_bundle *b, bool exhaustive, sw_resolution *r, sw_error *err);

int sw_resolve(const sw_config *c, const char *id, const char *bundle_path,
	       const sw_bundle *b, sw_resolution *r, sw_error *err)
{
	return resolve_with(c, id, bundle_path, b, false, r, err);
}

int sw_resolve_exhaustive(const sw_config *c, const char *id, const char *bundle_path,
			  const sw_bundle *b, sw_resolution *r, sw_error *err)
{
	return resolve_with(c, id, bundle_path, b, true, r, err);
}

static int resolve_with(const sw_config *c, const char *id, const char *bundle_path,
			const sw_bundle *b, bool exhaustive, sw_resolution *r, sw_error *err)
{
	sw_resolution_reset(r);
	r->exhaustive = exhaustive;
	/* Store files are read through their indexes in root-only state_dir
	 * (storeindex.h); without one, parsed whole. */
	sw_storeindex_set_dir(c->state_dir);

	int rc = sw_resolve_annotations(c, b, r, err);
	if (rc < 0)
		return rc;

	/* The image stores. Each answers 1 (digests added), 0 (does not know this
	 * container) or an error, which denies. They all run before the check below,
	 * so an annotation that contradicts a store is a conflict. */
	/* Container ids are unique per runtime only: ask containers/storage about
	 * a container only when its bundle is that store's. */
	if (c->containers_storage && id && bundle_path && sw_storage_bundle_is_container(bundle_path, id)) {
		rc = sw_storage_resolve(c->storage_root, id, r, err);
		if (rc < 0)
			return rc;
	}
	if ((c->containerd || c->docker) && id && bundle_path) {
		char ns[SW_CONTAINERD_NS_MAX + 1];
		rc = sw_containerd_bundle_namespace(bundle_path, id, ns, err);
		if (rc < 0)
			return rc;
		/* Docker's containers live in containerd's "moby" namespace without an
		 * image record there; Docker's own data root answers for them. */
		if (rc == 1 && strcmp(ns, "moby") == 0 && c->docker) {
			rc = sw_docker_resolve(c->docker_root, id, r, err);
			if (rc < 0)
				return rc;
		} else if (rc == 1 && strcmp(ns, "moby") != 0 && c->containerd) {
			rc = sw_containerd_resolve(c->containerd_root, ns, id, r, err);
			if (rc < 0)
				return rc;
		}
	}

	return sw_resolution_check(r, err);
}
