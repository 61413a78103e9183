/* SPDX-License-Identifier: Apache-2.0 */
#include "heartbeat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "declog.h"
#include "json.h"

static const char *const result_names[] = {
	[SW_CANARY_REFUSED] = "refused",
	[SW_CANARY_NOT_REFUSED] = "not-refused",
	[SW_CANARY_ERROR] = "error",
};

const char *sw_canary_result_name(sw_canary_result r)
{
	return (unsigned)r < SW_ARRAY_SIZE(result_names) ? result_names[r] : "error";
}

/* ------------------------------------------------------------ render */

static void field(sw_jsonbuf *b, const char *k, const char *v)
{
	sw_jsonbuf_raw(b, ",", 1);
	sw_jsonbuf_key(b, k);
	sw_jsonbuf_str(b, v);
}

int sw_heartbeat_render(const void *rec, const char *prev_hex, char **out, size_t *len, sw_error *err)
{
	const sw_heartbeat *hb = rec;
	_cleanup_jsonbuf_ sw_jsonbuf w = { 0 };
	char t[32];
	sw_format_rfc3339(hb->time, t);
	/* "time" first and "prev" last, like a decision: readers that know only
	 * decisions still find the time, and the chain reads the same way. */
	sw_jsonbuf_lit(&w, "{");
	sw_jsonbuf_key(&w, "time");
	sw_jsonbuf_str(&w, t);
	field(&w, "kind", SW_HEARTBEAT_KIND);
	field(&w, "host", hb->host);
	field(&w, "version", hb->version);
	field(&w, "mode", hb->mode);
	sw_jsonbuf_lit(&w, ",\"allowlist\":");
	if (hb->have_list) {
		sw_jsonbuf_lit(&w, "{\"scope\":");
		sw_jsonbuf_str(&w, hb->scope);
		sw_jsonbuf_lit(&w, ",\"serial\":");
		sw_jsonbuf_u64(&w, hb->serial);
		sw_jsonbuf_lit(&w, "}");
	} else {
		sw_jsonbuf_null(&w);
	}
	sw_jsonbuf_lit(&w, ",\"interval\":");
	sw_jsonbuf_i64(&w, hb->interval);
	sw_jsonbuf_lit(&w, ",\"tolerance\":");
	sw_jsonbuf_u64(&w, hb->tolerance);
	sw_jsonbuf_lit(&w, ",\"wiring\":[");
	for (size_t i = 0; i < hb->n_wiring && i < SW_HB_MAX_WIRING; i++) {
		const sw_hb_wiring *x = &hb->wiring[i];
		sw_jsonbuf_raw(&w, i ? ",{" : "{", i ? 2 : 1);
		sw_jsonbuf_key(&w, "name");
		sw_jsonbuf_str(&w, x->name);
		sw_jsonbuf_lit(&w, ",\"wired\":");
		if (x->wired)
			sw_jsonbuf_lit(&w, "true");
		else
			sw_jsonbuf_lit(&w, "false");
		field(&w, "how", x->how);
		sw_jsonbuf_lit(&w, "}");
	}
	sw_jsonbuf_lit(&w, "],\"canaries\":[");
	for (size_t i = 0; i < hb->n_canaries && i < SW_HB_MAX_CANARIES; i++) {
		const sw_canary *x = &hb->canaries[i];
		sw_jsonbuf_raw(&w, i ? ",{" : "{", i ? 2 : 1);
		sw_jsonbuf_key(&w, "runtime");
		sw_jsonbuf_str(&w, x->runtime);
		field(&w, "path", x->path);
		field(&w, "enforcer", x->enforcer);
		field(&w, "container", x->container);
		field(&w, "digest", x->digest);
		field(&w, "result", sw_canary_result_name(x->result));
		field(&w, "detail", x->detail);
		sw_jsonbuf_lit(&w, "}");
	}
	sw_jsonbuf_lit(&w, "]");
	field(&w, "prev", prev_hex);
	sw_jsonbuf_lit(&w, "}");
	if (w.failed)
		return sw_err(err, SW_EINVAL, "decision log: cannot render the heartbeat");
	if (w.len >= SW_LOG_LINE_MAX)
		return sw_err(err, SW_ETOOBIG, "decision log: the heartbeat is %zu bytes, over the limit of %d", w.len,
			      SW_LOG_LINE_MAX - 1);
	*len = w.len;
	*out = TAKE_PTR(w.p);
	return 0;
}

int sw_heartbeat_append(const char *log_file, const char *state_dir, const sw_heartbeat *hb, sw_error *err)
{
	return sw_declog_append_with(log_file, state_dir, sw_heartbeat_render, hb, err);
}

/* ------------------------------------------------------------ parse */

