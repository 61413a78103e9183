/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward selftest: the node's proof of life, run by sigward-selftest.timer.
 *
 * A log that shows allows and denials does not show that enforcement was on
 * between them: a node whose hook was unwired for a week looks like a quiet
 * week. So every interval this command
 *
 *  1. reads how each runtime is wired, from the same files the runtimes read:
 *     the hooks.d file (podman, CRI-O, and runc/crun under them), containerd's
 *     BinaryName, Docker's runtimes;
 *  2. starts a canary through each wired path: a bundle whose image digest is
 *     random (no list can hold it), run by the real runtime with the hook the
 *     hooks.d file names, and by the sigward-runc binary containerd and Docker
 *     are configured with. Each start must be refused by sigward ("sigward:
 *     denied container ID"). A start that gets through is only a created
 *     container (its process never starts: `create`, not `run`) and is deleted
 *     at once; it is recorded as a canary that was not refused;
 *  3. appends a heartbeat to the hash-chained decision log (lib/heartbeat.h):
 *     mode, list scope and serial, the wiring, every canary and its result;
 *  4. writes the Prometheus textfile ([selftest] metrics_file).
 *
 * Root's command (the log, the runtimes): sigwardd, unprivileged, can do none
 * of it. Exit: 0 every canary refused and the heartbeat written, 1 a canary not
 * refused or nothing wired, 2 error (the heartbeat could not be written).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "allowlist.h"
#include "cli.h"
#include "config.h"
#include "heartbeat.h"
#include "json.h"
#include "util.h"
#include "wiring.h"

#define CANARY_FILE "sigward-canary"
#define RUN_TIMEOUT 30               /* seconds, per runtime command */
#define OUT_MAX (64u << 10)
#define HOOK_ARGS_MAX 16

typedef struct hookspec {
	char file[4200];                 /* the hooks.d file that applies, "" none */
	char path[1024];
	char args[HOOK_ARGS_MAX][512];
	size_t n_args;
	unsigned timeout;
	char stages[4][32];
	size_t n_stages;
	bool always;                     /* "when": {"always": true}: every container runs it */
	char error[512];                 /* the file is there but cannot be used */
} hookspec;

typedef struct st {
	sw_config cfg;
	const char *config;              /* --config, handed to sigward-runc as $SIGWARD_CONFIG */
	const char *hooks_dirs[8];
	size_t n_hooks_dirs;
	const char *containerd_config, *docker_config;
	char tmp[64], nonce[13];
	hookspec hook;
	sw_heartbeat hb;
} st;

/* ------------------------------------------------------------ wiring */

static void wiring_add(sw_heartbeat *hb, const char *name, bool wired, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void wiring_add(sw_heartbeat *hb, const char *name, bool wired, const char *fmt, ...)
{
	if (hb->n_wiring == SW_HB_MAX_WIRING)
		return;
	sw_hb_wiring *w = &hb->wiring[hb->n_wiring++];
	snprintf(w->name, sizeof w->name, "%s", name);
	w->wired = wired;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->how, sizeof w->how, fmt, ap);
	va_end(ap);
}

/* The hooks.d file podman and CRI-O apply: sigward.json in the directory of
 * highest precedence that has one (the later directory's file masks the
 * earlier's, as in podman). Whatever hook it names is what the canary runs:
 * a file edited to run something else is then caught by the canary, not by
 * a reading of the file. */
static void read_hook(st *s)
{
	hookspec *h = &s->hook;
	for (size_t i = s->n_hooks_dirs; i-- > 0 && !h->file[0];) {
		snprintf(h->file, sizeof h->file, "%s/sigward.json", s->hooks_dirs[i]);
		if (access(h->file, F_OK) != 0)
			h->file[0] = '\0';
	}
	if (!h->file[0])
		return;
	_cleanup_free_ char *text = NULL;
	size_t len;
	sw_error e = { 0 };
	_cleanup_yajl_ yajl_val v = NULL;
	if (sw_read_file(h->file, 1u << 20, &text, &len, &e) < 0 || sw_json_tree(text, len, h->file, &v, &e) < 0) {
		snprintf(h->error, sizeof h->error, "%s", e.msg);
		return;
	}
	const char *pp[] = { "hook", "path", NULL }, *ap[] = { "hook", "args", NULL };
	const char *tp[] = { "hook", "timeout", NULL }, *sp[] = { "stages", NULL };
	yajl_val path = yajl_tree_get(v, pp, yajl_t_string);
	yajl_val args = yajl_tree_get(v, ap, yajl_t_array);
	yajl_val to = yajl_tree_get(v, tp, yajl_t_number);
	yajl_val stages = yajl_tree_get(v, sp, yajl_t_array);
	const char *wp[] = { "when", "always", NULL };
	h->always = YAJL_IS_TRUE(yajl_tree_get(v, wp, yajl_t_any));
	if (!path || !YAJL_GET_STRING(path)[0]) {
		snprintf(h->error, sizeof h->error, "%s: no hook.path", h->file);
		return;
	}
	snprintf(h->path, sizeof h->path, "%s", YAJL_GET_STRING(path));
	for (size_t i = 0; args && i < args->u.array.len && h->n_args < HOOK_ARGS_MAX; i++)
		if (YAJL_IS_STRING(args->u.array.values[i]))
			snprintf(h->args[h->n_args++], sizeof h->args[0], "%s", YAJL_GET_STRING(args->u.array.values[i]));
	h->timeout = to && YAJL_IS_INTEGER(to) && YAJL_GET_INTEGER(to) > 0 && YAJL_GET_INTEGER(to) < 3600
			     ? (unsigned)YAJL_GET_INTEGER(to) : 0;
	for (size_t i = 0; stages && i < stages->u.array.len && h->n_stages < SW_ARRAY_SIZE(h->stages); i++)
		if (YAJL_IS_STRING(stages->u.array.values[i]))
			snprintf(h->stages[h->n_stages++], sizeof h->stages[0], "%s", YAJL_GET_STRING(stages->u.array.values[i]));
	if (!h->n_stages)
		snprintf(h->error, sizeof h->error, "%s: no stages", h->file);
}

/* ------------------------------------------------------------ the canary bundle */

/* A bundle whose image is a random digest in the first trusted annotation (as a
 * CRI runtime hands it over), an empty read-only rootfs but for the process's
 * file (so that a start that gets past sigward is a created container, never an
 * error of its own), and, for the hooks.d path, the hook as that file names it. */
static int write_bundle(const st *s, const char *dir, const char *digest, bool with_hook, sw_error *err)
{
	const char *key = s->cfg.n_annotations ? s->cfg.annotations[0] : "io.kubernetes.cri.image-name";
	char ref[160], p[4300];
	snprintf(ref, sizeof ref, "localhost/sigward-canary@%s", digest);
	_cleanup_jsonbuf_ sw_jsonbuf w = { 0 };
	sw_jsonbuf_lit(&w, "{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
			   "\"args\":[\"/" CANARY_FILE "\"],\"env\":[\"PATH=/\"],\"cwd\":\"/\"},"
			   "\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"sigward-canary\",\"mounts\":[{\"destination\":\"/proc\","
			   "\"type\":\"proc\",\"source\":\"proc\"}],\"annotations\":{");
	sw_jsonbuf_key(&w, key);
	sw_jsonbuf_str(&w, ref);
	/* crun discards a hook's stderr (sigward's denial line) unless told where
	 * to write it (docs/runtimes.md); runc ignores the annotation. */
	if (with_hook)
		sw_jsonbuf_lit(&w, ",\"run.oci.hooks.stderr\":\"/dev/stderr\"");
	sw_jsonbuf_lit(&w, "},");
	if (with_hook) {
		const hookspec *h = &s->hook;
		sw_jsonbuf_lit(&w, "\"hooks\":{");
		for (size_t i = 0; i < h->n_stages; i++) {
			if (i)
				sw_jsonbuf_lit(&w, ",");
			sw_jsonbuf_key(&w, h->stages[i]);
			sw_jsonbuf_lit(&w, "[{\"path\":");
			sw_jsonbuf_str(&w, h->path);
			sw_jsonbuf_lit(&w, ",\"args\":[");
			for (size_t k = 0; k < h->n_args; k++) {
				if (k)
					sw_jsonbuf_lit(&w, ",");
				sw_jsonbuf_str(&w, h->args[k]);
			}
			sw_jsonbuf_lit(&w, "]");
			if (h->timeout) {
				sw_jsonbuf_lit(&w, ",\"timeout\":");
				sw_jsonbuf_u64(&w, h->timeout);
			}
			sw_jsonbuf_lit(&w, "}]");
		}
		sw_jsonbuf_lit(&w, "},");
	}
	sw_jsonbuf_lit(&w, "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
			   "{\"type\":\"mount\"},{\"type\":\"network\"}]}}");
	if (w.failed)
		return sw_err_errno(err, ENOMEM, "%s: the canary bundle", dir);
	snprintf(p, sizeof p, "%s/rootfs", dir);
	if (mkdir(dir, 0700) < 0 || mkdir(p, 0755) < 0)
		return sw_err_errno(err, errno, "%s: cannot make the canary bundle", p);
	/* The mount points exist up front: the rootfs is read-only (crun makes
	 * its device nodes in /dev, /proc is mounted). */
	static const char *const dirs[] = { "dev", "proc" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof p, "%s/rootfs/%s", dir, dirs[i]);
		if (mkdir(p, 0755) < 0)
			return sw_err_errno(err, errno, "%s: cannot make the canary bundle", p);
	}
	snprintf(p, sizeof p, "%s/rootfs/" CANARY_FILE, dir);
	static const char never[] = "#!/the-sigward-canary-is-created-never-started\n";
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0755);
	if (fd < 0 || write(fd, never, sizeof never - 1) != (ssize_t)(sizeof never - 1))
		return sw_err_errno(err, errno ? errno : EIO, "%s", p);
	snprintf(p, sizeof p, "%s/config.json", dir);
	_cleanup_close_ int cf = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (cf < 0 || write(cf, w.p, w.len) != (ssize_t)w.len)
		return sw_err_errno(err, errno ? errno : EIO, "%s", p);
	return 0;
}

