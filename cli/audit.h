/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `sigward audit` (audit.c) and its negative test (auditneg.c) share.
 *
 * The negative test starts one throwaway image (lib/ociimage.h), whose digest no
 * list can hold, through each wired runtime, the way that runtime's users start
 * containers: runc with the hook in the bundle, podman through its hooks.d
 * directory, containerd with ctr and the configured sigward-runc as runc binary,
 * Docker with the sigward-runc runtime. A runner only runs commands and records
 * what happened (every command and its output in a transcript); judging it
 * (refused? recorded? anything left?) and reporting is audit.c's.
 */
#ifndef SW_AUDIT_H
#define SW_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "ociimage.h"

typedef struct audit_neg_env {
	const char *tmp;               /* private directory; the image was written into it */
	const char *nonce;             /* 12 hex digits, in every name made */
	sw_ociimage img;
	char tag[32];                  /* the layout's tag of the image */
	char repo_tag[128];            /* its name:tag for containerd and Docker */
	const sw_config *cfg;
	const char *config;            /* --config given to the audit, or NULL */
	/* runc */
	const char *runc, *hook;
	/* podman: NULL options are podman's own defaults */
	const char *podman, *podman_root, *podman_runroot, *podman_runtime;
	const char *const *podman_hooks_dirs;
	size_t n_podman_hooks_dirs;
	/* containerd */
	const char *ctr, *ctr_address, *ctr_namespace, *ctr_runc_binary;
	/* Docker: docker_runtime NULL when sigward-runc is the default-runtime */
	const char *docker, *docker_host, *docker_runtime;
} audit_neg_env;

typedef struct audit_neg {
	const char *runtime;           /* "runc", "podman", "containerd", "docker" */
	char how[512];                 /* how the start was made, in a few words */
	char container[160];           /* the id the runtime gave the container (the log's) */
	int status;                    /* the start's exit status; -1 when not started */
	char *output;                  /* what the start printed */
	char *transcript;              /* every command run, with its output and status */
	char left[1024];               /* what is left behind, "" nothing */
	char error[512];               /* why the test could not run, "" when it ran */
} audit_neg;

void audit_neg_runc(const audit_neg_env *env, audit_neg *n);
void audit_neg_podman(const audit_neg_env *env, audit_neg *n);
void audit_neg_containerd(const audit_neg_env *env, audit_neg *n);
void audit_neg_docker(const audit_neg_env *env, audit_neg *n);
void audit_neg_free(audit_neg *n);

#endif
