/* SPDX-License-Identifier: Apache-2.0 */
/* sigstore: DSSE pre-authentication encoding and the in-toto statement (sigstore.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sigstore.h"
#include "util.h"

int sw_ss_pae(const char *type, const unsigned char *body, size_t len, sw_ss_bytes *out)
{
	size_t tl = strlen(type);
	char head[64];
	int hl = snprintf(head, sizeof head, "DSSEv1 %zu ", tl);
	char mid[32];
	int ml = snprintf(mid, sizeof mid, " %zu ", len);
	if (hl < 0 || ml < 0 || len > SIZE_MAX - tl - 96)
		return -1;
	out->n = (size_t)hl + tl + (size_t)ml + len;
	out->p = malloc(out->n ? out->n : 1);
	if (!out->p)
		return -1;
	unsigned char *p = out->p;
	memcpy(p, head, (size_t)hl);
	p += hl;
	memcpy(p, type, tl);
	p += tl;
	memcpy(p, mid, (size_t)ml);
	p += ml;
	if (len)
		memcpy(p, body, len);
	return 0;
}

int sw_ss_intoto_has_subject(const sw_ss_bytes *payload, const unsigned char sha256[32], sw_error *err)
{
	char *doc = sw_memdup0(payload->p, payload->n);
	if (!doc)
		return sw_err(err, ENOMEM, "out of memory");
	yajl_val root = NULL;
	int r = sw_json_tree(doc, payload->n, "dsseEnvelope.payload (in-toto statement)", &root, err);
	free(doc);
	if (r < 0)
		return -1;
	const char *type = sw_ss_jstr(root, "_type");
	yajl_val subj = sw_ss_jget(root, "subject");
	if (!type || (strcmp(type, "https://in-toto.io/Statement/v1") != 0 &&
		      strcmp(type, "https://in-toto.io/Statement/v0.1") != 0)) {
		yajl_tree_free(root);
		return sw_err(err, SW_EINVAL, "in-toto statement: _type: not an in-toto Statement v0.1 or v1");
	}
	if (!YAJL_IS_ARRAY(subj) || subj->u.array.len == 0) {
		yajl_tree_free(root);
		return sw_err(err, SW_EINVAL, "in-toto statement: subject: missing or empty");
	}
	char hex[65];
	sw_hex(sha256, 32, hex);
	r = sw_err(err, SW_EVERIFY, "in-toto statement: the artifact's sha256 %.16s... is no subject of the statement", hex);
	for (size_t i = 0; i < subj->u.array.len; i++) {
		const char *d = sw_ss_jstr(sw_ss_jget(subj->u.array.values[i], "digest"), "sha256");
		/* Digests are lowercase hex (in-toto ResourceDescriptor). */
		if (d && strcmp(d, hex) == 0) {
			r = 0;
			sw_error_clear(err);
			break;
		}
	}
	yajl_tree_free(root);
	return r;
}
