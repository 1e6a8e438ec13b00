/*
 * kv_store.cu: writes new K or V rows into the cache at positions read from device memory.
 *
 * src is F32 [kvDim, T]; pos is I32 [T]; cache is [kvDim, ctx] of F32 (kv_store_f32) or F16
 * (kv_store_f16, rounded to nearest even). Row pos[t] % ctx of the cache becomes row t of src: a
 * cache of ctx rows is a ring where position p lives at row p % ctx (a sliding-window layer's
 * cache holds only its window); where ctx is past every position that is row pos[t]. Grid:
 * (ceil(kvDim / 256), T). A negative position writes nothing.
 *
 * Checked against: the reference backend's kv_store in CudaOpsGpuTest (F32 and F16 caches,
 * bit-exact; ring positions past ctx against the same rows written at pos % ctx), and through
 * attention in the graph tests.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references.
 */
#include "common.cuh"

extern "C" __global__ void kv_store_f32(const float* __restrict__ src, const int* __restrict__ pos,
                                        float* __restrict__ cache, int kvDim, int ctx) {
    int t = blockIdx.y, k = blockIdx.x * blockDim.x + threadIdx.x;
    int p = pos[t];
    if (k >= kvDim || p < 0) return;
    if (p >= ctx) p %= ctx;
    cache[(long long)p * kvDim + k] = src[(long long)t * kvDim + k];
}

extern "C" __global__ void kv_store_f16(const float* __restrict__ src, const int* __restrict__ pos,
                                        unsigned short* __restrict__ cache, int kvDim, int ctx) {
    int t = blockIdx.y, k = blockIdx.x * blockDim.x + threadIdx.x;
    int p = pos[t];
    if (k >= kvDim || p < 0) return;
    if (p >= ctx) p %= ctx;
    cache[(long long)p * kvDim + k] = float_to_half_bits(src[(long long)t * kvDim + k]);
}
