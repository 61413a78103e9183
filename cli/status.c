/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigward status: what an operator asks first: is this node enforcing, with which
 * keys and which list, is the refresh daemon keeping it fresh, is every runtime
 * wired to sigward, and what was decided in the last 24 hours.
 * Read-only: the list is verified without the cache and without raising serials.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "allowlist.h"
#include "cli.h"
#include "config.h"
#include "ctrmeta.h"
#include "declog.h"
#include "heartbeat.h"
#include "install.h"
#include "json.h"
#include "keys.h"
#include "sandbox.h"
#include "util.h"
#include "wiring.h"

#define DEFAULT_HOOKS_DIR "/usr/share/containers/oci/hooks.d"
#define DEFAULT_CONTAINERD "/etc/containerd/config.toml"
#define DEFAULT_DOCKER "/etc/docker/daemon.json"
#define STATUS_JSON_MAX (64 * 1024)
#define WIRING_FILE_MAX (4u << 20)
#define LOG_WINDOW (24 * 3600)

enum { EXIT_NO_LIST = 1, EXIT_WARN_MODE = 3 };

typedef struct wiring {
	char hooks[4200];          /* hooks.d file path */
	bool hooks_present;
	char hooks_msg[4600];
	bool containerd;
	char containerd_msg[4600];
	bool docker;
	char docker_msg[4600];
	/* The CRI plugin's pause image, when containerd is wired: every pod sandbox
	 * starts from it, so it must be listed like any other image. */
	sw_containerd_wiring cw;
	bool pause_shown;
	int pause_listed;          /* 1 listed, 0 not listed, -1 cannot tell */
	char pause_msg[4600];
} wiring;

typedef struct counts {
	unsigned long allow, deny, warn, busy, unreadable;   /* busy: store-busy denials, not in deny or warn */
	bool ok;
	/* The newest heartbeat of `sigward selftest` (lib/heartbeat.h), whatever its age. */
	bool hb_seen;
	int64_t hb_time, hb_max_gap;
	size_t hb_canaries, hb_refused;
	char hb_mode[16];
	char msg[SW_ERROR_MAX];
} counts;

/* yajl's YAJL_GET_STRING may yield NULL; callers checked the type already. */
static const char *sval(yajl_val v)
{
	const char *s = YAJL_GET_STRING(v);
	return s ? s : "";
}

static void check_hooks(const char *dir, wiring *w)
{
	snprintf(w->hooks, sizeof w->hooks, "%s/sigward.json", dir);
	_cleanup_free_ char *text = NULL;
	size_t len;
	sw_error e = { 0 };
	if (sw_read_file(w->hooks, WIRING_FILE_MAX, &text, &len, &e) < 0) {
		snprintf(w->hooks_msg, sizeof w->hooks_msg, "%s: not present (podman and CRI-O do not call sigward-hook)",
			 w->hooks);
		return;
	}
	_cleanup_yajl_ yajl_val v = NULL;
	(void)sw_json_tree(text, len, w->hooks, &v, &e);
	const char *p[] = { "hook", "path", NULL };
	yajl_val hp = v ? yajl_tree_get(v, p, yajl_t_string) : NULL;
	if (hp && strstr(sval(hp), "sigward-hook")) {
		w->hooks_present = true;
		/* sigward-hook hands the starts that need a list's signatures
		 * checked to sigward-hook-verify beside it: without it, every new
		 * list's first start is refused. */
		char verifier[4096];
		const char *slash = strrchr(sval(hp), '/');
		snprintf(verifier, sizeof verifier, "%.*ssigward-hook-verify", slash ? (int)(slash - sval(hp) + 1) : 0,
			 sval(hp));
		if (access(verifier, X_OK) == 0)
			snprintf(w->hooks_msg, sizeof w->hooks_msg, "%s: runs %s", w->hooks, sval(hp));
		else
			snprintf(w->hooks_msg, sizeof w->hooks_msg,
				 "%s: runs %.300s, but %.300s is missing: a new list's starts will be refused", w->hooks,
				 sval(hp), verifier);
	} else {
		snprintf(w->hooks_msg, sizeof w->hooks_msg, "%s: present but does not run sigward-hook", w->hooks);
	}
}

