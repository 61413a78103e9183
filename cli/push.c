/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward allowlist push: upload a signed list directory to an OCI registry as the
 * artifact sigwardd's oci:// source reads (lib/fetch.c, docs/daemon.md).
 *
 * The registry is untrusted (nodes verify every list they fetch), so push checks
 * only what catches a producer's mistake before it reaches every node: the
 * manifest parses and manifest.sig is not empty. It does not verify signatures:
 * the producer's machine need not hold the nodes' trusted keys.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "cli.h"
#include "config.h"
#include "evidence.h"
#include "fetch.h"
#include "util.h"

static void usage(FILE *f)
{
	fputs("usage: sigward allowlist push [--config FILE] [--ca-file FILE] [--credentials FILE]\n"
	      "                              DIR oci://HOST[:PORT]/REPOSITORY:TAG\n"
	      "Uploads the signed list in DIR (manifest, entries, manifest.sig) as an OCI artifact\n"
	      "(one manifest, the three files as layers) and prints the manifest's digest. A list's\n"
	      "evidence (allowlist compile) is pushed first, as an artifact of its own tagged\n"
	      "sha256-<hex of that digest>.evidence, which sigwardd fetches with the list.\n"
	      "oci+http:// talks plain HTTP to a registry (tests only).\n"
	      "  --config FILE       read ca_file, credentials, timeout and max_size from FILE's\n"
	      "                      [refresh] section (without it, built-in defaults; /etc is not read)\n"
	      "  --ca-file FILE      trust the registry's certificate from this CA file\n"
	      "  --credentials FILE  one line 'user:password' for Basic or token authentication\n"
	      "Exit 0 pushed, 1 the registry refused or could not be reached, 2 usage or local error.\n",
	      f);
}

static int set_str(char **field, const char *value)
{
	char *s = strdup(value);
	if (!s)
		return -1;
	free(*field);
	*field = s;
	return 0;
}

int cmd_allowlist_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "credentials", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *ca_file = NULL, *credentials = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'a': ca_file = optarg; break;
		case 'u': credentials = optarg; break;
		case 'h': usage(stdout); return 0;
		default: return cli_usage_error("allowlist push", "bad option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("allowlist push", "expected DIR and oci://HOST[:PORT]/REPOSITORY:TAG");
	const char *dir = argv[optind], *url = argv[optind + 1];
	if (strncmp(url, "oci://", 6) != 0 && strncmp(url, "oci+http://", 11) != 0)
		return cli_usage_error("allowlist push", "'%s' is not an oci:// reference", url);

	sw_error e = { 0 };
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	int r = config ? sw_config_load(&cfg, config, &e) : sw_config_defaults(&cfg, &e);
	if (r >= 0 && ((ca_file && set_str(&cfg.refresh_ca_file, ca_file) < 0) ||
		       (credentials && set_str(&cfg.refresh_credentials, credentials) < 0)))
		r = sw_err(&e, ENOMEM, "out of memory");
	if (r < 0)
		return cli_fail(&e);

	/* A producer's slip (the wrong directory, a list not signed yet) is caught
	 * here rather than by every node that fetches it. */
	sw_list l;
	r = sw_list_open_dir(dir, &l, &e);
	char scope[SW_SCOPE_MAX + 1] = "";
	unsigned long long serial = 0;
	int has_evidence = 0;
	if (r >= 0) {
		snprintf(scope, sizeof scope, "%s", l.scope);
		serial = (unsigned long long)l.serial;
		/* An evidence file left over from another list would be dropped by
		 * every node (it is not this list's anchor): refuse it here. */
		sw_evidence ev;
		r = has_evidence = sw_evidence_open(&l, &ev, &e);
		sw_evidence_free(&ev);
	}
	sw_list_close(&l);
	if (r >= 0) {
		char what[4200];
		snprintf(what, sizeof what, "%s/%s", dir, SW_SIGS_NAME);
		_cleanup_free_ char *sig = NULL;
		size_t len = 0;
		r = sw_read_file(what, SW_SIGS_MAX, &sig, &len, &e);
		size_t i = 0;
		while (r >= 0 && i < len && (sig[i] == '\n' || sig[i] == '\r' || sig[i] == ' '))
			i++;
		if (r >= 0 && i == len)
			r = sw_err(&e, SW_EVERIFY, "%s: empty: sign the list before pushing it", what);
	}
	if (r < 0)
		return cli_fail(&e);

	char digest[SW_DIGEST_STR + 8];
	r = sw_push(&cfg, dir, url, digest, sizeof digest, &e);
	if (r < 0) {
		fprintf(stderr, "sigward: push failed: %s\n", e.msg);
		return 1;
	}
	fprintf(stderr, "sigward: pushed %s#%llu to %s%s\n", scope, serial, url,
		has_evidence > 0 ? " with its evidence" : "");
	printf("%s\n", digest);
	return 0;
}
