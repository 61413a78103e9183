/* SPDX-License-Identifier: Apache-2.0 */
#include "storeindex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trust.h"

/*
 * File format, text so an operator can read it:
 *   header, HDR_LEN bytes, space-padded, ending in '\n':
 *     "sigward-store-index 2 <kind> <dev> <ino> <size> <mtime s> <ns> <ctime s> <ns> <n>
 *      <last key> <last offset> <last length>" (the entry with the highest offset; "-" 0 0 for none)
 *   n lines of ENT_LEN bytes, sorted by key then offset:
 *     "<64 hex key> <16 hex offset> <8 hex length>\n"
 * Fixed-width lines let a lookup binary-search with pread (about log2(n) reads of
 * one line) instead of reading the index whole: the index is as large as the
 * store file's record count.
 */
#define MAGIC "sigward-store-index 2"
#define SUBDIR "store-index"
#define HDR_LEN 256
#define ENT_LEN (SW_SHA256_HEX + 1 + 16 + 1 + 8 + 1)
#define KIND_MAX 32

/* A copy of the caller's state_dir (its configuration may be freed and
 * another loaded while the descriptor below stays open). */
static char index_state_buf[PATH_MAX];
static const char *index_state_dir;
static int index_dirfd = -1;   /* <state_dir>/store-index, opened once per process */
static bool index_dir_tried;

void sw_storeindex_set_dir(const char *state_dir)
{
	const char *d = state_dir && *state_dir && strlen(state_dir) < sizeof index_state_buf ? state_dir : NULL;
	if ((!d && !index_state_dir) || (d && index_state_dir && strcmp(d, index_state_dir) == 0))
		return;
	if (index_dirfd >= 0)
		close(index_dirfd);
	index_dirfd = -1;
	index_dir_tried = false;
	index_state_dir = NULL;
	if (d) {
		memcpy(index_state_buf, d, strlen(d) + 1);
		index_state_dir = index_state_buf;
	}
}

bool sw_storeindex_enabled(void)
{
	return index_state_dir != NULL;
}

/* The index directory: trusted like every file of state_dir (root-only, walked
 * by sw_trust_open), created 0700 on first store. -1 when it cannot be had. */
static int index_dir(bool create)
{
	if (!index_state_dir)
		return -1;
	if (index_dirfd >= 0 || (index_dir_tried && !create))
		return index_dirfd;
	index_dir_tried = true;
	_cleanup_close_ int sfd = sw_trust_open(index_state_dir, SW_TRUST_DIR, NULL);
	if (sfd < 0)
		return -1;
	char what[PATH_MAX + 32];
	sw_msgpath(what, sizeof what, "%s/%s", index_state_dir, SUBDIR);
	int fd = sw_trust_openat(sfd, SUBDIR, what, SW_TRUST_DIR, NULL);
	if (fd < 0 && create && mkdirat(sfd, SUBDIR, 0700) == 0)
		fd = sw_trust_openat(sfd, SUBDIR, what, SW_TRUST_DIR, NULL);
	index_dirfd = fd;
	return fd;
}

/* One index file per (kind, store file path): the name is a hash of both, so a
 * path of any length and any byte maps to one safe name. */
static void index_name(const char *kind, const char *path, char name[SW_SHA256_HEX + 1])
{
	size_t kl = strlen(kind), pl = strlen(path);
	char *buf = malloc(kl + 1 + pl);
	if (!buf) {
		name[0] = '\0';
		return;
	}
	memcpy(buf, kind, kl);
	buf[kl] = '\0';
	memcpy(buf + kl + 1, path, pl);
	sw_sha256_hex(buf, kl + 1 + pl, name);
	free(buf);
}

/* A header's fields. */
typedef struct hdr {
	char kind[KIND_MAX];
	uintmax_t dev, ino;
	intmax_t size, msec, csec;
	long mnsec, cnsec;
	size_t n;
	sw_storeindex_entry last;      /* key "" when n is 0 */
} hdr;

