/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>

#include "config.h"
#include "sandbox.h"
#include "sandbox-rules.h"

/* Run body in a child that enters the sandbox; return its wait status. Children
 * leave with _exit so no sanitizer exit handler runs under the filter. */
static int in_child(sw_sandbox_profile p, int (*body)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sw_error e = { 0 };
		if (sw_sandbox_enter(p, &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			_exit(100);
		}
		_exit(body());
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int do_execve(void)
{
	char *const args[] = { (char *)"/bin/true", NULL };
	execv(args[0], args);
	return 7;
}

static int do_inet_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	return fd >= 0 ? 8 : 9;
}

static char *g_dir;

static int do_files(void)
{
	/* what deciding does: open, read, write, rename, flock, unlink */
	char p[4200], q[4200];
	snprintf(p, sizeof p, "%s/a", g_dir);
	snprintf(q, sizeof q, "%s/b", g_dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) < 0 || close(fd) < 0)
		return 1;
	if (rename(p, q) < 0)
		return 2;
	fd = open(q, O_RDONLY | O_CLOEXEC);
	char c;
	if (fd < 0 || read(fd, &c, 1) != 1 || c != 'x')
		return 3;
	close(fd);
	if (unlink(q) < 0)
		return 4;
	/* No socket after entering (syslog's is connected before the filter):
	 * refused, and the process goes on. */
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s >= 0 || errno != EPERM)
		return 5;
	void *m = malloc(1 << 20);
	if (!m)
		return 6;
	free(m);
	return 0;
}

/* What sigwardd's install of a generation does (lib/install.c): a directory, a
 * symlink renamed over `current`, and removing a staging directory. Without
 * symlinkat and rmdir in the fetch profile the daemon was killed on its first
 * install. */
static int do_install(void)
{
	char d[4200], l[4200], cur[4200];
	snprintf(d, sizeof d, "%s/gen-1", g_dir);
	snprintf(l, sizeof l, "%s/.current.tmp", g_dir);
	snprintf(cur, sizeof cur, "%s/current", g_dir);
	if (mkdir(d, 0755) < 0)
		return 1;
	if (symlink("gen-1", l) < 0 || rename(l, cur) < 0)
		return 2;
	if (unlink(cur) < 0 || rmdir(d) < 0)
		return 3;
	return 0;
}

static void test_forbidden_kills(void **state)
{
	(void)state;
	int st = in_child(SW_SANDBOX_DECIDE, do_execve);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = in_child(SW_SANDBOX_DECIDE, do_inet_socket);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* sigward-hook's profile (SW_SANDBOX_HANDOFF): a path execve(2) still kills, and
 * so does execveat(2) without AT_EMPTY_PATH. */
static int do_execveat_path(void)
{
	char *const args[] = { (char *)"true", NULL };
	syscall(__NR_execveat, AT_FDCWD, "/bin/true", args, environ, 0);
	return 7;
}

/* What sigward-hook does before handing a start over, then the handoff: with
 * Landlock only the file given to sw_sandbox_allow_exec can be executed (this
 * test binary again, in --handoff-child mode); /bin/true is refused. */
#if !defined(__SANITIZE_ADDRESS__)
static int g_out = -1;

static int do_handoff(void)
{
	int self = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	if (self < 0)
		return 20;
	sw_sandbox_allow_exec(self);
	sw_error e = { 0 };
	int abi = sw_sandbox_confine_dirs(NULL, 0, false, &e);
	if (abi < 0)
		return 21;
	char *const tr[] = { (char *)"true", NULL };
	int other = open("/bin/true", O_PATH | O_CLOEXEC);
	if (other < 0)
		return 22;
	if (abi > 0) {
		syscall(__NR_execveat, other, "", tr, environ, AT_EMPTY_PATH);
		if (errno != EACCES)
			return 23;
	}
	if (dup2(g_out, STDOUT_FILENO) < 0)
		return 24;
	char *const args[] = { (char *)"test-sandbox", (char *)"--handoff-child", NULL };
	syscall(__NR_execveat, self, "", args, environ, AT_EMPTY_PATH);
	return 25;
}
#endif

/* The executed side, as sigward-hook-verify: it stacks the DECIDE sandbox over
 * what it inherited (capset, no_new_privs, seccomp: allowed by the handoff
 * profile), says so on stdout, and after that an execveat kills. */
static int handoff_child(void)
{
	sw_error e = { 0 };
	if (sw_sandbox_enter(SW_SANDBOX_DECIDE, &e) < 0) {
		fprintf(stderr, "handoff child: %s\n", e.msg);
		return 30;
	}
	if (write(STDOUT_FILENO, "stacked\n", 8) != 8)
		return 31;
	int fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	char *const args[] = { (char *)"test-sandbox", (char *)"--handoff-child", NULL };
	syscall(__NR_execveat, fd, "", args, environ, AT_EMPTY_PATH);
	return 32;
}

static void test_handoff(void **state)
{
	(void)state;
	int st = in_child(SW_SANDBOX_HANDOFF, do_execve);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = in_child(SW_SANDBOX_HANDOFF, do_execveat_path);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = in_child(SW_SANDBOX_HANDOFF, do_inet_socket);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
#if defined(__SANITIZE_ADDRESS__)
	/* The executed test binary would start its sanitizer runtime under the
	 * filter; the real hooks are checked by the integration tests. */
	print_message("handoff exec: not under AddressSanitizer\n");
#else
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	g_out = p[1];
	st = in_child(SW_SANDBOX_HANDOFF, do_handoff);
	close(p[1]);
	char buf[64] = "";
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS))
		fail_msg("handoff: want SIGSYS at the second execveat, got %s %d",
			 WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	assert_true(n == 8);
	buf[n] = '\0';
	assert_string_equal(buf, "stacked\n");
#endif
}

