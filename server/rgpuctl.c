/* rgpuctl.c — rgpud's admin command line: sends one AdminRequest
 * (rpc/proto/admin.proto) to rgpud's ZeroMQ admin socket and prints the
 * AdminReply for a person, or as JSON for scripts (--json). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "admin.h"
#include "admin.pb-c.h"
#include "tenants.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rgpuctl [--admin URL] [--json] [--timeout MS] COMMAND [ARG]\n\n"
            "Shows and steers a running rgpud through its admin socket.\n\n"
            "commands:\n"
            "  status            each GPU (memory used/quota/total, sessions, calls/s, bytes/s)\n"
            "                    and each session (tenant, client host/pid/program, GPUs,\n"
            "                    memory, calls, uptime)\n"
            "  sessions          the sessions only\n"
            "  kill SESSION      end session SESSION (its worker stops; its GPUs and memory\n"
            "                    go back to the pool)\n"
            "  drain DEVICE      place no new sessions on GPU DEVICE (running ones go on)\n"
            "  undrain DEVICE    place sessions on GPU DEVICE again\n"
            "  hash-secret       read a tenant's secret (first line of standard input) and\n"
            "                    print its SCRAM-SHA-256 verifier for rgpud's tenants file:\n"
            "                    NAME VERIFIER [max-gpus=N] [max-sessions=N] [memory-quota=Q]\n"
            "                    (local: no rgpud needed; the client then sets\n"
            "                    RGPU_TOKEN=NAME:SECRET)\n\n"
            "options:\n"
            "  --admin URL       rgpud's admin socket (default: $RGPU_ADMIN, else\n"
            "                    ipc://$RGPU_RUN_DIR/rgpud.sock, $RGPU_RUN_DIR defaulting to\n"
            "                    /tmp/rgpu-$UID; rgpud's --admin must match)\n"
            "  --json            machine-readable output\n"
            "  --secret-file F   the admin secret (first line of F) when rgpud has\n"
            "                    --admin-credential (else $RGPU_ADMIN_SECRET)\n"
            "  --timeout MS      how long to wait for rgpud (default 5000)\n\n"
            "exit status: 0 done, 1 rgpud refused (no such session or device), 2 usage,\n"
            "3 no answer from rgpud\n");
}

/* ---- output ------------------------------------------------------------------------------- */