static void hdr_of(hdr *h, const char *kind, const struct stat *st, size_t n, const sw_storeindex_entry *last)
{
	*h = (hdr){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size, .msec = st->st_mtim.tv_sec,
		    .mnsec = st->st_mtim.tv_nsec, .csec = st->st_ctim.tv_sec, .cnsec = st->st_ctim.tv_nsec, .n = n };
	snprintf(h->kind, sizeof h->kind, "%s", kind);
	if (last)
		h->last = *last;
}

static int header(char out[HDR_LEN], const hdr *h)
{
	int w = snprintf(out, HDR_LEN, MAGIC " %s %ju %ju %jd %jd %ld %jd %ld %zu %s %" PRIx64 " %" PRIx32, h->kind,
			 h->dev, h->ino, h->size, h->msec, h->mnsec, h->csec, h->cnsec, h->n,
			 h->last.key[0] ? h->last.key : "-", h->last.off, h->last.len);
	if (w < 0 || w >= HDR_LEN - 1)
		return -1;
	memset(out + w, ' ', (size_t)(HDR_LEN - 1 - w));
	out[HDR_LEN - 1] = '\n';
	return 0;
}

/* Parse a header: only the exact bytes header() writes for its fields are one. */
static int header_parse(const char in[HDR_LEN], hdr *h)
{
	char b[HDR_LEN + 1], kind[KIND_MAX + 1], last[SW_SHA256_HEX + 2];
	memcpy(b, in, HDR_LEN);
	b[HDR_LEN] = '\0';
	uint64_t off = 0;
	uint32_t len = 0;
	*h = (hdr){ 0 };
	if (sscanf(b, MAGIC " %32s %ju %ju %jd %jd %ld %jd %ld %zu %65s %" SCNx64 " %" SCNx32, kind, &h->dev, &h->ino,
		   &h->size, &h->msec, &h->mnsec, &h->csec, &h->cnsec, &h->n, last, &off, &len) != 12 ||
	    strlen(kind) >= KIND_MAX || h->n > SW_STOREINDEX_MAX_ENTRIES)
		return -1;
	snprintf(h->kind, sizeof h->kind, "%s", kind);
	if (strcmp(last, "-") != 0) {
		if (!sw_is_hex64(last, strlen(last)))
			return -1;
		memcpy(h->last.key, last, SW_SHA256_HEX + 1);
	}
	h->last.off = off;
	h->last.len = len;
	char again[HDR_LEN];
	return header(again, h) == 0 && memcmp(again, in, HDR_LEN) == 0 ? 0 : -1;
}

static uint64_t hexval(const char *s, size_t n, bool *ok)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			*ok = false;
		v = (v << 4) | (uint64_t)(d < 0 ? 0 : d);
	}
	return v;
}

/* One line: 1 parsed, 0 malformed. */
static int entry_parse(const char *l, sw_storeindex_entry *e)
{
	bool ok = sw_is_hex64(l, SW_SHA256_HEX) && l[64] == ' ' && l[81] == ' ' && l[90] == '\n';
	e->off = hexval(l + 65, 16, &ok);
	e->len = (uint32_t)hexval(l + 82, 8, &ok);
	memcpy(e->key, l, SW_SHA256_HEX);
	e->key[SW_SHA256_HEX] = '\0';
	return ok;
}

