/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "trust.h"
#include "util.h"

/* Same rule as the allowlist manifest's scope (allowlist.c), so a node can never be
 * configured for a scope no list could carry. */
#define SCOPE_MAX 64
#define THRESHOLD_MAX 16
/* A larger limit is certainly a typo, and it keeps the `max + 1` arithmetic of the
 * bounded readers far from wrapping. */
#define MAX_SIZE_LIMIT ((uint64_t)1 << 40)
/* Values echoed in error messages are cut here: the file and line come first and
 * must survive, whatever the value's length. */
#define ECHO_MAX 128

static const char *const system_dropin_dirs[] = {
	"/usr/lib/sigward/sigward.conf.d",
	"/run/sigward/sigward.conf.d",
	"/etc/sigward/sigward.conf.d",
};

/* ------------------------------------------------------------ value parsers */

/* Where a value came from, for error messages. */
typedef struct conf_ctx {
	const char *path;
	unsigned line;
	const char *key;
} conf_ctx;

typedef int (*conf_parser)(const conf_ctx *ctx, const char *value, void *field, sw_error *err);

static int bad_value(const conf_ctx *ctx, const char *value, const char *expected, sw_error *err)
{
	return sw_err(err, SW_EINVAL, "%s:%u: bad value for %s: '%.*s' (expected %s)",
		      ctx->path, ctx->line, ctx->key, ECHO_MAX, value, expected);
}

static int set_string(const conf_ctx *ctx, char **field, const char *value, sw_error *err)
{
	char *s = strdup(value);
	if (!s)
		return sw_err_errno(err, ENOMEM, "%s:%u: %s", ctx->path, ctx->line, ctx->key);
	/* A later assignment replaces the earlier one. */
	free(*field);
	*field = s;
	return 0;
}

static int parse_mode(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	sw_mode *m = field;
	if (strcmp(value, "enforce") == 0)
		*m = SW_MODE_ENFORCE;
	else if (strcmp(value, "warn") == 0)
		*m = SW_MODE_WARN;
	else
		return bad_value(ctx, value, "enforce or warn", err);
	return 0;
}

static int parse_scope(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	size_t n = strlen(value);
	if (n < 1 || n > SCOPE_MAX || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						    "0123456789._-") != n)
		return bad_value(ctx, value, "1 to 64 characters of A-Z a-z 0-9 . _ -", err);
	return set_string(ctx, field, value, err);
}

static int parse_threshold(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	uint64_t v;
	if (sw_parse_u64(value, strlen(value), &v) < 0 || v < 1 || v > THRESHOLD_MAX)
		return bad_value(ctx, value, "a number from 1 to 16", err);
	*(unsigned *)field = (unsigned)v;
	return 0;
}

/* Paths are absolute: the hook runs with whatever working directory the runtime
 * gives it, so a relative path would name a different file on every start. */
static int parse_path(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	if (value[0] != '/')
		return bad_value(ctx, value, "an absolute path", err);
	return set_string(ctx, field, value, err);
}

/* log_file alone may be empty: that turns the decision log off. */
static int parse_path_or_empty(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	if (value[0] != '\0' && value[0] != '/')
		return bad_value(ctx, value, "an absolute path, or nothing to turn the log off", err);
	return set_string(ctx, field, value, err);
}

static int parse_bool(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*(bool *)field = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*(bool *)field = false;
			return 0;
		}
	}
	return bad_value(ctx, value, "yes, no, true, false, on, off, 1 or 0", err);
}

static int parse_duration(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	int64_t v;
	if (sw_parse_duration(value, &v) < 0)
		return bad_value(ctx, value, "a duration such as 0, 90s, 15m, 12h, 30d or 2w", err);
	*(int64_t *)field = v;
	return 0;
}

/* interval and timeout: zero would mean a busy loop or an instant failure. */
static int parse_duration_pos(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	int64_t v;
	if (sw_parse_duration(value, &v) < 0 || v <= 0)
		return bad_value(ctx, value, "a positive duration such as 90s, 15m, 12h, 30d or 2w", err);
	*(int64_t *)field = v;
	return 0;
}

