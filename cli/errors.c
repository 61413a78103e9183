/* SPDX-License-Identifier: Apache-2.0 */
/* How every sigward command reports a failure: one line on stderr, exit 2.
 * Shared by `sigward` and `sigward-sigstore-client`. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_fail(const sw_error *e)
{
	fprintf(stderr, "sigward: %s\n", e->msg);
	return EXIT_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sigward %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'sigward %s --help')\n", cmd);
	return EXIT_USAGE;
}
