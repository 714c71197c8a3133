/* gl_hook.h — the one entry from the session worker into the GL renderer
 * (server/gl/, docs/gl.md), without GL headers: dispatch.c hands over every
 * CALL whose op is in the GL range ('G' << 24, gl/gl_desc.h). */
#ifndef RG_SRV_GL_HOOK_H
#define RG_SRV_GL_HOOK_H

struct session;
struct call;

static inline int gl_hook_op(unsigned op)
{
    return (op & 0xff000000u) == 0x47000000u;
}
/* Runs one GL batch and answers it; frees cl. 0, or -1: the session ends. */
int gl_call(struct session *s, struct call *cl);
/* A lane has nothing left to run: its swaps' readbacks go out (gl_frames.c). */
void gl_lane_idle(void);
/* The session is over: no frame is sent from now on (returns once none is on its way). */
void gl_stop(void);

#endif
