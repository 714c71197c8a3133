/* adopt_helper.c — the "worker" side of the fd handover test: started by
 * fork+exec with a connected socket's number in argv[1], it adopts the socket,
 * reads one length-prefixed message and answers it upper-cased. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "transport.h"

int main(int argc, char **argv)
{
    tp_conn *c = NULL;
    tp_error e = {0};
    char buf[256];
    uint32_t n;

    if (argc != 2) return 2;
    if (tp_adopt("tcp", atoi(argv[1]), &c, &e) != TP_OK) {
        fprintf(stderr, "adopt_helper: %s\n", e.msg);
        return 3;
    }
    if (tp_recv(c, &n, sizeof n, 10000, &e) != TP_OK || n > sizeof buf ||
        tp_recv(c, buf, n, 10000, &e) != TP_OK) {
        fprintf(stderr, "adopt_helper: %s\n", e.msg);
        return 4;
    }
    for (uint32_t i = 0; i < n; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    struct iovec v[2] = {{&n, sizeof n}, {buf, n}};
    int rc = tp_sendv(c, v, 2, 10000, &e) == TP_OK ? 0 : 5;
    tp_close(c);
    return rc;
}