/* Bytes, or a number with a binary K, M or G suffix. */
static int parse_size(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	size_t n = strlen(value);
	unsigned shift = 0;
	if (n > 0) {
		switch (value[n - 1]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		default: break;
		}
	}
	if (shift)
		n--;
	uint64_t v;
	if (sw_parse_u64(value, n, &v) < 0 || v == 0 || v > (MAX_SIZE_LIMIT >> shift))
		return bad_value(ctx, value, "a size from 1 byte to 1024G, such as 1048576, 512K, 256M or 1G", err);
	*(uint64_t *)field = v << shift;
	return 0;
}

/* The schemes sw_fetch knows: a typo is reported here, at load time, rather than
 * at the daemon's first poll. */
static int parse_source(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	static const char *const schemes[] = { "file://", "https://", "oci://", "oci+http://" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(schemes); i++) {
		size_t sl = strlen(schemes[i]);
		if (strncmp(value, schemes[i], sl) == 0 && value[sl] != '\0' && !strpbrk(value, " \t"))
			return set_string(ctx, field, value, err);
	}
	return bad_value(ctx, value, "a file://, https:// or oci:// URL", err);
}

/* "KEY KEY ...": the annotation keys trusted to carry the image digest, in the
 * order they are consulted. Empty: no annotation is trusted. */
static int parse_annotations(const conf_ctx *ctx, const char *value, void *field, sw_error *err)
{
	sw_config *c = (sw_config *)((char *)field - offsetof(sw_config, annotations));
	char *keys[SW_MAX_ANNOTATION_KEYS] = { NULL };
	unsigned n = 0;
	int r = 0;

	for (const char *p = value;;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		size_t kl = strcspn(p, " \t");
		if (n == SW_MAX_ANNOTATION_KEYS) {
			r = sw_err(err, SW_EINVAL, "%s:%u: bad value for %s: more than %d keys",
				   ctx->path, ctx->line, ctx->key, SW_MAX_ANNOTATION_KEYS);
			goto out;
		}
		for (unsigned i = 0; i < n; i++) {
			if (strlen(keys[i]) == kl && memcmp(keys[i], p, kl) == 0) {
				r = sw_err(err, SW_EINVAL, "%s:%u: bad value for %s: key '%.*s' listed twice",
					   ctx->path, ctx->line, ctx->key, (int)(kl > ECHO_MAX ? ECHO_MAX : kl), p);
				goto out;
			}
		}
		keys[n] = strndup(p, kl);
		if (!keys[n]) {
			r = sw_err_errno(err, ENOMEM, "%s:%u: %s", ctx->path, ctx->line, ctx->key);
			goto out;
		}
		n++;
		p += kl;
	}
	/* Replace the whole list: a drop-in states the complete set it wants. */
	for (unsigned i = 0; i < c->n_annotations; i++)
		free(c->annotations[i]);
	memcpy(c->annotations, keys, sizeof keys);
	c->n_annotations = n;
	return 0;
out:
	for (unsigned i = 0; i < n; i++)
		free(keys[i]);
	return r;
}

/* ------------------------------------------------------------ the table */

typedef struct conf_item {
	const char *section;
	const char *key;
	conf_parser parse;
	size_t offset;
} conf_item;

#define ITEM(sec, key, fn, field) { sec, key, fn, offsetof(sw_config, field) }

