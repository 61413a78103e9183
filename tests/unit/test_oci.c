/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci.h"
#include "util.h"

#define STATE "state (stdin)"

/* The compiler must see that a NULL never reaches the writes below. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	return p;
}

#define CONF "/b/config.json"

/* The error names the input first, then carries the expected problem. */
static void check_err(const sw_error *e, int code, const char *what, const char *want)
{
	if (e->code != code || strncmp(e->msg, what, strlen(what)) != 0 ||
	    e->msg[strlen(what)] != ':' || !strstr(e->msg, want))
		fail_msg("got code %d \"%s\", want code %d \"%s: ...%s...\"", e->code, e->msg, code, what, want);
	if (strchr(e->msg, '\n'))
		fail_msg("message spans lines: \"%s\"", e->msg);
}

static void state_fails(const char *json, int code, const char *want)
{
	sw_state st = { .id = NULL };
	sw_error e = { 0 };
	int r = sw_state_parse(json, strlen(json), STATE, &st, &e);
	if (r >= 0)
		fail_msg("state accepted: %s", json);
	assert_int_equal(r, -code);
	check_err(&e, code, STATE, want);
	/* nothing half-filled is handed back */
	assert_null(st.id);
	assert_null(st.bundle);
	assert_int_equal(st.pid, 0);
}

static void config_fails(const char *json, size_t len, int code, const char *want)
{
	sw_bundle b = { 0 };
	sw_error e = { 0 };
	int r = sw_bundle_parse(json, len, CONF, &b, &e);
	if (r >= 0)
		fail_msg("config accepted: %.200s", json);
	assert_int_equal(r, -code);
	check_err(&e, code, CONF, want);
	assert_null(b.annotations);
	assert_int_equal(b.n_annotations, 0);
}

static const char good_state[] =
	"{\"ociVersion\":\"1.0.2\",\"id\":\"abc123\",\"status\":\"creating\",\"pid\":4242,"
	"\"bundle\":\"/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc123\","
	"\"annotations\":{\"io.kubernetes.cri.image-name\":\"x\",\"n\":1},"
	"\"future\":{\"nested\":[1,2.5,true,null,{\"a\":[]}]}}";

static void test_state_good(void **state)
{
	(void)state;
	sw_state st;
	sw_error e = { 0 };
	assert_int_equal(sw_state_parse(good_state, strlen(good_state), STATE, &st, &e), 0);
	assert_string_equal(st.id, "abc123");
	assert_string_equal(st.bundle, "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc123");
	assert_int_equal(st.pid, 4242);
	sw_state_free(&st);
	assert_null(st.id);
	sw_state_free(&st);   /* twice is harmless */

	/* pid is optional; whitespace and key order do not matter */
	const char *minimal = " \n{ \"bundle\" : \"/b\", \"id\" : \"x\" } \n";
	assert_int_equal(sw_state_parse(minimal, strlen(minimal), STATE, &st, &e), 0);
	assert_string_equal(st.id, "x");
	assert_string_equal(st.bundle, "/b");
	assert_int_equal(st.pid, 0);
	sw_state_free(&st);

	/* escapes are decoded before the checks */
	const char *esc = "{\"id\":\"a\\u0062c\",\"bundle\":\"\\/b\\/c\"}";
	assert_int_equal(sw_state_parse(esc, strlen(esc), STATE, &st, &e), 0);
	assert_string_equal(st.id, "abc");
	assert_string_equal(st.bundle, "/b/c");
	sw_state_free(&st);
}

