/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward audit verify: check an evidence bundle the way an auditor receives it.
 *
 * Three checks, in this order, every failure reported (one line each):
 *  1. with --key: SHA256SUMS.sig holds a valid signature of SHA256SUMS by each
 *     key given (the auditor's copy of the platform team's public key, obtained
 *     out of band: a key shipped inside the bundle would prove nothing);
 *  2. every file SHA256SUMS names has that SHA-256;
 *  3. every file of the bundle is named (an added file is as suspect as an
 *     edited one); SHA256SUMS and SHA256SUMS.sig are the only exceptions.
 * Exit 0 valid, 1 a check failed, 2 usage or an error that prevents the check.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "auditreport.h"
#include "cli.h"
#include "keys.h"
#include "util.h"

#define SUMS_MAX (16u << 20)

typedef struct sums {
	char **names;
	size_t n;
	bool *seen;
} sums;

/* nftw has no closure argument: the check in progress. */
static sums *walk_sums;
static size_t walk_root_len;
static audit_check *walk_res;
static void (*walk_problem)(void *arg, const char *msg);
static void *walk_arg;

static void report_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report_bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	walk_problem(walk_arg, msg);
	walk_res->n_bad++;
}

static void problem_to_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "sigward: %s\n", msg);
}

/* A name in SHA256SUMS must stay inside the bundle: relative, no "..", no "."
 * or empty component. */
static bool safe_name(const char *n)
{
	if (!*n || *n == '/')
		return false;
	for (const char *p = n; *p;) {
		size_t l = strcspn(p, "/");
		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += l;
		if (*p == '/')
			p++;
		if (!*p && p[-1] == '/')
			return false;
	}
	return true;
}

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D || type == FTW_DP)
		return 0;
	const char *rel = path + walk_root_len + 1;
	if (strcmp(rel, AUDIT_SUMS_NAME) == 0 || strcmp(rel, AUDIT_SUMS_SIG_NAME) == 0)
		return 0;
	if (type != FTW_F || !S_ISREG(st->st_mode)) {
		report_bad("%s: not a regular file (a bundle holds only files)", path);
		return 0;
	}
	for (size_t i = 0; i < walk_sums->n; i++)
		if (strcmp(walk_sums->names[i], rel) == 0) {
			walk_sums->seen[i] = true;
			return 0;
		}
	report_bad("%s: not in %s (a file added to the bundle)", path, AUDIT_SUMS_NAME);
	return 0;
}

int cmd_audit_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *keys[SW_MAX_KEYS];
	size_t nk = 0;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if (nk == SW_ARRAY_SIZE(keys))
				return cli_usage_error("audit verify", "at most %d --key", SW_MAX_KEYS);
			keys[nk++] = optarg;
			break;
		case 'h':
			puts("usage: sigward audit verify [--key PUB]... DIR\n"
			     "Checks an evidence bundle written by 'sigward audit --out DIR': with --key, that\n"
			     "SHA256SUMS.sig holds a valid signature of SHA256SUMS by each key PUB (a PEM\n"
			     "public key); that every file SHA256SUMS names has its SHA-256; and that the\n"
			     "bundle holds no file SHA256SUMS does not name.\n"
			     "Exit 0 valid, 1 a check failed, 2 usage or error.");
			return 0;
		default:
			return cli_usage_error("audit verify", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("audit verify", "exactly one DIR is required");
	const char *dir = argv[optind];
	sw_error e = { 0 };
	sw_key k[SW_MAX_KEYS];
	size_t loaded = 0;
	int rc = 0;
	for (; loaded < nk; loaded++)
		if (sw_key_load_file(keys[loaded], &k[loaded], &e) < 0) {
			rc = cli_fail(&e);
			goto out_keys;
		}
	audit_check res;
	if (audit_bundle_check(dir, k, nk, problem_to_stderr, NULL, &res, &e) < 0) {
		/* No SHA256SUMS: nothing can be checked, the bundle is not one. */
		fprintf(stderr, "sigward: %s\n", e.msg);
		rc = e.code == ENOENT ? 1 : EXIT_USAGE;
		goto out_keys;
	}
	for (size_t i = 0; i < nk; i++)
		if (res.key_signed[i])
			printf("%s/%s: signed by key %s (%s, %s)\n", dir, AUDIT_SUMS_NAME, k[i].id, k[i].alg, k[i].file);
	if (res.n_bad) {
		fprintf(stderr, "sigward: %s: NOT valid: %zu problem(s)\n", dir, res.n_bad);
		rc = 1;
	} else {
		printf("%s: valid: %zu file(s) match %s, nothing else in the bundle%s\n", dir, res.n_files, AUDIT_SUMS_NAME,
		       nk ? "" : " (signature not checked: no --key)");
	}
out_keys:
	for (size_t i = 0; i < loaded; i++)
		sw_key_free(&k[i]);
	return rc;
}

