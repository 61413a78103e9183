/* SPDX-License-Identifier: Apache-2.0 */
#include "allowlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "trust.h"

#define CACHE_NAME "verified"
#define CACHE_MAGIC "sigward-verified 1"
#define SERIALS_NAME "serials"
#define SERIALS_LOCK ".serials.lock"
#define SERIALS_MAX (64 * 1024)
/* A bin holds a fraction of the list; a bin this large means a hostile manifest. */
#define BIN_MAX ((uint64_t)256 * 1024 * 1024)

/* ---------------------------------------------------------------- manifest */

/* Cursor over the manifest text: one "key value" line at a time. */
typedef struct cursor {
	const char *p, *end, *what;
	unsigned line;
} cursor;

static int next_line(cursor *c, const char *key, const char **val, size_t *vlen, sw_error *err)
{
	c->line++;
	if (c->p >= c->end)
		return sw_err(err, SW_EINVAL, "%s:%u: unexpected end, expected '%s'", c->what, c->line, key);
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	if (!nl)
		return sw_err(err, SW_EINVAL, "%s:%u: line is not terminated (truncated file?)", c->what, c->line);
	size_t klen = strlen(key);
	if ((size_t)(nl - c->p) <= klen + 1 || memcmp(c->p, key, klen) != 0 || c->p[klen] != ' ')
		return sw_err(err, SW_EINVAL, "%s:%u: expected '%s <value>'", c->what, c->line, key);
	*val = c->p + klen + 1;
	*vlen = (size_t)(nl - *val);
	c->p = nl + 1;
	return 0;
}

static int field_u64(cursor *c, const char *key, uint64_t *out, sw_error *err)
{
	const char *v;
	size_t n;
	int r = next_line(c, key, &v, &n, err);
	if (r < 0)
		return r;
	if (sw_parse_u64(v, n, out) < 0)
		return sw_err(err, SW_EINVAL, "%s:%u: %s is not an unsigned decimal number", c->what, c->line, key);
	return 0;
}

static int field_time(cursor *c, const char *key, int64_t *out, sw_error *err)
{
	const char *v;
	size_t n;
	int r = next_line(c, key, &v, &n, err);
	if (r < 0)
		return r;
	if (sw_parse_rfc3339(v, n, out) < 0)
		return sw_err(err, SW_EINVAL, "%s:%u: %s is not an RFC 3339 UTC time", c->what, c->line, key);
	return 0;
}

