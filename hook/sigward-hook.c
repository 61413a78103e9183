/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward-hook: the OCI hook (prestart or createRuntime).
 *
 * The runtime passes the container state on stdin. Exit 0 allows the start; a
 * non-zero exit aborts it, and the one line on stderr is what the user sees in the
 * runtime's error. Any failure on the way denies (fail closed), except in warn mode.
 *
 * Two binaries from this file. sigward-hook (SW_HOOK_HANDOFF) is built without
 * libcrypto: linking it at all made every start ~0.25 ms slower (bench/PROFILE.md),
 * and a start needs none of it once the list's signatures were checked and that
 * result cached in state_dir. When they must be checked (a new list, or
 * verify_cache = no), it hands the start, before recording anything, to
 * sigward-hook-verify beside it: execveat(2) inside its sandbox, the state on a
 * pipe as stdin, the syslog socket by number (--handed-off=FD). The verifier
 * inherits the seccomp filter, no capabilities, no_new_privs, the locked
 * securebits, the Landlock domain and the remaining alarm, stacks its own
 * sandbox over them, and decides the start from the beginning. Run directly (as a
 * hook of its own), sigward-hook-verify is the whole hook in one process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "enforce.h"
#include "oci.h"
#include "sandbox.h"
#include "trust.h"
#include "syslogsock.h"
#include "util.h"

extern char **environ;

#ifdef SW_HOOK_HANDOFF
#define SW_SANDBOX_PROFILE SW_SANDBOX_HANDOFF
#else
#define SW_SANDBOX_PROFILE SW_SANDBOX_DECIDE
#endif

static void usage(FILE *f)
{
	fputs("usage: sigward-hook [--config FILE]\n"
	      "OCI prestart/createRuntime hook: reads the container state on stdin,\n"
	      "exits 0 to allow the start, 1 to deny it (reason on stderr).\n"
	      "  --sandbox-selftest  enter and confine the sandbox, try a socket and a\n"
	      "                      directory in /, then execve(2): being killed by\n"
	      "                      SIGSYS shows the seccomp filter is active\n", f);
}

static int deny_early(const char *id, const sw_error *e)
{
	fprintf(stderr, "sigward: denied container %s: %s\n", id ? id : "(unknown)", e->msg);
	return 1;
}

/* The line a timed-out decision leaves: written by the SIGALRM handler, so it
 * is prepared beforehand and swapped in whole (a pointer store), never
 * formatted inside the handler. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define TIMEOUT_TEXT "the decision did not finish within " STR(SW_DECIDE_TIMEOUT_S) " s (timed out)"
static const char *volatile g_alarm_line = "sigward: denied container (unknown): " TIMEOUT_TEXT "\n";
static char g_alarm_buf[512];

static void on_alarm(int sig)
{
	(void)sig;
	const char *l = g_alarm_line;
	(void)!write(STDERR_FILENO, l, strlen(l));
	_exit(1);
}

/* What a compromised decision would try first, in the sandbox as the hook
 * confines it without a configuration: each attempt must be refused, and
 * execve(2) then kills the process (SIGSYS). Exit 3 when anything got through. */
static int selftest_run(void)
{
	sw_error e = { 0 };
	int abi = sw_sandbox_confine_dirs(NULL, 0, false, &e);
	if (abi < 0)
		return deny_early(NULL, &e);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fprintf(stderr, "sigward-hook: sandbox: a new socket: %s (%s)\n", fd < 0 ? "refused" : "NOT refused",
		fd < 0 ? strerror(errno) : "opened");
	if (fd >= 0)
		return 3;
	char dir[64];
	snprintf(dir, sizeof dir, "/sigward-selftest.%ld", (long)getpid());
	int r = mkdir(dir, 0700);
	int err = errno;
	if (r == 0)
		(void)unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
	if (abi > 0)
		fprintf(stderr, "sigward-hook: sandbox: Landlock ABI %d: creating %s: %s (%s)\n", abi, dir,
			r < 0 ? "refused" : "NOT refused", r < 0 ? strerror(err) : "created");
	else
		fprintf(stderr, "sigward-hook: sandbox: no Landlock on this kernel: writes are not confined\n");
	if (abi > 0 && r == 0)
		return 3;
	char *const args[] = { (char *)"/bin/true", NULL };
#ifdef SW_HOOK_HANDOFF
	/* This profile lets a descriptor be executed (the handoff); Landlock lets
	 * only sigward-hook-verify be, and none was named here. */
	if (abi > 0) {
		int tfd = open(args[0], O_PATH | O_CLOEXEC);
		if (tfd >= 0)
			syscall(__NR_execveat, tfd, "", args, environ, AT_EMPTY_PATH);
		fprintf(stderr, "sigward-hook: sandbox: execveat of %s: refused (%s)\n", args[0], strerror(errno));
	}
#endif
	execv(args[0], args);
	fprintf(stderr, "sigward-hook: execve was not stopped by the sandbox\n");
	return 3;
}

