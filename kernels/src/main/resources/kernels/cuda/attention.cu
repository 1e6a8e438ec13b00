/*
 * attention.cu: causal grouped-query attention over the KV cache, with an online softmax
 * (one pass over the cache rows) and the cache split across blocks ("flash decoding").
 *
 * q is F32 [headDim * heads, T]; kCache and vCache are [headDim * kvHeads, ctx], both F32
 * (attention_*_f32), both F16 (attention_*_f16), both Q8_0 or both Q4_0 (attention_*_q8_0,
 * attention_*_q4_0: rows of blocks of 32, each element decoded as it is read, so a block may
 * span heads where headDim < 32); pos is I32 [T], read from device memory so a
 * recorded CUDA graph stays valid. Token t, head h attends to positions 0..pos[t] of KV head
 * h / (heads / kvHeads): out = sum_j softmax_j(s_j) v_j, F32 [headDim * heads, T], where the
 * score s_j = scale * q.k_j, or softcap * tanh(scale * q.k_j / softcap) where softcap > 0.
 * Where window > 0 (sliding-window attention) the token sees only positions j with
 * pos[t] - j < window, that is positions lo..pos[t] with lo = max(0, pos[t] - window + 1);
 * otherwise lo = 0. Position j lives at cache row j % ctx: a cache of ctx rows may be a ring
 * holding only a window (the host keeps ctx >= window + T - 1 there); where ctx is past every
 * position, row j is position j. The kernel never reads more than the last ctx positions
 * (lo >= pos[t] - ctx + 1), so each row is read once. window = 0 and softcap = 0 give plain
 * causal attention: the first position is then 0 and the cap test, one uniform branch per row,
 * is never taken. Where sinks (F32 [heads]) is not null, head h's softmax
 * has one more logit, sinks[h], in its denominator only (an attention sink): the maximum M is
 * taken over the scores and the sink, and the denominator gains e^(sinks[h] - M). The sink joins
 * the final merge once: the partial kernel's own merge where there is one split, otherwise
 * attention_combine (the partial kernel then ignores sinks).
 *
 * attention_partial: grid (heads, T, splits), 128 threads. Split s covers positions
 *   [lo + s*chunk, min(lo + (s+1)*chunk, pos[t]+1)); the host sizes chunk * splits to cover
 *   min(ctx, window) positions (ctx without a window). The row of position j is j - base, less
 *   ctx where that reaches ctx, with base = lo - lo % ctx (one division per block; base is 0 and
 *   the row is j where the cache is not a ring). Each warp walks every fourth position of the split: the
 *   lanes hold dimensions lane + 32i (headDim <= 256), score = warp-shuffle sum, and keep a
 *   running max m, denominator l and weighted sum of V rows. The four warps merge in shared
 *   memory. With one split the block writes the normalized result; otherwise (m, l, acc[headDim])
 *   goes to a scratch buffer of T * heads * splits * (headDim + 2) floats.
 * attention_combine: grid (heads, T), merges the splits: M = max m_s, L = sum l_s e^(m_s - M),
 *   out = sum acc_s e^(m_s - M) / L; with sinks, M = max(max m_s, sinks[h]) and
 *   L = sum l_s e^(m_s - M) + e^(sinks[h] - M).
 * A negative position gives zeros.
 *
 * Checked against: ReferenceOps.attention (sums in double) in CudaOpsGpuTest: F32 and F16
 * caches, GQA (heads/kvHeads = 1, 2, 4), headDim 64, 80 and 128, one token and several, one
 * split and many; sliding windows and soft-capped scores, alone and together, with several splits;
 * sinks with and without a window, one split and several; ring caches (positions well past ctx,
 * with a window) against the same positions in a full-size cache; Q8_0 and Q4_0 caches in the
 * conformance cases (head dims 64, 32 and 8, a ring).
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references.
 */
#include "common.cuh"

#define ATT_WARPS 4
#define ATT_MAX_DIM 256
#define ATT_DIMS_PER_LANE (ATT_MAX_DIM / 32)

