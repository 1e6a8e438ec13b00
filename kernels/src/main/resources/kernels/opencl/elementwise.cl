/*
 * elementwise.cl: the cheap per-element ops on f32 tensors of n elements.
 *   add:    out[i] = a[i] + b[i % bn]   (bn = n, or one row of b repeated over a's rows)
 *   mul:    out[i] = a[i] * b[i % bn]
 *   scale:  out[i] = x[i] * s
 *   swiglu: out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g))
 *
 * Variants: one kernel each, one work-item per element, global size n rounded up to the
 * work-group. All may run in place.
 *
 * Checked against: scalar loops in ElementwiseTest.
 */
#include "common.h"

kernel void add(global const uchar* a, ulong a_off, global const uchar* b, ulong b_off,
                global uchar* out, ulong out_off, uint n, uint bn)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    F32_AT(out, out_off)[i] = CF32_AT(a, a_off)[i] + CF32_AT(b, b_off)[bn == n ? i : i % bn];
}

kernel void mul(global const uchar* a, ulong a_off, global const uchar* b, ulong b_off,
                global uchar* out, ulong out_off, uint n, uint bn)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    F32_AT(out, out_off)[i] = CF32_AT(a, a_off)[i] * CF32_AT(b, b_off)[bn == n ? i : i % bn];
}

kernel void scale(global const uchar* x, ulong x_off, global uchar* out, ulong out_off, uint n, float s)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    F32_AT(out, out_off)[i] = CF32_AT(x, x_off)[i] * s;
}

kernel void swiglu(global const uchar* gate, ulong g_off, global const uchar* up, ulong u_off,
                   global uchar* out, ulong out_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float g = CF32_AT(gate, g_off)[i];
    F32_AT(out, out_off)[i] = g / (1.0f + exp(-g)) * CF32_AT(up, u_off)[i];
}
