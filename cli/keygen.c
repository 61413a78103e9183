/* SPDX-License-Identifier: Apache-2.0 */
/* sigward keygen: a signing key pair for allowlists. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sign.h"

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* Ed25519 unless asked: small keys and signatures, no parameters to get wrong. */
	const char *alg = "ed25519", *out = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': alg = optarg; break;
		case 'o': out = optarg; break;
		case 'h':
			puts("usage: sigward keygen [--algorithm ed25519|ecdsa-p256|ecdsa-p384|rsa-3072] --out PREFIX\n"
			     "The algorithm defaults to ed25519.\n"
			     "Writes PREFIX.key (the private key, PKCS#8 PEM, mode 0600) and PREFIX.pub (the\n"
			     "public key to install in /etc/sigward/keys.d/ on the nodes) and prints the key\n"
			     "id. Never overwrites an existing file. Keys that live in an HSM are made with\n"
			     "the HSM's own tools and used through a pkcs11: URI.\n"
			     "Exit 0 written, 2 usage or error.");
			return 0;
		default:
			return cli_usage_error("keygen", "bad option");
		}
	}
	if (!out || optind != argc)
		return cli_usage_error("keygen", "--out PREFIX is required");
	sw_error e = { 0 };
	char id[SW_KEYID_HEX];
	if (sw_keygen(alg, out, id, &e) < 0)
		return cli_fail(&e);
	printf("%s.key: private key (%s), keep it secret\n%s.pub: public key, id %s\n", out, alg, out, id);
	return 0;
}
