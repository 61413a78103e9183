/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawnbench: time whole commands that read a file on stdin, like `hyperfine -N`
 * (Debian's hyperfine 1.15 cannot feed stdin without a shell, which would dominate
 * the figures). Runs are interleaved (A B C A B C ...), so machine noise hits every
 * command alike, and results are reported as ratios to the first command.
 *
 * The last two columns are the children's CPU time (user + system, from
 * wait4): on a loaded machine, where wall time mostly measures the wait for
 * a CPU, it still says what a start costs (the exec and page faults count,
 * the time spent runnable does not).
 *
 * usage: spawnbench RUNS STDIN_FILE -- NAME CMD [ARGS...] [-- NAME CMD [ARGS...]]...
 * Exit status 1 when any run of any command exits non-zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CMDS 32

typedef struct {
	const char *name;
	char **argv;
	double *t;
	double *cpu;
} cmd;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int run_once(cmd *c, const char *input, double *ms, double *cpu_ms)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, input, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	double t0 = now_ms();
	int r = posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		fprintf(stderr, "spawnbench: %s: %s\n", c->argv[0], strerror(r));
		return -1;
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	*ms = now_ms() - t0;
	*cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "spawnbench: %s exited with status %d\n", c->name, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: spawnbench RUNS STDIN_FILE -- NAME CMD [ARGS...] [-- NAME CMD...]...\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	const char *input = argv[2];
	cmd cmds[MAX_CMDS];
	int n = 0;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			if (n == MAX_CMDS || i + 2 >= argc)
				return 2;
			argv[i] = NULL; /* terminates the previous command's argv */
			cmds[n].name = argv[i + 1];
			cmds[n].argv = &argv[i + 2];
			cmds[n].t = calloc((size_t)runs, sizeof(double));
			cmds[n].cpu = calloc((size_t)runs, sizeof(double));
			n++;
			i++;
		}
	}
	/* Warm-up: page cache, the hook's verification cache. */
	for (int w = 0; w < 10; w++)
		for (int c = 0; c < n; c++) {
			double ms, cpu;
			if (run_once(&cmds[c], input, &ms, &cpu) < 0)
				return 1;
		}
	for (int r = 0; r < runs; r++)
		for (int c = 0; c < n; c++)
			if (run_once(&cmds[c], input, &cmds[c].t[r], &cmds[c].cpu[r]) < 0)
				return 1;
	double base_mean = 0, base_median = 0, base_cpu = 0;
	printf("%-14s %10s %10s %10s %12s %14s %10s %10s\n", "command", "mean ms", "sd ms", "median ms", "ratio(mean)",
	       "ratio(median)", "cpu ms", "ratio(cpu)");
	for (int c = 0; c < n; c++) {
		double sum = 0, sq = 0;
		for (int r = 0; r < runs; r++)
			sum += cmds[c].t[r];
		double mean = sum / runs;
		for (int r = 0; r < runs; r++)
			sq += (cmds[c].t[r] - mean) * (cmds[c].t[r] - mean);
		qsort(cmds[c].t, (size_t)runs, sizeof(double), cmp_double);
		double median = cmds[c].t[runs / 2];
		qsort(cmds[c].cpu, (size_t)runs, sizeof(double), cmp_double);
		double cpu = cmds[c].cpu[runs / 2]; /* median */
		if (c == 0) {
			base_mean = mean;
			base_median = median;
			base_cpu = cpu;
		}
		printf("%-14s %10.3f %10.3f %10.3f %12.2f %14.2f %10.3f %10.2f\n", cmds[c].name, mean, sqrt(sq / runs), median,
		       mean / base_mean, median / base_median, cpu, cpu / base_cpu);
	}
	return 0;
}
