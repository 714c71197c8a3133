/* es3.c — a headless GL ES 3.0 program for the same local-versus-rgpu image
 * comparison as pbuffer.c (tests/gl/run-pbuffer.sh): a vertex array object
 * holding its element buffer, an instanced draw with an integer attribute,
 * a texture uploaded from a pixel unpack buffer (an offset, not memory), a 3D
 * texture with image height, GL_BACK as draw and read buffer, glClearBufferfv, a fence
 * sync waited on, glGetStringi, the quad's vertices written through glMapBufferRange;
 * read back with glReadPixels into argv[1]. Buffer mappings are also checked against
 * known bytes: read, write without invalidating (untouched bytes keep their
 * values), explicit flushes, invalidation, glMapBuffer-style whole ranges through
 * GL ES 3's range call, glGetBufferPointerv, and GL's errors for bad ranges and
 * unmapping what is not mapped. Binding queries give the application's names.
 * Program introspection (answered by the client after
 * one round trip) against what the shaders declare: counts, names, types,
 * locations, a relink that moves an attribute, a program that did not link.
 * Exit 77 without an ES 3 context. */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>
#include <stdio.h>
#include <string.h>

#include "gltest.h"

#define W 80
#define H 60

static const char *vs =
    "#version 300 es\n"
    "layout(location = 0) in vec2 pos;\n"
    "layout(location = 1) in ivec2 cell;\n"
    "out vec3 uvw;\n"
    "void main() {\n"
    "  vec2 o = vec2(float(cell.x) * 0.5 + float(gl_InstanceID) * 0.25, float(cell.y) * 0.4);\n"
    "  uvw = vec3(pos * 0.5 + 0.5, float(gl_InstanceID) / 2.0);\n"
    "  gl_Position = vec4(pos * 0.3 + o - 0.6, 0.0, 1.0);\n"
    "}\n";
static const char *fs =
    "#version 300 es\n"
    "precision mediump float;\n"
    "precision mediump sampler3D;\n"
    "uniform sampler2D t2;\n"
    "uniform sampler3D t3;\n"
    "in vec3 uvw;\n"
    "out vec4 color;\n"
    "void main() { color = 0.5 * texture(t2, uvw.xy) + 0.5 * texture(t3, uvw); }\n";

