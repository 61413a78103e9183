/* SPDX-License-Identifier: Apache-2.0 */
/* sigward allowlist ...: producers build and sign, operators inspect and install. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "allowlist.h"
#include "cli.h"
#include "util.h"

#define INPUT_MAX ((size_t)1 << 31)

static int parse_time_arg(const char *s, int64_t now, int64_t *out)
{
	if (sw_parse_rfc3339(s, strlen(s), out) == 0)
		return 0;
	int64_t d;
	if (sw_parse_duration(s, &d) == 0) {
		*out = now + d;
		return 0;
	}
	return -1;
}

static int build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "serial", required_argument, NULL, 'n' },
		{ "expires", required_argument, NULL, 'e' },
		{ "issued", required_argument, NULL, 'i' },
		{ "bins", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	sw_build_opts o = { 0 };
	const char *out = NULL, *expires = NULL, *issued = NULL;
	bool have_serial = false;
	int64_t now = sw_now();
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.scope = optarg; break;
		case 'n':
			if (sw_parse_u64(optarg, strlen(optarg), &o.serial) < 0)
				return cli_usage_error("allowlist build", "--serial takes an unsigned 64-bit number");
			have_serial = true;
			break;
		case 'e': expires = optarg; break;
		case 'i': issued = optarg; break;
		case 'b': {
			uint64_t b;
			if (sw_parse_u64(optarg, strlen(optarg), &b) < 0 || b == 0 || b > SW_MAX_BINS || (b & (b - 1)))
				return cli_usage_error("allowlist build", "--bins takes a power of two from 1 to %d", SW_MAX_BINS);
			o.bins = (uint32_t)b;
			break;
		}
		case 'o': out = optarg; break;
		case 'h':
			puts("usage: sigward allowlist build --scope SCOPE --serial N --expires TIME|DURATION\n"
			     "                               [--issued TIME] [--bins N] --out DIR [INPUT...]\n"
			     "Writes DIR/manifest and DIR/entries from lines 'sha256:<hex>' or\n"
			     "'<reference>@sha256:<hex>' (INPUT files, or stdin when none or '-').\n"
			     "TIME is RFC 3339 UTC (2027-01-31T00:00:00Z); DURATION is 90s, 15m, 12h, 30d or 2w from now.\n"
			     "Sign the result with 'sigward allowlist sign' or the openssl CLI (see sigward(1)).");
			return 0;
		default:
			return cli_usage_error("allowlist build", "bad option");
		}
	}
	if (!o.scope || !have_serial || !expires || !out)
		return cli_usage_error("allowlist build", "--scope, --serial, --expires and --out are required");
	o.issued = now;
	if (issued && sw_parse_rfc3339(issued, strlen(issued), &o.issued) < 0)
		return cli_usage_error("allowlist build", "--issued: '%s' is not an RFC 3339 UTC time", issued);
	if (parse_time_arg(expires, o.issued, &o.expires) < 0)
		return cli_usage_error("allowlist build", "--expires: '%s' is neither an RFC 3339 UTC time nor a duration", expires);

	sw_error e = { 0 };
	sw_build_entry *entries = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	if (optind >= argc) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		r = sw_read_fd(STDIN_FILENO, INPUT_MAX, "stdin", &text, &len, &e);
		if (r >= 0)
			r = sw_build_parse_input(text, len, "stdin", &entries, &n, &cap, &e);
	}
	for (int i = optind; i < argc && r >= 0; i++) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		const char *name = strcmp(argv[i], "-") == 0 ? "stdin" : argv[i];
		r = strcmp(argv[i], "-") == 0 ? sw_read_fd(STDIN_FILENO, INPUT_MAX, name, &text, &len, &e)
					      : sw_read_file(argv[i], INPUT_MAX, &text, &len, &e);
		if (r >= 0)
			r = sw_build_parse_input(text, len, name, &entries, &n, &cap, &e);
	}
	if (r >= 0)
		r = sw_build_write(entries, n, &o, out, &e);
	sw_build_entries_free(entries, n);
	if (r < 0)
		return cli_fail(&e);
	if (o.expires <= now)
		fprintf(stderr, "sigward: warning: this list has already expired; nodes will refuse it\n");
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: sigward allowlist SUBCOMMAND [OPTIONS]\n"
	      "  build    write an unsigned list (manifest + entries) from digests\n", f);
}

int cmd_allowlist(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "build") == 0)
		return build(argc - 1, argv + 1);
	if (strcmp(argv[1], "push") == 0)
		return cmd_allowlist_push(argc - 1, argv + 1);
	return cli_usage_error("allowlist", "unknown subcommand '%s'", argv[1]);
}
