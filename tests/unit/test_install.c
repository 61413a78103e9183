/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allowlist.h"
#include "build.h"
#include "config.h"
#include "enforce.h"
#include "install.h"

typedef struct fixture {
	char *root, *keys, *lists, *state;
	EVP_PKEY *key;
	sw_config cfg;
} fixture;

static void digest_of(unsigned i, char out[SW_DIGEST_STR])
{
	char s[32];
	snprintf(s, sizeof s, "entry-%u", i);
	char hex[65];
	sw_sha256_hex(s, strlen(s), hex);
	snprintf(out, SW_DIGEST_STR, "sha256:%s", hex);
}

/* A signed list of n entries in root/<name>. */
static char *make_list(fixture *f, const char *name, unsigned n, const char *scope, uint64_t serial, int64_t expires)
{
	char *dir = tu_path(f->root, name);
	sw_build_entry *e = calloc(n + 1, sizeof *e);
	for (unsigned i = 0; i < n; i++) {
		digest_of(i + (unsigned)serial * 7, e[i].digest);
		if (i % 2) {
			e[i].ref = malloc(64);
			snprintf(e[i].ref, 64, "registry.example/app%u:v1", i);
		}
	}
	sw_build_opts o = { .scope = scope, .serial = serial, .issued = sw_now() - 7200, .expires = expires };
	sw_error err = { 0 };
	if (sw_build_write(e, n, &o, dir, &err) < 0)
		fail_msg("build: %s", err.msg);
	sw_build_entries_free(e, n);
	tu_sign_list(f->key, dir, 0);
	return dir;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	f->root = tu_tmpdir();
	f->keys = tu_path(f->root, "keys");
	f->lists = tu_path(f->root, "lists");
	f->state = tu_path(f->root, "state");
	mkdir(f->keys, 0755);
	mkdir(f->state, 0700);
	f->key = tu_keygen("p256");
	tu_write_pub(f->key, f->keys, "k1.pub");
	/* Filled by hand: these tests exercise install, not the config parser. */
	f->cfg.scope = (char *)"test";
	f->cfg.threshold = 1;
	f->cfg.keys_dir = f->keys;
	f->cfg.lists_dir = f->lists;
	f->cfg.state_dir = f->state;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tu_rmrf(f->root);
	EVP_PKEY_free(f->key);
	free(f->root);
	free(f->keys);
	free(f->lists);
	free(f->state);
	free(f);
	return 0;
}