static void check_containerd(const char *path, wiring *w)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	sw_error e = { 0 };
	if (sw_read_file(path, WIRING_FILE_MAX, &text, &len, &e) < 0) {
		snprintf(w->containerd_msg, sizeof w->containerd_msg, "%s: not present", path);
		return;
	}
	const sw_containerd_wiring *cw = &w->cw;
	sw_wiring_containerd(text, len, &w->cw);
	w->containerd = cw->wired;
	/* Wired is the default runtime only: a RuntimeClass handler runs just
	 * the pods that name its class. */
	if (cw->wired)
		snprintf(w->containerd_msg, sizeof w->containerd_msg,
			 "%s:%u: runtime %.100s (the default, every pod): BinaryName = \"%.160s\"", path,
			 cw->binary_line, cw->runtime, cw->binary);
	else if (cw->runtime_class)
		snprintf(w->containerd_msg, sizeof w->containerd_msg,
			 "%s:%u: only runtime %.100s (a RuntimeClass handler) runs sigward-runc; the default runtime "
			 "%.100s does not, so pods without that class start unchecked", path, cw->binary_line, cw->runtime,
			 cw->default_runtime);
	else
		snprintf(w->containerd_msg, sizeof w->containerd_msg, "%s: no BinaryName pointing at sigward-runc", path);
}

#define DEFAULT_CONTAINERD_ROOT "/var/lib/containerd"
#define CRI_NAMESPACE "k8s.io"

/* Is the pause image (sandbox_image) in the installed list? Any digest a start
 * from it can resolve to (the record's target, an index's manifests in the
 * store, their configs) being listed is enough. */
static void check_pause(const char *ctrd_path, const sw_list *l, bool list_ok, wiring *w)
{
	const sw_containerd_wiring *cw = &w->cw;
	if (!cw->wired)
		return;
	w->pause_shown = true;
	w->pause_listed = -1;
	if (!cw->sandbox_image[0]) {
		snprintf(w->pause_msg, sizeof w->pause_msg,
			 "%s: sandbox_image is not set: the CRI plugin's built-in pause image starts every pod "
			 "and must be listed like any other image", ctrd_path);
		return;
	}
	const char *root = cw->root[0] ? cw->root : DEFAULT_CONTAINERD_ROOT;
	sw_resolution *res = calloc(1, sizeof *res);
	sw_error e = { 0 };
	int r = res ? sw_containerd_image(root, CRI_NAMESPACE, cw->sandbox_image, res, &e)
		    : sw_err_errno(&e, ENOMEM, "status");
	char name[SW_SCOPE_MAX + 32];
	snprintf(name, sizeof name, "%s#%llu", l->scope, (unsigned long long)l->serial);
	if (r < 0) {
		snprintf(w->pause_msg, sizeof w->pause_msg, "%.1024s (%s:%u): cannot tell: %s", cw->sandbox_image,
			 ctrd_path, cw->sandbox_line, e.msg);
	} else if (r == 0) {
		snprintf(w->pause_msg, sizeof w->pause_msg,
			 "%.1024s (%s:%u): not in containerd's store (%s, namespace " CRI_NAMESPACE
			 ") yet; every pod starts from it, so it must be listed", cw->sandbox_image, ctrd_path,
			 cw->sandbox_line, root);
	} else if (!list_ok) {
		snprintf(w->pause_msg, sizeof w->pause_msg, "%.1024s: cannot tell: no valid list", cw->sandbox_image);
	} else {
		w->pause_listed = 0;
		for (size_t i = 0; i < res->n && w->pause_listed == 0; i++) {
			r = sw_list_lookup(l, res->d[i].digest, res->d[i].kind, NULL, 0, &e);
			if (r < 0) {
				w->pause_listed = -1;
				snprintf(w->pause_msg, sizeof w->pause_msg, "%.1024s: cannot tell: %s", cw->sandbox_image,
					 e.msg);
			} else if (r == 1) {
				w->pause_listed = 1;
				snprintf(w->pause_msg, sizeof w->pause_msg, "%.1024s: listed in allowlist %s as %s (%s)",
					 cw->sandbox_image, name, res->d[i].digest, res->d[i].kind);
			}
		}
		if (w->pause_listed == 0)
			snprintf(w->pause_msg, sizeof w->pause_msg,
				 "%.1024s (%s %s): NOT in allowlist %s: every pod sandbox is refused",
				 cw->sandbox_image, res->n ? res->d[0].kind : "image", res->n ? res->d[0].digest : "",
				 name);
	}
	free(res);
}

