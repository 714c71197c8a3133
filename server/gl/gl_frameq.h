/* gl_frameq.h — the frame sender's queue (server/gl/gl_frames.c): the newest
 * unsent frame of each channel (a client window), nothing older. A frame put
 * while its channel still holds an unsent one replaces it, and the older one
 * is dropped and counted: a client or a wire that is behind gets the latest
 * picture, never a backlog. Frames leave in the order their channels first
 * had one waiting. No locking: the caller's. */
#ifndef RG_SRV_GL_FRAMEQ_H
#define RG_SRV_GL_FRAMEQ_H

#include <stddef.h>
#include <stdint.h>

struct fq_frame {
    uint32_t chan, seq; /* the client's channel and the swap's number in it */
    uint32_t w, h, codecs;
    void *px; /* malloc'd w * h * 4 RGBA bytes (NULL: the readback failed) */
    uint64_t order; /* the queue's */
};

struct fq {
    struct fq_frame *f; /* waiting frames, at most one per channel */
    size_t n, cap;
    uint64_t next_order;
    uint64_t dropped; /* frames replaced before they were sent */
};

/* Queues *f (the queue owns f->px from now on, also on failure). 1 if it
 * replaced an unsent frame of its channel (dropped), 0 if not, -1 if there was
 * no memory (f is freed; the channel's frame, if any, stays). A frame older
 * than the channel's waiting one is the one dropped. */
int fq_put(struct fq *q, const struct fq_frame *f);
/* The frame that has waited longest, out of the queue (the caller owns px):
 * 1, or 0 when none waits. */
int fq_take(struct fq *q, struct fq_frame *out);
void fq_free(struct fq *q);

/* w x h pixels as glReadPixels gave them (rows bottom first; B, G, R, A bytes
 * if bgra, else R, G, B, A) into dst as a frame carries them (gl_desc.h: the X
 * window's rows, top first, B, G, R, 0xff). */
void gl_frame_layout(void *dst, const void *src, uint32_t w, uint32_t h, int bgra);

#endif