static void test_state_fields(void **state)
{
	(void)state;
	state_fails("{\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": missing");
	state_fails("{\"id\":\"x\"}", SW_EINVAL, "field \"bundle\": missing");
	state_fails("{}", SW_EINVAL, "field \"id\": missing");

	/* wrong types */
	state_fails("{\"id\":42,\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": not a string (got an integer)");
	state_fails("{\"id\":null,\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": not a string (got null)");
	state_fails("{\"id\":[\"x\"],\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": not a string (got an array)");
	state_fails("{\"id\":{},\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": not a string (got an object)");
	state_fails("{\"id\":\"x\",\"bundle\":true}", SW_EINVAL, "field \"bundle\": not a string (got a boolean)");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":\"12\"}", SW_EINVAL,
		    "field \"pid\": not an integer (got a string)");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":1.5}", SW_EINVAL,
		    "field \"pid\": not an integer (got a number)");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":null}", SW_EINVAL,
		    "field \"pid\": not an integer (got null)");

	/* bad values */
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":-1}", SW_EINVAL, "field \"pid\": -1 is out of range");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":2147483648}", SW_EINVAL,
		    "field \"pid\": 2147483648 is out of range");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":99999999999999999999999}", SW_EINVAL,
		    "invalid JSON at byte");
	state_fails("{\"id\":\"x\",\"bundle\":\"b/c\"}", SW_EINVAL, "field \"bundle\": not an absolute path");
	state_fails("{\"id\":\"x\",\"bundle\":\"\"}", SW_EINVAL, "field \"bundle\": not an absolute path");
	state_fails("{\"id\":\"\",\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": empty container id");
	state_fails("{\"id\":\"a/b\",\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": container id contains '/'");
	state_fails("{\"id\":\"..\",\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": container id \"..\" is not a name");
	state_fails("{\"id\":\"a b\",\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": container id contains byte 0x20");
	state_fails("{\"id\":\"a\\nb\",\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": container id contains byte 0x0a");

	/* NUL inside strings: C would read "a" where the runtime reads three bytes */
	state_fails("{\"id\":\"a\\u0000b\",\"bundle\":\"/b\"}", SW_EINVAL, "field \"id\": contains a NUL byte");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\\u0000/c\"}", SW_EINVAL, "field \"bundle\": contains a NUL byte");

	/* duplicates of a field sigward reads */
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",\"id\":\"y\"}", SW_EINVAL, "field \"id\": duplicate key");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",\"bundle\":\"/c\"}", SW_EINVAL, "field \"bundle\": duplicate key");
	state_fails("{\"id\":\"x\",\"pid\":1,\"bundle\":\"/b\",\"pid\":2}", SW_EINVAL, "field \"pid\": duplicate key");
	state_fails("{\"i\\u0064\":\"x\",\"bundle\":\"/b\",\"id\":\"y\"}", SW_EINVAL, "field \"id\": duplicate key");
}