static void check_docker(const char *path, wiring *w)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	sw_error e = { 0 };
	if (sw_read_file(path, WIRING_FILE_MAX, &text, &len, &e) < 0) {
		snprintf(w->docker_msg, sizeof w->docker_msg, "%s: not present", path);
		return;
	}
	sw_docker_wiring dw;
	if (sw_wiring_docker(text, len, path, &dw, &e) < 0) {
		snprintf(w->docker_msg, sizeof w->docker_msg, "%s", e.msg);
		return;
	}
	w->docker = dw.runtime && dw.is_default;
	if (!dw.runtime)
		snprintf(w->docker_msg, sizeof w->docker_msg, "%s: no runtime runs sigward-runc", path);
	else if (dw.is_default)
		snprintf(w->docker_msg, sizeof w->docker_msg, "%s: runtime '%.64s' is the default-runtime", path, dw.name);
	else
		snprintf(w->docker_msg, sizeof w->docker_msg,
			 "%s: runtime '%.64s' exists but is not the default-runtime (only --runtime %.64s uses it)", path,
			 dw.name, dw.name);
}

static void count_decisions(const char *log_file, int64_t since, counts *k)
{
	if (!log_file || !log_file[0]) {
		snprintf(k->msg, sizeof k->msg, "the decision log is off (log_file is empty)");
		return;
	}
	_cleanup_fclose_ FILE *f = fopen(log_file, "re");
	if (!f) {
		snprintf(k->msg, sizeof k->msg, "%s: cannot open: %s", log_file, strerror(errno));
		return;
	}
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if ((size_t)n > SW_LOG_LINE_MAX) {
			k->unreadable++;
			continue;
		}
		_cleanup_yajl_ yajl_val v = NULL;
		sw_error je = { 0 };
		(void)sw_json_tree(line, (size_t)n, log_file, &v, &je);
		/* A heartbeat is no decision, and no unreadable line either. */
		const char *kp0[] = { "kind", NULL };
		yajl_val kd = v ? yajl_tree_get(v, kp0, yajl_t_string) : NULL;
		if (kd && strcmp(sval(kd), SW_HEARTBEAT_KIND) == 0) {
			sw_heartbeat hb;
			if (sw_heartbeat_parse(line, (size_t)n, log_file, &hb, &je) != 1) {
				k->unreadable++;
				continue;
			}
			k->hb_seen = true;
			k->hb_time = hb.time;
			k->hb_max_gap = hb.interval * (int64_t)hb.tolerance;
			k->hb_canaries = hb.n_canaries;
			k->hb_refused = 0;
			for (size_t i = 0; i < hb.n_canaries; i++)
				k->hb_refused += hb.canaries[i].result == SW_CANARY_REFUSED;
			snprintf(k->hb_mode, sizeof k->hb_mode, "%s", hb.mode);
			continue;
		}
		const char *tp[] = { "time", NULL }, *dp[] = { "decision", NULL };
		yajl_val t = v ? yajl_tree_get(v, tp, yajl_t_string) : NULL;
		yajl_val d = v ? yajl_tree_get(v, dp, yajl_t_string) : NULL;
		int64_t when;
		if (!t || !d || sw_parse_rfc3339(sval(t), strlen(sval(t)), &when) < 0) {
			k->unreadable++;
		} else if (when >= since) {
			const char *s = sval(d);
			const char *kp[] = { "denial", NULL };
			yajl_val kind = yajl_tree_get(v, kp, yajl_t_string);
			if (strcmp(s, "allow") != 0 && kind && strcmp(sval(kind), "store-busy") == 0)
				k->busy++;    /* no verdict on the image: a store was being written */
			else if (strcmp(s, "allow") == 0)
				k->allow++;
			else if (strcmp(s, "warn") == 0)
				k->warn++;
			else
				k->deny++;
		}
	}
	k->ok = true;
}

