/*
 * attention.cl: causal grouped-query attention over the KV cache, in one pass with an online
 * softmax (running max m, running sum l, rescaled accumulators), so scores are never stored.
 *   for token t, head h: kv head g = h / (heads / kvHeads), key positions j = first .. pos[t]
 *   s_j = scale * dot(q[t,h], k[j % ctx,g]);  out[t,h] = sum_j softmax(s)_j * v[j % ctx,g]
 * The cache is a ring: position j lives at row j % ctx (kv_store.cl), so a sliding-window
 * layer's cache may hold only its window; where ctx exceeds every position, row j is position j.
 * Sliding window (window > 0): first = max(0, pos[t] - window + 1), so token t sees itself and
 * the window - 1 positions before it; the rows before first are never read. window = 0:
 * first = 0. The host makes sure that pos[t] - first < ctx (a longer range would need a row
 * twice; the kernel then keeps the last ctx positions).
 * Soft-capped scores (softcap > 0): s_j = softcap * tanh(s_j / softcap) before the softmax;
 * softcap = 0 leaves the scores as they are (the branch is uniform, no tanh on the plain path).
 * Sinks (has_sinks): head h's softmax counts exp(sinks[h]) in its denominator only: the running
 * max takes in sinks[h] and the sum gains exp(sinks[h] - max), once per (head, token), after the
 * keys (in attention_merge where split, never per slice). has_sinks = 0 skips it (uniform branch).
 * q f32 [heads * headDim, T]; k and v caches [kvHeads * headDim, ctx], each f32, f16, q8_0 or
 * q4_0 (k_type, v_type: 0..3; a quantized row is blocks of 32, decoded element by element as the
 * tiles load them, so a block may span heads); out f32 [heads * headDim, T].
 *
 * Prompts of 16 tokens or more with headDim up to 256 go to attention_tiled.cl instead, which
 * reads each K and V row once per tile of query rows; this kernel takes generation, short prompts
 * and the larger head dims.
 *
 * Variants: attention. One work-group of ATT_WG work-items per (KV head, token), serving the
 * KV head's query heads (heads / kvHeads of them) ATT_GROUP at a time, so that each K and V row
 * is read once per ATT_GROUP query heads rather than once per head. Keys go in chunks of ATT_WG:
 * the chunk's K rows pass through local memory ATT_WG dimensions at a time, loaded with adjacent
 * work-items reading adjacent dimensions (coalesced); then each work-item scores one key against
 * every query head of the pass (idle heads of a last, partial pass have zero queries and are
 * never written), every head's chunk max and sum come from one tree in local memory, and each
 * work-item updates the output dimensions d = lid + ATT_WG * i it owns for every head (at most
 * ATT_DPT of them, so headDim <= ATT_WG * ATT_DPT), reading each V element once for all heads
 * (coalesced). Local: the pass's q rows (ATT_GROUP x headDim floats), a K tile (ATT_WG x ATT_WG+1
 * floats), the chunk's weights and the reduction tree (ATT_GROUP x ATT_WG floats each).
 *
 * Split over the cache (few tokens, long context: heads alone give too few work-groups to fill
 * a GPU): with splits > 1, work-group (g * splits + s) of KV head g takes the s-th slice of the key
 * positions first .. pos[t] (each then read from its row modulo ctx) and
 * writes its running max, sum and unnormalized output (headDim + 2 floats) to part; then
 * attention_merge rescales the slices to a common max and writes out. splits = 1 writes out
 * directly.
 *
 * Checked against: a scalar two-pass softmax attention in double in RopeAttentionTest
 * (groups of 3 query heads, f32 and f16 caches, several positions, split and not; with a window
 * and soft cap too), ReferenceOps.attention with sinks there (split and not), and
 * ReferenceOps.attention in the conformance cases (groups of 1, 2, 4 and 8 query heads, the last
 * in two passes; window and softcap alone and together; sinks with and without a window);
 * ring caches (positions well past ctx, split and not, f32 and f16) against ReferenceOps.attention
 * on the equivalent full-size cache in RingCacheTest; q8_0 and q4_0 caches (head dims 64, 32, 8,
 * a ring) against ReferenceOps.attention in the conformance cases.
 */
#include "attention.h"

#ifndef ATT_WG
#define ATT_WG 64
#endif
#define ATT_DPT 8
/* Query heads one pass over the keys serves: 4 keeps the local memory (about 26 KiB) under the
 * 32 KiB every OpenCL device has; larger groups take several passes. */
#define ATT_GROUP 4