static void test_state_syntax(void **state)
{
	(void)state;
	state_fails("", SW_EINVAL, "empty document");
	state_fails("[]", SW_EINVAL, "top level is not a JSON object (got an array)");
	state_fails("\"x\"", SW_EINVAL, "top level is not a JSON object (got a string)");
	state_fails("3", SW_EINVAL, "top level is not a JSON object (got an integer)");
	state_fails("null", SW_EINVAL, "top level is not a JSON object (got null)");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\"} {}", SW_EINVAL, "invalid JSON at byte");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\"}x", SW_EINVAL, "trailing garbage");
	state_fails("{\"id\":\"x\",/*c*/\"bundle\":\"/b\"}", SW_EINVAL, "invalid JSON");
	state_fails("{\"id\":\"x\",\"bundle\":\"/b\",}", SW_EINVAL, "invalid JSON");
	state_fails("{'id':'x'}", SW_EINVAL, "invalid JSON");
	state_fails("{\"id\":\"\xff\xfe\",\"bundle\":\"/b\"}", SW_EINVAL, "invalid JSON");

	/* a raw NUL byte in the buffer: nothing after it may be ignored */
	static const char raw[] = "{\"id\":\"x\",\"bundle\":\"/b\"}\0{";
	sw_state st;
	sw_error e = { 0 };
	assert_int_equal(sw_state_parse(raw, sizeof raw - 1, STATE, &st, &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, STATE, "invalid JSON");
	static const char raw2[] = "{\"id\":\"x\0y\",\"bundle\":\"/b\"}";
	assert_int_equal(sw_state_parse(raw2, sizeof raw2 - 1, STATE, &st, &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, STATE, "invalid JSON");

	/* every truncation of a good document fails, and names the input */
	size_t n = strlen(good_state);
	for (size_t i = 0; i < n; i++) {
		sw_error te = { 0 };
		sw_state ts = { 0 };
		char *cut = strndup(good_state, i);
		assert_non_null(cut);
		if (sw_state_parse(cut, i, STATE, &ts, &te) >= 0)
			fail_msg("truncated state of %zu bytes accepted", i);
		check_err(&te, SW_EINVAL, STATE, "");
		assert_null(ts.id);
		free(cut);
	}
}

static char *nested(size_t depth, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = xmalloc(pl + 2 * depth + sl + 1);
	memcpy(s, prefix, pl);
	memset(s + pl, '[', depth);
	memset(s + pl + depth, ']', depth);
	memcpy(s + pl + 2 * depth, suffix, sl + 1);
	return s;
}

static void test_state_depth(void **state)
{
	(void)state;
	sw_state st;
	sw_error e = { 0 };
	/* 63 arrays under the top-level object: 64 levels, accepted */
	char *ok = nested(63, "{\"x\":", ",\"id\":\"a\",\"bundle\":\"/b\"}");
	assert_int_equal(sw_state_parse(ok, strlen(ok), STATE, &st, &e), 0);
	sw_state_free(&st);
	free(ok);
	char *deep = nested(64, "{\"x\":", ",\"id\":\"a\",\"bundle\":\"/b\"}");
	state_fails(deep, SW_EINVAL, "nested deeper than 64 levels");
	free(deep);
	/* a state-sized bomb of brackets neither crashes nor takes long */
	char *bomb = nested(SW_STATE_MAX / 2 - 8, "{\"x\":", "}");
	state_fails(bomb, SW_EINVAL, "nested deeper than 64 levels");
	free(bomb);
}

static void test_check_id(void **state)
{
	(void)state;
	sw_error e = { 0 };
	assert_int_equal(sw_check_id("abc123", "id", &e), 0);
	assert_int_equal(sw_check_id("k8s_POD_x.y-z:1+2", "id", &e), 0);
	assert_int_equal(sw_check_id("...", "id", &e), 0);

	assert_int_equal(sw_check_id(NULL, "id", &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "id", "empty container id");
	assert_int_equal(sw_check_id(".", "id", &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "id", "is not a name");
	assert_int_equal(sw_check_id("a\x7f", "id", &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "id", "byte 0x7f at offset 1");
	assert_int_equal(sw_check_id("caf\xc3\xa9", "id", &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "id", "byte 0xc3 at offset 3");
	assert_int_equal(sw_check_id("a\tb", "id", &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "id", "byte 0x09");

	char *id = xmalloc(SW_ID_MAX + 2);
	memset(id, 'a', SW_ID_MAX);
	id[SW_ID_MAX] = '\0';
	assert_int_equal(sw_check_id(id, "id", &e), 0);
	id[SW_ID_MAX] = 'a';
	id[SW_ID_MAX + 1] = '\0';
	assert_int_equal(sw_check_id(id, "id", &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "id", "longer than 1024 bytes");
	free(id);
}

static const char good_config[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"args\":[\"sh\"],\"env\":[]},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/sigward-hook\"}]},"
	"\"annotations\":{\"io.kubernetes.cri-o.ImageRef\":\"0123\",\"b\":\"\",\"a\":\"x\\ty\\u00e9\"},"
	"\"linux\":{\"seccomp\":{\"syscalls\":[{\"names\":[\"x\"],\"args\":[{\"index\":0,\"value\":1.0}]}]}}}";

static void test_config_good(void **state)
{
	(void)state;
	sw_bundle b;
	sw_error e = { 0 };
	assert_int_equal(sw_bundle_parse(good_config, strlen(good_config), CONF, &b, &e), 0);
	assert_int_equal(b.n_annotations, 3);
	assert_string_equal(sw_bundle_annotation(&b, "io.kubernetes.cri-o.ImageRef"), "0123");
	assert_string_equal(sw_bundle_annotation(&b, "b"), "");
	assert_string_equal(sw_bundle_annotation(&b, "a"), "x\ty\xc3\xa9");
	assert_null(sw_bundle_annotation(&b, "c"));
	assert_null(sw_bundle_annotation(&b, "A"));
	assert_null(sw_bundle_annotation(NULL, "a"));
	sw_bundle_free(&b);
	assert_null(b.annotations);

	/* no annotations, null annotations (what runc's Go reader takes as none),
	 * an empty object, and the state's "annotations" nested elsewhere */
	const char *none[] = { "{}", "{\"annotations\":null}", "{\"annotations\":{}}",
			       "{\"process\":{\"annotations\":{\"a\":1}}}" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(none); i++) {
		assert_int_equal(sw_bundle_parse(none[i], strlen(none[i]), CONF, &b, &e), 0);
		assert_int_equal(b.n_annotations, 0);
		assert_null(sw_bundle_annotation(&b, "a"));
		sw_bundle_free(&b);
	}
}

static void test_config_bad(void **state)
{
	(void)state;
#define CF(json, code, want) config_fails(json, strlen(json), code, want)
	CF("", SW_EINVAL, "empty document");
	CF("[{\"annotations\":{}}]", SW_EINVAL, "top level is not a JSON object (got an array)");
	CF("\"annotations\"", SW_EINVAL, "top level is not a JSON object (got a string)");
	CF("{\"annotations\":[]}", SW_EINVAL, "field \"annotations\": not an object (got an array)");
	CF("{\"annotations\":\"a=b\"}", SW_EINVAL, "field \"annotations\": not an object (got a string)");
	CF("{\"annotations\":1}", SW_EINVAL, "field \"annotations\": not an object (got an integer)");
	CF("{\"annotations\":{\"k\":1}}", SW_EINVAL, "annotation \"k\": value is not a string (got an integer)");
	CF("{\"annotations\":{\"k\":1.5}}", SW_EINVAL, "annotation \"k\": value is not a string (got a number)");
	CF("{\"annotations\":{\"a\":\"x\",\"k\":null}}", SW_EINVAL, "annotation \"k\": value is not a string (got null)");
	CF("{\"annotations\":{\"k\":false}}", SW_EINVAL, "annotation \"k\": value is not a string (got a boolean)");
	CF("{\"annotations\":{\"k\":[\"sha256:00\"]}}", SW_EINVAL, "annotation \"k\": value is not a string (got an array)");
	CF("{\"annotations\":{\"k\":{\"x\":\"y\"}}}", SW_EINVAL, "annotation \"k\": value is not a string (got an object)");

	/* duplicates: a key twice, spelled the same or through an escape, and
	 * "annotations" twice (Go would merge the two objects) */
	CF("{\"annotations\":{\"k\":\"a\",\"j\":\"b\",\"k\":\"c\"}}", SW_EINVAL,
	   "field \"annotations\": duplicate key \"k\"");
	CF("{\"annotations\":{\"key\":\"a\",\"k\\u0065y\":\"a\"}}", SW_EINVAL,
	   "field \"annotations\": duplicate key \"key\"");
	CF("{\"annotations\":{\"a\":\"1\"},\"x\":1,\"annotations\":{\"b\":\"2\"}}", SW_EINVAL,
	   "field \"annotations\": duplicate key");

	/* NUL bytes: in a key, "io.x\u0000y" would read as "io.x" */
	CF("{\"annotations\":{\"io.x\\u0000y\":\"v\"}}", SW_EINVAL, "key \"io.x\" contains a NUL byte");
	CF("{\"annotations\":{\"k\":\"sha256:\\u0000\"}}", SW_EINVAL, "annotation \"k\": value contains a NUL byte");

	CF("{\"annotations\":{\"k\":\"v\"}", SW_EINVAL, "invalid JSON at byte");
	CF("{\"annotations\":{\"k\":\"v\"}}}", SW_EINVAL, "invalid JSON");
	CF("{\"annotations\":{\"k\":\"v\" \"j\":\"w\"}}", SW_EINVAL, "invalid JSON");
	CF("{\"annotations\":{k:\"v\"}}", SW_EINVAL, "invalid JSON");
	CF("{\"annotations\":{\"k\":\"\\x41\"}}", SW_EINVAL, "invalid JSON");
#undef CF

	/* every truncation fails */
	size_t n = strlen(good_config);
	for (size_t i = 0; i < n; i++) {
		char *cut = strndup(good_config, i);
		assert_non_null(cut);
		config_fails(cut, i, SW_EINVAL, "");
		free(cut);
	}
}

static char *many_annotations(size_t n)
{
	size_t cap = 32 + n * 32;
	char *s = xmalloc(cap);
	size_t o = (size_t)sprintf(s, "{\"annotations\":{");
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(s + o, "%s\"k%zu\":\"v%zu\"", i ? "," : "", i, i);
	sprintf(s + o, "}}");
	return s;
}

static char *big_annotation(size_t klen, size_t vlen)
{
	char *s = xmalloc(klen + vlen + 64);
	size_t o = (size_t)sprintf(s, "{\"annotations\":{\"");
	memset(s + o, 'k', klen);
	o += klen;
	o += (size_t)sprintf(s + o, "\":\"");
	memset(s + o, 'v', vlen);
	o += vlen;
	sprintf(s + o, "\"}}");
	return s;
}

static void test_config_bounds(void **state)
{
	(void)state;
	sw_bundle b;
	sw_error e = { 0 };

	char *s = many_annotations(SW_MAX_ANNOTATIONS);
	assert_int_equal(sw_bundle_parse(s, strlen(s), CONF, &b, &e), 0);
	assert_int_equal(b.n_annotations, SW_MAX_ANNOTATIONS);
	assert_string_equal(sw_bundle_annotation(&b, "k1023"), "v1023");
	sw_bundle_free(&b);
	free(s);
	s = many_annotations(SW_MAX_ANNOTATIONS + 1);
	config_fails(s, strlen(s), SW_ETOOBIG, "field \"annotations\": more than 1024 entries");
	free(s);

	s = big_annotation(SW_ANNOTATION_KEY_MAX, SW_ANNOTATION_VALUE_MAX);
	assert_int_equal(sw_bundle_parse(s, strlen(s), CONF, &b, &e), 0);
	assert_int_equal(strlen(b.annotations[0].key), SW_ANNOTATION_KEY_MAX);
	assert_int_equal(strlen(b.annotations[0].value), SW_ANNOTATION_VALUE_MAX);
	sw_bundle_free(&b);
	free(s);
	s = big_annotation(SW_ANNOTATION_KEY_MAX + 1, 1);
	config_fails(s, strlen(s), SW_ETOOBIG, "key \"kkkk");
	config_fails(s, strlen(s), SW_ETOOBIG, "of 4097 bytes, more than 4096");
	free(s);
	s = big_annotation(1, SW_ANNOTATION_VALUE_MAX + 1);
	config_fails(s, strlen(s), SW_ETOOBIG, "annotation \"k\": value of 262145 bytes, more than 262144");
	free(s);
}

/* ---- sw_bundle_load: the file itself ---- */

typedef struct bundle_dir {
	char *path;
	int fd;
} bundle_dir;

static bundle_dir mkbundle(void)
{
	bundle_dir d = { tu_tmpdir(), -1 };
	d.fd = open(d.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d.fd >= 0);
	return d;
}

static void rmbundle(bundle_dir *d)
{
	close(d->fd);
	tu_rmrf(d->path);
	free(d->path);
}

static void load_fails(bundle_dir *d, int code, const char *want)
{
	char what[PATH_MAX];
	snprintf(what, sizeof what, "%s/config.json", d->path);
	sw_bundle b = { 0 };
	sw_error e = { 0 };
	int r = sw_bundle_load(d->fd, d->path, &b, &e);
	assert_true(r < 0);
	assert_int_equal(r, -code);
	check_err(&e, code, what, want);
	assert_null(b.annotations);
}

static void test_load(void **state)
{
	(void)state;
	bundle_dir d = mkbundle();
	sw_bundle b;
	sw_error e = { 0 };

	tu_writes(d.path, "config.json", good_config);
	assert_int_equal(sw_bundle_load(d.fd, d.path, &b, &e), 0);
	assert_string_equal(sw_bundle_annotation(&b, "a"), "x\ty\xc3\xa9");
	sw_bundle_free(&b);

	/* a parse error names the file on disk and the field */
	tu_writes(d.path, "config.json", "{\"annotations\":{\"k\":7}}");
	load_fails(&d, SW_EINVAL, "annotation \"k\": value is not a string");
	tu_writes(d.path, "config.json", "");
	load_fails(&d, SW_EINVAL, "empty document");

	char *p = tu_path(d.path, "config.json");
	assert_int_equal(unlink(p), 0);
	load_fails(&d, ENOENT, "cannot open");

	/* a symlink could point the hook at a file the workload controls */
	tu_writes(d.path, "real.json", good_config);
	assert_int_equal(symlink("real.json", p), 0);
	load_fails(&d, SW_EINVAL, "is a symbolic link, refused");
	assert_int_equal(unlink(p), 0);

	assert_int_equal(mkdir(p, 0700), 0);
	load_fails(&d, SW_EINVAL, "not a regular file");
	assert_int_equal(rmdir(p), 0);

	/* a FIFO without a writer would block a plain open() for ever: refused at
	 * once; the alarm turns a hang into a failed test */
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10);
	load_fails(&d, SW_EINVAL, "not a regular file");
	alarm(0);
	assert_int_equal(unlink(p), 0);

	/* oversized: refused from its size, before reading (sparse file) */
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SW_CONFIG_JSON_MAX + 1), 0);
	close(fd);
	load_fails(&d, SW_ETOOBIG, "more than the limit of 16777216");
	free(p);
	rmbundle(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_good),
		cmocka_unit_test(test_state_fields),
		cmocka_unit_test(test_state_syntax),
		cmocka_unit_test(test_state_depth),
		cmocka_unit_test(test_check_id),
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_bad),
		cmocka_unit_test(test_config_bounds),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
