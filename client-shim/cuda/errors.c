/* errors.c — cuGetErrorName / cuGetErrorString, answered in the shim. Names
 * come from cuda.h's enum (generated table); descriptions are the driver's
 * short phrases for the common codes and the name in words for the rest. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "shim.h"

static const struct {
    int code;
    const char *name;
} names[] = {
#include "cuda_errors.inc"
};
#define NCODES (sizeof names / sizeof names[0])

static const struct {
    CUresult code;
    const char *text;
} phrases[] = {
    {CUDA_SUCCESS, "no error"},
    {CUDA_ERROR_INVALID_VALUE, "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, "driver shutting down"},
    {CUDA_ERROR_NO_DEVICE, "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "invalid device context"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "no kernel image is available for execution on the device"},
    {CUDA_ERROR_INVALID_HANDLE, "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_FAILED, "unspecified launch failure"},
    {CUDA_ERROR_NOT_SUPPORTED, "operation not supported"},
    {CUDA_ERROR_UNKNOWN, "unknown error"},
};

static char texts[NCODES][96];
static pthread_once_t texts_once = PTHREAD_ONCE_INIT;

/* "CUDA_ERROR_PEER_ACCESS_UNSUPPORTED" -> "peer access unsupported" */
static void words(char *dst, size_t len, const char *name)
{
    const char *s = strncmp(name, "CUDA_ERROR_", 11) ? name : name + 11;
    size_t n = 0;
    for (; *s && n + 1 < len; s++) dst[n++] = *s == '_' ? ' ' : (char)tolower((unsigned char)*s);
    dst[n] = 0;
}

static void build_texts(void)
{
    for (size_t i = 0; i < NCODES; i++) {
        words(texts[i], sizeof texts[i], names[i].name);
        for (size_t k = 0; k < sizeof phrases / sizeof phrases[0]; k++)
            if ((int)phrases[k].code == names[i].code)
                snprintf(texts[i], sizeof texts[i], "%s", phrases[k].text);
    }
}

static int find(CUresult code)
{
    for (size_t i = 0; i < NCODES; i++)
        if (names[i].code == (int)code) return (int)i;
    return -1;
}

CUresult cuGetErrorName(CUresult error, const char **pStr)
{
    if (!pStr) return CUDA_ERROR_INVALID_VALUE;
    int i = find(error);
    *pStr = i < 0 ? NULL : names[i].name;
    return i < 0 ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult error, const char **pStr)
{
    if (!pStr) return CUDA_ERROR_INVALID_VALUE;
    pthread_once(&texts_once, build_texts);
    int i = find(error);
    *pStr = i < 0 ? NULL : texts[i];
    return i < 0 ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}
