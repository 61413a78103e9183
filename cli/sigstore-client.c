/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward-sigstore-client: the Sigstore conformance protocol alone
 * (`sigward-sigstore-client verify-bundle ...`, the same code as
 * `sigward verify-bundle`), linked with libcrypto and yajl only, so a
 * conformance driver pays no start-up for the rest of the CLI's libraries.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
	/* Errors quote bundle fields: nothing reaches the terminal raw. */
	cli_terminal_safe_output();
	if (argc < 2 || strcmp(argv[1], "verify-bundle") != 0) {
		fputs("usage: sigward-sigstore-client verify-bundle --bundle FILE\n"
		      "         (--certificate-identity ID --certificate-oidc-issuer URL | --key KEY)\n"
		      "         [--trusted-root FILE] FILE_OR_DIGEST\n", stderr);
		return EXIT_USAGE;
	}
	return cmd_verify_bundle(argc - 1, argv + 1);
}
