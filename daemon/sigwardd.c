/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigwardd: keeps the signed allowlist fresh.
 *
 * Every interval (plus random jitter) it fetches the list from [refresh] source into
 * a private staging directory, and installs it with the same verification and
 * atomic generation switch as `sigward allowlist install` (lib/install.c). An
 * unchanged source costs one conditional request and installs nothing; a failure
 * keeps the installed generation and retries with exponential backoff.
 *
 * It runs unprivileged. It cannot make a node allow anything: the hook verifies the
 * list again on every start. It writes a status file for `sigward status`, warns
 * when the installed list has less than a quarter of its lifetime left, and can
 * write Prometheus textfile metrics.
 *
 * Signals: SIGHUP reloads the configuration, SIGTERM and SIGINT exit cleanly.
 * systemd: Type=notify (READY=1 after the first attempt, STATUS= after each).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "allowlist.h"
#include "config.h"
#include "fetch.h"
#include "install.h"
#include "json.h"
#include "sandbox.h"
#include "util.h"

#define BACKOFF_BASE 5

typedef struct daemon_state {
	sw_fetch_state fetch;
	int64_t last_attempt, last_success, next_attempt;
	unsigned failures;
	char last_error[SW_ERROR_MAX];
	char last_result[64];        /* "installed", "unchanged", "failed" */
	uint64_t installs, unchanged, errors;
} daemon_state;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sigwardd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	close(fd);
}

static void time_field(FILE *f, const char *name, int64_t t, bool comma)
{
	sw_json_key(f, name);
	if (t)
		sw_json_time(f, t);
	else
		sw_json_null(f);
	if (comma)
		fputc(',', f);
}

/* Write path atomically (temp file + rename in the same directory). */
static void write_atomic(const char *path, const char *data, size_t len)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	(void)mkdir(dir, 0755);
	_cleanup_close_ int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sw_error e = { 0 };
	if (dfd < 0 || sw_write_file_atomic_at(dfd, dir, slash + 1, data, len, 0644, &e) < 0)
		logmsg("cannot write %s: %s", path, dfd < 0 ? strerror(errno) : e.msg);
}

/* When the self-test last wrote a heartbeat, from its textfile ([selftest]
 * metrics_file, written by root, readable by all); 0 when unknown. The daemon
 * cannot read the decision log, but it runs all the time: its metrics carry the
 * heartbeat's age even when the self-test has stopped rewriting its file. */
static int64_t heartbeat_time(const sw_config *c)
{
	static const char key[] = "sigward_heartbeat_timestamp_seconds ";
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (!c->selftest_metrics_file || sw_read_file(c->selftest_metrics_file, 64u << 10, &text, &len, NULL) < 0 || !text)
		return 0;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		uint64_t t;
		if (strncmp(l, key, sizeof key - 1) == 0 && sw_parse_u64(l + sizeof key - 1, strlen(l + sizeof key - 1), &t) == 0 &&
		    t <= INT64_MAX)
			return (int64_t)t;
	}
	return 0;
}

