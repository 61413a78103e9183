/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the decision log: chain verification, rotated sets and their .gz
 * files. Tool code (`sigward log verify`, the audit); the hook and the wrapper
 * only append (declog.c) and do not link this file. */
#include "declog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>
#include <zlib.h>

#include "json.h"
#include "trust.h"
#include "util.h"

/* ----------------------------------------------------------------- verify */

/* A bounded line reader: a log with an endless line must not make `log verify`
 * (or the audit) allocate without limit. */
typedef struct line_reader {
	int fd;
	gzFile gz;                   /* a .gz rotation: read through zlib, not fd */
	char *buf;
	size_t cap, start, end;
	bool eof;
} line_reader;

#define LR_CHUNK 65536

/* 1: a line (*nl says whether it ended in '\n'), 0: end of file, -1: read error
 * (errno), -2: a line longer than SW_LOG_LINE_MAX, -3: not gzip data or a
 * damaged/truncated .gz (zlib). */
static int lr_next(line_reader *lr, char **line, size_t *len, bool *nl)
{
	for (;;) {
		char *p = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);
		size_t have = (p ? (size_t)(p - lr->buf) : lr->end) - lr->start;
		if (have > SW_LOG_LINE_MAX)
			return -2;
		if (p || (lr->eof && have > 0)) {
			*line = lr->buf + lr->start;
			*len = have;
			*nl = p != NULL;
			lr->start += have + (p ? 1 : 0);
			return 1;
		}
		if (lr->eof)
			return 0;
		/* Keep the partial line at the front and read more after it; the
		 * buffer holds SW_LOG_LINE_MAX + 1 + LR_CHUNK, so there is room. */
		memmove(lr->buf, lr->buf + lr->start, have);
		lr->start = 0;
		lr->end = have;
		ssize_t r;
		if (lr->gz) {
			size_t room = lr->cap - lr->end < LR_CHUNK ? lr->cap - lr->end : LR_CHUNK;
			r = gzread(lr->gz, lr->buf + lr->end, (unsigned)room);
			int zerr;
			gzerror(lr->gz, &zerr);
			if (r < 0 && zerr == Z_ERRNO && errno == EINTR)
				continue;
			if (r < 0 && zerr == Z_ERRNO)
				return -1;
			/* zlib passes a file that is not gzip through as it is
			 * ("transparent"); a .gz rotation that is not one is damage. */
			if (r < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR) || (r > 0 && gzdirect(lr->gz)))
				return -3;
			/* A truncated stream: gzread returns what it had, then 0 with
			 * Z_BUF_ERROR ("unexpected end of file"). */
			if (r == 0 && zerr == Z_BUF_ERROR)
				return -3;
		} else {
			r = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
		}
		if (r == 0)
			lr->eof = true;
		lr->end += (size_t)r;
	}
}

static int verify_lines(line_reader *lr, const char *log_file, const char *first_prev, const char *head_hex,
			size_t *n_lines, char last_hex[SW_SHA256_HEX + 1], sw_error *err)
{
	bool any_start = first_prev && strcmp(first_prev, SW_DECLOG_ANY_START) == 0;
	char prev[SW_SHA256_HEX + 1] = "";
	snprintf(prev, sizeof prev, "%s", first_prev ? first_prev : SW_DECLOG_ZERO_HASH);
	size_t n = 0;
	for (;;) {
		char *line;
		size_t len;
		bool nl;
		int r = lr_next(lr, &line, &len, &nl);
		if (r == 0)
			break;
		n++;
		if (r == -1)
			return sw_err_errno(err, errno, "%s:%zu: read failed", log_file, n);
		if (r == -3)
			return sw_err(err, SW_EVERIFY, "%s:%zu: cannot decompress (not gzip data, damaged or truncated)",
				      log_file, n);
		if (r == -2)
			return sw_err(err, SW_EVERIFY, "%s:%zu: not a JSON record (longer than %d bytes)", log_file, n,
				      SW_LOG_LINE_MAX);
		if (!nl)
			return sw_err(err, SW_EVERIFY, "%s:%zu: truncated record (no end of line)", log_file, n);
		/* The line is parsed from a NUL-terminated copy: the '\n' slot. */
		line[len] = '\0';
		if (memchr(line, '\0', len))
			return sw_err(err, SW_EVERIFY, "%s:%zu: not a JSON record", log_file, n);
		/* Depth-checked (json.h): a line of 30 000 nested arrays must not
		 * overflow the stack in yajl_tree_free. Its error is the record's. */
		yajl_val doc = NULL;
		sw_error je = { 0 };
		(void)sw_json_tree(line, len, log_file, &doc, &je);
		const char *pp[] = { "prev", NULL };
		yajl_val pv = doc && YAJL_IS_OBJECT(doc) ? yajl_tree_get(doc, pp, yajl_t_string) : NULL;
		if (!pv) {
			yajl_tree_free(doc);
			return sw_err(err, SW_EVERIFY, "%s:%zu: not a JSON record", log_file, n);
		}
		const char *pvs = YAJL_GET_STRING(pv);
		/* With any_start the oldest file of a rotated set may name a
		 * predecessor that was rotated away, but it must still name a hash. */
		bool ok = pvs && (strcmp(pvs, prev) == 0 || (n == 1 && any_start && sw_is_hex64(pvs, strlen(pvs))));
		yajl_tree_free(doc);
		if (!ok) {
			if (n == 1)
				return sw_err(err, SW_EVERIFY, "%s:1: chain broken: prev does not match the expected start",
					      log_file);
			return sw_err(err, SW_EVERIFY, "%s:%zu: chain broken: prev does not match line %zu", log_file, n,
				      n - 1);
		}
		/* The chain hashes the line's raw bytes, exactly as written. */
		sw_sha256_hex(line, len, prev);
	}
	if (head_hex && strcmp(head_hex, prev) != 0)
		return sw_err(err, SW_EVERIFY,
			      "%s: last line does not match the recorded head (a record was removed or edited)", log_file);
	*n_lines = n;
	memcpy(last_hex, prev, SW_SHA256_HEX + 1);
	return 0;
}

