/* SPDX-License-Identifier: Apache-2.0 */
/*
 * heartbeat: the self-test's record in the decision log, and the gaps between
 * heartbeats (`sigward selftest` writes them, `sigward audit` step 9 reads them).
 *
 * A heartbeat is one line of the same hash-chained log as the decisions
 * (lib/declog.h, appended under the same head lock), told apart by
 * "kind":"heartbeat"; a record without "kind" is a decision, as every record
 * written before heartbeats existed. `log verify` checks only "prev", so old and
 * new readers verify a log holding both. The record carries the node's mode, its
 * list's scope and serial, how each runtime is wired, and the canaries: one start
 * per wired path of a bundle whose image digest is random (listed nowhere),
 * which sigward must have refused.
 *
 *   {"time":"...","kind":"heartbeat","host":"...","version":"...","mode":"enforce",
 *    "allowlist":{"scope":"prod","serial":42}|null,"interval":900,"tolerance":2,
 *    "wiring":[{"name":"hooks.d","wired":true,"how":"..."},...],
 *    "canaries":[{"runtime":"runc","path":"hooks.d","enforcer":"/usr/libexec/...",
 *                 "container":"...","digest":"sha256:...","result":"refused",
 *                 "detail":"..."},...],"prev":"..."}
 *
 * Tool code (libsigward-tools): the hook and the wrapper never write one.
 * Strings are copied into the fixed buffers (truncated); nothing is allocated
 * but the rendered line, which is the caller's.
 */
#ifndef SW_HEARTBEAT_H
#define SW_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowlist.h"
#include "error.h"
#include "util.h"

#define SW_HEARTBEAT_KIND "heartbeat"
#define SW_HB_MAX_WIRING 8
#define SW_HB_MAX_CANARIES 8

typedef enum {
	SW_CANARY_REFUSED = 0,       /* sigward's denial for this container, start failed */
	SW_CANARY_NOT_REFUSED = 1,   /* the start got past sigward (the container was deleted at once) */
	SW_CANARY_ERROR = 2,         /* could not be run, or failed without sigward's denial */
} sw_canary_result;

typedef struct sw_canary {
	char runtime[32];            /* the OCI runtime that ran it: "runc", "crun" */
	char path[32];               /* the wired path: "hooks.d", "containerd", "docker" */
	char enforcer[512];          /* the hook or wrapper that path runs */
	char container[96];
	char digest[SW_DIGEST_STR];  /* the random, unlisted image digest */
	sw_canary_result result;
	char detail[512];            /* sigward's denial line, or what happened instead */
} sw_canary;

typedef struct sw_hb_wiring {
	char name[32];               /* "hooks.d", "containerd", "docker" */
	bool wired;
	char how[512];
} sw_hb_wiring;

typedef struct sw_heartbeat {
	int64_t time;
	char host[256];
	char version[32];
	char mode[16];               /* "enforce", "warn" */
	bool have_list;              /* a list was installed and read */
	char scope[SW_SCOPE_MAX + 1];
	uint64_t serial;
	int64_t interval;            /* [selftest] interval, seconds */
	unsigned tolerance;          /* [selftest] tolerance: a gap over interval * tolerance is a finding */
	sw_hb_wiring wiring[SW_HB_MAX_WIRING];
	size_t n_wiring;
	sw_canary canaries[SW_HB_MAX_CANARIES];
	size_t n_canaries;
} sw_heartbeat;

const char *sw_canary_result_name(sw_canary_result r);   /* "refused", "not-refused", "error" */

/* sw_declog_render_fn for a heartbeat (rec is a const sw_heartbeat *). */
int sw_heartbeat_render(const void *rec, const char *prev_hex, char **out, size_t *len, sw_error *err);

/* Append hb to the decision log (lib/declog.h's lock, chain and head). */
int sw_heartbeat_append(const char *log_file, const char *state_dir, const sw_heartbeat *hb, sw_error *err);

/* One log line: 1 and *hb filled when it is a heartbeat, 0 when it is a record
 * of another kind (a decision), <0 when it is not a JSON object or a heartbeat
 * whose time, interval or canaries cannot be read (err names `what`). */
int sw_heartbeat_parse(const char *line, size_t len, const char *what, sw_heartbeat *hb, sw_error *err);

/* ------------------------------------------------------------ gaps */

typedef struct sw_beat {
	int64_t time;
	int64_t max_gap;             /* that heartbeat's interval * tolerance */
} sw_beat;

typedef struct sw_gap {
	int64_t from, to;
} sw_gap;

/* The gaps of a period [since, until] with heartbeats beats[0..n) (in time order,
 * all within the period): a stretch longer than the max_gap of the heartbeat it
 * follows (from_since: also from since to the first, measured against
 * default_max_gap; and from the last to until). With no heartbeat the whole
 * period is one gap (when it is longer than default_max_gap). Writes at most max
 * gaps to out and returns how many there are. Pure: no clock, no files. */
size_t sw_heartbeat_gaps(const sw_beat *beats, size_t n, int64_t since, bool from_since, int64_t until,
			 int64_t default_max_gap, sw_gap *out, size_t max);

#endif
