/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward-runc: a runtime wrapper for callers that do not read hooks.d
 * (containerd's runc `BinaryName`, Docker's `runtimes`).
 *
 * `create`, `run` and `restore` are decided exactly like sigward-hook decides (lib/enforce.c)
 * before the real runtime is exec'ed with argv, environment and file descriptors
 * untouched; every other subcommand is exec'ed straight away. A refusal exits 1
 * with the reason on stderr and, because containerd's shim shows only the runtime's
 * log, also in the file given by --log, in the format given by --log-format.
 *
 * Configuration: $SIGWARD_CONFIG, else /etc/sigward/sigward.conf and its drop-ins
 * (containerd's BinaryName cannot carry arguments). `[runtime] path` names the
 * real runtime.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "enforce.h"
#include "json.h"
#include "sandbox.h"
#include "trust.h"
#include "util.h"

#define DEFAULT_RUNTIME "/usr/sbin/runc"

typedef struct call {
	const char *log, *log_format;
	int sub;                 /* index of the subcommand in argv, -1 if none */
	bool decides;            /* create, run or restore */
	const char *bundle, *id;
	char bad[256];           /* why the arguments cannot be decided on */
} call;

/* Global options of runc 1.1 and crun 1.8 that take a value. */
static const char *const global_value_opts[] = { "log", "log-format", "log-level", "root", "criu", "rootless",
						  "cgroup-manager", NULL };
static const char *const global_flag_opts[] = { "debug", "systemd-cgroup", NULL };
/* create/run options that take a value, and flags. */
static const char *const sub_value_opts[] = { "bundle", "b", "console-socket", "pid-file", "preserve-fds", NULL };
static const char *const sub_flag_opts[] = { "detach", "d", "keep", "no-subreaper", "no-pivot", "no-new-keyring", NULL };
/* runc's restore starts a container from a bundle (and a criu image) as well:
 * its further options. */
static const char *const restore_value_opts[] = { "image-path", "work-path", "manage-cgroups-mode", "empty-ns",
						  "lsm-profile", "lsm-mount-context", NULL };
static const char *const restore_flag_opts[] = { "tcp-established", "ext-unix-sk", "shell-job", "file-locks",
						 "auto-dedup", "lazy-pages", NULL };

/* The subcommands that start a container from a bundle. */
static bool starts_container(const char *sub)
{
	return strcmp(sub, "create") == 0 || strcmp(sub, "run") == 0 || strcmp(sub, "restore") == 0;
}

static bool in(const char *const *list, const char *s, size_t n)
{
	for (; *list; list++)
		if (strlen(*list) == n && strncmp(*list, s, n) == 0)
			return true;
	return false;
}

/* Split "-x", "--name" or "--name=value" into name and inline value. */
static void opt_name(const char *arg, const char **name, size_t *n, const char **inline_val)
{
	const char *s = arg + (arg[1] == '-' ? 2 : 1);
	const char *eq = strchr(s, '=');
	*name = s;
	*n = eq ? (size_t)(eq - s) : strlen(s);
	*inline_val = eq ? eq + 1 : NULL;
}

static void parse(int argc, char **argv, call *c)
{
	int i = 1;
	memset(c, 0, sizeof *c);
	c->sub = -1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *name, *val;
		size_t n;
		opt_name(argv[i], &name, &n, &val);
		if (in(global_value_opts, name, n)) {
			if (!val && i + 1 < argc)
				val = argv[++i];
			if (n == 3 && strncmp(name, "log", 3) == 0)
				c->log = val;
			else if (n == 10 && strncmp(name, "log-format", 10) == 0)
				c->log_format = val;
		} else if (!in(global_flag_opts, name, n)) {
			/* Unknown global option: we cannot tell where the subcommand is.
			 * Fail closed if this could start a container. */
			for (int j = i; j < argc; j++)
				if (starts_container(argv[j])) {
					c->decides = true;
					snprintf(c->bad, sizeof c->bad, "unknown runtime option '%.100s'", argv[i]);
				}
			return;
		}
	}
	if (i >= argc)
		return;
	c->sub = i;
	if (!starts_container(argv[i]))
		return;
	bool restore = strcmp(argv[i], "restore") == 0;
	c->decides = true;
	for (i++; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			const char *name, *val;
			size_t n;
			opt_name(argv[i], &name, &n, &val);
			if (in(sub_value_opts, name, n) || (restore && in(restore_value_opts, name, n))) {
				if (!val) {
					if (i + 1 >= argc) {
						snprintf(c->bad, sizeof c->bad, "option '%.100s' needs a value", argv[i]);
						return;
					}
					val = argv[++i];
				}
				if ((n == 6 && strncmp(name, "bundle", 6) == 0) || (n == 1 && name[0] == 'b'))
					c->bundle = val;
			} else if (!in(sub_flag_opts, name, n) && !(restore && in(restore_flag_opts, name, n))) {
				/* e.g. crun's --config/-f, which would run another file than
				 * the bundle's config.json that sigward judged. */
				snprintf(c->bad, sizeof c->bad, "option '%.100s' is not supported by sigward-runc", argv[i]);
				return;
			}
		} else if (!c->id) {
			c->id = argv[i];
		} else {
			snprintf(c->bad, sizeof c->bad, "unexpected argument '%.100s'", argv[i]);
			return;
		}
	}
	if (!c->id)
		snprintf(c->bad, sizeof c->bad, "no container id");
}

