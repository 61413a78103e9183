/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/build: what `sigward allowlist build` makes of its input. The output must
 * not depend on the order of the input, a trailing "# note" is a comment, and a
 * digest that is wrong only in case says so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "testutil.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static char *build_entries(const char *input, sw_error *e, int *rc)
{
	sw_build_entry *entries = NULL;
	size_t n = 0, cap = 0;
	*rc = sw_build_parse_input(input, strlen(input), "in", &entries, &n, &cap, e);
	char *dir = tu_tmpdir();
	if (*rc >= 0) {
		sw_build_opts o = { .scope = "test", .serial = 1, .issued = 1000, .expires = 2000 };
		*rc = sw_build_write(entries, n, &o, dir, e);
	}
	sw_build_entries_free(entries, n);
	char *text = NULL;
	if (*rc >= 0) {
		size_t len;
		text = tu_read(dir, "entries", &len);
	}
	tu_rmrf(dir);
	free(dir);
	return text;
}

/* One digest under two references: the same entry whatever the input order. */
static void test_two_references_order_free(void **state)
{
	(void)state;
	sw_error e = { 0 };
	int rc;
	char *a = build_entries("reg/app:v1@" D1 "\nreg/app:latest@" D1 "\n" D2 "\n", &e, &rc);
	assert_int_equal(rc, 0);
	char *b = build_entries(D2 "\nreg/app:latest@" D1 "\nreg/app:v1@" D1 "\n", &e, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, D1 " manifest reg/app:latest\n"));
	/* A reference beats none, in either order. */
	char *c = build_entries(D1 "\nreg/x@" D1 "\n", &e, &rc);
	char *d = build_entries("reg/x@" D1 "\n" D1 "\n", &e, &rc);
	assert_string_equal(c, d);
	assert_non_null(strstr(c, D1 " manifest reg/x\n"));
	free(a);
	free(b);
	free(c);
	free(d);
}

/* "# note" after an entry is a comment; a '#' inside a reference is not. */
static void test_trailing_comment(void **state)
{
	(void)state;
	sw_error e = { 0 };
	int rc;
	char *a = build_entries(D1 " # approved by release board\nimage-id " D2 "\t# the config\n", &e, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(a, D1 " manifest\n" D2 " image-id\n");
	free(a);
	a = build_entries("reg/a#b@" D1 "\n", &e, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(a, D1 " manifest reg/a#b\n");
	free(a);
}

/* Upper-case hex: refused, and the message says it is the case. */
static void test_upper_case_named(void **state)
{
	(void)state;
	sw_error e = { 0 };
	int rc;
	char *a = build_entries("sha256:ABCDEF1111111111111111111111111111111111111111111111111111111111\n", &e, &rc);
	assert_null(a);
	assert_true(rc < 0);
	if (!strstr(e.msg, "in:1:") || !strstr(e.msg, "lower case"))
		fail_msg("message: %s", e.msg);
	a = build_entries("sha256:xyz\n", &e, &rc);
	assert_null(a);
	if (!strstr(e.msg, "64 lowercase hex"))
		fail_msg("message: %s", e.msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_references_order_free),
		cmocka_unit_test(test_trailing_comment),
		cmocka_unit_test(test_upper_case_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
