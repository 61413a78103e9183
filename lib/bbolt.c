/* SPDX-License-Identifier: Apache-2.0 */
/* bbolt: a read-only reader of bbolt files; see bbolt.h, and
 * docs/containerd-metadata.md for the format facts relied on here. */

#include "bbolt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

/* ---- bbolt format constants (bbolt's page.go, db.go / internal/common) ---- */
#define BOLT_MAGIC 0xED0CDAEDu
#define BOLT_VERSION 2u
#define PAGE_HEADER 16u         /* id u64, flags u16, count u16, overflow u32 */
#define META_SIZE 64u           /* magic..checksum */
#define META_SUMMED 56u         /* the checksum covers the bytes before it */
#define ELEM_SIZE 16u           /* branch {pos, ksize, pgid}, leaf {flags, pos, ksize, vsize} */
#define BUCKET_HEADER 16u       /* {root pgid u64, sequence u64} */
#define FLAG_BRANCH 0x01u
#define FLAG_LEAF 0x02u
#define FLAG_META 0x04u
#define LEAF_BUCKET 0x01u
#define MAX_KEY 32768u          /* bbolt's MaxKeySize */

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* A bucket: either a root page id, or an inline leaf page held in its parent's value. */
typedef struct bbucket {
	uint64_t root;
	const unsigned char *inl;
	size_t inl_len;
} bbucket;

/* One level of the last bucket path navigated: lookups of sibling keys (every
 * image record's target, say) then start from the deepest shared bucket instead
 * of the root. Valid for one attempt of a view only. */
typedef struct navlevel {
	char *name;
	unsigned char *val;     /* the bucket's value in its parent (header + inline page) */
	bbucket b;
} navlevel;

struct sw_bolt {
	int fd;
	char *what;
	bool in_view;
	uint32_t page_size;
	uint64_t root;
	uint64_t hwm;           /* meta.pgid: no page id at or above it is in use */
	uint64_t txid;
	uint64_t file_size;
	uint64_t pages_read;
	navlevel nav[SW_BOLT_MAX_PATH];
	size_t nav_n;
	uint64_t view_txid;     /* the snapshot the running view reads */
	unsigned steps;         /* pages read and elements walked in this attempt */
	bool raced_early;       /* the attempt stopped at a commit it saw */
};

typedef struct bpage {
	unsigned char *owned;   /* NULL for an inline page */
	const unsigned char *p;
	size_t len;
	uint64_t id;            /* 0 for an inline page */
	uint16_t flags, count;
} bpage;

static void page_free(bpage *pg)
{
	free(pg->owned);
	pg->owned = NULL;
	pg->p = NULL;
}

static void nav_reset(sw_bolt *db, size_t from)
{
	for (size_t i = from; i < db->nav_n; i++) {
		free(db->nav[i].name);
		free(db->nav[i].val);
		db->nav[i] = (navlevel){ 0 };
	}
	if (db->nav_n > from)
		db->nav_n = from;
}

/* ---- open / close ---- */

