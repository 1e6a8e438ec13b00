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
 * attention_partial: grid (kvHeads, T, splits), 128 threads: a block serves all heads / kvHeads
 *   query heads of its KV head (up to 8 at once; larger groups take more passes), so each K and V
 *   row is read once per group rather than once per query head. Split s covers positions
 *   [lo + s*chunk, min(lo + (s+1)*chunk, pos[t]+1)); the host sizes chunk * splits to cover
 *   min(ctx, window) positions (ctx without a window). The row of position j is j - base, less
 *   ctx where that reaches ctx, with base = lo - lo % ctx (one division per block; base is 0 and
 *   the row is j where the cache is not a ring). Each warp walks its share of the positions, the
 *   lanes holding a row's dimensions (headDim <= 256, 8 a lane): F32 and F16 caches whose rows
 *   are 16-byte aligned (headDim a multiple of 4, resp. 8, and aligned caches) are read with
 *   16-byte loads, a row taking the fewest lanes (4, 8, 16 or 32) that hold it, so a warp walks
 *   up to 8 rows at once; other caches (Q8_0, Q4_0, other head dims) take one element a lane,
 *   dimensions lane + 32i. Each query head's score is a shuffle sum over the row's lanes, and
 *   each row slot keeps per head a running max m, denominator l and weighted sum of V rows. The
 *   slots merge in shared memory, one head at a time. With one split the block writes the
 *   normalized result; otherwise (m, l, acc[headDim]) goes to a scratch buffer of
 *   T * heads * splits * (headDim + 2) floats.
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
 * double-precision references, also with groups of 1, 2, 3, 4, 6, 8 and 12 query heads and head
 * dims on the 16-byte path (8 to 128) and off it (34, 36 in F16).
 */
#include "common.cuh"

#define ATT_WARPS 4
#define ATT_MAX_DIM 256
/* Dimensions of a row one lane holds (ATT_MAX_DIM / 32). */
#define ATT_PER_LANE 8
/* Query heads one pass over the rows serves; larger groups take several passes. */
#define ATT_GROUP 8
/* Row slots of a block: a row takes at least 4 lanes, so a warp walks at most 8 rows at once. */
#define ATT_SLOTS (ATT_WARPS * 8)

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

/* Elements i..i+VW-1 of a cache of TYPE into v: one element (VW = 1), or one 16-byte load (i a multiple of VW). */
template <int TYPE, int VW>
struct cache_vec {
    static __device__ __forceinline__ void load(const u8* __restrict__ c, long long i, float* v) {
        v[0] = cache_at<TYPE>(c, i);
    }
};

template <>
struct cache_vec<T_F32, 4> {
    static __device__ __forceinline__ void load(const u8* __restrict__ c, long long i, float* v) {
        float4 x = *(const float4*)((const float*)c + i);
        v[0] = x.x;
        v[1] = x.y;
        v[2] = x.z;
        v[3] = x.w;
    }
};

template <>
struct cache_vec<T_F16, 8> {
    static __device__ __forceinline__ void load(const u8* __restrict__ c, long long i, float* v) {
        float4 x = *(const float4*)((const __half*)c + i);
        const __half2* h = (const __half2*)&x;
#pragma unroll
        for (int e = 0; e < 4; e++) {
            float2 f = __half22float2(h[e]);
            v[2 * e] = f.x;
            v[2 * e + 1] = f.y;
        }
    }
};

/*
 * One block: KV head blockIdx.x, token blockIdx.y, split blockIdx.z, all query heads of the group.
 * VW = 1: a row takes the warp's 32 lanes, lane holding dimensions lane + 32i. VW = 4 (F32) or 8
 * (F16): a row takes lpr lanes (a power of two, at least 4, lpr * 8 >= D), lane sl holding the
 * vectors at VW * sl + lpr * VW * i, read with 16-byte loads; a warp walks 32 / lpr rows at once.
 */