/* A listing of lists_dir: names, symlink targets and file contents' hashes. */
static char *snapshot(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' 2>/dev/null && find . -printf '%%p %%y %%l\\n' | sort && find . -type f -exec sha256sum {} + | sort",
		 dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += r;
		if (n + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = '\0';
	pclose(p);
	return buf;
}

static void install_ok(fixture *f, const char *src, char gen[SW_GEN_NAME_MAX])
{
	sw_error e = { 0 };
	int r = sw_list_install(&f->cfg, src, false, gen, SW_GEN_NAME_MAX, &e);
	if (r < 0)
		fail_msg("install %s: %s", src, e.msg);
}

static void install_refused(fixture *f, const char *src, const char *needle)
{
	char *before = snapshot(f->lists);
	sw_error e = { 0 };
	int r = sw_list_install(&f->cfg, src, false, NULL, 0, &e);
	if (r >= 0)
		fail_msg("install of %s succeeded, expected '%s'", src, needle);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' does not mention '%s'", e.msg, needle);
	/* A failed install changes nothing, and leaves no staging directory. */
	char *after = snapshot(f->lists);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static char *current_target(fixture *f)
{
	char *p = tu_path(f->lists, "current");
	char buf[256];
	ssize_t n = readlink(p, buf, sizeof buf - 1);
	free(p);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static unsigned count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void test_install_and_switch(void **state)
{
	fixture *f = *state;
	char *src = make_list(f, "l5", 100, "test", 5, sw_now() + 86400);
	char gen[SW_GEN_NAME_MAX];
	install_ok(f, src, gen);
	assert_true(strncmp(gen, "gen-5-", 6) == 0 && strlen(gen) == 14);
	char *cur = current_target(f);
	assert_string_equal(cur, gen);
	free(cur);

	/* The installed copy is byte for byte the source. */
	char *gdir = tu_path(f->lists, gen);
	const char *names[] = { "manifest", "entries", "manifest.sig" };
	for (size_t i = 0; i < 3; i++) {
		size_t a, b;
		char *x = tu_read(src, names[i], &a), *y = tu_read(gdir, names[i], &b);
		assert_int_equal(a, b);
		assert_memory_equal(x, y, a);
		free(x);
		free(y);
	}
	/* The hook's reader sees it. */
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_current(f->lists, &l, &e), 0);
	assert_int_equal(l.serial, 5);
	char d[SW_DIGEST_STR];
	digest_of(5 * 7 + 3, d);
	assert_int_equal(sw_list_lookup(&l, d, NULL, NULL, 0, &e), 1);
	sw_list_close(&l);

	char scope[SW_SCOPE_MAX + 1];
	uint64_t serial = 0;
	assert_int_equal(sw_installed_serial(f->lists, scope, &serial, &e), 1);
	assert_string_equal(scope, "test");
	assert_int_equal(serial, 5);
	/* The hook's rollback record is not touched by an install. */
	uint64_t rec = 99;
	assert_int_equal(sw_serial_get(f->state, "test", &rec, &e), 0);
	assert_int_equal(rec, 0);

	/* Installing the same list again is a no-op switch to the same generation. */
	char gen2[SW_GEN_NAME_MAX];
	install_ok(f, src, gen2);
	assert_string_equal(gen, gen2);
	assert_int_equal(count_prefix(f->lists, "gen-"), 1);

	/* The same manifest with one more signature gets its own generation. */
	tu_sign_list(f->key, src, 0);
	install_ok(f, src, gen2);
	assert_int_not_equal(strcmp(gen, gen2), 0);
	assert_true(strncmp(gen2, gen, strlen(gen)) == 0 && strcmp(gen2 + strlen(gen), "-2") == 0);
	cur = current_target(f);
	assert_string_equal(cur, gen2);
	free(cur);
	assert_int_equal(count_prefix(f->lists, ".staging-"), 0);
	free(gdir);
	free(src);
}

static void test_keeps_three_generations(void **state)
{
	fixture *f = *state;
	char gens[6][SW_GEN_NAME_MAX];
	for (unsigned s = 1; s <= 6; s++) {
		char name[16];
		snprintf(name, sizeof name, "l%u", s);
		char *src = make_list(f, name, 10 + s, "test", s, sw_now() + 86400);
		install_ok(f, src, gens[s - 1]);
		free(src);
		assert_int_equal(count_prefix(f->lists, "gen-"), s < 3 ? s : 3);
	}
	char *cur = current_target(f);
	assert_string_equal(cur, gens[5]);
	free(cur);
	for (unsigned s = 0; s < 6; s++) {
		char *p = tu_path(f->lists, gens[s]);
		struct stat st;
		assert_int_equal(stat(p, &st) == 0, s >= 3);
		free(p);
	}
}

static void test_refusals_change_nothing(void **state)
{
	fixture *f = *state;
	char *ok = make_list(f, "ok", 50, "test", 10, sw_now() + 86400);
	char gen[SW_GEN_NAME_MAX];
	install_ok(f, ok, gen);

	/* Lower serial than the installed generation. */
	char *older = make_list(f, "older", 50, "test", 9, sw_now() + 86400);
	install_refused(f, older, "older than the installed serial 10");

	/* Lower than the hook's rollback record (with nothing installed for that
	 * record's scope in lists_dir). */
	tu_writes(f->state, "serials", "test 12\n");
	char *eleven = make_list(f, "eleven", 50, "test", 11, sw_now() + 86400);
	install_refused(f, eleven, "rollback refused");
	tu_writes(f->state, "serials", "");

	/* Wrong scope, expired, untrusted key, threshold, unsigned. */
	char *other = make_list(f, "other", 50, "prod", 20, sw_now() + 86400);
	install_refused(f, other, "scope 'prod'");
	char *expired = make_list(f, "expired", 50, "test", 21, sw_now() - 60);
	install_refused(f, expired, "expired");
	EVP_PKEY *stranger = tu_keygen("ed25519");
	char *untrusted = make_list(f, "untrusted", 50, "test", 22, sw_now() + 86400);
	char *sig = tu_path(untrusted, "manifest.sig");
	unlink(sig);
	tu_sign_list(stranger, untrusted, 0);
	install_refused(f, untrusted, "0 valid signatures");
	unlink(sig);
	install_refused(f, untrusted, "not signed");
	free(sig);
	f->cfg.threshold = 2;
	char *one = make_list(f, "one", 50, "test", 23, sw_now() + 86400);
	install_refused(f, one, "2 required");
	f->cfg.threshold = 1;

	/* Tampering with any file. */
	char *t = make_list(f, "tamper", 50, "test", 24, sw_now() + 86400);
	size_t len;
	char *ent = tu_read(t, "entries", &len);
	ent[len - 2] ^= 1;
	tu_write(t, "entries", ent, len);
	install_refused(f, t, "does not match its hash");
	ent[len - 2] ^= 1;
	tu_write(t, "entries", ent, len - 1);
	install_refused(f, t, "the manifest says");
	free(ent);

	/* A symlink in the source is refused. */
	char *ln = make_list(f, "link", 50, "test", 25, sw_now() + 86400);
	char *e1 = tu_path(ln, "entries"), *e2 = tu_path(f->root, "entries.real");
	assert_int_equal(rename(e1, e2), 0);
	assert_int_equal(symlink(e2, e1), 0);
	install_refused(f, ln, "symbolic link");
	free(e1);
	free(e2);

	/* Missing source. */
	install_refused(f, "/nonexistent/sigward-list", "cannot open");

	char *cur = current_target(f);
	assert_string_equal(cur, gen);
	free(cur);
	EVP_PKEY_free(stranger);
	free(ok);
	free(older);
	free(eleven);
	free(other);
	free(expired);
	free(untrusted);
	free(one);
	free(t);
	free(ln);
}

static void test_dry_run(void **state)
{
	fixture *f = *state;
	char *src = make_list(f, "dry", 20, "test", 3, sw_now() + 86400);
	char *before = snapshot(f->lists);
	char gen[SW_GEN_NAME_MAX] = "";
	sw_error e = { 0 };
	assert_int_equal(sw_list_install(&f->cfg, src, true, gen, sizeof gen, &e), 0);
	assert_true(strncmp(gen, "gen-3-", 6) == 0);
	char *after = snapshot(f->lists);
	/* The lists directory and its lock file may be created; nothing else. */
	assert_null(strstr(after, "gen-"));
	assert_null(strstr(after, "current"));
	assert_null(strstr(after, ".staging"));
	free(before);
	free(after);
	free(src);
}

/* Hand-made manifest + entries with correct bin hashes, to test the full entries
 * check on lists a buggy or hostile builder could produce and sign. */
static char *craft(fixture *f, const char *name, uint32_t bins, const char *const *bin_text, const uint64_t *counts)
{
	char *dir = tu_path(f->root, name);
	mkdir(dir, 0755);
	char it[32], ex[32];
	sw_format_rfc3339(sw_now() - 60, it);
	sw_format_rfc3339(sw_now() + 86400, ex);
	uint64_t total = 0;
	for (uint32_t i = 0; i < bins; i++)
		total += counts[i];
	char *m = malloc(4096);
	int o = sprintf(m, "sigward-allowlist 1\nscope test\nserial 30\nissued %s\nexpires %s\nentries %llu\nbins %u\n", it, ex,
			(unsigned long long)total, bins);
	size_t off = 0;
	char *ep = tu_path(dir, "entries");
	FILE *ef = fopen(ep, "w");
	free(ep);
	for (uint32_t i = 0; i < bins; i++) {
		size_t bl = strlen(bin_text[i]);
		char h[65];
		sw_sha256_hex(bin_text[i], bl, h);
		o += sprintf(m + o, "bin %u %zu %zu %llu %s\n", i, off, bl, (unsigned long long)counts[i], h);
		fwrite(bin_text[i], 1, bl, ef);
		off += bl;
	}
	fclose(ef);
	tu_write(dir, "manifest", m, (size_t)o);
	free(m);
	tu_sign_list(f->key, dir, 0);
	return dir;
}

static void test_entries_check(void **state)
{
	fixture *f = *state;
	/* Digests with known top bits: bin 0 starts with 0-7, bin 1 with 8-f. */
	char lo1[128], lo2[128], hi1[128];
	snprintf(lo1, sizeof lo1, "sha256:1%063d\n", 0);
	snprintf(lo2, sizeof lo2, "sha256:2%063d ref:v1\n", 0);
	snprintf(hi1, sizeof hi1, "sha256:a%063d\n", 0);
	char buf[512];

	/* Well-formed: installs. */
	snprintf(buf, sizeof buf, "%s%s", lo1, lo2);
	const char *good[] = { buf, hi1 };
	uint64_t c21[] = { 2, 1 };
	char *dir = craft(f, "good", 2, good, c21);
	char gen[SW_GEN_NAME_MAX];
	install_ok(f, dir, gen);
	free(dir);

	/* Unsorted inside a bin. */
	snprintf(buf, sizeof buf, "%s%s", lo2, lo1);
	const char *unsorted[] = { buf, hi1 };
	dir = craft(f, "unsorted", 2, unsorted, c21);
	install_refused(f, dir, "not in ascending order");
	free(dir);

	/* Duplicate. */
	snprintf(buf, sizeof buf, "%s%s", lo1, lo1);
	const char *dup[] = { buf, hi1 };
	dir = craft(f, "dup", 2, dup, c21);
	install_refused(f, dir, "duplicate");
	free(dir);

	/* An entry in the wrong bin. */
	snprintf(buf, sizeof buf, "%s%s", lo1, hi1);
	const char *wrong[] = { buf, "" };
	uint64_t c20[] = { 2, 0 };
	dir = craft(f, "wrongbin", 2, wrong, c20);
	install_refused(f, dir, "belongs in bin 1");
	free(dir);

	/* Count in the manifest does not match the bin. */
	snprintf(buf, sizeof buf, "%s%s", lo1, lo2);
	const char *cnt[] = { buf, hi1 };
	uint64_t c12[] = { 1, 1 };
	dir = craft(f, "count", 2, cnt, c12);
	install_refused(f, dir, "holds 2 entries, the manifest says 1");
	free(dir);

	/* Malformed lines: upper-case hex, empty reference, a space-containing tail. */
	const char *bad_lines[] = {
		"sha256:A000000000000000000000000000000000000000000000000000000000000000\n",
		"sha256:1000000000000000000000000000000000000000000000000000000000000000 \n",
		"sha256:1000000000000000000000000000000000000000000000000000000000000000 a b\n",
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad_lines); i++) {
		const char *one[] = { bad_lines[i] };
		uint64_t c1[] = { 1 };
		char nm[32];
		snprintf(nm, sizeof nm, "bad%zu", i);
		dir = craft(f, nm, 1, one, c1);
		install_refused(f, dir, "malformed entry");
		free(dir);
	}
}

static void test_stale_staging_cleaned(void **state)
{
	fixture *f = *state;
	mkdir(f->lists, 0755);
	char *st = tu_path(f->lists, ".staging-killed");
	mkdir(st, 0755);
	tu_writes(st, "manifest", "half");
	char *src = make_list(f, "l1", 10, "test", 1, sw_now() + 86400);
	char gen[SW_GEN_NAME_MAX];
	install_ok(f, src, gen);
	assert_int_equal(count_prefix(f->lists, ".staging-"), 0);
	free(st);
	free(src);
}

/* A killed attempt's leftovers (a staging copy, a half-pruned generation, a
 * temporary link) go at the next attempt, even one that is refused: a refused
 * refresh after many killed ones must not keep their copies on disk. */
static void test_leftovers_cleaned_by_refused_install(void **state)
{
	fixture *f = *state;
	mkdir(f->lists, 0755);
	static const char *const dirs[] = { ".staging-k1", ".staging-k2", ".prune-k3" };
	for (size_t i = 0; i < 3; i++) {
		char *st = tu_path(f->lists, dirs[i]);
		mkdir(st, 0755);
		tu_writes(st, "entries", "a full copy of a list");
		free(st);
	}
	char *tmp = tu_path(f->lists, ".current.tmp.k4");
	assert_int_equal(symlink("gen-1-00000000", tmp), 0);
	free(tmp);
	char *other = make_list(f, "other", 10, "prod", 5, sw_now() + 86400);
	sw_error e = { 0 };
	char gen[SW_GEN_NAME_MAX];
	assert_true(sw_list_install(&f->cfg, other, false, gen, sizeof gen, &e) < 0);
	if (!strstr(e.msg, "scope 'prod'"))
		fail_msg("refused for '%s'", e.msg);
	assert_int_equal(count_prefix(f->lists, ".staging-"), 0);
	assert_int_equal(count_prefix(f->lists, ".prune-"), 0);
	assert_int_equal(count_prefix(f->lists, ".current.tmp."), 0);
	free(other);
}

/* Pruning takes a generation out of the gen-* names before emptying it, so no
 * gen-* directory is ever left partly removed: after five installs exactly three
 * generations remain, each whole. */
static void test_pruned_generations_whole(void **state)
{
	fixture *f = *state;
	for (int s = 1; s <= 5; s++) {
		char name[16];
		snprintf(name, sizeof name, "p%d", s);
		char *src = make_list(f, name, 20, "test", (uint64_t)s, sw_now() + 86400);
		char gen[SW_GEN_NAME_MAX];
		install_ok(f, src, gen);
		free(src);
	}
	assert_int_equal(count_prefix(f->lists, "gen-"), 3);
	assert_int_equal(count_prefix(f->lists, ".prune-"), 0);
	DIR *d = opendir(f->lists);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "gen-", 4) != 0)
			continue;
		char *g = tu_path(f->lists, de->d_name);
		static const char *const files[] = { "manifest", "manifest.sig", "entries" };
		for (size_t i = 0; i < 3; i++) {
			char *p = tu_path(g, files[i]);
			assert_int_equal(access(p, R_OK), 0);
			free(p);
		}
		free(g);
	}
	closedir(d);
}

