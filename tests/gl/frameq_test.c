/* frameq_test.c — the frame sender's queue and frame layouts (server/gl/gl_frameq.c):
 * the newest unsent frame of a channel replaces an older one (counted as
 * dropped), an older one never replaces a newer, channels keep their place in
 * line, and pixels read back by GL (rows bottom first, RGBA or BGRA) become
 * the X ZPixmap layout byte for byte as worked out by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gl_frameq.h"

static int fails;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL line %d: %s\n", __LINE__, #cond);                                         \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

static struct fq_frame frame(uint32_t chan, uint32_t seq)
{
    struct fq_frame f = {.chan = chan, .seq = seq, .w = 1, .h = 1, .px = malloc(4)};
    memcpy(f.px, &seq, 4);
    return f;
}

static void queue(void)
{
    struct fq q = {0};
    struct fq_frame f;
    EXPECT(fq_take(&q, &f) == 0);
    struct fq_frame a = frame(1, 1), b = frame(2, 1), c = frame(1, 2), d = frame(1, 1);
    EXPECT(fq_put(&q, &a) == 0);
    EXPECT(fq_put(&q, &b) == 0);
    EXPECT(fq_put(&q, &c) == 1); /* channel 1's swap 1 was not sent: swap 2 takes its place */
    EXPECT(q.dropped == 1 && q.n == 2);
    EXPECT(fq_put(&q, &d) == 1); /* older than what waits: it is the one dropped */
    EXPECT(q.dropped == 2 && q.n == 2);
    EXPECT(fq_take(&q, &f) == 1); /* channel 1 had a frame waiting first */
    EXPECT(f.chan == 1 && f.seq == 2 && *(uint32_t *)f.px == 2);
    free(f.px);
    EXPECT(fq_take(&q, &f) == 1);
    EXPECT(f.chan == 2 && f.seq == 1);
    free(f.px);
    EXPECT(fq_take(&q, &f) == 0);
    for (uint32_t i = 0; i < 100; i++) { /* many channels: the queue grows, order kept */
        struct fq_frame g = frame(100 + i, 7);
        EXPECT(fq_put(&q, &g) == 0);
    }
    for (uint32_t i = 0; i < 50; i++) {
        EXPECT(fq_take(&q, &f) == 1 && f.chan == 100 + i);
        free(f.px);
    }
    fq_free(&q); /* the rest freed (valgrind/ASan builds check) */
    EXPECT(q.n == 0 && q.f == NULL);
}

static void layout(void)
{
    /* 2 x 2 pixels as GL reads them: the bottom row first */
    const uint8_t rgba[16] = {1, 2, 3, 4, 5, 6, 7, 8, /* bottom: p00 p01 */
                              9, 10, 11, 12, 13, 14, 15, 16}; /* top: p10 p11 */
    const uint8_t bgra[16] = {3, 2, 1, 4, 7, 6, 5, 8, 11, 10, 9, 12, 15, 14, 13, 16};
    /* the window's rows: top first, B G R then 0xff */
    const uint8_t ximage[16] = {11, 10, 9, 255, 15, 14, 13, 255, 3, 2, 1, 255, 7, 6, 5, 255};
    uint8_t out[16];
    gl_frame_layout(out, rgba, 2, 2, 0);
    EXPECT(!memcmp(out, ximage, 16));
    memset(out, 0, 16);
    gl_frame_layout(out, bgra, 2, 2, 1);
    EXPECT(!memcmp(out, ximage, 16));
}

int main(void)
{
    queue();
    layout();
    if (fails) return 1;
    printf("OK\n");
    return 0;
}
