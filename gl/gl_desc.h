/* gl_desc.h — what the client encoder and the server decoder agree on for every
 * forwarded GL command: the generated descriptors (gl/gen/gen_gl.py reads gl.xml
 * and gl/gl.overlay), the argument kinds and their wire form, and the size
 * helpers both sides evaluate (the server recomputes every length itself). */
#ifndef RG_GL_DESC_H
#define RG_GL_DESC_H

#include <stddef.h>
#include <stdint.h>

/* Argument kinds. Wire form in the batch's encoded part, little-endian:
 * scalars up to 32 bits as u32, 64-bit ones and doubles as u64; IN/STR as
 * u32 byte count (RG_GL_NULL for NULL) with the bytes in the raw part, in
 * order; OUT as u32 byte count wanted (RG_GL_NULL for NULL), the bytes come
 * back in the REPLY's raw part; BUFOFF as u32 tag (0: u64 offset into the
 * buffer bound to `bind`, 1: an IN blob). */
enum rg_gl_kind {
    RG_GK_VOID = 0,
    RG_GK_U8,
    RG_GK_I8,
    RG_GK_U16,
    RG_GK_I16,
    RG_GK_U32,
    RG_GK_I32,
    RG_GK_F32,
    RG_GK_U64,
    RG_GK_I64,
    RG_GK_F64,
    RG_GK_IN,         /* const pointer, size from the descriptor */
    RG_GK_OUT,        /* pointer the server fills */
    RG_GK_STR,        /* NUL-terminated input string */
    RG_GK_BUFOFF,     /* an offset into a bound buffer, or client data when none is bound */
    RG_GK_BUFOFF_OUT, /* an offset into a bound buffer, or memory the server fills (u32 tag,
                         then u64 offset or u32 byte count wanted) */
};
#define RG_GL_NULL 0xffffffffu

/* Object classes of gl.xml's `class` attribute that the server translates
 * (client-minted names, docs/gl.md "Names"). */
enum rg_gl_class {
    RG_GC_NONE = 0,
    RG_GC_BUFFER,
    RG_GC_TEXTURE,
    RG_GC_FRAMEBUFFER,
    RG_GC_RENDERBUFFER,
    RG_GC_PROGRAM,
    RG_GC_SHADER,
    RG_GC_VERTEXARRAY,
    RG_GC_QUERY,
    RG_GC_SAMPLER,
    RG_GC_TRANSFORMFEEDBACK,
    RG_GC_SYNC,        /* GLsync: a client-minted id for a server pointer */
    RG_GC_DISPLAYLIST, /* desktop GL compatibility */
    RG_GC_N_
};

/* Command flags. */
#define RG_GF_SYNC 0x01        /* returns a value or fills memory: flushes and waits */
#define RG_GF_UNSUPPORTED 0x02 /* a pointer the descriptors cannot size yet */
#define RG_GF_CUSTOM 0x04      /* hand-written on both sides (gl.overlay `custom=`) */

/* Pixel-store state an image size depends on (shadowed by the client, read
 * from the real context by the server). */
struct rg_gl_pixstore {
    int32_t alignment, row_length, image_height, skip_rows, skip_pixels, skip_images;
};
struct rg_gl_sizectx {
    struct rg_gl_pixstore pack, unpack;
};

union rg_gl_arg {
    uint64_t u;
    int64_t i;
    double d;
    float f;
    const void *p;
};

typedef size_t (*rg_gl_sizefn)(const union rg_gl_arg *a, const struct rg_gl_sizectx *sc);

struct rg_gl_param {
    uint8_t kind; /* enum rg_gl_kind */
    uint8_t cls;  /* enum rg_gl_class of the name (scalar) or names (IN array) */
    uint8_t nullable;
    uint8_t elem;      /* bytes of one element of a pointer's type */
    uint32_t bind;     /* BUFOFF: the binding query (GL_ARRAY_BUFFER_BINDING, ...) */
    rg_gl_sizefn size; /* pointer kinds: bytes; NULL for STR */
};

struct rg_gl_cmd {
    const char *name;
    uint8_t ret;   /* enum rg_gl_kind of the result */
    uint8_t flags; /* RG_GF_* */
    uint8_t nparams;
    uint8_t ret_cls; /* class of a returned name (glCreateProgram) */
    const struct rg_gl_param *p;
    const char *custom; /* gl.overlay `custom=` value, or NULL */
};

extern const struct rg_gl_cmd rg_gl_cmds[]; /* indexed by opcode; [0] unused */
extern const unsigned rg_gl_ncmds;

/* Size helpers used in the generated size expressions (gl/glsize.c). */
size_t rg_gl_n(int64_t n); /* a count: negative is 0 (GL refuses before reading) */
size_t rg_gl_type_size(uint32_t type);
size_t rg_gl_image_size(const struct rg_gl_pixstore *ps, int dims, uint32_t format, uint32_t type,
                        int64_t w, int64_t h, int64_t d);
size_t rg_gl_get_count(uint32_t pname);          /* glGet{Integer,Float,Boolean}v values */
/* Implementation limits the client answers glGetIntegerv of (RG_WS_LIMITS): each
 * with the first GL ES and desktop GL versions (major * 10 + minor) that have it. */
struct rg_gl_limit {
    uint32_t pname;
    uint8_t es, gl;
};
extern const struct rg_gl_limit rg_gl_limits[];
extern const unsigned rg_gl_nlimits;
int rg_gl_is_limit(uint32_t pname);
size_t rg_gl_texparam_count(uint32_t pname);     /* glTexParameter*v / glGetTexParameter*v */
size_t rg_gl_vattrib_count(uint32_t pname);      /* glGetVertexAttrib{f,i}v */
size_t rg_gl_clearbuffer_count(uint32_t buffer); /* glClearBuffer*v */
size_t rg_gl_light_count(uint32_t pname);        /* gl{Get,}Light*v */
size_t rg_gl_material_count(uint32_t pname);     /* gl{Get,}Material*v */
size_t rg_gl_fixed_count(uint32_t pname); /* fog, light model, tex env/gen, point parameters */

