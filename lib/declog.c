/* SPDX-License-Identifier: Apache-2.0 */
#include "declog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "util.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* ----------------------------------------------------------------- render */

static void gs(yajl_gen g, const char *s)
{
	if (!s) {
		yajl_gen_null(g);
		return;
	}
	/* yajl refuses invalid UTF-8 when validation is on; replace such bytes so a
	 * hostile id or path can never make a record unwritable or ambiguous. */
	size_t n = strlen(s);
	_cleanup_free_ char *clean = malloc(n + 1);
	if (!clean) {
		yajl_gen_null(g);
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = len && i + len <= n && !(len == 2 && c < 0xc2);
		for (size_t k = 1; ok && k < len; k++)
			ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
		if (!ok) {
			clean[o++] = '?';
			i++;
			continue;
		}
		memcpy(clean + o, s + i, len);
		o += len;
		i += len;
	}
	yajl_gen_string(g, (const unsigned char *)clean, o);
}

static void gk(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

int sw_record_render(const sw_record *r, const char *prev_hex, char **out, size_t *len, sw_error *err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return sw_err_errno(err, ENOMEM, "decision log");
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	char t[32];
	sw_format_rfc3339(r->time, t);

	yajl_gen_map_open(g);
	gk(g, "time"); gs(g, t);
	gk(g, "container"); gs(g, r->container_id);
	gk(g, "bundle"); gs(g, r->bundle);
	gk(g, "runtime"); gs(g, r->runtime);
	gk(g, "digests");
	yajl_gen_array_open(g);
	for (size_t i = 0; r->res && i < r->res->n; i++) {
		yajl_gen_map_open(g);
		gk(g, "digest"); gs(g, r->res->d[i].digest);
		gk(g, "source"); gs(g, r->res->d[i].source);
		gk(g, "kind"); gs(g, r->res->d[i].kind);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	if (r->res && r->res->reference[0]) {
		gk(g, "reference");
		gs(g, r->res->reference);
	}
	gk(g, "matched"); gs(g, r->matched);
	gk(g, "allowlist");
	if (r->scope) {
		yajl_gen_map_open(g);
		gk(g, "scope"); gs(g, r->scope);
		gk(g, "serial"); yajl_gen_integer(g, (long long)r->serial);
		yajl_gen_map_close(g);
	} else {
		yajl_gen_null(g);
	}
	gk(g, "signers");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->n_signers; i++)
		gs(g, r->signers[i]);
	yajl_gen_array_close(g);
	gk(g, "mode"); gs(g, sw_mode_name(r->mode));
	gk(g, "decision"); gs(g, r->decision ? sw_verdict_name(r->decision->verdict) : "deny");
	gk(g, "reason"); gs(g, r->decision ? r->decision->reason : "");
	/* Last, so that a record's own hash covers everything before it. */
	gk(g, "prev"); gs(g, prev_hex);
	yajl_gen_map_close(g);

	const unsigned char *buf;
	size_t n;
	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok || n >= SW_LOG_LINE_MAX) {
		yajl_gen_free(g);
		return sw_err(err, SW_ETOOBIG, "decision record could not be rendered within %d bytes", SW_LOG_LINE_MAX);
	}
	*out = strndup((const char *)buf, n);
	*len = n;
	yajl_gen_free(g);
	return *out ? 0 : sw_err_errno(err, ENOMEM, "decision log");
}

/* ----------------------------------------------------------------- append */

/* Hash of the last complete line of the file (fd at any offset), or ZERO_HASH for
 * an empty file. A file not ending in '\n' has a torn last write: the caller then
 * starts the new record on a line of its own, and the chain reports the torn line
 * when verified. */
