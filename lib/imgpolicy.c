/* SPDX-License-Identifier: Apache-2.0 */
/* The image signing policy (lib/imgpolicy.h): a tool, never on the start path. */
#include "imgpolicy.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "imagesig.h"
#include "util.h"

#define ECHO_MAX 128

typedef enum { SEC_NONE, SEC_POLICY, SEC_SIGNER, SEC_ATTEST, SEC_REPO } sec_kind;

/* A name a key refers to, resolved once the whole file is read (names may be
 * defined after their use). */
typedef enum { REF_REPO_SIGNER, REF_REPO_ATTEST, REF_ATTEST_SIGNER } ref_kind;
typedef struct pending {
	char name[SW_IMGPOL_NAME_MAX + 1];
	unsigned line;
	ref_kind kind;                /* which list of which section ... */
	size_t owner, pos;            /* ... and where in it the index goes (the
	                               * arrays move while the file is read) */
} pending;

typedef struct pctx {
	sw_imgpolicy *p;
	const char *dir;              /* the policy's directory, for relative paths */
	sec_kind sec;
	unsigned sec_line;
	unsigned seen;                /* bit per key of the current section: given twice is an error */
	bool had_policy;
	pending *pend;
	size_t n_pend, cap_pend;
} pctx;

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SW_IMGPOL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* A repository pattern: the characters of a reference's "host[:port]/path"
 * (lower case, as the distribution spec requires of paths) plus '*'. */
static bool pattern_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 512 || s[0] == '/' || s[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
		      c == '/' || c == ':' || c == '*'))
			return false;
		if (c == '*' && i + 2 < n && s[i + 1] == '*' && s[i + 2] == '*')
			return false;
	}
	return true;
}

static char *resolve_path(const pctx *c, const char *v)
{
	char *out = NULL;
	if (v[0] == '/')
		return strdup(v);
	if (asprintf(&out, "%s/%s", c->dir, v) < 0)
		return NULL;
	return out;
}

static void match_free(sw_imgpol_match *m)
{
	if (m->text && m->is_re)
		regfree(&m->re);
	free(m->text);
	memset(m, 0, sizeof *m);
}

static int set_match(const char *path, unsigned line, const char *key, const char *v, bool is_re,
		     sw_imgpol_match *m, sw_error *err)
{
	if (m->text)
		return sw_err(err, SW_EINVAL, "%s:%u: %s: an exact value and a regex for the same field", path, line, key);
	if (!*v)
		return sw_err(err, SW_EINVAL, "%s:%u: %s is empty", path, line, key);
	if (is_re) {
		/* Anchored whatever the author wrote: the whole identity must match.
		 * Not REG_NOSUB: sigstore's whole-string check (sw_ss_re_full) reads
		 * the match offsets, which REG_NOSUB leaves unset. */
		const char *why;
		if (sw_imgsig_regex_bounded(v, &why) < 0)
			return sw_err(err, SW_EINVAL, "%s:%u: %s: pattern refused: %s", path, line, key, why);
		_cleanup_free_ char *anch = NULL;
		if (asprintf(&anch, "^(%s)$", v) < 0)
			return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
		int rc = regcomp(&m->re, anch, REG_EXTENDED);
		if (rc != 0) {
			char eb[128];
			regerror(rc, &m->re, eb, sizeof eb);
			return sw_err(err, SW_EINVAL, "%s:%u: %s: not a POSIX extended regex: %s", path, line, key, eb);
		}
	}
	m->is_re = is_re;
	m->text = strdup(v);
	if (!m->text) {
		if (is_re)
			regfree(&m->re);
		return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
	}
	return 0;
}

static bool match_str(const sw_imgpol_match *m, const char *s)
{
	if (!m->text || !s)
		return false;
	if (m->is_re)
		return regexec(&m->re, s, 0, NULL, 0) == 0;
	return strcmp(m->text, s) == 0;
}

static size_t *ref_slot(sw_imgpolicy *p, ref_kind k, size_t owner, size_t pos)
{
	return k == REF_REPO_SIGNER ? &p->repos[owner].signers[pos]
	       : k == REF_REPO_ATTEST ? &p->repos[owner].attests[pos] : &p->attests[owner].signers[pos];
}