/* The chain of one open file; name is what messages call it. Takes fd (and
 * closes it): with gz it is read through zlib. */
static int verify_fd(int fd, bool gz, const char *log_file, const char *first_prev, const char *head_hex,
		     size_t *n_lines, char last_hex[SW_SHA256_HEX + 1], sw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return sw_err_errno(err, e, "%s: cannot stat", log_file);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sw_err(err, SW_EINVAL, "%s: not a regular file", log_file);
	}
	line_reader lr = { .fd = fd, .cap = SW_LOG_LINE_MAX + 1 + LR_CHUNK };
	if (gz && !(lr.gz = gzdopen(fd, "rb"))) {
		close(fd);
		return sw_err_errno(err, ENOMEM, "%s: cannot decompress", log_file);
	}
	_cleanup_free_ char *buf = malloc(lr.cap);
	int r;
	if (!buf)
		r = sw_err_errno(err, ENOMEM, "%s: cannot verify", log_file);
	else {
		lr.buf = buf;
		r = verify_lines(&lr, log_file, first_prev, head_hex, n_lines, last_hex, err);
	}
	if (lr.gz)
		gzclose_r(lr.gz);  /* closes fd */
	else
		close(fd);
	return r;
}

int sw_declog_verify(const char *log_file, const char *first_prev, const char *head_hex,
		     size_t *n_lines, char last_hex[SW_SHA256_HEX + 1], sw_error *err)
{
	int fd = open(log_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", log_file);
	return verify_fd(fd, false, log_file, first_prev, head_hex, n_lines, last_hex, err);
}

/* ----------------------------------------------------------------- rotated sets */

static int set_add(sw_declog_set *set, const char *path, unsigned index, bool gz, sw_error *err)
{
	sw_declog_file *f = realloc(set->files, (set->n + 1) * sizeof *f);
	if (!f)
		return sw_err_errno(err, ENOMEM, "%s: cannot list its rotations", path);
	set->files = f;
	f[set->n] = (sw_declog_file){ .path = strdup(path), .index = index, .gz = gz };
	if (!f[set->n].path)
		return sw_err_errno(err, ENOMEM, "%s: cannot list its rotations", path);
	set->n++;
	return 0;
}

int sw_declog_set_find(const char *log_file, sw_declog_set *set, sw_error *err)
{
	*set = (sw_declog_set){ 0 };
	/* Which rotations exist: bit 0 plain FILE.N, bit 1 FILE.N.gz. */
	unsigned char have[SW_DECLOG_ROTATE_MAX + 1] = { 0 };
	unsigned oldest = 0;
	char p[4200];
	for (unsigned k = 1; k <= SW_DECLOG_ROTATE_MAX; k++) {
		for (int gz = 0; gz < 2; gz++) {
			snprintf(p, sizeof p, "%s.%u%s", log_file, k, gz ? ".gz" : "");
			if (access(p, F_OK) == 0) {
				have[k] |= (unsigned char)(1u << gz);
				oldest = k;
			}
		}
	}
	int r;
	for (unsigned k = oldest; k >= 1; k--) {
		for (int gz = 0; gz < 2; gz++) {
			if (!(have[k] & (1u << gz)))
				continue;
			snprintf(p, sizeof p, "%s.%u%s", log_file, k, gz ? ".gz" : "");
			if ((r = set_add(set, p, k, gz, err)) < 0)
				goto fail;
		}
		if (have[k])
			continue;
		/* A hole in the sequence: logrotate renames N to N+1 and compresses
		 * (with delaycompress) from .2 on, so the nearest younger rotation tells
		 * whether this one was compressed, else the nearest older one. */
		bool gz = false;
		unsigned j;
		for (j = k - 1; j >= 1 && !have[j]; j--)
			;
		if (j >= 1)
			gz = have[j] & 2;
		else {
			for (j = k + 1; j <= oldest && !have[j]; j++)
				;
			gz = k >= 2 && (have[j] & 2);
		}
		snprintf(p, sizeof p, "%s.%u%s", log_file, k, gz ? ".gz" : "");
		char **m = realloc(set->missing, (set->n_missing + 1) * sizeof *m);
		if (!m || !(m[set->n_missing] = strdup(p))) {
			if (m)
				set->missing = m;
			r = sw_err_errno(err, ENOMEM, "%s: cannot list its rotations", log_file);
			goto fail;
		}
		set->missing = m;
		set->n_missing++;
	}
	if ((r = set_add(set, log_file, 0, false, err)) < 0)
		goto fail;
	return 0;
fail:
	sw_declog_set_free(set);
	return r;
}

void sw_declog_set_free(sw_declog_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->files[i].path);
	for (size_t i = 0; i < set->n_missing; i++)
		free(set->missing[i]);
	free(set->files);
	free(set->missing);
	*set = (sw_declog_set){ 0 };
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Open a .gz rotation for reading through zlib; NULL with err naming it. */
static gzFile gz_open(const char *path, sw_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		sw_err_errno(err, errno, "%s: cannot open", path);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		sw_err(err, SW_EINVAL, "%s: not a regular file", path);
		return NULL;
	}
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		sw_err_errno(err, ENOMEM, "%s: cannot decompress", path);
	}
	return gz;
}

