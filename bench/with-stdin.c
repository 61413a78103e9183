/* SPDX-License-Identifier: Apache-2.0 */
/* with-stdin FILE CMD [ARG...]: run CMD with FILE as standard input. For
 * hyperfine -N (no shell), which gives commands /dev/null as stdin: the hook
 * reads the OCI state from stdin. Static, so it adds one cheap exec to every
 * command it runs, the baseline included. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fputs("usage: with-stdin FILE CMD [ARG...]\n", stderr);
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0) {
		perror(argv[1]);
		return 2;
	}
	execv(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
