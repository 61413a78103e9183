/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry responses sigwardd parses (lib/fetch.c): the allowlist artifact's
 * OCI manifest and the token endpoint's answer. Both come from the network, which
 * sigward does not trust; regression tests for what the fuzzers found included.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

#define URL "http://registry.example/v2/lists/manifests/prod"
#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static const char good[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"layers\":["
	"{\"digest\":\"" D("b") "\",\"size\":20,\"annotations\":{\"org.opencontainers.image.title\":\"entries\"}},"
	"{\"digest\":\"" D("a") "\",\"size\":10,\"annotations\":{\"org.opencontainers.image.title\":\"manifest\"}},"
	"{\"digest\":\"" D("c") "\",\"size\":30,\"annotations\":{\"org.opencontainers.image.title\":\"manifest.sig\"}}]}";

static void test_layers(void **state)
{
	(void)state;
	sw_oci_layer l[3];
	sw_error e = { 0 };
	assert_int_equal(sw_oci_manifest_layers(good, strlen(good), URL, 1000, l, &e), 0);
	assert_int_equal(l[0].file, 1);
	assert_int_equal(l[1].file, 0);
	assert_int_equal(l[2].file, 2);
	assert_string_equal(l[1].digest, D("a"));
	assert_int_equal(l[2].size, 30);

	/* Larger than max_size, two layers, one title twice. */
	assert_true(sw_oci_manifest_layers(good, strlen(good), URL, 25, l, &e) < 0);
	assert_non_null(strstr(e.msg, "layer 2 is not a valid allowlist file"));
	static const char two[] = "{\"layers\":[{},{}]}";
	assert_true(sw_oci_manifest_layers(two, strlen(two), URL, 1000, l, &e) < 0);
	assert_non_null(strstr(e.msg, "expected 3 layers"));
	char *dup = strdup(good);
	assert_non_null(dup);
	memcpy(strstr(dup, "\"entries\""), "\"manifest", 9);
	dup[strstr(dup, "\"manifest") - dup + 9] = '"';
	assert_true(sw_oci_manifest_layers(dup, strlen(dup), URL, 1000, l, &e) < 0);
	free(dup);
}

static void test_token(void **state)
{
	(void)state;
	char tok[SW_TOKEN_MAX + 1];
	sw_error e = { 0 };
	static const char a[] = "{\"token\":\"t1\",\"access_token\":\"t2\",\"expires_in\":60}";
	int64_t life = 0;
	assert_int_equal(sw_registry_token(a, strlen(a), "realm", tok, &life, &e), 0);
	assert_string_equal(tok, "t1");
	assert_int_equal(life, 60);
	/* expires_in: absent is 60 s (the distribution spec), clamped to 60 s..1 day. */
	static const struct { const char *json; int64_t life; } lives[] = {
		{ "{\"token\":\"t\",\"expires_in\":300}", 300 },
		{ "{\"token\":\"t\"}", 60 },
		{ "{\"token\":\"t\",\"expires_in\":-5}", 60 },
		{ "{\"token\":\"t\",\"expires_in\":99999999999}", 86400 },
		{ "{\"token\":\"t\",\"expires_in\":\"300\"}", 60 },
	};
	for (size_t i = 0; i < sizeof lives / sizeof lives[0]; i++) {
		life = 0;
		assert_int_equal(sw_registry_token(lives[i].json, strlen(lives[i].json), "realm", tok, &life, &e), 0);
		assert_int_equal(life, lives[i].life);
	}
	static const char b[] = "{\"access_token\":\"t2\"}";
	assert_int_equal(sw_registry_token(b, strlen(b), "realm", tok, NULL, &e), 0);
	assert_string_equal(tok, "t2");
	/* A token that would add a header line to the next request. */
	static const char c[] = "{\"token\":\"x\\r\\nX-Injected: 1\"}";
	assert_true(sw_registry_token(c, strlen(c), "realm", tok, NULL, &e) < 0);
	assert_string_equal(e.msg, "realm: no usable token in the response");
}

/* A registry answering with deeply nested JSON (a 1 MiB manifest of '[' and ']'
 * is 500 000 levels) crashed sigwardd: yajl_tree_free recurses once per level and
 * overflowed the stack. Now refused before it is parsed. */
static char *nested(size_t depth, const char *prefix)
{
	size_t pl = strlen(prefix);
	char *s = malloc(pl + 2 * depth + 2);
	assert_non_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, '[', depth);
	memset(s + pl + depth, ']', depth);
	strcpy(s + pl + 2 * depth, pl ? "}" : "");
	return s;
}

static void test_deep_nesting(void **state)
{
	(void)state;
	sw_error e = { 0 };
	sw_oci_layer l[3];
	char tok[SW_TOKEN_MAX + 1];
	char *m = nested(500000, "{\"layers\":");
	assert_true(sw_oci_manifest_layers(m, strlen(m), URL, 1000, l, &e) < 0);
	assert_non_null(strstr(e.msg, URL ": "));
	assert_non_null(strstr(e.msg, "nested deeper than"));
	free(m);
	m = nested(32000, "{\"token\":");
	assert_true(sw_registry_token(m, strlen(m), "realm", tok, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "nested deeper than"));
	free(m);
	/* Brackets inside strings do not count; 64 levels are fine. */
	char *ok = nested(60, "{\"x\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[[[[\",\"token\":\"t\",\"y\":");
	assert_int_equal(sw_registry_token(ok, strlen(ok), "realm", tok, NULL, &e), 0);
	assert_string_equal(tok, "t");
	free(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_deep_nesting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
