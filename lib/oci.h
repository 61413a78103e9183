/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci: the OCI runtime state (hook stdin) and the bundle's config.json, via yajl.
 *
 * Only the fields sigward needs are kept: state `id`, `bundle`, `pid`; config
 * `annotations` (string to string). Inputs are bounded (SW_STATE_MAX, SW_CONFIG_JSON_MAX);
 * a malformed document, a missing required field or a field of the wrong type is an
 * error naming the input ("state (stdin)", "BUNDLE/config.json") and the field.
 *
 * Stricter than the OCI readers on purpose, so that sigward and the runtime can never
 * read two different values from one document: duplicate keys among the fields
 * sigward reads (and among annotation keys), NUL bytes in strings, nesting deeper
 * than 64 levels and a top level that is not an object are errors.
 *
 * Ownership: sw_state and sw_bundle own their strings; free with the _free functions.
 * On failure the output struct is left zeroed (nothing to free).
 */
#ifndef SW_OCI_H
#define SW_OCI_H

#include <stddef.h>

#include "error.h"

#define SW_STATE_MAX (1024 * 1024)
#define SW_CONFIG_JSON_MAX (16 * 1024 * 1024)
#define SW_MAX_ANNOTATIONS 1024
#define SW_ID_MAX 1024
/* An annotation key is at most 317 bytes in Kubernetes; values are larger because
 * CRI-O copies every pod annotation (last-applied-configuration included) into
 * io.kubernetes.cri-o.Annotations, and Kubernetes caps all of them at 256 KiB. */
#define SW_ANNOTATION_KEY_MAX 4096
#define SW_ANNOTATION_VALUE_MAX (256 * 1024)

typedef struct sw_annotation {
	char *key;
	char *value;
} sw_annotation;

typedef struct sw_state {
	char *id;       /* required, non-empty, at most SW_ID_MAX bytes, no '/' or control chars */
	char *bundle;   /* required, absolute path */
	int pid;        /* 0 when absent */
} sw_state;

typedef struct sw_bundle {
	sw_annotation *annotations;
	size_t n_annotations;
} sw_bundle;

/* Parse a state document. `what` names it in errors (e.g. "state (stdin)"). */
int sw_state_parse(const char *json, size_t len, const char *what, sw_state *st, sw_error *err);
void sw_state_free(sw_state *st);

/* Parse config.json text. */
int sw_bundle_parse(const char *json, size_t len, const char *what, sw_bundle *b, sw_error *err);
/* Open BUNDLE_DIR/config.json (no symlink, regular file, bounded) and parse it.
 * bundle_dirfd is an open directory fd for the bundle. */
int sw_bundle_load(int bundle_dirfd, const char *bundle_path, sw_bundle *b, sw_error *err);
void sw_bundle_free(sw_bundle *b);

/* Value of an annotation or NULL. */
const char *sw_bundle_annotation(const sw_bundle *b, const char *key);

/* Container ids come from runtimes; still, an id is used in file names and log
 * lines, so it must be printable ASCII without space or '/', not "." or "..", at
 * most SW_ID_MAX bytes. Errors read "<what>: <problem>". */
int sw_check_id(const char *id, const char *what, sw_error *err);

#endif