static void human_bytes(double b, char *out, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4)
        b /= 1024, i++;
    snprintf(out, len, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void json_device(const Rgpu__AdminDevice *d)
{
    printf("{\"index\":%d,\"name\":", d->index);
    json_str(d->name);
    printf(",\"uuid\":");
    json_str(d->uuid);
    printf(",\"memory_total\":%llu,\"memory_used\":%llu,\"memory_quota\":%llu,\"sessions\":%u,"
           "\"drained\":%s,\"calls_per_s\":%.3f,\"bytes_per_s\":%.3f}",
           (unsigned long long)d->memory_total, (unsigned long long)d->memory_used,
           (unsigned long long)d->memory_quota, d->sessions, d->drained ? "true" : "false",
           d->calls_per_s, d->bytes_per_s);
}

static void json_session(const Rgpu__AdminSession *s)
{
    printf("{\"id\":%llu,\"tenant\":", (unsigned long long)s->id);
    json_str(s->tenant);
    printf(",\"client_host\":");
    json_str(s->client_host);
    printf(",\"client_pid\":%u,\"program\":", s->client_pid);
    json_str(s->program);
    printf(",\"user\":");
    json_str(s->user);
    printf(",\"peer\":");
    json_str(s->peer);
    printf(",\"devices\":[");
    for (size_t k = 0; k < s->n_devices; k++)
        printf("%s%d", k ? "," : "", s->devices[k]);
    printf("],\"memory_used\":%llu,\"memory_quota\":%llu,\"calls\":%llu,\"bytes_in\":%llu,"
           "\"bytes_out\":%llu,\"calls_per_s\":%.3f,\"bytes_per_s\":%.3f,"
           "\"uptime_s\":%.3f,\"worker_pid\":%u,\"state\":",
           (unsigned long long)s->memory_used, (unsigned long long)s->memory_quota,
           (unsigned long long)s->calls, (unsigned long long)s->bytes_in,
           (unsigned long long)s->bytes_out, s->calls_per_s, s->bytes_per_s, s->uptime_s,
           s->worker_pid);
    json_str(s->state);
    putchar('}');
}

static void print_json(const Rgpu__AdminReply *r, int devices)
{
    printf("{\"ok\":%s,\"message\":", r->ok ? "true" : "false");
    json_str(r->message);
    printf(",\"server_version\":");
    json_str(r->server_version);
    printf(",\"backend\":");
    json_str(r->backend);
    printf(",\"placement\":");
    json_str(r->placement);
    printf(",\"shutting_down\":%s", r->shutting_down ? "true" : "false");
    if (devices) {
        printf(",\"devices\":[");
        for (size_t i = 0; i < r->n_devices; i++) {
            if (i) putchar(',');
            json_device(r->devices[i]);
        }
        putchar(']');
    }
    printf(",\"sessions\":[");
    for (size_t i = 0; i < r->n_sessions; i++) {
        if (i) putchar(',');
        json_session(r->sessions[i]);
    }
    printf("]}\n");
}

static void print_devices(const Rgpu__AdminReply *r)
{
    printf("%-4s %-16s %-34s %8s %9s %10s  %s\n", "GPU", "NAME", "MEMORY used / quota / total",
           "SESSIONS", "CALLS/S", "BYTES/S", "STATE");
    for (size_t i = 0; i < r->n_devices; i++) {
        const Rgpu__AdminDevice *d = r->devices[i];
        char u[32], q[32], t[32], b[32], mem[112];
        human_bytes((double)d->memory_used, u, sizeof u);
        human_bytes((double)d->memory_quota, q, sizeof q);
        human_bytes((double)d->memory_total, t, sizeof t);
        human_bytes(d->bytes_per_s, b, sizeof b);
        snprintf(mem, sizeof mem, "%s / %s / %s", u, d->memory_quota ? q : "-", t);
        printf("%-4d %-16.16s %-34s %8u %9.1f %8s/s  %s\n", d->index, d->name, mem, d->sessions,
               d->calls_per_s, b, d->drained ? "drained" : "in pool");
    }
}

static void print_sessions(const Rgpu__AdminReply *r)
{
    if (!r->n_sessions) {
        printf("no sessions\n");
        return;
    }
    printf("%-8s %-12s %-32s %-10s %-22s %10s %8s %8s\n", "SESSION", "TENANT",
           "CLIENT host:pid (program)", "GPUS", "MEMORY used / quota", "CALLS", "CALLS/S",
           "UPTIME");
    for (size_t i = 0; i < r->n_sessions; i++) {
        const Rgpu__AdminSession *s = r->sessions[i];
        char client[160], gpus[64] = "", u[32], q[32], mem[80];
        size_t n = 0;
        snprintf(client, sizeof client, "%s:%u (%s)", s->client_host[0] ? s->client_host : s->peer,
                 s->client_pid, s->program[0] ? s->program : "?");
        for (size_t k = 0; k < s->n_devices && n < sizeof gpus; k++)
            n += (size_t)snprintf(gpus + n, sizeof gpus - n, "%s%d", k ? "," : "", s->devices[k]);
        human_bytes((double)s->memory_used, u, sizeof u);
        human_bytes((double)s->memory_quota, q, sizeof q);
        snprintf(mem, sizeof mem, "%s / %s", u, s->memory_quota ? q : "-");
        printf("%-8llu %-12.12s %-32.32s %-10s %-22s %10llu %8.1f %7.0fs%s\n",
               (unsigned long long)s->id, s->tenant, client, gpus[0] ? gpus : "-", mem,
               (unsigned long long)s->calls, s->calls_per_s, s->uptime_s,
               !strcmp(s->state, "running") ? ""
               : s->n_devices               ? " (starting)"
                                            : " (queued)");
    }
}

/* ---- the exchange ------------------------------------------------------------------------- */

/* Sends q, returns the reply (caller frees) or NULL with why filled. */
static Rgpu__AdminReply *exchange(const char *url, int timeout_ms, const Rgpu__AdminRequest *q,
                                  char *why, size_t len)
{
    Rgpu__AdminReply *r = NULL;
    void *ctx = zmq_ctx_new(), *sk = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
    int linger = 0;
    size_t n = rgpu__admin_request__get_packed_size(q);
    uint8_t buf[4096];
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (!sk || n > sizeof buf) {
        snprintf(why, len, "cannot set up ZeroMQ");
        goto out;
    }
    rgpu__admin_request__pack(q, buf);
    zmq_setsockopt(sk, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sk, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(sk, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    if (zmq_connect(sk, url) || zmq_send(sk, buf, n, 0) < 0 || zmq_msg_recv(&m, sk, 0) < 0) {
        snprintf(why, len, "no answer from rgpud at %s within %d ms: %s", url, timeout_ms,
                 zmq_errno() == EAGAIN ? "is it running, with this --admin?"
                                       : zmq_strerror(zmq_errno()));
        goto out;
    }
    if (!(r = rgpu__admin_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m))))
        snprintf(why, len, "rgpud at %s sent a reply that does not parse", url);
out:
    zmq_msg_close(&m);
    if (sk) zmq_close(sk);
    if (ctx) zmq_ctx_term(ctx);
    return r;
}

static int number(const char *s, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return !errno && end != s && !*end && *out >= 0;
}

static int hash_secret(void)
{
    char secret[1024], out[512];
    if (!fgets(secret, sizeof secret, stdin)) {
        fprintf(stderr, "rgpuctl: hash-secret reads the secret from standard input\n");
        return 2;
    }
    secret[strcspn(secret, "\r\n")] = 0;
    if (strlen(secret) < 8) {
        fprintf(stderr, "rgpuctl: a secret of at least 8 characters, please\n");
        return 2;
    }
    int rc = tenants_hash(secret, 4096, out, sizeof out);
    memset(secret, 0, sizeof secret);
    if (rc) {
        fprintf(stderr, "rgpuctl: cannot hash the secret\n");
        return 1;
    }
    printf("%s\n", out);
    return 0;
}

int main(int argc, char **argv)
{
    char url[1024], dir[1024], why[1200];
    int json = 0, timeout = 5000, i;
    const char *env = getenv("RGPU_ADMIN"), *senv = getenv("RGPU_ADMIN_SECRET");
    static char secret[1024];
    if (senv) snprintf(secret, sizeof secret, "%s", senv);
    if (env && *env)
        snprintf(url, sizeof url, "%s", env);
    else if (admin_default_url(url, sizeof url, dir, sizeof dir))
        url[0] = 0; /* only an --admin below can do */
    for (i = 1; i < argc && !strncmp(argv[i], "-", 1); i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--admin") && i + 1 < argc) {
            snprintf(url, sizeof url, "%s", argv[++i]);
        } else if (!strcmp(argv[i], "--secret-file") && i + 1 < argc) {
            FILE *f = fopen(argv[++i], "r");
            if (!f || !fgets(secret, sizeof secret, f)) {
                fprintf(stderr, "rgpuctl: cannot read the secret from %s\n", argv[i]);
                if (f) fclose(f);
                return 2;
            }
            fclose(f);
            secret[strcspn(secret, "\r\n")] = 0;
        } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            timeout = atoi(argv[++i]);
        } else {
            fprintf(stderr, "rgpuctl: unknown option %s (try --help)\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[i++];
    if (!strcmp(cmd, "hash-secret")) return hash_secret();
    if (!url[0]) {
        fprintf(stderr, "rgpuctl: RGPU_RUN_DIR is too long for a socket path; give the "
                        "server's address with --admin or RGPU_ADMIN\n");
        return 2;
    }
    for (int k = i; k < argc; k++) /* options after the command too */
        if (!strcmp(argv[k], "--json")) json = 1;
    Rgpu__AdminRequest q = RGPU__ADMIN_REQUEST__INIT;
    long long arg = 0;
    int takes = 0;
    if (!strcmp(cmd, "status"))
        q.command = RGPU__ADMIN_COMMAND__ADMIN_STATUS;
    else if (!strcmp(cmd, "sessions"))
        q.command = RGPU__ADMIN_COMMAND__ADMIN_SESSIONS;
    else if (!strcmp(cmd, "kill"))
        q.command = RGPU__ADMIN_COMMAND__ADMIN_KILL, takes = 1;
    else if (!strcmp(cmd, "drain"))
        q.command = RGPU__ADMIN_COMMAND__ADMIN_DRAIN, takes = 1;
    else if (!strcmp(cmd, "undrain"))
        q.command = RGPU__ADMIN_COMMAND__ADMIN_UNDRAIN, takes = 1;
    else {
        fprintf(stderr,
                "rgpuctl: unknown command \"%s\" (status, sessions, kill, drain, undrain)\n", cmd);
        return 2;
    }
    if (takes && (i >= argc || !number(argv[i], &arg))) {
        fprintf(stderr, "rgpuctl: %s needs a %s number (see rgpuctl status)\n", cmd,
                q.command == RGPU__ADMIN_COMMAND__ADMIN_KILL ? "SESSION" : "DEVICE");
        return 2;
    }
    q.credential = secret;
    q.session = (uint64_t)arg;
    q.device = (int32_t)arg;
    Rgpu__AdminReply *r = exchange(url, timeout, &q, why, sizeof why);
    if (!r) {
        fprintf(stderr, "rgpuctl: %s\n", why);
        return 3;
    }
    int rc = r->ok ? 0 : 1;
    if (json) {
        print_json(r, q.command != RGPU__ADMIN_COMMAND__ADMIN_SESSIONS);
    } else if (takes) {
        fprintf(r->ok ? stdout : stderr, "%s%s\n", r->ok ? "" : "rgpuctl: ", r->message);
    } else {
        if (!r->ok) {
            fprintf(stderr, "rgpuctl: %s\n", r->message);
            rgpu__admin_reply__free_unpacked(r, NULL);
            return 1;
        }
        if (q.command == RGPU__ADMIN_COMMAND__ADMIN_STATUS) {
            printf("rgpud %s, backend %s, placement %s%s\n\n", r->server_version, r->backend,
                   r->placement, r->shutting_down ? ", shutting down" : "");
            print_devices(r);
            putchar('\n');
        }
        print_sessions(r);
    }
    rgpu__admin_reply__free_unpacked(r, NULL);
    return rc;
}
