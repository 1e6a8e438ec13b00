/*
 * mul_mat_mma.cu: y = W x for many tokens (prompt processing) on tensor cores, sm_80 and newer
 * (built for compute_80, see ci/build-ptx.sh; the backend loads it only on such devices and
 * falls back to mul_mat_tiled.cu elsewhere).
 *
 * W is [N, K] rows of any weight type of dequant_at (common.cuh); x is F32 [T, K]; y is F32
 * [T, N], y[t*N + n] = dot(W row n, x row t). K must be a multiple of 32, w and x 16-byte aligned
 * (the host checks both). Every type but Q4_0 and Q8_0 uses mma.m16n8k16 (mma.cuh): both operands
 * f16, products summed in f32; weights are dequantized (dequant_at) to f16 and activations
 * converted to f16, so values beyond f16's range (65504) would overflow (the tiled kernel keeps
 * f32 throughout). Q4_0 and Q8_0 use int8 mma.m16n8k32 on activations quantized to int8 per 32
 * (as the matrix-vector kernels' q8_1), see mul_mat_mma_i8 below.
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
 * q4_1, q5_0, q5_1, q8_0, mxfp4, q2_k, q3_k, q4_k, q5_k, q6_k, and q4_0r, q8_0r: Q4_0 and Q8_0
 * rows repacked at load (T_Q4_0R, T_Q8_0R in common.cuh), whose quants the int8 path reads with
 * 8-byte loads.
 *
 * Checked against: double-precision references on the CPU emulator
 * (backends/cuda/src/test/emu/emu_mma_test.cpp: every type, odd N, T = 9, 33, 64, 100, both tile
 * sizes, q4_0r and q8_0r on repacked rows; nmse about 1e-7 with f16 operands, 1.5e-5 with int8
 * activations), and on a GPU the reference backend's mul_mat in CudaOpsGpuTest.
 */
#include "common.cuh"
#include "mma.cuh"

#define MMA_TK 32
#define MMA_ROW 20 /* 32-bit words per shared row: 16 of data, 4 of padding */
#define MMA_THREADS 128

/* Bytes of a weight row of the f16 path's types. */
template <int TYPE>
__device__ __forceinline__ long long mma_row_bytes(int K) {
    return row_bytes_of(TYPE, K);
}

/* A warp's MI x NI m16n8 accumulator tiles into y (rows from n0, tokens from t0; lane = 4g + q), within N and T. */
template <int MI, int NI>
__device__ __forceinline__ void store_acc(const float (&acc)[MI][NI][4], float* __restrict__ y, int n0, int t0, int g, int q,
                                          int N, int T) {
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int j = 0; j < NI; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                int n = n0 + 16 * i + g + 8 * (r >> 1);
                int t = t0 + 8 * j + 2 * q + (r & 1);
                if (n < N && t < T) y[(long long)t * N + n] = acc[i][j][r];
            }
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

    store_acc<MI, NI>(acc, y, n0 + wn, t0 + wt, g, q, N, T);
}

/*
 * Q4_0 and Q8_0 on int8 tensor cores (mma.m16n8k32 .s8): K steps of 32 are the weights' quant
 * blocks, so a step's integer dot products are scaled once by the weight block's d and the
 * activation block's. The activations are quantized while loaded, as quantize_q8_1 does (per
 * 32 of a row: d = max|x| / 127, q = round(x / d)): the four threads that load one row's 32 share
 * their maxima by shuffles. Shared memory: per stage BN weight rows and BT token rows of 32 s8
 * (8 words and 4 of padding: the fragment loads hit 32 banks) and their scales. Tiles, warps and
 * the two stages as above; both operands go through registers.
 */
__device__ __forceinline__ unsigned pack_s8x4(int a, int b, int c, int d) {
    return (unsigned)(a & 0xff) | (unsigned)(b & 0xff) << 8 | (unsigned)(c & 0xff) << 16 | (unsigned)(d & 0xff) << 24;
}

/* Four Q4_0 nibbles (one per byte of v) minus 8, as s8: the nibble xor 8 is the 4-bit two's complement, then sign-extended. */
__device__ __forceinline__ unsigned q4_0_to_s8(unsigned v) {
    unsigned x = (v & 0x0f0f0f0fu) ^ 0x08080808u;
    return x | (x & 0x08080808u) * 0x1eu;
}

#define MMA_ROW8 12 /* 32-bit words per shared s8 row: 8 of data, 4 of padding */