template <int TYPE, int VW>
__device__ __forceinline__ void attention_group(const float* __restrict__ q, const u8* __restrict__ kc,
                                                const u8* __restrict__ vc, const int* __restrict__ pos,
                                                float* __restrict__ part, float* __restrict__ out,
                                                int heads, int kvHeads, int D, float scale, int ctx,
                                                int chunk, int splits, int window, float softcap,
                                                const float* __restrict__ sinks) {
    __shared__ float wm[ATT_SLOTS][ATT_GROUP], wl[ATT_SLOTS][ATT_GROUP], wf[ATT_SLOTS];
    __shared__ float wacc[ATT_WARPS][ATT_MAX_DIM];
    int kvh = blockIdx.x, t = blockIdx.y, s = blockIdx.z;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    /* lanes per row: 32 for VW = 1, else the fewest (a power of two, at least 4) that hold D at 8 a lane */
    int lpr = 32;
    if (VW > 1) {
        lpr = 4;
        while (lpr * ATT_PER_LANE < D) lpr <<= 1;
    }
    int rpw = 32 / lpr, sub = lane / lpr, sl = lane % lpr, slots = ATT_WARPS * rpw;
    int group = heads / kvHeads, hEnd = (kvh + 1) * group;
    long long kvRow = (long long)kvHeads * D;
    int pt = pos[t];
    int lo = max(window > 0 ? max(0, pt - window + 1) : 0, pt - ctx + 1);
    int start = lo + s * chunk, end = min(start + chunk, pt + 1);
    /* position j lives at row j - base, less ctx from there on: j - lo < ctx and lo - base < ctx */
    int base = lo < ctx ? 0 : lo - lo % ctx;

    for (int h0 = kvh * group; h0 < hEnd; h0 += ATT_GROUP) {
        int ng = min(ATT_GROUP, hEnd - h0);
        float qv[ATT_GROUP][ATT_PER_LANE], acc[ATT_GROUP][ATT_PER_LANE], m[ATT_GROUP], l[ATT_GROUP];
#pragma unroll
        for (int g = 0; g < ATT_GROUP; g++) {
            const float* qr = q + ((long long)t * heads + h0 + g) * D;
#pragma unroll
            for (int i = 0; i < ATT_PER_LANE / VW; i++)
#pragma unroll
                for (int e = 0; e < VW; e++) {
                    int d = VW * sl + lpr * VW * i + e;
                    qv[g][i * VW + e] = g < ng && d < D ? qr[d] * scale : 0.0f;
                    acc[g][i * VW + e] = 0.0f;
                }
            m[g] = -INFINITY;
            l[g] = 0.0f;
        }
        /* the loop is uniform over the warp (the shuffles need every lane); a slot past the split's end idles */
        for (int j0 = start + warp * rpw; j0 < end; j0 += ATT_WARPS * rpw) {
            int j = j0 + sub;
            bool live = j < end;
            int r = j - base;
            if (r >= ctx) r -= ctx;
            long long kr = (long long)r * kvRow + (long long)kvh * D;
            float kv[ATT_PER_LANE];
#pragma unroll
            for (int i = 0; i < ATT_PER_LANE / VW; i++) {
                int d = VW * sl + lpr * VW * i;
                if (live && d < D)
                    cache_vec<TYPE, VW>::load(kc, kr + d, kv + i * VW);
                else
#pragma unroll
                    for (int e = 0; e < VW; e++) kv[i * VW + e] = 0.0f;
            }
            float sc[ATT_GROUP];
#pragma unroll
            for (int g = 0; g < ATT_GROUP; g++) {
                sc[g] = 0.0f;
                if (g >= ng) continue;
                float dot = 0.0f;
#pragma unroll
                for (int k = 0; k < ATT_PER_LANE; k++) dot += qv[g][k] * kv[k];
                for (int o = lpr >> 1; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
                sc[g] = dot;
            }
            if (!live) continue;
            if (softcap > 0.0f)
#pragma unroll
                for (int g = 0; g < ATT_GROUP; g++) sc[g] = softcap * tanhf(sc[g] / softcap);
#pragma unroll
            for (int i = 0; i < ATT_PER_LANE / VW; i++) {
                int d = VW * sl + lpr * VW * i;
                if (d < D)
                    cache_vec<TYPE, VW>::load(vc, kr + d, kv + i * VW);
                else
#pragma unroll
                    for (int e = 0; e < VW; e++) kv[i * VW + e] = 0.0f;
            }
#pragma unroll
            for (int g = 0; g < ATT_GROUP; g++) {
                if (g >= ng) continue;
                float mNew = fmaxf(m[g], sc[g]);
                float corr = expf(m[g] - mNew);
                float p = expf(sc[g] - mNew);
                l[g] = l[g] * corr + p;
#pragma unroll
                for (int k = 0; k < ATT_PER_LANE; k++) acc[g][k] = acc[g][k] * corr + p * kv[k];
                m[g] = mNew;
            }
        }
        /* merge the slots, one head at a time through wacc */
        int slot = warp * rpw + sub;
        if (sl == 0)
#pragma unroll
            for (int g = 0; g < ATT_GROUP; g++) {
                wm[slot][g] = m[g];
                wl[slot][g] = l[g];
            }
        /* the sink joins the final merge: here only where this block is the only split */
        bool sink = sinks != nullptr && splits == 1;
        for (int g = 0; g < ng; g++) {
            int h = h0 + g;
            /* acc[g] with g known at compile time, so that acc stays in registers */
#pragma unroll
            for (int gr = 0; gr < ATT_GROUP; gr++) {
                if (gr != g) continue;
#pragma unroll
                for (int i = 0; i < ATT_PER_LANE / VW; i++)
#pragma unroll
                    for (int e = 0; e < VW; e++) {
                        int d = VW * sl + lpr * VW * i + e;
                        if (d < D) wacc[warp][sub * D + d] = acc[gr][i * VW + e];
                    }
            }
            __syncthreads();
            float sv = sink ? sinks[h] : 0.0f;
            float M = sink ? sv : -INFINITY;
            for (int w = 0; w < slots; w++) M = fmaxf(M, wm[w][g]);
            if (threadIdx.x < slots) wf[threadIdx.x] = M == -INFINITY ? 0.0f : expf(wm[threadIdx.x][g] - M);
            __syncthreads();
            float L = sink && M != -INFINITY ? expf(sv - M) : 0.0f;
            for (int w = 0; w < slots; w++) L += wl[w][g] * wf[w];
            float* o = splits == 1 ? out + ((long long)t * heads + h) * D
                                   : part + (((long long)t * heads + h) * splits + s) * (D + 2) + 2;
            for (int d = threadIdx.x; d < D; d += blockDim.x) {
                float a = 0.0f;
                for (int w = 0; w < slots; w++) a += wacc[w / rpw][(w % rpw) * D + d] * wf[w];
                o[d] = splits == 1 ? (L > 0.0f ? a / L : 0.0f) : a;
            }
            if (splits > 1 && threadIdx.x == 0) {
                o[-2] = M;
                o[-1] = L;
            }
            __syncthreads();
        }
    }
}

/* The 16-byte path where the row's vectors are 16-byte aligned: D a multiple of VW and both caches aligned. */
#define ATT_VEC_OK(VW) (D % (VW) == 0 && (((unsigned long long)kc | (unsigned long long)vc) & 15) == 0)

extern "C" __global__ void __launch_bounds__(128) attention_partial_f32(
        const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out,
        int heads, int kvHeads, int D, float scale, int ctx, int chunk, int splits, int window, float softcap,
        const float* sinks) {
    if (ATT_VEC_OK(4))
        attention_group<T_F32, 4>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
    else
        attention_group<T_F32, 1>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
}

extern "C" __global__ void __launch_bounds__(128) attention_partial_f16(
        const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out,
        int heads, int kvHeads, int D, float scale, int ctx, int chunk, int splits, int window, float softcap,
        const float* sinks) {
    if (ATT_VEC_OK(8))
        attention_group<T_F16, 8>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
    else
        attention_group<T_F16, 1>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
}

extern "C" __global__ void __launch_bounds__(128) attention_partial_q8_0(
        const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out,
        int heads, int kvHeads, int D, float scale, int ctx, int chunk, int splits, int window, float softcap,
        const float* sinks) {
    attention_group<T_Q8_0, 1>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
}

extern "C" __global__ void __launch_bounds__(128) attention_partial_q4_0(
        const float* q, const u8* kc, const u8* vc, const int* pos, float* part, float* out,
        int heads, int kvHeads, int D, float scale, int ctx, int chunk, int splits, int window, float softcap,
        const float* sinks) {
    attention_group<T_Q4_0, 1>(q, kc, vc, pos, part, out, heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sinks);
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
