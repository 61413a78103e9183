/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `sigward` command: one file per command group; each command is
 * `int cmd_xxx(int argc, char **argv)` returning the process exit status.
 * Exit statuses: 0 success, 1 the check failed / findings, 2 usage or runtime error.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "sign.h"

#define EXIT_USAGE 2

int cmd_allowlist(int argc, char **argv);
int cmd_allowlist_push(int argc, char **argv);
int cmd_allowlist_compile(int argc, char **argv);
int cmd_allowlist_evidence(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_audit_verify(int argc, char **argv);
int cmd_audit_fleet(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_log_show(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_verify_bundle(int argc, char **argv);
int cmd_image(int argc, char **argv);

/* The audit bundle's checksums and their detached signatures (audit.c writes them,
 * auditverify.c checks them). */
#define AUDIT_SUMS_NAME "SHA256SUMS"
#define AUDIT_SUMS_SIG_NAME "SHA256SUMS.sig"
#define AUDIT_FILE_MAX (64u << 20)

/* Print "sigward: <msg>" to stderr, return EXIT_USAGE. */
int cli_fail(const sw_error *e);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* termsafe.c: from here on, stdout and stderr escape control characters and
 * invalid UTF-8 (main calls it first). */
void cli_terminal_safe_output(void);

/* common.c */
void cli_json_str(FILE *f, const char *s);          /* a JSON string, or null for NULL */
void cli_json_time(FILE *f, int64_t t);             /* an RFC 3339 JSON string */
/* "12d 3h left", "2h 5m ago" */
const char *cli_time_left(int64_t until, int64_t now, char *buf, size_t len);
/* RFC 3339 time, or a duration meaning that long before now. 0 or -1. */
int cli_parse_since(const char *s, int64_t now, int64_t *out);
bool cli_is_help(const char *arg);
/* The first executable NAME in $PATH (or the usual system directories) into
 * found; false (found "") when there is none. */
bool cli_which(const char *name, char *found, size_t len);
/* Open keys[0..n) (PEM private key files or PKCS#11 URIs, sign.h) into out[] with
 * the options of `allowlist sign`; pass_file (NULL: none) holds the passphrase of
 * encrypted PEM keys. On failure nothing stays open and err names the key. */
int cli_signers_open(const char *const *keys, size_t n, sw_sign_opts so, const char *pass_file,
		     sw_signer *out, sw_error *err);
void cli_signers_close(sw_signer *s, size_t n);
/* The signing options `sigward audit` and `audit fleet` take as `allowlist sign`
 * does: --sign-key KEY (getopt value 'S', repeatable), --rsa-pss ('p'),
 * --pkcs11-module PATH ('m'), --passphrase-file FILE ('P'). */
typedef struct cli_sign_args {
	const char *keys[64];          /* SW_MAX_SIGS */
	size_t n;
	sw_sign_opts so;
	const char *pass_file;
} cli_sign_args;
#define CLI_SIGN_LONG_OPTIONS \
	{ "sign-key", required_argument, NULL, 'S' }, \
	{ "rsa-pss", no_argument, NULL, 'p' }, \
	{ "pkcs11-module", required_argument, NULL, 'm' }, \
	{ "passphrase-file", required_argument, NULL, 'P' }
/* For getopt's values no case of the command took: 0 when opt is one of them
 * (recorded); else EXIT_USAGE after a usage error of cmd (a bad option, too
 * many keys). */
int cli_sign_arg(const char *cmd, int opt, const char *arg, cli_sign_args *a);
/* --sample N of the audits: 1 to 100000 into *out, 0; else a usage error of cmd
 * printed, -1. */
int cli_sample_arg(const char *cmd, const char *arg, unsigned *out);

#endif