int sw_bolt_open_at(int dirfd, const char *name, const char *what, sw_bolt **out, sw_error *err)
{
	if (!what)
		what = name;
	/* O_NOFOLLOW: containerd's root is root-owned, but a link here would make us read
	 * some other file as the store. O_NONBLOCK only so that a FIFO cannot hang us. */
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			return sw_err(err, SW_EINVAL, "%s: is a symbolic link, refused", what);
		return sw_err_errno(err, errno, "%s: cannot open", what);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: stat failed", what);
	if (!S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: not a regular file", what);
	sw_bolt *db = calloc(1, sizeof *db);
	if (!db)
		return sw_err_errno(err, ENOMEM, "%s", what);
	db->what = strdup(what);
	if (!db->what) {
		free(db);
		return sw_err_errno(err, ENOMEM, "%s", what);
	}
	db->fd = TAKE_FD(fd);
	*out = db;
	return 0;
}

int sw_bolt_open(const char *path, sw_bolt **out, sw_error *err)
{
	return sw_bolt_open_at(AT_FDCWD, path, path, out, err);
}

void sw_bolt_close(sw_bolt *db)
{
	if (!db)
		return;
	nav_reset(db, 0);
	if (db->fd >= 0)
		close(db->fd);
	free(db->what);
	free(db);
}

uint64_t sw_bolt_txid(const sw_bolt *db)
{
	return db->txid;
}

/* pread all of n bytes unless the file ends first; returns the count read. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* ---- meta pages ---- */

typedef struct bmeta {
	uint32_t magic, version, page_size, flags;
	uint64_t root, freelist, pgid, txid, checksum;
} bmeta;

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool page_size_ok(uint32_t ps)
{
	return ps >= SW_BOLT_MIN_PAGE && ps <= SW_BOLT_MAX_PAGE && (ps & (ps - 1)) == 0;
}

/* Read the meta page `index` (0 or 1) at off. 0: valid; 1: invalid, `why` says
 * how; <0: I/O error. */
static int read_meta(sw_bolt *db, unsigned index, uint64_t off, bmeta *m, const char **why, sw_error *err)
{
	unsigned char b[PAGE_HEADER + META_SIZE];
	ssize_t r = pread_full(db->fd, b, sizeof b, off);
	if (r < 0)
		return sw_err_errno(err, errno, "%s: read failed", db->what);
	if ((size_t)r < sizeof b) {
		*why = "beyond the end of the file";
		return 1;
	}
	const unsigned char *p = b + PAGE_HEADER;
	m->magic = le32(p);
	m->version = le32(p + 4);
	m->page_size = le32(p + 8);
	m->flags = le32(p + 12);
	m->root = le64(p + 16);       /* root bucket {root, sequence}: sequence unused */
	m->freelist = le64(p + 32);
	m->pgid = le64(p + 40);
	m->txid = le64(p + 48);
	m->checksum = le64(p + 56);
	if (m->magic != BOLT_MAGIC)
		*why = "bad magic";
	else if (m->version != BOLT_VERSION)
		*why = "unsupported version";
	/* bbolt accepts a zero checksum from very old files; containerd's files always
	 * carry one, and accepting 0 would let any torn write pass. */
	else if (m->checksum != fnv1a64(p, META_SUMMED))
		*why = "bad checksum";
	else if (le64(b) != index || le16(b + 8) != FLAG_META)
		*why = "not a meta page";
	else if (!page_size_ok(m->page_size))
		*why = "bad page size";
	else
		return 0;
	return 1;
}

/* Pick the newest valid meta page and check it against the file's size. */
static int load_meta(sw_bolt *db, sw_error *err)
{
	struct stat st;
	if (fstat(db->fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: stat failed", db->what);
	db->file_size = (uint64_t)st.st_size;
	if (db->file_size < 2 * SW_BOLT_MIN_PAGE)
		return sw_err(err, SW_EINVAL, "%s: truncated: %" PRIu64 " bytes, less than two meta pages",
			      db->what, db->file_size);

	bmeta m0 = { 0 }, m1 = { 0 };
	const char *why0 = NULL, *why1 = "not found";
	int r0 = read_meta(db, 0, 0, &m0, &why0, err);
	if (r0 < 0)
		return r0;
	int r1 = 1;
	if (r0 == 0) {
		r1 = read_meta(db, 1, m0.page_size, &m1, &why1, err);
		if (r1 < 0)
			return r1;
		if (r1 == 0 && m1.page_size != m0.page_size) {
			r1 = 1;
			why1 = "page size differs from page 0";
		}
	} else {
		/* Page 0 is torn or damaged: its page size is unknown, so look for a valid
		 * meta page 1 at every possible page size, as bbolt does. */
		for (uint32_t ps = SW_BOLT_MIN_PAGE; ps <= SW_BOLT_MAX_PAGE; ps *= 2) {
			const char *w = NULL;
			int r = read_meta(db, 1, ps, &m1, &w, err);
			if (r < 0)
				return r;
			if (r == 0 && m1.page_size == ps) {
				r1 = 0;
				break;
			}
			if (ps == 4096)
				why1 = w;
		}
	}
	const bmeta *m;
	if (r0 == 0 && (r1 != 0 || m0.txid >= m1.txid))
		m = &m0;
	else if (r1 == 0)
		m = &m1;
	else
		return sw_err(err, SW_EINVAL, "%s: no valid meta page (page 0: %s; page 1: %s)",
			      db->what, why0, why1);

	if (m->pgid < 3 || m->root < 2 || m->root >= m->pgid)
		return sw_err(err, SW_EINVAL, "%s: meta page of transaction %" PRIu64
			      ": root page %" PRIu64 " outside the %" PRIu64 " pages in use",
			      db->what, m->txid, m->root, m->pgid);
	if (m->pgid > db->file_size / m->page_size)
		return sw_err(err, SW_EINVAL, "%s: truncated: %" PRIu64 " pages of %" PRIu32
			      " bytes in use but the file has %" PRIu64 " bytes",
			      db->what, m->pgid, m->page_size, db->file_size);
	db->page_size = m->page_size;
	db->root = m->root;
	db->hwm = m->pgid;
	db->txid = m->txid;
	return 0;
}

/* ---- pages ---- */

/* Check the element array and key order of a page so that every later access
 * is in bounds. */
static int page_check(sw_bolt *db, const bpage *pg, sw_error *err)
{
	char where[48];
	if (pg->owned)
		snprintf(where, sizeof where, "page %" PRIu64, pg->id);
	else
		snprintf(where, sizeof where, "inline page");
	if (pg->flags != FLAG_BRANCH && pg->flags != FLAG_LEAF)
		return sw_err(err, SW_EINVAL, "%s: %s: type 0x%x where a branch or leaf page was expected",
			      db->what, where, pg->flags);
	if (pg->flags == FLAG_BRANCH && pg->count == 0)
		return sw_err(err, SW_EINVAL, "%s: %s: empty branch page", db->what, where);
	if ((uint64_t)PAGE_HEADER + (uint64_t)pg->count * ELEM_SIZE > pg->len)
		return sw_err(err, SW_EINVAL, "%s: %s: %u elements do not fit in %zu bytes",
			      db->what, where, pg->count, pg->len);
	const unsigned char *prev = NULL;
	uint32_t prev_len = 0;
	for (unsigned i = 0; i < pg->count; i++) {
		size_t eo = PAGE_HEADER + (size_t)i * ELEM_SIZE;
		const unsigned char *e = pg->p + eo;
		uint64_t pos, ksize, vsize = 0;
		if (pg->flags == FLAG_BRANCH) {
			pos = le32(e);
			ksize = le32(e + 4);
		} else {
			uint32_t fl = le32(e);
			if (fl & ~LEAF_BUCKET)
				return sw_err(err, SW_EINVAL, "%s: %s: element %u has unknown flags 0x%x",
					      db->what, where, i, fl);
			pos = le32(e + 4);
			ksize = le32(e + 8);
			vsize = le32(e + 12);
		}
		if (ksize == 0 || ksize > MAX_KEY)
			return sw_err(err, SW_EINVAL, "%s: %s: element %u has a key of %" PRIu64 " bytes",
				      db->what, where, i, ksize);
		if (eo + pos + ksize + vsize > pg->len)
			return sw_err(err, SW_EINVAL, "%s: %s: element %u points outside the page",
				      db->what, where, i);
		const unsigned char *k = e + pos;
		/* A B+tree page holds strictly ascending keys; anything else means the
		 * lookups below could miss a record, so refuse the page. */
		if (prev) {
			size_t mn = prev_len < ksize ? prev_len : (size_t)ksize;
			int c = memcmp(prev, k, mn);
			if (c > 0 || (c == 0 && prev_len >= ksize))
				return sw_err(err, SW_EINVAL, "%s: %s: keys out of order at element %u",
					      db->what, where, i);
		}
		prev = k;
		prev_len = (uint32_t)ksize;
	}
	return 0;
}

/* Every this many steps of an attempt (pages read, elements walked), look
 * whether a transaction has committed since the attempt's snapshot. */
#define COMMIT_CHECK_EVERY 32

/* A read that raced a commit is thrown away whole (sw_bolt_view), so it may as
 * well stop as soon as the commit is seen: the next attempt then starts right
 * after a commit, the moment with the most time before the next one, instead
 * of at a random point after finishing a doomed walk. Under a writer that
 * commits every few milliseconds (imports beside CRI starts) this is what lets
 * a long read get through. Two meta page reads every COMMIT_CHECK_EVERY steps;
 * the view's own state is left as it was. */
static int commit_check(sw_bolt *db, sw_error *err)
{
	if (++db->steps % COMMIT_CHECK_EVERY != 0)
		return 0;
	uint32_t page_size = db->page_size;
	uint64_t root = db->root, hwm = db->hwm, txid = db->txid, file_size = db->file_size;
	sw_error e = { 0 };
	int r = load_meta(db, &e);
	uint64_t now = db->txid;
	db->page_size = page_size;
	db->root = root;
	db->hwm = hwm;
	db->txid = txid;
	db->file_size = file_size;
	if (r == 0 && now != db->view_txid) {
		db->raced_early = true;
		return sw_err(err, SW_EBUSY, "%s: a transaction committed during the read", db->what);
	}
	return 0;
}

static int read_page(sw_bolt *db, uint64_t id, bpage *pg, sw_error *err)
{
	*pg = (bpage){ 0 };
	int c = commit_check(db, err);
	if (c < 0)
		return c;
	if (id < 2 || id >= db->hwm)
		return sw_err(err, SW_EINVAL, "%s: page id %" PRIu64 " out of range (2..%" PRIu64 ")",
			      db->what, id, db->hwm - 1);
	if (++db->pages_read > SW_BOLT_MAX_PAGES)
		return sw_err(err, SW_ETOOBIG, "%s: more than %d pages visited in one read",
			      db->what, SW_BOLT_MAX_PAGES);
	size_t ps = db->page_size;
	unsigned char *buf = malloc(ps);
	if (!buf)
		return sw_err_errno(err, ENOMEM, "%s", db->what);
	uint64_t off = id * ps;
	ssize_t r = pread_full(db->fd, buf, ps, off);
	if (r < 0 || (size_t)r < ps) {
		int e = errno;
		free(buf);
		if (r < 0)
			return sw_err_errno(err, e, "%s: page %" PRIu64 ": read failed", db->what, id);
		return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": beyond the end of the file (truncated)",
			      db->what, id);
	}
	uint64_t hid = le64(buf);
	uint16_t flags = le16(buf + 8), count = le16(buf + 10);
	uint32_t overflow = le32(buf + 12);
	if (hid != id) {
		free(buf);
		return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": header names page %" PRIu64,
			      db->what, id, hid);
	}
	if ((uint64_t)overflow >= db->hwm - id) {
		free(buf);
		return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": %" PRIu32 " overflow pages run past the %"
			      PRIu64 " pages in use", db->what, id, overflow, db->hwm);
	}
	uint64_t span = ((uint64_t)overflow + 1) * ps;
	if (span > SW_BOLT_MAX_SPAN) {
		free(buf);
		return sw_err(err, SW_ETOOBIG, "%s: page %" PRIu64 ": %" PRIu64 " bytes, more than the limit of %u",
			      db->what, id, span, SW_BOLT_MAX_SPAN);
	}
	if (overflow) {
		db->pages_read += overflow;
		unsigned char *nb = realloc(buf, (size_t)span);
		if (!nb) {
			free(buf);
			return sw_err_errno(err, ENOMEM, "%s", db->what);
		}
		buf = nb;
		r = pread_full(db->fd, buf + ps, (size_t)span - ps, off + ps);
		if (r < 0 || (uint64_t)r < span - ps) {
			free(buf);
			return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": overflow beyond the end of the file",
				      db->what, id);
		}
	}
	*pg = (bpage){ .owned = buf, .p = buf, .len = (size_t)span, .id = id, .flags = flags, .count = count };
	int rc = page_check(db, pg, err);
	if (rc < 0)
		page_free(pg);
	return rc;
}

