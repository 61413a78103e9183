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
	/* step 2: resolution; resolve_rc < 0 means it failed with resolve_msg
	 * (-SW_EBUSY: a store stayed busy, a store-busy denial) */
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

/* What a denial (or a warn-mode would-deny) is. A policy refusal is final for
 * that image until the list changes; a store-busy one says only that an image
 * store (containerd's meta.db, containers/storage) was being written during
 * every read of the time budget (SW_STORE_BUSY_MS): nothing is known about the
 * image, the start is refused because nothing unverified may start, and a
 * retry will work. The log records it as "denial":"store-busy" so that audits
 * and `log show` count it apart from policy refusals. */
typedef enum {
	SW_DENIAL_POLICY = 0,
	SW_DENIAL_STORE_BUSY = 1,
} sw_denial;

typedef struct sw_decision {
	sw_verdict verdict;
	sw_denial denial;            /* SW_DENIAL_POLICY for an allow */
	char reason[768];            /* one line, without the "sigward: denied ..." prefix */
} sw_decision;

void sw_decide(const sw_decision_input *in, sw_decision *out);
const char *sw_verdict_name(sw_verdict v);
/* "policy", "store-busy" */
const char *sw_denial_name(sw_denial d);

#endif