/* Write the refusal where runc writes its own errors, so that containerd and
 * Docker show it ("OCI runtime create failed: <msg>"). */
static void runtime_log(const call *c, const char *msg)
{
	if (!c->log || strcmp(c->log, "/dev/stderr") == 0)
		return;
	int fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return;
	char t[32];
	sw_format_rfc3339(sw_now(), t);
	/* json.h's writer: runc's JSON log stays valid JSON whatever bytes the
	 * message carries (a container id from the command line). */
	_cleanup_jsonbuf_ sw_jsonbuf line = { 0 };
	bool json = c->log_format && strcmp(c->log_format, "json") == 0;
	if (json) {
		sw_jsonbuf_lit(&line, "{\"level\":\"error\",\"msg\":");
		sw_jsonbuf_str(&line, msg);
		sw_jsonbuf_lit(&line, ",\"time\":");
		sw_jsonbuf_str(&line, t);
		sw_jsonbuf_lit(&line, "}\n");
	} else {
		sw_jsonbuf_lit(&line, "time=");
		sw_jsonbuf_str(&line, t);
		sw_jsonbuf_lit(&line, " level=error msg=");
		sw_jsonbuf_str(&line, msg);
		sw_jsonbuf_lit(&line, "\n");
	}
	if (!line.failed)
		(void)!write(fd, line.p, line.len);
	close(fd);
}

static int refuse(const call *c, const char *line)
{
	fprintf(stderr, "%s\n", line);
	runtime_log(c, line);
	return 1;
}

static int exec_runtime(const call *c, const char *path, char **argv)
{
	/* Never exec ourselves: a runtime path pointing back at the wrapper would
	 * loop forever. */
	char self[PATH_MAX], target[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if (realpath(path, target) && strcmp(self, target) == 0) {
			fprintf(stderr, "sigward-runc: [runtime] path %s is sigward-runc itself\n", path);
			return 1;
		}
	}
	/* Root executes this file for containerd and Docker on every call: it and
	 * every directory above it must be root's and writable by no one else, or
	 * any account that could write there would run code as root. Once checked,
	 * only root can change what the path names, so exec'ing it by path is safe. */
	sw_error e = { 0 };
	int fd = sw_trust_open(path, SW_TRUST_EXEC, &e);
	if (fd < 0) {
		char line[SW_ERROR_MAX + 64];
		snprintf(line, sizeof line, "sigward-runc: [runtime] path: %s: not executed", e.msg);
		fprintf(stderr, "%s\n", line);
		runtime_log(c, line);
		return 126;
	}
	close(fd);
	execv(path, argv);
	fprintf(stderr, "sigward-runc: cannot exec %s: %s\n", path, strerror(errno));
	return 127;
}

/* The decision runs in a sandboxed child: seccomp filters survive execve, and the
 * real runtime must not inherit ours. The child reports the verdict as its exit
 * status and the one-line reason through the pipe. */
