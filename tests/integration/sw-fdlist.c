/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sw-fdlist: print the file descriptors this process was started with, one
 * "FD TARGET" line each, to $SW_FDLIST_OUT (or stdout). resources.sh uses it as
 * the "real runtime" behind sigward-runc, to see what the wrapper hands on
 * through execve. Arguments are ignored (it is called with runc's).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static char lines[256][PATH_MAX + 300];
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 2;
	int own = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d)) && n < 256) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == own)
			continue;
		char p[300], t[PATH_MAX];
		snprintf(p, sizeof p, "/proc/self/fd/%s", de->d_name);
		ssize_t l = readlink(p, t, sizeof t - 1);
		t[l > 0 ? l : 0] = '\0';
		snprintf(lines[n++], sizeof lines[0], "%s %s", de->d_name, t);
	}
	closedir(d);
	const char *out = getenv("SW_FDLIST_OUT");
	FILE *f = out ? fopen(out, "w") : stdout;
	if (!f)
		return 3;
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	return fclose(f) == 0 ? 0 : 4;
}
