/* integrity.c — cudart's integrity check (table d4082055, ref §5): HMAC-MD2 of
 * the process/thread ids, table and function addresses, time and device
 * identities, computed locally because every input is a client-side value. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md2.h"
#include "tables.h"

static const uint8_t integrity_key[16] = {0x14, 0x6a, 0xdd, 0xae, 0x53, 0xa9, 0xa7, 0x52,
                                          0xaa, 0x08, 0x41, 0x36, 0x0b, 0xf5, 0x5a, 0x9f};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The 48-byte header record. */
static void header_record(uint8_t rec[48], const rg_darkapi_host *h, unsigned version,
                          uint64_t unix_seconds)
{
    put32(rec + 0, (uint32_t)h->driver_version);
    put32(rec + 4, version);
    put32(rec + 8, (uint32_t)getpid());
    put32(rec + 12, (uint32_t)(uintptr_t)pthread_self());
    put64(rec + 16, (uint64_t)(uintptr_t)rg_tbl_cudart_interface);
    put64(rec + 24, (uint64_t)(uintptr_t)rg_tbl_integrity);
    put64(rec + 32, (uint64_t)(uintptr_t)rg_tbl_integrity[1]);
    put64(rec + 40, unix_seconds);
}

/* One 28-byte record per device: UUID, PCI domain, bus, device. */
static CUresult device_record(uint8_t rec[28], const rg_darkapi_host *h, CUdevice dev)
{
    CUuuid uuid;
    int domain = 0, bus = 0, device = 0;
    CUresult rv = h->device_uuid(&uuid, dev);
    if (rv == CUDA_SUCCESS) rv = h->device_pci(&domain, &bus, &device, dev);
    if (rv != CUDA_SUCCESS) return rv;
    memcpy(rec, uuid.bytes, 16);
    put32(rec + 16, (uint32_t)domain);
    put32(rec + 20, (uint32_t)bus);
    put32(rec + 24, (uint32_t)device);
    return CUDA_SUCCESS;
}

static void store_digest(const uint8_t d[16], uint64_t result[2])
{
    for (int w = 0; w < 2; w++) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | d[8 * w + i];
        result[w] = v;
    }
}

/* The hashed message: header record, then one record per device. Caller frees. */
static CUresult build_message(const rg_darkapi_host *h, unsigned version, uint64_t unix_seconds,
                              uint8_t **out, size_t *len)
{
    int count = 0;
    CUresult rv = h->device_count(&count);
    if (rv != CUDA_SUCCESS) return rv;
    if (count < 0 || count > 4096) return CUDA_ERROR_INVALID_VALUE;
    uint8_t *msg = malloc(48 + 28 * (size_t)count);
    if (!msg) return CUDA_ERROR_OUT_OF_MEMORY;
    header_record(msg, h, version, unix_seconds);
    for (int dev = 0; dev < count && rv == CUDA_SUCCESS; dev++)
        rv = device_record(msg + 48 + 28 * (size_t)dev, h, dev);
    if (rv != CUDA_SUCCESS) {
        free(msg);
        return rv;
    }
    *out = msg;
    *len = 48 + 28 * (size_t)count;
    return CUDA_SUCCESS;
}

CUresult rg_integrity_hash(unsigned version, uint64_t unix_seconds, uint64_t result[2])
{
    const rg_darkapi_host *h = rg_darkapi_host_get();
    if (!result) return CUDA_ERROR_INVALID_VALUE;
    if (version % 10 < 2) { /* fixed answers for the first two calls */
        result[0] = version % 10 == 0 ? 0x3341181C03CB675Cull : 0x1841181C03CB675Cull;
        result[1] = 0x8ED383AA1F4CD1E8ull;
        return CUDA_SUCCESS;
    }
    if (!h || !h->device_count || !h->device_uuid || !h->device_pci)
        return CUDA_ERROR_NOT_INITIALIZED;
    uint8_t *msg, digest[RG_MD2_DIGEST];
    size_t len;
    CUresult rv = build_message(h, version, unix_seconds, &msg, &len);
    rg_log(RG_LOG_DEBUG, "integrity check: version %u, %zu-byte message -> %d", version,
           rv == CUDA_SUCCESS ? len : 0, (int)rv);
    if (rv != CUDA_SUCCESS) return rv;
    rg_hmac_md2(integrity_key, msg, len, digest);
    free(msg);
    store_digest(digest, result);
    return CUDA_SUCCESS;
}

static CUresult integrity_enable(int flag)
{
    return CUDA_SUCCESS;
}

const rg_slot rg_tbl_integrity[3] = {
    RG_SLOT_SIZE(3),
    RG_SLOT_FN(rg_integrity_hash),
    RG_SLOT_FN(integrity_enable),
};
