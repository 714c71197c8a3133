/* stream.h — the stream object, shared by the queue machinery (stream.c) and
 * the cuStream* entry points (streamapi.c). Other parts of simgpu see
 * streams only through sim.h. */
#ifndef SIMGPU_STREAM_H
#define SIMGPU_STREAM_H

#include "core.h"

#define RING 512 /* slots, power of two */

struct sim_op {
    sim_op_fn fn;
    void *heap; /* payload when it does not fit inline (owned by the op) */
    size_t len;
    _Alignas(16) unsigned char data[SIM_OP_INLINE]; /* payloads are 16-byte aligned */
};
_Static_assert(sizeof(struct sim_op) == 256, "one ring slot is 256 bytes");

struct sim_stream {
    struct sim_obj obj;
    struct sim_ctx *ctx;
    unsigned flags;
    int priority;
    bool legacy, per_thread;
    unsigned long long id;
    _Atomic int refs;
    void *capture;
    CUstreamAttrValue attrs[8]; /* by small CUstreamAttrID */

    pthread_mutex_t plock; /* producers */
    /* What producers write and what the worker writes, each on a cache line of
     * its own: one launch after another would move a shared line between the
     * two cores twice per op. */
    char pad_tail_[64];
    _Atomic uint64_t tail; /* ops queued */
    uint64_t done_seen;    /* producers (plock): `done` when they last looked */
    char pad_done_[64];
    _Atomic uint64_t done; /* ops finished */
    char pad_end_[64];
    struct sim_op *ring;
    bool started;
    pthread_t thread;
    _Atomic bool stop;

    pthread_mutex_t wlock; /* sleeping worker and waiters */
    pthread_cond_t wcond, dcond;
    _Atomic int sleeping, waiters;

    struct sim_stream *next;      /* in ctx->streams */
    _Atomic uint64_t legacy_seen; /* legacy: ctx->blocking_gen at the last dependency scan */
    uint64_t barrier_seen;        /* ctx->barrier_gen whose barriers this stream waits for */
};

/* Blocking streams synchronise with the legacy NULL stream. */
static inline bool stream_is_blocking(const struct sim_stream *s)
{
    return !s->legacy && !(s->flags & CU_STREAM_NON_BLOCKING);
}

/* CUDA_SUCCESS unless s is capturing: then what the capture code (or, by
 * default, STREAM_CAPTURE_UNSUPPORTED) says about synchronising it. */
CUresult sim_stream_capture_check(struct sim_stream *s);

#endif
