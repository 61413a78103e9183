/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

static char *nested(size_t depth)
{
	char *s = malloc(2 * depth + 1);
	assert_non_null(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = '\0';
	return s;
}

static void test_tree(void **state)
{
	(void)state;
	sw_error e = { 0 };
	yajl_val v = NULL;
	static const char ok[] = "{\"a\":[1,\"x\\\"[[\"]}";
	assert_int_equal(sw_json_tree(ok, strlen(ok), "doc", &v, &e), 0);
	assert_true(YAJL_IS_OBJECT(v));
	yajl_tree_free(v);

	/* Deep nesting is refused before yajl_tree builds (and would recursively
	 * free) anything; exactly SW_JSON_MAX_DEPTH levels are fine. */
	char *deep = nested(200000);
	assert_true(sw_json_tree(deep, strlen(deep), "doc", &v, &e) < 0);
	assert_null(v);
	assert_string_equal(e.msg, "doc: nested deeper than 64 levels");
	free(deep);
	char *edge = nested(SW_JSON_MAX_DEPTH);
	assert_int_equal(sw_json_tree(edge, strlen(edge), "doc", &v, &e), 0);
	yajl_tree_free(v);
	free(edge);

	/* A NUL, raw or escaped, would cut a C string short: refused. */
	static const char esc[] = "{\"a\":\"x\\u0000y\"}";
	assert_true(sw_json_tree(esc, strlen(esc), "doc", &v, &e) < 0);
	assert_string_equal(e.msg, "doc: NUL byte in JSON");
	static const char raw[] = "{\"a\":\"x\0y\"}";
	assert_true(sw_json_tree(raw, sizeof raw - 1, "doc", &v, &e) < 0);
	assert_string_equal(e.msg, "doc: NUL byte in JSON");
	/* A NUL right after a backslash is one too (the scan skips escaped bytes). */
	static const char esc_raw[] = "{\"a\":\"x\\\0y\"}";
	assert_true(sw_json_tree(esc_raw, sizeof esc_raw - 1, "doc", &v, &e) < 0);
	assert_string_equal(e.msg, "doc: NUL byte in JSON");
	/* An escaped backslash before "u0000" is not an escape of it. */
	static const char bs[] = "{\"a\":\"x\\\\u0000\"}";
	assert_int_equal(sw_json_tree(bs, strlen(bs), "doc", &v, &e), 0);
	yajl_tree_free(v);

	static const char bad[] = "{\"a\":}";
	assert_true(sw_json_tree(bad, strlen(bad), "doc", &v, &e) < 0);
	assert_non_null(strstr(e.msg, "doc: invalid JSON: "));
	assert_null(strchr(e.msg, '\n'));
}

typedef struct ev {
	bool failed;
	sw_error *err;
	unsigned strings;
} ev;

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	ev *c = ctx;
	c->strings++;
	if (len == 4 && memcmp(s, "stop", 4) == 0) {
		sw_err(c->err, SW_ETOOBIG, "callback stopped");
		c->failed = true;
		return 0;
	}
	return 1;
}

static void test_events(void **state)
{
	(void)state;
	static const yajl_callbacks cb = { .yajl_string = on_string };
	sw_error e = { 0 };
	ev c = { .err = &e };
	static const char ok[] = "[\"a\",\"b\"]";
	assert_int_equal(sw_json_events(&cb, &c, &c.failed, ok, strlen(ok), "doc", &e), 0);
	assert_int_equal(c.strings, 2);

	/* A callback's own error is returned as it is. */
	c = (ev){ .err = &e };
	static const char stop[] = "[\"a\",\"stop\",\"c\"]";
	assert_int_equal(sw_json_events(&cb, &c, &c.failed, stop, strlen(stop), "doc", &e), -SW_ETOOBIG);
	assert_string_equal(e.msg, "callback stopped");

	/* yajl's error: the byte offset, on one line. */
	c = (ev){ .err = &e };
	static const char bad[] = "[\"a\" \"b\"]";
	assert_true(sw_json_events(&cb, &c, &c.failed, bad, strlen(bad), "doc", &e) < 0);
	assert_non_null(strstr(e.msg, "doc: invalid JSON at byte "));
	assert_null(strchr(e.msg, '\n'));
	/* Trailing garbage and a second value are refused. */
	static const char two[] = "[] []";
	c = (ev){ .err = &e };
	assert_true(sw_json_events(&cb, &c, &c.failed, two, strlen(two), "doc", &e) < 0);
	static const char comment[] = "[/* x */]";
	c = (ev){ .err = &e };
	assert_true(sw_json_events(&cb, &c, &c.failed, comment, strlen(comment), "doc", &e) < 0);
}

static void test_go_key_eq(void **state)
{
	(void)state;
	const unsigned char *k = (const unsigned char *)"Image";
	assert_true(sw_json_go_key_eq(k, 5, "image"));
	assert_true(sw_json_go_key_eq((const unsigned char *)"IMAGE", 5, "image"));
	assert_false(sw_json_go_key_eq((const unsigned char *)"Images", 6, "image"));
	assert_false(sw_json_go_key_eq((const unsigned char *)"Imag", 4, "image"));
	/* U+017F LATIN SMALL LETTER LONG S folds to 's', U+212A KELVIN SIGN to 'k'. */
	assert_true(sw_json_go_key_eq((const unsigned char *)"\xc5\xbfize", 5, "size"));
	assert_true(sw_json_go_key_eq((const unsigned char *)"\xe2\x84\xaa" "ey", 5, "key"));
	assert_false(sw_json_go_key_eq((const unsigned char *)"\xc5\xbf", 2, "k"));
}

static void test_digest(void **state)
{
	(void)state;
	static const char d[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_true(sw_is_sha256_digest(d, strlen(d)));
	assert_false(sw_is_sha256_digest(d, strlen(d) - 1));
	static const char upper[] = "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_false(sw_is_sha256_digest(upper, strlen(upper)));
	static const char algo[] = "sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_false(sw_is_sha256_digest(algo, strlen(algo)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_go_key_eq),
		cmocka_unit_test(test_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