static void scene(void)
{
    static const GLfloat quad[] = {-1, -1, 1, -1, 1, 1, -1, 1};
    static const GLint cells[] = {0, 0, 1, 1, 2, 0, 0, 2};
    static const GLushort idx[] = {0, 1, 2, 0, 2, 3};
    GLubyte tex2[4 * 4 * 4], tex3[3 * 3 * 3 * 4 + 64];
    for (int i = 0; i < (int)sizeof tex2; i++)
        tex2[i] = (GLubyte)(i * 37 + 11);
    for (int i = 0; i < (int)sizeof tex3; i++)
        tex3[i] = (GLubyte)(i * 53 + 7);

    GLuint prog = glCreateProgram();
    glAttachShader(prog, gltest_shader(GL_VERTEX_SHADER, vs));
    glAttachShader(prog, gltest_shader(GL_FRAGMENT_SHADER, fs));
    glLinkProgram(prog);
    GLint ok = 0;
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    CHECK(ok, "link");
    glUseProgram(prog);
    glUniform1i(glGetUniformLocation(prog, "t2"), 0);
    glUniform1i(glGetUniformLocation(prog, "t3"), 1);

    GLenum back = GL_BACK; /* the default framebuffer's colour buffer, also through rgpu */
    glDrawBuffers(1, &back);
    glReadBuffer(GL_BACK);
    CHECK(glGetError() == GL_NO_ERROR, "glDrawBuffers / glReadBuffer (GL_BACK)");
    GLfloat clear[4] = {0.2f, 0.1f, 0.4f, 1.0f};
    glClearBufferfv(GL_COLOR, 0, clear);

    GLuint vao, bufs[3], tex[2];
    glGenVertexArrays(1, &vao);
    glGenBuffers(3, bufs);
    glBindVertexArray(vao);
    glBindBuffer(GL_ARRAY_BUFFER, bufs[0]);
    glBufferData(GL_ARRAY_BUFFER, sizeof quad, NULL, GL_STATIC_DRAW);
    void *q = glMapBufferRange(GL_ARRAY_BUFFER, 0, sizeof quad,
                               GL_MAP_WRITE_BIT | GL_MAP_INVALIDATE_BUFFER_BIT);
    CHECK(q != NULL, "glMapBufferRange for the quad");
    if (q) memcpy(q, quad, sizeof quad);
    CHECK(glUnmapBuffer(GL_ARRAY_BUFFER) == GL_TRUE, "glUnmapBuffer of the quad");
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, (void *)0);
    glEnableVertexAttribArray(0);
    glBindBuffer(GL_ARRAY_BUFFER, bufs[1]);
    glBufferData(GL_ARRAY_BUFFER, sizeof cells, cells, GL_STATIC_DRAW);
    glVertexAttribIPointer(1, 2, GL_INT, 0, (void *)0);
    glVertexAttribDivisor(1, 0);
    glEnableVertexAttribArray(1);
    glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, bufs[2]); /* recorded in the VAO */
    glBufferData(GL_ELEMENT_ARRAY_BUFFER, sizeof idx, idx, GL_STATIC_DRAW);
    glBindVertexArray(0);
    glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, 0); /* the default VAO's binding: still 0 */

    glGenTextures(2, tex);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, tex[0]);
    GLuint pbo;
    glGenBuffers(1, &pbo);
    glBindBuffer(GL_PIXEL_UNPACK_BUFFER, pbo);
    glBufferData(GL_PIXEL_UNPACK_BUFFER, sizeof tex2 + 16, NULL, GL_STATIC_DRAW);
    glBufferSubData(GL_PIXEL_UNPACK_BUFFER, 16, sizeof tex2, tex2);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 4, 4, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                 (void *)16); /* offset */
    glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);

    glActiveTexture(GL_TEXTURE1);
    glBindTexture(GL_TEXTURE_3D, tex[1]);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glPixelStorei(GL_UNPACK_IMAGE_HEIGHT, 4); /* a spare row between images */
    glPixelStorei(GL_UNPACK_SKIP_IMAGES, 0);
    glTexImage3D(GL_TEXTURE_3D, 0, GL_RGBA8, 3, 3, 2, 0, GL_RGBA, GL_UNSIGNED_BYTE, tex3);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);

    glBindVertexArray(vao);
    glDrawElementsInstanced(GL_TRIANGLES, 6, GL_UNSIGNED_SHORT, (void *)0, 3);
    /* binding queries name the application's objects (the server's names differ) */
    GLint got[6] = {-1, -1, -1, -1, -1, -1};
    glBindBuffer(GL_ARRAY_BUFFER, bufs[1]);
    glGetIntegerv(GL_ARRAY_BUFFER_BINDING, &got[0]);
    glGetIntegerv(GL_ELEMENT_ARRAY_BUFFER_BINDING, &got[1]);
    glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &got[2]);
    glGetIntegerv(GL_CURRENT_PROGRAM, &got[3]);
    glGetIntegerv(GL_TEXTURE_BINDING_3D, &got[4]); /* unit 1 is active */
    glGetIntegerv(GL_FRAMEBUFFER_BINDING, &got[5]);
    CHECK(got[0] == (GLint)bufs[1] && got[1] == (GLint)bufs[2] && got[2] == (GLint)vao &&
              got[3] == (GLint)prog && got[4] == (GLint)tex[1] && got[5] == 0,
          "bindings: array %d (%u), element %d (%u), VAO %d (%u), program %d (%u), texture %d "
          "(%u), framebuffer %d (0)",
          got[0], bufs[1], got[1], bufs[2], got[2], vao, got[3], prog, got[4], tex[1], got[5]);
    GLint64 got64 = -1;
    glGetInteger64v(GL_ARRAY_BUFFER_BINDING, &got64);
    CHECK(got64 == (GLint64)bufs[1], "glGetInteger64v binding %lld", (long long)got64);
    /* limits (answered by the client from one fetch) agree with GL's own float answers */
    GLint ts = 0, va = 0, vp[2] = {0, 0};
    GLfloat tsf = 0, vpf[2] = {0, 0};
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &ts);
    glGetIntegerv(GL_MAX_VERTEX_ATTRIBS, &va);
    glGetIntegerv(GL_MAX_VIEWPORT_DIMS, vp);
    glGetFloatv(GL_MAX_TEXTURE_SIZE, &tsf);
    glGetFloatv(GL_MAX_VIEWPORT_DIMS, vpf);
    CHECK(ts >= 2048 && va >= 16 && vp[0] >= ts && vp[1] >= ts, /* GL ES 3.0's minimums */
          "limits: texture %d, attributes %d, viewport %dx%d", ts, va, vp[0], vp[1]);
    CHECK(tsf == (GLfloat)ts && vpf[0] == (GLfloat)vp[0] && vpf[1] == (GLfloat)vp[1],
          "limits as floats: %g, %gx%g", tsf, vpf[0], vpf[1]);
    glBindBuffer(GL_ARRAY_BUFFER, 0);
    glBindVertexArray(0);

    GLsync f = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    CHECK(f != NULL, "glFenceSync");
    GLenum w = glClientWaitSync(f, GL_SYNC_FLUSH_COMMANDS_BIT, 1000000000ull);
    CHECK(w == GL_ALREADY_SIGNALED || w == GL_CONDITION_SATISFIED, "glClientWaitSync 0x%x", w);
    GLint status = 0;
    glGetSynciv(f, GL_SYNC_STATUS, 1, NULL, &status);
    CHECK(status == GL_SIGNALED, "sync status 0x%x", status);
    glDeleteSync(f);
    CHECK(glGetError() == GL_NO_ERROR, "GL error after the scene");
}

