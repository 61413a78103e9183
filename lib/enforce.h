/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enforce: the five steps of a start decision, shared by sigward-hook,
 * sigward-runc and `sigward check`:
 *   1. (caller) parse the state or the wrapper's arguments, load the config
 *   2. read the bundle's config.json and resolve the image digests
 *   3. open and verify the current allowlist generation
 *   4. look the digests up and decide (enforce or warn)
 *   5. append the decision to the log and syslog (unless dry_run)
 *
 * Every failure is folded into the decision (fail closed), so sw_enforce itself
 * cannot fail: out->decision.verdict is always set.
 *
 * Time: a decision takes milliseconds; every lock it takes waits SW_LOCK_WAIT_MS
 * at most (lib/util.h). The hook and the wrapper also bound the whole decision by
 * SW_DECIDE_TIMEOUT_S (the hook's alarm, the wrapper's kill of its deciding
 * child) and deny when it is reached, in every mode: a start that cannot be
 * decided in time is refused, never held up. Runtimes and kubelet wait minutes,
 * so the bound fails the start long before they would.
 */
#ifndef SW_ENFORCE_H
#define SW_ENFORCE_H

#include <stdbool.h>

#include "allowlist.h"
#include "config.h"
#include "decision.h"
#include "resolve.h"

#define SW_DECIDE_TIMEOUT_S 10

typedef struct sw_enforce_req {
	const sw_config *config;
	const char *container_id;
	const char *bundle;          /* absolute path of the bundle directory */
	const char *runtime;         /* "hook", "sigward-runc", "check": recorded in the log */
	bool dry_run;                /* `sigward check`: no serial raise, no cache write, no log */
	/* sigward-hook, built without libcrypto: called when the list must have its
	 * signatures checked (SW_ENOCRYPTO: no verification cache entry yet, or
	 * verify_cache = no), before anything is recorded. It hands the start to
	 * sigward-hook-verify and does not return; when it does return, err says
	 * why the handoff failed and the start is decided on that as a list error
	 * (denied in enforce mode), and recorded. */
	int (*handoff)(void *arg, sw_error *err);
	void *handoff_arg;
} sw_enforce_req;

typedef struct sw_enforce_result {
	sw_decision decision;
	int resolve_rc;
	char resolve_msg[SW_ERROR_MAX];
	int list_rc;
	char list_msg[SW_ERROR_MAX];
	char list_path[512];
	char scope[SW_SCOPE_MAX + 1];
	uint64_t serial;
	int64_t expires;
	size_t n_signers;
	bool from_cache;
	char matched[SW_DIGEST_STR];
	char matched_ref[SW_REF_MAX + 1];
	int log_rc;                  /* <0 when the decision could not be logged */
	char log_msg[SW_ERROR_MAX];
	/* Last, and read only up to their counts (n_signers, res.n): a start
	 * clears everything before them (sw_enforce), not their 10 KB. */
	char signers[SW_MAX_KEYS][SW_KEYID_HEX];
	sw_resolution res;
} sw_enforce_result;

void sw_enforce(const sw_enforce_req *req, sw_enforce_result *out);

/* `sigward check DIGEST`: steps 3 and 4 for a digest given directly (source
 * "command line"), as a dry run: the hook's own verification and wording. */
void sw_enforce_digest(const sw_config *c, const char *digest, sw_enforce_result *out);

/* The one stderr line for a denial (or a warn-mode would-deny). */
void sw_enforce_format(const sw_enforce_req *req, const sw_enforce_result *out, char *buf, size_t len);

#endif
