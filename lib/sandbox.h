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
 *   3. installs a seccomp allow-list (libseccomp): file I/O on descriptors and
 *      directory fds, memory management, time, the syslog socket, exit. Anything
 *      else (execve, ptrace, mount, network sockets other than AF_UNIX, ...) kills
 *      the process with SIGSYS, which the runtime reports as a failed hook: fail
 *      closed.
 * Seccomp filters survive execve, so a process that must exec something afterwards
 * (sigward-runc) decides in a sandboxed child instead (sw_sandbox_run).
 *
 * Failure: negative return with err set; callers deny.
 */
#ifndef SW_SANDBOX_H
#define SW_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef enum {
	SW_SANDBOX_DECIDE,    /* the hook and the wrapper's deciding child */
	SW_SANDBOX_FETCH,     /* sigwardd's fetch-and-verify: also inet sockets */
} sw_sandbox_profile;

int sw_sandbox_enter(sw_sandbox_profile p, sw_error *err);

/* Run fn(arg) in a child that enters the sandbox first; the child's return value
 * (0..255) is its exit status, and up to out_len bytes it writes to `out` (a buffer
 * shared through a pipe) come back. Returns the child's exit status, or a negative
 * value when it died (e.g. SIGSYS) or could not be started. */
int sw_sandbox_run(sw_sandbox_profile p, int (*fn)(void *arg, int out_fd), void *arg,
		   char *out, size_t out_len, sw_error *err);

#endif
