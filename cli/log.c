/* SPDX-License-Identifier: Apache-2.0 */
/* sigward log ...: the decision log. */
#include <getopt.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "declog.h"
#include "util.h"

static int verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "partial", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *state_dir = NULL;
	bool partial = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': state_dir = optarg; break;
		case 'p': partial = true; break;
		case 'h':
			puts("usage: sigward log verify [--config FILE] [--state-dir DIR] [--partial] [FILE...]\n"
			     "Checks the decision log's hash chain and, with the state directory,\n"
			     "that its last record is the one the hook last wrote. Without FILE, the\n"
			     "configured log and its rotations (FILE.N, FILE.N.gz) are followed, oldest\n"
			     "first, across files. FILEs are given oldest first; --partial accepts a\n"
			     "first file whose predecessors were rotated away. Exit 0 intact,\n"
			     "1 broken (the first broken line is named), 2 error.");
			return 0;
		default:
			return cli_usage_error("log verify", "bad option");
		}
	}
	sw_error e = { 0 };
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	if (sw_config_load(&cfg, config, &e) < 0)
		return cli_fail(&e);
	/* The files, oldest first: those given, or the configured log and its
	 * rotated predecessors (FILE.N and FILE.N.gz, the higher N the older). */
	_cleanup_(sw_declog_set_free) sw_declog_set set = { 0 };
	bool rotated = false;
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			size_t fl = strlen(argv[i]);
			sw_declog_file *nf = realloc(set.files, (set.n + 1) * sizeof *nf);
			if (!nf)
				abort();
			set.files = nf;
			set.files[set.n++] = (sw_declog_file){ .path = strdup(argv[i]),
							       .gz = fl > 3 && strcmp(argv[i] + fl - 3, ".gz") == 0 };
		}
	} else if (cfg.log_file) {
		if (sw_declog_set_find(cfg.log_file, &set, &e) < 0)
			return cli_fail(&e);
		rotated = set.n > 1;
		if (!state_dir)
			state_dir = cfg.state_dir;
	}
	if (set.n == 0)
		return cli_usage_error("log verify", "no log file configured or given");
	size_t nf = set.n;

	char head[SW_SHA256_HEX + 1] = "";
	int rc = 0;
	if (state_dir) {
		char path[4200];
		snprintf(path, sizeof path, "%s/%s", state_dir, SW_LOG_HEAD_NAME);
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (sw_read_file(path, 4096, &text, &len, &e) < 0)
			return cli_fail(&e);
		if (len < SW_SHA256_HEX || !sw_is_hex64(text, SW_SHA256_HEX)) {
			fprintf(stderr, "sigward: %s: not a log head record\n", path);
			return EXIT_USAGE;
		}
		memcpy(head, text, SW_SHA256_HEX);
		head[SW_SHA256_HEX] = '\0';
	}
	/* The oldest file may start after records that were rotated away; with a
	 * single file, or files given one by one, the chain must start at zero. */
	char prev[SW_SHA256_HEX + 2];
	snprintf(prev, sizeof prev, "%s", rotated || partial ? SW_DECLOG_ANY_START : "");
	size_t total = 0;
	for (size_t i = 0; i < set.n_missing; i++) {
		/* A hole in the rotated set: the chain across it cannot be checked. */
		fprintf(stderr, "sigward: %s: missing from the rotated set (deleted?)\n", set.missing[i]);
		rc = 1;
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < nf; i++) {
		const char *f = set.files[i].path;
		size_t n = 0;
		char last[SW_SHA256_HEX + 1];
		bool newest = i + 1 == nf;
		int r = sw_declog_verify_file(&set.files[i], prev[0] ? prev : NULL, newest && head[0] ? head : NULL, &n, last, &e);
		if (r < 0) {
			fprintf(stderr, "sigward: %s\n", e.msg);
			return e.code == SW_EVERIFY ? 1 : EXIT_USAGE;
		}
		total += n;
		snprintf(prev, sizeof prev, "%s", last);
		if (nf > 1)
			printf("%s: %zu records, chained\n", f, n);
	}
	printf("%s: %zu records in %zu file%s, chain intact%s\n", set.files[nf - 1].path, total, nf, nf == 1 ? "" : "s",
	       head[0] ? ", head matches" : "");
	return rc;
}

int cmd_log(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return cmd_log_show(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		puts("usage: sigward log SUBCOMMAND [OPTIONS]\n"
		     "  verify   check the hash chain (and the head record); names the first broken line\n"
		     "  show     print decisions, optionally only denials or only since a time\n"
		     "Run 'sigward log SUBCOMMAND --help' for its options.");
		return 0;
	}
	return cli_usage_error("log", "unknown or missing subcommand");
}
