/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sw_sandbox_enter and sw_sandbox_confine as no-ops, linked into a copy of
 * sigward-hook for resources.sh: valgrind implements neither seccomp(2) nor
 * Landlock, so under valgrind the real hook's sandbox set-up fails and the hook
 * (correctly) denies everything before deciding anything. This copy lets memcheck see the allow and deny paths themselves; the
 * sandbox has its own tests (test_sandbox, sigward-hook --sandbox-selftest).
 */
#include "sandbox.h"

int sw_sandbox_enter(sw_sandbox_profile p, sw_error *err)
{
	(void)p;
	(void)err;
	return 0;
}

int sw_sandbox_confine(const struct sw_config *c, sw_error *err)
{
	(void)c;
	(void)err;
	return 0;
}

int sw_sandbox_confine_dirs(const char *const *writable, size_t n, bool syslog, sw_error *err)
{
	(void)writable;
	(void)n;
	(void)syslog;
	(void)err;
	return 0;
}
