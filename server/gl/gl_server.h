/* gl_server.h — the session worker's GL renderer (docs/gl.md): the batch
 * decoder and generic libffi dispatch (gl_exec.c) and the EGL side
 * (gl_egl.c): one EGL context per client context on a surfaceless display,
 * client windows and pbuffers as framebuffer objects with default-framebuffer
 * semantics. Everything runs on the client thread's lane, so the EGL context
 * current on a lane is the one current on that client thread. */
#ifndef RG_SRV_GL_H
#define RG_SRV_GL_H

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"
#include "gl_api.h"
#include "gl_desc.h"

struct session;
struct call;

/* The hook in dispatch.c: runs one GL batch CALL and answers it. Frees cl.
 * 0, or -1 on a protocol error (the session ends). */
int gl_call(struct session *s, struct call *cl);

/* ---- names of one client share group: client name -> real name, per class ---- */
struct gl_names {
    uint32_t *map[RG_GC_N_];
    uint32_t cap[RG_GC_N_];
    void **syncs; /* GLsync by client id */
    uint32_t nsync;
    int refs;
};
#define GL_MAX_NAME (1u << 22) /* client names are minted in sequence */

struct gl_surf {
    uint32_t id;
    int w, h;
    EGLint r, g, b, a, depth, stencil;
    GLuint color_tex, color_rb, ds_rb; /* shared by every context (one share group on the server) */
    int refs;                          /* current somewhere, or alive */
    int destroyed;
};

struct gl_fbo { /* a context's framebuffer object for one surface */
    uint32_t surf;
    GLuint fbo;
    struct gl_fbo *next;
};

struct gl_ctx {
    uint32_t id;
    EGLContext egl;
    uint32_t api; /* EGL_OPENGL_ES_API / EGL_OPENGL_API */
    struct gl_names *names;
    struct gl_surf *draw, *read;
    struct gl_fbo *fbos;
    int was_current;   /* EGL sets viewport and scissor the first time */
    GLint max_attribs; /* GL_MAX_VERTEX_ATTRIBS, asked once */
    int arrays_state;  /* vertex arrays all in buffers: 0 unknown (check at the next draw), 1, -1 */
    int version;       /* major * 10 + minor of the real context, from the first make-current */
    int compat;        /* desktop GL with the fixed-function pipeline */
    int fb_default;    /* the application's framebuffer binding is 0 (the surface's) */
    int current;       /* current on a lane */
    int destroyed;
    struct gl_frames *frames; /* swaps' readbacks in flight (gl_frames.c) */
    int read_bgra;            /* glReadPixels takes GL_BGRA: 0 not asked yet, 1, -1 */
};

struct gl_fns { /* the GL entry points the server itself calls (gl_exec.c loads them) */
    PFNGLGETSTRINGPROC GetString;
    PFNGLGENRENDERBUFFERSPROC GenRenderbuffers;
    PFNGLBINDRENDERBUFFERPROC BindRenderbuffer;
    PFNGLRENDERBUFFERSTORAGEPROC RenderbufferStorage;
    PFNGLDELETERENDERBUFFERSPROC DeleteRenderbuffers;
    PFNGLGENFRAMEBUFFERSPROC GenFramebuffers;
    PFNGLBINDFRAMEBUFFERPROC BindFramebuffer;
    PFNGLFRAMEBUFFERRENDERBUFFERPROC FramebufferRenderbuffer;
    PFNGLVIEWPORTPROC Viewport;
    PFNGLSCISSORPROC Scissor;
    PFNGLGETINTEGERVPROC GetIntegerv;
    PFNGLDELETETEXTURESPROC DeleteTextures;
    PFNGLDELETEBUFFERSPROC DeleteBuffers;
    PFNGLDELETEFRAMEBUFFERSPROC DeleteFramebuffers;
    PFNGLGENTEXTURESPROC GenTextures;
    PFNGLGENBUFFERSPROC GenBuffers;
    PFNGLDELETEPROGRAMPROC DeleteProgram;
    PFNGLDELETESHADERPROC DeleteShader;
    PFNGLSHADERSOURCEPROC ShaderSource;
    PFNGLFINISHPROC Finish;
    PFNGLBINDTEXTUREPROC BindTexture;
    PFNGLTEXIMAGE2DPROC TexImage2D;
    PFNGLFRAMEBUFFERTEXTURE2DPROC FramebufferTexture2D;
    PFNGLGETVERTEXATTRIBIVPROC GetVertexAttribiv;
    PFNGLREADPIXELSPROC ReadPixels;
    PFNGLPIXELSTOREIPROC PixelStorei;
    PFNGLBINDBUFFERPROC BindBuffer;
    /* optional (GL ES 3.0) */
    PFNGLGENVERTEXARRAYSPROC GenVertexArrays;
    PFNGLDELETEVERTEXARRAYSPROC DeleteVertexArrays;
    PFNGLGENQUERIESPROC GenQueries;
    PFNGLDELETEQUERIESPROC DeleteQueries;
    PFNGLGENSAMPLERSPROC GenSamplers;
    PFNGLDELETESAMPLERSPROC DeleteSamplers;
    PFNGLGENTRANSFORMFEEDBACKSPROC GenTransformFeedbacks;
    PFNGLDELETETRANSFORMFEEDBACKSPROC DeleteTransformFeedbacks;
    PFNGLGETSTRINGIPROC GetStringi;
    PFNGLFENCESYNCPROC FenceSync;
    PFNGLDELETESYNCPROC DeleteSync;
    PFNGLCLIENTWAITSYNCPROC ClientWaitSync;
    PFNGLBUFFERDATAPROC BufferData;
    PFNGLMAPBUFFERRANGEPROC MapBufferRange;
    PFNGLUNMAPBUFFERPROC UnmapBuffer;
    void *(*MapBuffer)(GLenum, GLenum); /* desktop GL 1.5 */
    PFNGLFLUSHMAPPEDBUFFERRANGEPROC FlushMappedBufferRange;
    PFNGLGETBUFFERPARAMETERIVPROC GetBufferParameteriv;
    PFNGLGETBUFFERPOINTERVPROC GetBufferPointerv;
    PFNGLISPROGRAMPROC IsProgram;
    PFNGLGETPROGRAMIVPROC GetProgramiv;
    PFNGLGETACTIVEUNIFORMPROC GetActiveUniform;
    PFNGLGETACTIVEATTRIBPROC GetActiveAttrib;
    PFNGLGETUNIFORMLOCATIONPROC GetUniformLocation;
    PFNGLGETATTRIBLOCATIONPROC GetAttribLocation;
    /* optional (desktop GL compatibility) */
    GLuint (*GenLists)(GLsizei);
    void (*DeleteLists)(GLuint, GLsizei);
    void (*ClientActiveTexture)(GLenum);
    GLboolean (*IsEnabled)(GLenum);
};
extern struct gl_fns G;
int gl_fns_load(void); /* 0, or -1 if one is missing */

