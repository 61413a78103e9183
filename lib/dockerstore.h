/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dockerstore: the Docker engine's data root (default /var/lib/docker), read-only.
 *
 * Docker puts no image identity in the OCI annotations it hands the runtime; the
 * link from a container to its image is in the data root (Docker 20.10, the
 * overlay2 driver; docs/docker-store.md lists every format fact relied on and
 * how it was verified against a real dockerd):
 *   containers/<id>/config.v2.json             "ID", "Image": "sha256:<image id>", "Driver"
 *   image/<driver>/imagedb/content/sha256/<id> the image config, hashing to the image id
 *   image/<driver>/layerdb/mounts/<id>/parent  chain id of the container's base layer
 *   image/<driver>/repositories.json           "name:tag" and "name@sha256:<digest>" -> image id
 *
 * Chain of custody, checked on every lookup: config.v2.json's "ID" is the
 * container; its "Image" names an image config stored under its own digest
 * (the file must hash to the id, SW_EVERIFY otherwise); the container's read-write
 * layer sits on the layer chain that config's rootfs.diff_ids describe (so a
 * config.v2.json edited to name another image is refused); repository digests
 * are taken only from "<name>@sha256:<hex>" keys of repositories.json that map
 * to that image id. Docker keeps no manifest, so a repository digest is Docker's
 * own record of what it pulled: the manifest digest, or for a pull through a
 * multi-platform index the index digest. It is added with kind "unknown" (as
 * "name@sha256:" annotations are), the image id with kind "image-id".
 *
 * The image store is image/<Driver> for config.v2.json's "Driver" (Docker only
 * runs containers of its current driver, whose image store that is). A file
 * without "Driver" is matched against every image/<x>/ directory: the one
 * directory holding the image config answers; none, or more than one, is an error.
 *
 * Never locks and never writes: Docker replaces each of these files whole (write
 * a temporary file, rename), and a container's image, its config and its layer
 * chain never change after `docker create`, so each read sees one complete
 * version. Nothing below the data root is followed through a symbolic link (the
 * root itself may be one: it is the operator's configuration). JSON is read with
 * Go's encoding/json rules (keys match case-insensitively, null is "absent"),
 * except that what Go resolves silently (a duplicate key, invalid UTF-8) is an
 * error, so sigward and dockerd can never read two different answers.
 *
 * Ownership: nothing is allocated for the caller.
 * Failure: negative return, `err` filled with one line naming the file and the
 * problem, nothing added to the resolution.
 */
#ifndef SW_DOCKERSTORE_H
#define SW_DOCKERSTORE_H

#include <stdbool.h>

#include "error.h"
#include "resolution.h"

#define SW_DOCKER_SOURCE "docker"
#define SW_DOCKER_DEFAULT_ROOT "/var/lib/docker"

/* config.v2.json is about 2 KiB (a long environment or many labels add a few). */
#define SW_DOCKER_CONFIG_MAX (4u << 20)
/* An image config: a few KiB; its history grows by one entry per build step. */
#define SW_DOCKER_IMAGE_MAX (8u << 20)
/* repositories.json: about 150 bytes per tag or digest reference, so 32 MiB is
 * about 200000 references, far beyond a real node, and still a bound on what one
 * start may cost. */
#define SW_DOCKER_REPOS_MAX (32u << 20)
/* Docker refuses images deeper than 125 layers (layer/layer_store.go maxLayerDepth). */
#define SW_DOCKER_MAX_LAYERS 1024
/* Distinct repository digests of one image (the same manifest pulled through
 * several names counts once). */
#define SW_DOCKER_MAX_DIGESTS 16

/*
 * The resolution source "docker": container -> image id -> repository digests,
 * as described above; r->reference is set from the image's first "name:tag" in
 * repositories.json (else its first "name@sha256:" reference) when empty.
 * Returns 1 when the container is in this data root and its digests were added,
 * 0 when the root, its containers/ directory or the container does not exist, or
 * container_id is not a Docker container id (64 lowercase hex: Docker makes no
 * other; such an id is never used in a path), <0 on error with nothing added to
 * r. Records in r->looked_at that the source was consulted, either way.
 */
int sw_docker_resolve(const char *docker_root, const char *container_id,
		      sw_resolution *r, sw_error *err);

/*
 * Every container of the data root, for `sigward audit`: containers/<id> for
 * each 64-hex <id>, fn called once per container with what config.v2.json
 * ("Image", State.Running, State.Paused, Config.Image) and hostconfig.json
 * ("Runtime") record. A container whose records cannot be read (unreadable,
 * not JSON, "ID" naming another container) is an entry with `error` set and the
 * fields read before it failed, never skipped: an audit must say what it could
 * not see. The image's digests are not read here (sw_docker_resolve does, with
 * its chain of custody). Strings live for the duration of the call. fn returns
 * 0 to go on, non-zero to stop (returned). Returns 0 when done or when the root
 * or its containers/ does not exist, <0 when either cannot be opened or read.
 */
typedef struct sw_docker_container {
	const char *id;             /* 64 lowercase hex */
	const char *image;          /* "sha256:<image id>", "" when unknown */
	const char *reference;      /* Config.Image, as the user named the image; "" if none */
	const char *runtime;        /* hostconfig.json's Runtime; "" when absent (dockerd's default) */
	bool running, paused;       /* State.Running, State.Paused */
	const char *error;          /* NULL, or why this container's records could not be read */
} sw_docker_container;
typedef int (*sw_docker_container_fn)(const sw_docker_container *c, void *ctx);
int sw_docker_containers(const char *docker_root, sw_docker_container_fn fn, void *ctx, sw_error *err);

#endif
