/*
 * mul_mat_vec.cu: y = W x for few tokens (matrix-vector), the generation path of mul_mat.
 *
 * W is [K, N] (N rows of K) of type F32, F16, BF16, Q4_0, Q8_0, Q4_K or Q6_K; x is F32 [K, T];
 * y is F32 [N, T] with y[t*N + n] = dot(W row n, x row t). One warp per weight row, four rows
 * per block of 128 threads; blockIdx.y picks a group of up to MV_TOKENS tokens, so each weight
 * row is read once for all of them. Lanes read consecutive bytes of a row (coalesced), keep one
 * float accumulator per token and meet in a shuffle reduction.
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

#define MV_TOKENS 8
#define MV_WARPS 4

/* q8_1: 32 activations as int8 with one float scale; 36 bytes, 4-byte aligned. */
struct block_q8_1 {
    float d;
    int qs[8];
};

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
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;                    \
    int n = blockIdx.x * MV_WARPS + warp;                                    \
    if (n >= N) return;                                                      \
    int t0 = blockIdx.y * MV_TOKENS;                                         \
    int nt = min(MV_TOKENS, T - t0);                                         \
    float acc[MV_TOKENS];                                                    \
    _Pragma("unroll") for (int j = 0; j < MV_TOKENS; j++) acc[j] = 0.0f;

extern "C" __global__ void mul_mat_vec_f32(const float* __restrict__ w, const float* __restrict__ x,
                                           float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    const float* row = w + (long long)n * K;
    bool vec = (K & 3) == 0 && (((size_t)w | (size_t)x) & 15) == 0;
    if (vec) {
        const float4* r4 = (const float4*)row;
        for (int k = lane; k < K / 4; k += 32) {
            float4 a = r4[k];
#pragma unroll
            for (int j = 0; j < MV_TOKENS; j++) {
                if (j < nt) {
                    float4 b = ((const float4*)(x + (long long)(t0 + j) * K))[k];
                    acc[j] += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += 32) {
            float a = row[k];
#pragma unroll
            for (int j = 0; j < MV_TOKENS; j++)
                if (j < nt) acc[j] += a * x[(long long)(t0 + j) * K + k];
        }
    }
    write_rows(acc, y, n, N, t0, nt);
}

extern "C" __global__ void mul_mat_vec_f16(const __half* __restrict__ w, const float* __restrict__ x,
                                           float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    const __half* row = w + (long long)n * K;
    bool vec = (K & 1) == 0 && ((size_t)w & 3) == 0 && ((size_t)x & 7) == 0;
    if (vec) {
        const __half2* r2 = (const __half2*)row;
        for (int k = lane; k < K / 2; k += 32) {
            float2 a = __half22float2(r2[k]);
#pragma unroll
            for (int j = 0; j < MV_TOKENS; j++) {
                if (j < nt) {
                    float2 b = ((const float2*)(x + (long long)(t0 + j) * K))[k];
                    acc[j] += a.x * b.x + a.y * b.y;
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += 32) {
            float a = __half2float(row[k]);
#pragma unroll
            for (int j = 0; j < MV_TOKENS; j++)
                if (j < nt) acc[j] += a * x[(long long)(t0 + j) * K + k];
        }
    }
    write_rows(acc, y, n, N, t0, nt);
}

extern "C" __global__ void mul_mat_vec_bf16(const unsigned short* __restrict__ w, const float* __restrict__ x,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    const unsigned short* row = w + (long long)n * K;
    for (int k = lane; k < K; k += 32) {
        float a = bf16_to_float(row[k]);
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++)
            if (j < nt) acc[j] += a * x[(long long)(t0 + j) * K + k];
    }
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
    const u8* row = w + (long long)n * nb * Q4_0_BYTES;
    int sub = lane & 3;
    for (int b = lane >> 2; b < nb; b += 8) {
        const u8* blk = row + b * Q4_0_BYTES;
        float d = load_half(blk);
        int v = load_i32_a2(blk + 2 + 4 * sub);
        int lo = v & 0x0f0f0f0f, hi = (v >> 4) & 0x0f0f0f0f;
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++) {
            if (j < nt) {
                const block_q8_1* xb = xq + (long long)(t0 + j) * nb + b;
                int xlo = xb->qs[sub], xhi = xb->qs[sub + 4];
                int sumi = __dp4a(lo, xlo, __dp4a(hi, xhi, 0));
                int sumx = __dp4a(0x01010101, xlo, __dp4a(0x01010101, xhi, 0));
                acc[j] += d * xb->d * (float)(sumi - 8 * sumx);
            }
        }
    }
    write_rows(acc, y, n, N, t0, nt);
}

extern "C" __global__ void mul_mat_vec_q8_0(const u8* __restrict__ w, const block_q8_1* __restrict__ xq,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    int nb = K >> 5;
    const u8* row = w + (long long)n * nb * Q8_0_BYTES;
    int sub = lane & 7;
    for (int b = lane >> 3; b < nb; b += 4) {
        const u8* blk = row + b * Q8_0_BYTES;
        float d = load_half(blk);
        int v = load_i32_a2(blk + 2 + 4 * sub);
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++) {
            if (j < nt) {
                const block_q8_1* xb = xq + (long long)(t0 + j) * nb + b;
                acc[j] += d * xb->d * (float)__dp4a(v, xb->qs[sub], 0);
            }
        }
    }
    write_rows(acc, y, n, N, t0, nt);
}

/*
 * Q4_K: a warp per super-block; lane L takes 4 bytes of qs in chunk c = L/8 (64 elements): their
 * low nibbles are elements 64c + 4(L%8) + 0..3 (sub-block 2c), their high nibbles the same + 32
 * (sub-block 2c+1).
 */
extern "C" __global__ void mul_mat_vec_q4_k(const u8* __restrict__ w, const float* __restrict__ x,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    int nsb = K >> 8;
    const u8* row = w + (long long)n * nsb * Q4_K_BYTES;
    int c = lane >> 3, q4 = (lane & 7) * 4;
    for (int sb = 0; sb < nsb; sb++) {
        const u8* blk = row + sb * Q4_K_BYTES;
        float d = load_half(blk), dmin = load_half(blk + 2);
        int sc0, mn0, sc1, mn1;
        q4_k_scale_min(blk + 4, 2 * c, &sc0, &mn0);
        q4_k_scale_min(blk + 4, 2 * c + 1, &sc1, &mn1);
        int v = load_i32_a2(blk + 16 + 32 * c + q4);
        float qlo[4], qhi[4];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            qlo[i] = (float)((v >> (8 * i)) & 0xf);
            qhi[i] = (float)((v >> (8 * i + 4)) & 0xf);
        }
        int e = sb * 256 + 64 * c + q4;
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++) {
            if (j < nt) {
                const float* xr = x + (long long)(t0 + j) * K + e;
                float dlo = 0.0f, dhi = 0.0f, slo = 0.0f, shi = 0.0f;
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    float a = xr[i], b = xr[32 + i];
                    dlo += qlo[i] * a;
                    dhi += qhi[i] * b;
                    slo += a;
                    shi += b;
                }
                acc[j] += d * (sc0 * dlo + sc1 * dhi) - dmin * (mn0 * slo + mn1 * shi);
            }
        }
    }
    write_rows(acc, y, n, N, t0, nt);
}

