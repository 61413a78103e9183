/* SPDX-License-Identifier: Apache-2.0 */
/* sigward allowlist compile: image signatures + the image policy -> a list. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allowlist.h"
#include "build.h"
#include "cli.h"
#include "compile.h"
#include "config.h"
#include "evidence.h"
#include "imgpolicy.h"
#include "install.h"
#include "sigstore.h"
#include "util.h"

#define MAX_ARGS 4096

static int rm_tree_at(int dfd, const char *name)
{
	/* A list directory is flat: its files, nothing below. */
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	static const char *const files[] = { SW_MANIFEST_NAME, SW_ENTRIES_NAME, SW_SIGS_NAME, SW_EVIDENCE_NAME };
	for (size_t i = 0; i < SW_ARRAY_SIZE(files); i++)
		(void)unlinkat(fd, files[i], 0);
	close(fd);
	return unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Write the list into a new sibling directory, sign it, then put it in the
 * place of `out` in one rename (RENAME_EXCHANGE when out exists): a compile
 * that fails at any point leaves the old list as it was. */
static int write_list(sw_compile *c, const sw_build_opts *bo_in, const char *out, sw_signer *const *signers,
		      size_t nsigners, sw_error *e)
{
	_cleanup_free_ char *parent_s = strdup(out), *base_s = strdup(out);
	if (!parent_s || !base_s)
		return sw_err_errno(e, ENOMEM, "%s", out);
	size_t ol = strlen(base_s);
	while (ol > 1 && base_s[ol - 1] == '/')
		base_s[--ol] = '\0';
	char *slash = strrchr(base_s, '/');
	const char *base = slash ? slash + 1 : base_s;
	if (slash == base_s)
		snprintf(parent_s, strlen(out) + 1, "/");
	else if (slash)
		parent_s[slash - base_s] = '\0';
	else
		snprintf(parent_s, strlen(out) + 1, ".");
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return sw_err(e, SW_EINVAL, "%s: name the list directory itself", out);
	_cleanup_close_ int pfd = open(parent_s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return sw_err_errno(e, errno, "%s: cannot open", parent_s);
	struct stat st;
	bool exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && !S_ISDIR(st.st_mode))
		return sw_err(e, SW_EINVAL, "%s: exists and is not a directory", out);
	char tmp[300], tmp_path[4400];
	unsigned char rnd[6];
	if (getentropy(rnd, sizeof rnd) < 0)
		return sw_err_errno(e, errno, "getentropy");
	char hex[13];
	sw_hex(rnd, sizeof rnd, hex);
	snprintf(tmp, sizeof tmp, ".%.200s.compile-%s", base, hex);
	snprintf(tmp_path, sizeof tmp_path, "%s/%s", parent_s, tmp);
	if (mkdirat(pfd, tmp, 0755) < 0)
		return sw_err_errno(e, errno, "%s: cannot create", tmp_path);
	const char *ev = NULL;
	size_t evl = 0;
	sw_build_opts bo = *bo_in;
	int r = sw_compile_finish(c, &ev, &evl, e);
	if (r >= 0) {
		bo.evidence = ev;
		bo.evidence_len = evl;
		r = sw_build_write(c->entries, c->n, &bo, tmp_path, e);
	}
	if (r >= 0 && nsigners)
		r = sw_list_sign(tmp_path, signers, nsigners, e);
	if (r >= 0) {
		if (exists && renameat2(pfd, tmp, pfd, base, RENAME_EXCHANGE) < 0)
			r = sw_err_errno(e, errno, "%s: cannot replace", out);
		else if (!exists && renameat(pfd, tmp, pfd, base) < 0)
			r = sw_err_errno(e, errno, "%s: cannot create", out);
	}
	/* After an exchange the old list is at tmp; after a failure the new one. */
	if (r < 0 || exists)
		(void)rm_tree_at(pfd, tmp);
	if (r >= 0 && fsync(pfd) < 0)
		r = sw_err_errno(e, errno, "%s: cannot sync", parent_s);
	return r;
}

