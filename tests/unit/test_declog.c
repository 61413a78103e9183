/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>
#include <zlib.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "declog.h"
#include "syslogsock.h"

#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"
#define DG "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static sw_decision g_dec = { .verdict = SW_DENY, .reason = "image x is not in allowlist p#1" };

static sw_record rec(const char *id)
{
	return (sw_record){ .time = 1900000000, .container_id = id, .bundle = "/b", .runtime = "hook",
			    .scope = "p", .serial = 1, .mode = SW_MODE_ENFORCE, .decision = &g_dec };
}

/* The head file's 64 hex, or "" when there is none. */
static void read_head(const char *dir, char head[SW_SHA256_HEX + 1])
{
	head[0] = '\0';
	if (!dir)
		return;
	size_t hl;
	char *h = tu_read(dir, SW_LOG_HEAD_NAME, &hl);
	assert_int_equal(hl, SW_SHA256_HEX + 1);
	assert_int_equal(h[SW_SHA256_HEX], '\n');
	memcpy(head, h, SW_SHA256_HEX);
	head[SW_SHA256_HEX] = '\0';
	free(h);
}

/* Verify log against the head in dir (none when dir is NULL); msg gets the error. */
static int verify(const char *log, const char *dir, size_t *n, char *msg, size_t msglen)
{
	char head[SW_SHA256_HEX + 1];
	read_head(dir, head);
	char last[SW_SHA256_HEX + 1];
	sw_error e = { 0 };
	int r = sw_declog_verify(log, NULL, head[0] ? head : NULL, n, last, &e);
	snprintf(msg, msglen, "%s", e.msg);
	if (r == 0 && head[0])
		assert_string_equal(last, head);
	return r;
}

/* Verification must fail with exactly "<log><suffix>". */
static void expect_broken(const char *log, const char *dir, const char *suffix)
{
	size_t n;
	char msg[SW_ERROR_MAX], want[SW_ERROR_MAX];
	snprintf(want, sizeof want, "%s%s", log, suffix);
	assert_int_equal(verify(log, dir, &n, msg, sizeof msg), -SW_EVERIFY);
	assert_string_equal(msg, want);
}