/* "a b c" (blanks or commas between): queue each name for resolution into the
 * list `k` of the current section. */
static int add_names(pctx *c, const char *path, unsigned line, const char *key, const char *v, ref_kind k,
		     size_t *n, size_t max, sw_error *err)
{
	size_t owner = k == REF_ATTEST_SIGNER ? c->p->n_attests - 1 : c->p->n_repos - 1;
	_cleanup_free_ char *copy = strdup(v);
	if (!copy)
		return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		if (!name_ok(t))
			return sw_err(err, SW_EINVAL, "%s:%u: %s: '%.*s' is not a name (1-%d of [A-Za-z0-9._-])", path,
				      line, key, ECHO_MAX, t, SW_IMGPOL_NAME_MAX);
		for (size_t i = 0; i < c->n_pend; i++)
			if (c->pend[i].kind == k && c->pend[i].owner == owner && strcmp(c->pend[i].name, t) == 0)
				return sw_err(err, SW_EINVAL, "%s:%u: %s: '%s' is named twice", path, line, key, t);
		if (*n == max)
			return sw_err(err, SW_ETOOBIG, "%s:%u: %s: more than %zu names", path, line, key, max);
		if (c->n_pend == c->cap_pend) {
			size_t nc = c->cap_pend ? c->cap_pend * 2 : 16;
			pending *np = realloc(c->pend, nc * sizeof *np);
			if (!np)
				return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
			c->pend = np;
			c->cap_pend = nc;
		}
		pending *pe = &c->pend[c->n_pend++];
		snprintf(pe->name, sizeof pe->name, "%s", t);
		pe->line = line;
		pe->kind = k;
		pe->owner = owner;
		pe->pos = (*n)++;
	}
	if (*n == 0)
		return sw_err(err, SW_EINVAL, "%s:%u: %s names nothing", path, line, key);
	return 0;
}

/* The section just ended is complete? */
static int end_section(pctx *c, const char *path, sw_error *err)
{
	sw_imgpolicy *p = c->p;
	if (c->sec == SEC_SIGNER) {
		sw_imgpol_signer *s = &p->signers[p->n_signers - 1];
		bool keyless = s->issuer.text || s->identity.text;
		if (s->keyed && keyless)
			return sw_err(err, SW_EINVAL, "%s:%u: signer '%s' has both a key and a certificate identity: "
				      "give one signer per way of signing", path, c->sec_line, s->name);
		if (!s->keyed && !keyless)
			return sw_err(err, SW_EINVAL, "%s:%u: signer '%s' needs 'key', or 'issuer' and 'identity' "
				      "(or their _regex forms)", path, c->sec_line, s->name);
		/* Keyless with only half an identity would accept any certificate
		 * of that issuer, or the identity from any issuer. */
		if (keyless && (!s->issuer.text || !s->identity.text))
			return sw_err(err, SW_EINVAL, "%s:%u: signer '%s' needs both an issuer and an identity", path,
				      c->sec_line, s->name);
	} else if (c->sec == SEC_ATTEST) {
		sw_imgpol_attest *a = &p->attests[p->n_attests - 1];
		if (!a->predicate_type)
			return sw_err(err, SW_EINVAL, "%s:%u: attestation '%s' needs 'predicate_type'", path, c->sec_line,
				      a->name);
		if (!a->n_signers)
			return sw_err(err, SW_EINVAL, "%s:%u: attestation '%s' needs 'signers'", path, c->sec_line,
				      a->name);
	} else if (c->sec == SEC_REPO) {
		sw_imgpol_repo *r = &p->repos[p->n_repos - 1];
		if (!r->n_signers)
			return sw_err(err, SW_EINVAL, "%s:%u: repository '%s' needs 'signers'", path, c->sec_line,
				      r->pattern);
		if (!r->threshold)
			r->threshold = 1;
		if (r->threshold > r->n_signers)
			return sw_err(err, SW_EINVAL, "%s:%u: repository '%s': threshold %u is more than its %zu signer(s)",
				      path, c->sec_line, r->pattern, r->threshold, r->n_signers);
	}
	return 0;
}

static void *grow(void *v, size_t n, size_t size)
{
	/* One element at a time: policies are small. */
	return realloc(v, (n + 1) * size);
}

