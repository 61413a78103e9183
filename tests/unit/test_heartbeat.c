/* SPDX-License-Identifier: Apache-2.0 */
/* lib/heartbeat: the heartbeat record kind in the decision log's chain, and the
 * gaps between heartbeats. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "declog.h"
#include "heartbeat.h"

#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"

static sw_heartbeat sample(void)
{
	sw_heartbeat hb = { .time = 1900000000, .have_list = true, .serial = 18446744073709551615ull,
			    .interval = 900, .tolerance = 2 };
	snprintf(hb.host, sizeof hb.host, "node-a");
	snprintf(hb.version, sizeof hb.version, "1.2.3");
	snprintf(hb.mode, sizeof hb.mode, "enforce");
	snprintf(hb.scope, sizeof hb.scope, "prod");
	hb.n_wiring = 2;
	snprintf(hb.wiring[0].name, sizeof hb.wiring[0].name, "hooks.d");
	hb.wiring[0].wired = true;
	snprintf(hb.wiring[0].how, sizeof hb.wiring[0].how, "/usr/share/containers/oci/hooks.d/sigward.json");
	snprintf(hb.wiring[1].name, sizeof hb.wiring[1].name, "docker");
	snprintf(hb.wiring[1].how, sizeof hb.wiring[1].how, "no \"sigward-runc\"\nruntime");
	hb.n_canaries = 2;
	sw_canary *c = &hb.canaries[0];
	snprintf(c->runtime, sizeof c->runtime, "runc");
	snprintf(c->path, sizeof c->path, "hooks.d");
	snprintf(c->container, sizeof c->container, "sigward-canary-0123-runc");
	snprintf(c->digest, sizeof c->digest, "sha256:%064d", 7);
	c->result = SW_CANARY_REFUSED;
	snprintf(c->detail, sizeof c->detail, "sigward: denied container sigward-canary-0123-runc: not listed");
	c = &hb.canaries[1];
	snprintf(c->runtime, sizeof c->runtime, "crun");
	snprintf(c->path, sizeof c->path, "hooks.d");
	c->result = SW_CANARY_NOT_REFUSED;
	/* Bytes that are not UTF-8 in a detail (a runtime's output) stay one valid line. */
	snprintf(c->detail, sizeof c->detail, "exit 0 \xff\xfe");
	return hb;
}

/* A heartbeat renders as one JSON line that parses back to the same facts. */
static void test_render_parse(void **state)
{
	(void)state;
	sw_heartbeat hb = sample(), back;
	char *line = NULL;
	size_t len = 0;
	sw_error e = { 0 };
	assert_int_equal(sw_heartbeat_render(&hb, ZERO, &line, &len, &e), 0);
	assert_int_equal(strlen(line), len);
	assert_null(memchr(line, '\n', len));
	assert_non_null(strstr(line, "\"kind\":\"heartbeat\""));
	assert_non_null(strstr(line, "\"serial\":18446744073709551615"));
	/* "time" first and "prev" last, like a decision record. */
	assert_int_equal(strncmp(line, "{\"time\":\"2030-03-17T17:46:40Z\"", 30), 0);
	assert_non_null(strstr(line, ",\"prev\":\"" ZERO "\"}"));
	assert_int_equal(sw_heartbeat_parse(line, len, "hb", &back, &e), 1);
	assert_int_equal(back.time, hb.time);
	assert_string_equal(back.mode, "enforce");
	assert_true(back.have_list);
	assert_string_equal(back.scope, "prod");
	assert_true(back.serial == hb.serial);
	assert_int_equal(back.interval, 900);
	assert_int_equal(back.tolerance, 2);
	assert_int_equal(back.n_wiring, 2);
	assert_true(back.wiring[0].wired);
	assert_false(back.wiring[1].wired);
	assert_string_equal(back.wiring[1].how, "no \"sigward-runc\"\nruntime");
	assert_int_equal(back.n_canaries, 2);
	assert_int_equal(back.canaries[0].result, SW_CANARY_REFUSED);
	assert_string_equal(back.canaries[0].container, "sigward-canary-0123-runc");
	assert_int_equal(back.canaries[1].result, SW_CANARY_NOT_REFUSED);
	assert_string_equal(back.canaries[1].detail, "exit 0 \xef\xbf\xbd\xef\xbf\xbd");
	free(line);
}

