/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward audit fleet: one report for many nodes' evidence bundles.
 *
 * Input: a directory holding one `sigward audit` bundle per subdirectory,
 * however it was collected (ssh, configuration management, a Kubernetes
 * DaemonSet writing to a hostPath: docs/audit.md). Every bundle is checked as
 * `sigward audit verify --key` checks it (auditverify.c): a bundle that is not
 * signed by every auditors' key, whose SHA256SUMS does not match, or that holds
 * a file SHA256SUMS does not name is a finding and nothing of it is used: its
 * node counts as not evidenced, never as enforcing. Only then is its
 * report.json read: the node's name (--node, the signed "host"), its figures
 * ("facts": mode, current list, running containers and how many are listed),
 * its findings, and the containers of its step 4.
 *
 * The fleet's findings: bundles not verified, nodes expected and missing,
 * nodes not expected, stale bundles (older than --max-age), nodes not in
 * enforce mode, without a valid list or on a list older than the fleet's
 * newest of the same scope, running containers whose image the node's list
 * does not hold (revoked, unlisted), a count per node of its own findings,
 * and each node's liveness (heartbeat gaps, canaries not refused: step 9 of
 * its audit, report.json's "liveness").
 * The fleet sample (--sample, 20) is drawn from the running containers of
 * the verified bundles with a PRNG seeded by --seed (recorded, so the same
 * sample can be drawn again). The figures: share of nodes enforcing, share of
 * running containers whose image is listed.
 *
 * The report is auditreport.c's model and renderings; the bundle layout
 * (SHA256SUMS, SHA256SUMS.sig) is the node bundle's, so `sigward audit verify`
 * checks it. Exit: 0 no finding, 1 findings, 2 error.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <yajl/yajl_tree.h>

#include "allowlist.h"
#include "auditreport.h"
#include "cli.h"
#include "json.h"
#include "keys.h"
#include "util.h"

#define FLEET_MAX_NODES 100000
#define REPORT_JSON_MAX (64u << 20)

typedef struct nodeb {
	char *dir;                 /* the bundle's directory name under --bundles */
	char *node;                /* report.json's host: the node as it named itself */
	char *status;              /* "verified", or why not */
	char *check;               /* the verification's lines (evidence) */
	bool used;                 /* verified and read: counted in the figures */
	bool duplicate;            /* verified, but another bundle of the node is newer */
	int64_t generated;
	const char *mode, *list_scope, *list_serial, *list_verified;
	uint64_t serial;
	bool have_serial;
	uint64_t containers, running, running_listed;
	long long n_findings, n_not_evidenced;
	char *signed_by;
	yajl_val json;             /* the parsed report.json */
} nodeb;

typedef struct fleet {
	const char *bundles, *out;
	const char *node_keys;     /* --node-keys DIR: DIR/NODE.pub must sign NODE's bundle */
	int64_t now, max_age;
	unsigned sample;
	char seed[128];
	sw_key keys[SW_MAX_KEYS];
	size_t nk;
	nodeb *v;
	size_t n;
	char **expected;
	size_t n_expected;
	report rep;
	size_t in_scope;
} fleet;

/* ------------------------------------------------------------ report.json */

static yajl_val jget(yajl_val v, const char *key, yajl_type t)
{
	const char *p[] = { key, NULL };
	return v ? yajl_tree_get(v, p, t) : NULL;
}

static const char *jstr(yajl_val v, const char *key)
{
	yajl_val s = jget(v, key, yajl_t_string);
	return s ? YAJL_GET_STRING(s) : NULL;
}

/* A count of the node's facts; a figure that is not a whole number is 0. */
static uint64_t jcount(yajl_val facts, const char *key)
{
	yajl_val n = jget(facts, key, yajl_t_number);
	return n && YAJL_IS_INTEGER(n) && YAJL_GET_INTEGER(n) > 0 ? (uint64_t)YAJL_GET_INTEGER(n) : 0;
}

static yajl_val node_section(const nodeb *b, long long step)
{
	yajl_val secs = jget(b->json, "sections", yajl_t_array);
	for (size_t i = 0; secs && i < secs->u.array.len; i++) {
		yajl_val st = jget(secs->u.array.values[i], "step", yajl_t_number);
		if (st && YAJL_IS_INTEGER(st) && YAJL_GET_INTEGER(st) == step)
			return secs->u.array.values[i];
	}
	return NULL;
}

static yajl_val node_table(const nodeb *b, long long step, const char *name)
{
	return jget(jget(node_section(b, step), "tables", yajl_t_object), name, yajl_t_array);
}

/* ------------------------------------------------------------ reading the bundles */

typedef struct lines {
	char *buf;
	size_t len, n;
	FILE *f;
} lines;

