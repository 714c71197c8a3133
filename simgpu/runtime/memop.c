/* memop.c — stream memory operations: cuStreamWaitValue32/64 and
 * cuStreamWriteValue32/64 (all versions, _ptsz). A wait is an op that polls
 * the word with backoff, so it blocks only its own stream. */
#include <sched.h>
#include <time.h>

#include "core.h"

#define ANY_DEV (SIM_MEM_DEVICE | SIM_MEM_HOST | SIM_MEM_REGISTERED | SIM_MEM_MANAGED | SIM_MEM_VMM)

struct value_op {
    uintptr_t addr;
    uint64_t value;
    unsigned flags;
    bool wide;
};

static bool wait_done(const struct value_op *o)
{
    uint64_t cur = o->wide ? atomic_load((_Atomic uint64_t *)o->addr)
                           : atomic_load((_Atomic uint32_t *)o->addr);
    uint64_t v = o->value;
    if (!o->wide) v = (uint32_t)v;
    switch (o->flags & 0xf) {
    case CU_STREAM_WAIT_VALUE_GEQ:
        return o->wide ? (int64_t)(cur - v) >= 0 : (int32_t)((uint32_t)cur - (uint32_t)v) >= 0;
    case CU_STREAM_WAIT_VALUE_EQ:
        return cur == v;
    case CU_STREAM_WAIT_VALUE_AND:
        return (cur & v) != 0;
    case CU_STREAM_WAIT_VALUE_NOR:
        return ~(cur | v) & (o->wide ? ~0ull : 0xffffffffull);
    default:
        return true;
    }
}

static CUresult op_wait_value(void *p)
{
    const struct value_op *o = p;
    for (unsigned i = 0; !wait_done(o); i++) {
        if (i < 64)
            sched_yield();
        else
            nanosleep(&(struct timespec){0, i < 1000 ? 10000 : 200000}, NULL);
    }
    return CUDA_SUCCESS;
}

static CUresult op_write_value(void *p)
{
    const struct value_op *o = p;
    if (o->wide)
        atomic_store((_Atomic uint64_t *)o->addr, o->value);
    else
        atomic_store((_Atomic uint32_t *)o->addr, (uint32_t)o->value);
    return CUDA_SUCCESS;
}

static CUresult value_op(CUstream h, CUdeviceptr addr, uint64_t value, unsigned flags, bool wide,
                         bool wait, bool pt)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (r) return r;
    size_t n = wide ? 8 : 4;
    if (addr % n) return CUDA_ERROR_INVALID_VALUE;
    if (wait && ((flags & ~(unsigned)CU_STREAM_WAIT_VALUE_FLUSH) > CU_STREAM_WAIT_VALUE_NOR))
        return CUDA_ERROR_INVALID_VALUE;
    if (!wait && (flags & ~(unsigned)CU_STREAM_WRITE_VALUE_NO_MEMORY_BARRIER))
        return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_mem_check((uintptr_t)addr, n, ANY_DEV))) return r;
    struct value_op o = {(uintptr_t)addr, value, flags, wide};
    return sim_stream_enqueue(s, wait ? op_wait_value : op_write_value, &o, sizeof o);
}

#define VALUE_API(name, T, wide, wait, pt)                                                         \
    CUresult name(CUstream s, CUdeviceptr a, T v, unsigned int f)                                  \
    {                                                                                              \
        return value_op(s, a, (uint64_t)v, f, wide, wait, pt);                                     \
    }