/* A decision (no "kind") is not a heartbeat; a heartbeat missing its interval,
 * or with a result word it does not know, is not taken as a refusal. */
static void test_kinds(void **state)
{
	(void)state;
	sw_heartbeat hb;
	sw_error e = { 0 };
	const char *dec = "{\"time\":\"2030-03-17T17:46:40Z\",\"container\":\"a\",\"decision\":\"deny\",\"prev\":\"" ZERO "\"}";
	assert_int_equal(sw_heartbeat_parse(dec, strlen(dec), "d", &hb, &e), 0);
	const char *other = "{\"time\":\"2030-03-17T17:46:40Z\",\"kind\":\"other\",\"prev\":\"" ZERO "\"}";
	assert_int_equal(sw_heartbeat_parse(other, strlen(other), "d", &hb, &e), 0);
	const char *noint = "{\"time\":\"2030-03-17T17:46:40Z\",\"kind\":\"heartbeat\",\"tolerance\":2,\"prev\":\"" ZERO "\"}";
	assert_true(sw_heartbeat_parse(noint, strlen(noint), "hb", &hb, &e) < 0);
	assert_non_null(strstr(e.msg, "hb: a heartbeat without a valid interval"));
	const char *notime = "{\"kind\":\"heartbeat\",\"interval\":60,\"tolerance\":2}";
	assert_true(sw_heartbeat_parse(notime, strlen(notime), "hb", &hb, &e) < 0);
	const char *odd = "{\"time\":\"2030-03-17T17:46:40Z\",\"kind\":\"heartbeat\",\"interval\":60,\"tolerance\":2,"
			  "\"canaries\":[{\"runtime\":\"runc\",\"result\":\"Refused\"},{\"runtime\":\"crun\"}]}";
	assert_int_equal(sw_heartbeat_parse(odd, strlen(odd), "hb", &hb, &e), 1);
	assert_int_equal(hb.n_canaries, 2);
	assert_int_equal(hb.canaries[0].result, SW_CANARY_ERROR);
	assert_int_equal(hb.canaries[1].result, SW_CANARY_ERROR);
	assert_false(hb.have_list);
	const char *bad = "[1,2]";
	assert_true(sw_heartbeat_parse(bad, strlen(bad), "hb", &hb, &e) < 0);
}

/* Heartbeats go into the decisions' own chain: decision, heartbeat, decision
 * verify as one chain, and the head names the newest record. */
static void test_same_chain(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char *log = tu_path(dir, "decisions.jsonl");
	char *st = tu_path(dir, "state");
	assert_int_equal(mkdir(st, 0700), 0);
	static sw_decision dec = { .verdict = SW_DENY, .reason = "not listed" };
	sw_record r = { .time = 1900000000, .container_id = "c1", .bundle = "/b", .runtime = "hook",
			.mode = SW_MODE_ENFORCE, .decision = &dec };
	sw_heartbeat hb = sample();
	sw_error e = { 0 };
	assert_int_equal(sw_declog_append(log, st, &r, &e), 0);
	assert_int_equal(sw_heartbeat_append(log, st, &hb, &e), 0);
	assert_int_equal(sw_declog_append(log, st, &r, &e), 0);
	size_t hl, n = 0;
	char *head = tu_read(st, SW_LOG_HEAD_NAME, &hl);
	head[SW_SHA256_HEX] = '\0';
	char last[SW_SHA256_HEX + 1];
	assert_int_equal(sw_declog_verify(log, NULL, head, &n, last, &e), 0);
	assert_int_equal(n, 3);
	/* The heartbeat is line 2 and parses as one. */
	size_t ll;
	char *text = tu_read(dir, "decisions.jsonl", &ll);
	char *l2 = strchr(text, '\n') + 1;
	char *end = strchr(l2, '\n');
	sw_heartbeat back;
	assert_int_equal(sw_heartbeat_parse(l2, (size_t)(end - l2), "line 2", &back, &e), 1);
	/* Editing the heartbeat (a canary made to look refused) breaks the chain. */
	char *p = strstr(text, "not-refused");
	assert_non_null(p);
	memcpy(p, "refused    ", 11);
	tu_write(dir, "decisions.jsonl", text, ll);
	assert_true(sw_declog_verify(log, NULL, head, &n, last, &e) < 0);
	assert_non_null(strstr(e.msg, ":3: chain broken"));
	free(text);
	free(head);
	tu_rmrf(dir);
	free(log);
	free(st);
	free(dir);
}