static const conf_item items[] = {
	ITEM("sigward", "mode",               parse_mode,          mode),
	ITEM("sigward", "scope",              parse_scope,         scope),
	ITEM("sigward", "threshold",          parse_threshold,     threshold),
	ITEM("sigward", "keys_dir",           parse_path,          keys_dir),
	ITEM("sigward", "lists_dir",          parse_path,          lists_dir),
	ITEM("sigward", "state_dir",          parse_path,          state_dir),
	ITEM("sigward", "grace",              parse_duration,      grace),
	ITEM("sigward", "log_file",           parse_path_or_empty, log_file),
	ITEM("sigward", "syslog",             parse_bool,          syslog),
	ITEM("sigward", "verify_cache",       parse_bool,          verify_cache),

	ITEM("resolve", "annotations",        parse_annotations,   annotations),
	ITEM("resolve", "containers_storage", parse_bool,          containers_storage),
	ITEM("resolve", "storage_root",       parse_path,          storage_root),
	ITEM("resolve", "docker",             parse_bool,          docker),
	ITEM("resolve", "docker_root",        parse_path,          docker_root),
	ITEM("resolve", "containerd",         parse_bool,          containerd),
	ITEM("resolve", "containerd_root",    parse_path,          containerd_root),

	ITEM("runtime", "path",               parse_path,          runtime_path),

	ITEM("refresh", "source",             parse_source,        refresh_source),
	ITEM("refresh", "interval",           parse_duration_pos,  refresh_interval),
	ITEM("refresh", "jitter",             parse_duration,      refresh_jitter),
	ITEM("refresh", "ca_file",            parse_path,          refresh_ca_file),
	ITEM("refresh", "client_cert",        parse_path,          refresh_client_cert),
	ITEM("refresh", "client_key",         parse_path,          refresh_client_key),
	ITEM("refresh", "credentials",        parse_path,          refresh_credentials),
	ITEM("refresh", "max_size",           parse_size,          refresh_max_size),
	ITEM("refresh", "timeout",            parse_duration_pos,  refresh_timeout),
	ITEM("refresh", "staging_dir",        parse_path,          refresh_staging_dir),
	ITEM("refresh", "status_file",        parse_path,          refresh_status_file),
	ITEM("refresh", "metrics_file",       parse_path,          refresh_metrics_file),

	ITEM("selftest", "interval",          parse_duration_pos,  selftest_interval),
	ITEM("selftest", "tolerance",         parse_threshold,     selftest_tolerance),
	ITEM("selftest", "metrics_file",      parse_path,          selftest_metrics_file),
};

_Static_assert(SW_ARRAY_SIZE(items) == SW_CONFIG_N_KEYS, "SW_CONFIG_N_KEYS must count the table's rows");

static const char *const sections[] = { "sigward", "resolve", "runtime", "refresh", "selftest" };

static const char *known_section(const char *name)
{
	for (size_t i = 0; i < SW_ARRAY_SIZE(sections); i++)
		if (strcmp(name, sections[i]) == 0)
			return sections[i];
	return NULL;
}

static const conf_item *find_item(const char *section, const char *key)
{
	for (size_t i = 0; i < SW_ARRAY_SIZE(items); i++)
		if (strcmp(items[i].section, section) == 0 && strcmp(items[i].key, key) == 0)
			return &items[i];
	return NULL;
}

/* ------------------------------------------------------------ defaults, free */

static const char *const default_annotations[] = {
	"io.kubernetes.cri-o.ImageRef",
	"io.kubernetes.cri-o.Image",
	"io.kubernetes.cri.image-ref",
	"io.kubernetes.cri.image-name",
};

int sw_config_defaults(sw_config *c, sw_error *err)
{
	*c = (sw_config){
		.mode = SW_MODE_ENFORCE,
		.threshold = 1,
		.grace = 0,
		.syslog = true,
		.verify_cache = true,
		.containers_storage = true,
		.docker = true,
		.containerd = true,
		.refresh_interval = 5 * 60,
		.refresh_jitter = 30,
		.refresh_max_size = (uint64_t)256 << 20,
		.refresh_timeout = 30,
		.selftest_interval = 15 * 60,
		.selftest_tolerance = 2,
	};
	static const struct {
		size_t offset;
		const char *value;
	} strings[] = {
		{ offsetof(sw_config, keys_dir), "/etc/sigward/keys.d" },
		{ offsetof(sw_config, lists_dir), "/var/lib/sigward/lists" },
		{ offsetof(sw_config, state_dir), "/var/lib/sigward" },
		{ offsetof(sw_config, log_file), "/var/log/sigward/decisions.jsonl" },
		{ offsetof(sw_config, storage_root), "/var/lib/containers/storage" },
		{ offsetof(sw_config, docker_root), "/var/lib/docker" },
		{ offsetof(sw_config, containerd_root), "/var/lib/containerd" },
		{ offsetof(sw_config, runtime_path), "/usr/sbin/runc" },
		{ offsetof(sw_config, refresh_staging_dir), "/var/lib/sigward/lists/.staging" },
		{ offsetof(sw_config, refresh_status_file), "/run/sigwardd/refresh.json" },
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(strings); i++) {
		char **field = (char **)((char *)c + strings[i].offset);
		if (!(*field = strdup(strings[i].value)))
			goto oom;
	}
	for (size_t i = 0; i < SW_ARRAY_SIZE(default_annotations); i++) {
		if (!(c->annotations[i] = strdup(default_annotations[i])))
			goto oom;
		c->n_annotations++;
	}
	return 0;
oom:
	sw_config_free(c);
	return sw_err_errno(err, ENOMEM, "configuration defaults");
}