/* The installers' lock is private (0600): anyone who can open it could flock it
 * and hold up every install, a revocation included. A lock an older version
 * left 0644 is narrowed. */
static void test_lock_private(void **state)
{
	fixture *f = *state;
	mkdir(f->lists, 0755);
	tu_writes(f->lists, SW_INSTALL_LOCK, "");
	char *lock = tu_path(f->lists, SW_INSTALL_LOCK);
	assert_int_equal(chmod(lock, 0644), 0);
	char *src = make_list(f, "l1", 10, "test", 1, sw_now() + 86400);
	char gen[SW_GEN_NAME_MAX];
	install_ok(f, src, gen);
	struct stat st;
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* and a fresh one is created 0600 */
	assert_int_equal(unlink(lock), 0);
	install_ok(f, src, gen);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(lock);
	free(src);
}

/* Installers racing each other serialise on the lock: every one either installs
 * or is refused as a rollback, and the end state is consistent. */
static void test_concurrent_installs(void **state)
{
	fixture *f = *state;
	enum { N = 12 };
	char *srcs[N];
	for (unsigned i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof name, "c%u", i);
		srcs[i] = make_list(f, name, 200, "test", i + 1, sw_now() + 86400);
	}
	pid_t pids[N];
	for (unsigned i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			sw_error e = { 0 };
			int r = sw_list_install(&f->cfg, srcs[i], false, NULL, 0, &e);
			_exit(r >= 0 ? 0 : (strstr(e.msg, "rollback refused") ? 3 : 1));
		}
	}
	unsigned ok = 0;
	for (unsigned i = 0; i < N; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_true(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3);
		ok += WEXITSTATUS(st) == 0;
	}
	assert_true(ok >= 1);
	sw_list l;
	sw_error e = { 0 };
	assert_int_equal(sw_list_open_current(f->lists, &l, &e), 0);
	assert_int_equal(sw_list_verify_full(&f->cfg, NULL, &l, &e), 0);
	/* The highest serial may not have run last, but whatever is current is the
	 * highest one that was installed: nothing lower can follow it. */
	char scope[SW_SCOPE_MAX + 1];
	uint64_t serial;
	assert_int_equal(sw_installed_serial(f->lists, scope, &serial, &e), 1);
	assert_int_equal(serial, l.serial);
	sw_list_close(&l);
	assert_true(count_prefix(f->lists, "gen-") <= SW_INSTALL_KEEP);
	assert_int_equal(count_prefix(f->lists, ".staging-"), 0);
	for (unsigned i = 0; i < N; i++)
		free(srcs[i]);
}

