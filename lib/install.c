/* SPDX-License-Identifier: Apache-2.0 */
#include "install.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#define STAGING_PREFIX ".staging-"
#define PRUNE_PREFIX ".prune-"
#define CURRENT_NAME "current"
#define CURRENT_TMP_PREFIX ".current.tmp."
#define GEN_PREFIX "gen-"
#define COPY_CHUNK (1024 * 1024)
#define MAX_GENERATIONS 4096

/* ------------------------------------------------------- entries check */

/* The bin of an entry's hex digest: sw_bin_of reads the first four bytes. */
static uint32_t bin_of_hex(const char *hex, uint32_t bits)
{
	unsigned char d[SW_SHA256_LEN] = { 0 };
	(void)sw_unhex(hex, 4, d);
	return sw_bin_of(d, bits);
}

int sw_list_check_entries(const sw_list *l, sw_error *err)
{
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", l->path, SW_ENTRIES_NAME);
	if (!l->bins || l->n_bins == 0)
		return sw_err(err, SW_EINVAL, "allowlist %s is not loaded", l->path);
	_cleanup_close_ int fd = openat(l->dirfd, SW_ENTRIES_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", what);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: stat failed", what);
	if (!S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: not a regular file", what);
	const sw_bin *last = &l->bins[l->n_bins - 1];
	uint64_t want = last->offset + last->length;
	if ((uint64_t)st.st_size != want)
		return sw_err(err, SW_EVERIFY, "%s: %lld bytes, the manifest says %llu", what,
			      (long long)st.st_size, (unsigned long long)want);
	if (want == 0)
		return 0;
	if (want > SIZE_MAX)
		return sw_err(err, SW_ETOOBIG, "%s: too large for this machine", what);
	/* A read-only private mapping: the file is a regular file of known size, and
	 * the install checks its own staged copy, which nobody else writes. */
	void *map = mmap(NULL, (size_t)want, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return sw_err_errno(err, errno, "%s: cannot map", what);
	const char *base = map;
	const char *prev = NULL;
	int r = 0;
	for (uint32_t i = 0; i < l->n_bins && r == 0; i++) {
		const sw_bin *b = &l->bins[i];
		const char *p = base + b->offset, *end = p + b->length;
		unsigned char md[SW_SHA256_LEN];
		sw_sha256(p, b->length, md);
		if (memcmp(md, b->sha256, SW_SHA256_LEN) != 0) {
			r = sw_err(err, SW_EVERIFY, "%s: bin %u does not match its hash in the signed manifest", what, i);
			break;
		}
		uint64_t count = 0;
		while (p < end) {
			/* The grammar of the list's format: format 2 entries carry their
			 * kind, format 1 entries none. */
			size_t n = sw_entry_parse(p, (size_t)(end - p), l->format, NULL, NULL, NULL);
			if (!n) {
				r = sw_err(err, SW_EINVAL, "%s: malformed entry at byte %llu", what,
					   (unsigned long long)(p - base));
				break;
			}
			/* Binary search in the hook relies on this order; a duplicate would
			 * make the count lie. */
			if (prev && memcmp(prev, p + 7, SW_SHA256_HEX) >= 0) {
				r = sw_err(err, SW_EINVAL, "%s: entry at byte %llu is not in ascending order (or a duplicate)",
					   what, (unsigned long long)(p - base));
				break;
			}
			/* An entry in the wrong bin would never be found by the hook. */
			if (bin_of_hex(p + 7, l->bin_bits) != i) {
				r = sw_err(err, SW_EINVAL, "%s: entry at byte %llu belongs in bin %u, found in bin %u", what,
					   (unsigned long long)(p - base), bin_of_hex(p + 7, l->bin_bits), i);
				break;
			}
			prev = p + 7;
			p += n;
			count++;
		}
		if (r == 0 && count != b->count)
			r = sw_err(err, SW_EINVAL, "%s: bin %u holds %llu entries, the manifest says %llu", what, i,
				   (unsigned long long)count, (unsigned long long)b->count);
	}
	munmap(map, (size_t)want);
	return r;
}

/* ------------------------------------------------------------ verify */

int sw_list_verify_full(const sw_config *c, const char *keys_dir, sw_list *l, sw_error *err)
{
	/* The hook's rollback record lives in the root-only state directory. An
	 * unprivileged installer (sigwardd) may not be able to read it, and a fresh
	 * node has none yet: then only the installed generation's serial is compared
	 * (sw_list_install); the hook still enforces its own record on every start. */
	const char *state_dir = c->state_dir;
	if (state_dir) {
		int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		else if (errno == ENOENT || errno == EACCES)
			state_dir = NULL;
	}
	sw_verify_opts o = {
		.scope = c->scope,
		.threshold = c->threshold ? c->threshold : 1,
		.now = sw_now(),
		.grace = c->grace,
		.keys_dir = keys_dir ? keys_dir : c->keys_dir,
		.state_dir = state_dir,
		.use_cache = false,
		.update_state = false,
	};
	int r = sw_list_verify(l, &o, err);
	if (r < 0)
		return r;
	return sw_list_check_entries(l, err);
}

int sw_installed_serial(const char *lists_dir, char scope[SW_SCOPE_MAX + 1], uint64_t *serial, sw_error *err)
{
	sw_list cur = { .dirfd = -1 };
	sw_error e = { 0 };
	int r = sw_list_open_current(lists_dir, &cur, &e);
	if (r < 0) {
		sw_list_close(&cur);
		if (e.code == SW_ENOTFOUND)
			return 0;
		if (err)
			*err = e;
		return r;
	}
	snprintf(scope, SW_SCOPE_MAX + 1, "%s", cur.scope);
	*serial = cur.serial;
	sw_list_close(&cur);
	return 1;
}

/* ------------------------------------------------------------ staging */

static int copy_file(int srcfd, const char *src_dir, int dstfd, const char *name, uint64_t max, sw_error *err)
{
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", src_dir, name);
	/* The source is operator input: no symlink (it could point anywhere), no FIFO
	 * or device (it could block), bounded like the hook's reads. */
	_cleanup_close_ int in = openat(srcfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (in < 0) {
		if (errno == ELOOP)
			return sw_err(err, SW_EINVAL, "%s: is a symbolic link, refused", what);
		if (errno == ENOENT && strcmp(name, SW_SIGS_NAME) == 0)
			return sw_err(err, SW_EVERIFY, "%s: missing: the list is not signed", what);
		return sw_err_errno(err, errno, "%s: cannot open", what);
	}
	struct stat st;
	if (fstat(in, &st) < 0)
		return sw_err_errno(err, errno, "%s: stat failed", what);
	if (!S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: not a regular file", what);
	if ((uint64_t)st.st_size > max)
		return sw_err(err, SW_ETOOBIG, "%s: %lld bytes, more than the limit of %llu", what,
			      (long long)st.st_size, (unsigned long long)max);
	_cleanup_close_ int out = openat(dstfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out < 0)
		return sw_err_errno(err, errno, "%s: cannot create staging copy", what);
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);
	if (!buf)
		return sw_err_errno(err, ENOMEM, "%s", what);
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(in, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sw_err_errno(err, errno, "%s: read failed", what);
		if (n == 0)
			break;
		total += (uint64_t)n;
		/* The file may grow while it is copied. */
		if (total > max)
			return sw_err(err, SW_ETOOBIG, "%s: more than the limit of %llu bytes", what,
				      (unsigned long long)max);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return sw_err_errno(err, errno, "%s: cannot write staging copy", what);
			off += w;
		}
	}
	if (fchmod(out, 0644) < 0 || fsync(out) < 0)
		return sw_err_errno(err, errno, "%s: cannot sync staging copy", what);
	return 0;
}

/* Remove a generation or staging directory: only regular files and symlinks in
 * it, never anything below a subdirectory (it would not be ours). */
static int remove_dir_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static void random_suffix(char out[7])
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[6];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		/* Uniqueness only matters among installers, which hold the lock. */
		unsigned v = (unsigned)getpid() ^ (unsigned)sw_now();
		memcpy(rnd, &v, sizeof v);
		rnd[4] = rnd[5] = 0;
	}
	for (int i = 0; i < 6; i++)
		out[i] = a[rnd[i] % (sizeof a - 1)];
	out[6] = '\0';
}