#ifdef SW_HOOK_HANDOFF
#define VERIFIER_NAME "sigward-hook-verify"

/* What the handoff needs: the verifier (open O_PATH before the confinement, which
 * allows executing it and nothing else), the state as read, the arguments. */
typedef struct handoff {
	int exe_fd;
	char *exe;          /* its path (malloc'ed), or why it was not found */
	const char *text;
	size_t len;
	int argc;
	char **argv;
	bool tried;
} handoff;

static void handoff_done(handoff *h)
{
	free(h->exe);
	if (h->exe_fd >= 0)
		close(h->exe_fd);
}

/* sigward-hook-verify in the directory of this binary. */
static int handoff_prepare(handoff *h, sw_error *e)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return sw_err_errno(e, errno, "cannot find this binary's directory (/proc/self/exe)");
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return sw_err(e, SW_EINVAL, "/proc/self/exe: %s: not a path", self);
	*slash = '\0';
	if (asprintf(&h->exe, "%s/" VERIFIER_NAME, self) < 0) {
		h->exe = NULL;
		return sw_err_errno(e, ENOMEM, "%s", self);
	}
	h->exe_fd = open(h->exe, O_PATH | O_CLOEXEC);
	if (h->exe_fd < 0)
		return sw_err_errno(e, errno, "%s: cannot open", h->exe);
	return 0;
}

