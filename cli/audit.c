/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward audit: the evidence an auditor asks for, from one command.
 *
 * Collects the raw evidence (configuration files, trusted keys, the installed
 * lists' manifests and signatures, the decision log excerpt) into --out DIR and
 * writes one report in three renderings (report.json, report.md, report.html)
 * that answers the auditor's steps in order, each naming the evidence file it
 * rests on. Everything the report states is derived from the copied evidence or
 * from a check re-done now; nothing is taken from a cache or from the hook's
 * state beyond the serial floor and the log head. SHA256SUMS covers every file.
 *
 * The report model and its renderings are auditreport.c; the negative test's
 * runners auditneg.c. This file holds the steps and what they read.
 * Exit: 0 no finding, 1 findings, 2 error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "allowlist.h"
#include "audit.h"
#include "auditlive.h"
#include "auditevidence.h"
#include "auditreport.h"
#include "cli.h"
#include "config.h"
#include "ctrmeta.h"
#include "declog.h"
#include "dockerstore.h"
#include "json.h"
#include "keys.h"
#include "oci.h"
#include "ociimage.h"
#include "resolve.h"
#include "storage.h"
#include "util.h"
#include "wiring.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* ------------------------------------------------------------ evidence files */

typedef struct ctx {
	const char *out;
	sw_config cfg;
	int64_t now, since, until;
	unsigned sample;
	const char *hooks_dirs[8];
	size_t n_hooks_dirs;
	const char *containerd_config, *docker_config;
	const char *containerd_root, *containerd_state, *docker_root;   /* step 4 */
	const char *runc_roots[8];
	size_t n_runc_roots;
	report rep;
	audit_live live;                    /* step 9, for report.json's "liveness" */
	sw_keyring kr;
	sw_list cur;
	bool have_cur;
	bool cur_verified;
	bool negative;
	const char *hook;
	sw_signer signers[SW_MAX_SIGS];     /* --sign-key: sign SHA256SUMS */
	size_t n_signers;
	/* step 2's findings, read before step 6 runs through what is wired */
	char hooks_file[4096];
	bool ctrd_present, docker_present;
	sw_containerd_wiring ctrd;
	sw_docker_wiring dw;
	char docker_error[SW_ERROR_MAX];
	/* how the negative test reaches each runtime */
	const char *podman_root, *podman_runroot, *podman_runtime;
	const char *ctr_address, *ctr_namespace, *docker_host;
	bool podman_hooks_given;
} ctx;

static int write_out(const ctx *c, const char *rel, const void *data, size_t len, sw_error *err)
{
	return bundle_write(c->out, rel, data, len, err);
}

/* Copy src into the bundle at rel; hex receives the SHA-256 of the bytes copied. */
static int copy_in(const ctx *c, const char *src, const char *rel, char hex[SW_SHA256_HEX + 1], sw_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = sw_read_file(src, AUDIT_FILE_MAX, &data, &len, err);
	if (r < 0)
		return r;
	if (hex)
		sw_sha256_hex(data, len, hex);
	return write_out(c, rel, data, len, err);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* ------------------------------------------------------------ step 1 + 3 */

static void step_policy(ctx *c)
{
	report *r = &c->rep;
	section *s = sec_new(r, 1, "Signing and verification policy, trusted keys");
	sw_error e = { 0 };
	table *t = tab_new(s, "policy", "setting", "value", NULL);
	char num[32];
	tab_row(t, false, "mode", sw_mode_name(c->cfg.mode));
	tab_row(t, !c->cfg.scope, "scope", c->cfg.scope ? c->cfg.scope : "(not set: every start is denied)");
	snprintf(num, sizeof num, "%u", c->cfg.threshold);
	tab_row(t, false, "threshold (signatures required)", num);
	tab_row(t, false, "keys_dir", c->cfg.keys_dir);
	tab_row(t, false, "lists_dir", c->cfg.lists_dir);
	tab_row(t, false, "log_file", c->cfg.log_file);
	/* The figures a fleet audit (fleet.c) reads from report.json's "facts". */
	report_fact(r, false, "mode", "mode", sw_mode_name(c->cfg.mode), NULL);
	report_fact(r, false, "scope", "scope", c->cfg.scope ? c->cfg.scope : "", NULL);
	if (c->cfg.mode == SW_MODE_WARN)
		finding(r, s, "mode is warn: images not in the list are allowed (logged as would-deny)");
	if (!c->cfg.scope)
		finding(r, s, "no scope is configured");

	table *k = tab_new(s, "trusted keys", "key id (SHA-256 of SPKI)", "algorithm", "file", "evidence", NULL);
	if (sw_keyring_load(c->cfg.keys_dir, &c->kr, &e) < 0) {
		finding(r, s, "the trusted keys cannot be loaded: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < c->kr.n; i++) {
		char rel[1024];
		snprintf(rel, sizeof rel, "evidence/keys/%s", base_name(c->kr.keys[i].file));
		if (copy_in(c, c->kr.keys[i].file, rel, NULL, &e) < 0)
			finding(r, s, "key %s cannot be copied: %s", c->kr.keys[i].file, e.msg);
		tab_row(k, false, c->kr.keys[i].id, c->kr.keys[i].alg, c->kr.keys[i].file, rel);
		sec_evidence(s, rel);
	}
	if (c->kr.n < c->cfg.threshold)
		finding(r, s, "%zu trusted keys but a threshold of %u: no list can be accepted", c->kr.n, c->cfg.threshold);
	/* A private key on a node is a finding; other files are listed, since the
	 * keys directory is what an auditor is shown as "the trusted keys". */
	sw_keys_extra extra[64];
	size_t n_extra = 0;
	if (sw_keys_survey(c->cfg.keys_dir, extra, SW_ARRAY_SIZE(extra), &n_extra, &e) < 0) {
		finding(r, s, "the keys directory cannot be surveyed: %s", e.msg);
	} else {
		size_t shown = n_extra < SW_ARRAY_SIZE(extra) ? n_extra : SW_ARRAY_SIZE(extra);
		table *o = shown ? tab_new(s, "other files in the keys directory", "file", "what", NULL) : NULL;
		for (size_t i = 0; i < shown; i++) {
			if (extra[i].private_key)
				finding(r, s, "%s/%s holds a private key: signing keys must not be on a node",
					c->cfg.keys_dir, extra[i].name);
			tab_row(o, extra[i].private_key, extra[i].name,
				extra[i].private_key ? "PRIVATE KEY" : "not a key file (ignored by sigward)");
		}
		if (n_extra > shown)
			finding(r, s, "%zu files in the keys directory are not keys (only %zu listed)", n_extra, shown);
	}
	s->answer = xasprintf("Mode %s, scope %s, %u of %zu trusted keys must sign a list.",
			      sw_mode_name(c->cfg.mode), c->cfg.scope ? c->cfg.scope : "(none)",
			      c->cfg.threshold, c->kr.n);
}

static void step_config(ctx *c, section *s)
{
	sw_error e = { 0 };
	table *t = tab_new(s, "configuration files", "order", "file", "sha256", "evidence", NULL);
	for (unsigned i = 0; i < c->cfg.n_files; i++) {
		char rel[1024], hex[SW_SHA256_HEX + 1] = "", ord[16];
		snprintf(rel, sizeof rel, "evidence/config/%02u-%s", i, base_name(c->cfg.files[i]));
		snprintf(ord, sizeof ord, "%u", i + 1);
		if (copy_in(c, c->cfg.files[i], rel, hex, &e) < 0) {
			finding(&c->rep, s, "%s cannot be copied: %s", c->cfg.files[i], e.msg);
			tab_row(t, true, ord, c->cfg.files[i], "", "");
			continue;
		}
		tab_row(t, false, ord, c->cfg.files[i], hex, rel);
		sec_evidence(s, rel);
	}
	s->answer = xasprintf("%u configuration file(s) applied, in this order (a later key wins); "
			      "each is copied with its SHA-256.", c->cfg.n_files);
}

/* ------------------------------------------------------------ step 2 */

static bool file_mentions(const char *path, const char *needle)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	sw_error e = { 0 };
	if (sw_read_file(path, AUDIT_FILE_MAX, &text, &len, &e) < 0)
		return false;
	return strstr(text, needle) != NULL;
}

/* Which managers are wired, from their configuration files: before the negative
 * test (which starts its image through each wired one) and step 2 (which reports
 * it). Nothing here is a finding yet. */
static void detect_wiring(ctx *c)
{
	/* hooks.d: podman and CRI-O read it; runc/crun under them run the hook. */
	for (size_t i = 0; i < c->n_hooks_dirs && !c->hooks_file[0]; i++) {
		char p[4096];
		snprintf(p, sizeof p, "%s/sigward.json", c->hooks_dirs[i]);
		if (exists(p) && file_mentions(p, "sigward-hook"))
			snprintf(c->hooks_file, sizeof c->hooks_file, "%s", p);
	}
	_cleanup_free_ char *text = NULL;
	size_t len;
	sw_error e = { 0 };
	if (sw_read_file(c->containerd_config, AUDIT_FILE_MAX, &text, &len, &e) == 0) {
		c->ctrd_present = true;
		sw_wiring_containerd(text, len, &c->ctrd);
	}
	free(TAKE_PTR(text));
	if (sw_read_file(c->docker_config, AUDIT_FILE_MAX, &text, &len, &e) == 0) {
		c->docker_present = true;
		if (sw_wiring_docker(text, len, c->docker_config, &c->dw, &e) < 0)
			snprintf(c->docker_error, sizeof c->docker_error, "%s", e.msg);
	}
}

static void step_runtimes(ctx *c)
{
	report *r = &c->rep;
	section *s = sec_new(r, 2, "Platforms in scope: runtimes and their wiring");
	sw_error e = { 0 };
	if (c->hooks_file[0] && copy_in(c, c->hooks_file, "evidence/runtimes/hooks.d-sigward.json", NULL, &e) == 0)
		sec_evidence(s, "evidence/runtimes/hooks.d-sigward.json");
	if (c->ctrd_present && copy_in(c, c->containerd_config, "evidence/runtimes/containerd-config.toml", NULL, &e) == 0)
		sec_evidence(s, "evidence/runtimes/containerd-config.toml");
	if (c->docker_present && copy_in(c, c->docker_config, "evidence/runtimes/docker-daemon.json", NULL, &e) == 0)
		sec_evidence(s, "evidence/runtimes/docker-daemon.json");
	bool any = c->hooks_file[0] || c->ctrd.wired || c->dw.is_default;

	static const char *const names[] = { "runc", "crun", "podman", "containerd", "dockerd" };
	table *t = tab_new(s, "runtimes", "runtime", "binary", "wired", "how", NULL);
	size_t present = 0;
	for (size_t i = 0; i < SW_ARRAY_SIZE(names); i++) {
		char bin[4096];
		if (!cli_which(names[i], bin, sizeof bin))
			continue;
		present++;
		bool wired;
		char how[4200];
		if (strcmp(names[i], "podman") == 0) {
			wired = c->hooks_file[0];
			snprintf(how, sizeof how, "%s", wired ? c->hooks_file : "no sigward.json in any hooks.d directory");
		} else if (strcmp(names[i], "containerd") == 0) {
			/* Wired is the default runtime only: a RuntimeClass handler
			 * runs just the pods that name its class. */
			wired = c->ctrd.wired;
			if (wired)
				snprintf(how, sizeof how, "%s:%u: runtime %s (the default, every pod): BinaryName = %s",
					 c->containerd_config, c->ctrd.binary_line, c->ctrd.runtime, c->ctrd.binary);
			else if (c->ctrd.runtime_class)
				snprintf(how, sizeof how, "%s:%u: only runtime %s (a RuntimeClass handler) runs %s; the default "
					 "runtime %s does not, so pods without that class start unchecked", c->containerd_config,
					 c->ctrd.binary_line, c->ctrd.runtime, c->ctrd.binary, c->ctrd.default_runtime);
			else
				snprintf(how, sizeof how, "%s: %s", c->containerd_config,
					 c->ctrd_present ? "no BinaryName naming sigward-runc" : "missing");
		} else if (strcmp(names[i], "dockerd") == 0) {
			wired = c->dw.is_default;
			snprintf(how, sizeof how, "%s: %s%s%s", c->docker_config,
				 !c->docker_present ? "missing" :
				 c->docker_error[0] ? c->docker_error :
				 c->dw.is_default ? "default-runtime is sigward-runc: runtime " :
				 c->dw.runtime ? "not the default-runtime (only --runtime uses it): runtime " :
				 "no sigward-runc runtime", c->dw.runtime ? c->dw.name : "", "");
		} else {
			/* runc and crun read hooks from each bundle: they are covered when every
			 * manager above that drives them is wired; runc containers seen in step 4
			 * are checked one by one for the hook. */
			wired = any;
			snprintf(how, sizeof how, "%s", any ? "through the wired managers (hooks.d / sigward-runc); per container in step 4"
						     : "no manager is wired to sigward");
		}
		tab_row(t, !wired, names[i], bin, wired ? "yes" : "NO", how);
		if (!wired)
			finding(r, s, "%s is present (%s) but not wired to sigward", names[i], bin);
	}
	s->answer = xasprintf("%zu container runtime(s) present on this node; each must be wired to sigward.", present);
}

/* ------------------------------------------------------------ decision log */

typedef struct logrec {
	char *line;
	int64_t time;
	char *container, *decision, *mode, *matched, *reason, *scope, *signers, *digests;
	uint64_t serial;
	bool heartbeat;                    /* a heartbeat (step 9), not a decision */
	bool busy;                         /* "denial":"store-busy": refused while a store was being
	                                    * written, no verdict on the image (not a policy refusal) */
} logrec;

/* One file of the log's rotated set, as read. */
typedef struct logfile {
	char *path;
	size_t first_rec, n;               /* its records: recs[first_rec .. first_rec + n) */
	char first_prev[SW_SHA256_HEX + 1]; /* "prev" of its first record, "" none */
	char last_hash[SW_SHA256_HEX + 1];  /* hash of its last line, "" none */
	char *error;                       /* why it cannot be read, or NULL */
} logfile;

typedef struct logview {
	logrec *recs;
	size_t n, cap;
	bool read_ok;                      /* at least one file could be read */
	sw_declog_set set;                 /* the files, oldest first, and the holes */
	logfile *files;                    /* set.n of them */
} logview;

static const char *jstr(yajl_val v, const char *key)
{
	const char *p[] = { key, NULL };
	yajl_val x = yajl_tree_get(v, p, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

/* A serial is unsigned 64-bit: yajl keeps numbers above 2^63-1 only as text (its
 * integer is clamped there), so the text is parsed, never YAJL_GET_INTEGER. */
static uint64_t jnum_u64(yajl_val v)
{
	uint64_t u;
	const char *s = v && YAJL_IS_NUMBER(v) ? v->u.number.r : NULL;
	if (!s || sw_parse_u64(s, strlen(s), &u) < 0)
		return 0;
	return u;
}

static void log_parse(logview *lv, logfile *lf, char *text)
{
	lf->first_rec = lv->n;
	const char *last = NULL;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		last = l;
		yajl_val v = NULL;
		sw_error je = { 0 };
		if (sw_json_tree(l, strlen(l), "decision record", &v, &je) < 0)
			continue;
		if (lv->n == lv->cap) {
			lv->cap = lv->cap ? 2 * lv->cap : 64;
			lv->recs = realloc(lv->recs, lv->cap * sizeof *lv->recs);
			if (!lv->recs)
				abort();
		}
		if (lv->n == lf->first_rec) {
			const char *p = jstr(v, "prev");
			snprintf(lf->first_prev, sizeof lf->first_prev, "%s", p && sw_is_hex64(p, strlen(p)) ? p : "");
		}
		logrec *x = &lv->recs[lv->n++];
		memset(x, 0, sizeof *x);
		x->line = xstrdup(l);
		const char *t = jstr(v, "time");
		if (!t || sw_parse_rfc3339(t, strlen(t), &x->time) < 0)
			x->time = 0;
		const char *kind = jstr(v, "kind");
		x->heartbeat = kind && strcmp(kind, SW_HEARTBEAT_KIND) == 0;
		x->container = xstrdup(jstr(v, "container"));
		x->decision = xstrdup(jstr(v, "decision"));
		const char *dk = jstr(v, "denial");
		x->busy = dk && strcmp(dk, "store-busy") == 0 && strcmp(x->decision, "allow") != 0;
		x->mode = xstrdup(jstr(v, "mode"));
		x->matched = xstrdup(jstr(v, "matched"));
		x->reason = xstrdup(jstr(v, "reason"));
		const char *ap[] = { "allowlist", NULL };
		yajl_val al = yajl_tree_get(v, ap, yajl_t_object);
		x->scope = xstrdup(al ? jstr(al, "scope") : NULL);
		const char *sp[] = { "serial", NULL };
		x->serial = jnum_u64(al ? yajl_tree_get(al, sp, yajl_t_number) : NULL);
		char buf[4096] = "";
		const char *sg[] = { "signers", NULL };
		yajl_val sa = yajl_tree_get(v, sg, yajl_t_array);
		for (size_t i = 0; sa && i < sa->u.array.len; i++)
			if (YAJL_IS_STRING(sa->u.array.values[i]))
				snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%.16s",
					 i ? " " : "", YAJL_GET_STRING(sa->u.array.values[i]));
		x->signers = xstrdup(buf);
		buf[0] = '\0';
		const char *dg[] = { "digests", NULL };
		yajl_val da = yajl_tree_get(v, dg, yajl_t_array);
		for (size_t i = 0; da && i < da->u.array.len; i++) {
			const char *d = jstr(da->u.array.values[i], "digest");
			if (d)
				snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "", d);
		}
		x->digests = xstrdup(buf);
		yajl_tree_free(v);
	}
	lf->n = lv->n - lf->first_rec;
	/* The chain hashes each line's bytes as written: the link to the next file. */
	if (last)
		sw_sha256_hex(last, strlen(last), lf->last_hash);
}

/* The configured log and its rotations (lib/declog: FILE.N, FILE.N.gz), oldest
 * first, so the records are in the order they were written. */
static void log_load(ctx *c, logview *lv)
{
	sw_error e = { 0 };
	if (!c->cfg.log_file || !c->cfg.log_file[0] || sw_declog_set_find(c->cfg.log_file, &lv->set, &e) < 0)
		return;
	lv->files = calloc(lv->set.n, sizeof *lv->files);
	if (!lv->files)
		abort();
	for (size_t i = 0; i < lv->set.n; i++) {
		logfile *lf = &lv->files[i];
		lf->path = lv->set.files[i].path;
		lf->first_rec = lv->n;
		char tmp[SW_DECLOG_TMP_MAX];
		const char *plain = sw_declog_plain(&lv->set.files[i], tmp, &e);
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (!plain || sw_read_file(plain, AUDIT_FILE_MAX * 16, &text, &len, &e) < 0) {
			lf->error = xstrdup(e.msg);
		} else {
			lv->read_ok = true;
			log_parse(lv, lf, text);
		}
		if (tmp[0])
			unlink(tmp);
	}
}

static void log_free(logview *lv)
{
	for (size_t i = 0; i < lv->n; i++) {
		logrec *x = &lv->recs[i];
		free(x->line); free(x->container); free(x->decision); free(x->mode); free(x->matched);
		free(x->reason); free(x->scope); free(x->signers); free(x->digests);
	}
	free(lv->recs);
	for (size_t i = 0; lv->files && i < lv->set.n; i++)
		free(lv->files[i].error);
	free(lv->files);
	sw_declog_set_free(&lv->set);
	*lv = (logview){ 0 };
}

/* The newest start decision recorded for a container, or NULL. */
static const logrec *log_find(const logview *lv, const char *id)
{
	for (size_t i = lv->n; i-- > 0;)
		if (strcmp(lv->recs[i].container, id) == 0)
			return &lv->recs[i];
	return NULL;
}

static bool warn_allow(const logrec *x)
{
	return strcmp(x->decision, "warn") == 0 ||
	       (strcmp(x->mode, "warn") == 0 && strcmp(x->decision, "allow") == 0 && !x->matched[0]);
}

/* ------------------------------------------------------------ step 4 + 5 */

typedef struct ctr {
	char *id, *runtime, *reference, *digests, *state, *hook;
	sw_found d[SW_RESOLVE_MAX];
	size_t n;
	char *error;
} ctr;

typedef struct ctrs {
	ctr *v;
	size_t n, cap;
	char **unread;             /* what could not be read: each a finding of step 4 */
	size_t n_unread;
} ctrs;

static void unread(ctrs *cs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void unread(ctrs *cs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	cs->unread = realloc(cs->unread, (cs->n_unread + 1) * sizeof *cs->unread);
	if (!cs->unread)
		abort();
	cs->unread[cs->n_unread++] = p;
}

/* What the store listings (lib/storage, lib/dockerstore, lib/ctrmeta) call back. */
typedef struct scan {
	ctx *c;
	ctrs *cs;
} scan;

static ctr *ctr_add(ctrs *cs, const char *id, const char *runtime)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? 2 * cs->cap : 16;
		cs->v = realloc(cs->v, cs->cap * sizeof *cs->v);
		if (!cs->v)
			abort();
	}
	ctr *x = &cs->v[cs->n++];
	memset(x, 0, sizeof *x);
	x->id = xstrdup(id);
	x->runtime = xstrdup(runtime);
	return x;
}

