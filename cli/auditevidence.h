/* SPDX-License-Identifier: Apache-2.0 */
/* Audit step 5's image signatures: for each container of step 4 whose image is
 * in the current list, the signatures that approved it when the list was
 * compiled (the list's evidence, lib/evidence.h), verified again now, offline. */
#ifndef SW_AUDITEVIDENCE_H
#define SW_AUDITEVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "allowlist.h"
#include "auditreport.h"

/* Adds the table "image signatures" (and findings) to section s; reads step
 * 4's "containers" table from r; copies the evidence into the bundle at
 * out/evidence/allowlist/evidence. list_ok: the list itself verified. */
void audit_evidence(report *r, section *s, const sw_list *l, bool list_ok, int64_t now, const char *out);
/* Step 7: how the current list was compiled and who signed the images it
 * lists (signer, key id or CI identity and issuer, approvals, log times). */
void audit_evidence_signers(section *s, const sw_list *l);

#endif
