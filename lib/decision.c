/* SPDX-License-Identifier: Apache-2.0 */
#include "decision.h"

#include <stdio.h>
#include <string.h>

const char *sw_verdict_name(sw_verdict v)
{
	switch (v) {
	case SW_ALLOW: return "allow";
	case SW_DENY: return "deny";
	case SW_WARN: return "warn";
	}
	return "deny";
}

const char *sw_denial_name(sw_denial d)
{
	return d == SW_DENIAL_STORE_BUSY ? "store-busy" : "policy";
}

/* "image sha256:..." naming the first digest, and how many more there were;
 * "" when nothing was resolved. */
static void image_of(const sw_decision_input *in, char *buf, size_t n)
{
	const sw_resolution *r = in->res;
	if (!r || r->n == 0) {
		buf[0] = '\0';
		return;
	}
	if (r->n == 1)
		snprintf(buf, n, "image %s", r->d[0].digest);
	else
		snprintf(buf, n, "image %s (and %zu other digest%s)", r->d[0].digest, r->n - 1, r->n == 2 ? "" : "s");
}

/* The reason ends up on the runtime's stderr and in syslog as one line. Messages
 * from earlier steps can quote workload data (annotation values, paths), so a
 * control character there must not start a second, forged line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void sw_decide(const sw_decision_input *in, sw_decision *out)
{
	char img[160], why[sizeof out->reason];
	bool deny = true;
	sw_denial denial = SW_DENIAL_POLICY;
	image_of(in, img, sizeof img);

	/* The order follows the steps: the first failed step is the reason, and
	 * later steps are not consulted. A missing message still denies. */
	if (in->resolve_rc == -SW_EBUSY) {
		/* Fail closed (nothing unverified starts), but say it is no verdict on
		 * the image: the operator and kubelet's retry should just try again.
		 * The hint comes first so that warn mode's prefix never cuts it off. */
		denial = SW_DENIAL_STORE_BUSY;
		snprintf(why, sizeof why, "store busy, a retry of the start will work (not a policy refusal): %s",
			 in->resolve_msg ? in->resolve_msg : "an image store was being written during every read");
	} else if (in->resolve_rc < 0) {
		snprintf(why, sizeof why, "%s", in->resolve_msg ? in->resolve_msg : "cannot resolve the image digest");
	} else if (in->list_rc < 0) {
		const char *m = in->list_msg ? in->list_msg : "no valid allowlist";
		if (img[0])
			snprintf(why, sizeof why, "%s: %s", img, m);
		else
			snprintf(why, sizeof why, "%s", m);
	} else if (in->lookup_rc < 0) {
		const char *m = in->lookup_msg ? in->lookup_msg : "allowlist lookup failed";
		if (img[0])
			snprintf(why, sizeof why, "%s: %s", img, m);
		else
			snprintf(why, sizeof why, "%s", m);
	} else if (!img[0]) {
		/* Resolution "succeeded" without a digest: nothing can be looked up,
		 * so nothing can be allowed, whatever `matched` says. */
		snprintf(why, sizeof why, "no image digest found");
	} else if (!in->matched) {
		snprintf(why, sizeof why, "%s is not in allowlist %s#%llu", img, in->scope ? in->scope : "?",
			 (unsigned long long)in->serial);
	} else {
		snprintf(why, sizeof why, "image %s is in allowlist %s#%llu", in->matched, in->scope ? in->scope : "?",
			 (unsigned long long)in->serial);
		deny = false;
	}

	out->denial = deny ? denial : SW_DENIAL_POLICY;
	if (!deny) {
		out->verdict = SW_ALLOW;
		snprintf(out->reason, sizeof out->reason, "%s", why);
	} else if (in->mode == SW_MODE_WARN) {
		/* Warn mode allows, but the record and the message say what enforce
		 * mode would have done. */
		out->verdict = SW_WARN;
		snprintf(out->reason, sizeof out->reason, "would deny: %.740s", why);
	} else {
		/* Enforce, or any mode value we do not know: fail closed. */
		out->verdict = SW_DENY;
		snprintf(out->reason, sizeof out->reason, "%s", why);
	}
	one_line(out->reason);
}
