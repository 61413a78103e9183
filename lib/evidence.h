/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evidence: the `evidence` file of a compiled list (docs/allowlist-format.md
 * "evidence"), read back and verified again offline, for `sigward audit` and
 * `sigward allowlist evidence`. A tool: the start path never links it.
 *
 * The file is covered by the list's signature through its anchor entry (an
 * image-id entry of the file's SHA-256 with reference "(evidence)"):
 * sw_evidence_open finds the anchor through the list's lookup, which checks the
 * bin against the signed manifest. A file whose hash is not listed is refused,
 * never read as evidence (it could have been put there by anyone who can
 * write the list directory).
 *
 * Lines: "sigward-evidence 1", then one JSON object per line, "type" one of
 * compile, trusted_root, signer, signature, approval, attestation.
 *
 * Ownership: sw_evidence owns its text and trees; sw_evidence_free releases
 * them (safe on a zeroed struct).
 */
#ifndef SW_EVIDENCE_H
#define SW_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "allowlist.h"
#include "error.h"
#include "imagesig.h"

#define SW_EVIDENCE_MAGIC "sigward-evidence 1"

const char *sw_evidence_kind_name(sw_imgsig_kind k);   /* "simple-signing", "bundle" */

typedef struct sw_evidence {
	char *text;
	size_t len;
	yajl_val *rec;               /* one tree per JSON line */
	size_t n;
	char sha256[SW_SHA256_HEX + 1];
} sw_evidence;

/* Read l's evidence file through l->dirfd: 1 read and covered by the list
 * (the caller verifies the list's signatures), 0 the list has none, <0 it is
 * there but not covered, or malformed (err names the file and line). */
int sw_evidence_open(const sw_list *l, sw_evidence *ev, sw_error *err);
/* Parse evidence text (no coverage check): for tests and the fuzzer. */
int sw_evidence_parse(const char *text, size_t len, const char *what, sw_evidence *ev, sw_error *err);
void sw_evidence_free(sw_evidence *ev);

/* One approval of a digest, verified again. */
typedef struct sw_evidence_check {
	char digest[SW_DIGEST_STR];
	char signed_digest[SW_DIGEST_STR]; /* the index's when approved through it */
	char kind[16];               /* "simple-signing", "bundle" */
	char layer[SW_DIGEST_STR];
	char signer[65];            /* the policy signer's name */
	char key_id[SW_SHA256_HEX + 1];
	char identity[512], issuer[512];
	char reference[SW_REF_MAX + 1];
	int64_t log_index, integrated_time;
	bool ok;
	char error[SW_ERROR_MAX];
} sw_evidence_check;

/* Every approval record of `digest` (a listed manifest digest), verified again
 * from the stored signature or bundle, the stored signer key or recorded
 * identity and issuer, and the stored trust root: *n checks (at most max) in
 * out. Returns the number of approvals found (0: the evidence says nothing
 * about the digest), <0 on an error that is not a verification failure. */
int sw_evidence_reverify(const sw_evidence *ev, const char *digest, int64_t now, sw_evidence_check *out, size_t max,
			 size_t *n, sw_error *err);

#endif
