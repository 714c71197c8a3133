/* ctx.c — client threads and their context stacks, which live only in the
 * shim (docs/remoting.md): cuCtxPush/Pop/Set/GetCurrent and cuCtxGetDevice
 * never travel; every CALL names the caller's current context instead. Also
 * the id minting of client-created handles. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "shim.h"

/* ---- ids ------------------------------------------------------------------------ */

static _Atomic uint64_t id_serial;

uint64_t rg_id_mint(unsigned t)
{
    return rg_id_make(t, 0, atomic_fetch_add(&id_serial, 1) + 1);
}

int rg_id_plausible(unsigned t, uint64_t id)
{
    unsigned type = rg_id_type(id);
    if (type != t && !(t == RPC_H_FUNCTION && type == RPC_H_KERNEL)) return 0;
    uint64_t serial = id & RG_ID_SERIAL_MASK;
    if (serial == 0) return 0;
    return (id & RG_ID_SERVER_BIT) || serial <= atomic_load(&id_serial);
}

/* ---- threads ---------------------------------------------------------------------- */

static _Atomic uint32_t thread_serial;
static _Thread_local uint32_t my_thread;

uint32_t rg_thread_id(void)
{
    if (!my_thread) my_thread = atomic_fetch_add(&thread_serial, 1) + 1;
    return my_thread;
}

/* ---- the contexts the shim knows: created here, with their device ---------------- */

struct known_ctx {
    uint64_t id;
    CUdevice dev;
    int dead; /* destroyed: kept so a stale id is told apart from a bogus one */
    struct known_ctx *next;
};
static struct known_ctx *known;
static pthread_mutex_t known_mu = PTHREAD_MUTEX_INITIALIZER;

int rg_ctx_device(uint64_t id, CUdevice *dev)
{
    if ((id & RG_ID_SERVER_BIT) && rg_id_type(id) == RPC_H_CONTEXT) {
        uint64_t serial = id & RG_ID_SERIAL_MASK;
        if (serial >= 1 && serial <= (uint64_t)rg_sess.ndev) {
            *dev = (CUdevice)(serial - 1);
            return 0;
        }
    }
    int found = -1;
    pthread_mutex_lock(&known_mu);
    for (struct known_ctx *k = known; k; k = k->next)
        if (k->id == id && !k->dead) *dev = k->dev, found = 0;
    pthread_mutex_unlock(&known_mu);
    return found;
}

/* ---- per-thread stacks ------------------------------------------------------------- */

#define STACK_MAX 64
static _Thread_local uint64_t stack[STACK_MAX];
static _Thread_local int depth;

uint64_t rg_ctx_current_id(void)
{
    return depth ? stack[depth - 1] : 0;
}

void rg_ctx_created(uint64_t id, CUdevice dev)
{
    struct known_ctx *k = malloc(sizeof *k);
    if (k) {
        k->id = id;
        k->dev = dev;
        k->dead = 0;
        pthread_mutex_lock(&known_mu);
        k->next = known;
        known = k;
        pthread_mutex_unlock(&known_mu);
    }
    if (depth < STACK_MAX) stack[depth++] = id;
}

/* Destroyed: marked dead, and popped if it is this thread's current context
 * (other entries stay: using them gives CONTEXT_IS_DESTROYED, as the driver). */
void rg_ctx_destroyed(uint64_t id)
{
    pthread_mutex_lock(&known_mu);
    for (struct known_ctx *k = known; k; k = k->next)
        if (k->id == id) k->dead = 1;
    pthread_mutex_unlock(&known_mu);
    if (depth && stack[depth - 1] == id) depth--;
}

int rg_ctx_dead(uint64_t id)
{
    int dead = 0;
    pthread_mutex_lock(&known_mu);
    for (struct known_ctx *k = known; k; k = k->next)
        if (k->id == id) dead = k->dead;
    pthread_mutex_unlock(&known_mu);
    return dead;
}

/* Client-minted contexts must be alive here; server-minted ones are checked
 * by the server. */
static int ctx_valid(uint64_t id)
{
    CUdevice dev;
    if (rg_ctx_dead(id)) return 0;
    if (id & RG_ID_SERVER_BIT) return rg_id_plausible(RPC_H_CONTEXT, id);
    return rg_ctx_device(id, &dev) == 0;
}

/* ---- the exported calls -------------------------------------------------------------- */

#define SHIM_ENTER()                                                                            \
    int saved_errno_ = errno;                                                                   \
    CUresult r_ = rg_ready();                                                                   \
    if (r_ != CUDA_SUCCESS) return r_
#define SHIM_RETURN(r) return (errno = saved_errno_, (r))

CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
    SHIM_ENTER();
    uint64_t id = (uint64_t)(uintptr_t)ctx;
    if (!id || !ctx_valid(id)) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    if (depth >= STACK_MAX) SHIM_RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    stack[depth++] = id;
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
    SHIM_ENTER();
    if (!depth) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    uint64_t id = stack[--depth];
    if (pctx) *pctx = (CUcontext)(uintptr_t)id;
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxSetCurrent(CUcontext ctx)
{
    SHIM_ENTER();
    uint64_t id = (uint64_t)(uintptr_t)ctx;
    if (!id) {
        if (depth) depth--;
        SHIM_RETURN(CUDA_SUCCESS);
    }
    if (!ctx_valid(id)) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    if (depth)
        stack[depth - 1] = id;
    else
        stack[depth++] = id;
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxGetCurrent(CUcontext *pctx)
{
    SHIM_ENTER();
    if (!pctx) SHIM_RETURN(CUDA_ERROR_INVALID_VALUE);
    *pctx = (CUcontext)(uintptr_t)rg_ctx_current_id();
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxGetDevice(CUdevice *device)
{
    SHIM_ENTER();
    if (!device) SHIM_RETURN(CUDA_ERROR_INVALID_VALUE);
    uint64_t id = rg_ctx_current_id();
    if (!id || rg_ctx_device(id, device) != 0) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    SHIM_RETURN(CUDA_SUCCESS);
}

/* 13.0: the context may be named explicitly (NULL = current). */
CUresult cuCtxGetDevice_v2(CUdevice *device, CUcontext ctx)
{
    SHIM_ENTER();
    if (!device) SHIM_RETURN(CUDA_ERROR_INVALID_VALUE);
    uint64_t id = ctx ? (uint64_t)(uintptr_t)ctx : rg_ctx_current_id();
    if (!id || rg_ctx_device(id, device) != 0) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxPushCurrent(CUcontext ctx)
{
    return cuCtxPushCurrent_v2(ctx);
}

CUresult cuCtxPopCurrent(CUcontext *pctx)
{
    return cuCtxPopCurrent_v2(pctx);
}
