/*
 * attention_mma.cu: causal grouped-query attention for prompts (many query tokens) on tensor
 * cores, sm_80 and newer (built for compute_80, see ci/build-ptx.sh; the backend picks it only on
 * such devices, for F32 and F16 caches and head dims 64, 80, 96 and 128, and keeps attention.cu
 * elsewhere). It computes what attention.cu computes (read its header for the operation: scores,
 * causal mask by pos[t], sliding window, soft cap, sinks, a cache of ctx rows holding position j at
 * row j % ctx), flash-attention style: scores and weights never leave registers.
 *
 * q is F32 [D * heads, T]; kc and vc [D * kvHeads, ctx], both F32 or both F16, 16-byte aligned
 * (the host checks); pos I32 [T] in device memory; out F32 [D * heads, T]; part, used where
 * splits > 1, F32 [T * heads * splits * (D + 2)].
 *
 * The rows of the attention problem of KV head kvh are the pairs (token t, query head g of the
 * group), row r = t * group + g, so a group's heads for one token sit side by side and share their
 * mask. Grid (ceil(T * group / 64), kvHeads), 128 threads: a block takes 64 rows, warp w rows
 * 16w..16w+15. Each row sees the positions lo..pos[t] with lo = max(0, pos[t] - window + 1) where
 * window > 0 (else 0), and lo >= pos[t] - ctx + 1; the block walks the union of its rows' ranges
 * in tiles of 32 positions (any positions work; consecutive ones keep the union tight). A tile's K
 * rows go to shared memory as f16 row-major (dims inner), its V rows transposed (positions inner),
 * each shared row padded so that a warp's fragment loads hit 32 banks; positions past the union
 * are zeros. A warp whose rows see none of the tile skips it.
 *
 * Per warp and tile (mma.m16n8k16 of mma.cuh, f16 operands, f32 sums): Q (scaled, f16, loaded as
 * A fragments once) times K^T gives the 16 x 32 scores S in four m16n8 accumulators; lane
 * (g = lane / 4, q = lane % 4) holds rows g and g + 8, columns 8n + 2q, 8n + 2q + 1. Soft cap,
 * then the mask (-inf); the online softmax keeps per row the running max m (equal on the 4 lanes
 * of a quad, after two shuffles) and the lane's part of the denominator l; P = e^(S - m) is
 * repacked from the S accumulators into A fragments as f16 (the accumulator layout of two
 * adjacent n8 tiles is the A layout of one k16 step) and O += P V by mma, O in f32 registers
 * (D / 2 a lane). At the end l is summed over the quad, the sink (if any) joins M and L as in
 * attention.cu, and O / L is written; a row that sees nothing writes zeros.
 *
 * Splits (grid z, for few rows over a long cache): split s of a row covers the positions
 * lo + s * chunk .. min(pos[t], lo + (s + 1) * chunk - 1) of its range (the host sizes chunk *
 * splits to cover min(ctx, window)); with more than one split the block writes (m, l, O
 * unnormalized) to part at ((t * heads + h) * splits + s) * (D + 2), attention.cu's layout, and
 * attention_combine merges the splits and adds the sink.
 *
 * Variants: attention_mma_TYPE_dD for TYPE f32, f16 and D 64, 80, 96, 128. F32 caches are
 * converted to f16 in shared memory: values beyond f16's range (65504) would overflow.
 *
 * Checked against: a double-precision reference on the CPU emulator
 * (backends/cuda/src/test/emu/emu_attention_mma_test.cpp: T = 16, 33, 64 from position 0 and from
 * 100, GQA 1 and 4, head dims 64, 80, 96, 128, windows, soft caps, sinks, a ring cache, positions
 * out of order, F32 and F16, one split and several merged by attention.cu's attention_combine).
 */
#include "common.cuh"
#include "mma.cuh"

#define AM_ROWS 64   /* attention rows (token, head) a block takes */
#define AM_KV 32     /* cache positions a tile holds */
#define AM_THREADS 128
#define AM_VW 20     /* 32-bit words of a transposed V row in shared memory: 16 of data, 4 of padding */

/* Dims d..d+7 of the cache row of position j (a row of the union: j >= 0) as four f16 pairs. */
template <int TYPE>
__device__ __forceinline__ uint4 am_load8(const u8* __restrict__ c, long long off);