static void ctr_digest(ctr *x, const char *digest, const char *kind)
{
	if (x->n < SW_RESOLVE_MAX) {
		snprintf(x->d[x->n].digest, sizeof x->d[x->n].digest, "%s", digest);
		snprintf(x->d[x->n].kind, sizeof x->d[x->n].kind, "%s", kind);
		x->n++;
	}
}

/* Whether a podman container runs: containers/storage does not record it, the
 * OCI runtime's state does. podman (as root) keeps runc's under /run/runc and
 * crun's under /run/crun, named by the container id; --runc-root adds others. An
 * auditor asking whether a revoked container still runs gets the runtime's
 * answer and the file it rests on. */
static char *podman_state(const ctx *c, const char *id)
{
	const char *roots[SW_ARRAY_SIZE(c->runc_roots) + 2];
	size_t n = 0;
	for (size_t i = 0; i < c->n_runc_roots; i++)
		roots[n++] = c->runc_roots[i];
	roots[n++] = "/run/runc";
	roots[n++] = "/run/crun";
	for (size_t i = 0; i < n; i++) {
		static const struct { const char *file, *pid_key; } kinds[] = {
			{ "state.json", "init_process_pid" },   /* runc */
			{ "status", "pid" },                    /* crun */
		};
		for (size_t k = 0; k < SW_ARRAY_SIZE(kinds); k++) {
			char p[4400];
			snprintf(p, sizeof p, "%s/%s/%s", roots[i], id, kinds[k].file);
			_cleanup_free_ char *text = NULL;
			size_t len;
			sw_error e = { 0 };
			if (sw_read_file(p, AUDIT_FILE_MAX, &text, &len, &e) < 0) {
				if (e.code == ENOENT || e.code == ENOTDIR)
					continue;
				return xasprintf("unknown (%s)", e.msg);
			}
			yajl_val v = NULL;
			if (sw_json_tree(text, len, p, &v, &e) < 0)
				return xasprintf("unknown (%s)", e.msg);
			const char *pp[] = { kinds[k].pid_key, NULL };
			yajl_val pid = yajl_tree_get(v, pp, yajl_t_number);
			bool alive = pid && YAJL_GET_INTEGER(pid) > 0 && kill((pid_t)YAJL_GET_INTEGER(pid), 0) == 0;
			yajl_tree_free(v);
			return xasprintf("%s (runtime state %s)", alive ? "running" : "stopped", p);
		}
	}
	return xstrdup("not running (no runtime state: created, exited or removed)");
}

