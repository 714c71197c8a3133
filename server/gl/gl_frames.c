/* gl_frames.c — the frame channel (docs/gl.md "Frames"). A window's swap
 * (RG_WS_PRESENT_ASYNC) starts the colour readback into one of the current
 * context's two pixel-pack buffers, with a fence, and returns at once: no
 * reply, the client goes on with its next frame. The readback is collected
 * (fence, map, copy) when the next swap has started its own, when the lane
 * has nothing else to run, or before the context stops being current; then
 * the session's frame sender, a thread of its own, compresses the frame and
 * sends it as a NOTIFY. The sender holds only the newest unsent frame of each
 * channel (gl_frameq.h): when the wire or the client is behind, older frames
 * are dropped, not queued. Every swap the client counts on is answered by a
 * frame of its number or a later one (an empty frame when the readback failed),
 * so the client's credit always comes back. Contexts without pixel buffers
 * (GL ES 2.0, desktop GL before 2.1) read straight into memory. */
#include <lz4.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gl_frameq.h"
#include "gl_server.h"
#include "log.h"
#include "session.h"

_Static_assert(SRV_NOTIFY_GL_FRAME == RG_GL_NOTIFY_FRAME, "one NOTIFY kind on both sides");

#define FENCE_WAIT_NS 2000000000ull /* a readback not done in 2 s is sent empty */

struct gl_pending { /* one readback on its way into a pixel-pack buffer */
    GLuint pbo;
    size_t cap; /* the buffer's size */
    GLsync fence;
    int busy;
    uint32_t chan, seq, w, h, codecs;
    int bgra; /* read as BGRA */
};

struct gl_frames {
    struct gl_pending p[2];
    int next; /* the one the next swap reads into */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct session *s;
    int started; /* the sender: 0 not yet, 1 running, -1 could not start */
    int sending; /* a frame is being coded and sent (by the sender or an idle lane) */
    struct fq q;
    uint64_t sent;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static _Atomic int frames_used; /* a swap was seen: idle lanes look for frames */
static __thread int lane_idle;  /* this lane sends what it puts itself */

void gl_frames_session(struct session *s)
{
    pthread_mutex_lock(&S.mu);
    S.s = s;
    pthread_mutex_unlock(&S.mu);
}

/* ---- the sender ------------------------------------------------------------------------ */

uint32_t gl_frame_code(const void *px, size_t n, uint32_t codecs, char **z, struct iovec *out)
{
    int bound = n && n <= (size_t)LZ4_MAX_INPUT_SIZE ? LZ4_compressBound((int)n) : 0;
    *out = (struct iovec){(void *)px, n};
    *z = (codecs & RG_FRAME_LZ4) && bound > 0 ? malloc((size_t)bound) : NULL;
    int zn = *z ? LZ4_compress_default((const char *)px, *z, (int)n, bound) : 0;
    if (zn <= 0 || (size_t)zn >= n) return 0; /* lossless: lz4 only when it saves bytes */
    *out = (struct iovec){*z, (size_t)zn};
    return RG_FRAME_LZ4;
}

/* NOTIFY RG_NOTIFY_GL_FRAME: u32 chan, u32 seq, u32 w, u32 h, u32 codec,
 * u32 frames the sender dropped so far; raw: the frame, coded (w = h = 0:
 * none, the readback failed). */
static void send_frame(struct session *s, struct fq_frame *f, uint64_t dropped)
{
    char *z = NULL;
    struct iovec raw = {NULL, 0};
    uint32_t codec = 0, w = f->px ? f->w : 0, h = f->px ? f->h : 0;
    if (f->px) codec = gl_frame_code(f->px, (size_t)w * h * 4, f->codecs, &z, &raw);
    size_t n = raw.iov_len;
    if (n > RPC_MAX_RAW_LEN) { /* one NOTIFY carries it, or the client gets none */
        srv_warn("GL: a %ux%u frame codes to %zu bytes, more than a frame may carry: not sent",
                 f->w, f->h, n);
        raw.iov_len = n = 0, w = h = 0, codec = 0;
    }
    uint32_t enc[6] = {f->chan, f->seq, w, h, codec, (uint32_t)dropped};
    uint8_t b[sizeof enc];
    rpc_wbuf wb;
    rpc_wbuf_init(&wb, b, sizeof b);
    for (int i = 0; i < 6; i++)
        rpc_put_u32(&wb, enc[i]);
    rpc_hdr hd = {.type = RPC_T_NOTIFY, .op = SRV_NOTIFY_GL_FRAME};
    if (!atomic_load(&s->closing)) session_send(s, &hd, b, wb.len, &raw, n ? 1 : 0);
    free(z);
}

/* S.mu held, S.sending taken: sends waiting frames until none is left, or
 * just one (once). One sender at a time keeps each channel's frames in order. */
static void send_waiting_locked(int once)
{
    struct fq_frame f;
    while (fq_take(&S.q, &f)) {
        struct session *s = S.s;
        if (!s) { /* the session is over */
            free(f.px);
            continue;
        }
        uint64_t dropped = S.q.dropped;
        pthread_mutex_unlock(&S.mu);
        send_frame(s, &f, dropped);
        free(f.px);
        pthread_mutex_lock(&S.mu);
        if (++S.sent % 1024 == 0)
            srv_debug("GL: %llu frames sent, %llu dropped (the client or the wire was behind)",
                      (unsigned long long)S.sent, (unsigned long long)S.q.dropped);
        if (once) break;
    }
}

/* The sender codes and sends while the lanes render; a lane with nothing
 * else to run sends its frames itself (gl_lane_idle), saving a wake-up. */
static void *sender_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&S.mu);
    for (;;) {
        if (S.sending || !S.q.n) {
            pthread_cond_wait(&S.cv, &S.mu);
            continue;
        }
        S.sending = 1;
        send_waiting_locked(1);
        S.sending = 0;
    }
    return NULL;
}