static int files_equal(int afd, int bfd, const char *name)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	size_t al, bl;
	uint64_t max = strcmp(name, SW_ENTRIES_NAME) == 0 ? SW_ENTRIES_MAX
		       : strcmp(name, SW_EVIDENCE_NAME) == 0 ? SW_EVIDENCE_MAX : SW_MANIFEST_MAX;
	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;
	if (sw_read_file_at(afd, name, (size_t)max, NULL, &a, &al, NULL) < 0 ||
	    sw_read_file_at(bfd, name, (size_t)max, NULL, &b, &bl, NULL) < 0)
		return 0;
	return al == bl && memcmp(a, b, al) == 0;
}

static int gen_identical(int dfd, const char *gen, int stagefd)
{
	_cleanup_close_ int gfd = openat(dfd, gen, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (gfd < 0)
		return 0;
	/* The evidence is optional: both without it is equal too. */
	bool ev_a = faccessat(gfd, SW_EVIDENCE_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	bool ev_b = faccessat(stagefd, SW_EVIDENCE_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	return files_equal(gfd, stagefd, SW_MANIFEST_NAME) && files_equal(gfd, stagefd, SW_SIGS_NAME) &&
	       files_equal(gfd, stagefd, SW_ENTRIES_NAME) && ev_a == ev_b &&
	       (!ev_a || files_equal(gfd, stagefd, SW_EVIDENCE_NAME));
}

/* ------------------------------------------------------------- pruning */

typedef struct gen {
	char name[NAME_MAX + 1];
	uint64_t serial;
	int64_t mtime_ns;
} gen;

/* "gen-<serial>-<8 hex>" with an optional "-<n>" for a re-signed list. */
static bool parse_gen_name(const char *name, uint64_t *serial)
{
	if (strncmp(name, GEN_PREFIX, sizeof GEN_PREFIX - 1) != 0)
		return false;
	const char *s = name + sizeof GEN_PREFIX - 1;
	const char *dash = strchr(s, '-');
	if (!dash || sw_parse_u64(s, (size_t)(dash - s), serial) < 0)
		return false;
	const char *h = dash + 1;
	for (int i = 0; i < 8; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return h[8] == '\0' || h[8] == '-';
}

static int cmp_gen_newest_first(const void *a, const void *b)
{
	const gen *x = a, *y = b;
	if (x->serial != y->serial)
		return x->serial > y->serial ? -1 : 1;
	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns > y->mtime_ns ? -1 : 1;
	return strcmp(y->name, x->name);
}

/* Leftovers of an installer killed half-way: staging copies (a full list each),
 * generations caught half-pruned and temporary `current` links. Called with
 * the install lock held, so no other installer is using them; every attempt
 * starts with it, so at most one attempt's copy ever exists at a time. */
static void clean_leftovers(int dfd)
{
	DIR *d = sw_dir_stream(dfd);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, STAGING_PREFIX, sizeof STAGING_PREFIX - 1) == 0 ||
		    strncmp(de->d_name, PRUNE_PREFIX, sizeof PRUNE_PREFIX - 1) == 0)
			(void)remove_dir_at(dfd, de->d_name);
		else if (strncmp(de->d_name, CURRENT_TMP_PREFIX, sizeof CURRENT_TMP_PREFIX - 1) == 0)
			(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

/* A generation leaves the namespace whole: renamed out of the gen-* names first
 * (atomic), then emptied. A kill in between leaves a .prune-* directory that the
 * next attempt removes, never a gen-* directory with files missing. */
static void remove_generation(int dfd, const char *name)
{
	char tmp[32], sfx[7];
	random_suffix(sfx);
	snprintf(tmp, sizeof tmp, PRUNE_PREFIX "%s", sfx);
	if (renameat(dfd, name, dfd, tmp) < 0)
		return;
	(void)remove_dir_at(dfd, tmp);
}

/* Best effort: the install already succeeded; what cannot be removed stays. */
static void prune(int dfd, const char *current)
{
	DIR *d = sw_dir_stream(dfd);
	if (!d)
		return;
	_cleanup_free_ gen *gens = calloc(MAX_GENERATIONS, sizeof *gens);
	size_t n = 0;
	struct dirent *de;
	while (gens && (de = readdir(d))) {
		uint64_t serial;
		struct stat st;
		/* Leftovers of an installer killed half-way (we hold the lock, so no
		 * other installer is using them). */
		if (strncmp(de->d_name, STAGING_PREFIX, sizeof STAGING_PREFIX - 1) == 0 ||
		    strncmp(de->d_name, PRUNE_PREFIX, sizeof PRUNE_PREFIX - 1) == 0) {
			(void)remove_dir_at(dfd, de->d_name);
			continue;
		}
		if (strncmp(de->d_name, CURRENT_TMP_PREFIX, sizeof CURRENT_TMP_PREFIX - 1) == 0) {
			(void)unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (!parse_gen_name(de->d_name, &serial) || n == MAX_GENERATIONS)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(gens[n].name, sizeof gens[n].name, "%s", de->d_name);
		gens[n].serial = serial;
		gens[n].mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		n++;
	}
	closedir(d);
	if (!gens)
		return;
	qsort(gens, n, sizeof *gens, cmp_gen_newest_first);
	for (size_t i = SW_INSTALL_KEEP; i < n; i++)
		if (strcmp(gens[i].name, current) != 0)
			remove_generation(dfd, gens[i].name);
}

/* ------------------------------------------------------------- install */

static int switch_current(int dfd, const char *lists_dir, const char *gen_name, sw_error *err)
{
	char tmp[64], sfx[7];
	random_suffix(sfx);
	snprintf(tmp, sizeof tmp, CURRENT_TMP_PREFIX "%s", sfx);
	(void)unlinkat(dfd, tmp, 0);
	/* A relative target: the lists directory can be moved or bind-mounted. */
	if (symlinkat(gen_name, dfd, tmp) < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot create symlink", lists_dir, tmp);
	/* rename(2) replaces `current` atomically: a reader opens either the old or
	 * the new generation, never nothing. */
	if (renameat(dfd, tmp, dfd, CURRENT_NAME) < 0) {
		int e = errno;
		(void)unlinkat(dfd, tmp, 0);
		return sw_err_errno(err, e, "%s/%s: cannot switch to %s", lists_dir, CURRENT_NAME, gen_name);
	}
	if (fsync(dfd) < 0)
		return sw_err_errno(err, errno, "%s: cannot sync directory", lists_dir);
	return 0;
}

static int current_target(int dfd, char *out, size_t len)
{
	ssize_t n = readlinkat(dfd, CURRENT_NAME, out, len - 1);
	if (n < 0) {
		out[0] = '\0';
		return -1;
	}
	out[n] = '\0';
	return 0;
}

/* Checks on the staged copy and the generation name it gets. */
static int check_staged(const sw_config *c, int stagefd, const char *src_dir, char gen_name[SW_GEN_NAME_MAX],
			sw_error *err)
{
	int sfd = fcntl(stagefd, F_DUPFD_CLOEXEC, 0);
	if (sfd < 0)
		return sw_err_errno(err, errno, "%s", src_dir);
	/* Messages name the source directory: that is what the operator gave. */
	sw_list l;
	int r = sw_list_open_fd(sfd, src_dir, &l, err);
	if (r >= 0)
		r = sw_list_verify_full(c, NULL, &l, err);
	if (r >= 0) {
		char scope[SW_SCOPE_MAX + 1];
		uint64_t serial;
		sw_error e = { 0 };
		int have = sw_installed_serial(c->lists_dir, scope, &serial, &e);
		/* A broken `current` must not block the installation of a list that
		 * verified in full: that is how a node recovers. */
		if (have == 1 && strcmp(scope, l.scope) == 0 && l.serial < serial)
			r = sw_err(err, SW_EPOLICY,
				   "allowlist %s#%llu is older than the installed serial %llu (rollback refused)",
				   l.scope, (unsigned long long)l.serial, (unsigned long long)serial);
	}
	if (r >= 0) {
		char h[SW_SHA256_HEX + 1];
		sw_hex(l.manifest_sha256, SW_SHA256_LEN, h);
		snprintf(gen_name, SW_GEN_NAME_MAX, GEN_PREFIX "%llu-%.8s", (unsigned long long)l.serial, h);
	}
	sw_list_close(&l);
	return r;
}

int sw_list_install(const sw_config *c, const char *src_dir, bool dry_run,
		    char *gen_name_out, size_t gen_name_len, sw_error *err)
{
	const char *lists_dir = c->lists_dir;
	if (!lists_dir || !lists_dir[0])
		return sw_err(err, SW_EINVAL, "no lists_dir configured");
	_cleanup_close_ int srcfd = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcfd < 0)
		return sw_err_errno(err, errno, "%s: cannot open allowlist directory", src_dir);
	if (mkdir(lists_dir, 0755) < 0 && errno != EEXIST)
		return sw_err_errno(err, errno, "%s: cannot create", lists_dir);
	_cleanup_close_ int dfd = open(lists_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", lists_dir);

	/* 1. One installer at a time (the CLI and sigwardd may race). The lock is
	 * private to its owner (0600; a wider one we own is narrowed): any account
	 * that can open a file can flock it, and a lock held by a stranger would
	 * hold up every install, a revocation included, until the list expires. */
	_cleanup_close_ int lfd = openat(dfd, SW_INSTALL_LOCK,
					 O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
	if (lfd < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot open", lists_dir, SW_INSTALL_LOCK);
	struct stat lst;
	if (fstat(lfd, &lst) < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot stat", lists_dir, SW_INSTALL_LOCK);
	if (!S_ISREG(lst.st_mode))
		return sw_err(err, SW_EINVAL, "%s/%s: not a regular file", lists_dir, SW_INSTALL_LOCK);
	if (lst.st_uid == geteuid() && (lst.st_mode & 077) && fchmod(lfd, 0600) < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot make it private", lists_dir, SW_INSTALL_LOCK);
	while (flock(lfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return sw_err_errno(err, errno, "%s/%s: cannot lock", lists_dir, SW_INSTALL_LOCK);

	/* 2. Staging copy, after removing what a killed attempt left. */
	clean_leftovers(dfd);
	char staging[32], sfx[7];
	random_suffix(sfx);
	snprintf(staging, sizeof staging, STAGING_PREFIX "%s", sfx);
	if (mkdirat(dfd, staging, 0755) < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot create", lists_dir, staging);
	int r;
	_cleanup_close_ int stagefd = openat(dfd, staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (stagefd < 0) {
		r = sw_err_errno(err, errno, "%s/%s: cannot open", lists_dir, staging);
		goto fail;
	}
	if ((r = copy_file(srcfd, src_dir, stagefd, SW_MANIFEST_NAME, SW_MANIFEST_MAX, err)) < 0 ||
	    (r = copy_file(srcfd, src_dir, stagefd, SW_SIGS_NAME, SW_SIGS_MAX, err)) < 0 ||
	    (r = copy_file(srcfd, src_dir, stagefd, SW_ENTRIES_NAME, SW_ENTRIES_MAX, err)) < 0)
		goto fail;
	/* The evidence of a compiled list travels with it (audit step 5 reads it
	 * on the node); a list without one is installed as before. */
	if ((r = copy_file(srcfd, src_dir, stagefd, SW_EVIDENCE_NAME, SW_EVIDENCE_MAX, err)) < 0 && r != -ENOENT)
		goto fail;

	/* 3. Verify the copy, exactly what will be installed. */
	char gen_name[SW_GEN_NAME_MAX];
	if ((r = check_staged(c, stagefd, src_dir, gen_name, err)) < 0)
		goto fail;
	if (fsync(stagefd) < 0) {
		r = sw_err_errno(err, errno, "%s/%s: cannot sync", lists_dir, staging);
		goto fail;
	}

	/* 4. Into place. The same name can exist: the same list installed again
	 * (reuse it), or the same manifest with other signatures (a new name). */
	char final[SW_GEN_NAME_MAX + 8];
	snprintf(final, sizeof final, "%s", gen_name);
	bool reuse = false;
	for (int k = 2; !reuse; k++) {
		struct stat st;
		if (fstatat(dfd, final, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				break;
			r = sw_err_errno(err, errno, "%s/%s: stat failed", lists_dir, final);
			goto fail;
		}
		if (S_ISDIR(st.st_mode) && gen_identical(dfd, final, stagefd)) {
			reuse = true;
			break;
		}
		if (k > 99) {
			r = sw_err(err, SW_EINVAL, "%s: too many generations named %s-N", lists_dir, gen_name);
			goto fail;
		}
		snprintf(final, sizeof final, "%s-%d", gen_name, k);
	}
	if (gen_name_out && gen_name_len)
		snprintf(gen_name_out, gen_name_len, "%s", final);
	if (dry_run || reuse) {
		(void)remove_dir_at(dfd, staging);
		if (dry_run)
			return 0;
	} else if (renameat(dfd, staging, dfd, final) < 0) {
		r = sw_err_errno(err, errno, "%s/%s: cannot rename into place", lists_dir, final);
		goto fail;
	}
	if (fsync(dfd) < 0) {
		r = sw_err_errno(err, errno, "%s: cannot sync directory", lists_dir);
		if (!reuse)
			(void)remove_dir_at(dfd, final);
		return r;
	}
	if ((r = switch_current(dfd, lists_dir, final, err)) < 0) {
		if (!reuse)
			(void)remove_dir_at(dfd, final);
		return r;
	}

	/* 5. Old generations. */
	char cur[NAME_MAX + 1];
	if (current_target(dfd, cur, sizeof cur) == 0)
		prune(dfd, cur);
	return 0;

fail:
	(void)remove_dir_at(dfd, staging);
	return r;
}
