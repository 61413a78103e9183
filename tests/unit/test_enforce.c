/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sw_enforce over a table of outcomes: resolution (ok, conflict, none), the
 * list (ok, missing, expired, bad signature, wrong scope, rollback) and the log
 * (ok, failing), in enforce and warn modes. Each row asserts the verdict and the
 * whole reason text, as the hook prints it and the decision log records it:
 * the first failed step names the reason, warn mode says what enforce would
 * have done, and an allow that cannot be logged is a deny in enforce mode.
 */
#include "testutil.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "build.h"
#include "enforce.h"

/* RES_BUSY: the listed image by annotation, and a containers/storage store
 * whose writer holds images.lock with the container's image not (yet) in
 * images.json, for longer than the read budget. */
typedef enum { RES_OK, RES_UNLISTED, RES_CONFLICT, RES_NONE, RES_BUSY } res_case;
typedef enum { LIST_OK, LIST_MISSING, LIST_EXPIRED, LIST_BADSIG, LIST_SCOPE, LIST_ROLLBACK } list_case;
typedef enum { LOG_OK, LOG_FAILING } log_case;

typedef struct row {
	res_case res;
	list_case list;
	log_case log;
	sw_mode mode;
	sw_verdict verdict;
	/* The reason, with {D} the listed digest, {X} an unlisted one, {C} the
	 * lists' `current`, {E} the list's expiry time, {L} the log file, {S} the
	 * storage root; a final '*' matches any rest. */
	const char *reason;
} row;

/* Digests the annotations name. */
static char D[SW_DIGEST_STR], X[SW_DIGEST_STR];
/* The expiry written into the row's list. */
static int64_t g_expires;

static void digest_of(const char *s, char out[SW_DIGEST_STR])
{
	char hex[SW_SHA256_HEX + 1];
	sw_sha256_hex(s, strlen(s), hex);
	snprintf(out, SW_DIGEST_STR, "sha256:%s", hex);
}

/* Write one signed generation lists/gen-1 and point `current` at it. */
static void make_list(const char *lists, const char *scope, int64_t expires, EVP_PKEY *signer)
{
	char *gen = tu_path(lists, "gen-1");
	sw_build_entry *e = calloc(2, sizeof *e);
	assert_non_null(e);
	snprintf(e[0].digest, sizeof e[0].digest, "%s", D);
	digest_of("another image", e[1].digest);
	int64_t now = time(NULL);
	g_expires = expires;
	sw_build_opts o = { .scope = scope, .serial = 5, .issued = now - 7 * 86400, .expires = expires };
	sw_error err = { 0 };
	if (sw_build_write(e, 2, &o, gen, &err) < 0)
		fail_msg("build: %s", err.msg);
	sw_build_entries_free(e, 2);
	tu_sign_list(signer, gen, 0);
	char *cur = tu_path(lists, "current");
	assert_int_equal(symlink("gen-1", cur), 0);
	free(cur);
	free(gen);
}

/* {D} {X} {C} {E} {L} {S} expanded. */
static void expand(const char *tmpl, const char *current, const char *log, const char *storage, char *out, size_t n)
{
	char exp[32];
	sw_format_rfc3339(g_expires, exp);
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 1 < n; p++) {
		const char *v = NULL;
		if (p[0] == '{' && p[1] && p[2] == '}') {
			switch (p[1]) {
			case 'D': v = D; break;
			case 'X': v = X; break;
			case 'C': v = current; break;
			case 'E': v = exp; break;
			case 'L': v = log; break;
			case 'S': v = storage; break;
			}
		}
		if (v) {
			o += (size_t)snprintf(out + o, n - o, "%s", v);
			p += 2;
		} else {
			out[o++] = *p;
		}
	}
	out[o < n ? o : n - 1] = '\0';
}

/* A process holding an fcntl write lock on dir/name, as containers/storage's
 * writers do while they change the store; killed by the caller. */
static pid_t hold_write_lock(const char *dir, const char *name)
{
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *p = tu_path(dir, name);
		int fd = open(p, O_RDWR | O_CREAT, 0600);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		(void)!write(go[1], "x", 1);
		for (;;)
			pause();
	}
	char c;
	assert_int_equal(read(go[0], &c, 1), 1);
	close(go[0]);
	close(go[1]);
	return pid;
}

