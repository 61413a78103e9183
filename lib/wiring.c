/* SPDX-License-Identifier: Apache-2.0 */
#include "wiring.h"

#include <stdio.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "json.h"
#include "util.h"

/* The quoted value of a `key = "..."` or `key = '...'` line into out; false
 * when the value is not a one-line string (a basic string's escapes are kept
 * as written: no path sigward-runc lives at needs one). */
static bool toml_string(const char *v, const char *end, char *out, size_t max)
{
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (v == end || (*v != '"' && *v != '\''))
		return false;
	char q = *v++;
	const char *close = memchr(v, q, (size_t)(end - v));
	if (!close || (size_t)(close - v) >= max)
		return false;
	memcpy(out, v, (size_t)(close - v));
	out[close - v] = '\0';
	return true;
}

static bool is_sigward_runc(const char *path)
{
	const char *b = strrchr(path, '/');
	return strstr(b ? b + 1 : path, "sigward-runc") != NULL;
}

/* The CRI plugin's table in config versions 2, 1 and 3 (containerd 2.x), with
 * its quotes removed (see unquote). */
static const char *const cri_tables[] = {
	"plugins.io.containerd.grpc.v1.cri",
	"plugins.cri",
	"plugins.io.containerd.cri.v1.runtime",
};

/* A table name without quotes or blanks: plugins."io.containerd.grpc.v1.cri"
 * and plugins.'io.containerd.grpc.v1.cri' are the same table. */
static void unquote(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (; *in && o + 1 < n; in++)
		if (*in != '"' && *in != '\'' && *in != ' ' && *in != '\t')
			out[o++] = *in;
	out[o] = '\0';
}

/* The CRI plugin table `t` (unquoted) starts with, or NULL. */
static const char *cri_rest(const char *t)
{
	for (size_t i = 0; i < SW_ARRAY_SIZE(cri_tables); i++) {
		size_t l = strlen(cri_tables[i]);
		if (strncmp(t, cri_tables[i], l) == 0 && (t[l] == '.' || t[l] == '\0'))
			return t + l;
	}
	return NULL;
}

/* NAME of a `<cri>.containerd.runtimes.NAME.options` table into out. */
static bool runtime_of(const char *t, char *out, size_t n)
{
	const char *r = cri_rest(t);
	static const char pre[] = ".containerd.runtimes.", suf[] = ".options";
	if (!r || strncmp(r, pre, sizeof pre - 1) != 0)
		return false;
	r += sizeof pre - 1;
	size_t rl = strlen(r);
	if (rl <= sizeof suf - 1 || strcmp(r + rl - (sizeof suf - 1), suf) != 0 || rl - (sizeof suf - 1) >= n)
		return false;
	memcpy(out, r, rl - (sizeof suf - 1));
	out[rl - (sizeof suf - 1)] = '\0';
	return strchr(out, '.') == NULL;
}

#define MAX_CANDIDATES 16

