/* SPDX-License-Identifier: Apache-2.0 */
/* sigward audit: the evidence an auditor asks for, from one command. */
#include <stdio.h>

#include "cli.h"

int cmd_audit(int argc, char **argv)
{
	fputs("sigward audit: not implemented yet\n", stderr);
	return EXIT_USAGE;
}
