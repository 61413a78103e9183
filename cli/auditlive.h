/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 9 of `sigward audit` (auditlive.c): was enforcement live for the whole
 * period? Read from the heartbeat records `sigward selftest` writes into the
 * decision log (lib/heartbeat.h): the gaps between heartbeats longer than their
 * interval x tolerance, heartbeats in warn mode or without a canary, canaries
 * not refused, refusals without their deny record. Each is a finding with its
 * times; the same figures become report.json's "liveness" object
 * (docs/audit.md), which the fleet audit reads.
 *
 * Ownership: audit_live owns its arrays (audit_live_free); the section and
 * findings go into the report as any step's.
 */
#ifndef SW_AUDITLIVE_H
#define SW_AUDITLIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditreport.h"
#include "heartbeat.h"

typedef struct audit_live_in {
	int64_t since, until;
	bool since_given;              /* --since: a late first heartbeat is a gap too */
	int64_t default_max_gap;       /* [selftest] interval * tolerance */
	const char *const *lines;      /* every record of the log and its rotations, oldest first */
	size_t n;
} audit_live_in;

typedef struct audit_live_fail {
	int64_t time;                  /* its heartbeat's */
	char runtime[32], path[32], container[96], result[16];
	char detail[600];
} audit_live_fail;

typedef struct audit_live {
	int64_t since, until;
	bool since_given;
	int64_t max_gap;
	size_t heartbeats;
	int64_t first, last;           /* 0 when there is no heartbeat */
	char last_mode[16];
	char last_list[96];            /* "scope#serial", "" none */
	size_t canaries, refused;
	sw_gap *gaps;
	size_t n_gaps;
	audit_live_fail *failed;
	size_t n_failed;
	bool live;
	char *evidence;                /* the heartbeat records of the period, JSON lines */
	size_t evidence_len;
	char **canary_ids;             /* every canary container a heartbeat names, sorted */
	size_t n_canary_ids;
} audit_live;

/* Fills section 9 of rep and *out. */
void audit_liveness(report *rep, const audit_live_in *in, audit_live *out);
/* Whether a heartbeat names container id as one of its canaries: its denial
 * is the self-test's, not a start anyone asked for (step 8 counts it apart).
 * A container merely named like a canary is not one. */
bool audit_live_is_canary(const audit_live *l, const char *id);
/* report.json's "liveness" object (g is a yajl_gen): for report.json_extra. */
void audit_live_json(void *g, const void *live);
void audit_live_free(audit_live *l);

#endif
