/* SPDX-License-Identifier: Apache-2.0 */
/* Audit step 5: the running images' own signatures, verified again from the
 * list's evidence (cli/auditevidence.h). */
#include "auditevidence.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"
#include "util.h"

static table *find_table(section *s, const char *name)
{
	for (size_t i = 0; i < s->n_tables; i++)
		if (s->tables[i].name && strcmp(s->tables[i].name, name) == 0)
			return &s->tables[i];
	return NULL;
}

static int col(const table *t, const char *name)
{
	for (size_t i = 0; i < t->n_cols; i++)
		if (strcmp(t->cols[i], name) == 0)
			return (int)i;
	return -1;
}

/* The bundle keeps the evidence beside the manifest it is covered by. */
static void copy_evidence(const sw_evidence *ev, const char *out, report *r, section *s)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/evidence", out);
	(void)mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/evidence/allowlist", out);
	(void)mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/evidence/allowlist/evidence", out);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, ev->text, ev->len) != (ssize_t)ev->len)
		finding(r, s, "%s: cannot write: %s", p, strerror(errno));
	else
		sec_evidence(s, "evidence/allowlist/evidence");
}

void audit_evidence(report *r, section *s, const sw_list *l, bool list_ok, int64_t now, const char *out)
{
	table *v = find_table(s, "verification");
	_cleanup_(sw_evidence_free) sw_evidence ev = { 0 };
	sw_error e = { 0 };
	int rc = sw_evidence_open(l, &ev, &e);
	if (rc == 0) {
		if (v)
			tab_row(v, false, "image signatures (evidence)",
				"none: the list was not compiled from image signatures (sigward allowlist compile)");
		return;
	}
	if (rc < 0) {
		if (v)
			tab_row(v, true, "image signatures (evidence)", e.msg);
		finding(r, s, "the current list's evidence cannot be used: %s", e.msg);
		return;
	}
	copy_evidence(&ev, out, r, s);
	if (v)
		tab_row(v, !list_ok, "image signatures (evidence)",
			list_ok ? "covered by the list's signature" : "present, but the list itself fails verification");
	/* The containers step 4 showed, with the digest the current list matched. */
	section *s4 = NULL;
	for (size_t i = 0; i < r->n && !s4; i++)
		if (r->s[i].step == 4)
			s4 = &r->s[i];
	table *ct = s4 ? find_table(s4, "containers") : NULL;
	int cc = ct ? col(ct, "container") : -1, cl = ct ? col(ct, "in current list") : -1;
	table *t = tab_new(s, "image signatures", "container", "digest", "reference", "result", "signer",
			   "key or identity", "issuer", "log index", "signed at (log)", "signed digest", NULL);
	size_t verified = 0, failed = 0;
	for (size_t i = 0; ct && cc >= 0 && cl >= 0 && i < ct->n_rows; i++) {
		const char *id = ct->cells[i * ct->n_cols + (size_t)cc];
		const char *in = ct->cells[i * ct->n_cols + (size_t)cl];
		if (!in || strncmp(in, "yes: sha256:", 12) != 0 || strlen(in) < 5 + 71)
			continue;
		char dg[SW_DIGEST_STR];
		memcpy(dg, in + 5, 71);
		dg[71] = '\0';
		sw_evidence_check ck[16];
		size_t n = 0;
		int found = sw_evidence_reverify(&ev, dg, now, ck, SW_ARRAY_SIZE(ck), &n, &e);
		if (found < 0) {
			finding(r, s, "container %s: %s", id ? id : "", e.msg);
			continue;
		}
		if (found == 0) {
			/* A compiled list lists only what its evidence approves. */
			tab_row(t, true, id, dg, "", "no approval in the evidence", "", "", "", "", "", "");
			finding(r, s, "container %s: its image %s is listed, but the list's evidence holds no approval of it",
				id ? id : "", dg);
			failed++;
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			char li[32] = "", at[32] = "", res[SW_ERROR_MAX + 32];
			if (ck[k].log_index >= 0)
				snprintf(li, sizeof li, "%" PRId64, ck[k].log_index);
			if (ck[k].integrated_time)
				sw_format_rfc3339(ck[k].integrated_time, at);
			snprintf(res, sizeof res, "%s%s", ck[k].ok ? "verified again (" : "FAILS: ",
				 ck[k].ok ? ck[k].kind : ck[k].error);
			if (ck[k].ok)
				snprintf(res + strlen(res), sizeof res - strlen(res), ")");
			tab_row(t, !ck[k].ok, id, dg, ck[k].reference, res, ck[k].signer,
				ck[k].key_id[0] ? ck[k].key_id : ck[k].identity, ck[k].issuer, li, at,
				strcmp(ck[k].signed_digest, dg) ? ck[k].signed_digest : "");
			if (ck[k].ok)
				verified++;
			else {
				failed++;
				finding(r, s, "container %s: the %s signature of %s by '%s' fails verification now: %s",
					id ? id : "", ck[k].kind, dg, ck[k].signer, ck[k].error);
			}
		}
	}
	(void)verified;
}

