/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sw-storage-probe: drive lib/storage from the integration tests.
 *
 *   sw-storage-probe resolve ROOT ID          "<kind> <digest> <source>" per digest,
 *                                             then "reference <ref>"
 *   sw-storage-probe container ROOT ID        "<driver> <image id>" ("-" for no image)
 *   sw-storage-probe image ROOT IMAGE-ID      "driver <d>", "name <n>", "<kind> <digest>"
 *   sw-storage-probe loop ROOT ID SECONDS     resolve again and again for SECONDS,
 *                                             fail on any error or changed answer
 *   sw-storage-probe bundle BUNDLE ID         exit 0 when BUNDLE is containers/storage's
 *                                             bundle of container ID, 3 when not
 *
 * Exit: 0 ok, 3 not found, 1 error (the error on stderr), 2 usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage.h"

static int usage(void)
{
	fprintf(stderr, "usage: sw-storage-probe resolve ROOT ID | container ROOT ID |\n"
			"       image ROOT IMAGE-ID | loop ROOT ID SECONDS | bundle BUNDLE ID\n");
	return 2;
}

static int fail(const sw_error *e)
{
	fprintf(stderr, "sw-storage-probe: %s\n", e->msg);
	return 1;
}

static void print_resolution(const sw_resolution *r)
{
	for (size_t i = 0; i < r->n; i++)
		printf("%s %s %s\n", r->d[i].kind, r->d[i].digest, r->d[i].source);
	if (r->reference[0])
		printf("reference %s\n", r->reference);
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
	if (argc < 4)
		return usage();
	const char *cmd = argv[1], *root = argv[2], *id = argv[3];

	if (strcmp(cmd, "resolve") == 0 && argc == 4) {
		sw_resolution r = { 0 };
		int rc = sw_storage_resolve(root, id, &r, &e);
		if (rc < 0)
			return fail(&e);
		if (rc == 0)
			return 3;
		print_resolution(&r);
		return 0;
	}

	if (strcmp(cmd, "bundle") == 0 && argc == 4)
		return sw_storage_bundle_is_container(argv[2], argv[3]) ? 0 : 3;

	if (strcmp(cmd, "container") == 0 && argc == 4) {
		char driver[SW_STORAGE_DRIVER_MAX], image[SW_SHA256_HEX + 1];
		int rc = sw_storage_container_image(root, id, driver, image, &e);
		if (rc < 0)
			return fail(&e);
		if (rc == 0)
			return 3;
		printf("%s %s\n", driver, image[0] ? image : "-");
		return 0;
	}

	if (strcmp(cmd, "image") == 0 && argc == 4) {
		sw_storage_image img;
		int rc = sw_storage_image_digests(root, id, &img, &e);
		if (rc < 0)
			return fail(&e);
		if (rc == 0)
			return 3;
		printf("driver %s\n", img.driver);
		if (img.name[0])
			printf("name %s\n", img.name);
		for (size_t i = 0; i < img.n; i++)
			printf("%s %s\n", img.d[i].kind, img.d[i].digest);
		return 0;
	}

	if (strcmp(cmd, "loop") == 0 && argc == 5) {
		sw_resolution first = { 0 };
		int rc = sw_storage_resolve(root, id, &first, &e);
		if (rc < 0)
			return fail(&e);
		if (rc == 0)
			return 3;
		/* Runs until SIGTERM (the test stops it once podman's work is done,
		 * however long that took on a loaded machine) or SECONDS at most. */
		signal(SIGTERM, on_term);
		time_t end = time(NULL) + atoi(argv[4]);
		unsigned long n = 1;
		while (!g_stop && time(NULL) < end) {
			sw_resolution r = { 0 };
			rc = sw_storage_resolve(root, id, &r, &e);
			if (rc < 0)
				return fail(&e);
			if (rc == 0 || r.n != first.n || memcmp(r.d, first.d, r.n * sizeof r.d[0]) != 0) {
				fprintf(stderr, "sw-storage-probe: answer changed after %lu reads\n", n);
				return 1;
			}
			n++;
		}
		printf("reads %lu\n", n);
		print_resolution(&first);
		return 0;
	}
	return usage();
}
