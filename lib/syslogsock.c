/* SPDX-License-Identifier: Apache-2.0 */
#include "syslogsock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

static int g_fd = -1;

int sw_syslog_open(const char *path)
{
	if (g_fd >= 0)
		return g_fd;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path)
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	g_fd = fd;
	return fd;
}

int sw_syslog_fd(void)
{
	return g_fd;
}

bool sw_syslog_adopt(int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	sw_syslog_close();
	g_fd = fd;
	return true;
}

void sw_syslog_close(void)
{
	if (g_fd >= 0)
		close(g_fd);
	g_fd = -1;
}

void sw_syslog_send(int level, const char *msg)
{
	if (g_fd < 0 && sw_syslog_open(SW_SYSLOG_PATH) < 0)
		return;
	char line[2048];
	int n = snprintf(line, sizeof line, "<%d>sigward[%ld]: %s", LOG_AUTHPRIV | (level & LOG_PRIMASK),
			 (long)getpid(), msg);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	/* One datagram; a receiver that is gone (restarted) loses this line. */
	while (send(g_fd, line, len, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}
