/* share.h — simgpu device memory shared by processes (SIMGPU_SHARED).
 *
 * A physical GPU's memory is one pool for every process using it: what one
 * process allocates, another's cuMemGetInfo no longer sees as free, and a
 * process that dies gives its memory back. simgpu is a library inside each
 * process, so processes that should behave as users of the same devices (the
 * session workers of one rgpud, or any local programs) name one file in
 * SIMGPU_SHARED; the file holds, per physical device, the bytes charged by all
 * of them, and one slot per process with its own share, so the memory of a
 * process that ended without freeing it can be given back (by the next
 * process that claims a slot, or by rgpud when it reaps the worker).
 *
 * Header-only: rgpud's supervisor reads the layout without loading simgpu.
 * The file starts zero-filled; every field is valid at zero. */
#ifndef SIMGPU_SHARE_H
#define SIMGPU_SHARE_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define SIMGPU_SHARE_DEVICES 64
#define SIMGPU_SHARE_SLOTS 1024
#define SIMGPU_SHARE_RECLAIMING (-1) /* a slot's pid while its memory is given back */

struct simgpu_share_slot {
    _Atomic int pid; /* 0: free */
    int pad;
    _Atomic uint64_t used[SIMGPU_SHARE_DEVICES];
};

struct simgpu_share {
    _Atomic uint64_t used[SIMGPU_SHARE_DEVICES]; /* all processes, per physical device */
    struct simgpu_share_slot slot[SIMGPU_SHARE_SLOTS];
};

/* Maps the file at path (created and sized if needed); NULL on failure, errno set. */
static inline struct simgpu_share *simgpu_share_open(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    void *p = MAP_FAILED;
    if (fd < 0) return NULL;
    if (fstat(fd, &st) == 0 &&
        (st.st_size >= (off_t)sizeof(struct simgpu_share) ||
         ftruncate(fd, sizeof(struct simgpu_share)) == 0))
        p = mmap(NULL, sizeof(struct simgpu_share), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    errno = e;
    return p == MAP_FAILED ? NULL : (struct simgpu_share *)p;
}

/* Gives back what slot i charged, if its process is pid; 1 if it did. */
static inline int simgpu_share_reclaim(struct simgpu_share *sh, int i, int pid)
{
    struct simgpu_share_slot *s = &sh->slot[i];
    int expect = pid;
    if (pid <= 0 || !atomic_compare_exchange_strong(&s->pid, &expect, SIMGPU_SHARE_RECLAIMING))
        return 0;
    for (int d = 0; d < SIMGPU_SHARE_DEVICES; d++) {
        uint64_t n = atomic_exchange(&s->used[d], 0);
        if (n) atomic_fetch_sub(&sh->used[d], n);
    }
    atomic_store(&s->pid, 0);
    return 1;
}

/* The slot of a process that ended (rgpud, after reaping a worker). */
static inline void simgpu_share_release_pid(struct simgpu_share *sh, int pid)
{
    for (int i = 0; i < SIMGPU_SHARE_SLOTS; i++)
        if (atomic_load(&sh->slot[i].pid) == pid) simgpu_share_reclaim(sh, i, pid);
}

/* Gives back the slots of processes that no longer exist, then takes a free
 * slot for this process; its index, or -1 if all are taken. */
static inline int simgpu_share_claim(struct simgpu_share *sh)
{
    int me = (int)getpid(), mine = -1;
    for (int i = 0; i < SIMGPU_SHARE_SLOTS; i++) {
        int p = atomic_load(&sh->slot[i].pid);
        if (p > 0 && p != me && kill(p, 0) < 0 && errno == ESRCH) simgpu_share_reclaim(sh, i, p);
        if (p == me) simgpu_share_reclaim(sh, i, p); /* a previous life of this pid */
    }
    for (int i = 0; i < SIMGPU_SHARE_SLOTS && mine < 0; i++) {
        int zero = 0;
        if (atomic_compare_exchange_strong(&sh->slot[i].pid, &zero, me)) mine = i;
    }
    return mine;
}

#endif
