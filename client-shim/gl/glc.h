/* glc.h — the client side of GL forwarding (docs/gl.md): per-thread command
 * batches sent through the CUDA shim's session (rgpu_private_v2), client
 * contexts with their minted names and shadowed state, and the generated
 * encoders (rg_gl_enc.c) that call rg_glc_command. */
#ifndef RG_GLC_H
#define RG_GLC_H

#include <stdint.h>

#include "buf.h"
#include "gl_api.h"
#include "gl_desc.h"
#include "rg_gl_cmds.h"

struct rg_glc_proc {
    const char *name;
    void (*fn)(void);
};
extern const struct rg_glc_proc rg_glc_procs[]; /* sorted by name (generated) */
extern const unsigned rg_glc_nprocs;
void (*rg_glc_proc(const char *name))(void);

struct glc_share { /* names minted for one share group, per class */
    uint32_t next[RG_GC_N_];
    int refs;
};

#define GLC_MAX_ATTRIBS 32
struct glc_attrib {      /* a vertex attribute array as the application set it */
    int enabled, client; /* client: data in application memory (no buffer bound) */
    GLint size;
    GLenum type;
    GLboolean normalized;
    GLsizei stride;
    const void *ptr;
    GLuint stream; /* the buffer its client data is uploaded into at draw time */
};

struct glc_vao { /* a vertex array object's state the client needs */
    uint32_t name;
    uint32_t elem_buf;
    struct glc_attrib attr[GLC_MAX_ATTRIBS];
};

struct glc_ctx {
    uint32_t magic;
    uint32_t id;
    void *dpy;
    void *config;
    int32_t api, major, minor;
    struct glc_share *share;
    struct rg_gl_sizectx ps;       /* pixel store */
    uint32_t array_buf, elem_buf;  /* GL_ARRAY_BUFFER / GL_ELEMENT_ARRAY_BUFFER bindings */
    uint32_t pack_buf, unpack_buf; /* GL_PIXEL_PACK_BUFFER / GL_PIXEL_UNPACK_BUFFER */
    struct glc_vao *vaos;          /* vertex array objects' element binding and arrays */
    size_t nvaos;
    uint32_t vao;     /* the bound vertex array (0: the default one, in the fields here) */
    GLenum error;     /* a GL error the client found itself */
    char *strings[8]; /* glGetString answers, fetched once */
    char **exts;      /* glGetStringi(GL_EXTENSIONS, i) answers */
    uint32_t nexts;
    uint32_t next_all; /* RG_WS_EXTENSIONS answered: exts[0..next_all) is the list */
    int ext_tried;     /* RG_WS_EXTENSIONS asked (once per context) */
    void *draw, *read;
    struct glc_attrib attr[GLC_MAX_ATTRIBS];
    /* set by the front end while a window is the draw surface: follows the
     * window's size (at glViewport and after each swap, as Mesa does) */
    void (*follow)(struct glc_ctx *c);
    int current;   /* current on some thread */
    int destroyed; /* eglDestroyContext while current: freed when released */
    struct glc_map *maps; /* buffers mapped (glc_map.c) */
    size_t nmaps;
    int32_t (*limits)[3]; /* (pname, value, second value): implementation limits */
    uint32_t nlimits;
    int limits_tried;
};

/* A GL error the client found itself: the first one stays until glGetError. */
static inline void rg_glc_error(struct glc_ctx *c, GLenum e)
{
    if (!c->error) c->error = e;
}

/* ---- logging: silent unless RGPU_LOG says otherwise ------------------------------------- */
void rg_glc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define GLC_ERR 0
#define GLC_WARN 1
#define GLC_INFO 2
#define GLC_DEBUG 3

/* ---- the session --------------------------------------------------------------------------- */
int rg_glc_connect(void); /* 0, or -1 (logged) */

/* ---- this thread's batch ------------------------------------------------------------------ */
struct glc_ctx *rg_glc_current(void);
void rg_glc_set_current(struct glc_ctx *c);
rpc_wbuf *rg_glc_enc(void); /* this thread's batch: append a command (u32 opcode first) */
/* Appends n IN bytes to the batch's raw part (copied: the application may
 * change them once the call returns). */
void rg_glc_raw(const void *p, size_t n);
/* Room for a command of enc_bytes / raw_bytes: sends what is queued first if needed. */
void rg_glc_reserve(size_t enc_bytes, size_t raw_bytes);
/* Sends the batch without waiting (NOREPLY). */
void rg_glc_flush(void);
/* Sends the batch, whose last command answers, and waits. On 0, *status,
 * *ret, the encoded rest (enc/enc_len, after status and result) and the raw
 * part are the reply's; release with rg_glc_reply_free. -1: the server is lost. */