/* ---- the wire (docs/gl.md) ------------------------------------------------------
 * GL travels in the CUDA session as CALL frames whose op is RG_GL_OP_BATCH: the
 * encoded part is a batch of commands, each a u32 opcode and its arguments; the
 * raw part holds their IN bytes in order. A batch that needs an answer ends with
 * its one synchronous command and is sent without NOREPLY; the REPLY's encoded
 * part is u32 status (RG_GL_OK), u64 result, and its raw part the OUT bytes. */
#define RG_GL_OP_BASE 0x47000000u /* 'G' << 24: above every CUDA op number */
#define RG_GL_OP_BATCH (RG_GL_OP_BASE + 1)
static inline int rg_gl_op(uint32_t op)
{
    return (op & 0xff000000u) == RG_GL_OP_BASE;
}

/* Window-system commands in the same stream (hand-written; client-shim/gl/,
 * server/gl/), so they keep their order with the GL calls of the thread. */
enum rg_gl_wsop {
    RG_WS_BASE = 0x8000,
    RG_WS_INFO = RG_WS_BASE, /* sync: -> strings + config table */
    RG_WS_CHOOSE_CONFIG,     /* sync: u32 n, n x (i32 attr, i32 value) -> raw: i32 ids */
    RG_WS_CREATE_CONTEXT,    /* u32 ctx, u32 share, i32 config, u32 api, u32 major, u32 minor, u32
                                flags, u32 profile */
    RG_WS_DESTROY_CONTEXT,   /* u32 ctx */
    RG_WS_CREATE_SURFACE,    /* u32 surf, i32 config, i32 w, i32 h, u32 flags (RG_SURF_*) */
    RG_WS_DESTROY_SURFACE,   /* u32 surf */
    RG_WS_MAKE_CURRENT,      /* u32 draw, u32 read, u32 ctx (0: release) */
    RG_WS_FINISH,            /* sync: glFinish */
    RG_WS_PRESENT,    /* sync: u32 surf, u32 codecs the client takes (RG_FRAME_*) -> u32 w, u32 h,
                         u32 codec (RG_FRAME_LZ4 or 0); raw: w*h pixels, coded */
    RG_WS_EXTENSIONS, /* sync: -> u32 n; raw: n NUL-terminated glGetStringi(GL_EXTENSIONS, i)
                         names (n = 0: the context has no glGetStringi) */
    RG_WS_PRESENT_ASYNC, /* u32 surf, u32 codecs, u32 chan, u32 seq: no answer; the frame (of
                            seq or later) comes as NOTIFY RG_GL_NOTIFY_FRAME on the session */
    /* buffer mappings (client-shim/gl/glc_map.c): the application writes into client
     * memory; the bytes reach the server's real mapping at a flush or the unmap */
    RG_WS_MAP,       /* sync: u32 target, u64 offset, u64 length (RG_MAP_WHOLE: the buffer's
                        size), u32 access, u32 fetch (1: send the range's bytes) -> result 1 if
                        mapped, u64 offset, u64 length; raw: the bytes if fetched */
    RG_WS_MAP_WRITE, /* u32 target, u64 offset in the mapping, u32 flush (1: also
                        glFlushMappedBufferRange), blob: the bytes */
    RG_WS_UNMAP,     /* u32 target: glUnmapBuffer */
    RG_WS_LIMITS, /* sync: -> u32 n, n x (u32 pname, i32 value, i32 second value): those of
                     rg_gl_limits the current context's version has */
    RG_WS_PROGRAM_INFO, /* sync: u32 program -> result 1 if it is a program; i32 link status,
                           i32 info log length, i32 active uniform / attribute max length,
                           u32 nu, u32 na (0 unless linked), then nu uniforms and na attributes,
                           each i32 size, u32 type, i32 location, str name */
    RG_WS_END_
};

/* A frame's pixels are what a 24-bit TrueColor X window takes as it is: w*h
 * 32-bit ZPixmap pixels, rows top first, bytes B, G, R, 0xff. */
#define RG_FRAME_LZ4 0x1     /* a frame as one LZ4 block (lossless) */
/* The frame channel's NOTIFY kind (the frame op; the CUDA shim hands these to
 * the GL library): enc u32 chan, u32 seq, u32 w, u32 h, u32 codec (RG_FRAME_LZ4
 * or 0), u32 frames the server dropped so far; raw: w*h pixels, coded (w = h
 * = 0: no frame, the readback failed). */
#define RG_GL_NOTIFY_FRAME 9
#define RG_SURF_WINDOW24 0x1 /* an X window of a 24-bit visual: colour without alpha */
#define RG_MAP_WHOLE UINT64_MAX /* RG_WS_MAP of the whole buffer (glMapBuffer) */

enum rg_gl_status {
    RG_GL_OK = 0,
    RG_GL_E_CONTEXT = 1, /* no current context for a GL command / bad context id */
    RG_GL_E_EGL = 2,     /* the server's EGL refused (context, surface) */
};

/* INFO reply, encoded part after status+result: str vendor, str renderer,
 * str version, str glsl version, str extensions (GL), str egl version,
 * str egl extensions, u32 nconfig, then per config RG_GL_NCONFIG_ATTR i32. */
#define RG_GL_NCONFIG_ATTR 16

#endif
