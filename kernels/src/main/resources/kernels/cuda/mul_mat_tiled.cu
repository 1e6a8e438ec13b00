/*
 * mul_mat_tiled.cu: y = W x for many tokens (prompt processing), tiled through shared memory.
 *
 * W is [K, N] of type F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4, Q2_K, Q3_K, Q4_K,
 * Q5_K or Q6_K; x is F32 [K, T]; y is F32
 * [N, T], y[t*N + n] = dot(W row n, x row t). A block of 256 threads computes a 64 x 64 tile
 * (64 weight rows by 64 tokens), stepping through K 32 at a time: each thread decodes 8
 * consecutive weight elements and loads 8 activations into shared memory (stored k-major, one
 * column of padding so stores and reads avoid bank conflicts), then accumulates a 4 x 4
 * register tile (rows ty + 16i, tokens tx + 16j). Float accumulation throughout. Row lengths
 * of float types need not be multiples of 32 (the tail is zero-filled); quantized rows are
 * whole blocks, and 32 divides every block, so one 32-wide step never straddles two blocks.
 *
 * Variants: mul_mat_tiled_TYPE for every type above (one template), and q4_0r, q8_0r for Q4_0
 * and Q8_0 rows repacked at load (T_Q4_0R, T_Q8_0R in common.cuh); F32/F16/BF16, Q4_0, Q8_0,
 * their repacked forms, Q4_K and Q6_K decode 8 elements with one set of block fields, the
 * others element by element with dequant_at.
 *
 * Checked against: the reference backend's mul_mat in CudaOpsGpuTest, at odd N (37), T = 9
 * and 70 (partial tiles), K = 33, 100, 96, 256 and 768.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references (q4_0r and q8_0r on rows repacked as CudaDevice.prepareWeight does).
 */
#include "common.cuh"

#define TM 64
#define TN 64
#define TK 32

/* Elements k..k+7 of a row (k a multiple of 8); elements at or past K are 0 for float types. */
template <int TYPE>
__device__ __forceinline__ void dequant8(const u8* row, int k, int K, float* v) {
    if (TYPE == T_F32 || TYPE == T_F16 || TYPE == T_BF16) {
#pragma unroll
        for (int e = 0; e < 8; e++) {
            int kk = k + e;
            float f = 0.0f;
            if (kk < K) {
                if (TYPE == T_F32) f = ((const float*)row)[kk];
                else if (TYPE == T_F16) f = load_half(row + 2 * kk);
                else f = bf16_to_float(((const unsigned short*)row)[kk]);
            }
            v[e] = f;
        }
    } else if (TYPE == T_Q4_0) {
        const u8* b = row + (k >> 5) * Q4_0_BYTES;
        int p = k & 31;
        float d = load_half(b);
        const u8* q = b + 2 + (p & 15);
        int shift = p < 16 ? 0 : 4;
#pragma unroll
        for (int e = 0; e < 8; e++) v[e] = d * (float)(((q[e] >> shift) & 0xf) - 8);
    } else if (TYPE == T_Q4_0R) {
        int p = k & 31;
        float d = load_half(row + K / 2 + 2 * (k >> 5));
        const u8* q = row + 16 * (k >> 5) + (p & 15);
        int shift = p < 16 ? 0 : 4;
#pragma unroll
        for (int e = 0; e < 8; e++) v[e] = d * (float)(((q[e] >> shift) & 0xf) - 8);
    } else if (TYPE == T_Q8_0R) {
        float d = load_half(row + K + 2 * (k >> 5));
        const signed char* q = (const signed char*)(row + k);
#pragma unroll
        for (int e = 0; e < 8; e++) v[e] = d * (float)q[e];
    } else if (TYPE == T_Q8_0) {
        const u8* b = row + (k >> 5) * Q8_0_BYTES;
        float d = load_half(b);
        const signed char* q = (const signed char*)(b + 2 + (k & 31));
#pragma unroll
        for (int e = 0; e < 8; e++) v[e] = d * (float)q[e];
    } else if (TYPE == T_Q4_K) {
        const u8* b = row + (k >> 8) * Q4_K_BYTES;
        int e0 = k & 255;
        int sc, mn;
        q4_k_scale_min(b + 4, e0 >> 5, &sc, &mn);
        float dl = load_half(b) * sc, ml = load_half(b + 2) * mn;
        const u8* q = b + 16 + 32 * (e0 >> 6) + (e0 & 31);
        int shift = (e0 & 32) ? 4 : 0;
#pragma unroll
        for (int e = 0; e < 8; e++) v[e] = dl * (float)((q[e] >> shift) & 0xf) - ml;
    } else if (TYPE == T_Q6_K) {
        const u8* b = row + (k >> 8) * Q6_K_BYTES;
        int e0 = k & 255;
        int h = e0 >> 7, r = e0 & 127, kk = r >> 5, l = r & 31;
        float s = load_half(b + 208) * (float)((const signed char*)b)[192 + (e0 >> 4)];
        const u8* ql = b + 64 * h + 32 * (kk & 1) + l;
        const u8* qh = b + 128 + 32 * h + l;
        int lshift = 4 * (kk >> 1), hshift = 2 * kk;
#pragma unroll
        for (int e = 0; e < 8; e++) {
            int q = ((ql[e] >> lshift) & 0xf) | (((qh[e] >> hshift) & 3) << 4);
            v[e] = s * (float)(q - 32);
        }
    } else {
#pragma unroll
        for (int e = 0; e < 8; e++) v[e] = dequant_at(TYPE, row, k + e);
    }
}

