/* SPDX-License-Identifier: Apache-2.0 */
/* sigward allowlist ...: producers build and sign, operators inspect and install. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "allowlist.h"
#include "build.h"
#include "cli.h"
#include "config.h"
#include "install.h"
#include "json.h"
#include "keys.h"
#include "sign.h"
#include "util.h"

#define INPUT_MAX ((size_t)1 << 31)

static int parse_time_arg(const char *s, int64_t now, int64_t *out)
{
	if (sw_parse_rfc3339(s, strlen(s), out) == 0)
		return 0;
	int64_t d;
	if (sw_parse_duration(s, &d) == 0) {
		*out = now + d;
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------ OCI layout */

#define LAYOUT_JSON_MAX (16u << 20)
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

static const char *jstr(yajl_val v, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val x = yajl_tree_get(v, path, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

/* Read blobs/sha256/<hex> of the layout, checking it hashes to its digest: the
 * digests written into a list must be the ones of the bytes that were looked at. */
static int read_blob(int lfd, const char *layout, const char *digest, char **out, size_t *len, sw_error *err)
{
	char norm[SW_DIGEST_STR];
	if (!digest || strlen(digest) != 7 + SW_SHA256_HEX || sw_digest_normalize(digest, strlen(digest), norm) < 0)
		return sw_err(err, SW_EINVAL, "%s: '%s' is not a sha256 digest", layout, digest ? digest : "(missing)");
	char rel[128], what[4300];
	snprintf(rel, sizeof rel, "blobs/sha256/%s", norm + 7);
	snprintf(what, sizeof what, "%s/%s", layout, rel);
	_cleanup_close_ int bfd = openat(lfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return sw_err_errno(err, errno, "%s/blobs/sha256: cannot open", layout);
	int r = sw_read_file_at(bfd, norm + 7, LAYOUT_JSON_MAX, what, out, len, err);
	if (r < 0)
		return r;
	char h[SW_SHA256_HEX + 1];
	sw_sha256_hex(*out, *len, h);
	if (strcmp(h, norm + 7) != 0) {
		free(*out);
		*out = NULL;
		return sw_err(err, SW_EVERIFY, "%s: content does not match its digest", what);
	}
	return 0;
}

static int parse_json(const char *text, size_t len, const char *what, yajl_val *out, sw_error *err)
{
	int r = sw_json_tree(text, len, what, out, err);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(*out)) {
		yajl_tree_free(*out);
		*out = NULL;
		return sw_err(err, SW_EINVAL, "%s: not a JSON object", what);
	}
	return 0;
}

/* Append "<ref>@<digest>" lines for one manifest (and its config), or for an
 * index and every manifest it lists. depth bounds nested indexes. */
static int layout_add(int lfd, const char *layout, const char *digest, const char *mt, const char *ref,
		      FILE *lines, unsigned depth, sw_error *err)
{
	if (depth > 4)
		return sw_err(err, SW_EINVAL, "%s: indexes nested too deep", layout);
	_cleanup_free_ char *blob = NULL;
	size_t len;
	int r = read_blob(lfd, layout, digest, &blob, &len, err);
	if (r < 0)
		return r;
	char what[4300];
	snprintf(what, sizeof what, "%s/blobs/sha256/%s", layout, digest + 7);
	yajl_val doc;
	if ((r = parse_json(blob, len, what, &doc, err)) < 0)
		return r;
	const char *own_mt = jstr(doc, "mediaType");
	if (!own_mt)
		own_mt = mt;
	fprintf(lines, "%s%s%s\n", ref ? ref : "", ref ? "@" : "", digest);
	const char *mpath[] = { "manifests", NULL };
	yajl_val ms = yajl_tree_get(doc, mpath, yajl_t_array);
	if ((own_mt && (strcmp(own_mt, MT_INDEX) == 0 || strcmp(own_mt, MT_DOCKER_LIST) == 0)) || ms) {
		/* An index: the platform manifests are what runtimes record. */
		for (size_t i = 0; ms && i < YAJL_GET_ARRAY(ms)->len && r >= 0; i++) {
			yajl_val m = YAJL_GET_ARRAY(ms)->values[i];
			r = layout_add(lfd, layout, jstr(m, "digest"), jstr(m, "mediaType"), ref, lines, depth + 1, err);
		}
	} else {
		const char *cpath[] = { "config", "digest", NULL };
		yajl_val cd = yajl_tree_get(doc, cpath, yajl_t_string);
		if (!cd)
			r = sw_err(err, SW_EINVAL, "%s: an image manifest without config.digest", what);
		else {
			char norm[SW_DIGEST_STR];
			const char *c = YAJL_GET_STRING(cd);
			if (sw_digest_normalize(c, strlen(c), norm) < 0 || strncmp(c, "sha256:", 7) != 0)
				r = sw_err(err, SW_EINVAL, "%s: config.digest '%s' is not a sha256 digest", what, c);
			else
				/* The image id is the config's digest: runtimes that know only
				 * the image id (Docker, podman) match through it. Marked as
				 * one, so that it matches only an image id. */
				fprintf(lines, "image-id %s%s%s\n", ref ? ref : "", ref ? "@" : "", norm);
		}
	}
	yajl_tree_free(doc);
	return r;
}

/* DIR or DIR:TAG (a DIR that exists as given wins, so paths with ':' work). */
static int oci_layout_input(const char *arg, char **text, size_t *len, sw_error *err)
{
	_cleanup_free_ char *dir = strdup(arg);
	if (!dir)
		return sw_err_errno(err, ENOMEM, "%s", arg);
	const char *tag = NULL;
	struct stat st;
	char *colon = strrchr(dir, ':');
	if (stat(dir, &st) < 0 && colon) {
		*colon = '\0';
		tag = colon + 1;
	}
	_cleanup_close_ int lfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return sw_err_errno(err, errno, "%s: cannot open OCI layout", dir);
	_cleanup_free_ char *idx = NULL;
	size_t il;
	char what[4300];
	snprintf(what, sizeof what, "%s/index.json", dir);
	int r = sw_read_file_at(lfd, "index.json", LAYOUT_JSON_MAX, what, &idx, &il, err);
	if (r < 0)
		return r;
	yajl_val doc;
	if ((r = parse_json(idx, il, what, &doc, err)) < 0)
		return r;
	const char *mpath[] = { "manifests", NULL };
	yajl_val ms = yajl_tree_get(doc, mpath, yajl_t_array);
	char *buf = NULL;
	size_t bl = 0;
	FILE *lines = open_memstream(&buf, &bl);
	if (!lines) {
		yajl_tree_free(doc);
		return sw_err_errno(err, errno, "%s", what);
	}
	size_t used = 0;
	for (size_t i = 0; ms && i < YAJL_GET_ARRAY(ms)->len && r >= 0; i++) {
		yajl_val m = YAJL_GET_ARRAY(ms)->values[i];
		const char *apath[] = { "annotations", "org.opencontainers.image.ref.name", NULL };
		yajl_val rv = yajl_tree_get(m, apath, yajl_t_string);
		const char *ref = rv ? YAJL_GET_STRING(rv) : NULL;
		if (tag && (!ref || strcmp(ref, tag) != 0))
			continue;
		used++;
		r = layout_add(lfd, dir, jstr(m, "digest"), jstr(m, "mediaType"), ref, lines, 0, err);
	}
	fclose(lines);
	yajl_tree_free(doc);
	if (r >= 0 && used == 0)
		r = tag ? sw_err(err, SW_ENOTFOUND, "%s: no image tagged '%s'", what, tag)
			: sw_err(err, SW_ENOTFOUND, "%s: no images", what);
	if (r < 0) {
		free(buf);
		return r;
	}
	*text = buf;
	*len = bl;
	return 0;
}

/* ------------------------------------------------------------------ build */

static int build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "serial", required_argument, NULL, 'n' },
		{ "expires", required_argument, NULL, 'e' },
		{ "issued", required_argument, NULL, 'i' },
		{ "bins", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "from-oci-layout", required_argument, NULL, 'L' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	sw_build_opts o = { 0 };
	const char *layouts[64];
	size_t n_layouts = 0;
	const char *out = NULL, *expires = NULL, *issued = NULL;
	bool have_serial = false;
	int64_t now = sw_now();
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.scope = optarg; break;
		case 'n':
			if (sw_parse_u64(optarg, strlen(optarg), &o.serial) < 0)
				return cli_usage_error("allowlist build", "--serial takes an unsigned 64-bit number");
			have_serial = true;
			break;
		case 'e': expires = optarg; break;
		case 'i': issued = optarg; break;
		case 'b': {
			uint64_t b;
			if (sw_parse_u64(optarg, strlen(optarg), &b) < 0 || b == 0 || b > SW_MAX_BINS || (b & (b - 1)))
				return cli_usage_error("allowlist build", "--bins takes a power of two from 1 to %d", SW_MAX_BINS);
			o.bins = (uint32_t)b;
			break;
		}
		case 'o': out = optarg; break;
		case 'F':
			if (strcmp(optarg, "1") == 0)
				o.format = 1;
			else if (strcmp(optarg, "2") == 0)
				o.format = 2;
			else
				return cli_usage_error("allowlist build", "--format takes 1 or 2");
			break;
		case 'L':
			if (n_layouts == SW_ARRAY_SIZE(layouts))
				return cli_usage_error("allowlist build", "at most %zu --from-oci-layout", SW_ARRAY_SIZE(layouts));
			layouts[n_layouts++] = optarg;
			break;
		case 'h':
			puts("usage: sigward allowlist build --scope SCOPE --serial N --expires TIME|DURATION\n"
			     "                               [--issued TIME] [--bins N] [--format 1|2] --out DIR\n"
			     "                               [--from-oci-layout DIR[:TAG]]... [INPUT...]\n"
			     "Writes DIR/manifest and DIR/entries from lines 'sha256:<hex>' or\n"
			     "'<reference>@sha256:<hex>' (INPUT files, or stdin when none or '-'), each a\n"
			     "manifest or index digest, or, with 'image-id ' in front, an image id (the\n"
			     "config digest). A digest matches only an entry of its own kind.\n"
			     "--from-oci-layout adds, for each image in an OCI image layout (only those\n"
			     "tagged TAG when given), its manifest digest and its image id (the config\n"
			     "digest), with the layout's ref.name as reference; stdin is then not read.\n"
			     "--format 1 writes the untyped format older nodes read (every entry then\n"
			     "matches a digest of any kind); the default is 2.\n"
			     "TIME is RFC 3339 UTC (2027-01-31T00:00:00Z); DURATION is 90s, 15m, 12h, 30d or 2w from now.\n"
			     "Sign the result with 'sigward allowlist sign' or the openssl CLI (see sigward(1)).");
			return 0;
		default:
			return cli_usage_error("allowlist build", "bad option");
		}
	}
	if (!o.scope || !have_serial || !expires || !out)
		return cli_usage_error("allowlist build", "--scope, --serial, --expires and --out are required");
	o.issued = now;
	if (issued && sw_parse_rfc3339(issued, strlen(issued), &o.issued) < 0)
		return cli_usage_error("allowlist build", "--issued: '%s' is not an RFC 3339 UTC time", issued);
	/* A duration counts from now, as the help and the man page say, whatever
	 * --issued says: "valid for 30 days" means from the moment it is built. */
	if (parse_time_arg(expires, now, &o.expires) < 0)
		return cli_usage_error("allowlist build", "--expires: '%s' is neither an RFC 3339 UTC time nor a duration", expires);
	if (o.expires <= o.issued) {
		char it[32];
		sw_format_rfc3339(o.issued, it);
		return cli_usage_error("allowlist build", "--expires %s is not after the issue time %s%s", expires, it,
				       issued ? "" : " (now: give --issued with an earlier time to build a list that has already expired)");
	}

	sw_error e = { 0 };
	sw_build_entry *entries = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	for (size_t i = 0; i < n_layouts && r >= 0; i++) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		r = oci_layout_input(layouts[i], &text, &len, &e);
		if (r >= 0)
			r = sw_build_parse_input(text, len, layouts[i], &entries, &n, &cap, &e);
	}
	if (optind >= argc && n_layouts == 0) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		r = sw_read_fd(STDIN_FILENO, INPUT_MAX, "stdin", &text, &len, &e);
		if (r >= 0)
			r = sw_build_parse_input(text, len, "stdin", &entries, &n, &cap, &e);
	}
	for (int i = optind; i < argc && r >= 0; i++) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		const char *name = strcmp(argv[i], "-") == 0 ? "stdin" : argv[i];
		r = strcmp(argv[i], "-") == 0 ? sw_read_fd(STDIN_FILENO, INPUT_MAX, name, &text, &len, &e)
					      : sw_read_file(argv[i], INPUT_MAX, &text, &len, &e);
		if (r >= 0)
			r = sw_build_parse_input(text, len, name, &entries, &n, &cap, &e);
	}
	if (r >= 0)
		r = sw_build_write(entries, n, &o, out, &e);
	sw_build_entries_free(entries, n);
	if (r < 0)
		return cli_fail(&e);
	if (o.expires <= now)
		fprintf(stderr, "sigward: warning: this list has already expired; nodes will refuse it\n");
	return 0;
}

