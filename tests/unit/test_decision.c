/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <string.h>

#include "allowlist.h"
#include "build.h"
#include "decision.h"

#define DG "sha256:1111111111111111111111111111111111111111111111111111111111111111"

/* Resolutions are built by hand: the decision must not depend on resolve.c. */
static sw_resolution with_digests(size_t n)
{
	sw_resolution r = { 0 };
	snprintf(r.d[0].digest, sizeof r.d[0].digest, "%s", DG);
	for (size_t i = 1; i < n; i++)
		snprintf(r.d[i].digest, sizeof r.d[i].digest, "sha256:%064zu", i + 1);
	r.n = n;
	return r;
}

/* Every branch, in both modes: in enforce the reason is as written and the
 * verdict denies; in warn the verdict is SW_WARN and the reason says so. */
typedef struct row {
	const char *what;
	sw_decision_input in;
	size_t n_digests;
	bool allows;
	const char *reason;
} row;

#define BUSY_MSG "/r/io.containerd.metadata.v1.bolt/meta.db: a transaction committed during each of 40 reads " \
		 "in 2001 ms (containerd was writing its store)"
#define BUSY_HINT "store busy, a retry of the start will work (not a policy refusal): "

static void run_rows(const row *rows, size_t n, sw_denial want_denial);

static void test_table(void **state)
{
	(void)state;
	const row rows[] = {
		{ "found", { .scope = "prod", .serial = 42, .matched = DG }, 1, true,
		  "image " DG " is in allowlist prod#42" },
		{ "not found", { .scope = "prod", .serial = 42 }, 1, false,
		  "image " DG " is not in allowlist prod#42" },
		{ "not found, several digests", { .scope = "s", .serial = 2 }, 3, false,
		  "image " DG " (and 2 other digests) is not in allowlist s#2" },
		{ "not found, two digests", { .scope = "s", .serial = 2 }, 2, false,
		  "image " DG " (and 1 other digest) is not in allowlist s#2" },
		{ "serial at the top of its range", { .scope = "prod", .serial = UINT64_MAX }, 1, false,
		  "image " DG " is not in allowlist prod#18446744073709551615" },
		/* a lookup error denies even when an earlier digest matched */
		{ "lookup error", { .scope = "prod", .serial = 42, .matched = DG, .lookup_rc = -1,
				    .lookup_msg = "bin 3 does not match" }, 1, false,
		  "image " DG ": bin 3 does not match" },
		{ "lookup error without a message", { .scope = "prod", .serial = 42, .lookup_rc = -1 }, 1, false,
		  "image " DG ": allowlist lookup failed" },
		/* the list failed: its message, never a lookup that may have happened */
		{ "list failure", { .list_rc = -1, .list_msg = "allowlist x expired", .matched = DG, .lookup_rc = -1,
				    .lookup_msg = "later step" }, 1, false,
		  "image " DG ": allowlist x expired" },
		{ "list failure, several digests", { .list_rc = -1, .list_msg = "bad signature" }, 2, false,
		  "image " DG " (and 1 other digest): bad signature" },
		{ "list failure without a digest", { .list_rc = -1, .list_msg = "no allowlist installed" }, 0, false,
		  "no allowlist installed" },
		{ "list failure without a message", { .list_rc = -1 }, 1, false, "image " DG ": no valid allowlist" },
		/* resolution failure comes first, whatever the later steps say */
		{ "resolution failure", { .resolve_rc = -1, .resolve_msg = "sources disagree", .list_rc = -1,
					  .list_msg = "later", .matched = DG }, 1, false,
		  "sources disagree" },
		{ "resolution failure without a message", { .resolve_rc = -1 }, 0, false,
		  "cannot resolve the image digest" },
		/* a "successful" resolution with nothing in it allows nothing */
		{ "no digest", { .scope = "prod", .serial = 1, .matched = DG }, 0, false, "no image digest found" },
		/* any other failed resolution is a policy refusal */
		{ "tampered store", { .resolve_rc = -SW_EVERIFY, .resolve_msg = "images.json: digest mismatch" }, 1, false,
		  "images.json: digest mismatch" },
		{ "list failure is never store-busy", { .resolve_rc = 0, .list_rc = -SW_EBUSY, .list_msg = "x" }, 1, false,
		  "image " DG ": x" },
	};
	run_rows(rows, SW_ARRAY_SIZE(rows), SW_DENIAL_POLICY);
}

