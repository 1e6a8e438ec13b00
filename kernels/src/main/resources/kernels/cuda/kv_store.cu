/*
 * kv_store.cu: writes new K or V rows into the cache at positions read from device memory.
 *
 * src is F32 [kvDim, T]; pos is I32 [T]; cache is [kvDim, ctx] of F32 (kv_store_f32), F16
 * (kv_store_f16, rounded to nearest even), Q8_0 (kv_store_q8_0) or Q4_0 (kv_store_q4_0): blocks
 * of 32 along the row, one thread each (kvDim is a multiple of 32), quantized as ggml's reference
 * quantizers do: Q8_0 d = max|x| / 127, q = round(x / d) (halves away from zero); Q4_0 d = the
 * value of largest magnitude / -8, q = min(15, (int) (x / d + 8.5)). Row pos[t] % ctx of the cache becomes row t of src: a
 * cache of ctx rows is a ring where position p lives at row p % ctx (a sliding-window layer's
 * cache holds only its window); where ctx is past every position that is row pos[t]. Grid:
 * (ceil(kvDim / 256), T). A negative position writes nothing.
 *
 * Checked against: the reference backend's kv_store in CudaOpsGpuTest (F32 and F16 caches,
 * bit-exact; ring positions past ctx against the same rows written at pos % ctx), and through
 * attention in the graph tests; Q8_0 and Q4_0 against the reference codecs in the conformance
 * cases.
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

extern "C" __global__ void kv_store_q8_0(const float* __restrict__ src, const int* __restrict__ pos,
                                         u8* __restrict__ cache, int kvDim, int ctx) {
    int t = blockIdx.y, b = blockIdx.x * blockDim.x + threadIdx.x, nb = kvDim / 32;
    int p = pos[t];
    if (b >= nb || p < 0) return;
    if (p >= ctx) p %= ctx;
    const float* x = src + (long long)t * kvDim + 32 * b;
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    u8* o = cache + ((long long)p * nb + b) * Q8_0_BYTES;
    *(unsigned short*)o = float_to_half_bits(d);
    for (int j = 0; j < 32; j++) o[2 + j] = (u8)(signed char)roundf(x[j] * id);
}

extern "C" __global__ void kv_store_q4_0(const float* __restrict__ src, const int* __restrict__ pos,
                                         u8* __restrict__ cache, int kvDim, int ctx) {
    int t = blockIdx.y, b = blockIdx.x * blockDim.x + threadIdx.x, nb = kvDim / 32;
    int p = pos[t];
    if (b >= nb || p < 0) return;
    if (p >= ctx) p %= ctx;
    const float* x = src + (long long)t * kvDim + 32 * b;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    float d = max / -8.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    u8* o = cache + ((long long)p * nb + b) * Q4_0_BYTES;
    *(unsigned short*)o = float_to_half_bits(d);
    for (int j = 0; j < 16; j++) {
        int lo = min(15, (int)(x[j] * id + 8.5f));
        int hi = min(15, (int)(x[j + 16] * id + 8.5f));
        o[2 + j] = (u8)(lo | hi << 4);
    }
}
