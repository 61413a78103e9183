/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The allowlist entries file as the hook reads it: the input is the bytes of
 * one bin; the harness writes a manifest whose single bin covers them with the
 * right hash (so the lookup gets past the hash check, as it would for a list
 * signed by a careless or hostile producer), and looks digests up through the
 * lazy and the full open, as a format 1 list and as a format 2 list. When the
 * input is a well-formed entries file of that format (lines "sha256:<hex>[
 * <ref>]\n", or "sha256:<hex> manifest|image-id[ <ref>]\n", strictly
 * ascending), every digest in it must be found with its reference (and, in
 * format 2, matched only by a digest of its kind) and a digest next to one must
 * not: the binary search is checked against a linear scan.
 */
#include "fuzz_util.h"

#include "allowlist.h"

static char lists[PATH_MAX], gen[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(lists, sizeof lists, "%s/lists", fz_tmp());
	snprintf(gen, sizeof gen, "%s/gen-1", lists);
	fz_mkdir(lists);
	fz_mkdir(gen);
	char cur[PATH_MAX];
	snprintf(cur, sizeof cur, "%s/current", lists);
	if (symlink("gen-1", cur) < 0)
		fz_die("symlink", cur);
	return 0;
}

static bool lower_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* The kind word of a format 2 line after the digest: its length with the
 * leading space (9), 0 when there is none. */
static size_t kind_word(const uint8_t *p, size_t l, int *kind)
{
	if (l >= 71 + 9 && (memcmp(p + 71, " manifest", 9) == 0 || memcmp(p + 71, " image-id", 9) == 0) &&
	    (l == 80 || p[80] == ' ')) {
		*kind = p[72] == 'm' ? 1 : 2;
		return 9;
	}
	return 0;
}

/* Independent check of the entries grammar (docs/allowlist-format.md). */
static bool well_formed(const uint8_t *d, size_t n, unsigned fmt, size_t *count)
{
	const uint8_t *prev = NULL;
	*count = 0;
	for (size_t o = 0; o < n;) {
		const uint8_t *nl = memchr(d + o, '\n', n - o);
		if (!nl)
			return false;
		size_t l = (size_t)(nl - (d + o));
		if (l < 71 || memcmp(d + o, "sha256:", 7) != 0 || !lower_hex(d + o + 7, 64))
			return false;
		size_t r0 = 71;
		int kind = 0;
		if (fmt >= 2) {
			size_t kw = kind_word(d + o, l, &kind);
			if (!kw)
				return false;
			r0 += kw;
		}
		if (l > r0) {
			if (d[o + r0] != ' ' || l - r0 - 1 < 1 || l - r0 - 1 > SW_REF_MAX)
				return false;
			for (size_t i = o + r0 + 1; i < o + l; i++)
				if (d[i] <= 0x20 || d[i] >= 0x7f)
					return false;
		}
		if (prev && memcmp(prev, d + o + 7, 64) >= 0)
			return false;
		prev = d + o + 7;
		(*count)++;
		o += l + 1;
	}
	return true;
}

static int lookup_kind(sw_list *l, const char *digest, const char *kind, char *ref, size_t rl)
{
	sw_error e = { 0 };
	int r = sw_list_lookup(l, digest, kind, ref, rl, &e);
	if (r < 0 && (!e.msg[0] || strchr(e.msg, '\n')))
		abort();
	return r;
}

static int lookup(sw_list *l, const char *digest, char *ref, size_t rl)
{
	return lookup_kind(l, digest, NULL, ref, rl);
}