/* The sw_enforce_req handoff: returns only when the handoff failed. */
static int handoff_exec(void *arg, sw_error *e)
{
	handoff *h = arg;
	if (h->tried)
		return sw_err(e, SW_EINVAL, "%s: already tried", h->exe);
	h->tried = true;
	if (h->exe_fd < 0)
		return sw_err(e, SW_EINVAL, "%s", h->exe ? h->exe : VERIFIER_NAME " not found");
	/* Who can replace the verifier decides every new list's first start: it
	 * must be root's and writable by no one else, like a key. */
	int tfd = sw_trust_open(h->exe, SW_TRUST_FILE, e);
	if (tfd < 0)
		return tfd;
	struct stat a, b;
	bool same = fstat(tfd, &a) == 0 && fstat(h->exe_fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(tfd);
	if (!same)
		return sw_err(e, SW_EINVAL, "%s: replaced during the start", h->exe);

	/* The state, as read, on a pipe that becomes stdin. */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sw_err_errno(e, errno, "pipe");
	if (h->len > 65536 && fcntl(p[1], F_SETPIPE_SZ, (int)h->len) < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		return sw_err_errno(e, err, "a pipe for %zu bytes of state", h->len);
	}
	size_t off = 0;
	while (off < h->len) {
		ssize_t w = write(p[1], h->text + off, h->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = errno;
			close(p[0]);
			close(p[1]);
			return sw_err_errno(e, err, "writing the state to the verifier's pipe");
		}
		off += (size_t)w;
	}
	close(p[1]);
	if (dup2(p[0], STDIN_FILENO) < 0) {
		int err = errno;
		close(p[0]);
		return sw_err_errno(e, err, "dup2");
	}
	close(p[0]);

	int sfd = sw_syslog_fd();
	if (sfd >= 0 && fcntl(sfd, F_SETFD, 0) < 0)
		sfd = -1;
	char handed[32];
	snprintf(handed, sizeof handed, "--handed-off=%d", sfd);
	char *args[64];
	int n = 0;
	args[n++] = (char *)VERIFIER_NAME;
	args[n++] = handed;
	for (int i = 1; i < h->argc && n < (int)SW_ARRAY_SIZE(args) - 1; i++)
		args[n++] = h->argv[i];
	args[n] = NULL;
	syscall(__NR_execveat, h->exe_fd, "", args, environ, AT_EMPTY_PATH);
	return sw_err_errno(e, errno, "%s: cannot execute", h->exe);
}
#endif

int main(int argc, char **argv)
{
	const char *config_file = NULL;
	bool selftest = false;
	bool handed_off = false;
	if (argc > 64) {
		fprintf(stderr, "sigward: denied container (unknown): sigward-hook: too many arguments\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_file = argv[++i];
#ifndef SW_HOOK_HANDOFF
		/* From sigward-hook: the syslog socket it connected, or -1. */
		else if (i == 1 && strncmp(argv[i], "--handed-off=", 13) == 0) {
			handed_off = true;
			char *end;
			long fd = strtol(argv[i] + 13, &end, 10);
			if (*end || fd < -1 || fd > 1024) {
				fprintf(stderr, "sigward: denied container (unknown): sigward-hook-verify: bad %s\n", argv[i]);
				return 1;
			}
			if (fd >= 0 && !sw_syslog_adopt((int)fd))
				fprintf(stderr, "sigward-hook-verify: descriptor %ld is no socket: no syslog line\n", fd);
		}
#endif
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config_file = argv[i] + 9;
		else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--sandbox-selftest") == 0) {
			selftest = true;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("sigward-hook " SIGWARD_VERSION);
			return 0;
		} else {
			fprintf(stderr, "sigward: denied container (unknown): sigward-hook: unknown argument '%s'\n", argv[i]);
			return 1;
		}
	}

	/* The whole decision is bounded, whatever holds it up (a lock, a stuck
	 * read): runc runs config.json hooks without any timeout unless one is
	 * written there, and a start must be refused, not held up. Denied in every
	 * mode, as the runtime's own hook timeout would. Set before the sandbox:
	 * the handler needs only write and exit_group. */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	/* Handed off: what is left of sigward-hook's alarm (it survives execve). */
	unsigned left = alarm(SW_DECIDE_TIMEOUT_S);
	if (handed_off && left > 0)
		alarm(left);
	/* One start, milliseconds: the trust walks may start from directories
	 * this process already walked to (lib/trust.h). */
	sw_trust_memo_enable();

	/* Everything from here on parses input that workloads and the network
	 * influence: do it without capabilities and with a syscall allow-list. */
	sw_error e = { 0 };
	if (sw_sandbox_enter(SW_SANDBOX_PROFILE, &e) < 0)
		return deny_early(NULL, &e);
	if (selftest)
		return selftest_run();

	/* 1. The state on stdin (read now, parsed once confined) and the
	 * configuration (root's files). */
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (sw_read_fd(STDIN_FILENO, SW_STATE_MAX, "state (stdin)", &text, &len, &e) < 0)
		return deny_early(NULL, &e);
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	sw_error ce = { 0 };
	int cr = sw_config_load(&cfg, config_file, &ce);
#ifdef SW_HOOK_HANDOFF
	_cleanup_(handoff_done) handoff h = { .exe_fd = -1, .text = text, .len = len, .argc = argc, .argv = argv };
	sw_error he = { 0 };
	/* Not finding the verifier refuses nothing yet: only a start that needs it. */
	if (handoff_prepare(&h, &he) < 0) {
		free(h.exe);
		h.exe = strdup(he.msg);
	} else
		sw_sandbox_allow_exec(h.exe_fd);
#endif
	/* From here on, write nowhere but beneath the configuration's state_dir
	 * and log directory (nowhere without a configuration): Landlock where the
	 * kernel has it. Before parsing anything the runtime sent. */
	if ((cr >= 0 ? sw_sandbox_confine(&cfg, &e) : sw_sandbox_confine_dirs(NULL, 0, false, &e)) < 0)
		return deny_early(NULL, &e);
	sw_state st = { 0 };
	if (sw_state_parse(text, len, "state (stdin)", &st, &e) < 0)
		return deny_early(NULL, &e);
	snprintf(g_alarm_buf, sizeof g_alarm_buf, "sigward: denied container %.200s: " TIMEOUT_TEXT "\n", st.id);
	g_alarm_line = g_alarm_buf;
	if (cr < 0) {
		int r = deny_early(st.id, &ce);
		sw_state_free(&st);
		return r;
	}

	/* 2-5. Resolve, verify, decide, record. */
	sw_enforce_req req = { .config = &cfg, .container_id = st.id, .bundle = st.bundle, .runtime = "hook" };
#ifdef SW_HOOK_HANDOFF
	req.handoff = handoff_exec;
	req.handoff_arg = &h;
#endif
	sw_enforce_result res;
	sw_enforce(&req, &res);

	int rc = 0;
	if (res.decision.verdict != SW_ALLOW) {
		char line[2048];
		sw_enforce_format(&req, &res, line, sizeof line);
		fprintf(stderr, "%s\n", line);
		rc = res.decision.verdict == SW_DENY ? 1 : 0;
	}
	sw_state_free(&st);
	return rc;
}
