/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <string.h>

#include "decision.h"

#define DG "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static sw_resolution one(void)
{
	sw_resolution r = { 0 };
	snprintf(r.d[0].digest, sizeof r.d[0].digest, "%s", DG);
	r.n = 1;
	return r;
}

static void test_table(void **state)
{
	(void)state;
	sw_resolution r = one();
	sw_decision d;
	sw_decision_input in = { .mode = SW_MODE_ENFORCE, .res = &r, .scope = "prod", .serial = 42 };

	/* not in the list */
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_string_equal(d.reason, "image " DG " is not in allowlist prod#42");
	/* in the list */
	in.matched = DG;
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_ALLOW);
	assert_string_equal(d.reason, "image " DG " is in allowlist prod#42");
	/* a lookup error denies even when something matched before it */
	in.lookup_rc = -1;
	in.lookup_msg = "bin 3 does not match";
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_string_equal(d.reason, "image " DG ": bin 3 does not match");
	in.lookup_rc = 0;
	/* list failure comes before lookup */
	in.list_rc = -1;
	in.list_msg = "allowlist x expired";
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_string_equal(d.reason, "image " DG ": allowlist x expired");
	/* resolution failure comes first */
	in.resolve_rc = -1;
	in.resolve_msg = "sources disagree";
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_string_equal(d.reason, "sources disagree");
	/* no digest at all */
	sw_resolution empty = { 0 };
	sw_decision_input in2 = { .mode = SW_MODE_ENFORCE, .res = &empty };
	sw_decide(&in2, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_non_null(strstr(d.reason, "no image digest"));
}

static void test_warn_and_unknown_mode(void **state)
{
	(void)state;
	sw_resolution r = one();
	sw_decision d;
	sw_decision_input in = { .mode = SW_MODE_WARN, .res = &r, .scope = "prod", .serial = 1 };
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_WARN);
	assert_string_equal(d.reason, "would deny: image " DG " is not in allowlist prod#1");
	in.matched = DG;
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_ALLOW);
	/* a mode value the code does not know fails closed */
	in.matched = NULL;
	in.mode = (sw_mode)7;
	sw_decide(&in, &d);
	assert_int_equal(d.verdict, SW_DENY);
	assert_string_equal(sw_verdict_name(SW_ALLOW), "allow");
	assert_string_equal(sw_verdict_name(SW_DENY), "deny");
	assert_string_equal(sw_verdict_name(SW_WARN), "warn");
}

static void test_several_digests(void **state)
{
	(void)state;
	sw_resolution r = one();
	snprintf(r.d[1].digest, sizeof r.d[1].digest, "sha256:%064d", 2);
	snprintf(r.d[2].digest, sizeof r.d[2].digest, "sha256:%064d", 3);
	r.n = 3;
	sw_decision d;
	sw_decision_input in = { .mode = SW_MODE_ENFORCE, .res = &r, .scope = "s", .serial = 2 };
	sw_decide(&in, &d);
	assert_string_equal(d.reason, "image " DG " (and 2 other digests) is not in allowlist s#2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_warn_and_unknown_mode),
		cmocka_unit_test(test_several_digests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