struct glc_reply {
    uint32_t status;
    uint64_t ret;
    rpc_rbuf rest; /* the rest of the encoded part */
    const uint8_t *raw;
    size_t raw_len;
    void *priv_enc, *priv_raw;
};
int rg_glc_sync(struct glc_reply *r);
void rg_glc_reply_free(struct glc_reply *r);
/* Totals so far: batches, batches that waited, command bytes, data bytes, reply bytes. */
void rg_glc_stats(unsigned long long out[5]);
void rg_glc_count_received(size_t bytes); /* bytes that came otherwise (frames) */
/* The frame channel (glc_x11.c): the session's frame NOTIFYs go to sink, which
 * takes raw; rg_glc_wait_until waits for done(arg) (asked under the shim's
 * lock after each frame), reading the connection meanwhile. 0, or -1: lost. */
void rg_glc_frame_sink(void (*sink)(const void *enc, size_t enc_len, void *raw, size_t raw_len));
int rg_glc_wait_until(int (*done)(void *), void *arg);

void rg_glc_maps_free(struct glc_ctx *c); /* glc_map.c: the context's mappings go */
/* glc_prog.c: program introspection shadows */
void rg_glc_prog_deleted(uint32_t name);
void rg_glc_progs_share_gone(struct glc_share *share);

/* ---- window-system objects shared by EGL and GLX (glc_ws.c) ----------------------- */
#define GLC_CTX_MAGIC 0x52474378u /* "RGCx" */
struct glc_server {
    char renderer[256], version[256];   /* renderer already says "via rgpu" */
    int32_t (*cfg)[RG_GL_NCONFIG_ATTR]; /* the server's configs (server/gl/gl_egl.c config_attrs) */
    uint32_t ncfg;
};
/* Indices into a server config: the order of server/gl/gl_egl.c config_attrs. */
enum {
    C_ID,
    C_BUFFER,
    C_RED,
    C_GREEN,
    C_BLUE,
    C_ALPHA,
    C_DEPTH,
    C_STENCIL,
    C_SAMPLES,
    C_SAMPLE_BUFFERS,
    C_SURFACE,
    C_RENDERABLE,
    C_CONFORMANT,
    C_CAVEAT,
    C_COLOR_TYPE,
    C_LEVEL
};
/* Connects and asks the server once; NULL if that failed (logged). */
const struct glc_server *rg_glc_server(void);
/* A context made on the server (waits for it): NULL if the server refused. */
struct glc_ctx *rg_glc_ctx_create(uint32_t api, int major, int minor, int flags, int profile,
                                  struct glc_ctx *share, int32_t config_id);
void rg_glc_ctx_destroy(struct glc_ctx *c); /* freed now, or when no longer current */
void rg_glc_ctx_free(struct glc_ctx *c);
/* Its id; sent in the stream. flags: RG_SURF_* */
uint32_t rg_glc_surface_create(int32_t config_id, int w, int h, uint32_t flags);
void rg_glc_surface_destroy(uint32_t id);
/* Makes c (NULL: none) current on this thread with the surfaces' ids; draw and
 * read are the front end's own records, kept in c. */
void rg_glc_make_current(struct glc_ctx *c, uint32_t draw_id, uint32_t read_id, void *draw,
                         void *read);
void rg_glc_finish(void); /* waits until the server ran everything sent */

/* Generated commands (rg_gl_enc.c). */
void rg_glc_command(unsigned op, const union rg_gl_arg *a, union rg_gl_arg *ret);
void rg_glc_unsupported(unsigned op);
void rg_glc_shadow_glPixelStorei(const union rg_gl_arg *a);
void rg_glc_shadow_glBindBuffer(const union rg_gl_arg *a);
void rg_glc_shadow_glViewport(const union rg_gl_arg *a);
void rg_glc_shadow_glEnableVertexAttribArray(const union rg_gl_arg *a); /* glc_arrays.c */
void rg_glc_shadow_glDisableVertexAttribArray(const union rg_gl_arg *a);
void rg_glc_shadow_glLinkProgram(const union rg_gl_arg *a); /* glc_prog.c */
void rg_glc_shadow_glProgramBinary(const union rg_gl_arg *a);
void rg_glc_shadow_glValidateProgram(const union rg_gl_arg *a);
void rg_glc_vaos_deleted(struct glc_ctx *c, GLsizei n, const GLuint *names);
void rgc_glDrawElements(GLenum mode, GLsizei count, GLenum type, const void *indices);

#endif