static void write_status(const sw_config *c, const daemon_state *d)
{
	char scope[SW_SCOPE_MAX + 1] = "";
	uint64_t serial = 0;
	int64_t expires = 0, issued = 0;
	sw_list l = { .dirfd = -1 };
	sw_error e = { 0 };
	bool have = sw_list_open_current(c->lists_dir, &l, &e) >= 0;
	if (have) {
		snprintf(scope, sizeof scope, "%s", l.scope);
		serial = l.serial;
		expires = l.expires;
		issued = l.issued;
	}
	sw_list_close(&l);

	int64_t now = sw_now();
	if (have && expires - now < (expires - issued) / 4)
		logmsg("warning: the installed allowlist %s#%llu has less than a quarter of its lifetime left "
		       "(expires in %llds); is the source publishing new lists?",
		       scope, (unsigned long long)serial, (long long)(expires - now));

	if (c->refresh_status_file && c->refresh_status_file[0]) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f)
			return;
		fputs("{\"source\":", f);
		sw_json_str(f, c->refresh_source);
		fputc(',', f);
		time_field(f, "last_attempt", d->last_attempt, true);
		time_field(f, "last_success", d->last_success, true);
		fputs("\"last_result\":", f);
		sw_json_str(f, d->last_result);
		fputs(",\"last_error\":", f);
		if (d->last_error[0])
			sw_json_str(f, d->last_error);
		else
			fputs("null", f);
		fputc(',', f);
		time_field(f, "next_attempt", d->next_attempt, true);
		fprintf(f, "\"consecutive_failures\":%u,\"installed\":", d->failures);
		if (have) {
			fputs("{\"scope\":", f);
			sw_json_str(f, scope);
			fprintf(f, ",\"serial\":%llu,", (unsigned long long)serial);
			time_field(f, "expires", expires, false);
			fputc('}', f);
		} else {
			fputs("null", f);
		}
		fputs("}\n", f);
		fclose(f);
		write_atomic(c->refresh_status_file, buf, len);
		free(buf);
	}
	if (c->refresh_metrics_file && c->refresh_metrics_file[0]) {
		char m[2048];
		int n = snprintf(m, sizeof m,
				 "# HELP sigward_refresh_last_success_timestamp_seconds Last successful refresh.\n"
				 "# TYPE sigward_refresh_last_success_timestamp_seconds gauge\n"
				 "sigward_refresh_last_success_timestamp_seconds %lld\n"
				 "# HELP sigward_refresh_consecutive_failures Failed refreshes since the last success.\n"
				 "# TYPE sigward_refresh_consecutive_failures gauge\n"
				 "sigward_refresh_consecutive_failures %u\n"
				 "# TYPE sigward_refresh_installs_total counter\nsigward_refresh_installs_total %llu\n"
				 "# TYPE sigward_refresh_unchanged_total counter\nsigward_refresh_unchanged_total %llu\n"
				 "# TYPE sigward_refresh_errors_total counter\nsigward_refresh_errors_total %llu\n"
				 "# HELP sigward_allowlist_serial Serial of the installed allowlist.\n"
				 "# TYPE sigward_allowlist_serial gauge\nsigward_allowlist_serial %llu\n"
				 "# HELP sigward_allowlist_expires_timestamp_seconds Expiry of the installed allowlist.\n"
				 "# TYPE sigward_allowlist_expires_timestamp_seconds gauge\n"
				 "sigward_allowlist_expires_timestamp_seconds %lld\n",
				 (long long)d->last_success, d->failures, (unsigned long long)d->installs,
				 (unsigned long long)d->unchanged, (unsigned long long)d->errors, (unsigned long long)serial,
				 (long long)expires);
		int64_t hb = heartbeat_time(c);
		if (n > 0 && (size_t)n < sizeof m && hb > 0)
			n += snprintf(m + n, sizeof m - (size_t)n,
				      "# HELP sigward_heartbeat_age_seconds Seconds since the self-test's last heartbeat "
				      "(sigward selftest), as of this refresh attempt.\n"
				      "# TYPE sigward_heartbeat_age_seconds gauge\nsigward_heartbeat_age_seconds %lld\n",
				      (long long)(now - hb));
		if (n > 0 && (size_t)n < sizeof m)
			write_atomic(c->refresh_metrics_file, m, (size_t)n);
	}
}

/* The validators of the installed list survive restarts (and --once runs from cron),
 * so that polling an unchanged source costs one conditional request. They are
 * only trusted while `current` still points at the generation they describe. */
#define FETCH_STATE_NAME "fetch-state"

static void current_target(const sw_config *c, char *out, size_t n)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/current", c->lists_dir);
	ssize_t l = readlink(path, out, n - 1);
	out[l > 0 ? l : 0] = '\0';
}

static void load_fetch_state(const sw_config *c, sw_fetch_state *st)
{
	memset(st, 0, sizeof *st);
	_cleanup_close_ int dfd = open(c->refresh_staging_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (dfd < 0 || sw_read_file_at(dfd, FETCH_STATE_NAME, 8192, NULL, &text, &len, NULL) < 0)
		return;
	char cur[512], want[1024] = "", src[2048] = "";
	current_target(c, cur, sizeof cur);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp++ = '\0';
		if (strcmp(line, "generation") == 0)
			snprintf(want, sizeof want, "%s", sp);
		else if (strcmp(line, "source") == 0)
			snprintf(src, sizeof src, "%s", sp);
		else if (strcmp(line, "etag") == 0)
			snprintf(st->etag, sizeof st->etag, "%s", sp);
		else if (strcmp(line, "last-modified") == 0)
			snprintf(st->last_modified, sizeof st->last_modified, "%s", sp);
		else if (strcmp(line, "digest") == 0)
			snprintf(st->digest, sizeof st->digest, "%s", sp);
	}
	if (!cur[0] || strcmp(cur, want) != 0 || strcmp(src, c->refresh_source) != 0)
		memset(st, 0, sizeof *st);
}

