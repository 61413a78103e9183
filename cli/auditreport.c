/* SPDX-License-Identifier: Apache-2.0 */
/* The audit report's model and its three renderings; see auditreport.h. */

#include "auditreport.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "allowlist.h"
#include "cli.h"
#include "json.h"
#include "util.h"

/* ------------------------------------------------------------ model */

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		abort();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

section *sec_new(report *r, int step, const char *title)
{
	section *s = &r->s[r->n++];
	s->step = step;
	s->title = xstrdup(title);
	return s;
}

void sec_evidence(section *s, const char *file)
{
	for (size_t i = 0; i < s->n_evidence; i++)
		if (strcmp(s->evidence[i], file) == 0)
			return;
	if (s->n_evidence < SW_ARRAY_SIZE(s->evidence))
		s->evidence[s->n_evidence++] = xstrdup(file);
}

void finding(report *r, section *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	if (s->n_findings == s->findings_cap) {
		s->findings_cap = s->findings_cap ? 2 * s->findings_cap : 16;
		s->findings = realloc(s->findings, s->findings_cap * sizeof *s->findings);
		if (!s->findings)
			abort();
	}
	s->findings[s->n_findings++] = p;
	r->n_findings++;
}

void sec_not_evidenced(report *r, section *s, const char *why)
{
	free(s->answer);
	s->answer = xasprintf("NOT EVIDENCED: %s", why);
	if (!s->not_evidenced)
		r->n_not_evidenced++;
	s->not_evidenced = true;
}

table *tab_new(section *s, const char *name, ...)
{
	table *t = &s->tables[s->n_tables++];
	t->name = xstrdup(name);
	va_list ap;
	va_start(ap, name);
	const char *c;
	while ((c = va_arg(ap, const char *)) && t->n_cols < AUDIT_MAX_COLS)
		t->cols[t->n_cols++] = xstrdup(c);
	va_end(ap);
	return t;
}