static int bucket_root_page(sw_bolt *db, const bbucket *b, bpage *pg, sw_error *err)
{
	if (b->inl) {
		*pg = (bpage){ .p = b->inl, .len = b->inl_len, .flags = le16(b->inl + 8),
			       .count = le16(b->inl + 10) };
		return page_check(db, pg, err);
	}
	return read_page(db, b->root, pg, err);
}

static void elem_key(const bpage *pg, unsigned i, const unsigned char **k, size_t *kl)
{
	const unsigned char *e = pg->p + PAGE_HEADER + (size_t)i * ELEM_SIZE;
	if (pg->flags == FLAG_BRANCH) {
		*k = e + le32(e);
		*kl = le32(e + 4);
	} else {
		*k = e + le32(e + 4);
		*kl = le32(e + 8);
	}
}

static void leaf_value(const bpage *pg, unsigned i, uint32_t *flags, const unsigned char **v, size_t *vl)
{
	const unsigned char *e = pg->p + PAGE_HEADER + (size_t)i * ELEM_SIZE;
	*flags = le32(e);
	*v = e + le32(e + 4) + le32(e + 8);
	*vl = le32(e + 12);
}

static int keycmp(const unsigned char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* Check a bucket value and describe the bucket it holds. */
static int open_bucket(sw_bolt *db, const unsigned char *v, size_t vl, const char *name, bbucket *b, sw_error *err)
{
	if (vl < BUCKET_HEADER)
		return sw_err(err, SW_EINVAL, "%s: bucket %s: value of %zu bytes, shorter than a bucket header",
			      db->what, name, vl);
	uint64_t root = le64(v);
	if (root != 0) {
		/* bbolt writes exactly the header for a bucket with its own pages. */
		if (vl != BUCKET_HEADER)
			return sw_err(err, SW_EINVAL, "%s: bucket %s: %zu bytes after a header with root page %" PRIu64,
				      db->what, name, vl - BUCKET_HEADER, root);
		*b = (bbucket){ .root = root };
		return 0;
	}
	if (vl < BUCKET_HEADER + PAGE_HEADER)
		return sw_err(err, SW_EINVAL, "%s: bucket %s: inline page shorter than a page header",
			      db->what, name);
	const unsigned char *p = v + BUCKET_HEADER;
	/* An inline bucket is always one leaf page without overflow. */
	if (le16(p + 8) != FLAG_LEAF || le32(p + 12) != 0)
		return sw_err(err, SW_EINVAL, "%s: bucket %s: inline page is not a leaf page", db->what, name);
	*b = (bbucket){ .inl = p, .inl_len = vl - BUCKET_HEADER };
	return 0;
}

/* Find key in bucket b: 1 with *flags and a malloc'ed copy of the value (NUL
 * appended), 0 when absent. */
static int bucket_lookup(sw_bolt *db, const bbucket *b, const char *key, size_t klen,
			 uint32_t *flags, unsigned char **val, size_t *vlen, sw_error *err)
{
	uint64_t stack[SW_BOLT_MAX_DEPTH];
	size_t depth = 0;
	bpage pg;
	int r = bucket_root_page(db, b, &pg, err);
	if (r < 0)
		return r;
	stack[depth++] = pg.id;
	while (pg.flags == FLAG_BRANCH) {
		/* The child to follow is the last one whose first key is <= key. */
		unsigned lo = 0, hi = pg.count;
		while (hi - lo > 1) {
			unsigned mid = lo + (hi - lo) / 2;
			const unsigned char *k;
			size_t kl;
			elem_key(&pg, mid, &k, &kl);
			if (keycmp(k, kl, key, klen) <= 0)
				lo = mid;
			else
				hi = mid;
		}
		uint64_t child = le64(pg.p + PAGE_HEADER + (size_t)lo * ELEM_SIZE + 8);
		uint64_t from = pg.id;
		page_free(&pg);
		for (size_t i = 0; i < depth; i++)
			if (stack[i] == child)
				return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": cycle back to page %" PRIu64,
					      db->what, from, child);
		if (depth >= SW_BOLT_MAX_DEPTH)
			return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": tree deeper than %d levels",
				      db->what, from, SW_BOLT_MAX_DEPTH);
		r = read_page(db, child, &pg, err);
		if (r < 0)
			return r;
		stack[depth++] = child;
	}
	int found = 0;
	unsigned lo = 0, hi = pg.count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const unsigned char *k;
		size_t kl;
		elem_key(&pg, mid, &k, &kl);
		int c = keycmp(k, kl, key, klen);
		if (c == 0) {
			const unsigned char *v;
			size_t vl;
			leaf_value(&pg, mid, flags, &v, &vl);
			unsigned char *copy = malloc(vl + 1);
			if (!copy) {
				page_free(&pg);
				return sw_err_errno(err, ENOMEM, "%s", db->what);
			}
			memcpy(copy, v, vl);
			copy[vl] = '\0';
			*val = copy;
			*vlen = vl;
			found = 1;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	page_free(&pg);
	return found;
}

