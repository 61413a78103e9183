/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util: cleanup attributes, bounded file reads, hex, SHA-256 and RFC 3339 time.
 *
 * Ownership: buffers returned through `char **out` are malloc'ed, NUL-terminated
 * (one byte past *len) and owned by the caller. File descriptors returned are
 * O_CLOEXEC and owned by the caller.
 * Failure: negative return, `err` filled with a one-line message naming the path.
 */
#ifndef SW_UTIL_H
#define SW_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

/* ---- cleanup: every owned resource is declared with one of these ---- */
static inline void sw_freep(void *p) { free(*(void **)p); }
static inline void sw_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void sw_fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_free_ __attribute__((cleanup(sw_freep)))
#define _cleanup_close_ __attribute__((cleanup(sw_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(sw_fclosep)))
#define _cleanup_(f) __attribute__((cleanup(f)))

/* Hand ownership on: returns the value and leaves NULL (or -1) behind. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

#define SW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- bounded reads ---- */

/* Read all of fd (a regular file or a pipe) up to max bytes. More than max
 * bytes is an error (SW_ETOOBIG) naming `what`. */
int sw_read_fd(int fd, size_t max, const char *what, char **out, size_t *len, sw_error *err);

/* Exactly len bytes at off (EINTR retried). false with errno set, EIO when the
 * file ends before them. */
bool sw_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* openat(dirfd, name, O_RDONLY|O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK), require a regular
 * file (a FIFO, device or link is refused: it could block or redirect the read),
 * then read it bounded. `what` names the file in errors (NULL: use name). */
int sw_read_file_at(int dirfd, const char *name, size_t max, const char *what,
		    char **out, size_t *len, sw_error *err);

/* Same, but following links (for operator-supplied paths such as --config). */
int sw_read_file(const char *path, size_t max, char **out, size_t *len, sw_error *err);

/* open a directory as an O_PATH-less read fd (O_DIRECTORY|O_CLOEXEC); nofollow
 * refuses a symlink as the final component. */
int sw_open_dir_at(int dirfd, const char *name, bool nofollow, sw_error *err);

/* A directory below an open one, opened without following a link (stores whose
 * layout has none: a link could lead a lookup to records that are not the
 * store's). 1 opened (*out set), 0 missing, <0 error; a link is "is a symbolic
 * link, refused", naming `what`. */
int sw_open_subdir(int dirfd, const char *name, const char *what, int *out, sw_error *err);

/* A directory stream over an open directory fd, without taking the fd: a dup
 * (which shares the fd's offset, so the stream starts with a rewind). NULL with
 * errno set on failure. Close with closedir. */
DIR *sw_dir_stream(int dirfd);

/* The entries of an open directory, read with getdents64(2) into this small
 * buffer: the start path's directories (keys, drop-ins) hold a few entries, and
 * fdopendir(3) cost a descriptor copy, three more system calls and a 32 KB buffer
 * each. Reads dirfd from its start (it shares its offset with any dup); the
 * caller keeps dirfd. */
typedef struct sw_dirents {
	int fd;
	size_t pos, len;
	bool started;
	char buf[1024] __attribute__((aligned(8)));
} sw_dirents;

void sw_dirents_init(sw_dirents *d, int dirfd);
/* The next entry's name, "." and ".." included; NULL at the end (errno 0) or on
 * a read error (errno set). */
const char *sw_dirents_next(sw_dirents *d);

/* Write data to dir/name atomically: temp file in dir, fsync, rename, fsync dir. */
int sw_write_file_atomic_at(int dirfd, const char *dirpath, const char *name,
			    const void *data, size_t len, mode_t mode, sw_error *err);

/* ---- hex, digests ---- */
#define SW_SHA256_LEN 32
#define SW_SHA256_HEX 64
/* "sha256:" + 64 hex + NUL */
#define SW_DIGEST_STR (7 + SW_SHA256_HEX + 1)

void sw_hex(const unsigned char *in, size_t n, char *out /* 2n+1 */);
/* Decode exactly 2n lowercase/uppercase hex chars. Returns 0 or -1. */
int sw_unhex(const char *in, size_t n, unsigned char *out);
bool sw_is_hex64(const char *s, size_t len);  /* exactly 64 lowercase hex */
/* "sha256:" and 64 lowercase hex digits, exactly (the one check of a digest's spelling). */
bool sw_is_sha256_digest(const char *s, size_t len);
/* One step of a layer chain id (image-spec identity.ChainID, as containerd's
 * snapshots and Docker's layerdb name layers): with chain "" (the first layer)
 * chain becomes diff, then sha256(chain + " " + diff) as "sha256:<hex>". diff
 * is a "sha256:<64 hex>" digest (its first SW_DIGEST_STR - 1 bytes are used). */