/* A store busy for the whole read budget: denied (nothing unverified starts)
 * whatever the later steps say, but as a store-busy denial whose reason says a
 * retry will work. */
static void test_busy_table(void **state)
{
	(void)state;
	const row rows[] = {
		{ "store busy", { .resolve_rc = -SW_EBUSY, .resolve_msg = BUSY_MSG, .scope = "prod", .serial = 1,
				  .matched = DG }, 1, false, BUSY_HINT BUSY_MSG },
		{ "store busy, no digest", { .resolve_rc = -SW_EBUSY, .resolve_msg = BUSY_MSG }, 0, false,
		  BUSY_HINT BUSY_MSG },
		{ "store busy without a message", { .resolve_rc = -SW_EBUSY }, 0, false,
		  BUSY_HINT "an image store was being written during every read" },
	};
	run_rows(rows, SW_ARRAY_SIZE(rows), SW_DENIAL_STORE_BUSY);
}

static void run_rows(const row *rows, size_t n, sw_denial want_denial)
{
	for (size_t i = 0; i < n; i++) {
		const row *w = &rows[i];
		sw_resolution r = w->n_digests ? with_digests(w->n_digests) : (sw_resolution){ 0 };
		sw_decision_input in = w->in;
		in.res = &r;
		in.container_id = "c1";
		sw_decision d;

		print_message("%s\n", w->what);
		in.mode = SW_MODE_ENFORCE;
		sw_decide(&in, &d);
		assert_int_equal(d.verdict, w->allows ? SW_ALLOW : SW_DENY);
		assert_string_equal(d.reason, w->reason);
		assert_int_equal(d.denial, want_denial);

		in.mode = SW_MODE_WARN;
		sw_decide(&in, &d);
		assert_int_equal(d.verdict, w->allows ? SW_ALLOW : SW_WARN);
		assert_int_equal(d.denial, want_denial);
		if (w->allows) {
			assert_string_equal(d.reason, w->reason);
		} else {
			char want[sizeof d.reason];
			snprintf(want, sizeof want, "would deny: %s", w->reason);
			assert_string_equal(d.reason, want);
		}

		/* a mode value the code does not know fails closed */
		in.mode = (sw_mode)7;
		sw_decide(&in, &d);
		assert_int_equal(d.verdict, w->allows ? SW_ALLOW : SW_DENY);
		assert_string_equal(d.reason, w->reason);
	}
}

static void test_no_resolution_struct(void **state)
{
	(void)state;
	sw_decision d;
	sw_decision_input in = { .mode = SW_MODE_ENFORCE, .scope = "p", .serial = 1, .matched = DG };
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_string_equal(d.reason, "no image digest found");
}

static void test_reason_is_one_line(void **state)
{
	(void)state;
	sw_resolution r = with_digests(1);
	sw_decision d;
	sw_decision_input in = { .mode = SW_MODE_ENFORCE, .res = &r, .resolve_rc = -1,
				 .resolve_msg = "annotation x: \"a\nsigward: allowed\r\x1b[0m\"" };
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_string_equal(d.reason, "annotation x: \"a?sigward: allowed??[0m\"");
}

static void test_long_messages_fit(void **state)
{
	(void)state;
	char big[2000];
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	sw_resolution r = with_digests(1);
	sw_decision d;
	sw_decision_input in = { .mode = SW_MODE_WARN, .res = &r, .list_rc = -1, .list_msg = big };
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_WARN);
	assert_int_equal(strncmp(d.reason, "would deny: image " DG ": mmm", 30), 0);
	assert_true(strlen(d.reason) < sizeof d.reason);
	in.mode = SW_MODE_ENFORCE;
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_int_equal(strlen(d.reason), sizeof d.reason - 1);
}

