/* files.c — calls that name a file: the file is the application's, so the shim
 * reads it and sends its bytes as an image (cuModuleLoad, cuLibraryLoadFromFile)
 * or as link input (cuLinkAddFile). A NUL is appended so PTX text arrives
 * terminated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fatbin.h"
#include "shim.h"

#define MAX_IMAGE (1ull << 30)

/* Reads path into a heap buffer (caller frees) with a NUL after the bytes;
 * *size (if not NULL) is the file's size. */
static CUresult read_image(const char *path, void **out, size_t *size)
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
        if (size) *size = n;
    } else if (buf == NULL && (uint64_t)st.st_size < MAX_IMAGE && S_ISREG(st.st_mode)) {
        r = CUDA_ERROR_OUT_OF_MEMORY;
    }
    fclose(f);
    if (r != CUDA_SUCCESS) free(buf);
    else *out = buf;
    return r;
}

/* A file's image must describe itself within the file: a truncated container or
 * ELF would make the image marshaller read past the buffer, and a wrapper's
 * pointers mean nothing in a file. */
static CUresult check_file_image(const void *img, size_t size)
{
    enum rg_image_kind k = rg_image_kind(img);
    if (k == RG_IMAGE_WRAPPER) return CUDA_ERROR_INVALID_IMAGE;
    if ((k == RG_IMAGE_CONTAINER || k == RG_IMAGE_ELF) && !rg_image_size_avail(img, size))
        return CUDA_ERROR_INVALID_IMAGE;
    return CUDA_SUCCESS;
}

CUresult cuModuleLoad(CUmodule *module, const char *fname)
{
    int saved = errno;
    CUresult r = rg_ready();
    void *img = NULL;
    size_t size = 0;
    if (r == CUDA_SUCCESS && !module) r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) r = read_image(fname, &img, &size);
    if (r == CUDA_SUCCESS) r = check_file_image(img, size);
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
    size_t size = 0;
    if (r == CUDA_SUCCESS && !library) r = CUDA_ERROR_INVALID_VALUE;
    /* the application's file is not preserved memory: the driver refuses the flag here */
    for (unsigned i = 0; r == CUDA_SUCCESS && libraryOptions && i < numLibraryOptions; i++)
        if (libraryOptions[i] == CU_LIBRARY_BINARY_IS_PRESERVED) r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) r = read_image(fileName, &img, &size);
    if (r == CUDA_SUCCESS) r = check_file_image(img, size);
    if (r == CUDA_SUCCESS)
        r = cuLibraryLoadData(library, img, jitOptions, jitOptionsValues, numJitOptions,
                              libraryOptions, libraryOptionValues, numLibraryOptions);
    free(img);
    errno = saved;
    return r;
}

CUresult cuLinkAddFile_v2(CUlinkState state, CUjitInputType type, const char *path,
                          unsigned int numOptions, CUjit_option *options, void **optionValues)
{
    int saved = errno;
    CUresult r = rg_ready();
    void *img = NULL;
    size_t size = 0;
    /* the driver judges the state before the file */
    if (r == CUDA_SUCCESS && !rg_id_plausible(RPC_H_LINKSTATE, (uint64_t)(uintptr_t)state))
        r = CUDA_ERROR_INVALID_HANDLE;
    if (r == CUDA_SUCCESS && !path) r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) r = read_image(path, &img, &size);
    /* an empty file still names a buffer: the driver judges its size */
    if (r == CUDA_SUCCESS)
        r = cuLinkAddData_v2(state, type, img, size, path, numOptions, options, optionValues);
    free(img);
    errno = saved;
    return r;
}

CUresult cuLinkAddFile(CUlinkState state, CUjitInputType type, const char *path,
                       unsigned int numOptions, CUjit_option *options, void **optionValues)
{
    return cuLinkAddFile_v2(state, type, path, numOptions, options, optionValues);
}
