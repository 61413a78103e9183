/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <stdio.h>
#include <string.h>

/* Keep a message on one line: a newline in a hostile file name or value must not
 * let an input forge a second log or stderr line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || (unsigned char)*s < 0x20)
			*s = ' ';
}

static int set_v(sw_error *err, int code, int errnum, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = 1;
	if (err) {
		int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		if (errnum && n >= 0 && (size_t)n < sizeof err->msg)
			snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
		one_line(err->msg);
		err->code = code;
	}
	return -code;
}

int sw_err(sw_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = set_v(err, code, 0, fmt, ap);
	va_end(ap);
	return r;
}

int sw_err_errno(sw_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = set_v(err, errnum > 0 ? errnum : 1, errnum, fmt, ap);
	va_end(ap);
	return r;
}

int sw_err_prefix(sw_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char old[SW_ERROR_MAX];
	memcpy(old, err->msg, sizeof old);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof err->msg)
		snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", old);
	one_line(err->msg);
	return -(err->code > 0 ? err->code : 1);
}

void sw_error_clear(sw_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
