/*
 * layer_norm.cl: out = (x - mean(x)) / sqrt(var(x) + eps) * w + b, per row of x f32 [K, rows],
 * var the mean of (x - mean)^2 (biased, as llama.cpp's norm). w and b f32 [K] are each optional
 * (has_w = 0 / has_b = 0 leave them out). The weight multiply and bias add are fused, so the
 * normalized row is never stored alone. May run in place (out == x).
 *
 * Variants: layer_norm. One work-group per row, two passes over the row: the sum (reduced with
 * wg_sum) gives the mean, then the sum of squared deviations from it gives the variance (no
 * cancellation as with sum(x^2) - mean^2).
 *
 * Checked against: ReferenceOps.layerNorm (in double) in ElementwiseTest and the conformance
 * cases (with and without weight and bias).
 */
#include "common.h"

kernel void layer_norm(global const uchar* x, ulong x_off, global const uchar* w, ulong w_off, int has_w,
                       global const uchar* b, ulong b_off, int has_b,
                       global uchar* out, ulong out_off, uint K, float eps, local float* scratch)
{
    uint row = get_group_id(0);
    uint lid = get_local_id(0);
    uint wg = get_local_size(0);
    global const float* xr = CF32_AT(x, x_off) + (ulong) row * K;
    global float* o = F32_AT(out, out_off) + (ulong) row * K;
    float s = 0.0f;
    for (uint k = lid; k < K; k += wg) s += xr[k];
    float mean = wg_sum(s, scratch) / (float) K;
    float v = 0.0f;
    for (uint k = lid; k < K; k += wg) {
        float d = xr[k] - mean;
        v = fma(d, d, v);
    }
    float scale = 1.0f / sqrt(wg_sum(v, scratch) / (float) K + eps);
    global const float* wr = CF32_AT(w, w_off);
    global const float* br = CF32_AT(b, b_off);
    if (has_w && has_b) {
        for (uint k = lid; k < K; k += wg) o[k] = fma((xr[k] - mean) * scale, wr[k], br[k]);
    } else if (has_w) {
        for (uint k = lid; k < K; k += wg) o[k] = (xr[k] - mean) * scale * wr[k];
    } else if (has_b) {
        for (uint k = lid; k < K; k += wg) o[k] = (xr[k] - mean) * scale + br[k];
    } else {
        for (uint k = lid; k < K; k += wg) o[k] = (xr[k] - mean) * scale;
    }
}