/* podman (and CRI-O, buildah): every container record of every graph driver of
 * the storage root, through lib/storage (which reads them as podman does); the
 * digests through the same chain of custody a start is checked with. */
static int podman_one(const sw_storage_container *sc, void *p)
{
	scan *k = p;
	if (!sc->id[0]) {
		unread(k->cs, "containers/storage (%s): %s", sc->driver, sc->error);
		return 0;
	}
	ctr *x = ctr_add(k->cs, sc->id, "podman (containers/storage)");
	x->state = podman_state(k->c, sc->id);
	x->hook = xstrdup("hooks.d (step 2)");
	if (sc->error) {
		x->error = xstrdup(sc->error);
		return 0;
	}
	if (sc->image_id[0]) {
		sw_storage_image img;
		sw_error e = { 0 };
		int r = sw_storage_image_digests(k->c->cfg.storage_root, sc->image_id, &img, &e);
		if (r < 0)
			x->error = xstrdup(e.msg);
		for (size_t i = 0; r > 0 && i < img.n; i++)
			ctr_digest(x, img.d[i].digest, img.d[i].kind);
		x->reference = xstrdup(r > 0 ? img.name : "");
	}
	return 0;
}

static void scan_podman(ctx *c, ctrs *cs)
{
	if (!c->cfg.containers_storage || !c->cfg.storage_root)
		return;
	sw_error e = { 0 };
	scan k = { c, cs };
	if (sw_storage_containers(c->cfg.storage_root, podman_one, &k, &e) < 0)
		unread(cs, "containers/storage: %s", e.msg);
}

static bool has_hook(yajl_val cfgjson, const char *stage)
{
	const char *p[] = { "hooks", stage, NULL };
	yajl_val a = yajl_tree_get(cfgjson, p, yajl_t_array);
	for (size_t i = 0; a && i < a->u.array.len; i++) {
		const char *path = jstr(a->u.array.values[i], "path");
		if (path && strstr(base_name(path), "sigward-hook"))
			return true;
	}
	return false;
}

static void scan_runc(ctx *c, ctrs *cs)
{
	for (size_t ri = 0; ri < c->n_runc_roots; ri++) {
		DIR *d = opendir(c->runc_roots[ri]);
		if (!d) {
			if (errno != ENOENT)
				unread(cs, "runc state directory %s: %s", c->runc_roots[ri], strerror(errno));
			continue;
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			/* runc keeps state.json ("init_process_pid", the bundle
			 * among config.labels); crun, given the same --root layout,
			 * keeps status ("pid", "bundle"). */
			static const struct { const char *file, *pid_key, *runtime; } kinds[] = {
				{ "state.json", "init_process_pid", "runc" },
				{ "status", "pid", "crun" },
			};
			char p[4096];
			_cleanup_free_ char *text = NULL;
			size_t len = 0, kind;
			sw_error e = { 0 };
			for (kind = 0; kind < SW_ARRAY_SIZE(kinds); kind++) {
				snprintf(p, sizeof p, "%s/%s/%s", c->runc_roots[ri], de->d_name, kinds[kind].file);
				if (sw_read_file(p, AUDIT_FILE_MAX, &text, &len, &e) == 0 || e.code != ENOENT)
					break;
			}
			if (kind == SW_ARRAY_SIZE(kinds))
				continue;  /* neither file: the runtime is creating or deleting it */
			if (!text) {
				unread(cs, "%s: %s", kinds[kind].runtime, e.msg);
				continue;
			}
			yajl_val v = NULL;
			if (sw_json_tree(text, len, p, &v, &e) < 0) {
				unread(cs, "%s: %s", kinds[kind].runtime, e.msg);
				continue;
			}
			const char *id = jstr(v, "id");
			ctr *x = ctr_add(cs, id ? id : de->d_name, kinds[kind].runtime);
			const char *pp[] = { kinds[kind].pid_key, NULL };
			yajl_val pid = yajl_tree_get(v, pp, yajl_t_number);
			bool alive = pid && YAJL_GET_INTEGER(pid) > 0 && kill((pid_t)YAJL_GET_INTEGER(pid), 0) == 0;
			x->state = xstrdup(alive ? "running" : "stopped");
			const char *lp[] = { "config", "labels", NULL };
			yajl_val labels = yajl_tree_get(v, lp, yajl_t_array);
			const char *bundle = jstr(v, "bundle");
			for (size_t i = 0; labels && i < labels->u.array.len; i++) {
				const char *l = YAJL_GET_STRING(labels->u.array.values[i]);
				if (l && strncmp(l, "bundle=", 7) == 0)
					bundle = l + 7;
			}
			x->hook = xstrdup("unknown (no bundle)");
			if (bundle) {
				char cp[4096];
				snprintf(cp, sizeof cp, "%s/config.json", bundle);
				_cleanup_free_ char *cj = NULL;
				size_t cl;
				sw_bundle b = { 0 };
				if (sw_read_file(cp, 4u << 20, &cj, &cl, &e) < 0 ||
				    sw_bundle_parse(cj, cl, cp, &b, &e) < 0) {
					x->error = xstrdup(e.msg);
				} else {
					sw_resolution res = { 0 };
					if (sw_resolve_annotations(&c->cfg, &b, &res, &e) < 0)
						x->error = xstrdup(e.msg);
					for (size_t k = 0; k < res.n; k++)
						ctr_digest(x, res.d[k].digest, res.d[k].kind);
					x->reference = xstrdup(res.reference);
					yajl_val cv = NULL;
					sw_error je = { 0 };
					(void)sw_json_tree(cj, cl, cp, &cv, &je);
					bool hk = cv && (has_hook(cv, "prestart") || has_hook(cv, "createRuntime"));
					free(x->hook);
					x->hook = xstrdup(hk ? "sigward-hook in config.json" : "NO sigward-hook in config.json");
					yajl_tree_free(cv);
				}
				sw_bundle_free(&b);
			}
			yajl_tree_free(v);
		}
		closedir(d);
	}
}

/* containerd: its tasks, from the task bundles under its state directory, through
 * lib/ctrmeta (from disk rather than asked of the API: no socket or ctr needed, no
 * hang on a stuck daemon, the same bundles the runtime and sigward-runc were
 * given). The image digests come from containerd's metadata store, read without
 * locks. Docker's tasks (namespace moby) are listed from Docker's data root. */