/*
 * Q6_K: a warp per super-block; lane L takes half h = L/16 and positions l = 2(L%16) + 0..1 of
 * each of the four 32-element quarters k of that half: elements 128h + 32k + l.
 */
extern "C" __global__ void mul_mat_vec_q6_k(const u8* __restrict__ w, const float* __restrict__ x,
                                            float* __restrict__ y, int K, int N, int T) {
    MV_PROLOGUE
    int nsb = K >> 8;
    const u8* row = w + (long long)n * nsb * Q6_K_BYTES;
    int h = lane >> 4, l4 = (lane & 15) * 2;
    for (int sb = 0; sb < nsb; sb++) {
        const u8* blk = row + sb * Q6_K_BYTES;
        float d = load_half(blk + 208);
        unsigned int ql0 = load_u16(blk + 64 * h + l4);
        unsigned int ql1 = load_u16(blk + 64 * h + 32 + l4);
        unsigned int qh = load_u16(blk + 128 + 32 * h + l4);
        const signed char* sc = (const signed char*)(blk + 192 + 8 * h + (l4 >> 4));
        float q[4][2], s[4];
#pragma unroll
        for (int k = 0; k < 4; k++) {
            unsigned int ql = (k & 1) ? ql1 : ql0;
            s[k] = d * (float)sc[2 * k];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                int low = (ql >> (8 * i + 4 * (k >> 1))) & 0xf;
                int high = (qh >> (8 * i + 2 * k)) & 3;
                q[k][i] = (float)((low | (high << 4)) - 32);
            }
        }
        int e = sb * 256 + 128 * h + l4;
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++) {
            if (j < nt) {
                const float* xr = x + (long long)(t0 + j) * K + e;
                float sum = 0.0f;
#pragma unroll
                for (int k = 0; k < 4; k++) sum += s[k] * (q[k][0] * xr[32 * k] + q[k][1] * xr[32 * k + 1]);
                acc[j] += sum;
            }
        }
    }
    write_rows(acc, y, n, N, t0, nt);
}
