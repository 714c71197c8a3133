/* image.c — code images as cuModuleLoadData & co. receive them: sniffing the
 * kind, sizing ELF cubins, and collecting the PTX a device can run from a
 * __fatBinC_Wrapper_t (v1 or v2), a container or plain text (ref §6). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fatbin.h"

#define MAX_LINKED 65536 /* bound on a v2 wrapper's NULL-terminated array */

/* Compare a prefix byte by byte so a short NUL-terminated text is never overread. */
static int has_prefix(const uint8_t *p, size_t avail, const char *magic, size_t n)
{
    if (n > avail) return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)magic[i]) return 0;
    return 1;
}

static enum rg_image_kind image_kind(const uint8_t *p, size_t avail)
{
    if (!p || avail == 0 || !p[0]) return RG_IMAGE_UNKNOWN;
    if (has_prefix(p, avail, "\xb1\x43\x62\x46", 4)) return RG_IMAGE_WRAPPER;
    if (has_prefix(p, avail, "\x50\xed\x55\xba", 4)) return RG_IMAGE_CONTAINER;
    if (has_prefix(p, avail,
                   "\x7f"
                   "ELF",
                   4))
        return RG_IMAGE_ELF;
    if (has_prefix(p, avail, "!<arch>\n", 8)) return RG_IMAGE_ARCHIVE;
    return RG_IMAGE_PTX;
}

enum rg_image_kind rg_image_kind(const void *image)
{
    return image_kind(image, SIZE_MAX);
}

static uint64_t rd(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* max(end of section table, end of program table, end of every non-NOBITS
 * section): nvcc puts program headers after section headers. */
static size_t elf_size(const uint8_t *p, size_t avail)
{
    const uint64_t cap = (uint64_t)1 << 32;
    if (avail < 64 || p[4] != 2 || p[5] != 1) return 0; /* 64-bit little-endian only */
    uint64_t phoff = rd(p + 32, 8), shoff = rd(p + 40, 8);
    uint64_t phent = rd(p + 54, 2), phnum = rd(p + 56, 2);
    uint64_t shent = rd(p + 58, 2), shnum = rd(p + 60, 2);
    if (phoff > cap || shoff > cap || (shnum && shent < 64)) return 0;
    uint64_t end = 64;
    if (phoff + phent * phnum > end) end = phoff + phent * phnum;
    if (shoff + shent * shnum > end) end = shoff + shent * shnum;
    if (end > avail) return 0; /* the tables themselves must be readable */
    for (uint64_t i = 0; i < shnum; i++) {
        const uint8_t *sh = p + shoff + i * shent;
        uint64_t off = rd(sh + 24, 8), size = rd(sh + 32, 8);
        if (rd(sh + 4, 4) == 8 /* SHT_NOBITS */) continue;
        if (off > cap || size > cap) return 0;
        if (off + size > end) end = off + size;
    }
    return (size_t)end;
}

size_t rg_image_size_avail(const void *image, size_t avail)
{
    size_t n;
    if (!image || avail == 0) return 0;
    switch (image_kind(image, avail)) {
    case RG_IMAGE_CONTAINER:
        return rg_fatbin_container_size(image, avail);
    case RG_IMAGE_ELF:
        n = elf_size(image, avail);
        break;
    case RG_IMAGE_PTX:
        n = (avail == SIZE_MAX ? strlen(image) : strnlen(image, avail)) + 1;
        break;
    default:
        return 0;
    }
    return n <= avail ? n : 0;
}

size_t rg_image_size(const void *image)
{
    return rg_image_size_avail(image, SIZE_MAX);
}

/* ---- PTX extraction ------------------------------------------------------ */

struct ptx_list {
    char **v;
    size_t n, cap;
    char *why;
    size_t why_size, why_len;
};

static void why_add(struct ptx_list *l, const char *fmt, ...)
{
    if (!l->why || l->why_len + 1 >= l->why_size) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->why + l->why_len, l->why_size - l->why_len, fmt, ap);
    va_end(ap);
    if (k > 0) l->why_len += (size_t)k;
    if (l->why_len >= l->why_size) l->why_len = l->why_size - 1;
}

static enum rg_fatbin_status list_push(struct ptx_list *l, char *text)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(text);
            return RG_FATBIN_NOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = text;
    return RG_FATBIN_OK;
}

struct pick {
    unsigned max_arch;
    rg_fatbin_entry best;
    int found;
    struct ptx_list *list; /* for the `why` text */
};

