/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch: bring a signed allowlist from its source into a local directory.
 * Nothing here trusts what it downloads: the caller verifies (lib/install.c)
 * before anything is installed. Fetch only bounds, checks transport-level
 * digests and keeps polling cheap.
 *
 * Sources:
 *   file:///dir          the three files copied from a directory (config management)
 *   https://host/path/   GET path/manifest.sig with If-None-Match/If-Modified-Since;
 *                        a 304 means unchanged (a new manifest always comes with new
 *                        signatures), else GET manifest, entries and manifest.sig
 *   oci://host[:port]/repository:tag   (oci+http:// for a plain-HTTP registry)
 *                        the list as an OCI artifact: HEAD the manifest, an unchanged
 *                        digest means no download; else GET the manifest and the three
 *                        layers (named by org.opencontainers.image.title), each checked
 *                        against its digest. Anonymous, Basic, or Bearer token auth
 *                        with credentials "user:password" from [refresh] credentials.
 *                        Then, optionally, the list's evidence: an artifact of its own
 *                        (sw_fetch_evidence), so the list artifact keeps its 3 layers.
 *
 * Limits: every body is bounded by [refresh] max_size; connect and low-speed
 * timeouts come from [refresh] timeout; only https (or http for oci+http) and no
 * redirects to other protocols.
 *
 * Ownership: sw_fetch_state is a plain value the caller keeps between polls.
 */
#ifndef SW_FETCH_H
#define SW_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "util.h"

#define SW_ARTIFACT_CONFIG_TYPE "application/vnd.sigward.allowlist.config.v1+json"
#define SW_ARTIFACT_LAYER_TYPE "application/vnd.sigward.allowlist.file.v1"
#define SW_ARTIFACT_TYPE "application/vnd.sigward.allowlist.v1"

typedef struct sw_fetch_state {
	char etag[256];              /* https: of manifest.sig */
	char last_modified[64];
	char digest[80];             /* oci: manifest digest; file: sha256 over the three files */
	uint64_t requests;           /* HTTP requests made (for tests and metrics) */
	uint64_t bytes;              /* body bytes received */
} sw_fetch_state;

/* Fetch into dest_dir (an existing empty directory). prev is what the last
 * successful install saw; *changed is set false when the source reports no change
 * (nothing written). next receives the validators to keep once the fetched list was
 * installed: a failed install keeps prev, so the next poll downloads again. */
int sw_fetch(const sw_config *c, const char *dest_dir, const sw_fetch_state *prev, sw_fetch_state *next,
	     bool *changed, sw_error *err);

/* After sw_fetch changed dest_dir from an oci:// source: the list's evidence, an
 * artifact of its own tagged sha256-<hex of list_digest>.evidence (the list
 * manifest's digest), into dest_dir/evidence, bounded by max_size. 1 written
 * (its SHA-256 is the fetched list's anchor entry; sw_list_install verifies the
 * list), 0 none (not oci://, or no such artifact: 404), <0 dropped (err says
 * why; nothing written). Never a reason to refuse the list. */
int sw_fetch_evidence(const sw_config *c, const char *dest_dir, const char *list_digest, sw_error *err);

/* Upload a list directory as an OCI artifact (the producer side), its evidence
 * (when DIR has one) first, as the artifact sw_fetch_evidence reads. */
int sw_push(const sw_config *c, const char *src_dir, const char *url, char *digest_out, size_t n, sw_error *err);

/* ---- registry responses (parsed here; exposed for the fuzzers) ---- */

#define SW_TOKEN_MAX 1800

/* One file of the allowlist artifact as its OCI manifest lists it. */
typedef struct sw_oci_layer {
	int file;                    /* 0 manifest, 1 entries, 2 manifest.sig */
	char digest[SW_DIGEST_STR];  /* "sha256:<64 hex>" */
	uint64_t size;               /* <= max_size */
} sw_oci_layer;

/* The three layers of a sigward allowlist artifact's OCI manifest (json: the
 * response body, NUL-terminated at len), in manifest order: each titled
 * (org.opencontainers.image.title) manifest, entries or manifest.sig, once each,
 * with a sha256 digest and a size of at most max_size. `what` (the URL) names the
 * document in errors. */
int sw_oci_manifest_layers(const char *json, size_t len, const char *what, uint64_t max_size,
			   sw_oci_layer layers[3], sw_error *err);

/* The bearer token of a registry token response ({"token": ...} or
 * {"access_token": ...}; json NUL-terminated at len): at most SW_TOKEN_MAX bytes,
 * no line breaks. */
/* The token of a token service's answer ("token", else "access_token") and its
 * lifetime in seconds (expires_in: 60 when absent, clamped to 60..86400; NULL:
 * not wanted). */
int sw_registry_token(const char *json, size_t len, const char *what, char token[SW_TOKEN_MAX + 1],
		      int64_t *expires_in, sw_error *err);

/* ---- registry reads for other tools (lib/imagesig.c) ----
 * The transport of fetch (timeouts, CA file, client certificate, credentials
 * and the Basic/Bearer token flow from c's [refresh] keys) for plain GETs.
 * base: "https://host[:port]", or "http://" (a plain-HTTP registry). */
typedef struct sw_registry sw_registry;
int sw_registry_open(const sw_config *c, const char *base, sw_registry **out, sw_error *err);
/* GET base + path ("/v2/..."), Accept: accept (NULL: any), the body bounded by
 * max (more is SW_ETOOBIG). The status is the caller's to judge; *body is
 * malloc'd and NUL-terminated at *len. */
int sw_registry_get(sw_registry *r, const char *path, const char *accept, size_t max, long *status, char **body,
		    size_t *len, sw_error *err);
uint64_t sw_registry_requests(const sw_registry *r);
void sw_registry_close(sw_registry *r);

#endif
