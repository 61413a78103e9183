/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward-hook: the OCI hook (prestart or createRuntime).
 *
 * The runtime passes the container state on stdin. Exit 0 allows the start; a
 * non-zero exit aborts it, and the one line on stderr is what the user sees in the
 * runtime's error. Any failure on the way denies (fail closed), except in warn mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "enforce.h"
#include "oci.h"
#include "sandbox.h"
#include "trust.h"
#include "util.h"

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
	execv(args[0], args);
	fprintf(stderr, "sigward-hook: execve was not stopped by the sandbox\n");
	return 3;
}

int main(int argc, char **argv)
{
	const char *config_file = NULL;
	bool selftest = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_file = argv[++i];
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
	alarm(SW_DECIDE_TIMEOUT_S);
	/* One start, milliseconds: the trust walks may start from directories
	 * this process already walked to (lib/trust.h). */
	sw_trust_memo_enable();

	/* Everything from here on parses input that workloads and the network
	 * influence: do it without capabilities and with a syscall allow-list. */
	sw_error e = { 0 };
	if (sw_sandbox_enter(SW_SANDBOX_DECIDE, &e) < 0)
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
