/* SPDX-License-Identifier: Apache-2.0 */
#include "declog.h"
#include "syslogsock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>


#include "json.h"
#include "trust.h"
#include "util.h"

/* ----------------------------------------------------------------- render */

/* Strings from outside (container id, bundle path, source, reason) go through
 * json.h's writer: quotes, backslashes and control characters are escaped, so
 * the record stays one line, and bytes that are not UTF-8 become U+FFFD, because
 * a strict reader would refuse the whole line and a hostile id must not make a
 * decision unrecordable. The bytes are those yajl_gen wrote before (json.h), so
 * records render as they always did. An allocation failure fails the whole
 * record instead of silently leaving a field out. */
static void rw_field(sw_jsonbuf *b, bool first, const char *k)
{
	if (!first)
		sw_jsonbuf_raw(b, ",", 1);
	sw_jsonbuf_key(b, k);
}

int sw_record_render(const sw_record *r, const char *prev_hex, char **out, size_t *len, sw_error *err)
{
	_cleanup_jsonbuf_ sw_jsonbuf w = { 0 };
	char t[32];
	sw_format_rfc3339(r->time, t);

	sw_jsonbuf_raw(&w, "{", 1);
	rw_field(&w, true, "time"); sw_jsonbuf_str(&w, t);
	rw_field(&w, false, "container"); sw_jsonbuf_str(&w, r->container_id);
	rw_field(&w, false, "bundle"); sw_jsonbuf_str(&w, r->bundle);
	rw_field(&w, false, "runtime"); sw_jsonbuf_str(&w, r->runtime);
	rw_field(&w, false, "digests");
	sw_jsonbuf_raw(&w, "[", 1);
	for (size_t i = 0; r->res && i < r->res->n && i < SW_RESOLVE_MAX; i++) {
		sw_jsonbuf_raw(&w, i ? ",{" : "{", i ? 2 : 1);
		rw_field(&w, true, "digest"); sw_jsonbuf_str(&w, r->res->d[i].digest);
		rw_field(&w, false, "source"); sw_jsonbuf_str(&w, r->res->d[i].source);
		rw_field(&w, false, "kind"); sw_jsonbuf_str(&w, r->res->d[i].kind);
		sw_jsonbuf_raw(&w, "}", 1);
	}
	sw_jsonbuf_raw(&w, "]", 1);
	if (r->res && r->res->reference[0]) {
		rw_field(&w, false, "reference");
		sw_jsonbuf_str(&w, r->res->reference);
	}
	rw_field(&w, false, "matched"); sw_jsonbuf_str(&w, r->matched);
	rw_field(&w, false, "allowlist");
	if (r->scope) {
		sw_jsonbuf_raw(&w, "{", 1);
		rw_field(&w, true, "scope"); sw_jsonbuf_str(&w, r->scope);
		/* The serial is unsigned 64-bit: written as its decimal digits. */
		rw_field(&w, false, "serial"); sw_jsonbuf_u64(&w, r->serial);
		sw_jsonbuf_raw(&w, "}", 1);
	} else {
		sw_jsonbuf_null(&w);
	}
	rw_field(&w, false, "signers");
	sw_jsonbuf_raw(&w, "[", 1);
	for (size_t i = 0; r->signers && i < r->n_signers; i++) {
		if (i)
			sw_jsonbuf_raw(&w, ",", 1);
		sw_jsonbuf_str(&w, r->signers[i]);
	}
	sw_jsonbuf_raw(&w, "]", 1);
	rw_field(&w, false, "mode"); sw_jsonbuf_str(&w, sw_mode_name(r->mode));
	/* No decision at all is recorded as what it amounts to: a denial. */
	rw_field(&w, false, "decision"); sw_jsonbuf_str(&w, r->decision ? sw_verdict_name(r->decision->verdict) : "deny");
	/* Only on a denial (or warn mode's would-deny) that is no verdict on the
	 * image: a store stayed busy for the whole read budget. A record without
	 * "denial" is a policy decision, as every record written before this
	 * member existed; readers that do not know it still see a deny. */
	if (r->decision && r->decision->verdict != SW_ALLOW && r->decision->denial == SW_DENIAL_STORE_BUSY) {
		rw_field(&w, false, "denial");
		sw_jsonbuf_str(&w, sw_denial_name(r->decision->denial));
	}
	rw_field(&w, false, "reason"); sw_jsonbuf_str(&w, r->decision ? r->decision->reason : "no decision");
	/* Last, so the record reads as "everything above, chained to prev"; the
	 * chain itself hashes raw line bytes, never a re-rendering. */
	rw_field(&w, false, "prev"); sw_jsonbuf_str(&w, prev_hex);
	sw_jsonbuf_raw(&w, "}", 1);

	if (w.failed)
		return sw_err(err, SW_EINVAL, "decision log: cannot render the record of container %.64s",
			      r->container_id ? r->container_id : "?");
	/* Bounded so that the appender and the verifier can read any line with a
	 * bounded buffer. */
	if (w.len >= SW_LOG_LINE_MAX)
		return sw_err(err, SW_ETOOBIG, "decision log: the record is %zu bytes, over the limit of %d", w.len,
			      SW_LOG_LINE_MAX - 1);
	*len = w.len;
	*out = TAKE_PTR(w.p);
	return 0;
}