static void run_row(const row *t, size_t idx)
{
	char *root = tu_tmpdir();
	char *keys = tu_path(root, "keys"), *lists = tu_path(root, "lists"), *st = tu_path(root, "state");
	char *storage = tu_path(root, "storage"), *current = tu_path(lists, "current");
	/* containers/storage's bundle of container ctr-enforce */
	char *bundle = t->res == RES_BUSY ? tu_path(storage, "overlay-containers/ctr-enforce/userdata")
					  : tu_path(root, "bundle");
	assert_int_equal(mkdir(keys, 0755), 0);
	assert_int_equal(mkdir(lists, 0755), 0);
	assert_int_equal(mkdir(st, 0700), 0);
	char cmd[3 * 4096];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s/overlay-images'", bundle, storage);
	assert_int_equal(system(cmd), 0);
	pid_t writer = -1;
	if (t->res == RES_BUSY) {
		char *cdir = tu_path(storage, "overlay-containers"), *idir = tu_path(storage, "overlay-images");
		tu_writes(cdir, "containers.json",
			  "[{\"id\":\"ctr-enforce\",\"image\":\"6b415b1c094cbcb77bdffcb3644ad70d933415647af0e318cdc1d15c805965b0\"}]");
		tu_writes(idir, "images.json", "[]");
		writer = hold_write_lock(idir, "images.lock");
		free(cdir);
		free(idir);
	}
	/* A failing log: its directory does not exist. */
	char *log = tu_path(root, t->log == LOG_FAILING ? "no-such-dir/decisions.jsonl" : "decisions.jsonl");

	EVP_PKEY *key = tu_keygen("ed25519"), *stranger = NULL;
	tu_write_pub(key, keys, "k1.pub");
	int64_t now = time(NULL);
	switch (t->list) {
	case LIST_OK:
	case LIST_ROLLBACK:
		make_list(lists, "test", now + 86400, key);
		break;
	case LIST_MISSING:
		break;
	case LIST_EXPIRED:
		make_list(lists, "test", now - 86400, key);
		break;
	case LIST_BADSIG:
		stranger = tu_keygen("ed25519");
		make_list(lists, "test", now + 86400, stranger);
		break;
	case LIST_SCOPE:
		make_list(lists, "other", now + 86400, key);
		break;
	}
	sw_error e = { 0 };
	if (t->list == LIST_ROLLBACK)
		assert_int_equal(sw_serial_raise(st, "test", 9, &e), 0);

	/* The image by annotation: a1 names it; for a conflict a2 names another. */
	char cfg[1024];
	switch (t->res) {
	case RES_OK:
	case RES_UNLISTED:
	case RES_CONFLICT:
	case RES_BUSY:
		snprintf(cfg, sizeof cfg,
			 "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"a1\":\"registry.example/app@%s\"%s%s%s}}",
			 t->res == RES_UNLISTED ? X : D, t->res == RES_CONFLICT ? ",\"a2\":\"registry.example/app@" : "",
			 t->res == RES_CONFLICT ? X : "", t->res == RES_CONFLICT ? "\"" : "");
		break;
	case RES_NONE:
		snprintf(cfg, sizeof cfg, "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"other\":\"x\"}}");
		break;
	}
	tu_writes(bundle, "config.json", cfg);

	sw_config c = {
		.mode = t->mode,
		.scope = "test",
		.threshold = 1,
		.keys_dir = keys,
		.lists_dir = lists,
		.state_dir = st,
		.log_file = log,
		.syslog = false,
		.verify_cache = false,
		.annotations = { "a1", "a2" },
		.n_annotations = 2,
		.containers_storage = t->res == RES_BUSY,
		.storage_root = storage,
	};
	sw_enforce_req req = { .config = &c, .container_id = "ctr-enforce", .bundle = bundle, .runtime = "hook" };
	sw_enforce_result *out = calloc(1, sizeof *out);
	assert_non_null(out);
	sw_enforce(&req, out);
	if (writer > 0) {
		kill(writer, SIGKILL);
		assert_int_equal(waitpid(writer, NULL, 0), writer);
	}

	char want[2048];
	expand(t->reason, current, log, storage, want, sizeof want);
	size_t wl = strlen(want);
	bool prefix = wl && want[wl - 1] == '*';
	if (out->decision.verdict != t->verdict ||
	    (prefix ? strncmp(out->decision.reason, want, wl - 1) : strcmp(out->decision.reason, want)) != 0)
		fail_msg("row %zu: got %s \"%s\"\n  want %s \"%s\"", idx, sw_verdict_name(out->decision.verdict),
			 out->decision.reason, sw_verdict_name(t->verdict), want);
	/* A store-busy denial is told apart from a policy one, in the result and
	 * in the log; an allow is never either. */
	bool busy = t->res == RES_BUSY && t->verdict != SW_ALLOW;
	assert_int_equal(out->decision.denial, busy ? SW_DENIAL_STORE_BUSY : SW_DENIAL_POLICY);
	/* The log holds the decision exactly when it could be written. */
	assert_int_equal(out->log_rc < 0, t->log == LOG_FAILING);
	if (t->log == LOG_OK) {
		size_t len;
		char *text = tu_read(root, "decisions.jsonl", &len);
		assert_non_null(strstr(text, "\"container\":\"ctr-enforce\""));
		assert_non_null(strstr(text, sw_verdict_name(t->verdict)));
		if (busy)
			assert_non_null(strstr(text, "\"denial\":\"store-busy\",\"reason\":\""));
		else
			assert_null(strstr(text, "\"denial\""));
		free(text);
	}

	free(out);
	EVP_PKEY_free(key);
	EVP_PKEY_free(stranger);
	tu_rmrf(root);
	free(root);
	free(keys);
	free(lists);
	free(st);
	free(bundle);
	free(storage);
	free(current);
	free(log);
}

