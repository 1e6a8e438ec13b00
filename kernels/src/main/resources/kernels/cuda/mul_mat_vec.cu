/*
 * mul_mat_vec.cu: y = W x for few tokens (matrix-vector), the generation path of mul_mat.
 *
 * W is [K, N] (N rows of K) of type F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4, Q2_K,
 * Q3_K, Q4_K, Q5_K or Q6_K; x is F32 [K, T] (quantized W: x as q8_1 blocks, see quantize_q8_1);
 * y is F32 [N, T] with y[t*N + n] = dot(W row n, x row t). R rows per warp (the last argument,
 * 1 or 2), 4R rows per block of 128 threads: 32 / R lanes per row. R = 2 serves short rows
 * (the host takes it for K <= 1024), where a whole warp per row would leave most lanes idle
 * after one load (a 1024-element Q4_0 row is 128 words: four per lane). blockIdx.y picks a
 * group of up to NT tokens, so each weight row is read once for all of them. The lanes of a row
 * read consecutive bytes of it (coalesced), keep one float accumulator per token and meet in a
 * shuffle reduction over their group. Where N is odd, the second half of the last warp repeats
 * row N-1 without storing it (every lane takes part in the shuffles). The per-type row dot
 * products (mv_dot_*) are in common.cuh, shared with mul_mat_id (experts.cu).
 *
 * Variants: mul_mat_vec_TYPE_tNT for NT = 1, 4 and 8 tokens per block (grid ceil(N / 4R) x
 * ceil(T / NT)); the host takes _t1 for one token, _t4 for 2-4 and _t8 for 5-8, so that the
 * accumulators held follow the tokens there are.
 * Split: mul_mat_vec_split_TYPE_tNT (grid ceil(N / R) x ceil(T / NT)) gives the block's 4 warps
 * the same R rows: warp w reads the row's load units (words, float4s, ...) w*32/R + lane,
 * stepping 4 * 32/R, so the four warps read adjacent stretches of the row and split K four ways;
 * each warp reduces its partial sums, writes one per row and token to shared memory, and after
 * one barrier warp 0 adds the four and stores. Rows with few blocks would otherwise leave the
 * GPU short of warps in flight (Llama-3.2-1B's K/V projections, N = 512: 128 blocks of one-warp
 * rows for some 132 multiprocessors); the host takes the split variant where the one-warp grid
 * ceil(N / 4R) has fewer than 4 blocks per multiprocessor (KernelCalls.vecSplit).
 *   f32 / f16 / bf16                 lanes stride over elements; float4 / half2 loads where the
 *                                    row length and addresses allow
 *   quantize_q8_1                    x rows to blocks of 32 int8 with one float scale (q8_1)
 *   every quantized type             integer dot products (dp4a) of weight quants unpacked to
 *                                    int8x4 with the q8_1 activations, scaled per block (and
 *                                    per sub-block of the K-quants); each lane keeps two 32-bit
 *                                    weight loads in flight
 *   q4_0r, q8_0r                     Q4_0 and Q8_0 rows repacked at load (T_Q4_0R, T_Q8_0R in
 *                                    common.cuh): two 16-byte loads in flight a lane
 *
 * Checked against: the reference backend's mul_mat (ReferenceOps.dot over codec-decoded rows)
 * in CudaOpsGpuTest, at odd N, K = 33/100/96/256/768 and T = 1, 3, 8; q8_1 activations keep the
 * normalized error well under the conformance tolerance of 5e-4.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references (every type and token variant, R = 1 and 2, split and not, K
 * whose load units do not fill the four warps' lanes, odd N; q4_0r and q8_0r on rows repacked
 * as CudaDevice.prepareWeight does).
 */
#include "common.cuh"

#define MV_WARPS 4

/*
 * Writes the tokens' rows: the lanes of each row reduce each accumulator in turn. One warp per
 * row group: the group's first lane stores it. SPLIT: each warp's first lane of a row writes its
 * partial sum to shared memory (one write per warp, row and token), and after one barrier the
 * first R * NT lanes of warp 0 add the MV_WARPS partials of a (row, token) and store them.
 */
