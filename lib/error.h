/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error: the one error convention of sigward.
 *
 * Every fallible function returns 0 (or a non-negative value) on success and a
 * negative value on failure, and fills the caller's `sw_error` with one line that
 * names the file or input and the problem. Callers pass the error up unchanged;
 * the top level (hook, wrapper, daemon, CLI) prints it once.
 *
 * The message lives in the struct itself (no allocation), so reporting an error
 * can never fail, even when memory is exhausted.
 */
#ifndef SW_ERROR_H
#define SW_ERROR_H

#include <stdarg.h>

#define SW_ERROR_MAX 512

typedef struct sw_error {
	int code;                 /* positive errno value, or SW_E* below */
	char msg[SW_ERROR_MAX];   /* one line, no trailing newline */
} sw_error;

/* sigward-specific codes, above the errno range. */
enum {
	SW_EINVAL = 1000,   /* malformed input */
	SW_ETOOBIG,         /* input over its bound */
	SW_EVERIFY,         /* signature, hash or threshold check failed */
	SW_EPOLICY,         /* scope, expiry or serial refused */
	SW_ENOTFOUND,       /* digest not in the list, or nothing to resolve */
	SW_ECONFLICT,       /* sources disagree */
	SW_EBUSY,           /* a store was being written for the whole read budget:
	                     * not a policy refusal, a retry of the start will work */
	SW_ENOCRYPTO,       /* a signature must be checked, and this build (sigward-hook)
	                     * has no libcrypto: sigward-hook-verify decides */
};

/* Set err (when non-NULL) and return -code (code 0 becomes -1). */
int sw_err(sw_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like sw_err, appending ": <strerror(errnum)>". errnum is an errno value. */
int sw_err_errno(sw_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing message ("<prefix>: <old message>"), keep the code. */
int sw_err_prefix(sw_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void sw_error_clear(sw_error *err);

#endif