/* ----------------------------------------------------------------- append */

/* Hash of the file's last line, or SW_DECLOG_ZERO_HASH for an empty file.
 *
 * A file that does not end in '\n' holds a torn write (a crash or a full disk
 * in the middle of a record). The fragment is hashed as the last line and the
 * new record starts on a line of its own after it: the fragment then stays
 * inside the chain, so it cannot later be removed without breaking the chain,
 * and `log verify` reports it ("not a JSON record") instead of the appender
 * silently healing the evidence of a failure. */
static int last_line_hash(int fd, const char *path, char out[SW_SHA256_HEX + 1], bool *torn, sw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: cannot stat the decision log", path);
	*torn = false;
	if (st.st_size == 0) {
		memcpy(out, SW_DECLOG_ZERO_HASH, SW_SHA256_HEX + 1);
		return 0;
	}
	/* Bounded: a line plus its newline plus the newline before it. A record
	 * is about 1 KB, so 4 KB from the end almost always hold the whole last
	 * line and the newline before it; only when they do not is the full bound
	 * read (64 KB copied into fresh pages cost page faults on every start). */
	size_t full = st.st_size < SW_LOG_LINE_MAX + 2 ? (size_t)st.st_size : SW_LOG_LINE_MAX + 2;
	size_t want = full < 4096 ? full : 4096;
	_cleanup_free_ char *buf = NULL;
	off_t off;
	size_t start, end;
	for (;;) {
		free(buf);
		buf = malloc(want);
		if (!buf)
			return sw_err_errno(err, ENOMEM, "%s: cannot read the last record", path);
		off = st.st_size - (off_t)want;
		if (!sw_pread_all(fd, buf, want, (uint64_t)off)) {
			if (errno == EIO)
				return sw_err(err, SW_EINVAL, "%s: the decision log shrank while locked", path);
			return sw_err_errno(err, errno, "%s: cannot read the last record", path);
		}
		end = want;
		*torn = buf[end - 1] != '\n';
		if (!*torn)
			end--;
		start = end;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (start > 0 || off == 0 || want == full)
			break;
		want = full;    /* the last line starts before these bytes */
	}
	if (start == 0 && off > 0)
		return sw_err(err, SW_ETOOBIG, "%s: the last line is longer than %d bytes", path, SW_LOG_LINE_MAX);
	sw_sha256_hex(buf + start, end - start, out);
	return 0;
}

/* The head file, opened and locked. Refused when it is not a regular file: a
 * link could redirect the write, a FIFO could block the start. */
