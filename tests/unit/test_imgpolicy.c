/* SPDX-License-Identifier: Apache-2.0 */
/* The image signing policy: every refusal names FILE:LINE; patterns; k of n. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgpolicy.h"
#include "keys.h"

static char *dir;
static char *path;            /* dir/policy.conf */
static char key_a[SW_KEYID_HEX], key_b[SW_KEYID_HEX];

static void key_id(const char *name, char out[SW_KEYID_HEX])
{
	sw_key k;
	sw_error e = { 0 };
	char *p = tu_path(dir, name);
	assert_int_equal(sw_key_load_file(p, &k, &e), 0);
	memcpy(out, k.id, SW_KEYID_HEX);
	sw_key_free(&k);
	free(p);
}

static int setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	path = tu_path(dir, "policy.conf");
	EVP_PKEY *a = tu_keygen("p256"), *b = tu_keygen("ed25519"), *weak = tu_keygen("rsa1024");
	tu_write_pub(a, dir, "a.pub");
	tu_write_pub(b, dir, "b.pub");
	tu_write_pub(weak, dir, "weak.pub");
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(weak);
	tu_writes(dir, "garbage.pub", "not a key\n");
	key_id("a.pub", key_a);
	key_id("b.pub", key_b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmrf(dir);
	free(dir);
	free(path);
	return 0;
}

static int parse(const char *text, sw_imgpolicy *p, sw_error *e)
{
	return sw_imgpolicy_parse(path, text, strlen(text), p, e);
}