static int section(pctx *c, const char *path, unsigned line, char *s, sw_error *err)
{
	sw_imgpolicy *p = c->p;
	size_t n = strlen(s);
	if (s[n - 1] != ']')
		return sw_err(err, SW_EINVAL, "%s:%u: section header '%.*s' does not end with ']'", path, line, ECHO_MAX, s);
	s[n - 1] = '\0';
	char *h = sw_config_trim(s + 1);
	char *arg = h + strcspn(h, " \t");
	if (*arg) {
		*arg++ = '\0';
		arg = sw_config_trim(arg);
	}
	int r = end_section(c, path, err);
	if (r < 0)
		return r;
	c->seen = 0;
	c->sec_line = line;
	if (strcmp(h, "policy") == 0) {
		if (*arg)
			return sw_err(err, SW_EINVAL, "%s:%u: [policy] takes no name", path, line);
		if (c->had_policy)
			return sw_err(err, SW_EINVAL, "%s:%u: a second [policy] section", path, line);
		c->had_policy = true;
		c->sec = SEC_POLICY;
		return 0;
	}
	bool sig = strcmp(h, "signer") == 0, att = strcmp(h, "attestation") == 0, rep = strcmp(h, "repository") == 0;
	if (!sig && !att && !rep)
		return sw_err(err, SW_EINVAL, "%s:%u: unknown section [%.*s] (policy, signer, attestation, repository)",
			      path, line, ECHO_MAX, h);
	if (rep) {
		if (!pattern_ok(arg))
			return sw_err(err, SW_EINVAL, "%s:%u: [repository PATTERN]: '%.*s' is not a repository pattern "
				      "(host/path in lower case, '*' within a component, '**' across)", path, line, ECHO_MAX, arg);
		for (size_t i = 0; i < p->n_repos; i++)
			if (strcmp(p->repos[i].pattern, arg) == 0)
				return sw_err(err, SW_EINVAL, "%s:%u: repository '%s' is already defined at line %u", path, line,
					      arg, p->repos[i].line);
		if (p->n_repos == SW_IMGPOL_MAX_REPOS)
			return sw_err(err, SW_ETOOBIG, "%s:%u: more than %d repositories", path, line, SW_IMGPOL_MAX_REPOS);
		sw_imgpol_repo *nr = grow(p->repos, p->n_repos, sizeof *nr);
		if (!nr)
			return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
		p->repos = nr;
		sw_imgpol_repo *rr = &p->repos[p->n_repos];
		memset(rr, 0, sizeof *rr);
		rr->line = line;
		if (!(rr->pattern = strdup(arg)))
			return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
		p->n_repos++;
		c->sec = SEC_REPO;
		return 0;
	}
	if (!name_ok(arg))
		return sw_err(err, SW_EINVAL, "%s:%u: [%s NAME]: '%.*s' is not a name (1-%d of [A-Za-z0-9._-])", path, line,
			      h, ECHO_MAX, arg, SW_IMGPOL_NAME_MAX);
	if (sig) {
		for (size_t i = 0; i < p->n_signers; i++)
			if (strcmp(p->signers[i].name, arg) == 0)
				return sw_err(err, SW_EINVAL, "%s:%u: signer '%s' is already defined at line %u", path, line, arg,
					      p->signers[i].line);
		if (p->n_signers == SW_IMGPOL_MAX_SIGNERS)
			return sw_err(err, SW_ETOOBIG, "%s:%u: more than %d signers", path, line, SW_IMGPOL_MAX_SIGNERS);
		sw_imgpol_signer *ns = grow(p->signers, p->n_signers, sizeof *ns);
		if (!ns)
			return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
		p->signers = ns;
		sw_imgpol_signer *s2 = &p->signers[p->n_signers++];
		memset(s2, 0, sizeof *s2);
		snprintf(s2->name, sizeof s2->name, "%s", arg);
		s2->line = line;
		c->sec = SEC_SIGNER;
		return 0;
	}
	for (size_t i = 0; i < p->n_attests; i++)
		if (strcmp(p->attests[i].name, arg) == 0)
			return sw_err(err, SW_EINVAL, "%s:%u: attestation '%s' is already defined at line %u", path, line, arg,
				      p->attests[i].line);
	if (p->n_attests == SW_IMGPOL_MAX_ATTESTS)
		return sw_err(err, SW_ETOOBIG, "%s:%u: more than %d attestations", path, line, SW_IMGPOL_MAX_ATTESTS);
	sw_imgpol_attest *na = grow(p->attests, p->n_attests, sizeof *na);
	if (!na)
		return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
	p->attests = na;
	sw_imgpol_attest *a = &p->attests[p->n_attests++];
	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "%s", arg);
	a->line = line;
	c->sec = SEC_ATTEST;
	return 0;
}

