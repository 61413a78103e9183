/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward image verify: find an image's cosign signatures (registry or OCI
 * layout) and verify them offline against keys and/or keyless identities over a
 * pinned trust root; print what was found and why it was approved, as JSON.
 * Exit 0 every manifest approved, 1 not approved, 2 usage or the source could
 * not be read (nothing verified).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "imagesig.h"
#include "util.h"

#define MAX_SIGNERS 16

static void usage(FILE *f)
{
	fputs("usage: sigward image verify REFERENCE\n"
	      "         [--key PUB]... [--identity SAN | --identity-regexp RE\n"
	      "          --issuer URL | --issuer-regexp RE]... [--trusted-root FILE]\n"
	      "         [--reference HOST/REPO] [--need-tlog] [--each-platform] [--threshold K]\n"
	      "         [--ca-file F] [--credentials F] [--timeout SECONDS]\n\n"
	      "REFERENCE: [oci://]host[:port]/repo[:tag|@sha256:hex], oci+http://... (plain\n"
	      "HTTP), or oci-layout:DIR[:tag|@sha256:hex]. Each --identity or\n"
	      "--identity-regexp starts a keyless signer; the --issuer or --issuer-regexp\n"
	      "after it completes it. Prints the manifests and the evidence as JSON.\n"
	      "Exit 0 approved, 1 not approved, 2 usage error or the source unreadable.\n", f);
}

static void json_ev(const sw_imgsig_evidence *e, const sw_imgsig_requirement *req)
{
	printf("{\"image\":");
	cli_json_str(stdout, e->image);
	printf(",\"signed_digest\":");
	cli_json_str(stdout, e->signed_digest);
	printf(",\"via_index\":%s,\"kind\":\"%s\",\"source\":", e->via_index ? "true" : "false",
	       e->kind == SW_IMGSIG_SIMPLE ? "simple-signing" : "bundle");
	cli_json_str(stdout, e->source);
	printf(",\"signature_manifest\":");
	cli_json_str(stdout, e->manifest);
	printf(",\"signature_digest\":");
	cli_json_str(stdout, e->layer);
	if (e->key >= 0) {
		printf(",\"key\":%d,\"key_id\":", e->key);
		cli_json_str(stdout, e->key_id);
	} else {
		printf(",\"identity\":%d,\"san\":", e->identity);
		cli_json_str(stdout, e->san);
		printf(",\"issuer\":");
		cli_json_str(stdout, e->issuer);
	}
	if (e->docker_reference[0]) {
		printf(",\"docker_reference\":");
		cli_json_str(stdout, e->docker_reference);
	}
	if (e->tlog)
		printf(",\"log_index\":%lld,\"integrated_time\":%lld", (long long)e->log_index,
		       (long long)e->integrated_time);
	else
		printf(",\"log_index\":null");
	printf("}");
}

static void json_out(const char *ref, const sw_imgsig_set *set, const sw_imgsig_result *res,
		     const sw_imgsig_requirement *req)
{
	printf("{\"reference\":");
	cli_json_str(stdout, ref);
	printf(",\"digest\":");
	cli_json_str(stdout, set->digest);
	printf(",\"approved\":%s,\"manifests\":[", res->approved ? "true" : "false");
	for (size_t i = 0; i < res->nst; i++) {
		const sw_imgsig_status *s = &res->st[i];
		printf("%s{\"digest\":", i ? "," : "");
		cli_json_str(stdout, s->digest);
		printf(",\"index\":%s,\"platform\":", set->m[i].is_index ? "true" : "false");
		cli_json_str(stdout, s->platform[0] ? s->platform : NULL);
		printf(",\"signatures_found\":%zu,\"approved\":%s,\"covered_by\":", set->m[i].nsigs,
		       s->approved ? "true" : "false");
		cli_json_str(stdout, !s->approved ? NULL : s->via_index ? "index" : "own");
		printf(",\"signers\":%u,\"reason\":", s->signers);
		cli_json_str(stdout, s->reason[0] ? s->reason : NULL);
		printf("}");
	}
	printf("],\"evidence\":[");
	for (size_t i = 0; i < res->nev; i++) {
		if (i)
			printf(",");
		json_ev(&res->ev[i], req);
	}
	printf("],\"registry_requests\":%llu}\n", (unsigned long long)set->requests);
}