static int containerd_one(const sw_containerd_task *t, void *p)
{
	scan *k = p;
	ctx *c = k->c;
	if (!t->id[0]) {
		unread(k->cs, "containerd tasks (namespace %s): %s", t->ns, t->error);
		return 0;
	}
	if (strcmp(t->ns, "moby") == 0) {
		char dp[4400];
		snprintf(dp, sizeof dp, "%s/containers/%s", c->docker_root, t->id);
		if (exists(dp))
			return 0;
	}
	char rtn[SW_CONTAINERD_NS_MAX + 32];
	snprintf(rtn, sizeof rtn, "containerd (namespace %s)", t->ns);
	ctr *x = ctr_add(k->cs, t->id, rtn);
	x->state = xstrdup(t->error ? "unknown (init.pid cannot be read)"
			   : t->alive ? "running" : "created or stopped (task exists)");
	x->hook = xstrdup(c->ctrd.wired ? "sigward-runc as runc BinaryName (step 2)"
					: "NO sigward-runc as runc BinaryName (step 2)");
	sw_resolution res = { 0 };
	sw_error e = { 0 };
	int r = sw_containerd_resolve(c->containerd_root, t->ns, t->id, &res, &e);
	if (t->error)
		x->error = xstrdup(t->error);
	else if (r < 0)
		x->error = xstrdup(e.msg);
	else if (r == 0)
		x->error = xasprintf("no image record in %s/%s", c->containerd_root, SW_CONTAINERD_META);
	for (size_t i = 0; i < res.n; i++)
		ctr_digest(x, res.d[i].digest, res.d[i].kind);
	x->reference = xstrdup(res.reference);
	return 0;
}

static void scan_containerd(ctx *c, ctrs *cs)
{
	sw_error e = { 0 };
	scan k = { c, cs };
	if (sw_containerd_tasks(c->containerd_state, containerd_one, &k, &e) < 0)
		unread(cs, "containerd tasks: %s", e.msg);
}

/* Docker: the running containers of its data root, through lib/dockerstore
 * (config.v2.json's State, hostconfig.json's Runtime: only sigward-runc's
 * decides), their digests through the same chain of custody sigward-runc checks
 * at start. */
static int docker_one(const sw_docker_container *dc, void *p)
{
	scan *k = p;
	ctx *c = k->c;
	if (dc->error && !dc->running) {
		/* Whether it runs is not known, or it does and its runtime is not:
		 * either way the audit cannot vouch for it. */
		unread(k->cs, "docker container %s: %s", dc->id, dc->error);
		return 0;
	}
	if (!dc->running)
		return 0;
	ctr *x = ctr_add(k->cs, dc->id, "docker");
	x->state = xstrdup(dc->paused ? "paused" : "running");
	if (dc->error) {
		x->hook = xstrdup("NO sigward-runc known: its runtime cannot be read");
		x->error = xstrdup(dc->error);
		x->reference = xstrdup(dc->reference);
		return 0;
	}
	const char *runtime = dc->runtime[0] ? dc->runtime : "runc";
	bool sigward = c->dw.runtime && strcmp(runtime, c->dw.name) == 0;
	x->hook = xasprintf("%sruntime %s%s", sigward ? "" : "NO sigward-runc: ", runtime,
			    sigward ? " (sigward-runc, step 2)" : "");
	sw_resolution res = { 0 };
	sw_error e = { 0 };
	int r = sw_docker_resolve(c->docker_root, dc->id, &res, &e);
	if (r < 0)
		x->error = xstrdup(e.msg);
	for (size_t i = 0; i < res.n; i++)
		ctr_digest(x, res.d[i].digest, res.d[i].kind);
	x->reference = xstrdup(dc->reference[0] ? dc->reference : res.reference);
	return 0;
}

static void scan_docker(ctx *c, ctrs *cs)
{
	sw_error e = { 0 };
	scan k = { c, cs };
	if (sw_docker_containers(c->docker_root, docker_one, &k, &e) < 0)
		unread(cs, "docker: %s", e.msg);
}

/* Whether the current list holds one of x's digests; listed (may be NULL) says
 * which entry. */
static bool ctr_listed(const ctx *c, const ctr *x, char *listed, size_t len)
{
	sw_error e = { 0 };
	for (size_t k = 0; c->have_cur && k < x->n; k++) {
		char ref[SW_REF_MAX + 1] = "";
		if (sw_list_lookup(&c->cur, x->d[k].digest, x->d[k].kind, ref, sizeof ref, &e) == 1) {
			if (listed)
				snprintf(listed, len, "yes: %s%s%s (%s#%" PRIu64 ")", x->d[k].digest,
					 ref[0] ? " " : "", ref, c->cur.scope, c->cur.serial);
			return true;
		}
	}
	return false;
}

static void step_containers(ctx *c, const logview *lv)
{
	report *r = &c->rep;
	section *s = sec_new(r, 4, "Running containers sigward can see, with their digests and start decisions");
	sw_error e = { 0 };
	ctrs cs = { 0 };
	scan_podman(c, &cs);
	scan_runc(c, &cs);
	scan_containerd(c, &cs);
	scan_docker(c, &cs);
	size_t total = cs.n;
	/* The node's figures over every container, before sampling: a fleet audit
	 * (fleet.c) adds them up across nodes. */
	size_t running = 0, running_listed = 0;
	for (size_t i = 0; i < cs.n; i++) {
		if (strncmp(cs.v[i].state ? cs.v[i].state : "", "running", 7) != 0)
			continue;
		running++;
		running_listed += ctr_listed(c, &cs.v[i], NULL, 0);
	}
	char num[32];
	snprintf(num, sizeof num, "%zu", total);
	report_fact(r, true, "containers", "containers found", num, NULL);
	snprintf(num, sizeof num, "%zu", running);
	report_fact(r, true, "containers_running", "containers running", num, NULL);
	snprintf(num, sizeof num, "%zu", running_listed);
	report_fact(r, true, "containers_running_listed", "running containers whose image is in the current list", num, NULL);
	/* A uniform random sample (partial Fisher-Yates) when there are more than N. */
	if (cs.n > c->sample) {
		for (size_t i = 0; i < c->sample; i++) {
			uint64_t rnd = 0;
			if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
				rnd = (uint64_t)i * 2654435761u;
			size_t j = i + (size_t)(rnd % (cs.n - i));
			ctr tmp = cs.v[i];
			cs.v[i] = cs.v[j];
			cs.v[j] = tmp;
		}
		cs.n = c->sample;
	}
	if (c->have_cur) {
		char rel[64];
		snprintf(rel, sizeof rel, "evidence/allowlist/manifest");
		sec_evidence(s, rel);
	}
	sec_evidence(s, "evidence/decisions-all-starts.jsonl");
	table *t = tab_new(s, "containers", "container", "runtime", "state", "reference", "digests",
			   "in current list", "start decision (log)", "list at start", "signers at start",
			   "hook", "finding", NULL);
	/* The start records of the containers shown: every record, whatever the period,
	 * since a container may have started before it. */
	_cleanup_free_ char *starts = NULL;
	size_t starts_len = 0;
	FILE *sf = open_memstream(&starts, &starts_len);
	for (size_t i = 0; i < cs.n; i++) {
		ctr *x = &cs.v[i];
		char digests[4096] = "", listed[1024] = "no";
		for (size_t k = 0; k < x->n; k++)
			snprintf(digests + strlen(digests), sizeof digests - strlen(digests), "%s%s (%s)",
				 k ? " " : "", x->d[k].digest, x->d[k].kind);
		bool in_list = ctr_listed(c, x, listed, sizeof listed);
		const logrec *lr = log_find(lv, x->id);
		char dec[512] = "no record", at[128] = "", fnd[1024] = "";
		if (lr) {
			fprintf(sf, "%s\n", lr->line);
			snprintf(dec, sizeof dec, "%s (%s mode): %s", lr->decision, lr->mode, lr->reason);
			if (lr->scope[0])
				snprintf(at, sizeof at, "%s#%" PRIu64, lr->scope, lr->serial);
		}
		if (x->error)
			snprintf(fnd, sizeof fnd, "digests cannot be read: %s", x->error);
		else if (!in_list && lr && strcmp(lr->decision, "allow") == 0 && lr->matched[0])
			snprintf(fnd, sizeof fnd, "revoked: its image was allowed at start (%s) but is not in the current list", at);
		else if (!in_list && lr && warn_allow(lr))
			snprintf(fnd, sizeof fnd, "unlisted: started in warn mode with an image not in the list");
		else if (!in_list)
			snprintf(fnd, sizeof fnd, "its image is not in the current list");
		else if (!lr)
			snprintf(fnd, sizeof fnd, "no start decision in the log");
		if (strncmp(x->hook, "NO ", 3) == 0 && !fnd[0])
			snprintf(fnd, sizeof fnd, "started without sigward deciding (%s)", x->hook + 3);
		if (fnd[0])
			finding(r, s, "container %s (%s): %s", x->id, x->runtime, fnd);
		tab_row(t, fnd[0] != '\0', x->id, x->runtime, x->state, x->reference ? x->reference : "",
			digests, listed, dec, at, lr ? lr->signers : "", x->hook, fnd);
	}
	fclose(sf);
	if (write_out(c, "evidence/decisions-all-starts.jsonl", starts, starts_len, &e) < 0)
		finding(r, s, "%s", e.msg);
	/* A store the audit cannot read may hold containers it does not show:
	 * say so, never under-report in silence. */
	for (size_t i = 0; i < cs.n_unread; i++) {
		finding(r, s, "cannot read: %s", cs.unread[i]);
		free(cs.unread[i]);
	}
	free(cs.unread);
	s->answer = xasprintf("%zu container(s) found (podman's containers/storage, runc state directories, "
			      "containerd's task bundles, Docker's running containers); "
			      "%zu shown%s%s.", total, cs.n, total > cs.n ? " (a random sample)" : "",
			      cs.n_unread ? "; some stores could not be read (see the findings)" : "");
	for (size_t i = 0; i < total; i++) {
		free(cs.v[i].id); free(cs.v[i].runtime); free(cs.v[i].reference);
		free(cs.v[i].state); free(cs.v[i].hook); free(cs.v[i].error);
	}
	free(cs.v);
}