/* One row: n_cols strings (NULL shown as empty). */
void tab_row(table *t, bool red, ...)
{
	if (t->n_rows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cells = realloc(t->cells, t->cap * t->n_cols * sizeof *t->cells);
		t->red = realloc(t->red, t->cap * sizeof *t->red);
		if (!t->cells || !t->red)
			abort();
	}
	va_list ap;
	va_start(ap, red);
	for (size_t i = 0; i < t->n_cols; i++)
		t->cells[t->n_rows * t->n_cols + i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	t->red[t->n_rows++] = red;
}

void report_fact(report *r, bool number, const char *key, const char *label, const char *value,
		 const char *shown)
{
	fact *f = NULL;
	for (size_t i = 0; i < r->n_facts && !f; i++)
		if (strcmp(r->facts[i].key, key) == 0)
			f = &r->facts[i];
	if (!f) {
		if (r->n_facts == SW_ARRAY_SIZE(r->facts))
			abort();      /* a programming error: the figures are fixed */
		f = &r->facts[r->n_facts++];
	} else {
		free(f->key); free(f->label); free(f->value); free(f->shown);
	}
	f->key = xstrdup(key);
	f->label = xstrdup(label);
	f->value = xstrdup(value);
	f->shown = xstrdup(shown ? shown : value);
	f->number = number;
}

void report_free(report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		section *s = &r->s[i];
		free(s->title);
		free(s->answer);
		for (size_t k = 0; k < s->n_evidence; k++)
			free(s->evidence[k]);
		for (size_t k = 0; k < s->n_findings; k++)
			free(s->findings[k]);
		free(s->findings);
		for (size_t k = 0; k < s->n_tables; k++) {
			table *t = &s->tables[k];
			free(t->name);
			for (size_t c = 0; c < t->n_cols; c++)
				free(t->cols[c]);
			for (size_t c = 0; c < t->n_rows * t->n_cols; c++)
				free(t->cells[c]);
			free(t->cells);
			free(t->red);
		}
	}
	for (size_t i = 0; i < r->n_facts; i++) {
		free(r->facts[i].key); free(r->facts[i].label);
		free(r->facts[i].value); free(r->facts[i].shown);
	}
	memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ renderings */

static const char *meta_title(const report_meta *m)
{
	return m->title ? m->title : "sigward audit report";
}

static void meta_host(const report_meta *m, char host[256])
{
	host[0] = '\0';
	if (m->host)
		snprintf(host, 256, "%s", m->host);
	else
		gethostname(host, 255);
	host[255] = '\0';
}

/* yajl_gen copies bytes that are not UTF-8 as they are (invalid JSON): the
 * string is cleaned by json.h's writer first (U+FFFD), as everywhere. */
static void gstr(yajl_gen g, const char *s)
{
	_cleanup_jsonbuf_ sw_jsonbuf b = { 0 };
	sw_jsonbuf_utf8(&b, s ? s : "", s ? strlen(s) : 0);
	yajl_gen_string(g, (const unsigned char *)(b.p ? b.p : ""), b.failed ? 0 : b.len);
}

int report_json(const report *rep, const report_meta *m, char **out, size_t *out_len, sw_error *err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	char now[32];
	sw_format_rfc3339(m->now, now);
	yajl_gen_map_open(g);
	gstr(g, "kind"); gstr(g, m->kind ? m->kind : "node");
	gstr(g, "generated"); gstr(g, now);
	char host[256];
	meta_host(m, host);
	gstr(g, "host"); gstr(g, host);
	gstr(g, "n_findings"); yajl_gen_integer(g, (long long)rep->n_findings);
	gstr(g, "n_not_evidenced"); yajl_gen_integer(g, (long long)rep->n_not_evidenced);
	gstr(g, "facts");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < rep->n_facts; i++) {
		gstr(g, rep->facts[i].key);
		if (rep->facts[i].number)
			yajl_gen_number(g, rep->facts[i].value, strlen(rep->facts[i].value));
		else
			gstr(g, rep->facts[i].value);
	}
	yajl_gen_map_close(g);
	gstr(g, "bundle_signature");
	if (m->n_signers) {
		yajl_gen_map_open(g);
		gstr(g, "file"); gstr(g, AUDIT_SUMS_SIG_NAME);
		gstr(g, "signed"); gstr(g, AUDIT_SUMS_NAME);
		gstr(g, "keys");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < m->n_signers; i++) {
			yajl_gen_map_open(g);
			gstr(g, "line"); yajl_gen_integer(g, (long long)i + 1);
			gstr(g, "id"); gstr(g, m->signers[i].id);
			gstr(g, "algorithm"); gstr(g, m->signers[i].alg);
			gstr(g, "source"); gstr(g, m->signers[i].source);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	} else {
		yajl_gen_null(g);
	}
	if (rep->json_extra) {
		gstr(g, rep->json_extra_key);
		rep->json_extra(g, rep->json_extra_arg);
	}
	gstr(g, "sections");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < rep->n; i++) {
		const section *s = &rep->s[i];
		yajl_gen_map_open(g);
		gstr(g, "step"); yajl_gen_integer(g, s->step);
		gstr(g, "title"); gstr(g, s->title);
		gstr(g, "answer"); gstr(g, s->answer);
		gstr(g, "not_evidenced"); yajl_gen_bool(g, s->not_evidenced);
		gstr(g, "evidence");
		yajl_gen_array_open(g);
		for (size_t k = 0; k < s->n_evidence; k++)
			gstr(g, s->evidence[k]);
		yajl_gen_array_close(g);
		gstr(g, "findings");
		yajl_gen_array_open(g);
		for (size_t k = 0; k < s->n_findings; k++)
			gstr(g, s->findings[k]);
		yajl_gen_array_close(g);
		gstr(g, "tables");
		yajl_gen_map_open(g);
		for (size_t k = 0; k < s->n_tables; k++) {
			const table *t = &s->tables[k];
			gstr(g, t->name);
			yajl_gen_array_open(g);
			for (size_t row = 0; row < t->n_rows; row++) {
				yajl_gen_map_open(g);
				for (size_t col = 0; col < t->n_cols; col++) {
					gstr(g, t->cols[col]);
					gstr(g, t->cells[row * t->n_cols + col]);
				}
				gstr(g, "_finding"); yajl_gen_bool(g, t->red[row]);
				yajl_gen_map_close(g);
			}
			yajl_gen_array_close(g);
		}
		yajl_gen_map_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	int r = 0;
	*out = malloc(len ? len : 1);
	if (*out) {
		memcpy(*out, buf, len);
		*out_len = len;
	} else {
		r = sw_err(err, ENOMEM, "report.json: out of memory");
	}
	yajl_gen_free(g);
	return r;
}

static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

