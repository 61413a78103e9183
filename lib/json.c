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
	return sw_json_events_h(cb, ctx, NULL, failed, json, len, what, err);
}

int sw_json_events_h(const yajl_callbacks *cb, void *ctx, yajl_handle *handle, const bool *failed,
		     const char *json, size_t len, const char *what, sw_error *err)
{
	_cleanup_yajl_handle_ yajl_handle h = yajl_alloc(cb, NULL, ctx);
	if (!h)
		return sw_err(err, ENOMEM, "%s: out of memory", what);
	if (handle)
		*handle = h;

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

/* ------------------------------------------------------------------ writing */

int sw_utf8_check(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;   /* bounds of the second byte */
	int len;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;    /* overlong */
		else if (c == 0xed)
			hi = 0x9f;    /* UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;    /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;    /* above U+10FFFF */
	} else {
		return -1;
	}
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return 0;
		unsigned char b = s[i];
		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
			return -1;
	}
	return len;
}

size_t sw_utf8_len(const unsigned char *s, size_t n)
{
	int l = sw_utf8_check(s, n);
	return l > 0 ? (size_t)l : 0;
}

static bool jb_reserve(sw_jsonbuf *b, size_t n)
{
	if (b->failed)
		return false;
	if (b->cap - b->len > n)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void sw_jsonbuf_raw(sw_jsonbuf *b, const char *s, size_t n)
{
	if (!jb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sw_jsonbuf_utf8(sw_jsonbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t run = 0, l;
		/* Copy valid runs in one go; each bad byte becomes U+FFFD. */
		while (i + run < n && (l = sw_utf8_len(u + i + run, n - i - run)) != 0)
			run += l;
		sw_jsonbuf_raw(b, s + i, run);
		i += run;
		if (i < n) {
			sw_jsonbuf_raw(b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
}

typedef void (*json_emit)(void *ctx, const char *s, size_t n);

/* The one string escaper (see json.h); emit gets the output in pieces. */
static void json_escape(json_emit emit, void *ctx, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	emit(ctx, "\"", 1);
	size_t start = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		char esc[7];
		const char *rep = NULL;
		size_t rl = 2, adv = 1;
		switch (c) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		default:
			if (c < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				rep = esc;
				rl = 6;
			} else if (c >= 0x80) {
				adv = sw_utf8_len(u + i, n - i);
				if (!adv) {
					/* Not UTF-8: a strict reader would refuse the whole
					 * document, and a hostile name must not do that. */
					rep = "\xef\xbf\xbd";
					rl = 3;
					adv = 1;
				}
			}
		}
		if (rep) {
			emit(ctx, s + start, i - start);
			emit(ctx, rep, rl);
			start = i + adv;
		}
		i += adv;
	}
	emit(ctx, s + start, n - start);
	emit(ctx, "\"", 1);
}

static void emit_buf(void *ctx, const char *s, size_t n)
{
	sw_jsonbuf_raw(ctx, s, n);
}

static void emit_file(void *ctx, const char *s, size_t n)
{
	if (n)
		fwrite(s, 1, n, ctx);
}

void sw_jsonbuf_strn(sw_jsonbuf *b, const char *s, size_t n)
{
	json_escape(emit_buf, b, s, n);
}

void sw_jsonbuf_str(sw_jsonbuf *b, const char *s)
{
	if (!s)
		sw_jsonbuf_null(b);
	else
		sw_jsonbuf_strn(b, s, strlen(s));
}

void sw_jsonbuf_key(sw_jsonbuf *b, const char *k)
{
	sw_jsonbuf_str(b, k);
	sw_jsonbuf_raw(b, ":", 1);
}

void sw_jsonbuf_u64(sw_jsonbuf *b, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
	sw_jsonbuf_raw(b, num, (size_t)n);
}

void sw_jsonbuf_i64(sw_jsonbuf *b, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%lld", (long long)v);
	sw_jsonbuf_raw(b, num, (size_t)n);
}

void sw_jsonbuf_null(sw_jsonbuf *b)
{
	sw_jsonbuf_raw(b, "null", 4);
}

void sw_jsonbuf_free(sw_jsonbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void sw_json_strn(FILE *f, const char *s, size_t n)
{
	json_escape(emit_file, f, s, n);
}

void sw_json_str(FILE *f, const char *s)
{
	if (!s)
		sw_json_null(f);
	else
		sw_json_strn(f, s, strlen(s));
}

void sw_json_key(FILE *f, const char *k)
{
	sw_json_str(f, k);
	fputc(':', f);
}

void sw_json_time(FILE *f, int64_t t)
{
	char b[32];
	sw_format_rfc3339(t, b);
	sw_json_str(f, b);
}

void sw_json_null(FILE *f)
{
	fputs("null", f);
}