template <int TYPE, int BN, int BT>
__device__ __forceinline__ void mul_mat_mma_i8(const u8* __restrict__ w, const float* __restrict__ x, float* __restrict__ y,
                                               int K, int N, int T) {
    constexpr int WU = BN / 32, XU = BT / 32;
    constexpr int MI = BN / 32, NI = BT / 16;
    constexpr bool Q4 = TYPE == T_Q4_0 || TYPE == T_Q4_0R, REPACKED = TYPE == T_Q4_0R || TYPE == T_Q8_0R;
    constexpr int BLOCK = Q4 ? Q4_0_BYTES : Q8_0_BYTES;
    __shared__ __align__(16) unsigned wq[2][BN][MMA_ROW8];
    __shared__ __align__(16) unsigned xq[2][BT][MMA_ROW8];
    __shared__ float wd[2][BN], xd[2][BT];
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int g = lane >> 2, q = lane & 3;
    int wn = (warp >> 1) * (BN / 2), wt = (warp & 1) * (BT / 2);
    int n0 = blockIdx.x * BN, t0 = blockIdx.y * BT;
    long long rb = (long long)(K >> 5) * BLOCK;

    const u8* wrow[WU];
    const float* xrow[XU];
#pragma unroll
    for (int i = 0; i < WU; i++) wrow[i] = w + (long long)min(n0 + ((tid + MMA_THREADS * i) >> 2), N - 1) * rb;
#pragma unroll
    for (int i = 0; i < XU; i++) xrow[i] = x + (long long)min(t0 + ((tid + MMA_THREADS * i) >> 2), T - 1) * K;
    int p = tid & 3; /* elements 8p .. 8p+7 of the 32 */

    unsigned wreg[WU][2], xreg[XU][2];
    float wdreg[WU], xdreg[XU];
    auto fetch = [&](int k0) {
#pragma unroll
        for (int i = 0; i < WU; i++) {
            if (REPACKED) { /* quants of block k0/32 at 16 (Q4) or 32 bytes a block, then the scales */
                int blk = k0 >> 5;
                wdreg[i] = load_half(wrow[i] + (Q4 ? K / 2 : K) + 2 * blk);
                uint2 v = *(const uint2*)(wrow[i] + (Q4 ? 16 * blk + 8 * (p & 1) : 32 * blk + 8 * p));
                int shift = p >= 2 ? 4 : 0;
                wreg[i][0] = Q4 ? q4_0_to_s8(v.x >> shift) : v.x;
                wreg[i][1] = Q4 ? q4_0_to_s8(v.y >> shift) : v.y;
            } else {
                const u8* b = wrow[i] + (long long)(k0 >> 5) * BLOCK;
                wdreg[i] = load_half(b);
                if (!Q4) {
                    wreg[i][0] = (unsigned)load_i32_a2(b + 2 + 8 * p);
                    wreg[i][1] = (unsigned)load_i32_a2(b + 6 + 8 * p);
                } else { /* elements 0..15: low nibbles of qs[0..15]; 16..31: high nibbles */
                    int shift = p >= 2 ? 4 : 0;
                    wreg[i][0] = q4_0_to_s8((unsigned)load_i32_a2(b + 2 + 8 * (p & 1)) >> shift);
                    wreg[i][1] = q4_0_to_s8((unsigned)load_i32_a2(b + 6 + 8 * (p & 1)) >> shift);
                }
            }
        }
#pragma unroll
        for (int i = 0; i < XU; i++) {
            float4 a = *(const float4*)(xrow[i] + k0 + 8 * p), c = *(const float4*)(xrow[i] + k0 + 8 * p + 4);
            float amax = fmaxf(fmaxf(fmaxf(fabsf(a.x), fabsf(a.y)), fmaxf(fabsf(a.z), fabsf(a.w))),
                               fmaxf(fmaxf(fabsf(c.x), fabsf(c.y)), fmaxf(fabsf(c.z), fabsf(c.w))));
            amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 1));
            amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 2));
            float d = amax / 127.0f, inv = d != 0.0f ? 1.0f / d : 0.0f;
            xdreg[i] = d;
            xreg[i][0] = pack_s8x4(__float2int_rn(a.x * inv), __float2int_rn(a.y * inv), __float2int_rn(a.z * inv), __float2int_rn(a.w * inv));
            xreg[i][1] = pack_s8x4(__float2int_rn(c.x * inv), __float2int_rn(c.y * inv), __float2int_rn(c.z * inv), __float2int_rn(c.w * inv));
        }
    };
    auto store = [&](int buf) {
#pragma unroll
        for (int i = 0; i < WU; i++) {
            int r = (tid + MMA_THREADS * i) >> 2;
            *(uint2*)&wq[buf][r][2 * p] = make_uint2(wreg[i][0], wreg[i][1]);
            if (p == 0) wd[buf][r] = wdreg[i];
        }
#pragma unroll
        for (int i = 0; i < XU; i++) {
            int r = (tid + MMA_THREADS * i) >> 2;
            *(uint2*)&xq[buf][r][2 * p] = make_uint2(xreg[i][0], xreg[i][1]);
            if (p == 0) xd[buf][r] = xdreg[i];
        }
    };

    float acc[MI][NI][4];
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int j = 0; j < NI; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;

    int steps = K / MMA_TK;
    fetch(0);
    store(0);
    __syncthreads();
    for (int s = 0; s < steps; s++) {
        int cur = s & 1;
        bool more = s + 1 < steps;
        if (more) fetch((s + 1) * MMA_TK);
        unsigned a[MI][4], b[NI][2];
        float da[MI][2], db[NI][2];
#pragma unroll
        for (int i = 0; i < MI; i++) {
            int r = wn + 16 * i + g;
            a[i][0] = wq[cur][r][q];
            a[i][1] = wq[cur][r + 8][q];
            a[i][2] = wq[cur][r][q + 4];
            a[i][3] = wq[cur][r + 8][q + 4];
            da[i][0] = wd[cur][r];
            da[i][1] = wd[cur][r + 8];
        }
#pragma unroll
        for (int j = 0; j < NI; j++) {
            int c = wt + 8 * j;
            b[j][0] = xq[cur][c + g][q];
            b[j][1] = xq[cur][c + g][q + 4];
            db[j][0] = xd[cur][c + 2 * q];
            db[j][1] = xd[cur][c + 2 * q + 1];
        }
#pragma unroll
        for (int i = 0; i < MI; i++)
#pragma unroll
            for (int j = 0; j < NI; j++) {
                int dot[4] = {0, 0, 0, 0};
                mma_s8_16x8x32(dot, a[i], b[j]);
#pragma unroll
                for (int r = 0; r < 4; r++) acc[i][j][r] += (float)dot[r] * da[i][r >> 1] * db[j][r & 1];
            }
        if (more) store(cur ^ 1);
        __syncthreads();
    }

    store_acc<MI, NI>(acc, y, n0 + wn, t0 + wt, g, q, N, T);
}

