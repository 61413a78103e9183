/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the sigward subcommands: JSON strings, durations,
 * signing keys. */
#include <stdio.h>
#include <string.h>

#include "allowlist.h"
#include "cli.h"
#include "json.h"
#include "util.h"

/* The CLI's names for json.h's writer (invalid UTF-8 becomes U+FFFD, so what a
 * command prints is JSON whatever the names it reports). */
void cli_json_str(FILE *f, const char *s)
{
	sw_json_str(f, s);
}

void cli_json_time(FILE *f, int64_t t)
{
	sw_json_time(f, t);
}

const char *cli_time_left(int64_t until, int64_t now, char *buf, size_t len)
{
	int64_t d = until - now;
	const char *sfx = d < 0 ? " ago" : " left";
	if (d < 0)
		d = -d;
	if (d >= 2 * 86400)
		snprintf(buf, len, "%lldd %lldh%s", (long long)(d / 86400), (long long)(d % 86400 / 3600), sfx);
	else if (d >= 3600)
		snprintf(buf, len, "%lldh %lldm%s", (long long)(d / 3600), (long long)(d % 3600 / 60), sfx);
	else
		snprintf(buf, len, "%lldm %llds%s", (long long)(d / 60), (long long)(d % 60), sfx);
	return buf;
}

int cli_parse_since(const char *s, int64_t now, int64_t *out)
{
	if (sw_parse_rfc3339(s, strlen(s), out) == 0)
		return 0;
	int64_t d;
	if (sw_parse_duration(s, &d) == 0) {
		*out = now - d;
		return 0;
	}
	return -1;
}

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

bool cli_which(const char *name, char *found, size_t len)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		abort();
	for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(found, len, "%s/%s", d, name);
		if (access(found, X_OK) == 0)
			return true;
	}
	found[0] = '\0';
	return false;
}

int cli_signers_open(const char *const *keys, size_t n, sw_sign_opts so, const char *pass_file,
		     sw_signer *out, sw_error *err)
{
	_cleanup_free_ char *pass = NULL;
	size_t pl = 0;
	int r = 0;
	if (pass_file) {
		r = sw_read_file(pass_file, 4096, &pass, &pl, err);
		if (r < 0)
			return r;
		while (pl && (pass[pl - 1] == '\n' || pass[pl - 1] == '\r'))
			pass[--pl] = '\0';
		so.passphrase = pass;
	}
	size_t i = 0;
	for (; i < n; i++)
		if ((r = sw_signer_open(keys[i], &so, &out[i], err)) < 0)
			break;
	if (r < 0)
		cli_signers_close(out, i);
	/* The keys are decrypted: the passphrase is not kept. */
	if (pass)
		memset(pass, 0, pl);
	return r;
}

void cli_signers_close(sw_signer *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sw_signer_close(&s[i]);
}

_Static_assert(SW_ARRAY_SIZE(((cli_sign_args *)0)->keys) == SW_MAX_SIGS, "cli_sign_args holds SW_MAX_SIGS keys");

int cli_sample_arg(const char *cmd, const char *arg, unsigned *out)
{
	uint64_t n;
	if (sw_parse_u64(arg, strlen(arg), &n) < 0 || n == 0 || n > 100000) {
		cli_usage_error(cmd, "--sample wants a number from 1 to 100000");
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

int cli_sign_arg(const char *cmd, int opt, const char *arg, cli_sign_args *a)
{
	switch (opt) {
	case 'S':
		if (a->n == SW_ARRAY_SIZE(a->keys))
			return cli_usage_error(cmd, "at most %zu --sign-key", SW_ARRAY_SIZE(a->keys));
		a->keys[a->n++] = arg;
		return 0;
	case 'p': a->so.rsa_pss = true; return 0;
	case 'm': a->so.pkcs11_module = arg; return 0;
	case 'P': a->pass_file = arg; return 0;
	default: return cli_usage_error(cmd, "bad option");
	}
}