/* Starts racing a refresh: a start that opened `current` just before the switch
 * may find the newer serial already accepted by a concurrent start. That is not
 * a rollback: every start of an image listed in every generation is allowed.
 * And an old generation that stays current after a newer serial was accepted is
 * still refused as a rollback. */
static void test_starts_during_switches(void **state)
{
	fixture *f = *state;
	enum { FIRST = 1, LAST = 41, STARTERS = 8 };
	/* entry-300 is in every list of serials 1..41 (make_list offsets by 7*serial). */
	char *srcs[LAST + 1];
	for (unsigned s = FIRST; s <= LAST; s++) {
		char name[16];
		snprintf(name, sizeof name, "s%u", s);
		srcs[s] = make_list(f, name, 400, "test", s, sw_now() + 86400);
	}
	char listed[SW_DIGEST_STR];
	digest_of(300, listed);
	char *bundle = tu_path(f->root, "bundle");
	mkdir(bundle, 0755);
	char cfgjson[512];
	snprintf(cfgjson, sizeof cfgjson,
		 "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"org.opencontainers.image.digest\":\"%s\"}}", listed);
	tu_writes(bundle, "config.json", cfgjson);
	f->cfg.annotations[0] = (char *)"org.opencontainers.image.digest";
	f->cfg.n_annotations = 1;
	f->cfg.mode = SW_MODE_ENFORCE;

	char gen[SW_GEN_NAME_MAX];
	install_ok(f, srcs[FIRST], gen);

	pid_t installer = fork();
	assert_true(installer >= 0);
	if (installer == 0) {
		for (unsigned s = FIRST + 1; s <= LAST; s++) {
			sw_error e = { 0 };
			if (sw_list_install(&f->cfg, srcs[s], false, NULL, 0, &e) < 0)
				_exit(1);
		}
		_exit(0);
	}
	pid_t starters[STARTERS];
	for (unsigned i = 0; i < STARTERS; i++) {
		starters[i] = fork();
		assert_true(starters[i] >= 0);
		if (starters[i] == 0) {
			sw_enforce_req req = { .config = &f->cfg, .container_id = "c", .bundle = bundle, .runtime = "test" };
			unsigned starts = 0;
			for (;;) {
				sw_enforce_result out;
				sw_enforce(&req, &out);
				starts++;
				if (out.decision.verdict != SW_ALLOW) {
					fprintf(stderr, "start %u denied: %s\n", starts, out.decision.reason);
					_exit(1);
				}
				if (out.serial == LAST)
					_exit(starts > 1 ? 0 : 2);
			}
		}
	}
	int st;
	assert_int_equal(waitpid(installer, &st, 0), installer);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (unsigned i = 0; i < STARTERS; i++) {
		assert_int_equal(waitpid(starters[i], &st, 0), starters[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}

	/* A real rollback: `current` put back on an older generation by hand. */
	char *older = tu_path(f->root, "older");
	assert_int_equal(rename(srcs[FIRST], older), 0);
	char *cur = tu_path(f->lists, "current");
	char *tmp = tu_path(f->lists, "current.tmp");
	assert_int_equal(symlink(older, tmp), 0);
	assert_int_equal(rename(tmp, cur), 0);
	sw_enforce_req req = { .config = &f->cfg, .container_id = "c", .bundle = bundle, .runtime = "test" };
	sw_enforce_result out;
	sw_enforce(&req, &out);
	assert_int_equal(out.decision.verdict, SW_DENY);
	assert_non_null(strstr(out.decision.reason, "rollback refused"));
	free(older);
	free(cur);
	free(tmp);
	free(bundle);
	for (unsigned s = FIRST; s <= LAST; s++)
		free(srcs[s]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_install_and_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keeps_three_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entries_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_staging_cleaned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftovers_cleaned_by_refused_install, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pruned_generations_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_installs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starts_during_switches, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
