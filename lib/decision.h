/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decision: the verdict, as a pure function of what the steps before found.
 *
 * No files, clocks or runtimes: inputs in, verdict and reason out, so every rule
 * is unit-tested directly. Any failed step denies in enforce mode (fail closed);
 * in warn mode the container is allowed and the verdict says it would have been
 * denied.
 */
#ifndef SW_DECISION_H
#define SW_DECISION_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "resolution.h"

typedef enum {
	SW_ALLOW = 0,
	SW_DENY = 1,
	SW_WARN = 2,   /* warn mode: would have denied, allowed */
} sw_verdict;

typedef struct sw_decision_input {
	sw_mode mode;
	const char *container_id;
	/* step 2: resolution; resolve_rc < 0 means it failed with resolve_msg */
	int resolve_rc;
	const char *resolve_msg;
	const sw_resolution *res;
	/* step 3: list; list_rc < 0 means loading/verification failed with list_msg */
	int list_rc;
	const char *list_msg;
	const char *scope;
	uint64_t serial;
	/* lookup: matched digest or NULL */
	const char *matched;
	int lookup_rc;              /* <0: lookup error (lookup_msg) */
	const char *lookup_msg;
} sw_decision_input;

typedef struct sw_decision {
	sw_verdict verdict;
	char reason[768];            /* one line, without the "sigward: denied ..." prefix */
} sw_decision;

void sw_decide(const sw_decision_input *in, sw_decision *out);
const char *sw_verdict_name(sw_verdict v);

#endif
