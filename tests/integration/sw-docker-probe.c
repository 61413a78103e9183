/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sw-docker-probe: drive lib/dockerstore from the integration tests.
 *
 *   sw-docker-probe ROOT ID     "<digest> <source> <kind>" per digest found for
 *                               container ID in Docker data root ROOT, then
 *                               "reference <ref>" when one was found
 *
 * Exit: 0 found, 3 not found (no such root or container), 1 error (the error on
 * stderr), 2 usage.
 */
#include <stdio.h>

#include "dockerstore.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sw-docker-probe DATA-ROOT CONTAINER-ID\n");
		return 2;
	}
	sw_resolution r = { 0 };
	sw_error e = { 0 };
	int rc = sw_docker_resolve(argv[1], argv[2], &r, &e);
	if (rc < 0) {
		fprintf(stderr, "sw-docker-probe: %s\n", e.msg);
		return 1;
	}
	if (rc == 0)
		return 3;
	for (size_t i = 0; i < r.n; i++)
		printf("%s %s %s\n", r.d[i].digest, r.d[i].source, r.d[i].kind);
	if (r.reference[0])
		printf("reference %s\n", r.reference);
	return 0;
}