static void collect_problem(void *arg, const char *msg)
{
	lines *l = arg;
	fprintf(l->f, "%s\n", msg);
	l->n++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Copy dir/name into the fleet bundle as evidence/bundles/<dir>/name, when it
 * exists; 1 copied, 0 absent, <0 error. */
static int copy_evidence(fleet *f, const nodeb *b, const char *name, sw_error *err)
{
	char src[8400], rel[4200];
	snprintf(src, sizeof src, "%s/%s/%s", f->bundles, b->dir, name);
	snprintf(rel, sizeof rel, "evidence/bundles/%s/%s", b->dir, name);
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (sw_read_file(src, REPORT_JSON_MAX, &data, &len, err) < 0)
		return err->code == ENOENT ? 0 : -1;
	return bundle_write(f->out, rel, data, len, err) < 0 ? -1 : 1;
}

/* --node-keys: the bundle of node N must also be signed by N's own key, DIR/N.pub,
 * so that a node holding only its own key cannot write another node's bundle (with
 * one key shared by every node, any of them could). 0, or -1 with b->status. */
static int node_key_check(const fleet *f, nodeb *b, const char *dir, const char *host)
{
	if (strchr(host, '/') || host[0] == '.') {
		b->status = xasprintf("NOT VALID: its node name '%s' cannot name a key file in %s", host, f->node_keys);
		return -1;
	}
	char kp[4400];
	snprintf(kp, sizeof kp, "%s/%s.pub", f->node_keys, host);
	sw_key k;
	sw_error e = { 0 };
	if (sw_key_load_file(kp, &k, &e) < 0) {
		b->status = xasprintf("NOT VALID: no key of node %s: %s", host, e.msg);
		return -1;
	}
	lines pl = { 0 };
	pl.f = open_memstream(&pl.buf, &pl.len);
	if (!pl.f)
		abort();
	audit_check res;
	int r = audit_bundle_check(dir, &k, 1, collect_problem, &pl, &res, &e);
	fclose(pl.f);
	int rv = 0;
	if (r < 0 || res.n_bad) {
		b->status = xasprintf("NOT SIGNED by node %s's own key %s (%s): %.*s", host, k.id, kp,
				      r < 0 ? (int)strlen(e.msg) : (int)strcspn(pl.buf ? pl.buf : "", "\n"),
				      r < 0 ? e.msg : pl.buf ? pl.buf : "");
		rv = -1;
	}
	char *check = xasprintf("%s%s", b->check, pl.buf ? pl.buf : "");
	free(b->check);
	b->check = check;
	char *by = xasprintf("%s%s%s", b->signed_by, b->signed_by[0] ? " " : "", k.id);
	free(b->signed_by);
	b->signed_by = rv ? xstrdup("") : by;
	if (rv)
		free(by);
	free(pl.buf);
	sw_key_free(&k);
	return rv;
}

static void read_bundle(fleet *f, nodeb *b)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/%s", f->bundles, b->dir);
	sw_error e = { 0 };
	lines pl = { 0 };
	pl.f = open_memstream(&pl.buf, &pl.len);
	if (!pl.f)
		abort();
	audit_check res;
	int r = audit_bundle_check(dir, f->keys, f->nk, collect_problem, &pl, &res, &e);
	fclose(pl.f);
	if (r < 0) {
		b->status = xasprintf("not a bundle: %s", e.msg);
		b->check = xasprintf("%s\n", e.msg);
		free(pl.buf);
		return;
	}
	if (pl.len) {
		b->check = pl.buf;
	} else {
		free(pl.buf);
		b->check = xstrdup("valid\n");
	}
	if (res.sig_missing) {
		/* Anyone can write SHA256SUMS: without the signature nothing shows the
		 * audit wrote this bundle. */
		b->status = xstrdup("NOT SIGNED: SHA256SUMS.sig is missing");
		return;
	}
	if (res.n_bad) {
		char first[512];
		snprintf(first, sizeof first, "%.*s", (int)strcspn(b->check, "\n"), b->check);
		b->status = xasprintf("NOT VALID (tampered or damaged): %zu problem(s), first: %s", res.n_bad, first);
		return;
	}
	char p[4300];
	snprintf(p, sizeof p, "%s/report.json", dir);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (sw_read_file(p, REPORT_JSON_MAX, &text, &len, &e) < 0 || sw_json_tree(text, len, p, &b->json, &e) < 0) {
		b->status = xasprintf("verified, but its report cannot be read: %s", e.msg);
		return;
	}
	const char *kind = jstr(b->json, "kind");
	const char *host = jstr(b->json, "host");
	const char *gen = jstr(b->json, "generated");
	yajl_val facts = jget(b->json, "facts", yajl_t_object);
	if ((kind && strcmp(kind, "node") != 0) || !host || !host[0] || !gen ||
	    sw_parse_rfc3339(gen, strlen(gen), &b->generated) < 0 || !facts) {
		b->status = xstrdup("verified, but report.json is not a node report of this version "
				    "(kind \"node\", host, generated, facts)");
		return;
	}
	b->signed_by = xstrdup("");
	for (size_t i = 0; i < f->nk; i++) {
		char *s = xasprintf("%s%s%s", b->signed_by, i ? " " : "", f->keys[i].id);
		free(b->signed_by);
		b->signed_by = s;
	}
	if (f->node_keys && node_key_check(f, b, dir, host) < 0)
		return;
	b->node = xstrdup(host);
	b->mode = jstr(facts, "mode");
	b->list_scope = jstr(facts, "list_scope");
	b->list_serial = jstr(facts, "list_serial");
	b->list_verified = jstr(facts, "list_verified");
	b->have_serial = b->list_serial && sw_parse_u64(b->list_serial, strlen(b->list_serial), &b->serial) == 0;
	b->containers = jcount(facts, "containers");
	b->running = jcount(facts, "containers_running");
	b->running_listed = jcount(facts, "containers_running_listed");
	yajl_val nf = jget(b->json, "n_findings", yajl_t_number);
	yajl_val ne = jget(b->json, "n_not_evidenced", yajl_t_number);
	b->n_findings = nf && YAJL_IS_INTEGER(nf) ? YAJL_GET_INTEGER(nf) : 0;
	b->n_not_evidenced = ne && YAJL_IS_INTEGER(ne) ? YAJL_GET_INTEGER(ne) : 0;
	b->status = xstrdup("verified");
	b->used = true;
}