void sw_config_free(sw_config *c)
{
	if (!c)
		return;
	char **strings[] = {
		&c->scope, &c->keys_dir, &c->lists_dir, &c->state_dir, &c->log_file,
		&c->storage_root, &c->docker_root, &c->containerd_root, &c->runtime_path,
		&c->refresh_source, &c->refresh_ca_file, &c->refresh_client_cert,
		&c->refresh_client_key, &c->refresh_credentials, &c->refresh_staging_dir,
		&c->refresh_status_file, &c->refresh_metrics_file, &c->selftest_metrics_file,
	};
	for (size_t i = 0; i < SW_ARRAY_SIZE(strings); i++)
		free(*strings[i]);
	/* Walk the whole arrays, not the counts: the slots past a count are NULL
	 * in any struct this module filled, and free(NULL) is a no-op. */
	for (size_t i = 0; i < SW_MAX_ANNOTATION_KEYS; i++)
		free(c->annotations[i]);
	for (size_t i = 0; i < SW_CONFIG_MAX_FILES; i++)
		free(c->files[i]);
	/* Zeroed, so a second call (or a load after it) finds nothing to free. */
	*c = (sw_config){ 0 };
}

const char *sw_mode_name(sw_mode m)
{
	switch (m) {
	case SW_MODE_ENFORCE: return "enforce";
	case SW_MODE_WARN: return "warn";
	}
	return "invalid";
}

/* ------------------------------------------------------------ one file */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Trim blanks in place; returns the start, terminates the end. */
char *sw_config_trim(char *s)
{
	while (is_blank(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	s[n] = '\0';
	return s;
}

static int parse_line(sw_config *c, const char *path, unsigned lineno, char *line,
		      const char **section, sw_error *err)
{
	char *s = line;
	if (*s == '[') {
		size_t n = strlen(s);
		if (s[n - 1] != ']')
			return sw_err(err, SW_EINVAL, "%s:%u: section header '%.*s' does not end with ']'",
				      path, lineno, ECHO_MAX, s);
		s[n - 1] = '\0';
		char *name = sw_config_trim(s + 1);
		const char *known = known_section(name);
		if (!known)
			return sw_err(err, SW_EINVAL, "%s:%u: unknown section [%.*s]", path, lineno, ECHO_MAX, name);
		*section = known;
		return 0;
	}

	if (!*section)
		return sw_err(err, SW_EINVAL, "%s:%u: key outside of a section", path, lineno);
	char *eq = strchr(s, '=');
	if (!eq)
		return sw_err(err, SW_EINVAL, "%s:%u: missing '='", path, lineno);
	*eq = '\0';
	char *key = sw_config_trim(s), *value = sw_config_trim(eq + 1);
	if (*key == '\0')
		return sw_err(err, SW_EINVAL, "%s:%u: missing key before '='", path, lineno);

	const conf_item *it = find_item(*section, key);
	if (!it)
		return sw_err(err, SW_EINVAL, "%s:%u: unknown key '%.*s' in section [%s]",
			      path, lineno, ECHO_MAX, key, *section);
	conf_ctx ctx = { .path = path, .line = lineno, .key = it->key };
	int r = it->parse(&ctx, value, (char *)c + it->offset, err);
	if (r < 0)
		return r;
	/* Remember who set it, for `sigward status`: the last assignment wins, so
	 * the last one recorded is the effective one. */
	sw_config_origin *o = &c->origin[it - items];
	o->file = -1;
	if (c->n_files > 0 && strcmp(c->files[c->n_files - 1], path) == 0)
		o->file = (int)c->n_files - 1;
	o->line = lineno;
	return 0;
}

int sw_config_lines(const char *path, const char *text, size_t len, size_t max_size,
		    sw_config_line_fn fn, void *ctx, sw_error *err)
{
	if (len > max_size)
		return sw_err(err, SW_ETOOBIG, "%s: %zu bytes, more than the limit of %zu",
			      path, len, max_size);
	/* An editor's UTF-8 byte order mark is not part of the first line. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}

	char line[SW_CONFIG_MAX_LINE + 1];
	unsigned lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;

		/* Files written on Windows end lines with CRLF: accept it. */
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (memchr(start, '\0', n))
			return sw_err(err, SW_EINVAL, "%s:%u: NUL byte in line", path, lineno);
		if (n > SW_CONFIG_MAX_LINE)
			return sw_err(err, SW_ETOOBIG, "%s:%u: line too long (more than %d bytes)",
				      path, lineno, SW_CONFIG_MAX_LINE);
		/* Control characters have no business in a path or a key, and a
		 * stray CR or escape sequence could hide what a line really says
		 * from whoever reads the file in a terminal. Tabs are blanks. */
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)start[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return sw_err(err, SW_EINVAL, "%s:%u: control character 0x%02x in line",
					      path, lineno, ch);
		}
		memcpy(line, start, n);
		line[n] = '\0';
		char *s = sw_config_trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		int r = fn(ctx, path, lineno, s, err);
		if (r < 0)
			return r;
	}
	return 0;
}