kernel __attribute__((reqd_work_group_size(ATT_WG, 1, 1)))
void attention(global const uchar* q, ulong q_off, global const uchar* k, ulong k_off, int k_type,
               global const uchar* v, ulong v_off, int v_type, global const uchar* pos, ulong pos_off,
               global uchar* out, ulong out_off, uint heads, uint kvHeads, uint headDim, uint ctx,
               float scale, uint window, float softcap, global const uchar* sinks, ulong sinks_off,
               int has_sinks, uint splits, global uchar* part, ulong part_off)
{
    local float qs[ATT_GROUP][ATT_WG * ATT_DPT];
    local float ps[ATT_GROUP][ATT_WG];
    local float red[ATT_GROUP][ATT_WG];
    local float ks[ATT_WG][ATT_WG + 1];
    uint g = get_group_id(0) / splits;
    uint slice = get_group_id(0) % splits;
    uint t = get_group_id(1);
    uint lid = get_local_id(0);
    uint group = heads / kvHeads;
    uint hEnd = (g + 1) * group;
    ulong qRow = (ulong) heads * headDim;
    ulong kvRow = (ulong) kvHeads * headDim;

    int p = CI32_AT(pos, pos_off)[t];
    uint keys = p >= 0 ? (uint) p + 1 : 0; /* key positions first .. keys - 1 */
    uint first = window > 0 ? (uint) clamp(p - (int) window + 1, 0, (int) keys) : 0;
    if (keys - first > ctx) first = keys - ctx; /* the host rules this out */
    uint per = ((keys - first + splits - 1) / splits + ATT_WG - 1) / ATT_WG * ATT_WG;
    uint begin = min(first + slice * per, keys);
    uint end = min(begin + per, keys);

    /* the group's query heads, ATT_GROUP at a time; heads past the group's end (hh >= ng) are skipped */
    for (uint h0 = g * group; h0 < hEnd; h0 += ATT_GROUP) {
        uint ng = min((uint) ATT_GROUP, hEnd - h0);
        global const float* qh = CF32_AT(q, q_off) + t * qRow + h0 * headDim;
        barrier(CLK_LOCAL_MEM_FENCE); /* the previous pass is done with qs */
        /* rows past the group's end are zero: their heads are computed and never written */
        for (uint hh = 0; hh < ATT_GROUP; hh++)
            for (uint d = lid; d < headDim; d += ATT_WG) qs[hh][d] = hh < ng ? qh[hh * headDim + d] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        float m[ATT_GROUP], l[ATT_GROUP], acc[ATT_GROUP][ATT_DPT];
#pragma unroll
        for (uint hh = 0; hh < ATT_GROUP; hh++) {
            m[hh] = -INFINITY;
            l[hh] = 0.0f;
#pragma unroll
            for (uint i = 0; i < ATT_DPT; i++) acc[hh][i] = 0.0f;
        }

        for (uint j0 = begin; j0 < end; j0 += ATT_WG) {
            uint j = j0 + lid;
            uint n = min((uint) ATT_WG, end - j0); /* n <= ctx: the chunk's rows wrap at most once */
            uint row0 = j0 < ctx ? j0 : j0 % ctx;
            float dot[ATT_GROUP];
#pragma unroll
            for (uint hh = 0; hh < ATT_GROUP; hh++) dot[hh] = 0.0f;
            for (uint d0 = 0; d0 < headDim; d0 += ATT_WG) {
                uint dn = min((uint) ATT_WG, headDim - d0);
                if (lid < dn) {
                    ulong base = g * headDim + d0 + lid;
                    for (uint r = 0; r < n; r++) {
                        uint row = row0 + r;
                        row = row < ctx ? row : row - ctx;
                        ks[r][lid] = kv_load(k, k_off, base + row * kvRow, k_type);
                    }
                }
                barrier(CLK_LOCAL_MEM_FENCE);
                if (lid < n) {
                    for (uint c = 0; c < dn; c++) {
                        float kc = ks[lid][c];
#pragma unroll
                        for (uint hh = 0; hh < ATT_GROUP; hh++) dot[hh] = fma(qs[hh][d0 + c], kc, dot[hh]);
                    }
                }
                barrier(CLK_LOCAL_MEM_FENCE);
            }
            /* every head's chunk max, then its sum, in one tree over the work-group */
            float s[ATT_GROUP], mNew[ATT_GROUP];
#pragma unroll
            for (uint hh = 0; hh < ATT_GROUP; hh++) {
                float x = dot[hh] * scale;
                if (softcap > 0.0f) x = softcap * tanh(x / softcap);
                s[hh] = j < end ? x : -INFINITY;
                red[hh][lid] = s[hh];
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (uint off = ATT_WG / 2; off > 0; off >>= 1) {
                if (lid < off)
#pragma unroll
                    for (uint hh = 0; hh < ATT_GROUP; hh++) red[hh][lid] = fmax(red[hh][lid], red[hh][lid + off]);
                barrier(CLK_LOCAL_MEM_FENCE);
            }
#pragma unroll
            for (uint hh = 0; hh < ATT_GROUP; hh++) {
                mNew[hh] = fmax(m[hh], red[hh][0]);
                ps[hh][lid] = j < end ? exp(s[hh] - mNew[hh]) : 0.0f;
            }
            barrier(CLK_LOCAL_MEM_FENCE); /* all have read red[.][0] */
#pragma unroll
            for (uint hh = 0; hh < ATT_GROUP; hh++) red[hh][lid] = ps[hh][lid];
            barrier(CLK_LOCAL_MEM_FENCE);
            for (uint off = ATT_WG / 2; off > 0; off >>= 1) {
                if (lid < off)
#pragma unroll
                    for (uint hh = 0; hh < ATT_GROUP; hh++) red[hh][lid] += red[hh][lid + off];
                barrier(CLK_LOCAL_MEM_FENCE);
            }
            float alpha[ATT_GROUP];
#pragma unroll
            for (uint hh = 0; hh < ATT_GROUP; hh++) {
                alpha[hh] = exp(m[hh] - mNew[hh]);
                l[hh] = l[hh] * alpha[hh] + red[hh][0];
                m[hh] = mNew[hh];
            }
            for (uint i = 0; i < ATT_DPT; i++) {
                uint d = lid + ATT_WG * i;
                if (d >= headDim) break;
                float a[ATT_GROUP];
#pragma unroll
                for (uint hh = 0; hh < ATT_GROUP; hh++) a[hh] = acc[hh][i] * alpha[hh];
                ulong base = g * headDim + d;
                for (uint jj = 0; jj < n; jj++) {
                    uint row = row0 + jj;
                    row = row < ctx ? row : row - ctx;
                    float vv = kv_load(v, v_off, base + row * kvRow, v_type);
#pragma unroll
                    for (uint hh = 0; hh < ATT_GROUP; hh++) a[hh] = fma(ps[hh][jj], vv, a[hh]);
                }
#pragma unroll
                for (uint hh = 0; hh < ATT_GROUP; hh++) acc[hh][i] = a[hh];
            }
            barrier(CLK_LOCAL_MEM_FENCE); /* ps and red are rewritten by the next chunk */
        }
        for (uint hh = 0; hh < ng; hh++) {
            uint h = h0 + hh;
            if (splits > 1) {
                global float* rec = F32_AT(part, part_off) + ((ulong) (t * heads + h) * splits + slice) * (headDim + 2);
                if (lid == 0) {
                    rec[0] = m[hh];
                    rec[1] = l[hh];
                }
                for (uint i = 0; i < ATT_DPT; i++) {
                    uint d = lid + ATT_WG * i;
                    if (d < headDim) rec[2 + d] = acc[hh][i];
                }
                continue;
            }
            global float* o = F32_AT(out, out_off) + t * qRow + h * headDim;
            float keep = 1.0f;
            float lh = l[hh];
            if (has_sinks) {
                float sink = CF32_AT(sinks, sinks_off)[h];
                float mNew = fmax(m[hh], sink);
                keep = m[hh] > -INFINITY ? exp(m[hh] - mNew) : 0.0f;
                lh = lh * keep + (sink > -INFINITY ? exp(sink - mNew) : 0.0f);
            }
            float inv = lh > 0.0f ? keep / lh : 0.0f;
            for (uint i = 0; i < ATT_DPT; i++) {
                uint d = lid + ATT_WG * i;
                if (d < headDim) o[d] = acc[hh][i] * inv;
            }
        }
    }
}

/* Merges the slices of one (head, token): global (heads * ATT_WG, T), local (ATT_WG, 1). */
kernel __attribute__((reqd_work_group_size(ATT_WG, 1, 1)))
void attention_merge(global const uchar* part, ulong part_off, global uchar* out, ulong out_off,
                     uint heads, uint headDim, global const uchar* sinks, ulong sinks_off, int has_sinks,
                     uint splits)
{
    uint h = get_group_id(0);
    uint t = get_group_id(1);
    uint lid = get_local_id(0);
    ulong stride = headDim + 2;
    global const float* rec = CF32_AT(part, part_off) + (ulong) (t * heads + h) * splits * stride;
    float mMax = -INFINITY;
    for (uint s = 0; s < splits; s++) mMax = fmax(mMax, rec[s * stride]);
    float sink = has_sinks ? CF32_AT(sinks, sinks_off)[h] : -INFINITY;
    mMax = fmax(mMax, sink);
    float l = sink > -INFINITY ? exp(sink - mMax) : 0.0f;
    if (mMax > -INFINITY) {
        for (uint s = 0; s < splits; s++) l += rec[s * stride + 1] * exp(rec[s * stride] - mMax);
    }
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
    global float* o = F32_AT(out, out_off) + (ulong) t * heads * headDim + h * headDim;
    for (uint d = lid; d < headDim; d += ATT_WG) {
        float a = 0.0f;
        for (uint s = 0; s < splits; s++) {
            float m = rec[s * stride];
            if (m > -INFINITY) a += rec[s * stride + 2 + d] * exp(m - mMax);
        }
        o[d] = a * inv;
    }
}
