/*
 * attention_tiled.cl: causal grouped-query attention for prompts, by tiles (flash style): what
 * attention.cl computes (see its header: rings, sliding window, soft cap, sinks, f32/f16/q8_0/q4_0
 * caches), with each K and V row read once per tile of query rows instead of once per token.
 *   for token t, head h: kv head g = h / G (G = heads / kvHeads), key positions j = first(t) .. pos[t]
 *   first(t) = max(0, pos[t] - window + 1) with a window, 0 without; row of position j: j % ctx
 *
 * Query rows: KV head g's G query heads of every token, flattened as row = t * G + hh (the G heads
 * of a token are adjacent in q). One work-group of AT_WG work-items per (KV head, tile of ROWS
 * consecutive rows): ROWS / G tokens (or, with G > ROWS, part of a token's heads). The tile's key
 * range is the union of its rows' ranges, lo = min first(t) .. hi = max pos[t] (positions need not
 * be consecutive: a row skips the keys outside its own range by its mask). Keys go in tiles of
 * AT_BK, each tile's K and V rows through local memory AT_DC dimensions at a time (decoded from the
 * cache type, adjacent work-items reading adjacent dimensions), serving all ROWS rows. Each
 * work-item takes AT_RPW = 2 rows (rp and rp + ROWS / 2), so that every value it reads from local
 * memory meets two rows; the AT_WG * 2 / ROWS work-items of a row pair split its keys and dimensions:
 *   S = Q K^T (ROWS x AT_BK, in registers: a work-item takes every (AT_WG * 2 / ROWS)-th key),
 *   scaled, soft-capped, masked (-inf outside the row's range);
 *   online softmax per row: m' = max(m, max S) (from the work-items' partial maxima in local
 *   memory), P = exp(S - m') (to local memory), l = l * exp(m - m') + sum P;
 *   O = O * exp(m - m') + P V (a work-item owns every (AT_WG * 2 / ROWS)-th dimension).
 * The end as attention.cl's: sinks join the denominator once per row; rows with no keys write 0.
 *
 * Variants: attention_tiled_32 (32 rows, headDim <= 128) and attention_tiled_16 (16 rows,
 * headDim <= 256), so the Q tile (ROWS x headDim floats) and each work-item's outputs (ROWS *
 * headDim / AT_WG <= AT_ACC) are the same size. Local: the Q tile (16 KiB), a K or V tile (AT_BK
 * x AT_DC + 1 floats, 8.1 KiB), the weights P (ROWS x AT_BK + 1, 4.1 KiB) and the partial row
 * maxima (2 x AT_WG floats): 29.3 KiB, under the 32 KiB every OpenCL device has (the host checks
 * the device's limit and takes attention.cl otherwise, as for headDim > 256 and short prompts).
 * No split over the cache: a prompt gives work-groups enough.
 *
 * Checked against: ReferenceOps.attention in the conformance cases of 16, 33 and 64 tokens
 * (groups of 1, 4 and 8 query heads, head dims 64 and 128, windows, soft caps, sinks, a ring,
 * every cache type, positions from 0 and from later ones); RopeAttentionTest (groups of 3, head
 * dim 72: a partial chunk of dimensions) and RingCacheTest (prompts around a ring, a batch of
 * non-adjacent positions), where tests also force it for prompts of fewer than 16 tokens.
 */
#include "attention.h"

#define AT_WG 128
#define AT_BK 32
#define AT_DC 64
#define AT_ACC 32 /* outputs per work-item: ROWS x headDim / AT_WG at most */
#define AT_RPW 2  /* rows per work-item */
#define AT_SPW_MAX (AT_BK * 32 / AT_RPW / AT_WG) /* keys per work-item and row, with 32 rows */
#define AT_PAD_K (AT_DC + 1)
#define AT_PAD_P (AT_BK + 1)

/* Loads dimensions d0 .. d0 + dn - 1 of the n keys from position j0 into tile (key-major, zeros
 * past n and dn, so that masked weights never meet stale values). */
void at_load(local float* tile, global const uchar* buf, ulong off, int type, ulong base, uint j0, uint n,
             uint dn, uint ctx, ulong kvRow, uint lid)
{
    for (uint e = lid; e < AT_BK * AT_DC; e += AT_WG) {
        uint c = e / AT_DC, dd = e % AT_DC;
        float x = 0.0f;
        if (c < n && dd < dn) {
            uint row = j0 + c;
            if (row >= ctx) row %= ctx;
            x = kv_load(buf, off, base + dd + row * kvRow, type);
        }
        tile[c * AT_PAD_K + dd] = x;
    }
}

/* The key positions first .. last - 1 that a token at position p sees (none where p < 0). */
uint2 at_range(int p, uint window, uint ctx)
{
    uint last = p >= 0 ? (uint) p + 1 : 0;
    uint first = window > 0 ? (uint) clamp(p - (int) window + 1, 0, (int) last) : 0;
    if (last - first > ctx) first = last - ctx; /* the host rules this out */
    return (uint2) (first, last);
}

