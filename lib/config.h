/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: sigward.conf and its drop-ins.
 *
 * Sources: every *.conf in /usr/lib/sigward/sigward.conf.d/,
 * /run/sigward/sigward.conf.d/ and /etc/sigward/sigward.conf.d/, where a name in
 * /etc masks the same name in /run and /usr/lib, and a name in /run masks
 * /usr/lib (systemd rules). They apply in this order, a later key winning:
 *   1. the surviving /usr/lib drop-ins (packaged defaults), in name order;
 *   2. the main file /etc/sigward/sigward.conf;
 *   3. the surviving /run and /etc drop-ins, in name order.
 * So what an administrator writes in /etc (main file or drop-in) always wins over
 * what a package ships. With an explicit file (`--config FILE`) only that file and
 * the *.conf files in "FILE.d/" (if that directory exists) are read, in that order,
 * so tests and `sigward check` never touch /etc.
 *
 * Trust: every file and directory read (and every directory above them) must be
 * owned by root (or by the caller's own uid) and not writable by group or others
 * (lib/trust.h); otherwise loading fails, naming the path and its owner, and the
 * hook denies every start. A daemon's account therefore cannot configure the hook.
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
#define SW_CONFIG_N_KEYS 33         /* rows of the key table in config.c */

/* Where an effective value came from: file = index into sw_config.files, or -1
 * with line 0 for the built-in default. */
typedef struct sw_config_origin {
	int file;
	unsigned line;
} sw_config_origin;

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
	char *refresh_status_file;  /* status_file (default /run/sigwardd/refresh.json) */
	char *refresh_metrics_file; /* metrics_file (Prometheus textfile; NULL = off) */

	/* [selftest] (`sigward selftest`, sigward-selftest.timer) */
	int64_t selftest_interval;  /* interval = DURATION between heartbeats (default 15m; the timer's) */
	unsigned selftest_tolerance; /* tolerance = N: a gap over interval * N is a finding (1..16, default 2) */
	char *selftest_metrics_file; /* metrics_file (Prometheus textfile; NULL = off) */

	/* Every file that was read, in the order applied (for `status` and `audit`). */
	char *files[SW_CONFIG_MAX_FILES];
	unsigned n_files;
	/* Who set each key (index as in sw_config_key); zeroed = default. */
	sw_config_origin origin[SW_CONFIG_N_KEYS];
} sw_config;

/* Fill defaults, overwriting c without freeing what it held. Never fails except
 * on memory exhaustion. */
int sw_config_defaults(sw_config *c, sw_error *err);

/* Defaults, then the files described above. explicit_file NULL = system paths
 * (a missing main file means defaults); an explicit file must exist. */
int sw_config_load(sw_config *c, const char *explicit_file, sw_error *err);

/* For tests: main file (may be missing) and drop-in dirs in precedence order,
 * lowest first (e.g. usr/lib, run, etc); the first n_vendor dirs apply before the
 * main file. */
int sw_config_load_paths(sw_config *c, const char *main_file, const char *const *dropin_dirs,
			 unsigned n_dirs, unsigned n_vendor, sw_error *err);

/* Parse one file's text into c (applied on top of what c holds). */
int sw_config_parse(sw_config *c, const char *path, const char *text, size_t len, sw_error *err);

/* The lexical layer of the syntax above, shared with files written in it (the
 * image policy, lib/imgpolicy.h): size limit, BOM, CRLF, line length, NUL and
 * control bytes are refused as "PATH:LINE: problem"; fn gets every other line
 * trimmed (writable, NUL-terminated), blank and comment lines skipped. */
typedef int (*sw_config_line_fn)(void *ctx, const char *path, unsigned lineno, char *line, sw_error *err);
int sw_config_lines(const char *path, const char *text, size_t len, size_t max_size,
		    sw_config_line_fn fn, void *ctx, sw_error *err);
/* Trim blanks (space, tab) in place; returns the start, terminates the end. */
char *sw_config_trim(char *s);

void sw_config_free(sw_config *c);

const char *sw_mode_name(sw_mode m);

/* Key i (0..SW_CONFIG_N_KEYS-1) of the table: its section and name, its effective
 * value in c as the configuration would write it (durations in seconds, sizes in
 * bytes, an unset value as ""), and the file and line that set it (file NULL:
 * the built-in default). Returns false past the last key. */
bool sw_config_key(const sw_config *c, unsigned i, const char **section, const char **key,
		   char *value, size_t value_len, const char **file, unsigned *line);

#endif