/* ------------------------------------------------------------ running */

/* argv with stdin from /dev/null and stdout+stderr into a private file (not a
 * pipe: a created container's init keeps its stdio open), killed after
 * RUN_TIMEOUT seconds; SIGWARD_CONFIG set for sigward-runc when config is
 * given. The exit status (128 + signal when killed, -1 not started); *out
 * holds the output (malloc'ed). */
static int run(const st *s, char *const argv[], const char *config, char **out)
{
	char of[128];
	snprintf(of, sizeof of, "%s/out", s->tmp);
	int st_ = 0, rc = -1;
	pid_t pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		/* O_APPEND: crun reopens it for the hook's stderr (/dev/stderr), and
		 * both writers must add to it, not overwrite each other. */
		int o = open(of, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		if (in < 0 || o < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0)
			_exit(127);
		if (config)
			setenv("SIGWARD_CONFIG", config, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0) {
		for (unsigned waited = 0;; waited++) {
			pid_t w = waitpid(pid, &st_, WNOHANG);
			if (w == pid || (w < 0 && errno != EINTR))
				break;
			if (waited == RUN_TIMEOUT * 20) {
				kill(pid, SIGKILL);
				waitpid(pid, &st_, 0);
				break;
			}
			usleep(50000);
		}
		rc = WIFEXITED(st_) ? WEXITSTATUS(st_) : 128 + WTERMSIG(st_);
	}
	size_t len = 0;
	sw_error e = { 0 };
	*out = NULL;
	if (sw_read_file(of, OUT_MAX, out, &len, &e) < 0 || !*out)
		*out = strdup("");
	if (!*out)
		abort();
	unlink(of);
	return rc;
}

/* The line of out holding sigward's denial of container id, copied to buf. */
static bool denial_line(const char *out, const char *id, char *buf, size_t n)
{
	char want[160];
	snprintf(want, sizeof want, "sigward: denied container %s: ", id);
	const char *p = strstr(out, want);
	if (!p)
		return false;
	size_t l = strcspn(p, "\n");
	/* runc quotes the hook's stderr with escaped newlines. */
	const char *esc = memmem(p, l, "\\n", 2);
	if (esc)
		l = (size_t)(esc - p);
	snprintf(buf, n, "%.*s", (int)l, p);
	return true;
}

/* Its last non-empty line, for a detail. */
static void last_line(const char *out, char *buf, size_t n)
{
	size_t l = strlen(out);
	while (l && (out[l - 1] == '\n' || out[l - 1] == '\r'))
		l--;
	size_t b = l;
	while (b && out[b - 1] != '\n')
		b--;
	snprintf(buf, n, "%.*s", (int)(l - b), out + b);
}

/* One canary: create the bundle's container through argv (runtime and options
 * up to "create"), judge, and delete it whatever happened. */
static void canary(st *s, const char *runtime, const char *path, const char *enforcer, const char *const *pre,
		   size_t n_pre, bool with_hook, const char *config)
{
	if (s->hb.n_canaries == SW_HB_MAX_CANARIES)
		return;
	sw_canary *c = &s->hb.canaries[s->hb.n_canaries++];
	memset(c, 0, sizeof *c);
	snprintf(c->runtime, sizeof c->runtime, "%s", runtime);
	snprintf(c->path, sizeof c->path, "%s", path);
	snprintf(c->enforcer, sizeof c->enforcer, "%s", enforcer);
	snprintf(c->container, sizeof c->container, "sigward-canary-%s-%s-%s", s->nonce, path, runtime);
	for (char *p = c->container; *p; p++)
		if (*p == '.')
			*p = '-';
	c->result = SW_CANARY_ERROR;
	unsigned char rnd[SW_SHA256_LEN];
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) {
		snprintf(c->detail, sizeof c->detail, "getrandom: %s", strerror(errno));
		return;
	}
	memcpy(c->digest, "sha256:", 7);
	sw_hex(rnd, sizeof rnd, c->digest + 7);
	char bundle[128], root[128];
	snprintf(bundle, sizeof bundle, "%s/%s-%s", s->tmp, path, runtime);
	snprintf(root, sizeof root, "%s/root-%s-%s", s->tmp, path, runtime);
	sw_error e = { 0 };
	if (write_bundle(s, bundle, c->digest, with_hook, &e) < 0) {
		snprintf(c->detail, sizeof c->detail, "%s", e.msg);
		return;
	}
	const char *argv[24];
	size_t n = 0;
	for (size_t i = 0; i < n_pre && n < 16; i++)
		argv[n++] = pre[i];
	size_t base = n;
	argv[n++] = "--root";
	argv[n++] = root;
	size_t sub = n;
	argv[n++] = "create";
	argv[n++] = "--bundle";
	argv[n++] = bundle;
	argv[n++] = c->container;
	argv[n] = NULL;
	_cleanup_free_ char *out = NULL;
	int rc = run(s, (char *const *)argv, config, &out);
	char line[sizeof c->detail];
	if (rc != 0 && denial_line(out, c->container, line, sizeof line)) {
		c->result = SW_CANARY_REFUSED;
		snprintf(c->detail, sizeof c->detail, "%s", line);
	} else if (rc == 0) {
		/* The start got past sigward: what an unwired or disarmed node does. */
		c->result = SW_CANARY_NOT_REFUSED;
		snprintf(c->detail, sizeof c->detail, "the start got past sigward (exit 0): the container was created; "
			 "deleted at once");
	} else {
		last_line(out, line, 400);
		snprintf(c->detail, sizeof c->detail, "exit %d without sigward's denial: %.400s", rc, line);
	}
	/* Whatever happened, nothing stays: the same runtime deletes it. */
	_cleanup_free_ char *o2 = NULL, *o3 = NULL;
	argv[sub] = "delete";
	argv[sub + 1] = "--force";
	argv[sub + 2] = c->container;
	argv[sub + 3] = NULL;
	(void)run(s, (char *const *)argv, config, &o2);
	argv[sub] = "state";
	argv[sub + 1] = c->container;
	argv[sub + 2] = NULL;
	if (run(s, (char *const *)argv, config, &o3) == 0) {
		/* Said first: the detail is cut to fit, this must not be. */
		char left[sizeof c->detail + 64];
		snprintf(left, sizeof left, "the container is STILL THERE (%.200s --root %.64s); %s", argv[0],
			 argv[base + 1], c->detail);
		memcpy(c->detail, left, sizeof c->detail - 1);
		c->detail[sizeof c->detail - 1] = '\0';
	}
}

