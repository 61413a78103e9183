/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward audit --negative-test: the runners, one per runtime (audit.h).
 *
 * Each runner imports the throwaway image the way its runtime takes images
 * without a registry, creates a container, starts it (the start is what sigward
 * refuses), then removes the container and the image whatever happened and
 * asks the runtime whether either is still there. Every command is bounded in
 * time, runs with stdin from /dev/null, and is written with its output and exit
 * status into the runner's transcript, which is the evidence.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "audit.h"
#include "json.h"
#include "util.h"

#define OUT_MAX (256u << 10)

typedef struct av {
	const char *v[64];
	size_t n;
} av;

static void av_add(av *a, const char *s)
{
	if (a->n < SW_ARRAY_SIZE(a->v) - 1)
		a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

/* A copy of base followed by the arguments given (NULL-terminated). */
static av av_with(const av *base, ...)
{
	av a = *base;
	va_list ap;
	va_start(ap, base);
	for (const char *s; (s = va_arg(ap, const char *));)
		av_add(&a, s);
	va_end(ap);
	return a;
}

typedef struct tr {
	const audit_neg_env *env;
	audit_neg *n;
	FILE *f;
	char *buf;
	size_t len;
	unsigned seq;
} tr;

static void tr_open(tr *t, const audit_neg_env *env, audit_neg *n, const char *runtime)
{
	memset(n, 0, sizeof *n);
	n->runtime = runtime;
	n->status = -1;
	*t = (tr){ .env = env, .n = n };
	t->f = open_memstream(&t->buf, &t->len);
	if (!t->f)
		abort();
}

static void tr_close(tr *t)
{
	fclose(t->f);
	t->n->transcript = t->buf;
	if (!t->n->output)
		t->n->output = strdup("");
}

static void fail(tr *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(tr *t, const char *fmt, ...)
{
	if (t->n->error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->n->error, sizeof t->n->error, fmt, ap);
	va_end(ap);
	fprintf(t->f, "# %s\n", t->n->error);
}

static void left(tr *t, const char *what)
{
	size_t l = strlen(t->n->left);
	snprintf(t->n->left + l, sizeof t->n->left - l, "%s%s", l ? "; " : "", what);
}

static void quote(FILE *f, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,-") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/* Run argv with stdin /dev/null, stdout and stderr together into *out (when out
 * is not NULL; malloc'ed), killed after timeout seconds. The exit status, 128 +
 * signal when killed, -1 when it could not be started. */
static int run(tr *t, unsigned timeout, char **out, const av *a)
{
	char of[4200];
	snprintf(of, sizeof of, "%s/out-%s-%u", t->env->tmp, t->n->runtime, ++t->seq);
	fputs("$", t->f);
	for (size_t i = 0; i < a->n; i++) {
		fputc(' ', t->f);
		quote(t->f, a->v[i]);
	}
	fputc('\n', t->f);
	int st = 0, rc = -1;
	pid_t pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int o = open(of, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (in < 0 || o < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0)
			_exit(127);
		execvp(a->v[0], (char *const *)a->v);
		_exit(127);
	}
	if (pid > 0) {
		for (unsigned waited = 0;; waited++) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid)
				break;
			if (w < 0 && errno != EINTR)
				break;
			if (waited == timeout * 10) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				fprintf(t->f, "# killed after %u s\n", timeout);
				break;
			}
			usleep(100000);
		}
		rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	sw_error e = { 0 };
	if (sw_read_file(of, OUT_MAX, &text, &len, &e) < 0)
		text = strdup("");
	unlink(of);
	if (!text)
		abort();
	fputs(text, t->f);
	if (len && text[len - 1] != '\n')
		fputc('\n', t->f);
	fprintf(t->f, "[exit %d]\n", rc);
	if (out)
		*out = TAKE_PTR(text);
	return rc;
}

/* The last line of out that is 64 lowercase hex digits (an id podman and docker print). */
static bool hex64_line(const char *out, char id[SW_SHA256_HEX + 1])
{
	bool found = false;
	for (const char *p = out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n == SW_SHA256_HEX && sw_is_hex64(p, n)) {
			memcpy(id, p, n);
			id[n] = '\0';
			found = true;
		}
		p = nl ? nl + 1 : NULL;
	}
	return found;
}

