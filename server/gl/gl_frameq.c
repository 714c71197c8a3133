/* gl_frameq.c — the newest unsent frame of each channel, and frames in the
 * X window's layout (gl_frameq.h). */
#include <stdlib.h>

#include "gl_frameq.h"

int fq_put(struct fq *q, const struct fq_frame *f)
{
    for (size_t i = 0; i < q->n; i++) {
        struct fq_frame *w = &q->f[i];
        if (w->chan != f->chan) continue;
        q->dropped++;
        if ((int32_t)(f->seq - w->seq) < 0) { /* older than the one waiting: it goes */
            free(f->px);
            return 1;
        }
        uint64_t order = w->order; /* its place in line stays */
        free(w->px);
        *w = *f;
        w->order = order;
        return 1;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 4;
        struct fq_frame *nf = realloc(q->f, cap * sizeof *nf);
        if (!nf) {
            free(f->px);
            return -1;
        }
        q->f = nf, q->cap = cap;
    }
    q->f[q->n] = *f;
    q->f[q->n++].order = q->next_order++;
    return 0;
}

int fq_take(struct fq *q, struct fq_frame *out)
{
    if (!q->n) return 0;
    size_t k = 0;
    for (size_t i = 1; i < q->n; i++)
        if (q->f[i].order < q->f[k].order) k = i;
    *out = q->f[k];
    q->f[k] = q->f[--q->n];
    return 1;
}

void fq_free(struct fq *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->f[i].px);
    free(q->f);
    *q = (struct fq){0};
}

void gl_frame_layout(void *dst, const void *src, uint32_t w, uint32_t h, int bgra)
{
    size_t row = (size_t)w * 4;
    for (uint32_t y = 0; y < h; y++) { /* top row first; X ignores the fourth byte: 0xff */
        const uint8_t *s = (const uint8_t *)src + (size_t)(h - 1 - y) * row;
        uint8_t *d = (uint8_t *)dst + (size_t)y * row;
        if (bgra) { /* whole pixels: the fourth byte is the top one, little-endian */
            const uint32_t *s32 = (const uint32_t *)(const void *)s;
            uint32_t *d32 = (uint32_t *)(void *)d;
            for (uint32_t x = 0; x < w; x++)
                d32[x] = s32[x] | 0xff000000u;
        } else { /* R G B A -> B G R 0xff, a pixel at a time as one word */
            const uint32_t *s32 = (const uint32_t *)(const void *)s;
            uint32_t *d32 = (uint32_t *)(void *)d;
            for (uint32_t x = 0; x < w; x++) {
                uint32_t p = s32[x];
                d32[x] = (p & 0xff) << 16 | (p & 0xff00) | (p >> 16 & 0xff) | 0xff000000u;
            }
        }
    }
}
