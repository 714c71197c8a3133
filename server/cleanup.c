/* cleanup.c — the end of a session, however it ended: per-thread streams,
 * then the session's device memory, then its contexts (created ones destroyed,
 * primary ones released as often as the client retained them). */
#include "log.h"
#include "session.h"

static void set_ctx(struct session *s, uint64_t id)
{
    void *real = NULL;
    if (id && handles_get(s->h, id, RPC_H_CONTEXT, &real)) real = NULL;
    s->be.cuCtxSetCurrent((CUcontext)real);
}

static void free_streams(struct session *s)
{
    for (struct cthread *t = s->threads; t; t = t->next)
        for (struct ptstream *p = t->streams; p; p = p->next) {
            set_ctx(s, p->ctx);
            s->be.cuStreamDestroy(p->s);
        }
}

static void free_memory(struct session *s)
{
    int n = 0;
    for (size_t i = s->mem.n; i-- > 0;) {
        struct alloc *a = &s->mem.v[i];
        if (a->kind == ALLOC_MEM) {
            set_ctx(s, a->owner);
            n += s->be.cuMemFree((CUdeviceptr)a->base) == CUDA_SUCCESS;
        } else if (a->kind == ALLOC_MAPPED) {
            n += s->be.cuMemUnmap((CUdeviceptr)a->base, a->size) == CUDA_SUCCESS;
        }
    }
    for (size_t i = 0; i < s->mem.n; i++)
        if (s->mem.v[i].kind == ALLOC_RESERVED)
            s->be.cuMemAddressFree((CUdeviceptr)s->mem.v[i].base, s->mem.v[i].size);
    if (n) srv_info("freed %d allocation(s) the client left behind", n);
    allocs_free(&s->mem);
    free(s->memh);
    s->memh = NULL;
    s->nmemh = s->capmemh = 0;
}

static void destroy_ctx(void *arg, uint64_t id, void *real)
{
    struct session *s = arg;
    if ((id & H_SERVER_BIT) && (id & H_SERIAL_MASK) <= (uint64_t)s->ndev) return; /* primary */
    s->be.cuCtxDestroy((CUcontext)real);
}

void session_cleanup(struct session *s)
{
    s->be.cuCtxSetCurrent(NULL);
    free_streams(s);
    free_memory(s);
    s->be.cuCtxSetCurrent(NULL);
    handles_each(s->h, RPC_H_CONTEXT, destroy_ctx, s);
    for (int d = 0; d < s->ndev; d++)
        while (s->primary_retains[d]-- > 0) s->be.cuDevicePrimaryCtxRelease(d);
}
