/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wiring: how containerd and Docker are wired to sigward, read from their
 * configuration files (never from the running daemons, which may be stopped).
 *
 *  - containerd (config.toml, version 1, 2 or 3): which of the CRI plugin's
 *    runtimes (`[...containerd.runtimes.NAME.options]`) has a
 *    `BinaryName = ".../sigward-runc"` line that is not commented out, and
 *    whether that runtime is the one containerd uses by default
 *    (`default_runtime_name` in the plugin's containerd table, "runc" when not
 *    set) or only a RuntimeClass handler, which runs only the pods that name its
 *    class: "wired" means the default, as for Docker. Also `[grpc] address`, the socket its
 *    clients use; the top-level `root` and `state` directories; the CRI plugin's
 *    `sandbox_image` (version 2's plugins."io.containerd.grpc.v1.cri" table,
 *    version 1's plugins.cri), the pause image of every pod. A line reader for these keys, not a TOML parser: containerd's
 *    own files keep them as one `key = "string"` line.
 *  - Docker (daemon.json): the `runtimes` entry whose `path` is sigward-runc, whether
 *    it is the `default-runtime` (otherwise only `--runtime NAME` uses it), and the
 *    first `unix://` entry of `hosts`.
 *
 * Inputs are the file's bytes; nothing is allocated.
 */
#ifndef SW_WIRING_H
#define SW_WIRING_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define SW_WIRING_STR 1024

typedef struct sw_containerd_wiring {
	bool wired;                      /* the default runtime's BinaryName is sigward-runc: every pod */
	bool runtime_class;              /* not wired, but another runtime's is: a RuntimeClass handler */
	char runtime[128];               /* that runtime's name ("" when neither) */
	char default_runtime[128];       /* default_runtime_name, "runc" when not set */
	char binary[SW_WIRING_STR];      /* its BinaryName */
	unsigned binary_line;            /* 1-based */
	char address[SW_WIRING_STR];     /* [grpc] address, "" when not set */
	char root[SW_WIRING_STR];        /* top-level root (metadata, content), "" when not set */
	char state[SW_WIRING_STR];       /* top-level state (task bundles), "" when not set */
	char sandbox_image[SW_WIRING_STR]; /* the CRI plugin's pause image, "" when not set */
	unsigned sandbox_line;           /* 1-based, 0 when not set */
} sw_containerd_wiring;

/* Never fails: an unreadable line is not wiring. */
void sw_wiring_containerd(const char *text, size_t len, sw_containerd_wiring *w);

typedef struct sw_docker_wiring {
	bool runtime;                    /* a runtimes entry whose path is sigward-runc */
	bool is_default;                 /* and it is the default-runtime */
	char name[128];                  /* the runtime's name */
	char path[SW_WIRING_STR];        /* its path */
	char host[SW_WIRING_STR];        /* first unix:// of hosts, "" when none */
} sw_docker_wiring;

/* text[len] must be '\0'. <0 when it is not a JSON object (what names the file). */
int sw_wiring_docker(const char *text, size_t len, const char *what, sw_docker_wiring *w, sw_error *err);

#endif
