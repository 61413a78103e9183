/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * What sigwardd parses from a registry (lib/fetch.c): the OCI manifest of the
 * allowlist artifact (sw_oci_manifest_layers) and the token endpoint's answer
 * (sw_registry_token). The first byte chooses: 't' token, anything else
 * manifest; the rest is the response body, NUL-terminated as fetch's bodies are.
 */
#include "fuzz_util.h"

#include "fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char *body = malloc(size);
	if (!body)
		abort();
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	sw_error e = { 0 };
	if (data[0] == 't') {
		char token[SW_TOKEN_MAX + 1];
		int64_t life;
		if (sw_registry_token(body, size - 1, "https://auth.example/token", token, &life, &e) == 0) {
			if (strlen(token) > SW_TOKEN_MAX || strpbrk(token, "\r\n") || life < 60 || life > 86400)
				abort();
		}
	} else {
		sw_oci_layer l[3];
		const uint64_t max = 1 << 20;
		if (sw_oci_manifest_layers(body, size - 1, "http://registry.example/v2/lists/manifests/prod", max, l, &e) == 0) {
			bool seen[3] = { false, false, false };
			for (int i = 0; i < 3; i++) {
				if (l[i].file < 0 || l[i].file > 2 || seen[l[i].file] || l[i].size > max ||
				    strlen(l[i].digest) != 71 || strncmp(l[i].digest, "sha256:", 7) != 0)
					abort();
				seen[l[i].file] = true;
			}
		}
	}
	fz_debug("registry", e.msg[0] ? -1 : 0, e.msg);
	if (e.msg[0] && strchr(e.msg, '\n'))
		abort();
	free(body);
	return 0;
}