template <int TYPE>
__device__ __forceinline__ void mul_mat_tiled(const u8* __restrict__ w, const float* __restrict__ x,
                                              float* __restrict__ y, int K, int N, int T) {
    __shared__ float ws[TK][TM + 1];
    __shared__ float xs[TK][TN + 1];
    int tid = threadIdx.x;
    int tx = tid & 15, ty = tid >> 4;
    int n0 = blockIdx.x * TM, t0 = blockIdx.y * TN;
    int lr = tid >> 2, lc = (tid & 3) * 8;
    long long rb = row_bytes_of(TYPE, K);
    int wn = n0 + lr, xt = t0 + lr;
    const u8* wrow = w + (long long)min(wn, N - 1) * rb;
    const float* xrow = x + (long long)min(xt, T - 1) * K;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TK) {
        float v[8];
        if (wn < N) {
            dequant8<TYPE>(wrow, k0 + lc, K, v);
        } else {
#pragma unroll
            for (int e = 0; e < 8; e++) v[e] = 0.0f;
        }
#pragma unroll
        for (int e = 0; e < 8; e++) ws[lc + e][lr] = v[e];
#pragma unroll
        for (int e = 0; e < 8; e++) {
            int kk = k0 + lc + e;
            xs[lc + e][lr] = (xt < T && kk < K) ? xrow[kk] : 0.0f;
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < TK; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = ws[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = xs[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        int t = t0 + tx + 16 * j;
        if (t >= T) continue;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int n = n0 + ty + 16 * i;
            if (n < N) y[(long long)t * N + n] = acc[i][j];
        }
    }
}

#define TILED(name, TYPE)                                                                          \
    extern "C" __global__ void __launch_bounds__(256) name(const u8* __restrict__ w,               \
            const float* __restrict__ x, float* __restrict__ y, int K, int N, int T) {             \
        mul_mat_tiled<TYPE>(w, x, y, K, N, T);                                                     \
    }

TILED(mul_mat_tiled_f32, T_F32)
TILED(mul_mat_tiled_f16, T_F16)
TILED(mul_mat_tiled_bf16, T_BF16)
TILED(mul_mat_tiled_q4_0, T_Q4_0)
TILED(mul_mat_tiled_q8_0, T_Q8_0)
TILED(mul_mat_tiled_q4_1, T_Q4_1)
TILED(mul_mat_tiled_q5_0, T_Q5_0)
TILED(mul_mat_tiled_q5_1, T_Q5_1)
TILED(mul_mat_tiled_mxfp4, T_MXFP4)
TILED(mul_mat_tiled_q2_k, T_Q2_K)
TILED(mul_mat_tiled_q3_k, T_Q3_K)
TILED(mul_mat_tiled_q4_k, T_Q4_K)
TILED(mul_mat_tiled_q5_k, T_Q5_K)
TILED(mul_mat_tiled_q6_k, T_Q6_K)
TILED(mul_mat_tiled_q4_0r, T_Q4_0R)
TILED(mul_mat_tiled_q8_0r, T_Q8_0R)
