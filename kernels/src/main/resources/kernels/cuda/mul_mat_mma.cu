/*
 * mul_mat_mma.cu: y = W x for many tokens (prompt processing) on tensor cores, sm_80 and newer
 * (built for compute_80, see ci/build-ptx.sh; the backend loads it only on such devices and
 * falls back to mul_mat_tiled.cu elsewhere).
 *
 * W is [N, K] rows of type F32, F16, BF16, Q4_0, Q8_0, Q4_K or Q6_K; x is F32 [T, K]; y is F32
 * [T, N], y[t*N + n] = dot(W row n, x row t). K must be a multiple of 32, w and x 16-byte aligned
 * (the host checks both). The math is mma.m16n8k16 (mma.cuh): both operands f16, products summed
 * in f32. Weights are dequantized (dequant_at) to f16 and activations converted to f16, so values
 * beyond f16's range (65504) would overflow: the tiled kernel keeps f32 throughout.
 *
 * A block of 128 threads (4 warps, 2 x 2) computes a BN x BT tile of y^T (BN weight rows by BT
 * tokens; 64 x 32 for few tokens, 128 x 64 for many), stepping through K 32 at a time. Shared
 * memory holds two stages of the W tile and the x tile as f16, row-major with k inner, each row
 * 32 halves plus 8 of padding (80 bytes: 16-byte aligned for cp.async, and the fragment loads of
 * a warp, rows g = 0..7 by words q = 0..3, hit 32 different banks). While the warps multiply one
 * stage, the next is loaded: F16 weights by cp.async straight into shared memory, other types
 * and x through registers (loaded before the multiplication, stored after it); one barrier per
 * step. Warp (wn, wt) holds a (BN/2) x (BT/2) accumulator of m16n8 tiles: A fragments are W rows
 * (row-major), B fragments x rows (column-major B = x^T). Rows past N and tokens past T read the
 * last row and are never stored.
 *
 * Variants: mul_mat_mma_TYPE_64x32 and mul_mat_mma_TYPE_128x64 for TYPE f32, f16, bf16, q4_0,
 * q8_0, q4_k, q6_k.
 *
 * Checked against: double-precision references on the CPU emulator
 * (backends/cuda/src/test/emu/emu_mma_test.cpp: every type, odd N, T = 9, 33, 64, 100), and on a
 * GPU the reference backend's mul_mat in CudaOpsGpuTest.
 */
#include "common.cuh"
#include "mma.cuh"

#define MMA_TK 32
#define MMA_ROW 20 /* 32-bit words per shared row: 16 of data, 4 of padding */
#define MMA_THREADS 128

template <int TYPE>
__device__ __forceinline__ long long mma_row_bytes(int K) {
    switch (TYPE) {
    case T_F32: return 4LL * K;
    case T_F16: case T_BF16: return 2LL * K;
    case T_Q4_0: return (long long)(K >> 5) * Q4_0_BYTES;
    case T_Q8_0: return (long long)(K >> 5) * Q8_0_BYTES;
    case T_Q4_K: return (long long)(K >> 8) * Q4_K_BYTES;
    default: return (long long)(K >> 8) * Q6_K_BYTES;
    }
}

__device__ __forceinline__ unsigned pack_half2(float lo, float hi) {
    return (unsigned)float_to_half_bits(lo) | (unsigned)float_to_half_bits(hi) << 16;
}

/* Elements k..k+7 of a weight row as four f16 pairs. */
template <int TYPE>
__device__ __forceinline__ uint4 weight8(const u8* row, int k) {
    float v[8];
#pragma unroll
    for (int e = 0; e < 8; e++) v[e] = dequant_at(TYPE, row, k + e);
    uint4 r;
    r.x = pack_half2(v[0], v[1]);
    r.y = pack_half2(v[2], v[3]);
    r.z = pack_half2(v[4], v[5]);
    r.w = pack_half2(v[6], v[7]);
    return r;
}

/* Elements k..k+7 of an activation row (16-byte aligned) as four f16 pairs. */
__device__ __forceinline__ uint4 activation8(const float* row, int k) {
    float4 a = *(const float4*)(row + k), b = *(const float4*)(row + k + 4);
    uint4 r;
    r.x = pack_half2(a.x, a.y);
    r.y = pack_half2(a.z, a.w);
    r.z = pack_half2(b.x, b.y);
    r.w = pack_half2(b.z, b.w);
    return r;
}