/* Refused, with "PATH:LINE: " first and `want` in the one-line message. */
static void fails(const char *text, unsigned line, const char *want)
{
	sw_imgpolicy p;
	sw_error e = { 0 };
	if (parse(text, &p, &e) >= 0)
		fail_msg("accepted:\n%s", text);
	char prefix[4200];
	if (line)
		snprintf(prefix, sizeof prefix, "%s:%u: ", path, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", path);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0 || !strstr(e.msg, want) || strchr(e.msg, '\n'))
		fail_msg("got \"%s\", want \"%s...%s...\"", e.msg, prefix, want);
	/* Nothing is handed back from a refused policy. */
	assert_null(p.signers);
	assert_null(p.repos);
}

#define GOOD \
	"# a policy\n" \
	"[policy]\n" \
	"trusted_root = root.json\n" \
	"\n" \
	"[signer ci]\n" \
	"issuer = https://token.actions.githubusercontent.com\n" \
	"identity_regex = https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v.*\n" \
	"[signer release]\n" \
	"key = a.pub\n" \
	"[signer second]\n" \
	"key = b.pub\n" \
	"[attestation provenance]\n" \
	"predicate_type = https://slsa.dev/provenance/v1\n" \
	"builder = https://github.com/actions/runner/github-hosted\n" \
	"source = https://github.com/acme/app\n" \
	"signers = ci\n" \
	"[repository registry.acme.example/app/*]\n" \
	"signers = ci, release second\n" \
	"threshold = 2\n" \
	"attestations = provenance\n" \
	"[repository registry.acme.example/**]\n" \
	"signers = release\n" \
	"need_tlog = yes\n"

static void test_good(void **state)
{
	(void)state;
	sw_imgpolicy p;
	sw_error e = { 0 };
	if (parse(GOOD, &p, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(p.n_signers, 3);
	assert_int_equal(p.n_repos, 2);
	assert_int_equal(p.n_attests, 1);
	char *root = tu_path(dir, "root.json");
	assert_string_equal(p.trusted_root, root);
	free(root);
	assert_int_equal(p.trusted_root_line, 3);
	assert_true(p.signers[1].keyed);
	assert_string_equal(p.signers[1].key.id, key_a);
	const sw_imgpol_repo *r = sw_imgpolicy_repo(&p, "registry.acme.example/app/web");
	assert_non_null(r);
	assert_int_equal(r->line, 17);
	assert_int_equal(r->threshold, 2);
	assert_int_equal(r->n_signers, 3);
	assert_int_equal(r->signers[0], 0);
	assert_int_equal(r->signers[2], 2);
	assert_int_equal(r->attests[0], 0);
	/* '*' stays within a component; '**' crosses them; first match wins. */
	r = sw_imgpolicy_repo(&p, "registry.acme.example/app/web/sub");
	assert_non_null(r);
	assert_int_equal(r->line, 21);
	assert_int_equal(r->threshold, 1);
	assert_true(r->need_tlog);
	assert_false(p.repos[0].need_tlog);
	assert_null(sw_imgpolicy_repo(&p, "registry.other.example/app/web"));
	assert_null(sw_imgpolicy_repo(&p, "registry.acme.example"));
	sw_imgpolicy_free(&p);
	sw_imgpolicy_free(&p);   /* safe twice */
}

static void test_patterns(void **state)
{
	(void)state;
	assert_true(sw_imgpol_pattern_match("r.example/app", "r.example/app"));
	assert_false(sw_imgpol_pattern_match("r.example/app", "r.example/app2"));
	assert_false(sw_imgpol_pattern_match("r.example/app", "r.example/ap"));
	assert_true(sw_imgpol_pattern_match("r.example/*", "r.example/app"));
	assert_false(sw_imgpol_pattern_match("r.example/*", "r.example/a/b"));
	assert_true(sw_imgpol_pattern_match("r.example/**", "r.example/a/b"));
	assert_true(sw_imgpol_pattern_match("r.example:5000/team-*/svc", "r.example:5000/team-x/svc"));
	assert_false(sw_imgpol_pattern_match("r.example:5000/team-*/svc", "r.example:5000/team-x/y/svc"));
	assert_true(sw_imgpol_pattern_match("**", "anything/at/all"));
	/* A pattern never matches a different host by a prefix. */
	assert_false(sw_imgpol_pattern_match("r.example/**", "r.example.evil/a"));
}

static void test_errors(void **state)
{
	(void)state;
	fails("key = x\n", 1, "key outside of a section");
	fails("[policy]\ntrusted_root = r\n[nonsense]\n", 3, "unknown section [nonsense]");
	fails("[policy\n", 1, "does not end with ']'");
	fails("[policy]\n[policy]\n", 2, "a second [policy] section");
	fails("[policy x]\n", 1, "[policy] takes no name");
	fails("[policy]\nroot = x\n", 2, "unknown key 'root' in [policy]");
	fails("[policy]\ntrusted_root\n", 2, "missing '='");
	fails("[policy]\n = x\n", 2, "missing key before '='");
	fails("[policy]\ntrusted_root =\n", 2, "trusted_root is empty");
	fails("[policy]\ntrusted_root = a\ntrusted_root = b\n", 3, "given twice");
	fails("[signer]\n", 1, "is not a name");
	fails("[signer a/b]\n", 1, "is not a name");
	fails("[signer x]\nkey = a.pub\n[signer x]\n", 3, "signer 'x' is already defined at line 1");
	fails("[signer x]\nkey = missing.pub\n", 2, "key: ");
	fails("[signer x]\nkey = weak.pub\n", 2, "key: ");
	fails("[signer x]\nkey = garbage.pub\n", 2, "key: ");
	fails("[signer x]\nkey = a.pub\n[signer y]\nkey = a.pub\n", 4, "one key is one signer");
	fails("[signer x]\nkeyfile = a.pub\n", 2, "unknown key 'keyfile' in [signer]");
	fails("[signer x]\n[repository r/a]\nsigners = x\n", 1, "needs 'key', or 'issuer' and 'identity'");
	fails("[policy]\ntrusted_root = r\n[signer x]\nkey = a.pub\nissuer = i\nidentity = d\n", 3,
	      "has both a key and a certificate identity");
	fails("[policy]\ntrusted_root = r\n[signer x]\nissuer = i\n[repository r/a]\nsigners = x\n", 3,
	      "needs both an issuer and an identity");
	fails("[policy]\ntrusted_root = r\n[signer x]\nidentity_regex = a\nissuer = i\nidentity = d\n", 6,
	      "an exact value and a regex");
	fails("[policy]\ntrusted_root = r\n[signer x]\nissuer = i\nidentity_regex = (unclosed\n", 5,
	      "not a POSIX extended regex");
	/* Patterns regcomp would expand exponentially (fuzz_imgpolicy: 2 GB from
	 * a 439-byte policy) are refused before it sees them. */
	fails("[policy]\ntrusted_root = r\n[signer x]\nissuer = i\nidentity_regex = https://++++++++++++x\n", 5,
	      "pattern refused: a quantifier right after another");
	fails("[policy]\ntrusted_root = r\n[signer x]\nissuer = i\n"
	      "identity_regex = ((((((((((((a+)b+)c+)d+)e+)f+)g+)h+)i+)j+)k+)l+)\n", 5,
	      "pattern refused: too many repetitions");
	fails("[policy]\ntrusted_root = r\n[signer x]\nissuer = i\nidentity_regex = a{17}\n", 5,
	      "pattern refused: an interval bound over 16");
	/* ... while '+' and '*' in brackets or escaped are literals: this pattern
	 * passes the bound and the policy fails only at line 6. */
	fails("[policy]\ntrusted_root = r\n[signer x]\nissuer_regex = [+*]{2}(a|b)+c*\\+\\+\\++\nidentity = d\n"
	      "issuer = x\n", 6, "an exact value and a regex");
	fails("[signer x]\nissuer = i\nidentity = d\n[repository r/a]\nsigners = x\n", 1,
	      "keyless, but [policy] sets no trusted_root");
	fails("[signer x]\nkey = a.pub\n", 0, "no [repository] section");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\n", 3, "repository 'r/a' needs 'signers'");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x y\n", 4, "no [signer y] is defined");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x x\n", 4, "'x' is named twice");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = ,\n", 4, "names nothing");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\nthreshold = 2\n", 3,
	      "threshold 2 is more than its 1 signer(s)");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\nthreshold = 0\n", 5, "not a number from 1");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\nthreshold = two\n", 5, "not a number from 1");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\nattestations = slsa\n", 5,
	      "no [attestation slsa] is defined");
	fails("[signer x]\nkey = a.pub\n[repository R/A]\nsigners = x\n", 3, "is not a repository pattern");
	fails("[signer x]\nkey = a.pub\n[repository r/***]\nsigners = x\n", 3, "is not a repository pattern");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\n[repository r/a]\nsigners = x\n", 5,
	      "already defined at line 3");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\nidentity = y\n", 5,
	      "unknown key 'identity' in [repository]");
	fails("[attestation p]\nsigners = x\n[signer x]\nkey = a.pub\n", 1, "needs 'predicate_type'");
	fails("[attestation p]\npredicate_type = t\n", 1, "needs 'signers'");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\n\x01\n", 5, "control character");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\nthreshold = 1\nthreshold = 1\n", 6,
	      "given twice");
	fails("[signer x]\nkey = a.pub\n[repository r/a]\nsigners = x\nneed_tlog = true\n", 5, "is not yes or no");
}

