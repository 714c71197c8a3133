/* devices.c — device questions the shim answers without a round trip: the
 * count, names, UUIDs, memory and compute capability from Welcome, and device
 * attributes cached after their first reply (applications ask them often). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuinfo.h"
#include "shim.h"

#define ATTR_CACHE 256
static struct {
    pthread_mutex_t mu;
    unsigned char have[RG_MAX_DEVICES][ATTR_CACHE];
    int value[RG_MAX_DEVICES][ATTR_CACHE];
} attrs = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const struct rg_device *device(int dev)
{
    return dev >= 0 && dev < rg_sess.ndev ? &rg_sess.dev[dev] : NULL;
}

static int get_count(void **args)
{
    int *count = *(int **)args[0];
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    *count = rg_sess.ndev;
    return CUDA_SUCCESS;
}

static int get_device(void **args)
{
    CUdevice *out = *(CUdevice **)args[0];
    int ord = *(int *)args[1];
    if (!out) return CUDA_ERROR_INVALID_VALUE;
    if (!device(ord)) return CUDA_ERROR_INVALID_DEVICE;
    *out = ord;
    return CUDA_SUCCESS;
}

static int get_name(void **args)
{
    char *name = *(char **)args[0];
    int len = *(int *)args[1];
    const struct rg_device *d = device(*(CUdevice *)args[2]);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)len, "%s", d->name);
    return CUDA_SUCCESS;
}

static int get_total_mem(void **args)
{
    size_t *bytes = *(size_t **)args[0];
    const struct rg_device *d = device(*(CUdevice *)args[1]);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    *bytes = d->total_mem;
    return CUDA_SUCCESS;
}

static int get_uuid(void **args)
{
    CUuuid *uuid = *(CUuuid **)args[0];
    const struct rg_device *d = device(*(CUdevice *)args[1]);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    if (!uuid) return CUDA_ERROR_INVALID_VALUE;
    *uuid = d->uuid;
    return CUDA_SUCCESS;
}

static int get_cc(void **args)
{
    int *major = *(int **)args[0], *minor = *(int **)args[1];
    const struct rg_device *d = device(*(CUdevice *)args[2]);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
    *major = d->cc_major;
    *minor = d->cc_minor;
    return CUDA_SUCCESS;
}

/* A cached attribute, or -1 to ask the server. */
static int get_attr(void **args)
{
    int *pi = *(int **)args[0];
    int attr = *(int *)args[1], dev = *(CUdevice *)args[2];
    if (!pi || !device(dev) || attr < 0 || attr >= ATTR_CACHE) return -1;
    int r = -1;
    pthread_mutex_lock(&attrs.mu);
    if (attrs.have[dev][attr]) {
        *pi = attrs.value[dev][attr];
        r = CUDA_SUCCESS;
    }
    pthread_mutex_unlock(&attrs.mu);
    return r;
}

static const struct local_call {
    const char *name;
    unsigned nargs;
    int (*fn)(void **args);
} locals[] = {
    {"cuDeviceGetCount", 1, get_count},
    {"cuDeviceGet", 2, get_device},
    {"cuDeviceGetName", 3, get_name},
    {"cuDeviceTotalMem_v2", 2, get_total_mem},
    {"cuDeviceGetUuid", 2, get_uuid},
    {"cuDeviceGetUuid_v2", 2, get_uuid},
    {"cuDeviceComputeCapability", 3, get_cc},
    {"cuDeviceGetAttribute", 3, get_attr},
};

int rg_dev_local(const struct rpc_call_desc *d, void **args)
{
    if (strncmp(d->name, "cuDevice", 8) != 0) return -1;
    for (size_t i = 0; i < sizeof locals / sizeof locals[0]; i++)
        if (!strcmp(d->name, locals[i].name) && d->nargs == locals[i].nargs)
            return locals[i].fn(args);
    return -1;
}

void rg_dev_remember(const struct rpc_call_desc *d, void **args)
{
    if (strcmp(d->name, "cuDeviceGetAttribute") != 0 || d->nargs != 3) return;
    int *pi = *(int **)args[0];
    int attr = *(int *)args[1], dev = *(CUdevice *)args[2];
    if (!pi || !device(dev) || attr < 0 || attr >= ATTR_CACHE) return;
    pthread_mutex_lock(&attrs.mu);
    attrs.value[dev][attr] = *pi;
    attrs.have[dev][attr] = 1;
    pthread_mutex_unlock(&attrs.mu);
}

/* ---- CUDA_VISIBLE_DEVICES -------------------------------------------------------- */

/* One entry: a session ordinal, or -1 (invalid: the list stops). */
static int visible_entry(const char *e, size_t len, const struct rg_device *all, int n)
{
    char buf[128];
    while (len && (*e == ' ' || *e == '\t')) e++, len--;
    while (len && (e[len - 1] == ' ' || e[len - 1] == '\t')) len--;
    if (!len || len >= sizeof buf) return -1;
    memcpy(buf, e, len);
    buf[len] = 0;
    if (!strncmp(buf, "GPU-", 4)) {
        int found = -1;
        for (int i = 0; i < n; i++) {
            char u[RPC_UUID_TEXT_LEN];
            rpc_uuid_text(&all[i].uuid, u);
            if (!strncasecmp(u, buf, len)) {
                if (found >= 0) return -1; /* ambiguous prefix */
                found = i;
            }
        }
        return found;
    }
    char *end;
    long v = strtol(buf, &end, 10);
    if (*end || end == buf || v < 0 || v >= n) return -1;
    return (int)v;
}

void rg_dev_apply_visible(void)
{
    int n = rg_sess.ndev;
    rg_sess.nsess = n;
    for (int i = 0; i < n; i++) rg_sess.sess_ord[i] = i;
    const char *vis = getenv("CUDA_VISIBLE_DEVICES");
    if (!vis) return;
    static struct rg_device all[RG_MAX_DEVICES];
    memcpy(all, rg_sess.dev, sizeof all);
    int k = 0;
    for (const char *p = vis; k < RG_MAX_DEVICES;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        int s = visible_entry(p, len, all, n), dup = 0;
        for (int j = 0; j < k; j++) dup |= rg_sess.sess_ord[j] == s;
        if (s < 0 || dup) break;
        rg_sess.dev[k] = all[s];
        rg_sess.sess_ord[k++] = s;
        if (!c) break;
        p = c + 1;
    }
    rg_sess.ndev = k;
    rg_log(RG_LOG_DEBUG, "CUDA_VISIBLE_DEVICES=\"%s\": %d of the session's %d device(s)", vis, k, n);
}

int rg_dev_to_session(int app)
{
    if (app < 0) return app;
    if (app < rg_sess.ndev) return rg_sess.sess_ord[app];
    return app < RG_MAX_DEVICES ? RG_MAX_DEVICES + app : app; /* refused by the server */
}

int rg_dev_from_session(int sess)
{
    for (int i = 0; i < rg_sess.ndev; i++)
        if (rg_sess.sess_ord[i] == sess) return i;
    return -1;
}

uint64_t rg_primary_ctx_id(int ord)
{
    int s = ord >= 0 && ord < rg_sess.ndev ? rg_sess.sess_ord[ord] : ord;
    return rg_id_make(RPC_H_CONTEXT, 1, (uint64_t)s + 1);
}