static void usage(void)
{
	puts("usage: sigward allowlist compile --policy FILE --scope SCOPE --serial N\n"
	     "                                 --expires TIME|DURATION --out DIR [--issued TIME] [--bins N]\n"
	     "                                 [--sign-key KEY]... [--rsa-pss] [--pkcs11-module PATH]\n"
	     "                                 [--passphrase-file FILE] [--layout-repository HOST/REPO]\n"
	     "                                 [--ca-file FILE] [--credentials FILE] [--timeout DURATION]\n"
	     "                                 [--json] (REF... | --repository REPO...)\n"
	     "Verifies each image's cosign signatures (the .sig tag, OCI 1.1 referrers or\n"
	     "their sha256-<hex> tag, an OCI layout) offline against the image policy FILE\n"
	     "(which repositories need which signers, k of n, and attestations; see\n"
	     "sigward(1) IMAGE POLICY), and writes DIR: an allowlist of the approved manifest\n"
	     "digests (an index with its platform manifests), each with its reference, and\n"
	     "DIR/evidence, covered by the list's signature, saying why each was approved\n"
	     "(signature or bundle, its digest, signer, key or identity and issuer, log index).\n"
	     "An image that fails is left out and reported, never listed.\n"
	     "REF: [oci://]host[:port]/repo[:tag|@sha256:hex], oci+http://... (plain HTTP),\n"
	     "oci-layout:DIR[:tag|@sha256:hex] (with --layout-repository, the repository the\n"
	     "layout's images are published under). --repository REPO compiles every tag of\n"
	     "REPO (registry tags/list, or a layout's ref names), cosign's sha256-* tags aside.\n"
	     "--sign-key signs the list as 'allowlist sign' does; otherwise sign DIR afterwards.\n"
	     "DIR is replaced in one rename once everything is written (and signed): when a\n"
	     "registry cannot be reached or answers wrongly, nothing is written and the old\n"
	     "list stays.\n"
	     "Exit 0 every image listed, 1 the list was written but some images were left out,\n"
	     "2 usage or error (nothing written).");
}

