/* waiter.c — client threads as the worker sees them: each has a sequence
 * counter, its per-thread default streams and, once it makes a call that may
 * block on device work, a waiter thread of its own that runs its calls in
 * order while the main loop goes on with other threads' calls. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "session.h"

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

int waiter_busy(struct cthread *t)
{
    return t->head || t->running;
}

struct waiter_arg {
    struct session *s;
    struct cthread *t;
};

static void *waiter_main(void *p)
{
    struct waiter_arg *wa = p;
    struct session *s = wa->s;
    struct cthread *t = wa->t;
    free(wa);
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!t->head && !atomic_load(&s->closing)) pthread_cond_wait(&s->cond, &s->lock);
        if (!t->head) break;
        struct call *cl = t->head;
        t->head = cl->next;
        if (!t->head) t->tail = NULL;
        t->running = 1;
        pthread_mutex_unlock(&s->lock);
        int rc = dispatch_call(s, cl);
        pthread_mutex_lock(&s->lock);
        t->running = 0;
        if (rc < 0 && !atomic_exchange(&s->fatal, 1)) tp_shutdown(s->c); /* ends the main loop */
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int waiter_submit(struct session *s, struct call *cl)
{
    struct cthread *t = cl->t;
    pthread_mutex_lock(&s->lock);
    if (!t->has_waiter) {
        struct waiter_arg *wa = malloc(sizeof *wa);
        if (!wa) goto fail;
        *wa = (struct waiter_arg){s, t};
        if (pthread_create(&t->waiter, NULL, waiter_main, wa)) {
            free(wa);
            goto fail;
        }
        t->has_waiter = 1;
    }
    cl->next = NULL;
    if (t->tail) t->tail->next = cl;
    else t->head = cl;
    t->tail = cl;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return 0;
fail:
    pthread_mutex_unlock(&s->lock);
    srv_err("cannot start a waiter thread for client thread %u", t->id);
    return -1;
}

/* ---- routing and the session executor ------------------------------------------------ */

int call_route(struct session *s, struct call *cl, const char **why)
{
    pthread_mutex_lock(&s->lock);
    int to_waiter = waiter_busy(cl->t) || (cl->d && cl->d->mode == RPC_MODE_WAIT &&
                                           !(cl->h.flags & RPC_F_NOREPLY));
    pthread_mutex_unlock(&s->lock);
    if (to_waiter) {
        *why = "cannot run a waiting call";
        return waiter_submit(s, cl) ? -1 : 0;
    }
    *why = "malformed call arguments";
    return dispatch_call(s, cl) < 0 ? -1 : 0;
}

int exec_busy(struct session *s)
{
    return s->xhead || s->xrunning;
}

/* Runs calls in the order the main loop read them, as the main loop itself
 * would; credits owed go back once the queue is empty. */
static void *exec_main(void *p)
{
    struct session *s = p;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->xhead && !atomic_load(&s->closing)) pthread_cond_wait(&s->cond, &s->lock);
        if (!s->xhead) break;
        struct call *cl = s->xhead;
        s->xhead = cl->next;
        if (!s->xhead) s->xtail = NULL;
        s->xrunning = 1;
        pthread_mutex_unlock(&s->lock);
        const char *why = NULL;
        if (call_route(s, cl, &why) < 0 && !atomic_exchange(&s->fatal, 1)) {
            protocol_error(s, why);
            tp_shutdown(s->c); /* ends the main loop */
        }
        pthread_mutex_lock(&s->lock);
        s->xrunning = 0;
        if (!s->xhead) {
            pthread_mutex_unlock(&s->lock);
            flush_credits(s);
            pthread_mutex_lock(&s->lock);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int exec_submit(struct session *s, struct call *cl)
{
    pthread_mutex_lock(&s->lock);
    if (!s->has_exec) {
        if (pthread_create(&s->exec, NULL, exec_main, s)) {
            pthread_mutex_unlock(&s->lock);
            call_free(cl);
            srv_err("cannot start the session executor");
            return -1;
        }
        s->has_exec = 1;
    }
    cl->next = NULL;
    if (s->xtail) s->xtail->next = cl;
    else s->xhead = cl;
    s->xtail = cl;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int waiters_stop(struct session *s, int ms)
{
    int all = 1;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->closing, 1);
    while (s->xhead) { /* queued calls are dropped */
        struct call *cl = s->xhead;
        s->xhead = cl->next;
        call_free(cl);
    }
    s->xtail = NULL;
    pthread_cond_broadcast(&s->cb_cond);
    for (struct cthread *t = s->threads; t; t = t->next)
        while (t->head) {
            struct call *cl = t->head;
            t->head = cl->next;
            call_free(cl);
        }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) dl.tv_sec++, dl.tv_nsec -= 1000000000;
    if (s->has_exec) {
        if (pthread_timedjoin_np(s->exec, NULL, &dl) == 0) s->has_exec = 0;
        else all = 0;
    }
    for (struct cthread *t = s->threads; t; t = t->next) {
        if (!t->has_waiter) continue;
        if (pthread_timedjoin_np(t->waiter, NULL, &dl) == 0) t->has_waiter = 0;
        else all = 0;
    }
    return all ? 0 : -1;
}