const char *sw_declog_plain(const sw_declog_file *f, char tmp[SW_DECLOG_TMP_MAX], sw_error *err)
{
	tmp[0] = '\0';
	if (!f->gz)
		return f->path;
	/* zlib in this process, not a gzip found on PATH: reading a rotation must
	 * not run whatever program PATH names. */
	gzFile gz = gz_open(f->path, err);
	if (!gz)
		return NULL;
	snprintf(tmp, SW_DECLOG_TMP_MAX, "/tmp/sigward-log-XXXXXX");
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		tmp[0] = '\0';
		gzclose_r(gz);
		sw_err_errno(err, errno, "%s: cannot decompress (temporary file)", f->path);
		return NULL;
	}
	_cleanup_free_ char *buf = malloc(LR_CHUNK);
	bool ok = buf != NULL;
	int werr = 0;
	while (ok) {
		int n = gzread(gz, buf, LR_CHUNK);
		int zerr;
		gzerror(gz, &zerr);
		/* Not gzip data (zlib would copy it through), damaged, or cut
		 * short (Z_BUF_ERROR): the copy would not be the rotation. */
		if (n < 0 || (zerr != Z_OK) || (n > 0 && gzdirect(gz))) {
			ok = false;
			break;
		}
		if (n == 0)
			break;
		if (write_all(fd, buf, (size_t)n) < 0) {
			werr = errno;
			ok = false;
		}
	}
	gzclose_r(gz);
	if (!ok) {
		unlink(tmp);
		tmp[0] = '\0';
		if (werr)
			sw_err_errno(err, werr, "%s: cannot decompress (temporary file)", f->path);
		else
			sw_err(err, SW_EINVAL, "%s: cannot decompress (not gzip data, damaged or truncated)", f->path);
		return NULL;
	}
	return tmp;
}

int sw_declog_verify_file(const sw_declog_file *f, const char *first_prev, const char *head_hex,
			  size_t *n_lines, char last_hex[SW_SHA256_HEX + 1], sw_error *err)
{
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", f->path);
	return verify_fd(fd, f->gz, f->path, first_prev, head_hex, n_lines, last_hex, err);
}
