/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allowlist manifest: the full parse (sw_manifest_parse, what `sigward
 * allowlist verify/install` and sigwardd use) and the hook's lazy path
 * (sw_list_open_current_lazy, then lookups that parse single bin lines), through
 * a real generation directory and `current` link. A manifest the full parser
 * accepts must also open lazily, and the two must agree on every lookup.
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

static const char *const probes[] = {
	"sha256:0000000000000000000000000000000000000000000000000000000000000000",
	"sha256:7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"sha256:8000000000000000000000000000000000000000000000000000000000000000",
	"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"sha256:1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sw_error e = { 0 };
	sw_list full = { .dirfd = -1 };
	int fr = sw_manifest_parse((const char *)data, size, "manifest", &full, &e);
	if (fr < 0 && (!e.msg[0] || strchr(e.msg, '\n')))
		abort();

	/* The entries file: empty, so that a lookup reaching it stops at the size
	 * check, unless every bin is empty (then it is the right size). */
	fz_write(gen, SW_MANIFEST_NAME, data, size);
	fz_write(gen, SW_ENTRIES_NAME, "", 0);
	sw_list lazy;
	int lr = sw_list_open_current_lazy(lists, &lazy, &e);
	fz_debug("manifest", fr, lr < 0 ? e.msg : "");
	if (fr == 0 && lr < 0) {
		fprintf(stderr, "full parse accepted, lazy open refused: %s\n", e.msg);
		abort();
	}
	if (lr == 0) {
		for (size_t i = 0; i < SW_ARRAY_SIZE(probes); i++) {
			sw_error le = { 0 }, fe = { 0 };
			char ref[SW_REF_MAX + 1];
			int a = sw_list_lookup(&lazy, probes[i], NULL, ref, sizeof ref, &le);
			if (fr == 0) {
				/* The full parse's bins, through the same directory. */
				full.dirfd = lazy.dirfd;
				full.path = lazy.path;
				int b = sw_list_lookup(&full, probes[i], NULL, ref, sizeof ref, &fe);
				full.dirfd = -1;
				full.path = NULL;
				if ((a < 0) != (b < 0) || (a >= 0 && a != b)) {
					fprintf(stderr, "lazy and full lookups disagree on %s: %d (%s) vs %d (%s)\n",
						probes[i], a, le.msg, b, fe.msg);
					abort();
				}
			}
		}
	}
	sw_list_close(&lazy);
	full.dirfd = -1;
	sw_list_close(&full);
	return 0;
}
