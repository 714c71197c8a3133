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

int waiters_stop(struct session *s, int ms)
{
    int all = 1;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->closing, 1);
    for (struct cthread *t = s->threads; t; t = t->next) /* queued calls are dropped */
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
    for (struct cthread *t = s->threads; t; t = t->next) {
        if (!t->has_waiter) continue;
        if (pthread_timedjoin_np(t->waiter, NULL, &dl) == 0) t->has_waiter = 0;
        else all = 0;
    }
    return all ? 0 : -1;
}