int cmd_allowlist_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'P' },
		{ "scope", required_argument, NULL, 's' },
		{ "serial", required_argument, NULL, 'n' },
		{ "expires", required_argument, NULL, 'e' },
		{ "issued", required_argument, NULL, 'i' },
		{ "bins", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "sign-key", required_argument, NULL, 'k' },
		{ "rsa-pss", no_argument, NULL, 'p' },
		{ "pkcs11-module", required_argument, NULL, 'm' },
		{ "passphrase-file", required_argument, NULL, 'F' },
		{ "layout-repository", required_argument, NULL, 'L' },
		{ "repository", required_argument, NULL, 'R' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "credentials", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = "allowlist compile";
	const char *policy = NULL, *out = NULL, *expires = NULL, *issued = NULL, *pass_file = NULL;
	const char *keys[SW_MAX_SIGS], *repos[64];
	size_t nk = 0, nr = 0;
	bool have_serial = false, json = false;
	sw_sign_opts so = { 0 };
	sw_build_opts bo = { 0 };
	sw_compile_opts co = { 0 };
	int64_t now = sw_now();
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'P': policy = optarg; break;
		case 's': bo.scope = optarg; break;
		case 'n':
			if (sw_parse_u64(optarg, strlen(optarg), &bo.serial) < 0)
				return cli_usage_error(cmd, "--serial takes an unsigned 64-bit number");
			have_serial = true;
			break;
		case 'e': expires = optarg; break;
		case 'i': issued = optarg; break;
		case 'b': {
			uint64_t b;
			if (sw_parse_u64(optarg, strlen(optarg), &b) < 0 || b == 0 || b > SW_MAX_BINS || (b & (b - 1)))
				return cli_usage_error(cmd, "--bins takes a power of two from 1 to %d", SW_MAX_BINS);
			bo.bins = (uint32_t)b;
			break;
		}
		case 'o': out = optarg; break;
		case 'k':
			if (nk == SW_ARRAY_SIZE(keys))
				return cli_usage_error(cmd, "at most %d --sign-key", SW_MAX_SIGS);
			keys[nk++] = optarg;
			break;
		case 'p': so.rsa_pss = true; break;
		case 'm': so.pkcs11_module = optarg; break;
		case 'F': pass_file = optarg; break;
		case 'L': co.layout_repository = optarg; break;
		case 'R':
			if (nr == SW_ARRAY_SIZE(repos))
				return cli_usage_error(cmd, "at most %zu --repository", SW_ARRAY_SIZE(repos));
			repos[nr++] = optarg;
			break;
		case 'C': co.ca_file = optarg; break;
		case 'c': co.credentials = optarg; break;
		case 't':
			if (sw_parse_duration(optarg, &co.timeout) < 0 || co.timeout <= 0)
				return cli_usage_error(cmd, "--timeout takes a duration (30s, 2m)");
			break;
		case 'j': json = true; break;
		case 'h': usage(); return 0;
		default: return cli_usage_error(cmd, "bad option");
		}
	}
	if (!policy || !bo.scope || !have_serial || !expires || !out)
		return cli_usage_error(cmd, "--policy, --scope, --serial, --expires and --out are required");
	if (optind == argc && nr == 0)
		return cli_usage_error(cmd, "give image references, or --repository");
	bo.issued = now;
	if (issued && sw_parse_rfc3339(issued, strlen(issued), &bo.issued) < 0)
		return cli_usage_error(cmd, "--issued: '%s' is not an RFC 3339 UTC time", issued);
	int64_t d;
	if (sw_parse_rfc3339(expires, strlen(expires), &bo.expires) < 0) {
		if (sw_parse_duration(expires, &d) < 0)
			return cli_usage_error(cmd, "--expires: '%s' is neither an RFC 3339 UTC time nor a duration", expires);
		bo.expires = now + d;
	}
	if (bo.expires <= bo.issued)
		return cli_usage_error(cmd, "--expires is not after the issue time");
	if (!sw_scope_ok(bo.scope, strlen(bo.scope)))
		return cli_usage_error(cmd, "--scope must be 1-%d of [A-Za-z0-9._-]", SW_SCOPE_MAX);

	sw_error e = { 0 };
	_cleanup_(sw_imgpolicy_free) sw_imgpolicy pol = { 0 };
	if (sw_imgpolicy_load(policy, &pol, &e) < 0)
		return cli_fail(&e);
	_cleanup_free_ char *trust_json = NULL;
	size_t trust_len = 0;
	_cleanup_(sw_ss_trust_free) sw_ss_trust trust;
	memset(&trust, 0, sizeof trust);
	if (pol.trusted_root) {
		if (sw_read_file(pol.trusted_root, SW_SS_MAX_DOC, &trust_json, &trust_len, &e) < 0 ||
		    sw_ss_trust_parse(trust_json, trust_len, pol.trusted_root, &trust, &e) < 0) {
			sw_err_prefix(&e, "%s:%u: trusted_root", pol.path, pol.trusted_root_line);
			return cli_fail(&e);
		}
		co.trust = &trust;
		co.trust_json = trust_json;
		co.trust_len = trust_len;
	}
	co.policy = &pol;
	co.now = now;
	/* The signing keys are opened first: a wrong passphrase or a missing
	 * token is found before any registry is asked. */
	sw_signer signers[SW_MAX_SIGS];
	sw_signer *ptrs[SW_MAX_SIGS];
	if (nk && cli_signers_open(keys, nk, so, pass_file, signers, &e) < 0)
		return cli_fail(&e);
	for (size_t i = 0; i < nk; i++)
		ptrs[i] = &signers[i];

	_cleanup_(sw_compile_free) sw_compile c = { 0 };
	int r = 0;
	for (size_t i = 0; i < nr && r >= 0; i++)
		r = sw_compile_repository(&c, &co, repos[i], &e);
	for (int i = optind; i < argc && r >= 0; i++)
		r = sw_compile_ref(&c, &co, argv[i], &e);
	if (r >= 0)
		r = write_list(&c, &bo, out, ptrs, nk, &e);
	if (nk)
		cli_signers_close(signers, nk);
	if (r < 0) {
		fprintf(stderr, "sigward: allowlist compile: nothing written (%s unchanged): %s\n", out, e.msg);
		return EXIT_USAGE;
	}
	size_t listed = 0;
	for (size_t i = 0; i < c.n_reports; i++)
		listed += c.reports[i].manifests;
	if (json) {
		printf("{\"out\":");
		cli_json_str(stdout, out);
		printf(",\"scope\":");
		cli_json_str(stdout, bo.scope);
		printf(",\"serial\":%llu,\"signed\":%s,\"images\":[", (unsigned long long)bo.serial, nk ? "true" : "false");
		for (size_t i = 0; i < c.n_reports; i++) {
			const sw_compile_report *p = &c.reports[i];
			printf("%s{\"ref\":", i ? "," : "");
			cli_json_str(stdout, p->ref);
			printf(",\"reference\":");
			cli_json_str(stdout, p->reference);
			printf(",\"digest\":");
			cli_json_str(stdout, p->digest[0] ? p->digest : NULL);
			printf(",\"listed\":%s,\"manifests\":%zu,\"reason\":", p->approved ? "true" : "false", p->manifests);
			cli_json_str(stdout, p->approved ? NULL : p->reason);
			putchar('}');
		}
		printf("],\"listed\":%zu,\"left_out\":%zu,\"entries\":%zu,\"registry_requests\":%llu}\n", c.approved,
		       c.refused, listed, (unsigned long long)c.requests);
	} else {
		for (size_t i = 0; i < c.n_reports; i++) {
			const sw_compile_report *p = &c.reports[i];
			if (p->approved)
				printf("listed    %s %s (%zu manifest%s)\n", p->reference, p->digest, p->manifests,
				       p->manifests == 1 ? "" : "s");
			else
				printf("LEFT OUT  %s: %s\n", p->ref, p->reason);
		}
		printf("%s: %zu image(s) listed (%zu digests), %zu left out; %s, with evidence; %s\n", out, c.approved,
		       listed, c.refused, nk ? "signed" : "not signed yet",
		       nk ? "install or push it" : "sign it with 'sigward allowlist sign'");
	}
	return c.refused ? 1 : 0;
}

