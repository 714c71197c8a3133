/* noserver.c — with nobody listening at RGPU_SERVER, cuInit fails quickly with
 * CUDA_ERROR_NO_DEVICE, later calls keep failing cleanly, errno is untouched. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote.h"

/* A loopback port nobody listens on: bound, then closed. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (void *)&a, &len))
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

RG_TEST(no_server_no_device)
{
    char url[64];
    int port = free_port();
    CHECK(port > 0);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    setenv("RGPU_SERVER", url, 1);
    setenv("RGPU_LOG", "none", 1);
    errno = 1234;
    double t0 = rt_now();
    CHECK_CU_IS(cuInit(0), CUDA_ERROR_NO_DEVICE);
    CHECK(rt_now() - t0 < 5.0);
    CHECK_EQ_INT(errno, 1234);
    CHECK_CU_IS(cuInit(0), CUDA_ERROR_NO_DEVICE);
    int n = 7;
    CHECK(cuDeviceGetCount(&n) != CUDA_SUCCESS);
    CUcontext c;
    CHECK(cuCtxGetCurrent(&c) != CUDA_SUCCESS);
    int v = 0;
    CHECK_CU(cuDriverGetVersion(&v));
    CHECK(v >= 12000);
    const char *s = NULL;
    CHECK_CU(cuGetErrorName(CUDA_ERROR_NO_DEVICE, &s));
    CHECK_STR(s, "CUDA_ERROR_NO_DEVICE");
}

RG_TEST_MAIN()