static void step_reverify(ctx *c)
{
	report *r = &c->rep;
	section *s = sec_new(r, 5, "The allowing list's signatures, verified again now");
	sw_error e = { 0 };
	report_fact(r, false, "list_verified", "current list verified now", c->have_cur ? "no" : "none", NULL);
	if (!c->have_cur) {
		finding(r, s, "no list is installed (%s/current)", c->cfg.lists_dir);
		s->answer = xstrdup("No list is installed: nothing can be allowed in enforce mode.");
		return;
	}
	sec_evidence(s, "evidence/allowlist/manifest");
	sec_evidence(s, "evidence/allowlist/manifest.sig");
	table *t = tab_new(s, "verification", "check", "result", NULL);
	sw_verify_opts o = {
		.scope = c->cfg.scope ? c->cfg.scope : "",
		.threshold = c->cfg.threshold,
		.now = c->now,
		.grace = c->cfg.grace,
		.keys_dir = c->cfg.keys_dir,
		.state_dir = c->cfg.state_dir,
		/* Re-done from the bytes, never from the hook's cache, and changing nothing. */
		.use_cache = false,
		.update_state = false,
	};
	char gen[SW_SCOPE_MAX + 64];
	snprintf(gen, sizeof gen, "%s#%" PRIu64, c->cur.scope, c->cur.serial);
	tab_row(t, false, "list", gen);
	int rv = sw_list_verify(&c->cur, &o, &e);
	c->cur_verified = rv >= 0;
	char serial[32];
	snprintf(serial, sizeof serial, "%" PRIu64, c->cur.serial);
	/* A string: a serial may exceed what a JSON reader keeps exact in a double. */
	report_fact(r, false, "list_scope", "current list scope", c->cur.scope, NULL);
	report_fact(r, false, "list_serial", "current list serial", serial, NULL);
	report_fact(r, false, "list_verified", "current list verified now", rv < 0 ? "no" : "yes", NULL);
	tab_row(t, rv < 0, "signatures, threshold, scope, expiry, serial", rv < 0 ? e.msg : "valid");
	char signers[SW_MAX_KEYS * (SW_KEYID_HEX + 1) + 1] = "";
	for (size_t i = 0; i < c->cur.n_signers; i++)
		snprintf(signers + strlen(signers), sizeof signers - strlen(signers), "%s%s", i ? " " : "", c->cur.signers[i]);
	tab_row(t, false, "signed by (key ids)", signers);
	if (rv < 0)
		finding(r, s, "the current list %s fails verification now: %s", gen, e.msg);
	/* The sampled running images' own signatures, from the list's evidence. */
	audit_evidence(r, s, &c->cur, rv >= 0, c->now, c->out);
	s->answer = xasprintf("The current list %s was verified again from its files: %s.", gen,
			      rv < 0 ? "it FAILS" : "valid");
}

/* ------------------------------------------------------------ step 6, 7 */

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	remove(path);
	return 0;
}

/* Step 6: a throwaway image that no list can hold (its only layer holds random
 * bytes: lib/ociimage.h) is started through every wired runtime and must be
 * refused by sigward, with a deny record in the log; the image and the container
 * are removed again, and each runtime is asked whether they are gone. A wired
 * runtime the test cannot get through (not reachable, a tool missing, the
 * import failing) is a finding: the auditor was promised every runtime. All
 * files live in a private directory under /tmp that is removed afterwards. */
static void step_negative(ctx *c, const char *config)
{
	report *r = &c->rep;
	section *s = sec_new(r, 6, "An unsigned image is refused by every wired runtime");
	if (!c->negative) {
		sec_not_evidenced(r, s, "the negative test was not run (--negative-test not given): "
				  "nothing in this bundle shows an unsigned image being refused.");
		return;
	}
	sw_error e = { 0 };
	unsigned char rnd[6];
	char nonce[13], tmp[64];
	audit_neg_env env = { .cfg = &c->cfg, .config = config, .hook = c->hook };
	/* Lowercase hex only: podman names an image pulled from an OCI layout after
	 * its path, and refuses uppercase. */
	bool made = false;
	for (int tries = 0; tries < 5 && !made; tries++) {
		if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) {
			finding(r, s, "the negative test could not run: getrandom: %s", strerror(errno));
			return;
		}
		sw_hex(rnd, sizeof rnd, nonce);
		snprintf(tmp, sizeof tmp, "/tmp/sigward-audit-neg.%s", nonce);
		made = mkdir(tmp, 0700) == 0;
	}
	if (!made) {
		finding(r, s, "the negative test could not run: mkdir %s: %s", tmp, strerror(errno));
		s->answer = xstrdup("Not run: no private directory.");
		return;
	}
	env.tmp = tmp;
	env.nonce = nonce;
	snprintf(env.tag, sizeof env.tag, "neg-%s", nonce);
	snprintf(env.repo_tag, sizeof env.repo_tag, "localhost/sigward-audit-negative:%s", env.tag);
	_cleanup_free_ char *marker = xasprintf("sigward audit negative test %s: this image is in no allowlist\n", nonce);
	audit_neg res[4];
	size_t nr = 0;
	char runc[4096], podman[4096], ctr_bin[4096], docker[4096];
	if (sw_ociimage_write(tmp, env.tag, env.repo_tag, marker, &env.img, &e) < 0) {
		finding(r, s, "the negative test could not run: the throwaway image: %s", e.msg);
		goto cleanup;
	}
	if (cli_which("runc", runc, sizeof runc)) {
		env.runc = runc;
		audit_neg_runc(&env, &res[nr++]);
	}
	if (c->hooks_file[0] && cli_which("podman", podman, sizeof podman)) {
		env.podman = podman;
		env.podman_root = c->podman_root;
		env.podman_runroot = c->podman_runroot;
		env.podman_runtime = c->podman_runtime;
		/* The directories given to the audit, or podman's own default. */
		env.podman_hooks_dirs = c->podman_hooks_given ? c->hooks_dirs : NULL;
		env.n_podman_hooks_dirs = c->podman_hooks_given ? c->n_hooks_dirs : 0;
		audit_neg_podman(&env, &res[nr++]);
	}
	if (c->ctrd.wired) {
		audit_neg *n = &res[nr++];
		if (!cli_which("ctr", ctr_bin, sizeof ctr_bin)) {
			*n = (audit_neg){ .runtime = "containerd", .status = -1 };
			snprintf(n->error, sizeof n->error, "ctr is not installed");
		} else {
			env.ctr = ctr_bin;
			env.ctr_address = c->ctr_address ? c->ctr_address :
					  c->ctrd.address[0] ? c->ctrd.address : "/run/containerd/containerd.sock";
			env.ctr_namespace = c->ctr_namespace;
			env.ctr_runc_binary = c->ctrd.binary;
			audit_neg_containerd(&env, n);
		}
	}
	if (c->dw.runtime) {
		audit_neg *n = &res[nr++];
		if (!cli_which("docker", docker, sizeof docker)) {
			*n = (audit_neg){ .runtime = "docker", .status = -1 };
			snprintf(n->error, sizeof n->error, "the docker client is not installed");
		} else {
			env.docker = docker;
			env.docker_host = c->docker_host ? c->docker_host :
					  c->dw.host[0] ? c->dw.host : "unix:///var/run/docker.sock";
			env.docker_runtime = c->dw.is_default ? NULL : c->dw.name;
			audit_neg_docker(&env, n);
		}
	}

	/* The image as evidence: its index, manifest and config (the layer is the marker). */
	char src[4300];
	snprintf(src, sizeof src, "%s/layout/index.json", tmp);
	if (copy_in(c, src, "evidence/negative-test/image/index.json", NULL, &e) == 0)
		sec_evidence(s, "evidence/negative-test/image/index.json");
	snprintf(src, sizeof src, "%s/layout/blobs/sha256/%s", tmp, env.img.manifest + 7);
	if (copy_in(c, src, "evidence/negative-test/image/manifest.json", NULL, &e) == 0)
		sec_evidence(s, "evidence/negative-test/image/manifest.json");
	snprintf(src, sizeof src, "%s/layout/blobs/sha256/%s", tmp, env.img.config + 7);
	if (copy_in(c, src, "evidence/negative-test/image/config.json", NULL, &e) == 0)
		sec_evidence(s, "evidence/negative-test/image/config.json");
	snprintf(src, sizeof src, "%s/runc-bundle/config.json", tmp);
	if (exists(src) && copy_in(c, src, "evidence/negative-test/runc/config.json", NULL, &e) == 0)
		sec_evidence(s, "evidence/negative-test/runc/config.json");