/* ------------------------------------------------------------ evidence */

/* ,"key":"value" (an empty or absent value as null) */
static void json_kv(const char *key, const char *v)
{
	printf(",\"%s\":", key);
	cli_json_str(stdout, v && *v ? v : NULL);
}

static void print_check(const sw_evidence_check *k, bool json, bool first)
{
	if (json) {
		printf("%s{\"digest\":", first ? "" : ",");
		cli_json_str(stdout, k->digest);
		json_kv("reference", k->reference);
		json_kv("signed_digest", k->signed_digest);
		json_kv("kind", k->kind);
		json_kv("layer", k->layer);
		json_kv("signer", k->signer);
		json_kv("key_id", k->key_id);
		json_kv("identity", k->identity);
		json_kv("issuer", k->issuer);
		printf(",\"log_index\":%lld,\"integrated_time\":", (long long)k->log_index);
		if (k->integrated_time)
			cli_json_time(stdout, k->integrated_time);
		else
			printf("null");
		printf(",\"verified\":%s,\"error\":", k->ok ? "true" : "false");
		cli_json_str(stdout, k->ok ? NULL : k->error);
		putchar('}');
		return;
	}
	printf("%s %s\n", k->digest, k->reference);
	if (k->key_id[0])
		printf("  %s: %s %s by '%s' (key %s)\n", k->ok ? "verified again" : "FAILS", k->kind, k->layer, k->signer,
		       k->key_id);
	else
		printf("  %s: %s %s by '%s' (%s, issuer %s)\n", k->ok ? "verified again" : "FAILS", k->kind, k->layer,
		       k->signer, k->identity, k->issuer);
	if (!k->ok)
		printf("  %s\n", k->error);
	if (k->ok && k->log_index >= 0) {
		char t[32];
		sw_format_rfc3339(k->integrated_time, t);
		printf("  Rekor log index %lld, integrated %s\n", (long long)k->log_index, t);
	}
	if (strcmp(k->signed_digest, k->digest) != 0)
		printf("  through the index %s, whose signature covers it\n", k->signed_digest);
}

