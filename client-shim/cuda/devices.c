/* devices.c — device questions the shim answers without a round trip: the
 * count, names, UUIDs, memory and compute capability from Welcome, and device
 * attributes cached after their first reply (applications ask them often). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

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
