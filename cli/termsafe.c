/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the sigward command prints goes through one filter, so no string from a
 * file another account writes (the refresh daemon's status file, a decision log
 * record carrying a workload's annotations, a store's image names, a list's
 * references) can send the terminal an escape sequence: a forged "last_error"
 * could otherwise rewrite what `sigward status` appears to say.
 *
 * Kept: printable ASCII, tab, newline and valid UTF-8 other than the C1 controls.
 * Escaped: other C0 controls, DEL and CR as \xNN, the C1 controls U+0080-U+009F
 * as \u00NN, and every byte of an invalid UTF-8 sequence as \xNN. JSON output is
 * unchanged by it: its strings escape control characters themselves.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

typedef struct term_out {
	int fd;
	unsigned char pend[4];   /* an incomplete UTF-8 sequence from the last write */
	size_t npend;
} term_out;

static term_out outs[2];

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Escape in[0..n) into out (4 bytes per input byte at most, +8 for a \u00NN).
 * Returns the bytes of out; *used = input consumed (a trailing incomplete
 * sequence is left unless `final`). */
static size_t escape(const unsigned char *in, size_t n, bool final, char *out, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;
	while (i < n) {
		unsigned char c = in[i];
		if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			o += (size_t)sprintf(out + o, "\\x%c%c", hex[c >> 4], hex[c & 15]);
			i++;
			continue;
		}
		int l = sw_utf8_check(in + i, n - i);
		if (l == 0 && !final)
			break;
		if (l <= 0) {
			o += (size_t)sprintf(out + o, "\\x%c%c", hex[c >> 4], hex[c & 15]);
			i++;
			continue;
		}
		if (c == 0xc2 && in[i + 1] < 0xa0) {
			/* U+0080..U+009F: C1 controls (CSI is U+009B) */
			o += (size_t)sprintf(out + o, "\\u00%c%c", hex[in[i + 1] >> 4], hex[in[i + 1] & 15]);
		} else {
			memcpy(out + o, in + i, (size_t)l);
			o += (size_t)l;
		}
		i += (size_t)l;
	}
	*used = i;
	return o;
}

static ssize_t term_write(void *cookie, const char *buf, size_t n)
{
	term_out *t = cookie;
	size_t done = 0;
	while (done < n) {
		unsigned char in[1024 + 4];
		size_t take = n - done < 1024 ? n - done : 1024;
		memcpy(in, t->pend, t->npend);
		memcpy(in + t->npend, buf + done, take);
		size_t len = t->npend + take, used;
		char out[(1024 + 4) * 6];
		size_t o = escape(in, len, false, out, &used);
		t->npend = len - used;   /* at most 3: an incomplete sequence */
		memcpy(t->pend, in + used, t->npend);
		if (write_all(t->fd, out, o) < 0)
			return done ? (ssize_t)done : -1;
		done += take;
	}
	return (ssize_t)n;
}

static int term_close(void *cookie)
{
	term_out *t = cookie;
	if (t->npend) {
		char out[64];
		size_t used;
		size_t o = escape(t->pend, t->npend, true, out, &used);
		t->npend = 0;
		return write_all(t->fd, out, o);
	}
	return 0;
}

static FILE *wrap(FILE *f, term_out *t, int fd, int mode)
{
	t->fd = fd;
	t->npend = 0;
	cookie_io_functions_t io = { .write = term_write, .close = term_close };
	FILE *w = fopencookie(t, "w", io);
	if (!w)
		return f;   /* keep the plain stream rather than print nothing */
	setvbuf(w, NULL, mode, 0);
	return w;
}

void cli_terminal_safe_output(void)
{
	fflush(stdout);
	fflush(stderr);
	stdout = wrap(stdout, &outs[0], STDOUT_FILENO, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF);
	stderr = wrap(stderr, &outs[1], STDERR_FILENO, _IONBF);
}