static int open_head(const char *state_dir, sw_error *err)
{
	/* The log head anchors the hash chain: root's directory only (lib/trust.h). */
	_cleanup_close_ int dfd = sw_trust_open(state_dir, SW_TRUST_DIR, err);
	if (dfd < 0)
		return -dfd == EPERM ? dfd
				     : sw_err_errno(err, -dfd, "%s: cannot open the state directory for the log head", state_dir);
	_cleanup_close_ int hfd = openat(dfd, SW_LOG_HEAD_NAME,
					 O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
	if (hfd < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot open the log head", state_dir, SW_LOG_HEAD_NAME);
	struct stat st;
	if (fstat(hfd, &st) < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot stat the log head", state_dir, SW_LOG_HEAD_NAME);
	if (!S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s/%s: the log head is not a regular file", state_dir, SW_LOG_HEAD_NAME);
	/* The head is the appenders' lock, so no other account may open it: whoever
	 * can open a file can flock it, and a held lock would hold up every start.
	 * A head another account owns is refused; one we own with group or other
	 * bits (an older version, a hand-made file) is narrowed to 0600. */
	if (st.st_uid != geteuid())
		return sw_err(err, SW_EINVAL, "%s/%s: the log head is owned by uid %u, not by the hook's user",
			      state_dir, SW_LOG_HEAD_NAME, (unsigned)st.st_uid);
	if ((st.st_mode & 077) && fchmod(hfd, 0600) < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot make the log head private", state_dir, SW_LOG_HEAD_NAME);
	/* Concurrent hooks append one at a time: reading the last line and writing
	 * the next must not interleave, or two records would name the same prev.
	 * The lock is on the head, which never moves, and the log is opened only
	 * under it: rotation renames the log, and a lock on the log alone would let
	 * a hook holding the renamed file and one holding the new file both append.
	 * Bounded: a start waits SW_LOCK_WAIT_MS at most, then is refused. */
	int r = sw_flock_wait(hfd, LOCK_EX, SW_LOCK_WAIT_MS);
	if (r == -ETIMEDOUT)
		return sw_err(err, ETIMEDOUT, "%s/%s: still locked by another process after %u ms", state_dir,
			      SW_LOG_HEAD_NAME, SW_LOCK_WAIT_MS);
	if (r < 0)
		return sw_err_errno(err, -r, "%s/%s: cannot lock the log head", state_dir, SW_LOG_HEAD_NAME);
	return TAKE_FD(hfd);
}

static int render_decision(const void *rec, const char *prev_hex, char **out, size_t *len, sw_error *err)
{
	return sw_record_render(rec, prev_hex, out, len, err);
}

int sw_declog_append(const char *log_file, const char *state_dir, const sw_record *r, sw_error *err)
{
	return sw_declog_append_with(log_file, state_dir, render_decision, r, err);
}

int sw_declog_append_with(const char *log_file, const char *state_dir, sw_declog_render_fn render, const void *rec,
			  sw_error *err)
{
	/* Open the head before appending: a head that cannot be opened (missing
	 * directory, not a regular file) must fail the append before a record is
	 * written, or the log would show an "allow" for a start that was then
	 * denied because the decision could not be recorded completely. */
	_cleanup_close_ int hfd = -1;
	if (state_dir && (hfd = open_head(state_dir, err)) < 0)
		return hfd;

	/* O_RDWR rather than O_WRONLY: the last line is read through the same
	 * descriptor that the record is appended to, so both are the same file even
	 * when the log is renamed in between. O_NOFOLLOW: a link in the log
	 * directory must not redirect root's write; O_NONBLOCK: a FIFO planted
	 * there must not hang the container start (it is refused below). */
	_cleanup_close_ int fd = open(log_file, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
				      0640);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open the decision log", log_file);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sw_err_errno(err, errno, "%s: cannot stat the decision log", log_file);
	if (!S_ISREG(st.st_mode))
		return sw_err(err, SW_EINVAL, "%s: the decision log is not a regular file", log_file);
	/* Never a lock on the log itself when there is a head: the log is readable
	 * by group adm (0640 root:adm, and a configured log_file may be anywhere),
	 * and any reader can flock a file it can open, LOCK_EX included. A lock on
	 * the log would let every log reader hold up every container start. Only an
	 * appender without a state directory (tests, tools) serialises on the log,
	 * and that wait is bounded too. */
	if (hfd < 0) {
		int lr = sw_flock_wait(fd, LOCK_EX, SW_LOCK_WAIT_MS);
		if (lr == -ETIMEDOUT)
			return sw_err(err, ETIMEDOUT, "%s: still locked by another process after %u ms", log_file,
				      SW_LOCK_WAIT_MS);
		if (lr < 0)
			return sw_err_errno(err, -lr, "%s: cannot lock the decision log", log_file);
	}

	char prev[SW_SHA256_HEX + 1];
	bool torn = false;
	int rc = last_line_hash(fd, log_file, prev, &torn, err);
	if (rc < 0)
		return rc;
	/* An empty log after a rotation: the chain continues from the head, the
	 * hash of the last record the previous file holds, so `sigward log verify`
	 * can follow the chain across rotated files. */
	if (strcmp(prev, SW_DECLOG_ZERO_HASH) == 0 && hfd >= 0) {
		char head[SW_SHA256_HEX];
		if (pread(hfd, head, sizeof head, 0) == (ssize_t)sizeof head && sw_is_hex64(head, sizeof head)) {
			memcpy(prev, head, SW_SHA256_HEX);
			prev[SW_SHA256_HEX] = '\0';
		}
	}
	_cleanup_free_ char *line = NULL;
	size_t len;
	if ((rc = render(rec, prev, &line, &len, err)) < 0)
		return rc;
	/* One write() of the whole record (after a torn write, with a newline that
	 * ends the fragment first), so a reader never sees half of it. */
	_cleanup_free_ char *buf = malloc(len + 2);
	if (!buf)
		return sw_err_errno(err, ENOMEM, "%s: cannot append the decision", log_file);
	size_t o = 0;
	if (torn)
		buf[o++] = '\n';
	memcpy(buf + o, line, len);
	o += len;
	buf[o++] = '\n';
	ssize_t w;
	do
		w = write(fd, buf, o);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return sw_err_errno(err, errno, "%s: cannot append the decision", log_file);
	if ((size_t)w != o)
		return sw_err(err, SW_EINVAL, "%s: cannot append the decision: short write (%zd of %zu bytes)", log_file, w, o);

	if (hfd >= 0) {
		/* The head: the hash of the newest record, in root-only state, so that
		 * removing or editing the last records is detectable too. Written while
		 * still holding the lock, so it always names the record just written.
		 * Not fsync'ed: syncing on every container start would cost more than
		 * the whole decision, and the log itself is not synced either; after a
		 * crash a stale head (or a lost tail) is what `log verify` reports,
		 * which is the honest outcome. */
		char h[SW_SHA256_HEX + 2];
		sw_sha256_hex(line, len, h);
		h[SW_SHA256_HEX] = '\n';
		ssize_t hw = pwrite(hfd, h, SW_SHA256_HEX + 1, 0);
		if (hw != SW_SHA256_HEX + 1 || ftruncate(hfd, SW_SHA256_HEX + 1) < 0)
			return sw_err_errno(err, hw < 0 || hw == SW_SHA256_HEX + 1 ? errno : EIO,
					    "%s/%s: cannot write the log head", state_dir, SW_LOG_HEAD_NAME);
	}
	return 0;
}

/* Copy s into buf with control characters replaced: syslog gets one line even
 * when the container id or a reason carries a newline. */
static const char *flat(const char *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s", s);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

void sw_declog_syslog(const sw_record *r)
{
	const char *d = r->matched ? r->matched : r->res && r->res->n ? r->res->d[0].digest : "none";
	char id[256], reason[sizeof r->decision->reason], scope[128], line[1536];
	snprintf(line, sizeof line, "container %s %s image %s list %s#%llu: %s",
		 flat(r->container_id ? r->container_id : "?", id, sizeof id),
		 r->decision ? sw_verdict_name(r->decision->verdict) : "deny", d,
		 flat(r->scope ? r->scope : "none", scope, sizeof scope), (unsigned long long)r->serial,
		 flat(r->decision ? r->decision->reason : "no decision", reason, sizeof reason));
	/* On the socket sw_sandbox_enter connected (lib/syslogsock.h). */
	sw_syslog_send(r->decision && r->decision->verdict == SW_ALLOW ? LOG_INFO : LOG_WARNING, line);
}
