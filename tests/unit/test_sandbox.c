/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

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
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 5;
	close(s);
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
	assert_int_equal(sw_sandbox_run(SW_SANDBOX_DECIDE, run_ok, NULL, out, sizeof out, &e), 3);
	assert_string_equal(out, "verdict");
	assert_true(sw_sandbox_run(SW_SANDBOX_DECIDE, run_exec, NULL, out, sizeof out, &e) < 0);
	assert_non_null(strstr(e.msg, "seccomp"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_kills),
		cmocka_unit_test(test_allowed_paths),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_caps_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
