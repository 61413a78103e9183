/* SPDX-License-Identifier: Apache-2.0 */
/* sigward audit, step 9: heartbeats and canaries (auditlive.h). */
#include "auditlive.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "json.h"
#include "util.h"

/* How far back from its heartbeat a canary's deny record is looked for: the
 * canaries run right before their heartbeat is written, so it is among the
 * records just before it (other starts may come in between). */
#define DENY_WINDOW 10000
/* Heartbeats without a finding shown in the table at most (all are evidence). */
#define TABLE_GOOD_MAX 200

static void fmt_dur(int64_t s, char *buf, size_t n)
{
	if (s >= 86400)
		snprintf(buf, n, "%" PRId64 "d %" PRId64 "h %" PRId64 "m", s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, n, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, n, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
}

/* The deny record of a canary's container, among the records before its
 * heartbeat. Canary ids are [a-z0-9-] (selftest.c), so the JSON text of the
 * member is the id itself. */
static bool has_deny(const audit_live_in *in, size_t hb_index, const char *id)
{
	if (!id[0])
		return false;
	_cleanup_free_ char *want = xasprintf("\"container\":\"%s\"", id);
	for (size_t j = hb_index, k = 0; j-- > 0 && k < DENY_WINDOW; k++)
		if (strstr(in->lines[j], want) && strstr(in->lines[j], "\"decision\":\"deny\""))
			return true;
	return false;
}

static void add_fail(audit_live *out, int64_t t, const sw_canary *c, const char *result)
{
	audit_live_fail *f = realloc(out->failed, (out->n_failed + 1) * sizeof *f);
	if (!f)
		abort();
	out->failed = f;
	f += out->n_failed++;
	memset(f, 0, sizeof *f);
	f->time = t;
	snprintf(f->runtime, sizeof f->runtime, "%s", c->runtime);
	snprintf(f->path, sizeof f->path, "%s", c->path);
	snprintf(f->container, sizeof f->container, "%s", c->container);
	snprintf(f->result, sizeof f->result, "%s", result);
	snprintf(f->detail, sizeof f->detail, "%s", c->detail);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool audit_live_is_canary(const audit_live *l, const char *id)
{
	return l->n_canary_ids && id && id[0] &&
	       bsearch(&id, l->canary_ids, l->n_canary_ids, sizeof *l->canary_ids, cmp_str) != NULL;
}

void audit_liveness(report *rep, const audit_live_in *in, audit_live *out)
{
	memset(out, 0, sizeof *out);
	out->since = in->since;
	out->until = in->until;
	out->since_given = in->since_given;
	section *s = sec_new(rep, 9, "Enforcement was live for the whole period: heartbeats and canaries");
	sec_evidence(s, "evidence/heartbeats.jsonl");
	table *ht = tab_new(s, "heartbeats", "time", "mode", "list", "wiring", "canaries", NULL);
	FILE *ev = open_memstream(&out->evidence, &out->evidence_len);
	if (!ev)
		abort();
	sw_beat *beats = NULL;
	size_t nb = 0, good = 0;
	bool weak = false;             /* a heartbeat in warn mode or without a canary */
	for (size_t i = 0; i < in->n; i++) {
		const char *l = in->lines[i];
		/* Only heartbeats are parsed again: the writer renders exactly this. */
		if (!strstr(l, "\"kind\":\"" SW_HEARTBEAT_KIND "\""))
			continue;
		sw_heartbeat hb;
		sw_error e = { 0 };
		int r = sw_heartbeat_parse(l, strlen(l), "a heartbeat record", &hb, &e);
		if (r < 0) {
			finding(rep, s, "record %zu of the log: %s", i + 1, e.msg);
			continue;
		}
		if (r == 0)
			continue;
		for (size_t k = 0; k < hb.n_canaries; k++) {
			if (!hb.canaries[k].container[0])
				continue;
			char **ids = realloc(out->canary_ids, (out->n_canary_ids + 1) * sizeof *ids);
			if (!ids)
				abort();
			out->canary_ids = ids;
			ids[out->n_canary_ids++] = xstrdup(hb.canaries[k].container);
		}
		if (hb.time < in->since || hb.time > in->until)
			continue;
		fprintf(ev, "%s\n", l);
		beats = realloc(beats, (nb + 1) * sizeof *beats);
		if (!beats)
			abort();
		beats[nb++] = (sw_beat){ .time = hb.time, .max_gap = hb.interval * (int64_t)hb.tolerance };
		out->heartbeats++;
		if (!out->first)
			out->first = hb.time;
		out->last = hb.time;
		snprintf(out->last_mode, sizeof out->last_mode, "%s", hb.mode);
		if (hb.have_list)
			snprintf(out->last_list, sizeof out->last_list, "%s#%" PRIu64, hb.scope, hb.serial);
		else
			out->last_list[0] = '\0';

		char t[32], wiring[1024] = "", canaries[2048] = "";
		sw_format_rfc3339(hb.time, t);
		bool bad = false;
		for (size_t k = 0; k < hb.n_wiring; k++)
			snprintf(wiring + strlen(wiring), sizeof wiring - strlen(wiring), "%s%s %s", k ? ", " : "",
				 hb.wiring[k].name, hb.wiring[k].wired ? "wired" : "NOT wired");
		if (strcmp(hb.mode, "enforce") != 0) {
			bad = weak = true;
			finding(rep, s, "%s: the heartbeat says mode %s: images not in the list were allowed", t, hb.mode);
		}
		if (hb.n_canaries == 0) {
			bad = weak = true;
			finding(rep, s, "%s: no canary ran: no runtime path was wired to sigward (%s)", t,
				wiring[0] ? wiring : "no wiring recorded");
		}
		for (size_t k = 0; k < hb.n_canaries; k++) {
			const sw_canary *c = &hb.canaries[k];
			out->canaries++;
			bool recorded = c->result == SW_CANARY_REFUSED && has_deny(in, i, c->container);
			const char *res = c->result == SW_CANARY_REFUSED ? (recorded ? "refused" : "unrecorded")
									 : sw_canary_result_name(c->result);
			snprintf(canaries + strlen(canaries), sizeof canaries - strlen(canaries), "%s%s via %s: %s",
				 k ? "; " : "", c->runtime, c->path, recorded ? "refused" : res);
			if (recorded) {
				out->refused++;
				continue;
			}
			bad = true;
			add_fail(out, hb.time, c, res);
			if (c->result == SW_CANARY_NOT_REFUSED)
				finding(rep, s, "%s: a canary was NOT refused through %s (%s, %s): %s", t, c->path, c->runtime,
					c->enforcer, c->detail);
			else if (c->result == SW_CANARY_ERROR)
				finding(rep, s, "%s: a canary could not be run through %s (%s, %s): %s", t, c->path, c->runtime,
					c->enforcer, c->detail);
			else
				finding(rep, s, "%s: the canary %s was reported refused through %s but has no deny record of its "
					"own in the log", t, c->container, c->path);
		}
		if (bad || good++ < TABLE_GOOD_MAX)
			tab_row(ht, bad, t, hb.mode, hb.have_list ? out->last_list : "(none)", wiring, canaries);
	}
	fclose(ev);
	if (good > TABLE_GOOD_MAX) {
		_cleanup_free_ char *more = xasprintf("and %zu more heartbeats without a finding (evidence/heartbeats.jsonl)",
						      good - TABLE_GOOD_MAX);
		tab_row(ht, false, "", "", "", "", more);
	}

	out->max_gap = nb ? beats[nb - 1].max_gap : in->default_max_gap;
	out->n_gaps = sw_heartbeat_gaps(beats, nb, in->since, in->since_given, in->until, in->default_max_gap, NULL, 0);
	if (out->n_gaps) {
		out->gaps = calloc(out->n_gaps, sizeof *out->gaps);
		if (!out->gaps)
			abort();
		sw_heartbeat_gaps(beats, nb, in->since, in->since_given, in->until, in->default_max_gap, out->gaps,
				  out->n_gaps);
	}
	table *gt = tab_new(s, "gaps", "from", "to", "length", "longest allowed", NULL);
	for (size_t i = 0; i < out->n_gaps; i++) {
		char a[32], b[32], d[64], m[64];
		sw_format_rfc3339(out->gaps[i].from, a);
		sw_format_rfc3339(out->gaps[i].to, b);
		fmt_dur(out->gaps[i].to - out->gaps[i].from, d, sizeof d);
		/* The allowance of the heartbeat the gap follows (the default before the first). */
		int64_t allowed = in->default_max_gap;
		for (size_t k = 0; k < nb; k++)
			if (beats[k].time == out->gaps[i].from)
				allowed = beats[k].max_gap;
		fmt_dur(allowed, m, sizeof m);
		tab_row(gt, true, a, b, d, m);
		finding(rep, s, "no heartbeat from %s to %s (%s; at most %s allowed): enforcement is not evidenced for that "
			"time", a, b, d, m);
	}
	if (nb == 0)
		finding(rep, s, "no heartbeat in the period: nothing shows that enforcement was live "
			"(is sigward-selftest.timer enabled?)");
	free(beats);
	if (out->n_canary_ids)
		qsort(out->canary_ids, out->n_canary_ids, sizeof *out->canary_ids, cmp_str);
	out->live = nb > 0 && out->n_gaps == 0 && out->n_failed == 0 && !weak;

	char a[32] = "", b[32] = "";
	if (nb) {
		sw_format_rfc3339(out->first, a);
		sw_format_rfc3339(out->last, b);
	}
	s->answer = out->live
		? xasprintf("Yes: %zu heartbeat(s) from %s to %s with no gap longer than allowed; all %zu canaries "
			    "(an unlisted image started through every wired runtime) were refused and recorded.",
			    nb, a, b, out->canaries)
		: nb == 0 ? xstrdup("Not evidenced: no heartbeat in the period.")
		: xasprintf("NO: %zu heartbeat(s) from %s to %s; %zu gap(s) longer than allowed; %zu of %zu canaries not "
			    "refused or not recorded%s (see the findings).", nb, a, b, out->n_gaps, out->n_failed,
			    out->canaries, weak ? "; heartbeats in warn mode or without a canary" : "");
}

/* ------------------------------------------------------------ report.json */

/* Cleaned of invalid UTF-8 (a detail cut to fit may end inside a character);
 * yajl_gen would copy it as it is. */
static void js(yajl_gen g, const char *s)
{
	_cleanup_jsonbuf_ sw_jsonbuf b = { 0 };
	sw_jsonbuf_utf8(&b, s, strlen(s));
	yajl_gen_string(g, (const unsigned char *)(b.p ? b.p : ""), b.failed ? 0 : b.len);
}

static void jtime(yajl_gen g, int64_t t, bool have)
{
	char b[32];
	if (!have) {
		yajl_gen_null(g);
		return;
	}
	sw_format_rfc3339(t, b);
	js(g, b);
}

void audit_live_json(void *gv, const void *lv)
{
	yajl_gen g = gv;
	const audit_live *l = lv;
	yajl_gen_map_open(g);
	js(g, "since"); jtime(g, l->since, l->since_given);
	js(g, "until"); jtime(g, l->until, true);
	js(g, "max_gap"); yajl_gen_integer(g, l->max_gap);
	js(g, "heartbeats"); yajl_gen_integer(g, (long long)l->heartbeats);
	js(g, "first_heartbeat"); jtime(g, l->first, l->heartbeats > 0);
	js(g, "last_heartbeat"); jtime(g, l->last, l->heartbeats > 0);
	js(g, "last_heartbeat_age");
	if (l->heartbeats)
		yajl_gen_integer(g, l->until - l->last);
	else
		yajl_gen_null(g);
	js(g, "last_mode");
	if (l->heartbeats)
		js(g, l->last_mode);
	else
		yajl_gen_null(g);
	js(g, "last_list");
	if (l->last_list[0])
		js(g, l->last_list);
	else
		yajl_gen_null(g);
	js(g, "canaries"); yajl_gen_integer(g, (long long)l->canaries);
	js(g, "canaries_refused"); yajl_gen_integer(g, (long long)l->refused);
	js(g, "gaps");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < l->n_gaps; i++) {
		yajl_gen_map_open(g);
		js(g, "from"); jtime(g, l->gaps[i].from, true);
		js(g, "to"); jtime(g, l->gaps[i].to, true);
		js(g, "seconds"); yajl_gen_integer(g, l->gaps[i].to - l->gaps[i].from);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	js(g, "canaries_failed");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < l->n_failed; i++) {
		const audit_live_fail *f = &l->failed[i];
		yajl_gen_map_open(g);
		js(g, "time"); jtime(g, f->time, true);
		js(g, "runtime"); js(g, f->runtime);
		js(g, "path"); js(g, f->path);
		js(g, "container"); js(g, f->container);
		js(g, "result"); js(g, f->result);
		js(g, "detail"); js(g, f->detail);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	js(g, "live"); yajl_gen_bool(g, l->live);
	yajl_gen_map_close(g);
}

void audit_live_free(audit_live *l)
{
	free(l->gaps);
	free(l->failed);
	free(l->evidence);
	for (size_t i = 0; i < l->n_canary_ids; i++)
		free(l->canary_ids[i]);
	free(l->canary_ids);
	memset(l, 0, sizeof *l);
}
