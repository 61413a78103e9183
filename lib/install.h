/* SPDX-License-Identifier: Apache-2.0 */
/*
 * install: verify a signed allowlist and install it as a new generation.
 *
 * Shared by `sigward allowlist install` and sigwardd, so both refuse exactly what
 * the hook would refuse and switch generations the same way:
 *
 *   1. take an exclusive flock on <lists_dir>/.lock (installs serialise);
 *   2. copy manifest, entries and manifest.sig into <lists_dir>/.staging-XXXXXX and
 *      fsync them; everything below checks the COPY, so the source cannot change
 *      between the check and the install;
 *   3. verify like the hook (sw_list_verify: signatures, threshold, scope, expiry,
 *      the hook's rollback record; no cache, no state update), then the whole
 *      entries file (sw_list_check_entries), then refuse a serial lower than the
 *      installed generation's for the same scope;
 *   4. rename the staging directory to <lists_dir>/gen-<serial>-<8 hex of the
 *      manifest's SHA-256>, point a temporary symlink at it and rename that over
 *      `current` (atomic for readers), fsync the directory;
 *   5. prune: keep the newest SW_INSTALL_KEEP generations and always `current`.
 *
 * A failure in steps 1-4 removes the staging copy and leaves `current` and every
 * generation as they were. Pruning is best effort: a generation that cannot be
 * removed stays, and the install still succeeds.
 *
 * Nothing here prints or exits; errors are one line in `err` naming the file.
 */
#ifndef SW_INSTALL_H
#define SW_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowlist.h"
#include "config.h"
#include "error.h"

#define SW_INSTALL_KEEP 3
#define SW_INSTALL_LOCK ".lock"
#define SW_GEN_NAME_MAX 64

/* Install src_dir into c->lists_dir (created when missing, its parent must exist).
 * dry_run: everything up to and including the checks of step 3, then the staging
 * copy is removed and nothing is switched. gen_name_out (may be NULL) receives the
 * generation's directory name (the one that would be used, with dry_run).
 * Returns 0, or <0 with err set: SW_EVERIFY/SW_EPOLICY/SW_EINVAL for a list that
 * is refused, an errno code for I/O failures. */
int sw_list_install(const sw_config *c, const char *src_dir, bool dry_run,
		    char *gen_name_out, size_t gen_name_len, sw_error *err);

/* The checks of step 3 on an opened list, for `sigward allowlist verify`:
 * sw_list_verify as the hook does it (read-only, no cache) and the full entries
 * check. keys_dir NULL: c->keys_dir. Does not compare with the installed list. */
int sw_list_verify_full(const sw_config *c, const char *keys_dir, sw_list *l, sw_error *err);

/* Read and check the whole entries file of an opened list against its manifest:
 * the exact total size, every bin's SHA-256 and count, every line's syntax
 * ("sha256:<64 lowercase hex>[ <reference>]"), strictly ascending digests (sorted,
 * no duplicates) across the whole file, and each entry in the bin its digest
 * selects. The hook checks only the one bin it needs per start; an install checks
 * them all, so a list with a bad bin is refused up front instead of denying
 * some containers later. */
int sw_list_check_entries(const sw_list *l, sw_error *err);

/* Serial and scope of the installed generation. Returns 1 and fills them when
 * `current` exists and its manifest parses, 0 when nothing is installed, <0 when
 * `current` exists but cannot be read. */
int sw_installed_serial(const char *lists_dir, char scope[SW_SCOPE_MAX + 1], uint64_t *serial,
			sw_error *err);

#endif