/* Strict UTF-8 (RFC 3629): what any JSON reader accepts. */
static bool utf8_strict(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static const char *jstr(yajl_val v, const char *k)
{
	const char *p[] = { k, NULL };
	yajl_val s = yajl_tree_get(v, p, yajl_t_string);
	return s ? YAJL_GET_STRING(s) : NULL;
}

static void test_render_fields(void **state)
{
	(void)state;
	sw_resolution res = { 0 };
	snprintf(res.d[0].digest, sizeof res.d[0].digest, "%s", DG);
	snprintf(res.d[0].source, sizeof res.d[0].source, "annotation:io.kubernetes.cri-o.ImageRef");
	snprintf(res.d[0].kind, sizeof res.d[0].kind, "manifest");
	res.n = 1;
	snprintf(res.reference, sizeof res.reference, "registry.example/app:1");
	char signers[2][SW_SHA256_HEX + 1] = { "aa", "bb" };
	memset(signers[0], 'a', SW_SHA256_HEX);
	memset(signers[1], 'b', SW_SHA256_HEX);
	sw_decision allow = { .verdict = SW_ALLOW, .reason = "image " DG " is in allowlist prod#18446744073709551615" };
	sw_record r = { .time = 1900000000, .container_id = "c1", .bundle = "/run/b", .runtime = "hook",
			.res = &res, .matched = DG, .scope = "prod", .serial = UINT64_MAX,
			.signers = (const char(*)[SW_SHA256_HEX + 1])signers, .n_signers = 2,
			.mode = SW_MODE_WARN, .decision = &allow };
	char *line;
	size_t len;
	sw_error e = { 0 };
	assert_int_equal(sw_record_render(&r, ZERO, &line, &len, &e), 0);
	assert_int_equal(strlen(line), len);

	char eb[128];
	yajl_val v = yajl_tree_parse(line, eb, sizeof eb);
	assert_non_null(v);
	assert_true(YAJL_IS_OBJECT(v));
	/* every member, in this order, "prev" last */
	static const char *keys[] = { "time", "container", "bundle", "runtime", "digests", "reference", "matched",
				      "allowlist", "signers", "mode", "decision", "reason", "prev" };
	assert_int_equal(v->u.object.len, SW_ARRAY_SIZE(keys));
	for (size_t i = 0; i < SW_ARRAY_SIZE(keys); i++)
		assert_string_equal(v->u.object.keys[i], keys[i]);
	assert_string_equal(jstr(v, "time"), "2030-03-17T17:46:40Z");
	assert_string_equal(jstr(v, "container"), "c1");
	assert_string_equal(jstr(v, "bundle"), "/run/b");
	assert_string_equal(jstr(v, "runtime"), "hook");
	assert_string_equal(jstr(v, "reference"), "registry.example/app:1");
	assert_string_equal(jstr(v, "matched"), DG);
	assert_string_equal(jstr(v, "mode"), "warn");
	assert_string_equal(jstr(v, "decision"), "allow");
	assert_string_equal(jstr(v, "reason"), allow.reason);
	assert_string_equal(jstr(v, "prev"), ZERO);
	const char *dp[] = { "digests", NULL };
	yajl_val ds = yajl_tree_get(v, dp, yajl_t_array);
	assert_int_equal(ds->u.array.len, 1);
	assert_string_equal(jstr(ds->u.array.values[0], "digest"), DG);
	assert_string_equal(jstr(ds->u.array.values[0], "source"), "annotation:io.kubernetes.cri-o.ImageRef");
	assert_string_equal(jstr(ds->u.array.values[0], "kind"), "manifest");
	const char *ap[] = { "allowlist", NULL };
	yajl_val al = yajl_tree_get(v, ap, yajl_t_object);
	assert_string_equal(jstr(al, "scope"), "prod");
	/* the serial keeps all 64 bits */
	assert_non_null(strstr(line, "\"serial\":18446744073709551615}"));
	const char *sp[] = { "signers", NULL };
	yajl_val sg = yajl_tree_get(v, sp, yajl_t_array);
	assert_int_equal(sg->u.array.len, 2);
	assert_string_equal(YAJL_GET_STRING(sg->u.array.values[1]), signers[1]);
	yajl_tree_free(v);
	free(line);

	/* no list, no resolution, no match, no decision: nulls and a denial */
	sw_record bare = { .time = 0, .container_id = "c2", .mode = SW_MODE_ENFORCE };
	assert_int_equal(sw_record_render(&bare, ZERO, &line, &len, &e), 0);
	assert_string_equal(line, "{\"time\":\"1970-01-01T00:00:00Z\",\"container\":\"c2\",\"bundle\":null,"
				  "\"runtime\":null,\"digests\":[],\"matched\":null,\"allowlist\":null,\"signers\":[],"
				  "\"mode\":\"enforce\",\"decision\":\"deny\",\"reason\":\"no decision\",\"prev\":\"" ZERO "\"}");
	free(line);

	/* a store-busy denial: "denial" after "decision", nothing else changes;
	 * a policy denial and an allow carry no "denial" (records as before) */
	sw_decision busy = { .verdict = SW_DENY, .denial = SW_DENIAL_STORE_BUSY, .reason = "store busy" };
	bare.decision = &busy;
	assert_int_equal(sw_record_render(&bare, ZERO, &line, &len, &e), 0);
	assert_string_equal(line, "{\"time\":\"1970-01-01T00:00:00Z\",\"container\":\"c2\",\"bundle\":null,"
				  "\"runtime\":null,\"digests\":[],\"matched\":null,\"allowlist\":null,\"signers\":[],"
				  "\"mode\":\"enforce\",\"decision\":\"deny\",\"denial\":\"store-busy\","
				  "\"reason\":\"store busy\",\"prev\":\"" ZERO "\"}");
	free(line);
	busy.verdict = SW_WARN;
	assert_int_equal(sw_record_render(&bare, ZERO, &line, &len, &e), 0);
	assert_non_null(strstr(line, "\"decision\":\"warn\",\"denial\":\"store-busy\",\"reason\""));
	free(line);
	/* an allow never carries it, whatever the field holds */
	busy.verdict = SW_ALLOW;
	assert_int_equal(sw_record_render(&bare, ZERO, &line, &len, &e), 0);
	assert_null(strstr(line, "denial"));
	free(line);
	sw_decision policy = { .verdict = SW_DENY, .reason = "not listed" };
	bare.decision = &policy;
	assert_int_equal(sw_record_render(&bare, ZERO, &line, &len, &e), 0);
	assert_null(strstr(line, "denial"));
	free(line);
}

static void test_render_hostile(void **state)
{
	(void)state;
	/* quotes, backslash, newline, CR, tab, control and escape characters, DEL,
	 * valid multi-byte text, and every kind of invalid UTF-8: a stray
	 * continuation byte, 0xff, an overlong NUL, a surrogate, a code point over
	 * U+10FFFF, and a sequence cut short at the end */
	static const char id[] = "a\"b\\c\nd\re\tf\x01\x1b[31m\x7f"
				 "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
				 "\x80\xff\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82";
	sw_resolution res = { 0 };
	snprintf(res.d[0].digest, sizeof res.d[0].digest, "%s", DG);
	snprintf(res.d[0].source, sizeof res.d[0].source, "annotation:\"}\n{\"x");
	snprintf(res.d[0].kind, sizeof res.d[0].kind, "\\u0000");
	res.n = 1;
	snprintf(res.reference, sizeof res.reference, "evil\n{\"prev\":\"%s\"}", ZERO);
	sw_decision d = { .verdict = SW_WARN, .reason = "would deny: \"}\n{\"decision\":\"allow\"" };
	sw_record r = rec(id);
	r.bundle = "/x\ny\xfe";
	r.runtime = "\x02";
	r.res = &res;
	r.scope = "p\"rod";
	r.decision = &d;
	char *line;
	size_t len;
	sw_error e = { 0 };
	assert_int_equal(sw_record_render(&r, ZERO, &line, &len, &e), 0);

	/* one line, no raw control bytes, strictly valid UTF-8, ends with prev */
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)line[i] >= 0x20);
	assert_true(utf8_strict((const unsigned char *)line, len));
	char tail[128];
	snprintf(tail, sizeof tail, ",\"prev\":\"%s\"}", ZERO);
	assert_string_equal(line + len - strlen(tail), tail);

	char eb[128];
	yajl_val v = yajl_tree_parse(line, eb, sizeof eb);
	assert_non_null(v);
	/* what was valid survives exactly; each invalid byte became U+FFFD */
	assert_string_equal(jstr(v, "container"),
			    "a\"b\\c\nd\re\tf\x01\x1b[31m\x7f"
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
			    "\xef\xbf\xbd\xef\xbf\xbd"                    /* 80 ff */
			    "\xef\xbf\xbd\xef\xbf\xbd"                    /* c0 80 */
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"        /* ed a0 80 */
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" /* f4 90 80 80 */
			    "\xef\xbf\xbd\xef\xbf\xbd");                  /* e2 82 */
	assert_string_equal(jstr(v, "bundle"), "/x\ny\xef\xbf\xbd");
	assert_string_equal(jstr(v, "runtime"), "\x02");
	assert_string_equal(jstr(v, "reference"), res.reference);
	assert_string_equal(jstr(v, "reason"), d.reason);
	assert_string_equal(jstr(v, "decision"), "warn");
	assert_string_equal(jstr(v, "prev"), ZERO);
	const char *dp[] = { "digests", NULL };
	yajl_val ds = yajl_tree_get(v, dp, yajl_t_array);
	assert_string_equal(jstr(ds->u.array.values[0], "source"), res.d[0].source);
	assert_string_equal(jstr(ds->u.array.values[0], "kind"), "\\u0000");
	yajl_tree_free(v);
	free(line);
}