/* ------------------------------------------------------------------- sign */

static int sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "rsa-pss", no_argument, NULL, 'p' },
		{ "pkcs11-module", required_argument, NULL, 'm' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *keys[SW_MAX_SIGS];
	size_t nk = 0;
	const char *pass_file = NULL;
	sw_sign_opts so = { 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (nk == SW_ARRAY_SIZE(keys))
				return cli_usage_error("allowlist sign", "at most %d keys", SW_MAX_SIGS);
			keys[nk++] = optarg;
			break;
		case 'p': so.rsa_pss = true; break;
		case 'm': so.pkcs11_module = optarg; break;
		case 'P': pass_file = optarg; break;
		case 'h':
			puts("usage: sigward allowlist sign --key KEY [--key KEY]... [--rsa-pss]\n"
			     "                              [--pkcs11-module PATH] [--passphrase-file FILE] DIR\n"
			     "Signs DIR/manifest with each KEY and appends one base64 signature line per key\n"
			     "to DIR/manifest.sig. KEY is a PEM private key file (Ed25519, ECDSA P-256/P-384,\n"
			     "RSA >= 2048) or a PKCS#11 URI such as\n"
			     "  'pkcs11:token=release;object=sigward;type=private?pin-value=1234'\n"
			     "(module: --pkcs11-module, the URI's module-path, $SIGWARD_PKCS11_MODULE or\n"
			     "p11-kit's proxy; PIN: pin-value or $SIGWARD_PKCS11_PIN).\n"
			     "RSA keys sign with PKCS#1 v1.5 unless --rsa-pss. Each signature is checked\n"
			     "with the key's public half before it is written.\n"
			     "Exit 0 signed, 2 usage or error (nothing is written then).");
			return 0;
		default:
			return cli_usage_error("allowlist sign", "bad option");
		}
	}
	if (nk == 0 || optind + 1 != argc)
		return cli_usage_error("allowlist sign", "one or more --key and exactly one DIR are required");
	const char *dir = argv[optind];
	sw_error e = { 0 };
	sw_signer signers[SW_MAX_SIGS];
	sw_signer *ptrs[SW_MAX_SIGS];
	if (cli_signers_open(keys, nk, so, pass_file, signers, &e) < 0)
		return cli_fail(&e);
	for (size_t i = 0; i < nk; i++)
		ptrs[i] = &signers[i];
	int r = sw_list_sign(dir, ptrs, nk, &e);
	if (r >= 0)
		for (size_t i = 0; i < nk; i++)
			printf("signed %s%s%s with %s (%s, %s)\n", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", SW_MANIFEST_NAME, signers[i].id, signers[i].alg,
			       signers[i].source);
	cli_signers_close(signers, nk);
	return r < 0 ? cli_fail(&e) : 0;
}

