/* SPDX-License-Identifier: Apache-2.0 */
#include "enforce.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>

#include "declog.h"
#include "oci.h"

static void copy_msg(char *dst, size_t n, const sw_error *e)
{
	snprintf(dst, n, "%s", e->msg[0] ? e->msg : "unknown error");
}

/* An empty result: the large arrays at its end are read only up to their
 * counts, so they are left as they are (sw_enforce_result). */
static void result_reset(sw_enforce_result *out)
{
	memset(out, 0, offsetof(sw_enforce_result, signers));
	sw_resolution_reset(&out->res);
}

/* Step 2: config.json and the sources. */
static int resolve_step(const sw_enforce_req *req, bool exhaustive, sw_resolution *res, sw_error *err)
{
	_cleanup_close_ int bfd = open(req->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return sw_err_errno(err, errno, "bundle %s: cannot open", req->bundle);
	sw_bundle b = { 0 };
	int r = sw_bundle_load(bfd, req->bundle, &b, err);
	if (r >= 0)
		r = exhaustive ? sw_resolve_exhaustive(req->config, req->container_id, req->bundle, &b, res, err)
			       : sw_resolve(req->config, req->container_id, req->bundle, &b, res, err);
	sw_bundle_free(&b);
	return r;
}

/* Step 3: open `current` and verify it as the node's policy requires. */
static int open_verified(const sw_enforce_req *req, sw_enforce_result *out, sw_list *l, sw_error *e)
{
	const sw_config *c = req->config;
	/* The rollback record first, `current` second: see sw_verify_opts.accepted. */
	uint64_t accepted = 0;
	const uint64_t *acc = NULL;
	if (c->state_dir && c->scope) {
		int r = sw_serial_get(c->state_dir, c->scope, &accepted, e);
		if (r < 0)
			return r;
		acc = &accepted;
	}
	/* The list index is a cache too: only with verify_cache. */
	int r = sw_list_open_current_indexed(c->lists_dir, c->verify_cache ? c->state_dir : NULL, l, e);
	if (r < 0)
		return r;
	sw_verify_opts o = {
		.scope = c->scope,
		.threshold = c->threshold,
		.now = sw_now(),
		.grace = c->grace,
		.keys_dir = c->keys_dir,
		.state_dir = c->state_dir,
		.use_cache = c->verify_cache,
		.update_state = !req->dry_run,
		.accepted = acc,
	};
	snprintf(out->scope, sizeof out->scope, "%s", l->scope);
	out->serial = l->serial;
	out->expires = l->expires;
	snprintf(out->list_path, sizeof out->list_path, "%s", l->path ? l->path : "");
	r = sw_list_verify(l, &o, e);
	out->from_cache = l->from_cache;
	if (r >= 0) {
		out->n_signers = l->n_signers;
		memcpy(out->signers, l->signers, out->n_signers * sizeof out->signers[0]);
	}
	return r;
}

/* Steps 3 and 4: the list, then the lookup of every resolved digest. */
static void list_step(const sw_enforce_req *req, sw_enforce_result *out, sw_decision_input *in)
{
	sw_error e = { 0 };
	sw_list l = { .dirfd = -1 };
	int r = open_verified(req, out, &l, &e);
	if (r == -SW_ENOCRYPTO && req->handoff) {
		sw_list_close(&l);
		sw_error he = { 0 };
		r = req->handoff(req->handoff_arg, &he); /* returns only when it failed */
		r = sw_err(&e, he.code ? he.code : SW_EVERIFY, "list %s: its signatures must be checked, and "
			   "handing that to sigward-hook-verify failed: %s", out->list_path[0] ? out->list_path : "?",
			   he.msg[0] ? he.msg : "unknown error");
	}
	out->list_rc = r;
	if (r < 0) {
		copy_msg(out->list_msg, sizeof out->list_msg, &e);
		in->list_rc = r;
		in->list_msg = out->list_msg;
		sw_list_close(&l);
		return;
	}
	in->scope = out->scope;
	in->serial = out->serial;
	for (size_t i = 0; i < out->res.n; i++) {
		/* Each digest by its kind: an image id matches only an image-id
		 * entry, a manifest or index digest only a manifest entry. */
		r = sw_list_lookup(&l, out->res.d[i].digest, out->res.d[i].kind, out->matched_ref,
				   sizeof out->matched_ref, &e);
		if (r < 0) {
			copy_msg(out->list_msg, sizeof out->list_msg, &e);
			in->lookup_rc = r;
			in->lookup_msg = out->list_msg;
			break;
		}
		if (r == 1) {
			snprintf(out->matched, sizeof out->matched, "%s", out->res.d[i].digest);
			in->matched = out->matched;
			break;
		}
	}
	sw_list_close(&l);
}

void sw_enforce_digest(const sw_config *c, const char *digest, sw_enforce_result *out)
{
	result_reset(out);
	sw_enforce_req req = { .config = c, .container_id = "check", .runtime = "check", .dry_run = true };
	sw_decision_input in = { .mode = c->mode, .container_id = req.container_id, .res = &out->res };
	sw_error e = { 0 };
	/* A digest on the command line says nothing of its kind: "any" matches an
	 * entry of either kind (a dry run: nothing starts). */
	out->resolve_rc = sw_resolution_add(&out->res, digest, "command line", "any", &e);
	if (out->resolve_rc < 0) {
		copy_msg(out->resolve_msg, sizeof out->resolve_msg, &e);
		in.resolve_rc = out->resolve_rc;
		in.resolve_msg = out->resolve_msg;
	} else {
		list_step(&req, out, &in);
	}
	sw_decide(&in, &out->decision);
}

/* Steps 2 to 4 and the decision, into a cleared *out. */
static void decide_pass(const sw_enforce_req *req, bool exhaustive, sw_enforce_result *out)
{
	const sw_config *c = req->config;
	result_reset(out);
	sw_decision_input in = {
		.mode = c->mode,
		.container_id = req->container_id,
		.res = &out->res,
	};

	sw_error e = { 0 };
	out->resolve_rc = resolve_step(req, exhaustive, &out->res, &e);
	if (out->resolve_rc < 0) {
		copy_msg(out->resolve_msg, sizeof out->resolve_msg, &e);
		in.resolve_rc = out->resolve_rc;
		in.resolve_msg = out->resolve_msg;
	} else {
		list_step(req, out, &in);
	}
	sw_decide(&in, &out->decision);
}

void sw_enforce(const sw_enforce_req *req, sw_enforce_result *out)
{
	const sw_config *c = req->config;
	decide_pass(req, false, out);
	/* A source answered from a subset of the digests it knows (res.partial,
	 * the containerd image id's own record): an allow on a subset is the
	 * allow the whole set gives, anything else is decided again on the whole
	 * set, so the shortcut never refuses a listed image (issue 17). */
	if (out->decision.verdict != SW_ALLOW && out->res.partial)
		decide_pass(req, true, out);

	if (req->dry_run)
		return;
	sw_error e = { 0 };
	sw_record rec = {
		.time = sw_now(),
		.container_id = req->container_id,
		.bundle = req->bundle,
		.runtime = req->runtime,
		.res = &out->res,
		.matched = out->matched[0] ? out->matched : NULL,
		.scope = out->scope[0] ? out->scope : NULL,
		.serial = out->serial,
		.signers = (const char(*)[SW_SHA256_HEX + 1])out->signers,
		.n_signers = out->n_signers,
		.mode = c->mode,
		.decision = &out->decision,
	};
	if (c->log_file && c->log_file[0]) {
		out->log_rc = sw_declog_append(c->log_file, c->state_dir, &rec, &e);
		if (out->log_rc < 0) {
			copy_msg(out->log_msg, sizeof out->log_msg, &e);
			/* An allow that cannot be recorded is not an allow: the decision
			 * trail must be complete. */
			if (out->decision.verdict == SW_ALLOW && c->mode == SW_MODE_ENFORCE) {
				out->decision.verdict = SW_DENY;
				snprintf(out->decision.reason, sizeof out->decision.reason,
					 "cannot record the decision: %s", out->log_msg);
			}
		}
	}
	if (c->syslog)
		sw_declog_syslog(&rec);
}

void sw_enforce_format(const sw_enforce_req *req, const sw_enforce_result *out, char *buf, size_t len)
{
	/* In warn mode the reason already reads "would deny: ...". */
	const char *verb = out->decision.verdict == SW_WARN ? "warning:" : "denied";
	snprintf(buf, len, "sigward: %s container %s: %s", verb, req->container_id, out->decision.reason);
}