static void test_k_of_n(void **state)
{
	(void)state;
	sw_imgpolicy p;
	sw_error e = { 0 };
	if (parse(GOOD, &p, &e) < 0)
		fail_msg("%s", e.msg);
	const sw_imgpol_repo *r = sw_imgpolicy_repo(&p, "registry.acme.example/app/web");
	const char *iss = "https://token.actions.githubusercontent.com";
	const char *id = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2";
	sw_imgpol_verdict v;

	/* One of two required: refused, and says which signer was met. */
	sw_imgpol_principal one[] = { { .key_id = key_a } };
	sw_imgpolicy_decide(&p, r, one, 1, &v);
	assert_false(v.ok);
	assert_int_equal(v.satisfied, 1);
	assert_int_equal(v.by_signer[1], 0);
	assert_int_equal(v.by_signer[0], -1);

	/* The same key twice is still one signer. */
	sw_imgpol_principal twice[] = { { .key_id = key_a }, { .key_id = key_a } };
	sw_imgpolicy_decide(&p, r, twice, 2, &v);
	assert_false(v.ok);
	assert_int_equal(v.satisfied, 1);

	/* Keyless CI + the release key: approved. */
	sw_imgpol_principal two[] = { { .identity = id, .issuer = iss }, { .key_id = key_a } };
	sw_imgpolicy_decide(&p, r, two, 2, &v);
	assert_true(v.ok);
	assert_int_equal(v.by_signer[0], 0);
	assert_int_equal(v.by_signer[1], 1);

	/* The anchored regex: an identity that merely contains a matching
	 * string (after a prefix of the attacker's) fails. */
	char evil[512];
	snprintf(evil, sizeof evil, "https://github.com/evil/app/.github/workflows/x.yml?%s", id);
	sw_imgpol_principal wrong_id[] = { { .identity = evil, .issuer = iss }, { .key_id = key_a } };
	sw_imgpolicy_decide(&p, r, wrong_id, 2, &v);
	assert_false(v.ok);
	/* The right identity from another issuer fails. */
	sw_imgpol_principal wrong_iss[] = { { .identity = id, .issuer = "https://accounts.google.com" },
					    { .key_id = key_a } };
	sw_imgpolicy_decide(&p, r, wrong_iss, 2, &v);
	assert_false(v.ok);
	/* A key id is never taken for an identity and the reverse. */
	sw_imgpol_principal confused[] = { { .identity = key_a, .issuer = iss }, { .key_id = key_b } };
	sw_imgpolicy_decide(&p, r, confused, 2, &v);
	assert_false(v.ok);
	/* Two unknown keys: nothing. */
	sw_imgpol_principal none[] = { { .key_id = "00" }, { .key_id = "11" } };
	sw_imgpolicy_decide(&p, r, none, 2, &v);
	assert_int_equal(v.satisfied, 0);
	assert_false(v.ok);
	sw_imgpolicy_free(&p);
}

