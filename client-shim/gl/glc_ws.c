/* glc_ws.c — the window-system objects both vendor libraries (egl.c, glx.c)
 * build on: what the server renders with (strings and config table, asked
 * once), contexts and surfaces minted here and made on the server in the
 * thread's command stream, making current, finishing. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glc.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct glc_server server;
static int server_state; /* 0 not asked, 1 known, -1 failed */
static uint32_t next_ctx, next_surf;

static int fetch(void)
{
    if (rg_glc_connect()) return -1;
    rpc_put_u32(rg_glc_enc(), RG_WS_INFO);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return -1;
    const char *s[7];
    for (int i = 0; i < 7; i++)
        s[i] = rpc_get_str(&r.rest);
    uint32_t n = rpc_get_u32(&r.rest);
    int rc = -1;
    if (!r.status && rpc_rbuf_ok(&r.rest) && n <= 4096 &&
        (server.cfg = calloc(n ? n : 1, sizeof *server.cfg))) {
        for (uint32_t i = 0; i < n; i++)
            for (int k = 0; k < RG_GL_NCONFIG_ATTR; k++)
                server.cfg[i][k] = (int32_t)rpc_get_u32(&r.rest);
        server.ncfg = n;
        snprintf(server.renderer, sizeof server.renderer, "%s via rgpu", s[1] ? s[1] : "?");
        snprintf(server.version, sizeof server.version, "%s", s[2] ? s[2] : "");
        rc = rpc_rbuf_done(&r.rest) ? 0 : -1;
        rg_glc_log(GLC_INFO, "server renders with %s (%s)", server.renderer, server.version);
    }
    rg_glc_reply_free(&r);
    return rc;
}

const struct glc_server *rg_glc_server(void)
{
    pthread_mutex_lock(&mu);
    if (!server_state) server_state = fetch() ? -1 : 1;
    int st = server_state;
    pthread_mutex_unlock(&mu);
    return st > 0 ? &server : NULL;
}

struct glc_ctx *rg_glc_ctx_create(uint32_t api, int major, int minor, int flags, int profile,
                                  struct glc_ctx *share, int32_t config_id)
{
    struct glc_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_lock(&mu);
    c->id = ++next_ctx;
    pthread_mutex_unlock(&mu);
    c->magic = GLC_CTX_MAGIC;
    c->api = (int32_t)api, c->major = major, c->minor = minor;
    c->ps.pack.alignment = c->ps.unpack.alignment = 4;
    if (share) {
        c->share = share->share;
        c->share->refs++;
    } else if ((c->share = calloc(1, sizeof *c->share))) {
        c->share->refs = 1;
    }
    if (!c->share) {
        free(c);
        return NULL;
    }
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_WS_CREATE_CONTEXT);
    rpc_put_u32(w, c->id);
    rpc_put_u32(w, share ? share->id : 0);
    rpc_put_u32(w, (uint32_t)config_id);
    rpc_put_u32(w, api);
    rpc_put_u32(w, (uint32_t)major);
    rpc_put_u32(w, (uint32_t)minor);
    rpc_put_u32(w, (uint32_t)flags);
    rpc_put_u32(w, (uint32_t)profile);
    /* waits, so a context the server cannot make fails here as it would locally */
    rpc_put_u32(w, RG_WS_FINISH);
    struct glc_reply r;
    int bad = rg_glc_sync(&r) || r.status;
    rg_glc_reply_free(&r);
    if (bad) {
        rg_glc_ctx_free(c);
        return NULL;
    }
    return c;
}

void rg_glc_ctx_free(struct glc_ctx *c)
{
    c->magic = 0;
    if (--c->share->refs == 0) {
        rg_glc_progs_share_gone(c->share);
        free(c->share);
    }
    for (int i = 0; i < 8; i++)
        free(c->strings[i]);
    for (uint32_t i = 0; i < c->nexts; i++)
        free(c->exts[i]);
    free(c->exts);
    free(c->vaos);
    rg_glc_maps_free(c);
    free(c->limits);
    free(c);
}

void rg_glc_ctx_destroy(struct glc_ctx *c)
{
    c->destroyed = 1;
    rg_glc_reserve(8, 0);
    rpc_put_u32(rg_glc_enc(), RG_WS_DESTROY_CONTEXT);
    rpc_put_u32(rg_glc_enc(), c->id);
    if (!c->current) rg_glc_ctx_free(c); /* else when it is released */
}

uint32_t rg_glc_surface_create(int32_t config_id, int w, int h, uint32_t flags)
{
    pthread_mutex_lock(&mu);
    uint32_t id = ++next_surf;
    pthread_mutex_unlock(&mu);
    rg_glc_reserve(24, 0);
    rpc_wbuf *e = rg_glc_enc();
    rpc_put_u32(e, RG_WS_CREATE_SURFACE);
    rpc_put_u32(e, id);
    rpc_put_u32(e, (uint32_t)config_id);
    rpc_put_u32(e, (uint32_t)w);
    rpc_put_u32(e, (uint32_t)h);
    rpc_put_u32(e, flags);
    return id;
}

void rg_glc_surface_destroy(uint32_t id)
{
    rg_glc_reserve(8, 0);
    rpc_put_u32(rg_glc_enc(), RG_WS_DESTROY_SURFACE);
    rpc_put_u32(rg_glc_enc(), id);
}

void rg_glc_make_current(struct glc_ctx *c, uint32_t draw_id, uint32_t read_id, void *draw,
                         void *read)
{
    struct glc_ctx *old = rg_glc_current();
    rg_glc_reserve(16, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_WS_MAKE_CURRENT);
    rpc_put_u32(w, draw_id);
    rpc_put_u32(w, read_id);
    rpc_put_u32(w, c ? c->id : 0);
    rg_glc_flush();
    if (old && old != c) {
        old->current = 0;
        old->draw = old->read = NULL;
        if (old->destroyed) rg_glc_ctx_free(old);
    }
    if (c) c->current = 1, c->draw = draw, c->read = read;
    rg_glc_set_current(c);
}

void rg_glc_finish(void)
{
    if (!rg_glc_current()) return;
    rpc_put_u32(rg_glc_enc(), RG_WS_FINISH);
    struct glc_reply r;
    if (!rg_glc_sync(&r)) rg_glc_reply_free(&r);
}