static int decide_child(void *arg, int out_fd)
{
	const sw_enforce_req *req = arg;
	/* Write nowhere but state_dir and the log's directory, connect to nothing
	 * but syslog. A status that is no verdict: the parent denies with this line. */
	sw_error e = { 0 };
	if (sw_sandbox_confine(req->config, &e) < 0) {
		(void)!write(out_fd, e.msg, strlen(e.msg));
		return 125;
	}
	sw_enforce_result res;
	sw_enforce(req, &res);
	if (res.decision.verdict != SW_ALLOW) {
		char line[2048];
		sw_enforce_format(req, &res, line, sizeof line);
		(void)!write(out_fd, line, strlen(line));
	}
	return (int)res.decision.verdict;
}

int main(int argc, char **argv)
{
	call c;
	parse(argc, argv, &c);
	/* One call, then an exec: the trust walks may start from directories
	 * this process already walked to (lib/trust.h). */
	sw_trust_memo_enable();

	const char *config_file = getenv("SIGWARD_CONFIG");
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	sw_error e = { 0 };
	int r = sw_config_load(&cfg, config_file && *config_file ? config_file : NULL, &e);

	if (!c.decides) {
		/* Pass-through: delete, kill, state, start, exec... must keep working
		 * even with a broken configuration, or containers could not be stopped. */
		const char *path = r >= 0 && cfg.runtime_path ? cfg.runtime_path : DEFAULT_RUNTIME;
		if (r < 0)
			fprintf(stderr, "sigward-runc: warning: %s; using %s\n", e.msg, path);
		/* `sigward-runc --version` / `--help` with no subcommand: say what the
		 * wrapper is first, then let the runtime answer for itself. */
		if (c.sub < 0) {
			for (int i = 1; i < argc; i++) {
				if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0) {
					printf("sigward-runc %s (wrapping %s)\n", SIGWARD_VERSION, path);
					break;
				}
				if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
					printf("sigward-runc %s: decides create, run and restore like sigward-hook, then\n"
					       "executes %s with the same arguments; every other subcommand passes\n"
					       "straight through. Configuration: $SIGWARD_CONFIG or /etc/sigward/sigward.conf.\n"
					       "See sigward-runc(8). The runtime's own help follows.\n\n",
					       SIGWARD_VERSION, path);
					break;
				}
			}
			fflush(stdout);
		}
		return exec_runtime(&c, path, argv);
	}

	char line[2048];
	const char *id = c.id ? c.id : "(unknown)";
	if (r < 0) {
		snprintf(line, sizeof line, "sigward: denied container %s: %s", id, e.msg);
		return refuse(&c, line);
	}
	if (c.bad[0]) {
		snprintf(line, sizeof line, "sigward: denied container %s: sigward-runc: %s", id, c.bad);
		return refuse(&c, line);
	}

	char cwd[PATH_MAX], bundle[PATH_MAX];
	if (!c.bundle) {
		if (!getcwd(cwd, sizeof cwd)) {
			snprintf(line, sizeof line, "sigward: denied container %s: cannot get the working directory", id);
			return refuse(&c, line);
		}
		c.bundle = cwd;
	}
	/* The log records an absolute bundle path, as the hook's state carries. */
	if (!realpath(c.bundle, bundle))
		snprintf(bundle, sizeof bundle, "%s", c.bundle);

	sw_enforce_req req = { .config = &cfg, .container_id = id, .bundle = bundle, .runtime = "sigward-runc" };
	/* containerd's BinaryName and Docker's runtimes carry no timeout: the
	 * wrapper bounds the decision itself (SW_DECIDE_TIMEOUT_S, see
	 * lib/enforce.h), so nothing can hold a start up for longer. */
	r = sw_sandbox_run(SW_SANDBOX_DECIDE, decide_child, &req, line, sizeof line, SW_DECIDE_TIMEOUT_S * 1000u, &e);
	if (r < 0 || (r != SW_ALLOW && r != SW_DENY && r != SW_WARN)) {
		/* Killed, timed out, or the sandbox could not be set up: deny, in
		 * every mode. */
		char why[2048];
		snprintf(why, sizeof why, "%s", r < 0 ? e.msg : line[0] ? line : "decision failed");
		snprintf(line, sizeof line, "sigward: denied container %.200s: %.1700s", id, why);
		return refuse(&c, line);
	}
	if (r == SW_DENY)
		return refuse(&c, line);
	if (r == SW_WARN)
		fprintf(stderr, "%s\n", line);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", cfg.runtime_path ? cfg.runtime_path : DEFAULT_RUNTIME);
	return exec_runtime(&c, path, argv);
}
