/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <string.h>

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
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(rows); i++) {
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

		in.mode = SW_MODE_WARN;
		sw_decide(&in, &d);
		assert_int_equal(d.verdict, w->allows ? SW_ALLOW : SW_WARN);
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_no_resolution_struct),
		cmocka_unit_test(test_reason_is_one_line),
		cmocka_unit_test(test_long_messages_fit),
		cmocka_unit_test(test_verdict_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
