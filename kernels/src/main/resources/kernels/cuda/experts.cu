/*
 * experts.cu: the mixture-of-experts ops (ggml's semantics; numerical spec ReferenceOps.topK,
 * gather, weightedSum and ReferenceStream.mulMatId).
 *
 *   top_k           x F32 [E, T] -> I32 [k, T]: the indices of the k largest values of each row,
 *                   largest first, the lower index first among equal values. One warp per row,
 *                   four rows per block of 128 threads (grid ceil(T / 4)). Pick j is the best
 *                   element that comes after pick j-1 in the order (value descending, index
 *                   ascending), so no set of taken indices is kept: each pick is a strided scan
 *                   of the row and a shuffle argmax. Rows are assumed free of NaN.
 *   gather          x F32 [E, T], ids I32 [k, T] -> F32 [k, T]: out[t][j] = x[t][ids[t][j]].
 *                   One thread per element (grid-stride).
 *   mul_mat_id_*    w [K, N, E] (E matrices of N rows, seen as N*E rows of K) of type F32, F16,
 *                   BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K;
 *                   x F32 [K, T] or [K, k*T] (xPerSlot);
 *                   ids I32 [k, T] -> y F32 [N, k*T]. Slot s = t*k + j: y row s = rows
 *                   e*N .. e*N+N-1 of w (e = ids[s]) times x row t (xPerSlot: row s). The
 *                   matrix-vector design of mul_mat_vec.cu with the row dot products of
 *                   common.cuh: one warp per weight row, four rows per block of 128 threads;
 *                   blockIdx.y picks the slot (grid ceil(N / 4) x min(S, 65535), looping over
 *                   slots s = blockIdx.y, + gridDim.y, ...), whose expert id picks the weight
 *                   base, so only the selected experts' rows are read. Quantized types take x
 *                   as q8_1 blocks (quantize_q8_1 of mul_mat_vec.cu over x's rows) and use dp4a.
 *                   An id outside [0, E) gives a row of NaN (the reference backend throws).
 *   weighted_sum    y F32 [N, k*T], weights F32 [k, T] -> F32 [N, T]:
 *                   out[t][i] = sum over j of weights[t][j] * y[t*k + j][i], summed in order of
 *                   j in float. One thread per output element (grid-stride).
 *   add_id          y F32 [N, k*T], bias F32 [N, E], ids I32 [k, T] -> F32 [N, k*T]:
 *                   out row r = y row r + bias row ids[r] (r = t*k + j: each slot's expert
 *                   bias). One thread per element (grid-stride); out may be y. An id outside
 *                   [0, E) gives a row of NaN (the reference backend throws).
 *
 * Checked against: the reference backend's top_k, gather (bit-exact), mul_mat_id (every weight
 * type, x per token and per slot, one token and several), weighted_sum and add_id (bit-exact) in
 * CudaOpsGpuTest.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references.
 */
#include "common.cuh"

#define TOPK_WARPS 4
#define MMID_WARPS 4

__device__ __forceinline__ float quiet_nan() {
    return __uint_as_float(0x7fc00000u);
}

extern "C" __global__ void top_k(const float* __restrict__ x, int* __restrict__ out, int E, int k, int T) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int t = blockIdx.x * TOPK_WARPS + warp;
    if (t >= T) return;
    const float* row = x + (long long)t * E;
    float pv = 0.0f;
    int pi = -1; /* the previous pick; none before the first */
    for (int j = 0; j < k; j++) {
        float bv = 0.0f;
        int bi = -1;
        for (int i = lane; i < E; i += 32) {
            float v = row[i];
            bool after = pi < 0 || v < pv || (v == pv && i > pi);
            if (after && (bi < 0 || v > bv)) {
                bv = v;
                bi = i;
            }
        }
        /* argmax over the warp: the larger value, then the lower index; no candidate (-1) loses */
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (oi >= 0 && (bi < 0 || ov > bv || (ov == bv && oi < bi))) {
                bv = ov;
                bi = oi;
            }
        }
        if (lane == 0) out[(long long)t * k + j] = bi;
        pv = bv;
        pi = bi;
    }
}

