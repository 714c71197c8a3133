/* files.c — calls that name a file: the file is the application's, so the shim
 * reads it and sends its bytes as an image (cuModuleLoad, cuLibraryLoadFromFile).
 * A NUL is appended so PTX text arrives terminated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "shim.h"

#define MAX_IMAGE (1ull << 30)

/* Reads path into a heap buffer (caller frees) with a NUL after the bytes. */
static CUresult read_image(const char *path, void **out)
{
    if (!path) return CUDA_ERROR_INVALID_VALUE;
    FILE *f = fopen(path, "rbe");
    if (!f) return CUDA_ERROR_FILE_NOT_FOUND;
    struct stat st;
    char *buf = NULL;
    CUresult r = CUDA_ERROR_FILE_NOT_FOUND;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < MAX_IMAGE &&
        (buf = malloc((size_t)st.st_size + 1))) {
        size_t n = fread(buf, 1, (size_t)st.st_size, f);
        buf[n] = 0;
        r = n == (size_t)st.st_size ? CUDA_SUCCESS : CUDA_ERROR_FILE_NOT_FOUND;
    } else if (buf == NULL && (uint64_t)st.st_size < MAX_IMAGE && S_ISREG(st.st_mode)) {
        r = CUDA_ERROR_OUT_OF_MEMORY;
    }
    fclose(f);
    if (r != CUDA_SUCCESS) free(buf);
    else *out = buf;
    return r;
}

CUresult cuModuleLoad(CUmodule *module, const char *fname)
{
    int saved = errno;
    CUresult r = rg_ready();
    void *img = NULL;
    if (r == CUDA_SUCCESS && !module) r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) r = read_image(fname, &img);
    if (r == CUDA_SUCCESS) r = cuModuleLoadData(module, img);
    free(img);
    errno = saved;
    return r;
}

CUresult cuLibraryLoadFromFile(CUlibrary *library, const char *fileName, CUjit_option *jitOptions,
                               void **jitOptionsValues, unsigned int numJitOptions,
                               CUlibraryOption *libraryOptions, void **libraryOptionValues,
                               unsigned int numLibraryOptions)
{
    int saved = errno;
    CUresult r = rg_ready();
    void *img = NULL;
    if (r == CUDA_SUCCESS && !library) r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) r = read_image(fileName, &img);
    if (r == CUDA_SUCCESS)
        r = cuLibraryLoadData(library, img, jitOptions, jitOptionsValues, numJitOptions,
                              libraryOptions, libraryOptionValues, numLibraryOptions);
    free(img);
    errno = saved;
    return r;
}
