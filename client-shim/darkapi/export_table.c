/* export_table.c — cuGetExportTable: maps the UUIDs cudart asks for (ref §3)
 * to the tables the other darkapi files define, and holds the host operations
 * the driver installs. Other ids fail with NOT_FOUND and a NULL table; each
 * one is logged once per process, with the library that asked, so the tables
 * a library misses are visible (docs/libraries.md "Export tables"): a known
 * one not served at info, an unknown one at warn. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "tables.h"

static _Atomic(const rg_darkapi_host *) installed_host;

void rg_darkapi_set_host(const rg_darkapi_host *host)
{
    atomic_store(&installed_host, host);
}

const rg_darkapi_host *rg_darkapi_host_get(void)
{
    return atomic_load(&installed_host);
}

struct known_table {
    uint8_t id[16];
    const char *name;
    const rg_slot *table; /* NULL: known but deliberately refused */
};

/* clang-format off */
static const struct known_table known[] = {
    {{0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a, 0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9},
     "CUDART_INTERFACE", rg_tbl_cudart_interface},
    {{0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74, 0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66},
     "TOOLS_RUNTIME_CALLBACK_HOOKS", rg_tbl_callback_hooks},
    {{0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47, 0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc},
     "TOOLS_TLS", rg_tbl_tools_tls},
    {{0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11, 0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93},
     "CONTEXT_LOCAL_STORAGE", rg_tbl_ctx_storage},
    {{0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43, 0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e},
     "CONTEXT_CHECKS", rg_tbl_ctx_checks},
    {{0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b, 0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2},
     "INTEGRITY_CHECK", rg_tbl_integrity},
    /* cuBLAS / cuBLASLt / cuFFT; only the slots seen called work (ctx_identity.c). */
    {{0x21, 0x31, 0x8c, 0x60, 0x97, 0x14, 0x32, 0x48, 0x8c, 0xa6, 0x41, 0xff, 0x73, 0x24, 0xc8, 0xf2},
     "CONTEXT_IDENTITY (21318c60)", rg_tbl_ctx_identity},
    /* Composite table of unknown layout; cudart 13.0 accepts any error (ref §4.7). */
    {{0xf8, 0xcf, 0xf9, 0x51, 0x21, 0x46, 0x8b, 0x4e, 0xb9, 0xe2, 0xfb, 0x46, 0x9e, 0x7c, 0x0d, 0xd9},
     "f8cff951 (Wine: Relay12; cudart, cuBLAS: NOT_FOUND accepted)", NULL},
    /* NVRTC 13.0 asks; it compiles without it (docs/libraries.md). */
    {{0xda, 0x91, 0x51, 0xd3, 0x3a, 0xe6, 0xcc, 0x41, 0xa5, 0xc0, 0x4f, 0x26, 0xd5, 0x33, 0xe3, 0x28},
     "da9151d3 (Wine: Relay14; NVRTC: NOT_FOUND accepted)", NULL},
    /* cuFFT 12.0 asks and gives up without it; slot 7's meaning is unknown. */
    {{0x6e, 0x16, 0x3f, 0xbe, 0xb9, 0x58, 0x44, 0x4d, 0x83, 0x5c, 0xe1, 0x82, 0xaf, 0xf1, 0x99, 0x1e},
     "6e163fbe (Wine: Relay9; cuFFT fails without it)", NULL},
};
/* clang-format on */

/* Raw byte order with dashes after bytes 4, 6, 8 and 10, as in the ref doc. */
static void uuid_text(const uint8_t *b, char out[37])
{
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        p += sprintf(p, "%02x", b[i]);
    }
}

/* The ids answered NOT_FOUND so far: each is logged once (the first MAX_SEEN). */
#define MAX_SEEN 64
static struct {
    pthread_mutex_t mu;
    uint8_t id[MAX_SEEN][16];
    int n;
} seen = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int first_refusal(const uint8_t *id)
{
    int first = 1;
    pthread_mutex_lock(&seen.mu);
    for (int i = 0; first && i < seen.n; i++)
        first = memcmp(seen.id[i], id, 16) != 0;
    if (first && seen.n < MAX_SEEN)
        memcpy(seen.id[seen.n++], id, 16);
    else if (first)
        first = 0; /* past the bound: quiet rather than a line per call */
    pthread_mutex_unlock(&seen.mu);
    return first;
}

CUresult rg_darkapi_export_table_from(const void **table, const CUuuid *id, const char *caller)
{
    if (!table || !id) {
        if (table) *table = NULL;
        return CUDA_ERROR_INVALID_VALUE;
    }
    char text[37];
    const char *by = caller && *caller ? " asked by " : "", *who = caller ? caller : "";
    uuid_text((const uint8_t *)id->bytes, text);
    *table = NULL;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (memcmp(known[i].id, id->bytes, 16) != 0) continue;
        *table = known[i].table;
        if (known[i].table || !first_refusal((const uint8_t *)id->bytes))
            rg_log(RG_LOG_DEBUG, "cuGetExportTable(%s) %s%s%s -> %s", text, known[i].name, by, who,
                   known[i].table ? "table" : "NOT_FOUND");
        else
            rg_log(RG_LOG_INFO, "cuGetExportTable(%s) %s%s%s: not served (NOT_FOUND)", text,
                   known[i].name, by, who);
        return known[i].table ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
    }
    if (first_refusal((const uint8_t *)id->bytes))
        rg_log(RG_LOG_WARN, "cuGetExportTable: unknown export table %s%s%s: NOT_FOUND", text, by,
               who);
    else
        rg_log(RG_LOG_DEBUG, "cuGetExportTable(%s)%s%s -> NOT_FOUND (unknown)", text, by, who);
    return CUDA_ERROR_NOT_FOUND;
}

CUresult rg_darkapi_export_table(const void **table, const CUuuid *id)
{
    return rg_darkapi_export_table_from(table, id, NULL);
}
