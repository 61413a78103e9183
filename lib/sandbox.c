/* SPDX-License-Identifier: Apache-2.0 */
#include "sandbox.h"

#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#include "config.h"
#include "sandbox-filter.h" /* generated: lib/sandbox-gen.c */
#include "syslogsock.h"
#include "util.h"

/* No capabilities, and no way to get any back.
 *
 * The effective, permitted, inheritable and ambient sets are emptied (capset(2)
 * and PR_CAP_AMBIENT directly: libcap's constructor alone made six prctl calls on
 * every start). What could hand capabilities back is an execve as root, and that
 * is closed three times over: the securebits below (SECBIT_NOROOT: uid 0 gains
 * nothing at execve; NO_SETUID_FIXUP; no ambient raise; all locked), no_new_privs
 * (set by the caller: no setuid or file capability takes effect), and the
 * seccomp filter, which refuses execve and execveat outright. The bounding set
 * only limits what an execve can grant, so emptying it one capability at a time
 * (41 prctl calls, ~4% of a start; bench/PROFILE.md) adds nothing to that. */
int sw_sandbox_drop_caps(sw_error *err)
{
	/* Needs CAP_SETPCAP, which the capset below takes away. Without it (a
	 * caller that already lacks it), uid 0 has nothing left to regain either. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		  SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
		  SECBIT_KEEP_CAPS_LOCKED |
		  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0) < 0 &&
	    errno != EPERM)
		return sw_err_errno(err, errno, "sandbox: cannot lock the securebits");
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof data);
	if (syscall(__NR_capset, &hdr, data) < 0)
		return sw_err_errno(err, errno, "sandbox: cannot drop capabilities");
	return 0;
}

void sw_sandbox_filter(sw_sandbox_profile p, struct sock_fprog *prog)
{
	if (p == SW_SANDBOX_FETCH) {
		prog->filter = (struct sock_filter *)sw_filter_fetch;
		prog->len = SW_ARRAY_SIZE(sw_filter_fetch);
	} else if (p == SW_SANDBOX_HANDOFF) {
		prog->filter = (struct sock_filter *)sw_filter_handoff;
		prog->len = SW_ARRAY_SIZE(sw_filter_handoff);
	} else {
		prog->filter = (struct sock_filter *)sw_filter_decide;
		prog->len = SW_ARRAY_SIZE(sw_filter_decide);
	}
}

int sw_sandbox_enter(sw_sandbox_profile p, sw_error *err)
{
	int r = sw_sandbox_drop_caps(err);
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sw_err_errno(err, errno, "sandbox: cannot set no_new_privs");

	/* The one connection deciding makes, made now, before the filter below
	 * forbids connect(2) (Landlock does not cover connecting to a socket by
	 * path): syslog (lib/syslogsock.h), which lib/declog.c then finds
	 * connected. sw_sandbox_confine closes it again when the configuration
	 * says syslog = no. Fails quietly without /dev/log. */
	if (p != SW_SANDBOX_FETCH)
		(void)sw_syslog_open(SW_SYSLOG_PATH);

	/* The profile's rules (lib/sandbox-rules.h), compiled by libseccomp at
	 * build time: the same program seccomp_load would hand the kernel, with
	 * the same flags (none), without building it on every start.
	 * Its default is to kill the process, which a kernel before 4.14 would
	 * read as killing the thread: refused there, as seccomp_init refused it
	 * (and so is a seccomp(2) that is missing, e.g. under valgrind). */
	uint32_t kill_process = SECCOMP_RET_KILL_PROCESS;
	if (syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &kill_process) < 0)
		return sw_err_errno(err, errno, "sandbox: seccomp cannot kill a process on this kernel "
				    "(SECCOMP_RET_KILL_PROCESS, Linux 4.14)");
	struct sock_fprog prog;
	sw_sandbox_filter(p, &prog);
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return sw_err_errno(err, errno, "sandbox: cannot load the seccomp filter");
	return 0;
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC), 0 when it has passed. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* ------------------------------------------------------------------ confine */

