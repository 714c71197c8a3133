/* cuinfo.h — facts about the driver's values that the client shim and rgpud
 * both need: which errors break a context for good, and the text form of a
 * device UUID (nvidia-smi's, which CUDA_VISIBLE_DEVICES takes). */
#ifndef RG_RPC_CUINFO_H
#define RG_RPC_CUINFO_H

#include <cuda.h>
#include <stdbool.h>
#include <stdio.h>

/* A device fault: the driver answers it from every later call in the context. */
static inline bool rpc_error_is_sticky(CUresult r)
{
    switch (r) {
    case CUDA_ERROR_ILLEGAL_ADDRESS:
    case CUDA_ERROR_LAUNCH_TIMEOUT:
    case CUDA_ERROR_ASSERT:
    case CUDA_ERROR_HARDWARE_STACK_ERROR:
    case CUDA_ERROR_ILLEGAL_INSTRUCTION:
    case CUDA_ERROR_MISALIGNED_ADDRESS:
    case CUDA_ERROR_INVALID_ADDRESS_SPACE:
    case CUDA_ERROR_INVALID_PC:
    case CUDA_ERROR_LAUNCH_FAILED:
        return true;
    default:
        return false;
    }
}

#define RPC_UUID_TEXT_LEN 41 /* "GPU-" + 32 hex digits + 4 dashes + NUL */

/* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into out[RPC_UUID_TEXT_LEN]. */
static inline void rpc_uuid_text(const CUuuid *u, char *out)
{
    const unsigned char *b = (const unsigned char *)u->bytes;
    int n = sprintf(out, "GPU-");
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[n++] = '-';
        n += sprintf(out + n, "%02x", b[i]);
    }
}

#endif
