/*
 * rms_norm.cu: each row divided by its root mean square, y = x / sqrt(mean(x^2) + eps),
 * then times a weight row where one is given (LLaMA's attn_norm and ffn_norm).
 *
 * x and y are F32 [K, rows]; weight is F32 [K] or null. One block of 256 threads per row: a
 * float sum of squares reduced with warp shuffles, then one pass that scales (and weights).
 * rms_norm_q8_1 (below) also writes the rows as q8_1 activations for the matrix-vector kernels;
 * add_rms_norm_q8_1 first does the residual add whose result the norm takes.
 *
 * Checked against: ReferenceOps.rmsNorm (sums in double) in CudaOpsGpuTest, with and without a
 * weight, at K = 256 and 100 and several rows; normalized error far below 1e-6.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references; rms_norm_q8_1 against rms_norm then quantize_q8_1, and
 * add_rms_norm_q8_1 against add then those two (bit for bit, y overlapping a too).
 */
#include "common.cuh"

/*
 * The row's scale 1 / sqrt(mean(x^2) + eps), the same in every thread of the block. xr is not
 * __restrict__: add_rms_norm_q8_1 reads rows its own threads wrote (no non-coherent loads).
 */
__device__ __forceinline__ float rms_scale(const float* xr, int K, float eps, float* scratch32) {
    float s = 0.0f;
    for (int k = threadIdx.x; k < K; k += blockDim.x) s += xr[k] * xr[k];
    s = block_sum(s, scratch32);
    return rsqrtf(s / (float)K + eps);
}

extern "C" __global__ void rms_norm(const float* __restrict__ x, const float* __restrict__ weight,
                                    float* __restrict__ y, int K, float eps) {
    __shared__ float scratch[32];
    const float* xr = x + (long long)blockIdx.x * K;
    float* yr = y + (long long)blockIdx.x * K;
    float scale = rms_scale(xr, K, eps, scratch);
    if (weight != nullptr) {
        for (int k = threadIdx.x; k < K; k += blockDim.x) yr[k] = xr[k] * scale * weight[k];
    } else {
        for (int k = threadIdx.x; k < K; k += blockDim.x) yr[k] = xr[k] * scale;
    }
}

/* One row of rms_norm_q8_1 (below) by the whole block; xr is not written, y and yq are. */
__device__ __forceinline__ void rms_norm_q8_1_row(const float* xr, const float* __restrict__ weight, float* yr, block_q8_1* __restrict__ q,
                                                  int K, float eps, float* scratch32) {
    float scale = rms_scale(xr, K, eps, scratch32);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5, nb = K >> 5;
    for (int b = warp; b < nb; b += warps) {
        int k = b * 32 + lane;
        float v = weight != nullptr ? xr[k] * scale * weight[k] : xr[k] * scale;
        yr[k] = v;
        float d = warp_max(fabsf(v)) / 127.0f;
        int qv = d != 0.0f ? __float2int_rn(v / d) : 0;
        ((signed char*)q[b].qs)[lane] = (signed char)max(-127, min(127, qv));
        if (lane == 0) q[b].d = d;
    }
}

/*
 * rms_norm_q8_1: rms_norm that also writes each row as q8_1 blocks into yq ([K/32, rows] blocks,
 * the layout and rounding of quantize_q8_1 in mul_mat_vec.cu, bit for bit), so the
 * matrix-vector kernels that read the norm take them without a quantize launch. K is a multiple
 * of 32; each warp of the block takes every eighth block of 32: lane j its element j, then a
 * warp max gives the scale. y is written too, for any reader of the F32 rows.
 */
extern "C" __global__ void rms_norm_q8_1(const float* __restrict__ x, const float* __restrict__ weight,
                                         float* __restrict__ y, block_q8_1* __restrict__ yq, int K, float eps) {
    __shared__ float scratch[32];
    long long r = blockIdx.x;
    rms_norm_q8_1_row(x + r * K, weight, y + r * K, yq + r * (K >> 5), K, eps, scratch);
}

/*
 * add_rms_norm_q8_1: the residual add before a norm, h = a + b ([K, T], as add without
 * broadcast), then rms_norm_q8_1 of h into y and yq; one block for all T rows (the host takes it
 * for T <= 8). Every element of a and b is read before a barrier, and y written only after it:
 * y may lie in memory a or b gave up (the compute buffer reuses it once the add is done).
 */
extern "C" __global__ void add_rms_norm_q8_1(const float* a, const float* b, float* h, const float* __restrict__ weight, float* y,
                                             block_q8_1* __restrict__ yq, int K, int T, float eps) {
    __shared__ float scratch[32];
    long long n = (long long)K * T;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) h[i] = a[i] + b[i];
    __syncthreads();
    for (int t = 0; t < T; t++) rms_norm_q8_1_row(h + (long long)t * K, weight, y + (long long)t * K, yq + (long long)t * (K >> 5), K, eps, scratch);
}
