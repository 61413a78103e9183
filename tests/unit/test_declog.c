/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "declog.h"

static sw_decision g_dec = { .verdict = SW_DENY, .reason = "image x is not in allowlist p#1" };

static sw_record rec(const char *id)
{
	return (sw_record){ .time = 1900000000, .container_id = id, .bundle = "/b", .runtime = "hook",
			    .scope = "p", .serial = 1, .mode = SW_MODE_ENFORCE, .decision = &g_dec };
}

static int verify(const char *log, const char *state, size_t *n, char *msg, size_t msglen)
{
	char head[SW_SHA256_HEX + 1] = "";
	if (state) {
		size_t hl;
		char *h = tu_read(state, SW_LOG_HEAD_NAME, &hl);
		memcpy(head, h, SW_SHA256_HEX);
		free(h);
	}
	char last[SW_SHA256_HEX + 1];
	sw_error e = { 0 };
	int r = sw_declog_verify(log, NULL, head[0] ? head : NULL, n, last, &e);
	snprintf(msg, msglen, "%s", e.msg);
	return r;
}

static void test_render_hostile(void **state)
{
	(void)state;
	sw_record r = rec("a\"b\\c\nd\x01\xff\xfe");
	r.bundle = "/x\ny";
	char *line;
	size_t len;
	sw_error e = { 0 };
	assert_int_equal(sw_record_render(&r, "0000000000000000000000000000000000000000000000000000000000000000", &line, &len, &e), 0);
	assert_null(memchr(line, '\n', len));
	char eb[64];
	yajl_val v = yajl_tree_parse(line, eb, sizeof eb);
	assert_non_null(v);
	const char *path[] = { "prev", NULL };
	assert_non_null(yajl_tree_get(v, path, yajl_t_string));
	/* "prev" is the last member */
	assert_non_null(strstr(line, "\"prev\":\"0000"));
	assert_int_equal(line[len - 1], '}');
	yajl_tree_free(v);
	free(line);
}

static void test_chain_and_tampering(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	sw_error e = { 0 };
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		sw_record r = rec(id);
		assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	}
	size_t n;
	char msg[600];
	assert_int_equal(verify(log, dir, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 5);
	size_t len;
	char *orig = tu_read(dir, "log", &len);

	/* edit line 3: line 4 no longer chains */
	char *copy = strdup(orig);
	char *p = strstr(copy, "\"c2\"");
	p[2] = '9';
	tu_write(dir, "log", copy, len);
	assert_true(verify(log, dir, &n, msg, sizeof msg) < 0);
	assert_non_null(strstr(msg, ":4: chain broken"));
	/* delete line 2 */
	char *l2 = strchr(orig, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
	size_t o = 0;
	memcpy(copy, orig, (size_t)(l2 - orig));
	o = (size_t)(l2 - orig);
	memcpy(copy + o, l3, len - (size_t)(l3 - orig));
	o += len - (size_t)(l3 - orig);
	tu_write(dir, "log", copy, o);
	assert_true(verify(log, dir, &n, msg, sizeof msg) < 0);
	assert_non_null(strstr(msg, ":2: chain broken"));
	/* delete the last line: only the head shows it */
	char *lastnl = orig + len - 1;
	while (lastnl > orig && lastnl[-1] != '\n')
		lastnl--;
	tu_write(dir, "log", orig, (size_t)(lastnl - orig));
	assert_true(verify(log, dir, &n, msg, sizeof msg) < 0);
	assert_non_null(strstr(msg, "recorded head"));
	/* a torn last write is reported */
	tu_write(dir, "log", orig, len - 5);
	assert_true(verify(log, NULL, &n, msg, sizeof msg) < 0);
	assert_non_null(strstr(msg, "truncated"));
	/* garbage appended */
	char *g = malloc(len + 8);
	memcpy(g, orig, len);
	memcpy(g + len, "garbage\n", 8);
	tu_write(dir, "log", g, len + 8);
	assert_true(verify(log, NULL, &n, msg, sizeof msg) < 0);
	assert_non_null(strstr(msg, ":6: not a decision record"));
	free(g);
	free(copy);
	free(orig);
	free(log);
	tu_rmrf(dir);
	free(dir);
}

static void test_rotation_continues_chain(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log"), *old = tu_path(dir, "log.1");
	sw_error e = { 0 };
	sw_record r = rec("a");
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	assert_int_equal(rename(log, old), 0);
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	size_t n;
	char last[SW_SHA256_HEX + 1];
	assert_int_equal(sw_declog_verify(old, NULL, NULL, &n, last, &e), 0);
	assert_int_equal(n, 2);
	char head[SW_SHA256_HEX + 1];
	size_t hl;
	char *h = tu_read(dir, SW_LOG_HEAD_NAME, &hl);
	memcpy(head, h, SW_SHA256_HEX);
	head[SW_SHA256_HEX] = '\0';
	free(h);
	/* the new file's first record chains from the old file's last */
	assert_int_equal(sw_declog_verify(log, last, head, &n, last, &e), 0);
	assert_int_equal(n, 1);
	/* and alone it does not start at zero */
	assert_true(sw_declog_verify(log, NULL, NULL, &n, last, &e) < 0);
	assert_int_equal(sw_declog_verify(log, SW_DECLOG_ANY_START, NULL, &n, last, &e), 0);
	free(log);
	free(old);
	tu_rmrf(dir);
	free(dir);
}

static void test_concurrent(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	for (int p = 0; p < 20; p++) {
		pid_t pid = fork();
		if (pid == 0) {
			sw_error e = { 0 };
			for (int i = 0; i < 20; i++) {
				sw_record r = rec("concurrent");
				if (sw_declog_append(log, dir, &r, &e) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	int bad = 0, st;
	while (wait(&st) > 0)
		bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	assert_int_equal(bad, 0);
	size_t n;
	char msg[600];
	assert_int_equal(verify(log, dir, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 400);
	free(log);
	tu_rmrf(dir);
	free(dir);
}

static void test_refuses_links(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log"), *target = tu_path(dir, "target");
	tu_writes(dir, "target", "");
	assert_int_equal(symlink(target, log), 0);
	sw_record r = rec("a");
	sw_error e = { 0 };
	assert_true(sw_declog_append(log, dir, &r, &e) < 0);
	assert_non_null(strstr(e.msg, "log"));
	struct stat st;
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);
	free(log);
	free(target);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_hostile),
		cmocka_unit_test(test_chain_and_tampering),
		cmocka_unit_test(test_rotation_continues_chain),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_refuses_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