static int load_bundles(fleet *f, sw_error *err)
{
	DIR *d = opendir(f->bundles);
	if (!d)
		return sw_err_errno(err, errno, "%s", f->bundles);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == FLEET_MAX_NODES) {
			closedir(d);
			return sw_err(err, E2BIG, "%s: more than %d entries", f->bundles, FLEET_MAX_NODES);
		}
		names = realloc(names, (n + 1) * sizeof *names);
		if (!names)
			abort();
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	f->v = calloc(n + 1, sizeof *f->v);
	if (!f->v)
		abort();
	for (size_t i = 0; i < n; i++) {
		nodeb *b = &f->v[f->n++];
		b->dir = names[i];
		char p[4200];
		struct stat st = { 0 };
		snprintf(p, sizeof p, "%s/%s", f->bundles, b->dir);
		if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			b->status = xstrdup("not a bundle: not a directory");
			b->check = xstrdup("not a directory\n");
		} else {
			read_bundle(f, b);
		}
		/* The auditor can check each node's verification again from the fleet
		 * bundle: the signed sums, their signature and the report they cover. */
		sw_error e = { 0 };
		char rel[4200];
		snprintf(rel, sizeof rel, "evidence/bundles/%s/verify.txt", b->dir);
		if (bundle_write(f->out, rel, b->check, strlen(b->check), &e) < 0 ||
		    (S_ISDIR(st.st_mode) && (copy_evidence(f, b, AUDIT_SUMS_NAME, &e) < 0 ||
					     copy_evidence(f, b, AUDIT_SUMS_SIG_NAME, &e) < 0 ||
					     (b->used && copy_evidence(f, b, "report.json", &e) < 0)))) {
			free(names);
			return sw_err(err, e.code, "%s", e.msg);
		}
	}
	free(names);
	return 0;
}

static int load_expected(fleet *f, const char *file, sw_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (sw_read_file(file, 16u << 20, &text, &len, err) < 0)
		return -1;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line += strspn(line, " \t\r");
		size_t l = strcspn(line, " \t\r#");
		if (!l)
			continue;
		line[l] = '\0';
		if (f->n_expected == FLEET_MAX_NODES)
			return sw_err(err, E2BIG, "%s: more than %d nodes", file, FLEET_MAX_NODES);
		f->expected = realloc(f->expected, (f->n_expected + 1) * sizeof *f->expected);
		if (!f->expected)
			abort();
		f->expected[f->n_expected++] = xstrdup(line);
	}
	qsort(f->expected, f->n_expected, sizeof *f->expected, cmp_str);
	return 0;
}

/* ------------------------------------------------------------ sections */

static const char *pct(uint64_t part, uint64_t whole, char *num, size_t numlen, char *shown, size_t shownlen)
{
	double share = whole ? (double)part / (double)whole : 0.0;
	snprintf(num, numlen, "%.4f", share);
	if (whole)
		snprintf(shown, shownlen, "%" PRIu64 " of %" PRIu64 " (%.1f%%)", part, whole, 100.0 * share);
	else
		snprintf(shown, shownlen, "none (0 of 0)");
	return num;
}

static void fact_u64(report *r, const char *key, const char *label, uint64_t v)
{
	char num[32];
	snprintf(num, sizeof num, "%" PRIu64, v);
	report_fact(r, true, key, label, num, NULL);
}

static void section_bundles(fleet *f)
{
	report *r = &f->rep;
	section *s = sec_new(r, 1, "Bundles received and verified against the auditors' key(s)");
	table *t = tab_new(s, "bundles", "directory", "node", "generated", "signed by (key ids)", "verification",
			   "used for the figures", "evidence", NULL);
	size_t verified = 0;
	for (size_t i = 0; i < f->n; i++) {
		nodeb *b = &f->v[i];
		char gen[32] = "", rel[4200];
		if (b->node)
			sw_format_rfc3339(b->generated, gen);
		snprintf(rel, sizeof rel, "evidence/bundles/%s/", b->dir);
		sec_evidence(s, "evidence/bundles/");
		if (!b->used && !b->node)
			finding(r, s, "bundle %s: %s; nothing of it is used", b->dir, b->status);
		verified += b->used;
		tab_row(t, !b->used, b->dir, b->node ? b->node : "(not read)", gen, b->signed_by ? b->signed_by : "",
			b->status, b->used ? "yes" : "no", rel);
	}
	/* Two bundles naming the same node: the newest is used (the later
	 * directory on a tie), the others are a finding (a copy under another
	 * directory name, or an old run). Decided before any is dropped. */
	size_t *newer = calloc(f->n + 1, sizeof *newer);
	if (!newer)
		abort();
	for (size_t i = 0; i < f->n; i++) {
		newer[i] = SIZE_MAX;
		for (size_t j = 0; f->v[i].used && j < f->n && newer[i] == SIZE_MAX; j++)
			if (j != i && f->v[j].used && strcmp(f->v[j].node, f->v[i].node) == 0 &&
			    (f->v[j].generated > f->v[i].generated || (f->v[j].generated == f->v[i].generated && j > i)))
				newer[i] = j;
	}
	for (size_t i = 0; i < f->n; i++) {
		if (newer[i] == SIZE_MAX)
			continue;
		f->v[i].used = false;
		f->v[i].duplicate = true;
		verified--;
		finding(r, s, "bundle %s: node %s has a newer bundle (%s), which is used", f->v[i].dir, f->v[i].node,
			f->v[newer[i]].dir);
		t->red[i] = true;
		free(t->cells[i * t->n_cols + 5]);
		t->cells[i * t->n_cols + 5] = xasprintf("no (%s is newer)", f->v[newer[i]].dir);
	}
	free(newer);
	char keys[SW_MAX_KEYS * (SW_KEYID_HEX + 1) + 1] = "";
	for (size_t i = 0; i < f->nk; i++)
		snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", i ? " " : "", f->keys[i].id);
	s->answer = xasprintf("%zu bundle(s) under %s; %zu verified (SHA256SUMS signed by every auditors' key: %s; "
			      "every file matches; nothing else in the bundle) and used.",
			      f->n, f->bundles, verified, keys);
	fact_u64(r, "bundles", "bundles received", f->n);
	fact_u64(r, "bundles_verified", "bundles verified and used", verified);
}

