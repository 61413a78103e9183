/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void sw_yajl_handle_freep(yajl_handle *h)
{
	if (*h)
		yajl_free(*h);
}

void sw_yajl_val_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
}

int sw_json_events(const yajl_callbacks *cb, void *ctx, const bool *failed,
		   const char *json, size_t len, const char *what, sw_error *err)
{
	_cleanup_yajl_handle_ yajl_handle h = yajl_alloc(cb, NULL, ctx);
	if (!h)
		return sw_err(err, ENOMEM, "%s: out of memory", what);

	yajl_status s = yajl_parse(h, (const unsigned char *)json, len);
	size_t at = yajl_get_bytes_consumed(h);
	if (s == yajl_status_ok) {
		s = yajl_complete_parse(h);
		at = len;
	}
	if (s == yajl_status_ok)
		return 0;
	if (*failed)
		return -(err && err->code > 0 ? err->code : 1);

	unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)json, len);
	char m[160];
	snprintf(m, sizeof m, "%s", msg ? (const char *)msg : "parse error");
	if (msg)
		yajl_free_error(h, msg);
	/* yajl ends its message with a newline. */
	size_t ml = strlen(m);
	while (ml && (m[ml - 1] == '\n' || m[ml - 1] == ' '))
		m[--ml] = '\0';
	return sw_err(err, SW_EINVAL, "%s: invalid JSON at byte %zu: %s", what, at, m);
}

int sw_json_prescan(const char *s, size_t len, unsigned max_depth)
{
	unsigned depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\0')
			return -2;
		if (in_str) {
			if (c == '\\') {
				/* The escaped byte is skipped below: a NUL there is a NUL too. */
				if (len - i >= 2 && s[i + 1] == '\0')
					return -2;
				if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
					return -2;
				i++;
			} else if (c == '"') {
				in_str = false;
			}
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return -1;
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return 0;
}

int sw_json_tree(const char *json, size_t len, const char *what, yajl_val *out, sw_error *err)
{
	*out = NULL;
	int pre = sw_json_prescan(json, len, SW_JSON_MAX_DEPTH);
	if (pre == -2)
		return sw_err(err, SW_EINVAL, "%s: NUL byte in JSON", what);
	if (pre < 0)
		return sw_err(err, SW_EINVAL, "%s: nested deeper than %d levels", what, SW_JSON_MAX_DEPTH);
	char ebuf[256];
	yajl_val v = yajl_tree_parse(json, ebuf, sizeof ebuf);
	if (!v) {
		ebuf[strcspn(ebuf, "\r\n")] = '\0';
		return sw_err(err, SW_EINVAL, "%s: invalid JSON: %s", what, ebuf);
	}
	*out = v;
	return 0;
}

bool sw_json_go_key_eq(const unsigned char *k, size_t len, const char *field)
{
	size_t i = 0;
	for (const char *f = field; *f; f++) {
		if (i >= len)
			return false;
		unsigned char c = k[i];
		if (c < 0x80) {
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (c != (unsigned char)*f)
				return false;
			i++;
		} else if (*f == 's' && len - i >= 2 && c == 0xc5 && k[i + 1] == 0xbf) {
			i += 2;
		} else if (*f == 'k' && len - i >= 3 && c == 0xe2 && k[i + 1] == 0x84 && k[i + 2] == 0xaa) {
			i += 3;
		} else {
			return false;
		}
	}
	return i == len;
}

bool sw_is_sha256_digest(const char *s, size_t len)
{
	return len == 7 + SW_SHA256_HEX && memcmp(s, "sha256:", 7) == 0 && sw_is_hex64(s + 7, SW_SHA256_HEX);
}