/* The runtime sigward-runc executes after deciding ([runtime] path). */
static const char *base_runtime(const st *s)
{
	const char *b = strrchr(s->cfg.runtime_path, '/');
	return b ? b + 1 : s->cfg.runtime_path;
}

static void canaries(st *s)
{
	sw_heartbeat *hb = &s->hb;
	char bin[4096];
	/* hooks.d: the OCI runtimes podman and CRI-O drive, each with the hook the
	 * file names, in the stages it names. */
	hookspec *h = &s->hook;
	if (!h->file[0]) {
		wiring_add(hb, "hooks.d", false, "no sigward.json in %s%s", s->hooks_dirs[0],
			   s->n_hooks_dirs > 1 ? " or the other hooks directories" : "");
	} else if (h->error[0]) {
		wiring_add(hb, "hooks.d", false, "%s", h->error);
	} else {
		/* Without "always" podman and CRI-O run the hook only for the
		 * containers its conditions match: that is not every start. */
		wiring_add(hb, "hooks.d", h->always, "%s: hook %s%s", h->file, h->path,
			   h->always ? "" : " (not \"when\": {\"always\": true}: only the containers its conditions match)");
		static const char *const rts[] = { "runc", "crun" };
		size_t before = hb->n_canaries;
		for (size_t i = 0; i < SW_ARRAY_SIZE(rts); i++) {
			if (!cli_which(rts[i], bin, sizeof bin))
				continue;
			/* crun: no cgroup for a container that is never started (and
			 * none of the layouts crun refuses to create one in). */
			const char *pre[] = { bin, "--cgroup-manager=disabled" };
			canary(s, rts[i], "hooks.d", h->path, pre, strcmp(rts[i], "crun") == 0 ? 2 : 1, true, NULL);
		}
		/* Wired, but no runtime to run the hook: nothing was shown refused. */
		if (hb->n_canaries == before && hb->n_canaries < SW_HB_MAX_CANARIES) {
			sw_canary *c = &hb->canaries[hb->n_canaries++];
			memset(c, 0, sizeof *c);
			snprintf(c->runtime, sizeof c->runtime, "none");
			snprintf(c->path, sizeof c->path, "hooks.d");
			snprintf(c->enforcer, sizeof c->enforcer, "%.500s", h->path);
			c->result = SW_CANARY_ERROR;
			snprintf(c->detail, sizeof c->detail, "neither runc nor crun is on PATH: the hook could not be run");
		}
	}
	/* containerd and Docker run the sigward-runc they are configured with;
	 * it decides on `create` before executing the real runtime. */
	_cleanup_free_ char *text = NULL;
	size_t len;
	sw_error e = { 0 };
	if (sw_read_file(s->containerd_config, 4u << 20, &text, &len, &e) == 0) {
		sw_containerd_wiring w;
		sw_wiring_containerd(text, len, &w);
		if (w.wired || w.runtime_class) {
			wiring_add(hb, "containerd", w.wired, "%s:%u: runtime %s%s: BinaryName = %s", s->containerd_config,
				   w.binary_line, w.runtime, w.wired ? " (the default)" : " (a RuntimeClass handler only)",
				   w.binary);
			const char *pre[] = { w.binary };
			canary(s, base_runtime(s), "containerd", w.binary, pre, 1, false, s->config);
		} else {
			wiring_add(hb, "containerd", false, "%s: no BinaryName naming sigward-runc", s->containerd_config);
		}
	}
	free(TAKE_PTR(text));
	if (sw_read_file(s->docker_config, 4u << 20, &text, &len, &e) == 0) {
		sw_docker_wiring w;
		if (sw_wiring_docker(text, len, s->docker_config, &w, &e) < 0) {
			wiring_add(hb, "docker", false, "%s", e.msg);
		} else if (w.runtime) {
			wiring_add(hb, "docker", w.is_default, "%s: runtime %s%s: %s", s->docker_config, w.name,
				   w.is_default ? " (the default-runtime)" : " (only with --runtime)", w.path);
			const char *pre[] = { w.path };
			canary(s, base_runtime(s), "docker", w.path, pre, 1, false, s->config);
		} else {
			wiring_add(hb, "docker", false, "%s: no sigward-runc runtime", s->docker_config);
		}
	}
}

