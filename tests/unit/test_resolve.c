/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"

#define HA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HB "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HC "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HU "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"

#define K_CRIO "io.kubernetes.cri-o.ImageRef"
#define K_CRIOIMG "io.kubernetes.cri-o.Image"
#define K_CRI "io.kubernetes.cri.image-name"
#define K_REF "io.kubernetes.cri.image-ref"

static void check_err(const sw_error *e, int code, const char *want)
{
	if (e->code != code || !strstr(e->msg, want))
		fail_msg("got code %d \"%s\", want code %d \"...%s...\"", e->code, e->msg, code, want);
}

static void test_digest_from_value(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *want;   /* NULL: no digest */
	} t[] = {
		{ "sha256:" HA, "sha256:" HA },
		{ HB, "sha256:" HB },
		{ "docker.io/library/nginx@sha256:" HB, "sha256:" HB },
		{ "localhost:5000/team/app:v1.2@sha256:" HA, "sha256:" HA },
		{ "nginx@sha256:" HA, "sha256:" HA },
		{ "Registry.Example.com/a_b/c-d.e@sha256:" HA, "sha256:" HA },
		/* uppercase hex, other algorithms, bad lengths */
		{ "sha256:" HU, NULL },
		{ HU, NULL },
		{ "SHA256:" HA, NULL },
		{ "sha512:" HA HA, NULL },
		{ "nginx@sha512:" HA HA, NULL },
		{ "sha256:" HA "a", NULL },
		{ "sha256:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL },
		{ "sha256:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaag", NULL },
		/* trailing or leading junk */
		{ "sha256:" HA " ", NULL },
		{ " sha256:" HA, NULL },
		{ "sha256:" HA "\n", NULL },
		{ "nginx@sha256:" HA "@sha256:" HB, NULL },
		{ "nginx@sha256:" HA "x", NULL },
		{ "nginx@sha256:" HA ":latest", NULL },
		/* malformed reference parts */
		{ "@sha256:" HA, NULL },
		{ "nginx@" HA, NULL },
		{ "ng inx@sha256:" HA, NULL },
		{ "-nginx@sha256:" HA, NULL },
		{ "a@b@sha256:" HA, NULL },
		{ "sha256:", NULL },
		{ "", NULL },
		{ "nginx:latest", NULL },
		{ "nginx", NULL },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(t); i++) {
		char out[SW_DIGEST_STR] = "";
		int r = sw_digest_from_value(t[i].in, out);
		if (t[i].want) {
			if (r != 0)
				fail_msg("refused \"%s\"", t[i].in);
			assert_string_equal(out, t[i].want);
		} else if (r != -1) {
			fail_msg("accepted \"%s\" as %s", t[i].in, out);
		}
	}
	char out[SW_DIGEST_STR];
	assert_int_equal(sw_digest_from_value(NULL, out), -1);
}

static void test_add(void **state)
{
	(void)state;
	sw_resolution r = { .n = 0 };
	sw_error e = { 0 };

	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "annotation:a", "manifest", &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "annotation:a", "manifest", &e), 0);
	assert_int_equal(r.n, 1);
	/* the same digest from another source counts: it links the two */
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "containers-storage", "image-id", &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HB, "annotation:a", NULL, &e), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.d[0].digest, "sha256:" HA);
	assert_string_equal(r.d[0].source, "annotation:a");
	assert_string_equal(r.d[0].kind, "manifest");
	assert_string_equal(r.d[1].source, "containers-storage");
	assert_string_equal(r.d[2].kind, "unknown");

	/* only normalised sha256 digests */
	assert_int_equal(sw_resolution_add(&r, HA, "s", NULL, &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "s: \"" HA "\" is not a sha256 digest");
	assert_int_equal(sw_resolution_add(&r, "sha256:" HU, "s", NULL, &e), -SW_EINVAL);
	assert_int_equal(sw_resolution_add(&r, NULL, "s", NULL, &e), -SW_EINVAL);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "", NULL, &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "image source without a name");
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "s", "a-kind-that-is-too-long", &e), -SW_EINVAL);

	/* a source name that would be cut (and so could merge with another) */
	char longsrc[SW_SOURCE_MAX + 1];
	memset(longsrc, 's', SW_SOURCE_MAX);
	longsrc[SW_SOURCE_MAX] = '\0';
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, longsrc, NULL, &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "name longer than 95 bytes");
	longsrc[SW_SOURCE_MAX - 1] = '\0';
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, longsrc, NULL, &e), 0);
	assert_int_equal(r.n, 4);

	/* overflow */
	sw_resolution full = { .n = 0 };
	for (int i = 0; i < SW_RESOLVE_MAX; i++) {
		char src[32];
		snprintf(src, sizeof src, "source-%d", i);
		assert_int_equal(sw_resolution_add(&full, "sha256:" HA, src, NULL, &e), 0);
	}
	assert_int_equal(full.n, SW_RESOLVE_MAX);
	/* a duplicate is still fine when full */
	assert_int_equal(sw_resolution_add(&full, "sha256:" HA, "source-0", NULL, &e), 0);
	assert_int_equal(sw_resolution_add(&full, "sha256:" HB, "source-0", NULL, &e), -SW_ETOOBIG);
	check_err(&e, SW_ETOOBIG, "source-0: more than 32 image digests");
	assert_int_equal(full.n, SW_RESOLVE_MAX);
}