int report_md(const report *rep, const report_meta *m, char **out, size_t *out_len, sw_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char now[32];
	sw_format_rfc3339(m->now, now);
	char host[256];
	meta_host(m, host);
	fprintf(f, "# %s\n\n", meta_title(m));
	if (strcmp(m->kind ? m->kind : "node", "node") == 0) {
		fputs("Host `", f); md_cell(f, host); fputs("`. ", f);
	}
	fprintf(f, "Generated %s. Findings: %zu. Steps not evidenced: %zu.\n\n", now,
		rep->n_findings, rep->n_not_evidenced);
	for (size_t i = 0; i < m->n_signers; i++)
		fprintf(f, "%s `%s` is signed by key `%s` (%s) on line %zu of `%s`.\n", i ? "" : "The bundle's",
			AUDIT_SUMS_NAME, m->signers[i].id, m->signers[i].alg, i + 1, AUDIT_SUMS_SIG_NAME);
	if (m->n_signers)
		fputs("Check with `sigward audit verify --key KEY.pub DIR`.\n\n", f);
	if (rep->n_facts) {
		fputs("## Figures\n\n| figure | value |\n| --- | --- |\n", f);
		for (size_t i = 0; i < rep->n_facts; i++) {
			fputs("| ", f); md_cell(f, rep->facts[i].label);
			fputs(" | ", f); md_cell(f, rep->facts[i].shown);
			fputs(" |\n", f);
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < rep->n; i++) {
		const section *s = &rep->s[i];
		fprintf(f, "## Step %d. %s\n\n%s\n\n", s->step, s->title, s->answer ? s->answer : "");
		if (s->n_evidence) {
			fputs("Evidence:", f);
			for (size_t k = 0; k < s->n_evidence; k++)
				fprintf(f, " `%s`", s->evidence[k]);
			fputs("\n\n", f);
		}
		for (size_t k = 0; k < s->n_findings; k++)
			fprintf(f, "- **FINDING**: %s\n", s->findings[k]);
		if (s->n_findings)
			fputc('\n', f);
		for (size_t k = 0; k < s->n_tables; k++) {
			const table *t = &s->tables[k];
			fprintf(f, "### %s\n\n|", t->name);
			for (size_t col = 0; col < t->n_cols; col++) {
				fputc(' ', f); md_cell(f, t->cols[col]); fputs(" |", f);
			}
			fputs("\n|", f);
			for (size_t col = 0; col < t->n_cols; col++)
				fputs(" --- |", f);
			fputc('\n', f);
			for (size_t row = 0; row < t->n_rows; row++) {
				fputc('|', f);
				for (size_t col = 0; col < t->n_cols; col++) {
					fputc(' ', f);
					md_cell(f, t->cells[row * t->n_cols + col]);
					fputs(" |", f);
				}
				fputc('\n', f);
			}
			if (!t->n_rows)
				fputs("| (none) |\n", f);
			fputc('\n', f);
		}
	}
	fclose(f);
	(void)err;
	*out = TAKE_PTR(buf);
	*out_len = len;
	return 0;
}

static void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A table cell: words wrap between words; a long unbroken word (a digest, a
 * path) is marked so that it alone may break anywhere, which lets its column
 * shrink to the page instead of pushing the table off it. */
static void html_cell(FILE *f, const char *cell)
{
	if (!cell)
		return;
	for (const char *p = cell; *p;) {
		size_t sp = strspn(p, " ");
		for (size_t i = 0; i < sp; i++)
			fputc(' ', f);
		p += sp;
		size_t wl = strcspn(p, " ");
		if (!wl)
			continue;
		char *w = strndup(p, wl);
		if (!w)
			abort();
		if (wl > 24)
			fputs("<span class=\"tok\">", f);
		html_esc(f, w);
		if (wl > 24)
			fputs("</span>", f);
		free(w);
		p += wl;
	}
}

int report_html(const report *rep, const report_meta *m, char **out, size_t *out_len, sw_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char now[32], host[256];
	sw_format_rfc3339(m->now, now);
	meta_host(m, host);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
	html_esc(f, meta_title(m));
	fputs("</title>\n<style>\n"
	      "body{font-family:sans-serif;font-size:13px;margin:2em;color:#111;max-width:1400px}\n"
	      "h1{font-size:22px;margin-bottom:.2em}h2{font-size:17px;border-bottom:2px solid #333;margin-top:1.6em}\n"
	      "h3{font-size:14px;margin-bottom:.3em}\n"
	      "table{border-collapse:collapse;width:100%;margin:.4em 0 1em;table-layout:auto}\n"
	      "th,td{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top;"
	      "word-break:normal;overflow-wrap:break-word;hyphens:none}\n"
	      "td .tok{word-break:break-all}\n"
	      "table.figures{width:auto;min-width:40%}\n"
	      ".nev{color:#8a5a00;font-weight:bold}\n"
	      "th{background:#e8e8e8}tr.finding td{background:#fde2e2;color:#a00000}\n"
	      ".findings li{color:#b00000;font-weight:bold}.ok{color:#070;font-weight:bold}\n"
	      ".summary{padding:.6em 1em;border:2px solid #333;display:inline-block}\n"
	      ".summary.bad{border-color:#b00000;color:#b00000}\n"
	      "code{font-size:12px;background:#f2f2f2;padding:0 2px}\n"
	      "@media print{body{margin:0;font-size:10px}h2{page-break-after:avoid}tr{page-break-inside:avoid}}\n"
	      "</style></head><body>\n", f);
	fputs("<h1>", f);
	html_esc(f, meta_title(m));
	fputs("</h1>\n<p>", f);
	if (strcmp(m->kind ? m->kind : "node", "node") == 0) {
		fputs("Host <b>", f);
		html_esc(f, host);
		fputs("</b>, g", f);
	} else {
		fputs("G", f);
	}
	fprintf(f, "enerated %s. Every statement names the evidence file of this bundle it rests on; "
		   "<code>SHA256SUMS</code> covers every file.</p>\n", now);
	for (size_t i = 0; i < m->n_signers; i++) {
		fprintf(f, "<p>%s <code>%s</code> is signed by key <code>", i ? "" : "The bundle's", AUDIT_SUMS_NAME);
		html_esc(f, m->signers[i].id);
		fputs("</code> (", f);
		html_esc(f, m->signers[i].alg);
		fprintf(f, ") on line %zu of <code>%s</code>.</p>\n", i + 1, AUDIT_SUMS_SIG_NAME);
	}
	if (m->n_signers)
		fputs("<p>Check with <code>sigward audit verify --key KEY.pub DIR</code>.</p>\n", f);
	fprintf(f, "<p class=\"summary%s\">%zu finding(s), %zu step(s) not evidenced</p>\n",
		rep->n_findings || rep->n_not_evidenced ? " bad" : "", rep->n_findings, rep->n_not_evidenced);
	if (rep->n_facts) {
		fputs("<h2>Figures</h2>\n<table class=\"figures\"><tr><th>figure</th><th>value</th></tr>\n", f);
		for (size_t i = 0; i < rep->n_facts; i++) {
			fputs("<tr><td>", f);
			html_esc(f, rep->facts[i].label);
			fputs("</td><td>", f);
			html_cell(f, rep->facts[i].shown);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	for (size_t i = 0; i < rep->n; i++) {
		const section *s = &rep->s[i];
		fprintf(f, "<h2>Step %d. ", s->step);
		html_esc(f, s->title);
		fputs("</h2>\n<p>", f);
		html_esc(f, s->answer ? s->answer : "");
		fputs("</p>\n", f);
		if (s->n_evidence) {
			fputs("<p>Evidence:", f);
			for (size_t k = 0; k < s->n_evidence; k++) {
				fputs(" <code>", f);
				html_esc(f, s->evidence[k]);
				fputs("</code>", f);
			}
			fputs("</p>\n", f);
		}
		if (s->n_findings) {
			fputs("<ul class=\"findings\">\n", f);
			for (size_t k = 0; k < s->n_findings; k++) {
				fputs("<li>FINDING: ", f);
				html_esc(f, s->findings[k]);
				fputs("</li>\n", f);
			}
			fputs("</ul>\n", f);
		} else if (s->not_evidenced) {
			fputs("<p class=\"nev\">Not evidenced by this run.</p>\n", f);
		} else {
			fputs("<p class=\"ok\">No finding.</p>\n", f);
		}
		for (size_t k = 0; k < s->n_tables; k++) {
			const table *t = &s->tables[k];
			fputs("<h3>", f);
			html_esc(f, t->name);
			fputs("</h3>\n<table><tr>", f);
			for (size_t col = 0; col < t->n_cols; col++) {
				fputs("<th>", f);
				html_esc(f, t->cols[col]);
				fputs("</th>", f);
			}
			fputs("</tr>\n", f);
			for (size_t row = 0; row < t->n_rows; row++) {
				fputs(t->red[row] ? "<tr class=\"finding\">" : "<tr>", f);
				for (size_t col = 0; col < t->n_cols; col++) {
					/* Words wrap between words; only a long unbroken token
					 * (a digest, a path) may break anywhere, so a narrow
					 * column shows "runc", not "ru n c". */
					fputs("<td>", f);
					html_cell(f, t->cells[row * t->n_cols + col]);
					fputs("</td>", f);
				}
				fputs("</tr>\n", f);
			}
			if (!t->n_rows)
				fprintf(f, "<tr><td colspan=\"%zu\">(none)</td></tr>\n", t->n_cols);
			fputs("</table>\n", f);
		}
	}
	fputs("</body></html>\n", f);
	fclose(f);
	(void)err;
	*out = TAKE_PTR(buf);
	*out_len = len;
	return 0;
}

/* ------------------------------------------------------------ the bundle on disk */

int bundle_mkdirs(const char *path, sw_error *err)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return sw_err(err, ENAMETOOLONG, "%s: path too long", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return sw_err_errno(err, errno, "mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return sw_err_errno(err, errno, "mkdir %s", buf);
	return 0;
}

int bundle_write(const char *out, const char *rel, const void *data, size_t len, sw_error *err)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", out, rel) >= (int)sizeof path)
		return sw_err(err, ENAMETOOLONG, "%s/%s: path too long", out, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	int r = bundle_mkdirs(path, err);
	if (r < 0)
		return r;
	*slash = '/';
	_cleanup_fclose_ FILE *f = fopen(path, "we");
	if (!f)
		return sw_err_errno(err, errno, "%s", path);
	if (len && fwrite(data, 1, len, f) != len)
		return sw_err_errno(err, errno, "%s", path);
	return 0;
}

int bundle_out_empty(const char *out, sw_error *err)
{
	DIR *d = opendir(out);
	if (!d)
		return errno == ENOENT ? 0 : sw_err_errno(err, errno, "%s", out);
	bool empty = true;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	/* An old bundle's files would end up in the new SHA256SUMS. */
	return empty ? 0 : sw_err(err, EEXIST, "%s exists and is not empty", out);
}

/* SHA256SUMS: nftw has no closure argument. */
static FILE *sums_f;
static size_t sums_root_len;
static int sums_err;

static int sums_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)ftw;
	if (type != FTW_F)
		return 0;
	const char *rel = path + sums_root_len + 1;
	if (strcmp(rel, AUDIT_SUMS_NAME) == 0 || strcmp(rel, AUDIT_SUMS_SIG_NAME) == 0)
		return 0;
	_cleanup_free_ char *data = NULL;
	size_t len;
	sw_error e = { 0 };
	if (sw_read_file(path, AUDIT_FILE_MAX * 16, &data, &len, &e) < 0) {
		sums_err = 1;
		return 1;
	}
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(data, len, hex);
	fprintf(sums_f, "%s  %s\n", hex, rel);
	return 0;
}

int bundle_finish(const char *out, const report *rep, const report_meta *m, sw_signer *signers,
		  sw_error *err)
{
	static const struct {
		const char *name;
		int (*render)(const report *, const report_meta *, char **, size_t *, sw_error *);
	} rd[] = { { "report.json", report_json }, { "report.md", report_md }, { "report.html", report_html } };
	for (size_t i = 0; i < SW_ARRAY_SIZE(rd); i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if (rd[i].render(rep, m, &buf, &len, err) < 0 || bundle_write(out, rd[i].name, buf, len, err) < 0)
			return -1;
	}
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	sums_f = open_memstream(&buf, &len);
	if (!sums_f)
		abort();
	sums_root_len = strlen(out);
	sums_err = 0;
	int r = nftw(out, sums_one, 16, FTW_PHYS);
	fclose(sums_f);
	if (r != 0 || sums_err)
		return sw_err(err, EIO, "%s: cannot hash every file of the bundle", out);
	r = bundle_write(out, AUDIT_SUMS_NAME, buf, len, err);
	if (r < 0 || !m->n_signers)
		return r;
	/* SHA256SUMS.sig: one base64 signature of SHA256SUMS per key, the format of
	 * manifest.sig, so openssl and `sigward audit verify` check it alike. */
	sw_signer *ptrs[SW_MAX_SIGS];
	for (size_t i = 0; i < m->n_signers; i++)
		ptrs[i] = &signers[i];
	_cleanup_free_ char *sig = NULL;
	size_t sig_len;
	r = sw_sign_lines(ptrs, m->n_signers, buf, len, &sig, &sig_len, err);
	if (r < 0)
		return r;
	return bundle_write(out, AUDIT_SUMS_SIG_NAME, sig, sig_len, err);
}
