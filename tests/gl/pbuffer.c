/* pbuffer.c — a headless EGL + GLES2 program: a pbuffer on the surfaceless
 * platform (or the default display), a known scene (clear, scissored clear,
 * colour-interpolated triangles from a VBO, indexed triangles with client
 * indices, then from an element buffer, client-side vertex arrays alone and
 * mixed with a VBO, a texture upload with an odd row alignment, uniforms),
 * read back with glReadPixels and written as a binary PPM to argv[1]. Run once on local llvmpipe
 * and once through rgpu; the images must be identical (tests/gl/run-pbuffer.sh). Exit 77 when there
 * is no EGL display or no RGBA8888 pbuffer config. */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gltest.h"

#define W 97 /* odd: the texture upload below has unaligned rows */
#define H 64

static const char *vs_src = "attribute vec2 pos;\n"
                            "attribute vec3 col;\n"
                            "uniform vec2 offset;\n"
                            "varying vec3 v_col;\n"
                            "varying vec2 v_uv;\n"
                            "void main() { v_col = col; v_uv = pos * 0.5 + 0.5; gl_Position = "
                            "vec4(pos + offset, 0.0, 1.0); }\n";
static const char *fs_src =
    "precision mediump float;\n"
    "varying vec3 v_col;\n"
    "varying vec2 v_uv;\n"
    "uniform sampler2D tex;\n"
    "uniform float use_tex;\n"
    "void main() { gl_FragColor = mix(vec4(v_col, 1.0), texture2D(tex, v_uv), use_tex); }\n";

/* RGBA8888 pbuffers for GL ES 2 (gltest_rgba8 takes the exact ones) */
static const EGLint want[] = {EGL_SURFACE_TYPE,
                              EGL_PBUFFER_BIT,
                              EGL_RENDERABLE_TYPE,
                              EGL_OPENGL_ES2_BIT,
                              EGL_RED_SIZE,
                              8,
                              EGL_GREEN_SIZE,
                              8,
                              EGL_BLUE_SIZE,
                              8,
                              EGL_ALPHA_SIZE,
                              8,
                              EGL_NONE};

