/* SPDX-License-Identifier: Apache-2.0 */
/*
 * storage: containers/storage (podman, CRI-O, buildah), read-only.
 *
 * Which image a container was created from, and that image's digests, read from a
 * storage root (default /var/lib/containers/storage):
 *   <root>/<driver>-containers/containers.json (and volatile-containers.json)
 *       container records: id -> image (the image id)
 *   <root>/<driver>-images/images.json
 *       image records: id, digest, names, big-data-names, big-data-digests
 *   <root>/<driver>-images/<image id>/<big-data file>
 *       the stored manifest(s) and config, one file per big-data key
 *   <root>/<driver>-layers/layers.json (and volatile-layers.json)
 *       layer records: id, parent, diff-digest
 * for the graph drivers overlay, vfs, btrfs and zfs. docs/containers-storage.md
 * lists the format facts relied on and how they were verified.
 *
 * Chain of custody, checked on every lookup: every big-data item whose key starts
 * with "manifest" (these are the items containers/storage derives the image's
 * digests from) must hash to its recorded digest; a "manifest-<digest>" key must
 * name that digest; a manifest's config.digest must equal the image id; an index
 * (the manifest list an image was pulled by) must list one of the image's
 * manifests; the record's "digest", when set, must be one of them; the config item
 * "sha256:<id>" must be stored, hash to the id and parse as an image config
 * (rootfs.type "layers", rootfs.diff_ids, no manifest's schemaVersion); the
 * diff-digests of the image's top layer and its parents, bottom first, must be
 * those diff_ids exactly; and a container's own layer must sit on the image's
 * top layer (or a mapped copy of it). Any mismatch is SW_EVERIFY: the start is
 * denied. So an image id, like a manifest digest, names what the container
 * runs: a config that is some manifest's bytes, or a real config over other
 * layers, is refused (issue 14).
 *
 * Never locks: containers/storage's lock files (containers.lock, images.lock,
 * layers.lock) are never locked, so podman, CRI-O and buildah never wait for
 * sigward; after a failed lookup they are opened read-only to ask (F_GETLK)
 * whether a writer holds one. The view is still consistent: containers/storage
 * writes every one of these files whole into a temporary file in the same
 * directory and rename(2)s it into place, so one open+read sees exactly one
 * complete version of a file; and a lookup that fails a cross-file check (a
 * record or item written between two of our reads) is run again: its failure is
 * returned when the store stood still meanwhile (no file replaced, no writer
 * holding a lock), and retried while the store changed, for SW_STORE_BUSY_MS
 * (lib/util.h) at most, then SW_EBUSY ("store busy", not a policy refusal).
 *
 * Nothing under the root is followed through a symbolic link (the root itself may
 * be one: it is the operator's configuration). JSON is read with Go's rules of
 * encoding/json (keys match case-insensitively, null is "absent"), except that
 * anything Go would resolve silently (a duplicate key, invalid UTF-8, a NUL byte)
 * is an error, so sigward and podman can never read two different records.
 *
 * Ownership: every output is a fixed-size value filled by the callee; nothing to free.
 * Failure: negative return, `err` filled with one line naming the file and the
 * problem, outputs left with nothing added.
 */
#ifndef SW_STORAGE_H
#define SW_STORAGE_H

#include <limits.h>
#include <stddef.h>

#include "error.h"
#include "resolution.h"
#include "util.h"

#define SW_STORAGE_SOURCE "containers-storage"
#define SW_STORAGE_DEFAULT_ROOT "/var/lib/containers/storage"

/* containers.json and images.json hold one record per container or image (about
 * 1 KiB and 2 KiB each): 64 MiB is tens of thousands of them, far beyond a real
 * node, and still a bound on what one container start may cost. */
#define SW_STORAGE_JSON_MAX (64u << 20)
/* A manifest or config big-data item: containers/image refuses manifests and
 * configs over 4 MiB when it pulls them, so a larger stored one was not pulled. */
#define SW_STORAGE_BLOB_MAX (4u << 20)
/* Digests of one image: its id, its manifests and the indexes it was pulled by. */
#define SW_STORAGE_MAX_DIGESTS 16
/* Big-data items of one image that sigward keeps while reading its record
 * ("manifest*" and "sha256:*" keys; a pulled image has three or four). */
#define SW_STORAGE_MAX_ITEMS 64
/* Entries of an index big-data item. */
#define SW_STORAGE_MAX_INDEX 1024
/* Layers of one image (rootfs.diff_ids): Docker refuses more than 125, and
 * overlay's mount options run out long before 1024. */
