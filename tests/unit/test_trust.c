/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/trust and its users: configuration, drop-ins and keys are taken only from
 * files and directories no account but root could have written. The checks of
 * other owners need root (chown); CI runs the unit tests as root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "allowlist.h"
#include "config.h"
#include "keys.h"
#include "trust.h"
#include "testutil.h"

#define OTHER_UID 4242

static void want_msg(const sw_error *e, const char *part1, const char *part2)
{
	if (!strstr(e->msg, part1) || (part2 && !strstr(e->msg, part2)))
		fail_msg("message \"%s\" lacks \"%s\"%s%s", e->msg, part1, part2 ? " or " : "", part2 ? part2 : "");
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

/* A trusted file opens; its content is what was written. */
static void test_open_trusted(void **state)
{
	(void)state;
	char *d = tu_tmpdir();
	tu_writes(d, "a.conf", "x\n");
	char *p = tu_path(d, "a.conf");
	sw_error e = { 0 };
	int fd = sw_trust_open(p, SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	char buf[4] = { 0 };
	assert_int_equal(read(fd, buf, 3), 2);
	assert_string_equal(buf, "x\n");
	close(fd);
	/* As a directory it is refused; a directory as a file too. */
	assert_true(sw_trust_open(p, SW_TRUST_DIR, &e) < 0);
	assert_true(sw_trust_open(d, SW_TRUST_FILE, &e) < 0);
	fd = sw_trust_open(d, SW_TRUST_DIR, &e);
	assert_true(fd >= 0);
	close(fd);
	/* Missing: -ENOENT, naming the path. */
	char *m = tu_path(d, "missing/x.conf");
	assert_int_equal(sw_trust_open(m, SW_TRUST_FILE, &e), -ENOENT);
	want_msg(&e, m, NULL);
	/* A relative path is walked from the working directory. */
	char *cwd = getcwd(NULL, 0);
	assert_int_equal(chdir(d), 0);
	fd = sw_trust_open("a.conf", SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chdir(cwd), 0);
	free(cwd);
	tu_rmrf(d);
	free(d);
	free(p);
	free(m);
}

/* Another owner, or a group/other write bit, anywhere on the path: refused. */
static void test_refused(void **state)
{
	(void)state;
	need_root();
	char *d = tu_tmpdir();
	sw_error e = { 0 };
	char *sub = tu_path(d, "sub");
	assert_int_equal(mkdir(sub, 0755), 0);
	tu_writes(sub, "a.conf", "x\n");
	char *p = tu_path(sub, "a.conf");

	/* the file itself owned by another uid */
	assert_int_equal(chown(p, OTHER_UID, 0), 0);
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, p, "owned by uid 4242, not root");
	assert_int_equal(chown(p, 0, 0), 0);
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) >= 0 || (fail(), 0));

	/* the file writable by group, then by others */
	assert_int_equal(chmod(p, 0664), 0);
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, p, "writable by group or others (mode 0664");
	assert_int_equal(chmod(p, 0646), 0);
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);
	assert_int_equal(chmod(p, 0644), 0);

	/* a directory on the way owned by another uid (it could swap the file) */
	assert_int_equal(chown(sub, OTHER_UID, OTHER_UID), 0);
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, sub, "directory owned by uid 4242");
	assert_int_equal(chown(sub, 0, 0), 0);

	/* a world-writable directory on the way, not sticky */
	assert_int_equal(chmod(sub, 0777), 0);
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, sub, "writable by group or others");
	/* sticky and root's (like /tmp): passing through is fine, the entry is checked */
	assert_int_equal(chmod(sub, 01777), 0);
	int fd = sw_trust_open(p, SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	close(fd);
	/* ... but a sticky directory is never a trusted final directory */
	assert_true(sw_trust_open(sub, SW_TRUST_DIR, &e) < 0);
	/* ... nor is a sticky directory of another owner one to pass through */
	assert_int_equal(chown(sub, OTHER_UID, 0), 0);
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);
	assert_int_equal(chown(sub, 0, 0), 0);
	assert_int_equal(chmod(sub, 0755), 0);

	tu_rmrf(d);
	free(d);
	free(sub);
	free(p);
}

