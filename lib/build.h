/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build: write an allowlist (manifest + entries) from input lines, for
 * `sigward allowlist build`. A tool: the hook and the wrapper never link it.
 *
 * Ownership: entries are the caller's (sw_build_entries_free); sw_build_write
 * sorts and deduplicates them in place.
 * Failure: negative return and err naming the input line or the output file.
 */
#ifndef SW_BUILD_H
#define SW_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "allowlist.h"
#include "error.h"

typedef struct sw_build_entry {
	char digest[SW_DIGEST_STR];
	char *ref;                  /* may be NULL */
	sw_entry_kind kind;         /* SW_ENTRY_MANIFEST or SW_ENTRY_IMAGE_ID */
	char *what;                 /* "FILE:LINE" of the input, for errors; may be NULL */
} sw_build_entry;

typedef struct sw_build_opts {
	const char *scope;
	uint64_t serial;
	int64_t issued, expires;
	uint32_t bins;              /* 0 = choose from the entry count */
	unsigned format;            /* 0 = SW_LIST_FORMAT; 1 writes untyped entries */
	/* The evidence file to write beside the entries (format 2 only), whose
	 * anchor entry sw_build_evidence_entry added; NULL: none, and an old one
	 * in out_dir is removed (it would describe another list). */
	const char *evidence;
	size_t evidence_len;
} sw_build_opts;

/* Parse input lines ("[<kind> ]sha256:<hex>", "[<kind> ]<ref>@sha256:<hex>",
 * where <kind> is "manifest" (the default) or "image-id"; "#..." comments,
 * blanks) appending to *entries. `what` names the input in errors
 * ("FILE:LINE: ..."). */
int sw_build_parse_input(const char *text, size_t len, const char *what,
			 sw_build_entry **entries, size_t *n, size_t *cap, sw_error *err);
/* Sort, deduplicate, write manifest + entries into out_dir (created if missing;
 * an existing manifest.sig is removed because it no longer matches). A digest
 * given both as a manifest and as an image id is refused (format 2): one blob
 * cannot be both, and one that claims to be is the forgery kinds keep out. */
int sw_build_write(sw_build_entry *entries, size_t n, const sw_build_opts *o,
		   const char *out_dir, sw_error *err);
/* Append the evidence file's anchor: an image-id entry of the file's SHA-256
 * with reference SW_EVIDENCE_REF. The list's signature covers the entries, so
 * it covers the evidence; a format 2 reader takes the anchor for one more
 * image id, which no image has (the file is not an image config). */
int sw_build_evidence_entry(const char *evidence, size_t len, sw_build_entry **entries, size_t *n, size_t *cap,
			    sw_error *err);
void sw_build_entries_free(sw_build_entry *entries, size_t n);

#endif