static void test_looked(void **state)
{
	(void)state;
	sw_resolution r = { .n = 0 };
	sw_resolution_looked(&r, "annotation:a");
	sw_resolution_looked(&r, "containers-storage");
	assert_string_equal(r.looked_at, "annotation:a, containers-storage");
	char src[80];
	memset(src, 'x', sizeof src - 1);
	src[sizeof src - 1] = '\0';
	for (int i = 0; i < 20; i++)
		sw_resolution_looked(&r, src);
	size_t n = strlen(r.looked_at);
	assert_true(n < sizeof r.looked_at);
	assert_string_equal(r.looked_at + n - 5, ", ...");
	assert_non_null(strstr(r.looked_at, "annotation:a, containers-storage, xxx"));
}

/* A bundle with the given key/value pairs, built by hand. */
typedef struct {
	sw_annotation a[8];
	sw_bundle b;
} tbundle;

static void tb_init(tbundle *t, const char *const *kv)
{
	size_t n = 0;
	for (; kv[2 * n]; n++) {
		t->a[n].key = (char *)kv[2 * n];
		t->a[n].value = (char *)kv[2 * n + 1];
	}
	t->b.annotations = t->a;
	t->b.n_annotations = n;
}

/* The defaults from the issue, without depending on sw_config_load. */
static void cfg_init(sw_config *c)
{
	*c = (sw_config){ 0 };
	static const char *const keys[] = { K_CRIO, K_CRIOIMG, K_CRI, K_REF };
	for (size_t i = 0; i < SW_ARRAY_SIZE(keys); i++)
		c->annotations[i] = (char *)keys[i];
	c->n_annotations = SW_ARRAY_SIZE(keys);
}

static int resolve_kv(const char *const *kv, sw_resolution *r, sw_error *e)
{
	sw_config c;
	cfg_init(&c);
	tbundle t;
	tb_init(&t, kv);
	/* garbage in r must not survive: sw_resolve starts afresh */
	memset(r, 0x5a, sizeof *r);
	return sw_resolve(&c, "abc", "/b", &t.b, r, e);
}

static void test_annotations(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e = { 0 };

	/* CRI-O: bare image id, plus the name it was asked for */
	const char *const crio[] = { K_CRIO, HB, K_CRIOIMG, "quay.io/team/app:v1", "other", "sha256:" HC, NULL };
	assert_int_equal(resolve_kv(crio, &r, &e), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.d[0].digest, "sha256:" HB);
	assert_string_equal(r.d[0].source, "annotation:" K_CRIO);
	assert_string_equal(r.d[0].kind, "image-id");
	assert_string_equal(r.reference, "quay.io/team/app:v1");

	/* containerd CRI: a digest reference; the unconfigured key is not read */
	const char *const cri[] = { K_CRI, "docker.io/library/nginx@sha256:" HA, NULL };
	assert_int_equal(resolve_kv(cri, &r, &e), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.d[0].digest, "sha256:" HA);
	assert_string_equal(r.d[0].kind, "unknown");
	assert_string_equal(r.reference, "docker.io/library/nginx@sha256:" HA);

	/* the first reference found is kept */
	const char *const both[] = { K_CRIOIMG, "app:v2", K_CRI, "app@sha256:" HA, NULL };
	assert_int_equal(resolve_kv(both, &r, &e), 0);
	assert_string_equal(r.reference, "app:v2");

	/* a tag names no particular image: no digest, so no start */
	const char *const tag[] = { K_CRI, "docker.io/library/nginx:latest", NULL };
	assert_int_equal(resolve_kv(tag, &r, &e), -SW_ENOTFOUND);
	check_err(&e, SW_ENOTFOUND, "no image digest found (looked at: annotation:" K_CRIO
		  ", annotation:" K_CRIOIMG ", annotation:" K_CRI ", annotation:" K_REF ")");
	assert_string_equal(r.reference, "docker.io/library/nginx:latest");

	/* nothing at all */
	const char *const none[] = { "io.container.manager", "libpod", NULL };
	assert_int_equal(resolve_kv(none, &r, &e), -SW_ENOTFOUND);
	check_err(&e, SW_ENOTFOUND, "no image digest found (looked at: annotation:");
	assert_string_equal(r.reference, "");

	/* empty values and junk that is no reference contribute nothing */
	const char *const junk[] = { K_CRIO, "", K_CRIOIMG, "not a ref", NULL };
	assert_int_equal(resolve_kv(junk, &r, &e), -SW_ENOTFOUND);
	assert_string_equal(r.reference, "");

	/* a value that names a digest sigward cannot read is an error, not a
	 * silent skip that would let the other sources decide alone */
	static const char *const bad[] = {
		"sha256:" HU, HU, "nginx@sha512:" HA HA, "sha512:" HA HA, "nginx@sha256:" HA "x",
		"nginx@latest", "SHA256:" HA, "sha256:" HA "\n",
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		const char *const kv[] = { K_CRI, "app@sha256:" HA, K_CRIO, bad[i], NULL };
		sw_error be = { 0 };
		if (resolve_kv(kv, &r, &be) != -SW_EINVAL)
			fail_msg("value \"%s\" not refused", bad[i]);
		check_err(&be, SW_EINVAL, "annotation:" K_CRIO ": \"");
		check_err(&be, SW_EINVAL, "is not a sha256 digest or digest reference");
	}
}