cleanup:;
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	bool tmp_left = exists(tmp);
	if (tmp_left)
		finding(r, s, "the negative test left %s behind", tmp);

	/* The runtimes' records of these starts, read back from the log. */
	logview lv = { 0 };
	log_load(c, &lv);
	table *im = tab_new(s, "throwaway image", "check", "result", NULL);
	char ref[SW_REF_MAX + 1] = "";
	bool listed = c->have_cur && env.img.manifest[0] &&
		      (sw_list_lookup(&c->cur, env.img.manifest, "manifest", ref, sizeof ref, &e) == 1 ||
		       sw_list_lookup(&c->cur, env.img.config, "image-id", ref, sizeof ref, &e) == 1);
	tab_row(im, false, "manifest digest", env.img.manifest);
	tab_row(im, false, "image id (config digest)", env.img.config);
	tab_row(im, false, "layer", env.img.layer[0] ? xasprintf("%s: one file, /" SW_OCIIMAGE_FILE ", %s", env.img.layer,
								    marker) : "");
	tab_row(im, listed, "in the current list", listed ? "YES" : "no");
	tab_row(im, tmp_left, "private directory", xasprintf("%s, %s", tmp, tmp_left ? "LEFT BEHIND" : "removed"));
	table *t = tab_new(s, "negative tests", "runtime", "start", "container", "exit status", "refusal",
			   "decision log record", "left behind", "evidence", NULL);
	size_t refused_n = 0;
	for (size_t i = 0; i < nr; i++) {
		audit_neg *n = &res[i];
		char dir[128], rel[192];
		snprintf(dir, sizeof dir, "evidence/negative-test/%s", n->runtime);
		snprintf(rel, sizeof rel, "%s/transcript.txt", dir);
		if (n->transcript && write_out(c, rel, n->transcript, strlen(n->transcript), &e) == 0)
			sec_evidence(s, rel);
		const logrec *lr = n->container[0] ? log_find(&lv, n->container) : NULL;
		if (lr) {
			_cleanup_free_ char *line = xasprintf("%s\n", lr->line);
			snprintf(rel, sizeof rel, "%s/decision.jsonl", dir);
			if (write_out(c, rel, line, strlen(line), &e) == 0)
				sec_evidence(s, rel);
		}
		/* sigward's own line for this very container, not just any failure. */
		_cleanup_free_ char *want = xasprintf("sigward: denied container %s: ", n->container);
		bool refused = !n->error[0] && n->status > 0 && n->output && n->container[0] && strstr(n->output, want);
		/* A store-busy refusal says nothing of the policy: it is no evidence. */
		bool denied = lr && strcmp(lr->decision, "deny") == 0 && !lr->busy;
		char num[32];
		snprintf(num, sizeof num, "%d", n->status);
		const char *deny_line = refused ? strstr(n->output, "sigward: denied container ") : NULL;
		_cleanup_free_ char *refusal = deny_line ? xstrdup(deny_line) : xstrdup(n->output ? n->output : "");
		char *nl = strchr(refusal, '\n');
		if (deny_line && nl)
			*nl = '\0';
		bool bad = n->error[0] || !refused || !denied || n->left[0];
		tab_row(t, bad, n->runtime, n->how, n->container, n->status < 0 ? "not started" : num,
			n->error[0] ? xasprintf("COULD NOT RUN: %s", n->error) : refusal,
			lr ? xasprintf("%s: %s", lr->decision, lr->reason) : "none", n->left[0] ? n->left : "nothing", dir);
		if (n->error[0]) {
			finding(r, s, "the negative test could not run through %s: %s", n->runtime, n->error);
		} else {
			if (!refused)
				finding(r, s, "an unsigned image was NOT refused by sigward through %s (exit %d)", n->runtime,
					n->status);
			if (!denied && lr && lr->busy)
				finding(r, s, "the unsigned image's start %s through %s was refused only because an image store "
					"was busy (\"denial\":\"store-busy\"): the policy was not exercised, run the audit again",
					n->container, n->runtime);
			else if (!denied)
				finding(r, s, "no deny record for the unsigned image's start %s through %s in the decision log",
					n->container[0] ? n->container : "(no container)", n->runtime);
		}
		if (n->left[0])
			finding(r, s, "the negative test through %s left behind: %s", n->runtime, n->left);
		if (!bad)
			refused_n++;
	}
	if (listed)
		finding(r, s, "the throwaway image's digest is in the current list (%s)", ref);
	if (nr == 0)
		finding(r, s, "the negative test could not run: runc is not installed and no runtime is wired");
	char names[256] = "";
	for (size_t i = 0; i < nr; i++)
		snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", res[i].runtime);
	s->answer = xasprintf("An image whose digest no list holds was started through %zu runtime(s)%s%s%s: %s.", nr,
			      nr ? " (" : "", names, nr ? ")" : "",
			      nr && refused_n == nr ? "each refused it, each refusal is in the decision log, nothing was left behind"
						    : "NOT refused as expected everywhere (see the findings)");
	for (size_t i = 0; i < nr; i++)
		audit_neg_free(&res[i]);
	log_free(&lv);
}

static int cmp_step(const void *a, const void *b)
{
	return ((const section *)a)->step - ((const section *)b)->step;
}

/* Generations ("gen-<serial>-...") in serial order: the serial's digits compare
 * by length first, so gen-10 follows gen-9 and 2^64-1 follows 2^63. */
static int cmp_gen(const void *a, const void *b)
{
	const char *x = *(char *const *)a + 4, *y = *(char *const *)b + 4;
	size_t lx = strspn(x, "0123456789"), ly = strspn(y, "0123456789");
	if (lx != ly)
		return lx < ly ? -1 : 1;
	int r = strncmp(x, y, lx);
	return r ? r : strcmp(x, y);
}

static void step_history(ctx *c, const logview *lv)
{
	report *r = &c->rep;
	section *s = sec_new(r, 7, "Signing in the release pipeline: installed list generations and their signers");
	sw_error e = { 0 };
	table *t = tab_new(s, "installed generations", "generation", "scope", "serial", "issued", "expires",
			   "signers (key ids)", "current", "evidence", NULL);
	char cur_target[4096] = "";
	char cp[4096];
	snprintf(cp, sizeof cp, "%s/current", c->cfg.lists_dir);
	ssize_t n = readlink(cp, cur_target, sizeof cur_target - 1);
	cur_target[n > 0 ? n : 0] = '\0';
	DIR *d = opendir(c->cfg.lists_dir);
	char *names[1024];
	size_t nn = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, "gen-", 4) == 0 && nn < SW_ARRAY_SIZE(names))
			names[nn++] = xstrdup(de->d_name);
	if (d)
		closedir(d);
	qsort(names, nn, sizeof *names, cmp_gen);
	for (size_t i = 0; i < nn; i++) {
		char dir[4096], rel[1200], src[4200];
		snprintf(dir, sizeof dir, "%s/%s", c->cfg.lists_dir, names[i]);
		sw_list l = { .dirfd = -1 };
		bool is_cur = strcmp(base_name(cur_target), names[i]) == 0;
		if (sw_list_open_dir(dir, &l, &e) < 0) {
			tab_row(t, true, names[i], "", "", "", "", e.msg, is_cur ? "yes" : "", "");
			finding(r, s, "generation %s cannot be read: %s", names[i], e.msg);
			continue;
		}
		snprintf(rel, sizeof rel, "evidence/allowlist/generations/%s/manifest", names[i]);
		snprintf(src, sizeof src, "%s/manifest", dir);
		if (copy_in(c, src, rel, NULL, &e) == 0)
			sec_evidence(s, rel);
		snprintf(rel, sizeof rel, "evidence/allowlist/generations/%s/manifest.sig", names[i]);
		snprintf(src, sizeof src, "%s/manifest.sig", dir);
		if (copy_in(c, src, rel, NULL, &e) == 0)
			sec_evidence(s, rel);
		int k = sw_list_count_signers(&l, &c->kr, &e);
		char signers[SW_MAX_KEYS * (SW_KEYID_HEX + 1) + 64] = "";
		if (k < 0)
			snprintf(signers, sizeof signers, "error: %s", e.msg);
		for (size_t j = 0; k >= 0 && j < l.n_signers; j++)
			snprintf(signers + strlen(signers), sizeof signers - strlen(signers), "%s%s", j ? " " : "", l.signers[j]);
		if (k >= 0 && (unsigned)k < c->cfg.threshold)
			snprintf(signers + strlen(signers), sizeof signers - strlen(signers),
				 "%s(%d valid, below the threshold %u)", k ? " " : "", k, c->cfg.threshold);
		char serial[32], iss[32], exp[32];
		snprintf(serial, sizeof serial, "%" PRIu64, l.serial);
		sw_format_rfc3339(l.issued, iss);
		sw_format_rfc3339(l.expires, exp);
		bool bad = k < 0 || (unsigned)k < c->cfg.threshold;
		if (bad && is_cur)
			finding(r, s, "the current generation %s is not signed by %u trusted key(s)", names[i], c->cfg.threshold);
		tab_row(t, bad && is_cur, names[i], l.scope, serial, iss, exp, signers, is_cur ? "yes" : "", rel);
		sw_list_close(&l);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);

	/* Lists named by the period's decisions. */
	table *u = tab_new(s, "lists used by the decisions of the period", "list", "decisions", "signers", NULL);
	char seen[64][SW_SCOPE_MAX + 64];
	size_t cnt[64] = { 0 }, ns = 0;
	const char *sg[64];
	for (size_t i = 0; i < lv->n; i++) {
		const logrec *x = &lv->recs[i];
		if (x->time < c->since || x->time > c->until || !x->scope[0] || x->heartbeat)
			continue;
		char key[SW_SCOPE_MAX + 64];
		snprintf(key, sizeof key, "%s#%" PRIu64, x->scope, x->serial);
		size_t j;
		for (j = 0; j < ns && strcmp(seen[j], key) != 0; j++)
			;
		if (j == ns && ns < 64) {
			snprintf(seen[ns], sizeof seen[ns], "%s", key);
			sg[ns] = x->signers;
			ns++;
		}
		if (j < 64)
			cnt[j]++;
	}
	for (size_t j = 0; j < ns; j++) {
		char num[32];
		snprintf(num, sizeof num, "%zu", cnt[j]);
		tab_row(u, false, seen[j], num, sg[j]);
	}
	/* Signed in CI? The current list's evidence names who signed its images. */
	if (c->have_cur)
		audit_evidence_signers(s, &c->cur);
	sec_evidence(s, "evidence/decisions.jsonl");
	s->answer = xasprintf("%zu generation(s) installed under %s (current: %s); the decisions of the "
			      "period name %zu list(s).", nn, c->cfg.lists_dir,
			      cur_target[0] ? base_name(cur_target) : "none", ns);
}

/* ------------------------------------------------------------ step 8 */

