/* SPDX-License-Identifier: Apache-2.0 */
/* lib/util: the time formatting the decision log and the lists use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* sw_format_rfc3339 (its own calendar arithmetic, no tzset) gives what
 * gmtime_r + strftime give, and sw_parse_rfc3339 reads it back. */
static void check(int64_t t)
{
	char got[32], want[32];
	sw_format_rfc3339(t, got);
	struct tm tm;
	time_t tt = (time_t)t;
	assert_non_null(gmtime_r(&tt, &tm));
	assert_true(strftime(want, sizeof want, "%04Y-%m-%dT%H:%M:%SZ", &tm) > 0);
	if (strcmp(got, want) != 0)
		fail_msg("%lld: \"%s\", want \"%s\"", (long long)t, got, want);
	int64_t back;
	assert_int_equal(sw_parse_rfc3339(got, strlen(got), &back), 0);
	assert_true(back == t);
}

static void test_format_rfc3339(void **state)
{
	(void)state;
	static const int64_t fixed[] = {
		0, 1, -1, 59, 60, 86399, 86400, -86400, -86401,
		951782400,          /* 2000-02-29 */
		951868799,          /* 2000-02-29T23:59:59 */
		4107542400LL,       /* 2100-03-01 (2100 is not a leap year) */
		1799033951,
		253402300799LL,     /* 9999-12-31T23:59:59 */
		-62135596800LL,     /* 0001-01-01 */
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		check(fixed[i]);
	/* a spread over four centuries, not aligned to days */
	for (int64_t t = -2208988800LL; t < 10000000000LL; t += 86400 * 37 + 3607)
		check(t);
	char out[32];
	/* year 0 in RFC 3339's four digits (strftime's %Y would give "0") */
	sw_format_rfc3339(-62167219200LL, out);
	assert_string_equal(out, "0000-01-01T00:00:00Z");
	sw_format_rfc3339(253402300800LL, out); /* year 10000 */
	assert_string_equal(out, "@253402300800");
}

/* sw_dirents: every entry once, "." and ".." included, across many getdents64
 * calls (300 names of 120 bytes against a 1 KB buffer); a second pass over the
 * same descriptor starts again from the beginning; the descriptor stays open. */
static void test_dirents(void **state)
{
	(void)state;
	char dir[] = "/tmp/sw-dirents.XXXXXX";
	assert_non_null(mkdtemp(dir));
	enum { N = 300 };
	char name[200];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "%s/%03d-%0116d", dir, i, 0);
		int fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	for (int pass = 0; pass < 2; pass++) {
		char seen[N] = { 0 };
		int dots = 0, total = 0;
		sw_dirents d;
		sw_dirents_init(&d, dfd);
		const char *e;
		while ((e = sw_dirents_next(&d))) {
			total++;
			if (strcmp(e, ".") == 0 || strcmp(e, "..") == 0) {
				dots++;
				continue;
			}
			assert_int_equal(strlen(e), 120);
			int i = atoi(e);
			assert_true(i >= 0 && i < N);
			assert_int_equal(seen[i], 0);
			seen[i] = 1;
		}
		assert_int_equal(errno, 0);
		assert_int_equal(dots, 2);
		assert_int_equal(total, N + 2);
		for (int i = 0; i < N; i++)
			assert_int_equal(seen[i], 1);
	}
	/* Not a directory: an error, not an empty list. */
	snprintf(name, sizeof name, "%s/%03d-%0116d", dir, 0, 0);
	int f = open(name, O_RDONLY | O_CLOEXEC);
	sw_dirents d;
	sw_dirents_init(&d, f);
	assert_null(sw_dirents_next(&d));
	assert_int_equal(errno, ENOTDIR);
	close(f);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "%03d-%0116d", i, 0);
		assert_int_equal(unlinkat(dfd, name, 0), 0);
	}
	close(dfd);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_rfc3339),
		cmocka_unit_test(test_dirents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