inline void attention_tiled_rows(global const uchar* q, ulong q_off, global const uchar* k, ulong k_off, int k_type,
                                 global const uchar* v, ulong v_off, int v_type, global const uchar* pos, ulong pos_off,
                                 global uchar* out, ulong out_off, uint heads, uint kvHeads, uint headDim, uint ctx,
                                 uint tokens, float scale, uint window, float softcap, global const uchar* sinks,
                                 ulong sinks_off, int has_sinks, const uint ROWS, local float* qs, local float* kv,
                                 local float* ps, local float* pm)
{
    const uint HALF = ROWS / AT_RPW;            /* a work-item's rows: rp, rp + HALF */
    const uint WPR = AT_WG / HALF;              /* work-items per row */
    const uint SPW = AT_BK / WPR;               /* keys per work-item and row */
    const uint DPW = AT_DC / WPR;               /* dimensions of a chunk per work-item and row */
    const uint CHUNKS = AT_ACC / (AT_RPW * DPW); /* chunks of AT_DC dimensions: headDim <= CHUNKS * AT_DC */
    uint g = get_group_id(0);
    uint r0 = get_group_id(1) * ROWS;
    uint lid = get_local_id(0);
    uint rp = lid / WPR, sub = lid % WPR;
    uint group = heads / kvHeads;
    uint total = tokens * group;
    ulong qRow = (ulong) heads * headDim;
    ulong kvRow = (ulong) kvHeads * headDim;
    ulong base = (ulong) g * headDim;
    global const int* P = CI32_AT(pos, pos_off);

    /* this work-item's rows: token, head, key range (empty past the last row) */
    uint t[AT_RPW], h[AT_RPW];
    uint2 range[AT_RPW];
    float m[AT_RPW], l[AT_RPW], acc[AT_RPW][AT_ACC / AT_RPW];
#pragma unroll
    for (uint a = 0; a < AT_RPW; a++) {
        uint row = r0 + rp + a * HALF;
        bool live = row < total;
        t[a] = live ? row / group : UINT_MAX;
        h[a] = g * group + row % group;
        range[a] = at_range(live ? P[t[a]] : -1, window, ctx);
        m[a] = -INFINITY;
        l[a] = 0.0f;
#pragma unroll
        for (uint i = 0; i < AT_ACC / AT_RPW; i++) acc[a][i] = 0.0f;
    }

    /* the tile's key range: the union of its tokens' ranges */
    uint lo = UINT_MAX, hi = 0;
    uint tEnd = min((r0 + ROWS - 1) / group + 1, tokens);
    for (uint tt = r0 / group; tt < tEnd; tt++) {
        uint2 rt = at_range(P[tt], window, ctx);
        if (rt.y > rt.x) {
            lo = min(lo, rt.x);
            hi = max(hi, rt.y);
        }
    }

    /* the Q tile; rows past the last are zero */
    for (uint e = lid; e < ROWS * headDim; e += AT_WG) {
        uint rr = r0 + e / headDim, d = e % headDim;
        qs[e] = rr < total ? CF32_AT(q, q_off)[(rr / group) * qRow + (g * group + rr % group) * headDim + d] : 0.0f;
    }

    for (uint j0 = lo; j0 < hi; j0 += AT_BK) {
        uint n = min((uint) AT_BK, hi - j0);
        float s[AT_RPW][AT_SPW_MAX];
#pragma unroll
        for (uint a = 0; a < AT_RPW; a++)
#pragma unroll
            for (uint i = 0; i < SPW; i++) s[a][i] = 0.0f;
        for (uint d0 = 0; d0 < headDim; d0 += AT_DC) {
            uint dn = min((uint) AT_DC, headDim - d0);
            barrier(CLK_LOCAL_MEM_FENCE); /* the previous tile's readers are done (and qs is written) */
            at_load(kv, k, k_off, k_type, base + d0, j0, n, dn, ctx, kvRow, lid);
            barrier(CLK_LOCAL_MEM_FENCE);
            local const float* q0 = qs + rp * headDim + d0;
            for (uint c = 0; c < dn; c++) {
                float x[AT_RPW];
#pragma unroll
                for (uint a = 0; a < AT_RPW; a++) x[a] = q0[a * HALF * headDim + c];
#pragma unroll
                for (uint i = 0; i < SPW; i++) {
                    float kc = kv[(sub + WPR * i) * AT_PAD_K + c];
#pragma unroll
                    for (uint a = 0; a < AT_RPW; a++) s[a][i] = fma(x[a], kc, s[a][i]);
                }
            }
        }
        /* scale, cap and mask this work-item's keys sub + WPR * i; each row's maximum from the partial ones */
#pragma unroll
        for (uint a = 0; a < AT_RPW; a++) {
            float mx = -INFINITY;
#pragma unroll
            for (uint i = 0; i < SPW; i++) {
                uint j = j0 + sub + WPR * i;
                float x = s[a][i] * scale;
                if (softcap > 0.0f) x = softcap * tanh(x / softcap);
                s[a][i] = j >= range[a].x && j < range[a].y ? x : -INFINITY;
                mx = fmax(mx, s[a][i]);
            }
            pm[a * AT_WG + lid] = mx;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        float alpha[AT_RPW];
#pragma unroll
        for (uint a = 0; a < AT_RPW; a++) {
            float mNew = m[a];
            for (uint w = 0; w < WPR; w++) mNew = fmax(mNew, pm[a * AT_WG + rp * WPR + w]);
            alpha[a] = mNew > -INFINITY ? exp(m[a] - mNew) : 1.0f;
#pragma unroll
            for (uint i = 0; i < SPW; i++)
                ps[(rp + a * HALF) * AT_PAD_P + sub + WPR * i] = s[a][i] > -INFINITY ? exp(s[a][i] - mNew) : 0.0f;
            m[a] = mNew;
#pragma unroll
            for (uint i = 0; i < AT_ACC / AT_RPW; i++) acc[a][i] *= alpha[a];
        }
        float sum[AT_RPW];
#pragma unroll
        for (uint a = 0; a < AT_RPW; a++) sum[a] = 0.0f;
        local const float* p0 = ps + rp * AT_PAD_P;
#pragma unroll
        for (uint cc = 0; cc < CHUNKS; cc++) {
            uint d0 = cc * AT_DC;
            if (d0 < headDim) { /* uniform: every work-item takes it or none */
                barrier(CLK_LOCAL_MEM_FENCE); /* ps is written; the K tile or the previous V chunk is read */
                at_load(kv, v, v_off, v_type, base + d0, j0, n, min((uint) AT_DC, headDim - d0), ctx, kvRow, lid);
                barrier(CLK_LOCAL_MEM_FENCE);
                for (uint c = 0; c < n; c++) {
                    float w[AT_RPW];
#pragma unroll
                    for (uint a = 0; a < AT_RPW; a++) {
                        w[a] = p0[a * HALF * AT_PAD_P + c];
                        if (cc == 0) sum[a] += w[a];
                    }
#pragma unroll
                    for (uint i = 0; i < DPW; i++) {
                        float vc = kv[c * AT_PAD_K + sub + WPR * i];
#pragma unroll
                        for (uint a = 0; a < AT_RPW; a++) acc[a][cc * DPW + i] = fma(w[a], vc, acc[a][cc * DPW + i]);
                    }
                }
            }
        }
#pragma unroll
        for (uint a = 0; a < AT_RPW; a++) l[a] = l[a] * alpha[a] + sum[a];
    }

#pragma unroll
    for (uint a = 0; a < AT_RPW; a++) {
        if (t[a] == UINT_MAX) continue; /* past the last row */
        float keep = 1.0f, lh = l[a];
        if (has_sinks) {
            float sink = CF32_AT(sinks, sinks_off)[h[a]];
            float mNew = fmax(m[a], sink);
            keep = m[a] > -INFINITY ? exp(m[a] - mNew) : 0.0f;
            lh = lh * keep + (sink > -INFINITY ? exp(sink - mNew) : 0.0f);
        }
        float inv = lh > 0.0f ? keep / lh : 0.0f;
        global float* o = F32_AT(out, out_off) + t[a] * qRow + h[a] * headDim;
#pragma unroll
        for (uint cc = 0; cc < CHUNKS; cc++) {
#pragma unroll
            for (uint i = 0; i < DPW; i++) {
                uint d = cc * AT_DC + sub + WPR * i;
                if (d < headDim) o[d] = acc[a][cc * DPW + i] * inv;
            }
        }
    }
}

#define ATTENTION_TILED(ROWS)                                                                                              \
    kernel __attribute__((reqd_work_group_size(AT_WG, 1, 1)))                                                              \
    void attention_tiled_##ROWS(global const uchar* q, ulong q_off, global const uchar* k, ulong k_off, int k_type,        \
                                global const uchar* v, ulong v_off, int v_type, global const uchar* pos, ulong pos_off,    \
                                global uchar* out, ulong out_off, uint heads, uint kvHeads, uint headDim, uint ctx,        \
                                uint tokens, float scale, uint window, float softcap, global const uchar* sinks,          \
                                ulong sinks_off, int has_sinks)                                                           \
    {                                                                                                                      \
        local float qs[AT_ACC * AT_WG]; /* ROWS x headDim at most */                                                    \
        local float kv[AT_BK * AT_PAD_K];                                                                                  \
        local float ps[ROWS * AT_PAD_P];                                                                                   \
        local float pm[AT_RPW * AT_WG];                                                                                    \
        attention_tiled_rows(q, q_off, k, k_off, k_type, v, v_off, v_type, pos, pos_off, out, out_off, heads, kvHeads,   \
                             headDim, ctx, tokens, scale, window, softcap, sinks, sinks_off, has_sinks, ROWS, qs, kv, ps, \
                             pm);                                                                                          \
    }

ATTENTION_TILED(32)
ATTENTION_TILED(16)