void sw_bolt_path_string(const char *const *path, size_t n, const char *key, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i <= n && o < outlen; i++) {
		const char *c = i < n ? path[i] : key;
		if (!c)
			break;
		int w = snprintf(out + o, outlen - o, "%s%s", o ? "/" : "", c);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

/* Walk to the bucket at path: 1 with *out, 0 when a bucket on the way is missing. */
static int navigate(sw_bolt *db, const char *const *path, size_t n, bbucket *out, sw_error *err)
{
	if (!db->in_view)
		return sw_err(err, SW_EINVAL, "%s: read outside a view", db->what);
	if (n > SW_BOLT_MAX_PATH)
		return sw_err(err, SW_EINVAL, "%s: bucket path of %zu levels", db->what, n);
	size_t common = 0;
	while (common < n && common < db->nav_n && strcmp(db->nav[common].name, path[common]) == 0)
		common++;
	nav_reset(db, common);
	bbucket cur = common ? db->nav[common - 1].b : (bbucket){ .root = db->root };
	for (size_t i = common; i < n; i++) {
		uint32_t fl = 0;
		unsigned char *v = NULL;
		size_t vl = 0;
		int r = bucket_lookup(db, &cur, path[i], strlen(path[i]), &fl, &v, &vl, err);
		if (r <= 0)
			return r;
		char where[512];
		sw_bolt_path_string(path, i + 1, NULL, where, sizeof where);
		if (!(fl & LEAF_BUCKET)) {
			free(v);
			return sw_err(err, SW_EINVAL, "%s: %s: is a value, expected a bucket", db->what, where);
		}
		bbucket b;
		r = open_bucket(db, v, vl, where, &b, err);
		char *name = strdup(path[i]);
		if (r < 0 || !name) {
			free(v);
			free(name);
			return r < 0 ? r : sw_err_errno(err, ENOMEM, "%s", db->what);
		}
		db->nav[i] = (navlevel){ .name = name, .val = v, .b = b };
		db->nav_n = i + 1;
		cur = b;
	}
	*out = cur;
	return 1;
}

int sw_bolt_get(sw_bolt *db, const char *const *path, size_t n, const char *key,
		char **val, size_t *len, sw_error *err)
{
	bbucket b;
	int r = navigate(db, path, n, &b, err);
	if (r <= 0)
		return r;
	uint32_t fl = 0;
	unsigned char *v = NULL;
	size_t vl = 0;
	r = bucket_lookup(db, &b, key, strlen(key), &fl, &v, &vl, err);
	if (r <= 0)
		return r;
	if (fl & LEAF_BUCKET) {
		free(v);
		char where[512];
		sw_bolt_path_string(path, n, key, where, sizeof where);
		return sw_err(err, SW_EINVAL, "%s: %s: is a bucket, expected a value", db->what, where);
	}
	*val = (char *)v;
	*len = vl;
	return 1;
}

int sw_bolt_has_bucket(sw_bolt *db, const char *const *path, size_t n, sw_error *err)
{
	bbucket b;
	return navigate(db, path, n, &b, err);
}

typedef struct walk {
	sw_bolt *db;
	sw_bolt_each_fn fn;
	void *ctx;
	uint64_t stack[SW_BOLT_MAX_DEPTH];
	size_t depth;
	unsigned char *last;    /* last key seen, to check order across leaves */
	size_t last_len;
	bool have_last;
	char *kbuf;             /* the key handed to fn, NUL-terminated */
} walk;

static int walk_page(walk *w, bpage *pg, sw_error *err)
{
	sw_bolt *db = w->db;
	if (pg->flags == FLAG_LEAF) {
		for (unsigned i = 0; i < pg->count; i++) {
			const unsigned char *k, *v;
			size_t kl, vl;
			uint32_t fl;
			int c = commit_check(db, err);
			if (c < 0)
				return c;
			elem_key(pg, i, &k, &kl);
			leaf_value(pg, i, &fl, &v, &vl);
			if (w->have_last && keycmp(w->last, w->last_len, (const char *)k, kl) >= 0)
				return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": keys out of order across pages",
					      db->what, pg->id);
			memcpy(w->last, k, kl);
			w->last_len = kl;
			w->have_last = true;
			/* Copy the key so that callbacks get a NUL-terminated string. */
			char *kbuf = w->kbuf;
			memcpy(kbuf, k, kl);
			kbuf[kl] = '\0';
			int r;
			if (fl & LEAF_BUCKET) {
				bbucket b;
				r = open_bucket(db, v, vl, kbuf, &b, err);
				if (r < 0)
					return r;
				r = w->fn(kbuf, kl, NULL, 0, true, w->ctx, err);
			} else {
				r = w->fn(kbuf, kl, (const char *)v, vl, false, w->ctx, err);
			}
			if (r != 0)
				return r;
		}
		return 0;
	}
	for (unsigned i = 0; i < pg->count; i++) {
		uint64_t child = le64(pg->p + PAGE_HEADER + (size_t)i * ELEM_SIZE + 8);
		for (size_t j = 0; j < w->depth; j++)
			if (w->stack[j] == child)
				return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": cycle back to page %" PRIu64,
					      db->what, pg->id, child);
		if (w->depth >= SW_BOLT_MAX_DEPTH)
			return sw_err(err, SW_EINVAL, "%s: page %" PRIu64 ": tree deeper than %d levels",
				      db->what, pg->id, SW_BOLT_MAX_DEPTH);
		bpage c;
		int r = read_page(db, child, &c, err);
		if (r < 0)
			return r;
		w->stack[w->depth++] = child;
		r = walk_page(w, &c, err);
		w->depth--;
		page_free(&c);
		if (r != 0)
			return r;
	}
	return 0;
}