/* Element i of a cache of TYPE (T_F32, T_F16, T_Q8_0, T_Q4_0; the block types in blocks of 32 along the rows). */
template <int TYPE>
__device__ __forceinline__ float cache_at(const u8* __restrict__ c, long long i);

template <>
__device__ __forceinline__ float cache_at<T_F32>(const u8* __restrict__ c, long long i) {
    return ((const float*)c)[i];
}

template <>
__device__ __forceinline__ float cache_at<T_F16>(const u8* __restrict__ c, long long i) {
    return __half2float(((const __half*)c)[i]);
}

template <>
__device__ __forceinline__ float cache_at<T_Q8_0>(const u8* __restrict__ c, long long i) {
    const u8* b = c + (i >> 5) * Q8_0_BYTES;
    return load_half(b) * (float)(signed char)b[2 + (i & 31)];
}

template <>
__device__ __forceinline__ float cache_at<T_Q4_0>(const u8* __restrict__ c, long long i) {
    const u8* b = c + (i >> 5) * Q4_0_BYTES;
    int j = (int)(i & 31);
    int q = b[2 + (j & 15)];
    return load_half(b) * (float)((j < 16 ? q & 15 : q >> 4) - 8);
}

template <int TYPE>
__device__ __forceinline__ void attention_partial(const float* __restrict__ q, const u8* __restrict__ kc,
                                                  const u8* __restrict__ vc, const int* __restrict__ pos,
                                                  float* __restrict__ part, float* __restrict__ out,
                                                  int heads, int kvHeads, int D, float scale, int ctx,
                                                  int chunk, int splits, int window, float softcap,
                                                  const float* __restrict__ sinks) {
    __shared__ float qs[ATT_MAX_DIM];
    __shared__ float wm[ATT_WARPS], wl[ATT_WARPS];
    __shared__ float wacc[ATT_WARPS][ATT_MAX_DIM];
    int h = blockIdx.x, t = blockIdx.y, s = blockIdx.z;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int kvh = h / (heads / kvHeads);
    long long kvRow = (long long)kvHeads * D;
    int pt = pos[t];
    int lo = max(window > 0 ? max(0, pt - window + 1) : 0, pt - ctx + 1);
    int start = lo + s * chunk, end = min(start + chunk, pt + 1);
    /* position j lives at row j - base, less ctx from there on: j - lo < ctx and lo - base < ctx */
    int base = lo < ctx ? 0 : lo - lo % ctx;

    const float* qr = q + ((long long)t * heads + h) * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) qs[d] = qr[d] * scale;
    __syncthreads();

    float qv[ATT_DIMS_PER_LANE], acc[ATT_DIMS_PER_LANE];
#pragma unroll
    for (int i = 0; i < ATT_DIMS_PER_LANE; i++) {
        int d = lane + 32 * i;
        qv[i] = d < D ? qs[d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int j = start + warp; j < end; j += ATT_WARPS) {
        int r = j - base;
        if (r >= ctx) r -= ctx;
        long long kr = r * kvRow + (long long)kvh * D;
        float dot = 0.0f;
#pragma unroll
        for (int i = 0; i < ATT_DIMS_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < D) dot += qv[i] * cache_at<TYPE>(kc, kr + d);
        }
        dot = warp_sum(dot);
        if (softcap > 0.0f) dot = softcap * tanhf(dot / softcap);
        float mNew = fmaxf(m, dot);
        float corr = expf(m - mNew);
        float p = expf(dot - mNew);
        l = l * corr + p;
#pragma unroll
        for (int i = 0; i < ATT_DIMS_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < D) acc[i] = acc[i] * corr + p * cache_at<TYPE>(vc, kr + d);
        }
        m = mNew;
    }
    if (lane == 0) {
        wm[warp] = m;
        wl[warp] = l;
    }
