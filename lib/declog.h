/* SPDX-License-Identifier: Apache-2.0 */
/*
 * declog: the decision log, a hash-chained JSON-lines file, and the syslog line.
 *
 * Each record is one JSON object on one line; its "prev" member is the hex SHA-256
 * of the previous line's bytes (without the newline), or of the previous file's last
 * record after a rotation ("0"*64 for the very first record). Appends take an
 * exclusive flock on <state_dir>/decisions.head (which never moves, unlike a
 * rotated log, and which no other account can open: 0600, owned by the hook's
 * user), read the last line, and write the new one with a single write() on an
 * O_APPEND descriptor, so concurrent hooks keep the chain intact. The log file
 * itself is never locked when there is a head: its readers (group adm) could
 * hold such a lock. The lock wait is bounded (SW_LOCK_WAIT_MS); past it the
 * append fails with "still locked by another process" and nothing is written.
 * The hash of the newest line is also written to the head under the lock, so
 * deleting or editing the last records is detectable too. A log that
 * ends without a newline (a torn write) keeps its fragment inside the chain: the
 * next record starts on a fresh line and names the fragment's hash as prev.
 * The log and the head must be regular files (no links, no FIFOs).
 *
 * A denial that is no verdict on the image (a store stayed busy for the whole
 * read budget, lib/decision.h) carries "denial":"store-busy" after "decision";
 * a record without it is a policy decision.
 *
 * Strings from outside are escaped (invalid UTF-8 becomes U+FFFD), so a record is
 * always exactly one valid JSON line of less than SW_LOG_LINE_MAX bytes.
 *
 * Ownership: strings in sw_record are borrowed; a rendered line is the caller's.
 * Failure: negative return and err naming the file (verify: "FILE:LINE: ...").
 */
#ifndef SW_DECLOG_H
#define SW_DECLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decision.h"
#include "error.h"
#include "resolve.h"

#define SW_LOG_LINE_MAX (64 * 1024)
#define SW_LOG_HEAD_NAME "decisions.head"
/* The "prev" of the very first record. */
#define SW_DECLOG_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct sw_record {
	int64_t time;
	const char *container_id;
	const char *bundle;
	const char *runtime;         /* "hook", "sigward-runc", ... */
	const sw_resolution *res;    /* may be NULL */
	const char *matched;         /* digest that matched, or NULL */
	const char *scope;           /* list scope, or NULL when no list was loaded */
	uint64_t serial;
	const char (*signers)[SW_SHA256_HEX + 1];
	size_t n_signers;
	sw_mode mode;
	const sw_decision *decision;
} sw_record;

/* Render a record to one JSON line (no newline) with the given prev hash. */
int sw_record_render(const sw_record *r, const char *prev_hex, char **out, size_t *len, sw_error *err);

/* Append to log_file (created 0640 if missing); state_dir may be NULL (no head
 * file: the appenders then serialise on a bounded lock of the log itself, which
 * any reader of the log can hold; the hook and the wrapper always have one). */
int sw_declog_append(const char *log_file, const char *state_dir, const sw_record *r, sw_error *err);

/* The same append for a record of another kind (lib/heartbeat.h): render writes
 * the record as one JSON line (no newline, under SW_LOG_LINE_MAX bytes, "prev"
 * last) chained to prev_hex, under the same lock and into the same chain. */
typedef int (*sw_declog_render_fn)(const void *rec, const char *prev_hex, char **out, size_t *len, sw_error *err);
int sw_declog_append_with(const char *log_file, const char *state_dir, sw_declog_render_fn render, const void *rec,
			  sw_error *err);

/* One line to syslog (LOG_AUTHPRIV). */
void sw_declog_syslog(const sw_record *r);

/* ------------------------------------------------ reading (lib/declogverify.c)
 * Verification and rotated sets are for the tools (`sigward log verify`, the
 * audit): the hook and the wrapper only append, and never link this part. */

/* first_prev value accepting whatever the first record names: the oldest of a set
 * of rotated files whose predecessors were rotated away. */
#define SW_DECLOG_ANY_START "*"

/* Verify a log file's chain. first_prev: expected "prev" of the first line (NULL:
 * 64 zeros; SW_DECLOG_ANY_START: any). head_hex: expected hash of the last line (NULL: not checked).
 * On success *n_lines and last_hex (hash of the last line) are set. On a break,
 * returns SW_EVERIFY with "FILE:LINE: ..." naming the first broken line. */
int sw_declog_verify(const char *log_file, const char *first_prev, const char *head_hex,
		     size_t *n_lines, char last_hex[SW_SHA256_HEX + 1], sw_error *err);

/* ------------------------------------------------------------ rotated sets */

#define SW_DECLOG_ROTATE_MAX 999     /* FILE.1 .. FILE.999 are looked for */
#define SW_DECLOG_TMP_MAX 64

typedef struct sw_declog_file {
	char *path;
	unsigned index;              /* 0 the live file, N for FILE.N or FILE.N.gz */
	bool gz;
} sw_declog_file;

/* A log and its rotations as logrotate (config/logrotate-sigward) leaves them:
 * FILE.N and FILE.N.gz, the higher N the older. files: oldest first, the live
 * FILE last (listed even when it does not exist, so reading it names it).
 * missing: the names of rotations absent between FILE.1 and the oldest one found
 * (a deleted file in the sequence), each guessed compressed or not from its
 * neighbours. Owned by the set; sw_declog_set_free releases it. */
typedef struct sw_declog_set {
	sw_declog_file *files;
	size_t n;
	char **missing;
	size_t n_missing;
} sw_declog_set;

int sw_declog_set_find(const char *log_file, sw_declog_set *set, sw_error *err);
void sw_declog_set_free(sw_declog_set *set);

/* A readable uncompressed path for one file of a set: the file itself, or for a
 * .gz rotation a private temporary copy decompressed in-process (zlib; no
 * program is run), named in tmp (the caller unlinks it; tmp is "" when no copy
 * was made). Returns the path to
 * read, or NULL with err naming the file. */
const char *sw_declog_plain(const sw_declog_file *f, char tmp[SW_DECLOG_TMP_MAX], sw_error *err);

/* sw_declog_verify on one file of a set, a .gz read through zlib as it is
 * verified (no temporary copy); messages name f->path. */
int sw_declog_verify_file(const sw_declog_file *f, const char *first_prev, const char *head_hex,
			  size_t *n_lines, char last_hex[SW_SHA256_HEX + 1], sw_error *err);

#endif