static void step_log(ctx *c, const logview *lv)
{
	report *r = &c->rep;
	section *s = sec_new(r, 8, "The decision log for the period");
	sw_error e = { 0 };
	sec_evidence(s, "evidence/decisions.jsonl");
	char since[32], until[32];
	sw_format_rfc3339(c->since, since);
	sw_format_rfc3339(c->until, until);
	table *v = tab_new(s, "integrity", "check", "result", NULL);
	tab_row(v, false, "log file", c->cfg.log_file);
	tab_row(v, false, "period", xasprintf("%s .. %s", since, until));
	table *fl = tab_new(s, "log files", "file", "records", "first record", "last record", "records in the period",
			    "chain", NULL);
	size_t n_all = 0;
	bool broken = false;
	if (!lv->read_ok) {
		finding(r, s, "the decision log %s cannot be read", c->cfg.log_file);
		tab_row(v, true, "chain", "log missing or unreadable");
	} else {
		char head[SW_SHA256_HEX + 1] = "", hp[4200];
		snprintf(hp, sizeof hp, "%s/%s", c->cfg.state_dir, SW_LOG_HEAD_NAME);
		_cleanup_free_ char *ht = NULL;
		size_t hl;
		sw_error he = { 0 };
		if (sw_read_file(hp, 4096, &ht, &hl, &he) == 0 && hl >= SW_SHA256_HEX && sw_is_hex64(ht, SW_SHA256_HEX)) {
			memcpy(head, ht, SW_SHA256_HEX);
			if (copy_in(c, hp, "evidence/decisions.head", NULL, &he) == 0)
				sec_evidence(s, "evidence/decisions.head");
		}
		/* Every file of the rotated set, oldest first (lib/declog). Each file's own
		 * chain is verified by sw_declog_verify; the links between files, the holes
		 * in the sequence and the head are checked here, so that one break does not
		 * hide the next and each gap is its own finding. */
		for (size_t i = 0; i < lv->set.n_missing; i++) {
			broken = true;
			finding(r, s, "the rotated decision log file %s is missing: the records it held are not in this audit",
				lv->set.missing[i]);
			tab_row(fl, true, lv->set.missing[i], "", "", "", "", "MISSING");
		}
		const logfile *prev = NULL;
		for (size_t i = 0; i < lv->set.n; i++) {
			const logfile *f = &lv->files[i];
			char res[SW_ERROR_MAX + 128] = "intact";
			bool bad = false;
			size_t n = 0;
			char last[SW_SHA256_HEX + 1];
			/* A single file starts the chain at zero; the oldest of a rotated set
			 * may name a predecessor that was rotated away. */
			const char *start = lv->set.n == 1 ? NULL : SW_DECLOG_ANY_START;
			if (f->error) {
				bad = true;
				snprintf(res, sizeof res, "unreadable: %s", f->error);
				finding(r, s, "the decision log file %s cannot be read: %s", f->path, f->error);
			} else if (sw_declog_verify_file(&lv->set.files[i], start, NULL, &n, last, &e) < 0) {
				bad = true;
				snprintf(res, sizeof res, "BROKEN: %s", e.msg);
				finding(r, s, "the decision log's chain is broken: %s", e.msg);
			}
			if (!f->error && f->n && prev && strcmp(f->first_prev, prev->last_hash) != 0) {
				bad = true;
				if (strcmp(res, "intact") == 0)
					res[0] = '\0';
				snprintf(res + strlen(res), sizeof res - strlen(res),
					 "%sBROKEN: its first record does not follow the last record of %s",
					 res[0] ? "; " : "", prev->path);
				finding(r, s, "the decision log's chain is broken between %s and %s: the first record of %s "
					"does not follow the last record of %s", prev->path, f->path, f->path, prev->path);
			} else if (!f->error && f->n && i == 0 && lv->set.n > 1 && strcmp(f->first_prev, ZERO_HASH) != 0 &&
				   lv->recs[f->first_rec].time > c->since) {
				/* Records older than the oldest file kept were rotated away. */
				char t0[32];
				sw_format_rfc3339(lv->recs[f->first_rec].time, t0);
				bad = true;
				snprintf(res + strlen(res), sizeof res - strlen(res), "; records before it were rotated away");
				finding(r, s, "records before %s (the first of %s, the oldest file kept) were rotated away: the "
					"period from %s is not fully covered", t0, f->path, since);
			}
			broken |= bad;
			size_t in = 0;
			for (size_t k = 0; k < f->n; k++) {
				int64_t t = lv->recs[f->first_rec + k].time;
				in += t >= c->since && t <= c->until;
			}
			char num[32], inp[32], t0[32] = "", t1[32] = "";
			snprintf(num, sizeof num, "%zu", f->n);
			snprintf(inp, sizeof inp, "%zu", in);
			if (f->n) {
				sw_format_rfc3339(lv->recs[f->first_rec].time, t0);
				sw_format_rfc3339(lv->recs[f->first_rec + f->n - 1].time, t1);
			}
			tab_row(fl, bad, f->path, num, t0, t1, inp, res);
			n_all += f->n;
			if (!f->error && f->n)
				prev = f;
		}
		/* The newest record written must be the one the hook last wrote (its head
		 * file): deleting or editing the last records is seen here. */
		if (head[0] && prev && strcmp(prev->last_hash, head) != 0) {
			broken = true;
			finding(r, s, "the decision log's chain is broken: %s: last line does not match the recorded head "
				"(a record was removed or edited)", prev->path);
		}
		if (broken)
			tab_row(v, true, "chain", "BROKEN (see the findings and the log files)");
		else
			tab_row(v, false, "chain", xasprintf("intact, %zu records in %zu file(s)%s", n_all, lv->set.n,
							     head[0] ? ", last record matches the hook's head file" : " (no head file to compare)"));
	}
	/* The excerpt and the per-day counts. */
	_cleanup_free_ char *ex = NULL;
	size_t ex_len = 0;
	FILE *f = open_memstream(&ex, &ex_len);
	/* Refusals while a store was busy are counted apart from denials: they are
	 * no verdict on any image (a retry of the start works), and counting them
	 * as policy refusals would make a busy node look like one refusing images. */
	table *d = tab_new(s, "decisions per day", "day (UTC)", "allowed", "denied", "allowed in warn mode (would deny)",
			   "refused while a store was busy (not policy)", "canaries refused (step 9)", NULL);
	table *w = tab_new(s, "every allow in warn mode", "time", "container", "digests", "reason", NULL);
	char day[16] = "";
	size_t na = 0, nd = 0, nw = 0, nb = 0, nb_all = 0, nc = 0, total = 0;
	for (size_t i = 0; i <= lv->n; i++) {
		const logrec *x = i < lv->n ? &lv->recs[i] : NULL;
		if (x && (x->time < c->since || x->time > c->until))
			continue;
		char t[32] = "";
		if (x)
			sw_format_rfc3339(x->time, t);
		if (day[0] && (!x || strncmp(day, t, 10) != 0)) {
			char a[32], b[32], cc[32], bb[32], cn[32];
			snprintf(a, sizeof a, "%zu", na);
			snprintf(b, sizeof b, "%zu", nd);
			snprintf(cc, sizeof cc, "%zu", nw);
			snprintf(bb, sizeof bb, "%zu", nb);
			snprintf(cn, sizeof cn, "%zu", nc);
			tab_row(d, false, day, a, b, cc, bb, cn);
			na = nd = nw = nb = nc = 0;
		}
		if (!x)
			break;
		snprintf(day, sizeof day, "%.10s", t);
		fprintf(f, "%s\n", x->line);
		/* In the excerpt (it is a record of the period, chained), counted by step 9. */
		if (x->heartbeat)
			continue;
		total++;
		if (warn_allow(x)) {
			nw++;
			tab_row(w, true, t, x->container, x->digests, x->reason);
			finding(r, s, "%s: container %s was allowed in warn mode: %s", t, x->container, x->reason);
		} else if (strcmp(x->decision, "allow") == 0) {
			na++;
		} else if (audit_live_is_canary(&c->live, x->container)) {
			nc++;      /* the self-test's own refusal, not a start anyone asked for */
		} else if (x->busy) {
			nb++;
			nb_all++;
		} else {
			nd++;
		}
	}
	fclose(f);
	if (write_out(c, "evidence/decisions.jsonl", ex, ex_len, &e) < 0)
		finding(r, s, "%s", e.msg);
	s->answer = xasprintf("%zu decision(s) in the period%s; chain %s.", total,
			      nb_all ? xasprintf(", %zu of them refused while an image store was busy (no verdict on the "
						 "image, not counted as denials)", nb_all) : "",
			      !lv->read_ok ? "not checked (no log)" :
			      xasprintf("checked over %zu file(s) (the log and its rotations), %s", lv->set.n,
					broken ? "with gaps or breaks (see the findings)" : "intact"));
}

/* ------------------------------------------------------------ step 9 */

/* Was enforcement live all along: the self-test's heartbeats and canaries in
 * the same log (auditlive.c). */
static void step_liveness(ctx *c, const logview *lv)
{
	const char **lines = calloc(lv->n + 1, sizeof *lines);
	if (!lines)
		abort();
	for (size_t i = 0; i < lv->n; i++)
		lines[i] = lv->recs[i].line;
	audit_live_in in = {
		.since = c->since, .until = c->until, .since_given = c->since > 0,
		.default_max_gap = c->cfg.selftest_interval * (int64_t)c->cfg.selftest_tolerance,
		.lines = lines, .n = lv->n,
	};
	audit_liveness(&c->rep, &in, &c->live);
	free(lines);
	sw_error e = { 0 };
	if (write_out(c, "evidence/heartbeats.jsonl", c->live.evidence, c->live.evidence_len, &e) < 0)
		finding(&c->rep, &c->rep.s[c->rep.n - 1], "%s", e.msg);
	c->rep.json_extra_key = "liveness";
	c->rep.json_extra = audit_live_json;
	c->rep.json_extra_arg = &c->live;
}

/* ------------------------------------------------------------ renderings */

/* ------------------------------------------------------------ main */

static int parse_time(const char *s, int64_t now, int64_t *out)
{
	int64_t d;
	if (sw_parse_rfc3339(s, strlen(s), out) == 0)
		return 0;
	if (sw_parse_duration(s, &d) == 0) {
		*out = now - d;      /* "--since 90d": ninety days ago */
		return 0;
	}
	return -1;
}