template <int TYPE, int BN, int BT>
__device__ __forceinline__ void mul_mat_mma(const u8* __restrict__ w, const float* __restrict__ x, float* __restrict__ y,
                                            int K, int N, int T) {
    constexpr int WU = BN / 32, XU = BT / 32;   /* 8-element units per thread and stage: W, x */
    constexpr int MI = BN / 32, NI = BT / 16;   /* m16 and n8 tiles per warp */
    __shared__ __align__(16) unsigned ws[2][BN][MMA_ROW];
    __shared__ __align__(16) unsigned xs[2][BT][MMA_ROW];
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int g = lane >> 2, q = lane & 3;
    int wn = (warp >> 1) * (BN / 2), wt = (warp & 1) * (BT / 2);
    int n0 = blockIdx.x * BN, t0 = blockIdx.y * BT;
    long long rb = mma_row_bytes<TYPE>(K);

    /* Unit u = tid + 128 i of a stage: row u / 4, elements 8 (u % 4) .. + 7 of the 32. */
    const u8* wrow[WU];
    const float* xrow[XU];
#pragma unroll
    for (int i = 0; i < WU; i++) wrow[i] = w + (long long)min(n0 + ((tid + MMA_THREADS * i) >> 2), N - 1) * rb;
#pragma unroll
    for (int i = 0; i < XU; i++) xrow[i] = x + (long long)min(t0 + ((tid + MMA_THREADS * i) >> 2), T - 1) * K;
    int part = 8 * (tid & 3);

    uint4 wreg[WU], xreg[XU]; /* F16 weights skip the registers (cp.async) */
    auto fetch = [&](int k0, int buf) {
#pragma unroll
        for (int i = 0; i < WU; i++) {
            if (TYPE == T_F16) cp_async16(&ws[buf][(tid + MMA_THREADS * i) >> 2][part / 2], wrow[i] + 2LL * (k0 + part));
            else wreg[i] = weight8<TYPE>(wrow[i], k0 + part);
        }
        cp_async_commit();
#pragma unroll
        for (int i = 0; i < XU; i++) xreg[i] = activation8(xrow[i], k0 + part);
    };
    auto store = [&](int buf) {
        if (TYPE != T_F16) {
#pragma unroll
            for (int i = 0; i < WU; i++) *(uint4*)&ws[buf][(tid + MMA_THREADS * i) >> 2][part / 2] = wreg[i];
        }
#pragma unroll
        for (int i = 0; i < XU; i++) *(uint4*)&xs[buf][(tid + MMA_THREADS * i) >> 2][part / 2] = xreg[i];
    };

    float acc[MI][NI][4];
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int j = 0; j < NI; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;

    int steps = K / MMA_TK;
    fetch(0, 0);
    store(0);
    cp_async_wait<0>();
    __syncthreads();
    for (int s = 0; s < steps; s++) {
        int cur = s & 1;
        bool more = s + 1 < steps;
        if (more) fetch((s + 1) * MMA_TK, cur ^ 1);
#pragma unroll
        for (int kw = 0; kw < 16; kw += 8) { /* k 0..15, then 16..31, in words */
            unsigned a[MI][4], b[NI][2];
#pragma unroll
            for (int i = 0; i < MI; i++) {
                const unsigned* r0 = ws[cur][wn + 16 * i + g];
                const unsigned* r8 = ws[cur][wn + 16 * i + g + 8];
                a[i][0] = r0[kw + q];
                a[i][1] = r8[kw + q];
                a[i][2] = r0[kw + q + 4];
                a[i][3] = r8[kw + q + 4];
            }
#pragma unroll
            for (int j = 0; j < NI; j++) {
                const unsigned* c = xs[cur][wt + 8 * j + g];
                b[j][0] = c[kw + q];
                b[j][1] = c[kw + q + 4];
            }
#pragma unroll
            for (int i = 0; i < MI; i++)
#pragma unroll
                for (int j = 0; j < NI; j++) mma_f16_16x8x16(acc[i][j], a[i], b[j]);
        }
        if (more) store(cur ^ 1);
        cp_async_wait<0>();
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int j = 0; j < NI; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                int n = n0 + wn + 16 * i + g + 8 * (r >> 1);
                int t = t0 + wt + 8 * j + 2 * q + (r & 1);
                if (n < N && t < T) y[(long long)t * N + n] = acc[i][j][r];
            }
}

#define MMA(name, TYPE, BN, BT)                                                                    \
    extern "C" __global__ void __launch_bounds__(MMA_THREADS) name(const u8* __restrict__ w,       \
            const float* __restrict__ x, float* __restrict__ y, int K, int N, int T) {             \
        mul_mat_mma<TYPE, BN, BT>(w, x, y, K, N, T);                                               \
    }

#define MMA_TYPE(type, TYPE)                                                                       \
    MMA(mul_mat_mma_##type##_64x32, TYPE, 64, 32)                                                  \
    MMA(mul_mat_mma_##type##_128x64, TYPE, 128, 64)

MMA_TYPE(f32, T_F32)
MMA_TYPE(f16, T_F16)
MMA_TYPE(bf16, T_BF16)
MMA_TYPE(q4_0, T_Q4_0)
MMA_TYPE(q8_0, T_Q8_0)
MMA_TYPE(q4_k, T_Q4_K)
MMA_TYPE(q6_k, T_Q6_K)