static void scene(void)
{
    static const GLfloat tri[] = {
        /* pos        colour */
        -0.9f, -0.9f, 1,    0,    0,    0.7f,  -0.8f, 0, 1,    0, -0.1f, 0.85f, 0,    0,    1,
        0.2f,  0.1f,  1,    1,    0,    0.95f, 0.3f,  0, 1,    1, 0.5f,  0.95f, 1,    0,    1,
        -0.6f, 0.2f,  0.5f, 0.5f, 0.5f, -0.2f, 0.2f,  1, 0.5f, 0, -0.4f, 0.6f,  0.2f, 0.8f, 0.3f};
    static const GLushort quad_idx[] = {6, 7, 8, 0, 3, 4};
    static const GLubyte tex_rgb[3 * 3 * 3] = {255, 0,   0,   0,   255, 0,   0,   0, 255,
                                               255, 255, 0,   0,   255, 255, 255, 0, 255,
                                               40,  80,  120, 200, 100, 50,  7,   7, 7};
    GLuint prog = glCreateProgram(), vbo, ebo, tex;
    glAttachShader(prog, gltest_shader(GL_VERTEX_SHADER, vs_src));
    glAttachShader(prog, gltest_shader(GL_FRAGMENT_SHADER, fs_src));
    glBindAttribLocation(prog, 0, "pos");
    glBindAttribLocation(prog, 1, "col");
    glLinkProgram(prog);
    GLint ok = 0;
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    CHECK(ok, "program does not link");
    glUseProgram(prog);
    GLint off = glGetUniformLocation(prog, "offset"),
          use_tex = glGetUniformLocation(prog, "use_tex");
    CHECK(off >= 0 && use_tex >= 0, "uniform locations %d %d", off, use_tex);

    glClearColor(0.1f, 0.2f, 0.3f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glEnable(GL_SCISSOR_TEST);
    glScissor(5, 7, 20, 11);
    glClearColor(0.9f, 0.8f, 0.1f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glDisable(GL_SCISSOR_TEST);

    glGenBuffers(1, &vbo);
    glBindBuffer(GL_ARRAY_BUFFER, vbo);
    glBufferData(GL_ARRAY_BUFFER, sizeof tri, tri, GL_STATIC_DRAW);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 5 * sizeof(GLfloat), (void *)0);
    glVertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, 5 * sizeof(GLfloat),
                          (void *)(2 * sizeof(GLfloat)));
    glEnableVertexAttribArray(0);
    glEnableVertexAttribArray(1);
    glUniform1f(use_tex, 0.0f);
    glUniform2f(off, 0.0f, 0.0f);
    glDrawArrays(GL_TRIANGLES, 0, 6);
    glUniform2f(off, 0.05f, -0.1f);
    glDrawElements(GL_TRIANGLES, 6, GL_UNSIGNED_SHORT, quad_idx); /* client indices */

    glGenBuffers(1, &ebo);
    glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, ebo);
    glBufferData(GL_ELEMENT_ARRAY_BUFFER, sizeof quad_idx, quad_idx, GL_STATIC_DRAW);
    glUniform2f(off, -0.3f, 0.05f);
    glDrawElements(GL_TRIANGLES, 3, GL_UNSIGNED_SHORT, (void *)(3 * sizeof(GLushort)));

    /* client-side vertex arrays: all client (rebased ranges), then mixed with the VBO */
    static const GLfloat cpos[] = {0.3f,   -0.95f, 0.9f,  -0.9f, 0.6f,  -0.4f,
                                   -0.95f, 0.5f,   -0.7f, 0.95f, -0.9f, 0.9f};
    static const GLfloat ccol[] = {1,    1,    1,    0.2f, 0.9f, 0.4f, 0.9f, 0.3f, 0.2f,
                                   0.1f, 0.1f, 0.9f, 0.8f, 0.8f, 0.1f, 0.5f, 0.1f, 0.6f};
    static const GLubyte cidx[] = {3, 4, 5};
    glBindBuffer(GL_ARRAY_BUFFER, 0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, cpos);
    glVertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, 3 * sizeof(GLfloat), ccol);
    glUniform2f(off, 0.0f, 0.0f);
    glDrawArrays(GL_TRIANGLES, 0, 3);
    glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, 0);
    glDrawElements(GL_TRIANGLES, 3, GL_UNSIGNED_BYTE, cidx);
    glBindBuffer(GL_ARRAY_BUFFER, vbo); /* positions from the VBO, colours from client memory */
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 5 * sizeof(GLfloat), (void *)0);
    glUniform2f(off, -0.1f, -0.1f);
    glDrawArrays(GL_TRIANGLES, 3, 3);
    glVertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, 5 * sizeof(GLfloat),
                          (void *)(2 * sizeof(GLfloat)));

    glGenTextures(1, &tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1); /* 9-byte rows */
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB, 3, 3, 0, GL_RGB, GL_UNSIGNED_BYTE, tex_rgb);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glUniform1f(use_tex, 1.0f);
    glUniform2f(off, 0.0f, 0.0f);
    glDrawArrays(GL_TRIANGLES, 6, 3);
    CHECK(glGetError() == GL_NO_ERROR, "GL error after the scene");
}

