/* printf.c — device printf (vprintf): reads the format string and the packed
 * argument buffer from device memory, formats with the host's snprintf one
 * conversion at a time, and hands the text to the launch's print sink. */
#include "exec.h"

#include <stdio.h>
#include <string.h>

#define PF_MAX 4096

void ex_read_str(ex_warp *w, int lane, uint64_t addr, char *out, size_t max)
{
    size_t n = 0;
    for (; n + 1 < max; n++) {
        const char *p = ex_translate(w, S_GENERIC, addr + n, 1, lane, 2);
        if (!p) {
            if (n == 0)
                snprintf(out, max, "(null)");
            else
                out[n] = 0;
            return;
        }
        if (!*p) break;
        out[n] = *p;
    }
    out[n] = 0;
}

typedef struct pf_args {
    ex_warp *w;
    int lane;
    uint64_t base, off;
    int bad;
} pf_args;

static uint64_t next_arg(pf_args *a, unsigned size)
{
    uint64_t v = 0;
    a->off = (a->off + size - 1) / size * size;
    const void *p =
        a->base ? ex_translate(a->w, S_GENERIC, a->base + a->off, size, a->lane, 2) : NULL;
    if (p)
        memcpy(&v, p, size);
    else
        a->bad = 1;
    a->off += size;
    return v;
}

/* One conversion: spec holds "%...c"; appends to out. */
static size_t convert(pf_args *a, const char *spec, size_t slen, char conv, int longs, char *out,
                      size_t room)
{
    char f[40], s[256];
    if (slen >= sizeof f - 4) slen = sizeof f - 4;
    memcpy(f, spec, slen);
    f[slen] = 0;
    /* rebuild the length modifier for 64-bit host types */
    char *lp = f + slen - 1;
    while (lp > f && strchr("hlLqjzt", lp[-1]))
        lp--;
    int n;
    switch (conv) {
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o':
    case 'c': {
        uint64_t v = next_arg(a, longs ? 8 : 4);
        if (conv == 'c') {
            snprintf(lp, 4, "c");
            n = snprintf(out, room, f, (int)(char)v);
        } else {
            snprintf(lp, 5, "ll%c", conv);
            long long sv = longs                          ? (long long)v
                           : (conv == 'd' || conv == 'i') ? (long long)(int32_t)v
                                                          : (long long)(uint32_t)v;
            n = snprintf(out, room, f, sv);
        }
        break;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
    case 'a':
    case 'A': {
        uint64_t v = next_arg(a, 8);
        double d;
        memcpy(&d, &v, 8);
        snprintf(lp, 3, "%c", conv);
        n = snprintf(out, room, f, d);
        break;
    }
    case 's': {
        uint64_t p = next_arg(a, 8);
        ex_read_str(a->w, a->lane, p, s, sizeof s);
        snprintf(lp, 3, "s");
        n = snprintf(out, room, f, s);
        break;
    }
    case 'p': {
        uint64_t p = next_arg(a, 8);
        n = snprintf(out, room, "0x%llx", (unsigned long long)p);
        break;
    }
    default:
        n = snprintf(out, room, "%.*s", (int)slen, spec);
        break;
    }
    return n < 0 ? 0 : ((size_t)n < room ? (size_t)n : room - 1);
}

int ex_printf(ex_warp *w, int lane, uint64_t fmt_addr, uint64_t args)
{
    char fmt[PF_MAX], out[PF_MAX];
    ex_read_str(w, lane, fmt_addr, fmt, sizeof fmt);
    pf_args a = {w, lane, args, 0, 0};
    size_t o = 0;
    for (const char *p = fmt; *p && o + 1 < sizeof out;) {
        if (*p != '%') {
            out[o++] = *p++;
            continue;
        }
        if (p[1] == '%') {
            out[o++] = '%';
            p += 2;
            continue;
        }
        const char *q = p + 1, *d;
        while (*q && strchr("-+ #0", *q))
            q++;
        for (d = q; *q >= '0' && *q <= '9'; q++) {
        }
        int wide = q - d > 4; /* widths and precisions beyond 9999 are printed literally */
        if (*q == '.') {
            for (d = ++q; *q >= '0' && *q <= '9'; q++) {
            }
            wide |= q - d > 4;
        }
        int longs = 0;
        while (*q && strchr("hlLqjzt", *q)) {
            if (*q == 'l' || *q == 'L' || *q == 'q' || *q == 'j' || *q == 'z' || *q == 't')
                longs = 1;
            q++;
        }
        if (!*q) break;
        o += convert(&a, p, (size_t)(q - p + 1), wide ? '?' : *q, longs, out + o, sizeof out - o);
        p = q + 1;
    }
    out[o] = 0;
    const ptx_launch *l = w->b->l;
    if (l->print) l->print(l->print_arg, out, o);
    return (int)o;
}
