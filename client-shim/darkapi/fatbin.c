/* fatbin.c — fatbin containers (0xBA55ED50): header check, bounded walk of the
 * entries, and decompression of one entry's payload (LZ4 block or Zstandard
 * frame). Format: shared/ref/dark-api-and-fatbin.md §6.2–6.3. */
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "fatbin.h"

#define CONTAINER_HDR 16
#define ENTRY_HDR_MIN 64
#define FLAG_OLD_COMPRESS 0x1000u
#define FLAG_LZ4 0x2000u
#define FLAG_ZSTD 0x8000u
#define MAX_PAYLOAD ((uint64_t)1 << 31) /* larger than any real entry; guards garbage */

/* Little-endian reads from possibly unaligned memory. */
static uint64_t rd(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

size_t rg_fatbin_container_size(const void *c, size_t avail)
{
    const uint8_t *p = c;
    if (!p || avail < CONTAINER_HDR) return 0;
    if (rd(p, 4) != RG_FATBIN_MAGIC || rd(p + 4, 2) != 1) return 0;
    uint64_t hdr = rd(p + 6, 2), body = rd(p + 8, 8);
    if (hdr < CONTAINER_HDR || body > SIZE_MAX - hdr || hdr + body > avail) return 0;
    return (size_t)(hdr + body);
}

/* Decode the entry header at p (at most `left` readable bytes). */
static enum rg_fatbin_status parse_entry(const uint8_t *p, size_t left, rg_fatbin_entry *e,
                                         size_t *advance)
{
    if (left < ENTRY_HDR_MIN) return RG_FATBIN_MALFORMED;
    uint64_t hdr = rd(p + 4, 4), stored = rd(p + 8, 8);
    if (hdr < ENTRY_HDR_MIN || hdr > left || stored > left - hdr) return RG_FATBIN_MALFORMED;
    memset(e, 0, sizeof *e);
    e->kind = (enum rg_entry_kind)rd(p, 2);
    e->ptx_version = (unsigned)(rd(p + 26, 2) * 10 + rd(p + 24, 2));
    e->arch = (unsigned)rd(p + 28, 4);
    e->flags = rd(p + 40, 8);
    e->payload = p + hdr;
    e->payload_size = (size_t)stored;
    if (e->flags & (FLAG_LZ4 | FLAG_ZSTD)) {
        uint64_t csize = rd(p + 16, 4), usize = rd(p + 56, 8);
        if (csize == 0) csize = stored;
        if (csize > stored || usize == 0 || usize > MAX_PAYLOAD) return RG_FATBIN_MALFORMED;
        e->payload_size = (size_t)csize;
        e->uncompressed_size = (size_t)usize;
    }
    *advance = (size_t)(hdr + stored);
    return RG_FATBIN_OK;
}

enum rg_fatbin_status rg_fatbin_foreach(const void *container, size_t avail,
                                        int (*fn)(const rg_fatbin_entry *e, void *arg), void *arg)
{
    size_t size = rg_fatbin_container_size(container, avail);
    if (size == 0) return RG_FATBIN_MALFORMED;
    const uint8_t *p = container;
    size_t off = (size_t)rd(p + 6, 2);
    while (off < size) {
        rg_fatbin_entry e;
        size_t advance;
        enum rg_fatbin_status st = parse_entry(p + off, size - off, &e, &advance);
        if (st != RG_FATBIN_OK) return st;
        if (fn && fn(&e, arg)) break;
        off += advance;
    }
    return RG_FATBIN_OK;
}

/* Payload bytes after decompression into a new buffer with room for a NUL. */
static enum rg_fatbin_status inflate(const rg_fatbin_entry *e, uint8_t **out, size_t *len)
{
    size_t n = e->uncompressed_size ? e->uncompressed_size : e->payload_size;
    if ((uint64_t)n > MAX_PAYLOAD) return RG_FATBIN_MALFORMED;
    uint8_t *buf = malloc(n + 1);
    if (!buf) return RG_FATBIN_NOMEM;
    int ok;
    if (e->flags & FLAG_LZ4) {
        ok = e->payload_size <= (size_t)INT32_MAX &&
             LZ4_decompress_safe((const char *)e->payload, (char *)buf, (int)e->payload_size,
                                 (int)n) == (int)n;
    } else if (e->flags & FLAG_ZSTD) {
        size_t r = ZSTD_decompress(buf, n, e->payload, e->payload_size);
        ok = !ZSTD_isError(r) && r == n;
    } else {
        ok = !(e->flags & FLAG_OLD_COMPRESS);
        if (ok) memcpy(buf, e->payload, n);
    }
    if (!ok) {
        free(buf);
        return RG_FATBIN_DECOMPRESS;
    }
    *out = buf;
    *len = n;
    return RG_FATBIN_OK;
}

enum rg_fatbin_status rg_fatbin_entry_data(const rg_fatbin_entry *e, char **out, size_t *out_size)
{
    if (!e || !out || !out_size || (!e->payload && e->payload_size)) return RG_FATBIN_MALFORMED;
    uint8_t *buf;
    size_t n;
    enum rg_fatbin_status st = inflate(e, &buf, &n);
    if (st != RG_FATBIN_OK) return st;
    if (e->kind == RG_ENTRY_PTX) {
        while (n > 0 && buf[n - 1] == '\0')
            n--;
    }
    buf[n] = '\0';
    *out = (char *)buf;
    *out_size = n;
    return RG_FATBIN_OK;
}