/* Step 7: who signed what the current list admits (from its evidence). */
void audit_evidence_signers(section *s, const sw_list *l)
{
	_cleanup_(sw_evidence_free) sw_evidence ev = { 0 };
	sw_error e = { 0 };
	if (sw_evidence_open(l, &ev, &e) <= 0)
		return;     /* none, or refused: step 5 says which */
	yajl_val cr = NULL;
	for (size_t i = 0; i < ev.n && !cr; i++) {
		const char *t = sw_ss_jstr(ev.rec[i], "type");
		if (t && strcmp(t, "compile") == 0)
			cr = ev.rec[i];
	}
	if (cr) {
		table *c = tab_new(s, "how the current list was compiled (its evidence)", "compiled", "by", "policy sha256",
				   "trust root sha256", NULL);
		tab_row(c, false, sw_ss_jstr(cr, "compiled"), sw_ss_jstr(cr, "sigward"), sw_ss_jstr(cr, "policy_sha256"),
			sw_ss_jstr(cr, "trusted_root_sha256"));
	}
	struct grp {
		const char *signer, *who, *issuer;
		size_t n;
		int64_t first, last;
	} g[64];
	size_t ng = 0;
	for (size_t i = 0; i < ev.n; i++) {
		yajl_val a = ev.rec[i];
		const char *t = sw_ss_jstr(a, "type"), *signer = sw_ss_jstr(a, "signer");
		if (!t || strcmp(t, "approval") != 0 || !signer)
			continue;
		const char *who = sw_ss_jstr(a, "key_id") ? sw_ss_jstr(a, "key_id") : sw_ss_jstr(a, "identity");
		const char *iss = sw_ss_jstr(a, "issuer");
		int64_t at = 0;
		(void)sw_ss_jint(a, "integrated_time", &at);
		size_t k;
		for (k = 0; k < ng; k++)
			if (strcmp(g[k].signer, signer) == 0 && strcmp(g[k].who ? g[k].who : "", who ? who : "") == 0)
				break;
		if (k == ng) {
			if (ng == SW_ARRAY_SIZE(g))
				continue;
			g[ng++] = (struct grp){ .signer = signer, .who = who, .issuer = iss, .first = at, .last = at };
		}
		g[k].n++;
		if (at && (!g[k].first || at < g[k].first))
			g[k].first = at;
		if (at > g[k].last)
			g[k].last = at;
	}
	table *t = tab_new(s, "who signed the listed images (the current list's evidence)", "signer", "key or identity",
			   "issuer", "approvals", "first signed (log)", "last signed (log)", NULL);
	for (size_t k = 0; k < ng; k++) {
		char num[32], f[32] = "", la[32] = "";
		snprintf(num, sizeof num, "%zu", g[k].n);
		if (g[k].first)
			sw_format_rfc3339(g[k].first, f);
		if (g[k].last)
			sw_format_rfc3339(g[k].last, la);
		tab_row(t, false, g[k].signer, g[k].who, g[k].issuer, num, f, la);
	}
}