bool sw_scope_ok(const char *s, size_t n)
{
	if (n == 0 || n > SW_SCOPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* Split "a b c" at single spaces into exactly n fields. */
static int split_fields(const char *v, size_t vlen, const char **f, size_t *fl, size_t n)
{
	size_t k = 0;
	const char *s = v, *end = v + vlen;
	while (k < n) {
		const char *sp = memchr(s, ' ', (size_t)(end - s));
		const char *e = sp ? sp : end;
		if (e == s)
			return -1;
		f[k] = s;
		fl[k] = (size_t)(e - s);
		k++;
		if (!sp)
			break;
		s = sp + 1;
	}
	return k == n && f[n - 1] + fl[n - 1] == end ? 0 : -1;
}

static int parse_header(cursor *cp, const char *text, size_t len, const char *what, sw_list *l, sw_error *err)
{
	cursor c = *cp;
	const char *v;
	size_t n;
	uint64_t u;
	int r;

	if (memchr(text, '\0', len))
		return sw_err(err, SW_EINVAL, "%s: contains a NUL byte", what);
	if ((r = next_line(&c, SW_MANIFEST_MAGIC, &v, &n, err)) < 0)
		return sw_err(err, SW_EINVAL, "%s: not a sigward allowlist manifest", what);
	if (sw_parse_u64(v, n, &u) < 0 || u < SW_LIST_FORMAT_MIN || u > SW_LIST_FORMAT)
		return sw_err(err, SW_EINVAL, "%s:1: unsupported format version '%.*s' (this sigward reads %d to %d)",
			      what, (int)(n > 16 ? 16 : n), v, SW_LIST_FORMAT_MIN, SW_LIST_FORMAT);
	l->format = (unsigned)u;
	if ((r = next_line(&c, "scope", &v, &n, err)) < 0)
		return r;
	if (!sw_scope_ok(v, n))
		return sw_err(err, SW_EINVAL, "%s:%u: scope must be 1-%d of [A-Za-z0-9._-]", what, c.line, SW_SCOPE_MAX);
	memcpy(l->scope, v, n);
	l->scope[n] = '\0';
	if ((r = field_u64(&c, "serial", &l->serial, err)) < 0 ||
	    (r = field_time(&c, "issued", &l->issued, err)) < 0 ||
	    (r = field_time(&c, "expires", &l->expires, err)) < 0 ||
	    (r = field_u64(&c, "entries", &l->n_entries, err)) < 0 ||
	    (r = field_u64(&c, "bins", &u, err)) < 0)
		return r;
	if (l->expires <= l->issued)
		return sw_err(err, SW_EINVAL, "%s: expires is not after issued", what);
	if (u == 0 || u > SW_MAX_BINS || (u & (u - 1)) != 0)
		return sw_err(err, SW_EINVAL, "%s:%u: bins must be a power of two from 1 to %d", what, c.line, SW_MAX_BINS);
	l->n_bins = (uint32_t)u;
	l->bin_bits = 0;
	while ((1u << l->bin_bits) < l->n_bins)
		l->bin_bits++;
	*cp = c;
	return 0;
}

/* One "bin I OFFSET LENGTH COUNT SHA256" line, I must equal `want`. */
static int parse_bin_line(const char *v, size_t n, const char *what, unsigned line, uint32_t want, sw_bin *b,
			  sw_error *err)
{
	const char *f[5];
	size_t fl[5];
	uint64_t idx;
	if (split_fields(v, n, f, fl, 5) < 0 || sw_parse_u64(f[0], fl[0], &idx) < 0 ||
	    sw_parse_u64(f[1], fl[1], &b->offset) < 0 || sw_parse_u64(f[2], fl[2], &b->length) < 0 ||
	    sw_parse_u64(f[3], fl[3], &b->count) < 0 || !sw_is_hex64(f[4], fl[4]))
		return sw_err(err, SW_EINVAL, "%s:%u: expected 'bin <index> <offset> <length> <count> <sha256>'", what, line);
	if (idx != want)
		return sw_err(err, SW_EINVAL, "%s:%u: bin %u is out of order or not contiguous", what, line, want);
	if (b->length > BIN_MAX || b->count > b->length / (7 + SW_SHA256_HEX + 1) || (b->count == 0) != (b->length == 0) ||
	    b->offset > SW_ENTRIES_MAX)
		return sw_err(err, SW_EINVAL, "%s:%u: bin %u has an impossible size", what, line, want);
	(void)sw_unhex(f[4], SW_SHA256_LEN, b->sha256);
	return 0;
}

int sw_manifest_parse(const char *text, size_t len, const char *what, sw_list *l, sw_error *err)
{
	cursor c = { .p = text, .end = text + len, .what = what, .line = 0 };
	const char *v;
	size_t n;
	int r = parse_header(&c, text, len, what, l, err);
	if (r < 0)
		return r;

	free(l->bins);
	l->bins = calloc(l->n_bins, sizeof *l->bins);
	if (!l->bins)
		return sw_err_errno(err, ENOMEM, "%s", what);
	uint64_t offset = 0, total = 0;
	for (uint32_t i = 0; i < l->n_bins; i++) {
		sw_bin *b = &l->bins[i];
		if ((r = next_line(&c, "bin", &v, &n, err)) < 0)
			return r;
		if ((r = parse_bin_line(v, n, what, c.line, i, b, err)) < 0)
			return r;
		/* Bins are listed in order and tile the entries file exactly: nothing in
		 * the entries file escapes the signed hashes. */
		if (b->offset != offset)
			return sw_err(err, SW_EINVAL, "%s:%u: bin %u is out of order or not contiguous", what, c.line, i);
		offset += b->length;
		total += b->count;
		if (offset > SW_ENTRIES_MAX)
			return sw_err(err, SW_ETOOBIG, "%s: entries file would exceed %llu bytes", what,
				      (unsigned long long)SW_ENTRIES_MAX);
	}
	if (c.p != c.end)
		return sw_err(err, SW_EINVAL, "%s:%u: unexpected content after the last bin", what, c.line + 1);
	if (total != l->n_entries)
		return sw_err(err, SW_EINVAL, "%s: bins hold %llu entries, header says %llu", what,
			      (unsigned long long)total, (unsigned long long)l->n_entries);
	return 0;
}

/* ------------------------------------------------------------------- open */

/* Read the signature file and open the entries file now (see sw_list.pinned).
 * A missing file is left for the step that needs it to report. */
static int pin(sw_list *l, sw_error *err)
{
	char what[4200];
	l->pinned = true;
	l->entries_fd = -1;
	snprintf(what, sizeof what, "%s/%s", l->path, SW_SIGS_NAME);
	int r = sw_read_file_at(l->dirfd, SW_SIGS_NAME, SW_SIGS_MAX, what, &l->sigs, &l->sigs_len, err);
	if (r < 0 && -r != ENOENT)
		return r;
	l->entries_fd = openat(l->dirfd, SW_ENTRIES_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (l->entries_fd < 0 && errno != ENOENT) {
		snprintf(what, sizeof what, "%s/%s", l->path, SW_ENTRIES_NAME);
		return sw_err_errno(err, errno, "%s: cannot open", what);
	}
	return 0;
}

/* The bin lines of a lazily opened list: the header parsed strictly, the bin
 * lines left for lazy_bin. */
static int parse_lazy(sw_list *l, const char *what, sw_error *err)
{
	if (memchr(l->manifest, '\0', l->manifest_len))
		return sw_err(err, SW_EINVAL, "%s: contains a NUL byte", what);
	cursor c = { .p = l->manifest, .end = l->manifest + l->manifest_len, .what = what, .line = 0 };
	int r = parse_header(&c, l->manifest, l->manifest_len, what, l, err);
	if (r < 0)
		return r;
	l->bins_text = c.p;
	l->bins_text_len = (size_t)(c.end - c.p);
	if (l->bins_text_len == 0 || l->bins_text[l->bins_text_len - 1] != '\n')
		return sw_err(err, SW_EINVAL, "%s: the bin lines are missing or not terminated", what);
	return 0;
}

static int index_load(sw_list *l, const char *state_dir);

static int64_t now_ms(void)
{
	struct timespec now;
	return clock_gettime(CLOCK_REALTIME, &now) == 0 ? (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 : 0;
}

/* Open the manifest and fstat it and the generation's directory (the identity
 * the list index is keyed by); 1 when the index describes this file (l is
 * filled from it, the manifest is not read), 0 when the manifest must be read. */
static int open_manifest_indexed(sw_list *l, const char *state_dir, const char *what, sw_error *err)
{
	l->manifest_fd = openat(l->dirfd, SW_MANIFEST_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (l->manifest_fd < 0) {
		if (errno == ELOOP)
			return sw_err(err, SW_EINVAL, "%s: is a symbolic link, refused", what);
		return sw_err_errno(err, errno, "%s: cannot open", what);
	}
	if (fstat(l->manifest_fd, &l->manifest_st) < 0 || fstat(l->dirfd, &l->dir_st) < 0)
		return sw_err_errno(err, errno, "%s: stat failed", what);
	if (!S_ISREG(l->manifest_st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: not a regular file", what);
	if (index_load(l, state_dir))
		return 1;
	/* Before the manifest is read, for the index written after this
	 * verification (index_store). */
	l->opened_ms = now_ms();
	return 0;
}

static int open_fd(int dirfd, const char *path, bool lazy, const char *state_dir, sw_list *l, sw_error *err)
{
	memset(l, 0, sizeof *l);
	l->dirfd = dirfd;
	l->path = strdup(path);
	if (!l->path)
		return sw_err_errno(err, ENOMEM, "%s", path);
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", path, SW_MANIFEST_NAME);
	int r;
	if (state_dir) {
		l->index_open = true;
		l->manifest_fd = l->index_fd = -1;
		r = open_manifest_indexed(l, state_dir, what, err);
		if (r < 0)
			return r;
		if (r == 1) {
			l->indexed = true;
			return pin(l, err);
		}
		r = sw_read_fd(l->manifest_fd, SW_MANIFEST_MAX, what, &l->manifest, &l->manifest_len, err);
	} else {
		r = sw_read_file_at(dirfd, SW_MANIFEST_NAME, SW_MANIFEST_MAX, what, &l->manifest, &l->manifest_len, err);
	}
	if (r < 0)
		return r;
	sw_sha256(l->manifest, l->manifest_len, l->manifest_sha256);
	if (!lazy)
		return sw_manifest_parse(l->manifest, l->manifest_len, what, l, err);
	r = parse_lazy(l, what, err);
	if (r < 0)
		return r;
	return pin(l, err);
}

int sw_list_open_fd(int dirfd, const char *path, sw_list *l, sw_error *err)
{
	return open_fd(dirfd, path, false, NULL, l, err);
}

int sw_list_open_dir(const char *dir, sw_list *l, sw_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		memset(l, 0, sizeof *l);
		l->dirfd = -1;
		return sw_err_errno(err, errno, "%s: cannot open allowlist directory", dir);
	}
	return sw_list_open_fd(fd, dir, l, err);
}

enum { OPEN_RETRIES = 8 };

/* Does the link at path now name another directory than dirfd? */
static bool current_moved(const char *path, int dirfd)
{
	struct stat held, now;
	if (fstat(dirfd, &held) < 0 || stat(path, &now) < 0)
		return false;
	return held.st_dev != now.st_dev || held.st_ino != now.st_ino;
}

static int open_current(const char *lists_dir, bool lazy, const char *state_dir, sw_list *l, sw_error *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/current", lists_dir);
	/* `current` is a symlink by design (the atomic switch); everything below it
	 * is read through this one directory fd, so a switch between two reads
	 * cannot mix generations. */
	for (unsigned attempt = 0;; attempt++) {
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			memset(l, 0, sizeof *l);
			l->dirfd = -1;
			if (errno == ENOENT)
				return sw_err(err, SW_ENOTFOUND, "%s: no allowlist installed", path);
			return sw_err_errno(err, errno, "%s: cannot open allowlist", path);
		}
		int r = open_fd(fd, path, lazy, state_dir, l, err);
		/* A file that vanished from the generation just opened: refreshes have
		 * switched `current` since and pruned that generation. Take the new one. */
		bool vanished = (r == -ENOENT || (r >= 0 && l->pinned && (!l->sigs || l->entries_fd < 0)));
		if (!vanished || attempt == OPEN_RETRIES || !current_moved(path, l->dirfd))
			return r;
		sw_list_close(l);
	}
}

int sw_list_open_current(const char *lists_dir, sw_list *l, sw_error *err)
{
	return open_current(lists_dir, false, NULL, l, err);
}

int sw_list_open_current_lazy(const char *lists_dir, sw_list *l, sw_error *err)
{
	return open_current(lists_dir, true, NULL, l, err);
}

int sw_list_open_current_indexed(const char *lists_dir, const char *state_dir, sw_list *l, sw_error *err)
{
	return open_current(lists_dir, true, state_dir, l, err);
}

void sw_list_close(sw_list *l)
{
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->dirfd = -1;
	if (l->pinned && l->entries_fd >= 0)
		close(l->entries_fd);
	l->pinned = false;
	if (l->index_open) {
		if (l->manifest_fd >= 0)
			close(l->manifest_fd);
		if (l->index_fd >= 0)
			close(l->index_fd);
		l->manifest_fd = l->index_fd = -1;
	}
	l->index_open = l->indexed = false;
	free(l->sigs);
	l->sigs = NULL;
	free(l->path);
	free(l->manifest);
	free(l->bins);
	l->path = NULL;
	l->manifest = NULL;
	l->bins = NULL;
}

/* ------------------------------------------------------------- list index */

/*
 * The list index: <state_dir>/listindex, written by the hook (root) after a
 * verification that read the manifest, read by every later start instead of the
 * manifest. At 1 000 000 entries the manifest is about 1.6 MB (16 384 bin lines):
 * reading it into fresh memory and hashing it cost more than everything else a
 * start does. The index holds what a start needs of the manifest: the header's
 * facts, the manifest's SHA-256, and per bin its offset, length and SHA-256, in
 * fixed-size records a start reads one of with pread.
 *
 * Keyed by the manifest file it was made from: device, inode, size, mtime and
 * ctime (nanoseconds) of lists_dir/<generation>/manifest, and the device and
 * inode of the generation directory. Any other file, or this file changed,
 * misses it; and it is written only when the manifest's ctime lay
 * INDEX_SETTLE_MS in the past when it was opened, so no later version (a write
 * in place within the same clock tick, a reused inode number) can carry the
 * same stamp (storeindex.h says the same of the stores' files).
 *
 * Why an index read instead of the manifest is no weaker (docs/security.md):
 *  - What it holds is authentic. Root wrote it, into a directory only root can
 *    write (sw_trust_open), from manifest bytes whose SHA-256 had just passed
 *    the signature check or matched the verification cache; the daemon's
 *    account, which writes lists_dir, can neither write nor replace it.
 *  - The identity check only decides whether that authentic list is still the
 *    current one. The daemon's account cannot fake it (ctime is set by the
 *    kernel; only root can set the clock), and if it could, the most it could
 *    achieve is that the hook keeps using the list verified before: a freeze,
 *    which that account can cause anyway by not installing updates. Expiry,
 *    scope and the rollback serial are still checked on every start, and the
 *    signatures through the verification cache, which is keyed by the
 *    manifest's SHA-256 (from the index), the signature file's and the key
 *    set's: a changed signature file or key set misses it and the start reads
 *    and verifies the manifest in full.
 *  - The entries file is checked as before: its size must be the one the
 *    manifest fixed, and the bin read must hash to the SHA-256 in the index, so
 *    a swapped entries file is refused whatever the index says.
 *  - Any doubt reads the manifest: a missing, short, garbled (header and every
 *    record carry a SHA-256 check) or other version's index; a verification
 *    that fails in any way while the list came from the index (it is run again
 *    on the manifest, and that answer counts); a lookup whose bin does not hash
 *    as the index says (the manifest's own bin line is used, after checking
 *    the manifest still hashes to the verified SHA-256). An allow never rests
 *    on the index alone: the bin read from lists_dir must hash to a value taken
 *    from a verified manifest.
 */
#define INDEX_NAME "listindex"
#define INDEX_MAGIC "sigward-lindex\n"
#define INDEX_VERSION 1
#define INDEX_BYTE_ORDER 0x01020304u
#define INDEX_SETTLE_MS 50

typedef struct idx_header {
	char magic[16];
	uint32_t version, byte_order, header_len, record_len;
	/* the manifest file it was made from */
	uint64_t dir_dev, dir_ino, m_dev, m_ino, m_size;
	int64_t m_mtime, m_mtime_ns, m_ctime, m_ctime_ns;
	/* the verified manifest */
	unsigned char manifest_sha256[SW_SHA256_LEN];
	uint32_t format, n_bins;
	uint64_t serial, n_entries, entries_size;
	int64_t issued, expires;
	char scope[72];                 /* NUL-padded */
	unsigned char check[SW_SHA256_LEN]; /* SHA-256 of everything above */
} idx_header;

typedef struct idx_record {
	uint64_t offset, length, count;
	unsigned char sha256[SW_SHA256_LEN];
	unsigned char check[8];         /* SHA-256(manifest hash, bin number, the 56 bytes above) */
} idx_record;

_Static_assert(sizeof(idx_header) == 288, "list index header layout");
_Static_assert(sizeof(idx_record) == 64, "list index record layout");
_Static_assert(SW_SCOPE_MAX < sizeof(((idx_header *)0)->scope), "scope fits the index");

static bool index_matches(const idx_header *h, const sw_list *l)
{
	const struct stat *m = &l->manifest_st, *d = &l->dir_st;
	return h->dir_dev == (uint64_t)d->st_dev && h->dir_ino == (uint64_t)d->st_ino &&
	       h->m_dev == (uint64_t)m->st_dev && h->m_ino == (uint64_t)m->st_ino &&
	       h->m_size == (uint64_t)m->st_size && h->m_mtime == (int64_t)m->st_mtim.tv_sec &&
	       h->m_mtime_ns == (int64_t)m->st_mtim.tv_nsec && h->m_ctime == (int64_t)m->st_ctim.tv_sec &&
	       h->m_ctime_ns == (int64_t)m->st_ctim.tv_nsec;
}

static void record_check(const unsigned char manifest_sha[SW_SHA256_LEN], uint32_t i, const idx_record *rec,
			 unsigned char out[8])
{
	unsigned char buf[SW_SHA256_LEN + 4 + offsetof(idx_record, check)], md[SW_SHA256_LEN];
	memcpy(buf, manifest_sha, SW_SHA256_LEN);
	memcpy(buf + SW_SHA256_LEN, &i, 4);
	memcpy(buf + SW_SHA256_LEN + 4, rec, offsetof(idx_record, check));
	sw_sha256(buf, sizeof buf, md);
	memcpy(out, md, 8);
}

/* 1: the index in state_dir describes l's manifest file, l's header fields are
 * filled from it and l->index_fd is kept for index_bin; 0: it does not (absent,
 * unreadable, another file, or not an index this code wrote). */
static int index_load(sw_list *l, const char *state_dir)
{
	_cleanup_close_ int dfd = sw_trust_open(state_dir, SW_TRUST_DIR, NULL);
	if (dfd < 0)
		return 0;
	_cleanup_close_ int fd = openat(dfd, INDEX_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0;
	idx_header h;
	unsigned char md[SW_SHA256_LEN];
	if (!sw_pread_all(fd, &h, sizeof h, 0) || memcmp(h.magic, INDEX_MAGIC, sizeof INDEX_MAGIC) != 0 ||
	    h.version != INDEX_VERSION || h.byte_order != INDEX_BYTE_ORDER || h.header_len != sizeof h ||
	    h.record_len != sizeof(idx_record))
		return 0;
	sw_sha256(&h, offsetof(idx_header, check), md);
	if (memcmp(md, h.check, sizeof md) != 0 || !index_matches(&h, l))
		return 0;
	/* The same checks as parse_header: a garbled index that passed the hash
	 * above still cannot hand the lookup an impossible bin count. */
	size_t sl = strnlen(h.scope, sizeof h.scope);
	if (h.format < SW_LIST_FORMAT_MIN || h.format > SW_LIST_FORMAT || h.n_bins == 0 || h.n_bins > SW_MAX_BINS ||
	    (h.n_bins & (h.n_bins - 1)) != 0 || sl == sizeof h.scope || !sw_scope_ok(h.scope, sl) ||
	    h.expires <= h.issued || h.entries_size > SW_ENTRIES_MAX)
		return 0;
	l->format = h.format;
	memcpy(l->scope, h.scope, sl);
	l->scope[sl] = '\0';
	l->serial = h.serial;
	l->issued = h.issued;
	l->expires = h.expires;
	l->n_entries = h.n_entries;
	l->n_bins = h.n_bins;
	l->bin_bits = 0;
	while ((1u << l->bin_bits) < l->n_bins)
		l->bin_bits++;
	l->entries_size = h.entries_size;
	memcpy(l->manifest_sha256, h.manifest_sha256, SW_SHA256_LEN);
	l->index_fd = TAKE_FD(fd);
	return 1;
}

/* Bin i from the index: 0, or -1 when its record is missing or garbled. */
static int index_bin(const sw_list *l, uint32_t i, sw_bin *b)
{
	idx_record rec;
	unsigned char ck[8];
	if (i >= l->n_bins || !sw_pread_all(l->index_fd, &rec, sizeof rec, sizeof(idx_header) + (uint64_t)i * sizeof rec))
		return -1;
	record_check(l->manifest_sha256, i, &rec, ck);
	if (memcmp(ck, rec.check, sizeof ck) != 0 || rec.length > BIN_MAX || rec.offset > l->entries_size ||
	    rec.length > l->entries_size - rec.offset)
		return -1;
	b->offset = rec.offset;
	b->length = rec.length;
	b->count = rec.count;
	memcpy(b->sha256, rec.sha256, SW_SHA256_LEN);
	return 0;
}

/* Read the manifest of an indexed list from the descriptor fstat'ed at open:
 * *text (malloc'ed), its SHA-256 in md. */
static int index_read_manifest(const sw_list *l, char **text, size_t *len, unsigned char md[SW_SHA256_LEN],
			       sw_error *err)
{
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", l->path, SW_MANIFEST_NAME);
	if (lseek(l->manifest_fd, 0, SEEK_SET) < 0)
		return sw_err_errno(err, errno, "%s: cannot read", what);
	int r = sw_read_fd(l->manifest_fd, SW_MANIFEST_MAX, what, text, len, err);
	if (r < 0)
		return r;
	sw_sha256(*text, *len, md);
	return 0;
}

/* Leave the index: read the manifest and take everything from it, as an open
 * without an index would have (sw_list_verify's full path). */
static int index_leave(sw_list *l, sw_error *err)
{
	if (!l->indexed)
		return 0;
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", l->path, SW_MANIFEST_NAME);
	l->indexed = false;
	close(l->index_fd);
	l->index_fd = -1;
	/* The index written after this verification describes what is read now,
	 * under the identity fstat saw at the open (see index_store). */
	l->opened_ms = now_ms();
	int r = index_read_manifest(l, &l->manifest, &l->manifest_len, l->manifest_sha256, err);
	if (r < 0)
		return r;
	return parse_lazy(l, what, err);
}

/* After a verification that read the manifest: write the index of it. Best
 * effort; a failure only means the next start reads the manifest again. */
static void index_store(sw_list *l, const sw_verify_opts *o)
{
	if (!l->index_open || l->indexed || !l->manifest || !o->state_dir || !o->use_cache || !o->update_state)
		return;
	/* The manifest's ctime must lie INDEX_SETTLE_MS before the moment it was
	 * read: the kernel stamps ctime from a coarse clock, and a change in the
	 * same tick as the stamp (after the read) would keep it. */
	const struct stat *m = &l->manifest_st;
	if (l->opened_ms - ((int64_t)m->st_ctim.tv_sec * 1000 + m->st_ctim.tv_nsec / 1000000) < INDEX_SETTLE_MS)
		return;
	sw_list full = { .dirfd = -1 };
	if (sw_manifest_parse(l->manifest, l->manifest_len, "manifest", &full, NULL) < 0 ||
	    strcmp(full.scope, l->scope) != 0 || full.serial != l->serial) {
		free(full.bins);
		return;
	}
	size_t size = sizeof(idx_header) + (size_t)full.n_bins * sizeof(idx_record);
	_cleanup_free_ char *buf = calloc(1, size);
	if (!buf) {
		free(full.bins);
		return;
	}
	idx_header *h = (idx_header *)buf;
	memcpy(h->magic, INDEX_MAGIC, sizeof INDEX_MAGIC);
	h->version = INDEX_VERSION;
	h->byte_order = INDEX_BYTE_ORDER;
	h->header_len = sizeof *h;
	h->record_len = sizeof(idx_record);
	h->dir_dev = (uint64_t)l->dir_st.st_dev;
	h->dir_ino = (uint64_t)l->dir_st.st_ino;
	h->m_dev = (uint64_t)m->st_dev;
	h->m_ino = (uint64_t)m->st_ino;
	h->m_size = (uint64_t)m->st_size;
	h->m_mtime = (int64_t)m->st_mtim.tv_sec;
	h->m_mtime_ns = (int64_t)m->st_mtim.tv_nsec;
	h->m_ctime = (int64_t)m->st_ctim.tv_sec;
	h->m_ctime_ns = (int64_t)m->st_ctim.tv_nsec;
	memcpy(h->manifest_sha256, l->manifest_sha256, SW_SHA256_LEN);
	h->format = full.format;
	h->n_bins = full.n_bins;
	h->serial = full.serial;
	h->n_entries = full.n_entries;
	const sw_bin *last = &full.bins[full.n_bins - 1];
	h->entries_size = last->offset + last->length;
	h->issued = full.issued;
	h->expires = full.expires;
	memcpy(h->scope, full.scope, strlen(full.scope));
	sw_sha256(h, offsetof(idx_header, check), h->check);
	for (uint32_t i = 0; i < full.n_bins; i++) {
		idx_record *rec = (idx_record *)(buf + sizeof *h) + i;
		rec->offset = full.bins[i].offset;
		rec->length = full.bins[i].length;
		rec->count = full.bins[i].count;
		memcpy(rec->sha256, full.bins[i].sha256, SW_SHA256_LEN);
		record_check(l->manifest_sha256, i, rec, rec->check);
	}
	free(full.bins);
	_cleanup_close_ int dfd = sw_trust_open(o->state_dir, SW_TRUST_DIR, NULL);
	if (dfd >= 0)
		(void)sw_write_file_atomic_at(dfd, o->state_dir, INDEX_NAME, buf, size, 0600, NULL);
}

/* ------------------------------------------------------------- signatures */

typedef struct sigset {
	unsigned char *sig[SW_MAX_SIGS];
	size_t len[SW_MAX_SIGS];
	size_t n;
	unsigned char file_sha256[SW_SHA256_LEN];
} sigset;

static void sigset_free(sigset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->sig[i]);
	s->n = 0;
}

static int read_sigs(const sw_list *l, sigset *s, sw_error *err)
{
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", l->path, SW_SIGS_NAME);
	/* A pinned list read the file when it was opened. */
	_cleanup_free_ char *owned = NULL;
	const char *text = l->sigs;
	size_t len = l->sigs_len;
	int r = text ? 0 : -ENOENT;
	memset(s, 0, sizeof *s);
	if (!l->pinned) {
		r = sw_read_file_at(l->dirfd, SW_SIGS_NAME, SW_SIGS_MAX, what, &owned, &len, err);
		text = owned;
	}
	if (r < 0) {
		if (-r == ENOENT)
			return sw_err(err, SW_EVERIFY, "%s: missing: the list is not signed", what);
		return r;
	}
	sw_sha256(text, len, s->file_sha256);
	unsigned line = 0;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		size_t n = (size_t)(e - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n) {
			if (s->n == SW_MAX_SIGS) {
				sigset_free(s);
				return sw_err(err, SW_ETOOBIG, "%s: more than %d signatures", what, SW_MAX_SIGS);
			}
			if (sw_base64_decode(p, n, &s->sig[s->n], &s->len[s->n]) < 0) {
				sigset_free(s);
				return sw_err(err, SW_EVERIFY, "%s:%u: not a base64 signature", what, line);
			}
			s->n++;
		}
		p = nl ? nl + 1 : end;
	}
	if (s->n == 0)
		return sw_err(err, SW_EVERIFY, "%s: no signatures", what);
	return 0;
}

static int count_signers(sw_list *l, const sigset *s, const sw_keyring *kr, sw_error *err)
{
	bool used[SW_MAX_KEYS] = { false };
	l->n_signers = 0;
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < kr->n; k++) {
			if (used[k])
				continue;
			int r = sw_key_verify(&kr->keys[k], s->sig[i], s->len[i], l->manifest, l->manifest_len, err);
			if (r < 0)
				return r;
			if (r == 1) {
				/* Each key counts once, however many lines it signed. */
				used[k] = true;
				memcpy(l->signers[l->n_signers++], kr->keys[k].id, SW_KEYID_HEX);
				break;
			}
		}
	return (int)l->n_signers;
}

int sw_list_count_signers(sw_list *l, const sw_keyring *kr, sw_error *err)
{
	sigset s;
	int r = read_sigs(l, &s, err);
	if (r < 0)
		return r;
	r = count_signers(l, &s, kr, err);
	sigset_free(&s);
	return r;
}

/* The verification cache: one root-only file remembering that the manifest with
 * hash M and the signature file with hash S were verified against the trusted key
 * set with digest K, and by which keys. It lets the hook skip OpenSSL's key
 * decoding and signature checks (milliseconds) on every start after the first; it
 * is trusted like every other file in the root-owned state directory, and any
 * change to the manifest, the signatures or the key set misses it. */
static int cache_lookup(const sw_list *l, const sw_verify_opts *o, const unsigned char sigs_sha[SW_SHA256_LEN],
			const sw_keyring *ids)
{
	_cleanup_close_ int dfd = sw_trust_open(o->state_dir, SW_TRUST_DIR, NULL);
	if (dfd < 0)
		return 0;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (sw_read_file_at(dfd, CACHE_NAME, 4096 + SW_MAX_KEYS * (SW_SHA256_HEX + 1), NULL, &text, &len, NULL) < 0)
		return 0;
	char m[SW_SHA256_HEX + 1], s[SW_SHA256_HEX + 1];
	sw_hex(l->manifest_sha256, SW_SHA256_LEN, m);
	sw_hex(sigs_sha, SW_SHA256_LEN, s);
	char want[256];
	int wn = snprintf(want, sizeof want, CACHE_MAGIC " %s %s %s ", m, s, ids->set_digest);
	if (wn < 0 || len <= (size_t)wn || memcmp(text, want, (size_t)wn) != 0 || text[len - 1] != '\n')
		return 0;
	sw_list *ml = (sw_list *)l;
	ml->n_signers = 0;
	for (const char *p = text + wn, *end = text + len - 1; p < end;) {
		if (end - p < SW_SHA256_HEX || !sw_is_hex64(p, SW_SHA256_HEX))
			return 0;
		/* Count only keys still in the trusted set (the set digest matched, so
		 * this is a consistency check, not the security boundary). */
		bool trusted = false;
		for (size_t k = 0; k < ids->n; k++)
			if (memcmp(ids->keys[k].id, p, SW_SHA256_HEX) == 0)
				trusted = true;
		if (!trusted || ml->n_signers == SW_MAX_KEYS)
			return 0;
		memcpy(ml->signers[ml->n_signers], p, SW_SHA256_HEX);
		ml->signers[ml->n_signers++][SW_SHA256_HEX] = '\0';
		p += SW_SHA256_HEX;
		if (p < end && *p++ != ',')
			return 0;
	}
	ml->from_cache = true;
	return 1;
}

__attribute__((noinline)) static void cache_store(const sw_list *l, const sw_verify_opts *o, const unsigned char sigs_sha[SW_SHA256_LEN],
			const char *set_digest)
{
	char m[SW_SHA256_HEX + 1], s[SW_SHA256_HEX + 1];
	char buf[4096 + SW_MAX_KEYS * (SW_SHA256_HEX + 1)];
	sw_hex(l->manifest_sha256, SW_SHA256_LEN, m);
	sw_hex(sigs_sha, SW_SHA256_LEN, s);
	int n = snprintf(buf, sizeof buf, CACHE_MAGIC " %s %s %s ", m, s, set_digest);
	for (size_t i = 0; i < l->n_signers && n > 0; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%s", i ? "," : "", l->signers[i]);
	if (n <= 0 || (size_t)n + 1 >= sizeof buf)
		return;
	buf[n++] = '\n';
	_cleanup_close_ int dfd = sw_trust_open(o->state_dir, SW_TRUST_DIR, NULL);
	if (dfd >= 0)
		(void)sw_write_file_atomic_at(dfd, o->state_dir, CACHE_NAME, buf, (size_t)n, 0600, NULL);
}

static int verify_signatures(sw_list *l, const sw_verify_opts *o, sw_error *err)
{
	sigset s;
	int r = read_sigs(l, &s, err);
	if (r < 0)
		return r;
	bool cache = o->use_cache && o->state_dir;
	/* The key rings (8 KB each) on the heap: on the stack of every start
	 * they were pages the kernel had to fault in (bench/PROFILE.md). */
	sw_keyring *ids = calloc(1, sizeof *ids), *kr = NULL;
	if (!ids) {
		r = sw_err_errno(err, ENOMEM, "%s: key ids", o->keys_dir);
		goto out;
	}
	if (cache) {
		r = sw_keyids_load(o->keys_dir, ids, err);
		if (r < 0)
			goto out;
		if (cache_lookup(l, o, s.file_sha256, ids)) {
			r = (int)l->n_signers;
			goto out;
		}
	}
	if (l->indexed) {
		/* The manifest was not read: sw_list_verify reads it and runs again. */
		r = sw_err(err, SW_EVERIFY, "%s/%s: the verification cache does not name the indexed manifest", l->path,
			   SW_MANIFEST_NAME);
		goto out;
	}
	kr = calloc(1, sizeof *kr);
	if (!kr) {
		r = sw_err_errno(err, ENOMEM, "%s: keys", o->keys_dir);
		goto out;
	}
	r = sw_keyring_load(o->keys_dir, kr, err);
	if (r < 0) {
		free(kr);
		kr = NULL;
		goto out;
	}
	r = count_signers(l, &s, kr, err);
	if (r >= (int)o->threshold && cache && o->update_state)
		cache_store(l, o, s.file_sha256, kr->set_digest);
	sw_keyring_free(kr);
out:
	free(kr);
	if (ids)
		sw_keyring_free(ids);
	free(ids);
	sigset_free(&s);
	return r;
}

/* ----------------------------------------------------------------- verify */

static int verify_list(sw_list *l, const sw_verify_opts *o, sw_error *err);

int sw_list_verify(sw_list *l, const sw_verify_opts *o, sw_error *err)
{
	int r = verify_list(l, o, err);
	/* Any doubt about a list taken from the index: the manifest decides, as
	 * if there were no index (a refusal is then the manifest's own). */
	if (r < 0 && l->indexed) {
		if (err)
			sw_error_clear(err);
		r = index_leave(l, err);
		if (r >= 0)
			r = verify_list(l, o, err);
	}
	if (r >= 0)
		index_store(l, o);
	return r;
}

static int verify_list(sw_list *l, const sw_verify_opts *o, sw_error *err)
{
	char name[SW_SCOPE_MAX + 32];
	snprintf(name, sizeof name, "%s#%llu", l->scope, (unsigned long long)l->serial);

	/* Authenticity first: nothing the manifest claims (scope, times, serial)
	 * means anything before the signatures are checked. */
	int r = verify_signatures(l, o, err);
	if (r < 0)
		return r;
	if ((unsigned)r < o->threshold)
		return sw_err(err, SW_EVERIFY, "allowlist %s: %d valid signature%s by trusted keys, %u required",
			      l->path, r, r == 1 ? "" : "s", o->threshold);
	if (!o->scope || strcmp(o->scope, l->scope) != 0)
		return sw_err(err, SW_EPOLICY, "allowlist %s is for scope '%s', this node is configured for '%s'",
			      name, l->scope, o->scope ? o->scope : "(none)");
	char t[32];
	sw_format_rfc3339(l->expires, t);
	if (o->now >= l->expires + o->grace)
		return sw_err(err, SW_EPOLICY, "allowlist %s expired at %s%s", name, t,
			      o->grace ? " (grace period over)" : "");
	if (o->state_dir) {
		uint64_t highest = 0;
		if (o->accepted) {
			highest = *o->accepted;
		} else {
			r = sw_serial_get(o->state_dir, l->scope, &highest, err);
			if (r < 0)
				return r;
		}
		if (l->serial < highest)
			return sw_err(err, SW_EPOLICY, "allowlist %s is older than serial %llu already accepted (rollback refused)",
				      name, (unsigned long long)highest);
		if (o->update_state && l->serial > highest) {
			r = sw_serial_raise(o->state_dir, l->scope, l->serial, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ----------------------------------------------------------------- serial */

static int serial_parse(const char *text, size_t len, const char *what, const char *scope,
			uint64_t *out, sw_error *err)
{
	*out = 0;
	unsigned line = 0;
	size_t sl = strlen(scope);
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		line++;
		if (!nl)
			return sw_err(err, SW_EINVAL, "%s:%u: line is not terminated", what, line);
		const char *sp = memchr(p, ' ', (size_t)(nl - p));
		uint64_t v;
		if (!sp || !sw_scope_ok(p, (size_t)(sp - p)) || sw_parse_u64(sp + 1, (size_t)(nl - sp - 1), &v) < 0)
			return sw_err(err, SW_EINVAL, "%s:%u: expected '<scope> <serial>'", what, line);
		if ((size_t)(sp - p) == sl && memcmp(p, scope, sl) == 0)
			*out = v;
		p = nl + 1;
	}
	return 0;
}

static int serial_read(int dfd, const char *state_dir, char **text, size_t *len, sw_error *err)
{
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", state_dir, SERIALS_NAME);
	int r = sw_read_file_at(dfd, SERIALS_NAME, SERIALS_MAX, what, text, len, err);
	if (r < 0 && -r == ENOENT) {
		*text = strdup("");
		*len = 0;
		return *text ? 0 : sw_err_errno(err, ENOMEM, "%s", what);
	}
	return r;
}

int sw_serial_get(const char *state_dir, const char *scope, uint64_t *serial, sw_error *err)
{
	/* The rollback record: root's directory only (lib/trust.h), or another
	 * account could lower the highest serial accepted. */
	_cleanup_close_ int dfd = sw_trust_open(state_dir, SW_TRUST_DIR, err);
	if (dfd < 0)
		return -dfd == EPERM ? dfd : sw_err_errno(err, -dfd, "%s: cannot open state directory", state_dir);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = serial_read(dfd, state_dir, &text, &len, err);
	if (r < 0)
		return r;
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", state_dir, SERIALS_NAME);
	return serial_parse(text, len, what, scope, serial, err);
}

int sw_serial_raise(const char *state_dir, const char *scope, uint64_t serial, sw_error *err)
{
	/* The rollback record: root's directory only (lib/trust.h), or another
	 * account could lower the highest serial accepted. */
	_cleanup_close_ int dfd = sw_trust_open(state_dir, SW_TRUST_DIR, err);
	if (dfd < 0)
		return -dfd == EPERM ? dfd : sw_err_errno(err, -dfd, "%s: cannot open state directory", state_dir);
	/* Concurrent hooks serialise on a lock file so that no raise is lost and the
	 * file never goes backwards. It is created 0600 in root-only state, so no
	 * other account can open it to hold the lock; the wait is bounded anyway
	 * (a start is refused rather than held up). O_NONBLOCK: a FIFO in its
	 * place must not block the open either. */
	_cleanup_close_ int lfd = openat(dfd, SERIALS_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
					 0600);
	if (lfd < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot open", state_dir, SERIALS_LOCK);
	int lr = sw_flock_wait(lfd, LOCK_EX, SW_LOCK_WAIT_MS);
	if (lr == -ETIMEDOUT)
		return sw_err(err, ETIMEDOUT, "%s/%s: still locked by another process after %u ms", state_dir,
			      SERIALS_LOCK, SW_LOCK_WAIT_MS);
	if (lr < 0)
		return sw_err_errno(err, -lr, "%s/%s: cannot lock", state_dir, SERIALS_LOCK);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = serial_read(dfd, state_dir, &text, &len, err);
	if (r < 0)
		return r;
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", state_dir, SERIALS_NAME);
	uint64_t cur;
	r = serial_parse(text, len, what, scope, &cur, err);
	if (r < 0 || cur >= serial)
		return r;
	/* Rewrite: every other scope's line, then this scope's new serial. */
	_cleanup_free_ char *out = malloc(len + SW_SCOPE_MAX + 32);
	if (!out)
		return sw_err_errno(err, ENOMEM, "%s", what);
	size_t o = 0, sl = strlen(scope);
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp = memchr(p, ' ', (size_t)(nl - p));
		if (!((size_t)(sp - p) == sl && memcmp(p, scope, sl) == 0)) {
			memcpy(out + o, p, (size_t)(nl - p + 1));
			o += (size_t)(nl - p + 1);
		}
		p = nl + 1;
	}
	o += (size_t)sprintf(out + o, "%s %llu\n", scope, (unsigned long long)serial);
	return sw_write_file_atomic_at(dfd, state_dir, SERIALS_NAME, out, o, 0644, err);
}

/* ----------------------------------------------------------------- lookup */

uint32_t sw_bin_of(const unsigned char d[SW_SHA256_LEN], uint32_t bits)
{
	if (bits == 0)
		return 0;
	uint32_t top = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	return top >> (32 - bits);
}

const char *sw_entry_kind_name(sw_entry_kind k)
{
	switch (k) {
	case SW_ENTRY_MANIFEST: return "manifest";
	case SW_ENTRY_IMAGE_ID: return "image-id";
	case SW_ENTRY_UNTYPED: break;
	}
	return "untyped";
}

bool sw_entry_kind_matches(sw_entry_kind entry, const char *kind)
{
	if (entry == SW_ENTRY_UNTYPED || !kind || strcmp(kind, "any") == 0)
		return true;
	/* "unknown" comes from Docker's repository digests and "name@sha256:" or
	 * "sha256:" annotation values: what a registry serves by digest, a manifest
	 * or an index. An image id arrives as "image-id" (a store that proved it is
	 * the config of the layers the container runs, or CRI-O's bare-hex
	 * ImageRef). Anything else matches nothing. */
	if (entry == SW_ENTRY_MANIFEST)
		return strcmp(kind, "manifest") == 0 || strcmp(kind, "index") == 0 || strcmp(kind, "unknown") == 0;
	if (entry == SW_ENTRY_IMAGE_ID)
		return strcmp(kind, "image-id") == 0;
	return false;
}

size_t sw_entry_parse(const char *p, size_t avail, unsigned format, sw_entry_kind *kind, const char **ref,
		      size_t *ref_len)
{
	if (avail < 7 + SW_SHA256_HEX + 1 || !sw_is_sha256_digest(p, 7 + SW_SHA256_HEX))
		return 0;
	const char *q = p + 7 + SW_SHA256_HEX, *end = p + avail;
	sw_entry_kind k = SW_ENTRY_UNTYPED;
	if (format >= 2) {
		/* The kind is mandatory: " manifest" or " image-id". */
		static const struct { const char *tok; sw_entry_kind k; } kinds[] = {
			{ " manifest", SW_ENTRY_MANIFEST }, { " image-id", SW_ENTRY_IMAGE_ID },
		};
		size_t i = 0;
		for (; i < SW_ARRAY_SIZE(kinds); i++) {
			size_t tl = strlen(kinds[i].tok);
			if ((size_t)(end - q) > tl && memcmp(q, kinds[i].tok, tl) == 0 && (q[tl] == ' ' || q[tl] == '\n'))
				break;
		}
		if (i == SW_ARRAY_SIZE(kinds))
			return 0;
		k = kinds[i].k;
		q += strlen(kinds[i].tok);
	}
	const char *r = NULL;
	size_t rl = 0;
	if (q < end && *q == ' ') {
		r = ++q;
		/* References are printable ASCII without spaces, 1-SW_REF_MAX of them. */
		while (q < end && *q != '\n') {
			if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f || (size_t)(q - r) >= SW_REF_MAX)
				return 0;
			q++;
		}
		rl = (size_t)(q - r);
		if (rl == 0)
			return 0;
	}
	if (q >= end || *q != '\n')
		return 0;
	if (kind)
		*kind = k;
	if (ref)
		*ref = r;
	if (ref_len)
		*ref_len = rl;
	return (size_t)(q - p) + 1;
}

/* Bin i of a lazily opened list: find its line (line i of the bin lines) and parse
 * it as strictly as the full parse does, index included. */
static int lazy_bin(const sw_list *l, uint32_t i, sw_bin *b, sw_error *err)
{
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", l->path, SW_MANIFEST_NAME);
	const char *p = l->bins_text, *end = l->bins_text + l->bins_text_len;
	if (i == l->n_bins - 1) {
		/* The last line: search backwards, and it must be the file's end. */
		const char *q = end - 1;
		while (q > p && q[-1] != '\n')
			q--;
		p = q;
	} else {
		for (uint32_t k = 0; k < i; k++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl || nl + 1 >= end)
				return sw_err(err, SW_EINVAL, "%s: fewer bin lines than 'bins' says", what);
			p = nl + 1;
		}
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || (size_t)(nl - p) <= 4 || memcmp(p, "bin ", 4) != 0)
		return sw_err(err, SW_EINVAL, "%s: expected 'bin <index> <offset> <length> <count> <sha256>' for bin %u", what, i);
	return parse_bin_line(p + 4, (size_t)(nl - p - 4), what, 8 + i, i, b, err);
}

static int search_bin(const sw_list *l, uint32_t bi, const sw_bin *b, uint64_t total, const char *digest,
		      sw_entry_kind *kind, char *ref_out, size_t ref_out_len, sw_error *err);

/* A lookup in an indexed list that the index could not answer: the manifest's
 * own bin line, once the manifest is shown to be the one verified (it hashes to
 * the SHA-256 the verification cache matched). */
static int find_in_manifest(const sw_list *l, const char *digest, sw_entry_kind *kind, char *ref_out,
			    size_t ref_out_len, sw_error *err)
{
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", l->path, SW_MANIFEST_NAME);
	_cleanup_free_ char *text = NULL;
	size_t len;
	unsigned char md[SW_SHA256_LEN];
	int r = index_read_manifest(l, &text, &len, md, err);
	if (r < 0)
		return r;
	if (memcmp(md, l->manifest_sha256, SW_SHA256_LEN) != 0)
		return sw_err(err, SW_EVERIFY, "%s: changed since it was verified", what);
	sw_list m = *l;
	m.indexed = false;
	m.bins = NULL;
	m.manifest = text;
	m.manifest_len = len;
	r = parse_lazy(&m, what, err);
	if (r < 0)
		return r;
	return sw_list_find(&m, digest, kind, ref_out, ref_out_len, err);
}

int sw_list_find(const sw_list *l, const char *digest, sw_entry_kind *kind, char *ref_out, size_t ref_out_len,
		 sw_error *err)
{
	unsigned char d[SW_SHA256_LEN];
	if (strlen(digest) != 7 + SW_SHA256_HEX || memcmp(digest, "sha256:", 7) != 0 ||
	    sw_unhex(digest + 7, SW_SHA256_LEN, d) < 0)
		return sw_err(err, SW_EINVAL, "'%s' is not a sha256 digest", digest);
	if (l->indexed) {
		/* The bin's place and hash from the index; the bin itself from
		 * lists_dir, checked against that hash as always. Whatever fails
		 * here (a garbled record, another size, a bin that does not hash as
		 * the index says) is asked of the manifest instead. */
		uint32_t bi = sw_bin_of(d, l->bin_bits);
		sw_bin ib;
		if (index_bin(l, bi, &ib) == 0) {
			int r = search_bin(l, bi, &ib, l->entries_size, digest, kind, ref_out, ref_out_len, NULL);
			if (r >= 0)
				return r;
		}
		return find_in_manifest(l, digest, kind, ref_out, ref_out_len, err);
	}
	if (!l->bins && !l->bins_text)
		return sw_err(err, SW_EINVAL, "allowlist %s is not loaded", l->path ? l->path : "?");
	uint32_t bi = sw_bin_of(d, l->bin_bits);
	sw_bin lb, lastbin;
	const sw_bin *b, *last;
	if (l->bins) {
		b = &l->bins[bi];
		last = &l->bins[l->n_bins - 1];
	} else {
		int r = lazy_bin(l, bi, &lb, err);
		if (r < 0)
			return r;
		r = lazy_bin(l, l->n_bins - 1, &lastbin, err);
		if (r < 0)
			return r;
		b = &lb;
		last = &lastbin;
	}
	return search_bin(l, bi, b, last->offset + last->length, digest, kind, ref_out, ref_out_len, err);
}

/* Read bin bi (place and hash b) of an entries file that must be `total` bytes,
 * check its hash and binary-search it. */
static int search_bin(const sw_list *l, uint32_t bi, const sw_bin *b, uint64_t total, const char *digest,
		      sw_entry_kind *kind, char *ref_out, size_t ref_out_len, sw_error *err)
{
	if (b->length == 0)
		return 0;

	char what[4200];
	snprintf(what, sizeof what, "%s/%s", l->path, SW_ENTRIES_NAME);
	_cleanup_close_ int own = -1;
	int fd = l->pinned ? l->entries_fd : (own = openat(l->dirfd, SW_ENTRIES_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
	if (fd < 0)
		return sw_err_errno(err, l->pinned ? ENOENT : errno, "%s: cannot open", what);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: not a regular file", what);
	/* The manifest fixes the entries file's exact size: a file from another
	 * generation (mix-and-match) or a truncated one is caught here already. */
	if ((uint64_t)st.st_size != total)
		return sw_err(err, SW_EVERIFY, "%s: %lld bytes, the manifest says %llu", what, (long long)st.st_size,
			      (unsigned long long)total);
	if (b->offset + b->length > (uint64_t)st.st_size)
		return sw_err(err, SW_EVERIFY, "%s: bin %u lies beyond the end of the file", what, bi);
	_cleanup_free_ char *buf = malloc(b->length);
	if (!buf)
		return sw_err_errno(err, ENOMEM, "%s", what);
	if (!sw_pread_all(fd, buf, b->length, b->offset))
		return sw_err_errno(err, errno, "%s: read failed", what);
	unsigned char md[SW_SHA256_LEN];
	sw_sha256(buf, b->length, md);
	if (memcmp(md, b->sha256, SW_SHA256_LEN) != 0)
		return sw_err(err, SW_EVERIFY, "%s: bin %u does not match its hash in the signed manifest", what, bi);

	/* Binary search over lines: lo and hi are always line starts. */
	const char *hex = digest + 7;
	const char *base = buf, *end = buf + b->length;
	size_t lo = 0, hi = b->length;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		while (mid > lo && base[mid - 1] != '\n')
			mid--;
		sw_entry_kind ek;
		const char *rp;
		size_t rl;
		size_t ll = sw_entry_parse(base + mid, (size_t)(end - (base + mid)), l->format, &ek, &rp, &rl);
		if (!ll)
			return sw_err(err, SW_EINVAL, "%s: malformed entry at byte %llu", what,
				      (unsigned long long)(b->offset + mid));
		int c = memcmp(hex, base + mid + 7, SW_SHA256_HEX);
		if (c == 0) {
			if (kind)
				*kind = ek;
			if (ref_out && ref_out_len) {
				if (rl >= ref_out_len)
					rl = ref_out_len - 1;
				if (rl)
					memcpy(ref_out, rp, rl);
				ref_out[rl] = '\0';
			}
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + ll;
	}
	return 0;
}

int sw_list_lookup(const sw_list *l, const char *digest, const char *kind, char *ref_out, size_t ref_out_len,
		   sw_error *err)
{
	sw_entry_kind ek = SW_ENTRY_UNTYPED;
	char ref[SW_REF_MAX + 1];
	int r = sw_list_find(l, digest, &ek, ref, sizeof ref, err);
	if (r != 1)
		return r;
	/* Listed, but as the other kind: an image id that equals a listed manifest
	 * digest is a config whose bytes are that manifest (or the reverse), the
	 * forged image of issue 14. Not a match. */
	if (!sw_entry_kind_matches(ek, kind))
		return 0;
	if (ref_out && ref_out_len)
		snprintf(ref_out, ref_out_len, "%s", ref);
	return 1;
}