static bool expected(const fleet *f, const char *name)
{
	return bsearch(&name, f->expected, f->n_expected, sizeof *f->expected, cmp_str) != NULL;
}

static const nodeb *used_node(const fleet *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].used && strcmp(f->v[i].node, name) == 0)
			return &f->v[i];
	return NULL;
}

/* The newest list serial among the verified nodes with the same list scope. */
static uint64_t newest_serial(const fleet *f, const char *scope)
{
	uint64_t m = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].used && f->v[i].have_serial && f->v[i].list_scope && strcmp(f->v[i].list_scope, scope) == 0 &&
		    f->v[i].serial > m)
			m = f->v[i].serial;
	return m;
}

static void node_row(fleet *f, section *s, table *t, const char *name, const nodeb *b, size_t *enforcing)
{
	report *r = &f->rep;
	bool exp = expected(f, name);
	const char *expcell = f->n_expected ? (exp ? "yes" : "NO") : "(no list)";
	if (!b) {
		/* Expected, but no verified bundle: is there one that failed? */
		const nodeb *failed = NULL;
		for (size_t i = 0; i < f->n && !failed; i++)
			if (strcmp(f->v[i].dir, name) == 0 || (f->v[i].node && strcmp(f->v[i].node, name) == 0))
				failed = &f->v[i];
		char st[1024];
		if (failed)
			snprintf(st, sizeof st, "NOT EVIDENCED: its bundle %s is not usable (%s)", failed->dir, failed->status);
		else
			snprintf(st, sizeof st, "MISSING: no bundle");
		if (!failed)
			finding(r, s, "node %s is expected but no bundle was received (missing)", name);
		else
			finding(r, s, "node %s is expected but its bundle %s is not usable: not evidenced", name, failed->dir);
		tab_row(t, true, name, expcell, "", "", "", "", "", "", st);
		return;
	}
	char gen[32], age[64], agec[128], list[1024] = "", run[96], nf[64];
	sw_format_rfc3339(b->generated, gen);
	int64_t a = f->now > b->generated ? f->now - b->generated : 0;
	snprintf(age, sizeof age, "%" PRId64 "d %" PRId64 "h %" PRId64 "m ago", a / 86400, a % 86400 / 3600, a % 3600 / 60);
	snprintf(agec, sizeof agec, "%s (%s)", gen, age);
	if (b->list_scope && b->list_serial)
		snprintf(list, sizeof list, "%s#%s (verified now: %s)", b->list_scope, b->list_serial,
			 b->list_verified ? b->list_verified : "?");
	else
		snprintf(list, sizeof list, "none");
	snprintf(run, sizeof run, "%" PRIu64 " running, %" PRIu64 " listed", b->running, b->running_listed);
	snprintf(nf, sizeof nf, "%lld (%lld step(s) not evidenced)", b->n_findings, b->n_not_evidenced);
	char st[2048] = "";
#define ST(...) snprintf(st + strlen(st), sizeof st - strlen(st), __VA_ARGS__)
	if (f->n_expected && !exp) {
		finding(r, s, "node %s (bundle %s) is not in the expected node list", name, b->dir);
		ST("%sNOT EXPECTED", st[0] ? "; " : "");
	}
	if (f->now - b->generated > f->max_age) {
		finding(r, s, "node %s: its bundle is stale: generated %s, older than --max-age", name, gen);
		ST("%sSTALE", st[0] ? "; " : "");
	}
	bool enf = b->mode && strcmp(b->mode, "enforce") == 0;
	if (!enf) {
		finding(r, s, "node %s is in %s mode: images not in the list are allowed", name, b->mode ? b->mode : "an unknown");
		ST("%s%s MODE", st[0] ? "; " : "", b->mode ? b->mode : "UNKNOWN");
	}
	*enforcing += enf;
	if (!b->list_verified || strcmp(b->list_verified, "yes") != 0) {
		finding(r, s, "node %s has no current list that verifies now (%s)", name, list);
		ST("%sNO VALID LIST", st[0] ? "; " : "");
	} else if (b->have_serial) {
		uint64_t newest = newest_serial(f, b->list_scope);
		if (b->serial < newest) {
			finding(r, s, "node %s is on an old list: %s#%" PRIu64 " while the fleet's newest of that scope is #%" PRIu64,
				name, b->list_scope, b->serial, newest);
			ST("%sOLD LIST (newest #%" PRIu64 ")", st[0] ? "; " : "", newest);
		}
	}
	/* A finding of step 5, where they are listed. */
	if (b->n_findings > 0)
		ST("%s%lld NODE FINDING(S) (step 5)", st[0] ? "; " : "", b->n_findings);
#undef ST
	bool red = st[0] != '\0';
	tab_row(t, red, name, expcell, b->dir, agec, b->mode ? b->mode : "", list, run, nf, red ? st : "ok");
}