int main(int argc, char **argv)
{
    EGLDisplay d = gltest_egl_display();
    EGLint ma, mi;
    if (d == EGL_NO_DISPLAY || !eglInitialize(d, &ma, &mi)) {
        printf("SKIP: no EGL display (0x%x)\n", eglGetError());
        return 77;
    }
    EGLConfig cfg = gltest_rgba8(d, want);
    if (!cfg) {
        printf("SKIP: no RGBA8888 pbuffer config\n");
        return 77;
    }
    static const EGLint ctx_attr[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
    static const EGLint pb_attr[] = {EGL_WIDTH, W, EGL_HEIGHT, H, EGL_NONE};
    eglBindAPI(EGL_OPENGL_ES_API);
    EGLContext ctx = eglCreateContext(d, cfg, EGL_NO_CONTEXT, ctx_attr);
    EGLSurface pb = eglCreatePbufferSurface(d, cfg, pb_attr);
    CHECK(ctx != EGL_NO_CONTEXT && pb != EGL_NO_SURFACE, "context %p pbuffer %p (0x%x)", ctx, pb,
          eglGetError());
    if (fails) return 1;
    CHECK(eglMakeCurrent(d, pb, pb, ctx), "eglMakeCurrent: 0x%x", eglGetError());
    EGLint qw = 0, qh = 0;
    eglQuerySurface(d, pb, EGL_WIDTH, &qw);
    eglQuerySurface(d, pb, EGL_HEIGHT, &qh);
    CHECK(qw == W && qh == H, "pbuffer is %dx%d", qw, qh);
    printf("GL_RENDERER: %s\nGL_VERSION: %s\n", glGetString(GL_RENDERER), glGetString(GL_VERSION));
    GLint vp[4] = {0};
    glGetIntegerv(GL_VIEWPORT, vp);
    CHECK(vp[2] == W && vp[3] == H, "viewport %d %d %d %d", vp[0], vp[1], vp[2], vp[3]);

    GLint nfmt = -1, fmts[256];
    glGetIntegerv(GL_NUM_COMPRESSED_TEXTURE_FORMATS, &nfmt);
    CHECK(nfmt >= 0 && nfmt <= 256, "GL_NUM_COMPRESSED_TEXTURE_FORMATS %d", nfmt);
    if (nfmt > 0 && nfmt <= 256) {
        fmts[nfmt - 1] = 0;
        glGetIntegerv(GL_COMPRESSED_TEXTURE_FORMATS, fmts);
        CHECK(fmts[nfmt - 1] != 0, "the last of %d compressed formats is 0", nfmt);
    }

    scene();

    static unsigned char px[W * H * 4];
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE,
                 px); /* GLES2: RGBA is the one always readable */
    CHECK(glGetError() == GL_NO_ERROR, "glReadPixels");
    unsigned char corner[4] = {0};
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    glReadPixels(0, 0, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, corner);
    CHECK(corner[0] == 26 && corner[1] == 51 && (corner[2] == 76 || corner[2] == 77) &&
              corner[3] == 255,
          "clear colour at (0,0): %u %u %u %u", corner[0], corner[1], corner[2], corner[3]);

    /* fence: signalled once everything before it finished */
    PFNEGLCREATESYNCKHRPROC mk = (PFNEGLCREATESYNCKHRPROC)eglGetProcAddress("eglCreateSyncKHR");
    PFNEGLCLIENTWAITSYNCKHRPROC wt =
        (PFNEGLCLIENTWAITSYNCKHRPROC)eglGetProcAddress("eglClientWaitSyncKHR");
    PFNEGLDESTROYSYNCKHRPROC rm = (PFNEGLDESTROYSYNCKHRPROC)eglGetProcAddress("eglDestroySyncKHR");
    if (mk && wt && rm) {
        EGLSyncKHR f = mk(d, EGL_SYNC_FENCE_KHR, NULL);
        CHECK(f != EGL_NO_SYNC_KHR, "eglCreateSyncKHR: 0x%x", eglGetError());
        if (f != EGL_NO_SYNC_KHR) {
            CHECK(wt(d, f, 0, EGL_FOREVER_KHR) == EGL_CONDITION_SATISFIED_KHR, "fence wait");
            rm(d, f);
        }
    }

    if (argc > 1) CHECK(gltest_ppm_rgba(argv[1], px, W, H) == 0, "cannot write %s", argv[1]);
    eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroySurface(d, pb);
    eglDestroyContext(d, ctx);
    eglTerminate(d);
    if (fails) return 1;
    printf("OK\n");
    return 0;
}
