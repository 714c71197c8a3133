// memory.cu — cudaMalloc / cudaMemcpy / cudaMemset as ordinary programs use
// them: whole and partial memsets, copies in every direction (explicit kinds
// and cudaMemcpyDefault), pitched 2D allocations and copies, async copies of
// pageable memory, stream-ordered cudaMallocAsync/cudaFreeAsync,
// cudaMemGetInfo; each result compared with a CPU model.
#include "check.cuh"

#include <cstring>
#include <vector>

__global__ void add_index(int *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += i;
}

// One row per block: every element gets row * 1000 + column added.
__global__ void mark_2d(float *m, size_t pitch, int width, int height)
{
    int y = blockIdx.x;
    float *row = (float *)((char *)m + y * pitch);
    for (int x = threadIdx.x; x < width && y < height; x += blockDim.x)
        row[x] += y * 1000 + x;
}

static long linear(int n)
{
    long bad = 0;
    size_t bytes = n * sizeof(int);
    int *a, *b;
    std::vector<int> host(n), model(n), back(n);
    CK(cudaMalloc(&a, bytes));
    CK(cudaMalloc(&b, bytes));

    // memset: all bytes, then a middle range, seen by a kernel and the host.
    CK(cudaMemset(a, 0x01, bytes));
    CK(cudaMemset(a + n / 4, 0, bytes / 2));
    add_index<<<(n + 255) / 256, 256>>>(a, n);
    CK_LAUNCH();
    CK(cudaMemcpy(back.data(), a, bytes, cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++)
        model[i] = (i >= n / 4 && i < n / 4 + n / 2 ? 0 : 0x01010101) + i;
    for (int i = 0; i < n; i++)
        EXPECT(back[i] == model[i], "memset+kernel [%d] %d want %d", i, back[i], model[i]);

    // H2D from pageable memory, D2D, D2H.
    for (int i = 0; i < n; i++)
        host[i] = i * 7 - 3;
    CK(cudaMemcpy(b, host.data(), bytes, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(a + 1, b, bytes - 2 * sizeof(int), cudaMemcpyDeviceToDevice));
    CK(cudaMemcpy(back.data(), a, bytes, cudaMemcpyDeviceToHost));
    for (int i = 1; i < n - 1; i++)
        model[i] = host[i - 1];
    for (int i = 0; i < n; i++)
        EXPECT(back[i] == model[i], "d2d [%d] %d want %d", i, back[i], model[i]);

    // cudaMemcpyDefault: the direction comes from the pointers (unified addressing).
    std::vector<int> other(n);
    for (int i = 0; i < n; i++)
        other[i] = -i;
    CK(cudaMemcpy(b + 10, other.data(), 100 * sizeof(int), cudaMemcpyDefault));
    CK(cudaMemcpy(back.data(), b, bytes, cudaMemcpyDefault));
    for (int i = 0; i < n; i++) {
        int want = i >= 10 && i < 110 ? -(i - 10) : host[i];
        EXPECT(back[i] == want, "default [%d] %d want %d", i, back[i], want);
    }

    // Async memset and copies of pageable memory on a stream, then one sync.
    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    CK(cudaMemsetAsync(a, 0xff, bytes, s));
    add_index<<<(n + 255) / 256, 256, 0, s>>>(a, n);
    CK_LAUNCH();
    CK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, s));
    CK(cudaMemcpyAsync(back.data(), b, bytes, cudaMemcpyDeviceToHost, s));
    CK(cudaStreamSynchronize(s));
    for (int i = 0; i < n; i++)
        EXPECT(back[i] == i - 1, "async [%d] %d want %d", i, back[i], i - 1);

    // Stream-ordered allocation: allocate, use and free on the stream.
    int *tmp;
    CK(cudaMallocAsync(&tmp, bytes, s));
    CK(cudaMemsetAsync(tmp, 0, bytes, s));
    add_index<<<(n + 255) / 256, 256, 0, s>>>(tmp, n);
    CK_LAUNCH();
    CK(cudaMemcpyAsync(back.data(), tmp, bytes, cudaMemcpyDeviceToHost, s));
    CK(cudaFreeAsync(tmp, s));
    CK(cudaStreamSynchronize(s));
    for (int i = 0; i < n; i++)
        EXPECT(back[i] == i, "mallocAsync [%d] %d want %d", i, back[i], i);
    CK(cudaStreamDestroy(s));
    CK(cudaFree(a));
    CK(cudaFree(b));
    return bad;
}

static long pitched(int width, int height)
{
    long bad = 0;
    float *m;
    size_t pitch = 0;
    CK(cudaMallocPitch(&m, &pitch, width * sizeof(float), height));
    EXPECT(pitch >= width * sizeof(float) && pitch % 4 == 0, "pitch %zu", pitch);
    // The host rows are padded differently from the device's.
    size_t hpitch = (width + 3) * sizeof(float);
    std::vector<float> h(height * (width + 3), -1.0f), back(height * (width + 3), -2.0f);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            h[y * (width + 3) + x] = (float)(x - y);
    CK(cudaMemcpy2D(m, pitch, h.data(), hpitch, width * sizeof(float), height,
                    cudaMemcpyHostToDevice));
    // Zero a 5-column band of rows 2..height-2 (bytes 0 are +0.0f).
    CK(cudaMemset2D((char *)m + 2 * pitch + 3 * sizeof(float), pitch, 0, 5 * sizeof(float),
                    height - 3));
    mark_2d<<<height, 64>>>(m, pitch, width, height);
    CK_LAUNCH();
    CK(cudaMemcpy2D(back.data(), hpitch, m, pitch, width * sizeof(float), height,
                    cudaMemcpyDeviceToHost));
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width + 3; x++) {
            float want = -2.0f; // the padding of the host rows is never written
            if (x < width) {
                bool zeroed = y >= 2 && y < height - 1 && x >= 3 && x < 8;
                want = (zeroed ? 0.0f : (float)(x - y)) + (float)(y * 1000 + x);
            }
            float got = back[y * (width + 3) + x];
            EXPECT(got == want, "2d (%d,%d) %g want %g", x, y, got, want);
        }
    CK(cudaFree(m));
    return bad;
}

int main()
{
    long bad = 0;
    size_t free0, free1, total;
    CK(cudaMemGetInfo(&free0, &total));
    const size_t big = 64 << 20;
    void *p;
    CK(cudaMalloc(&p, big));
    CK(cudaMemGetInfo(&free1, &total));
    EXPECT(free1 + big <= free0, "free %zu -> %zu after %zu", free0, free1, big);
    cudaPointerAttributes pa;
    CK(cudaPointerGetAttributes(&pa, (char *)p + 100));
    EXPECT(pa.type == cudaMemoryTypeDevice && pa.devicePointer == (char *)p + 100, "attributes");
    CK(cudaFree(p));

    bad += linear(100000);
    bad += linear(1 << 18);
    bad += pitched(37, 11);
    bad += pitched(300, 20);
    return report("malloc/memcpy/memset", bad);
}