static void save_fetch_state(const sw_config *c, const sw_fetch_state *st)
{
	char cur[512], buf[4096];
	current_target(c, cur, sizeof cur);
	int n = snprintf(buf, sizeof buf, "source %s\ngeneration %s\netag %s\nlast-modified %s\ndigest %s\n",
			 c->refresh_source, cur, st->etag, st->last_modified, st->digest);
	if (n <= 0 || (size_t)n >= sizeof buf)
		return;
	_cleanup_close_ int dfd = open(c->refresh_staging_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sw_error e = { 0 };
	if (dfd < 0 || sw_write_file_atomic_at(dfd, c->refresh_staging_dir, FETCH_STATE_NAME, buf, (size_t)n, 0600, &e) < 0)
		logmsg("cannot save the fetch state: %s", dfd < 0 ? strerror(errno) : e.msg);
}

static void rmrf_staging(const char *dir)
{
	static const char *const names[] = { SW_MANIFEST_NAME, SW_ENTRIES_NAME, SW_SIGS_NAME, SW_EVIDENCE_NAME };
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd >= 0)
		for (size_t i = 0; i < SW_ARRAY_SIZE(names); i++)
			(void)unlinkat(dfd, names[i], 0);
	(void)rmdir(dir);
}

/* A sigwardd killed during a refresh leaves its fetch-XXXXXX directory behind (up
 * to three files of max_size each, again after every crash). Remove them at
 * start-up. The lock on the staging directory, held for the process's lifetime,
 * keeps a second sigwardd on the same directory (a cron --once beside the service)
 * from removing the directory of a refresh that is still running. */
static void clean_staging(const char *base)
{
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return;
	}
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "fetch-", 6) != 0 || strcmp(de->d_name, FETCH_STATE_NAME) == 0)
			continue;
		char path[4200];
		snprintf(path, sizeof path, "%s/%s", base, de->d_name);
		rmrf_staging(path);
	}
	closedir(d);
	/* fd stays open: it holds the lock until exit. */
}

/* Errors about the downloaded copy name its private fetch directory, which is
 * gone by the time anyone reads last_error: name the source instead
 * ("<source>/entries: 100 bytes, the manifest says 144"). */
static void name_source(sw_error *e, const char *tmp, const char *source)
{
	size_t tl = strlen(tmp);
	char *at = strstr(e->msg, tmp);
	if (!at || !source)
		return;
	size_t sl = strlen(source);
	while (sl > 0 && source[sl - 1] == '/')
		sl--;
	char out[SW_ERROR_MAX];
	snprintf(out, sizeof out, "%.*s%.*s%s", (int)(at - e->msg), e->msg, (int)sl, source, at + tl);
	memcpy(e->msg, out, sizeof out);
}

/* One refresh: fetch into a private directory, install if it changed. */
static int refresh_once(const sw_config *c, daemon_state *d)
{
	sw_error e = { 0 };
	d->last_attempt = sw_now();
	const char *base = c->refresh_staging_dir;
	(void)mkdir(base, 0700);
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s/fetch-XXXXXX", base);
	if (!mkdtemp(tmp)) {
		sw_err_errno(&e, errno, "%s: cannot create a staging directory", base);
		goto fail;
	}
	sw_fetch_state next;
	bool changed = false;
	int r = sw_fetch(c, tmp, &d->fetch, &next, &changed, &e);
	if (r >= 0 && changed) {
		/* The list's evidence (oci:// only), for audits on this node. Optional:
		 * absent or dropped, the list is installed all the same, as before. */
		sw_error we = { 0 };
		int ev = sw_fetch_evidence(c, tmp, next.digest, &we);
		if (ev < 0) {
			name_source(&we, tmp, c->refresh_source);
			logmsg("evidence dropped (the list is installed without it): %s", we.msg);
		}
		char gen[SW_GEN_NAME_MAX];
		r = sw_list_install(c, tmp, false, gen, sizeof gen, &e);
		if (r >= 0) {
			logmsg("installed %s from %s%s", gen, c->refresh_source, ev > 0 ? " with its evidence" : "");
			d->installs++;
			snprintf(d->last_result, sizeof d->last_result, "installed");
		}
	} else if (r >= 0) {
		d->unchanged++;
		snprintf(d->last_result, sizeof d->last_result, "unchanged");
	}
	rmrf_staging(tmp);
	if (r < 0) {
		name_source(&e, tmp, c->refresh_source);
		goto fail;
	}
	/* Keep the validators only once the list they describe is installed, so a
	 * list that failed to install is fetched again next time. */
	d->fetch = next;
	save_fetch_state(c, &d->fetch);
	d->last_success = sw_now();
	d->failures = 0;
	d->last_error[0] = '\0';
	return 0;
fail:
	d->failures++;
	d->errors++;
	snprintf(d->last_error, sizeof d->last_error, "%s", e.msg);
	snprintf(d->last_result, sizeof d->last_result, "failed");
	/* Say what the node is left with: the previous list, or none at all. */
	char cur[4200];
	struct stat cst;
	snprintf(cur, sizeof cur, "%s/current", c->lists_dir);
	if (fstatat(AT_FDCWD, cur, &cst, AT_SYMLINK_NOFOLLOW) == 0)
		logmsg("refresh failed (the installed list is kept): %s", e.msg);
	else
		logmsg("refresh failed (no list is installed yet: every start is denied in enforce mode): %s", e.msg);
	return -1;
}