/* Overlapping signers: one identity satisfies both patterns, but counts once;
 * the matching still finds the assignment when a second identity can take the
 * other signer, whatever the order. */
static void test_overlap(void **state)
{
	(void)state;
	const char *text = "[policy]\ntrusted_root = r\n"
			   "[signer any]\nissuer = i\nidentity_regex = ci-.*\n"
			   "[signer main]\nissuer = i\nidentity = ci-main\n"
			   "[repository r/a]\nsigners = any main\nthreshold = 2\n";
	sw_imgpolicy p;
	sw_error e = { 0 };
	if (parse(text, &p, &e) < 0)
		fail_msg("%s", e.msg);
	const sw_imgpol_repo *r = &p.repos[0];
	sw_imgpol_verdict v;
	sw_imgpol_principal main1[] = { { .identity = "ci-main", .issuer = "i" } };
	sw_imgpolicy_decide(&p, r, main1, 1, &v);
	assert_false(v.ok);
	assert_int_equal(v.satisfied, 1);
	sw_imgpol_principal main2[] = { { .identity = "ci-main", .issuer = "i" }, { .identity = "ci-main", .issuer = "i" } };
	sw_imgpolicy_decide(&p, r, main2, 2, &v);
	assert_false(v.ok);
	/* "any" first grabs ci-main; the augmenting path moves it to "main". */
	sw_imgpol_principal both[] = { { .identity = "ci-main", .issuer = "i" }, { .identity = "ci-nightly", .issuer = "i" } };
	sw_imgpolicy_decide(&p, r, both, 2, &v);
	assert_true(v.ok);
	assert_int_equal(v.by_signer[0], 1);
	assert_int_equal(v.by_signer[1], 0);
	sw_imgpolicy_free(&p);
}

