/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward verify-bundle: verify a Sigstore bundle offline, with the command line
 * of the Sigstore conformance protocol:
 *   verify-bundle --bundle FILE (--certificate-identity ID --certificate-oidc-issuer URL
 *                 | --key KEY) [--trusted-root FILE] FILE_OR_DIGEST
 * Exit 0 valid; 1 not valid (anything wrong in the trust root, bundle, key or
 * signature); 2 usage, or a file that cannot be read; one line on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sigstore.h"
#include "util.h"

#define DEFAULT_TRUSTED_ROOT "/etc/sigward/sigstore/trusted_root.json"

static void usage(FILE *f)
{
	fputs("usage: sigward verify-bundle --bundle FILE\n"
	      "         (--certificate-identity ID --certificate-oidc-issuer URL | --key KEY)\n"
	      "         [--trusted-root FILE] FILE_OR_DIGEST\n\n"
	      "Verify a Sigstore bundle (v0.1-v0.3) offline against a pinned trust root\n"
	      "(default " DEFAULT_TRUSTED_ROOT "). FILE_OR_DIGEST is the signed\n"
	      "artifact, or sha256:<hex>. Exit 0 valid, 1 not valid, 2 usage error.\n", f);
}

static int fail(const sw_error *e)
{
	fprintf(stderr, "sigward verify-bundle: %s\n", e->msg);
	return 1;
}

int cmd_verify_bundle(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "certificate-identity", required_argument, NULL, 'i' },
		{ "certificate-oidc-issuer", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "trusted-root", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *bundle_path = NULL, *identity = NULL, *issuer = NULL, *key_path = NULL;
	const char *root_path = DEFAULT_TRUSTED_ROOT;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bundle_path = optarg; break;
		case 'i': identity = optarg; break;
		case 'o': issuer = optarg; break;
		case 'k': key_path = optarg; break;
		case 't': root_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: return cli_usage_error("verify-bundle", "unknown option");
		}
	}
	if (!bundle_path || optind + 1 != argc)
		return cli_usage_error("verify-bundle", "--bundle and one FILE_OR_DIGEST are required");
	if (key_path ? (identity || issuer) : (!identity || !issuer))
		return cli_usage_error("verify-bundle", "give either --key, or --certificate-identity and --certificate-oidc-issuer");
	const char *subject = argv[optind];

	sw_error err = { 0 };
	_cleanup_free_ char *root_json = NULL, *bundle_json = NULL, *key_pem = NULL, *data = NULL;
	size_t root_len, bundle_len, key_len, data_len = 0;
	if (sw_read_file(root_path, SW_SS_MAX_DOC, &root_json, &root_len, &err) < 0)
		return cli_fail(&err);
	if (sw_read_file(bundle_path, SW_SS_MAX_DOC, &bundle_json, &bundle_len, &err) < 0)
		return cli_fail(&err);
	sw_ss_artifact art = { 0 };
	if (strncmp(subject, "sha256:", 7) == 0) {
		if (!sw_is_hex64(subject + 7, strlen(subject + 7)) || sw_unhex(subject + 7, 32, art.sha256) < 0)
			return cli_usage_error("verify-bundle", "%s: not sha256:<64 lowercase hex>", subject);
	} else {
		if (sw_read_file(subject, SW_SS_MAX_ARTIFACT, &data, &data_len, &err) < 0)
			return cli_fail(&err);
		art.data = (const unsigned char *)data;
		art.len = data_len;
		sw_sha256(data, data_len, art.sha256);
	}
	sw_ss_policy pol = { .identity = identity, .issuer = issuer };
	if (key_path) {
		if (sw_read_file(key_path, 1 << 20, &key_pem, &key_len, &err) < 0)
			return cli_fail(&err);
		if (sw_ss_pubkey_pem(key_pem, key_len, key_path, &pol.key, &err) < 0)
			return fail(&err);
	}
	sw_ss_trust tr;
	sw_ss_bundle b;
	int r = sw_ss_trust_parse(root_json, root_len, root_path, &tr, &err);
	if (r == 0) {
		r = sw_ss_bundle_parse(bundle_json, bundle_len, bundle_path, &b, &err);
		if (r == 0) {
			r = sw_ss_verify(&tr, &b, &pol, &art, sw_now(), &err);
			if (r < 0)
				sw_err_prefix(&err, "%s", bundle_path);
		}
		sw_ss_bundle_free(&b);
	}
	sw_ss_trust_free(&tr);
	EVP_PKEY_free(pol.key);
	if (r < 0)
		return fail(&err);
	return 0;
}