void sw_wiring_containerd(const char *text, size_t len, sw_containerd_wiring *w)
{
	memset(w, 0, sizeof *w);
	snprintf(w->default_runtime, sizeof w->default_runtime, "runc");
	/* The runtimes whose BinaryName is sigward-runc, in file order: which one
	 * is the default is known only once default_runtime_name is read. */
	struct { char name[128]; char binary[SW_WIRING_STR]; unsigned line; } cand[MAX_CANDIDATES];
	size_t nc = 0;
	char table[256] = "", plain[256] = "";
	unsigned line = 0;
	for (const char *p = text, *end = text + len, *nl; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		line++;
		const char *s = p, *e = nl;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (s == e || *s == '#')
			continue;
		if (*s == '[') {
			/* [table] or [[array of tables]]: remember its name for [grpc]. */
			const char *a = s, *b = e;
			while (a < b && *a == '[')
				a++;
			const char *rb = b > a ? memchr(a, ']', (size_t)(b - a)) : NULL;
			b = rb ? rb : b;
			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			size_t n = (size_t)(b - a) < sizeof table - 1 ? (size_t)(b - a) : sizeof table - 1;
			memcpy(table, a, n);
			table[n] = '\0';
			unquote(table, plain, sizeof plain);
			continue;
		}
		const char *eq = memchr(s, '=', (size_t)(e - s));
		if (!eq)
			continue;
		const char *ke = eq;
		while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		/* A quoted key is the same key. */
		const char *ks = s;
		if (ke - ks >= 2 && (*ks == '"' || *ks == '\'') && ke[-1] == *ks) {
			ks++;
			ke--;
		}
		size_t kl = (size_t)(ke - ks);
		char val[SW_WIRING_STR], name[128];
		if (kl == 10 && memcmp(ks, "BinaryName", 10) == 0 && nc < MAX_CANDIDATES &&
		    runtime_of(plain, name, sizeof name) && toml_string(eq + 1, e, val, sizeof val) &&
		    is_sigward_runc(val)) {
			/* Only a CRI runtime's options are a runtime containerd runs; a
			 * BinaryName elsewhere configures nothing. */
			memcpy(cand[nc].name, name, sizeof name);
			memcpy(cand[nc].binary, val, sizeof val);
			cand[nc].line = line;
			nc++;
		} else if (kl == 20 && memcmp(ks, "default_runtime_name", 20) == 0 && cri_rest(plain) &&
			   strcmp(cri_rest(plain), ".containerd") == 0 && toml_string(eq + 1, e, val, sizeof val) &&
			   val[0] && strlen(val) < sizeof w->default_runtime) {
			snprintf(w->default_runtime, sizeof w->default_runtime, "%s", val);
		} else if (kl == 7 && memcmp(ks, "address", 7) == 0 && strcmp(table, "grpc") == 0 &&
			   toml_string(eq + 1, e, val, sizeof val)) {
			memcpy(w->address, val, sizeof val);
		} else if (kl == 13 && memcmp(ks, "sandbox_image", 13) == 0 &&
			   (strcmp(table, "plugins.\"io.containerd.grpc.v1.cri\"") == 0 ||
			    strcmp(table, "plugins.cri") == 0) &&
			   toml_string(eq + 1, e, val, sizeof val)) {
			memcpy(w->sandbox_image, val, sizeof val);
			w->sandbox_line = line;
		} else if (!table[0] && kl == 4 && memcmp(ks, "root", 4) == 0 && toml_string(eq + 1, e, val, sizeof val)) {
			memcpy(w->root, val, sizeof val);
		} else if (!table[0] && kl == 5 && memcmp(ks, "state", 5) == 0 && toml_string(eq + 1, e, val, sizeof val)) {
			memcpy(w->state, val, sizeof val);
		}
	}
	/* The default runtime first: it runs every pod without a RuntimeClass.
	 * Otherwise the first other one, which only a RuntimeClass selects. */
	size_t pick = nc;
	for (size_t i = 0; i < nc && pick == nc; i++)
		if (strcmp(cand[i].name, w->default_runtime) == 0)
			pick = i;
	if (pick < nc)
		w->wired = true;
	else if (nc > 0) {
		pick = 0;
		w->runtime_class = true;
	}
	if (pick < nc) {
		memcpy(w->runtime, cand[pick].name, sizeof w->runtime);
		memcpy(w->binary, cand[pick].binary, sizeof w->binary);
		w->binary_line = cand[pick].line;
	}
}

int sw_wiring_docker(const char *text, size_t len, const char *what, sw_docker_wiring *w, sw_error *err)
{
	memset(w, 0, sizeof *w);
	_cleanup_yajl_ yajl_val v = NULL;
	int r = sw_json_tree(text, len, what, &v, err);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(v))
		return sw_err(err, SW_EINVAL, "%s: not a JSON object", what);
	const char *rp[] = { "runtimes", NULL }, *dp[] = { "default-runtime", NULL };
	const char *pp[] = { "path", NULL }, *hp[] = { "hosts", NULL };
	yajl_val rts = yajl_tree_get(v, rp, yajl_t_object);
	yajl_val dv = yajl_tree_get(v, dp, yajl_t_string);
	const char *def = dv ? YAJL_GET_STRING(dv) : NULL;
	for (size_t i = 0; rts && i < rts->u.object.len; i++) {
		yajl_val p = yajl_tree_get(rts->u.object.values[i], pp, yajl_t_string);
		const char *path = p ? YAJL_GET_STRING(p) : NULL;
		if (!path || !is_sigward_runc(path) || strlen(rts->u.object.keys[i]) >= sizeof w->name ||
		    strlen(path) >= sizeof w->path)
			continue;
		bool is_def = def && strcmp(def, rts->u.object.keys[i]) == 0;
		/* The default one wins over another sigward-runc runtime. */
		if (w->runtime && !is_def)
			continue;
		w->runtime = true;
		w->is_default = is_def;
		snprintf(w->name, sizeof w->name, "%s", rts->u.object.keys[i]);
		snprintf(w->path, sizeof w->path, "%s", path);
	}
	yajl_val hosts = yajl_tree_get(v, hp, yajl_t_array);
	for (size_t i = 0; hosts && i < hosts->u.array.len && !w->host[0]; i++) {
		const char *h = YAJL_GET_STRING(hosts->u.array.values[i]);
		if (h && strncmp(h, "unix://", 7) == 0 && strlen(h) < sizeof w->host)
			snprintf(w->host, sizeof w->host, "%s", h);
	}
	return 0;
}
