/* verifier.h — the tenants-file line of a secret for the pool tests, made the
 * way an operator makes it (rgpuctl hash-secret; RGPUCTL names the binary). */
#ifndef RG_TEST_POOL_VERIFIER_H
#define RG_TEST_POOL_VERIFIER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SCRAM-SHA-256 verifier of secret in out (NUL-terminated): 0, or -1. */
static inline int verifier(const char *secret, char *out, size_t len)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "echo '%s' | %s hash-secret", secret, getenv("RGPUCTL"));
    FILE *f = popen(cmd, "r");
    int ok = f && fgets(out, (int)len, f) && !strncmp(out, "SCRAM-SHA-256$", 14);
    if (f) pclose(f);
    out[strcspn(out, "\n")] = 0;
    return ok ? 0 : -1;
}

#endif