/* ------------------------------------------------------ verify, show, install */

/* A list refused (bad signature, policy, malformed) is exit 1; an error that says
 * nothing about the list (I/O, missing keys directory) is exit 2. */
static int list_exit(const sw_error *e)
{
	return e->code == SW_EVERIFY || e->code == SW_EPOLICY || e->code == SW_EINVAL || e->code == SW_ETOOBIG ? 1
													      : EXIT_USAGE;
}

static int load_config(const char *file, const char *scope, sw_config *cfg, sw_error *e)
{
	if (sw_config_load(cfg, file, e) < 0)
		return -1;
	if (scope) {
		char *s = strdup(scope);
		if (!s)
			return sw_err_errno(e, ENOMEM, "--scope");
		free(cfg->scope);
		cfg->scope = s;
	}
	return 0;
}

static size_t count_sig_lines(const sw_list *l)
{
	_cleanup_free_ char *t = NULL;
	size_t len = 0, n = 0;
	if (sw_read_file_at(l->dirfd, SW_SIGS_NAME, SW_SIGS_MAX, NULL, &t, &len, NULL) < 0)
		return 0;
	for (const char *p = t, *end = t + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *q = nl ? nl : end;
		if (q > p && !(q - p == 1 && *p == '\r'))
			n++;
		p = nl ? nl + 1 : end;
	}
	return n;
}