template <>
__device__ __forceinline__ uint4 am_load8<T_F16>(const u8* __restrict__ c, long long off) {
    return *(const uint4*)(c + 2 * off);
}

template <>
__device__ __forceinline__ uint4 am_load8<T_F32>(const u8* __restrict__ c, long long off) {
    const float* p = (const float*)c + off;
    float4 a = *(const float4*)p, b = *(const float4*)(p + 4);
    uint4 r;
    r.x = pack_half2(a.x, a.y);
    r.y = pack_half2(a.z, a.w);
    r.z = pack_half2(b.x, b.y);
    r.w = pack_half2(b.z, b.w);
    return r;
}

__device__ __forceinline__ unsigned am_word(const uint4& v, int i) {
    return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

template <int TYPE, int D>
__device__ __forceinline__ void attention_mma(const float* __restrict__ q, const u8* __restrict__ kc,
                                              const u8* __restrict__ vc, const int* __restrict__ pos,
                                              float* __restrict__ part, float* __restrict__ out, int T, int heads,
                                              int kvHeads, float scale, int ctx, int chunk, int splits, int window,
                                              float softcap, const float* __restrict__ sinks) {
    constexpr int KW = (D + 8) / 2; /* 32-bit words of a K row in shared memory: D / 2 of data, 4 of padding */
    constexpr int KS = D / 16, DT = D / 8, V8 = D / 8;
    constexpr int KU = (AM_KV * V8 + AM_THREADS - 1) / AM_THREADS;       /* K units (8 dims of a row) a thread loads */
    constexpr int VU = (AM_KV / 2 * V8 + AM_THREADS - 1) / AM_THREADS;   /* V units (8 dims of 2 rows) a thread loads */
    __shared__ __align__(16) unsigned ks[AM_KV][KW];
    __shared__ __align__(16) unsigned vt[D][AM_VW];
    __shared__ int rlo[AM_ROWS], rhi[AM_ROWS];
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int g = lane >> 2, qd = lane & 3;
    int kvh = blockIdx.y, group = heads / kvHeads, rows = T * group;
    int r0 = blockIdx.x * AM_ROWS, split = blockIdx.z;
    long long kvRow = (long long)kvHeads * D;

    /* each row's range lo..hi in this split (empty: lo = INT_MAX, hi = -1) */
    if (tid < AM_ROWS) {
        int r = r0 + tid, lo = 0x7fffffff, hi = -1;
        if (r < rows) {
            int pt = pos[r / group];
            int first = max(window > 0 ? max(0, pt - window + 1) : 0, pt - ctx + 1) + split * chunk;
            int last = min(pt, first + chunk - 1);
            if (pt >= 0 && first <= last) {
                lo = first;
                hi = last;
            }
        }
        rlo[tid] = lo;
        rhi[tid] = hi;
    }
    __syncthreads();
    int bLo = 0x7fffffff, bHi = -1, wLo = 0x7fffffff, wHi = -1;
    for (int i = 0; i < AM_ROWS; i++) {
        bLo = min(bLo, rlo[i]);
        bHi = max(bHi, rhi[i]);
        if (i >> 4 == warp) {
            wLo = min(wLo, rlo[i]);
            wHi = max(wHi, rhi[i]);
        }
    }
    int lo0 = rlo[16 * warp + g], hi0 = rhi[16 * warp + g], lo1 = rlo[16 * warp + g + 8], hi1 = rhi[16 * warp + g + 8];

    /* Q as A fragments, scaled, once: rows g and g + 8 of the warp, dims 16k + 2q (+1, +8, +9) */
    unsigned qa[KS][4];
    {
        int ra = r0 + 16 * warp + g, rb = ra + 8;
        const float* qa0 = ra < rows ? q + ((long long)(ra / group) * heads + kvh * group + ra % group) * D : nullptr;
        const float* qa1 = rb < rows ? q + ((long long)(rb / group) * heads + kvh * group + rb % group) * D : nullptr;
#pragma unroll
        for (int k = 0; k < KS; k++) {
            int d = 16 * k + 2 * qd;
            qa[k][0] = qa0 ? pack_half2(qa0[d] * scale, qa0[d + 1] * scale) : 0u;
            qa[k][1] = qa1 ? pack_half2(qa1[d] * scale, qa1[d + 1] * scale) : 0u;
            qa[k][2] = qa0 ? pack_half2(qa0[d + 8] * scale, qa0[d + 9] * scale) : 0u;
            qa[k][3] = qa1 ? pack_half2(qa1[d + 8] * scale, qa1[d + 9] * scale) : 0u;
        }
    }

    float o[DT][4];
#pragma unroll
    for (int i = 0; i < DT; i++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[i][e] = 0.0f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f;

    for (int j0 = bLo; j0 <= bHi; j0 += AM_KV) {
        __syncthreads(); /* the previous tile is consumed */
        /* All of a thread's loads first (unrolled, so that they are in flight together), then its stores.
           K: unit u = row u / V8, dims 8 (u % V8) .. + 7. V, transposed: unit u = positions 2p, 2p + 1
           with p = u % 16, dims 8 (u / 16) .. + 7; p varies fastest so that a warp's stores of one dim
           hit 16 banks twice (dims 8c apart share banks). Positions past the union read zeros. */
        uint4 kr[KU], va[VU], vb[VU];
#pragma unroll
        for (int i = 0; i < KU; i++) {
            int u = tid + AM_THREADS * i, j = j0 + u / V8;
            kr[i] = uint4{0u, 0u, 0u, 0u};
            if (u < AM_KV * V8 && j <= bHi) kr[i] = am_load8<TYPE>(kc, (long long)(j % ctx) * kvRow + (long long)kvh * D + 8 * (u % V8));
        }
#pragma unroll
        for (int i = 0; i < VU; i++) {
            int u = tid + AM_THREADS * i, j = j0 + 2 * (u % (AM_KV / 2));
            long long d = (long long)kvh * D + 8 * (u / (AM_KV / 2));
            va[i] = vb[i] = uint4{0u, 0u, 0u, 0u};
            if (u < (AM_KV / 2) * V8 && j <= bHi) va[i] = am_load8<TYPE>(vc, (long long)(j % ctx) * kvRow + d);
            if (u < (AM_KV / 2) * V8 && j + 1 <= bHi) vb[i] = am_load8<TYPE>(vc, (long long)((j + 1) % ctx) * kvRow + d);
        }
#pragma unroll
        for (int i = 0; i < KU; i++) {
            int u = tid + AM_THREADS * i;
            if (u < AM_KV * V8) *(uint4*)&ks[u / V8][4 * (u % V8)] = kr[i];
        }
#pragma unroll
        for (int i = 0; i < VU; i++) {
            int u = tid + AM_THREADS * i, p = u % (AM_KV / 2), d = 8 * (u / (AM_KV / 2));
            if (u >= (AM_KV / 2) * V8) continue;
#pragma unroll
            for (int e = 0; e < 8; e++) {
                unsigned x = (am_word(va[i], e >> 1) >> (16 * (e & 1))) & 0xffffu;
                unsigned y = (am_word(vb[i], e >> 1) >> (16 * (e & 1))) & 0xffffu;
                vt[d + e][p] = x | y << 16;
            }
        }
        __syncthreads();
        if (wHi < j0 || wLo > j0 + AM_KV - 1) continue; /* uniform over the warp */

        float s[4][4];
#pragma unroll
        for (int n = 0; n < 4; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) s[n][e] = 0.0f;
            const unsigned* kr = ks[8 * n + g];
#pragma unroll
            for (int k = 0; k < KS; k++) {
                unsigned b[2] = {kr[8 * k + qd], kr[8 * k + qd + 4]};
                mma_f16_16x8x16(s[n], qa[k], b);
            }
        }
        float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
        for (int n = 0; n < 4; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float v = s[n][e];
                if (softcap > 0.0f) v = softcap * tanhf(v / softcap);
                int j = j0 + 8 * n + 2 * qd + (e & 1);
                bool vis = e < 2 ? j >= lo0 && j <= hi0 : j >= lo1 && j <= hi1;
                v = vis ? v : -INFINITY;
                s[n][e] = v;
                if (e < 2) mx0 = fmaxf(mx0, v);
                else mx1 = fmaxf(mx1, v);
            }
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        float n0 = fmaxf(m0, mx0), n1 = fmaxf(m1, mx1);
        /* a row that has seen nothing yet keeps base 0, so that e^(-inf - base) is 0, never NaN */
        float b0 = n0 == -INFINITY ? 0.0f : n0, b1 = n1 == -INFINITY ? 0.0f : n1;
        float c0 = expf(m0 - b0), c1 = expf(m1 - b1);
        m0 = n0;
        m1 = n1;
        l0 *= c0;
        l1 *= c1;
#pragma unroll
        for (int n = 0; n < 4; n++) {
            s[n][0] = expf(s[n][0] - b0);
            s[n][1] = expf(s[n][1] - b0);
            s[n][2] = expf(s[n][2] - b1);
            s[n][3] = expf(s[n][3] - b1);
            l0 += s[n][0] + s[n][1];
            l1 += s[n][2] + s[n][3];
        }
#pragma unroll
        for (int i = 0; i < DT; i++) {
            o[i][0] *= c0;
            o[i][1] *= c0;
            o[i][2] *= c1;
            o[i][3] *= c1;
        }
#pragma unroll
        for (int k = 0; k < 2; k++) { /* positions 16k .. 16k + 15 of the tile */
            unsigned pa[4] = {pack_half2(s[2 * k][0], s[2 * k][1]), pack_half2(s[2 * k][2], s[2 * k][3]),
                              pack_half2(s[2 * k + 1][0], s[2 * k + 1][1]), pack_half2(s[2 * k + 1][2], s[2 * k + 1][3])};
#pragma unroll
            for (int i = 0; i < DT; i++) {
                const unsigned* vr = vt[8 * i + g];
                unsigned b[2] = {vr[8 * k + qd], vr[8 * k + qd + 4]};
                mma_f16_16x8x16(o[i], pa, b);
            }
        }
    }

    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
#pragma unroll
    for (int half = 0; half < 2; half++) {
        int r = r0 + 16 * warp + g + 8 * half;
        if (r >= rows) continue;
        int h = kvh * group + r % group;
        float m = half ? m1 : m0, l = half ? l1 : l0, f = 1.0f;
        if (splits > 1) { /* (m, l, unnormalized O) for attention_combine, which adds the sink */
            float* p = part + (((long long)(r / group) * heads + h) * splits + split) * (D + 2);
            if (qd == 0) {
                p[0] = m;
                p[1] = l;
            }
#pragma unroll
            for (int i = 0; i < DT; i++) {
                p[2 + 8 * i + 2 * qd] = o[i][2 * half];
                p[3 + 8 * i + 2 * qd] = o[i][2 * half + 1];
            }
            continue;
        }
        if (sinks != nullptr) {
            float sv = sinks[h], M = fmaxf(m, sv);
            f = m == -INFINITY ? 0.0f : expf(m - M);
            l = l * f + expf(sv - M);
        }
        float inv = l > 0.0f ? f / l : 0.0f;
        float* orow = out + ((long long)(r / group) * heads + h) * D + 2 * qd;
#pragma unroll
        for (int i = 0; i < DT; i++) {
            orow[8 * i] = o[i][2 * half] * inv;
            orow[8 * i + 1] = o[i][2 * half + 1] * inv;
        }
    }
}

#define AM_ENTRY(NAME, TYPE, D)                                                                                        \
    extern "C" __global__ void __launch_bounds__(AM_THREADS) NAME(                                                     \
            const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out, int T, int heads,     \
            int kvHeads, float scale, int ctx, int chunk, int splits, int window, float softcap, const float* sinks) { \
        attention_mma<TYPE, D>(q, kc, vc, pos, part, out, T, heads, kvHeads, scale, ctx, chunk, splits, window,       \
                               softcap, sinks);                                                                        \
    }

AM_ENTRY(attention_mma_f32_d64, T_F32, 64)
AM_ENTRY(attention_mma_f32_d80, T_F32, 80)
AM_ENTRY(attention_mma_f32_d96, T_F32, 96)
AM_ENTRY(attention_mma_f32_d128, T_F32, 128)
AM_ENTRY(attention_mma_f16_d64, T_F16, 64)
AM_ENTRY(attention_mma_f16_d80, T_F16, 80)
AM_ENTRY(attention_mma_f16_d96, T_F16, 96)
AM_ENTRY(attention_mma_f16_d128, T_F16, 128)