int sw_storeindex_lookup(const char *kind, const char *path, const struct stat *st, const char *key,
			 sw_storeindex_entry *spans, size_t max, size_t *n, sw_storeindex_prev *prev)
{
	*n = 0;
	if (prev)
		*prev = (sw_storeindex_prev){ 0 };
	if (!sw_is_hex64(key, strlen(key)) || strlen(kind) >= KIND_MAX)
		return -1;
	int dfd = index_dir(false);
	if (dfd < 0)
		return -1;
	char name[SW_SHA256_HEX + 1];
	index_name(kind, path, name);
	if (!name[0])
		return -1;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct stat ist;
	if (fstat(fd, &ist) < 0 || !S_ISREG(ist.st_mode) || ist.st_size < HDR_LEN)
		return -1;
	char raw[HDR_LEN];
	hdr h, want;
	if (!sw_pread_all(fd, raw, HDR_LEN, 0) || header_parse(raw, &h) < 0)
		return -1;
	/* The count must match the index's size, so a cut or padded index is refused. */
	uint64_t count = h.n;
	if ((uint64_t)ist.st_size != HDR_LEN + count * ENT_LEN)
		return -1;
	hdr_of(&want, kind, st, h.n, &h.last);
	bool exact = strcmp(h.kind, want.kind) == 0 && h.dev == want.dev && h.ino == want.ino && h.size == want.size &&
		     h.msec == want.msec && h.mnsec == want.mnsec && h.csec == want.csec && h.cnsec == want.cnsec;
	/* Another version of the file: only for a caller that reads it as one the
	 * store appended to (sw_storeindex_prev), on the same device, not shorter. */
	if (!exact && (!prev || strcmp(h.kind, kind) != 0 || h.dev != (uintmax_t)st->st_dev || h.size < 2 ||
		       h.size > (intmax_t)st->st_size))
		return -1;
	if (prev) {
		prev->exact = exact;
		prev->size = (uint64_t)h.size;
		prev->n = h.n;
		prev->last = h.last;
	}

	/* The first line whose key is >= key. */
	uint64_t lo = 0, hi = count;
	char line[ENT_LEN];
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (!sw_pread_all(fd, line, ENT_LEN, HDR_LEN + mid * ENT_LEN))
			return -1;
		if (memcmp(line, key, SW_SHA256_HEX) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint64_t i = lo; i < count; i++) {
		sw_storeindex_entry e;
		if (!sw_pread_all(fd, line, ENT_LEN, HDR_LEN + i * ENT_LEN) || !entry_parse(line, &e))
			return -1;
		if (strcmp(e.key, key) != 0)
			break;
		if (*n >= max || e.off > (uint64_t)st->st_size || e.len > (uint64_t)st->st_size - e.off)
			return -1;
		spans[(*n)++] = e;
	}
	return *n ? 1 : 0;
}

void sw_storeindex_add(sw_storeindex_build *b, const char *key, size_t klen, uint64_t off, uint64_t len)
{
	if (b->overflow || klen != SW_SHA256_HEX || !sw_is_hex64(key, klen))
		return;
	if (len > UINT32_MAX || b->n >= SW_STOREINDEX_MAX_ENTRIES) {
		b->overflow = true;
		return;
	}
	if (b->n == b->cap) {
		size_t nc = b->cap ? 2 * b->cap : 256;
		sw_storeindex_entry *ne = realloc(b->e, nc * sizeof *ne);
		if (!ne) {
			b->overflow = true;
			return;
		}
		b->e = ne;
		b->cap = nc;
	}
	sw_storeindex_entry *e = &b->e[b->n++];
	memcpy(e->key, key, SW_SHA256_HEX);
	e->key[SW_SHA256_HEX] = '\0';
	e->off = off;
	e->len = (uint32_t)len;
}

void sw_storeindex_build_free(sw_storeindex_build *b)
{
	free(b->e);
	*b = (sw_storeindex_build){ 0 };
}

static int cmp_entry(const void *a, const void *b)
{
	const sw_storeindex_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off;
}

