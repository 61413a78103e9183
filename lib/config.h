/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: sigward.conf and its drop-ins.
 *
 * Sources, in order (systemd rules): the main file /etc/sigward/sigward.conf, then
 * every *.conf in /usr/lib/sigward/sigward.conf.d/, /run/sigward/sigward.conf.d/ and
 * /etc/sigward/sigward.conf.d/, where a name in /etc masks the same name in /run
 * and /usr/lib, and a name in /run masks /usr/lib; the files apply in name order
 * and a later key wins. With an explicit file (`--config FILE`) only that file and
 * the *.conf files in "FILE.d/" (if that directory exists) are read, so tests and
 * `sigward check` never touch /etc.
 *
 * Syntax: `[section]`, `key = value`, `#` or `;` comments, blank lines. An unknown
 * section or key, a missing '=', or a bad value is an error "FILE:LINE: problem".
 * The parser is table-driven (config.c): one row per (section, key).
 * Blanks around keys and values are trimmed; values are taken literally (no quotes,
 * no escapes, no trailing comments). Lines may end in LF or CRLF; a line longer
 * than SW_CONFIG_MAX_LINE, a NUL or other control byte (tab excepted), or a file
 * larger than SW_CONFIG_MAX_SIZE is an error. Drop-ins: names ending in ".conf",
 * not starting with '.'; a same-named entry that is a symlink to /dev/null masks
 * the name entirely; an entry that is not a regular file is an error.
 *
 * Ownership: sw_config owns its strings; sw_config_free releases them and zeroes
 * the struct (so it is safe twice, and on a zeroed struct).
 * Failure: sw_config_load and sw_config_load_paths free and zero c before
 * returning an error, so a half-applied configuration is never handed back;
 * sw_config_parse may leave the keys before the bad line applied.
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SW_CONFIG_DEFAULT "/etc/sigward/sigward.conf"
#define SW_CONFIG_MAX_FILES 128
#define SW_CONFIG_MAX_SIZE (256 * 1024)
#define SW_CONFIG_MAX_LINE 4096     /* bytes, without the line ending */
#define SW_MAX_ANNOTATION_KEYS 16

typedef enum { SW_MODE_ENFORCE = 0, SW_MODE_WARN = 1 } sw_mode;

typedef struct sw_config {
	/* [sigward] */
	sw_mode mode;               /* mode = enforce | warn (default enforce) */
	char *scope;                /* scope = NAME; NULL until set: every start is then denied */
	unsigned threshold;         /* threshold = N (1..16, default 1) */
	char *keys_dir;             /* keys_dir (default /etc/sigward/keys.d) */
	char *lists_dir;            /* lists_dir: generations + `current` (default /var/lib/sigward/lists) */
	char *state_dir;            /* state_dir: root-only hook state (default /var/lib/sigward) */
	int64_t grace;              /* grace = DURATION after expiry still accepted (default 0) */
	char *log_file;             /* log_file (default /var/log/sigward/decisions.jsonl); "" = off */
	bool syslog;                /* syslog = yes|no (default yes) */
	bool verify_cache;          /* verify_cache = yes|no (default yes) */

	/* [resolve] */
	char *annotations[SW_MAX_ANNOTATION_KEYS]; /* annotations = KEY KEY ... (space separated) */
	unsigned n_annotations;
	bool containers_storage;    /* containers_storage = yes|no (default yes) */
	char *storage_root;         /* storage_root (default /var/lib/containers/storage) */
	bool docker;                /* docker = yes|no (default yes) */
	char *docker_root;          /* docker_root (default /var/lib/docker) */
	bool containerd;            /* containerd = yes|no (default yes) */
	char *containerd_root;      /* containerd_root (default /var/lib/containerd) */

	/* [runtime] (sigward-runc) */
	char *runtime_path;         /* path = /usr/sbin/runc */

	/* [refresh] (sigwardd) */
	char *refresh_source;       /* source = file:///... | https://... | oci://... ; NULL = none */
	int64_t refresh_interval;   /* interval = DURATION (default 5m) */
	int64_t refresh_jitter;     /* jitter = DURATION (default 30s) */
	char *refresh_ca_file;      /* ca_file */
	char *refresh_client_cert;  /* client_cert */
	char *refresh_client_key;   /* client_key */
	char *refresh_credentials;  /* credentials = FILE (registry user:password or token) */
	uint64_t refresh_max_size;  /* max_size = BYTES (default 256 MiB) */
	int64_t refresh_timeout;    /* timeout = DURATION (connect + low-speed, default 30s) */
	char *refresh_staging_dir;  /* staging_dir (default /var/lib/sigward/lists/.staging) */
	char *refresh_status_file;  /* status_file (default /run/sigward/refresh.json) */
	char *refresh_metrics_file; /* metrics_file (Prometheus textfile; NULL = off) */

	/* Every file that was read, in the order applied (for `status` and `audit`). */
	char *files[SW_CONFIG_MAX_FILES];
	unsigned n_files;
} sw_config;

/* Fill defaults, overwriting c without freeing what it held. Never fails except
 * on memory exhaustion. */
int sw_config_defaults(sw_config *c, sw_error *err);

/* Defaults, then the files described above. explicit_file NULL = system paths
 * (a missing main file means defaults); an explicit file must exist. */
int sw_config_load(sw_config *c, const char *explicit_file, sw_error *err);

/* For tests: main file (may be missing) and drop-in dirs in precedence order,
 * lowest first (e.g. usr/lib, run, etc). */
int sw_config_load_paths(sw_config *c, const char *main_file,
			 const char *const *dropin_dirs, unsigned n_dirs, sw_error *err);

/* Parse one file's text into c (applied on top of what c holds). */
int sw_config_parse(sw_config *c, const char *path, const char *text, size_t len, sw_error *err);

void sw_config_free(sw_config *c);

const char *sw_mode_name(sw_mode m);

#endif