typedef struct parse_ctx {
	sw_config *c;
	/* Every file starts outside of any section: a drop-in cannot inherit the
	 * section its predecessor ended in. */
	const char *section;
} parse_ctx;

static int parse_one(void *ctx, const char *path, unsigned lineno, char *line, sw_error *err)
{
	parse_ctx *p = ctx;
	return parse_line(p->c, path, lineno, line, &p->section, err);
}

int sw_config_parse(sw_config *c, const char *path, const char *text, size_t len, sw_error *err)
{
	parse_ctx p = { .c = c, .section = NULL };
	return sw_config_lines(path, text, len, SW_CONFIG_MAX_SIZE, parse_one, &p, err);
}

/* ------------------------------------------------------------ drop-ins */

typedef struct dropin {
	char *name;
	unsigned dir;      /* index into the dirs array */
	bool masked;       /* a link to /dev/null: this name is not read from any dir */
} dropin;

typedef struct dropin_set {
	dropin d[SW_CONFIG_MAX_FILES];
	unsigned n;
} dropin_set;

static void dropin_set_free(dropin_set *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->d[i].name);
	s->n = 0;
}

static int dropin_cmp(const void *a, const void *b)
{
	return strcmp(((const dropin *)a)->name, ((const dropin *)b)->name);
}

/* "*.conf", not hidden: editors' and package managers' leftovers (.foo.conf.swp,
 * foo.conf.dpkg-old, foo.conf~) are never read. */
static bool dropin_name_ok(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* Does dir/name mask its twins? A symlink to /dev/null (checked by its target, so
 * it works even where /dev/null itself is missing), or /dev/null itself. */
static int is_mask(int dfd, const char *dir, const char *name, bool *masked, sw_error *err)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sw_err_errno(err, errno, "%s/%s: cannot stat", dir, name);
	if (S_ISLNK(st.st_mode)) {
		char target[16];
		ssize_t n = readlinkat(dfd, name, target, sizeof target);
		if (n == 9 && memcmp(target, "/dev/null", 9) == 0) {
			*masked = true;
			return 0;
		}
		if (fstatat(dfd, name, &st, 0) < 0)
			return sw_err_errno(err, errno, "%s/%s: cannot follow link", dir, name);
	}
	*masked = S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
	return 0;
}

/* List the drop-ins of dirs (lowest precedence first) into s: one entry per
 * name, from the highest-precedence dir that has it, sorted by name. */