/* Debian 12's uapi headers stop at Landlock ABI 2 (Linux 6.1). What later ABIs
 * added is defined here; which ABI a kernel has is always asked, never assumed. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; an older kernel is handed only the
 * prefix it knows (ruleset_attr_size). */
struct sw_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/* Every right an ABI can take away (ABI 1: execute .. make_sym; 2: refer;
 * 3: truncate; 5: ioctl on devices). */
static uint64_t fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

static size_t ruleset_attr_size(int abi)
{
	if (abi >= 6)
		return sizeof(struct sw_ruleset_attr);
	if (abi >= 4)
		return offsetof(struct sw_ruleset_attr, scoped);
	return offsetof(struct sw_ruleset_attr, handled_access_net);
}

int sw_sandbox_landlock_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	/* ENOSYS: not built in; EOPNOTSUPP: built in but not enabled (lsm=). */
	return v > 0 ? (int)v : 0;
}

static int g_exec_fd = -1;

/* The main program's PT_INTERP (the first object dl_iterate_phdr reports). */
static int find_interp(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (size_t i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP)
			*(const char **)data = (const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	return 1;
}

void sw_sandbox_allow_exec(int fd)
{
	g_exec_fd = fd;
}

/* Reading stays allowed everywhere (keys, lists, image stores, bundles live
 * where the configuration says): the read rights are simply not handled, which
 * spares a rule on "/". Every other right the ABI knows is handled, and granted
 * only beneath `writable`. A directory that does not exist gets no rule, so
 * nothing can be written there either. */
static int landlock_confine(int abi, const char *const *writable, size_t n, sw_error *err)
{
	const uint64_t handled = fs_rights(abi) & ~(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
	/* What deciding does to its state and log: create, write, truncate, replace
	 * by rename (remove + make), directories for the state. Not: symlinks,
	 * devices, FIFOs, sockets, execute, device ioctls. */
	const uint64_t write = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_MAKE_REG |
			       LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
			       LANDLOCK_ACCESS_FS_REFER;
	struct sw_ruleset_attr attr = { .handled_access_fs = handled };
	if (abi >= 4) /* no TCP bind or connect at all (the decide profile has no inet sockets either) */
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (abi >= 6) /* no abstract unix sockets or signals outside the sandbox */
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
	_cleanup_close_ int rfd = (int)syscall(__NR_landlock_create_ruleset, &attr, ruleset_attr_size(abi), 0);
	if (rfd < 0)
		return sw_err_errno(err, errno, "sandbox: cannot create the Landlock ruleset (ABI %d)", abi);

	/* The one file sigward-hook may execute (sigward-hook-verify), by the
	 * descriptor sw_sandbox_allow_exec was given: a rule on a file grants only
	 * file rights, here execute. Everything else stays unexecutable. */
	if (g_exec_fd >= 0) {
		struct landlock_path_beneath_attr pb = { .allowed_access = LANDLOCK_ACCESS_FS_EXECUTE,
							 .parent_fd = g_exec_fd };
		if (syscall(__NR_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
			return sw_err_errno(err, errno, "sandbox: cannot add the Landlock rule for the verifier");
		/* A dynamically linked build (the sanitizers') also opens its ELF
		 * interpreter for execution: this process's, as both are built
		 * alike. A static build has none. */
		const char *interp = NULL;
		dl_iterate_phdr(find_interp, &interp);
		if (interp) {
			_cleanup_close_ int ifd = open(interp, O_PATH | O_CLOEXEC);
			pb.parent_fd = ifd;
			if (ifd < 0 || syscall(__NR_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
				return sw_err_errno(err, errno, "sandbox: %s: cannot add the Landlock rule", interp);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *path = writable[i];
		if (!path || !*path)
			continue;
		_cleanup_close_ int pfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return sw_err_errno(err, errno, "sandbox: %s: cannot open for the Landlock ruleset", path);
		}
		struct landlock_path_beneath_attr pb = { .allowed_access = write & handled, .parent_fd = pfd };
		if (syscall(__NR_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
			return sw_err_errno(err, errno, "sandbox: %s: cannot add the Landlock rule", path);
	}
	if (syscall(__NR_landlock_restrict_self, rfd, 0) < 0)
		return sw_err_errno(err, errno, "sandbox: cannot enforce the Landlock ruleset");
	return 0;
}

int sw_sandbox_confine_dirs(const char *const *writable, size_t n, bool syslog, sw_error *err)
{
	/* connected by sw_sandbox_enter, not wanted */
	if (!syslog)
		sw_syslog_close();
	int abi = sw_sandbox_landlock_abi();
	if (abi > 0) {
		int r = landlock_confine(abi, writable, n, err);
		if (r < 0)
			return r;
	}
	return abi;
}

int sw_sandbox_confine(const struct sw_config *c, sw_error *err)
{
	/* The log's directory, not the log: appending creates the file when it is
	 * missing (after a rotation), and the lock file may sit beside it. */
	char logdir[4096] = "";
	if (c->log_file && c->log_file[0]) {
		const char *slash = strrchr(c->log_file, '/');
		if (!slash)
			snprintf(logdir, sizeof logdir, ".");
		else if (slash == c->log_file)
			snprintf(logdir, sizeof logdir, "/");
		else if ((size_t)snprintf(logdir, sizeof logdir, "%.*s", (int)(slash - c->log_file), c->log_file) >=
			 sizeof logdir)
			return sw_err(err, SW_EINVAL, "sandbox: %s: path too long", c->log_file);
	}
	const char *writable[] = { c->state_dir, logdir };
	return sw_sandbox_confine_dirs(writable, SW_ARRAY_SIZE(writable), c->syslog, err);
}

int sw_sandbox_run(sw_sandbox_profile p, int (*fn)(void *arg, int out_fd), void *arg,
		   char *out, size_t out_len, unsigned timeout_ms, sw_error *err)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(timeout_ms / 1000);
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return sw_err_errno(err, errno, "sandbox: pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return sw_err_errno(err, e, "sandbox: fork");
	}
	if (pid == 0) {
		close(fds[0]);
		sw_error ce = { 0 };
		if (sw_sandbox_enter(p, &ce) < 0) {
			(void)!write(fds[1], ce.msg, strlen(ce.msg));
			_exit(125);
		}
		_exit(fn(arg, fds[1]) & 0xff);
	}
	close(fds[1]);
	size_t got = 0;
	bool timed_out = false;
	for (;;) {
		/* The child's output ends when it exits (it cannot fork: no clone in
		 * its allow-list). A child that has not finished by the deadline is
		 * killed: whatever holds it up, the caller gets an answer in time. */
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int left = ms_left(&deadline);
		int pr = left > 0 ? poll(&pfd, 1, left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (pr < 0)
			break;
		char tmp[512];
		ssize_t n = read(fds[0], tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t take = (size_t)n;
		if (out && got + take > out_len - 1)
			take = out_len - 1 - got;
		if (out && take) {
			memcpy(out + got, tmp, take);
			got += take;
		}
	}
	if (out && out_len)
		out[got] = '\0';
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return sw_err_errno(err, errno, "sandbox: waitpid");
	}
	if (timed_out) {
		if (timeout_ms % 1000 == 0)
			return sw_err(err, ETIMEDOUT, "the decision did not finish within %u s (killed)", timeout_ms / 1000);
		return sw_err(err, ETIMEDOUT, "the decision did not finish within %u ms (killed)", timeout_ms);
	}
	if (WIFSIGNALED(st))
		return sw_err(err, SW_EINVAL, "sandboxed decision killed by signal %d%s", WTERMSIG(st),
			      WTERMSIG(st) == SIGSYS ? " (a system call outside the seccomp allow-list)" : "");
	return WEXITSTATUS(st);
}
