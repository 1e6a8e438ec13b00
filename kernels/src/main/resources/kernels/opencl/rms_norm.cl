/*
 * rms_norm.cl: out = x / sqrt(mean(x^2) + eps) * w, per row of x f32 [K, rows]; w f32 [K] is
 * optional (has_w = 0 leaves it out). The weight multiply is fused, so the normalized row is
 * never stored alone. May run in place (out == x).
 *
 * Variants: rms_norm. One work-group per row; the sum of squares is reduced with wg_sum.
 *
 * Checked against: a scalar rms_norm in double in NormSoftmaxTest.
 */
#include "common.h"

kernel void rms_norm(global const uchar* x, ulong x_off, global const uchar* w, ulong w_off, int has_w,
                     global uchar* out, ulong out_off, uint K, float eps, local float* scratch)
{
    uint row = get_group_id(0);
    uint lid = get_local_id(0);
    uint wg = get_local_size(0);
    global const float* xr = CF32_AT(x, x_off) + (ulong) row * K;
    global float* o = F32_AT(out, out_off) + (ulong) row * K;
    float s = 0.0f;
    for (uint k = lid; k < K; k += wg) s = fma(xr[k], xr[k], s);
    s = wg_sum(s, scratch);
    float scale = 1.0f / sqrt(s / (float) K + eps);
    if (has_w) {
        global const float* wr = CF32_AT(w, w_off);
        for (uint k = lid; k < K; k += wg) o[k] = xr[k] * scale * wr[k];
    } else {
        for (uint k = lid; k < K; k += wg) o[k] = xr[k] * scale;
    }
}