template <int NT, bool SPLIT>
__device__ __forceinline__ void write_rows(float* acc, float* y, int n0, int n, int N, int t0, int nt, int lanes, int R,
                                           bool store) {
    int lane = threadIdx.x & 31;
    bool first = (lane & (lanes - 1)) == 0;
    __shared__ float partial[SPLIT ? MV_WARPS : 1][2][NT];
#pragma unroll
    for (int j = 0; j < NT; j++) {
        if (j < nt) {
            float s = lanes_sum(acc[j], lanes);
            if (SPLIT) {
                if (first) partial[threadIdx.x >> 5][lane / lanes][j] = s;
            } else if (first && store) {
                y[(long long)(t0 + j) * N + n] = s;
            }
        }
    }
    if (SPLIT) {
        __syncthreads();
        if (threadIdx.x < R * NT) {
            int r = threadIdx.x / NT, j = threadIdx.x % NT;
            if (j < nt && n0 + r < N) {
                float s = 0.0f;
#pragma unroll
                for (int w = 0; w < MV_WARPS; w++) s += partial[w][r][j];
                y[(long long)(t0 + j) * N + n0 + r] = s;
            }
        }
    }
}

/*
 * n0: the first row of this warp (SPLIT: of the block), n: this lane's row (N-1 for the lanes
 * past the end, which do not store), lanes: per row; part, parts: the warp's share of the row.
 */
#define MV_PROLOGUE(NT, SPLIT)                                                                              \
    int lanes = 32 / R;                                                                                     \
    int warp = threadIdx.x >> 5;                                                                            \
    int n0 = SPLIT ? blockIdx.x * R : (blockIdx.x * MV_WARPS + warp) * R;                                   \
    if (!SPLIT && n0 >= N) return;                                                                          \
    int part = SPLIT ? warp : 0, parts = SPLIT ? MV_WARPS : 1;                                              \
    int n = n0 + (threadIdx.x & 31) / lanes;                                                                \
    bool store = n < N;                                                                                     \
    n = min(n, N - 1);                                                                                      \
    int t0 = blockIdx.y * NT;                                                                               \
    int nt = min(NT, T - t0);                                                                               \
    float acc[NT];                                                                                          \
    _Pragma("unroll") for (int j = 0; j < NT; j++) acc[j] = 0.0f;

template <int NT, bool SPLIT>
__device__ __forceinline__ void mul_mat_vec_f32(const float* __restrict__ w, const float* __restrict__ x,
                                                float* __restrict__ y, int K, int N, int T, int R) {
    MV_PROLOGUE(NT, SPLIT)
    mv_dot_f32<NT>(w + (long long)n * K, x + (long long)t0 * K, K, nt, acc, lanes, part, parts);
    write_rows<NT, SPLIT>(acc, y, n0, n, N, t0, nt, lanes, R, store);
}

template <int NT, bool SPLIT>
__device__ __forceinline__ void mul_mat_vec_f16(const __half* __restrict__ w, const float* __restrict__ x,
                                                float* __restrict__ y, int K, int N, int T, int R) {
    MV_PROLOGUE(NT, SPLIT)
    mv_dot_f16<NT>(w + (long long)n * K, x + (long long)t0 * K, K, nt, acc, lanes, part, parts);
    write_rows<NT, SPLIT>(acc, y, n0, n, N, t0, nt, lanes, R, store);
}

template <int NT, bool SPLIT>
__device__ __forceinline__ void mul_mat_vec_bf16(const unsigned short* __restrict__ w, const float* __restrict__ x,
                                                 float* __restrict__ y, int K, int N, int T, int R) {
    MV_PROLOGUE(NT, SPLIT)
    mv_dot_bf16<NT>(w + (long long)n * K, x + (long long)t0 * K, K, nt, acc, lanes, part, parts);
    write_rows<NT, SPLIT>(acc, y, n0, n, N, t0, nt, lanes, R, store);
}