static int verify_or_show(int argc, char **argv, bool show)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "keys", required_argument, NULL, 'k' },
		{ "scope", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = show ? "allowlist show" : "allowlist verify";
	const char *config = NULL, *keys = NULL, *scope = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'k': keys = optarg; break;
		case 's': scope = optarg; break;
		case 'j': json = true; break;
		case 'h':
			if (show)
				puts("usage: sigward allowlist show [--config FILE] [--keys DIR] [--scope S] [--json] DIR\n"
				     "Shows the list in DIR: scope, serial, issued, expires and time left, entry\n"
				     "count, signature lines and which trusted keys signed it, and whether this\n"
				     "node would accept it (and if not, why).\n"
				     "Exit 0 shown and acceptable, 1 shown but this node would refuse it,\n"
				     "2 usage or error (the list cannot be read).");
			else
				puts("usage: sigward allowlist verify [--config FILE] [--keys DIR] [--scope S] [--json] DIR\n"
				     "Verifies the list in DIR exactly as 'allowlist install' and the hook do:\n"
				     "signatures by distinct trusted keys (keys_dir, or --keys) against the\n"
				     "threshold, scope (the node's, or --scope), expiry with grace, the hook's\n"
				     "rollback record when readable, and the whole entries file (every bin's hash\n"
				     "and count, order, no duplicates). Changes nothing.\n"
				     "Exit 0 valid, 1 refused (the reason is printed), 2 usage or error.");
			return 0;
		default:
			return cli_usage_error(cmd, "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "exactly one DIR is required");
	const char *dir = argv[optind];
	sw_error e = { 0 };
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	if (load_config(config, scope, &cfg, &e) < 0)
		return cli_fail(&e);
	sw_list l;
	if (sw_list_open_dir(dir, &l, &e) < 0) {
		sw_list_close(&l);
		return show ? cli_fail(&e) : (fprintf(stderr, "sigward: %s\n", e.msg), list_exit(&e));
	}
	sw_error ve = { 0 };
	int vr = sw_list_verify_full(&cfg, keys, &l, &ve);
	int rc = vr < 0 ? list_exit(&ve) : 0;
	if (vr < 0 && !show && rc == EXIT_USAGE && !json) {
		fprintf(stderr, "sigward: %s\n", ve.msg);
		sw_list_close(&l);
		return rc;
	}
	/* Signers: sw_list_verify fills them when signatures were good enough; when
	 * not (or for show), count them against the trusted keys directly. */
	sw_error ke = { 0 };
	bool keys_ok = true;
	if (vr < 0) {
		sw_keyring kr;
		if (sw_keyring_load(keys ? keys : cfg.keys_dir, &kr, &ke) < 0 ||
		    sw_list_count_signers(&l, &kr, &ke) < 0) {
			keys_ok = false;
			l.n_signers = 0;
		}
		sw_keyring_free(&kr);
	}
	int64_t now = sw_now();
	char it[32], ex[32], left[64];
	sw_format_rfc3339(l.issued, it);
	sw_format_rfc3339(l.expires, ex);
	cli_time_left(l.expires, now, left, sizeof left);
	size_t lines = count_sig_lines(&l);
	if (json) {
		printf("{\"path\":");
		cli_json_str(stdout, dir);
		printf(",\"format\":%u,\"entry_kinds\":%s,\"scope\":", l.format, l.format >= 2 ? "true" : "false");
		cli_json_str(stdout, l.scope);
		printf(",\"serial\":%llu,\"issued\":", (unsigned long long)l.serial);
		cli_json_str(stdout, it);
		printf(",\"expires\":");
		cli_json_str(stdout, ex);
		printf(",\"seconds_left\":%lld,\"entries\":%llu,\"bins\":%u,\"signature_lines\":%zu,\"signers\":[",
		       (long long)(l.expires - now), (unsigned long long)l.n_entries, l.n_bins, lines);
		for (size_t i = 0; i < l.n_signers; i++) {
			if (i)
				putchar(',');
			cli_json_str(stdout, l.signers[i]);
		}
		printf("],\"threshold\":%u,\"node_scope\":", cfg.threshold);
		cli_json_str(stdout, cfg.scope);
		printf(",\"accepted\":%s,\"reason\":", vr >= 0 ? "true" : "false");
		cli_json_str(stdout, vr >= 0 ? NULL : ve.msg);
		printf("}\n");
	} else if (show) {
		printf("list:       %s\n", dir);
		if (l.format >= 2)
			printf("format:     %u (each entry a manifest digest or an image id, matching only its kind)\n",
			       l.format);
		else
			printf("format:     %u (entries carry no kind: each matches a digest of any kind; rebuild to mark kinds)\n",
			       l.format);
		printf("scope:      %s\nserial:     %llu\n", l.scope, (unsigned long long)l.serial);
		printf("issued:     %s\nexpires:    %s (%s)\n", it, ex, left);
		printf("entries:    %llu in %u bin%s\n", (unsigned long long)l.n_entries, l.n_bins, l.n_bins == 1 ? "" : "s");
		printf("signatures: %zu line%s, %zu by trusted keys (threshold %u)\n", lines, lines == 1 ? "" : "s",
		       l.n_signers, cfg.threshold);
		for (size_t i = 0; i < l.n_signers; i++)
			printf("signed by:  %s\n", l.signers[i]);
		if (!keys_ok)
			printf("keys:       %s\n", ke.msg);
		if (vr >= 0)
			printf("accepted:   yes, on a node with scope '%s'\n", cfg.scope ? cfg.scope : "");
		else
			printf("accepted:   no: %s\n", ve.msg);
	} else if (vr >= 0) {
		printf("%s: valid: %s#%llu, %zu of %u required signatures by trusted keys, expires %s (%s), %llu entries\n",
		       dir, l.scope, (unsigned long long)l.serial, l.n_signers, cfg.threshold, ex, left,
		       (unsigned long long)l.n_entries);
		for (size_t i = 0; i < l.n_signers; i++)
			printf("signed by: %s\n", l.signers[i]);
	} else {
		fprintf(stderr, "sigward: refused: %s\n", ve.msg);
	}
	sw_list_close(&l);
	return rc;
}

static int install(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL;
	bool dry = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n': dry = true; break;
		case 'h':
			puts("usage: sigward allowlist install [--config FILE] [--dry-run] DIR\n"
			     "Verifies the list in DIR as the hook does (signatures, threshold, scope,\n"
			     "expiry, the hook's rollback record, every bin of the entries file) and\n"
			     "refuses a serial lower than the installed one; then copies it into\n"
			     "lists_dir as a new generation gen-<serial>-<hash>, switches 'current' to it\n"
			     "atomically and keeps the newest 3 generations. A refused or failed install\n"
			     "changes nothing. --dry-run stops after the checks.\n"
			     "Exit 0 installed (or would be), 1 refused, 2 usage or error.");
			return 0;
		default:
			return cli_usage_error("allowlist install", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("allowlist install", "exactly one DIR is required");
	sw_error e = { 0 };
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	if (sw_config_load(&cfg, config, &e) < 0)
		return cli_fail(&e);
	char gen[SW_GEN_NAME_MAX + 8];
	int r = sw_list_install(&cfg, argv[optind], dry, gen, sizeof gen, &e);
	if (r < 0) {
		fprintf(stderr, "sigward: install refused: %s\n", e.msg);
		return list_exit(&e);
	}
	if (dry)
		printf("%s: verified; would be installed as %s/%s\n", argv[optind], cfg.lists_dir, gen);
	else
		printf("%s: installed as %s/%s, now current\n", argv[optind], cfg.lists_dir, gen);
	return 0;
}

/* ------------------------------------------------------------------- diff */

typedef struct side {
	sw_list l;
	char *entries;
	size_t len;
} side;

static int open_side(const char *dir, side *s, sw_error *e)
{
	memset(s, 0, sizeof *s);
	int r = sw_list_open_dir(dir, &s->l, e);
	/* Diff what the signatures cover: the entries must match the manifest's
	 * bin hashes, or the approver would review something nodes never see. */
	if (r >= 0)
		r = sw_list_check_entries(&s->l, e);
	if (r >= 0) {
		char what[4200];
		snprintf(what, sizeof what, "%s/%s", dir, SW_ENTRIES_NAME);
		r = sw_read_file_at(s->l.dirfd, SW_ENTRIES_NAME, (size_t)1 << 34, what, &s->entries, &s->len, e);
	}
	return r;
}

static void close_side(side *s)
{
	sw_list_close(&s->l);
	free(s->entries);
}

/* Next entry line: digest (71 chars), kind and reference (may be empty); the
 * lines were checked by sw_list_check_entries. */
static bool next_entry(const side *s, size_t *off, const char **dg, sw_entry_kind *kind, const char **ref, size_t *rl)
{
	if (*off >= s->len)
		return false;
	const char *p = s->entries + *off;
	size_t n = sw_entry_parse(p, s->len - *off, s->l.format, kind, ref, rl);
	if (!n)
		return false;
	if (!*ref)
		*ref = "";
	*dg = p;
	*off += n;
	return true;
}

/* An image id is shown with its kind; a manifest digest (or an untyped entry)
 * as before kinds. */
static const char *kind_word(sw_entry_kind k)
{
	return k == SW_ENTRY_IMAGE_ID ? "image-id " : "";
}

static void diff_line(bool json, bool *first, char op, const char *dg, sw_entry_kind k, const char *ref, size_t rl,
		      sw_entry_kind ok, const char *oref, size_t orl)
{
	char d[SW_DIGEST_STR];
	memcpy(d, dg, SW_DIGEST_STR - 1);
	d[SW_DIGEST_STR - 1] = '\0';
	if (!json) {
		if (op == '~' && ok != k)
			printf("~ %s %s%s%.*s -> %s%s%.*s\n", d, sw_entry_kind_name(ok), orl ? " " : "", (int)orl, oref,
			       sw_entry_kind_name(k), rl ? " " : "", (int)rl, ref);
		else if (op == '~')
			printf("~ %s %s%.*s -> %s%.*s\n", d, kind_word(ok), (int)orl, oref, kind_word(k), (int)rl, ref);
		else
			printf("%c %s%s%s%.*s\n", op, d, rl || k == SW_ENTRY_IMAGE_ID ? " " : "",
			       k == SW_ENTRY_IMAGE_ID ? (rl ? "image-id " : "image-id") : "", (int)rl, ref);
		return;
	}
	printf("%s{\"change\":\"%s\",\"digest\":\"%s\",\"kind\":\"%s\",\"reference\":", *first ? "" : ",",
	       op == '+' ? "added" : op == '-' ? "removed" : "reference", d, sw_entry_kind_name(k));
	_cleanup_free_ char *r = strndup(ref, rl);
	cli_json_str(stdout, rl ? r : NULL);
	if (op == '~') {
		_cleanup_free_ char *o = strndup(oref, orl);
		printf(",\"old_kind\":\"%s\",\"old_reference\":", sw_entry_kind_name(ok));
		cli_json_str(stdout, orl ? o : NULL);
	}
	putchar('}');
	*first = false;
}

static int diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h':
			puts("usage: sigward allowlist diff [--json] OLD NEW\n"
			     "Lists the digests NEW adds ('+') and removes ('-') relative to OLD, and\n"
			     "references or kinds that changed ('~'; image ids are marked 'image-id'):\n"
			     "what an approver reviews before signing.\n"
			     "Both lists' entries are checked against their manifests first.\n"
			     "Signatures are not checked (see 'allowlist verify').\n"
			     "Exit 0 same digests and kinds, 1 they differ, 2 usage or error.");
			return 0;
		default:
			return cli_usage_error("allowlist diff", "bad option");
		}
	}
	if (optind + 2 != argc)
		return cli_usage_error("allowlist diff", "OLD and NEW are required");
	sw_error e = { 0 };
	side a, b;
	int r = open_side(argv[optind], &a, &e);
	if (r >= 0)
		r = open_side(argv[optind + 1], &b, &e);
	else
		memset(&b, 0, sizeof b);
	if (r < 0) {
		close_side(&a);
		close_side(&b);
		return cli_fail(&e);
	}
	size_t ao = 0, bo = 0, added = 0, removed = 0, changed = 0, kinds = 0;
	const char *ad = NULL, *ar = NULL, *bd = NULL, *br = NULL;
	size_t arl = 0, brl = 0;
	sw_entry_kind ak = SW_ENTRY_UNTYPED, bk = SW_ENTRY_UNTYPED;
	bool ha = next_entry(&a, &ao, &ad, &ak, &ar, &arl), hb = next_entry(&b, &bo, &bd, &bk, &br, &brl);
	bool first = true;
	if (json) {
		printf("{\"old\":{\"scope\":");
		cli_json_str(stdout, a.l.scope);
		printf(",\"serial\":%llu,\"entries\":%llu},\"new\":{\"scope\":", (unsigned long long)a.l.serial,
		       (unsigned long long)a.l.n_entries);
		cli_json_str(stdout, b.l.scope);
		printf(",\"serial\":%llu,\"entries\":%llu},\"changes\":[", (unsigned long long)b.l.serial,
		       (unsigned long long)b.l.n_entries);
	} else {
		printf("old: %s#%llu, %llu entries\nnew: %s#%llu, %llu entries\n", a.l.scope,
		       (unsigned long long)a.l.serial, (unsigned long long)a.l.n_entries, b.l.scope,
		       (unsigned long long)b.l.serial, (unsigned long long)b.l.n_entries);
	}
	/* Both files are sorted by digest (checked above): one merge pass. */
	while (ha || hb) {
		int cmp = !ha ? 1 : !hb ? -1 : memcmp(ad + 7, bd + 7, SW_SHA256_HEX);
		if (cmp < 0) {
			diff_line(json, &first, '-', ad, ak, ar, arl, 0, NULL, 0);
			removed++;
			ha = next_entry(&a, &ao, &ad, &ak, &ar, &arl);
		} else if (cmp > 0) {
			diff_line(json, &first, '+', bd, bk, br, brl, 0, NULL, 0);
			added++;
			hb = next_entry(&b, &bo, &bd, &bk, &br, &brl);
		} else {
			/* A kind that changed changes what the entry admits (an
			 * untyped entry admits both kinds): shown, and not "the same". */
			if (ak != bk || arl != brl || memcmp(ar, br, arl) != 0) {
				diff_line(json, &first, '~', bd, bk, br, brl, ak, ar, arl);
				changed++;
				kinds += ak != bk;
			}
			ha = next_entry(&a, &ao, &ad, &ak, &ar, &arl);
			hb = next_entry(&b, &bo, &bd, &bk, &br, &brl);
		}
	}
	if (json)
		printf("],\"added\":%zu,\"removed\":%zu,\"references_changed\":%zu,\"kinds_changed\":%zu}\n", added,
		       removed, changed - kinds, kinds);
	else if (kinds)
		printf("%zu added, %zu removed, %zu reference%s changed, %zu kind%s changed\n", added, removed,
		       changed - kinds, changed - kinds == 1 ? "" : "s", kinds, kinds == 1 ? "" : "s");
	else
		printf("%zu added, %zu removed, %zu reference%s changed\n", added, removed, changed,
		       changed == 1 ? "" : "s");
	close_side(&a);
	close_side(&b);
	return added || removed || kinds ? 1 : 0;
}