int sw_bolt_foreach(sw_bolt *db, const char *const *path, size_t n,
		    sw_bolt_each_fn fn, void *ctx, sw_error *err)
{
	bbucket b;
	int r = navigate(db, path, n, &b, err);
	if (r <= 0)
		return r;
	/* Callbacks may look other keys up, which changes db->nav: keep our own copy
	 * of an inline bucket's page. */
	_cleanup_free_ unsigned char *inl = NULL;
	if (b.inl) {
		inl = malloc(b.inl_len);
		if (!inl)
			return sw_err_errno(err, ENOMEM, "%s", db->what);
		memcpy(inl, b.inl, b.inl_len);
		b.inl = inl;
	}
	_cleanup_free_ unsigned char *last = malloc(MAX_KEY);
	_cleanup_free_ char *kbuf = malloc(MAX_KEY + 1);
	if (!last || !kbuf)
		return sw_err_errno(err, ENOMEM, "%s", db->what);
	walk w = { .db = db, .fn = fn, .ctx = ctx, .last = last, .kbuf = kbuf };
	bpage pg;
	r = bucket_root_page(db, &b, &pg, err);
	if (r < 0)
		return r;
	w.stack[w.depth++] = pg.id;
	r = walk_page(&w, &pg, err);
	page_free(&pg);
	return r;
}

