/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Sigstore readers (lib/sigstore*): the first byte picks one, the rest is its
 * input. 0: a bundle (sw_ss_bundle_parse), then, when it parses, the whole
 * verification with a fixed key against a fixed trust root whose one log has
 * that key; 1: a checkpoint (parse, then verify against that log); 2: a trust
 * root; 3: an in-toto statement; 4: a Merkle audit path (index, size, hashes).
 * Every failure must come with a one-line message.
 */
#include "fuzz_util.h"
#include "fuzz_ss.h"

#include "sigstore.h"
#include "util.h"

static sw_ss_trust trust;
static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_ss_fixture(&trust, &key);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	sw_error e = { 0 };
	size_t len;
	char *doc = fz_doc(data, size, &len);
	switch (data[0] % 5) {
	case 0: {
		sw_ss_bundle b;
		if (sw_ss_bundle_parse(doc, len, "fuzz-bundle", &b, &e) < 0) {
			check_err(&e);
		} else {
			sw_ss_policy pol = { .key = key };
			sw_ss_artifact art = { .data = (const unsigned char *)"a", .len = 1 };
			sw_sha256("a", 1, art.sha256);
			if (sw_ss_verify(&trust, &b, &pol, &art, 1800000000, &e) < 0)
				check_err(&e);
		}
		sw_ss_bundle_free(&b);
		break;
	}
	case 1: {
		sw_ss_checkpoint cp;
		if (sw_ss_checkpoint_parse(doc, len, &cp, &e) < 0) {
			check_err(&e);
			break;
		}
		if (cp.signed_len > len || cp.nsigs == 0)
			abort();
		if (sw_ss_checkpoint_verify(doc, &cp, &trust.tlogs[0], &e) < 0)
			check_err(&e);
		sw_ss_checkpoint_free(&cp);
		break;
	}
	case 2: {
		sw_ss_trust t;
		if (sw_ss_trust_parse(doc, len, "fuzz-root", &t, &e) < 0)
			check_err(&e);
		sw_ss_trust_free(&t);
		break;
	}
	case 3: {
		sw_ss_bytes p = { (unsigned char *)doc, len };
		unsigned char dg[32];
		sw_sha256("a", 1, dg);
		if (sw_ss_intoto_has_subject(&p, dg, &e) < 0)
			check_err(&e);
		break;
	}
	default: {
		if (len < 16)
			break;
		uint64_t index, tsize;
		memcpy(&index, doc, 8);
		memcpy(&tsize, doc + 8, 8);
		sw_ss_bytes path[SW_SS_MAX_PROOF];
		size_t n = 0;
		for (size_t off = 16; off + 32 <= len && n < SW_SS_MAX_PROOF; off += 32, n++) {
			path[n].p = (unsigned char *)doc + off;
			path[n].n = 32;
		}
		unsigned char leaf[32] = { 0 }, root[32];
		if (sw_ss_merkle_root(index, tsize, leaf, path, n, root, &e) < 0)
			check_err(&e);
		break;
	}
	}
	free(doc);
	return 0;
}