static void test_attestation(void **state)
{
	(void)state;
	sw_imgpolicy p;
	sw_error e = { 0 };
	if (parse(GOOD, &p, &e) < 0)
		fail_msg("%s", e.msg);
	const sw_imgpol_attest *a = &p.attests[0];
	const char *v1 = "{\"buildDefinition\":{\"externalParameters\":{\"workflow\":{\"repository\":"
			 "\"https://github.com/acme/app\"}},\"resolvedDependencies\":[]},"
			 "\"runDetails\":{\"builder\":{\"id\":\"https://github.com/actions/runner/github-hosted\"}}}";
	yajl_val pred = yajl_tree_parse(v1, NULL, 0);
	assert_non_null(pred);
	assert_int_equal(sw_imgpol_attest_check(a, "https://slsa.dev/provenance/v1", pred, &e), 0);
	assert_true(sw_imgpol_attest_check(a, "https://slsa.dev/provenance/v0.2", pred, &e) < 0);
	assert_non_null(strstr(e.msg, "predicate type"));
	yajl_tree_free(pred);
	/* Another builder. */
	pred = yajl_tree_parse("{\"runDetails\":{\"builder\":{\"id\":\"https://evil\"}},\"buildDefinition\":{"
			       "\"externalParameters\":{\"workflow\":{\"repository\":\"https://github.com/acme/app\"}}}}",
			       NULL, 0);
	assert_true(sw_imgpol_attest_check(a, "https://slsa.dev/provenance/v1", pred, &e) < 0);
	assert_non_null(strstr(e.msg, "builder 'https://evil'"));
	yajl_tree_free(pred);
	/* A source that only starts like the wanted one; then one pinned at a
	 * revision through resolvedDependencies, which is accepted. */
	pred = yajl_tree_parse("{\"runDetails\":{\"builder\":{\"id\":\"https://github.com/actions/runner/github-hosted\"}},"
			       "\"buildDefinition\":{\"resolvedDependencies\":[{\"uri\":\"https://github.com/acme/app-evil\"}]}}",
			       NULL, 0);
	assert_true(sw_imgpol_attest_check(a, "https://slsa.dev/provenance/v1", pred, &e) < 0);
	assert_non_null(strstr(e.msg, "not built from source"));
	yajl_tree_free(pred);
	pred = yajl_tree_parse("{\"runDetails\":{\"builder\":{\"id\":\"https://github.com/actions/runner/github-hosted\"}},"
			       "\"buildDefinition\":{\"resolvedDependencies\":[{\"uri\":\"https://github.com/acme/app@refs/tags/v1\"}]}}",
			       NULL, 0);
	assert_int_equal(sw_imgpol_attest_check(a, "https://slsa.dev/provenance/v1", pred, &e), 0);
	yajl_tree_free(pred);
	/* No predicate at all. */
	assert_true(sw_imgpol_attest_check(a, "https://slsa.dev/provenance/v1", NULL, &e) < 0);
	sw_imgpolicy_free(&p);
}

static void test_load(void **state)
{
	(void)state;
	tu_writes(dir, "policy.conf", GOOD);
	sw_imgpolicy p;
	sw_error e = { 0 };
	assert_int_equal(sw_imgpolicy_load(path, &p, &e), 0);
	assert_int_equal(strlen(p.sha256), 64);
	sw_imgpolicy_free(&p);
	char *missing = tu_path(dir, "missing.conf");
	assert_true(sw_imgpolicy_load(missing, &p, &e) < 0);
	assert_non_null(strstr(e.msg, missing));
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_k_of_n),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_attestation),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