static int last_line_hash(int fd, const char *path, char out[SW_SHA256_HEX + 1], bool *torn, sw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: stat failed", path);
	*torn = false;
	if (st.st_size == 0) {
		memcpy(out, ZERO_HASH, SW_SHA256_HEX + 1);
		return 0;
	}
	size_t want = st.st_size < SW_LOG_LINE_MAX + 2 ? (size_t)st.st_size : SW_LOG_LINE_MAX + 2;
	_cleanup_free_ char *buf = malloc(want);
	if (!buf)
		return sw_err_errno(err, ENOMEM, "%s", path);
	off_t off = st.st_size - (off_t)want;
	size_t got = 0;
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return sw_err_errno(err, r < 0 ? errno : EIO, "%s: read failed", path);
		got += (size_t)r;
	}
	size_t end = want;
	if (buf[end - 1] != '\n')
		*torn = true;
	else
		end--;
	size_t start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && off > 0)
		return sw_err(err, SW_ETOOBIG, "%s: last record longer than %d bytes", path, SW_LOG_LINE_MAX);
	sw_sha256_hex(buf + start, end - start, out);
	return 0;
}

int sw_declog_append(const char *log_file, const char *state_dir, const sw_record *r, sw_error *err)
{
	/* Open the head before appending: a head that cannot be opened (missing
	 * directory, not a regular file) must fail the append before a record is
	 * written, or the log would show an "allow" for a start that was then
	 * denied because the decision could not be recorded completely. */
	_cleanup_close_ int hfd = -1;
	if (state_dir) {
		_cleanup_close_ int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		hfd = dfd < 0 ? -1 : openat(dfd, SW_LOG_HEAD_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
		if (hfd < 0)
			return sw_err_errno(err, errno, "%s/%s: cannot write the log head", state_dir, SW_LOG_HEAD_NAME);
		struct stat hst;
		if (fstat(hfd, &hst) < 0 || !S_ISREG(hst.st_mode))
			return sw_err(err, SW_EINVAL, "%s/%s: the log head is not a regular file", state_dir, SW_LOG_HEAD_NAME);
		/* Concurrent hooks append one at a time: reading the last line and
		 * writing the next must not interleave, or two records would name the
		 * same prev. The lock is on the head, which never moves, and the log is
		 * opened only under it: rotation renames the log, and a hook still
		 * holding the old file could otherwise fork the chain. */
		if (flock(hfd, LOCK_EX) < 0)
			return sw_err_errno(err, errno, "%s/%s: cannot lock", state_dir, SW_LOG_HEAD_NAME);
	}
	_cleanup_close_ int fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
				      0640);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open the decision log", log_file);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: the decision log is not a regular file", log_file);
	if (hfd < 0 && flock(fd, LOCK_EX) < 0)
		return sw_err_errno(err, errno, "%s: cannot lock", log_file);
	_cleanup_close_ int rfd = open(log_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (rfd < 0)
		return sw_err_errno(err, errno, "%s: cannot read the decision log", log_file);
	char prev[SW_SHA256_HEX + 1];
	bool torn = false;
	int rc = last_line_hash(rfd, log_file, prev, &torn, err);
	if (rc < 0)
		return rc;
	/* An empty log after a rotation: the chain continues from the head, the
	 * hash of the last record the previous file holds, so `sigward log verify`
	 * can follow the chain across rotated files. */
	if (strcmp(prev, ZERO_HASH) == 0 && hfd >= 0) {
		char head[SW_SHA256_HEX];
		if (pread(hfd, head, sizeof head, 0) == (ssize_t)sizeof head && sw_is_hex64(head, sizeof head)) {
			memcpy(prev, head, SW_SHA256_HEX);
			prev[SW_SHA256_HEX] = '\0';
		}
	}
	_cleanup_free_ char *line = NULL;
	size_t len;
	if ((rc = sw_record_render(r, prev, &line, &len, err)) < 0)
		return rc;
	/* One write() of the whole record (with a leading newline after a torn
	 * write), so a reader never sees half of it. */
	_cleanup_free_ char *buf = malloc(len + 2);
	if (!buf)
		return sw_err_errno(err, ENOMEM, "%s", log_file);
	size_t o = 0;
	if (torn)
		buf[o++] = '\n';
	memcpy(buf + o, line, len);
	o += len;
	buf[o++] = '\n';
	ssize_t w = write(fd, buf, o);
	if (w < 0 || (size_t)w != o)
		return sw_err_errno(err, w < 0 ? errno : EIO, "%s: cannot append the decision", log_file);

	if (state_dir) {
		/* The head: the hash of the newest record, in root-only state, so that
		 * removing or editing the last records is detectable too. Written under
		 * the log's lock, not fsync'ed: a crash can lose the head of the last
		 * few records, which `log verify` then reports, but syncing on every
		 * container start would cost more than the whole decision. */
		char h[SW_SHA256_HEX + 2];
		sw_sha256_hex(line, len, h);
		h[SW_SHA256_HEX] = '\n';
		if (pwrite(hfd, h, SW_SHA256_HEX + 1, 0) != SW_SHA256_HEX + 1 || ftruncate(hfd, SW_SHA256_HEX + 1) < 0)
			return sw_err_errno(err, errno, "%s/%s: cannot write the log head", state_dir, SW_LOG_HEAD_NAME);
	}
	return 0;
}

