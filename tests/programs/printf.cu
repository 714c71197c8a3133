// printf.cu — kernel printf reaches the program's stdout by the time the
// synchronisation that follows the kernel returns. The program points its
// stdout (fd 1) at a temporary file around the kernel, then compares what
// arrived there with lines formatted on the CPU from values computed on the
// CPU: every device line present once, between the host lines printed before
// the launch and after the synchronisation. The captured text is echoed.
#include "check.cuh"

#include <algorithm>
#include <string>
#include <unistd.h>
#include <vector>

static const int blocks = 4, threads = 64;

// Thread 0 of each block prints the block's sum of squares (reduced in shared
// memory); the first 8 threads of block 1 print their own line too.
__global__ void report_sums(const int *x)
{
    __shared__ long long s[threads];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = (long long)x[i] * x[i];
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        printf("device: block %d sum of squares %lld mean %.6f tag %s %#x\n", blockIdx.x, s[0],
               (double)s[0] / blockDim.x, "sq", blockIdx.x * 255);
    if (blockIdx.x == 1 && threadIdx.x < 8) printf("device: thread %3d value %-5d|\n", i, x[i]);
}

static std::vector<std::string> lines_of(const std::string &text)
{
    std::vector<std::string> out;
    size_t at = 0, nl;
    while ((nl = text.find('\n', at)) != std::string::npos) out.push_back(text.substr(at, nl - at)), at = nl + 1;
    if (at < text.size()) out.push_back(text.substr(at));
    return out;
}

int main()
{
    const int n = blocks * threads;
    int hx[n];
    for (int i = 0; i < n; i++) hx[i] = (i * 13) % 101 - 50;
    int *x;
    CK(cudaMalloc(&x, sizeof hx));
    CK(cudaMemcpy(x, hx, sizeof hx, cudaMemcpyHostToDevice));

    // What the device must print, formatted on the host.
    std::vector<std::string> want;
    char buf[256];
    for (int b = 0; b < blocks; b++) {
        long long s = 0;
        for (int t = 0; t < threads; t++) s += (long long)hx[b * threads + t] * hx[b * threads + t];
        snprintf(buf, sizeof buf, "device: block %d sum of squares %lld mean %.6f tag %s %#x", b, s,
                 (double)s / threads, "sq", b * 255);
        want.push_back(buf);
    }
    for (int t = 0; t < 8; t++) {
        snprintf(buf, sizeof buf, "device: thread %3d value %-5d|", threads + t, hx[threads + t]);
        want.push_back(buf);
    }

    char path[] = "/tmp/rgpu-printf.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return perror("mkstemp"), 1;
    unlink(path);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    printf("host: before launch\n");
    fflush(stdout);
    report_sums<<<blocks, threads>>>(x);
    cudaError_t launch = cudaGetLastError();
    cudaError_t sync = cudaDeviceSynchronize();
    printf("host: after synchronize\n");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    std::string text;
    lseek(fd, 0, SEEK_SET);
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) text.append(buf, got);
    close(fd);
    CK(launch);
    CK(sync);
    fputs(text.c_str(), stdout);

    std::vector<std::string> lines = lines_of(text);
    EXPECT(lines.size() == want.size() + 2, "%zu lines, want %zu", lines.size(), want.size() + 2);
    EXPECT(!lines.empty() && lines.front() == "host: before launch", "first line");
    EXPECT(!lines.empty() && lines.back() == "host: after synchronize",
           "device output after the synchronisation returned (or missing)");
    std::vector<std::string> device;
    for (const std::string &l : lines)
        if (l.rfind("host: ", 0) != 0) device.push_back(l);
    std::sort(device.begin(), device.end());
    std::sort(want.begin(), want.end());
    for (const std::string &w : want)
        EXPECT(std::count(device.begin(), device.end(), w) == 1, "missing or repeated: \"%s\"", w.c_str());
    EXPECT(device == want, "device lines differ from the CPU's");
    CK(cudaFree(x));
    return report("kernel printf on stdout", 0);
}
