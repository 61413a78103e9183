/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the libFuzzer targets: one private temporary directory per
 * fuzzing process (under $TMPDIR, which run.sh points at /dev/shm), and small
 * file writers that abort on failure (an I/O error is the harness's fault, not a
 * finding). Everything is static: each target is one translation unit.
 */
#ifndef SW_FUZZ_UTIL_H
#define SW_FUZZ_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fz_root[PATH_MAX];

static inline int fz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static inline void fz_rmrf(const char *path)
{
	(void)nftw(path, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fz_cleanup(void)
{
	if (fz_root[0])
		fz_rmrf(fz_root);
}

static inline void fz_die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz harness: %s %s: %m\n", what, path);
	abort();
}

/* The process's private directory, created on first use. */
static inline const char *fz_tmp(void)
{
	if (!fz_root[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fz_root, sizeof fz_root, "%s/sigward-fuzz-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(fz_root))
			fz_die("mkdtemp", fz_root);
		atexit(fz_cleanup);
	}
	return fz_root;
}

static inline void fz_mkdir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		fz_die("mkdir", path);
}

static inline void fz_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		fz_die("open", path);
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w <= 0)
			fz_die("write", path);
		p += w;
		len -= (size_t)w;
	}
	close(fd);
}

static inline void fz_unlink(const char *dir, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	(void)unlink(path);
}

/* With SIGWARD_FUZZ_DEBUG set, say what the library answered (to check that a
 * new seed reaches the code it was written for). */
static inline void fz_debug(const char *what, int rc, const char *msg)
{
	static int on = -1;
	if (on < 0)
		on = getenv("SIGWARD_FUZZ_DEBUG") != NULL;
	if (on)
		fprintf(stderr, "%s: %d %s\n", what, rc, msg ? msg : "");
}

/* Split data at every occurrence of sep into at most max parts. */
static inline size_t fz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **part, size_t *plen,
		       size_t max)
{
	size_t n = 0, sl = strlen(sep);
	const uint8_t *p = data, *end = data + size;
	while (n < max) {
		const uint8_t *s = n + 1 < max ? memmem(p, (size_t)(end - p), sep, sl) : NULL;
		part[n] = p;
		plen[n] = s ? (size_t)(s - p) : (size_t)(end - p);
		n++;
		if (!s)
			break;
		p = s + sl;
	}
	return n;
}

#endif
