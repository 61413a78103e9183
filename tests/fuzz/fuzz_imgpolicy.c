/* SPDX-License-Identifier: Apache-2.0 */
/* The image policy (sw_imgpolicy_parse) and a compiled list's evidence file
 * (sw_evidence_parse): the first byte picks which. Refusals are one line naming
 * the file; an accepted policy holds what its contract says. */
#include "fuzz_util.h"

#include "evidence.h"
#include "imgpolicy.h"

#define POLICY "/nonexistent/images.policy"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	sw_error e = { 0 };
	const char *text = (const char *)data + 1;
	size--;
	if (data[0] & 1) {
		sw_evidence ev;
		if (sw_evidence_parse(text, size, "evidence", &ev, &e) < 0 &&
		    (!e.msg[0] || strchr(e.msg, '\n') || strncmp(e.msg, "evidence", 8) != 0))
			abort();
		sw_evidence_check ck[4];
		size_t n = 0;
		if (ev.n)
			(void)sw_evidence_reverify(&ev, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
						   0, ck, 4, &n, &e);
		sw_evidence_free(&ev);
		return 0;
	}
	sw_imgpolicy p;
	if (sw_imgpolicy_parse(POLICY, text, size, &p, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n') || strncmp(e.msg, POLICY, strlen(POLICY)) != 0)
			abort(); /* one line naming the file */
		if (p.signers || p.repos || p.attests)
			abort(); /* nothing handed back */
		return 0;
	}
	if (p.n_repos == 0)
		abort();
	for (size_t i = 0; i < p.n_repos; i++) {
		const sw_imgpol_repo *r = &p.repos[i];
		if (r->threshold < 1 || r->threshold > r->n_signers)
			abort();
		for (size_t k = 0; k < r->n_signers; k++)
			if (r->signers[k] >= p.n_signers)
				abort();
		for (size_t k = 0; k < r->n_attests; k++)
			if (r->attests[k] >= p.n_attests)
				abort();
		(void)sw_imgpolicy_repo(&p, "registry.example/app/web");
	}
	for (size_t i = 0; i < p.n_signers; i++)
		if (!p.signers[i].keyed && (!p.signers[i].issuer.text || !p.signers[i].identity.text || !p.trusted_root))
			abort();
	sw_imgpolicy_free(&p);
	sw_imgpolicy_free(&p);
	return 0;
}