static const char *jstr(yajl_val v, const char *key)
{
	const char *p[] = { key, NULL };
	yajl_val x = yajl_tree_get(v, p, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

/* A non-negative integer member; false when absent or not one. yajl keeps
 * numbers as text too, so the text is parsed (the serial is unsigned 64-bit). */
static bool jnum(yajl_val v, const char *key, uint64_t *out)
{
	const char *p[] = { key, NULL };
	yajl_val x = yajl_tree_get(v, p, yajl_t_number);
	const char *s = x ? x->u.number.r : NULL;
	return s && sw_parse_u64(s, strlen(s), out) == 0;
}

int sw_heartbeat_parse(const char *line, size_t len, const char *what, sw_heartbeat *hb, sw_error *err)
{
	/* yajl reads up to a NUL: a line handed over by length is copied first. */
	_cleanup_free_ char *z = strndup(line, len);
	if (!z)
		return sw_err_errno(err, ENOMEM, "%s: cannot read the record", what);
	_cleanup_yajl_ yajl_val v = NULL;
	int r = sw_json_tree(z, len, what, &v, err);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(v))
		return sw_err(err, SW_EINVAL, "%s: not a JSON object", what);
	const char *kind = jstr(v, "kind");
	if (!kind || strcmp(kind, SW_HEARTBEAT_KIND) != 0)
		return 0;
	memset(hb, 0, sizeof *hb);
	const char *t = jstr(v, "time");
	if (!t || sw_parse_rfc3339(t, strlen(t), &hb->time) < 0)
		return sw_err(err, SW_EINVAL, "%s: a heartbeat without a valid time", what);
	uint64_t iv = 0, tol = 0;
	/* Without its interval a heartbeat says nothing about how long the next
	 * gap may be: refused rather than guessed. */
	if (!jnum(v, "interval", &iv) || iv == 0 || iv > INT32_MAX || !jnum(v, "tolerance", &tol) || tol == 0 ||
	    tol > 1000)
		return sw_err(err, SW_EINVAL, "%s: a heartbeat without a valid interval and tolerance", what);
	hb->interval = (int64_t)iv;
	hb->tolerance = (unsigned)tol;
	sw_copy_str(hb->host, sizeof hb->host, jstr(v, "host"));
	sw_copy_str(hb->version, sizeof hb->version, jstr(v, "version"));
	sw_copy_str(hb->mode, sizeof hb->mode, jstr(v, "mode"));
	const char *ap[] = { "allowlist", NULL };
	yajl_val al = yajl_tree_get(v, ap, yajl_t_object);
	if (al) {
		hb->have_list = true;
		sw_copy_str(hb->scope, sizeof hb->scope, jstr(al, "scope"));
		if (!jnum(al, "serial", &hb->serial))
			hb->serial = 0;
	}
	const char *wp[] = { "wiring", NULL };
	yajl_val wa = yajl_tree_get(v, wp, yajl_t_array);
	for (size_t i = 0; wa && i < wa->u.array.len && hb->n_wiring < SW_HB_MAX_WIRING; i++) {
		yajl_val x = wa->u.array.values[i];
		if (!YAJL_IS_OBJECT(x))
			continue;
		sw_hb_wiring *o = &hb->wiring[hb->n_wiring++];
		sw_copy_str(o->name, sizeof o->name, jstr(x, "name"));
		sw_copy_str(o->how, sizeof o->how, jstr(x, "how"));
		const char *bp[] = { "wired", NULL };
		o->wired = YAJL_IS_TRUE(yajl_tree_get(x, bp, yajl_t_any));
	}
	const char *cp[] = { "canaries", NULL };
	yajl_val ca = yajl_tree_get(v, cp, yajl_t_array);
	for (size_t i = 0; ca && i < ca->u.array.len && hb->n_canaries < SW_HB_MAX_CANARIES; i++) {
		yajl_val x = ca->u.array.values[i];
		if (!YAJL_IS_OBJECT(x))
			return sw_err(err, SW_EINVAL, "%s: a heartbeat canary is not an object", what);
		sw_canary *o = &hb->canaries[hb->n_canaries++];
		sw_copy_str(o->runtime, sizeof o->runtime, jstr(x, "runtime"));
		sw_copy_str(o->path, sizeof o->path, jstr(x, "path"));
		sw_copy_str(o->enforcer, sizeof o->enforcer, jstr(x, "enforcer"));
		sw_copy_str(o->container, sizeof o->container, jstr(x, "container"));
		sw_copy_str(o->digest, sizeof o->digest, jstr(x, "digest"));
		sw_copy_str(o->detail, sizeof o->detail, jstr(x, "detail"));
		/* Only the exact word counts as refused: anything else (missing,
		 * misspelt, from a newer version) is not evidence of a refusal. */
		const char *res = jstr(x, "result");
		o->result = !res ? SW_CANARY_ERROR
			  : strcmp(res, "refused") == 0 ? SW_CANARY_REFUSED
			  : strcmp(res, "not-refused") == 0 ? SW_CANARY_NOT_REFUSED : SW_CANARY_ERROR;
	}
	return 1;
}

/* ------------------------------------------------------------ gaps */

static void add_gap(sw_gap *out, size_t max, size_t *n, int64_t from, int64_t to)
{
	if (*n < max)
		out[*n] = (sw_gap){ .from = from, .to = to };
	(*n)++;
}

size_t sw_heartbeat_gaps(const sw_beat *beats, size_t n, int64_t since, bool from_since, int64_t until,
			 int64_t default_max_gap, sw_gap *out, size_t max)
{
	size_t ng = 0;
	if (n == 0) {
		/* No heartbeat at all is its own finding; with a known start the
		 * whole period is also the gap. */
		if (from_since && until - since > default_max_gap)
			add_gap(out, max, &ng, since, until);
		return ng;
	}
	if (from_since && beats[0].time - since > default_max_gap)
		add_gap(out, max, &ng, since, beats[0].time);
	for (size_t i = 1; i < n; i++)
		if (beats[i].time - beats[i - 1].time > beats[i - 1].max_gap)
			add_gap(out, max, &ng, beats[i - 1].time, beats[i].time);
	/* The node that stopped beating: the last heartbeat is too old at the
	 * period's end. */
	if (until - beats[n - 1].time > beats[n - 1].max_gap)
		add_gap(out, max, &ng, beats[n - 1].time, until);
	return ng;
}
