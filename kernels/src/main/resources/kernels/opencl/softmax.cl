/*
 * softmax.cl: out = exp(x - max(x)) / sum(exp(x - max(x))) per row of x f32 [K, rows].
 *
 * Variants: softmax. One work-group per row: wg_max, then wg_sum of the exponentials, then
 * the scaled write. May run in place.
 *
 * Checked against: a scalar softmax in double in NormSoftmaxTest.
 */
#include "common.h"

kernel void softmax(global const uchar* x, ulong x_off, global uchar* out, ulong out_off, uint K,
                    local float* scratch)
{
    uint row = get_group_id(0);
    uint lid = get_local_id(0);
    uint wg = get_local_size(0);
    global const float* xr = CF32_AT(x, x_off) + (ulong) row * K;
    global float* o = F32_AT(out, out_off) + (ulong) row * K;
    float m = -INFINITY;
    for (uint k = lid; k < K; k += wg) m = fmax(m, xr[k]);
    m = wg_max(m, scratch);
    float s = 0.0f;
    for (uint k = lid; k < K; k += wg) s += exp(xr[k] - m);
    s = wg_sum(s, scratch);
    float inv = 1.0f / s;
    for (uint k = lid; k < K; k += wg) o[k] = exp(xr[k] - m) * inv;
}
