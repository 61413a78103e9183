/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the sigward subcommands: JSON strings, durations. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

void cli_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void cli_json_time(FILE *f, int64_t t)
{
	char b[32];
	sw_format_rfc3339(t, b);
	cli_json_str(f, b);
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
