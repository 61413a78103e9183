/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define P "/t/sigward.conf"

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	return p;
}

static void parse_ok(sw_config *c, const char *text)
{
	sw_error e = { 0 };
	assert_int_equal(sw_config_defaults(c, &e), 0);
	int r = sw_config_parse(c, P, text, strlen(text), &e);
	if (r < 0)
		fail_msg("rejected (%s): %s", e.msg, text);
}

/* The message starts with "FILE:LINE: " (or "FILE: " when line is 0), carries
 * `want`, and is one line. */
static void check_msg(const sw_error *e, const char *file, unsigned line, const char *want)
{
	char prefix[512];
	if (line)
		snprintf(prefix, sizeof prefix, "%s:%u: ", file, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", file);
	if (strncmp(e->msg, prefix, strlen(prefix)) != 0 || !strstr(e->msg, want))
		fail_msg("got \"%s\", want \"%s...%s...\"", e->msg, prefix, want);
	if (strchr(e->msg, '\n'))
		fail_msg("message spans lines: \"%s\"", e->msg);
}

static void parse_fails_len(const char *text, size_t len, int code, unsigned line, const char *want)
{
	sw_config c;
	sw_error e = { 0 };
	assert_int_equal(sw_config_defaults(&c, &e), 0);
	int r = sw_config_parse(&c, P, text, len, &e);
	if (r >= 0)
		fail_msg("accepted: %.300s", text);
	assert_int_equal(r, -code);
	assert_int_equal(e.code, code);
	check_msg(&e, P, line, want);
	sw_config_free(&c);
}

static void parse_fails(const char *text, unsigned line, const char *want)
{
	parse_fails_len(text, strlen(text), SW_EINVAL, line, want);
}

/* ------------------------------------------------------------------ defaults */

static void check_defaults(const sw_config *c)
{
	assert_int_equal(c->mode, SW_MODE_ENFORCE);
	assert_null(c->scope);
	assert_int_equal(c->threshold, 1);
	assert_string_equal(c->keys_dir, "/etc/sigward/keys.d");
	assert_string_equal(c->lists_dir, "/var/lib/sigward/lists");
	assert_string_equal(c->state_dir, "/var/lib/sigward");
	assert_int_equal(c->grace, 0);
	assert_string_equal(c->log_file, "/var/log/sigward/decisions.jsonl");
	assert_true(c->syslog);
	assert_true(c->verify_cache);

	assert_int_equal(c->n_annotations, 4);
	assert_string_equal(c->annotations[0], "io.kubernetes.cri-o.ImageRef");
	assert_string_equal(c->annotations[1], "io.kubernetes.cri-o.Image");
	assert_string_equal(c->annotations[2], "io.kubernetes.cri.image-ref");
	assert_string_equal(c->annotations[3], "io.kubernetes.cri.image-name");
	assert_null(c->annotations[4]);
	assert_true(c->containers_storage);
	assert_string_equal(c->storage_root, "/var/lib/containers/storage");
	assert_true(c->docker);
	assert_string_equal(c->docker_root, "/var/lib/docker");
	assert_true(c->containerd);
	assert_string_equal(c->containerd_root, "/var/lib/containerd");

	assert_string_equal(c->runtime_path, "/usr/sbin/runc");

	assert_null(c->refresh_source);
	assert_int_equal(c->refresh_interval, 300);
	assert_int_equal(c->refresh_jitter, 30);
	assert_null(c->refresh_ca_file);
	assert_null(c->refresh_client_cert);
	assert_null(c->refresh_client_key);
	assert_null(c->refresh_credentials);
	assert_true(c->refresh_max_size == (uint64_t)256 * 1024 * 1024);
	assert_int_equal(c->refresh_timeout, 30);
	assert_string_equal(c->refresh_staging_dir, "/var/lib/sigward/lists/.staging");
	assert_string_equal(c->refresh_status_file, "/run/sigwardd/refresh.json");
	assert_null(c->refresh_metrics_file);
}

static void test_defaults(void **state)
{
	(void)state;
	sw_config c;
	sw_error e = { 0 };
	memset(&c, 0x5a, sizeof c);   /* defaults overwrite whatever was there */
	assert_int_equal(sw_config_defaults(&c, &e), 0);
	check_defaults(&c);
	assert_int_equal(c.n_files, 0);
	sw_config_free(&c);

	/* An empty file, and one of only comments and blanks, change nothing. */
	parse_ok(&c, "");
	check_defaults(&c);
	sw_config_free(&c);
	parse_ok(&c, "# comment\n; other comment\n\n   \t\n[sigward]\n  # indented comment\n");
	check_defaults(&c);
	sw_config_free(&c);
}

static void test_config_free(void **state)
{
	(void)state;
	sw_config c = { 0 };
	sw_config_free(&c);           /* zeroed struct */
	sw_config_free(NULL);
	parse_ok(&c, "[sigward]\nscope = prod\n[refresh]\nsource = https://x/l\n");
	sw_config_free(&c);
	assert_null(c.scope);
	assert_null(c.keys_dir);
	assert_int_equal(c.n_annotations, 0);
	sw_config_free(&c);           /* twice */
}

static void test_mode_name(void **state)
{
	(void)state;
	assert_string_equal(sw_mode_name(SW_MODE_ENFORCE), "enforce");
	assert_string_equal(sw_mode_name(SW_MODE_WARN), "warn");
	assert_string_equal(sw_mode_name((sw_mode)7), "invalid");
}

/* ------------------------------------------------------------------ every key */

static void test_every_key(void **state)
{
	(void)state;
	sw_config c;
	parse_ok(&c,
		 "[sigward]\n"
		 "mode = warn\n"
		 "scope = prod-eu.1_a\n"
		 "threshold = 16\n"
		 "keys_dir = /k\n"
		 "lists_dir = /l\n"
		 "state_dir = /s\n"
		 "grace = 2h\n"
		 "log_file = /log/d.jsonl\n"
		 "syslog = no\n"
		 "verify_cache = off\n"
		 "[resolve]\n"
		 "annotations = a.b/c d\n"
		 "containers_storage = false\n"
		 "storage_root = /cs\n"
		 "docker = 0\n"
		 "docker_root = /dk\n"
		 "containerd = NO\n"
		 "containerd_root = /ctd\n"
		 "[runtime]\n"
		 "path = /usr/bin/crun\n"
		 "[refresh]\n"
		 "source = oci://registry.example/team/list:prod\n"
		 "interval = 15m\n"
		 "jitter = 0\n"
		 "ca_file = /ca.pem\n"
		 "client_cert = /c.pem\n"
		 "client_key = /k.pem\n"
		 "credentials = /cred\n"
		 "max_size = 3M\n"
		 "timeout = 90s\n"
		 "staging_dir = /stg\n"
		 "status_file = /st.json\n"
		 "metrics_file = /m.prom\n");
	assert_int_equal(c.mode, SW_MODE_WARN);
	assert_string_equal(c.scope, "prod-eu.1_a");
	assert_int_equal(c.threshold, 16);
	assert_string_equal(c.keys_dir, "/k");
	assert_string_equal(c.lists_dir, "/l");
	assert_string_equal(c.state_dir, "/s");
	assert_int_equal(c.grace, 7200);
	assert_string_equal(c.log_file, "/log/d.jsonl");
	assert_false(c.syslog);
	assert_false(c.verify_cache);
	assert_int_equal(c.n_annotations, 2);
	assert_string_equal(c.annotations[0], "a.b/c");
	assert_string_equal(c.annotations[1], "d");
	assert_null(c.annotations[2]);
	assert_false(c.containers_storage);
	assert_string_equal(c.storage_root, "/cs");
	assert_false(c.docker);
	assert_string_equal(c.docker_root, "/dk");
	assert_false(c.containerd);
	assert_string_equal(c.containerd_root, "/ctd");
	assert_string_equal(c.runtime_path, "/usr/bin/crun");
	assert_string_equal(c.refresh_source, "oci://registry.example/team/list:prod");
	assert_int_equal(c.refresh_interval, 900);
	assert_int_equal(c.refresh_jitter, 0);
	assert_string_equal(c.refresh_ca_file, "/ca.pem");
	assert_string_equal(c.refresh_client_cert, "/c.pem");
	assert_string_equal(c.refresh_client_key, "/k.pem");
	assert_string_equal(c.refresh_credentials, "/cred");
	assert_true(c.refresh_max_size == 3u * 1024 * 1024);
	assert_int_equal(c.refresh_timeout, 90);
	assert_string_equal(c.refresh_staging_dir, "/stg");
	assert_string_equal(c.refresh_status_file, "/st.json");
	assert_string_equal(c.refresh_metrics_file, "/m.prom");
	sw_config_free(&c);

	/* Unset, staging_dir follows a moved lists_dir. */
	sw_error e2 = { 0 };
	char *d2 = tu_tmpdir();
	tu_writes(d2, "moved.conf", "[sigward]\nlists_dir = /srv/lists\n");
	char *moved = tu_path(d2, "moved.conf");
	assert_int_equal(sw_config_load(&c, moved, &e2), 0);
	assert_string_equal(c.refresh_staging_dir, "/srv/lists/.staging");
	sw_config_free(&c);
	free(moved);
	tu_rmrf(d2);
	free(d2);

	/* The other spelling of each value kind. */
	parse_ok(&c, "[sigward]\nmode = enforce\nthreshold = 1\nlog_file =\nsyslog = Yes\nverify_cache = 1\n"
		     "grace = 3600\n[resolve]\ndocker = on\ncontainers_storage = TRUE\n"
		     "[refresh]\nsource = file:///srv/list\nmax_size = 1024\ninterval = 1w\n"
		     "[refresh]\nsource = https://lists.example/prod/\n");
	assert_int_equal(c.mode, SW_MODE_ENFORCE);
	assert_int_equal(c.threshold, 1);
	assert_string_equal(c.log_file, "");
	assert_true(c.syslog);
	assert_true(c.verify_cache);
	assert_int_equal(c.grace, 3600);
	assert_true(c.docker);
	assert_true(c.containers_storage);
	assert_string_equal(c.refresh_source, "https://lists.example/prod/");
	assert_true(c.refresh_max_size == 1024);
	assert_int_equal(c.refresh_interval, 7 * 86400);
	sw_config_free(&c);
}

static void test_sizes(void **state)
{
	(void)state;
	static const struct {
		const char *v;
		uint64_t want;
	} ok[] = {
		{ "1", 1 }, { "512K", 512u * 1024 }, { "512k", 512u * 1024 }, { "256M", 256u << 20 },
		{ "1G", 1u << 30 }, { "2g", (uint64_t)2 << 30 }, { "1024G", (uint64_t)1 << 40 },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(ok); i++) {
		char text[128];
		snprintf(text, sizeof text, "[refresh]\nmax_size = %s\n", ok[i].v);
		sw_config c;
		parse_ok(&c, text);
		if (c.refresh_max_size != ok[i].want)
			fail_msg("%s: got %llu", ok[i].v, (unsigned long long)c.refresh_max_size);
		sw_config_free(&c);
	}
	static const char *const bad[] = {
		"0", "0K", "", "K", "1T", "1KB", "1 K", "-1", "+1", "01", "1.5M", "1025G",
		"99999999999999999999", "18446744073709551616", "16777216G",
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		char text[128];
		snprintf(text, sizeof text, "[refresh]\nmax_size = %s\n", bad[i]);
		parse_fails(text, 2, "bad value for max_size");
	}
}

static void test_bad_values(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "[sigward]\nmode = Enforce\n", "bad value for mode: 'Enforce'" },
		{ "[sigward]\nmode = \n", "bad value for mode" },
		{ "[sigward]\nmode = enforce warn\n", "bad value for mode" },
		{ "[sigward]\nscope = \n", "bad value for scope" },
		{ "[sigward]\nscope = prod/eu\n", "bad value for scope" },
		{ "[sigward]\nscope = prod eu\n", "bad value for scope" },
		{ "[sigward]\nscope = \"prod\"\n", "bad value for scope" },
		{ "[sigward]\nscope = 01234567890123456789012345678901234567890123456789012345678901234\n",
		  "bad value for scope" },
		{ "[sigward]\nthreshold = 0\n", "bad value for threshold: '0'" },
		{ "[sigward]\nthreshold = 17\n", "bad value for threshold: '17'" },
		{ "[sigward]\nthreshold = -1\n", "bad value for threshold" },
		{ "[sigward]\nthreshold = two\n", "bad value for threshold" },
		{ "[sigward]\nthreshold = 1x\n", "bad value for threshold" },
		{ "[sigward]\nthreshold = 99999999999999999999999\n", "bad value for threshold" },
		{ "[sigward]\nthreshold =\n", "bad value for threshold" },
		{ "[sigward]\nkeys_dir = keys.d\n", "bad value for keys_dir: 'keys.d' (expected an absolute path)" },
		{ "[sigward]\nkeys_dir =\n", "bad value for keys_dir" },
		{ "[sigward]\nlists_dir = ./l\n", "bad value for lists_dir" },
		{ "[sigward]\nstate_dir = \n", "bad value for state_dir" },
		{ "[sigward]\nlog_file = d.jsonl\n", "bad value for log_file" },
		{ "[sigward]\ngrace = 1y\n", "bad value for grace" },
		{ "[sigward]\ngrace = -5s\n", "bad value for grace" },
		{ "[sigward]\ngrace = \n", "bad value for grace" },
		{ "[sigward]\nsyslog = maybe\n", "bad value for syslog" },
		{ "[sigward]\nsyslog = \n", "bad value for syslog" },
		{ "[sigward]\nverify_cache = y\n", "bad value for verify_cache" },
		{ "[resolve]\ncontainers_storage = 2\n", "bad value for containers_storage" },
		{ "[resolve]\nstorage_root = var/lib\n", "bad value for storage_root" },
		{ "[resolve]\ndocker = nope\n", "bad value for docker" },
		{ "[resolve]\ndocker_root = \n", "bad value for docker_root" },
		{ "[resolve]\ncontainerd = \n", "bad value for containerd" },
		{ "[resolve]\ncontainerd_root = ~/c\n", "bad value for containerd_root" },
		{ "[resolve]\nannotations = a b a\n", "key 'a' listed twice" },
		{ "[resolve]\nannotations = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "more than 16 keys" },
		{ "[runtime]\npath = runc\n", "bad value for path" },
		{ "[runtime]\npath =\n", "bad value for path" },
		{ "[refresh]\nsource = ftp://x/y\n", "bad value for source" },
		{ "[refresh]\nsource = /srv/list\n", "bad value for source" },
		{ "[refresh]\nsource = https://\n", "bad value for source" },
		{ "[refresh]\nsource = https://a b\n", "bad value for source" },
		{ "[refresh]\nsource =\n", "bad value for source" },
		{ "[refresh]\ninterval = 0\n", "bad value for interval" },
		{ "[refresh]\ninterval = 5 m\n", "bad value for interval" },
		{ "[refresh]\njitter = x\n", "bad value for jitter" },
		{ "[refresh]\nca_file = ca.pem\n", "bad value for ca_file" },
		{ "[refresh]\nclient_cert = \n", "bad value for client_cert" },
		{ "[refresh]\nclient_key = k\n", "bad value for client_key" },
		{ "[refresh]\ncredentials = \n", "bad value for credentials" },
		{ "[refresh]\ntimeout = 0s\n", "bad value for timeout" },
		{ "[refresh]\nstaging_dir = s\n", "bad value for staging_dir" },
		{ "[refresh]\nstatus_file = \n", "bad value for status_file" },
		{ "[refresh]\nmetrics_file = m.prom\n", "bad value for metrics_file" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++)
		parse_fails(bad[i].text, 2, bad[i].want);

	/* The line number counts every line, blank and comment ones too. */
	parse_fails("# header\n\n[sigward]\n; x\nmode = warn\nthreshold = 0\n", 6, "bad value for threshold");
	/* A long bad value is cut in the message; file:line still lead. */
	char text[3000];
	memset(text, 'a', sizeof text);
	memcpy(text, "[sigward]\nkeys_dir = ", 21);
	text[sizeof text - 1] = '\0';
	parse_fails(text, 2, "bad value for keys_dir");
}

/* ------------------------------------------------------------------ syntax errors */

static void test_syntax_errors(void **state)
{
	(void)state;
	parse_fails("[sigward]\nfrobnicate = 1\n", 2, "unknown key 'frobnicate' in section [sigward]");
	/* A key is known only in its own section. */
	parse_fails("[sigward]\npath = /usr/bin/runc\n", 2, "unknown key 'path' in section [sigward]");
	parse_fails("[resolve]\nmode = warn\n", 2, "unknown key 'mode' in section [resolve]");
	parse_fails("[sigward]\nMode = warn\n", 2, "unknown key 'Mode' in section [sigward]");
	parse_fails("[sigward]\nmode = warn\n[hooks]\n", 3, "unknown section [hooks]");
	parse_fails("[Sigward]\n", 1, "unknown section [Sigward]");
	parse_fails("[]\n", 1, "unknown section []");
	parse_fails("mode = warn\n", 1, "key outside of a section");
	parse_fails("# c\n\nscope = x\n[sigward]\n", 3, "key outside of a section");
	parse_fails("[sigward]\nmode warn\n", 2, "missing '='");
	parse_fails("[sigward]\nmode\n", 2, "missing '='");
	parse_fails("[sigward]\n= warn\n", 2, "missing key before '='");
	parse_fails("[sigward\n", 1, "does not end with ']'");
	parse_fails("[sigward] # c\n", 1, "does not end with ']'");
	parse_fails("[sigward]\nmode = warn\n[ref", 3, "does not end with ']'");
	/* A trailing comment is not stripped: values are literal. */
	parse_fails("[sigward]\nmode = warn # why\n", 2, "bad value for mode: 'warn # why'");
	/* Control characters other than tab. */
	parse_fails("[sigward]\nscope = a\rb\n", 2, "control character 0x0d");
	parse_fails("[sigward]\nscope = a\x1b[2Kb\n", 2, "control character 0x1b");
	parse_fails("[sigward]\nscope = ab\x7f\n", 2, "control character 0x7f");
	/* Each file starts outside any section, whatever the one before ended in. */
	sw_config c;
	sw_error e = { 0 };
	parse_ok(&c, "[sigward]\n");
	const char *next = "mode = warn\n";
	assert_true(sw_config_parse(&c, "/t/next.conf", next, strlen(next), &e) < 0);
	check_msg(&e, "/t/next.conf", 1, "key outside of a section");
	sw_config_free(&c);
}

static void test_nul_and_sizes(void **state)
{
	(void)state;
	static const char nul[] = "[sigward]\nmode = warn\nscope = pr\0od\n";
	parse_fails_len(nul, sizeof nul - 1, SW_EINVAL, 3, "NUL byte");
	static const char nul_comment[] = "[sigward]\n# \0\n";
	parse_fails_len(nul_comment, sizeof nul_comment - 1, SW_EINVAL, 2, "NUL byte");
	static const char nul_end[] = "[sigward]\n\0";
	parse_fails_len(nul_end, sizeof nul_end - 1, SW_EINVAL, 2, "NUL byte");

	/* A line of exactly the limit is fine (here a comment); one byte more is not. */
	size_t n = SW_CONFIG_MAX_LINE + 32;
	char *text = xmalloc(n);
	memset(text, 'x', n);
	text[0] = '#';
	text[SW_CONFIG_MAX_LINE] = '\n';
	sw_config c;
	sw_error e = { 0 };
	assert_int_equal(sw_config_defaults(&c, &e), 0);
	assert_int_equal(sw_config_parse(&c, P, text, SW_CONFIG_MAX_LINE + 1, &e), 0);
	/* CRLF: the CR is not counted against the limit */
	text[SW_CONFIG_MAX_LINE] = '\r';
	text[SW_CONFIG_MAX_LINE + 1] = '\n';
	assert_int_equal(sw_config_parse(&c, P, text, SW_CONFIG_MAX_LINE + 2, &e), 0);
	sw_config_free(&c);
	text[SW_CONFIG_MAX_LINE] = 'x';
	text[SW_CONFIG_MAX_LINE + 1] = '\n';
	parse_fails_len(text, SW_CONFIG_MAX_LINE + 2, SW_ETOOBIG, 1, "line too long");
	/* the same without a final newline (a truncated file) */
	parse_fails_len(text, SW_CONFIG_MAX_LINE + 1, SW_ETOOBIG, 1, "line too long");
	free(text);

	/* Oversized text handed to the parser directly. */
	n = SW_CONFIG_MAX_SIZE + 1;
	text = xmalloc(n + 1);
	memset(text, '\n', n);
	text[n] = '\0';
	parse_fails_len(text, n, SW_ETOOBIG, 0, "more than the limit");
	/* At the limit it parses: blank lines. */
	assert_int_equal(sw_config_defaults(&c, &e), 0);
	assert_int_equal(sw_config_parse(&c, P, text, n - 1, &e), 0);
	sw_config_free(&c);
	free(text);
}

/* ------------------------------------------------------------------ lexical details */

static void test_lexical(void **state)
{
	(void)state;
	sw_config c;
	/* CRLF everywhere, blanks around everything, a BOM, no final newline. */
	parse_ok(&c, "\xef\xbb\xbf# made on windows\r\n\r\n  [ sigward ]  \r\n\t mode\t=\twarn \t\r\n"
		     "scope=prod\r\nkeys_dir   =   /etc/x y/keys.d  \r\n"
		     "[resolve]\r\nannotations =  \t k1   k2\tk3 \r\n[runtime]\r\npath = /a=b");
	assert_int_equal(c.mode, SW_MODE_WARN);
	assert_string_equal(c.scope, "prod");
	/* inner blanks kept, '=' after the first belongs to the value */
	assert_string_equal(c.keys_dir, "/etc/x y/keys.d");
	assert_string_equal(c.runtime_path, "/a=b");
	assert_int_equal(c.n_annotations, 3);
	assert_string_equal(c.annotations[0], "k1");
	assert_string_equal(c.annotations[1], "k2");
	assert_string_equal(c.annotations[2], "k3");
	assert_null(c.annotations[3]);
	sw_config_free(&c);

	/* Values are literal: quotes are part of the path. */
	parse_ok(&c, "[sigward]\nlog_file = /var/log/\"x\".jsonl\n");
	assert_string_equal(c.log_file, "/var/log/\"x\".jsonl");
	sw_config_free(&c);

	/* A bare CR line ending (not CRLF) is a control character, not a newline. */
	parse_fails("[sigward]\rmode = warn\n", 1, "control character 0x0d");
}

static void test_annotations(void **state)
{
	(void)state;
	sw_config c;
	/* Empty: no annotation is trusted. */
	parse_ok(&c, "[resolve]\nannotations =\n");
	assert_int_equal(c.n_annotations, 0);
	assert_null(c.annotations[0]);
	sw_config_free(&c);

	/* Exactly 16, and a later line replaces the whole list. */
	parse_ok(&c, "[resolve]\nannotations = a b c d e f g h i j k l m n o p\n");
	assert_int_equal(c.n_annotations, 16);
	assert_string_equal(c.annotations[15], "p");
	sw_config_free(&c);
	parse_ok(&c, "[resolve]\nannotations = a b c d e f g h i j k l m n o p\nannotations = x\n");
	assert_int_equal(c.n_annotations, 1);
	assert_string_equal(c.annotations[0], "x");
	assert_null(c.annotations[1]);
	sw_config_free(&c);

	/* A refused list leaves the previous one intact. */
	sw_error e = { 0 };
	parse_ok(&c, "[resolve]\nannotations = one two\n");
	const char *bad = "[resolve]\nannotations = y y\n";
	assert_true(sw_config_parse(&c, P, bad, strlen(bad), &e) < 0);
	assert_int_equal(c.n_annotations, 2);
	assert_string_equal(c.annotations[0], "one");
	assert_string_equal(c.annotations[1], "two");
	sw_config_free(&c);
}

static void test_later_wins(void **state)
{
	(void)state;
	sw_config c;
	/* Every string replaced twice: LeakSanitizer checks the old ones are freed. */
	parse_ok(&c, "[sigward]\nscope = a\nscope = b\nmode = warn\nthreshold = 3\nkeys_dir = /1\n"
		     "[refresh]\nsource = file:///a\n[sigward]\nscope = c\nmode = enforce\nkeys_dir = /2\n"
		     "log_file = /x\nlog_file =\n[refresh]\nsource = file:///b\nmetrics_file = /m1\n"
		     "metrics_file = /m2\n");
	assert_string_equal(c.scope, "c");
	assert_int_equal(c.mode, SW_MODE_ENFORCE);
	assert_int_equal(c.threshold, 3);
	assert_string_equal(c.keys_dir, "/2");
	assert_string_equal(c.log_file, "");
	assert_string_equal(c.refresh_source, "file:///b");
	assert_string_equal(c.refresh_metrics_file, "/m2");
	sw_config_free(&c);
}

/* ------------------------------------------------------------------ files and drop-ins */

typedef struct tree {
	char *root;
	char *main;
	char *dirs[3];   /* usr/lib, run, etc: lowest precedence first */
} tree;

static void tree_init(tree *t)
{
	static const char *const names[] = { "usr", "run", "etc" };
	t->root = tu_tmpdir();
	t->main = tu_path(t->root, "sigward.conf");
	for (size_t i = 0; i < 3; i++) {
		t->dirs[i] = tu_path(t->root, names[i]);
		assert_int_equal(mkdir(t->dirs[i], 0755), 0);
	}
}

static void tree_free(tree *t)
{
	tu_rmrf(t->root);
	free(t->root);
	free(t->main);
	for (size_t i = 0; i < 3; i++)
		free(t->dirs[i]);
}

static int tree_load(const tree *t, sw_config *c, sw_error *e)
{
	const char *const dirs[] = { t->dirs[0], t->dirs[1], t->dirs[2] };
	return sw_config_load_paths(c, t->main, dirs, 3, 1, e);
}

static void assert_files(const sw_config *c, const char *const *want, unsigned n)
{
	if (c->n_files != n)
		fail_msg("read %u files, want %u", c->n_files, n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(c->files[i], want[i]);
	assert_null(c->files[n]);
}

static void test_dropins(void **state)
{
	(void)state;
	tree t;
	tree_init(&t);
	sw_config c;
	sw_error e = { 0 };

	/* Nothing at all: defaults, no file read. */
	assert_int_equal(tree_load(&t, &c, &e), 0);
	check_defaults(&c);
	assert_int_equal(c.n_files, 0);
	sw_config_free(&c);

	tu_writes(t.root, "sigward.conf", "[sigward]\nscope = main\nthreshold = 2\nkeys_dir = /main\n");
	/* /usr/lib: 10 sets scope, 20 sets threshold, 30 is masked by /etc's 30 */
	tu_writes(t.dirs[0], "10-usr.conf", "[sigward]\nscope = usr\nmode = warn\n");
	tu_writes(t.dirs[0], "20-both.conf", "[sigward]\nthreshold = 5\n");
	tu_writes(t.dirs[0], "30-etc.conf", "[sigward]\nthreshold = 9\nstate_dir = /usr\n");
	/* /run: 20 masks /usr/lib's 20; 15 sorts between the /usr/lib files */
	tu_writes(t.dirs[1], "20-both.conf", "[sigward]\nthreshold = 6\n");
	tu_writes(t.dirs[1], "15-run.conf", "[sigward]\nscope = run\nlists_dir = /run-l\n");
	/* /etc: 30 masks /usr/lib's 30; 40 masks /run's 40 via /dev/null */
	tu_writes(t.dirs[2], "30-etc.conf", "[sigward]\nstate_dir = /etc-s\n");
	tu_writes(t.dirs[1], "40-masked.conf", "[sigward]\nmode = enforce\nthreshold = 16\n");
	char *lnk = tu_path(t.dirs[2], "40-masked.conf");
	assert_int_equal(symlink("/dev/null", lnk), 0);
	free(lnk);
	/* ignored: wrong suffix, hidden, editor leftovers, a .conf directory would
	 * be an error (tested below), so none here */
	tu_writes(t.dirs[2], "50-x.conf.bak", "garbage\n");
	tu_writes(t.dirs[2], ".60-hidden.conf", "garbage\n");
	tu_writes(t.dirs[2], "70-y.conf~", "garbage\n");
	tu_writes(t.dirs[2], "conf", "garbage\n");
	tu_writes(t.dirs[2], ".conf", "garbage\n");

	assert_int_equal(tree_load(&t, &c, &e), 0);
	assert_string_equal(c.scope, "run");          /* 15-run after 10-usr */
	assert_int_equal(c.mode, SW_MODE_WARN);       /* 40 masked: its enforce never applied */
	assert_int_equal(c.threshold, 6);             /* /run's 20, not /usr/lib's */
	assert_string_equal(c.keys_dir, "/main");
	assert_string_equal(c.lists_dir, "/run-l");
	assert_string_equal(c.state_dir, "/etc-s");   /* /etc's 30 only */
	char *f0 = tu_path(t.dirs[0], "10-usr.conf"), *f1 = tu_path(t.dirs[1], "15-run.conf"),
	     *f2 = tu_path(t.dirs[1], "20-both.conf"), *f3 = tu_path(t.dirs[2], "30-etc.conf");
	/* The vendor drop-in (/usr/lib) first, then the main file, then the rest. */
	const char *const want[] = { f0, t.main, f1, f2, f3 };
	assert_files(&c, want, 5);
	sw_config_free(&c);
	free(f0);
	free(f1);
	free(f2);
	free(f3);

	/* A mask in /etc hides the name even when it exists only in /usr/lib. */
	lnk = tu_path(t.dirs[2], "10-usr.conf");
	assert_int_equal(symlink("/dev/null", lnk), 0);
	free(lnk);
	assert_int_equal(tree_load(&t, &c, &e), 0);
	assert_int_equal(c.mode, SW_MODE_ENFORCE);
	assert_int_equal(c.n_files, 4);
	sw_config_free(&c);

	/* A drop-in in a higher dir can be a symlink to a regular file: followed. */
	char *target = tu_path(t.root, "shared.conf.txt");
	tu_writes(t.root, "shared.conf.txt", "[sigward]\nsyslog = no\n");
	lnk = tu_path(t.dirs[2], "90-link.conf");
	assert_int_equal(symlink(target, lnk), 0);
	assert_int_equal(tree_load(&t, &c, &e), 0);
	assert_false(c.syslog);
	assert_string_equal(c.files[c.n_files - 1], lnk);
	sw_config_free(&c);

	/* A dangling symlink is an error (it could be a drop-in meant to apply). */
	assert_int_equal(unlink(target), 0);
	sw_error_clear(&e);
	assert_true(tree_load(&t, &c, &e) < 0);
	check_msg(&e, lnk, 0, "");
	/* a failed load hands back nothing */
	assert_null(c.scope);
	assert_null(c.keys_dir);
	assert_int_equal(c.n_files, 0);
	sw_config_free(&c);
	assert_int_equal(unlink(lnk), 0);
	free(lnk);
	free(target);

	/* A bad drop-in fails the whole load, naming its file and line. */
	tu_writes(t.dirs[1], "99-bad.conf", "[sigward]\n\nbogus = 1\n");
	char *bad = tu_path(t.dirs[1], "99-bad.conf");
	assert_true(tree_load(&t, &c, &e) < 0);
	check_msg(&e, bad, 3, "unknown key 'bogus' in section [sigward]");
	assert_null(c.scope);
	sw_config_free(&c);
	/* ... unless masked from /etc */
	lnk = tu_path(t.dirs[2], "99-bad.conf");
	assert_int_equal(symlink("/dev/null", lnk), 0);
	assert_int_equal(tree_load(&t, &c, &e), 0);
	sw_config_free(&c);
	free(lnk);
	free(bad);

	/* A bad main file fails too. */
	tu_writes(t.root, "sigward.conf", "[sigward]\nthreshold = 0\n");
	assert_true(tree_load(&t, &c, &e) < 0);
	check_msg(&e, t.main, 2, "bad value for threshold");
	sw_config_free(&c);

	tree_free(&t);
}

static void test_dropin_errors(void **state)
{
	(void)state;
	tree t;
	tree_init(&t);
	sw_config c;
	sw_error e = { 0 };

	/* A FIFO named *.conf: refused, and opening it does not block. */
	char *fifo = tu_path(t.dirs[2], "10-fifo.conf");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_true(tree_load(&t, &c, &e) < 0);
	check_msg(&e, fifo, 0, "not a regular file");
	sw_config_free(&c);
	/* masked from a higher dir, it is not even opened */
	char *fifo_run = tu_path(t.dirs[1], "10-fifo.conf");
	assert_int_equal(rename(fifo, fifo_run), 0);
	assert_int_equal(symlink("/dev/null", fifo), 0);
	assert_int_equal(tree_load(&t, &c, &e), 0);
	sw_config_free(&c);
	assert_int_equal(unlink(fifo), 0);
	assert_int_equal(unlink(fifo_run), 0);
	free(fifo);
	free(fifo_run);

	/* A directory named *.conf. */
	char *d = tu_path(t.dirs[0], "20-dir.conf");
	assert_int_equal(mkdir(d, 0755), 0);
	assert_true(tree_load(&t, &c, &e) < 0);
	check_msg(&e, d, 0, "not a regular file");
	sw_config_free(&c);
	assert_int_equal(rmdir(d), 0);
	free(d);

	/* A drop-in "directory" that is a file: an error, not "no drop-ins". */
	tu_rmrf(t.dirs[1]);
	tu_writes(t.root, "run", "x");
	assert_true(tree_load(&t, &c, &e) < 0);
	check_msg(&e, t.dirs[1], 0, "cannot open directory");
	sw_config_free(&c);
	assert_int_equal(unlink(t.dirs[1]), 0);
	/* a missing one is fine */
	assert_int_equal(tree_load(&t, &c, &e), 0);
	sw_config_free(&c);
	assert_int_equal(mkdir(t.dirs[1], 0755), 0);

	/* Oversized drop-in. */
	size_t n = SW_CONFIG_MAX_SIZE + 1;
	char *big = xmalloc(n);
	memset(big, '#', n);
	tu_write(t.dirs[0], "50-big.conf", big, n);
	char *bigp = tu_path(t.dirs[0], "50-big.conf");
	assert_true(tree_load(&t, &c, &e) < 0);
	assert_int_equal(e.code, SW_ETOOBIG);
	check_msg(&e, bigp, 0, "more than the limit");
	sw_config_free(&c);
	/* exactly the limit is fine (one long comment line would be too long, so
	 * blank lines) */
	memset(big, '\n', n);
	tu_write(t.dirs[0], "50-big.conf", big, n - 1);
	assert_int_equal(tree_load(&t, &c, &e), 0);
	sw_config_free(&c);
	assert_int_equal(unlink(bigp), 0);
	free(bigp);
	free(big);

	/* NUL byte in a file on disk. */
	tu_write(t.dirs[2], "60-nul.conf", "[sigward]\nmode = w\0arn\n", 23);
	char *nulp = tu_path(t.dirs[2], "60-nul.conf");
	assert_true(tree_load(&t, &c, &e) < 0);
	check_msg(&e, nulp, 2, "NUL byte");
	sw_config_free(&c);
	assert_int_equal(unlink(nulp), 0);
	free(nulp);

	/* More than SW_CONFIG_MAX_FILES: refused rather than silently cut. */
	for (unsigned i = 0; i < SW_CONFIG_MAX_FILES; i++) {
		char name[32];
		snprintf(name, sizeof name, "%03u.conf", i);
		tu_writes(t.dirs[i % 3], name, "[sigward]\n");
	}
	tu_writes(t.root, "sigward.conf", "[sigward]\n");
	assert_true(tree_load(&t, &c, &e) < 0);   /* 128 drop-ins + the main file */
	assert_int_equal(e.code, SW_ETOOBIG);
	assert_non_null(strstr(e.msg, "too many"));
	sw_config_free(&c);
	assert_int_equal(unlink(t.main), 0);
	assert_int_equal(tree_load(&t, &c, &e), 0);   /* without it: exactly 128 */
	assert_int_equal(c.n_files, SW_CONFIG_MAX_FILES);
	sw_config_free(&c);
	tu_writes(t.dirs[0], "999.conf", "[sigward]\n");
	assert_true(tree_load(&t, &c, &e) < 0);
	assert_int_equal(e.code, SW_ETOOBIG);
	assert_non_null(strstr(e.msg, "too many"));
	sw_config_free(&c);

	tree_free(&t);
}

static void test_explicit(void **state)
{
	(void)state;
	char *root = tu_tmpdir();
	char *file = tu_path(root, "my.conf");
	char *dropdir = tu_path(root, "my.conf.d");
	sw_config c;
	sw_error e = { 0 };

	/* The explicit file must exist. */
	assert_true(sw_config_load(&c, file, &e) < 0);
	assert_int_equal(e.code, ENOENT);
	check_msg(&e, file, 0, "cannot open");
	assert_null(c.keys_dir);
	sw_config_free(&c);
	assert_true(sw_config_load(&c, "", &e) < 0);
	sw_config_free(&c);

	/* Without FILE.d: just the file. */
	tu_writes(root, "my.conf", "[sigward]\nscope = explicit\nmode = warn\n");
	assert_int_equal(sw_config_load(&c, file, &e), 0);
	assert_string_equal(c.scope, "explicit");
	assert_int_equal(c.mode, SW_MODE_WARN);
	const char *const want1[] = { file };
	assert_files(&c, want1, 1);
	sw_config_free(&c);

	/* With FILE.d: its *.conf in name order, after the file. */
	assert_int_equal(mkdir(dropdir, 0755), 0);
	tu_writes(dropdir, "b.conf", "[sigward]\nscope = b\n");
	tu_writes(dropdir, "a.conf", "[sigward]\nscope = a\nthreshold = 2\n");
	tu_writes(dropdir, "c.txt", "[sigward]\nscope = c\n");
	assert_int_equal(sw_config_load(&c, file, &e), 0);
	assert_string_equal(c.scope, "b");
	assert_int_equal(c.threshold, 2);
	char *fa = tu_path(dropdir, "a.conf"), *fb = tu_path(dropdir, "b.conf");
	const char *const want2[] = { file, fa, fb };
	assert_files(&c, want2, 3);
	sw_config_free(&c);

	/* A /dev/null link in FILE.d is simply nothing to read. */
	assert_int_equal(unlink(fb), 0);
	assert_int_equal(symlink("/dev/null", fb), 0);
	assert_int_equal(sw_config_load(&c, file, &e), 0);
	assert_string_equal(c.scope, "a");
	assert_int_equal(c.n_files, 2);
	sw_config_free(&c);

	/* The explicit file may not be a directory or a FIFO. */
	char *fifo = tu_path(root, "fifo.conf");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_true(sw_config_load(&c, fifo, &e) < 0);
	check_msg(&e, fifo, 0, "not a regular file");
	sw_config_free(&c);
	assert_true(sw_config_load(&c, root, &e) < 0);
	check_msg(&e, root, 0, "not a regular file");
	sw_config_free(&c);

	/* Truncated explicit file: the last line without its newline still applies,
	 * a cut section header does not. */
	tu_writes(root, "my.conf", "[sigward]\nscope = cut");
	assert_int_equal(unlink(fa), 0);
	assert_int_equal(sw_config_load(&c, file, &e), 0);
	assert_string_equal(c.scope, "cut");
	sw_config_free(&c);
	tu_writes(root, "my.conf", "[sigward]\nscope = x\n[refr");
	assert_true(sw_config_load(&c, file, &e) < 0);
	check_msg(&e, file, 3, "does not end with ']'");
	sw_config_free(&c);

	/* Loading on top of a struct that held something from a previous load:
	 * the daemon reloads into a fresh struct, but a re-load after free works. */
	tu_writes(root, "my.conf", "[sigward]\nscope = again\n");
	assert_int_equal(sw_config_load(&c, file, &e), 0);
	sw_config_free(&c);
	assert_int_equal(sw_config_load(&c, file, &e), 0);
	assert_string_equal(c.scope, "again");
	sw_config_free(&c);

	tu_rmrf(root);
	free(fa);
	free(fb);
	free(fifo);
	free(file);
	free(dropdir);
	free(root);
}

/* The main file of load_paths may be missing, but not unreadable. */
static void test_main_missing(void **state)
{
	(void)state;
	char *root = tu_tmpdir();
	char *file = tu_path(root, "absent.conf");
	sw_config c;
	sw_error e = { 0 };
	assert_int_equal(sw_config_load_paths(&c, file, NULL, 0, 0, &e), 0);
	check_defaults(&c);
	assert_int_equal(c.n_files, 0);
	sw_config_free(&c);
	assert_int_equal(sw_config_load_paths(&c, NULL, NULL, 0, 0, &e), 0);
	sw_config_free(&c);
	/* a path through a regular file is not "missing" */
	tu_writes(root, "f", "x");
	char *through = tu_path(root, "f/sigward.conf");
	assert_true(sw_config_load_paths(&c, through, NULL, 0, 0, &e) < 0);
	check_msg(&e, through, 0, "cannot open");
	sw_config_free(&c);
	free(through);
	tu_rmrf(root);
	free(file);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_config_free),
		cmocka_unit_test(test_mode_name),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nul_and_sizes),
		cmocka_unit_test(test_lexical),
		cmocka_unit_test(test_annotations),
		cmocka_unit_test(test_later_wins),
		cmocka_unit_test(test_dropins),
		cmocka_unit_test(test_dropin_errors),
		cmocka_unit_test(test_explicit),
		cmocka_unit_test(test_main_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
