/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslogsock: the decision's syslog line, sent on a socket of sigward's own.
 *
 * The socket to /dev/log is connected before the seccomp filter forbids
 * connect(2) (sw_sandbox_enter) and is then the only way out of the decision
 * sandbox besides its files. It is sigward's own rather than glibc's openlog():
 * sigward-hook hands a start that needs a signature checked to
 * sigward-hook-verify by execve inside its sandbox (hook/sigward-hook.c), and
 * the connected socket goes along by descriptor number (sw_syslog_adopt), where
 * glibc would only reconnect, which the sandbox refuses.
 *
 * Lines are "<PRI>sigward[PID]: MESSAGE", facility authpriv; the receiver
 * (journald, rsyslog) stamps the time, as it does for a line without one. A
 * line that cannot be sent is dropped: syslog never decides anything.
 */
#ifndef SW_SYSLOGSOCK_H
#define SW_SYSLOGSOCK_H

#include <stdbool.h>

#define SW_SYSLOG_PATH "/dev/log"

/* Connect to path (SW_SYSLOG_PATH) unless connected already. Quiet: the
 * descriptor, or -1 when there is no such socket. */
int sw_syslog_open(const char *path);
/* The connected descriptor, -1 when none. */
int sw_syslog_fd(void);
/* Take fd (a connected datagram socket inherited across execve) as the socket;
 * false when fd is not a socket. */
bool sw_syslog_adopt(int fd);
void sw_syslog_close(void);
/* level: LOG_INFO, LOG_WARNING, ... (syslog.h); msg: one line. */
void sw_syslog_send(int level, const char *msg);

#endif