static int list_dropins(const char *const *dirs, unsigned n_dirs, dropin_set *s, sw_error *err)
{
	for (unsigned d = n_dirs; d-- > 0;) {
		/* Whoever can add a file here can set the mode, the keys and the
		 * runtime of every start: the directory and every one above it must
		 * be root's (sw_trust_open). */
		int fd = sw_trust_open(dirs[d], SW_TRUST_DIR, err);
		if (fd < 0) {
			/* A missing directory holds no drop-ins; anything else
			 * (an owner other than root, permissions, not a directory)
			 * could hide some or inject some: fail. */
			if (fd == -ENOENT) {
				sw_error_clear(err);
				continue;
			}
			if (fd == -EPERM)
				return fd;
			return sw_err_errno(err, -fd, "%s: cannot open directory", dirs[d]);
		}
		_cleanup_close_ int dfd = fd;
		sw_dirents dir;
		sw_dirents_init(&dir, dfd);
		for (;;) {
			const char *entry = sw_dirents_next(&dir);
			if (!entry) {
				if (errno)
					return sw_err_errno(err, errno, "%s: cannot read directory", dirs[d]);
				break;
			}
			if (!dropin_name_ok(entry))
				continue;
			bool seen = false;
			for (unsigned i = 0; i < s->n && !seen; i++)
				seen = strcmp(s->d[i].name, entry) == 0;
			if (seen)
				continue;   /* masked by the same name in a higher-precedence dir */
			if (s->n == SW_CONFIG_MAX_FILES)
				return sw_err(err, SW_ETOOBIG, "%s: too many drop-in files (more than %d in all)",
					      dirs[d], SW_CONFIG_MAX_FILES);
			bool masked;
			int r = is_mask(dfd, dirs[d], entry, &masked, err);
			if (r < 0)
				return r;
			char *name = strdup(entry);
			if (!name)
				return sw_err_errno(err, ENOMEM, "%s/%s", dirs[d], entry);
			s->d[s->n++] = (dropin){ .name = name, .dir = d, .masked = masked };
		}
	}
	qsort(s->d, s->n, sizeof s->d[0], dropin_cmp);
	return 0;
}

/* Read path and apply it on top of c; must_exist false: a missing file is skipped. */
static int apply_file(sw_config *c, const char *path, bool must_exist, sw_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	/* The file and every directory above it must be root's: configuration
	 * decides enforcement, so no other account may be able to write it. */
	_cleanup_close_ int fd = sw_trust_open(path, SW_TRUST_FILE, err);
	if (fd == -ENOENT && !must_exist) {
		sw_error_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	int r = sw_read_fd(fd, SW_CONFIG_MAX_SIZE, path, &text, &len, err);
	if (r < 0)
		return r;
	if (c->n_files == SW_CONFIG_MAX_FILES)
		return sw_err(err, SW_ETOOBIG, "%s: too many configuration files (more than %d)",
			      path, SW_CONFIG_MAX_FILES);
	if (!(c->files[c->n_files] = strdup(path)))
		return sw_err_errno(err, ENOMEM, "%s", path);
	c->n_files++;
	return sw_config_parse(c, path, text, len, err);
}

static int load(sw_config *c, const char *main_file, bool main_must_exist,
		const char *const *dirs, unsigned n_dirs, unsigned n_vendor, sw_error *err)
{
	_cleanup_(dropin_set_free) dropin_set s = { .n = 0 };
	int r = sw_config_defaults(c, err);
	if (r < 0)
		return r;
	if ((r = list_dropins(dirs, n_dirs, &s, err)) < 0)
		goto fail;
	/* Two passes over the name-sorted set: first the drop-ins that survived in
	 * the vendor directories (the package's defaults), then the main file, then
	 * the rest. What an administrator writes in /etc/sigward/sigward.conf must
	 * win over what a package ships: a package default of `mode = warn` that
	 * silently overrode an edited `mode = enforce` left a node open. */
	for (unsigned pass = 0; pass < 2; pass++) {
		if (pass == 1 && main_file && (r = apply_file(c, main_file, main_must_exist, err)) < 0)
			goto fail;
		for (unsigned i = 0; i < s.n; i++) {
			if (s.d[i].masked || (s.d[i].dir < n_vendor) != (pass == 0))
				continue;
			char path[PATH_MAX];
			int n = snprintf(path, sizeof path, "%s/%s", dirs[s.d[i].dir], s.d[i].name);
			if (n < 0 || (size_t)n >= sizeof path) {
				r = sw_err(err, SW_EINVAL, "%s/%s: path too long", dirs[s.d[i].dir], s.d[i].name);
				goto fail;
			}
			/* Drop-ins are read like the main file; one that vanished between
			 * the listing and now is an error, not a silent skip. */
			if ((r = apply_file(c, path, true, err)) < 0)
				goto fail;
		}
	}
	/* staging_dir lives inside lists_dir unless set: a moved lists_dir takes its
	 * staging area along (a rename from staging into lists_dir must not cross a
	 * file system, and the daemon may write only there). */
	const conf_item *st = find_item("refresh", "staging_dir");
	if (c->origin[st - items].line == 0) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof path, "%s/.staging", c->lists_dir);
		if (n < 0 || (size_t)n >= sizeof path) {
			r = sw_err(err, SW_EINVAL, "lists_dir %.128s: path too long", c->lists_dir);
			goto fail;
		}
		char *dup = strdup(path);
		if (!dup) {
			r = sw_err_errno(err, ENOMEM, "staging_dir");
			goto fail;
		}
		free(c->refresh_staging_dir);
		c->refresh_staging_dir = dup;
	}
	return 0;