static void section_nodes(fleet *f)
{
	report *r = &f->rep;
	section *s = sec_new(r, 2, "Nodes in scope: missing, stale, not enforcing, on an old list");
	table *t = tab_new(s, "nodes", "node", "expected", "bundle", "generated", "mode", "current list",
			   "containers", "node's findings", "status", NULL);
	size_t enforcing = 0;
	/* Every node in scope once: the expected ones, the verified ones not
	 * expected, and a bundle that is not usable under a name of neither: a
	 * node whose enforcement nothing shows (never left out of the share). */
	for (size_t i = 0; i < f->n_expected; i++)
		node_row(f, s, t, f->expected[i], used_node(f, f->expected[i]), &enforcing);
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].used && !expected(f, f->v[i].node))
			node_row(f, s, t, f->v[i].node, &f->v[i], &enforcing);
	for (size_t i = 0; i < f->n; i++) {
		const nodeb *b = &f->v[i];
		if (b->used || b->duplicate || expected(f, b->dir) || (b->node && (expected(f, b->node) || used_node(f, b->node))))
			continue;
		char st[1024];
		snprintf(st, sizeof st, "NOT EVIDENCED: its bundle %s is not usable (step 1)", b->dir);
		tab_row(t, true, b->node ? b->node : b->dir, f->n_expected ? "NO" : "(no list)", b->dir, "", "", "", "", "", st);
	}
	size_t in_scope = t->n_rows, missing = 0;
	f->in_scope = in_scope;
	for (size_t i = 0; i < f->n_expected; i++)
		missing += !used_node(f, f->expected[i]);
	sec_evidence(s, "evidence/bundles/");
	char max_age[32];
	snprintf(max_age, sizeof max_age, "%" PRId64 "s", f->max_age);
	s->answer = xasprintf("%zu node(s) in scope (%s); %zu expected without a usable bundle; %zu enforcing "
			      "(a verified bundle in enforce mode). A bundle older than %s is stale; a list older "
			      "than the newest serial of its scope among the nodes is old.",
			      in_scope, f->n_expected ? "the expected node list and any other node that sent a verified bundle"
						      : "every node that sent a verified bundle; no --expect-nodes",
			      missing, enforcing, max_age);
	char num[32], shown[96];
	fact_u64(r, "nodes_in_scope", "nodes in scope", in_scope);
	if (f->n_expected)
		fact_u64(r, "nodes_expected", "nodes expected", f->n_expected);
	fact_u64(r, "nodes_missing", "nodes expected without a usable bundle", missing);
	fact_u64(r, "nodes_enforcing", "nodes enforcing", enforcing);
	pct(enforcing, in_scope, num, sizeof num, shown, sizeof shown);
	report_fact(r, true, "share_nodes_enforcing", "share of nodes enforcing (of the nodes in scope)", num, shown);
}

typedef struct crow {
	const nodeb *b;
	yajl_val row;
} crow;

static const char *cell(yajl_val row, const char *col)
{
	const char *s = jstr(row, col);
	return s ? s : "";
}

static bool row_running(yajl_val row)
{
	return strncmp(cell(row, "state"), "running", 7) == 0;
}

static void section_containers(fleet *f, crow **pop, size_t *n_pop)
{
	report *r = &f->rep;
	section *s = sec_new(r, 3, "Running containers whose image is not in their node's current list");
	table *t = tab_new(s, "running containers with a finding", "node", "container", "runtime", "reference",
			   "digests", "start decision (log)", "finding", NULL);
	uint64_t running = 0, listed = 0, shown = 0;
	size_t sampled_nodes = 0;
	for (size_t i = 0; i < f->n; i++) {
		const nodeb *b = &f->v[i];
		if (!b->used)
			continue;
		running += b->running;
		listed += b->running_listed;
		yajl_val rows = node_table(b, 4, "containers");
		size_t node_running_rows = 0;
		for (size_t k = 0; rows && k < rows->u.array.len; k++) {
			yajl_val row = rows->u.array.values[k];
			if (!row_running(row))
				continue;
			node_running_rows++;
			*pop = realloc(*pop, (*n_pop + 1) * sizeof **pop);
			if (!*pop)
				abort();
			(*pop)[(*n_pop)++] = (crow){ b, row };
			if (!cell(row, "finding")[0])
				continue;
			finding(r, s, "node %s: container %s (%s): %s", b->node, cell(row, "container"), cell(row, "runtime"),
				cell(row, "finding"));
			tab_row(t, true, b->node, cell(row, "container"), cell(row, "runtime"), cell(row, "reference"),
				cell(row, "digests"), cell(row, "start decision (log)"), cell(row, "finding"));
		}
		shown += node_running_rows;
		sampled_nodes += node_running_rows < b->running;
		/* One pattern, not a file per node: a fleet has hundreds. */
		sec_evidence(s, "evidence/bundles/*/report.json");
	}
	char num[32], sh[96];
	s->answer = xasprintf("%" PRIu64 " running container(s) on the verified nodes, %" PRIu64 " of them with an image "
			      "in their node's current list; %" PRIu64 " listed in the node reports' step 4%s.",
			      running, listed, shown,
			      sampled_nodes ? " (some nodes list a sample: run their audit with a larger --sample)" : "");
	fact_u64(r, "containers_running", "containers running (verified nodes)", running);
	fact_u64(r, "containers_running_listed", "running containers whose image is listed", listed);
	pct(listed, running, num, sizeof num, sh, sizeof sh);
	report_fact(r, true, "share_running_listed", "share of running containers whose image is listed", num, sh);
}

