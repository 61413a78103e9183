/* SPDX-License-Identifier: Apache-2.0 */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* As the kernel's own limit on links followed in one lookup. */
#define MAX_LINKS 40

/* The memo (sw_trust_memo_enable): directories this process has already walked
 * to and checked, by the path text that led there, each held open (O_PATH).
 * A start walks to state_dir three times and to the keys directory twice; with
 * the memo each walk after the first costs three system calls instead of three
 * per component. Only walks that followed no link are remembered, so the text
 * is the path itself. Holding the descriptor is no weaker than walking again:
 * every directory on the way is root's and not writable by others (or the walk
 * would have been refused), so only root could change what the text leads to,
 * and a held descriptor cannot be swapped at all. */
#define MEMO_MAX 8
static struct {
	char *key;                /* the path text, without a trailing slash */
	char *shown;              /* as the walk names it in messages */
	int fd;                   /* O_PATH, O_CLOEXEC */
	struct stat st;
} memo[MEMO_MAX];
static size_t n_memo;
static bool memo_on;

void sw_trust_memo_enable(void)
{
	/* Closed at exit, so that a process ends with only the descriptors it
	 * was given (resources.sh checks that under valgrind --track-fds). */
	static bool registered;
	if (!registered && atexit(sw_trust_memo_clear) == 0)
		registered = true;
	memo_on = true;
}

void sw_trust_memo_clear(void)
{
	for (size_t i = 0; i < n_memo; i++) {
		free(memo[i].key);
		free(memo[i].shown);
		close(memo[i].fd);
	}
	n_memo = 0;
	memo_on = false;
}

/* The longest remembered directory that `path` starts with (at a component
 * boundary), or -1. */
static int memo_find(const char *path)
{
	int best = -1;
	size_t best_len = 0;
	for (size_t i = 0; i < n_memo; i++) {
		size_t l = strlen(memo[i].key);
		if (l > best_len && strncmp(path, memo[i].key, l) == 0 && (path[l] == '/' || path[l] == '\0')) {
			best = (int)i;
			best_len = l;
		}
	}
	return best;
}

/* Remember fd (taken over: closed here when not kept) as the directory that the
 * first `len` bytes of `text` lead to. Returns true when kept. */
static bool memo_keep(const char *text, size_t len, const char *shown, int fd, const struct stat *st)
{
	while (len > 1 && text[len - 1] == '/')
		len--;
	if (!memo_on || n_memo == MEMO_MAX || len <= 1)
		return false;
	for (size_t i = 0; i < n_memo; i++)
		if (strlen(memo[i].key) == len && strncmp(memo[i].key, text, len) == 0)
			return false;
	char *k = strndup(text, len), *sh = strdup(shown);
	if (!k || !sh) {
		free(k);
		free(sh);
		return false;
	}
	memo[n_memo].key = k;
	memo[n_memo].shown = sh;
	memo[n_memo].fd = fd;
	memo[n_memo].st = *st;
	n_memo++;
	return true;
}

static bool owner_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static const char *type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "directory";
	if (S_ISREG(m))
		return "file";
	if (S_ISLNK(m))
		return "symbolic link";
	return "special file";
}

/* The one rule, for an object reached at `path`. `on_the_way`: a directory we only
 * pass through, where root's sticky directories (/tmp) are acceptable, because
 * their other entries cannot be renamed or removed by anyone but their owner and
 * the next component is checked on its own. */
static int check_stat(const struct stat *st, const char *path, bool on_the_way, sw_error *err)
{
	if (!owner_trusted(st->st_uid))
		return sw_err(err, EPERM, "%s: %s owned by uid %u, not root: refused (sigward trusts only "
			      "root's files for its configuration, keys, state and runtime)",
			      path, type_name(st->st_mode), (unsigned)st->st_uid);
	/* A link's own mode bits mean nothing; its owner and its directory do. */
	if (S_ISLNK(st->st_mode))
		return 0;
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		bool sticky_ok = on_the_way && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0;
		if (!sticky_ok)
			return sw_err(err, EPERM, "%s: %s writable by group or others (mode %04o, uid %u): refused",
				      path, type_name(st->st_mode), (unsigned)(st->st_mode & 07777),
				      (unsigned)st->st_uid);
	}
	return 0;
}

/* memo_keep for the directory a walk stands in before its last component:
 * `shown` names that component, so its parent is shown up to the last slash. */
