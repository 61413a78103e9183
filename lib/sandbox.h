/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox: shrink what a compromised decision could do.
 *
 * sw_sandbox_enter, called once the process knows it will only read files, write
 * its log and state, and exit:
 *   1. drops every capability from the effective, permitted, inheritable and
 *      ambient sets and the bounding set (the hook needs none: the files it reads
 *      and writes are root's own);
 *   2. sets no_new_privs;
 *   3. DECIDE: connects the syslog socket (openlog with LOG_NDELAY), the one
 *      connection deciding makes;
 *   4. installs a seccomp allow-list (libseccomp): file I/O on descriptors and
 *      directory fds, memory management, time, exit. Anything else (execve,
 *      ptrace, mount, inet sockets, ...) kills the process with SIGSYS, which the
 *      runtime reports as a failed hook: fail closed. DECIDE: a new AF_UNIX
 *      socket, connect, sendmsg and sendto with an address fail with EPERM, so
 *      nothing but the syslog socket of step 3 is reachable (Landlock does not
 *      cover connecting to a socket by path). FETCH (sigwardd) also opens and
 *      connects inet and unix sockets.
 * Seccomp filters survive execve, so a process that must exec something afterwards
 * (sigward-runc) decides in a sandboxed child instead (sw_sandbox_run).
 *
 * The process is still uid 0, and root owns most of the system: without
 * capabilities it can still append to a root-owned 0644 file or create a file in
 * a root-owned 0755 directory (/etc/cron.d). sw_sandbox_confine, called once the
 * configuration is known (the hook right after sw_config_load, before it parses
 * the runtime's state; sigward-runc's deciding child first thing), takes that
 * away with Landlock when the kernel has it (the ABI is asked, every right it
 * knows but reading is handled): reading everywhere, writing (write, truncate, create,
 * remove, rename, mkdir) only beneath state_dir and the decision log's
 * directory; from ABI 4 no TCP bind/connect, from ABI 6 no abstract unix
 * sockets and no signals outside the sandbox. It also closes the syslog socket
 * when the configuration says syslog = no. Without Landlock (older kernel, LSM
 * not enabled) everything above but the write confinement holds and
 * sw_sandbox_confine returns 0; docs/security.md says what that leaves open,
 * and why there is no uid switch.
 *
 * Failure: negative return with err set; callers deny.
 */
#ifndef SW_SANDBOX_H
#define SW_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct sw_config;

typedef enum {
	SW_SANDBOX_DECIDE,    /* the hook and the wrapper's deciding child */
	SW_SANDBOX_FETCH,     /* sigwardd's fetch-and-verify: also inet sockets */
	SW_SANDBOX_HANDOFF,   /* sigward-hook (no libcrypto): DECIDE, plus what handing a
	                       * start to sigward-hook-verify takes: execveat(2) of a
	                       * descriptor (AT_EMPTY_PATH only; execve still kills), and
	                       * for the verifier's own sw_sandbox_enter, which stacks the
	                       * DECIDE filter: capset, seccomp, and prctl for the
	                       * securebits, ambient set and no_new_privs only */
} sw_sandbox_profile;

/* The first step of sw_sandbox_enter, apart for its test: empty every capability
 * set and lock the securebits so that no execve as uid 0 hands any back. */
int sw_sandbox_drop_caps(sw_error *err);

int sw_sandbox_enter(sw_sandbox_profile p, sw_error *err);

struct sock_fprog;
/* The BPF program sw_sandbox_enter loads for p: compiled at build time from
 * lib/sandbox-rules.h (lib/sandbox-gen.c). Static storage; for the test that
 * compares it with libseccomp's. */
void sw_sandbox_filter(sw_sandbox_profile p, struct sock_fprog *prog);

/* The confinement above, after sw_sandbox_enter(SW_SANDBOX_DECIDE): writable =
 * the config's state_dir and the directory of its log_file; syslog = its syslog.
 * Returns the Landlock ABI applied (0: none on this kernel), or negative. */
int sw_sandbox_confine(const struct sw_config *c, sw_error *err);

/* The same with the writable directories given (missing or NULL ones get no
 * rule). */
int sw_sandbox_confine_dirs(const char *const *writable, size_t n, bool syslog, sw_error *err);

/* For sigward-hook: the next confinement also allows executing the file open
 * on fd (sigward-hook-verify; O_PATH is enough), and nothing else. */
void sw_sandbox_allow_exec(int fd);

/* The kernel's Landlock ABI version, 0 when it has none (or it is disabled). */
int sw_sandbox_landlock_abi(void);

/* Run fn(arg) in a child that enters the sandbox first; the child's return value
 * (0..255) is its exit status, and up to out_len bytes it writes to `out` (a buffer
 * shared through a pipe) come back. A child still running after timeout_ms is
 * killed (SIGKILL) and the call fails with ETIMEDOUT, "the decision did not finish
 * within N s (killed)". Returns the child's exit status, or a negative value when
 * it died (e.g. SIGSYS), timed out or could not be started. */
int sw_sandbox_run(sw_sandbox_profile p, int (*fn)(void *arg, int out_fd), void *arg,
		   char *out, size_t out_len, unsigned timeout_ms, sw_error *err);

#endif
