/* bulk.h — large copies without a full-size buffer in the worker (DESIGN
 * rule 4): the bytes of a cuMemcpyHtoD are read in pieces while its lane
 * copies them, and a cuMemcpyDtoH's reply leaves in pieces (bulk.c). */
#ifndef RG_SRV_BULK_H
#define RG_SRV_BULK_H

#include "session.h"

#define SRV_BULK_MIN (1u << 20)              /* smaller copies travel whole, as any call */
#define SRV_BULK_PIECE (4u << 20)            /* read, copy and send granularity */
#define SRV_BULK_WINDOW (4 * SRV_BULK_PIECE) /* bytes queued while the lane takes them */
#define SRV_BULK_EARLY_MS 1000L /* longest wait, in all, for a lane yet to reach its copy */

/* ---- host to device: the main loop (worker.c) and the lane (dispatch.c) ---- */

/* Whether cl (header and encoded part read) streams its raw bytes: a plain
 * cuMemcpyHtoD of at least SRV_BULK_MIN bytes. Sets cl->raw_len to the byte
 * count its arguments announce; the bytes themselves are still in the stream. */
int bulk_in_wanted(struct session *s, struct call *cl);
/* Main loop, after cl was handed to its lane: reads the call's raw bytes (this
 * frame's and its DATA frames') in pieces, for the lane or straight into the
 * destination. 0, or -1 (e says why; the session ends). */
int bulk_in_receive(struct session *s, struct call *cl, rpc_error *e);
/* Lane: 1 if cl is a streamed copy. */
int bulk_in_of(struct session *s, const struct call *cl);
/* Lane: runs the streamed copy (a quota_run_fn): the first piece through the
 * backend's own call (which waits for earlier work), the rest as it arrives.
 * `run` runs dc in the backend (dispatch.c's run_backend). */
CUresult bulk_in_run(struct session *s, struct call *cl, struct rpc_decoded *dc,
                     CUresult (*run)(struct session *, struct call *, struct rpc_decoded *));
/* Lane, whatever became of the call: bytes still to come are dropped, and the
 * streamed state goes once the main loop has read them all. */
void bulk_in_done(struct session *s, const struct call *cl);

/* ---- device to host: the lane ---------------------------------------------- */

/* Answers a plain cuMemcpyDtoH of at least SRV_BULK_MIN bytes in pieces (on
 * simgpu straight from device memory into the socket). 1 if it did (*rc: 0 or
 * -1 to end the session), 0 if cl is not such a call (the generic path runs). */
int bulk_out_call(struct session *s, struct call *cl, int *rc);

#endif