static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(sw_verdict_name(SW_ALLOW), "allow");
	assert_string_equal(sw_verdict_name(SW_DENY), "deny");
	assert_string_equal(sw_verdict_name(SW_WARN), "warn");
	assert_string_equal(sw_verdict_name((sw_verdict)9), "deny");
	assert_string_equal(sw_denial_name(SW_DENIAL_POLICY), "policy");
	assert_string_equal(sw_denial_name(SW_DENIAL_STORE_BUSY), "store-busy");
}

/* The hint that a retry will work comes first, so neither warn mode's prefix
 * nor a long store message can cut it off. */
static void test_busy_hint_survives(void **state)
{
	(void)state;
	char big[2000];
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	sw_decision d;
	sw_decision_input in = { .mode = SW_MODE_WARN, .resolve_rc = -SW_EBUSY, .resolve_msg = big };
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_WARN);
	assert_int_equal(d.denial, SW_DENIAL_STORE_BUSY);
	assert_int_equal(strncmp(d.reason, "would deny: " BUSY_HINT "mmm", strlen("would deny: " BUSY_HINT) + 3), 0);
	in.mode = SW_MODE_ENFORCE;
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_int_equal(strncmp(d.reason, BUSY_HINT "mmm", strlen(BUSY_HINT) + 3), 0);
}

/* ---- kinds (issue 14): the lookup loop of lib/enforce.c, then the verdict ---- */

#define MAN "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define CFG "sha256:3333333333333333333333333333333333333333333333333333333333333333"

/* A list holding the listed image: its manifest MAN and its image id CFG. */
static char *list_of(const char *root, const char *name, unsigned format)
{
	char *dir = tu_path(root, name);
	sw_build_entry *e = calloc(2, sizeof *e);
	snprintf(e[0].digest, sizeof e[0].digest, "%s", MAN);
	e[0].kind = SW_ENTRY_MANIFEST;
	snprintf(e[1].digest, sizeof e[1].digest, "%s", CFG);
	e[1].kind = SW_ENTRY_IMAGE_ID;
	sw_build_opts o = { .scope = "prod", .serial = 7, .issued = 1, .expires = 4102444800, .format = format };
	sw_error err = { 0 };
	if (sw_build_write(e, 2, &o, dir, &err) < 0)
		fail_msg("%s", err.msg);
	sw_build_entries_free(e, 2);
	return dir;
}

static sw_verdict decide_on(const char *dir, const sw_resolution *r, sw_decision *d)
{
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_dir(dir, &l, &e), 0);
	sw_decision_input in = { .mode = SW_MODE_ENFORCE, .res = r, .scope = "prod", .serial = 7 };
	static char matched[SW_DIGEST_STR];
	for (size_t i = 0; i < r->n; i++) {
		int rc = sw_list_lookup(&l, r->d[i].digest, r->d[i].kind, NULL, 0, &e);
		assert_true(rc >= 0);
		if (rc == 1) {
			snprintf(matched, sizeof matched, "%s", r->d[i].digest);
			in.matched = matched;
			break;
		}
	}
	sw_list_close(&l);
	sw_decide(&in, d);
	return d->verdict;
}

static sw_resolution found(const char *d1, const char *k1, const char *d2, const char *k2)
{
	sw_resolution r = { 0 };
	sw_error e = { 0 };
	assert_int_equal(sw_resolution_add(&r, d1, "containers-storage", k1, &e), 0);
	if (d2)
		assert_int_equal(sw_resolution_add(&r, d2, "containers-storage", k2, &e), 0);
	return r;
}

