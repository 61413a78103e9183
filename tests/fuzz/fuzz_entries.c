/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The allowlist entries file as the hook reads it: the input is the bytes of
 * one bin; the harness writes a manifest whose single bin covers them with the
 * right hash (so the lookup gets past the hash check, as it would for a list
 * signed by a careless or hostile producer), and looks digests up through the
 * lazy and the full open. When the input is a well-formed entries file (lines
 * "sha256:<hex>[ <ref>]\n", strictly ascending), every digest in it must be
 * found with its reference and a digest next to one must not: the binary search
 * is checked against a linear scan.
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

/* Independent check of the entries grammar (docs/allowlist-format.md). */
static bool well_formed(const uint8_t *d, size_t n, size_t *count)
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
		if (l > 71) {
			if (d[o + 71] != ' ' || l - 72 < 1 || l - 72 > SW_REF_MAX)
				return false;
			for (size_t i = o + 72; i < o + l; i++)
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

static int lookup(sw_list *l, const char *digest, char *ref, size_t rl)
{
	sw_error e = { 0 };
	int r = sw_list_lookup(l, digest, NULL, ref, rl, &e);
	if (r < 0 && (!e.msg[0] || strchr(e.msg, '\n')))
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0;
	bool wf = well_formed(data, size, &count);
	/* The manifest's count must fit the length: the parser refuses a bin that
	 * claims more entries than its bytes could hold. */
	size_t claimed = wf ? count : size / 72;
	unsigned char md[SW_SHA256_LEN];
	char hex[SW_SHA256_HEX + 1];
	sw_sha256(data, size, md);
	sw_hex(md, SW_SHA256_LEN, hex);
	char man[1024];
	int mn = snprintf(man, sizeof man,
			  "sigward-allowlist 1\nscope fuzz\nserial 1\nissued 2020-01-01T00:00:00Z\n"
			  "expires 2099-01-01T00:00:00Z\nentries %zu\nbins 1\nbin 0 0 %zu %zu %s\n",
			  claimed, size, claimed, hex);
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
					size_t rl = l > 71 ? l - 72 : 0;
					if (strlen(ref) != rl || memcmp(ref, data + o + 72, rl) != 0) {
						fprintf(stderr, "wrong reference for %s: '%s'\n", dg, ref);
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
	return 0;
}
