/* SPDX-License-Identifier: Apache-2.0 */
/* The bundle's config.json (sw_bundle_parse) and what the resolver makes of its
 * annotations (sw_resolve_annotations, sw_resolution_check), with the default
 * annotation keys plus one more. */
#include "fuzz_util.h"

#include "config.h"
#include "oci.h"
#include "resolve.h"

static sw_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sw_error e = { 0 };
	static const char conf[] = "[resolve]\nannotations = io.kubernetes.cri-o.ImageRef io.kubernetes.cri-o.Image "
				   "io.kubernetes.cri.image-ref io.kubernetes.cri.image-name org.example.digest\n";
	if (sw_config_defaults(&cfg, &e) < 0 || sw_config_parse(&cfg, "fuzz.conf", conf, sizeof conf - 1, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sw_error e = { 0 };
	sw_bundle b;
	if (sw_bundle_parse((const char *)data, size, "bundle/config.json", &b, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort();
		return 0;
	}
	for (size_t i = 0; i < b.n_annotations; i++)
		if (sw_bundle_annotation(&b, b.annotations[i].key) != b.annotations[i].value)
			abort(); /* keys are unique after a successful parse */
	sw_resolution r = { 0 };
	if (sw_resolve_annotations(&cfg, &b, &r, &e) == 0 && sw_resolution_check(&r, &e) == 0) {
		for (size_t i = 0; i < r.n; i++)
			if (strncmp(r.d[i].digest, "sha256:", 7) != 0 || strlen(r.d[i].digest) != 71)
				abort();
	}
	sw_bundle_free(&b);
	return 0;
}