/* Newest PTX entry not above max_arch; every entry is named in `why`. */
static int pick_entry(const rg_fatbin_entry *e, void *arg)
{
    struct pick *pk = arg;
    const char *what = e->kind == RG_ENTRY_PTX   ? "compute"
                       : e->kind == RG_ENTRY_ELF ? "sm"
                                                 : "other";
    why_add(pk->list, " %s_%u", what, e->arch);
    if (e->kind != RG_ENTRY_PTX || e->arch > pk->max_arch) return 0;
    if (!pk->found || e->arch > pk->best.arch ||
        (e->arch == pk->best.arch && e->ptx_version > pk->best.ptx_version)) {
        pk->best = *e;
        pk->found = 1;
    }
    return 0;
}

/* Add the chosen PTX of one container (none is fine: SASS-only containers). */
static enum rg_fatbin_status from_container(const void *c, unsigned max_arch, struct ptx_list *l)
{
    struct pick pk = {.max_arch = max_arch, .list = l};
    enum rg_fatbin_status st = rg_fatbin_foreach(c, SIZE_MAX, pick_entry, &pk);
    if (st != RG_FATBIN_OK || !pk.found) return st;
    char *text;
    size_t len;
    st = rg_fatbin_entry_data(&pk.best, &text, &len);
    return st == RG_FATBIN_OK ? list_push(l, text) : st;
}

/* __fatBinC_Wrapper_t: magic, version, data, then (v2) the linked containers. */
static enum rg_fatbin_status from_wrapper(const uint8_t *w, unsigned max_arch, struct ptx_list *l)
{
    uint32_t version = (uint32_t)rd(w + 4, 4);
    const void *data;
    const void *const *linked;
    memcpy(&data, w + 8, sizeof data);
    memcpy(&linked, w + 16, sizeof linked);
    if (version != 1 && version != 2) return RG_FATBIN_MALFORMED;
    if (!data) return RG_FATBIN_MALFORMED;
    enum rg_fatbin_status st = from_container(data, max_arch, l);
    for (size_t i = 0; version == 2 && linked && st == RG_FATBIN_OK && linked[i]; i++) {
        if (i == MAX_LINKED) return RG_FATBIN_MALFORMED;
        st = from_container(linked[i], max_arch, l);
    }
    return st;
}

static enum rg_fatbin_status from_image(const void *image, unsigned max_arch, struct ptx_list *l)
{
    char *text;
    switch (rg_image_kind(image)) {
    case RG_IMAGE_WRAPPER:
        return from_wrapper(image, max_arch, l);
    case RG_IMAGE_CONTAINER:
        return from_container(image, max_arch, l);
    case RG_IMAGE_PTX:
        if (!(text = strdup(image))) return RG_FATBIN_NOMEM;
        return list_push(l, text);
    case RG_IMAGE_ELF:
        why_add(l, " ELF cubin");
        return RG_FATBIN_OK;
    case RG_IMAGE_ARCHIVE:
        why_add(l, " device library archive");
        return RG_FATBIN_OK;
    default:
        return RG_FATBIN_MALFORMED;
    }
}

enum rg_fatbin_status rg_image_extract_ptx(const void *image, unsigned max_arch, char ***ptx,
                                           size_t *count, char *why, size_t why_size)
{
    struct ptx_list l = {.why = why, .why_size = why_size};
    if (why && why_size) why[0] = '\0';
    if (!ptx || !count) return RG_FATBIN_MALFORMED;
    *ptx = NULL;
    *count = 0;
    why_add(&l, "no PTX for arch <= %u; image holds:", max_arch);
    enum rg_fatbin_status st = from_image(image, max_arch, &l);
    if (st == RG_FATBIN_OK && l.n == 0) st = RG_FATBIN_NO_PTX;
    if (st != RG_FATBIN_OK) {
        if (why && why_size && st != RG_FATBIN_NO_PTX)
            snprintf(why, why_size, "%s",
                     st == RG_FATBIN_DECOMPRESS ? "decompression failed"
                     : st == RG_FATBIN_NOMEM    ? "out of memory"
                                                : "malformed image");
        rg_fatbin_free_ptx(l.v, l.n);
        return st;
    }
    if (why && why_size) why[0] = '\0';
    *ptx = l.v;
    *count = l.n;
    return RG_FATBIN_OK;
}

void rg_fatbin_free_ptx(char **ptx, size_t count)
{
    for (size_t i = 0; ptx && i < count; i++)
        free(ptx[i]);
    free(ptx);
}