template <int TYPE, int NT, bool SPLIT>
__device__ __forceinline__ void mul_mat_vec_q(const u8* __restrict__ w, const block_q8_1* __restrict__ xq,
                                              float* __restrict__ y, int K, int N, int T, int R) {
    MV_PROLOGUE(NT, SPLIT)
    mv_dot_q<TYPE, NT>(w + n * row_bytes_of(TYPE, K), xq + (long long)t0 * (K >> 5), K, nt, acc, lanes, part, parts);
    write_rows<NT, SPLIT>(acc, y, n0, n, N, t0, nt, lanes, R, store);
}

/* One entry point: PREFIX (mul_mat_vec or mul_mat_vec_split) _ SFX _t NT, calling BODY. */
#define MV_ENTRY(PREFIX, SFX, NT, WT, XT, BODY)                                                             \
    extern "C" __global__ void PREFIX##_##SFX##_t##NT(const WT* __restrict__ w, const XT* __restrict__ x,   \
            float* __restrict__ y, int K, int N, int T, int R) { BODY; }

/* The three token variants of a float type (WT: its element) or a quantized one, one warp per row group and split. */
#define MV_FLOAT(SFX, WT)                                                                                   \
    MV_ENTRY(mul_mat_vec, SFX, 1, WT, float, (mul_mat_vec_##SFX<1, false>(w, x, y, K, N, T, R)))             \
    MV_ENTRY(mul_mat_vec, SFX, 4, WT, float, (mul_mat_vec_##SFX<4, false>(w, x, y, K, N, T, R)))             \
    MV_ENTRY(mul_mat_vec, SFX, 8, WT, float, (mul_mat_vec_##SFX<8, false>(w, x, y, K, N, T, R)))             \
    MV_ENTRY(mul_mat_vec_split, SFX, 1, WT, float, (mul_mat_vec_##SFX<1, true>(w, x, y, K, N, T, R)))        \
    MV_ENTRY(mul_mat_vec_split, SFX, 4, WT, float, (mul_mat_vec_##SFX<4, true>(w, x, y, K, N, T, R)))        \
    MV_ENTRY(mul_mat_vec_split, SFX, 8, WT, float, (mul_mat_vec_##SFX<8, true>(w, x, y, K, N, T, R)))

#define MV_QUANT(SFX, TYPE)                                                                                 \
    MV_ENTRY(mul_mat_vec, SFX, 1, u8, block_q8_1, (mul_mat_vec_q<TYPE, 1, false>(w, x, y, K, N, T, R)))      \
    MV_ENTRY(mul_mat_vec, SFX, 4, u8, block_q8_1, (mul_mat_vec_q<TYPE, 4, false>(w, x, y, K, N, T, R)))      \
    MV_ENTRY(mul_mat_vec, SFX, 8, u8, block_q8_1, (mul_mat_vec_q<TYPE, 8, false>(w, x, y, K, N, T, R)))      \
    MV_ENTRY(mul_mat_vec_split, SFX, 1, u8, block_q8_1, (mul_mat_vec_q<TYPE, 1, true>(w, x, y, K, N, T, R))) \
    MV_ENTRY(mul_mat_vec_split, SFX, 4, u8, block_q8_1, (mul_mat_vec_q<TYPE, 4, true>(w, x, y, K, N, T, R))) \
    MV_ENTRY(mul_mat_vec_split, SFX, 8, u8, block_q8_1, (mul_mat_vec_q<TYPE, 8, true>(w, x, y, K, N, T, R)))

MV_FLOAT(f32, float)
MV_FLOAT(f16, __half)
MV_FLOAT(bf16, unsigned short)
MV_QUANT(q4_0, T_Q4_0)
MV_QUANT(q4_1, T_Q4_1)
MV_QUANT(q5_0, T_Q5_0)
MV_QUANT(q5_1, T_Q5_1)
MV_QUANT(q8_0, T_Q8_0)
MV_QUANT(mxfp4, T_MXFP4)
MV_QUANT(q2_k, T_Q2_K)
MV_QUANT(q3_k, T_Q3_K)
MV_QUANT(q4_k, T_Q4_K)
MV_QUANT(q5_k, T_Q5_K)
MV_QUANT(q6_k, T_Q6_K)
MV_QUANT(q4_0r, T_Q4_0R)
MV_QUANT(q8_0r, T_Q8_0R)

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
