/* SPDX-License-Identifier: Apache-2.0 */
/* sigward log ...: the decision log. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "declog.h"
#include "util.h"

static int verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *state_dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': state_dir = optarg; break;
		case 'h':
			puts("usage: sigward log verify [--config FILE] [--state-dir DIR] [FILE]\n"
			     "Checks the decision log's hash chain and, with the state directory,\n"
			     "that its last record is the one the hook last wrote. Exit 0 intact,\n"
			     "1 broken (the first broken line is named), 2 error.");
			return 0;
		default:
			return cli_usage_error("log verify", "bad option");
		}
	}
	sw_error e = { 0 };
	sw_config cfg = { 0 };
	if (sw_config_load(&cfg, config, &e) < 0) {
		sw_config_free(&cfg);
		return cli_fail(&e);
	}
	const char *file = optind < argc ? argv[optind] : cfg.log_file;
	if (!state_dir && optind >= argc)
		state_dir = cfg.state_dir;

	char head[SW_SHA256_HEX + 1] = "";
	if (state_dir) {
		char path[4200];
		snprintf(path, sizeof path, "%s/%s", state_dir, SW_LOG_HEAD_NAME);
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (sw_read_file(path, 4096, &text, &len, &e) < 0) {
			sw_config_free(&cfg);
			return cli_fail(&e);
		}
		if (len < SW_SHA256_HEX || !sw_is_hex64(text, SW_SHA256_HEX)) {
			fprintf(stderr, "sigward: %s: not a log head record\n", path);
			sw_config_free(&cfg);
			return EXIT_USAGE;
		}
		memcpy(head, text, SW_SHA256_HEX);
		head[SW_SHA256_HEX] = '\0';
	}
	size_t n = 0;
	char last[SW_SHA256_HEX + 1];
	int r = sw_declog_verify(file, NULL, head[0] ? head : NULL, &n, last, &e);
	if (r < 0) {
		fprintf(stderr, "sigward: %s\n", e.msg);
		sw_config_free(&cfg);
		return e.code == SW_EVERIFY ? 1 : EXIT_USAGE;
	}
	printf("%s: %zu records, chain intact%s\n", file, n, head[0] ? ", head matches" : "");
	sw_config_free(&cfg);
	return 0;
}

int cmd_log(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return verify(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		puts("usage: sigward log verify [FILE]");
		return 0;
	}
	return cli_usage_error("log", "unknown or missing subcommand");
}