int audit_bundle_check(const char *dir, const sw_key *k, size_t nk, void (*problem)(void *arg, const char *msg),
		       void *arg, audit_check *res, sw_error *err)
{
	memset(res, 0, sizeof *res);
	sw_error e = { 0 };
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, AUDIT_SUMS_NAME);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (sw_read_file(path, SUMS_MAX, &text, &len, err) < 0)
		return -1;
	walk_res = res;
	walk_problem = problem;
	walk_arg = arg;

	/* 1. The signatures, over the exact bytes of SHA256SUMS. */
	if (nk) {
		char sp[4200];
		snprintf(sp, sizeof sp, "%s/%s", dir, AUDIT_SUMS_SIG_NAME);
		_cleanup_free_ char *sig = NULL;
		size_t sl;
		if (sw_read_file(sp, 256 * 1024, &sig, &sl, &e) < 0) {
			if (e.code == ENOENT) {
				res->sig_missing = true;
				report_bad("%s: missing: the bundle is not signed", sp);
			} else {
				report_bad("%s", e.msg);
			}
		} else {
			for (size_t i = 0; i < nk; i++) {
				int r = sw_sig_lines_verify(sig, sl, sp, &k[i], text, len, &e);
				if (r < 0) {
					report_bad("%s", e.msg);
					break;
				}
				if (r == 0)
					report_bad("%s: no valid signature of %s by key %s (%s)", sp, AUDIT_SUMS_NAME,
						   k[i].id, k[i].file);
				res->key_signed[i] = r > 0;
			}
		}
	}

	/* 2. Each line "<64 hex>  <name>" (sha256sum's text mode; " *" binary mode). */
	sums s = { 0 };
	size_t lines = 0;
	for (const char *p = text, *nl; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (!nl) {
			report_bad("%s:%zu: the last line does not end in a newline (truncated?)", path, lines + 1);
			break;
		}
		lines++;
		size_t n = (size_t)(nl - p);
		if (n < SW_SHA256_HEX + 3 || !sw_is_hex64(p, SW_SHA256_HEX) || p[SW_SHA256_HEX] != ' ' ||
		    (p[SW_SHA256_HEX + 1] != ' ' && p[SW_SHA256_HEX + 1] != '*') || memchr(p, '\0', n)) {
			report_bad("%s:%zu: not a '<sha256>  <file>' line", path, lines);
			continue;
		}
		_cleanup_free_ char *name = strndup(p + SW_SHA256_HEX + 2, n - SW_SHA256_HEX - 2);
		if (!name)
			abort();
		if (!safe_name(name) || strcmp(name, AUDIT_SUMS_NAME) == 0 || strcmp(name, AUDIT_SUMS_SIG_NAME) == 0) {
			report_bad("%s:%zu: '%s' is not a file name inside the bundle", path, lines, name);
			continue;
		}
		bool dup = false;
		for (size_t i = 0; i < s.n; i++)
			dup |= strcmp(s.names[i], name) == 0;
		if (dup) {
			report_bad("%s:%zu: %s is named twice", path, lines, name);
			continue;
		}
		char fp[8400], hex[SW_SHA256_HEX + 1];
		snprintf(fp, sizeof fp, "%s/%s", dir, name);
		_cleanup_free_ char *data = NULL;
		size_t dl;
		struct stat st;
		if (lstat(fp, &st) == 0 && !S_ISREG(st.st_mode)) {
			report_bad("%s: not a regular file", fp);
		} else if (sw_read_file(fp, AUDIT_FILE_MAX * 16, &data, &dl, &e) < 0) {
			if (e.code == ENOENT)
				report_bad("%s: missing (named in %s)", fp, AUDIT_SUMS_NAME);
			else
				report_bad("%s", e.msg);
		} else {
			sw_sha256_hex(data, dl, hex);
			if (memcmp(hex, p, SW_SHA256_HEX) != 0)
				report_bad("%s: SHA-256 %s, but %s says %.64s (the file was changed)", fp, hex, path, p);
		}
		s.names = realloc(s.names, (s.n + 1) * sizeof *s.names);
		if (!s.names)
			abort();
		s.names[s.n++] = TAKE_PTR(name);
	}

	/* 3. Nothing unlisted. */
	s.seen = calloc(s.n + 1, sizeof *s.seen);
	if (!s.seen)
		abort();
	walk_sums = &s;
	walk_root_len = strlen(dir);
	while (walk_root_len > 1 && dir[walk_root_len - 1] == '/')
		walk_root_len--;
	if (nftw(dir, walk_one, 16, FTW_PHYS) != 0)
		report_bad("%s: cannot be read: %s", dir, strerror(errno));
	res->n_files = s.n;
	for (size_t i = 0; i < s.n; i++)
		free(s.names[i]);
	free(s.names);
	free(s.seen);
	return 0;
}
