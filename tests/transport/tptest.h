/* tptest.h — helpers shared by the transport tests over loopback: a connected
 * pair (each test file opens it its own way), its closing, and a reproducible
 * byte pattern for bulk frames. */
#ifndef RG_TEST_TPTEST_H
#define RG_TEST_TPTEST_H

#include <stdint.h>

#include "transport.h"

/* A listener, a dialled client and the server end. */
struct pair {
    tp_listener *l;
    tp_conn *cli, *srv;
};

static inline void pair_close(struct pair *p)
{
    tp_close(p->cli);
    tp_close(p->srv);
    tp_listener_close(p->l);
    *p = (struct pair){0};
}

/* n pseudo-random bytes of the sequence seed names (an LCG). */
static inline void fill(uint8_t *b, size_t n, uint32_t seed)
{
    uint32_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        b[i] = (uint8_t)(x >> 24);
    }
}

/* The size of a big frame, and what a thread echoing it gets and reports. */
#define BIG (64u << 20)

struct echo_arg {
    tp_conn *c;
    uint8_t *buf;
    tp_status st;
};

#endif