/* n = k*T elements; row t of x has E values. */
extern "C" __global__ void gather(const float* __restrict__ x, const int* __restrict__ ids, float* __restrict__ y,
                                  long long n, int k, int E) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        int id = ids[i];
        y[i] = id >= 0 && id < E ? x[(i / k) * E + id] : quiet_nan();
    }
}

/* n = N*T outputs. */
extern "C" __global__ void weighted_sum(const float* __restrict__ y, const float* __restrict__ w, float* __restrict__ out,
                                        long long n, int N, int k) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long t = i / N;
        long long c = i - t * N;
        const float* wt = w + t * k;
        const float* yr = y + t * k * N + c;
        float s = 0.0f;
        for (int j = 0; j < k; j++) s += wt[j] * yr[(long long)j * N];
        out[i] = s;
    }
}

/* n = N * k*T elements (y's); bias has E rows of N. */
extern "C" __global__ void add_id(const float* y, const float* __restrict__ bias, const int* __restrict__ ids, float* out,
                                  long long n, int N, int E) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long r = i / N;
        long long c = i - r * N;
        int id = ids[r];
        out[i] = id >= 0 && id < E ? y[i] + bias[(long long)id * N + c] : quiet_nan();
    }
}

/*
 * The slot loop of mul_mat_id: for each slot s of this block, e = ids[s], r = the weight row
 * e*N + n, xr = the x row; the body adds the lanes' dot products to acc[0], written as y row s.
 */
#define MMID_BEGIN                                                           \
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;                    \
    int n = blockIdx.x * MMID_WARPS + warp;                                  \
    if (n >= N) return;                                                      \
    for (int s = blockIdx.y; s < S; s += gridDim.y) {                        \
        int e = ids[s];                                                      \
        bool valid = e >= 0 && e < E;                                        \
        long long r = (long long)e * N + n;                                  \
        long long xr = xPerSlot ? s : s / k;                                 \
        float acc[1] = {0.0f};                                               \
        if (valid) {

#define MMID_END                                                             \
        }                                                                    \
        float v = warp_sum(acc[0]);                                          \
        if (lane == 0) y[(long long)s * N + n] = valid ? v : quiet_nan();    \
    }

#define MMID_PARAMS(WT, XT)                                                                            \
    (const WT* __restrict__ w, const XT* __restrict__ x, const int* __restrict__ ids, float* __restrict__ y, \
     int K, int N, int E, int k, int S, int xPerSlot)

extern "C" __global__ void mul_mat_id_f32 MMID_PARAMS(float, float) {
    MMID_BEGIN
    mv_dot_f32<1>(w + r * K, x + xr * K, K, 1, acc);
    MMID_END
}

extern "C" __global__ void mul_mat_id_f16 MMID_PARAMS(__half, float) {
    MMID_BEGIN
    mv_dot_f16<1>(w + r * K, x + xr * K, K, 1, acc);
    MMID_END
}

extern "C" __global__ void mul_mat_id_bf16 MMID_PARAMS(unsigned short, float) {
    MMID_BEGIN
    mv_dot_bf16<1>(w + r * K, x + xr * K, K, 1, acc);
    MMID_END
}

#define MMID_QUANT(name, TYPE)                                                     \
    extern "C" __global__ void name MMID_PARAMS(u8, block_q8_1) {                   \
        MMID_BEGIN                                                                  \
        mv_dot_q<TYPE, 1>(w + r * row_bytes_of(TYPE, K), x + xr * (K >> 5), K, 1, acc); \
        MMID_END                                                                    \
    }

MMID_QUANT(mul_mat_id_q4_0, T_Q4_0)
MMID_QUANT(mul_mat_id_q4_1, T_Q4_1)
MMID_QUANT(mul_mat_id_q5_0, T_Q5_0)
MMID_QUANT(mul_mat_id_q5_1, T_Q5_1)
MMID_QUANT(mul_mat_id_q8_0, T_Q8_0)
MMID_QUANT(mul_mat_id_mxfp4, T_MXFP4)
MMID_QUANT(mul_mat_id_q2_k, T_Q2_K)
MMID_QUANT(mul_mat_id_q3_k, T_Q3_K)
MMID_QUANT(mul_mat_id_q4_k, T_Q4_K)
MMID_QUANT(mul_mat_id_q5_k, T_Q5_K)
MMID_QUANT(mul_mat_id_q6_k, T_Q6_K)