/* The gap computation: every stretch longer than the max gap of the heartbeat
 * before it, from since when asked, and to until. */
static void test_gaps(void **state)
{
	(void)state;
	sw_gap g[8];
	/* Every 900 s, max gap 1800: no gap. */
	sw_beat b[] = { { 1000, 1800 }, { 1900, 1800 }, { 2800, 1800 }, { 3700, 1800 } };
	assert_int_equal(sw_heartbeat_gaps(b, 4, 0, false, 4000, 1800, g, 8), 0);
	/* Exactly the max gap is not a gap; one second more is. */
	sw_beat e1[] = { { 1000, 1800 }, { 2800, 1800 }, { 4601, 1800 } };
	assert_int_equal(sw_heartbeat_gaps(e1, 3, 0, false, 4601, 1800, g, 8), 1);
	assert_int_equal(g[0].from, 2800);
	assert_int_equal(g[0].to, 4601);
	/* A week unwired in the middle, and a node that stopped: two gaps. */
	sw_beat w[] = { { 1000, 1800 }, { 1000 + 7 * 86400, 1800 } };
	assert_int_equal(sw_heartbeat_gaps(w, 2, 0, false, 1000 + 8 * 86400, 1800, g, 8), 2);
	assert_int_equal(g[0].from, 1000);
	assert_int_equal(g[0].to, 1000 + 7 * 86400);
	assert_int_equal(g[1].from, 1000 + 7 * 86400);
	assert_int_equal(g[1].to, 1000 + 8 * 86400);
	/* Each heartbeat's own max gap: one that promised 60 s is late after 61. */
	sw_beat m[] = { { 1000, 60 }, { 1061, 1800 }, { 2000, 1800 } };
	assert_int_equal(sw_heartbeat_gaps(m, 3, 0, false, 2000, 1800, g, 8), 1);
	assert_int_equal(g[0].from, 1000);
	/* From since: a late first heartbeat is a gap; without since it is not. */
	sw_beat f[] = { { 5000, 1800 } };
	assert_int_equal(sw_heartbeat_gaps(f, 1, 1000, true, 5000, 1800, g, 8), 1);
	assert_int_equal(g[0].from, 1000);
	assert_int_equal(g[0].to, 5000);
	assert_int_equal(sw_heartbeat_gaps(f, 1, 1000, false, 5000, 1800, g, 8), 0);
	/* None at all: the whole period with since, nothing counted without. */
	assert_int_equal(sw_heartbeat_gaps(NULL, 0, 1000, true, 9000, 1800, g, 8), 1);
	assert_int_equal(g[0].to, 9000);
	assert_int_equal(sw_heartbeat_gaps(NULL, 0, 1000, false, 9000, 1800, g, 8), 0);
	/* More gaps than room: all counted, the first max written. */
	sw_beat many[] = { { 0, 10 }, { 100, 10 }, { 200, 10 }, { 300, 10 } };
	assert_int_equal(sw_heartbeat_gaps(many, 4, 0, false, 400, 10, g, 2), 4);
	assert_int_equal(g[1].from, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_parse),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_same_chain),
		cmocka_unit_test(test_gaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