/* Hands a frame to the sender (which owns px from now on). */
static void sender_put(uint32_t chan, uint32_t seq, uint32_t w, uint32_t h, uint32_t codecs,
                       void *px)
{
    struct fq_frame f = {.chan = chan, .seq = seq, .w = w, .h = h, .codecs = codecs, .px = px};
    pthread_mutex_lock(&S.mu);
    if (!S.started) {
        pthread_t t;
        S.started = pthread_create(&t, NULL, sender_main, NULL) == 0 ? 1 : -1;
        if (S.started > 0) pthread_detach(t);
        else srv_warn("GL: cannot start the frame sender: idle lanes send the frames");
    }
    if (fq_put(&S.q, &f) < 0) /* the client's swap waits in vain: say so */
        srv_err("GL: no memory to queue a frame of channel %u: its swap gets no answer", chan);
    if (!lane_idle) pthread_cond_signal(&S.cv);
    pthread_mutex_unlock(&S.mu);
}

void gl_stop(void)
{
    pthread_mutex_lock(&S.mu);
    S.s = NULL;
    while (S.sending) { /* a frame on its way: the connection stays until it is out */
        pthread_mutex_unlock(&S.mu);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        pthread_mutex_lock(&S.mu);
    }
    pthread_mutex_unlock(&S.mu);
}

/* ---- readback -------------------------------------------------------------------------- */

void *gl_frame_read(struct gl_ctx *c, struct gl_surf *sf)
{
    size_t n = (size_t)sf->w * (size_t)sf->h * 4;
    void *read = malloc(n ? n : 1), *px = malloc(n ? n : 1);
    if (read && px && !gl_read_colour(c, sf, 0, read))
        gl_frame_layout(px, read, (uint32_t)sf->w, (uint32_t)sf->h, gl_read_bgra(c, sf));
    else
        free(px), px = NULL;
    free(read);
    return px;
}

static int has_pbo(const struct gl_ctx *c)
{
    int v = c->api == EGL_OPENGL_API ? c->version >= 21 : c->version >= 30;
    return v && G.BufferData && G.UnmapBuffer && (gl_has_map_range(c) || G.MapBuffer);
}

/* The frame in p's buffer out to the sender; p is free again. c is current. */
static void collect(struct gl_ctx *c, struct gl_pending *p)
{
    size_t n = (size_t)p->w * p->h * 4;
    void *px = malloc(n ? n : 1);
    int ok = px != NULL;
    if (p->fence) {
        GLenum r = G.ClientWaitSync ? G.ClientWaitSync(p->fence, GL_SYNC_FLUSH_COMMANDS_BIT,
                                                       FENCE_WAIT_NS)
                                    : GL_ALREADY_SIGNALED;
        if (r != GL_ALREADY_SIGNALED && r != GL_CONDITION_SATISFIED) {
            srv_warn("GL: a frame's readback did not finish (0x%x): sent empty", r);
            ok = 0;
        }
        G.DeleteSync(p->fence);
        p->fence = NULL;
    }
    if (ok) {
        GLint bound = 0;
        G.GetIntegerv(GL_PIXEL_PACK_BUFFER_BINDING, &bound);
        G.BindBuffer(GL_PIXEL_PACK_BUFFER, p->pbo);
        const void *m = gl_has_map_range(c)
                            ? G.MapBufferRange(GL_PIXEL_PACK_BUFFER, 0, (GLsizeiptr)n, GL_MAP_READ_BIT)
                            : G.MapBuffer(GL_PIXEL_PACK_BUFFER, GL_READ_ONLY);
        if (m) {
            gl_frame_layout(px, m, p->w, p->h, p->bgra);
            G.UnmapBuffer(GL_PIXEL_PACK_BUFFER);
        } else {
            srv_warn("GL: cannot map a frame's pixel buffer: sent empty");
            ok = 0;
        }
        G.BindBuffer(GL_PIXEL_PACK_BUFFER, (GLuint)bound);
    }
    if (!ok) free(px), px = NULL;
    p->busy = 0;
    sender_put(p->chan, p->seq, p->w, p->h, p->codecs, px);
}