int cmd_allowlist_evidence(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "keys", required_argument, NULL, 'k' },
		{ "scope", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = "allowlist evidence", *config = NULL, *keys = NULL, *scope = NULL;
	bool json = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'k': keys = optarg; break;
		case 's': scope = optarg; break;
		case 'j': json = true; break;
		case 'h':
			puts("usage: sigward allowlist evidence [--config FILE] [--keys DIR] [--scope S] [--json] DIR [DIGEST...]\n"
			     "Verifies the list in DIR as 'allowlist verify' does, checks that DIR/evidence is\n"
			     "covered by its signature, and verifies again, offline, the image signatures that\n"
			     "approved each DIGEST (default: every approved digest) from the stored signature\n"
			     "or bundle, signer key or identity, and trust root.\n"
			     "Exit 0 all verified, 1 the list, its evidence or a signature is refused,\n"
			     "2 usage or error.");
			return 0;
		default:
			return cli_usage_error(cmd, "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "DIR is required");
	const char *dir = argv[optind];
	sw_error e = { 0 };
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	if (sw_config_load(&cfg, config, &e) < 0)
		return cli_fail(&e);
	if (scope) {
		free(cfg.scope);
		if (!(cfg.scope = strdup(scope)))
			return cli_fail(&e);
	}
	sw_list l;
	if (sw_list_open_dir(dir, &l, &e) < 0) {
		sw_list_close(&l);
		return cli_fail(&e);
	}
	/* The evidence is worth what the list's signature is worth. */
	int r = sw_list_verify_full(&cfg, keys, &l, &e);
	_cleanup_(sw_evidence_free) sw_evidence ev = { 0 };
	if (r >= 0) {
		r = sw_evidence_open(&l, &ev, &e);
		if (r == 0)
			r = sw_err(&e, SW_ENOTFOUND, "%s: the list carries no evidence (not compiled)", dir);
	}
	if (r < 0) {
		sw_list_close(&l);
		fprintf(stderr, "sigward: refused: %s\n", e.msg);
		return e.code == SW_EVERIFY || e.code == SW_EPOLICY || e.code == SW_EINVAL || e.code == SW_ENOTFOUND ? 1
														   : EXIT_USAGE;
	}
	/* The digests: those given, else every approved one. */
	const char **want = NULL;
	size_t nw = 0;
	if (optind + 1 < argc) {
		want = (const char **)&argv[optind + 1];
		nw = (size_t)(argc - optind - 1);
	}
	_cleanup_free_ const char **all = NULL;
	if (!want) {
		all = calloc(ev.n + 1, sizeof *all);
		if (!all) {
			sw_list_close(&l);
			return cli_fail(&e);
		}
		for (size_t i = 0; i < ev.n; i++) {
			const char *t = sw_ss_jstr(ev.rec[i], "type"), *d = sw_ss_jstr(ev.rec[i], "digest");
			bool dup = false;
			for (size_t k = 0; k < nw && !dup && d; k++)
				dup = strcmp(all[k], d) == 0;
			if (t && d && strcmp(t, "approval") == 0 && !dup)
				all[nw++] = d;
		}
		want = all;
	}
	size_t bad = 0, checked = 0;
	bool first = true;
	if (json) {
		printf("{\"list\":");
		cli_json_str(stdout, dir);
		printf(",\"evidence_sha256\":");
		cli_json_str(stdout, ev.sha256);
		printf(",\"checks\":[");
	}
	for (size_t i = 0; i < nw; i++) {
		sw_evidence_check ck[16];
		size_t n = 0;
		int found = sw_evidence_reverify(&ev, want[i], sw_now(), ck, SW_ARRAY_SIZE(ck), &n, &e);
		if (found < 0) {
			sw_list_close(&l);
			return cli_fail(&e);
		}
		if (found == 0) {
			bad++;
			if (!json)
				printf("%s: no approval in the evidence\n", want[i]);
		}
		for (size_t k = 0; k < n; k++) {
			print_check(&ck[k], json, first);
			first = false;
			checked++;
			bad += !ck[k].ok;
		}
	}
	if (json)
		printf("],\"checked\":%zu,\"failed\":%zu}\n", checked, bad);
	else
		printf("%s: evidence covered by %s#%llu's signature; %zu signature(s) verified again, %zu failed\n", dir,
		       l.scope, (unsigned long long)l.serial, checked - (bad > checked ? checked : bad), bad);
	sw_list_close(&l);
	return bad ? 1 : 0;
}