/* ------------------------------------------------------------ metrics */

/* The Prometheus textfile (node_exporter's textfile collector), replaced
 * atomically. The age of the heartbeat is time() - its timestamp, computed by
 * Prometheus: a file that stops being rewritten keeps its old timestamp, which
 * is exactly what the alert looks for (docs/daemon.md, sigward-selftest(8)). */
static void write_metrics(const st *s, bool written, sw_error *err)
{
	const sw_heartbeat *hb = &s->hb;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	fprintf(f, "# HELP sigward_heartbeat_timestamp_seconds When the self-test last wrote a heartbeat into the decision log.\n"
		   "# TYPE sigward_heartbeat_timestamp_seconds gauge\n");
	if (written)
		fprintf(f, "sigward_heartbeat_timestamp_seconds %" PRId64 "\n", hb->time);
	fprintf(f, "# HELP sigward_heartbeat_write_ok 1 when this run's heartbeat was written, 0 when it could not be.\n"
		   "# TYPE sigward_heartbeat_write_ok gauge\nsigward_heartbeat_write_ok %d\n", written);
	fprintf(f, "# HELP sigward_heartbeat_interval_seconds The self-test's interval ([selftest] interval).\n"
		   "# TYPE sigward_heartbeat_interval_seconds gauge\nsigward_heartbeat_interval_seconds %" PRId64 "\n",
		hb->interval);
	fprintf(f, "# HELP sigward_heartbeat_max_gap_seconds The longest gap the audit accepts (interval * tolerance).\n"
		   "# TYPE sigward_heartbeat_max_gap_seconds gauge\nsigward_heartbeat_max_gap_seconds %" PRId64 "\n",
		hb->interval * hb->tolerance);
	fprintf(f, "# HELP sigward_mode_enforce 1 in enforce mode, 0 in warn mode.\n"
		   "# TYPE sigward_mode_enforce gauge\nsigward_mode_enforce %d\n", strcmp(hb->mode, "enforce") == 0);
	size_t wired = 0;
	for (size_t i = 0; i < hb->n_wiring; i++)
		wired += hb->wiring[i].wired;
	fprintf(f, "# HELP sigward_wired_paths Runtime paths wired to sigward (hooks.d, containerd, docker).\n"
		   "# TYPE sigward_wired_paths gauge\nsigward_wired_paths %zu\n", wired);
	fprintf(f, "# HELP sigward_canary_last_result The last canary per runtime path: 1 refused, 0 NOT refused "
		   "(the start got past sigward), -1 could not be run.\n# TYPE sigward_canary_last_result gauge\n");
	for (size_t i = 0; i < hb->n_canaries; i++) {
		const sw_canary *c = &hb->canaries[i];
		fprintf(f, "sigward_canary_last_result{path=\"%s\",runtime=\"%s\"} %d\n", c->path, c->runtime,
			c->result == SW_CANARY_REFUSED ? 1 : c->result == SW_CANARY_NOT_REFUSED ? 0 : -1);
	}
	fprintf(f, "# HELP sigward_canary_last_timestamp_seconds When the last canary per runtime path ran.\n"
		   "# TYPE sigward_canary_last_timestamp_seconds gauge\n");
	for (size_t i = 0; i < hb->n_canaries; i++)
		fprintf(f, "sigward_canary_last_timestamp_seconds{path=\"%s\",runtime=\"%s\"} %" PRId64 "\n",
			hb->canaries[i].path, hb->canaries[i].runtime, hb->time);
	fclose(f);
	const char *file = s->cfg.selftest_metrics_file;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", file);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	_cleanup_close_ int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		sw_err_errno(err, errno, "%s: cannot open the metrics directory", dir[0] ? dir : "/");
		return;
	}
	/* Readable by node_exporter (and sigwardd): it holds nothing secret. */
	(void)sw_write_file_atomic_at(dfd, dir[0] ? dir : "/", slash + 1, buf, len, 0644, err);
}