static void one(const uint8_t *data, size_t size, unsigned fmt)
{
	size_t count = 0;
	bool wf = well_formed(data, size, fmt, &count);
	/* The manifest's count must fit the length: the parser refuses a bin that
	 * claims more entries than its bytes could hold. */
	size_t claimed = wf ? count : size / 72;
	unsigned char md[SW_SHA256_LEN];
	char hex[SW_SHA256_HEX + 1];
	sw_sha256(data, size, md);
	sw_hex(md, SW_SHA256_LEN, hex);
	char man[1024];
	int mn = snprintf(man, sizeof man,
			  "sigward-allowlist %u\nscope fuzz\nserial 1\nissued 2020-01-01T00:00:00Z\n"
			  "expires 2099-01-01T00:00:00Z\nentries %zu\nbins 1\nbin 0 0 %zu %zu %s\n",
			  fmt, claimed, size, claimed, hex);
	fz_write(gen, SW_MANIFEST_NAME, man, (size_t)mn);
	fz_write(gen, SW_ENTRIES_NAME, data, size);

	sw_error e = { 0 };
	sw_list lazy, full;
	int lr = sw_list_open_current_lazy(lists, &lazy, &e);
	int fr = sw_list_open_dir(gen, &full, &e);
	fz_debug(wf ? "well-formed" : "malformed", lr < 0 || fr < 0 ? -1 : (int)count, e.msg);
	if (wf && (lr < 0 || fr < 0)) {
		fprintf(stderr, "well-formed entries, manifest refused: %s\n", e.msg);
		abort();
	}
	if (lr == 0 && fr == 0) {
		/* Probes: fixed digests, and every digest-looking line start. */
		static const char *const fixed[] = {
			"sha256:0000000000000000000000000000000000000000000000000000000000000000",
			"sha256:8000000000000000000000000000000000000000000000000000000000000000",
			"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		};
		for (size_t i = 0; i < SW_ARRAY_SIZE(fixed); i++) {
			char r1[SW_REF_MAX + 1], r2[SW_REF_MAX + 1];
			int a = lookup(&lazy, fixed[i], r1, sizeof r1), b = lookup(&full, fixed[i], r2, sizeof r2);
			if (a != b)
				abort();
		}
		for (size_t o = 0; o < size;) {
			const uint8_t *nl = memchr(data + o, '\n', size - o);
			size_t l = nl ? (size_t)(nl - (data + o)) : size - o;
			if (l >= 71 && memcmp(data + o, "sha256:", 7) == 0 && lower_hex(data + o + 7, 64)) {
				char dg[SW_DIGEST_STR], ref[SW_REF_MAX + 1], ref2[SW_REF_MAX + 1];
				memcpy(dg, data + o, 71);
				dg[71] = '\0';
				int a = lookup(&lazy, dg, ref, sizeof ref), b = lookup(&full, dg, ref2, sizeof ref2);
				if (a != b || (a == 1 && strcmp(ref, ref2) != 0))
					abort();
				if (wf) {
					if (a != 1) {
						fprintf(stderr, "listed digest %s not found\n", dg);
						abort();
					}
					int kind = 0;
					size_t r0 = 71 + (fmt >= 2 ? kind_word(data + o, l, &kind) : 0);
					size_t rl = l > r0 ? l - r0 - 1 : 0;
					if (strlen(ref) != rl || memcmp(ref, data + o + r0 + 1, rl) != 0) {
						fprintf(stderr, "wrong reference for %s: '%s'\n", dg, ref);
						abort();
					}
					/* Each kind matches only its own entries (format 2);
					 * an untyped entry matches both. */
					bool m = lookup_kind(&lazy, dg, "manifest", NULL, 0) == 1;
					bool im = lookup_kind(&full, dg, "image-id", NULL, 0) == 1;
					if (m != (kind != 2) || im != (kind != 1)) {
						fprintf(stderr, "kind %d of %s: manifest %d, image-id %d\n", kind, dg, m, im);
						abort();
					}
					/* The next digest up is not listed unless it is the
					 * next line's. */
					char nx[SW_DIGEST_STR];
					memcpy(nx, dg, sizeof nx);
					int k = 70;
					while (k >= 7 && nx[k] == 'f')
						nx[k--] = '0';
					if (k >= 7) {
						nx[k] = nx[k] == '9' ? 'a' : (char)(nx[k] + 1);
						bool listed = nl && size - (o + l + 1) >= 71 &&
							      memcmp(data + o + l + 1, nx, 71) == 0;
						if (lookup(&lazy, nx, ref, sizeof ref) != (listed ? 1 : 0))
							abort();
					}
				}
			}
			o += l + 1;
		}
	}
	sw_list_close(&lazy);
	sw_list_close(&full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 1);
	one(data, size, 2);
	return 0;
}
