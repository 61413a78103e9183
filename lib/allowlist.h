/* SPDX-License-Identifier: Apache-2.0 */
/*
 * allowlist: the signed allowlist, format v1 (docs/allowlist-format.md).
 *
 * A list is three files in one directory:
 *   manifest      small signed text: version, scope, serial, issued, expires, entry
 *                 count, number of bins, and per bin: offset, length, count, SHA-256
 *   entries       sorted lines "sha256:<hex>[ <reference>]\n", bin after bin; an
 *                 entry's bin is the top log2(bins) bits of its digest
 *   manifest.sig  one base64 signature of the manifest bytes per line
 *
 * Verification (sw_list_verify): at least `threshold` valid signatures by distinct
 * trusted keys; scope equal to the node's; now < expires + grace; serial not lower
 * than the highest accepted before for that scope (sw_serial_*). Lookup
 * (sw_list_lookup) hashes only the digest's bin, compares it with the manifest, and
 * binary-searches it. Nothing here trusts the entries file beyond the bin hashes.
 *
 * Installed generations: <lists_dir>/current is a symlink to a generation directory;
 * sw_list_open_current opens it once as a directory fd and every later read is
 * openat() on that fd, so a concurrent switch can never mix two generations.
 *
 * Ownership: sw_list owns its buffers and fds; sw_list_close releases them.
 */
#ifndef SW_ALLOWLIST_H
#define SW_ALLOWLIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "error.h"
#include "keys.h"
#include "util.h"

#define SW_LIST_FORMAT 1
#define SW_MANIFEST_NAME "manifest"
#define SW_ENTRIES_NAME "entries"
#define SW_SIGS_NAME "manifest.sig"
#define SW_MANIFEST_MAX (8 * 1024 * 1024)
#define SW_SIGS_MAX (256 * 1024)
#define SW_MAX_SIGS 64
#define SW_MAX_BINS 65536
#define SW_SCOPE_MAX 64
#define SW_REF_MAX 512
#define SW_ENTRY_LINE_MAX (7 + SW_SHA256_HEX + 1 + SW_REF_MAX + 1)
#define SW_ENTRIES_MAX ((uint64_t)1 << 36)

typedef struct sw_bin {
	uint64_t offset, length, count;
	unsigned char sha256[SW_SHA256_LEN];
} sw_bin;

typedef struct sw_list {
	int dirfd;                  /* the generation directory, -1 when closed */
	char *path;                 /* for messages: ".../current" or the directory given */
	/* manifest */
	char *manifest;             /* raw bytes (what is signed) */
	size_t manifest_len;
	unsigned char manifest_sha256[SW_SHA256_LEN];
	unsigned format;
	char scope[SW_SCOPE_MAX + 1];
	uint64_t serial;
	int64_t issued, expires;
	uint64_t n_entries;
	uint32_t n_bins, bin_bits;
	sw_bin *bins;               /* every bin, or NULL when opened with sw_list_open_current_lazy */
	const char *bins_text;      /* lazy: the bin lines inside `manifest`, parsed on lookup */
	size_t bins_text_len;
	/* after sw_list_verify */
	char signers[SW_MAX_KEYS][SW_KEYID_HEX];
	size_t n_signers;
	bool from_cache;            /* signatures taken from the verification cache */
	/* A lazy open (enforcement) pins the generation: the signature file is read
	 * and the entries file opened with the manifest, so a generation that later
	 * refreshes prune while a start still holds it reads whole. */
	bool pinned;
	char *sigs;                 /* pinned: the signature file, NULL if it is missing */
	size_t sigs_len;
	int entries_fd;             /* pinned: the entries file, -1 if it is missing */
} sw_list;

typedef struct sw_verify_opts {
	const char *scope;          /* required */
	unsigned threshold;         /* >= 1 */
	int64_t now, grace;
	const char *keys_dir;
	const char *state_dir;      /* serial state + verification cache; NULL: neither */
	bool use_cache;             /* read (and, with update_state, write) the cache */
	bool update_state;          /* record a higher serial / write the cache (hook) */
	/* The highest serial accepted for the scope, read before `current` was opened
	 * (enforcement path). Compared instead of reading the state again: `current`
	 * only moves forward, so a list opened after that read is never older unless
	 * it was rolled back, while a start that races a refresh's switch (another
	 * start accepted the newer list between this one's open and its check) is not
	 * mistaken for a rollback. NULL: read the state during the check. */
	const uint64_t *accepted;
} sw_verify_opts;

/* Open <lists_dir>/current. */
int sw_list_open_current(const char *lists_dir, sw_list *l, sw_error *err);
/* The same for the enforcement path: the header is parsed strictly, but of the bin
 * lines only those a lookup needs (the digest's bin and the last one) are parsed,
 * when needed. The manifest is still hashed whole (its signature covers it); only
 * the structural checks across all bins (order, contiguity, counts) are left to
 * `sigward allowlist install` and `verify`, which parse everything. Per start this
 * saves parsing ~1 000 lines for a list of 1 000 000 entries. */
int sw_list_open_current_lazy(const char *lists_dir, sw_list *l, sw_error *err);
/* Open a list directory given by path (CLI, daemon staging). */
int sw_list_open_dir(const char *dir, sw_list *l, sw_error *err);
/* Open from an already open directory fd (takes ownership of dirfd). */
int sw_list_open_fd(int dirfd, const char *path, sw_list *l, sw_error *err);
void sw_list_close(sw_list *l);

/* Parse manifest text (no I/O). */
int sw_manifest_parse(const char *text, size_t len, const char *what, sw_list *l, sw_error *err);

/* Full check: signatures/threshold, scope, expiry, serial. */
int sw_list_verify(sw_list *l, const sw_verify_opts *o, sw_error *err);
/* Signatures only (fills signers). Returns the number of valid distinct signers
 * (>= 0) or <0 on error. keyring must be loaded with sw_keyring_load. */
int sw_list_count_signers(sw_list *l, const sw_keyring *kr, sw_error *err);

/* 1 found (ref copied to ref_out when non-NULL), 0 not found, <0 error. */
int sw_list_lookup(const sw_list *l, const char *digest /* sha256:<hex> */,
		   char *ref_out, size_t ref_out_len, sw_error *err);

/* Highest accepted serial per scope, in <state_dir>/serials (lines "scope serial"). */
int sw_serial_get(const char *state_dir, const char *scope, uint64_t *serial, sw_error *err);
int sw_serial_raise(const char *state_dir, const char *scope, uint64_t serial, sw_error *err);

/* ---- building (CLI) ---- */
typedef struct sw_build_entry {
	char digest[SW_DIGEST_STR];
	char *ref;                  /* may be NULL */
} sw_build_entry;

typedef struct sw_build_opts {
	const char *scope;
	uint64_t serial;
	int64_t issued, expires;
	uint32_t bins;              /* 0 = choose from the entry count */
} sw_build_opts;

/* Parse input lines ("sha256:<hex>", "<ref>@sha256:<hex>", "#..." comments, blanks)
 * appending to *entries. `what` names the input in errors ("FILE:LINE: ..."). */
int sw_build_parse_input(const char *text, size_t len, const char *what,
			 sw_build_entry **entries, size_t *n, size_t *cap, sw_error *err);
/* Sort, deduplicate, write manifest + entries into out_dir (created if missing;
 * an existing manifest.sig is removed because it no longer matches). */
int sw_build_write(sw_build_entry *entries, size_t n, const sw_build_opts *o,
		   const char *out_dir, sw_error *err);
void sw_build_entries_free(sw_build_entry *entries, size_t n);

#endif