void gl_frame_present(struct gl_ctx *c, struct gl_surf *sf, uint32_t chan, uint32_t seq,
                      uint32_t codecs)
{
    atomic_store(&frames_used, 1);
    if (!c || !sf) {
        sender_put(chan, seq, 0, 0, codecs, NULL);
        return;
    }
    uint32_t w = (uint32_t)sf->w, h = (uint32_t)sf->h;
    size_t n = (size_t)w * h * 4;
    if (!has_pbo(c)) { /* straight into memory */
        sender_put(chan, seq, w, h, codecs, gl_frame_read(c, sf));
        return;
    }
    if (!c->frames && !(c->frames = calloc(1, sizeof *c->frames))) {
        sender_put(chan, seq, w, h, codecs, NULL);
        return;
    }
    struct gl_frames *fr = c->frames;
    struct gl_pending *p = &fr->p[fr->next], *older = &fr->p[fr->next ^ 1];
    if (p->busy) collect(c, p); /* not left pending since: keep the order */
    GLint bound = 0;
    G.GetIntegerv(GL_PIXEL_PACK_BUFFER_BINDING, &bound);
    if (!p->pbo) G.GenBuffers(1, &p->pbo);
    G.BindBuffer(GL_PIXEL_PACK_BUFFER, p->pbo);
    if (p->cap != n) {
        G.BufferData(GL_PIXEL_PACK_BUFFER, (GLsizeiptr)(n ? n : 4), NULL, GL_STREAM_READ);
        p->cap = n;
    }
    G.BindBuffer(GL_PIXEL_PACK_BUFFER, (GLuint)bound);
    *p = (struct gl_pending){.pbo = p->pbo, .cap = p->cap, .busy = 1, .chan = chan, .seq = seq,
                             .w = w, .h = h, .codecs = codecs, .bgra = gl_read_bgra(c, sf)};
    if (gl_read_colour(c, sf, p->pbo, NULL)) {
        p->busy = 0;
        sender_put(chan, seq, w, h, codecs, NULL);
        return;
    }
    if (G.FenceSync && c->version >= (c->api == EGL_OPENGL_API ? 32 : 30)) /* else: map waits */
        p->fence = G.FenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    fr->next ^= 1;
    if (older->busy) collect(c, older); /* a frame ago: done by now on a GPU */
}

void gl_frames_collect(struct gl_ctx *c)
{
    struct gl_frames *fr = c ? c->frames : NULL;
    if (!fr) return;
    for (int k = 0; k < 2; k++) { /* the older first */
        struct gl_pending *p = &fr->p[fr->next ^ (k == 0)];
        if (p->busy) collect(c, p);
    }
}

void gl_frames_free(struct gl_ctx *c, int current)
{
    struct gl_frames *fr = c->frames;
    if (!fr) return;
    if (current) gl_frames_collect(c);
    for (int k = 0; k < 2; k++) {
        struct gl_pending *p = &fr->p[k];
        if (p->busy) /* not current: unreadable, but the client counts on an answer */
            sender_put(p->chan, p->seq, 0, 0, p->codecs, NULL);
        if (current && p->pbo) G.DeleteBuffers(1, &p->pbo); /* else they go with the share group */
    }
    free(fr);
    c->frames = NULL;
}

void gl_lane_idle(void)
{
    if (!atomic_load(&frames_used)) return;
    struct gl_ctx *c = gl_current();
    lane_idle = 1;
    if (c && c->frames && (c->frames->p[0].busy || c->frames->p[1].busy)) gl_frames_collect(c);
    lane_idle = 0;
    pthread_mutex_lock(&S.mu);
    if (!S.sending && S.q.n) {
        S.sending = 1;
        send_waiting_locked(0);
        S.sending = 0;
        pthread_cond_signal(&S.cv); /* frames put meanwhile by other lanes */
    }
    pthread_mutex_unlock(&S.mu);
}
