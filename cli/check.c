/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward check: the decision the hook would take, explained step by step.
 * Never changes state: no serial raise, no cache write, no log line (dry run).
 * Three forms: a bundle (as sigward-runc sees it), a runtime state document (as
 * the hook reads it on stdin), or a bare digest looked up in the current list.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "enforce.h"
#include "oci.h"
#include "resolve.h"
#include "util.h"

static void print_text(const sw_config *cfg, const char *id, const char *bundle, const sw_enforce_result *res)
{
	if (id)
		printf("container:  %s\n", id);
	if (bundle)
		printf("bundle:     %s\n", bundle);
	printf("mode:       %s\n", sw_mode_name(cfg->mode));
	if (res->resolve_rc < 0)
		printf("digests:    none: %s\n", res->resolve_msg);
	for (size_t i = 0; i < res->res.n; i++)
		printf("digest:     %s (%s, from %s)\n", res->res.d[i].digest, res->res.d[i].kind, res->res.d[i].source);
	if (res->res.reference[0])
		printf("reference:  %s\n", res->res.reference);
	if (res->scope[0]) {
		char ex[32], left[64];
		sw_format_rfc3339(res->expires, ex);
		printf("allowlist:  %s#%llu (%s), expires %s (%s)\n", res->scope, (unsigned long long)res->serial,
		       res->list_path, ex, cli_time_left(res->expires, sw_now(), left, sizeof left));
	}
	if (res->resolve_rc >= 0 && res->list_rc < 0)
		printf("list check: failed: %s\n", res->list_msg);
	else if (res->resolve_rc >= 0)
		printf("list check: signatures, threshold %u, scope, expiry and serial ok%s\n", cfg->threshold,
		       res->from_cache ? " (signatures from the verification cache)" : "");
	for (size_t i = 0; i < res->n_signers; i++)
		printf("signed by:  %s\n", res->signers[i]);
	if (res->matched[0])
		printf("matched:    %s%s%s\n", res->matched, res->matched_ref[0] ? " " : "", res->matched_ref);
	printf("decision:   %s: %s\n", sw_verdict_name(res->decision.verdict), res->decision.reason);
}