VALUE_API(cuStreamWaitValue32, cuuint32_t, false, true, false)
VALUE_API(cuStreamWaitValue32_ptsz, cuuint32_t, false, true, true)
VALUE_API(cuStreamWaitValue32_v2, cuuint32_t, false, true, false)
VALUE_API(cuStreamWaitValue32_v2_ptsz, cuuint32_t, false, true, true)
VALUE_API(cuStreamWaitValue64, cuuint64_t, true, true, false)
VALUE_API(cuStreamWaitValue64_ptsz, cuuint64_t, true, true, true)
VALUE_API(cuStreamWaitValue64_v2, cuuint64_t, true, true, false)
VALUE_API(cuStreamWaitValue64_v2_ptsz, cuuint64_t, true, true, true)
VALUE_API(cuStreamWriteValue32, cuuint32_t, false, false, false)
VALUE_API(cuStreamWriteValue32_ptsz, cuuint32_t, false, false, true)
VALUE_API(cuStreamWriteValue32_v2, cuuint32_t, false, false, false)
VALUE_API(cuStreamWriteValue32_v2_ptsz, cuuint32_t, false, false, true)
VALUE_API(cuStreamWriteValue64, cuuint64_t, true, false, false)
VALUE_API(cuStreamWriteValue64_ptsz, cuuint64_t, true, false, true)
VALUE_API(cuStreamWriteValue64_v2, cuuint64_t, true, false, false)
VALUE_API(cuStreamWriteValue64_v2_ptsz, cuuint64_t, true, false, true)

/* ---- batches --------------------------------------------------------------- */

static CUresult batch_one(CUstream h, const CUstreamBatchMemOpParams *p, bool pt)
{
    switch (p->operation) {
    case CU_STREAM_MEM_OP_WAIT_VALUE_32:
        return value_op(h, p->waitValue.address, p->waitValue.value, p->waitValue.flags, false,
                        true, pt);
    case CU_STREAM_MEM_OP_WAIT_VALUE_64:
        return value_op(h, p->waitValue.address, p->waitValue.value64, p->waitValue.flags, true,
                        true, pt);
    case CU_STREAM_MEM_OP_WRITE_VALUE_32:
        return value_op(h, p->writeValue.address, p->writeValue.value, p->writeValue.flags, false,
                        false, pt);
    case CU_STREAM_MEM_OP_WRITE_VALUE_64:
        return value_op(h, p->writeValue.address, p->writeValue.value64, p->writeValue.flags, true,
                        false, pt);
    case CU_STREAM_MEM_OP_FLUSH_REMOTE_WRITES:
    case CU_STREAM_MEM_OP_BARRIER:
        return CUDA_SUCCESS; /* ops run in order on the host */
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
}

/* Every entry is validated before any is queued, so a bad batch queues nothing. */
static CUresult batch(CUstream h, unsigned count, CUstreamBatchMemOpParams *params, unsigned flags,
                      bool pt)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (r) return r;
    if (flags || (count && !params) || count > 256) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < count; i++) {
        const CUstreamBatchMemOpParams *p = &params[i];
        bool wide = p->operation == CU_STREAM_MEM_OP_WAIT_VALUE_64 ||
                    p->operation == CU_STREAM_MEM_OP_WRITE_VALUE_64;
        bool val = wide || p->operation == CU_STREAM_MEM_OP_WAIT_VALUE_32 ||
                   p->operation == CU_STREAM_MEM_OP_WRITE_VALUE_32;
        if (!val) continue;
        CUdeviceptr a = p->waitValue.address; /* same offset in both forms */
        if (a % (wide ? 8 : 4) || sim_mem_check((uintptr_t)a, wide ? 8 : 4, ANY_DEV))
            return CUDA_ERROR_INVALID_VALUE;
    }
    for (unsigned i = 0; i < count; i++)
        if ((r = batch_one(h, &params[i], pt))) return r;
    return CUDA_SUCCESS;
}

CUresult cuStreamBatchMemOp(CUstream s, unsigned int n, CUstreamBatchMemOpParams *p, unsigned int f)
{
    return batch(s, n, p, f, false);
}
CUresult cuStreamBatchMemOp_ptsz(CUstream s, unsigned int n, CUstreamBatchMemOpParams *p,
                                 unsigned int f)
{
    return batch(s, n, p, f, true);
}
CUresult cuStreamBatchMemOp_v2(CUstream s, unsigned int n, CUstreamBatchMemOpParams *p,
                               unsigned int f)
{
    return batch(s, n, p, f, false);
}
CUresult cuStreamBatchMemOp_v2_ptsz(CUstream s, unsigned int n, CUstreamBatchMemOpParams *p,
                                    unsigned int f)
{
    return batch(s, n, p, f, true);
}
