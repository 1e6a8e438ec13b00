/*
 * elementwise.cl: the cheap per-element ops on f32 tensors of n elements.
 *   add:    out[i] = a[i] + b[i % bn]   (bn = n, or one row of b repeated over a's rows)
 *   mul:    out[i] = a[i] * b[i % bn]
 *   scale:  out[i] = x[i] * s
 *   swiglu: out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g))
 *   geglu:  out[i] = gelu(gate[i]) * up[i], gelu in its tanh form:
 *           gelu(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))
 *   softcap: out[i] = cap * tanh(x[i] / cap)
 *   swiglu_oai: g = min(gate[i], limit), u = clamp(up[i], -limit, limit),
 *           out[i] = g * sigmoid(alpha g) * (u + 1)
 *
 * Variants: one kernel each, one work-item per element, global size n rounded up to the
 * work-group. All may run in place.
 *
 * Checked against: scalar loops in ElementwiseTest; geglu and softcap against
 * ReferenceOps.geglu / softcap / swigluOai in ElementwiseTest and the conformance cases.
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

kernel void geglu(global const uchar* gate, ulong g_off, global const uchar* up, ulong u_off,
                  global uchar* out, ulong out_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float g = CF32_AT(gate, g_off)[i];
    float inner = 0.7978845608028654f * fma(0.044715f * g, g * g, g); /* sqrt(2/pi) (g + 0.044715 g^3) */
    F32_AT(out, out_off)[i] = 0.5f * g * (1.0f + tanh(inner)) * CF32_AT(up, u_off)[i];
}

kernel void softcap(global const uchar* x, ulong x_off, global uchar* out, ulong out_off, uint n, float cap)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    F32_AT(out, out_off)[i] = cap * tanh(CF32_AT(x, x_off)[i] / cap);
}

kernel void swiglu_oai(global const uchar* gate, ulong g_off, global const uchar* up, ulong u_off,
                       global uchar* out, ulong out_off, uint n, float alpha, float limit)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float g = fmin(CF32_AT(gate, g_off)[i], limit);
    float u = clamp(CF32_AT(up, u_off)[i], -limit, limit);
    F32_AT(out, out_off)[i] = g / (1.0f + exp(-alpha * g)) * (u + 1.0f);
}
