/* SPDX-License-Identifier: Apache-2.0 */
/* sigward log show: read the decision log, filtered, as a table or JSON lines. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "cli.h"
#include "config.h"
#include "declog.h"
#include "heartbeat.h"
#include "json.h"
#include "util.h"

static const char *get_str(yajl_val v, const char *a, const char *b)
{
	const char *p[] = { a, b, NULL };
	yajl_val x = yajl_tree_get(v, p, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

/* The digest to show: the one that matched, else the first one resolved. */
static const char *shown_digest(yajl_val v)
{
	const char *m = get_str(v, "matched", NULL);
	if (m)
		return m;
	const char *p[] = { "digests", NULL };
	yajl_val d = yajl_tree_get(v, p, yajl_t_array);
	if (d && YAJL_GET_ARRAY(d)->len) {
		const char *dp[] = { "digest", NULL };
		yajl_val x = yajl_tree_get(YAJL_GET_ARRAY(d)->values[0], dp, yajl_t_string);
		if (x)
			return YAJL_GET_STRING(x);
	}
	return "-";
}

/* The VERDICT column: the record's decision, except that a denial (or warn
 * mode's would-deny) of kind store-busy reads "busy" / "warn-busy": no verdict
 * on the image, a store was being written during every read and a retry of
 * the start works. A record without "denial" is a policy decision. */
static const char *shown_verdict(yajl_val v, const char *decision, bool *busy)
{
	const char *k = get_str(v, "denial", NULL);
	*busy = k && strcmp(k, "store-busy") == 0 && strcmp(decision, "allow") != 0;
	if (!*busy)
		return decision;
	return strcmp(decision, "warn") == 0 ? "warn-busy" : "busy";
}

