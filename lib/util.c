/* SPDX-License-Identifier: Apache-2.0 */

#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "sha256.h"

/* st: the descriptor's fstat when the caller already made it, else NULL. */
static int read_fd(int fd, size_t max, const char *what, const struct stat *st, char **out, size_t *len,
		   sw_error *err)
{
	size_t cap = 4096, n = 0;
	struct stat own;

	if (!st && fstat(fd, &own) == 0)
		st = &own;
	if (st && S_ISREG(st->st_mode)) {
		if ((uint64_t)st->st_size > max)
			return sw_err(err, SW_ETOOBIG, "%s: %lld bytes, more than the limit of %zu",
				      what, (long long)st->st_size, max);
		cap = (size_t)st->st_size + 1;
	}
	if (cap > max + 1)
		cap = max + 1;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return sw_err_errno(err, ENOMEM, "%s", what);
	for (;;) {
		if (n == cap) {
			if (cap > max)
				return sw_err(err, SW_ETOOBIG, "%s: more than the limit of %zu bytes", what, max);
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb)
				return sw_err_errno(err, ENOMEM, "%s", what);
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return sw_err_errno(err, errno, "%s: read failed", what);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			return sw_err(err, SW_ETOOBIG, "%s: more than the limit of %zu bytes", what, max);
	}
	buf[n] = '\0';
	*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

bool sw_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;    /* the file ends early */
			return false;
		}
		got += (size_t)n;
	}
	return true;
}

int sw_read_fd(int fd, size_t max, const char *what, char **out, size_t *len, sw_error *err)
{
	return read_fd(fd, max, what, NULL, out, len, err);
}

static int read_opened(int fd, const char *what, size_t max, char **out, size_t *len, sw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: stat failed", what);
	if (!S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: not a regular file", what);
	/* O_NONBLOCK stays: it was only there so that opening a FIFO cannot
	 * hang, and a regular file (checked above) ignores it. One fstat: the
	 * hook reads five files per start. */
	return read_fd(fd, max, what, &st, out, len, err);
}

int sw_read_file_at(int dirfd, const char *name, size_t max, const char *what,
		    char **out, size_t *len, sw_error *err)
{
	if (!what)
		what = name;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			return sw_err(err, SW_EINVAL, "%s: is a symbolic link, refused", what);
		return sw_err_errno(err, errno, "%s: cannot open", what);
	}
	return read_opened(fd, what, max, out, len, err);
}

int sw_read_file(const char *path, size_t max, char **out, size_t *len, sw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", path);
	return read_opened(fd, path, max, out, len, err);
}

int sw_open_dir_at(int dirfd, const char *name, bool nofollow, sw_error *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open directory", name);
	return fd;
}

int sw_open_subdir(int dirfd, const char *name, const char *what, int *out, sw_error *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		*out = fd;
		return 1;
	}
	int e = errno;
	if (e == ENOENT)
		return 0;
	/* O_NOFOLLOW|O_DIRECTORY on a link fails with ELOOP or ENOTDIR: say which. */
	struct stat st;
	if ((e == ELOOP || e == ENOTDIR) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: is a symbolic link, refused", what);
	return sw_err_errno(err, e, "%s: cannot open directory", what);
}

int sw_write_file_atomic_at(int dirfd, const char *dirpath, const char *name,
			    const void *data, size_t len, mode_t mode, sw_error *err)
{
	char tmp[NAME_MAX + 1];
	int n = snprintf(tmp, sizeof tmp, ".%s.tmp.%ld", name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		return sw_err(err, SW_EINVAL, "%s/%s: name too long", dirpath, name);
	(void)unlinkat(dirfd, tmp, 0);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot create", dirpath, tmp);
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			(void)unlinkat(dirfd, tmp, 0);
			return sw_err_errno(err, e, "%s/%s: write failed", dirpath, tmp);
		}
		p += w;
		left -= (size_t)w;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		int e = errno;
		(void)unlinkat(dirfd, tmp, 0);
		return sw_err_errno(err, e, "%s/%s: cannot sync", dirpath, tmp);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		(void)unlinkat(dirfd, tmp, 0);
		return sw_err_errno(err, e, "%s/%s: cannot rename into place", dirpath, name);
	}
	(void)fsync(dirfd);
	return 0;
}