__attribute__((noinline)) static bool keep_parent(const char *text, size_t len, const char *shown, int dfd, const struct stat *st)
{
	const char *slash = strrchr(shown, '/');
	_cleanup_free_ char *parent = strndup(shown, slash ? (size_t)(slash - shown) : strlen(shown));
	return parent && memo_keep(text, len, parent, dfd, st);
}

int sw_trust_check_fd(int fd, const char *path, sw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: cannot stat", path);
	return check_stat(&st, path, false, err);
}

/* Open the final object the way its kind needs and make sure it is the one whose
 * O_PATH descriptor was checked. */
static int open_final(int dirfd, const char *name, int pathfd, const struct stat *st, const char *path,
		      sw_trust_kind kind, sw_error *err)
{
	switch (kind) {
	case SW_TRUST_DIR:
		if (!S_ISDIR(st->st_mode))
			return sw_err(err, ENOTDIR, "%s: not a directory", path);
		break;
	case SW_TRUST_FILE:
	case SW_TRUST_EXEC:
		if (!S_ISREG(st->st_mode))
			return sw_err(err, EINVAL, "%s: not a regular file (a %s)", path, type_name(st->st_mode));
		break;
	}
	if (kind == SW_TRUST_EXEC) {
		int fd = fcntl(pathfd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return sw_err_errno(err, errno, "%s: dup", path);
		return fd;
	}
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (kind == SW_TRUST_DIR ? O_DIRECTORY : O_NONBLOCK);
	int fd = dirfd >= 0 ? openat(dirfd, name, flags) : open("/", flags);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", path);
	struct stat st2;
	if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
		close(fd);
		/* Only root could have swapped it in a checked directory. */
		return sw_err(err, EAGAIN, "%s: replaced while it was opened", path);
	}
	/* A FILE keeps O_NONBLOCK from its open (which was only there so that a
	 * FIFO could not hang it): it is a regular file, checked above, and
	 * regular files ignore the flag. */
	return fd;
}

int sw_trust_openat(int dirfd, const char *name, const char *path, sw_trust_kind kind, sw_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: cannot stat", path);
	if (S_ISLNK(st.st_mode))
		return sw_err(err, ELOOP, "%s: is a symbolic link, refused", path);
	int r = check_stat(&st, path, false, err);
	if (r < 0)
		return r;
	return open_final(dirfd, name, fd, &st, path, kind, err);
}

