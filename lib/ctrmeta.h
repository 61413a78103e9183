/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctrmeta: containerd's metadata store, read-only.
 *
 * sw_containerd_*: which image a container of a namespace was created from, and
 * which containers a namespace holds, read from
 * <containerd root>/io.containerd.metadata.v1.bolt/meta.db through the bbolt
 * reader (bbolt.h), which never locks and never writes
 * (docs/containerd-metadata.md describes the records and the checks).
 *
 * Ownership: nothing is allocated for the caller unless said otherwise.
 * Failure: negative return, `err` filled with one line naming the file.
 */
#ifndef SW_CTRMETA_H
#define SW_CTRMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "resolution.h"

#include "bbolt.h"

#define SW_CONTAINERD_META "io.containerd.metadata.v1.bolt/meta.db"
#define SW_CONTAINERD_CONTENT "io.containerd.content.v1.content/blobs/sha256"
#define SW_CONTAINERD_NS_MAX 76       /* containerd's identifier limit */
#define SW_CONTAINERD_JSON_MAX (4u << 20)  /* manifest, index, config, CRI metadata */
#define SW_CONTAINERD_MAX_IMAGES 4096 /* image records scanned for a CRI image id */
#define SW_CONTAINERD_MAX_BLOBS 256   /* content blobs read in one resolution */

/* Namespace of a containerd task bundle:
 * ".../io.containerd.runtime.v2.task/<ns>/<id>" (or runtime.v1.linux), where <id>
 * must equal container_id. Returns 1 and fills ns, 0 when the path is not such a
 * bundle, <0 when it is one but the namespace is not a valid identifier. */
int sw_containerd_bundle_namespace(const char *bundle, const char *container_id,
				   char ns[SW_CONTAINERD_NS_MAX + 1], sw_error *err);

/*
 * Digests of the image container_id of namespace ns was created from, read from
 * containerd_root (e.g. /var/lib/containerd):
 *  - CRI containers (extension io.cri-containerd.container.metadata): the
 *    recorded ImageRef (kind "image-id") and the targets of the namespace's image
 *    records that resolve to a manifest with that config ("manifest"/"index");
 *    source "containerd-cri".
 *  - CRI sandboxes (io.cri-containerd.sandbox.metadata): the sandbox's image name
 *    as for ctr below, source "containerd-cri".
 *  - other containers (ctr, nerdctl): the container's image name -> the image
 *    record's target ("manifest" or "index"), the manifest chosen in an index, and
 *    its config ("image-id"); source "containerd".
 * In every case the chain of custody is checked: the config's layer chain id
 * (from rootfs.diff_ids, config blob hashed) must equal the parent of the
 * container's snapshot, i.e. the root filesystem was unpacked from that image.
 * A mismatch, an image record that no longer exists, or an ambiguous choice is an
 * error (SW_EVERIFY / SW_ENOTFOUND / SW_ECONFLICT): the start is denied.
 * Returns 1 when the container was found (digests added to r; r->reference set
 * when empty), 0 when the store, the namespace or the container does not exist
 * or the container records no image at all (Docker's containers, `ctr run
 * --rootfs`: containerd makes no claim, other sources decide), <0 on error
 * (nothing added).
 */
int sw_containerd_resolve(const char *containerd_root, const char *ns, const char *container_id,
			  sw_resolution *r, sw_error *err);

/*
 * Digests of the image record `name` of namespace ns (what a start from it could
 * resolve to): the record's target ("manifest" or "index"), the manifests of an
 * index that are in the content store, and their configs ("image-id"); source
 * "containerd". For `sigward status` (is the CRI sandbox image listed?): no
 * container, so no chain of custody. 1 found, 0 when the store, the namespace or
 * the record does not exist, <0 on error.
 */
int sw_containerd_image(const char *containerd_root, const char *ns, const char *name, sw_resolution *r,
			sw_error *err);

/*
 * The tasks of a containerd, for `sigward audit`: the task bundles under its state
 * directory (<state>/io.containerd.runtime.v2.task/<ns>/<id>, one per task while
 * it exists, e.g. /run/containerd), read from disk rather than asked of the API
 * (no socket, no hang on a stuck daemon, the same bundles the runtime was given).
 * fn is called once per task, with `alive` when its init.pid names a live
 * process (a task without init.pid was created, never started). What cannot be
 * read (a namespace directory that cannot be opened or is not a namespace name,
 * an init.pid that cannot be read) is an entry with `error` set (id "" for a
 * whole namespace), never skipped: an audit must say what it could not see.
 * The image of each task: sw_containerd_resolve. Strings live for the duration
 * of the call. fn returns 0 to go on, non-zero to stop (returned). Returns 0
 * when done or when the state directory or its task directory does not exist,
 * <0 when either cannot be opened or read.
 */
typedef struct sw_containerd_task {
	const char *ns;             /* the namespace */
	const char *id;             /* the container id; "" for an error about a whole namespace */
	const char *bundle;         /* the task's bundle directory (or the namespace's) */
	bool alive;                 /* init.pid names a live process */
	const char *error;          /* NULL, or what could not be read */
} sw_containerd_task;
typedef int (*sw_containerd_task_fn)(const sw_containerd_task *t, void *ctx);
int sw_containerd_tasks(const char *state_dir, sw_containerd_task_fn fn, void *ctx, sw_error *err);

#endif