static int64_t next_delay(const sw_config *c, const daemon_state *d)
{
	int64_t interval = c->refresh_interval > 0 ? c->refresh_interval : 300;
	if (d->failures) {
		int64_t b = BACKOFF_BASE;
		for (unsigned i = 1; i < d->failures && b < interval; i++)
			b *= 2;
		return b < interval ? b : interval;
	}
	uint32_t rnd = 0;
	if (c->refresh_jitter > 0 && getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) == sizeof rnd)
		return interval + (int64_t)(rnd % (uint64_t)c->refresh_jitter);
	return interval;
}

static void usage(FILE *f)
{
	fputs("usage: sigwardd [--config FILE] [--once]\n"
	      "Keeps the signed allowlist fresh from [refresh] source (file://, https://, oci://).\n"
	      "  --once    refresh once and exit: 0 installed or unchanged, 1 failed\n", f);
}

int main(int argc, char **argv)
{
	const char *config_file = NULL;
	bool once = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_file = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config_file = argv[i] + 9;
		else if (strcmp(argv[i], "--once") == 0)
			once = true;
		else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("sigwardd " SIGWARD_VERSION);
			return 0;
		} else {
			fprintf(stderr, "sigwardd: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	_cleanup_(sw_config_free) sw_config cfg = { 0 };
	sw_error e = { 0 };
	if (sw_config_load(&cfg, config_file, &e) < 0) {
		logmsg("%s", e.msg);
		return 2;
	}
	if (!cfg.refresh_source) {
		logmsg("[refresh] source is not set in the configuration: nothing to do");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	/* From here on the daemon only fetches, verifies and writes its own
	 * directories: no capabilities, no_new_privs, the fetch syscall set. */
	if (sw_sandbox_enter(SW_SANDBOX_FETCH, &e) < 0) {
		logmsg("%s", e.msg);
		return 2;
	}

	daemon_state d = { 0 };
	(void)mkdir(cfg.refresh_staging_dir, 0700);
	clean_staging(cfg.refresh_staging_dir);
	load_fetch_state(&cfg, &d.fetch);
	int rc = 0;
	bool ready = false;
	for (;;) {
		int r = refresh_once(&cfg, &d);
		if (once) {
			d.next_attempt = 0;
			write_status(&cfg, &d);
			rc = r < 0 ? 1 : 0;
			break;
		}
		int64_t delay = next_delay(&cfg, &d);
		d.next_attempt = sw_now() + delay;
		write_status(&cfg, &d);
		char st[SW_ERROR_MAX + 128];   /* READY=1, STATUS=, last_result (64), ": ", last_error */
		snprintf(st, sizeof st, "%sSTATUS=%s%s%s", ready ? "" : "READY=1\n", d.last_result,
			 d.last_error[0] ? ": " : "", d.last_error);
		notify(st);
		ready = true;

		/* Sleep until the next attempt or a signal. */
		bool stop = false;
		while (!stop) {
			int64_t left = d.next_attempt - sw_now();
			if (left <= 0)
				break;
			struct pollfd pfd = { .fd = sfd, .events = POLLIN };
			int pr = poll(&pfd, 1, (int)(left > 3600 ? 3600000 : left * 1000));
			if (pr <= 0 || !(pfd.revents & POLLIN))
				continue;
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) != sizeof si)
				continue;
			if (si.ssi_signo == SIGHUP) {
				/* systemd's reload protocol: RELOADING=1 with the time,
				 * READY=1 when done (either way). */
				struct timespec mono;
				clock_gettime(CLOCK_MONOTONIC, &mono);
				char rl[64];
				snprintf(rl, sizeof rl, "RELOADING=1\nMONOTONIC_USEC=%llu",
					 (unsigned long long)mono.tv_sec * 1000000ULL + (unsigned long long)mono.tv_nsec / 1000);
				notify(rl);
				sw_config nc = { 0 };
				/* A failed load zeroes nc: tell its error from a missing source. */
				int lr = sw_config_load(&nc, config_file, &e);
				if (lr < 0 || !nc.refresh_source) {
					logmsg("reload failed, keeping the running configuration: %s",
					       lr < 0 ? e.msg : "[refresh] source is not set");
					sw_config_free(&nc);
					notify("READY=1");
				} else {
					sw_config_free(&cfg);
					cfg = nc;
					load_fetch_state(&cfg, &d.fetch);
					logmsg("configuration reloaded; refreshing now");
					notify("READY=1");
					break;
				}
			} else {
				logmsg("exiting on signal %u", si.ssi_signo);
				notify("STOPPING=1");
				stop = true;
			}
		}
		if (stop)
			break;
	}
	curl_global_cleanup();
	return rc;
}