/* The keys of each section, in one table: the bit is the key's index. */
static const struct {
	sec_kind sec;
	const char *key;
} keys[] = {
	{ SEC_POLICY, "trusted_root" },
	{ SEC_SIGNER, "key" }, { SEC_SIGNER, "issuer" }, { SEC_SIGNER, "issuer_regex" },
	{ SEC_SIGNER, "identity" }, { SEC_SIGNER, "identity_regex" },
	{ SEC_ATTEST, "predicate_type" }, { SEC_ATTEST, "builder" }, { SEC_ATTEST, "source" }, { SEC_ATTEST, "signers" },
	{ SEC_REPO, "signers" }, { SEC_REPO, "threshold" }, { SEC_REPO, "attestations" }, { SEC_REPO, "need_tlog" },
};

static const char *sec_name(sec_kind k)
{
	return k == SEC_POLICY ? "policy" : k == SEC_SIGNER ? "signer" : k == SEC_ATTEST ? "attestation" : "repository";
}

static int set_str(const char *path, unsigned line, const char *key, const char *v, char **out, sw_error *err)
{
	if (!*v)
		return sw_err(err, SW_EINVAL, "%s:%u: %s is empty", path, line, key);
	if (!(*out = strdup(v)))
		return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
	return 0;
}

static int key_value(pctx *c, const char *path, unsigned line, const char *key, const char *v, sw_error *err)
{
	sw_imgpolicy *p = c->p;
	size_t k;
	for (k = 0; k < SW_ARRAY_SIZE(keys); k++)
		if (keys[k].sec == c->sec && strcmp(keys[k].key, key) == 0)
			break;
	if (k == SW_ARRAY_SIZE(keys))
		return sw_err(err, SW_EINVAL, "%s:%u: unknown key '%.*s' in [%s]", path, line, ECHO_MAX, key,
			      sec_name(c->sec));
	if (c->seen & (1u << k))
		return sw_err(err, SW_EINVAL, "%s:%u: '%s' is given twice in this [%s] section", path, line, key,
			      sec_name(c->sec));
	c->seen |= 1u << k;
	switch (c->sec) {
	case SEC_POLICY:
		if (!*v)
			return sw_err(err, SW_EINVAL, "%s:%u: %s is empty", path, line, key);
		if (!(p->trusted_root = resolve_path(c, v)))
			return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
		p->trusted_root_line = line;
		return 0;
	case SEC_SIGNER: {
		sw_imgpol_signer *s = &p->signers[p->n_signers - 1];
		if (strcmp(key, "key") == 0) {
			if (!*v)
				return sw_err(err, SW_EINVAL, "%s:%u: key is empty", path, line);
			_cleanup_free_ char *kp = resolve_path(c, v);
			if (!kp)
				return sw_err_errno(err, ENOMEM, "%s:%u", path, line);
			/* The same key policy as trusted list keys (keys.h): a weak or
			 * malformed key is refused here, not at the first signature. */
			sw_error ke = { 0 };
			if (sw_key_load_file(kp, &s->key, &ke) < 0)
				return sw_err(err, ke.code, "%s:%u: key: %s", path, line, ke.msg);
			s->keyed = true;
			for (size_t i = 0; i + 1 < p->n_signers; i++)
				if (p->signers[i].keyed && strcmp(p->signers[i].key.id, s->key.id) == 0)
					return sw_err(err, SW_EINVAL, "%s:%u: the key of signer '%s' is also signer '%s''s "
						      "(line %u): one key is one signer", path, line, s->name,
						      p->signers[i].name, p->signers[i].line);
			return 0;
		}
		bool re = strstr(key, "_regex") != NULL;
		return set_match(path, line, key, v, re, key[1] == 's' ? &s->issuer : &s->identity, err);
	}
	case SEC_ATTEST: {
		sw_imgpol_attest *a = &p->attests[p->n_attests - 1];
		if (strcmp(key, "signers") == 0)
			return add_names(c, path, line, key, v, REF_ATTEST_SIGNER, &a->n_signers, SW_IMGPOL_MAX_SIGNERS, err);
		return set_str(path, line, key, v,
			       key[0] == 'p' ? &a->predicate_type : key[0] == 'b' ? &a->builder : &a->source, err);
	}
	case SEC_REPO: {
		sw_imgpol_repo *rr = &p->repos[p->n_repos - 1];
		if (strcmp(key, "signers") == 0)
			return add_names(c, path, line, key, v, REF_REPO_SIGNER, &rr->n_signers, SW_IMGPOL_MAX_SIGNERS, err);
		if (strcmp(key, "attestations") == 0)
			return add_names(c, path, line, key, v, REF_REPO_ATTEST, &rr->n_attests, SW_IMGPOL_MAX_ATTESTS, err);
		if (strcmp(key, "need_tlog") == 0) {
			if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
				return sw_err(err, SW_EINVAL, "%s:%u: need_tlog: '%.*s' is not yes or no", path, line, ECHO_MAX, v);
			rr->need_tlog = v[0] == 'y';
			return 0;
		}
		uint64_t t;
		if (sw_parse_u64(v, strlen(v), &t) < 0 || t == 0 || t > SW_IMGPOL_MAX_SIGNERS)
			return sw_err(err, SW_EINVAL, "%s:%u: threshold: '%.*s' is not a number from 1 to %d", path, line,
				      ECHO_MAX, v, SW_IMGPOL_MAX_SIGNERS);
		rr->threshold = (unsigned)t;
		return 0;
	}
	case SEC_NONE:
		break;
	}
	return sw_err(err, SW_EINVAL, "%s:%u: key outside of a section", path, line);
}