void sw_storeindex_store(const char *kind, const char *path, const struct stat *st, sw_storeindex_build *b)
{
	if (b->overflow || strlen(kind) >= KIND_MAX)
		return;
	/* A file changed less than SW_STOREINDEX_SETTLE_MS ago gets no index yet.
	 * The kernel stamps ctime from a coarse clock (one tick, a few ms): a
	 * write in place within the tick of the version indexed, or a new file
	 * that reuses the inode number of a removed one, could otherwise carry
	 * the very stamp the index names. Once the stamp lies further back than a
	 * tick, any later change of the file gets a later ctime (unless the clock
	 * is set back), so it can never match. */
	struct timespec now;
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return;
	int64_t age_ms = ((int64_t)now.tv_sec - (int64_t)st->st_ctim.tv_sec) * 1000 +
			 ((int64_t)now.tv_nsec - (int64_t)st->st_ctim.tv_nsec) / 1000000;
	if (age_ms < SW_STOREINDEX_SETTLE_MS)
		return;
	int dfd = index_dir(true);
	if (dfd < 0)
		return;
	char name[SW_SHA256_HEX + 1];
	index_name(kind, path, name);
	if (!name[0])
		return;
	/* The record that ends the file's array (the highest offset): a later
	 * version that still holds it there was appended to (sw_storeindex_prev). */
	sw_storeindex_entry last = { .key = "" };
	for (size_t i = 0; i < b->n; i++)
		if (!last.key[0] || b->e[i].off > last.off)
			last = b->e[i];
	if (b->n)
		qsort(b->e, b->n, sizeof *b->e, cmp_entry);
	size_t size = HDR_LEN + b->n * ENT_LEN;
	_cleanup_free_ char *buf = malloc(size + 1);
	hdr h;
	hdr_of(&h, kind, st, b->n, &last);
	if (!buf || header(buf, &h) < 0)
		return;
	for (size_t i = 0; i < b->n; i++)
		snprintf(buf + HDR_LEN + i * ENT_LEN, ENT_LEN + 1, "%s %016" PRIx64 " %08" PRIx32 "\n",
			 b->e[i].key, b->e[i].off, b->e[i].len);
	/* Temp file and rename, so a reader sees one whole index or the old one;
	 * no fsync: after a crash a lost or torn index is only rebuilt. */
	char tmp[NAME_MAX + 1];
	snprintf(tmp, sizeof tmp, ".%.64s.%ld", name, (long)getpid());
	(void)unlinkat(dfd, tmp, 0);
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, buf + off, size - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			(void)unlinkat(dfd, tmp, 0);
			return;
		}
		off += (size_t)w;
	}
	if (renameat(dfd, tmp, dfd, name) < 0)
		(void)unlinkat(dfd, tmp, 0);
}

int sw_storeindex_open(int dirfd, const char *name, const char *what, size_t max, struct stat *st, int *fd,
		       sw_error *err)
{
	*fd = -1;
	_cleanup_close_ int f = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (f < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP)
			return sw_err(err, SW_EINVAL, "%s: is a symbolic link, refused", what);
		return sw_err_errno(err, errno, "%s: cannot open", what);
	}
	if (fstat(f, st) < 0)
		return sw_err_errno(err, errno, "%s: stat failed", what);
	if (!S_ISREG(st->st_mode))
		return sw_err(err, SW_EINVAL, "%s: not a regular file", what);
	if ((uint64_t)st->st_size > max)
		return sw_err(err, SW_ETOOBIG, "%s: %lld bytes, more than the limit of %zu", what,
			      (long long)st->st_size, max);
	*fd = TAKE_FD(f);
	return 1;
}

#define CONTEXT 16

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int sw_storeindex_read_span(int fd, const struct stat *st, const sw_storeindex_entry *e, const char *before,
			    const char *after, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	uint64_t size = (uint64_t)st->st_size;
	if (e->len < 2 || e->off < 1 || e->off > size || e->len > size - e->off)
		return -1;
	uint64_t from = e->off > CONTEXT ? e->off - CONTEXT : 0;
	uint64_t to = e->off + e->len + CONTEXT < size ? e->off + e->len + CONTEXT : size;
	size_t n = (size_t)(to - from);
	_cleanup_free_ char *b = malloc(n + 1);
	if (!b || !sw_pread_all(fd, b, n, from))
		return -1;
	size_t s = (size_t)(e->off - from), t = s + e->len;
	size_t i = s;
	while (i > 0 && is_ws(b[i - 1]))
		i--;
	if (i == 0 || !b[i - 1] || !strchr(before, b[i - 1]))
		return -1;
	size_t j = t;
	while (j < n && is_ws(b[j]))
		j++;
	if (j == n || !b[j] || !strchr(after, b[j]))
		return -1;
	memmove(b, b + s, e->len);
	b[e->len] = '\0';
	*buf = TAKE_PTR(b);
	*len = e->len;
	return 0;
}