void sw_hex(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Hex digit values, -1 for anything else; lowercase flagged separately because
 * digests in sigward's formats are lowercase only. A table keeps parsing a
 * 1024-bin manifest cheap on every container start. */
static const signed char hexv[256] = {
	['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5, ['6'] = 6, ['7'] = 7,
	['8'] = 8, ['9'] = 9, ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15,
	['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
};
static const unsigned char is_hexdigit[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2,
};

int sw_unhex(const char *in, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)in[2 * i], b = (unsigned char)in[2 * i + 1];
		if (!is_hexdigit[a] || !is_hexdigit[b])
			return -1;
		out[i] = (unsigned char)(hexv[a] << 4 | hexv[b]);
	}
	return 0;
}

bool sw_is_hex64(const char *s, size_t len)
{
	if (len != SW_SHA256_HEX)
		return false;
	unsigned bad = 0;
	for (size_t i = 0; i < SW_SHA256_HEX; i++)
		bad |= is_hexdigit[(unsigned char)s[i]] ^ 1u;
	return bad == 0;
}

bool sw_is_sha256_digest(const char *s, size_t len)
{
	return len == 7 + SW_SHA256_HEX && memcmp(s, "sha256:", 7) == 0 && sw_is_hex64(s + 7, SW_SHA256_HEX);
}

void sw_chain_next(char chain[SW_DIGEST_STR], const char *diff)
{
	if (!chain[0]) {
		memcpy(chain, diff, SW_DIGEST_STR - 1);
		chain[SW_DIGEST_STR - 1] = '\0';
		return;
	}
	char buf[2 * SW_DIGEST_STR];
	int n = snprintf(buf, sizeof buf, "%s %.*s", chain, SW_DIGEST_STR - 1, diff);
	memcpy(chain, "sha256:", 7);
	sw_sha256_hex(buf, (size_t)n, chain + 7);
}

void sw_sha256(const void *data, size_t len, unsigned char out[SW_SHA256_LEN])
{
	sw_sha256_ctx c;
	sw_sha256_init(&c);
	sw_sha256_update(&c, data, len);
	sw_sha256_final(&c, out);
}

void sw_sha256_hex(const void *data, size_t len, char out[SW_SHA256_HEX + 1])
{
	unsigned char md[SW_SHA256_LEN];
	sw_sha256(data, len, md);
	sw_hex(md, sizeof md, out);
}

int sw_digest_normalize(const char *in, size_t len, char out[SW_DIGEST_STR])
{
	if (len == 7 + SW_SHA256_HEX && memcmp(in, "sha256:", 7) == 0) {
		in += 7;
		len -= 7;
	}
	if (!sw_is_hex64(in, len))
		return -1;
	memcpy(out, "sha256:", 7);
	memcpy(out + 7, in, SW_SHA256_HEX);
	out[7 + SW_SHA256_HEX] = '\0';
	return 0;
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int sw_parse_rfc3339(const char *s, size_t len, int64_t *out)
{
	int Y, M, D, h, m, sec;
	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &m) || digits(s + 17, 2, &sec))
		return -1;
	size_t i = 19;
	if (i < len && s[i] == '.') {
		i++;
		size_t start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > 9)
			return -1;
	}
	if (i + 1 != len || (s[i] != 'Z' && s[i] != 'z'))
		return -1;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
		return -1;
	bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
	if (M == 2 && D == 29 && !leap)
		return -1;
	if (sec == 60)
		sec = 59;
	*out = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec;
	return 0;
}

