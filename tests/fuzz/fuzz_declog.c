/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The decision log verifier (lib/declog.c, sw_declog_verify), which `sigward
 * log verify` and `sigward audit` run on a log whose whole point is that it may
 * have been edited: the input is the log file. Byte 0 picks the expected start
 * (even: 64 zeros, odd: any hash, as for the oldest file of a rotated set); the
 * rest is the file, where "@PREV@" stands for the SHA-256 of the line before
 * (64 zeros on the first), so that mutated records can still form a chain.
 * Verified means: one record per line, each line's "prev" the SHA-256 of the
 * line before, so the count must be the number of lines and the last hash the
 * hash of the last line.
 */
#include "fuzz_util.h"

#include "declog.h"
#include "util.h"

static char dir[PATH_MAX], path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "%s/log", fz_tmp());
	fz_mkdir(dir);
	snprintf(path, sizeof path, "%s/decisions.jsonl", dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* Each "@PREV@" (6 bytes) becomes 64 hex digits. */
	uint8_t *log = malloc((size - 1) * 11 + 1);
	if (!log)
		abort();
	size_t len = 0, line_start = 0;
	char prev[SW_SHA256_HEX + 1];
	memset(prev, '0', SW_SHA256_HEX);
	prev[SW_SHA256_HEX] = '\0';
	for (size_t i = 1; i < size;) {
		if (size - i >= 6 && memcmp(data + i, "@PREV@", 6) == 0) {
			memcpy(log + len, prev, SW_SHA256_HEX);
			len += SW_SHA256_HEX;
			i += 6;
			continue;
		}
		log[len++] = data[i++];
		if (log[len - 1] == '\n') {
			sw_sha256_hex(log + line_start, len - 1 - line_start, prev);
			line_start = len;
		}
	}
	fz_write(dir, "decisions.jsonl", log, len);
	size_t n = 0;
	char last[SW_SHA256_HEX + 1] = "";
	sw_error e = { 0 };
	int rc = sw_declog_verify(path, data[0] & 1 ? SW_DECLOG_ANY_START : NULL, NULL, &n, last, &e);
	fz_debug("verify", rc, rc < 0 ? e.msg : last);
	if (rc < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n') || strncmp(e.msg, path, strlen(path)) != 0)
			abort();
		free(log);
		return 0;
	}
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += log[i] == '\n';
	if (n != lines || (len && log[len - 1] != '\n'))
		abort();
	if (n) {
		/* the hash of the last line, without its newline */
		const uint8_t *s = log + len - 1;
		while (s > log && s[-1] != '\n')
			s--;
		char h[SW_SHA256_HEX + 1];
		sw_sha256_hex(s, (size_t)(log + len - 1 - s), h);
		if (strcmp(h, last) != 0)
			abort();
	}
	free(log);
	return 0;
}