static void print_refresh_text(yajl_val v, const char *prefix)
{
	for (size_t i = 0; i < YAJL_GET_OBJECT(v)->len; i++) {
		const char *key = YAJL_GET_OBJECT(v)->keys[i];
		yajl_val x = YAJL_GET_OBJECT(v)->values[i];
		char name[256];
		snprintf(name, sizeof name, "%.120s%.120s", prefix, key);
		if (YAJL_IS_OBJECT(x)) {
			char p[260];
			snprintf(p, sizeof p, "%s.", name);
			print_refresh_text(x, p);
			continue;
		}
		printf("  %-22s ", name);
		if (YAJL_IS_STRING(x))
			printf("%s\n", sval(x));
		else if (YAJL_IS_NUMBER(x))
			printf("%s\n", YAJL_GET_NUMBER(x));
		else if (YAJL_IS_TRUE(x))
			puts("true");
		else if (YAJL_IS_FALSE(x))
			puts("false");
		else if (YAJL_IS_NULL(x))
			puts("-");
		else
			puts("(array)");
	}
}

static void usage(void)
{
	puts("usage: sigward status [--config FILE] [--json] [--hooks-dir DIR]\n"
	     "                      [--containerd-config FILE] [--docker-config FILE]\n"
	     "Shows the mode and scope, the trusted keys (id, algorithm, file), the installed\n"
	     "list (serial, expiry, time left, signers, and whether it verifies now), the\n"
	     "refresh daemon's state file when present, how the runtimes are wired to\n"
	     "sigward (podman/CRI-O hooks.d, containerd BinaryName, Docker runtimes), whether\n"
	     "the pause image of Kubernetes pods (containerd's sandbox_image) is listed, and\n"
	     "the decisions of the last 24 hours from the decision log.\n"
	     "Defaults: --hooks-dir " DEFAULT_HOOKS_DIR ",\n"
	     "  --containerd-config " DEFAULT_CONTAINERD ", --docker-config " DEFAULT_DOCKER ".\n"
	     "Exit 0 enforcing with a valid list; 1 no valid list (none installed, expired,\n"
	     "bad signatures, wrong scope, no scope configured: enforce mode denies every\n"
	     "start); 3 the list is valid but mode is warn (nothing is denied); 2 usage or\n"
	     "configuration error.");
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "hooks-dir", required_argument, NULL, 'H' },
		{ "containerd-config", required_argument, NULL, 'C' },
		{ "docker-config", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *hooks_dir = DEFAULT_HOOKS_DIR, *ctrd = DEFAULT_CONTAINERD, *docker = DEFAULT_DOCKER;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'j': json = true; break;
		case 'H': hooks_dir = optarg; break;
		case 'C': ctrd = optarg; break;
		case 'D': docker = optarg; break;
		case 'h': usage(); return 0;
		default: return cli_usage_error("status", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	sw_error e = { 0 };
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	if (sw_config_load(&cfg, config, &e) < 0)
		return cli_fail(&e);
	int64_t now = sw_now();

	/* Keys. */
	sw_keyring kr = { 0 };
	sw_error ke = { 0 };
	bool keys_ok = sw_keyring_load(cfg.keys_dir, &kr, &ke) >= 0;
	/* What else is in keys.d: files the loader ignores, and private keys, which
	 * have no business on a node. */
	sw_keys_extra extra[32];
	size_t n_extra = 0;
	if (sw_keys_survey(cfg.keys_dir, extra, SW_ARRAY_SIZE(extra), &n_extra, NULL) < 0)
		n_extra = 0;
	size_t shown_extra = n_extra < SW_ARRAY_SIZE(extra) ? n_extra : SW_ARRAY_SIZE(extra);

	/* The installed list, verified as the hook would (read-only). */
	sw_list l = { .dirfd = -1 };
	sw_error le = { 0 };
	bool have_list = sw_list_open_current(cfg.lists_dir, &l, &le) >= 0;
	bool list_ok = have_list && sw_list_verify_full(&cfg, NULL, &l, &le) >= 0;
	char target[512] = "";
	{
		char p[4200];
		snprintf(p, sizeof p, "%s/current", cfg.lists_dir);
		ssize_t n = readlink(p, target, sizeof target - 1);
		target[n > 0 ? n : 0] = '\0';
	}

	/* Refresh state written by sigwardd. */
	_cleanup_free_ char *rtext = NULL;
	size_t rlen = 0;
	yajl_val refresh = NULL;
	char rmsg[SW_ERROR_MAX] = "";
	if (cfg.refresh_status_file && cfg.refresh_status_file[0]) {
		sw_error re = { 0 };
		if (sw_read_file(cfg.refresh_status_file, STATUS_JSON_MAX, &rtext, &rlen, &re) < 0)
			snprintf(rmsg, sizeof rmsg, "%s", re.code == ENOENT ? "no refresh state (sigwardd has not run)" : re.msg);
		/* The daemon's account writes this file: the depth-checked parser, so
		 * no nesting can exhaust the stack (and print_refresh_text recurses). */
		else if (sw_json_tree(rtext, rlen, cfg.refresh_status_file, &refresh, &re) < 0)
			snprintf(rmsg, sizeof rmsg, "%s", re.msg);
		else if (!YAJL_IS_OBJECT(refresh))
			snprintf(rmsg, sizeof rmsg, "%s: not a JSON object", cfg.refresh_status_file);
	}
	if (refresh && !YAJL_IS_OBJECT(refresh)) {
		yajl_tree_free(refresh);
		refresh = NULL;
	}

	wiring w = { 0 };
	check_hooks(hooks_dir, &w);
	check_containerd(ctrd, &w);
	check_docker(docker, &w);
	check_pause(ctrd, &l, list_ok, &w);

	counts k = { 0 };
	count_decisions(cfg.log_file, now - LOG_WINDOW, &k);
	/* The kernel the hook and sigward-runc decide on: with Landlock their
	 * writes are confined, without it not (lib/sandbox.h). */
	int landlock = sw_sandbox_landlock_abi();

	int rc = !list_ok || !cfg.scope ? EXIT_NO_LIST : cfg.mode == SW_MODE_WARN ? EXIT_WARN_MODE : 0;
	char ex[32] = "", left[64] = "";
	if (have_list) {
		sw_format_rfc3339(l.expires, ex);
		cli_time_left(l.expires, now, left, sizeof left);
	}

	if (json) {
		printf("{\"mode\":\"%s\",\"scope\":", sw_mode_name(cfg.mode));
		cli_json_str(stdout, cfg.scope);
		printf(",\"threshold\":%u,\"config_files\":[", cfg.threshold);
		for (unsigned i = 0; i < cfg.n_files; i++) {
			if (i)
				putchar(',');
			cli_json_str(stdout, cfg.files[i]);
		}
		printf("],\"settings\":[");
		for (unsigned i = 0;; i++) {
			const char *sec, *key, *file;
			char value[4200];
			unsigned line;
			if (!sw_config_key(&cfg, i, &sec, &key, value, sizeof value, &file, &line))
				break;
			printf("%s{\"section\":\"%s\",\"key\":\"%s\",\"value\":", i ? "," : "", sec, key);
			cli_json_str(stdout, value);
			printf(",\"file\":");
			cli_json_str(stdout, file);
			if (file)
				printf(",\"line\":%u}", line);
			else
				printf(",\"line\":null}");
		}
		printf("],\"keys_dir\":");
		cli_json_str(stdout, cfg.keys_dir);
		printf(",\"keys\":[");
		for (size_t i = 0; i < kr.n; i++) {
			printf("%s{\"id\":\"%s\",\"algorithm\":\"%s\",\"file\":", i ? "," : "", kr.keys[i].id, kr.keys[i].alg);
			cli_json_str(stdout, kr.keys[i].file);
			putchar('}');
		}
		printf("],\"keys_error\":");
		cli_json_str(stdout, keys_ok ? NULL : ke.msg);
		printf(",\"keys_dir_other_files\":[");
		for (size_t i = 0; i < shown_extra; i++) {
			printf("%s{\"file\":", i ? "," : "");
			cli_json_str(stdout, extra[i].name);
			printf(",\"private_key\":%s,\"read_as_key\":%s}", extra[i].private_key ? "true" : "false",
			       extra[i].pub_name ? "true" : "false");
		}
		putchar(']');
		printf(",\"list\":");
		if (have_list) {
			printf("{\"path\":");
			cli_json_str(stdout, l.path);
			printf(",\"generation\":");
			cli_json_str(stdout, target);
			printf(",\"scope\":");
			cli_json_str(stdout, l.scope);
			printf(",\"serial\":%llu,\"expires\":\"%s\",\"seconds_left\":%lld,\"entries\":%llu,\"signers\":[",
			       (unsigned long long)l.serial, ex, (long long)(l.expires - now), (unsigned long long)l.n_entries);
			for (size_t i = 0; list_ok && i < l.n_signers; i++)
				printf("%s\"%s\"", i ? "," : "", l.signers[i]);
			printf("],\"valid\":%s,\"error\":", list_ok ? "true" : "false");
			cli_json_str(stdout, list_ok ? NULL : le.msg);
			putchar('}');
		} else {
			printf("null,\"list_error\":");
			cli_json_str(stdout, le.msg);
		}
		printf(",\"refresh\":%s", refresh ? "" : "null");
		if (refresh) {
			/* It parsed as one JSON object: the text itself is valid here. */
			size_t n = rlen;
			while (n && (rtext[n - 1] == '\n' || rtext[n - 1] == ' ' || rtext[n - 1] == '\r' || rtext[n - 1] == '\t'))
				n--;
			fwrite(rtext, 1, n, stdout);
		}
		printf(",\"refresh_note\":");
		cli_json_str(stdout, rmsg[0] ? rmsg : NULL);
		printf(",\"wiring\":{\"hooks_d\":{\"ok\":%s,\"detail\":", w.hooks_present ? "true" : "false");
		cli_json_str(stdout, w.hooks_msg);
		printf("},\"containerd\":{\"ok\":%s,\"detail\":", w.containerd ? "true" : "false");
		cli_json_str(stdout, w.containerd_msg);
		printf("},\"docker\":{\"ok\":%s,\"detail\":", w.docker ? "true" : "false");
		cli_json_str(stdout, w.docker_msg);
		printf("},\"pod_sandbox_image\":");
		if (w.pause_shown) {
			printf("{\"image\":");
			cli_json_str(stdout, w.cw.sandbox_image[0] ? w.cw.sandbox_image : NULL);
			printf(",\"listed\":%s,\"detail\":", w.pause_listed == 1 ? "true" : w.pause_listed == 0 ? "false" : "null");
			cli_json_str(stdout, w.pause_msg);
			putchar('}');
		} else {
			printf("null");
		}
		printf("},\"sandbox\":{\"landlock_abi\":%d}", landlock);
		printf(",\"decisions_24h\":");
		if (k.ok)
			printf("{\"allow\":%lu,\"deny\":%lu,\"warn\":%lu,\"store_busy\":%lu,\"unreadable\":%lu}", k.allow,
			       k.deny, k.warn, k.busy, k.unreadable);
		else
			printf("null");
		printf(",\"selftest\":");
		if (k.hb_seen) {
			char ht[32];
			sw_format_rfc3339(k.hb_time, ht);
			printf("{\"last_heartbeat\":\"%s\",\"age\":%lld,\"max_gap\":%lld,\"late\":%s,\"mode\":", ht,
			       (long long)(now - k.hb_time), (long long)k.hb_max_gap, now - k.hb_time > k.hb_max_gap ? "true" : "false");
			cli_json_str(stdout, k.hb_mode);
			printf(",\"canaries\":%zu,\"refused\":%zu}", k.hb_canaries, k.hb_refused);
		} else {
			printf("null");
		}
		printf(",\"decisions_error\":");
		cli_json_str(stdout, k.ok ? NULL : k.msg);
		printf(",\"exit\":%d}\n", rc);
	} else {
		printf("mode:        %s%s\n", sw_mode_name(cfg.mode),
		       cfg.mode == SW_MODE_WARN ? " (nothing is denied; would-be denials are logged)" : "");
		printf("scope:       %s\n", cfg.scope ? cfg.scope : "(not set: every start is denied)");
		printf("threshold:   %u\n", cfg.threshold);
		for (unsigned i = 0; i < cfg.n_files; i++)
			printf("config:      %s\n", cfg.files[i]);
		/* Every effective key and who set it: the answer to "why is this node
		 * in warn mode" is a file and a line. */
		printf("settings:    (effective value, and the file:line that set it)\n");
		for (unsigned i = 0;; i++) {
			const char *sec, *key, *file;
			char value[4200], name[64];
			unsigned line;
			if (!sw_config_key(&cfg, i, &sec, &key, value, sizeof value, &file, &line))
				break;
			snprintf(name, sizeof name, "[%s] %s", sec, key);
			if (file)
				printf("  %-30s = %-24s %s:%u\n", name, value[0] ? value : "(unset)", file, line);
			else
				printf("  %-30s = %-24s default\n", name, value[0] ? value : "(unset)");
		}
		printf("keys:        %s\n", cfg.keys_dir);
		for (size_t i = 0; i < kr.n; i++)
			printf("  %s  %-11s %s\n", kr.keys[i].id, kr.keys[i].alg, kr.keys[i].file);
		if (!keys_ok)
			printf("  error: %s\n", ke.msg);
		for (size_t i = 0; i < shown_extra; i++) {
			if (extra[i].private_key)
				printf("  WARNING: %s/%s holds a PRIVATE key: a signing key must not be on a node; "
				       "remove it%s\n", cfg.keys_dir, extra[i].name,
				       extra[i].pub_name ? " (named .pub, it also makes every start be denied)" : "");
			else
				printf("  note: %s/%s is not a *.pub key file: ignored\n", cfg.keys_dir, extra[i].name);
		}
		if (n_extra > shown_extra)
			printf("  note: %zu more files in %s that are not keys\n", n_extra - shown_extra, cfg.keys_dir);
		if (have_list) {
			printf("list:        %s#%llu (%s -> %s), %llu entries\n", l.scope, (unsigned long long)l.serial,
			       l.path, target, (unsigned long long)l.n_entries);
			printf("  expires    %s (%s)\n", ex, left);
			for (size_t i = 0; list_ok && i < l.n_signers; i++)
				printf("  signed by  %s\n", l.signers[i]);
			if (list_ok)
				printf("  valid      yes\n");
			else
				printf("  valid      NO: %s\n", le.msg);
		} else {
			printf("list:        none: %s\n", le.msg);
		}
		printf("refresh:     %s\n", refresh ? cfg.refresh_status_file : rmsg[0] ? rmsg : "not configured");
		if (refresh)
			print_refresh_text(refresh, "");
		printf("wiring:\n  podman/CRI-O %s %s\n  containerd   %s %s\n  docker       %s %s\n",
		       w.hooks_present ? "yes" : "no ", w.hooks_msg, w.containerd ? "yes" : "no ", w.containerd_msg,
		       w.docker ? "yes" : "no ", w.docker_msg);
		if (w.pause_shown)
			printf("  pod pause    %s %s\n",
			       w.pause_listed == 1 ? "yes" : w.pause_listed == 0 ? "NO " : "?  ", w.pause_msg);
		/* What a compromised decision could still do here (docs/security.md). */
		if (landlock > 0)
			printf("sandbox:     Landlock ABI %d: a decision writes only beneath %s and the directory of %s\n",
			       landlock, cfg.state_dir, cfg.log_file && cfg.log_file[0] ? cfg.log_file : "(no log)");
		else
			printf("sandbox:     no Landlock on this kernel: a compromised decision could still write root's "
			       "files (no capabilities, no exec, no sockets still hold)\n");
		/* Store-busy denials apart: a store was being written during every
		 * read, nothing was decided about an image, a retry works. */
		char busy[96] = "";
		if (k.busy)
			snprintf(busy, sizeof busy, ", %lu refused while a store was busy (not policy)", k.busy);
		if (k.ok)
			printf("last 24h:    %lu allowed, %lu denied, %lu would-deny (warn)%s%s\n", k.allow, k.deny, k.warn,
			       busy,
			       k.unreadable ? " (some lines unreadable: run 'sigward log verify')" : "");
		else
			printf("last 24h:    %s\n", k.msg);
		/* The self-test's proof of life (sigward-selftest(8)): what the audit's
		 * step 9 will find for the time since. */
		if (k.hb_seen) {
			char ago[64];
			cli_time_left(k.hb_time, now, ago, sizeof ago);
			bool late = now - k.hb_time > k.hb_max_gap;
			printf("selftest:    %slast heartbeat %s, %s %llds allowed%s: %zu of %zu canaries refused, mode %s\n",
			       late ? "LATE: " : "", ago, late ? "more than the" : "within the", (long long)k.hb_max_gap,
			       late ? " (is sigward-selftest.timer running?)" : "", k.hb_refused, k.hb_canaries, k.hb_mode);
		} else if (k.ok) {
			printf("selftest:    no heartbeat in the log (systemctl enable --now sigward-selftest.timer)\n");
		}
		printf("verdict:     %s\n", rc == 0 ? "enforcing with a valid list"
				       : rc == EXIT_WARN_MODE ? "NOT enforcing: warn mode"
				       : "NOT protected: no valid list, every start is denied in enforce mode");
	}
	yajl_tree_free(refresh);
	sw_list_close(&l);
	sw_keyring_free(&kr);
	return rc;
}
