/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp rules of the sandbox's profiles (lib/sandbox.c), as libseccomp
 * rules. They are compiled to BPF once, at build time, by lib/sandbox-gen.c
 * (sandbox-filter.h, which sw_sandbox_enter loads as it is): compiling them on
 * every start cost about a quarter of the hook's instructions (bench/PROFILE.md).
 * tests/unit/test_sandbox.c compiles them again with the libseccomp of the
 * build and checks the program is the one the hook loads, byte for byte.
 *
 * Included by the generator and the test only, never by the start path.
 */
#ifndef SW_SANDBOX_RULES_H
#define SW_SANDBOX_RULES_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/prctl.h>
#if defined(__x86_64__) || defined(__i386__)
#include <asm/prctl.h> /* ARCH_SET_FS */
#endif
#include <sys/socket.h>

#include <seccomp.h>

#include "sandbox.h"

/* What deciding needs: reading and writing through descriptors, directory walks,
 * atomic replacement of state files, flock, memory, time, sending on the syslog
 * socket and exiting. Found with strace on the allow, deny and first-verification
 * paths. */
static const int decide_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(statx), SCMP_SYS(fcntl), SCMP_SYS(getdents64), SCMP_SYS(flock),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(rename), SCMP_SYS(unlinkat), SCMP_SYS(unlink), SCMP_SYS(fchmod), SCMP_SYS(mkdirat), SCMP_SYS(mkdir),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getcwd), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(pipe2),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getrandom),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
	SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(prlimit64), SCMP_SYS(ioctl),
	/* The pause before re-reading a store its owner was committing to
	 * (lib/ctrmeta.c, lib/storage.c). */
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	/* sw_sandbox_confine, once the configuration is known: a Landlock ruleset
	 * (it can only take rights away). */
	SCMP_SYS(landlock_create_ruleset), SCMP_SYS(landlock_add_rule), SCMP_SYS(landlock_restrict_self),
	/* socket, connect, sendto, sendmsg: per profile, below */
};

static const int fetch_extra[] = {
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(bind),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(shutdown),
	SCMP_SYS(socketpair), SCMP_SYS(eventfd2), SCMP_SYS(connect), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime), SCMP_SYS(wait4),
	/* Installing a generation (lib/install.c): the `current` symlink, and the
	 * removal of staging and pruned generation directories. */
	SCMP_SYS(symlinkat), SCMP_SYS(symlink), SCMP_SYS(rmdir),
};

static inline int sw_sandbox_add_allow(scmp_filter_ctx ctx, const int *list, size_t n, const char **what)
{
	for (size_t i = 0; i < n; i++) {
		/* __NR_SCMP_ERROR: a name this architecture lacks (e.g. open on arm64). */
		if (list[i] < 0)
			continue;
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list[i], 0);
		if (r < 0) {
			*what = "a syscall rule";
			return r;
		}
	}
	return 0;
}

/* A filter for profile p, default action: kill the process. NULL with *what
 * and errno set on failure. */
static inline scmp_filter_ctx sw_sandbox_rules(sw_sandbox_profile p, const char **what)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		*what = "seccomp_init";
		errno = ENOMEM;
		return NULL;
	}
	/* A binary tree over the syscall numbers instead of libseccomp's default
	 * linear chain: the same rules, fewer instructions per syscall, and the
	 * kernel's attach (which runs the program for every syscall number to
	 * build its allow cache) takes ~230 us instead of ~300 us of CPU here,
	 * against ~180 us for a one-instruction program (bench/PROFILE.md). */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0) {
		*what = "the binary tree attribute";
		seccomp_release(ctx);
		errno = -r;
		return NULL;
	}
	r = sw_sandbox_add_allow(ctx, decide_syscalls, sizeof decide_syscalls / sizeof decide_syscalls[0], what);
	if (r >= 0) {
		*what = "a socket rule";
		if (p == SW_SANDBOX_FETCH) {
			/* AF_UNIX and inet sockets, connected anywhere (curl, syslog) */
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
			if (r >= 0)
				r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET));
			if (r >= 0)
				r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET6));
		} else {
			/* Deciding: no new socket, no connect, no datagram to an address of
			 * its choosing through a socket it holds; sending on the syslog
			 * socket sw_sandbox_enter connected stays. Without this, uid 0
			 * could connect to any root-owned socket (containerd.sock). EPERM,
			 * not a kill, for what glibc's syslog() does by itself when its
			 * socket broke (reconnect): a lost syslog line must not kill a
			 * decision. Other families still kill (the default). */
			const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
			r = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
			if (r >= 0)
				r = seccomp_rule_add(ctx, eperm, SCMP_SYS(connect), 0);
			if (r >= 0)
				r = seccomp_rule_add(ctx, eperm, SCMP_SYS(sendmsg), 0);
			if (r >= 0)
				r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1, SCMP_A4(SCMP_CMP_EQ, 0));
			if (r >= 0)
				r = seccomp_rule_add(ctx, eperm, SCMP_SYS(sendto), 1, SCMP_A4(SCMP_CMP_NE, 0));
		}
	}
	if (r >= 0 && p == SW_SANDBOX_FETCH)
		r = sw_sandbox_add_allow(ctx, fetch_extra, sizeof fetch_extra / sizeof fetch_extra[0], what);
	if (r >= 0 && p == SW_SANDBOX_HANDOFF) {
		/* sigward-hook's execveat of sigward-hook-verify: by descriptor only
		 * (Landlock then allows executing that one file, lib/sandbox.c); a
		 * path execve(2) still kills. The verifier inherits this filter, no
		 * capabilities, no_new_privs, the locked securebits and the Landlock
		 * domain, and stacks the DECIDE filter (no exec at all) over it. */
		*what = "the handoff rules";
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execveat), 1, SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH));
		if (r >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0);
		if (r >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(capset), 0);
		/* glibc's start-up of the static verifier, before its main. */
		static const int startup[] = { SCMP_SYS(set_tid_address), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
					       SCMP_SYS(alarm) /* the rest of the timeout, main() */ };
		for (size_t i = 0; r >= 0 && i < sizeof startup / sizeof startup[0]; i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, startup[i], 0);
#ifdef ARCH_SET_FS
		if (r >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(arch_prctl), 1,
					     SCMP_A0(SCMP_CMP_EQ, ARCH_SET_FS));
#endif
		static const int prctl_ok[] = { PR_SET_SECUREBITS, PR_CAP_AMBIENT, PR_SET_NO_NEW_PRIVS };
		for (size_t i = 0; r >= 0 && i < sizeof prctl_ok / sizeof prctl_ok[0]; i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctl_ok[i]));
	}
	if (r < 0) {
		seccomp_release(ctx);
		errno = -r;
		return NULL;
	}
	return ctx;
}

#endif