static void test_render_too_big(void **state)
{
	(void)state;
	char *id = malloc(SW_LOG_LINE_MAX + 1);
	memset(id, 'i', SW_LOG_LINE_MAX);
	id[SW_LOG_LINE_MAX] = '\0';
	sw_record r = rec(id);
	char *line = NULL;
	size_t len;
	sw_error e = { 0 };
	assert_int_equal(sw_record_render(&r, ZERO, &line, &len, &e), -SW_ETOOBIG);
	assert_null(line);
	assert_non_null(strstr(e.msg, "decision log"));
	free(id);
}

/* Five records in dir/log, returned with the file's bytes. */
static char *five(const char *dir, const char *log, size_t *len)
{
	sw_error e = { 0 };
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		sw_record r = rec(id);
		assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	}
	return tu_read(dir, "log", len);
}

/* Offset of the start of line `no` (1-based) in buf. */
static size_t line_at(const char *buf, int no)
{
	const char *p = buf;
	for (int i = 1; i < no; i++)
		p = strchr(p, '\n') + 1;
	return (size_t)(p - buf);
}

static void test_chain(void **state)
{
	(void)state;
	mode_t old = umask(022);
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	size_t len;
	char *buf = five(dir, log, &len);

	struct stat st;
	assert_int_equal(stat(log, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);

	/* each prev is the hash of the previous line's bytes; the first is zeros;
	 * the head is the hash of the last line */
	char prev[SW_SHA256_HEX + 1] = ZERO;
	for (int i = 1; i <= 5; i++) {
		size_t a = line_at(buf, i), b = line_at(buf, i + 1) - 1;
		char *l = strndup(buf + a, b - a);
		char eb[64];
		yajl_val v = yajl_tree_parse(l, eb, sizeof eb);
		assert_string_equal(jstr(v, "prev"), prev);
		yajl_tree_free(v);
		sw_sha256_hex(l, b - a, prev);
		free(l);
	}
	char head[SW_SHA256_HEX + 1];
	read_head(dir, head);
	assert_string_equal(head, prev);

	size_t n;
	char msg[SW_ERROR_MAX];
	assert_int_equal(verify(log, dir, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 5);

	/* an empty log verifies, and hashes to zeros */
	tu_write(dir, "empty", "", 0);
	char *empty = tu_path(dir, "empty");
	char last[SW_SHA256_HEX + 1];
	sw_error e = { 0 };
	assert_int_equal(sw_declog_verify(empty, NULL, NULL, &n, last, &e), 0);
	assert_int_equal(n, 0);
	assert_string_equal(last, ZERO);
	/* without a state directory there is no head file, and the chain holds */
	char *dir2 = tu_tmpdir();
	char *log2 = tu_path(dir2, "log");
	sw_record r = rec("nohead");
	assert_int_equal(sw_declog_append(log2, NULL, &r, &e), 0);
	assert_int_equal(sw_declog_append(log2, NULL, &r, &e), 0);
	assert_int_equal(sw_declog_verify(log2, NULL, NULL, &n, last, &e), 0);
	assert_int_equal(n, 2);
	char *hp = tu_path(dir2, SW_LOG_HEAD_NAME);
	assert_int_equal(access(hp, F_OK), -1);
	/* a missing log is an error naming it */
	char *missing = tu_path(dir2, "missing");
	assert_true(sw_declog_verify(missing, NULL, NULL, &n, last, &e) < 0);
	assert_non_null(strstr(e.msg, missing));

	free(missing);
	free(hp);
	free(log2);
	tu_rmrf(dir2);
	free(dir2);
	free(empty);
	free(buf);
	free(log);
	tu_rmrf(dir);
	free(dir);
	umask(old);
}

static void test_tampering(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	size_t len;
	char *orig = five(dir, log, &len);
	char *copy = malloc(len + SW_LOG_LINE_MAX + 64);

	/* edit line 3 (one byte of its container id): line 4 no longer chains */
	memcpy(copy, orig, len);
	copy[strstr(copy, "\"c2\"") - copy + 2] = '9';
	tu_write(dir, "log", copy, len);
	expect_broken(log, dir, ":4: chain broken: prev does not match line 3");

	/* edit line 3's prev to the hash of line 1: still line 3, since line 2 is
	 * what it must name */
	memcpy(copy, orig, len);
	{
		char h1[SW_SHA256_HEX + 1];
		sw_sha256_hex(orig, line_at(orig, 2) - 1, h1);
		char *p = strstr(copy + line_at(copy, 3), "\"prev\":\"") + 8;
		memcpy(p, h1, SW_SHA256_HEX);
	}
	tu_write(dir, "log", copy, len);
	expect_broken(log, dir, ":3: chain broken: prev does not match line 2");

	/* delete line 2 */
	size_t l2 = line_at(orig, 2), l3 = line_at(orig, 3);
	memcpy(copy, orig, l2);
	memcpy(copy + l2, orig + l3, len - l3);
	tu_write(dir, "log", copy, len - (l3 - l2));
	expect_broken(log, dir, ":2: chain broken: prev does not match line 1");

	/* delete line 1: the new first line does not start the chain */
	tu_write(dir, "log", orig + l2, len - l2);
	expect_broken(log, dir, ":1: chain broken: prev does not match the expected start");

	/* delete the last line: the chain alone cannot tell, the head can */
	size_t l5 = line_at(orig, 5);
	tu_write(dir, "log", orig, l5);
	size_t n;
	char msg[SW_ERROR_MAX];
	assert_int_equal(verify(log, NULL, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 4);
	expect_broken(log, dir, ": last line does not match the recorded head (a record was removed or edited)");

	/* edit the last line: again only the head shows it */
	memcpy(copy, orig, len);
	copy[strstr(copy, "\"c4\"") - copy + 2] = '8';
	tu_write(dir, "log", copy, len);
	expect_broken(log, dir, ": last line does not match the recorded head (a record was removed or edited)");

	/* truncated in the middle of the last line */
	tu_write(dir, "log", orig, len - 5);
	expect_broken(log, dir, ":5: truncated record (no end of line)");
	/* truncated in the middle of line 3 */
	tu_write(dir, "log", orig, l3 + 10);
	expect_broken(log, dir, ":3: truncated record (no end of line)");
	/* truncated to nothing: the head still names a record */
	tu_write(dir, "log", "", 0);
	expect_broken(log, dir, ": last line does not match the recorded head (a record was removed or edited)");

	/* garbage appended, in several shapes */
	static const char *garbage[] = { "garbage\n", "\n", "{\"a\":1}\n", "[\"prev\"]\n", "{\"prev\":1}\n",
					 "{\"prev\":\"x\"\n", "{\"prev\":\"a\0b\"}\n" };
	static const size_t glen[] = { 8, 1, 8, 9, 11, 12, 15 };
	for (size_t i = 0; i < SW_ARRAY_SIZE(garbage); i++) {
		memcpy(copy, orig, len);
		memcpy(copy + len, garbage[i], glen[i]);
		tu_write(dir, "log", copy, len + glen[i]);
		expect_broken(log, NULL, ":6: not a JSON record");
	}
	/* a well-formed record with a made-up prev */
	memcpy(copy, orig, len);
	int gl = snprintf(copy + len, 200, "{\"container\":\"x\",\"prev\":\"%s\"}\n", ZERO);
	tu_write(dir, "log", copy, len + (size_t)gl);
	expect_broken(log, NULL, ":6: chain broken: prev does not match line 5");
	/* an endless line is refused without reading it all into memory */
	memcpy(copy, orig, len);
	memset(copy + len, 'x', SW_LOG_LINE_MAX + 10);
	tu_write(dir, "log", copy, len + SW_LOG_LINE_MAX + 10);
	char want[128];
	snprintf(want, sizeof want, ":6: not a JSON record (longer than %d bytes)", SW_LOG_LINE_MAX);
	expect_broken(log, NULL, want);

	free(copy);
	free(orig);
	free(log);
	tu_rmrf(dir);
	free(dir);
}

/* A torn write (a fragment without its newline) stays in the chain: the next
 * record starts on its own line and names the fragment's hash. */
static void test_torn_write(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	size_t len;
	char *orig = five(dir, log, &len);
	static const char frag[] = "{\"time\":\"2030-01-01T00:00:00Z\",\"cont";
	char *torn = malloc(len + sizeof frag);
	memcpy(torn, orig, len);
	memcpy(torn + len, frag, sizeof frag - 1);
	tu_write(dir, "log", torn, len + sizeof frag - 1);

	sw_record r = rec("after");
	sw_error e = { 0 };
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	size_t nlen;
	char *now = tu_read(dir, "log", &nlen);
	/* nothing before it was rewritten; the fragment is line 6, the record 7 */
	assert_memory_equal(now, torn, len + sizeof frag - 1);
	assert_int_equal(now[len + sizeof frag - 1], '\n');
	char h[SW_SHA256_HEX + 1], want[100];
	sw_sha256_hex(frag, sizeof frag - 1, h);
	snprintf(want, sizeof want, "\"prev\":\"%s\"}\n", h);
	assert_string_equal(now + nlen - strlen(want), want);
	/* verification points at the fragment */
	expect_broken(log, dir, ":6: not a JSON record");
	/* removing the fragment afterwards breaks the chain at the record after it */
	char *fixed = malloc(nlen);
	memcpy(fixed, orig, len);
	size_t rest = len + sizeof frag;
	memcpy(fixed + len, now + rest, nlen - rest);
	tu_write(dir, "log", fixed, len + nlen - rest);
	expect_broken(log, dir, ":6: chain broken: prev does not match line 5");

	free(fixed);
	free(now);
	free(torn);
	free(orig);
	free(log);
	tu_rmrf(dir);
	free(dir);
}

/* The appender reads 4 KB from the end first and the full bound (64 KB) only
 * when the last line starts before them: a last line of 4 095, 4 096, 9 000
 * and 60 000 bytes (torn or whole) is hashed whole either way. */
static void test_long_last_line(void **state)
{
	(void)state;
	static const size_t sizes[] = { 10, 4094, 4095, 4096, 9000, 60000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (int torn = 0; torn < 2; torn++) {
			char *dir = tu_tmpdir();
			char *log = tu_path(dir, "log");
			size_t n = sizes[i];
			char *text = malloc(n + 16);
			memcpy(text, "first\n", 6);
			memset(text + 6, 'x', n);
			if (!torn)
				text[6 + n] = '\n';
			tu_write(dir, "log", text, 6 + n + (torn ? 0 : 1));
			sw_record r = rec("after");
			sw_error e = { 0 };
			assert_int_equal(sw_declog_append(log, NULL, &r, &e), 0);
			size_t nlen;
			char *now = tu_read(dir, "log", &nlen);
			char h[SW_SHA256_HEX + 1], want[100];
			sw_sha256_hex(text + 6, n, h);
			snprintf(want, sizeof want, "\"prev\":\"%s\"}\n", h);
			if (strcmp(now + nlen - strlen(want), want) != 0)
				fail_msg("last line of %zu bytes%s: prev is not its hash", n, torn ? " (torn)" : "");
			free(now);
			free(text);
			free(log);
			tu_rmrf(dir);
			free(dir);
		}
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
	read_head(dir, head);
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

/* Write n bytes of src to dst gzip-compressed, as logrotate leaves FILE.2.gz. */
static void gz_copy(const char *src, const char *dst, size_t cut)
{
	size_t len;
	char *text = tu_read("/", src, &len);
	gzFile gz = gzopen(dst, "wb");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, text, (unsigned)len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
	free(text);
	if (cut)
		assert_int_equal(truncate(dst, (off_t)cut), 0);
}

/* A .gz rotation is read through zlib, in this process: no gzip from PATH. */
static void test_gz_rotation_in_process(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log"), *gz = tu_path(dir, "log.2.gz");
	sw_error e = { 0 };
	sw_record r = rec("a");
	for (int i = 0; i < 3; i++)
		assert_int_equal(sw_declog_append(log, NULL, &r, &e), 0);
	size_t n;
	char want[SW_SHA256_HEX + 1], last[SW_SHA256_HEX + 1];
	assert_int_equal(sw_declog_verify(log, NULL, NULL, &n, want, &e), 0);
	gz_copy(log, gz, 0);
	/* A PATH whose gzip would fail: nothing may run it. */
	const char *path = getenv("PATH");
	char *saved = path ? strdup(path) : NULL;
	char *bin = tu_path(dir, "bin");
	assert_int_equal(mkdir(bin, 0700), 0);
	tu_writes(bin, "gzip", "#!/bin/sh\nexit 1\n");
	char *fake = tu_path(bin, "gzip");
	assert_int_equal(chmod(fake, 0755), 0);
	setenv("PATH", bin, 1);

	sw_declog_file f = { .path = gz, .index = 2, .gz = true };
	assert_int_equal(sw_declog_verify_file(&f, NULL, NULL, &n, last, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(last, want);
	char tmp[SW_DECLOG_TMP_MAX];
	const char *plain = sw_declog_plain(&f, tmp, &e);
	assert_non_null(plain);
	assert_true(tmp[0] != '\0');
	size_t a, b;
	char *x = tu_read("/", plain, &a), *y = tu_read("/", log, &b);
	assert_int_equal(a, b);
	assert_memory_equal(x, y, a);
	free(x);
	free(y);
	unlink(tmp);

	/* Not gzip data under a .gz name: an error naming the file, not the
	 * bytes copied through as zlib's transparent mode would. */
	char *notgz = tu_path(dir, "log.3.gz");
	tu_writes(dir, "log.3.gz", "{\"prev\":\"" ZERO "\"}\n");
	sw_declog_file g = { .path = notgz, .index = 3, .gz = true };
	assert_true(sw_declog_verify_file(&g, NULL, NULL, &n, last, &e) < 0);
	assert_non_null(strstr(e.msg, notgz));
	assert_non_null(strstr(e.msg, "cannot decompress"));
	assert_null(sw_declog_plain(&g, tmp, &e));
	assert_string_equal(tmp, "");

	/* A truncated .gz: the records it still holds are not the rotation. */
	struct stat st;
	assert_int_equal(stat(gz, &st), 0);
	gz_copy(log, gz, (size_t)st.st_size - 12);
	assert_true(sw_declog_verify_file(&f, NULL, NULL, &n, last, &e) < 0);
	assert_non_null(strstr(e.msg, "cannot decompress"));
	assert_null(sw_declog_plain(&f, tmp, &e));

	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	free(fake);
	free(bin);
	free(notgz);
	free(log);
	free(gz);
	tu_rmrf(dir);
	free(dir);
}

/* procs processes append each records to dir/log at once (dir as state_dir when
 * with_head); the log then holds every record, chained. */
static void concurrent(int procs, int records, bool with_head)
{
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	for (int p = 0; p < procs; p++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			sw_error e = { 0 };
			char id[32];
			for (int i = 0; i < records; i++) {
				snprintf(id, sizeof id, "p%d-r%d", p, i);
				sw_record r = rec(id);
				if (sw_declog_append(log, with_head ? dir : NULL, &r, &e) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	int bad = 0, st;
	pid_t w;
	while ((w = wait(&st)) > 0 || (w < 0 && errno == EINTR))
		if (w > 0)
			bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	assert_int_equal(bad, 0);
	size_t n;
	char msg[SW_ERROR_MAX];
	int rc = verify(log, with_head ? dir : NULL, &n, msg, sizeof msg);
	if (rc < 0)
		print_error("%s\n", msg);
	assert_int_equal(rc, 0);
	assert_int_equal(n, (size_t)(procs * records));
	/* every record is there exactly once */
	size_t len;
	char *buf = tu_read(dir, "log", &len);
	for (int p = 0; p < procs; p++)
		for (int i = 0; i < records; i++) {
			char id[48];
			snprintf(id, sizeof id, "\"container\":\"p%d-r%d\"", p, i);
			char *a = strstr(buf, id);
			assert_non_null(a);
			assert_null(strstr(a + 1, id));
		}
	free(buf);
	free(log);
	tu_rmrf(dir);
	free(dir);
}

static void test_concurrent(void **state)
{
	(void)state;
	concurrent(20, 20, true);
}

static void test_concurrent_without_head(void **state)
{
	(void)state;
	concurrent(10, 10, false);
}

static void test_refuses_links_and_fifos(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log"), *target = tu_path(dir, "target");
	tu_writes(dir, "target", "");
	sw_record r = rec("a");
	sw_error e = { 0 };
	char last[SW_SHA256_HEX + 1];
	size_t n;

	/* a symlinked log: refused, the target untouched */
	assert_int_equal(symlink(target, log), 0);
	assert_true(sw_declog_append(log, dir, &r, &e) < 0);
	assert_non_null(strstr(e.msg, log));
	assert_non_null(strstr(e.msg, "cannot open the decision log"));
	struct stat st;
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_true(sw_declog_verify(log, NULL, NULL, &n, last, &e) < 0);
	assert_int_equal(unlink(log), 0);

	/* a FIFO: refused at once, nothing blocks */
	assert_int_equal(mkfifo(log, 0600), 0);
	assert_int_equal(sw_declog_append(log, dir, &r, &e), -SW_EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
	assert_int_equal(sw_declog_verify(log, NULL, NULL, &n, last, &e), -SW_EINVAL);
	assert_int_equal(unlink(log), 0);

	/* a directory */
	assert_int_equal(mkdir(log, 0700), 0);
	assert_true(sw_declog_append(log, dir, &r, &e) < 0);
	assert_int_equal(rmdir(log), 0);

	/* a symlinked head: refused before anything is appended */
	char *head = tu_path(dir, SW_LOG_HEAD_NAME);
	assert_int_equal(unlink(head), 0);   /* made by the refused appends above */
	assert_int_equal(symlink(target, head), 0);
	assert_true(sw_declog_append(log, dir, &r, &e) < 0);
	assert_non_null(strstr(e.msg, SW_LOG_HEAD_NAME));
	assert_int_equal(access(log, F_OK), -1);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(unlink(head), 0);
	/* a FIFO head */
	assert_int_equal(mkfifo(head, 0600), 0);
	assert_int_equal(sw_declog_append(log, dir, &r, &e), -SW_EINVAL);
	assert_int_equal(access(log, F_OK), -1);
	assert_int_equal(unlink(head), 0);
	/* a missing state directory */
	char *nodir = tu_path(dir, "nodir");
	assert_true(sw_declog_append(log, nodir, &r, &e) < 0);
	assert_non_null(strstr(e.msg, nodir));
	assert_int_equal(access(log, F_OK), -1);

	/* and with all that cleared, the append works */
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);

	free(nodir);
	free(head);
	free(log);
	free(target);
	tu_rmrf(dir);
	free(dir);
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)(b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* Issue 14 #3: a reader of the log (group adm) holds a lock on it. flock needs
 * only a descriptor, a read-only one serves for LOCK_EX too, and a second open
 * file description in this process conflicts like another process would. */
static void test_log_reader_lock(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	sw_record r = rec("a");
	sw_error e = { 0 };
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	int ops[] = { LOCK_SH, LOCK_EX };
	for (size_t i = 0; i < 2; i++) {
		int rfd = open(log, O_RDONLY | O_CLOEXEC);
		assert_true(rfd >= 0);
		assert_int_equal(flock(rfd, ops[i]), 0);
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = rec(i ? "held-ex" : "held-sh");
		assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
		/* not held up at all: no wait for the reader's lock */
		assert_true(ms_since(&t0) < 200);
		close(rfd);
	}
	size_t n;
	char msg[SW_ERROR_MAX];
	assert_int_equal(verify(log, dir, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 3);
	free(log);
	tu_rmrf(dir);
	free(dir);
}

/* The appenders' own lock (the head, root's 0600) held by someone: the append
 * gives up after SW_LOCK_WAIT_MS with one line naming the head, writes nothing,
 * and works again once the lock is gone. */
static void test_head_lock_bounded(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	char *head = tu_path(dir, SW_LOG_HEAD_NAME);
	sw_record r = rec("a");
	sw_error e = { 0 };
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	struct stat st;
	assert_int_equal(stat(head, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	int hfd = open(head, O_RDONLY | O_CLOEXEC);
	assert_true(hfd >= 0);
	assert_int_equal(flock(hfd, LOCK_EX), 0);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = rec("b");
	assert_int_equal(sw_declog_append(log, dir, &r, &e), -ETIMEDOUT);
	long ms = ms_since(&t0);
	assert_true(ms >= SW_LOCK_WAIT_MS - 10 && ms < SW_LOCK_WAIT_MS + 1000);
	char want[SW_ERROR_MAX];
	snprintf(want, sizeof want, "%s/%s: still locked by another process after %d ms", dir, SW_LOG_HEAD_NAME,
		 SW_LOCK_WAIT_MS);
	assert_string_equal(e.msg, want);
	size_t n;
	char msg[SW_ERROR_MAX];
	assert_int_equal(verify(log, dir, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 1);
	/* a shared lock blocks it the same way */
	assert_int_equal(flock(hfd, LOCK_SH), 0);
	assert_int_equal(sw_declog_append(log, dir, &r, &e), -ETIMEDOUT);
	close(hfd);
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	assert_int_equal(verify(log, dir, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 2);

	/* a head left readable by others (an older version) is made private */
	assert_int_equal(chmod(head, 0644), 0);
	assert_int_equal(sw_declog_append(log, dir, &r, &e), 0);
	assert_int_equal(stat(head, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* one another account owns is refused, nothing appended */
	if (geteuid() == 0) {
		assert_int_equal(chown(head, 65534, 65534), 0);
		assert_true(sw_declog_append(log, dir, &r, &e) < 0);
		assert_non_null(strstr(e.msg, "owned by uid 65534"));
		assert_int_equal(chown(head, 0, 0), 0);
		assert_int_equal(verify(log, dir, &n, msg, sizeof msg), 0);
		assert_int_equal(n, 3);
	}
	free(head);
	free(log);
	tu_rmrf(dir);
	free(dir);
}

/* Without a state directory the appenders lock the log itself; that wait is
 * bounded too. */
static void test_log_lock_bounded_without_head(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "log");
	sw_record r = rec("a");
	sw_error e = { 0 };
	assert_int_equal(sw_declog_append(log, NULL, &r, &e), 0);
	int rfd = open(log, O_RDONLY | O_CLOEXEC);
	assert_true(rfd >= 0);
	assert_int_equal(flock(rfd, LOCK_SH), 0);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sw_declog_append(log, NULL, &r, &e), -ETIMEDOUT);
	assert_true(ms_since(&t0) < SW_LOCK_WAIT_MS + 1000);
	assert_non_null(strstr(e.msg, "still locked by another process"));
	close(rfd);
	assert_int_equal(sw_declog_append(log, NULL, &r, &e), 0);
	free(log);
	tu_rmrf(dir);
	free(dir);
}

/* The syslog line: one datagram on the socket sw_sandbox_enter connects, its
 * priority authpriv.info for an allow and authpriv.warning otherwise, sigward
 * with the pid, and control bytes of the container id flattened. An adopted
 * descriptor (what sigward-hook-verify gets from sigward-hook) is used as is;
 * a socket that is gone loses the line quietly. */
static void test_syslog_line(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char path[sizeof ((struct sockaddr_un *)0)->sun_path];
	assert_true((size_t)snprintf(path, sizeof path, "%s/log.sock", dir) < sizeof path);
	int srv = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(srv >= 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, path, sizeof path);
	assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof a), 0);

	sw_syslog_close();
	int fd = sw_syslog_open(path);
	assert_true(fd >= 0);
	assert_int_equal(sw_syslog_open(path), fd); /* connected once */
	sw_record r = rec("c1\nforged");
	sw_declog_syslog(&r);
	char buf[2048], want[512];
	ssize_t n = recv(srv, buf, sizeof buf - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof want, "<84>sigward[%ld]: container c1?forged deny image none list p#1: "
		 "image x is not in allowlist p#1", (long)getpid());
	assert_string_equal(buf, want);

	sw_decision allow = { .verdict = SW_ALLOW, .reason = "image listed" };
	r.decision = &allow;
	r.matched = DG;
	/* Handed over by number, as across sigward-hook's execve. */
	int dup_fd = dup(fd);
	sw_syslog_close();
	assert_true(sw_syslog_adopt(dup_fd));
	sw_declog_syslog(&r);
	n = recv(srv, buf, sizeof buf - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof want, "<86>sigward[%ld]: container c1?forged allow image " DG " list p#1: image listed",
		 (long)getpid());
	assert_string_equal(buf, want);

	/* A regular file is not a syslog socket. */
	char f[512];
	snprintf(f, sizeof f, "%s/plain", dir);
	int pf = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(pf >= 0);
	assert_false(sw_syslog_adopt(pf));
	close(pf);
	assert_int_equal(sw_syslog_fd(), dup_fd);

	/* The receiver gone: nothing sent, nothing breaks. */
	close(srv);
	unlink(path);
	sw_declog_syslog(&r);
	sw_syslog_close();
	assert_int_equal(sw_syslog_open(path), -1);
	sw_declog_syslog(&r); /* no socket at /dev/log either is fine */
	sw_syslog_close();
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_fields),
		cmocka_unit_test(test_syslog_line),
		cmocka_unit_test(test_render_hostile),
		cmocka_unit_test(test_render_too_big),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_torn_write),
		cmocka_unit_test(test_long_last_line),
		cmocka_unit_test(test_rotation_continues_chain),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_concurrent_without_head),
		cmocka_unit_test(test_refuses_links_and_fifos),
		cmocka_unit_test(test_log_reader_lock),
		cmocka_unit_test(test_head_lock_bounded),
		cmocka_unit_test(test_log_lock_bounded_without_head),
		cmocka_unit_test(test_gz_rotation_in_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