static bool has_line(const char *out, const char *want)
{
	size_t wl = strlen(want);
	for (const char *p = out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n == wl && memcmp(p, want, n) == 0)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

static void start(tr *t, const av *a, unsigned timeout)
{
	t->n->status = run(t, timeout, &t->n->output, a);
}

/* ------------------------------------------------------------------ runc */

/* Cleaned of invalid UTF-8 first (json.h), which yajl_gen would copy as is. */
static void gstr(yajl_gen g, const char *s)
{
	_cleanup_jsonbuf_ sw_jsonbuf b = { 0 };
	sw_jsonbuf_utf8(&b, s, strlen(s));
	yajl_gen_string(g, (const unsigned char *)(b.p ? b.p : ""), b.failed ? 0 : b.len);
}

/* The bundle: an empty read-only rootfs, the sigward hook as a prestart hook
 * (given the audit's --config), and the image's digest in the first configured
 * image annotation, as a CRI runtime would hand it over. */
static int runc_bundle(const audit_neg_env *env, const char *bundle, sw_error *err)
{
	const char *key = env->cfg->n_annotations ? env->cfg->annotations[0] : "io.kubernetes.cri.image-name";
	char ref[160];
	snprintf(ref, sizeof ref, "localhost/sigward-audit-negative@%s", env->img.manifest);
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		abort();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	gstr(g, "ociVersion"); gstr(g, "1.0.2");
	gstr(g, "process"); yajl_gen_map_open(g);
	gstr(g, "terminal"); yajl_gen_bool(g, 0);
	gstr(g, "user"); yajl_gen_map_open(g);
	gstr(g, "uid"); yajl_gen_integer(g, 0); gstr(g, "gid"); yajl_gen_integer(g, 0);
	yajl_gen_map_close(g);
	gstr(g, "args"); yajl_gen_array_open(g); gstr(g, "/" SW_OCIIMAGE_FILE); yajl_gen_array_close(g);
	gstr(g, "cwd"); gstr(g, "/");
	yajl_gen_map_close(g);
	gstr(g, "root"); yajl_gen_map_open(g);
	gstr(g, "path"); gstr(g, "rootfs"); gstr(g, "readonly"); yajl_gen_bool(g, 1);
	yajl_gen_map_close(g);
	gstr(g, "hooks"); yajl_gen_map_open(g);
	gstr(g, "prestart"); yajl_gen_array_open(g); yajl_gen_map_open(g);
	gstr(g, "path"); gstr(g, env->hook);
	gstr(g, "args"); yajl_gen_array_open(g);
	gstr(g, "sigward-hook");
	if (env->config) {
		gstr(g, "--config");
		gstr(g, env->config);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g); yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	gstr(g, "annotations"); yajl_gen_map_open(g);
	gstr(g, key); gstr(g, ref);
	yajl_gen_map_close(g);
	gstr(g, "linux"); yajl_gen_map_open(g);
	gstr(g, "namespaces"); yajl_gen_array_open(g);
	static const char *const ns[] = { "pid", "ipc", "uts", "mount" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(ns); i++) {
		yajl_gen_map_open(g);
		gstr(g, "type"); gstr(g, ns[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	char p[4400];
	int r = 0;
	snprintf(p, sizeof p, "%s/rootfs", bundle);
	if (mkdir(bundle, 0700) < 0 || mkdir(p, 0755) < 0) {
		r = sw_err_errno(err, errno, "%s", p);
	} else {
		snprintf(p, sizeof p, "%s/config.json", bundle);
		_cleanup_fclose_ FILE *f = fopen(p, "we");
		if (!f || fwrite(buf, 1, len, f) != len)
			r = sw_err_errno(err, errno ? errno : EIO, "%s", p);
	}
	yajl_gen_free(g);
	return r;
}

void audit_neg_runc(const audit_neg_env *env, audit_neg *n)
{
	tr t;
	tr_open(&t, env, n, "runc");
	char bundle[4200], root[4200];
	snprintf(bundle, sizeof bundle, "%s/runc-bundle", env->tmp);
	snprintf(root, sizeof root, "%s/runc-root", env->tmp);
	snprintf(n->container, sizeof n->container, "sigward-audit-negative-%s", env->nonce);
	snprintf(n->how, sizeof n->how, "runc run, the sigward hook (%s) in the bundle's prestart hooks", env->hook);
	sw_error e = { 0 };
	if (access(env->hook, X_OK) != 0) {
		fail(&t, "%s is not an executable hook (see --hook)", env->hook);
	} else if (runc_bundle(env, bundle, &e) < 0) {
		fail(&t, "%s", e.msg);
	} else {
		av base = { 0 };
		av_add(&base, env->runc);
		av_add(&base, "--root");
		av_add(&base, root);
		av a = av_with(&base, "run", "-b", bundle, n->container, NULL);
		start(&t, &a, 60);
		/* Nothing is left behind: the container, if runc got that far. */
		a = av_with(&base, "delete", "--force", n->container, NULL);
		run(&t, 30, NULL, &a);
		a = av_with(&base, "state", n->container, NULL);
		if (run(&t, 30, NULL, &a) == 0)
			left(&t, "runc container");
	}
	tr_close(&t);
}

/* ------------------------------------------------------------------ podman */

void audit_neg_podman(const audit_neg_env *env, audit_neg *n)
{
	tr t;
	tr_open(&t, env, n, "podman");
	av base = { 0 };
	av_add(&base, env->podman);
	if (env->podman_root) {
		av_add(&base, "--root");
		av_add(&base, env->podman_root);
	}
	if (env->podman_runroot) {
		av_add(&base, "--runroot");
		av_add(&base, env->podman_runroot);
	}
	if (env->podman_runtime) {
		av_add(&base, "--runtime");
		av_add(&base, env->podman_runtime);
	}
	for (size_t i = 0; i < env->n_podman_hooks_dirs; i++) {
		av_add(&base, "--hooks-dir");
		av_add(&base, env->podman_hooks_dirs[i]);
	}
	snprintf(n->how, sizeof n->how, "podman create + start, the hook from %s",
		 env->n_podman_hooks_dirs ? env->podman_hooks_dirs[0] : "podman's hooks.d directories");
	char src[4300], name[96], img[SW_SHA256_HEX + 1] = "", cid[SW_SHA256_HEX + 1] = "";
	snprintf(src, sizeof src, "oci:%s/layout:%s", env->tmp, env->tag);
	snprintf(name, sizeof name, "sigward-audit-negative-%s", env->nonce);
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	av a = av_with(&base, "pull", "-q", src, NULL);
	int rc = run(&t, 300, &out, &a);
	if (rc != 0 || !hex64_line(out, img)) {
		fail(&t, "podman pull of the throwaway image failed (exit %d)", rc);
		goto done;
	}
	/* By image id, never by name: a name could be pulled from a registry. Low
	 * rlimits and no network: nothing podman has to set up that could fail
	 * before the start is decided. */
	a = av_with(&base, "create", "--pull=never", "--name", name, "--network", "none", "--ulimit", "nofile=1024:1024",
		    "--ulimit", "nproc=1024:1024", img, "/" SW_OCIIMAGE_FILE, NULL);
	rc = run(&t, 120, &out2, &a);
	if (rc != 0 || !hex64_line(out2, cid)) {
		fail(&t, "podman create failed (exit %d)", rc);
	} else {
		snprintf(n->container, sizeof n->container, "%s", cid);
		a = av_with(&base, "start", name, NULL);
		start(&t, &a, 120);
	}
	a = av_with(&base, "rm", "--force", "--time", "0", name, NULL);
	run(&t, 120, NULL, &a);
	a = av_with(&base, "rmi", "--force", img, NULL);
	run(&t, 120, NULL, &a);
	a = av_with(&base, "container", "exists", name, NULL);
	if (run(&t, 60, NULL, &a) == 0)
		left(&t, "podman container");
	a = av_with(&base, "image", "exists", img, NULL);
	if (run(&t, 60, NULL, &a) == 0)
		left(&t, "podman image");
done:
	tr_close(&t);
}

/* ------------------------------------------------------------------ containerd */

void audit_neg_containerd(const audit_neg_env *env, audit_neg *n)
{
	tr t;
	tr_open(&t, env, n, "containerd");
	av top = { 0 }, base;
	av_add(&top, env->ctr);
	av_add(&top, "--address");
	av_add(&top, env->ctr_address);
	base = av_with(&top, "--namespace", env->ctr_namespace, NULL);
	snprintf(n->container, sizeof n->container, "sigward-audit-negative-%s", env->nonce);
	snprintf(n->how, sizeof n->how, "ctr run --runc-binary %s (containerd's BinaryName), namespace %s",
		 env->ctr_runc_binary, env->ctr_namespace);
	char lt[4200], by_digest[256];
	snprintf(lt, sizeof lt, "%s/layout.tar", env->tmp);
	snprintf(by_digest, sizeof by_digest, "localhost/sigward-audit-negative@%s", env->img.manifest);
	_cleanup_free_ char *ns = NULL, *images = NULL, *content = NULL;
	av a = av_with(&top, "namespaces", "ls", "-q", NULL);
	if (run(&t, 30, &ns, &a) != 0) {
		fail(&t, "containerd is not reachable at %s", env->ctr_address);
		goto done;
	}
	bool ns_existed = has_line(ns, env->ctr_namespace);
	a = av_with(&base, "images", "import", "--base-name", "localhost/sigward-audit-negative", "--digests", lt, NULL);
	int rc = run(&t, 300, NULL, &a);
	if (rc != 0) {
		fail(&t, "ctr images import of the throwaway image failed (exit %d)", rc);
	} else {
		a = av_with(&base, "run", "--rm", "--runc-binary", env->ctr_runc_binary, env->repo_tag, n->container,
			    "/" SW_OCIIMAGE_FILE, NULL);
		start(&t, &a, 120);
	}
	/* A refused `ctr run --rm` leaves its container record (and snapshot). */
	a = av_with(&base, "task", "delete", "--force", n->container, NULL);
	run(&t, 60, NULL, &a);
	a = av_with(&base, "containers", "delete", n->container, NULL);
	run(&t, 60, NULL, &a);
	a = av_with(&base, "images", "rm", "--sync", env->repo_tag, by_digest, NULL);
	run(&t, 120, NULL, &a);
	a = av_with(&base, "containers", "info", n->container, NULL);
	if (run(&t, 30, NULL, &a) == 0)
		left(&t, "containerd container");
	a = av_with(&base, "snapshots", "info", n->container, NULL);
	if (run(&t, 30, NULL, &a) == 0)
		left(&t, "containerd snapshot");
	a = av_with(&base, "images", "ls", "-q", NULL);
	if (run(&t, 30, &images, &a) != 0 || has_line(images, env->repo_tag) || has_line(images, by_digest))
		left(&t, "containerd image");
	/* The image's blobs go with the garbage collection --sync waited for. */
	a = av_with(&base, "content", "ls", "-q", NULL);
	if (run(&t, 30, &content, &a) != 0 || has_line(content, env->img.manifest) || has_line(content, env->img.layer))
		left(&t, "containerd content");
	if (!ns_existed) {
		a = av_with(&top, "namespaces", "remove", env->ctr_namespace, NULL);
		if (run(&t, 30, NULL, &a) != 0)
			left(&t, "containerd namespace");
	}
done:
	tr_close(&t);
}

/* ------------------------------------------------------------------ Docker */

void audit_neg_docker(const audit_neg_env *env, audit_neg *n)
{
	tr t;
	tr_open(&t, env, n, "docker");
	av base = { 0 };
	av_add(&base, env->docker);
	av_add(&base, "--host");
	av_add(&base, env->docker_host);
	char name[96], cid[SW_SHA256_HEX + 1], dt[4200];
	snprintf(name, sizeof name, "sigward-audit-negative-%s", env->nonce);
	snprintf(dt, sizeof dt, "%s/docker.tar", env->tmp);
	if (env->docker_runtime)
		snprintf(n->how, sizeof n->how, "docker create --runtime %s + start", env->docker_runtime);
	else
		snprintf(n->how, sizeof n->how, "docker create + start (sigward-runc is the default-runtime)");
	_cleanup_free_ char *out = NULL;
	av a = av_with(&base, "version", NULL);
	if (run(&t, 30, NULL, &a) != 0) {
		fail(&t, "dockerd is not reachable at %s", env->docker_host);
		goto done;
	}
	a = av_with(&base, "load", "--input", dt, NULL);
	int rc = run(&t, 300, NULL, &a);
	if (rc != 0) {
		fail(&t, "docker load of the throwaway image failed (exit %d)", rc);
		goto done;
	}
	/* By image id (the config digest, which is all Docker keeps of a loaded image). */
	a = av_with(&base, "create", "--name", name, "--network", "none", NULL);
	if (env->docker_runtime) {
		av_add(&a, "--runtime");
		av_add(&a, env->docker_runtime);
	}
	av_add(&a, env->img.config);
	av_add(&a, "/" SW_OCIIMAGE_FILE);
	rc = run(&t, 120, &out, &a);
	if (rc != 0 || !hex64_line(out, cid)) {
		fail(&t, "docker create failed (exit %d)", rc);
	} else {
		snprintf(n->container, sizeof n->container, "%s", cid);
		a = av_with(&base, "start", name, NULL);
		start(&t, &a, 120);
	}
	a = av_with(&base, "rm", "--force", name, NULL);
	run(&t, 120, NULL, &a);
	a = av_with(&base, "rmi", "--force", env->img.config, NULL);
	run(&t, 120, NULL, &a);
	a = av_with(&base, "container", "inspect", "--format", "{{.Id}}", name, NULL);
	if (run(&t, 60, NULL, &a) == 0)
		left(&t, "docker container");
	a = av_with(&base, "image", "inspect", "--format", "{{.Id}}", env->img.config, NULL);
	if (run(&t, 60, NULL, &a) == 0)
		left(&t, "docker image");
done:
	tr_close(&t);
}

void audit_neg_free(audit_neg *n)
{
	free(n->output);
	free(n->transcript);
	n->output = n->transcript = NULL;
}