void sw_declog_syslog(const sw_record *r)
{
	openlog("sigward", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	const char *d = r->matched ? r->matched : r->res && r->res->n ? r->res->d[0].digest : "none";
	syslog(r->decision && r->decision->verdict == SW_ALLOW ? LOG_INFO : LOG_WARNING,
	       "container %s %s image %s list %s#%llu: %s", r->container_id ? r->container_id : "?",
	       r->decision ? sw_verdict_name(r->decision->verdict) : "deny", d, r->scope ? r->scope : "none",
	       (unsigned long long)r->serial, r->decision ? r->decision->reason : "");
	closelog();
}

/* ----------------------------------------------------------------- verify */

int sw_declog_verify(const char *log_file, const char *first_prev, const char *head_hex,
		     size_t *n_lines, char last_hex[SW_SHA256_HEX + 1], sw_error *err)
{
	_cleanup_close_ int fd = open(log_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", log_file);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: not a regular file", log_file);
	_cleanup_fclose_ FILE *f = fdopen(fd, "r");
	if (!f)
		return sw_err_errno(err, errno, "%s", log_file);
	fd = -1; /* owned by f now */
	char prev[SW_SHA256_HEX + 1];
	snprintf(prev, sizeof prev, "%s", first_prev ? first_prev : ZERO_HASH);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t got;
	while ((got = getline(&line, &cap, f)) >= 0) {
		n++;
		if (got == 0 || line[got - 1] != '\n')
			return sw_err(err, SW_EVERIFY, "%s:%zu: truncated record (no end of line)", log_file, n);
		size_t len = (size_t)got - 1;
		line[len] = '\0';
		if (len > SW_LOG_LINE_MAX || memchr(line, '\0', len))
			return sw_err(err, SW_EVERIFY, "%s:%zu: not a decision record", log_file, n);
		char ebuf[64];
		yajl_val doc = yajl_tree_parse(line, ebuf, sizeof ebuf);
		const char *pp[] = { "prev", NULL };
		yajl_val pv = doc && YAJL_IS_OBJECT(doc) ? yajl_tree_get(doc, pp, yajl_t_string) : NULL;
		if (!pv) {
			yajl_tree_free(doc);
			return sw_err(err, SW_EVERIFY, "%s:%zu: not a decision record", log_file, n);
		}
		const char *pvs = YAJL_GET_STRING(pv);
		bool ok = pvs && (strcmp(pvs, prev) == 0 ||
				  (n == 1 && first_prev && strcmp(first_prev, SW_DECLOG_ANY_START) == 0 && sw_is_hex64(pvs, strlen(pvs))));
		yajl_tree_free(doc);
		if (!ok) {
			if (n == 1)
				return sw_err(err, SW_EVERIFY, "%s:1: chain broken: prev does not match the expected start", log_file);
			return sw_err(err, SW_EVERIFY, "%s:%zu: chain broken: prev does not match line %zu (a record was edited or removed)",
				      log_file, n, n - 1);
		}
		sw_sha256_hex(line, len, prev);
	}
	if (ferror(f))
		return sw_err_errno(err, EIO, "%s: read failed", log_file);
	if (head_hex && strcmp(head_hex, prev) != 0)
		return sw_err(err, SW_EVERIFY, "%s: last record does not match the recorded head (records were removed or edited at the end)",
			      log_file);
	*n_lines = n;
	memcpy(last_hex, prev, SW_SHA256_HEX + 1);
	return 0;
}
