// printf.cu — kernel printf reaches the program's stdout by the time the
// synchronisation that follows the kernel returns. The program points its
// stdout (fd 1) at a temporary file around the kernel, then compares what
// arrived there with lines formatted on the CPU from values computed on the
// CPU: every device line present once, between the host lines printed before
// the launch and after the synchronisation. Twice: a few lines from a kernel
// on the legacy stream and cudaDeviceSynchronize, then 1024 lines from a
// kernel on a stream of its own and cudaStreamSynchronize.
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

// Every thread prints one line: more text than one small message.
__global__ void every_thread(int salt)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    printf("t %4d: %d\n", i, (i * i + salt) % 9973);
}

static std::vector<std::string> lines_of(const std::string &text)
{
    std::vector<std::string> out;
    size_t at = 0, nl;
    while ((nl = text.find('\n', at)) != std::string::npos)
        out.push_back(text.substr(at, nl - at)), at = nl + 1;
    if (at < text.size()) out.push_back(text.substr(at));
    return out;
}

// Runs launch_and_wait() with fd 1 pointing at a temporary file, between two
// host lines; returns everything written to fd 1 meanwhile.
template <typename F>
static std::string captured(const char *before, const char *after, F launch_and_wait)
{
    char path[] = "/tmp/rgpu-printf.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) perror("mkstemp"), exit(1);
    unlink(path);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    printf("%s\n", before);
    fflush(stdout);
    cudaError_t e = launch_and_wait();
    printf("%s\n", after);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    CK(e);
    std::string text;
    char buf[4096];
    ssize_t got;
    lseek(fd, 0, SEEK_SET);
    while ((got = read(fd, buf, sizeof buf)) > 0)
        text.append(buf, got);
    close(fd);
    return text;
}

// The device lines of text must be want, in any order, between the host lines.
static void check_lines(const std::string &text, const char *before, const char *after,
                        std::vector<std::string> want)
{
    std::vector<std::string> lines = lines_of(text);
    EXPECT(lines.size() == want.size() + 2, "%zu lines, want %zu", lines.size(), want.size() + 2);
    EXPECT(!lines.empty() && lines.front() == before, "first line \"%s\"",
           lines.empty() ? "" : lines.front().c_str());
    EXPECT(!lines.empty() && lines.back() == after,
           "device output after the synchronisation returned (or missing): last line \"%s\"",
           lines.empty() ? "" : lines.back().c_str());
    std::vector<std::string> device;
    for (const std::string &l : lines)
        if (l != before && l != after) device.push_back(l);
    std::sort(device.begin(), device.end());
    std::sort(want.begin(), want.end());
    for (const std::string &w : want)
        EXPECT(std::count(device.begin(), device.end(), w) == 1, "missing or repeated: \"%s\"",
               w.c_str());
    EXPECT(device == want, "device lines differ from the CPU's");
}

int main()
{
    const int n = blocks * threads;
    int hx[n];
    for (int i = 0; i < n; i++)
        hx[i] = (i * 13) % 101 - 50;
    int *x;
    CK(cudaMalloc(&x, sizeof hx));
    CK(cudaMemcpy(x, hx, sizeof hx, cudaMemcpyHostToDevice));

    // What the device must print, formatted on the host.
    std::vector<std::string> want;
    char buf[256];
    for (int b = 0; b < blocks; b++) {
        long long s = 0;
        for (int t = 0; t < threads; t++)
            s += (long long)hx[b * threads + t] * hx[b * threads + t];
        snprintf(buf, sizeof buf, "device: block %d sum of squares %lld mean %.6f tag %s %#x", b, s,
                 (double)s / threads, "sq", b * 255);
        want.push_back(buf);
    }
    for (int t = 0; t < 8; t++) {
        snprintf(buf, sizeof buf, "device: thread %3d value %-5d|", threads + t, hx[threads + t]);
        want.push_back(buf);
    }
    std::string text = captured("host: before launch", "host: after synchronize", [&] {
        report_sums<<<blocks, threads>>>(x);
        cudaError_t e = cudaGetLastError();
        return e != cudaSuccess ? e : cudaDeviceSynchronize();
    });
    fputs(text.c_str(), stdout);
    check_lines(text, "host: before launch", "host: after synchronize", want);

    const int salt = 17, many = 1024;
    std::vector<std::string> want_many;
    for (int i = 0; i < many; i++) {
        snprintf(buf, sizeof buf, "t %4d: %d", i, (i * i + salt) % 9973);
        want_many.push_back(buf);
    }
    cudaStream_t s;
    CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    text = captured("host: before stream launch", "host: after stream synchronize", [&] {
        every_thread<<<many / 256, 256, 0, s>>>(salt);
        cudaError_t e = cudaGetLastError();
        return e != cudaSuccess ? e : cudaStreamSynchronize(s);
    });
    printf("(%zu lines printed by every_thread on a stream)\n", lines_of(text).size() - 2);
    check_lines(text, "host: before stream launch", "host: after stream synchronize", want_many);
    CK(cudaStreamDestroy(s));
    CK(cudaFree(x));
    return report("kernel printf on stdout", 0);
}
