/* badbatch.c — hostile GL batches end their session only (DESIGN rule 6).
 * Talks to rgpud through the shim's rgpu_private_v2 as libEGL_rgpu does,
 * and sends, by mode:
 *   ok       the INFO command: answered (run after the others: rgpud still serves)
 *   cut      a command cut in the middle of its arguments
 *   badlen   glBufferData whose bytes disagree with its size argument
 *   rawcut   an IN argument that claims more raw bytes than the CALL carries
 *   opcode   an opcode nobody defined
 *   noarray  a draw with an enabled vertex array that never got a buffer, and
 *            one whose buffer was deleted: GL would read server memory at
 *            an address the client chose; the worker skips the draws and
 *            the session goes on (answered like ok)
 * A hostile batch must fail the call (the session is gone), never hang.
 * usage: badbatch SHIM_LIBCUDA MODE */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "../../client-shim/cuda/rgpu_private.h"
#include "gl_desc.h"
#include "rg_gl_cmds.h"

static uint8_t buf[512];
static size_t n;

static void u32(uint32_t v)
{
    memcpy(buf + n, &v, 4); /* little-endian hosts only, like the rest of rgpu's tests */
    n += 4;
}

/* A GLES context made current on this thread (surfaceless), for commands
 * the server checks only when a context is current. */
static void context(void)
{
    u32(RG_WS_CREATE_CONTEXT);
    u32(1), u32(0), u32(0), u32(0x30A0 /* EGL_OPENGL_ES_API */), u32(2), u32(0), u32(0), u32(0);
    u32(RG_WS_MAKE_CURRENT);
    u32(0), u32(0), u32(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    rgpu_private_v2_fn f = h ? (rgpu_private_v2_fn)dlsym(h, "rgpu_private_v2") : NULL;
    if (!f) {
        printf("FAIL: no rgpu_private_v2 in %s\n", argv[1]);
        return 1;
    }
    const struct rgpu_private_v2 *p = f();
    int r = p->init();
    if (r) {
        printf("FAIL: no session (%d)\n", r);
        return 1;
    }
    const char *mode = argv[2];
    uint8_t raw[64] = {0};
    size_t nraw = 0;
    if (!strcmp(mode, "ok")) {
        u32(RG_WS_INFO);
    } else if (!strcmp(mode, "cut")) {
        context();
        u32(RG_GLOP_glClearColor);
        u32(0), u32(0); /* two of four floats */
    } else if (!strcmp(mode, "badlen")) {
        context();
        u32(RG_GLOP_glBufferData);
        u32(0x8892 /* GL_ARRAY_BUFFER */);
        u32(16), u32(0); /* size: u64 16 */
        u32(8); /* data: 8 bytes where size says 16 */
        nraw = 8;
        u32(0x88E4 /* GL_STATIC_DRAW */);
        u32(RG_WS_FINISH);
    } else if (!strcmp(mode, "rawcut")) {
        context();
        u32(RG_GLOP_glBindAttribLocation);
        u32(1), u32(0), u32(40); /* program, index, name: 40 bytes, none sent */
        u32(RG_WS_FINISH);
    } else if (!strcmp(mode, "noarray")) {
        context();
        u32(RG_GLOP_glEnableVertexAttribArray), u32(0);
        u32(RG_GLOP_glDrawArrays), u32(4 /* GL_TRIANGLES */), u32(0), u32(3);
        u32(RG_GLOP_glGenBuffers), u32(1), u32(7);
        u32(RG_GLOP_glBindBuffer), u32(0x8892), u32(7);
        u32(RG_GLOP_glVertexAttribPointer), u32(0), u32(2), u32(0x1406 /* GL_FLOAT */), u32(0), u32(0);
        u32(0), u32(0x10000), u32(0); /* tag 0: offset 65536 into buffer 7 */
        u32(RG_GLOP_glDeleteBuffers), u32(1), u32(7);
        u32(RG_GLOP_glDrawArrays), u32(4), u32(0), u32(3);
        u32(RG_WS_FINISH);
    } else if (!strcmp(mode, "opcode")) {
        u32(0x7fff);
    } else {
        return 2;
    }
    struct iovec iov = {raw, nraw};
    struct rgpu_private_reply rep = {0};
    r = p->call(RG_GL_OP_BATCH, buf, n, nraw ? &iov : NULL, nraw ? 1 : 0, 1, &rep);
    if (!strcmp(mode, "ok") || !strcmp(mode, "noarray")) {
        uint32_t st = 1;
        if (!r && rep.enc_len >= 12) memcpy(&st, rep.enc, 4);
        printf("%s: call %d, status %u\n", mode, r, st);
        if (!r) p->reply_free(&rep);
        return r || st ? 1 : 0;
    }
    if (!r) {
        p->reply_free(&rep);
        printf("FAIL: %s: the server answered a malformed batch\n", mode);
        return 1;
    }
    /* the session is over: later calls fail at once too */
    r = p->call(RG_GL_OP_BATCH, buf, 4, NULL, 0, 1, &rep);
    printf("%s: session ended (%s)\n", mode, r ? "later calls fail too" : "but a later call was answered");
    return r ? 0 : 1;
}