/* Program queries against the shaders' own declarations. */
static void introspection(void)
{
    static const char *v2 = "attribute vec4 a_pos;\n"
                            "attribute vec2 a_uv;\n"
                            "uniform mat4 u_m;\n"
                            "uniform vec4 u_k[3];\n"
                            "varying vec2 uv;\n"
                            "void main() { uv = a_uv; gl_Position = u_m * a_pos + u_k[2]; }\n";
    static const char *f2 = "precision mediump float;\n"
                            "varying vec2 uv;\n"
                            "uniform float u_a;\n"
                            "void main() { gl_FragColor = vec4(uv, u_a, 1.0); }\n";
    GLuint p = glCreateProgram();
    glAttachShader(p, gltest_shader(GL_VERTEX_SHADER, v2));
    glAttachShader(p, gltest_shader(GL_FRAGMENT_SHADER, f2));
    glBindAttribLocation(p, 3, "a_pos");
    glLinkProgram(p);
    GLint ok = 0, nu = 0, na = 0, maxu = 0;
    glGetProgramiv(p, GL_LINK_STATUS, &ok);
    glGetProgramiv(p, GL_ACTIVE_UNIFORMS, &nu);
    glGetProgramiv(p, GL_ACTIVE_ATTRIBUTES, &na);
    glGetProgramiv(p, GL_ACTIVE_UNIFORM_MAX_LENGTH, &maxu);
    CHECK(ok == GL_TRUE && nu == 3 && na == 2, "link %d, %d uniforms, %d attributes", ok, nu, na);
    CHECK(maxu == (GLint)sizeof "u_k[0]", "longest uniform name with its NUL: %d", maxu);
    CHECK(glGetAttribLocation(p, "a_pos") == 3, "bound attribute location");
    GLint uv = glGetAttribLocation(p, "a_uv");
    CHECK(uv >= 0 && uv != 3, "the other attribute: %d", uv);
    CHECK(glGetAttribLocation(p, "nope") == -1 && glGetUniformLocation(p, "nope") == -1,
          "names that are not there");
    GLint k = glGetUniformLocation(p, "u_k"), k0 = glGetUniformLocation(p, "u_k[0]"),
          k2 = glGetUniformLocation(p, "u_k[2]");
    CHECK(k >= 0 && k == k0 && k2 >= 0 && k2 != k, "uniform array: %d %d %d", k, k0, k2);
    int seen = 0;
    for (GLint i = 0; i < nu; i++) {
        char name[32];
        GLsizei len = 0;
        GLint size = 0;
        GLenum type = 0;
        glGetActiveUniform(p, (GLuint)i, sizeof name, &len, &size, &type, name);
        if (!strcmp(name, "u_m") && type == GL_FLOAT_MAT4 && size == 1 && len == 3) seen |= 1;
        if (!strcmp(name, "u_k[0]") && type == GL_FLOAT_VEC4 && size == 3 && len == 6) seen |= 2;
        if (!strcmp(name, "u_a") && type == GL_FLOAT && size == 1) seen |= 4;
        char cut[3];
        glGetActiveUniform(p, (GLuint)i, sizeof cut, &len, &size, &type, cut);
        if (len != 2 || cut[2] != 0) seen |= 8; /* cut to the buffer, NUL-terminated */
    }
    CHECK(seen == 7, "active uniforms: seen mask %d", seen);
    GLsizei len = 0;
    GLint size = 0;
    GLenum type = 0;
    char name[32];
    glGetActiveAttrib(p, 0, sizeof name, &len, &size, &type, name);
    CHECK(glGetError() == GL_NO_ERROR, "GL error after the queries");
    glGetActiveUniform(p, (GLuint)nu, sizeof name, &len, &size, &type, name);
    CHECK(glGetError() == GL_INVALID_VALUE, "an index past the last uniform");
    glBindAttribLocation(p, 5, "a_pos"); /* takes effect at the next link */
    CHECK(glGetAttribLocation(p, "a_pos") == 3, "before the relink");
    glLinkProgram(p);
    CHECK(glGetAttribLocation(p, "a_pos") == 5, "after the relink: %d", glGetAttribLocation(p, "a_pos"));
    glDeleteProgram(p);
    GLuint bad = glCreateProgram(); /* a fragment shader alone: it does not link in GL ES */
    glAttachShader(bad, gltest_shader(GL_FRAGMENT_SHADER, f2));
    glLinkProgram(bad);
    glGetProgramiv(bad, GL_LINK_STATUS, &ok);
    CHECK(ok == GL_FALSE, "a program without a vertex shader links?");
    glGetError();
    CHECK(glGetUniformLocation(bad, "u_a") == -1 && glGetError() == GL_INVALID_OPERATION,
          "a location in a program that did not link: GL_INVALID_OPERATION");
    glDeleteProgram(bad);
}