int cmd_log_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "denied", no_argument, NULL, 'd' },
		{ "busy", no_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *since_arg = NULL;
	bool denied = false, busy_only = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': denied = true; break;
		case 'b': busy_only = true; break;
		case 's': since_arg = optarg; break;
		case 'j': json = true; break;
		case 'h':
			puts("usage: sigward log show [--config FILE] [--denied] [--busy] [--since TIME] [--json] [FILE]\n"
			     "Prints the decision log (FILE, or the configured log_file): one line per\n"
			     "decision with time, verdict, container, digest and reason, and one per\n"
			     "heartbeat of 'sigward selftest' (verdict 'alive': mode, list, canaries); --json prints the\n"
			     "records themselves (JSON lines). The verdict is allow, deny or warn, or busy\n"
			     "(warn-busy in warn mode) for a start refused because an image store was\n"
			     "being written during every read (\"denial\":\"store-busy\": not a policy\n"
			     "refusal, a retry works). --denied keeps policy denials and warn-mode would-be\n"
			     "denials, --busy the store-busy ones (both: either); --since keeps records at\n"
			     "or after TIME (RFC 3339) or within a duration before now (30m, 12h, 7d). The\n"
			     "table ends with a count of each kind, on standard error. Does not check the\n"
			     "hash chain: see 'sigward log verify'.\n"
			     "Exit 0 shown (even when nothing matched), 2 usage or error.");
			return 0;
		default:
			return cli_usage_error("log show", "bad option");
		}
	}
	if (optind + 1 < argc)
		return cli_usage_error("log show", "at most one FILE");
	int64_t since = INT64_MIN;
	if (since_arg && cli_parse_since(since_arg, sw_now(), &since) < 0)
		return cli_usage_error("log show", "--since: '%s' is neither an RFC 3339 UTC time nor a duration", since_arg);
	sw_error e = { 0 };
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	const char *file = optind < argc ? argv[optind] : NULL;
	if (!file) {
		if (sw_config_load(&cfg, config, &e) < 0)
			return cli_fail(&e);
		file = cfg.log_file;
	}
	if (!file || !file[0])
		return cli_usage_error("log show", "no log file configured or given");
	FILE *f = fopen(file, "re");
	if (!f) {
		sw_err_errno(&e, errno, "%s: cannot open", file);
		return cli_fail(&e);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0, bad = 0, n_allow = 0, n_deny = 0, n_warn = 0, n_busy = 0;
	if (!json)
		printf("%-20s  %-9s  %-16s  %-23s  %s\n", "TIME", "VERDICT", "CONTAINER", "DIGEST", "REASON");
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if ((size_t)n > SW_LOG_LINE_MAX) {
			bad++;
			continue;
		}
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		_cleanup_yajl_ yajl_val v = NULL;
		sw_error je = { 0 };
		(void)sw_json_tree(line, (size_t)n, file, &v, &je);
		const char *t = v ? get_str(v, "time", NULL) : NULL;
		const char *d = v ? get_str(v, "decision", NULL) : NULL;
		int64_t when;
		sw_heartbeat hb;
		int hr = t && !d ? sw_heartbeat_parse(line, (size_t)n, file, &hb, &je) : 0;
		if (hr == 1) {
			/* The self-test's heartbeat (lib/heartbeat.h): with --denied only
			 * one whose canaries were not all refused. */
			char what[1024] = "";
			bool weak = strcmp(hb.mode, "enforce") != 0 || hb.n_canaries == 0;
			for (size_t k = 0; k < hb.n_canaries; k++) {
				weak |= hb.canaries[k].result != SW_CANARY_REFUSED;
				snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s via %s %s", k ? ", " : "",
					 hb.canaries[k].runtime, hb.canaries[k].path, sw_canary_result_name(hb.canaries[k].result));
			}
			if (sw_parse_rfc3339(t, strlen(t), &when) < 0 || when < since || (denied && !weak) ||
			    (busy_only && !denied))
				continue;
			if (json) {
				puts(line);
				continue;
			}
			char list[SW_SCOPE_MAX + 32] = "(none)";
			if (hb.have_list)
				snprintf(list, sizeof list, "%s#%llu", hb.scope, (unsigned long long)hb.serial);
			printf("%-20s  %-9s  %-16s  %-23s  mode %s, list %s, canaries: %s\n", t, "alive", "(heartbeat)", "-",
			       hb.mode, list, hb.n_canaries ? what : "NONE (nothing wired)");
			continue;
		}
		if (!t || !d || sw_parse_rfc3339(t, strlen(t), &when) < 0) {
			/* Shown, not dropped: a damaged log must not look shorter. */
			fprintf(stderr, "sigward: %s:%lu: not a decision record\n", file, lineno);
			bad++;
			continue;
		}
		bool busy;
		const char *shown = shown_verdict(v, d, &busy);
		bool keep = when >= since;
		/* --denied: policy refusals only; --busy: store-busy ones only;
		 * both: any denial. */
		if (keep && (denied || busy_only))
			keep = strcmp(d, "allow") != 0 && ((denied && !busy) || (busy_only && busy));
		if (keep) {
			if (busy)
				n_busy++;
			else if (strcmp(d, "allow") == 0)
				n_allow++;
			else if (strcmp(d, "warn") == 0)
				n_warn++;
			else
				n_deny++;
		}
		if (keep && json) {
			puts(line);
		} else if (keep) {
			const char *id = get_str(v, "container", NULL);
			const char *dg = shown_digest(v);
			const char *reason = get_str(v, "reason", NULL);
			char dshort[32];
			snprintf(dshort, sizeof dshort, "%.23s", dg);
			printf("%-20s  %-9s  %-16.16s  %-23s  %s\n", t, shown, id ? id : "-", dshort, reason ? reason : "");
		}
	}
	free(line);
	fclose(f);
	/* After the table, on stderr (--json output stays JSON lines only).
	 * Store-busy denials are counted apart: they are no verdict on any image. */
	if (!json)
			fprintf(stderr, "sigward: %lu shown: %lu allowed, %lu denied by policy, %lu would-deny (warn), "
			"%lu refused while a store was busy\n", n_allow + n_deny + n_warn + n_busy, n_allow, n_deny,
			n_warn, n_busy);
	if (bad)
		fprintf(stderr, "sigward: %s: %lu line%s that are not decision records\n", file, bad, bad == 1 ? "" : "s");
	return 0;
}