/* ---------------------------------------------------------------- dispatch */

static void usage(FILE *f)
{
	fputs("usage: sigward allowlist SUBCOMMAND [OPTIONS]\n"
	      "  build    write an unsigned list (manifest + entries) from digests or an OCI layout\n"
	      "  compile  verify images' cosign signatures against an image policy, write the list\n"
	      "  evidence verify a compiled list's evidence and the image signatures it holds again\n"
	      "  sign     append signatures by PEM or PKCS#11 keys to manifest.sig\n"
	      "  verify   verify a list as the hook would (exit 1 when refused)\n"
	      "  show     a list's scope, serial, expiry, signers, and whether this node accepts it\n"
	      "  diff     digests added and removed between two lists\n"
	      "  install  verify, then install as the new current generation (keeps 3)\n"
	      "  push     upload a signed list to an OCI registry\n"
	      "Run 'sigward allowlist SUBCOMMAND --help' for its options.\n", f);
}

int cmd_allowlist(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	const char *sub = argv[1];
	argc--;
	argv++;
	if (strcmp(sub, "build") == 0)
		return build(argc, argv);
	if (strcmp(sub, "sign") == 0)
		return sign(argc, argv);
	if (strcmp(sub, "verify") == 0)
		return verify_or_show(argc, argv, false);
	if (strcmp(sub, "show") == 0)
		return verify_or_show(argc, argv, true);
	if (strcmp(sub, "diff") == 0)
		return diff(argc, argv);
	if (strcmp(sub, "install") == 0)
		return install(argc, argv);
	if (strcmp(sub, "push") == 0)
		return cmd_allowlist_push(argc, argv);
	if (strcmp(sub, "compile") == 0)
		return cmd_allowlist_compile(argc, argv);
	if (strcmp(sub, "evidence") == 0)
		return cmd_allowlist_evidence(argc, argv);
	return cli_usage_error("allowlist", "unknown subcommand '%s'", sub);
}
