/*
 * rope.cl: rotary position embedding of x f32 [rowLen, T] (rowLen = heads * headDim) at the
 * i32 positions pos [T]. In each head the first ropeDims dimensions rotate in pairs:
 *   NORMAL (neox = 0): pairs (2i, 2i+1);  NEOX (neox = 1): pairs (i, i + ropeDims/2)
 *   theta_i = pos * freqScale * base^(-2i/ropeDims), divided by freqFactors[i] where has_ff
 *   (x0, x1) -> (x0 cos theta - x1 sin theta, x0 sin theta + x1 cos theta)
 * The other dimensions are copied. May run in place.
 * YaRN (Op.Yarn), with per-call constants from the host: with ext != 0 the angle is
 *   theta_i * (1 - r) + theta_e * r, theta_e = pos * base^(-2i/ropeDims) (before freqFactors),
 *   r = (1 - clamp((i - corr0) / max(0.001, corr1 - corr0), 0, 1)) * ext
 * and both rotated values are multiplied by mscale (1 without YaRN: the plain path is unchanged
 * but for that multiply by one, which is exact).
 *
 * Variants: rope. One work-item per pair of a row: global (rowLen / 2 rounded up, T).
 * Fused with kv_store where the host asks (store = 1 for an f32 cache, 2 for f16): the rotated
 * row is also written to row kv_pos[t] % ctx of the cache [rowLen, ctx] (a ring, as in
 * kv_store.cl), so kv_store need not read it back (a negative position writes nothing).
 *
 * Checked against: a scalar rope in double in RopeAttentionTest, both modes, with and without
 * frequency factors, ropeDims < headDim; YaRN against ReferenceOps.rope in RopeAttentionTest and
 * the conformance cases.
 */
#include "common.h"

kernel void rope(global const uchar* x, ulong x_off, global const uchar* pos, ulong pos_off,
                 global const uchar* ff, ulong ff_off, int has_ff, global uchar* out, ulong out_off,
                 uint rowLen, uint headDim, uint ropeDims, int neox, float base, float freqScale,
                 uint ntok, float ext, float corr0, float corr1, float mscale, int store, global uchar* cache, ulong cache_off, global const uchar* kv_pos,
                 ulong kv_pos_off, uint ctx)
{
    uint p = get_global_id(0);
    uint t = get_global_id(1);
    if (p >= rowLen / 2 || t >= ntok) return;
    uint halfHead = headDim / 2;
    uint h = p / halfHead;
    uint q = p % halfHead;
    uint halfRope = ropeDims / 2;
    global const float* xr = CF32_AT(x, x_off) + (ulong) t * rowLen + h * headDim;
    global float* o = F32_AT(out, out_off) + (ulong) t * rowLen + h * headDim;
    uint i0;
    uint i1;
    float y0;
    float y1;
    if (q < halfRope) {
        i0 = neox ? q : 2 * q;
        i1 = neox ? q + halfRope : 2 * q + 1;
        float theta;
        if (ext != 0.0f) {
            float thetaE = (float) CI32_AT(pos, pos_off)[t] * pow(base, -2.0f * (float) q / (float) ropeDims);
            float y = ((float) q - corr0) / fmax(0.001f, corr1 - corr0);
            float r = (1.0f - clamp(y, 0.0f, 1.0f)) * ext;
            theta = freqScale * thetaE * (1.0f - r) + thetaE * r;
        } else {
            theta = (float) CI32_AT(pos, pos_off)[t] * freqScale * pow(base, -2.0f * (float) q / (float) ropeDims);
        }
        if (has_ff) theta /= CF32_AT(ff, ff_off)[q];
        float c;
        float s = sincos(theta, &c);
        c *= mscale;
        s *= mscale;
        float x0 = xr[i0];
        float x1 = xr[i1];
        y0 = x0 * c - x1 * s;
        y1 = x0 * s + x1 * c;
    } else {
        i0 = 2 * q; /* beyond ropeDims both modes copy dimension pairs in place */
        i1 = i0 + 1;
        y0 = xr[i0];
        y1 = xr[i1];
    }
    o[i0] = y0;
    o[i1] = y1;
    if (store) {
        int kp = CI32_AT(kv_pos, kv_pos_off)[t];
        if (kp < 0 || ctx == 0) return;
        uint row = (uint) kp < ctx ? (uint) kp : (uint) kp % ctx;
        ulong at = (ulong) row * rowLen + h * headDim;
        if (store == 2) {
            vstore_half_rte(y0, 0, HALF_AT(cache, cache_off) + at + i0);
            vstore_half_rte(y1, 0, HALF_AT(cache, cache_off) + at + i1);
        } else {
            F32_AT(cache, cache_off)[at + i0] = y0;
            F32_AT(cache, cache_off)[at + i1] = y1;
        }
    }
}