/* Mapped ranges against the bytes they must hold. */
static void mapping(void)
{
    GLubyte init[64], *p;
    for (int i = 0; i < 64; i++)
        init[i] = (GLubyte)(i * 3 + 1);
    GLuint b;
    glGenBuffers(1, &b);
    glBindBuffer(GL_COPY_WRITE_BUFFER, b); /* a target the client does not shadow */
    glBufferData(GL_COPY_WRITE_BUFFER, 64, init, GL_DYNAMIC_DRAW);
    p = glMapBufferRange(GL_COPY_WRITE_BUFFER, 8, 32, GL_MAP_READ_BIT);
    CHECK(p && !memcmp(p, init + 8, 32), "read mapping [8, 40)");
    void *q = NULL;
    glGetBufferPointerv(GL_COPY_WRITE_BUFFER, GL_BUFFER_MAP_POINTER, &q);
    CHECK(q == p, "glGetBufferPointerv gives the mapping");
    CHECK(glUnmapBuffer(GL_COPY_WRITE_BUFFER) == GL_TRUE, "unmap after reading");
    p = glMapBufferRange(GL_COPY_WRITE_BUFFER, 16, 16, GL_MAP_WRITE_BIT); /* half written */
    for (int i = 0; p && i < 8; i++)
        p[i] = (GLubyte)(0xa0 + i);
    CHECK(p && glUnmapBuffer(GL_COPY_WRITE_BUFFER) == GL_TRUE, "write mapping [16, 32)");
    p = glMapBufferRange(GL_COPY_WRITE_BUFFER, 40, 16, GL_MAP_WRITE_BIT | GL_MAP_FLUSH_EXPLICIT_BIT);
    for (int i = 0; p && i < 16; i++)
        p[i] = (GLubyte)(0xb0 + i);
    glFlushMappedBufferRange(GL_COPY_WRITE_BUFFER, 4, 8); /* bytes 44..51 */
    CHECK(p && glUnmapBuffer(GL_COPY_WRITE_BUFFER) == GL_TRUE, "explicit flush mapping");
    p = glMapBufferRange(GL_COPY_WRITE_BUFFER, 56, 8, GL_MAP_WRITE_BIT | GL_MAP_INVALIDATE_RANGE_BIT);
    for (int i = 0; p && i < 8; i++)
        p[i] = (GLubyte)(0xc0 + i);
    CHECK(p && glUnmapBuffer(GL_COPY_WRITE_BUFFER) == GL_TRUE, "invalidating mapping");
    CHECK(glGetError() == GL_NO_ERROR, "GL error after the mappings");
    GLubyte want[64];
    memcpy(want, init, 64);
    for (int i = 0; i < 8; i++)
        want[16 + i] = (GLubyte)(0xa0 + i), want[44 + i] = (GLubyte)(0xb4 + i),
                  want[56 + i] = (GLubyte)(0xc0 + i);
    p = glMapBufferRange(GL_COPY_WRITE_BUFFER, 0, 64, GL_MAP_READ_BIT | GL_MAP_WRITE_BIT);
    /* 40..43 and 52..55 were mapped for explicit flushes but not flushed: undefined */
    CHECK(p && !memcmp(p, want, 40) && !memcmp(p + 44, want + 44, 8) &&
              !memcmp(p + 56, want + 56, 8),
          "the buffer after the writes");
    if (p) p[0] = 0x55; /* read-write: the whole range goes back */
    glUnmapBuffer(GL_COPY_WRITE_BUFFER);
    p = glMapBufferRange(GL_COPY_WRITE_BUFFER, 0, 4, GL_MAP_READ_BIT);
    CHECK(p && p[0] == 0x55 && p[1] == want[1], "a read-write mapping's write");
    glUnmapBuffer(GL_COPY_WRITE_BUFFER);
    CHECK(glGetError() == GL_NO_ERROR, "GL error after reading back");
    /* GL's own errors */
    CHECK(glMapBufferRange(GL_COPY_WRITE_BUFFER, 60, 8, GL_MAP_READ_BIT) == NULL &&
              glGetError() == GL_INVALID_VALUE,
          "a range past the end: NULL and GL_INVALID_VALUE");
    CHECK(glUnmapBuffer(GL_COPY_WRITE_BUFFER) == GL_FALSE && glGetError() == GL_INVALID_OPERATION,
          "unmapping what is not mapped: GL_INVALID_OPERATION");
    glBindBuffer(GL_COPY_WRITE_BUFFER, 0);
    glDeleteBuffers(1, &b);
}