#define SW_STORAGE_MAX_LAYERS 1024
#define SW_STORAGE_DRIVER_MAX 16
#define SW_STORAGE_NAME_MAX 512

typedef struct sw_storage_digest {
	char digest[SW_DIGEST_STR];
	char kind[16];              /* "image-id", "manifest" or "index" */
} sw_storage_digest;

typedef struct sw_storage_image {
	char driver[SW_STORAGE_DRIVER_MAX];    /* graph driver whose store holds the record */
	char id[SW_SHA256_HEX + 1];            /* 64 lowercase hex */
	char name[SW_STORAGE_NAME_MAX];        /* first of the image's names; "" if none or too long */
	sw_storage_digest d[SW_STORAGE_MAX_DIGESTS];   /* d[0] is the image id */
	size_t n;
} sw_storage_image;

/*
 * The container's image in the storage at storage_root. Returns 1 with driver and
 * image_id filled (image_id "" when the container records no image, as buildah's
 * "scratch" containers do), 0 when the root, every driver's container store or
 * the container does not exist, <0 on error (a container in two stores included).
 */
int sw_storage_container_image(const char *storage_root, const char *container_id,
			       char driver[SW_STORAGE_DRIVER_MAX], char image_id[SW_SHA256_HEX + 1],
			       sw_error *err);

/*
 * The verified digests of an image, by id ("sha256:<hex>" or bare 64 hex), for
 * `sigward status`/`audit`. The drivers are searched in the order overlay, vfs,
 * btrfs, zfs; the first store holding the record answers. Returns 1 with *out
 * filled (chain of custody checked as described above), 0 when the root or the
 * image does not exist, <0 on error.
 */
int sw_storage_image_digests(const char *storage_root, const char *image_id,
			     sw_storage_image *out, sw_error *err);

/*
 * The resolution source "containers-storage": container -> image -> digests
 * (kinds "image-id", "manifest", "index"); r->reference is set from the image's
 * first name when empty. Returns 1 when the container is in this storage and its
 * digests were added, 0 when the root does not exist, the container is not in it,
 * or it records no image (another source may know it; with none, the start is
 * denied for want of a digest), <0 on error with nothing added to r. Records that
 * the source was consulted in r->looked_at either way.
 */
int sw_storage_resolve(const char *storage_root, const char *container_id,
		       sw_resolution *r, sw_error *err);

/*
 * Every container record of the storage at storage_root, for `sigward audit`:
 * each driver's <driver>-containers/containers.json and volatile-containers.json
 * (every driver above, not one), in that order, fn called once per record.
 * containers/storage records no container state. What cannot be read (a
 * directory that cannot be opened, a file that cannot be read or parsed, an
 * image field that is not an image id) is one entry with `error` set (id "" for
 * a whole file), never skipped: an audit must say what it could not see.
 * Strings live for the duration of the call. fn returns 0 to go on, non-zero to
 * stop (returned). Returns 0 when done or when the root does not exist, <0 when
 * the root cannot be opened.
 */
typedef struct sw_storage_container {
	const char *driver;         /* graph driver whose store holds the record */
	const char *file;           /* the file (or directory) read, for messages */
	const char *id;             /* the container id; "" for an error about a whole file */
	const char *image_id;       /* 64 hex, "" when the container records no image */
	const char *error;          /* NULL, or why this record or file could not be read */
} sw_storage_container;
typedef int (*sw_storage_container_fn)(const sw_storage_container *c, void *ctx);
int sw_storage_containers(const char *storage_root, sw_storage_container_fn fn, void *ctx, sw_error *err);

/*
 * Is `bundle` the bundle containers/storage gives container_id, i.e. a path
 * ".../<driver>-containers/<container_id>/userdata" for one of the drivers above?
 * Podman's is under the storage root (checked with podman 4.3.1); CRI-O's is the
 * container's run directory under the run root. A caller consults this source
 * only for such bundles, so that a container of another runtime given the same id
 * (`ctr run ... ID` lets its user pick one) cannot borrow a podman container's
 * answer. 1 yes, 0 no.
 */
int sw_storage_bundle_is_container(const char *bundle, const char *container_id);

/*
 * The file name containers/storage stores a big-data item under: the key itself
 * when it is made of '.', '0'-'9' and 'a'-'z' only, else '=' and the key in
 * standard base64 with padding. 0, or -1 when the result would not be a safe
 * single file name (empty, ".", "..", contains '/', longer than NAME_MAX).
 */
int sw_storage_bigdata_name(const char *key, char out[NAME_MAX + 1]);

#endif
