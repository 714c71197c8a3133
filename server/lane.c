/* lane.c — client threads as the worker sees them. Each client thread has a
 * sequence counter, its per-thread default streams and a lane: one worker
 * thread of its own that runs all its calls, in order. The backend therefore
 * sees one OS thread per client thread, as the driver would (stream capture
 * modes check the thread, the current context is per thread), and a client
 * thread blocked in a synchronisation never holds up another's calls. An idle
 * lane ends after lane-idle-ms (setting) and the thread's next call starts another.
 *
 * Order across client threads: the main loop gives every call a ticket in
 * arrival order; a call starts only on its ticket's turn, so a call another
 * thread made visible first (a pipelined launch, then a host-side signal to a
 * second thread that synchronises) is in the backend before it. The turn goes
 * on when the call has run, when it starts if it may block on device work
 * (RPC_MODE_WAIT), or when it has held the turn for SRV_TURN_MS, blocked in the backend
 * (turn_watch: a pipelined copy queued behind a host callback must not keep
 * the callback's own driver calls from running). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "session.h"
#ifdef RGPU_GL
#include "gl/gl_hook.h"
#endif

struct cthread *cthread_get(struct session *s, uint32_t id)
{
    for (struct cthread *t = s->threads; t; t = t->next)
        if (t->id == id) return t;
    if (s->nthreads >= SRV_MAX_THREADS) return NULL;
    struct cthread *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->id = id;
    t->next = s->threads;
    s->threads = t;
    s->nthreads++;
    return t;
}

static int may_block(const struct call *cl)
{
    return cl->d && cl->d->mode == RPC_MODE_WAIT && !(cl->h.flags & RPC_F_NOREPLY);
}

/* Gives the turn on if cl still holds it (s->lock held). */
static void turn_release(struct session *s, const struct call *cl)
{
    if (s->turn != cl->ticket) return;
    s->turn++;
    pthread_cond_broadcast(&s->cond);
}

/* Client threads come and go (thread pools, the shim's callback runners): a lane
 * with nothing to do for lane-idle-ms (setting) ends, and the thread's small record
 * (sequence number, per-thread streams) stays for its next call. Not while a
 * stream capture may be under way in the session: capture modes check the OS
 * thread. Under s->lock; 1 if the lane ends. */
static int lane_retire(struct session *s, struct cthread *t, const struct timespec *dl)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (t->head || s->rd_lane == t || atomic_load(&s->captured) ||
        (now.tv_sec < dl->tv_sec || (now.tv_sec == dl->tv_sec && now.tv_nsec < dl->tv_nsec)))
        return 0;
    t->has_lane = 0;
    s->nlanes--;
    pthread_detach(pthread_self());
    return 1;
}

/* The lane holds the reading role and has nothing to run: one frame (s->lock
 * held, released meanwhile). Its own calls come back on its queue. */
static void lane_read(struct session *s, struct cthread *t)
{
    s->rd_reading = 1;
    s->rd_gen++;
    pthread_mutex_unlock(&s->lock);
    reader_busy_poll(s, TP_BUSY_POLL_DEFAULT_US);
    int end = read_one(s, t);
    pthread_mutex_lock(&s->lock);
    s->rd_reading = 0;
    s->rd_gen++;
    if (end) {
        s->rd_ended = 1;
        s->rd_lane = NULL;
        pthread_cond_signal(&s->rd_cv);
    } else if (s->rd_main_asleep) {
        pthread_cond_signal(&s->rd_cv); /* it times how long we do not receive */
    }
}

