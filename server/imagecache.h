/* imagecache.h — the worker's code images by content (DESIGN rule 4,
 * rpc/image_wire.h): every image part of the session, kept for the session,
 * and a cache of them on disk shared by the sessions of one tenant (files
 * named by SHA-256 under --image-cache DIR/TENANT, bounded by --image-cache-mb
 * with least-recently-used eviction, written atomically, verified when read). */
#ifndef RG_SRV_IMAGECACHE_H
#define RG_SRV_IMAGECACHE_H

#include "calls.h"
#include "config.h"

struct session;
struct call;

/* Opens the tenant's part of the cache (tenant NULL: anonymous) and installs
 * the image marshaller's worker ops. The session works without a disk cache
 * when the directory cannot be had (one log line). */
void imagecache_open(const struct srv_config *cfg, const char *tenant);
/* Is this the image QUERY's op? */
int imagecache_op(const struct rpc_call_desc *d);
/* Answers one QUERY; frees the call. 0, or -1 on a protocol error. */
int imagecache_call(struct session *s, struct call *cl);
/* The cache's root directory for cfg into out ("" when it is off). */
void imagecache_root(const struct srv_config *cfg, char *out, size_t len);

#endif