static const char usage_text[] =
	"usage: sigward audit --out DIR [--config FILE] [--since T] [--until T] [--sample N]\n"
	"                     [--hooks-dir DIR]... [--containerd-config FILE] [--docker-config FILE]\n"
	"                     [--runc-root DIR]... [--containerd-root DIR] [--containerd-state DIR]\n"
	"                     [--docker-root DIR] [--negative-test [--hook PATH]\n"
	"                      [--podman-root DIR] [--podman-runroot DIR] [--podman-runtime NAME]\n"
	"                      [--containerd-address SOCK] [--containerd-namespace NS] [--docker-host URL]]\n"
	"                     [--sign-key KEY]... [--rsa-pss] [--pkcs11-module PATH] [--passphrase-file FILE]\n"
	"                     [--node NAME]\n"
	"       sigward audit verify [--key PUB]... DIR\n"
	"       sigward audit fleet --bundles DIR --key PUB... --out DIR [...] (see sigward audit fleet --help)\n"
	"Writes an evidence bundle for an auditor into DIR: report.html, report.md, report.json,\n"
	"evidence/ (configuration, keys, installed lists, decision log excerpt) and SHA256SUMS.\n"
	"--negative-test makes a throwaway image no list holds and starts it through every wired\n"
	"runtime: runc with the hook (--hook, default /usr/libexec/sigward/sigward-hook), podman\n"
	"through hooks.d, containerd with ctr and its BinaryName, Docker with its sigward-runc\n"
	"runtime; each must refuse it, and nothing may be left behind.\n"
	"--sign-key signs SHA256SUMS into SHA256SUMS.sig (a PEM private key file or a PKCS#11\n"
	"URI, as 'sigward allowlist sign --key'); 'sigward audit verify' checks a bundle.\n"
	"Step 4 lists the containers of podman's store, runc's state directories (--runc-root,\n"
	"default /run/runc), containerd's tasks (--containerd-state, default config.toml's state\n"
	"or /run/containerd; digests from --containerd-root, default [resolve] containerd_root,\n"
	"config.toml's root or /var/lib/containerd) and Docker's running\n"
	"containers (--docker-root, default [resolve] docker_root).\n"
	"The decision log is read with its rotations (FILE.N, FILE.N.gz); a missing file is a finding.\n"
	"T is RFC 3339 UTC or a duration back from now (90d). The sample is 20 containers by default.\n"
	"--node names the node in the report (default: the host name), as the fleet audit knows it.\n"
	"Exit 0 no finding, 1 findings, 2 error.";

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "sample", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "hooks-dir", required_argument, NULL, 'H' },
		{ "containerd-config", required_argument, NULL, 'C' },
		{ "docker-config", required_argument, NULL, 'D' },
		{ "runc-root", required_argument, NULL, 'R' },
		{ "negative-test", no_argument, NULL, 'N' },
		{ "hook", required_argument, NULL, 'K' },
		{ "podman-root", required_argument, NULL, 1001 },
		{ "podman-runroot", required_argument, NULL, 1002 },
		{ "podman-runtime", required_argument, NULL, 1003 },
		{ "containerd-address", required_argument, NULL, 1004 },
		{ "containerd-namespace", required_argument, NULL, 1005 },
		{ "docker-host", required_argument, NULL, 1006 },
		{ "containerd-root", required_argument, NULL, 1007 },
		{ "containerd-state", required_argument, NULL, 1008 },
		{ "docker-root", required_argument, NULL, 1009 },
		{ "node", required_argument, NULL, 1010 },
		CLI_SIGN_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static ctx c;
	memset(&c, 0, sizeof c);
	c.cur.dirfd = -1;
	c.now = sw_now();
	c.sample = 20;
	c.until = c.now;
	c.containerd_config = "/etc/containerd/config.toml";
	c.docker_config = "/etc/docker/daemon.json";
	c.hook = "/usr/libexec/sigward/sigward-hook";
	c.ctr_namespace = "default";
	const char *config = NULL, *since = NULL, *until = NULL, *node = NULL;
	cli_sign_args sa = { 0 };
	bool hooks_given = false, runc_given = false;
	int opt;
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_audit_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "fleet") == 0)
		return cmd_audit_fleet(argc - 1, argv + 1);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 's': since = optarg; break;
		case 'u': until = optarg; break;
		case 'o': c.out = optarg; break;
		case 'n':
			if (cli_sample_arg("audit", optarg, &c.sample) < 0)
				return EXIT_USAGE;
			break;
		case 'H':
			if (!hooks_given)
				c.n_hooks_dirs = 0;
			hooks_given = true;
			if (c.n_hooks_dirs < SW_ARRAY_SIZE(c.hooks_dirs))
				c.hooks_dirs[c.n_hooks_dirs++] = optarg;
			break;
		case 'C': c.containerd_config = optarg; break;
		case 'D': c.docker_config = optarg; break;
		case 'R':
			runc_given = true;
			if (c.n_runc_roots < SW_ARRAY_SIZE(c.runc_roots))
				c.runc_roots[c.n_runc_roots++] = optarg;
			break;
		case 'N': c.negative = true; break;
		case 'K': c.hook = optarg; break;
		case 1001: c.podman_root = optarg; break;
		case 1002: c.podman_runroot = optarg; break;
		case 1003: c.podman_runtime = optarg; break;
		case 1004: c.ctr_address = optarg; break;
		case 1005: c.ctr_namespace = optarg; break;
		case 1006: c.docker_host = optarg; break;
		case 1007: c.containerd_root = optarg; break;
		case 1008: c.containerd_state = optarg; break;
		case 1009: c.docker_root = optarg; break;
		case 1010: node = optarg; break;
		case 'h':
			puts(usage_text);
			return 0;
		default:
			if (cli_sign_arg("audit", opt, optarg, &sa))
				return EXIT_USAGE;
			break;
		}
	}
	if (!c.out)
		return cli_usage_error("audit", "--out DIR is required");
	if (optind < argc)
		return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	c.podman_hooks_given = hooks_given;
	if (!hooks_given) {
		c.hooks_dirs[c.n_hooks_dirs++] = "/usr/share/containers/oci/hooks.d";
		c.hooks_dirs[c.n_hooks_dirs++] = "/etc/containers/oci/hooks.d";
	}
	if (!runc_given)
		c.runc_roots[c.n_runc_roots++] = "/run/runc";
	if ((since && parse_time(since, c.now, &c.since) < 0) || (until && parse_time(until, c.now, &c.until) < 0))
		return cli_usage_error("audit", "--since/--until want RFC 3339 UTC or a duration");

	sw_error e = { 0 };
	/* The signing keys first: a key that cannot be used stops the audit before
	 * anything is written, not after minutes of collecting. */
	if (cli_signers_open(sa.keys, sa.n, sa.so, sa.pass_file, c.signers, &e) < 0)
		return cli_fail(&e);
	c.n_signers = sa.n;
	if (sw_config_load(&c.cfg, config, &e) < 0) {
		cli_signers_close(c.signers, c.n_signers);
		return cli_fail(&e);
	}
	/* Step 4's stores: the options, else the roots sigward resolves from, else
	 * (containerd's, after detect_wiring below) what containerd's config.toml
	 * says, else containerd's and Docker's defaults. */
	if (!c.containerd_root && c.cfg.containerd_root)
		c.containerd_root = c.cfg.containerd_root;
	if (!c.docker_root)
		c.docker_root = c.cfg.docker_root ? c.cfg.docker_root : SW_DOCKER_DEFAULT_ROOT;
	if (bundle_out_empty(c.out, &e) < 0 || bundle_mkdirs(c.out, &e) < 0) {
		sw_config_free(&c.cfg);
		cli_signers_close(c.signers, c.n_signers);
		return cli_fail(&e);
	}

	if (sw_list_open_current(c.cfg.lists_dir, &c.cur, &e) == 0) {
		c.have_cur = true;
		char src[4200];
		snprintf(src, sizeof src, "%s/current/manifest", c.cfg.lists_dir);
		copy_in(&c, src, "evidence/allowlist/manifest", NULL, &e);
		snprintf(src, sizeof src, "%s/current/manifest.sig", c.cfg.lists_dir);
		copy_in(&c, src, "evidence/allowlist/manifest.sig", NULL, &e);
	}
	/* The negative test first, so that its refusals are in the log read for
	 * step 8; it goes through what step 2 finds wired. */
	detect_wiring(&c);
	if (!c.containerd_root)
		c.containerd_root = c.ctrd.root[0] ? c.ctrd.root : "/var/lib/containerd";
	if (!c.containerd_state)
		c.containerd_state = c.ctrd.state[0] ? c.ctrd.state : "/run/containerd";
	step_negative(&c, config);
	if (!until)
		c.until = sw_now();
	logview lv = { 0 };
	log_load(&c, &lv);

	step_policy(&c);
	step_runtimes(&c);
	step_config(&c, sec_new(&c.rep, 3, "The enforcement configuration, exported"));
	step_containers(&c, &lv);
	step_reverify(&c);
	step_history(&c, &lv);
	/* Step 9 first: step 8 counts the canaries' refusals apart. */
	step_liveness(&c, &lv);
	step_log(&c, &lv);

	qsort(c.rep.s, c.rep.n, sizeof c.rep.s[0], cmp_step);
	int rv = 0;
	report_meta m = { .now = c.now, .signers = c.signers, .n_signers = c.n_signers, .host = node };
	if (bundle_finish(c.out, &c.rep, &m, c.signers, &e) < 0)
		rv = cli_fail(&e);
	else if (c.n_signers)
		printf("%s: %zu finding(s), %zu step(s) not evidenced; %s signed by %zu key(s) in %s; verify with: sigward audit verify --key KEY.pub %s\n",
		       c.out, c.rep.n_findings, c.rep.n_not_evidenced, AUDIT_SUMS_NAME, c.n_signers, AUDIT_SUMS_SIG_NAME, c.out);
	else
		printf("%s: %zu finding(s), %zu step(s) not evidenced; verify with: cd %s && sha256sum -c SHA256SUMS\n",
		       c.out, c.rep.n_findings, c.rep.n_not_evidenced, c.out);
	cli_signers_close(c.signers, c.n_signers);
	if (c.have_cur)
		sw_list_close(&c.cur);
	sw_keyring_free(&c.kr);
	sw_config_free(&c.cfg);
	log_free(&lv);
	audit_live_free(&c.live);
	if (rv)
		return rv;
	return c.rep.n_findings ? 1 : 0;
}