/* gl_egl.c */
int gl_egl_init(char *why, size_t len); /* once per worker; 0 or -1 */
void *gl_proc(const char *name);        /* eglGetProcAddress */
struct gl_ctx *gl_current(void);        /* this lane's */
/* A window-system command: decoded from rb; a sync one writes its reply. 0,
 * or -1 on a malformed command (protocol error). */
int gl_ws_command(uint32_t op, rpc_rbuf *rb, rpc_wbuf *reply, rpc_wbuf *reply_raw,
                  uint32_t *status);
GLuint gl_surface_fbo(struct gl_ctx *c, struct gl_surf *sf); /* the context's FBO for a surface */
GLuint gl_surface_fbo_made(struct gl_ctx *c, const struct gl_surf *sf); /* the same, 0 if none yet */
/* The surface's colour, rows bottom first, into pixel-pack buffer pbo
 * (non-zero) or dst: BGRA where gl_read_bgra says, else RGBA; the
 * application's bindings and pack state kept. c is current and draws to sf;
 * under the window-system lock. 0 or -1. */
int gl_read_colour(struct gl_ctx *c, struct gl_surf *sf, GLuint pbo, void *dst);
/* Is sf read as GL_BGRA by c (c current)? Where its storage is BGRA and c can:
 * then GL copies rows as they are, as it does for RGBA storage read as RGBA. */
int gl_read_bgra(struct gl_ctx *c, const struct gl_surf *sf);
/* Does c have glMapBufferRange (GL ES 3.0, GL 3.0)? Asking an older context
 * would leave a GL error the application did not cause. */
static inline int gl_has_map_range(const struct gl_ctx *c)
{
    return G.MapBufferRange && c->version >= 30;
}

/* gl_frames.c: the frame channel */
void gl_frames_session(struct session *s); /* where frames are sent */
/* A swap: readback of sf (c current, drawing to it) started for channel
 * chan's frame seq; c NULL: an empty frame answers the swap. */
void gl_frame_present(struct gl_ctx *c, struct gl_surf *sf, uint32_t chan, uint32_t seq,
                      uint32_t codecs);
void gl_frames_collect(struct gl_ctx *c); /* readbacks in flight out to the sender; c current */
void gl_frames_free(struct gl_ctx *c, int current); /* c's readback buffers go */
/* sf's colour as a frame carries it (gl_frameq.h gl_frame_layout), read straight
 * into memory (c current, drawing to sf; window-system lock held): malloc'd, or
 * NULL if the readback failed. */
void *gl_frame_read(struct gl_ctx *c, struct gl_surf *sf);
/* n bytes of frame px as they go on the wire: one LZ4 block where codecs takes
 * it and it saves bytes (*z, which the caller frees, holds it), else px itself;
 * *out says which. The codec bits (RG_FRAME_LZ4 or 0). */
uint32_t gl_frame_code(const void *px, size_t n, uint32_t codecs, char **z, struct iovec *out);


/* gl_exec.c */
GLuint gl_name_lookup(struct gl_ctx *c, unsigned cls, uint32_t name, int create);
void gl_names_put(struct gl_names *n);
void *gl_sync_get(struct gl_names *n, uint32_t id); /* the GLsync of a client id, or NULL */

#endif
