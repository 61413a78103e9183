/* SPDX-License-Identifier: Apache-2.0 */
/* sigward: sign, inspect, explain and audit allowlists and decisions. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "allowlist", cmd_allowlist, "build, sign, verify, show, diff and install allowlists" },
	{ "check", cmd_check, "explain the decision the hook would take" },
	{ "log", cmd_log, "verify and read the decision log" },
	{ "audit", cmd_audit, "collect the evidence an auditor asks for" },
	{ "status", cmd_status, "is this node enforcing, with which keys, list and wiring" },
	{ "selftest", cmd_selftest, "canary refusals through every wired runtime and a heartbeat in the log" },
	{ "keygen", cmd_keygen, "generate a signing key pair" },
	{ "verify-bundle", cmd_verify_bundle, "verify a Sigstore bundle offline (conformance protocol)" },
	{ "image", cmd_image, "find and verify an image's cosign signatures offline" },
};

static void usage(FILE *f)
{
	fputs("usage: sigward COMMAND [ARGS...]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fputs("\nRun 'sigward COMMAND --help' for a command's options.\n", f);
}

int main(int argc, char **argv)
{
	/* Everything printed below may quote files other accounts write. */
	cli_terminal_safe_output();
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("sigward " SIGWARD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sigward: unknown command '%s' (see 'sigward --help')\n", argv[1]);
	return EXIT_USAGE;
}
