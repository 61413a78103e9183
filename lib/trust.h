/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trust: open a file or directory only when no account but root (or the caller
 * itself) could have put it there.
 *
 * The hook and the wrapper run as root and take their configuration, trusted keys,
 * the real runtime's path and their rollback state from files. If any account
 * other than root could write one of those files, or any directory on the way to
 * it, that account could switch enforcement off, trust its own key, or have root
 * execute its program. So every such path is walked from "/" one component at a
 * time (openat with O_NOFOLLOW, links followed by hand, at most 40; a relative
 * path is walked from the working directory, itself checked), and each
 * directory, link and the final object must be:
 *   - owned by root, or by the effective uid of the caller (a producer running the
 *     CLI in its home directory trusts itself; root trusts only root), and
 *   - not writable by group or others. A directory writable by others is accepted
 *     on the way only when it is sticky and root-owned (/tmp): there nobody can
 *     rename or remove an entry they do not own, and the entry itself is checked.
 * A refusal names the path, the offending component, its owner and its mode, e.g.
 * "/run/sigward/sigward.conf.d: owned by uid 998 (sigward), not root: refused".
 *
 * The result is an O_CLOEXEC descriptor opened from the checked parent, so what was
 * checked is what is read (no check-then-open race through a path).
 *
 * Failure: negative return, err set. A missing component is -ENOENT (err set too,
 * so callers that accept absence clear it).
 */
#ifndef SW_TRUST_H
#define SW_TRUST_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

typedef enum {
	SW_TRUST_FILE,        /* a regular file, opened O_RDONLY */
	SW_TRUST_DIR,         /* a directory, opened O_RDONLY|O_DIRECTORY */
	SW_TRUST_EXEC,        /* a regular file that will be executed: O_PATH */
} sw_trust_kind;

/* Walk path as above and open its final object. Returns the fd (>= 0). */
int sw_trust_open(const char *path, sw_trust_kind kind, sw_error *err);

/* The checks for one object below an already trusted directory fd: openat(dirfd,
 * name) without following a link, then owner and mode. `path` names it in errors. */
int sw_trust_openat(int dirfd, const char *name, const char *path, sw_trust_kind kind, sw_error *err);

/* For short-lived processes (the hook, the wrapper): remember the directories
 * walked to, so that later walks through them start there (lib/trust.c says why
 * that is no weaker). Not for long-running ones: what a directory's path leads
 * to may change over hours. sw_trust_memo_clear forgets and turns it off. */
void sw_trust_memo_enable(void);
void sw_trust_memo_clear(void);

/* Check an open object (fstat): owner root or euid, no group/other write bit.
 * `path` names it in errors. */
int sw_trust_check_fd(int fd, const char *path, sw_error *err);

#endif