fail:
	/* Never hand back a half-applied configuration. */
	sw_config_free(c);
	return r;
}

int sw_config_load_paths(sw_config *c, const char *main_file, const char *const *dropin_dirs,
			 unsigned n_dirs, unsigned n_vendor, sw_error *err)
{
	return load(c, main_file, false, dropin_dirs, n_dirs, n_vendor, err);
}

int sw_config_load(sw_config *c, const char *explicit_file, sw_error *err)
{
	if (!explicit_file)
		return load(c, SW_CONFIG_DEFAULT, false, system_dropin_dirs,
			    SW_ARRAY_SIZE(system_dropin_dirs), 1, err);

	if (!*explicit_file) {
		*c = (sw_config){ 0 };
		return sw_err(err, SW_EINVAL, "configuration file: empty path");
	}
	char dropdir[PATH_MAX];
	int n = snprintf(dropdir, sizeof dropdir, "%s.d", explicit_file);
	if (n < 0 || (size_t)n >= sizeof dropdir) {
		*c = (sw_config){ 0 };
		return sw_err(err, SW_EINVAL, "%s: path too long", explicit_file);
	}
	const char *dirs[] = { dropdir };
	/* An explicit file was asked for by name: its absence is an error, or a typo
	 * in --config would silently run with the defaults. */
	return load(c, explicit_file, true, dirs, 1, 0, err);
}

/* ------------------------------------------------------------ describing */

bool sw_config_key(const sw_config *c, unsigned i, const char **section, const char **key,
		   char *value, size_t value_len, const char **file, unsigned *line)
{
	if (i >= SW_ARRAY_SIZE(items))
		return false;
	const conf_item *it = &items[i];
	const void *field = (const char *)c + it->offset;
	*section = it->section;
	*key = it->key;
	if (it->parse == parse_mode) {
		snprintf(value, value_len, "%s", sw_mode_name(*(const sw_mode *)field));
	} else if (it->parse == parse_threshold) {
		snprintf(value, value_len, "%u", *(const unsigned *)field);
	} else if (it->parse == parse_bool) {
		snprintf(value, value_len, "%s", *(const bool *)field ? "yes" : "no");
	} else if (it->parse == parse_duration || it->parse == parse_duration_pos) {
		snprintf(value, value_len, "%llds", (long long)*(const int64_t *)field);
	} else if (it->parse == parse_size) {
		snprintf(value, value_len, "%llu", (unsigned long long)*(const uint64_t *)field);
	} else if (it->parse == parse_annotations) {
		size_t o = 0;
		value[0] = '\0';
		for (unsigned k = 0; k < c->n_annotations && o < value_len; k++) {
			int n = snprintf(value + o, value_len - o, "%s%s", k ? " " : "", c->annotations[k]);
			if (n < 0)
				break;
			o += (size_t)n;
		}
	} else {
		const char *s = *(char *const *)field;
		snprintf(value, value_len, "%s", s ? s : "");
	}
	const sw_config_origin *o = &c->origin[i];
	*file = o->line && o->file >= 0 && (unsigned)o->file < c->n_files ? c->files[o->file] : NULL;
	*line = *file ? o->line : 0;
	return true;
}