#pragma unroll
    for (int i = 0; i < ATT_DIMS_PER_LANE; i++) {
        int d = lane + 32 * i;
        if (d < D) wacc[warp][d] = acc[i];
    }
    __syncthreads();
    float M = -INFINITY;
#pragma unroll
    for (int w = 0; w < ATT_WARPS; w++) M = fmaxf(M, wm[w]);
    /* the sink joins the final merge: here only where this block is the only split */
    bool sink = sinks != nullptr && splits == 1;
    float sv = sink ? sinks[h] : 0.0f;
    if (sink) M = fmaxf(M, sv);
    float f[ATT_WARPS];
    float L = 0.0f;
#pragma unroll
    for (int w = 0; w < ATT_WARPS; w++) {
        f[w] = M == -INFINITY ? 0.0f : expf(wm[w] - M);
        L += wl[w] * f[w];
    }
    if (sink && M != -INFINITY) L += expf(sv - M);
    if (splits == 1) {
        float* o = out + ((long long)t * heads + h) * D;
        for (int d = threadIdx.x; d < D; d += blockDim.x) {
            float a = 0.0f;
#pragma unroll
            for (int w = 0; w < ATT_WARPS; w++) a += wacc[w][d] * f[w];
            o[d] = L > 0.0f ? a / L : 0.0f;
        }
    } else {
        float* pr = part + (((long long)t * heads + h) * splits + s) * (D + 2);
        if (threadIdx.x == 0) {
            pr[0] = M;
            pr[1] = L;
        }
        for (int d = threadIdx.x; d < D; d += blockDim.x) {
            float a = 0.0f;
#pragma unroll
            for (int w = 0; w < ATT_WARPS; w++) a += wacc[w][d] * f[w];
            pr[2 + d] = a;
        }
    }
}

extern "C" __global__ void __launch_bounds__(128) attention_partial_f32(
        const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out,
        int heads, int kvHeads, int D, float scale, int ctx, int chunk, int splits, int window, float softcap,
        const float* sinks) {
    attention_partial<T_F32>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
}

extern "C" __global__ void __launch_bounds__(128) attention_partial_f16(
        const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out,
        int heads, int kvHeads, int D, float scale, int ctx, int chunk, int splits, int window, float softcap,
        const float* sinks) {
    attention_partial<T_F16>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
}

extern "C" __global__ void __launch_bounds__(128) attention_partial_q8_0(
        const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out,
        int heads, int kvHeads, int D, float scale, int ctx, int chunk, int splits, int window, float softcap,
        const float* sinks) {
    attention_partial<T_Q8_0>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
}

extern "C" __global__ void __launch_bounds__(128) attention_partial_q4_0(
        const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out,
        int heads, int kvHeads, int D, float scale, int ctx, int chunk, int splits, int window, float softcap,
        const float* sinks) {
    attention_partial<T_Q4_0>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
}

extern "C" __global__ void attention_combine(const float* __restrict__ part, float* __restrict__ out,
                                             int heads, int D, int splits, const float* __restrict__ sinks) {
    int h = blockIdx.x, t = blockIdx.y;
    const float* pr = part + ((long long)t * heads + h) * splits * (D + 2);
    float M = -INFINITY;
    for (int s = 0; s < splits; s++) M = fmaxf(M, pr[s * (D + 2)]);
    float sv = sinks != nullptr ? sinks[h] : 0.0f;
    if (sinks != nullptr) M = fmaxf(M, sv);
    float L = 0.0f;
    for (int s = 0; s < splits; s++) {
        float m = pr[s * (D + 2)];
        if (m != -INFINITY) L += pr[s * (D + 2) + 1] * expf(m - M);
    }
    if (sinks != nullptr && M != -INFINITY) L += expf(sv - M);
    float* o = out + ((long long)t * heads + h) * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < splits; s++) {
            float m = pr[s * (D + 2)];
            if (m != -INFINITY) a += pr[s * (D + 2) + 2 + d] * expf(m - M);
        }
        o[d] = L > 0.0f ? a / L : 0.0f;
    }
}