static void print_json(const sw_config *cfg, const char *id, const char *bundle, const sw_enforce_result *res)
{
	printf("{\"container\":");
	cli_json_str(stdout, id);
	printf(",\"bundle\":");
	cli_json_str(stdout, bundle);
	printf(",\"mode\":\"%s\",\"digests\":[", sw_mode_name(cfg->mode));
	for (size_t i = 0; i < res->res.n; i++) {
		printf("%s{\"digest\":\"%s\",\"kind\":", i ? "," : "", res->res.d[i].digest);
		cli_json_str(stdout, res->res.d[i].kind);
		printf(",\"source\":");
		cli_json_str(stdout, res->res.d[i].source);
		putchar('}');
	}
	printf("],\"resolve_error\":");
	cli_json_str(stdout, res->resolve_rc < 0 ? res->resolve_msg : NULL);
	printf(",\"allowlist\":");
	if (res->scope[0]) {
		printf("{\"scope\":");
		cli_json_str(stdout, res->scope);
		printf(",\"serial\":%llu,\"path\":", (unsigned long long)res->serial);
		cli_json_str(stdout, res->list_path);
		printf(",\"expires\":");
		cli_json_time(stdout, res->expires);
		putchar('}');
	} else {
		printf("null");
	}
	printf(",\"list_error\":");
	cli_json_str(stdout, res->list_rc < 0 || res->list_msg[0] ? res->list_msg : NULL);
	printf(",\"signers\":[");
	for (size_t i = 0; i < res->n_signers; i++)
		printf("%s\"%s\"", i ? "," : "", res->signers[i]);
	printf("],\"from_cache\":%s,\"matched\":", res->from_cache ? "true" : "false");
	cli_json_str(stdout, res->matched[0] ? res->matched : NULL);
	printf(",\"matched_reference\":");
	cli_json_str(stdout, res->matched_ref[0] ? res->matched_ref : NULL);
	printf(",\"decision\":\"%s\",\"reason\":", sw_verdict_name(res->decision.verdict));
	cli_json_str(stdout, res->decision.reason);
	printf("}\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'i' },
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *bundle = NULL, *id = NULL, *state = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'b': bundle = optarg; break;
		case 'i': id = optarg; break;
		case 's': state = optarg; break;
		case 'j': json = true; break;
		case 'h':
			puts("usage: sigward check [--config FILE] [--json] --bundle DIR [--id ID]\n"
			     "       sigward check [--config FILE] [--json] --state FILE\n"
			     "       sigward check [--config FILE] [--json] DIGEST\n"
			     "Explains the decision sigward-hook would take, step by step: the digests\n"
			     "resolved and their sources, the allowlist and its signers, the match, the\n"
			     "verdict. --bundle takes a bundle directory (as sigward-runc sees it),\n"
			     "--state a runtime state document (what the hook reads on stdin; '-' for\n"
			     "stdin), DIGEST (sha256:<hex>, bare hex, or REF@sha256:<hex>) is looked up\n"
			     "in the installed list without any bundle. Never changes state: no serial\n"
			     "raise, no cache write, no decision log line.\n"
			     "Exit 0 allow, 1 deny (or would deny in warn mode), 2 usage or error.");
			return 0;
		default:
			return cli_usage_error("check", "bad option");
		}
	}
	const char *digest_arg = optind < argc ? argv[optind] : NULL;
	int forms = (bundle != NULL) + (state != NULL) + (digest_arg != NULL);
	if (forms != 1 || optind + (digest_arg ? 1 : 0) != argc)
		return cli_usage_error("check", "give exactly one of --bundle DIR, --state FILE or DIGEST");
	if (id && !bundle)
		return cli_usage_error("check", "--id goes with --bundle");

	sw_error e = { 0 };
	char digest[SW_DIGEST_STR];
	if (digest_arg) {
		const char *at = strrchr(digest_arg, '@');
		const char *d = at ? at + 1 : digest_arg;
		if (sw_digest_normalize(d, strlen(d), digest) < 0)
			return cli_usage_error("check", "'%s' is not a digest (sha256:<64 hex>, 64 hex, or REF@sha256:<64 hex>)",
					       digest_arg);
	}
	sw_state st = { 0 };
	if (state) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		bool in = strcmp(state, "-") == 0;
		int r = in ? sw_read_fd(STDIN_FILENO, SW_STATE_MAX, "state (stdin)", &text, &len, &e)
			   : sw_read_file(state, SW_STATE_MAX, &text, &len, &e);
		if (r >= 0)
			r = sw_state_parse(text, len, in ? "state (stdin)" : state, &st, &e);
		if (r < 0) {
			sw_state_free(&st);
			return cli_fail(&e);
		}
		id = st.id;
		bundle = st.bundle;
	}
	if (!id)
		id = "check";
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	if (sw_config_load(&cfg, config, &e) < 0) {
		sw_state_free(&st);
		return cli_fail(&e);
	}
	sw_enforce_result res;
	if (digest_arg) {
		sw_enforce_digest(&cfg, digest, &res);
	} else {
		sw_enforce_req req = { .config = &cfg, .container_id = id, .bundle = bundle, .runtime = "check", .dry_run = true };
		sw_enforce(&req, &res);
	}
	if (json)
		print_json(&cfg, digest_arg ? NULL : id, digest_arg ? NULL : bundle, &res);
	else
		print_text(&cfg, digest_arg ? NULL : id, digest_arg ? NULL : bundle, &res);
	int rc = res.decision.verdict == SW_ALLOW ? 0 : 1;
	sw_state_free(&st);
	return rc;
}