int sw_bolt_view(sw_bolt *db, sw_bolt_view_fn fn, void *ctx, sw_error *err)
{
	sw_error last = { 0 };
	unsigned raced = 0, bad_meta = 0;
	sw_deadline dl;
	sw_deadline_start(&dl, SW_STORE_BUSY_MS);
	for (;;) {
		int r = load_meta(db, &last);
		if (r < 0) {
			/* Both meta pages unusable: bbolt writes one of the two per commit,
			 * so a torn write leaves the other one valid, and this is a damaged
			 * or truncated file rather than a busy one. A few tries in case the
			 * file was caught growing, then the error itself. */
			if (++bad_meta >= SW_BOLT_META_TRIES || !sw_deadline_pause(&dl)) {
				if (err)
					*err = last;
				return -(last.code > 0 ? last.code : 1);
			}
			continue;
		}
		uint64_t txid = db->txid;
		db->pages_read = 0;
		db->view_txid = txid;
		db->steps = 0;
		db->raced_early = false;
		nav_reset(db, 0);
		db->in_view = true;
		sw_error fe = { 0 };
		r = fn(db, ctx, &fe);
		db->in_view = false;
		nav_reset(db, 0);
		/* bbolt never rewrites a page reachable from the newest committed meta
		 * until a later transaction has committed, so if the newest txid is still
		 * the one we started from, every page we read belonged to it. */
		sw_error me = { 0 };
		if (load_meta(db, &me) == 0 && db->txid == txid) {
			if (r < 0 && err)
				*err = fe;
			return r;
		}
		/* A commit landed during the read: its answer (or its error) may mix
		 * two versions of the file, so it is thrown away and the read starts
		 * again, for as long as the budget lasts (a time, not a count: how
		 * many reads fit depends on the store's size and the writer's pace). */
		raced++;
		/* Stopped at a commit just seen: go again at once (within the budget);
		 * otherwise give the writer a moment. */
		if (db->raced_early ? sw_deadline_spent_us(&dl) >= dl.limit_us : !sw_deadline_pause(&dl))
			break;
	}
	/* Fail closed, but say what happened: nothing is wrong with the file or the
	 * image, the writer was faster than every read. Not a policy refusal. */
	return sw_err(err, SW_EBUSY, "%s: a transaction committed during each of %u reads in %lld ms "
		      "(containerd was writing its store)", db->what, raced,
		      (long long)(sw_deadline_spent_us(&dl) / 1000));
}