static void test_allowed_paths(void **state)
{
	(void)state;
	g_dir = tu_tmpdir();
	int st = in_child(SW_SANDBOX_DECIDE, do_files);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the fetch profile may open inet sockets */
	st = in_child(SW_SANDBOX_FETCH, do_inet_socket);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 8);
	st = in_child(SW_SANDBOX_FETCH, do_install);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	tu_rmrf(g_dir);
	free(g_dir);
}

static int run_ok(void *arg, int out_fd)
{
	(void)arg;
	(void)!write(out_fd, "verdict", 7);
	return 3;
}

static int run_exec(void *arg, int out_fd)
{
	(void)arg;
	(void)out_fd;
	return do_execve();
}

static void test_run(void **state)
{
	(void)state;
	char out[64];
	sw_error e = { 0 };
	assert_int_equal(sw_sandbox_run(SW_SANDBOX_DECIDE, run_ok, NULL, out, sizeof out, 10000, &e), 3);
	assert_string_equal(out, "verdict");
	assert_true(sw_sandbox_run(SW_SANDBOX_DECIDE, run_exec, NULL, out, sizeof out, 10000, &e) < 0);
	assert_non_null(strstr(e.msg, "seccomp"));
}

static int run_hang(void *arg, int out_fd)
{
	(void)arg;
	(void)!write(out_fd, "partial", 7);
	for (;;) {
		struct timespec ts = { 60, 0 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* A deciding child that never finishes (a lock that is never released, a stuck
 * read) is killed at the deadline and the call fails: the wrapper then denies
 * instead of holding the start up. */
static void test_run_timeout(void **state)
{
	(void)state;
	char out[64];
	sw_error e = { 0 };
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_true(sw_sandbox_run(SW_SANDBOX_DECIDE, run_hang, NULL, out, sizeof out, 300, &e) < 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (long)(b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_int_equal(e.code, ETIMEDOUT);
	assert_string_equal(e.msg, "the decision did not finish within 300 ms (killed)");
	assert_true(ms >= 290 && ms < 2000);
	/* whole seconds read as seconds */
	assert_true(sw_sandbox_run(SW_SANDBOX_DECIDE, run_hang, NULL, out, sizeof out, 1000, &e) < 0);
	assert_string_equal(e.msg, "the decision did not finish within 1 s (killed)");
	/* and a child that finishes in time is not affected */
	assert_int_equal(sw_sandbox_run(SW_SANDBOX_DECIDE, run_ok, NULL, out, sizeof out, 300, &e), 3);
}

static void test_caps_dropped(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	/* after entering, even root cannot read a file it does not own with mode 000
	 * (that needs CAP_DAC_OVERRIDE, now gone) */
	g_dir = tu_tmpdir();
	char *p = tu_path(g_dir, "locked");
	tu_writes(g_dir, "locked", "secret");
	assert_int_equal(chown(p, 65534, 65534), 0);
	assert_int_equal(chmod(p, 0), 0);
	pid_t pid = fork();
	if (pid == 0) {
		sw_error e = { 0 };
		if (sw_sandbox_enter(SW_SANDBOX_DECIDE, &e) < 0)
			_exit(100);
		_exit(open(p, O_RDONLY | O_CLOEXEC) < 0 ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	tu_rmrf(g_dir);
	free(p);
	free(g_dir);
}

/* What stands in for the bounding set: after sw_sandbox_drop_caps (no
 * no_new_privs, no seccomp here, so an execve is possible), a program executed
 * as uid 0 must start with no capabilities at all. Without the locked
 * SECBIT_NOROOT it would get every capability of the (full) bounding set. */
static uint64_t status_hex(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 16);
}

static void test_exec_regains_nothing(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	int pfd[2];
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid_t pid = fork();
	if (pid == 0) {
		sw_error e = { 0 };
		if (sw_sandbox_drop_caps(&e) < 0)
			_exit(100);
		if (dup2(pfd[1], 1) < 0)
			_exit(101);
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(102);
	}
	close(pfd[1]);
	char buf[8192];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(pfd[0], buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(pfd[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(buf, "\nUid:\t0\t0\t0\t0"));
	assert_true(status_hex(buf, "CapEff:\t") == 0);
	assert_true(status_hex(buf, "CapPrm:\t") == 0);
	assert_true(status_hex(buf, "CapInh:\t") == 0);
	assert_true(status_hex(buf, "CapAmb:\t") == 0);
}

/* ------------------------------------------------------------ confinement
 *
 * Issue 14 #6: a sandboxed decision is still uid 0. What root owns without any
 * capability (a 0755 directory, a 0644 file, a 0660 socket) is what a
 * compromised decision would use: /etc/cron.d, a profile script,
 * containerd.sock. sw_sandbox_confine must take all three away while the state
 * directory and the log's directory stay writable. The same child body runs
 * with and without confinement, so the test shows the attack works without it. */

static char *g_cdir; /* root: 0700, beneath it the paths below */

enum {
	C_CREATE = 1 << 0,   /* a new file in outside/ (0755 root) */
	C_APPEND = 1 << 1,   /* append to outside/file (0644 root) */
	C_TRUNC = 1 << 2,    /* truncate outside/file */
	C_RENAME = 1 << 3,   /* move a state file into outside/ */
	C_MKDIR = 1 << 4,    /* a directory in outside/ */
	C_SOCKET = 1 << 5,   /* a new AF_UNIX socket */
	C_CONNECT = 1 << 6,  /* connect an existing socket to sock (0660 root, listening) */
	C_SENDTO = 1 << 7,   /* a datagram to dgram (0660 root) through an existing socket */
	C_STATE_BAD = 1 << 8, /* writing beneath state/ failed */
	C_LOG_BAD = 1 << 9,  /* appending to log/decisions.jsonl failed */
	C_READ_BAD = 1 << 10, /* reading outside/file failed */
};

static void cpath(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", g_cdir, rel);
}

static struct sockaddr_un caddr(const char *rel)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	cpath(a.sun_path, sizeof a.sun_path, rel);
	return a;
}

/* Which of the attacks succeeded (C_CREATE..C_SENDTO), and which of the needed
 * writes failed (C_STATE_BAD..). */
static int attempts(int stream_fd, int dgram_fd)
{
	int got = 0;
	char p[512], q[512];
	cpath(p, sizeof p, "outside/new");
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		got |= C_CREATE;
		close(fd);
	}
	cpath(p, sizeof p, "outside/file");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	char c;
	if (fd < 0 || read(fd, &c, 1) != 1)
		got |= C_READ_BAD;
	if (fd >= 0)
		close(fd);
	fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0 && write(fd, "x", 1) == 1)
		got |= C_APPEND;
	if (fd >= 0)
		close(fd);
	/* (truncate(2) itself is outside the seccomp allow-list) */
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd >= 0) {
		got |= C_TRUNC;
		close(fd);
	}
	cpath(p, sizeof p, "outside/dir");
	if (mkdir(p, 0755) == 0)
		got |= C_MKDIR;

	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		got |= C_SOCKET;
		close(s);
	}
	struct sockaddr_un a = caddr("sock");
	if (connect(stream_fd, (struct sockaddr *)&a, sizeof a) == 0 && write(stream_fd, "x", 1) == 1)
		got |= C_CONNECT;
	a = caddr("dgram");
	if (sendto(dgram_fd, "x", 1, 0, (struct sockaddr *)&a, sizeof a) == 1)
		got |= C_SENDTO;

	/* What deciding needs: its state files replaced by rename, the log. */
	cpath(p, sizeof p, "state/tmp");
	cpath(q, sizeof q, "state/serials");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, "1\n", 2) != 2 || fsync(fd) < 0 || close(fd) < 0 || rename(p, q) < 0)
		got |= C_STATE_BAD;
	cpath(p, sizeof p, "state/sub");
	if (mkdir(p, 0700) < 0 || unlinkat(AT_FDCWD, p, AT_REMOVEDIR) < 0)
		got |= C_STATE_BAD;
	if (!(got & C_STATE_BAD)) {
		cpath(p, sizeof p, "outside/serials");
		if (rename(q, p) == 0)
			got |= C_RENAME;
	}
	cpath(p, sizeof p, "log/decisions.jsonl");
	fd = open(p, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || write(fd, "{}\n", 3) != 3)
		got |= C_LOG_BAD;
	if (fd >= 0)
		close(fd);
	return got;
}

/* The layout, root's where the test runs as root (CI): outside/ 0755 with
 * file 0644, a listening stream socket and a datagram socket, both 0660; state/
 * and log/ the configuration's. Returns the two sockets' fds. */
static void confine_setup(int *listen_fd, int *dgram_fd)
{
	g_cdir = tu_tmpdir();
	char p[512];
	const char *dirs[] = { "outside", "state", "log" };
	for (size_t i = 0; i < 3; i++) {
		cpath(p, sizeof p, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	char *out = tu_path(g_cdir, "outside");
	tu_writes(out, "file", "root's\n");
	free(out);
	cpath(p, sizeof p, "outside/file");
	assert_int_equal(chmod(p, 0644), 0);
	struct sockaddr_un a = caddr("sock");
	*listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(*listen_fd >= 0);
	assert_int_equal(bind(*listen_fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(*listen_fd, 4), 0);
	assert_int_equal(chmod(a.sun_path, 0660), 0);
	a = caddr("dgram");
	*dgram_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(*dgram_fd >= 0);
	assert_int_equal(bind(*dgram_fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(chmod(a.sun_path, 0660), 0);
}

enum { M_NONE, M_ENTER, M_CONFINE, M_CONFINE_NOTHING };

/* Fork a child that opens two AF_UNIX sockets (as the syslog socket is open
 * before the filter), then per mode: nothing; sw_sandbox_enter; enter and
 * sw_sandbox_confine with state/ and log/decisions.jsonl; enter and confine
 * with nothing writable (the hook without a configuration). Returns
 * attempts()'s bits (sent through a pipe: an exit status holds 8). */
static int confined_attempts(int mode, int *abi)
{
	int pfd[2];
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		sw_error e = { 0 };
		int st = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int dg = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (st < 0 || dg < 0)
			_exit(101);
		if (mode != M_NONE && sw_sandbox_enter(SW_SANDBOX_DECIDE, &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			_exit(100);
		}
		int a = 0;
		if (mode == M_CONFINE) {
			char state[512], log[512];
			cpath(state, sizeof state, "state");
			cpath(log, sizeof log, "log/decisions.jsonl");
			sw_config c = { .state_dir = state, .log_file = log, .syslog = true };
			a = sw_sandbox_confine(&c, &e);
		} else if (mode == M_CONFINE_NOTHING) {
			a = sw_sandbox_confine_dirs(NULL, 0, false, &e);
		}
		if (a < 0) {
			fprintf(stderr, "%s\n", e.msg);
			_exit(102);
		}
		int got = attempts(st, dg);
		unsigned char b[3] = { (unsigned char)(got & 0xff), (unsigned char)(got >> 8), (unsigned char)a };
		_exit(write(pfd[1], b, 3) == 3 ? 0 : 103);
	}
	close(pfd[1]);
	unsigned char b[3];
	ssize_t n = read(pfd[0], b, 3);
	close(pfd[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(n, 3);
	*abi = b[2];
	return b[0] | b[1] << 8;
}

/* Undo what a successful attack left, so the next mode starts the same. */
static void confine_reset(void)
{
	const char *rel[] = { "outside/new", "outside/serials", "outside/dir", "state/serials", "log/decisions.jsonl" };
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char q[512];
		cpath(q, sizeof q, rel[i]);
		(void)!unlink(q);
		(void)!rmdir(q);
	}
	char *out = tu_path(g_cdir, "outside");
	tu_writes(out, "file", "root's\n");
	free(out);
}

static void test_confine(void **state)
{
	(void)state;
	int lfd, dfd, abi = 0;
	char buf[8];
	confine_setup(&lfd, &dfd);
	const int files = C_CREATE | C_APPEND | C_TRUNC | C_RENAME | C_MKDIR;
	const int sockets = C_SOCKET | C_CONNECT | C_SENDTO;

	/* No sandbox: every attack works against root's files and sockets, so
	 * the checks below are real. */
	assert_int_equal(confined_attempts(M_NONE, &abi), files | sockets);
	int c = accept(lfd, NULL, NULL);
	assert_true(c >= 0);
	close(c);
	assert_int_equal(recv(dfd, buf, sizeof buf, 0), 1);
	confine_reset();

	/* sw_sandbox_enter alone (no capabilities, seccomp): no socket, no
	 * connect, no datagram to an address; root's files are still writable. */
	assert_int_equal(confined_attempts(M_ENTER, &abi), files);
	confine_reset();

	/* Confined: none of the attacks, everything deciding needs. */
	int got = confined_attempts(M_CONFINE, &abi);
	if (abi == 0) {
		/* No Landlock on this kernel (docs/security.md): the file part
		 * cannot hold. */
		fprintf(stderr, "test_sandbox: no Landlock on this kernel: root's files stay writable\n");
		assert_int_equal(got & sockets, 0);
	} else {
		assert_int_equal(got, 0);
		/* and nothing of root's changed */
		size_t len;
		char *text = tu_read(g_cdir, "outside/file", &len);
		assert_int_equal(len, 7);
		assert_memory_equal(text, "root's\n", 7);
		free(text);
		char q[512];
		cpath(q, sizeof q, "outside/new");
		assert_true(access(q, F_OK) < 0);
		cpath(q, sizeof q, "state/serials");
		assert_int_equal(access(q, F_OK), 0);
		confine_reset();

		/* No configuration: nothing writable at all. */
		assert_int_equal(confined_attempts(M_CONFINE_NOTHING, &abi), C_STATE_BAD | C_LOG_BAD);
	}
	/* the owner's sockets saw nothing after the unsandboxed run */
	assert_true(accept(lfd, NULL, NULL) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	assert_true(recv(dfd, buf, sizeof buf, 0) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	close(lfd);
	close(dfd);
	tu_rmrf(g_cdir);
	free(g_cdir);
}

/* The program the hook loads is compiled at build time (lib/sandbox-gen.c):
 * it must be the one libseccomp builds from the rules now, byte for byte, for
 * both profiles, or the rules and what is enforced have drifted apart. */
static void check_precompiled(sw_sandbox_profile p)
{
	const char *what = "";
	scmp_filter_ctx ctx = sw_sandbox_rules(p, &what);
	assert_non_null(ctx);
	int fd = memfd_create("filter", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
	seccomp_release(ctx);
	off_t size = lseek(fd, 0, SEEK_END);
	assert_true(size > 0 && size % (off_t)sizeof(struct sock_filter) == 0);
	struct sock_filter *want = malloc((size_t)size);
	assert_non_null(want);
	assert_int_equal(pread(fd, want, (size_t)size, 0), size);
	close(fd);

	struct sock_fprog got;
	sw_sandbox_filter(p, &got);
	assert_int_equal(got.len, (size_t)size / sizeof(struct sock_filter));
	for (unsigned i = 0; i < got.len; i++) {
		if (memcmp(&got.filter[i], &want[i], sizeof want[i]) != 0)
			fail_msg("profile %d: instruction %u is {0x%04x, %u, %u, 0x%08x}, libseccomp builds "
				 "{0x%04x, %u, %u, 0x%08x}", (int)p, i, got.filter[i].code, got.filter[i].jt,
				 got.filter[i].jf, got.filter[i].k, want[i].code, want[i].jt, want[i].jf, want[i].k);
	}
	free(want);
}

static void test_precompiled_filter(void **state)
{
	check_precompiled(SW_SANDBOX_DECIDE);
	check_precompiled(SW_SANDBOX_FETCH);
	check_precompiled(SW_SANDBOX_HANDOFF);
	struct sock_fprog h;
	sw_sandbox_filter(SW_SANDBOX_HANDOFF, &h);
	struct sock_fprog dd;
	sw_sandbox_filter(SW_SANDBOX_DECIDE, &dd);
	assert_true(h.len != dd.len || memcmp(h.filter, dd.filter, h.len * sizeof *h.filter) != 0);
	/* The two differ (the fetch profile's sockets): the comparison can see a
	 * wrong profile. */
	struct sock_fprog d, f;
	sw_sandbox_filter(SW_SANDBOX_DECIDE, &d);
	sw_sandbox_filter(SW_SANDBOX_FETCH, &f);
	assert_true(d.len != f.len || memcmp(d.filter, f.filter, d.len * sizeof *d.filter) != 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--handoff-child") == 0)
		return handoff_child();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_kills),
		cmocka_unit_test(test_handoff),
		cmocka_unit_test(test_allowed_paths),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_timeout),
		cmocka_unit_test(test_caps_dropped),
		cmocka_unit_test(test_exec_regains_nothing),
		cmocka_unit_test(test_confine),
		cmocka_unit_test(test_precompiled_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
