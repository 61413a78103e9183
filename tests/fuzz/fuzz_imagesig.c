/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image signatures (lib/imagesig.c): the first byte picks the reader, the rest is
 * its input. 0: a simple-signing payload; 1: an image reference and a
 * docker-reference to match (split at the first newline); 2: an OCI image layout,
 * "\n--\n"-separated documents: index.json, then blobs, each stored under its
 * own sha256 (so a seed's digests hold), discovered from the tag "app" and, when
 * that works, verified with a fixed key against a fixed trust root.
 * Every failure must come with a one-line message.
 */
#include "fuzz_util.h"
#include "fuzz_ss.h"

#include "imagesig.h"
#include "util.h"

#define MAX_PARTS 16

static sw_ss_trust trust;
static EVP_PKEY *key;
static char layout[PATH_MAX], blobs[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_ss_fixture(&trust, &key);
	snprintf(layout, sizeof layout, "%s/layout", fz_tmp());
	snprintf(blobs, sizeof blobs, "%s/blobs", layout);
	fz_mkdir(layout);
	fz_mkdir(blobs);
	snprintf(blobs, sizeof blobs, "%s/blobs/sha256", layout);
	fz_mkdir(blobs);
	return 0;
}

static void run_layout(const uint8_t *data, size_t size)
{
	const uint8_t *part[MAX_PARTS];
	size_t plen[MAX_PARTS];
	size_t n = fz_split(data, size, "\n--\n", part, plen, MAX_PARTS);
	char names[MAX_PARTS][SW_SHA256_HEX + 1];
	fz_write(layout, "index.json", part[0], plen[0]);
	for (size_t i = 1; i < n; i++) {
		sw_sha256_hex(part[i], plen[i], names[i]);
		fz_write(blobs, names[i], part[i], plen[i]);
	}
	sw_imgsig_src src = { .layout = layout };
	sw_imgsig_set set;
	sw_error e = { 0 };
	int rc = sw_imgsig_discover(&src, "app", &set, &e);
	fz_debug("discover", rc, e.msg);
	if (rc < 0) {
		check_err(&e);
	} else {
		EVP_PKEY *keys[] = { key };
		sw_imgsig_requirement req = { .trust = &trust, .keys = keys, .nkeys = 1, .now = 1800000000 };
		sw_imgsig_result r;
		rc = sw_imgsig_verify(&set, &req, &r, &e);
		fz_debug("verify", rc, e.msg);
		if (rc < 0)
			check_err(&e);
		if (r.nst != set.nm)
			abort();
		sw_imgsig_result_free(&r);
	}
	sw_imgsig_set_free(&set);
	for (size_t i = 1; i < n; i++)
		fz_unlink(blobs, names[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	sw_error e = { 0 };
	size_t len;
	char *doc = fz_doc(data, size, &len);
	switch (data[0] % 3) {
	case 0: {
		sw_imgsig_payload p;
		int rc = sw_imgsig_payload_parse(doc, len, &p, &e);
		fz_debug("payload", rc, e.msg);
		if (rc < 0)
			check_err(&e);
		else if (!sw_is_sha256_digest(p.digest, strlen(p.digest)))
			abort();
		break;
	}
	case 1: {
		char *nl = strchr(doc, '\n');
		if (nl)
			*nl = '\0';
		char buf[8192];
		sw_imgsig_src src;
		const char *tag, *dref;
		if (sw_imgsig_parse_ref(doc, buf, sizeof buf, &src, &tag, &dref, &e) < 0)
			check_err(&e);
		else if (!tag || (!src.layout && (!src.registry || !src.repository || !dref)))
			abort();
		if (nl)
			(void)sw_imgsig_reference_matches(doc, nl + 1);
		break;
	}
	default:
		run_layout(data + 1, size - 1);
		break;
	}
	free(doc);
	return 0;
}