static int cmp_crow(const void *a, const void *b)
{
	const crow *x = a, *y = b;
	int c = strcmp(x->b->node, y->b->node);
	return c ? c : strcmp(cell(x->row, "container"), cell(y->row, "container"));
}

/* The k-th 64-bit draw of the seed: SHA-256(seed ":" k), so the same seed draws
 * the same sample on any machine. */
static uint64_t draw(const char *seed, size_t k)
{
	char buf[200];
	int n = snprintf(buf, sizeof buf, "%s:%zu", seed, k);
	unsigned char h[SW_SHA256_LEN];
	sw_sha256(buf, (size_t)n, h);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v;
}

static void section_sample(fleet *f, crow *pop, size_t n_pop)
{
	report *r = &f->rep;
	section *s = sec_new(r, 4, "The fleet sample: running containers drawn across the fleet");
	/* A canonical order first, so the draw depends on the seed and the
	 * bundles' contents only, not on directory order. */
	qsort(pop, n_pop, sizeof *pop, cmp_crow);
	size_t n = n_pop < f->sample ? n_pop : f->sample;
	for (size_t i = 0; i < n; i++) {
		size_t j = i + (size_t)(draw(f->seed, i) % (n_pop - i));
		crow tmp = pop[i];
		pop[i] = pop[j];
		pop[j] = tmp;
	}
	table *t = tab_new(s, "sample", "#", "node", "container", "runtime", "reference", "digests", "in current list",
			   "start decision (log)", "list at start", "signers at start", "finding", NULL);
	for (size_t i = 0; i < n; i++) {
		char no[16];
		snprintf(no, sizeof no, "%zu", i + 1);
		yajl_val row = pop[i].row;
		/* Findings of these containers are the fleet's already (step 3). */
		tab_row(t, cell(row, "finding")[0] != '\0', no, pop[i].b->node, cell(row, "container"), cell(row, "runtime"),
			cell(row, "reference"), cell(row, "digests"), cell(row, "in current list"),
			cell(row, "start decision (log)"), cell(row, "list at start"), cell(row, "signers at start"),
			cell(row, "finding"));
	}
	sec_evidence(s, "evidence/bundles/");
	s->answer = xasprintf("%zu of %zu running container(s) of the verified nodes, drawn with seed \"%s\" "
			      "(sorted by node and container, then a partial Fisher-Yates shuffle whose k-th draw is "
			      "SHA-256(seed \":\" k)): the same seed and bundles draw the same sample. Each row is "
			      "the node report's step 4 row; trace it there. A row in red has a finding, "
			      "counted in step 3.", n, n_pop, f->seed);
	report_fact(r, false, "sample_seed", "sample seed", f->seed, NULL);
	fact_u64(r, "sample_size", "sample size", n);
	fact_u64(r, "sample_population", "running containers sampled from", n_pop);
}

static void section_node_findings(fleet *f)
{
	report *r = &f->rep;
	section *s = sec_new(r, 5, "Each node's own findings, from its report");
	table *t = tab_new(s, "node findings", "node", "step", "section", "finding", NULL);
	size_t total = 0;
	for (size_t i = 0; i < f->n; i++) {
		const nodeb *b = &f->v[i];
		if (b->used && b->n_findings > 0)
			finding(r, s, "node %s: %lld finding(s) in its own report (below)", b->node, b->n_findings);
		yajl_val secs = b->used ? jget(b->json, "sections", yajl_t_array) : NULL;
		for (size_t k = 0; secs && k < secs->u.array.len; k++) {
			yajl_val sec = secs->u.array.values[k];
			yajl_val st = jget(sec, "step", yajl_t_number);
			yajl_val fs = jget(sec, "findings", yajl_t_array);
			char step[32];
			snprintf(step, sizeof step, "%lld", st && YAJL_IS_INTEGER(st) ? YAJL_GET_INTEGER(st) : 0);
			for (size_t m = 0; fs && m < fs->u.array.len; m++) {
				const char *fx = YAJL_GET_STRING(fs->u.array.values[m]);
				tab_row(t, true, b->node, step, jstr(sec, "title"), fx ? fx : "");
				total++;
			}
		}
	}
	sec_evidence(s, "evidence/bundles/");
	s->answer = xasprintf("%zu finding(s) in the reports of the verified nodes, as each node's audit stated "
			      "them; one fleet finding per node that has any.", total);
}