#define MMA_I8(name, TYPE, BN, BT)                                                                 \
    extern "C" __global__ void __launch_bounds__(MMA_THREADS) name(const u8* __restrict__ w,       \
            const float* __restrict__ x, float* __restrict__ y, int K, int N, int T) {             \
        mul_mat_mma_i8<TYPE, BN, BT>(w, x, y, K, N, T);                                            \
    }

#define MMA(name, TYPE, BN, BT)                                                                    \
    extern "C" __global__ void __launch_bounds__(MMA_THREADS) name(const u8* __restrict__ w,       \
            const float* __restrict__ x, float* __restrict__ y, int K, int N, int T) {             \
        mul_mat_mma<TYPE, BN, BT>(w, x, y, K, N, T);                                               \
    }

#define MMA_TYPE(type, TYPE)                                                                       \
    MMA(mul_mat_mma_##type##_64x32, TYPE, 64, 32)                                                  \
    MMA(mul_mat_mma_##type##_128x64, TYPE, 128, 64)
#define MMA_I8_TYPE(type, TYPE)                                                                    \
    MMA_I8(mul_mat_mma_##type##_64x32, TYPE, 64, 32)                                               \
    MMA_I8(mul_mat_mma_##type##_128x64, TYPE, 128, 64)

MMA_TYPE(f32, T_F32)
MMA_TYPE(f16, T_F16)
MMA_TYPE(bf16, T_BF16)
MMA_I8_TYPE(q4_0, T_Q4_0)
MMA_I8_TYPE(q8_0, T_Q8_0)
MMA_I8_TYPE(q4_0r, T_Q4_0R)
MMA_I8_TYPE(q8_0r, T_Q8_0R)
MMA_TYPE(q4_1, T_Q4_1)
MMA_TYPE(q5_0, T_Q5_0)
MMA_TYPE(q5_1, T_Q5_1)
MMA_TYPE(mxfp4, T_MXFP4)
MMA_TYPE(q2_k, T_Q2_K)
MMA_TYPE(q3_k, T_Q3_K)
MMA_TYPE(q4_k, T_Q4_K)
MMA_TYPE(q5_k, T_Q5_K)
MMA_TYPE(q6_k, T_Q6_K)
