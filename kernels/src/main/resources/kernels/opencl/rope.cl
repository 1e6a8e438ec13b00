/*
 * rope.cl: rotary position embedding of x f32 [rowLen, T] (rowLen = heads * headDim) at the
 * i32 positions pos [T]. In each head the first ropeDims dimensions rotate in pairs:
 *   NORMAL (neox = 0): pairs (2i, 2i+1);  NEOX (neox = 1): pairs (i, i + ropeDims/2)
 *   theta_i = pos * freqScale * base^(-2i/ropeDims), divided by freqFactors[i] where has_ff
 *   (x0, x1) -> (x0 cos theta - x1 sin theta, x0 sin theta + x1 cos theta)
 * The other dimensions are copied. May run in place.
 *
 * Variants: rope. One work-item per pair of a row: global (rowLen / 2 rounded up, T).
 *
 * Checked against: a scalar rope in double in RopeAttentionTest, both modes, with and without
 * frequency factors, ropeDims < headDim.
 */
#include "common.h"

kernel void rope(global const uchar* x, ulong x_off, global const uchar* pos, ulong pos_off,
                 global const uchar* ff, ulong ff_off, int has_ff, global uchar* out, ulong out_off,
                 uint rowLen, uint headDim, uint ropeDims, int neox, float base, float freqScale,
                 uint ntok)
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
    if (q < halfRope) {
        uint i0 = neox ? q : 2 * q;
        uint i1 = neox ? q + halfRope : 2 * q + 1;
        float theta = (float) CI32_AT(pos, pos_off)[t] * freqScale * pow(base, -2.0f * (float) q / (float) ropeDims);
        if (has_ff) theta /= CF32_AT(ff, ff_off)[q];
        float c;
        float s = sincos(theta, &c);
        float x0 = xr[i0];
        float x1 = xr[i1];
        o[i0] = x0 * c - x1 * s;
        o[i1] = x0 * s + x1 * c;
    } else {
        uint i0 = 2 * q; /* beyond ropeDims both modes copy dimension pairs in place */
        o[i0] = xr[i0];
        o[i0 + 1] = xr[i0 + 1];
    }
}
