/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bbolt: a reader of bbolt files (the format of containerd's
 * <root>/io.containerd.metadata.v1.bolt/meta.db), read-only. Knows nothing of
 * containerd: ctrmeta.c reads containerd's records through it.
 *
 * It reads with pread, never takes the file's flock and never writes, so the
 * writer is never blocked. A consistent snapshot comes from sw_bolt_view: it
 * picks the newest valid meta page, runs the caller's function, re-reads the
 * meta pages and runs the function again if a transaction committed in between,
 * for at most SW_STORE_BUSY_MS (lib/util.h), then fails with SW_EBUSY. Every page is checked before use (type, id,
 * bounds, key order); page ids, tree depth and the number of pages visited are
 * bounded. A malformed file is an error naming the file and the page, never a
 * silent "not found".
 *
 * Ownership: a sw_bolt is owned by its opener (sw_bolt_close, or _cleanup_bolt_).
 * Values returned by sw_bolt_get are malloc'ed, NUL-terminated one byte past their
 * length, and owned by the caller. Keys and values passed to callbacks live only
 * for the duration of the call.
 * Failure: negative return, `err` filled with one line naming the file.
 */
#ifndef SW_BBOLT_H
#define SW_BBOLT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SW_BOLT_MIN_PAGE 512
#define SW_BOLT_MAX_PAGE 65536
#define SW_BOLT_MAX_DEPTH 32          /* B+tree levels within one bucket */
#define SW_BOLT_MAX_PATH 16           /* nested buckets in one lookup */
#define SW_BOLT_MAX_PAGES 65536       /* pages read in one attempt of a view */
#define SW_BOLT_MAX_SPAN (16u << 20)  /* bytes of one page with its overflow pages */
#define SW_BOLT_META_TRIES 3          /* reads of a file whose two meta pages are both unusable */

typedef struct sw_bolt sw_bolt;

/* Open a bbolt file read-only (O_RDONLY|O_CLOEXEC|O_NOFOLLOW relative to dirfd;
 * a symlink, FIFO or device is refused). Nothing is read until a view begins.
 * `what` names the file in errors (NULL: name). A missing file is -ENOENT with
 * err->code ENOENT, so callers can tell "no store" from "bad store". */
int sw_bolt_open_at(int dirfd, const char *name, const char *what, sw_bolt **out, sw_error *err);
int sw_bolt_open(const char *path, sw_bolt **out, sw_error *err);
void sw_bolt_close(sw_bolt *db);
static inline void sw_bolt_closep(sw_bolt **db) { if (*db) sw_bolt_close(*db); }
#define _cleanup_bolt_ __attribute__((cleanup(sw_bolt_closep)))

/* Run fn on a consistent snapshot. fn may run more than once (when containerd
 * commits while it runs), so it must start from scratch each time and keep its
 * results in ctx only. Returns fn's result from an attempt during which no
 * transaction committed; when every attempt within SW_STORE_BUSY_MS raced a
 * commit, -SW_EBUSY ("store busy": a later read will succeed, nothing is wrong
 * with the file). */
typedef int (*sw_bolt_view_fn)(sw_bolt *db, void *ctx, sw_error *err);
int sw_bolt_view(sw_bolt *db, sw_bolt_view_fn fn, void *ctx, sw_error *err);

/* Inside a view. `path` is a list of n nested bucket names from the root
 * (n <= SW_BOLT_MAX_PATH). */

/* Value of key in the bucket at path: 1 and *val and *len set, 0 when the key or a
 * bucket on the path does not exist. A key that holds a bucket where a value is
 * expected (or the reverse, on the path) is an error: containerd's layout never
 * does that, so the file is not what we think it is. */
int sw_bolt_get(sw_bolt *db, const char *const *path, size_t n, const char *key,
		char **val, size_t *len, sw_error *err);

/* 1 when the bucket at path exists, 0 when not. */
int sw_bolt_has_bucket(sw_bolt *db, const char *const *path, size_t n, sw_error *err);

/* Call fn for every key of the bucket at path, in key order. `value` is NULL for
 * a nested bucket. fn returns 0 to go on, >0 to stop (returned by foreach), <0 on
 * error (returned as is). Returns 0 when the bucket does not exist. */
typedef int (*sw_bolt_each_fn)(const char *key, size_t klen, const char *value, size_t vlen,
			       bool is_bucket, void *ctx, sw_error *err);
int sw_bolt_foreach(sw_bolt *db, const char *const *path, size_t n,
		    sw_bolt_each_fn fn, void *ctx, sw_error *err);

/* "a/b/key" for errors: the bucket path and key (NULL: none), cut to outlen. */
void sw_bolt_path_string(const char *const *path, size_t n, const char *key, char *out, size_t outlen);

/* The transaction id of the snapshot being read (inside a view). */
uint64_t sw_bolt_txid(const sw_bolt *db);

#endif
