/* SPDX-License-Identifier: Apache-2.0 */
/*
 * storeindex: where a record sits in a large store file, so that a start reads one
 * record instead of parsing the whole file (issue 17).
 *
 * containers/storage's containers.json, images.json and layers.json and Docker's
 * repositories.json grow with the node's images and containers (4 MB at 3 000
 * images); parsing them whole on every start made a start cost follow the node.
 * An index maps a 64-hex key (a record id, an image id) to the byte spans of the
 * records that carry it in ONE version of the file, and nothing else:
 *
 *  - Keyed by the version: the index names the file's device, inode, size, and
 *    modification and change times (nanoseconds). The stores replace these files
 *    by rename(2) (a new inode) and any write in place changes the times, the
 *    change time even against utimensat; a file is indexed only once its ctime
 *    lies SW_STOREINDEX_SETTLE_MS in the past, so no later version (a write in
 *    the same clock tick, a reused inode number) can carry the same stamp. An
 *    index is used only for the very file it was built from, and the first
 *    start after any change rebuilds it with the full, validating parse.
 *  - It holds no record: names, tags and container records are always read from
 *    the store itself, the span through the descriptor whose identity was just
 *    compared. The caller parses the span with the same strict rules as the
 *    whole file and checks that it carries the key; a span that does not (a
 *    damaged or tampered index) makes the caller fall back to the full parse,
 *    which rebuilds the index. So an index can only say where to look: at worst
 *    it makes a start slower, never makes it read another record.
 *  - It lives in root-only state_dir (<state_dir>/store-index/, opened through
 *    sw_trust_open), written by rename, not fsync'ed (a torn or lost index is
 *    rebuilt).
 *
 * Off unless sw_storeindex_set_dir named a state_dir: tools that read a store
 * (`sigward audit`) parse whole and write nothing.
 *
 * Ownership: nothing allocated for the caller.
 */
#ifndef SW_STOREINDEX_H
#define SW_STOREINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "util.h"

/* Spans of one key kept by a lookup: storage ids are unique per file (a
 * duplicate fails the build); a Docker image id has one span per repository. */
#define SW_STOREINDEX_MAX_SPANS 64
/* How old a file's ctime must be before it is indexed (see sw_storeindex_store). */
#define SW_STOREINDEX_SETTLE_MS 50
/* The most bytes a store file may have grown by, appended, past its index's
 * version, for that index to answer (the rest is parsed by the caller). */
#define SW_STOREINDEX_TAIL_MAX (256u << 10)
/* Entries of one index: well above any real node, a bound on what one rebuild writes. */
#define SW_STOREINDEX_MAX_ENTRIES (1u << 20)

typedef struct sw_storeindex_entry {
	char key[SW_SHA256_HEX + 1];   /* 64 lowercase hex */
	uint64_t off;
	uint32_t len;
} sw_storeindex_entry;

/* Entries being collected by a full parse (sw_storeindex_add, then _store). */
typedef struct sw_storeindex_build {
	sw_storeindex_entry *e;
	size_t n, cap;
	bool overflow;                 /* too many, or out of memory: nothing is stored */
} sw_storeindex_build;

/* The state directory indexes live under; NULL or "" turns indexes off. The
 * string must outlive the calls that follow. */
void sw_storeindex_set_dir(const char *state_dir);
bool sw_storeindex_enabled(void);

/* What an index of another version of the file says about that version. */
typedef struct sw_storeindex_prev {
	bool exact;                    /* the index is of this very version */
	uint64_t size;                 /* the indexed version's size */
	size_t n;                      /* its entries */
	sw_storeindex_entry last;      /* the record with the highest offset (key "" if none) */
} sw_storeindex_prev;

/*
 * The spans of key in the index of the file `path` (kind: what parse built it,
 * e.g. "cs-images"), valid only for the version described by st (fstat of the
 * descriptor the caller reads spans from). 1: index valid, *n >= 1 spans;
 * 0: index valid, key absent from that file; -1: no usable index (off, missing,
 * another version, malformed): parse the file whole.
 * With prev non-NULL, an index of another version of the file on the same
 * device, no longer than st's, answers too (prev->exact false): for a caller
 * that checks the file is that version with records appended (the last record
 * still at its span, then only records) and reads the rest itself.
 */
int sw_storeindex_lookup(const char *kind, const char *path, const struct stat *st, const char *key,
			 sw_storeindex_entry *spans, size_t max, size_t *n, sw_storeindex_prev *prev);

/* Collect one span (keys that are not 64 lowercase hex are not indexed: lookups
 * use only such keys). */
void sw_storeindex_add(sw_storeindex_build *b, const char *key, size_t klen, uint64_t off, uint64_t len);
void sw_storeindex_build_free(sw_storeindex_build *b);

/* Write the index of `path` for version st from b (sorted here). Best effort:
 * a failure only means the next start parses the file whole again. */
void sw_storeindex_store(const char *kind, const char *path, const struct stat *st, sw_storeindex_build *b);

/* Open a store file to be read through its index: openat(dirfd, name) without
 * following a link, a regular file of at most max bytes, its version in *st.
 * 1 with *fd, 0 when it does not exist, <0 error naming `what` (as
 * sw_read_file_at's). */
int sw_storeindex_open(int dirfd, const char *name, const char *what, size_t max, struct stat *st, int *fd,
		       sw_error *err);

/* Read one span from fd (the file of version st) with one pread: 0 with *buf
 * (malloc'ed, NUL-terminated, *len bytes), -1 when the span is out of the file
 * or is not where a record can start and end: the nearest byte before it that is
 * not whitespace must be one of `before` and the nearest after it one of
 * `after` (within 16 bytes; Go's encoding/json writes no whitespace). */
int sw_storeindex_read_span(int fd, const struct stat *st, const sw_storeindex_entry *e, const char *before,
			    const char *after, char **buf, size_t *len);

#endif