#define CONFLICT "image sources disagree: annotation:a1 says {D}, annotation:a2 says {X} (no digest in common)"
#define NONE "no image digest found (looked at: annotation:a1, annotation:a2)"
#define MISSING "image {D}: {C}: no allowlist installed"
#define EXPIRED "image {D}: allowlist test#5 expired at {E}"
#define BADSIG "image {D}: allowlist {C}: 0 valid signatures by trusted keys, 1 required"
#define SCOPE "image {D}: allowlist other#5 is for scope 'other', this node is configured for 'test'"
#define ROLLBACK "image {D}: allowlist test#5 is older than serial 9 already accepted (rollback refused)"
#define BUSY "store busy, a retry of the start will work (not a policy refusal): {S}: a writer held a lock of the " \
	     "store or replaced its files during each of *"
#define UNLOGGED "cannot record the decision: {L}: cannot open the decision log: No such file or directory"

static const row rows[] = {
	/* resolution */
	{ RES_OK, LIST_OK, LOG_OK, SW_MODE_ENFORCE, SW_ALLOW, "image {D} is in allowlist test#5" },
	{ RES_OK, LIST_OK, LOG_OK, SW_MODE_WARN, SW_ALLOW, "image {D} is in allowlist test#5" },
	{ RES_UNLISTED, LIST_OK, LOG_OK, SW_MODE_ENFORCE, SW_DENY, "image {X} is not in allowlist test#5" },
	{ RES_UNLISTED, LIST_OK, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: image {X} is not in allowlist test#5" },
	{ RES_CONFLICT, LIST_OK, LOG_OK, SW_MODE_ENFORCE, SW_DENY, CONFLICT },
	{ RES_CONFLICT, LIST_OK, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: " CONFLICT },
	{ RES_NONE, LIST_OK, LOG_OK, SW_MODE_ENFORCE, SW_DENY, NONE },
	{ RES_NONE, LIST_OK, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: " NONE },
	/* a listed image whose store stayed busy: denied, as store-busy */
	{ RES_BUSY, LIST_OK, LOG_OK, SW_MODE_ENFORCE, SW_DENY, BUSY },
	{ RES_BUSY, LIST_OK, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: " BUSY },
	/* the list */
	{ RES_OK, LIST_MISSING, LOG_OK, SW_MODE_ENFORCE, SW_DENY, MISSING },
	{ RES_OK, LIST_MISSING, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: " MISSING },
	{ RES_OK, LIST_EXPIRED, LOG_OK, SW_MODE_ENFORCE, SW_DENY, EXPIRED },
	{ RES_OK, LIST_EXPIRED, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: " EXPIRED },
	{ RES_OK, LIST_BADSIG, LOG_OK, SW_MODE_ENFORCE, SW_DENY, BADSIG },
	{ RES_OK, LIST_BADSIG, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: " BADSIG },
	{ RES_OK, LIST_SCOPE, LOG_OK, SW_MODE_ENFORCE, SW_DENY, SCOPE },
	{ RES_OK, LIST_SCOPE, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: " SCOPE },
	{ RES_OK, LIST_ROLLBACK, LOG_OK, SW_MODE_ENFORCE, SW_DENY, ROLLBACK },
	{ RES_OK, LIST_ROLLBACK, LOG_OK, SW_MODE_WARN, SW_WARN, "would deny: " ROLLBACK },
	/* the log: an allow that cannot be recorded is no allow in enforce mode;
	 * warn mode and denials keep their verdict */
	{ RES_OK, LIST_OK, LOG_FAILING, SW_MODE_ENFORCE, SW_DENY, UNLOGGED },
	{ RES_OK, LIST_OK, LOG_FAILING, SW_MODE_WARN, SW_ALLOW, "image {D} is in allowlist test#5" },
	{ RES_UNLISTED, LIST_OK, LOG_FAILING, SW_MODE_ENFORCE, SW_DENY, "image {X} is not in allowlist test#5" },
	{ RES_UNLISTED, LIST_OK, LOG_FAILING, SW_MODE_WARN, SW_WARN, "would deny: image {X} is not in allowlist test#5" },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SW_ARRAY_SIZE(rows); i++)
		run_row(&rows[i], i);
}

/* containerd's CRI shortcut (issue 17): the image id's own record answers a start
 * it allows (res.partial stays set); a start it does not allow is decided again
 * with the scan of every image record (res.partial cleared), so the shortcut
 * never refuses a listed image. The containerd fixture of test_ctrmeta. */
static void test_containerd_subset(void **state)
{
	(void)state;
	char src[PATH_MAX], fixture[2 * PATH_MAX];
	snprintf(src, sizeof src, "%s", __FILE__);
	if (src[0] == '/') {
		snprintf(fixture, sizeof fixture, "%s/data/ctrmeta/root", dirname(src));
	} else {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		assert_true(n > 0);
		exe[n] = '\0';
		snprintf(fixture, sizeof fixture, "%s/%s/data/ctrmeta/root", dirname(dirname(dirname(exe))), dirname(src));
	}
	static const char *const cid = "2d6cc0fd1f9678f691cbd044a10d59ffd529c6582bae0b41c908f8f5ca2d7437";
	for (int listed = 1; listed >= 0; listed--) {
		char *root = tu_tmpdir();
		char *keys = tu_path(root, "keys"), *lists = tu_path(root, "lists"), *st = tu_path(root, "state");
		char bundle[PATH_MAX];
		snprintf(bundle, sizeof bundle, "%s/run/io.containerd.runtime.v2.task/k8s.io/%s", root, cid);
		char cmd[3 * PATH_MAX];
		snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s' '%s' && mkdir -m 700 '%s'", bundle, keys, lists, st);
		assert_int_equal(system(cmd), 0);
		tu_writes(bundle, "config.json", "{\"ociVersion\":\"1.0.2\"}");
		EVP_PKEY *key = tu_keygen("ed25519");
		tu_write_pub(key, keys, "k1.pub");
		/* The container's manifest, or another digest. */
		if (listed)
			snprintf(D, sizeof D, "sha256:e2ff23b90dcede64c681406e44c85ee94416c5c1dd986883914220a644bb3aed");
		else
			digest_of("not the container's image", D);
		make_list(lists, "test", time(NULL) + 86400, key);
		char *log = tu_path(root, "decisions.jsonl");
		sw_config c = {
			.mode = SW_MODE_ENFORCE, .scope = "test", .threshold = 1, .keys_dir = keys, .lists_dir = lists,
			.state_dir = st, .log_file = log, .containerd = true, .containerd_root = fixture,
		};
		sw_enforce_req req = { .config = &c, .container_id = cid, .bundle = bundle, .runtime = "hook" };
		sw_enforce_result *out = calloc(1, sizeof *out);
		assert_non_null(out);
		sw_enforce(&req, out);
		if (listed) {
			assert_int_equal(out->decision.verdict, SW_ALLOW);
			assert_true(out->res.partial);
		} else {
			assert_int_equal(out->decision.verdict, SW_DENY);
			assert_false(out->res.partial);   /* decided again on the scan's answer */
			assert_true(out->res.n >= 2);
		}
		free(out);
		EVP_PKEY_free(key);
		tu_rmrf(root);
		free(log);
		free(keys);
		free(lists);
		free(st);
		free(root);
	}
}

int main(void)
{
	digest_of("the listed image", D);
	digest_of("an unlisted image", X);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_containerd_subset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
