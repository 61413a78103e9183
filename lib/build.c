/* SPDX-License-Identifier: Apache-2.0 */
/* The list builder (`sigward allowlist build`): a tool, never linked into the
 * hook or the wrapper (tests/unit/startpath-symbols.sh checks). */
#include "build.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

/* The average entries a bin holds at most, when the builder chooses the count. */
#define BUILD_BIN_ENTRIES 64

static bool ref_ok(const char *s, size_t n)
{
	if (n == 0 || n > SW_REF_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

int sw_build_parse_input(const char *text, size_t len, const char *what,
			 sw_build_entry **entries, size_t *n, size_t *cap, sw_error *err)
{
	unsigned line = 0;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		const char *t = e;
		/* '#' after a blank starts a comment, as at the start of a line
		 * (a reference never holds a blank, so it cannot hold " #"). */
		for (const char *c = p; c + 1 < t; c++)
			if ((*c == ' ' || *c == '\t') && c[1] == '#') {
				t = c;
				break;
			}
		while (t > p && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
			t--;
		size_t l = (size_t)(t - p);
		if (l && *p != '#') {
			if (memchr(p, '\0', l))
				return sw_err(err, SW_EINVAL, "%s:%u: NUL byte", what, line);
			/* An optional kind word first: "image-id" marks the digest of
			 * an image's config; "manifest" (the default) a manifest or
			 * index digest. A reference is followed by '@', never by a
			 * blank, so neither word can be taken for one. */
			sw_entry_kind kind = SW_ENTRY_MANIFEST;
			static const struct { const char *w; sw_entry_kind k; } words[] = {
				{ "image-id", SW_ENTRY_IMAGE_ID }, { "manifest", SW_ENTRY_MANIFEST },
			};
			for (size_t w = 0; w < SW_ARRAY_SIZE(words); w++) {
				size_t wl = strlen(words[w].w);
				if (l > wl && memcmp(p, words[w].w, wl) == 0 && (p[wl] == ' ' || p[wl] == '\t')) {
					kind = words[w].k;
					p += wl;
					while (p < t && (*p == ' ' || *p == '\t'))
						p++;
					l = (size_t)(t - p);
					break;
				}
			}
			const char *at = memchr(p, '@', l);
			const char *dg = at ? at + 1 : p;
			size_t dl = (size_t)(t - dg);
			char norm[SW_DIGEST_STR];
			if (!sw_is_sha256_digest(dg, dl) || sw_digest_normalize(dg, dl, norm) < 0) {
				/* Say what is wrong with a digest that is only wrong in case:
				 * digests are compared byte for byte, and OCI writes them in
				 * lower case. */
				bool upper = dl == 7 + SW_SHA256_HEX && memcmp(dg, "sha256:", 7) == 0;
				for (size_t k = 7; upper && k < dl; k++)
					upper = isxdigit((unsigned char)dg[k]);
				if (upper)
					return sw_err(err, SW_EINVAL, "%s:%u: the digest has upper-case hex digits: "
						      "write the 64 hex digits in lower case", what, line);
				return sw_err(err, SW_EINVAL, "%s:%u: expected '[image-id|manifest] sha256:<64 lowercase hex>' or "
					      "'[image-id|manifest] <reference>@sha256:<64 lowercase hex>'", what, line);
			}
			if (at && !ref_ok(p, (size_t)(at - p)))
				return sw_err(err, SW_EINVAL, "%s:%u: reference must be 1-%d printable characters without spaces",
					      what, line, SW_REF_MAX);
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 1024;
				sw_build_entry *ne = realloc(*entries, nc * sizeof *ne);
				if (!ne)
					return sw_err_errno(err, ENOMEM, "%s", what);
				*entries = ne;
				*cap = nc;
			}
			sw_build_entry *be = &(*entries)[*n];
			memset(be, 0, sizeof *be);
			memcpy(be->digest, norm, sizeof norm);
			be->kind = kind;
			be->ref = at ? strndup(p, (size_t)(at - p)) : NULL;
			if (asprintf(&be->what, "%s:%u", what, line) < 0)
				be->what = NULL;
			if ((at && !be->ref) || !be->what) {
				free(be->ref);
				free(be->what);
				return sw_err_errno(err, ENOMEM, "%s", what);
			}
			(*n)++;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* Digest, then kind, then reference: a digest given with several references
 * keeps the smallest in byte order (one without a reference sorts last), so the
 * list does not depend on the order of the input. */
static int cmp_entry(const void *a, const void *b)
{
	const sw_build_entry *x = a, *y = b;
	int c = strcmp(x->digest, y->digest);
	if (c)
		return c;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (!x->ref || !y->ref)
		return (x->ref == NULL) - (y->ref == NULL);
	return strcmp(x->ref, y->ref);
}

int sw_build_evidence_entry(const char *evidence, size_t len, sw_build_entry **entries, size_t *n, size_t *cap,
			    sw_error *err)
{
	char line[16 + SW_DIGEST_STR + sizeof SW_EVIDENCE_REF];
	char h[SW_SHA256_HEX + 1];
	sw_sha256_hex(evidence, len, h);
	snprintf(line, sizeof line, "image-id " SW_EVIDENCE_REF "@sha256:%s\n", h);
	return sw_build_parse_input(line, strlen(line), SW_EVIDENCE_NAME, entries, n, cap, err);
}

void sw_build_entries_free(sw_build_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(entries[i].ref);
		free(entries[i].what);
	}
	free(entries);
}

int sw_build_write(sw_build_entry *e, size_t n, const sw_build_opts *o, const char *out_dir, sw_error *err)
{
	if (!o->scope || !sw_scope_ok(o->scope, strlen(o->scope)))
		return sw_err(err, SW_EINVAL, "scope must be 1-%d of [A-Za-z0-9._-]", SW_SCOPE_MAX);
	if (o->expires <= o->issued)
		return sw_err(err, SW_EINVAL, "expires must be after issued");
	unsigned format = o->format ? o->format : SW_LIST_FORMAT;
	if (format < SW_LIST_FORMAT_MIN || format > SW_LIST_FORMAT)
		return sw_err(err, SW_EINVAL, "format must be %d to %d", SW_LIST_FORMAT_MIN, SW_LIST_FORMAT);
	/* In format 1 the anchor would be an untyped entry, matching a digest of
	 * any kind: evidence needs kinds. */
	if (o->evidence && format < 2)
		return sw_err(err, SW_EINVAL, "evidence needs format 2");
	/* An entry given without a kind is a manifest digest, as in the input syntax. */
	for (size_t i = 0; i < n; i++)
		if (e[i].kind != SW_ENTRY_IMAGE_ID)
			e[i].kind = SW_ENTRY_MANIFEST;
	qsort(e, n, sizeof *e, cmp_entry);
	/* Deduplicate, keeping the reference that sorts first (cmp_entry). */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && strcmp(e[m - 1].digest, e[i].digest) == 0 && e[m - 1].kind != e[i].kind && format >= 2) {
			/* A manifest's bytes that are also some image's config: that
			 * image's id is the manifest's digest. That is the forgery, and
			 * no real image has it. */
			const sw_build_entry *im = e[i].kind == SW_ENTRY_IMAGE_ID ? &e[i] : &e[m - 1];
			const sw_build_entry *mf = e[i].kind == SW_ENTRY_IMAGE_ID ? &e[m - 1] : &e[i];
			return sw_err(err, SW_EINVAL, "%s: %s is given as an image id (%s) and as a manifest digest (%s): "
				      "one blob cannot be both an image's config and a manifest",
				      im->what ? im->what : "input", e[i].digest, im->what ? im->what : "?",
				      mf->what ? mf->what : "?");
		}
		if (m && strcmp(e[m - 1].digest, e[i].digest) == 0) {
			if (!e[m - 1].ref)
				e[m - 1].ref = TAKE_PTR(e[i].ref);
			free(e[i].ref);
			free(e[i].what);
			e[i].ref = NULL;
			e[i].what = NULL;
			continue;
		}
		e[m++] = e[i];
		if (m - 1 != i) {
			e[i].ref = NULL;
			e[i].what = NULL;
		}
	}
	/* Per start the hook reads and hashes one bin (~81 bytes an entry); the
	 * manifest (~100 bytes a bin) only when its list index in state_dir does
	 * not describe it (the first start of a generation, verify_cache = no,
	 * `sigward allowlist verify`). So bins of at most BUILD_BIN_ENTRIES entries
	 * on average (about 5 KB, two pages), and never fewer than sqrt(n) bins,
	 * which balanced the two reads when both were made on every start: 10 000
	 * entries make 256 bins, 1 000 000 make 16 384 (a 1.6 MB manifest). */
	uint32_t bins = o->bins;
	if (!bins) {
		bins = 1;
		while (bins < SW_MAX_BINS && ((uint64_t)bins * bins < m || (uint64_t)bins * BUILD_BIN_ENTRIES < m))
			bins <<= 1;
	}
	if (bins == 0 || bins > SW_MAX_BINS || (bins & (bins - 1)))
		return sw_err(err, SW_EINVAL, "bins must be a power of two from 1 to %d", SW_MAX_BINS);
	uint32_t bits = 0;
	while ((1u << bits) < bins)
		bits++;

	size_t esize = 0;
	for (size_t i = 0; i < m; i++)
		esize += 7 + SW_SHA256_HEX + 1 + 1 + SW_ENTRY_KIND_MAX + (e[i].ref ? strlen(e[i].ref) + 1 : 0);
	_cleanup_free_ char *ebuf = malloc(esize + 1);
	_cleanup_free_ char *mbuf = malloc(512 + (size_t)bins * (32 + 3 * 21 + SW_SHA256_HEX));
	if (!ebuf || !mbuf)
		return sw_err_errno(err, ENOMEM, "%s", out_dir);
	char it[32], ex[32];
	sw_format_rfc3339(o->issued, it);
	sw_format_rfc3339(o->expires, ex);
	size_t mo = (size_t)sprintf(mbuf, SW_MANIFEST_MAGIC " %u\nscope %s\nserial %llu\nissued %s\nexpires %s\nentries %zu\nbins %u\n",
				    format, o->scope, (unsigned long long)o->serial, it, ex, m, bins);
	size_t eo = 0, i = 0;
	for (uint32_t bi = 0; bi < bins; bi++) {
		size_t start = eo, count = 0;
		for (; i < m; i++) {
			unsigned char d[SW_SHA256_LEN];
			(void)sw_unhex(e[i].digest + 7, SW_SHA256_LEN, d);
			if (sw_bin_of(d, bits) != bi)
				break;
			eo += (size_t)sprintf(ebuf + eo, "%s%s%s%s%s\n", e[i].digest, format >= 2 ? " " : "",
					      format >= 2 ? sw_entry_kind_name(e[i].kind) : "", e[i].ref ? " " : "",
					      e[i].ref ? e[i].ref : "");
			count++;
		}
		char h[SW_SHA256_HEX + 1];
		sw_sha256_hex(ebuf + start, eo - start, h);
		mo += (size_t)sprintf(mbuf + mo, "bin %u %zu %zu %zu %s\n", bi, start, eo - start, count, h);
	}

	if (mkdir(out_dir, 0755) < 0 && errno != EEXIST)
		return sw_err_errno(err, errno, "%s: cannot create", out_dir);
	_cleanup_close_ int dfd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sw_err_errno(err, errno, "%s: cannot open", out_dir);
	/* Old signatures belong to an old manifest, old evidence to old entries. */
	if (unlinkat(dfd, SW_SIGS_NAME, 0) < 0 && errno != ENOENT)
		return sw_err_errno(err, errno, "%s/%s: cannot remove", out_dir, SW_SIGS_NAME);
	int r;
	if (o->evidence)
		r = sw_write_file_atomic_at(dfd, out_dir, SW_EVIDENCE_NAME, o->evidence, o->evidence_len, 0644, err);
	else
		r = unlinkat(dfd, SW_EVIDENCE_NAME, 0) < 0 && errno != ENOENT
			    ? sw_err_errno(err, errno, "%s/%s: cannot remove", out_dir, SW_EVIDENCE_NAME) : 0;
	if (r < 0)
		return r;
	r = sw_write_file_atomic_at(dfd, out_dir, SW_ENTRIES_NAME, ebuf, eo, 0644, err);
	if (r < 0)
		return r;
	return sw_write_file_atomic_at(dfd, out_dir, SW_MANIFEST_NAME, mbuf, mo, 0644, err);
}
