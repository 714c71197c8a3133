/* fatbin.h — reading CUDA code images: __fatBinC_Wrapper_t (versions 1 and 2),
 * fatbin containers (0xBA55ED50) with LZ4-block or Zstandard entries, ELF
 * cubins and PTX text. Format: shared/ref/dark-api-and-fatbin.md section 6.
 * Every length is checked against the bytes the caller says are readable. */
#ifndef RG_FATBIN_H
#define RG_FATBIN_H

#include <stddef.h>
#include <stdint.h>

#define RG_FATBINC_MAGIC 0x466243B1u
#define RG_FATBIN_MAGIC 0xBA55ED50u

enum rg_image_kind {
    RG_IMAGE_UNKNOWN = 0,
    RG_IMAGE_WRAPPER,   /* __fatBinC_Wrapper_t */
    RG_IMAGE_CONTAINER, /* fatbin container */
    RG_IMAGE_ELF,       /* bare cubin */
    RG_IMAGE_ARCHIVE,   /* !<arch> device library */
    RG_IMAGE_PTX,       /* NUL-terminated PTX text */
};

enum rg_entry_kind { RG_ENTRY_PTX = 1, RG_ENTRY_ELF = 2, RG_ENTRY_LTOIR = 8 };

enum rg_fatbin_status {
    RG_FATBIN_OK = 0,
    RG_FATBIN_MALFORMED,   /* bad magic, truncated header, entry past the end */
    RG_FATBIN_NO_PTX,      /* no usable PTX entry (e.g. SASS only) */
    RG_FATBIN_DECOMPRESS,  /* compressed payload failed to decompress */
    RG_FATBIN_NOMEM,
};

/* Sniff the first bytes of an image passed to cuModuleLoadData & co. */
enum rg_image_kind rg_image_kind(const void *image);

typedef struct rg_fatbin_entry {
    enum rg_entry_kind kind;
    unsigned arch;           /* sm / compute number, e.g. 120 */
    unsigned ptx_version;    /* major*10+minor for PTX entries */
    uint64_t flags;
    const uint8_t *payload;  /* as stored (maybe compressed) */
    size_t payload_size;     /* bytes of payload as stored */
    size_t uncompressed_size; /* 0 if not compressed */
} rg_fatbin_entry;

/* Size in bytes of the container at `c` (header + entries), or 0 if it is not a
 * valid container header. `avail` bounds what may be read (SIZE_MAX if unknown). */
size_t rg_fatbin_container_size(const void *c, size_t avail);

/* Visit every entry of one container. Returns RG_FATBIN_MALFORMED if any
 * header is inconsistent with the container's size. The callback returns
 * nonzero to stop early. */
enum rg_fatbin_status rg_fatbin_foreach(const void *container, size_t avail,
                                        int (*fn)(const rg_fatbin_entry *e, void *arg),
                                        void *arg);

/* Decompress (or copy) an entry's payload into a new malloc'd buffer, trailing
 * NULs of PTX stripped and a NUL appended. Caller frees *out. */
enum rg_fatbin_status rg_fatbin_entry_data(const rg_fatbin_entry *e, char **out, size_t *out_size);

/* From any image kind (wrapper v1/v2, container, PTX text), collect the PTX a
 * device of architecture `max_arch` can run: for each container, the newest
 * PTX entry whose arch is <= max_arch. A version-2 wrapper contributes its
 * data container and every linked container (the PTX-only -rdc build puts the
 * code there). Returns malloc'd NUL-terminated PTX texts in *ptx (array of
 * *count strings; free each and the array with rg_fatbin_free_ptx). A plain
 * PTX image yields one text. RG_FATBIN_NO_PTX when the image holds only SASS
 * (the log in `why` names the architectures found). */
enum rg_fatbin_status rg_image_extract_ptx(const void *image, unsigned max_arch, char ***ptx,
                                           size_t *count, char *why, size_t why_size);
void rg_fatbin_free_ptx(char **ptx, size_t count);

/* Bytes of a self-describing image (wrapper: not contiguous, returns 0;
 * container: header+entries; ELF: max of section/program table ends and
 * section ends; PTX: strlen+1). 0 if unknown or malformed. */
size_t rg_image_size(const void *image);

/* rg_image_size for an image of which only `avail` bytes may be read: 0 when
 * the image's own description (ELF tables, container size) runs past them. */
size_t rg_image_size_avail(const void *image, size_t avail);

#endif
