/* occupancy.c — the cuOccupancy* calls, from a model of an sm_120-class SM:
 * 2048 threads, 32 blocks, 228 KiB shared memory (1 KiB reserved per block)
 * and 64K registers. Cooperative launches use the same model for their
 * co-residency limit. */
#include "module.h"

static int imin(int a, int b)
{
    return a < b ? a : b;
}

int sim_occupancy_blocks(const ptx_kernel_info *info, const struct sim_fattrs *a, int block,
                         size_t dyn_smem)
{
    if (block <= 0 || (unsigned)block > sim_func_max_threads(info)) return 0;
    if (dyn_smem > sim_func_max_dyn_smem(info, a)) return 0;
    int threads = (block + 31) / 32 * 32;
    int n = imin(SIM_MAX_THREADS_PER_SM / threads, SIM_MAX_BLOCKS_PER_SM);
    size_t smem = info->static_smem + dyn_smem;
    if (smem) n = imin(n, (int)(SIM_SMEM_PER_SM / (smem + SIM_SMEM_RESERVED_PER_BLOCK)));
    int regs = (int)((sim_func_regs(info) + 7) / 8 * 8);
    return imin(n, SIM_REGS_PER_SM / (regs * threads));
}

static CUresult occ_func(CUfunction h, unsigned flags, struct sim_func **f)
{
    if (flags & ~(unsigned)CU_OCCUPANCY_DISABLE_CACHING_OVERRIDE) return CUDA_ERROR_INVALID_VALUE;
    return sim_func_resolve(h, NULL, f);
}

CUresult CUDAAPI cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(
    int *numBlocks, CUfunction func, int blockSize, size_t dynamicSMemSize, unsigned int flags)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!numBlocks) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = occ_func(func, flags, &f);
    if (r == CUDA_SUCCESS)
        *numBlocks = sim_occupancy_blocks(f->info, f->attrs, blockSize, dynamicSMemSize);
    return r;
}

CUresult CUDAAPI cuOccupancyMaxActiveBlocksPerMultiprocessor(int *numBlocks, CUfunction func,
                                                             int blockSize, size_t dynamicSMemSize)
{
    return cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(numBlocks, func, blockSize,
                                                                dynamicSMemSize, 0);
}

/* Try every block size from the largest allowed down in warps; keep the one
 * with the most resident threads (the larger block on a tie). */
CUresult CUDAAPI cuOccupancyMaxPotentialBlockSizeWithFlags(int *minGridSize, int *blockSize,
                                                           CUfunction func,
                                                           CUoccupancyB2DSize b2smem,
                                                           size_t dynamicSMemSize,
                                                           int blockSizeLimit, unsigned int flags)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!minGridSize || !blockSize) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = occ_func(func, flags, &f);
    if (r != CUDA_SUCCESS) return r;
    int max = (int)sim_func_max_threads(f->info), best = 0, best_blocks = 0, best_threads = 0;
    if (blockSizeLimit > 0 && blockSizeLimit < max) max = blockSizeLimit;
    for (int bs = max; bs > 0; bs = (bs - 1) / 32 * 32) {
        size_t smem = b2smem ? b2smem(bs) : dynamicSMemSize;
        int blocks = sim_occupancy_blocks(f->info, f->attrs, bs, smem);
        if (blocks * bs > best_threads) {
            best = bs;
            best_blocks = blocks;
            best_threads = blocks * bs;
        }
    }
    *blockSize = best;
    *minGridSize = best_blocks * (int)f->mod->sm_count;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuOccupancyMaxPotentialBlockSize(int *minGridSize, int *blockSize, CUfunction func,
                                                  CUoccupancyB2DSize b2smem, size_t dynamicSMemSize,
                                                  int blockSizeLimit)
{
    return cuOccupancyMaxPotentialBlockSizeWithFlags(minGridSize, blockSize, func, b2smem,
                                                     dynamicSMemSize, blockSizeLimit, 0);
}

CUresult CUDAAPI cuOccupancyAvailableDynamicSMemPerBlock(size_t *dynamicSmemSize, CUfunction func,
                                                         int numBlocks, int blockSize)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!dynamicSmemSize) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_func_resolve(func, NULL, &f);
    if (r != CUDA_SUCCESS) return r;
    if (numBlocks <= 0 || blockSize <= 0) return CUDA_ERROR_INVALID_VALUE;
    size_t st = f->info->static_smem, avail = 0;
    int by_threads = sim_occupancy_blocks(f->info, f->attrs, blockSize, 0);
    if (numBlocks <= by_threads) {
        size_t per = SIM_SMEM_PER_SM / (unsigned)numBlocks;
        avail = per > SIM_SMEM_RESERVED_PER_BLOCK + st ? per - SIM_SMEM_RESERVED_PER_BLOCK - st : 0;
        size_t cap = SIM_SMEM_PER_BLOCK_OPTIN > st ? SIM_SMEM_PER_BLOCK_OPTIN - st : 0;
        if (avail > cap) avail = cap;
    }
    *dynamicSmemSize = avail;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuOccupancyMaxPotentialClusterSize(int *clusterSize, CUfunction func,
                                                    const CUlaunchConfig *config)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!clusterSize || !config) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_func_resolve(func, NULL, &f);
    if (r == CUDA_SUCCESS) *clusterSize = atomic_load(&f->attrs->non_portable_cluster) ? 16 : 8;
    return r;
}

CUresult CUDAAPI cuOccupancyMaxActiveClusters(int *numClusters, CUfunction func,
                                              const CUlaunchConfig *config)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!numClusters || !config || (config->numAttrs && !config->attrs))
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_func_resolve(func, NULL, &f);
    if (r != CUDA_SUCCESS) return r;
    unsigned csize = 1;
    for (unsigned i = 0; i < config->numAttrs; i++) {
        const CUlaunchAttribute *a = &config->attrs[i];
        if (a->id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
            csize = a->value.clusterDim.x * a->value.clusterDim.y * a->value.clusterDim.z;
    }
    if (csize == 0) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
    int bs = (int)(config->blockDimX * config->blockDimY * config->blockDimZ);
    int per_sm = sim_occupancy_blocks(f->info, f->attrs, bs, config->sharedMemBytes);
    *numClusters = (int)((unsigned)per_sm * f->mod->sm_count / csize);
    return CUDA_SUCCESS;
}
