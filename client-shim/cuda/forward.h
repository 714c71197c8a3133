/* forward.h — the one function every generated shim entry point calls: encode
 * the arguments by the call's descriptor, send, and (for calls that wait) read
 * the reply back into the caller's output arguments. Implemented in
 * client-shim/cuda/; the generated stubs (rpc/gen) include this header. */
#ifndef RG_SHIM_FORWARD_H
#define RG_SHIM_FORWARD_H

#include <cuda.h>

#include "calls.h"

/* args[i] points at argument i of the application's call. Returns what the
 * driver returned, or the shim's own validation / transport error. */
CUresult rg_shim_forward(const struct rpc_call_desc *d, void **args);

#endif