static int one_line(void *ctx, const char *path, unsigned line, char *s, sw_error *err)
{
	pctx *c = ctx;
	if (*s == '[')
		return section(c, path, line, s, err);
	if (c->sec == SEC_NONE)
		return sw_err(err, SW_EINVAL, "%s:%u: key outside of a section", path, line);
	char *eq = strchr(s, '=');
	if (!eq)
		return sw_err(err, SW_EINVAL, "%s:%u: missing '='", path, line);
	*eq = '\0';
	char *key = sw_config_trim(s), *value = sw_config_trim(eq + 1);
	if (!*key)
		return sw_err(err, SW_EINVAL, "%s:%u: missing key before '='", path, line);
	return key_value(c, path, line, key, value, err);
}

int sw_imgpolicy_parse(const char *path, const char *text, size_t len, sw_imgpolicy *p, sw_error *err)
{
	memset(p, 0, sizeof *p);
	_cleanup_free_ char *pc = strdup(path);
	if (!pc || !(p->path = strdup(path)))
		return sw_err_errno(err, ENOMEM, "%s", path);
	pctx c = { .p = p, .dir = dirname(pc) };
	sw_sha256_hex(text, len, p->sha256);
	int r = sw_config_lines(path, text, len, SW_IMGPOL_MAX_SIZE, one_line, &c, err);
	if (r >= 0)
		r = end_section(&c, path, err);
	/* Names used before their definition resolve now. */
	for (size_t i = 0; r >= 0 && i < c.n_pend; i++) {
		const pending *pe = &c.pend[i];
		bool att = pe->kind == REF_REPO_ATTEST;
		size_t n = att ? p->n_attests : p->n_signers, k;
		for (k = 0; k < n; k++)
			if (strcmp(att ? p->attests[k].name : p->signers[k].name, pe->name) == 0)
				break;
		if (k == n)
			r = sw_err(err, SW_EINVAL, "%s:%u: no [%s %s] is defined", path, pe->line,
				   att ? "attestation" : "signer", pe->name);
		else
			*ref_slot(p, pe->kind, pe->owner, pe->pos) = k;
	}
	free(c.pend);
	/* Keyless signers verify against the pinned trust root: without one
	 * nothing could ever satisfy them, and the mistake would only show as
	 * every image left out. */
	for (size_t i = 0; r >= 0 && i < p->n_signers; i++)
		if (!p->signers[i].keyed && !p->trusted_root)
			r = sw_err(err, SW_EINVAL, "%s:%u: signer '%s' is keyless, but [policy] sets no trusted_root", path,
				   p->signers[i].line, p->signers[i].name);
	if (r >= 0 && p->n_repos == 0)
		r = sw_err(err, SW_EINVAL, "%s: no [repository] section: nothing could be approved", path);
	if (r < 0)
		sw_imgpolicy_free(p);
	return r;
}