/* The inverse of days_from_civil (same algorithm, H. Hinnant). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void sw_format_rfc3339(int64_t t, char out[32])
{
	/* Not gmtime_r or strftime: glibc's run tzset once, which reads
	 * /etc/localtime (six system calls on every start of the hook) for a
	 * time that is always UTC. */
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		snprintf(out, 32, "@%lld", (long long)t);
	else
		snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d, (int)(secs / 3600),
			 (int)(secs / 60 % 60), (int)(secs % 60));
}

int sw_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned dgt = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			return -1;
		v = v * 10 + dgt;
	}
	*out = v;
	return 0;
}

int sw_parse_duration(const char *s, int64_t *out)
{
	size_t len = strlen(s), nlen = len;
	int64_t mult = 1;
	if (len && (s[len - 1] < '0' || s[len - 1] > '9')) {
		nlen = len - 1;
		switch (s[len - 1]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return -1;
		}
	}
	uint64_t v;
	if (sw_parse_u64(s, nlen, &v) < 0 || v > (uint64_t)(INT64_MAX / mult) / 2)
		return -1;
	*out = (int64_t)v * mult;
	return 0;
}

int64_t sw_now(void)
{
	return (int64_t)time(NULL);
}

void sw_copy_str(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

char *sw_memdup0(const void *p, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *c = malloc(n + 1);
	if (!c)
		return NULL;
	if (n)
		memcpy(c, p, n);
	c[n] = '\0';
	return c;
}

void sw_msgpath(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

void sw_deadline_start(sw_deadline *d, unsigned budget_ms)
{
	*d = (sw_deadline){ .limit_us = (int64_t)budget_ms * 1000, .pause_us = 200 };
	/* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer; a zero
	 * start would only make the budget end sooner, never later. */
	(void)clock_gettime(CLOCK_MONOTONIC, &d->start);
}

int64_t sw_deadline_spent_us(const sw_deadline *d)
{
	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		return INT64_MAX;
	return (int64_t)(now.tv_sec - d->start.tv_sec) * 1000000 + (now.tv_nsec - d->start.tv_nsec) / 1000;
}

bool sw_deadline_pause(sw_deadline *d)
{
	int64_t spent_us = sw_deadline_spent_us(d);
	if (spent_us >= d->limit_us)
		return false;
	int64_t us = d->pause_us < d->limit_us - spent_us ? d->pause_us : d->limit_us - spent_us;
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	if (d->pause_us < 10000)
		d->pause_us *= 2;
	d->tries++;
	return true;
}

int sw_flock_wait(int fd, int op, unsigned timeout_ms)
{
	sw_deadline d;
	sw_deadline_start(&d, timeout_ms);
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		/* Polling, not a blocking flock under a timer: a blocking wait could
		 * only be cut short by a signal, and the hook's one timer is the alarm
		 * that bounds the whole decision. */
		if (!sw_deadline_pause(&d))
			return -ETIMEDOUT;
	}
}

void sw_dirents_init(sw_dirents *d, int dirfd)
{
	d->fd = dirfd;
	d->pos = d->len = 0;
	d->started = false;
}

/* struct linux_dirent64, as getdents64(2) writes it. */
struct sw_dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

const char *sw_dirents_next(sw_dirents *d)
{
	if (!d->started) {
		d->started = true;
		if (lseek(d->fd, 0, SEEK_SET) < 0)
			return NULL;
	}
	if (d->pos >= d->len) {
		long n;
		do
			n = syscall(SYS_getdents64, d->fd, d->buf, sizeof d->buf);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return NULL;
		}
		d->len = (size_t)n;
		d->pos = 0;
	}
	const struct sw_dirent64 *e = (const struct sw_dirent64 *)(d->buf + d->pos);
	if (e->reclen < offsetof(struct sw_dirent64, name) + 1 || d->pos + e->reclen > d->len) {
		errno = EIO; /* not what the kernel writes */
		return NULL;
	}
	d->pos += e->reclen;
	return e->name;
}

DIR *sw_dir_stream(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	rewinddir(d);
	return d;
}
