/* SPDX-License-Identifier: Apache-2.0 */
/* A compiled list's evidence: written with the list, covered by its signature
 * through the anchor entry, refused when edited or copied from another list;
 * a list built without evidence drops a stale file. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowlist.h"
#include "build.h"
#include "evidence.h"
#include "util.h"

#define EV SW_EVIDENCE_MAGIC "\n{\"type\":\"compile\",\"compiled\":\"2026-12-05T00:00:00Z\"}\n" \
	"{\"type\":\"approval\",\"digest\":\"sha256:" \
	"1111111111111111111111111111111111111111111111111111111111111111\",\"signer\":\"ci\"}\n"

static void write_list(const char *dir, const char *evidence, unsigned format, int want)
{
	sw_build_entry *e = NULL;
	size_t n = 0, cap = 0;
	sw_error err = { 0 };
	const char *in = "r.example/app:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111\n";
	assert_int_equal(sw_build_parse_input(in, strlen(in), "in", &e, &n, &cap, &err), 0);
	if (evidence)
		assert_int_equal(sw_build_evidence_entry(evidence, strlen(evidence), &e, &n, &cap, &err), 0);
	sw_build_opts o = { .scope = "test", .serial = 1, .issued = 1000, .expires = 2000, .format = format,
			    .evidence = evidence, .evidence_len = evidence ? strlen(evidence) : 0 };
	int r = sw_build_write(e, n, &o, dir, &err);
	if (want == 0 && r < 0)
		fail_msg("%s", err.msg);
	if (want < 0)
		assert_true(r < 0);
	sw_build_entries_free(e, n);
}

static int open_ev(const char *dir, sw_evidence *ev, sw_error *err)
{
	sw_list l;
	assert_int_equal(sw_list_open_dir(dir, &l, err), 0);
	int r = sw_evidence_open(&l, ev, err);
	sw_list_close(&l);
	return r;
}

static void test_covered(void **state)
{
	(void)state;
	char *d = tu_tmpdir();
	write_list(d, EV, 0, 0);
	size_t len;
	char *ent = tu_read(d, "entries", &len);
	char h[SW_SHA256_HEX + 1], line[200];
	sw_sha256_hex(EV, strlen(EV), h);
	snprintf(line, sizeof line, "sha256:%s image-id (evidence)\n", h);
	assert_non_null(strstr(ent, line));
	free(ent);
	sw_evidence ev;
	sw_error err = { 0 };
	assert_int_equal(open_ev(d, &ev, &err), 1);
	assert_int_equal(ev.n, 2);
	assert_string_equal(ev.sha256, h);
	sw_evidence_check ck[4];
	size_t n = 9;
	/* The approval is found (its signature record is missing: a failed check,
	 * not an error). */
	assert_int_equal(sw_evidence_reverify(&ev, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
					      0, ck, 4, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_false(ck[0].ok);
	assert_non_null(strstr(ck[0].error, "missing"));
	assert_int_equal(sw_evidence_reverify(&ev, "sha256:2222222222222222222222222222222222222222222222222222222222222222",
					      0, ck, 4, &n, &err), 0);
	sw_evidence_free(&ev);

	/* Edited after the list was made: its hash is not the anchor. */
	char *edited = strdup(EV);
	edited[strlen(edited) - 5] = 'X';
	tu_writes(d, "evidence", edited);
	free(edited);
	assert_true(open_ev(d, &ev, &err) < 0);
	assert_int_equal(err.code, SW_EVERIFY);
	assert_non_null(strstr(err.msg, "not covered by the list"));

	/* Another list's evidence (a valid file, anchored elsewhere). */
	char *d2 = tu_tmpdir();
	const char *other = SW_EVIDENCE_MAGIC "\n{\"type\":\"compile\"}\n";
	write_list(d2, other, 0, 0);
	tu_writes(d, "evidence", other);
	assert_true(open_ev(d, &ev, &err) < 0);
	assert_non_null(strstr(err.msg, "not covered by the list"));

	/* Rebuilt without evidence: the stale file goes, the list has none. */
	write_list(d, NULL, 0, 0);
	char *evp = tu_path(d, "evidence");
	assert_int_equal(access(evp, F_OK), -1);
	free(evp);
	assert_int_equal(open_ev(d, &ev, &err), 0);
	/* Format 1 has no kinds: the anchor would match any digest. */
	write_list(d2, other, 1, -1);
	tu_rmrf(d);
	tu_rmrf(d2);
	free(d);
	free(d2);
}

static void test_parse(void **state)
{
	(void)state;
	sw_evidence ev;
	sw_error err = { 0 };
	const char *bad[] = {
		"{\"type\":\"compile\"}\n",                                  /* no magic */
		SW_EVIDENCE_MAGIC "\n{\"type\":\"compile\"}",                /* unterminated */
		SW_EVIDENCE_MAGIC "\n[1]\n",                                 /* not an object */
		SW_EVIDENCE_MAGIC "\n{\"kind\":1}\n",                        /* no type */
		SW_EVIDENCE_MAGIC "\n{\"type\":\"x\"}\n{\"type\":\n",        /* bad JSON, line 3 */
	};
	const char *want[] = { ":1: not a sigward evidence file", ":2: the last line", ":2: not an object",
			       ":2: not an object", ":3" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		int r = sw_evidence_parse(bad[i], strlen(bad[i]), "ev", &ev, &err);
		sw_evidence_free(&ev);
		if (r >= 0)
			fail_msg("accepted: %s", bad[i]);
		if (strncmp(err.msg, "ev", 2) != 0 || !strstr(err.msg, want[i]))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, want[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_covered),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
