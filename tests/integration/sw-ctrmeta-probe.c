/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sw-ctrmeta-probe: drive lib/ctrmeta from the integration tests.
 *
 *   sw-ctrmeta-probe resolve ROOT NS ID       "<kind> <digest> <source>" per digest,
 *                                             then "reference <ref>"
 *   sw-ctrmeta-probe loop ROOT NS ID SECONDS  resolve again and again for SECONDS,
 *                                             fail on any error or changed answer
 *   sw-ctrmeta-probe get DB BUCKET... KEY     one raw value from a bbolt file
 *   sw-ctrmeta-probe keys DB BUCKET...        the keys of a bucket ("/" marks buckets)
 *   sw-ctrmeta-probe ns BUNDLE ID             namespace of a containerd task bundle
 *
 * Exit: 0 ok, 3 not found, 1 error (the error on stderr), 2 usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrmeta.h"
#include "util.h"

static int usage(void)
{
	fprintf(stderr, "usage: sw-ctrmeta-probe resolve ROOT NS ID | loop ROOT NS ID SECONDS |\n"
			"       get DB BUCKET... KEY | keys DB BUCKET... | ns BUNDLE ID\n");
	return 2;
}

static int fail(const sw_error *e)
{
	fprintf(stderr, "sw-ctrmeta-probe: %s\n", e->msg);
	return 1;
}

static void print_resolution(const sw_resolution *r)
{
	for (size_t i = 0; i < r->n; i++)
		printf("%s %s %s\n", r->d[i].kind, r->d[i].digest, r->d[i].source);
	if (r->reference[0])
		printf("reference %s\n", r->reference);
}

typedef struct getctx {
	const char *const *path;
	size_t n;
	const char *key;        /* NULL: list keys */
	char *val;
	size_t len;
	int found;
} getctx;

static int list_one(const char *key, size_t klen, const char *value, size_t vlen,
		    bool is_bucket, void *ctx, sw_error *err)
{
	printf("%s%s\n", key, is_bucket ? "/" : "");
	return 0;
}

static int get_view(sw_bolt *db, void *ctx, sw_error *err)
{
	getctx *g = ctx;
	free(g->val);
	g->val = NULL;
	if (!g->key) {
		int r = sw_bolt_has_bucket(db, g->path, g->n, err);
		if (r <= 0) {
			g->found = r;
			return r;
		}
		g->found = 1;
		return sw_bolt_foreach(db, g->path, g->n, list_one, g, err);
	}
	g->found = sw_bolt_get(db, g->path, g->n, g->key, &g->val, &g->len, err);
	return g->found < 0 ? g->found : 0;
}

static volatile sig_atomic_t g_stop;

static void on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

int main(int argc, char **argv)
{
	sw_error e = { 0 };
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];

	if (strcmp(cmd, "resolve") == 0 && argc == 5) {
		sw_resolution r = { 0 };
		int rc = sw_containerd_resolve(argv[2], argv[3], argv[4], &r, &e);
		if (rc < 0)
			return fail(&e);
		if (rc == 0)
			return 3;
		print_resolution(&r);
		return 0;
	}

	if (strcmp(cmd, "loop") == 0 && argc == 6) {
		sw_resolution first = { 0 };
		int rc = sw_containerd_resolve(argv[2], argv[3], argv[4], &first, &e);
		if (rc < 0)
			return fail(&e);
		if (rc == 0)
			return 3;
		/* Runs until SIGTERM (the test stops it once containerd's work is done,
		 * however long that took on a loaded machine) or SECONDS at most. */
		signal(SIGTERM, on_term);
		time_t end = time(NULL) + atoi(argv[5]);
		unsigned long n = 1;
		while (!g_stop && time(NULL) < end) {
			sw_resolution r = { 0 };
			rc = sw_containerd_resolve(argv[2], argv[3], argv[4], &r, &e);
			if (rc < 0)
				return fail(&e);
			if (rc == 0 || r.n != first.n || memcmp(r.d, first.d, r.n * sizeof r.d[0]) != 0) {
				fprintf(stderr, "sw-ctrmeta-probe: answer changed after %lu reads\n", n);
				return 1;
			}
			n++;
		}
		printf("reads %lu\n", n);
		print_resolution(&first);
		return 0;
	}

	if ((strcmp(cmd, "get") == 0 && argc >= 4) || (strcmp(cmd, "keys") == 0 && argc >= 3)) {
		bool get = cmd[0] == 'g';
		_cleanup_bolt_ sw_bolt *db = NULL;
		if (sw_bolt_open(argv[2], &db, &e) < 0)
			return fail(&e);
		getctx g = { .path = (const char *const *)argv + 3,
			     .n = (size_t)argc - 3 - (get ? 1 : 0),
			     .key = get ? argv[argc - 1] : NULL };
		int rc = sw_bolt_view(db, get_view, &g, &e);
		if (rc < 0)
			return fail(&e);
		if (g.found == 0)
			return 3;
		if (get) {
			fwrite(g.val, 1, g.len, stdout);
			putchar('\n');
		}
		free(g.val);
		return 0;
	}

	if (strcmp(cmd, "ns") == 0 && argc == 4) {
		char ns[SW_CONTAINERD_NS_MAX + 1];
		int rc = sw_containerd_bundle_namespace(argv[2], argv[3], ns, &e);
		if (rc < 0)
			return fail(&e);
		if (rc == 0)
			return 3;
		printf("%s\n", ns);
		return 0;
	}
	return usage();
}