static long long jint(yajl_val v, const char *key, long long dflt)
{
	yajl_val n = jget(v, key, yajl_t_number);
	return n && YAJL_IS_INTEGER(n) ? YAJL_GET_INTEGER(n) : dflt;
}

/* Step 9 of each node's audit, from report.json's "liveness" (auditlive.c):
 * the node's gaps and canaries not refused become the fleet's findings, with
 * their times, so that a node whose hook was unwired for a week does not pass
 * as a quiet one. */
static void section_liveness(fleet *f)
{
	report *r = &f->rep;
	section *s = sec_new(r, 6, "Liveness: heartbeat gaps and canaries, from each node's report");
	table *t = tab_new(s, "liveness", "node", "heartbeats", "last heartbeat", "longest gap allowed", "gaps",
			   "canaries refused", "live", NULL);
	size_t used = 0, live = 0, with = 0;
	for (size_t i = 0; i < f->n; i++) {
		const nodeb *b = &f->v[i];
		if (!b->used)
			continue;
		used++;
		sec_evidence(s, "evidence/bundles/*/report.json");
		yajl_val l = jget(b->json, "liveness", yajl_t_object);
		if (!l) {
			finding(r, s, "node %s: its report has no liveness (a node audit without step 9): nothing shows "
				"enforcement was live between its decisions", b->node);
			tab_row(t, true, b->node, "", "", "", "", "", "not evidenced (no liveness in report.json)");
			continue;
		}
		with++;
		long long hb = jint(l, "heartbeats", 0), max_gap = jint(l, "max_gap", 0);
		long long canaries = jint(l, "canaries", 0), refused = jint(l, "canaries_refused", 0);
		yajl_val gaps = jget(l, "gaps", yajl_t_array), failed = jget(l, "canaries_failed", yajl_t_array);
		yajl_val lv = jget(l, "live", yajl_t_true);
		const char *last = jstr(l, "last_heartbeat");
		if (!hb)
			finding(r, s, "node %s: no heartbeat in its audit period: nothing shows enforcement was live", b->node);
		for (size_t k = 0; gaps && k < gaps->u.array.len; k++) {
			yajl_val g = gaps->u.array.values[k];
			finding(r, s, "node %s: no heartbeat from %s to %s (%lld s; at most %lld s allowed)", b->node,
				jstr(g, "from") ? jstr(g, "from") : "?", jstr(g, "to") ? jstr(g, "to") : "?",
				jint(g, "seconds", 0), max_gap);
		}
		for (size_t k = 0; failed && k < failed->u.array.len; k++) {
			yajl_val c = failed->u.array.values[k];
			finding(r, s, "node %s: canary at %s through %s (%s), container %s: %s: %s", b->node,
				cell(c, "time"), cell(c, "runtime"), cell(c, "path"), cell(c, "container"), cell(c, "result"),
				cell(c, "detail"));
		}
		if (!lv && hb && !(gaps && gaps->u.array.len) && !(failed && failed->u.array.len))
			finding(r, s, "node %s: not shown live by its heartbeats (its report's step 9 says why)", b->node);
		live += lv != NULL;
		char n1[32], n2[96], n3[32], n4[32], n5[64];
		snprintf(n1, sizeof n1, "%lld", hb);
		snprintf(n2, sizeof n2, "%s", last ? last : "none");
		snprintf(n3, sizeof n3, "%lld s", max_gap);
		snprintf(n4, sizeof n4, "%zu", gaps ? gaps->u.array.len : 0);
		snprintf(n5, sizeof n5, "%lld of %lld", refused, canaries);
		tab_row(t, !lv, b->node, n1, n2, n3, n4, n5, lv ? "yes" : "NO");
	}
	char num[32], shown[96];
	fact_u64(r, "nodes_live", "verified nodes whose heartbeats show enforcement live", live);
	pct(live, used, num, sizeof num, shown, sizeof shown);
	report_fact(r, true, "share_nodes_live", "share of verified nodes shown live", num, shown);
	if (!with && used) {
		sec_not_evidenced(r, s, "no verified node report carries liveness (heartbeat and canary records of "
					"the decision log: sigward selftest)");
		return;
	}
	s->answer = xasprintf("%zu of %zu verified node(s) shown live for their whole audit period: heartbeats no "
			      "further apart than allowed, every canary refused (each node's report.json \"liveness\", "
			      "its step 9).", live, used);
}

/* ------------------------------------------------------------ main */

static const char usage_text[] =
	"usage: sigward audit fleet --bundles DIR (--key PUB... | --node-keys DIR) --out DIR [--expect-nodes FILE]\n"
	"                           [--max-age DURATION] [--sample N] [--seed SEED]\n"
	"                           [--sign-key KEY]... [--rsa-pss] [--pkcs11-module PATH] [--passphrase-file FILE]\n"
	"One report for many nodes: every subdirectory of --bundles is a node's bundle written by\n"
	"'sigward audit --sign-key ... --node NAME'. Each is verified as 'sigward audit verify --key PUB'\n"
	"does (a bundle that fails, or is not signed, is a finding and is not used); then the report\n"
	"lists nodes missing (--expect-nodes: one name a line), not expected, stale (older than\n"
	"--max-age, default 1d), not in enforce mode, without a valid list or on an older list than\n"
	"the fleet's newest, running containers whose image is not listed, each node's own findings\n"
	"and liveness; draws --sample (20) running containers with --seed (random when not given,\n"
	"recorded); and the figures: share of nodes enforcing, share of running containers listed.\n"
	"Writes report.html, report.md, report.json, evidence/bundles/, SHA256SUMS and, with\n"
	"--sign-key, SHA256SUMS.sig into --out (which must not exist or be empty).\n"
	"--node-keys DIR: each node's bundle must also be signed by the node's own key DIR/NODE.pub.\n"
	"Exit 0 no finding, 1 findings, 2 error.";

