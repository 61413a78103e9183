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

void sw_wiring_containerd(const char *text, size_t len, sw_containerd_wiring *w)
{
	memset(w, 0, sizeof *w);
	char table[256] = "";
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
		char val[SW_WIRING_STR];
		if (kl == 10 && memcmp(ks, "BinaryName", 10) == 0 && !w->wired &&
		    toml_string(eq + 1, e, val, sizeof val) && is_sigward_runc(val)) {
			w->wired = true;
			w->binary_line = line;
			memcpy(w->binary, val, sizeof val);
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