/* The memo of the hook and the wrapper (sw_trust_memo_enable): a walk may start
 * from a directory this process already walked to, and everything below it is
 * still checked; a prefix only counts at a component boundary. */
static void test_memo(void **state)
{
	(void)state;
	need_root();
	char *d = tu_tmpdir();
	sw_error e = { 0 };
	char *sub = tu_path(d, "sub");
	assert_int_equal(mkdir(sub, 0755), 0);
	tu_writes(sub, "a.conf", "x\n");
	tu_writes(sub, "other.conf", "x\n");
	char *p = tu_path(sub, "a.conf");
	char *other = tu_path(sub, "other.conf");
	assert_int_equal(chown(other, OTHER_UID, 0), 0);
	char *inner = tu_path(sub, "inner");
	assert_int_equal(mkdir(inner, 0755), 0);
	assert_int_equal(chmod(inner, 0775), 0);
	tu_writes(inner, "x.conf", "x\n");
	char *innerx = tu_path(inner, "x.conf");
	char *subway = tu_path(d, "subway");
	assert_int_equal(mkdir(subway, 0755), 0);
	tu_writes(subway, "a.conf", "x\n");
	assert_int_equal(chown(subway, OTHER_UID, 0), 0);
	char *subwayp = tu_path(subway, "a.conf");

	sw_trust_memo_enable();
	int fd = sw_trust_open(p, SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	close(fd);
	/* below the remembered directory, every check still holds */
	assert_true(sw_trust_open(other, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, other, "owned by uid 4242");
	assert_true(sw_trust_open(innerx, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, inner, "writable by group or others");
	assert_int_equal(sw_trust_open(sub, SW_TRUST_FILE, &e), -EISDIR);
	fd = sw_trust_open(sub, SW_TRUST_DIR, &e);
	assert_true(fd >= 0);
	close(fd);
	/* "subway" starts with the text of "sub" but is another directory */
	assert_true(sw_trust_open(subwayp, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, subway, "owned by uid 4242");
	/* The memo is used: within this process the walk now starts at sub. Only
	 * root can change sub (it is root's, 0755), and one start lasts
	 * milliseconds, which is why the hook and the wrapper alone turn it on. */
	assert_int_equal(chown(sub, OTHER_UID, 0), 0);
	fd = sw_trust_open(p, SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	close(fd);
	/* Cleared (and off): every walk from "/" again. */
	sw_trust_memo_clear();
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, sub, "owned by uid 4242");
	/* A refused walk is never remembered. */
	sw_trust_memo_enable();
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);
	assert_int_equal(chown(sub, 0, 0), 0);
	fd = sw_trust_open(p, SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chown(sub, OTHER_UID, 0), 0);
	sw_trust_memo_clear();
	assert_true(sw_trust_open(p, SW_TRUST_FILE, &e) < 0);

	tu_rmrf(d);
	free(d);
	free(sub);
	free(p);
	free(other);
	free(inner);
	free(innerx);
	free(subway);
	free(subwayp);
}

/* Links are followed by hand, and what they lead to is checked like any path. */
static void test_links(void **state)
{
	(void)state;
	need_root();
	char *d = tu_tmpdir();
	sw_error e = { 0 };
	char *evil = tu_path(d, "evil");
	assert_int_equal(mkdir(evil, 0755), 0);
	tu_writes(evil, "x.conf", "x\n");
	char *target = tu_path(evil, "x.conf");
	char *lnk = tu_path(d, "link.conf");
	assert_int_equal(symlink(target, lnk), 0);
	int fd = sw_trust_open(lnk, SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	close(fd);
	/* The target's directory is another account's: refused through the link. */
	assert_int_equal(chown(evil, OTHER_UID, 0), 0);
	assert_true(sw_trust_open(lnk, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, "evil", "owned by uid 4242");
	/* A relative link, and a link to a directory on the way. */
	assert_int_equal(chown(evil, 0, 0), 0);
	char *rel = tu_path(d, "rel.conf");
	assert_int_equal(symlink("evil/x.conf", rel), 0);
	fd = sw_trust_open(rel, SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	close(fd);
	char *dl = tu_path(d, "dirlink");
	assert_int_equal(symlink("evil", dl), 0);
	char *via = tu_path(d, "dirlink/x.conf");
	fd = sw_trust_open(via, SW_TRUST_FILE, &e);
	assert_true(fd >= 0);
	close(fd);
	/* A link owned by another uid is refused even where its target is fine. */
	assert_int_equal(lchown(rel, OTHER_UID, 0), 0);
	assert_true(sw_trust_open(rel, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, "rel.conf", "symbolic link owned by uid 4242");
	/* A loop ends. */
	char *loop = tu_path(d, "loop");
	assert_int_equal(symlink("loop", loop), 0);
	assert_true(sw_trust_open(loop, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, "too many", NULL);
	/* A FIFO is not a file. */
	char *fifo = tu_path(d, "fifo.conf");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_true(sw_trust_open(fifo, SW_TRUST_FILE, &e) < 0);
	want_msg(&e, "not a regular file", NULL);
	tu_rmrf(d);
	free(d);
	free(evil);
	free(target);
	free(lnk);
	free(rel);
	free(dl);
	free(via);
	free(loop);
	free(fifo);
}

/* The configuration: a drop-in directory or file of another account makes the
 * load fail (the hook then denies), naming the path and the owner. */
static void test_config_refused(void **state)
{
	(void)state;
	need_root();
	char *d = tu_tmpdir();
	sw_error e = { 0 };
	tu_writes(d, "sigward.conf", "[sigward]\nmode = enforce\nscope = prod\n");
	char *main_file = tu_path(d, "sigward.conf");
	char *dropdir = tu_path(d, "sigward.conf.d");
	assert_int_equal(mkdir(dropdir, 0755), 0);
	tu_writes(dropdir, "50-warn.conf", "[sigward]\nmode = warn\n");
	char *drop = tu_path(dropdir, "50-warn.conf");
	sw_config c;

	assert_int_equal(sw_config_load(&c, main_file, &e), 0);
	assert_int_equal(c.mode, SW_MODE_WARN);
	sw_config_free(&c);

	/* The drop-in written by another account: refused, not applied. */
	assert_int_equal(chown(drop, OTHER_UID, OTHER_UID), 0);
	assert_true(sw_config_load(&c, main_file, &e) < 0);
	want_msg(&e, drop, "owned by uid 4242");
	assert_null(c.scope);
	assert_int_equal(chown(drop, 0, 0), 0);

	/* The drop-in directory of another account (as a daemon's runtime dir would
	 * be): refused, even with only root's files inside. */
	assert_int_equal(chown(dropdir, OTHER_UID, OTHER_UID), 0);
	assert_true(sw_config_load(&c, main_file, &e) < 0);
	want_msg(&e, dropdir, "owned by uid 4242");
	assert_int_equal(chown(dropdir, 0, 0), 0);

	/* The main file writable by others. */
	assert_int_equal(chmod(main_file, 0666), 0);
	assert_true(sw_config_load(&c, main_file, &e) < 0);
	want_msg(&e, main_file, "writable by group or others");
	assert_int_equal(chmod(main_file, 0644), 0);
	assert_int_equal(sw_config_load(&c, main_file, &e), 0);
	sw_config_free(&c);

	tu_rmrf(d);
	free(d);
	free(main_file);
	free(dropdir);
	free(drop);
}

/* /etc's main file wins over a packaged /usr/lib drop-in, and every effective key
 * says where it came from. */
static void test_config_precedence_and_origin(void **state)
{
	(void)state;
	char *d = tu_tmpdir();
	sw_error e = { 0 };
	char *dirs[3];
	static const char *const names[] = { "usr", "run", "etc" };
	for (int i = 0; i < 3; i++) {
		dirs[i] = tu_path(d, names[i]);
		assert_int_equal(mkdir(dirs[i], 0755), 0);
	}
	tu_writes(dirs[0], "00-package-defaults.conf", "[sigward]\nmode = warn\n");
	tu_writes(d, "sigward.conf", "# edited by the admin\n[sigward]\nmode = enforce\nscope = prod\n");
	char *main_file = tu_path(d, "sigward.conf");
	const char *const dd[] = { dirs[0], dirs[1], dirs[2] };
	sw_config c;
	assert_int_equal(sw_config_load_paths(&c, main_file, dd, 3, 1, &e), 0);
	assert_int_equal(c.mode, SW_MODE_ENFORCE);
	assert_string_equal(c.scope, "prod");

	bool saw_mode = false, saw_default = false;
	for (unsigned i = 0;; i++) {
		const char *sec, *key, *file;
		char value[256];
		unsigned line;
		if (!sw_config_key(&c, i, &sec, &key, value, sizeof value, &file, &line))
			break;
		if (strcmp(key, "mode") == 0) {
			saw_mode = true;
			assert_string_equal(value, "enforce");
			assert_non_null(file);
			assert_string_equal(file, main_file);
			assert_int_equal(line, 3);
		}
		if (strcmp(key, "keys_dir") == 0) {
			saw_default = true;
			assert_null(file);
			assert_string_equal(value, "/etc/sigward/keys.d");
		}
	}
	assert_true(saw_mode && saw_default);
	sw_config_free(&c);

	/* An /etc drop-in still wins over the main file. */
	tu_writes(dirs[2], "50-warn.conf", "[sigward]\nmode = warn\n");
	assert_int_equal(sw_config_load_paths(&c, main_file, dd, 3, 1, &e), 0);
	assert_int_equal(c.mode, SW_MODE_WARN);
	sw_config_free(&c);

	tu_rmrf(d);
	free(d);
	free(main_file);
	for (int i = 0; i < 3; i++)
		free(dirs[i]);
}

/* Keys: a keys directory or key file of another account is refused. */
static void test_keys_refused(void **state)
{
	(void)state;
	need_root();
	char *d = tu_tmpdir();
	sw_error e = { 0 };
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	tu_write_pub(k, d, "org.pub");
	sw_keyring kr;
	assert_int_equal(sw_keyring_load(d, &kr, &e), 0);
	sw_keyring_free(&kr);

	char *pub = tu_path(d, "org.pub");
	assert_int_equal(chown(pub, OTHER_UID, 0), 0);
	assert_true(sw_keyring_load(d, &kr, &e) < 0);
	want_msg(&e, pub, "owned by uid 4242");
	assert_int_equal(chown(pub, 0, 0), 0);

	assert_int_equal(chown(d, OTHER_UID, 0), 0);
	assert_true(sw_keyring_load(d, &kr, &e) < 0);
	want_msg(&e, d, "owned by uid 4242");
	assert_int_equal(chown(d, 0, 0), 0);

	/* A key file that is a link into another account's directory. */
	char *evil = tu_path(d, "evil");
	assert_int_equal(mkdir(evil, 0755), 0);
	tu_write_pub(k, evil, "attacker.key");
	char *target = tu_path(evil, "attacker.key");
	char *lnk = tu_path(d, "attacker.pub");
	assert_int_equal(symlink(target, lnk), 0);
	assert_int_equal(chown(evil, OTHER_UID, 0), 0);
	assert_true(sw_keyring_load(d, &kr, &e) < 0);
	want_msg(&e, "evil", "owned by uid 4242");
	EVP_PKEY_free(k);
	tu_rmrf(d);
	free(d);
	free(pub);
	free(evil);
	free(target);
	free(lnk);
}

/* The rollback record: a state directory of another account is refused, so it
 * cannot lower the highest serial accepted. */
static void test_state_dir_refused(void **state)
{
	(void)state;
	need_root();
	char *d = tu_tmpdir();
	sw_error e = { 0 };
	uint64_t serial = 0;
	assert_int_equal(sw_serial_raise(d, "prod", 7, &e), 0);
	assert_int_equal(sw_serial_get(d, "prod", &serial, &e), 0);
	assert_int_equal(serial, 7);
	assert_int_equal(chown(d, OTHER_UID, 0), 0);
	assert_true(sw_serial_get(d, "prod", &serial, &e) < 0);
	want_msg(&e, d, "owned by uid 4242");
	assert_true(sw_serial_raise(d, "prod", 8, &e) < 0);
	assert_int_equal(chown(d, 0, 0), 0);
	assert_int_equal(chmod(d, 0777), 0);
	assert_true(sw_serial_get(d, "prod", &serial, &e) < 0);
	want_msg(&e, d, "writable by group or others");
	tu_rmrf(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_trusted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_config_precedence_and_origin),
		cmocka_unit_test(test_keys_refused),
		cmocka_unit_test(test_state_dir_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
