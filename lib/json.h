/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: what sigward's yajl readers share.
 *
 * Two ways to read a document, both with yajl's strict defaults (no comments,
 * strings validated as UTF-8, no trailing garbage, one value only):
 *  - sw_json_events: the event parser, for readers that keep only what they
 *    need (bundle config.json, containers/storage records, Docker's files);
 *  - sw_json_tree: a tree, for small documents, after a scan that refuses what
 *    yajl_tree handles badly: raw NUL bytes and "\u0000" escapes (yajl_tree keeps
 *    C strings, so a string would be judged by its prefix where Go reads it
 *    whole) and nesting deeper than SW_JSON_MAX_DEPTH (yajl_tree_free recurses
 *    once per level: a document of '[' would overflow the stack).
 * Errors name the document (`what`) and, for invalid JSON, the byte offset.
 *
 * One way to write: sw_jsonbuf (in memory) and sw_json_* (to a FILE). Strings
 * always come out as valid JSON whatever their bytes: a byte that does not
 * start a valid UTF-8 sequence (RFC 3629: no overlong forms, surrogates or
 * code points above U+10FFFF) becomes U+FFFD, one per byte; '"', '\\' and
 * \b \f \n \r \t get their short escapes, the other control characters
 * \u00XX (uppercase hex); everything else, '/' and DEL included, is copied. That
 * is the byte-for-byte output of yajl_gen on cleaned strings, which the
 * decision log wrote before: its records render as they always did.
 * The caller writes the structure ('{', ',', ':' after sw_json*_key).
 */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "error.h"
#include "util.h"   /* sw_is_sha256_digest, once declared here */

#define SW_JSON_MAX_DEPTH 64

/* Run the event parser over json[0..len). A callback that stops the parse sets
 * *failed after filling err; its error is returned as it is. 0 or <0. */
int sw_json_events(const yajl_callbacks *cb, void *ctx, const bool *failed,
		   const char *json, size_t len, const char *what, sw_error *err);
/* The same, with the parser's handle stored in *handle for the callbacks to ask
 * yajl_get_bytes_consumed (where a value starts or ends: storeindex spans). */
int sw_json_events_h(const yajl_callbacks *cb, void *ctx, yajl_handle *handle, const bool *failed,
		     const char *json, size_t len, const char *what, sw_error *err);

/* Parse a NUL-terminated document (json[len] == '\0') into *out after the scan
 * above. 0, or <0 with *out NULL. Free with yajl_tree_free (or _cleanup_yajl_). */
int sw_json_tree(const char *json, size_t len, const char *what, yajl_val *out, sw_error *err);

/* The scan alone: 0 fine, -1 deeper than max_depth, -2 a NUL byte or "\u0000". */
int sw_json_prescan(const char *s, size_t len, unsigned max_depth);

/*
 * Does a JSON object key select `field` (lowercase ASCII) the way Go's
 * encoding/json selects a struct field? Go matches case-insensitively with
 * Unicode simple folding, so besides ASCII case, U+017F (long s) stands for 's'
 * and U+212A (Kelvin sign) for 'k'. A reader that missed those spellings would
 * let a file hide a field from sigward that podman or dockerd reads.
 */
bool sw_json_go_key_eq(const unsigned char *k, size_t len, const char *field);

/* ---- writing ---- */

/* The UTF-8 sequence at s[0..n) (n >= 1; RFC 3629, strict as above): its
 * length when valid, 0 when the n bytes are a valid start that needs more (for
 * readers of a stream), -1 when invalid. */
int sw_utf8_check(const unsigned char *s, size_t n);
/* Length of the valid UTF-8 sequence at s[0..n), or 0 (invalid or cut short). */
size_t sw_utf8_len(const unsigned char *s, size_t n);

/* A growing buffer, NUL-terminated once anything is in it. A failed allocation
 * sets `failed` and makes every later call a no-op: check it once at the end. */
typedef struct sw_jsonbuf {
	char *p;
	size_t len, cap;
	bool failed;
} sw_jsonbuf;

void sw_jsonbuf_raw(sw_jsonbuf *b, const char *s, size_t n);
/* A string literal, raw (structure: "{", ",\"k\":" ...). */
#define sw_jsonbuf_lit(b, lit) sw_jsonbuf_raw((b), "" lit "", sizeof(lit) - 1)
void sw_jsonbuf_str(sw_jsonbuf *b, const char *s);           /* NULL: null */
void sw_jsonbuf_strn(sw_jsonbuf *b, const char *s, size_t n); /* all n bytes */
void sw_jsonbuf_key(sw_jsonbuf *b, const char *k);            /* "k": */
void sw_jsonbuf_u64(sw_jsonbuf *b, uint64_t v);
void sw_jsonbuf_i64(sw_jsonbuf *b, int64_t v);
void sw_jsonbuf_null(sw_jsonbuf *b);
/* The same string cleaned of invalid UTF-8 (U+FFFD for each bad byte) but not
 * escaped: for writers that escape themselves (yajl_gen). */
void sw_jsonbuf_utf8(sw_jsonbuf *b, const char *s, size_t n);
void sw_jsonbuf_free(sw_jsonbuf *b);
#define _cleanup_jsonbuf_ __attribute__((cleanup(sw_jsonbuf_free)))

/* To a stdio stream (output checked by the caller through ferror/fclose). */
void sw_json_str(FILE *f, const char *s);                     /* NULL: null */
void sw_json_strn(FILE *f, const char *s, size_t n);
void sw_json_key(FILE *f, const char *k);                     /* "k": */
void sw_json_time(FILE *f, int64_t t);                        /* an RFC 3339 string */
void sw_json_null(FILE *f);

/* ---- cleanup ---- */
void sw_yajl_handle_freep(yajl_handle *h);
void sw_yajl_val_freep(yajl_val *v);
#define _cleanup_yajl_handle_ __attribute__((cleanup(sw_yajl_handle_freep)))
#define _cleanup_yajl_ __attribute__((cleanup(sw_yajl_val_freep)))

#endif