static int image_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "identity", required_argument, NULL, 'i' },
		{ "identity-regexp", required_argument, NULL, 'I' },
		{ "issuer", required_argument, NULL, 'o' },
		{ "issuer-regexp", required_argument, NULL, 'O' },
		{ "trusted-root", required_argument, NULL, 't' },
		{ "reference", required_argument, NULL, 'r' },
		{ "need-tlog", no_argument, NULL, 'L' },
		{ "each-platform", no_argument, NULL, 'P' },
		{ "threshold", required_argument, NULL, 'n' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "credentials", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *keys[MAX_SIGNERS], *root_path = NULL;
	size_t nkeys = 0, nids = 0;
	sw_imgsig_identity ids[MAX_SIGNERS];
	memset(ids, 0, sizeof ids);
	sw_imgsig_requirement req = { 0 };
	sw_imgsig_src opt = { 0 };
	uint64_t u;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (nkeys == MAX_SIGNERS)
				return cli_usage_error("image verify", "at most %d keys", MAX_SIGNERS);
			keys[nkeys++] = optarg;
			break;
		case 'i':
		case 'I':
			if (nids == MAX_SIGNERS)
				return cli_usage_error("image verify", "at most %d identities", MAX_SIGNERS);
			*(c == 'i' ? &ids[nids].san : &ids[nids].san_regex) = optarg;
			nids++;
			break;
		case 'o':
		case 'O':
			if (nids == 0 || ids[nids - 1].issuer || ids[nids - 1].issuer_regex)
				return cli_usage_error("image verify", "--issuer or --issuer-regexp comes once after each --identity or --identity-regexp");
			*(c == 'o' ? &ids[nids - 1].issuer : &ids[nids - 1].issuer_regex) = optarg;
			break;
		case 't': root_path = optarg; break;
		case 'r': req.reference = optarg; break;
		case 'L': req.need_tlog = true; break;
		case 'P': req.each_platform = true; break;
		case 'n':
			if (sw_parse_u64(optarg, strlen(optarg), &u) < 0 || u == 0 || u > 2 * MAX_SIGNERS)
				return cli_usage_error("image verify", "--threshold: a number from 1 to %d", 2 * MAX_SIGNERS);
			req.threshold = (unsigned)u;
			break;
		case 'c': opt.ca_file = optarg; break;
		case 'C': opt.credentials = optarg; break;
		case 'T':
			if (sw_parse_u64(optarg, strlen(optarg), &u) < 0 || u == 0 || u > 3600)
				return cli_usage_error("image verify", "--timeout: seconds, 1 to 3600");
			opt.timeout = (int64_t)u;
			break;
		case 'h': usage(stdout); return 0;
		default: return cli_usage_error("image verify", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("image verify", "one REFERENCE is required");
	if (nkeys + nids == 0)
		return cli_usage_error("image verify", "give --key, or --identity/--identity-regexp with --issuer/--issuer-regexp");
	for (size_t i = 0; i < nids; i++)
		if (!ids[i].issuer && !ids[i].issuer_regex)
			return cli_usage_error("image verify", "identity %zu has no --issuer or --issuer-regexp", i + 1);
	if (nids && !root_path)
		return cli_usage_error("image verify", "keyless identities need --trusted-root");
	const char *ref = argv[optind];

	sw_error err = { 0 };
	char buf[4096];
	sw_imgsig_src src;
	const char *tag, *dref;
	if (sw_imgsig_parse_ref(ref, buf, sizeof buf, &src, &tag, &dref, &err) < 0)
		return cli_fail(&err);
	src.ca_file = opt.ca_file;
	src.credentials = opt.credentials;
	src.timeout = opt.timeout;
	if (!req.reference)
		req.reference = dref;
	/* A layout names no repository; a payload's docker-reference must still
	 * be checked against one. */
	if (!req.reference)
		return cli_usage_error("image verify", "an oci-layout: reference needs --reference HOST/REPO");

	int rc = EXIT_USAGE;
	EVP_PKEY *pkeys[MAX_SIGNERS] = { 0 };
	sw_ss_trust tr = { 0 };
	sw_imgsig_set set = { 0 };
	sw_imgsig_result res = { 0 };
	for (size_t i = 0; i < nkeys; i++) {
		_cleanup_free_ char *pem = NULL;
		size_t len;
		if (sw_read_file(keys[i], 1 << 20, &pem, &len, &err) < 0 || sw_ss_pubkey_pem(pem, len, keys[i], &pkeys[i], &err) < 0)
			goto out;
	}
	if (root_path) {
		_cleanup_free_ char *json = NULL;
		size_t len;
		if (sw_read_file(root_path, SW_SS_MAX_DOC, &json, &len, &err) < 0 ||
		    sw_ss_trust_parse(json, len, root_path, &tr, &err) < 0)
			goto out;
		req.trust = &tr;
	}
	for (size_t i = 0; i < nids; i++)
		if (sw_imgsig_identity_compile(&ids[i], &err) < 0)
			goto out;
	req.keys = pkeys;
	req.nkeys = nkeys;
	req.identities = ids;
	req.nidentities = nids;
	if (sw_imgsig_discover(&src, tag, &set, &err) < 0)
		goto out;
	int vr = sw_imgsig_verify(&set, &req, &res, &err);
	if (vr < 0 && res.nst == 0)
		goto out;
	json_out(ref, &set, &res, &req);
	rc = 0;
	if (vr < 0) {
		fprintf(stderr, "sigward image verify: %s: %s\n", ref, err.msg);
		rc = 1;
	}
	err.msg[0] = '\0';
out:
	if (rc == EXIT_USAGE && err.msg[0])
		cli_fail(&err);
	sw_imgsig_result_free(&res);
	sw_imgsig_set_free(&set);
	for (size_t i = 0; i < nids; i++)
		sw_imgsig_identity_free(&ids[i]);
	for (size_t i = 0; i < nkeys; i++)
		EVP_PKEY_free(pkeys[i]);
	sw_ss_trust_free(&tr);
	return rc;
}

int cmd_image(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return image_verify(argc - 1, argv + 1);
	if (argc >= 2 && cli_is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}