void sw_chain_next(char chain[SW_DIGEST_STR], const char *diff);
/* snprintf for paths and names shown in messages only (files are opened
 * relative to directory fds), where a cut string is harmless. */
void sw_msgpath(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* SHA-256 of a buffer (OpenSSL's one-shot digest, no provider fetch on the hot path). */
void sw_sha256(const void *data, size_t len, unsigned char out[SW_SHA256_LEN]);
void sw_sha256_hex(const void *data, size_t len, char out[SW_SHA256_HEX + 1]);

/* Normalise a digest written as "sha256:<hex>" or bare 64 hex into
 * "sha256:<hex>" (lowercase only). Returns 0, or -1 when it is neither. */
int sw_digest_normalize(const char *in, size_t len, char out[SW_DIGEST_STR]);

/* ---- time ---- */
/* Strict RFC 3339 UTC: "YYYY-MM-DDTHH:MM:SSZ" (fractional seconds accepted and
 * dropped). Returns 0 or -1. */
int sw_parse_rfc3339(const char *s, size_t len, int64_t *out);
void sw_format_rfc3339(int64_t t, char out[32]);
/* Durations: "90s", "15m", "12h", "30d", "2w", or a bare number of seconds. */
int sw_parse_duration(const char *s, int64_t *out);
/* Current wall-clock time in seconds since the epoch. No override: tests build
 * lists that expired in the past instead. */
int64_t sw_now(void);

/* ---- locks ---- */
/* How long a start waits for a lock in root-only state (the decision log's head,
 * the rollback record's lock) before it is refused. Holders keep these locks for
 * well under a millisecond, so only a stuck or hostile holder reaches the bound. */
#define SW_LOCK_WAIT_MS 1000

/* flock(fd, op | LOCK_NB), retried with short sleeps (0.2 ms doubling to 10 ms)
 * until timeout_ms have passed: a lock held by someone else delays the caller by
 * at most timeout_ms, never forever. 0, or -errno: -ETIMEDOUT when the lock is
 * still held at the deadline. Needs only flock, clock_gettime and nanosleep (all
 * in the deciding sandbox's allow-list). */
int sw_flock_wait(int fd, int op, unsigned timeout_ms);

/* ---- retrying within a time budget ---- */
/* How long a start keeps re-reading a store that its writer (containerd,
 * containers/storage) changed during every read, before the start is refused
 * as "store busy" (SW_EBUSY). A time, not a count of tries: how many tries fit
 * depends on the store's size and the machine's load, and a count that is
 * plenty on a quiet node ran out in 8 ms under `ctr images import` (issue 17).
 * A start reads at most two stores (containers/storage, then containerd or
 * Docker), so with the two lock waits (SW_LOCK_WAIT_MS) a decision stays well
 * under SW_DECIDE_TIMEOUT_S, and far under runc's, CRI-O's and kubelet's
 * minutes. */
#define SW_STORE_BUSY_MS 2000

/* A deadline on the monotonic clock, for loops that retry until a budget is
 * spent. Pauses between tries start at 0.2 ms and double up to 10 ms: a short
 * wait first (most writers are done within a millisecond), then polling that
 * costs little. */
typedef struct sw_deadline {
	struct timespec start;
	int64_t limit_us;
	int64_t pause_us;
	unsigned tries;              /* pauses taken so far */
} sw_deadline;

void sw_deadline_start(sw_deadline *d, unsigned budget_ms);
/* Microseconds since sw_deadline_start. */
int64_t sw_deadline_spent_us(const sw_deadline *d);
/* Sleep before the next try (never past the deadline) and return true; false,
 * without sleeping, once the budget is spent. Needs only clock_gettime and
 * nanosleep (both in the deciding sandbox's allow-list). */
bool sw_deadline_pause(sw_deadline *d);

/* ---- misc ---- */
/* Bounded decimal parse of an unsigned 64-bit integer (no sign, no spaces). */
int sw_parse_u64(const char *s, size_t len, uint64_t *out);
/* A malloc'ed copy of all n bytes of p, NUL added (NULL when out of memory).
 * For values that come with a length: unlike strndup, an embedded NUL does not
 * shorten the copy, so the n bytes a parser is then told about are all there. */
char *sw_memdup0(const void *p, size_t n);

/* s (NULL: "") into dst of n bytes, cut to fit, always terminated. */
void sw_copy_str(char *dst, size_t n, const char *s);

#endif