static void *lane_main(void *p)
{
    struct cthread *t = ((void **)p)[1];
    struct session *s = ((void **)p)[0];
    struct timespec dl;
    free(p);
    int dl_set = 0; /* the idle deadline runs from the first wait after a call */
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!atomic_load(&s->closing) && (!t->head || t->head->ticket > s->turn)) {
            if (s->rd_lane == t && !t->head && !s->rd_ended) {
                lane_read(s, t);
                continue;
            }
            if (!dl_set) srv_deadline(&dl, s->cfg->lane_idle_ms), dl_set = 1;
            if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT) {
                if (lane_retire(s, t, &dl)) {
                    pthread_mutex_unlock(&s->lock);
                    return NULL;
                }
                dl_set = 0; /* it stays (capture, reading role, a queued call): wait anew */
            }
        }
        if (atomic_load(&s->closing)) break;
        struct call *cl = t->head;
        t->head = cl->next;
        if (!t->head) t->tail = NULL;
        t->running = 1;
        struct call mine = {.ticket = cl->ticket}; /* cl is freed by dispatch_call */
        if (may_block(cl)) turn_release(s, cl);
        if (s->rd_lane == t && may_block(cl) && atomic_load(&s->live_cbs) > 0) {
            s->rd_lane = NULL; /* it may wait for a callback's acknowledgement: read on */
            pthread_cond_signal(&s->rd_cv);
        }
        pthread_mutex_unlock(&s->lock);
        int rc = dispatch_call(s, cl);
        pthread_mutex_lock(&s->lock);
        turn_release(s, &mine);
        t->running = 0;
        if (rc < 0 && !atomic_exchange(&s->fatal, 1)) {
            tp_shutdown(s->c); /* ends the main loop */
            rd_wake_main(s);
        }
        if (!t->head && !s->rd_lane && s->rd_watching && !s->rd_ended) {
            /* the main loop took the role while this call ran long (a wait for the
             * device) and has read nothing since: this lane reads again, and the
             * call its client sends next costs no hand-over (two wake-ups) */
            s->rd_lane = t;
            s->rd_gen++;
            rd_wake_main(s);
        }
        if (!t->head) { /* idle: credits of its pipelined calls go back */
            pthread_mutex_unlock(&s->lock);
            flush_credits(s, s->credit_batch);
#ifdef RGPU_GL
            gl_lane_idle(); /* and the frames of its swaps go out */
#endif
            pthread_mutex_lock(&s->lock);
        }
        dl_set = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int lane_submit(struct session *s, struct call *cl, int may_read)
{
    struct cthread *t = cl->t;
    pthread_mutex_lock(&s->lock);
    int idle = !t->has_lane || (!t->head && !t->running);
    if (!t->has_lane) {
        if (s->nlanes >= SRV_MAX_LANES) {
            pthread_mutex_unlock(&s->lock);
            srv_err("client thread %u: %d client threads have calls running or queued already",
                    t->id, SRV_MAX_LANES);
            call_free(cl);
            return -1;
        }
        void **arg = malloc(2 * sizeof *arg);
        if (!arg) goto fail;
        arg[0] = s;
        arg[1] = t;
        if (pthread_create(&t->lane, NULL, lane_main, arg)) {
            free(arg);
            goto fail;
        }
        t->has_lane = 1;
        s->nlanes++;
    }
    cl->ticket = s->next_ticket++;
    cl->next = NULL;
    if (t->tail) t->tail->next = cl;
    else t->head = cl;
    t->tail = cl;
    if (may_read && idle && !s->rd_lane && !s->rd_ended) { /* the main loop reads: hand over */
        s->rd_lane = t;
        s->rd_gen++;
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return 0;
fail:
    pthread_mutex_unlock(&s->lock);
    srv_err("cannot start a worker thread for client thread %u", t->id);
    call_free(cl);
    return -1;
}

/* Samples the turn: one held by the same call for SRV_TURN_MS goes on (the call
 * is blocked in the backend, or queued behind its thread's blocked call). A
 * call whose turn passed starts whenever its lane is free. */
void turn_watch(struct session *s)
{
    long long now = srv_now_ms();
    pthread_mutex_lock(&s->lock);
    if (s->turn == s->next_ticket || s->turn != s->watched) {
        s->watched = s->turn; /* idle, or the turn moved since the last look */
        s->watched_since = now;
    } else if (now - s->watched_since >= SRV_TURN_MS) {
        srv_debug("the call with ticket %llu held the turn for %lld ms: later calls may start",
                  (unsigned long long)s->turn, now - s->watched_since);
        s->turn++;
        s->watched = s->turn;
        s->watched_since = now;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
}

int lanes_stop(struct session *s, int ms)
{
    int all = 1;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->closing, 1);
    pthread_cond_broadcast(&s->cb_cond);
    for (struct cthread *t = s->threads; t; t = t->next) /* queued calls are dropped */
        while (t->head) {
            struct call *cl = t->head;
            t->head = cl->next;
            call_free(cl);
        }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    struct timespec dl;
    srv_deadline(&dl, ms);
    for (struct cthread *t = s->threads; t; t = t->next) {
        if (!t->has_lane) continue;
        if (pthread_timedjoin_np(t->lane, NULL, &dl) == 0) t->has_lane = 0;
        else all = 0;
    }
    return all ? 0 : -1;
}
