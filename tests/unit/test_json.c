/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

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

/* Parse what the writer made with the strict reader: it must be one valid
 * string whose value is `want` (the input with U+FFFD for every bad byte). */
static void assert_parses_as(const char *json, size_t len, const char *want)
{
	yajl_val v = NULL;
	sw_error e = { 0 };
	assert_int_equal(sw_json_tree(json, len, "written", &v, &e), 0);
	assert_true(YAJL_IS_OBJECT(v));
	assert_int_equal(v->u.object.len, 1);
	assert_string_equal(YAJL_GET_STRING(v->u.object.values[0]), want);
	yajl_tree_free(v);
}

/* A non-UTF-8 container id, annotation value and bundle path, a control
 * character and DEL: what the writer makes is JSON the strict reader takes. */
static void test_writer_invalid_utf8(void **state)
{
	(void)state;
	static const struct { const char *in, *want; } cases[] = {
		{ "ctr-\xff\xfe-id", "ctr-\xef\xbf\xbd\xef\xbf\xbd-id" },
		{ "anno \xc3(", "anno \xef\xbf\xbd(" },                     /* truncated sequence */
		{ "/run/b\xc0\xafundle", "/run/b\xef\xbf\xbd\xef\xbf\xbdundle" }, /* overlong '/' */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },      /* a surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
		{ "esc\x1b[31m\x7f\"\\\n", "esc\x1b[31m\x7f\"\\\n" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sw_jsonbuf b = { 0 };
		sw_jsonbuf_raw(&b, "{", 1);
		sw_jsonbuf_key(&b, "k\xff");
		sw_jsonbuf_str(&b, cases[i].in);
		sw_jsonbuf_raw(&b, "}", 1);
		assert_false(b.failed);
		assert_parses_as(b.p, b.len, cases[i].want);
		sw_jsonbuf_free(&b);

		/* The stdio flavour writes the same bytes. */
		char *m = NULL;
		size_t ml = 0;
		FILE *f = open_memstream(&m, &ml);
		assert_non_null(f);
		fputc('{', f);
		sw_json_key(f, "k\xff");
		sw_json_str(f, cases[i].in);
		fputc('}', f);
		assert_int_equal(fclose(f), 0);
		assert_parses_as(m, ml, cases[i].want);
		free(m);
	}
	sw_jsonbuf b = { 0 };
	sw_jsonbuf_str(&b, NULL);
	sw_jsonbuf_raw(&b, ",", 1);
	sw_jsonbuf_u64(&b, UINT64_MAX);
	sw_jsonbuf_raw(&b, ",", 1);
	sw_jsonbuf_i64(&b, INT64_MIN);
	sw_jsonbuf_raw(&b, ",", 1);
	sw_jsonbuf_strn(&b, "a\0b", 3);
	assert_string_equal(b.p, "null,18446744073709551615,-9223372036854775808,\"a\\u0000b\"");
	sw_jsonbuf_free(&b);
}

/* The decision log's records were yajl_gen's escaping of strings cleaned to
 * UTF-8; the writer must give the same bytes, or the records of one container
 * would render differently across versions. Random strings (bytes weighted to
 * control characters, ASCII and UTF-8 lead/continuation bytes). */
static void test_writer_matches_yajl_gen(void **state)
{
	(void)state;
	static const unsigned char pool[] = { 0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, '"', '\\', '/', 'a',
					      0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xc3, 0xa9, 0xe0, 0xe2, 0x82, 0xac, 0xed, 0xa0,
					      0xf0, 0x9f, 0x90, 0xf4, 0x8f, 0xf5, 0xff };
	srand(15);
	for (int round = 0; round < 20000; round++) {
		unsigned char s[24];
		size_t n = (size_t)(rand() % (int)sizeof s);
		for (size_t i = 0; i < n; i++)
			s[i] = pool[rand() % (int)sizeof pool];

		sw_jsonbuf mine = { 0 }, clean = { 0 };
		sw_jsonbuf_strn(&mine, (const char *)s, n);
		sw_jsonbuf_utf8(&clean, (const char *)s, n);
		assert_false(mine.failed || clean.failed);

		yajl_gen g = yajl_gen_alloc(NULL);
		assert_non_null(g);
		yajl_gen_config(g, yajl_gen_validate_utf8, 1);
		assert_int_equal(yajl_gen_string(g, (const unsigned char *)(clean.p ? clean.p : ""), clean.len),
				 yajl_gen_status_ok);
		const unsigned char *buf;
		size_t len;
		assert_int_equal(yajl_gen_get_buf(g, &buf, &len), yajl_gen_status_ok);
		assert_int_equal(len, mine.len);
		assert_memory_equal(buf, mine.p, len);
		yajl_gen_free(g);
		sw_jsonbuf_free(&mine);
		sw_jsonbuf_free(&clean);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_go_key_eq),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_writer_invalid_utf8),
		cmocka_unit_test(test_writer_matches_yajl_gen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
