/* pool.h — rgpud's GPU pool: every device of the backend, and one slot per
 * session in a table that the supervisor creates (an anonymous file) and its
 * children inherit. The handshake child places its session (chooses physical
 * devices under the table's lock), the worker it becomes counts its calls and
 * memory there with atomics, and the supervisor reads it for the admin plane
 * and frees a slot when it reaps the slot's process (docs/pool.md). */
#ifndef RG_SRV_POOL_H
#define RG_SRV_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"

#define POOL_MAX_DEVICES 64
#define POOL_MAGIC 0x72677030u /* "rgp0" */

enum pool_state { POOL_FREE = 0, POOL_PLACED, POOL_RUNNING };

struct pool_device {
    char name[64];
    char uuid[48];       /* "GPU-xxxxxxxx-...": the worker's CUDA_VISIBLE_DEVICES entry */
    uint64_t total;      /* bytes, as the backend reports them */
    _Atomic int drained; /* no new sessions are placed on it */
};

struct pool_slot {
    _Atomic int state; /* enum pool_state */
    int pid;           /* the handshake child, then (same pid) the worker */
    uint64_t session;
    int64_t start_ms; /* CLOCK_REALTIME */
    uint32_t client_pid;
    char host[64], program[64], user[32], tenant[32], peer[64];
    int ndev;
    int8_t dev[POOL_MAX_DEVICES];            /* physical index of session device i */
    uint64_t quota[POOL_MAX_DEVICES];        /* bytes on session device i (0: none) */
    uint64_t reserve[POOL_MAX_DEVICES];      /* what placement holds on it: quota + headroom */
    _Atomic uint64_t used[POOL_MAX_DEVICES]; /* the session's allocations (worker) */
    _Atomic uint64_t calls, bytes_in, bytes_out; /* worker: calls run, their bytes in and out */
    _Atomic int killed;                      /* the admin ended it */
    uint64_t ticket; /* its place in the queue while it waits for GPUs (0: not waiting) */
};

/* A CUDA IPC export (server/ipc.c): the key an rgpu handle names, and what it
 * stands for. Entries follow the slots in the table; under the lock. */
#define POOL_MAX_EXPORTS 1024
enum pool_export_kind { POOL_EXPORT_FREE = 0, POOL_EXPORT_MEM, POOL_EXPORT_EVENT };

struct pool_export {
    int kind; /* enum pool_export_kind */
    uint32_t slot;
    uint64_t session, serial;
    uint64_t base;       /* memory: the exporter's allocation (dropped when it is freed) */
    uint8_t key[24];     /* random: the handle must carry it */
    uint8_t backend[64]; /* the backend's own handle */
    char tenant[32];
};

struct pool_table {
    uint32_t magic, nslots;
    int ndev;
    uint64_t boot;        /* random, per rgpud: handles of another run are not looked up */
    uint64_t next_export; /* serials of exports (under lock) */
    _Atomic int closing;  /* rgpud is shutting down: queued sessions are refused */
    uint64_t next_ticket; /* the queue (under lock): first come, first placed */
    pthread_mutex_t lock; /* process-shared, robust: placement */
    struct pool_device dev[POOL_MAX_DEVICES];
    struct pool_slot slot[];
};

/* ---- supervisor ---------------------------------------------------------- */

/* Creates the table (nslots slots) in an inheritable anonymous file; *fd is it. */
struct pool_table *pool_create(int nslots, int *fd);
/* Fills the device list by asking the backend library in a child process. 0 or -1. */
int pool_inventory(struct pool_table *t, const char *lib);
/* The slot of a reaped process goes back to the pool; its session id, or 0.
 * *was (if given) receives the slot as it was. */
uint64_t pool_release_pid(struct pool_table *t, int pid, struct pool_slot *was);
/* Sessions placed on physical device d. */
int pool_device_sessions(const struct pool_table *t, int d);

/* ---- the handshake child ------------------------------------------------ */

struct pool_request {
    int ndev; /* devices wanted; -1: all */
    uint64_t session;
    uint32_t client_pid;
    const char *host, *program, *user, *peer;
    const char *tenant;       /* NULL: anonymous */
    int max_sessions;         /* the tenant's concurrent sessions (0: no limit) */
    int max_gpus;             /* the tenant's GPUs per session (0: no limit) */
    const char *memory_quota; /* the tenant's quota setting, NULL: the server's */
};

/* Places the session: claims a slot and chooses its devices by cfg's policy,
 * waiting up to cfg->queue_timeout_ms while the pool is busy. Returns the
 * slot, or -1 with a reason in why. */
int pool_place(struct pool_table *t, const struct srv_config *cfg, const struct pool_request *rq,
               char *why, size_t len);
/* CUDA_VISIBLE_DEVICES for the slot's devices (their UUIDs), in out. */
void pool_visible(const struct pool_table *t, int slot, char *out, size_t len);

/* ---- the worker ---------------------------------------------------------- */

/* Maps the inherited table (fd) and returns this worker's slot, or NULL. */
struct pool_slot *pool_attach(int fd, int slot, struct pool_table **t);

/* IPC exports (server/ipc.c). add: an entry like e (or the same session's
 * entry with the same backend handle, whose key then replaces e's); its
 * serial, or 0 when the table is full. find: the entry of serial, copied; 0 or -1.
 * drop: a session's memory entries of base (all of them for base 0). */
uint64_t pool_export_add(struct pool_table *t, struct pool_export *e);
int pool_export_find(struct pool_table *t, uint64_t serial, struct pool_export *out);
void pool_export_drop(struct pool_table *t, uint64_t session, uint64_t base);

#endif
