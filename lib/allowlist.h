/* SPDX-License-Identifier: Apache-2.0 */
/*
 * allowlist: the signed allowlist, format v1 (docs/allowlist-format.md).
 *
 * A list is three files in one directory:
 *   manifest      small signed text: version, scope, serial, issued, expires, entry
 *                 count, number of bins, and per bin: offset, length, count, SHA-256
 *   entries       sorted lines "sha256:<hex> <kind>[ <reference>]\n" (format 2;
 *                 format 1: "sha256:<hex>[ <reference>]\n", untyped), bin after
 *                 bin; an entry's bin is the top log2(bins) bits of its digest
 *   manifest.sig  one base64 signature of the manifest bytes per line
 *
 * Verification (sw_list_verify): at least `threshold` valid signatures by distinct
 * trusted keys; scope equal to the node's; now < expires + grace; serial not lower
 * than the highest accepted before for that scope (sw_serial_*). Lookup
 * (sw_list_lookup) hashes only the digest's bin, compares it with the manifest, and
 * binary-searches it. Nothing here trusts the entries file beyond the bin hashes.
 *
 * Kinds (format 2): an entry is a manifest digest ("manifest": an image manifest
 * or an index, what a registry serves under /manifests/) or an image id
 * ("image-id": the digest of the image's config). A digest matches only an entry
 * of its own kind, so a forged image whose config bytes are a listed manifest
 * (its image id is then that manifest's digest) does not match the manifest's
 * entry. Format 1 entries carry no kind and match a digest of any kind, as they
 * always did; see docs/allowlist-format.md for why that stays safe.
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
#include <sys/stat.h>

#include "error.h"
#include "keys.h"
#include "util.h"

#define SW_LIST_FORMAT 2         /* written by sw_build_write */
#define SW_LIST_FORMAT_MIN 1     /* the oldest format read */
#define SW_MANIFEST_NAME "manifest"
#define SW_ENTRIES_NAME "entries"
#define SW_SIGS_NAME "manifest.sig"
/* Optional: why each image was approved (`sigward allowlist compile`), covered
 * by the signature through an image-id entry of its SHA-256 whose reference is
 * SW_EVIDENCE_REF (docs/allowlist-format.md "evidence"). */
#define SW_EVIDENCE_NAME "evidence"
#define SW_EVIDENCE_REF "(evidence)"
#define SW_EVIDENCE_MAX ((size_t)256 << 20)
#define SW_MANIFEST_MAX (8 * 1024 * 1024)
#define SW_SIGS_MAX (256 * 1024)
#define SW_MAX_SIGS 64
#define SW_MAX_BINS 65536
#define SW_SCOPE_MAX 64
#define SW_REF_MAX 512
#define SW_ENTRY_KIND_MAX 8      /* "manifest", "image-id" */
#define SW_ENTRY_LINE_MAX (7 + SW_SHA256_HEX + 1 + SW_ENTRY_KIND_MAX + 1 + SW_REF_MAX + 1)

/* What an entry names. */
typedef enum sw_entry_kind {
	SW_ENTRY_UNTYPED = 0,       /* format 1: no kind written, matches any kind */
	SW_ENTRY_MANIFEST = 1,      /* a manifest or index digest: "manifest" */
	SW_ENTRY_IMAGE_ID = 2,      /* an image id, the config's digest: "image-id" */
} sw_entry_kind;
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
	/* sw_list_open_current_indexed: the manifest's file and the generation's
	 * directory as fstat saw them when the manifest was opened, and the list
	 * index in state_dir (docs/allowlist-format.md "The list index"). While
	 * `indexed`, the header fields above and manifest_sha256 come from the
	 * index, `manifest` is NULL, and a bin's place and hash are read from the
	 * index; any doubt reads the manifest instead (sw_list_verify, sw_list_find). */
	bool index_open;            /* opened so: manifest_fd, index_fd owned (or -1) */
	bool indexed;
	int manifest_fd, index_fd;
	struct stat manifest_st, dir_st;
	int64_t opened_ms;          /* CLOCK_REALTIME at the fstat, milliseconds */
	uint64_t entries_size;      /* indexed: the entries file's size, as the manifest fixes it */
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
/* The same, for the hook and the wrapper, with the list index in state_dir
 * (NULL: none, exactly sw_list_open_current_lazy): when the index was made from
 * this very manifest file (device, inode, size, mtime, ctime, and the
 * generation directory's device and inode), the manifest is neither read nor
 * hashed: the header comes from the index, each lookup reads its bin's place
 * and hash from it (64 bytes). sw_list_verify writes the index after a
 * verification that read the manifest. Why that is no weaker: allowlist.c,
 * "The list index". */
int sw_list_open_current_indexed(const char *lists_dir, const char *state_dir, sw_list *l, sw_error *err);
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

/* The entry of a digest, whatever its kind: 1 found (*kind set, ref copied to
 * ref_out when non-NULL), 0 not found, <0 error. */
int sw_list_find(const sw_list *l, const char *digest /* sha256:<hex> */, sw_entry_kind *kind,
		 char *ref_out, size_t ref_out_len, sw_error *err);

/* The start decision's lookup: 1 when `digest` is listed as an entry of the
 * kind it was resolved as (sw_found.kind: "manifest", "index", "image-id",
 * "unknown"; "any" or NULL for a digest of no known kind, `sigward check`), 0
 * when it is not (also when it is listed as the other kind), <0 error. */
int sw_list_lookup(const sw_list *l, const char *digest /* sha256:<hex> */, const char *kind,
		   char *ref_out, size_t ref_out_len, sw_error *err);

/* Does an entry of kind `entry` match a digest resolved as `kind` (as above)?
 * Manifest entries match "manifest", "index" and "unknown" (Docker's repository
 * digests and "name@sha256:" annotations, which name what a registry serves);
 * image-id entries match "image-id"; untyped entries and "any" match everything. */
bool sw_entry_kind_matches(sw_entry_kind entry, const char *kind);

/* "manifest", "image-id" or "untyped". */
const char *sw_entry_kind_name(sw_entry_kind k);

/* Parse the entry line at p (avail bytes) of a list of `format`: its length
 * including '\n', or 0 when malformed (docs/allowlist-format.md). Out
 * parameters may be NULL. */
size_t sw_entry_parse(const char *p, size_t avail, unsigned format, sw_entry_kind *kind,
		      const char **ref, size_t *ref_len);

/* Highest accepted serial per scope, in <state_dir>/serials (lines "scope serial"). */
int sw_serial_get(const char *state_dir, const char *scope, uint64_t *serial, sw_error *err);
int sw_serial_raise(const char *state_dir, const char *scope, uint64_t serial, sw_error *err);

/* Shared with the builder (build.c). */
#define SW_MANIFEST_MAGIC "sigward-allowlist"
/* 1 to SW_SCOPE_MAX of [A-Za-z0-9._-]. */
bool sw_scope_ok(const char *s, size_t n);
/* The bin of a digest: its top `bits` bits. */
uint32_t sw_bin_of(const unsigned char d[SW_SHA256_LEN], uint32_t bits);

#endif