int main(int argc, char **argv)
{
    EGLDisplay d = gltest_egl_display();
    EGLint ma, mi;
    static const EGLint want[] = {EGL_SURFACE_TYPE,
                                  EGL_PBUFFER_BIT,
                                  EGL_RENDERABLE_TYPE,
                                  EGL_OPENGL_ES3_BIT,
                                  EGL_RED_SIZE,
                                  8,
                                  EGL_GREEN_SIZE,
                                  8,
                                  EGL_BLUE_SIZE,
                                  8,
                                  EGL_ALPHA_SIZE,
                                  8,
                                  EGL_NONE};
    if (d == EGL_NO_DISPLAY || !eglInitialize(d, &ma, &mi)) {
        printf("SKIP: no EGL display\n");
        return 77;
    }
    EGLConfig pick = gltest_rgba8(d, want);
    static const EGLint ca[] = {EGL_CONTEXT_CLIENT_VERSION, 3, EGL_NONE};
    static const EGLint pa[] = {EGL_WIDTH, W, EGL_HEIGHT, H, EGL_NONE};
    eglBindAPI(EGL_OPENGL_ES_API);
    EGLContext ctx = pick ? eglCreateContext(d, pick, EGL_NO_CONTEXT, ca) : EGL_NO_CONTEXT;
    if (ctx == EGL_NO_CONTEXT) {
        printf("SKIP: no GL ES 3 context\n");
        return 77;
    }
    EGLSurface pb = eglCreatePbufferSurface(d, pick, pa);
    CHECK(eglMakeCurrent(d, pb, pb, ctx), "eglMakeCurrent 0x%x", eglGetError());
    GLint next = 0;
    glGetIntegerv(GL_NUM_EXTENSIONS, &next);
    const char *e0 = next > 0 ? (const char *)glGetStringi(GL_EXTENSIONS, 0) : NULL;
    CHECK(next > 0 && e0 && !strncmp(e0, "GL_", 3), "glGetStringi: %d extensions, first %s", next,
          e0 ? e0 : "(null)");
    scene();
    mapping();
    introspection();
    static unsigned char px[W * H * 4];
    glReadPixels(0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE, px);
    CHECK(glGetError() == GL_NO_ERROR, "glReadPixels");
    if (argc > 1) CHECK(gltest_ppm_rgba(argv[1], px, W, H) == 0, "cannot write %s", argv[1]);
    eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglTerminate(d);
    if (fails) return 1;
    printf("OK\n");
    return 0;
}
