/* SPDX-License-Identifier: Apache-2.0 */
/* sigward check: the decision the hook would take, explained. Never changes state. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "enforce.h"
#include "util.h"

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *bundle = NULL, *id = "check";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'b': bundle = optarg; break;
		case 'i': id = optarg; break;
		case 'h':
			puts("usage: sigward check [--config FILE] --bundle DIR [--id ID]\n"
			     "Explains the decision sigward-hook would take for this bundle, without\n"
			     "recording it. Exit 0 allow, 1 deny (or would deny in warn mode), 2 error.");
			return 0;
		default:
			return cli_usage_error("check", "bad option");
		}
	}
	if (!bundle)
		return cli_usage_error("check", "--bundle is required");
	sw_error e = { 0 };
	sw_config cfg = { 0 };
	if (sw_config_load(&cfg, config, &e) < 0) {
		sw_config_free(&cfg);
		return cli_fail(&e);
	}
	sw_enforce_req req = { .config = &cfg, .container_id = id, .bundle = bundle, .runtime = "check", .dry_run = true };
	sw_enforce_result res;
	sw_enforce(&req, &res);
	printf("container:  %s\nbundle:     %s\nmode:       %s\n", id, bundle, sw_mode_name(cfg.mode));
	if (res.resolve_rc < 0)
		printf("digests:    none: %s\n", res.resolve_msg);
	for (size_t i = 0; i < res.res.n; i++)
		printf("digest:     %s (%s, from %s)\n", res.res.d[i].digest, res.res.d[i].kind, res.res.d[i].source);
	if (res.scope[0])
		printf("allowlist:  %s#%llu (%s)\n", res.scope, (unsigned long long)res.serial, res.list_path);
	if (res.list_rc < 0)
		printf("list check: failed: %s\n", res.list_msg);
	for (size_t i = 0; i < res.n_signers; i++)
		printf("signed by:  %s\n", res.signers[i]);
	if (res.matched[0])
		printf("matched:    %s%s%s\n", res.matched, res.matched_ref[0] ? " " : "", res.matched_ref);
	printf("decision:   %s: %s\n", sw_verdict_name(res.decision.verdict), res.decision.reason);
	sw_config_free(&cfg);
	return res.decision.verdict == SW_ALLOW ? 0 : 1;
}