/* ------------------------------------------------------------ main */

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	remove(path);
	return 0;
}

static const char usage_text[] =
	"usage: sigward selftest [--config FILE] [--hooks-dir DIR]... [--containerd-config FILE]\n"
	"                        [--docker-config FILE]\n"
	"The node's proof of life, run by sigward-selftest.timer every [selftest] interval: a\n"
	"canary start of an image no list can hold (a random digest) through every wired\n"
	"path (runc and crun with the hook the hooks.d file names; the sigward-runc that\n"
	"containerd's BinaryName and Docker's runtimes name), each of which sigward must\n"
	"refuse; then a heartbeat record (mode, list, wiring, canaries) in the decision log's\n"
	"hash chain and, with [selftest] metrics_file, a Prometheus textfile. A canary that\n"
	"gets through is a created container, deleted at once. 'sigward audit' reports gaps\n"
	"between heartbeats and canaries not refused. Defaults: hooks.d in\n"
	"/usr/share/containers/oci/hooks.d and /etc/containers/oci/hooks.d,\n"
	"/etc/containerd/config.toml, /etc/docker/daemon.json.\n"
	"Exit 0 every canary refused, 1 a canary not refused or nothing wired, 2 error.";

int cmd_selftest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "hooks-dir", required_argument, NULL, 'H' },
		{ "containerd-config", required_argument, NULL, 'C' },
		{ "docker-config", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static st s;
	memset(&s, 0, sizeof s);
	s.containerd_config = "/etc/containerd/config.toml";
	s.docker_config = "/etc/docker/daemon.json";
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': s.config = optarg; break;
		case 'H':
			if (s.n_hooks_dirs == SW_ARRAY_SIZE(s.hooks_dirs))
				return cli_usage_error("selftest", "at most %zu --hooks-dir", SW_ARRAY_SIZE(s.hooks_dirs));
			s.hooks_dirs[s.n_hooks_dirs++] = optarg;
			break;
		case 'C': s.containerd_config = optarg; break;
		case 'D': s.docker_config = optarg; break;
		case 'h':
			puts(usage_text);
			return 0;
		default:
			return cli_usage_error("selftest", "bad option");
		}
	}
	if (optind < argc)
		return cli_usage_error("selftest", "unexpected argument '%s'", argv[optind]);
	if (!s.n_hooks_dirs) {
		s.hooks_dirs[s.n_hooks_dirs++] = "/usr/share/containers/oci/hooks.d";
		s.hooks_dirs[s.n_hooks_dirs++] = "/etc/containers/oci/hooks.d";
	}
	sw_error e = { 0 };
	if (sw_config_load(&s.cfg, s.config, &e) < 0)
		return cli_fail(&e);
	if (!s.cfg.log_file || !s.cfg.log_file[0]) {
		sw_config_free(&s.cfg);
		sw_err(&e, SW_EINVAL, "the decision log is off (log_file is empty): there is nowhere to write a heartbeat");
		return cli_fail(&e);
	}

	sw_heartbeat *hb = &s.hb;
	hb->interval = s.cfg.selftest_interval;
	hb->tolerance = s.cfg.selftest_tolerance;
	snprintf(hb->version, sizeof hb->version, "%s", SIGWARD_VERSION);
	snprintf(hb->mode, sizeof hb->mode, "%s", sw_mode_name(s.cfg.mode));
	gethostname(hb->host, sizeof hb->host - 1);
	sw_list l = { .dirfd = -1 };
	sw_error le = { 0 };
	if (sw_list_open_current_lazy(s.cfg.lists_dir, &l, &le) == 0) {
		hb->have_list = true;
		snprintf(hb->scope, sizeof hb->scope, "%s", l.scope);
		hb->serial = l.serial;
		sw_list_close(&l);
	}

	/* A private directory for the bundles; lowercase hex names (runtimes'
	 * container ids). */
	unsigned char rnd[6];
	bool made = false;
	for (int tries = 0; tries < 5 && !made; tries++) {
		if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
			break;
		sw_hex(rnd, sizeof rnd, s.nonce);
		snprintf(s.tmp, sizeof s.tmp, "/tmp/sigward-selftest.%s", s.nonce);
		made = mkdir(s.tmp, 0700) == 0;
	}
	read_hook(&s);
	if (made) {
		canaries(&s);
		nftw(s.tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	} else {
		wiring_add(hb, "selftest", false, "no private directory under /tmp: no canary could run (%s)", strerror(errno));
	}

	/* The heartbeat's time is when it is written: after the canaries, so
	 * their deny records come before it in the log. */
	hb->time = sw_now();
	int rc = 0;
	bool written = sw_heartbeat_append(s.cfg.log_file, s.cfg.state_dir, hb, &e) == 0;
	if (!written) {
		fprintf(stderr, "sigward: the heartbeat could not be written: %s\n", e.msg);
		rc = EXIT_USAGE;
	}
	size_t refused = 0;
	for (size_t i = 0; i < hb->n_canaries; i++) {
		const sw_canary *c = &hb->canaries[i];
		refused += c->result == SW_CANARY_REFUSED;
		printf("canary %s through %s (%s): %s%s%s\n", c->runtime, c->path, c->enforcer,
		       c->result == SW_CANARY_REFUSED ? "refused" : c->result == SW_CANARY_NOT_REFUSED ? "NOT REFUSED" : "ERROR",
		       c->detail[0] ? ": " : "", c->detail);
	}
	for (size_t i = 0; i < hb->n_wiring; i++)
		if (!hb->wiring[i].wired)
			printf("not wired: %s: %s\n", hb->wiring[i].name, hb->wiring[i].how);
	if (written)
		printf("heartbeat written to %s: mode %s, list %s#%" PRIu64 ", %zu of %zu canaries refused\n", s.cfg.log_file,
		       hb->mode, hb->have_list ? hb->scope : "(none)", hb->serial, refused, hb->n_canaries);
	if (!rc && (refused < hb->n_canaries || hb->n_canaries == 0)) {
		if (hb->n_canaries == 0)
			fprintf(stderr, "sigward: no runtime path is wired to sigward: no canary ran\n");
		rc = 1;
	}
	if (s.cfg.selftest_metrics_file && s.cfg.selftest_metrics_file[0]) {
		sw_error me = { 0 };
		write_metrics(&s, written, &me);
		if (me.msg[0]) {
			fprintf(stderr, "sigward: %s\n", me.msg);
			rc = EXIT_USAGE;
		}
	}
	sw_config_free(&s.cfg);
	return rc;
}