static void test_kinds(void **state)
{
	(void)state;
	char *root = tu_tmpdir();
	char *v2 = list_of(root, "v2", 0), *v1 = list_of(root, "v1", 1);
	sw_decision d;
	const char *other = "sha256:4444444444444444444444444444444444444444444444444444444444444444";

	/* the listed image itself: allowed by its manifest, or by its image id */
	sw_resolution r = found(CFG, "image-id", MAN, "manifest");
	assert_int_equal(decide_on(v2, &r, &d), SW_ALLOW);
	r = found(CFG, "image-id", NULL, NULL);
	assert_int_equal(decide_on(v2, &r, &d), SW_ALLOW);
	assert_string_equal(d.reason, "image " CFG " is in allowlist prod#7");
	r = found(MAN, "index", NULL, NULL);
	assert_int_equal(decide_on(v2, &r, &d), SW_ALLOW);

	/* the forged image: its config is MAN's bytes, so its image id is MAN */
	r = found(MAN, "image-id", other, "manifest");
	assert_int_equal(decide_on(v2, &r, &d), SW_DENY);
	assert_string_equal(d.reason, "image " MAN " (and 1 other digest) is not in allowlist prod#7");
	/* and the reverse: a manifest whose bytes are CFG's */
	r = found(other, "image-id", CFG, "manifest");
	assert_int_equal(decide_on(v2, &r, &d), SW_DENY);
	r = found(CFG, "unknown", NULL, NULL);
	assert_int_equal(decide_on(v2, &r, &d), SW_DENY);

	/* an old (format 1) list keeps working as it did: untyped entries; the
	 * forged image is refused by the store's custody check before this */
	r = found(CFG, "image-id", NULL, NULL);
	assert_int_equal(decide_on(v1, &r, &d), SW_ALLOW);
	r = found(MAN, "manifest", NULL, NULL);
	assert_int_equal(decide_on(v1, &r, &d), SW_ALLOW);
	r = found(MAN, "image-id", NULL, NULL);
	assert_int_equal(decide_on(v1, &r, &d), SW_ALLOW);
	r = found(other, "image-id", NULL, NULL);
	assert_int_equal(decide_on(v1, &r, &d), SW_DENY);

	free(v1);
	free(v2);
	tu_rmrf(root);
	free(root);
}

/* The matching rule alone. */
static void test_kind_table(void **state)
{
	(void)state;
	struct { sw_entry_kind entry; const char *kind; bool match; } t[] = {
		{ SW_ENTRY_MANIFEST, "manifest", true }, { SW_ENTRY_MANIFEST, "index", true },
		{ SW_ENTRY_MANIFEST, "unknown", true }, { SW_ENTRY_MANIFEST, "image-id", false },
		{ SW_ENTRY_IMAGE_ID, "image-id", true }, { SW_ENTRY_IMAGE_ID, "manifest", false },
		{ SW_ENTRY_IMAGE_ID, "index", false }, { SW_ENTRY_IMAGE_ID, "unknown", false },
		{ SW_ENTRY_MANIFEST, "bogus", false }, { SW_ENTRY_IMAGE_ID, "", false },
		{ SW_ENTRY_MANIFEST, "any", true }, { SW_ENTRY_IMAGE_ID, NULL, true },
		{ SW_ENTRY_UNTYPED, "image-id", true }, { SW_ENTRY_UNTYPED, "manifest", true },
		{ SW_ENTRY_UNTYPED, "bogus", true }, { (sw_entry_kind)7, "manifest", false },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(t); i++)
		if (sw_entry_kind_matches(t[i].entry, t[i].kind) != t[i].match)
			fail_msg("entry %d, kind %s", t[i].entry, t[i].kind ? t[i].kind : "NULL");
	assert_string_equal(sw_entry_kind_name(SW_ENTRY_MANIFEST), "manifest");
	assert_string_equal(sw_entry_kind_name(SW_ENTRY_IMAGE_ID), "image-id");
	assert_string_equal(sw_entry_kind_name(SW_ENTRY_UNTYPED), "untyped");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_busy_table),
		cmocka_unit_test(test_no_resolution_struct),
		cmocka_unit_test(test_reason_is_one_line),
		cmocka_unit_test(test_long_messages_fit),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_busy_hint_survives),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_kind_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
