/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit report (auditreport.c): a model deliberately generic (sections of
 * tables and findings), so the three renderings (JSON, Markdown, HTML) cannot
 * disagree: they are written from the same rows. audit.c's steps fill it.
 *
 * Ownership: every string in the model is malloc'ed and owned by it; the model
 * lives as long as the audit. Allocation failure aborts (a half-written report
 * would under-report). Renderings return a malloc'ed buffer the caller frees.
 */
#ifndef SW_AUDITREPORT_H
#define SW_AUDITREPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sign.h"

#define AUDIT_MAX_COLS 12

typedef struct table {
	char *name;
	char *cols[AUDIT_MAX_COLS];
	size_t n_cols;
	char **cells;              /* n_rows * n_cols */
	bool *red;                 /* per row: the row is a finding */
	size_t n_rows, cap;
} table;

typedef struct section {
	int step;
	char *title;
	char *answer;              /* one paragraph */
	char *evidence[64];
	size_t n_evidence;
	table tables[4];
	size_t n_tables;
	char **findings;               /* as many as found: a fleet has hundreds of nodes */
	size_t n_findings, findings_cap;
	/* The run did not answer this step (e.g. step 6 without --negative-test):
	 * shown as NOT EVIDENCED, never as "no finding", and counted apart. */
	bool not_evidenced;
} section;

/* A figure of the whole report, for machines (report.json's "facts", the key)
 * and people (the "Figures" table of report.md and report.html, the label). */
typedef struct fact {
	char *key, *label;
	char *value;                   /* a JSON number literal when number, else the string */
	char *shown;                   /* what report.md and report.html show */
	bool number;
} fact;

typedef struct report {
	section s[10];
	size_t n;
	size_t n_findings;
	size_t n_not_evidenced;        /* steps marked with sec_not_evidenced */
	/* A top-level object of report.json its step writes itself (step 9's
	 * "liveness", auditlive.c): the key and a writer given the yajl_gen. */
	const char *json_extra_key;
	void (*json_extra)(void *yajl_gen, const void *arg);
	const void *json_extra_arg;
	fact facts[32];
	size_t n_facts;
} report;

/* What the renderings say beside the sections. */
typedef struct report_meta {
	int64_t now;                   /* when the audit ran */
	const sw_signer *signers;      /* the keys SHA256SUMS is signed with (--sign-key) */
	size_t n_signers;
	const char *kind;              /* report.json's "kind": "node" (NULL) or "fleet" */
	const char *title;             /* NULL: "sigward audit report" */
	const char *host;              /* the node named (--node); NULL: gethostname() */
} report_meta;

char *xstrdup(const char *s);      /* NULL becomes "" */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* A new section of step `step`, with its title. */
section *sec_new(report *r, int step, const char *title);
/* An evidence file (relative to the bundle) the section rests on, once. */
void sec_evidence(section *s, const char *file);
/* A finding of section s, counted in r. */
void finding(report *r, section *s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The run did not answer this step; why (one sentence) becomes its answer. */
void sec_not_evidenced(report *r, section *s, const char *why);
/* A table named `name` with the columns that follow, NULL-terminated. */
table *tab_new(section *s, const char *name, ...);
/* One row: n_cols strings (NULL shown as empty); red marks it a finding. */
void tab_row(table *t, bool red, ...);

/* A figure: value is a JSON number literal when number is true ("3", "0.75"),
 * else a string; shown (NULL: value) is what report.md and report.html say. The
 * same key again replaces the figure. */
void report_fact(report *r, bool number, const char *key, const char *label, const char *value,
		 const char *shown);
/* Free everything the model holds. */
void report_free(report *r);

/* The renderings: 0 with *out (malloc'ed) and *out_len, <0 with err. */
int report_json(const report *rep, const report_meta *m, char **out, size_t *out_len, sw_error *err);
int report_md(const report *rep, const report_meta *m, char **out, size_t *out_len, sw_error *err);
int report_html(const report *rep, const report_meta *m, char **out, size_t *out_len, sw_error *err);

/* An evidence bundle on disk (sigward audit, sigward audit fleet). */
/* mkdir -p. */
int bundle_mkdirs(const char *path, sw_error *err);
/* Write out/rel (its directories made), replacing it. */
int bundle_write(const char *out, const char *rel, const void *data, size_t len, sw_error *err);
/* 0 when out does not exist or is an empty directory (an old bundle's files
 * would end up in the new SHA256SUMS); else -1 with err. */
int bundle_out_empty(const char *out, sw_error *err);
/* report.json, report.md and report.html into out, then SHA256SUMS over every
 * file of out and, with m->n_signers, SHA256SUMS.sig (one signature per signer). */
int bundle_finish(const char *out, const report *rep, const report_meta *m, sw_signer *signers,
		  sw_error *err);

/* auditverify.c: check the bundle in dir as `sigward audit verify` does: with
 * keys, SHA256SUMS.sig holds a valid signature by each; every file SHA256SUMS
 * names has its SHA-256; no other file. Each problem is one line given to
 * problem (no "sigward: " prefix) and counted in res->n_bad. <0 with err when
 * dir holds no readable SHA256SUMS (not a bundle). */
typedef struct audit_check {
	size_t n_bad;                  /* problems found */
	size_t n_files;                /* files SHA256SUMS names */
	bool sig_missing;              /* keys given, no SHA256SUMS.sig: not signed */
	bool key_signed[SW_MAX_KEYS];  /* per key: a valid signature */
} audit_check;
int audit_bundle_check(const char *dir, const sw_key *keys, size_t nk, void (*problem)(void *arg, const char *msg),
		       void *arg, audit_check *res, sw_error *err);

#endif
