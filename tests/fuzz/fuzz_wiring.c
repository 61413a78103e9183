/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The wiring readers (lib/wiring.c) that `sigward status` and `sigward audit`
 * run as root on containerd's config.toml and Docker's daemon.json. The first
 * byte chooses: 'd' daemon.json (sw_wiring_docker), anything else config.toml
 * (sw_wiring_containerd); the rest is the file, NUL-terminated as sw_read_file
 * hands it over. Every string read back must be a terminated string that fits
 * its field, and wiring is only ever a path naming sigward-runc.
 */
#include "fuzz_util.h"

#include "wiring.h"

static void check_str(const char *s, size_t cap)
{
	if (strnlen(s, cap) >= cap)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char *text = malloc(size);
	if (!text)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	size_t len = size - 1;
	if (data[0] == 'd') {
		sw_docker_wiring w;
		sw_error e = { 0 };
		int rc = sw_wiring_docker(text, len, "/etc/docker/daemon.json", &w, &e);
		fz_debug("docker", rc, rc < 0 ? e.msg : w.name);
		if (rc < 0) {
			if (!e.msg[0] || strchr(e.msg, '\n') || strncmp(e.msg, "/etc/docker/daemon.json", 23) != 0)
				abort();
		} else {
			check_str(w.name, sizeof w.name);
			check_str(w.path, sizeof w.path);
			check_str(w.host, sizeof w.host);
			if (w.runtime != !!strstr(w.path, "sigward-runc") || (w.is_default && !w.runtime))
				abort();
			if (w.host[0] && strncmp(w.host, "unix://", 7) != 0)
				abort();
		}
	} else {
		sw_containerd_wiring w;
		sw_wiring_containerd(text, len, &w);
		fz_debug("containerd", w.wired, w.binary);
		check_str(w.binary, sizeof w.binary);
		check_str(w.address, sizeof w.address);
		check_str(w.root, sizeof w.root);
		check_str(w.state, sizeof w.state);
		check_str(w.sandbox_image, sizeof w.sandbox_image);
		size_t lines = 1;
		for (size_t i = 0; i < len; i++)
			lines += text[i] == '\n';
		check_str(w.runtime, sizeof w.runtime);
		check_str(w.default_runtime, sizeof w.default_runtime);
		/* Wired (the default runtime) and a RuntimeClass handler exclude each
		 * other; either names its runtime, a sigward-runc and its line. */
		bool found = w.wired || w.runtime_class;
		if ((w.wired && w.runtime_class) || found != (w.binary_line != 0) || found != (w.runtime[0] != 0) ||
		    (w.wired && strcmp(w.runtime, w.default_runtime) != 0) || !w.default_runtime[0] ||
		    w.binary_line > lines || w.sandbox_line > lines ||
		    (found && !strstr(w.binary, "sigward-runc")) || (!w.sandbox_line && w.sandbox_image[0]))
			abort();
	}
	free(text);
	return 0;
}
