/*
 * mul_mat_vec.cu: y = W x for few tokens (matrix-vector), the generation path of mul_mat.
 *
 * W is [K, N] (N rows of K) of type F32, F16, BF16, Q4_0, Q8_0, Q4_K or Q6_K; x is F32 [K, T];
 * y is F32 [N, T] with y[t*N + n] = dot(W row n, x row t). One warp per weight row, four rows
 * per block of 128 threads; blockIdx.y picks a group of up to MV_TOKENS tokens, so each weight
 * row is read once for all of them. Lanes read consecutive bytes of a row (coalesced), keep one
 * float accumulator per token and meet in a shuffle reduction. The per-type row dot products
 * (mv_dot_*) are in common.cuh, shared with mul_mat_id (experts.cu).
 *
 * Variants:
 *   mul_mat_vec_f32 / _f16 / _bf16   lanes stride over elements; float4 / half2 loads where the
 *                                    row length and addresses allow
 *   quantize_q8_1                    x rows to blocks of 32 int8 with one float scale (q8_1)
 *   mul_mat_vec_q4_0 / _q8_0         integer dot products (dp4a) of weight quants with the q8_1
 *                                    activations, scaled per block
 *   mul_mat_vec_q4_k / _q6_k         quants decoded to float and multiplied with float x
 *
 * Checked against: the reference backend's mul_mat (ReferenceOps.dot over codec-decoded rows)
 * in CudaOpsGpuTest, at odd N, K = 33/100/96/256/768 and T = 1, 3, 8; q8_1 activations keep the
 * normalized error well under the conformance tolerance of 5e-4.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references.
 */
#include "common.cuh"

#define MV_WARPS 4

/* Writes lane j's token accumulators: lane j reduces nothing, all lanes reduce each in turn. */
__device__ __forceinline__ void write_rows(float* acc, float* y, int n, int N, int t0, int nt) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int j = 0; j < MV_TOKENS; j++) {
        if (j < nt) {
            float s = warp_sum(acc[j]);
            if (lane == 0) y[(long long)(t0 + j) * N + n] = s;
        }
    }
}

#define MV_PROLOGUE                                                          \
    int warp = threadIdx.x >> 5;                                             \
    int n = blockIdx.x * MV_WARPS + warp;                                    \
    if (n >= N) return;                                                      \
    int t0 = blockIdx.y * MV_TOKENS;                                         \
    int nt = min(MV_TOKENS, T - t0);                                         \
    float acc[MV_TOKENS];                                                    \
    _Pragma("unroll") for (int j = 0; j < MV_TOKENS; j++) acc[j] = 0.0f;

extern "C" __global__ void mul_mat_vec_f32(const float* __restrict__ w, const float* __restrict__ x,
                                           float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    mv_dot_f32(w + (long long)n * K, x + (long long)t0 * K, K, nt, acc);
    write_rows(acc, y, n, N, t0, nt);
}

extern "C" __global__ void mul_mat_vec_f16(const __half* __restrict__ w, const float* __restrict__ x,
                                           float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    mv_dot_f16(w + (long long)n * K, x + (long long)t0 * K, K, nt, acc);
    write_rows(acc, y, n, N, t0, nt);
}

extern "C" __global__ void mul_mat_vec_bf16(const unsigned short* __restrict__ w, const float* __restrict__ x,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    mv_dot_bf16(w + (long long)n * K, x + (long long)t0 * K, K, nt, acc);
    write_rows(acc, y, n, N, t0, nt);
}

/*
 * x [K, T] to q8_1 blocks, y[t * K/32 + b]: one warp per block, d = max|x| / 127, q = round(x / d).
 * Grid: ceil(T * K/32 / 8) blocks of 256 threads.
 */
extern "C" __global__ void quantize_q8_1(const float* __restrict__ x, block_q8_1* __restrict__ y, int K, int T) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int nb = K >> 5;
    long long g = (long long)blockIdx.x * 8 + warp;
    if (g >= (long long)nb * T) return;
    float v = x[g * 32 + lane];
    float amax = warp_max(fabsf(v));
    float d = amax / 127.0f;
    int q = d != 0.0f ? __float2int_rn(v / d) : 0;
    q = max(-127, min(127, q));
    ((signed char*)y[g].qs)[lane] = (signed char)q;
    if (lane == 0) y[g].d = d;
}

extern "C" __global__ void mul_mat_vec_q4_0(const u8* __restrict__ w, const block_q8_1* __restrict__ xq,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    int nb = K >> 5;
    mv_dot_q4_0(w + (long long)n * nb * Q4_0_BYTES, xq + (long long)t0 * nb, K, nt, acc);
    write_rows(acc, y, n, N, t0, nt);
}

extern "C" __global__ void mul_mat_vec_q8_0(const u8* __restrict__ w, const block_q8_1* __restrict__ xq,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    int nb = K >> 5;
    mv_dot_q8_0(w + (long long)n * nb * Q8_0_BYTES, xq + (long long)t0 * nb, K, nt, acc);
    write_rows(acc, y, n, N, t0, nt);
}

extern "C" __global__ void mul_mat_vec_q4_k(const u8* __restrict__ w, const float* __restrict__ x,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    mv_dot_q4_k(w + (long long)n * (K >> 8) * Q4_K_BYTES, x + (long long)t0 * K, K, nt, acc);
    write_rows(acc, y, n, N, t0, nt);
}

extern "C" __global__ void mul_mat_vec_q6_k(const u8* __restrict__ w, const float* __restrict__ x,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    mv_dot_q6_k(w + (long long)n * (K >> 8) * Q6_K_BYTES, x + (long long)t0 * K, K, nt, acc);
    write_rows(acc, y, n, N, t0, nt);
}
