/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `sigward` command: one file per command group; each command is
 * `int cmd_xxx(int argc, char **argv)` returning the process exit status.
 * Exit statuses: 0 success, 1 the check failed / findings, 2 usage or runtime error.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include <stdio.h>

#include "error.h"

#define EXIT_USAGE 2

int cmd_allowlist(int argc, char **argv);
int cmd_allowlist_push(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* Print "sigward: <msg>" to stderr, return EXIT_USAGE. */
int cli_fail(const sw_error *e);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