static void test_annotations_config(void **state)
{
	(void)state;
	sw_resolution r = { .n = 0 };
	sw_error e = { 0 };
	tbundle t;
	const char *const kv[] = { "k", "sha256:" HA, NULL };
	tb_init(&t, kv);

	/* no keys configured: nothing looked at, and the message says so */
	sw_config c = { .n_annotations = 0 };
	assert_int_equal(sw_resolve(&c, "abc", "/b", &t.b, &r, &e), -SW_ENOTFOUND);
	check_err(&e, SW_ENOTFOUND, "no image digest found (looked at: no source configured)");

	/* the same key configured twice adds the digest once */
	c.annotations[0] = (char *)"k";
	c.annotations[1] = (char *)"k";
	c.annotations[2] = NULL;   /* an empty slot is skipped */
	c.n_annotations = 3;
	assert_int_equal(sw_resolve(&c, "abc", "/b", &t.b, &r, &e), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.d[0].kind, "unknown");

	/* a key whose source name would not fit */
	char key[SW_SOURCE_MAX];
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	c.annotations[0] = key;
	c.n_annotations = 1;
	r = (sw_resolution){ .n = 0 };
	assert_int_equal(sw_resolve_annotations(&c, &t.b, &r, &e), -SW_EINVAL);
	check_err(&e, SW_EINVAL, "key longer than 84 bytes");
}

static void test_conflicts(void **state)
{
	(void)state;
	sw_resolution r;
	sw_error e = { 0 };

	/* two annotations, two different images: the start is denied */
	const char *const two[] = { K_CRIO, "sha256:" HA, K_CRI, "app@sha256:" HB, NULL };
	assert_int_equal(resolve_kv(two, &r, &e), -SW_ECONFLICT);
	check_err(&e, SW_ECONFLICT, "image sources disagree: annotation:" K_CRIO " says sha256:" HA
		  ", annotation:" K_CRI " says sha256:" HB " (no digest in common)");

	/* the same image named twice */
	const char *const same[] = { K_CRIO, HA, K_CRI, "app@sha256:" HA, K_REF, "sha256:" HA, NULL };
	assert_int_equal(resolve_kv(same, &r, &e), 0);
	assert_int_equal(r.n, 3);

	/* three sources: A={a}, S={a,b}, B={b}. A and B share nothing but are
	 * bridged by S (storage knows the image id and the manifest digest). */
	r = (sw_resolution){ .n = 0 };
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "annotation:a", NULL, &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HB, "annotation:b", NULL, &e), 0);
	assert_int_equal(sw_resolution_check(&r, &e), -SW_ECONFLICT);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "containers-storage", "image-id", &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HB, "containers-storage", "manifest", &e), 0);
	assert_int_equal(sw_resolution_check(&r, &e), 0);

	/* a fourth source that shares nothing with the group */
	assert_int_equal(sw_resolution_add(&r, "sha256:" HC, "annotation:c", NULL, &e), 0);
	assert_int_equal(sw_resolution_check(&r, &e), -SW_ECONFLICT);
	check_err(&e, SW_ECONFLICT, "annotation:a says sha256:" HA ", annotation:c says sha256:" HC);

	/* one source with several digests agrees with itself */
	r = (sw_resolution){ .n = 0 };
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "containers-storage", NULL, &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HB, "containers-storage", NULL, &e), 0);
	assert_int_equal(sw_resolution_check(&r, &e), 0);

	/* a chain: a-b via x, b-c via y */
	r = (sw_resolution){ .n = 0 };
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "a", NULL, &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HC, "c", NULL, &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HA, "x", NULL, &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HB, "x", NULL, &e), 0);
	assert_int_equal(sw_resolution_check(&r, &e), -SW_ECONFLICT);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HB, "y", NULL, &e), 0);
	assert_int_equal(sw_resolution_add(&r, "sha256:" HC, "y", NULL, &e), 0);
	assert_int_equal(sw_resolution_check(&r, &e), 0);

	/* empty, and a count past the array (a corrupted struct) */
	r = (sw_resolution){ .n = 0 };
	assert_int_equal(sw_resolution_check(&r, &e), -SW_ENOTFOUND);
	check_err(&e, SW_ENOTFOUND, "looked at: no source configured");
	r.n = SW_RESOLVE_MAX + 1;
	assert_int_equal(sw_resolution_check(&r, &e), -SW_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_from_value),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_looked),
		cmocka_unit_test(test_annotations),
		cmocka_unit_test(test_annotations_config),
		cmocka_unit_test(test_conflicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