int sw_trust_open(const char *path, sw_trust_kind kind, sw_error *err)
{
	if (!path || !*path)
		return sw_err(err, EINVAL, "empty path");
	/* What is left to walk, and the path walked so far (for messages). On
	 * the heap: freed and handed out again walk after walk, where 12 KB of
	 * stack were pages faulted in on every start (bench/PROFILE.md). */
	struct walk_bufs {
		char rest[PATH_MAX * 2];
		char shown[PATH_MAX];
	};
	_cleanup_free_ struct walk_bufs *wb = malloc(sizeof *wb);
	if (!wb)
		return sw_err_errno(err, ENOMEM, "%s", path);
	char *rest = wb->rest, *shown = wb->shown;
	if (strlen(path) >= PATH_MAX)
		return sw_err(err, ENAMETOOLONG, "%.64s...: path too long", path);
	if (path[0] == '/') {
		snprintf(rest, sizeof wb->rest, "%s", path);
	} else {
		/* A relative path given on a command line (--keys DIR): the working
		 * directory and every directory above it are part of the walk. */
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return sw_err_errno(err, errno, "%s: cannot get the working directory", path);
		snprintf(rest, sizeof wb->rest, "%s/%s", cwd, path);
	}
	shown[0] = '\0';

	int links = 0;
	bool dotted = false;
	size_t pos = 0;
	struct stat st;
	int r;
	_cleanup_close_ int dfd = -1;
	struct stat dst;
	int hit = memo_on ? memo_find(rest) : -1;
	if (hit >= 0) {
		/* Checked by an earlier walk of this process (see memo above). */
		dfd = fcntl(memo[hit].fd, F_DUPFD_CLOEXEC, 3);
		if (dfd < 0)
			return sw_err_errno(err, errno, "%s: dup", memo[hit].shown);
		dst = memo[hit].st;
		snprintf(shown, sizeof wb->shown, "%s", memo[hit].shown);
		pos = strlen(memo[hit].key);
	} else {
		dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return sw_err_errno(err, errno, "/: cannot open");
		if (fstat(dfd, &st) < 0)
			return sw_err_errno(err, errno, "/: cannot stat");
		r = check_stat(&st, "/", true, err);
		if (r < 0)
			return r;
		dst = st;
	}

	for (;;) {
		while (rest[pos] == '/')
			pos++;
		size_t name_at = pos;
		if (rest[pos] == '\0') {
			/* The path ends in the directory we stand in ("/", "dir/", "dir/."). */
			r = check_stat(&dst, shown[0] ? shown : "/", false, err);
			if (r < 0)
				return r;
			if (kind != SW_TRUST_DIR)
				return sw_err(err, EISDIR, "%s: is a directory", path);
			int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				return sw_err_errno(err, errno, "%s: cannot open", path);
			return fd;
		}
		size_t n = strcspn(rest + pos, "/");
		char name[NAME_MAX + 1];
		if (n > NAME_MAX)
			return sw_err(err, ENAMETOOLONG, "%s: a path component is too long", path);
		memcpy(name, rest + pos, n);
		name[n] = '\0';
		pos += n;
		size_t after = pos + strspn(rest + pos, "/");
		bool last = rest[after] == '\0';

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			dotted = true;  /* the text is not the path: not remembered */
		if (strcmp(name, ".") == 0)
			continue;
		size_t sl = strlen(shown);
		if (strcmp(name, "..") == 0) {
			char *slash = strrchr(shown, '/');
			if (slash)
				*slash = '\0';
		} else {
			snprintf(shown + sl, sizeof wb->shown - sl, "/%s", name);
		}

		int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			/* An optional file that is absent (sigward.conf.d): the directory
			 * it would be in was still reached and checked. */
			if (last && e == ENOENT && links == 0 && !dotted && keep_parent(rest, name_at, shown, dfd, &dst))
				dfd = -1;
			return sw_err_errno(err, e, "%s: cannot open", path);
		}
		if (fstat(fd, &st) < 0) {
			int e = errno;
			close(fd);
			return sw_err_errno(err, e, "%s: cannot stat", shown);
		}
		r = check_stat(&st, shown, !last, err);
		if (r < 0) {
			close(fd);
			return r;
		}
		if (S_ISLNK(st.st_mode)) {
			/* target and the spliced path on the heap: a link is the rare
			 * case, and 12 KB more of stack on every walk were pages the
			 * kernel faulted in on every start (bench/PROFILE.md). */
			_cleanup_free_ char *target = malloc(PATH_MAX);
			_cleanup_free_ char *next = malloc(PATH_MAX * 2);
			if (!target || !next) {
				close(fd);
				return sw_err_errno(err, ENOMEM, "%s", shown);
			}
			ssize_t tl = readlinkat(fd, "", target, PATH_MAX);
			int e = errno;
			close(fd);
			if (tl < 0)
				return sw_err_errno(err, e, "%s: cannot read link", shown);
			if ((size_t)tl >= PATH_MAX || ++links > MAX_LINKS)
				return sw_err(err, ELOOP, "%s: too many or too long symbolic links", path);
			target[tl] = '\0';
			/* Splice the target in front of what is left. */
			int m = snprintf(next, PATH_MAX * 2, "%s/%s", target, rest + pos);
			if (m < 0 || (size_t)m >= sizeof wb->rest)
				return sw_err(err, ENAMETOOLONG, "%s: path too long after links", path);
			memcpy(rest, next, (size_t)m + 1);
			pos = 0;
			if (target[0] == '/') {
				close(dfd);
				dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (dfd < 0)
					return sw_err_errno(err, errno, "/: cannot open");
				if (fstat(dfd, &dst) < 0)
					return sw_err_errno(err, errno, "/: cannot stat");
				shown[0] = '\0';
			} else {
				char *slash = strrchr(shown, '/');
				if (slash)
					*slash = '\0';
			}
			continue;
		}
		if (last) {
			r = open_final(dfd, name, fd, &st, shown, kind, err);
			if (r >= 0 && links == 0 && !dotted) {
				/* The directory reached, and the one it is in. */
				if (kind != SW_TRUST_DIR || !memo_keep(rest, pos, shown, fd, &st))
					close(fd);
				if (keep_parent(rest, name_at, shown, dfd, &dst))
					dfd = -1;
			} else {
				close(fd);
			}
			return r;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			return sw_err_errno(err, ENOTDIR, "%s: cannot open", path);
		}
		close(dfd);
		dfd = fd;
		dst = st;
	}
}
