/* core.h — declarations private to the runtime core (init, devices, contexts,
 * memory, streams, events). Other parts of simgpu use sim.h only. */
#ifndef SIMGPU_CORE_H
#define SIMGPU_CORE_H

#include "sim.h"

/* init.c: one-time initialisers called by cuInit, in this order. */
CUresult sim_devices_init(void);  /* device.c: SIMGPU_*, CUDA_VISIBLE_DEVICES */
CUresult sim_mem_init(void);      /* memory.c: reserve the device region */
CUresult sim_contexts_init(void); /* context.c: one primary context per device */
CUresult sim_mempools_init(void); /* mempool.c: default pools */

/* memory.c: the virtual-address region and the allocation table. */
uintptr_t sim_va_base(void);
size_t sim_va_size(void);
bool sim_va_contains(uintptr_t p, size_t n);
/* Carve [*out, *out+size) from the region (aligned; at `fixed` if non-zero and
 * free). Returns false if no room. The pages stay PROT_NONE. */
bool sim_va_take(size_t size, size_t align, uintptr_t fixed, uintptr_t *out);
void sim_va_give(uintptr_t base, size_t size);
/* Puts [base, base+size) back as the region reserves it (private, PROT_NONE,
 * no memory), replacing whatever was mapped there. */
void sim_va_unmap(uintptr_t base, size_t size);
/* Table of live allocations: insert fails (false) on overlap or no memory. */
bool sim_table_insert(const struct sim_alloc *a);
bool sim_table_remove(uintptr_t base, struct sim_alloc *out);
/* Mark a pool allocation as being freed; false if unknown or already marked. */
bool sim_table_mark_freeing(uintptr_t base);
/* Remove and return every allocation owned by ctx (caller frees). */
size_t sim_table_take_ctx(struct sim_ctx *c, struct sim_alloc **out);
/* Free a table entry's backing by kind (device/managed pages, host pages). */
void sim_mem_release(const struct sim_alloc *a);
/* Bytes an allocation of `size` is charged (slab class or whole pages). */
size_t sim_mem_accounted(size_t size);
CUresult sim_mem_alloc_kind(struct sim_ctx *c, size_t size, enum sim_mem_kind kind, unsigned flags,
                            void *pool, uintptr_t *out);

/* context.c */
void sim_ctx_release_memory(struct sim_ctx *c);
CUresult sim_ctx_activate(struct sim_ctx *c);

/* stream.c */
struct sim_stream *sim_stream_new(struct sim_ctx *c, unsigned flags, int priority, bool legacy,
                                  bool per_thread);
void sim_stream_destroy(struct sim_stream *s);
void sim_stream_ref(struct sim_stream *s);
void sim_stream_unref(struct sim_stream *s);
/* Position (ops queued so far); waits/queries compare against it. */
uint64_t sim_stream_tail(struct sim_stream *s);
void sim_stream_wait_pos(struct sim_stream *s, uint64_t pos);
bool sim_stream_reached(struct sim_stream *s, uint64_t pos);
/* sim_stream_enqueue for a malloc'd payload the op takes over (freed after
 * it ran, or on failure). */
CUresult sim_stream_enqueue_owned(struct sim_stream *s, sim_op_fn fn, void *payload, size_t len);
/* True if s and everything it implicitly waits for are idle (a synchronous
 * operation may then run on the calling thread). */
bool sim_stream_idle_for_sync(struct sim_stream *s);
/* Queue a wait on another stream's position (holds a reference to it). */
CUresult sim_stream_enqueue_wait(struct sim_stream *s, struct sim_stream *other, uint64_t pos);
/* Destroy every stream and event of c (after draining). */
void sim_ctx_destroy_streams(struct sim_ctx *c);
void sim_ctx_destroy_events(struct sim_ctx *c);
/* The capture callbacks when s is capturing, else NULL. */
const struct sim_capture_ops *sim_stream_capture_ops(struct sim_stream *s);
/* The installed capture callbacks (never NULL; members may be). */
const struct sim_capture_ops *sim_capture_ops_installed(void);
/* Streams of c, each referenced (caller unrefs), NULL-terminated; NULL on OOM. */
struct sim_stream **sim_ctx_stream_list(struct sim_ctx *c);
/* The calling thread's per-thread default stream in c (created on demand). */
struct sim_stream *sim_stream_per_thread(struct sim_ctx *c);

/* managed.c: drop the hints of a freed managed allocation. */
void sim_managed_forget(uintptr_t base);

/* mempool.c */
void sim_mempool_note_free(void *pool, size_t size);
CUresult sim_mempool_alloc(struct sim_mempool *p, struct sim_ctx *c, size_t size, uintptr_t *out);

/* Monotonic nanoseconds. */
uint64_t sim_now_ns(void);

#endif
