/*
 * rope.cu: rotary position embedding of rows of whole heads, at positions read from device
 * memory (so a recorded CUDA graph stays valid from token to token).
 *
 * x and y are F32 [headDim * heads, T]; pos is I32 [T]; freqFactors is F32 [ropeDims/2] or
 * null. Pair i of the first ropeDims dimensions of each head, (2i, 2i+1) in NORMAL mode (mode 0)
 * and (i, i + ropeDims/2) in NEOX mode (mode 1), turns by
 *   theta_i = pos * freqScale * base^(-2i/ropeDims) / freqFactors[i];
 * dimensions past ropeDims are copied. YaRN scaling (Op.Yarn), where extFactor != 0: with
 * e = pos * base^(-2i/ropeDims) (the extrapolated angle) and r = (1 - clamp((i - corrLow) /
 * max(0.001, corrHigh - corrLow), 0, 1)) * extFactor, theta_i = freqScale * e * (1 - r) + e * r
 * (then divided by freqFactors[i]). Both rotated values are multiplied by mscale. The host
 * computes corrLow, corrHigh and mscale (Op.Yarn's corrDims and mscale); without YaRN it passes
 * extFactor 0 and mscale 1, and the kernel takes the plain formula above.
 * One block per token: the angles are computed once in double precision into shared memory
 * (ropeDims/2 <= 512), then threads rotate every pair of every head. Each pair is read before
 * either of its outputs is written, so y may be x. rope_store (below) also writes the rows into
 * a KV cache, doing the kv_store that follows rope of K.
 *
 * Checked against: ReferenceOps.rope in CudaOpsGpuTest (NORMAL and NEOX, partial rotation,
 * frequency factors, positions in the thousands, YaRN).
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references; rope_store against rope then kv_store (bit for bit).
 */
#include "common.cuh"

#define ROPE_MAX_HALF 512

/* Writes value v of cache element i: F32, or F16 rounded to nearest even (as kv_store_f16). */
__device__ __forceinline__ void rope_cache_put(void* cache, int f16, long long i, float v) {
    if (f16) ((unsigned short*)cache)[i] = float_to_half_bits(v);
    else ((float*)cache)[i] = v;
}

/* rope of token blockIdx.x; where cache is not null, its outputs also go to cache row cacheRow (>= 0). */
__device__ __forceinline__ void rope_token(const float* x, const int* __restrict__ pos, const float* __restrict__ freqFactors,
                                           float* y, int rowLength, int headDim, int ropeDims, int mode, float base,
                                           float freqScale, float extFactor, float corrLow, float corrHigh, float mscale,
                                           void* cache, int cacheF16, long long cacheRow) {
    __shared__ float cs[ROPE_MAX_HALF], sn[ROPE_MAX_HALF];
    int t = blockIdx.x;
    int half = ropeDims / 2;
    double p = (double)pos[t];
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        double theta;
        if (extFactor != 0.0f) {
            double e = p * pow((double)base, -2.0 * i / ropeDims);
            double ramp = (i - (double)corrLow) / fmax(0.001, (double)corrHigh - (double)corrLow);
            double r = (1.0 - fmin(1.0, fmax(0.0, ramp))) * (double)extFactor;
            theta = (double)freqScale * e * (1.0 - r) + e * r;
        } else {
            theta = p * (double)freqScale * pow((double)base, -2.0 * i / ropeDims);
        }
        if (freqFactors != nullptr) theta /= (double)freqFactors[i];
        double s, c;
        sincos(theta, &s, &c);
        cs[i] = (float)(c * (double)mscale);
        sn[i] = (float)(s * (double)mscale);
    }
    __syncthreads();
    const float* xr = x + (long long)t * rowLength;
    float* yr = y + (long long)t * rowLength;
    long long cr = cacheRow * rowLength;
    int heads = rowLength / headDim;
    for (int q = threadIdx.x; q < heads * half; q += blockDim.x) {
        int head = q / half, i = q % half;
        int o = head * headDim;
        int a = mode == 0 ? o + 2 * i : o + i;
        int b = mode == 0 ? a + 1 : a + half;
        float x0 = xr[a], x1 = xr[b];
        float y0 = x0 * cs[i] - x1 * sn[i], y1 = x0 * sn[i] + x1 * cs[i];
        yr[a] = y0;
        yr[b] = y1;
        if (cache != nullptr) {
            rope_cache_put(cache, cacheF16, cr + a, y0);
            rope_cache_put(cache, cacheF16, cr + b, y1);
        }
    }
    int pass = headDim - ropeDims;
    if (pass > 0) {
        for (int q = threadIdx.x; q < heads * pass; q += blockDim.x) {
            int k = (q / pass) * headDim + ropeDims + q % pass;
            float v = xr[k];
            yr[k] = v;
            if (cache != nullptr) rope_cache_put(cache, cacheF16, cr + k, v);
        }
    }
}

extern "C" __global__ void rope(const float* x, const int* __restrict__ pos,
                                const float* __restrict__ freqFactors, float* y, int rowLength,
                                int headDim, int ropeDims, int mode, float base, float freqScale,
                                float extFactor, float corrLow, float corrHigh, float mscale) {
    rope_token(x, pos, freqFactors, y, rowLength, headDim, ropeDims, mode, base, freqScale, extFactor, corrLow, corrHigh, mscale,
               nullptr, 0, 0);
}

/*
 * rope_store: rope that also does the kv_store of its result (K into its cache): row t goes to
 * cache row cachePos[t] % ctx, F32 (cacheF16 0) or F16 (cacheF16 1), nothing where cachePos[t]
 * is negative; the values kv_store_f32 / kv_store_f16 would write, one launch instead of two.
 */
extern "C" __global__ void rope_store(const float* x, const int* __restrict__ pos,
                                      const float* __restrict__ freqFactors, float* y, int rowLength,
                                      int headDim, int ropeDims, int mode, float base, float freqScale,
                                      float extFactor, float corrLow, float corrHigh, float mscale,
                                      void* cache, const int* __restrict__ cachePos, int cacheF16, int ctx) {
    int p = cachePos[blockIdx.x];
    if (p >= ctx) p %= ctx;
    rope_token(x, pos, freqFactors, y, rowLength, headDim, ropeDims, mode, base, freqScale, extFactor, corrLow, corrHigh, mscale,
               p >= 0 ? cache : nullptr, cacheF16, p);
}