int sw_imgpolicy_load(const char *path, sw_imgpolicy *p, sw_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	memset(p, 0, sizeof *p);
	int r = sw_read_file(path, SW_IMGPOL_MAX_SIZE + 1, &text, &len, err);
	if (r < 0)
		return r;
	return sw_imgpolicy_parse(path, text, len, p, err);
}

void sw_imgpolicy_free(sw_imgpolicy *p)
{
	for (size_t i = 0; i < p->n_signers; i++) {
		if (p->signers[i].keyed)
			sw_key_free(&p->signers[i].key);
		match_free(&p->signers[i].issuer);
		match_free(&p->signers[i].identity);
	}
	for (size_t i = 0; i < p->n_attests; i++) {
		free(p->attests[i].predicate_type);
		free(p->attests[i].builder);
		free(p->attests[i].source);
	}
	for (size_t i = 0; i < p->n_repos; i++)
		free(p->repos[i].pattern);
	free(p->signers);
	free(p->attests);
	free(p->repos);
	free(p->path);
	free(p->trusted_root);
	memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------ matching */

bool sw_imgpol_pattern_match(const char *pat, const char *s)
{
	/* Iterative glob with one backtrack point per star kind; patterns and
	 * references are short (<= 512), so the worst case stays small. */
	while (*pat) {
		if (pat[0] == '*' && pat[1] == '*') {
			pat += 2;
			for (const char *t = s;; t++) {
				if (sw_imgpol_pattern_match(pat, t))
					return true;
				if (!*t)
					return false;
			}
		}
		if (*pat == '*') {
			pat++;
			for (const char *t = s;; t++) {
				if (sw_imgpol_pattern_match(pat, t))
					return true;
				if (!*t || *t == '/')
					return false;
			}
		}
		if (*pat != *s)
			return false;
		pat++;
		s++;
	}
	return *s == '\0';
}

const sw_imgpol_repo *sw_imgpolicy_repo(const sw_imgpolicy *p, const char *repository)
{
	for (size_t i = 0; i < p->n_repos; i++)
		if (sw_imgpol_pattern_match(p->repos[i].pattern, repository))
			return &p->repos[i];
	return NULL;
}

bool sw_imgpol_signer_matches(const sw_imgpol_signer *s, const sw_imgpol_principal *pr)
{
	if (s->keyed)
		return pr->key_id && strcmp(pr->key_id, s->key.id) == 0;
	return !pr->key_id && match_str(&s->issuer, pr->issuer) && match_str(&s->identity, pr->identity);
}

static bool same_principal(const sw_imgpol_principal *a, const sw_imgpol_principal *b)
{
	if (a->key_id || b->key_id)
		return a->key_id && b->key_id && strcmp(a->key_id, b->key_id) == 0;
	return a->identity && b->identity && a->issuer && b->issuer && strcmp(a->identity, b->identity) == 0 &&
	       strcmp(a->issuer, b->issuer) == 0;
}

/* Kuhn's augmenting path: can signer i take a signature, moving others? */
static bool augment(const bool adj[][SW_IMGPOL_MAX_SIGNERS], size_t i, size_t nsig, int *sig_owner, bool *visited,
		    int *by_signer)
{
	for (size_t j = 0; j < nsig; j++) {
		if (!adj[j][i] || visited[j])
			continue;
		visited[j] = true;
		if (sig_owner[j] < 0 || augment(adj, (size_t)sig_owner[j], nsig, sig_owner, visited, by_signer)) {
			sig_owner[j] = (int)i;
			by_signer[i] = (int)j;
			return true;
		}
	}
	return false;
}

#define DECIDE_MAX_SIGS 64

void sw_imgpolicy_decide(const sw_imgpolicy *p, const sw_imgpol_repo *r, const sw_imgpol_principal *sigs, size_t n,
			 sw_imgpol_verdict *v)
{
	memset(v, 0, sizeof *v);
	for (size_t i = 0; i < SW_IMGPOL_MAX_SIGNERS; i++)
		v->by_signer[i] = -1;
	/* One principal counts once: the first signature of each (in order). */
	size_t uniq[DECIDE_MAX_SIGS], nu = 0;
	for (size_t j = 0; j < n && nu < DECIDE_MAX_SIGS; j++) {
		bool dup = false;
		for (size_t k = 0; k < nu && !dup; k++)
			dup = same_principal(&sigs[uniq[k]], &sigs[j]);
		if (!dup)
			uniq[nu++] = j;
	}
	bool adj[DECIDE_MAX_SIGS][SW_IMGPOL_MAX_SIGNERS];
	memset(adj, 0, sizeof adj);
	for (size_t j = 0; j < nu; j++)
		for (size_t i = 0; i < r->n_signers; i++)
			adj[j][i] = sw_imgpol_signer_matches(&p->signers[r->signers[i]], &sigs[uniq[j]]);
	int owner[DECIDE_MAX_SIGS];
	for (size_t j = 0; j < nu; j++)
		owner[j] = -1;
	for (size_t i = 0; i < r->n_signers; i++) {
		bool visited[DECIDE_MAX_SIGS] = { false };
		if (augment(adj, i, nu, owner, visited, v->by_signer))
			v->satisfied++;
	}
	/* Back from the deduplicated numbering to the caller's. */
	for (size_t i = 0; i < r->n_signers; i++)
		if (v->by_signer[i] >= 0)
			v->by_signer[i] = (int)uniq[v->by_signer[i]];
	v->ok = v->satisfied >= r->threshold;
}

/* ------------------------------------------------------------ attestations */

static const char *jpath_str(yajl_val v, const char *const *path)
{
	yajl_val x = yajl_tree_get(v, (const char **)path, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

static bool source_is(const char *uri, const char *want)
{
	size_t n = strlen(want);
	return uri && strncmp(uri, want, n) == 0 && (uri[n] == '\0' || uri[n] == '@');
}

int sw_imgpol_attest_check(const sw_imgpol_attest *a, const char *predicate_type, yajl_val pred, sw_error *err)
{
	if (!predicate_type || strcmp(predicate_type, a->predicate_type) != 0)
		return sw_err(err, SW_EVERIFY, "attestation '%s': predicate type '%s', not '%s'", a->name,
			      predicate_type ? predicate_type : "(none)", a->predicate_type);
	if (a->builder) {
		static const char *const v1[] = { "runDetails", "builder", "id", NULL };
		static const char *const v02[] = { "builder", "id", NULL };
		const char *b = pred ? jpath_str(pred, v1) : NULL;
		if (!b && pred)
			b = jpath_str(pred, v02);
		if (!b || strcmp(b, a->builder) != 0)
			return sw_err(err, SW_EVERIFY, "attestation '%s': builder '%s', not '%s'", a->name, b ? b : "(none)",
				      a->builder);
	}
	if (a->source) {
		static const char *const wf[] = { "buildDefinition", "externalParameters", "workflow", "repository", NULL };
		static const char *const cs[] = { "invocation", "configSource", "uri", NULL };
		static const char *const deps[] = { "buildDefinition", "resolvedDependencies", NULL };
		bool ok = pred && (source_is(jpath_str(pred, wf), a->source) || source_is(jpath_str(pred, cs), a->source));
		yajl_val d = pred ? yajl_tree_get(pred, (const char **)deps, yajl_t_array) : NULL;
		for (size_t i = 0; !ok && d && i < YAJL_GET_ARRAY(d)->len; i++) {
			static const char *const uri[] = { "uri", NULL };
			ok = source_is(jpath_str(YAJL_GET_ARRAY(d)->values[i], uri), a->source);
		}
		if (!ok)
			return sw_err(err, SW_EVERIFY, "attestation '%s': not built from source '%s'", a->name, a->source);
	}
	return 0;
}