int cmd_audit_fleet(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundles", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "expect-nodes", required_argument, NULL, 'e' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "sample", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'r' },
		{ "node-keys", required_argument, NULL, 1001 },
		CLI_SIGN_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static fleet f;
	memset(&f, 0, sizeof f);
	f.now = sw_now();
	f.max_age = 86400;
	f.sample = 20;
	const char *keyfiles[SW_MAX_KEYS], *expect = NULL;
	cli_sign_args sa = { 0 };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': f.bundles = optarg; break;
		case 'o': f.out = optarg; break;
		case 'e': expect = optarg; break;
		case 1001: f.node_keys = optarg; break;
		case 'k':
			if (f.nk == SW_ARRAY_SIZE(keyfiles))
				return cli_usage_error("audit fleet", "at most %d --key", SW_MAX_KEYS);
			keyfiles[f.nk++] = optarg;
			break;
		case 'a':
			if (sw_parse_duration(optarg, &f.max_age) < 0)
				return cli_usage_error("audit fleet", "--max-age wants a duration (90s, 12h, 1d)");
			break;
		case 'n':
			if (cli_sample_arg("audit fleet", optarg, &f.sample) < 0)
				return EXIT_USAGE;
			break;
		case 'r':
			if (!optarg[0] || strlen(optarg) >= sizeof f.seed)
				return cli_usage_error("audit fleet", "--seed wants 1 to %zu characters", sizeof f.seed - 1);
			snprintf(f.seed, sizeof f.seed, "%s", optarg);
			break;
		case 'h':
			puts(usage_text);
			return 0;
		default:
			if (cli_sign_arg("audit fleet", opt, optarg, &sa))
				return EXIT_USAGE;
			break;
		}
	}
	if (!f.bundles || !f.out)
		return cli_usage_error("audit fleet", "--bundles DIR and --out DIR are required");
	/* Without the auditors' key a bundle proves nothing: anyone can write one. */
	if (!f.nk && !f.node_keys)
		return cli_usage_error("audit fleet", "--key (the auditors' public key) or --node-keys DIR is required");
	if (optind < argc)
		return cli_usage_error("audit fleet", "unexpected argument '%s'", argv[optind]);
	if (!f.seed[0]) {
		unsigned char rnd[8];
		if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
			return cli_usage_error("audit fleet", "no randomness for the seed: give --seed");
		for (size_t i = 0; i < sizeof rnd; i++)
			snprintf(f.seed + 2 * i, 3, "%02x", rnd[i]);
	}

	sw_error e = { 0 };
	sw_signer signers[SW_MAX_SIGS];
	int rv = 0;
	size_t loaded = 0;
	if (cli_signers_open(sa.keys, sa.n, sa.so, sa.pass_file, signers, &e) < 0)
		return cli_fail(&e);
	for (; loaded < f.nk; loaded++)
		if (sw_key_load_file(keyfiles[loaded], &f.keys[loaded], &e) < 0) {
			rv = cli_fail(&e);
			goto out;
		}
	if ((expect && load_expected(&f, expect, &e) < 0) || bundle_out_empty(f.out, &e) < 0 ||
	    bundle_mkdirs(f.out, &e) < 0 || load_bundles(&f, &e) < 0) {
		rv = cli_fail(&e);
		goto out;
	}
	crow *pop = NULL;
	size_t n_pop = 0;
	section_bundles(&f);
	section_nodes(&f);
	section_containers(&f, &pop, &n_pop);
	section_sample(&f, pop, n_pop);
	section_node_findings(&f);
	section_liveness(&f);
	free(pop);
	report_meta m = { .now = f.now, .signers = signers, .n_signers = sa.n, .kind = "fleet",
			  .title = "sigward fleet audit report" };
	if (bundle_finish(f.out, &f.rep, &m, signers, &e) < 0) {
		rv = cli_fail(&e);
		goto out;
	}
	printf("%s: %zu node(s) in scope, %zu finding(s), %zu step(s) not evidenced; verify with: sigward audit verify%s %s\n",
	       f.out, f.in_scope, f.rep.n_findings, f.rep.n_not_evidenced,
	       sa.n ? " --key KEY.pub" : "", f.out);
	rv = f.rep.n_findings ? 1 : 0;
out:
	cli_signers_close(signers, sa.n);
	for (size_t i = 0; i < loaded; i++)
		sw_key_free(&f.keys[i]);
	for (size_t i = 0; i < f.n; i++) {
		nodeb *b = &f.v[i];
		free(b->dir); free(b->node); free(b->status); free(b->check); free(b->signed_by);
		if (b->json)
			yajl_tree_free(b->json);
	}
	free(f.v);
	for (size_t i = 0; i < f.n_expected; i++)
		free(f.expected[i]);
	free(f.expected);
	report_free(&f.rep);
	return rv;
}
