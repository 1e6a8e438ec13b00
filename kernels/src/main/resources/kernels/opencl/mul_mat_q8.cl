/*
 * mul_mat_q8.cl: out[t][n] = dot(w row n, x row t) by integer dot products, for quantized w
 * [K, N] (q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q2_k .. q6_k, mxfp4; K a multiple of 32), x f32
 * [K, T] with T up to 8 per work-group, out f32 [N, T]. For generation: the float kernels of
 * mul_mat.cl decode every weight to f32; these multiply the weights' small integers by int8
 * activations and scale once per 16 or 32 elements.
 *
 * - quantize_q8_1: x f32 [K, T] -> xq, once per matrix product, in blocks of 32 elements:
 *   q = round(x / d) with d = max |x| / 127 (int8), and per block the float2 (d, d * sum q)
 *   (the sum serves the types whose blocks have an offset or minimum). xq is laid out as
 *   T * K int8 (token-major) followed by T * K / 32 float2. One work-item per block: global
 *   size (K / 32 rounded up to the work-group, T).
 * - mul_mat_q8<NT>_<type>, NT = 1, 4, 8: one work-group per (row, NT tokens), as mul_mat_vec
 *   in mul_mat.cl: the work-items walk the row's 32-element units, unpack each once to int8
 *   (unit_<type>: elements 0..15 and 16..31 as char16, a scale for each half and the minimum
 *   the unit subtracts), then per token add d_x * (d0 * dot(lo) + d1 * dot(hi)) - min * s_x
 *   (Q2_K: minus d_x * (m0 * sum(x lo) + m1 * sum(x hi)), its minimums being per 16).
 *   One reduction of all NT tokens at the end (wg_sum_tokens). Global size (N * WG,
 *   ceil(T / NT)), local (WG, 1); scratch is NT * WG floats.
 *   Also for q4_0r and q8_0r, Q4_0 and Q8_0 repacked at load (dequant.h): their units read the
 *   quants with 16-byte loads (vload4 of uint; rows of K a multiple of 256 keep them aligned)
 *   and the scale from past the row's quants (unit_<type>'s K).
 * - mul_mat_id_q8_<type>: mul_mat_id (experts.cl) for few tokens: one work-group per (row n,
 *   slot s) walks expert ids[s]'s row n by units against the slot's quantized x row (x row s
 *   where x has a row per slot, else s / used); a slot whose id is outside 0..E-1 gets 0.
 *   Global size (N * WG, slots), local (WG, 1); scratch is WG floats.
 * - The dot of 4 int8 pairs is OpenCL C's dot_acc_sat (cl_khr_integer_dot_product) where the
 *   host defines HEARTH_INTEGER_DOT, else int multiply-adds. No sum overflows: 32 * 127 * 127.
 *
 * Checked against: the reference backend's mul_mat in MulMatTest (1, 3, 5 and 8 tokens, every
 * type above; q4_0r and q8_0r at K 256 and 512), its mul_mat_id in ExpertsTest (matrix-vector path, every type above) and the
 * conformance cases.
 */
#include "common.h"
#include "dequant.h"

#if defined(HEARTH_INTEGER_DOT)
#pragma OPENCL EXTENSION cl_khr_integer_dot_product : enable
#endif

kernel void quantize_q8_1(global const uchar* x, ulong x_off, global uchar* xq, ulong xq_off, uint K, uint ntok)
{
    uint b = get_global_id(0);
    uint t = get_global_id(1);
    uint blocks = K / 32;
    if (b >= blocks || t >= ntok) return;
    global const float* p = CF32_AT(x, x_off) + (ulong) t * K + 32 * b;
    float16 lo = vload16(0, p);
    float16 hi = vload16(1, p);
    float16 m = fmax(fabs(lo), fabs(hi));
    float8 m8 = fmax(m.lo, m.hi);
    float4 m4 = fmax(m8.lo, m8.hi);
    float amax = fmax(fmax(m4.x, m4.y), fmax(m4.z, m4.w));
    float d = amax / 127.0f;
    float inv = d > 0.0f ? 1.0f / d : 0.0f;
    int16 qlo = convert_int16_rte(lo * inv);
    int16 qhi = convert_int16_rte(hi * inv);
    int16 s16 = qlo + qhi;
    int8 s8 = s16.lo + s16.hi;
    int4 s4 = s8.lo + s8.hi;
    int sum = (s4.x + s4.y) + (s4.z + s4.w);
    global char* q = (global char*) (xq + xq_off) + (ulong) t * K + 32 * b;
    vstore16(convert_char16(qlo), 0, q);
    vstore16(convert_char16(qhi), 1, q);
    global float* ds = (global float*) (xq + xq_off + (ulong) ntok * K) + 2 * ((ulong) t * blocks + b);
    ds[0] = d;
    ds[1] = d * (float) sum;
}

/* The sum of the products of 16 int8 pairs. */
int dot16(char16 a, char16 b)
{
#if defined(HEARTH_INTEGER_DOT)
    int s = dot_acc_sat(a.s0123, b.s0123, 0);
    s = dot_acc_sat(a.s4567, b.s4567, s);
    s = dot_acc_sat(a.s89ab, b.s89ab, s);
    return dot_acc_sat(a.scdef, b.scdef, s);
#else
    int16 p = convert_int16(a) * convert_int16(b);
    int8 s8 = p.lo + p.hi;
    int4 s4 = s8.lo + s8.hi;
    return (s4.x + s4.y) + (s4.z + s4.w);
#endif
}

/* One 32-element unit of a weight row: int8 values lo (0..15) and hi (16..31), scales d0 and d1
 * of each half, and mn, which the unit's values subtract times the sum of the activations. Q2_K
 * has a minimum per half instead: m0 and m1, times each half's sum (HALF_MINS_<type> is 1). */
typedef struct {
    char16 lo;
    char16 hi;
    float d0;
    float d1;
    float mn;
    float m0;
    float m1;
} unit;

#define HALF_MINS_q4_0 0
#define HALF_MINS_q4_1 0
#define HALF_MINS_q5_0 0
#define HALF_MINS_q5_1 0
#define HALF_MINS_q8_0 0
#define HALF_MINS_q8_1 0
#define HALF_MINS_q2_k 1
#define HALF_MINS_q3_k 0
#define HALF_MINS_q4_k 0
#define HALF_MINS_q5_k 0
#define HALF_MINS_q6_k 0
#define HALF_MINS_mxfp4 0
#define HALF_MINS_q4_0r 0
#define HALF_MINS_q8_0r 0

float half_at(global const uchar* p)
{
    return vload_half(0, (global const half*) p);
}

/* The fifth bits of a Q5 block's 32 elements (qh, 4 bytes, bit j for element j), as 0 or 16. */
void q5_bits(global const uchar* qh, uchar16* lo, uchar16* hi)
{
    uint h = (uint) qh[0] | ((uint) qh[1] << 8) | ((uint) qh[2] << 16) | ((uint) qh[3] << 24);
    uint16 sh = (uint16) (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    *lo = convert_uchar16((((uint16) h >> sh) & 1u) << 4);
    *hi = convert_uchar16((((uint16) (h >> 16) >> sh) & 1u) << 4);
}

unit unit_q4_0(global const uchar* row, uint u, uint K)
{
    global const uchar* b = row + u * Q4_0_BYTES;
    uchar16 q = vload16(0, b + Q4_0_QS);
    unit r;
    r.lo = as_char16(q & (uchar16) 15) - (char16) 8;
    r.hi = as_char16(q >> (uchar16) 4) - (char16) 8;
    r.d0 = r.d1 = half_at(b);
    r.mn = 0.0f;
    return r;
}

unit unit_q4_1(global const uchar* row, uint u, uint K)
{
    global const uchar* b = row + u * Q4_1_BYTES;
    uchar16 q = vload16(0, b + Q4_1_QS);
    unit r;
    r.lo = as_char16(q & (uchar16) 15);
    r.hi = as_char16(q >> (uchar16) 4);
    r.d0 = r.d1 = half_at(b);
    r.mn = -half_at(b + Q4_1_M);
    return r;
}

unit unit_q5_0(global const uchar* row, uint u, uint K)
{
    global const uchar* b = row + u * Q5_0_BYTES;
    uchar16 q = vload16(0, b + Q5_0_QS);
    uchar16 hl, hh;
    q5_bits(b + Q5_0_QH, &hl, &hh);
    unit r;
    r.lo = as_char16((q & (uchar16) 15) | hl) - (char16) 16;
    r.hi = as_char16((q >> (uchar16) 4) | hh) - (char16) 16;
    r.d0 = r.d1 = half_at(b);
    r.mn = 0.0f;
    return r;
}

unit unit_q5_1(global const uchar* row, uint u, uint K)
{
    global const uchar* b = row + u * Q5_1_BYTES;
    uchar16 q = vload16(0, b + Q5_1_QS);
    uchar16 hl, hh;
    q5_bits(b + Q5_1_QH, &hl, &hh);
    unit r;
    r.lo = as_char16((q & (uchar16) 15) | hl);
    r.hi = as_char16((q >> (uchar16) 4) | hh);
    r.d0 = r.d1 = half_at(b);
    r.mn = -half_at(b + Q5_1_M);
    return r;
}

unit unit_q8_0(global const uchar* row, uint u, uint K)
{
    global const uchar* b = row + u * Q8_0_BYTES;
    unit r;
    r.lo = vload16(0, (global const char*) (b + Q8_0_QS));
    r.hi = vload16(1, (global const char*) (b + Q8_0_QS));
    r.d0 = r.d1 = half_at(b);
    r.mn = 0.0f;
    return r;
}

unit unit_q8_1(global const uchar* row, uint u, uint K)
{
    global const uchar* b = row + u * Q8_1_BYTES;
    unit r;
    r.lo = vload16(0, (global const char*) (b + Q8_1_QS));
    r.hi = vload16(1, (global const char*) (b + Q8_1_QS));
    r.d0 = r.d1 = half_at(b);
    r.mn = 0.0f;
    return r;
}

/* The 6-bit scale and minimum of sub-block s of a Q4_K or Q5_K super-block's 12 scale bytes. */
void k_scale_min(global const uchar* sc, uint s, float* scale, float* mn)
{
    uint a, m;
    if (s < 4) {
        a = sc[s] & 63;
        m = sc[s + 4] & 63;
    } else {
        a = (sc[s + 4] & 15) | ((sc[s - 4] >> 6) << 4);
        m = (sc[s + 4] >> 4) | ((sc[s] >> 6) << 4);
    }
    *scale = (float) a;
    *mn = (float) m;
}

/* Unit u of a repacked Q4_0 row (q4_0r, dequant.h): block u's 16 quant bytes in one 16-byte load;
 * its scale lies past the row's K / 2 bytes of quants. */
unit unit_q4_0r(global const uchar* row, uint u, uint K)
{
    uchar16 q = as_uchar16(vload4(u, (global const uint*) row));
    unit r;
    r.lo = as_char16(q & (uchar16) 15) - (char16) 8;
    r.hi = as_char16(q >> (uchar16) 4) - (char16) 8;
    r.d0 = r.d1 = half_at(row + K / 2 + 2 * u);
    r.mn = 0.0f;
    return r;
}

/* Unit u of a repacked Q8_0 row (q8_0r): block u's 32 quants in two 16-byte loads; its scale lies
 * past the row's K bytes of quants. */
unit unit_q8_0r(global const uchar* row, uint u, uint K)
{
    global const uint* q = (global const uint*) row;
    unit r;
    r.lo = as_char16(vload4(2 * u, q));
    r.hi = as_char16(vload4(2 * u + 1, q));
    r.d0 = r.d1 = half_at(row + K + 2 * u);
    r.mn = 0.0f;
    return r;
}

/* Where unit s (0..7) of a Q2_K or Q3_K super-block lies: the 32 qs bytes of its 128-element
 * half h, shifted by 2j, and the scales 8h + 2j (elements 0..15) and 8h + 2j + 1 (16..31). */
unit unit_q2_k(global const uchar* row, uint u, uint K)
{
    uint s = u & 7;
    uint h = s >> 2;
    uint j = s & 3;
    global const uchar* b = row + (u >> 3) * Q2_K_BYTES;
    global const uchar* qs = b + Q2_K_QS + 32 * h;
    uchar16 sh = (uchar16) (2 * j);
    unit r;
    r.lo = as_char16((vload16(0, qs) >> sh) & (uchar16) 3);
    r.hi = as_char16((vload16(1, qs) >> sh) & (uchar16) 3);
    uchar sc0 = b[Q2_K_SCALES + 8 * h + 2 * j];
    uchar sc1 = b[Q2_K_SCALES + 8 * h + 2 * j + 1];
    float d = half_at(b + Q2_K_D);
    float dmin = half_at(b + Q2_K_DMIN);
    r.d0 = d * (float) (sc0 & 15);
    r.d1 = d * (float) (sc1 & 15);
    r.m0 = dmin * (float) (sc0 >> 4);
    r.m1 = dmin * (float) (sc1 >> 4);
    r.mn = 0.0f;
    return r;
}

/* The 6-bit signed scale number k (0..15) of a Q3_K super-block's 12 scale bytes. */
float q3_k_scale(global const uchar* sc, uint k)
{
    uint low = k < 8 ? (sc[k] & 15) : (sc[k - 8] >> 4);
    uint high = (sc[8 + (k & 3)] >> (2 * (k >> 2))) & 3;
    return (float) ((int) (low | (high << 4)) - 32);
}

unit unit_q3_k(global const uchar* row, uint u, uint K)
{
    uint s = u & 7;
    uint h = s >> 2;
    uint j = s & 3;
    global const uchar* b = row + (u >> 3) * Q3_K_BYTES;
    global const uchar* qs = b + Q3_K_QS + 32 * h;
    uchar16 sh = (uchar16) (2 * j);
    uchar16 hb = (uchar16) (4 * h + j);
    uchar16 ha = (vload16(0, b + Q3_K_HMASK) >> hb) & (uchar16) 1;
    uchar16 hc = (vload16(1, b + Q3_K_HMASK) >> hb) & (uchar16) 1;
    unit r;
    r.lo = as_char16(((vload16(0, qs) >> sh) & (uchar16) 3) | (ha << (uchar16) 2)) - (char16) 4;
    r.hi = as_char16(((vload16(1, qs) >> sh) & (uchar16) 3) | (hc << (uchar16) 2)) - (char16) 4;
    float d = half_at(b + Q3_K_D);
    r.d0 = d * q3_k_scale(b + Q3_K_SCALES, 8 * h + 2 * j);
    r.d1 = d * q3_k_scale(b + Q3_K_SCALES, 8 * h + 2 * j + 1);
    r.mn = 0.0f;
    return r;
}

unit unit_q4_k(global const uchar* row, uint u, uint K)
{
    uint s = u & 7;
    global const uchar* b = row + (u >> 3) * Q4_K_BYTES;
    float scale, mn;
    k_scale_min(b + Q4_K_SCALES, s, &scale, &mn);
    global const uchar* qs = b + Q4_K_QS + 32 * (s >> 1);
    uchar16 a = vload16(0, qs);
    uchar16 c = vload16(1, qs);
    unit r;
    if (s & 1) {
        r.lo = as_char16(a >> (uchar16) 4);
        r.hi = as_char16(c >> (uchar16) 4);
    } else {
        r.lo = as_char16(a & (uchar16) 15);
        r.hi = as_char16(c & (uchar16) 15);
    }
    r.d0 = r.d1 = half_at(b) * scale;
    r.mn = half_at(b + Q4_K_DMIN) * mn;
    return r;
}

unit unit_q5_k(global const uchar* row, uint u, uint K)
{
    uint s = u & 7;
    global const uchar* b = row + (u >> 3) * Q5_K_BYTES;
    float scale, mn;
    k_scale_min(b + Q5_K_SCALES, s, &scale, &mn);
    global const uchar* qs = b + Q5_K_QS + 32 * (s >> 1);
    uchar16 a = vload16(0, qs);
    uchar16 c = vload16(1, qs);
    uchar16 ha = ((vload16(0, b + Q5_K_QH) >> (uchar16) s) & (uchar16) 1) << (uchar16) 4;
    uchar16 hc = ((vload16(1, b + Q5_K_QH) >> (uchar16) s) & (uchar16) 1) << (uchar16) 4;
    unit r;
    if (s & 1) {
        r.lo = as_char16((a >> (uchar16) 4) | ha);
        r.hi = as_char16((c >> (uchar16) 4) | hc);
    } else {
        r.lo = as_char16((a & (uchar16) 15) | ha);
        r.hi = as_char16((c & (uchar16) 15) | hc);
    }
    r.d0 = r.d1 = half_at(b) * scale;
    r.mn = half_at(b + Q5_K_DMIN) * mn;
    return r;
}

unit unit_q6_k(global const uchar* row, uint u, uint K)
{
    uint s = u & 7;
    uint h = s >> 2; /* which 128-element half */
    uint q = s & 3;  /* which 32 of that half */
    global const uchar* b = row + (u >> 3) * Q6_K_BYTES;
    global const uchar* ql = b + Q6_K_QL + 64 * h + 32 * (q & 1);
    global const uchar* qh = b + Q6_K_QH + 32 * h;
    uchar16 la = vload16(0, ql);
    uchar16 lc = vload16(1, ql);
    if (q >= 2) {
        la >>= (uchar16) 4;
        lc >>= (uchar16) 4;
    }
    uchar16 ha = (vload16(0, qh) >> (uchar16) (2 * q)) & (uchar16) 3;
    uchar16 hc = (vload16(1, qh) >> (uchar16) (2 * q)) & (uchar16) 3;
    unit r;
    r.lo = as_char16((la & (uchar16) 15) | (ha << (uchar16) 4)) - (char16) 32;
    r.hi = as_char16((lc & (uchar16) 15) | (hc << (uchar16) 4)) - (char16) 32;
    global const char* sc = (global const char*) (b + Q6_K_SCALES) + 8 * h + 2 * q;
    float d = half_at(b + Q6_K_D);
    r.d0 = d * (float) sc[0];
    r.d1 = d * (float) sc[1];
    r.mn = 0.0f;
    return r;
}

unit unit_mxfp4(global const uchar* row, uint u, uint K)
{
    global const uchar* b = row + u * MXFP4_BYTES;
    global const uchar* q = b + MXFP4_QS;
    char lo[16], hi[16];
    for (uint j = 0; j < 16; j++) {
        lo[j] = mxfp4_values[q[j] & 15];
        hi[j] = mxfp4_values[q[j] >> 4];
    }
    unit r;
    r.lo = vload16(0, lo);
    r.hi = vload16(0, hi);
    r.d0 = r.d1 = mxfp4_scale_half(b[0]);
    r.mn = 0.0f;
    return r;
}

/* Unit wu times the 32 int8 activations at qt, whose block has x = (d, d * sum of q). */
float unit_dot(unit wu, global const char* qt, float2 x, int half_mins)
{
    char16 xlo = vload16(0, qt);
    char16 xhi = vload16(1, qt);
    float s = wu.d0 * (float) dot16(wu.lo, xlo) + wu.d1 * (float) dot16(wu.hi, xhi);
    if (half_mins) s -= wu.m0 * (float) dot16((char16) 1, xlo) + wu.m1 * (float) dot16((char16) 1, xhi);
    return x.x * s - wu.mn * x.y;
}

#define MUL_MAT_Q8(TYPE, NT)                                                                   \
kernel void mul_mat_q8##NT##_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,     \
                                    global const uchar* xq, ulong xq_off,                      \
                                    global uchar* out, ulong out_off,                          \
                                    uint K, uint N, uint ntok, local float* scratch)           \
{                                                                                              \
    uint n = get_group_id(0);                                                                  \
    uint t0 = get_group_id(1) * NT;                                                            \
    uint nt = min((uint) NT, ntok - t0);                                                       \
    uint lid = get_local_id(0);                                                                \
    uint wg = get_local_size(0);                                                               \
    uint units = K / 32;                                                                       \
    global const uchar* row = w + w_off + (ulong) n * w_row_bytes;                             \
    global const char* q = (global const char*) (xq + xq_off) + (ulong) t0 * K;                \
    global const float2* ds = (global const float2*) (xq + xq_off + (ulong) ntok * K)          \
                              + (ulong) t0 * units;                                            \
    float acc[NT];                                                                             \
    for (uint t = 0; t < NT; t++) acc[t] = 0.0f;                                               \
    for (uint u = lid; u < units; u += wg) {                                                   \
        unit wu = unit_##TYPE(row, u, K);                                                         \
        for (uint t = 0; t < NT; t++) {                                                        \
            if (t < nt) {                                                                      \
                acc[t] += unit_dot(wu, q + (ulong) t * K + 32 * u, ds[(ulong) t * units + u],  \
                                   HALF_MINS_##TYPE);                                          \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
    float r = wg_sum_tokens(acc, NT, scratch);                                                 \
    if (lid < nt) F32_AT(out, out_off)[(ulong) (t0 + lid) * N + n] = r;                        \
}

/* mul_mat_id's slot s: expert ids[s]'s row n times x row s (per_slot) or s / used, of xrows. */
#define MUL_MAT_ID_Q8(TYPE)                                                                    \
kernel void mul_mat_id_q8_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,        \
                                 global const uchar* xq, ulong xq_off,                         \
                                 global const uchar* ids, ulong ids_off,                       \
                                 global uchar* out, ulong out_off,                             \
                                 uint K, uint N, uint E, uint used, uint per_slot, uint xrows, \
                                 local float* scratch)                                         \
{                                                                                              \
    uint n = get_group_id(0);                                                                  \
    uint s = get_group_id(1);                                                                  \
    uint lid = get_local_id(0);                                                                \
    uint wg = get_local_size(0);                                                               \
    int e = CI32_AT(ids, ids_off)[s];                                                          \
    if (e < 0 || (uint) e >= E) {                                                              \
        if (lid == 0) F32_AT(out, out_off)[(ulong) s * N + n] = 0.0f;                          \
        return;                                                                                \
    }                                                                                          \
    uint units = K / 32;                                                                       \
    uint xr = per_slot ? s : s / used;                                                         \
    global const uchar* row = w + w_off + ((ulong) e * N + n) * w_row_bytes;                   \
    global const char* q = (global const char*) (xq + xq_off) + (ulong) xr * K;                 \
    global const float2* ds = (global const float2*) (xq + xq_off + (ulong) xrows * K)         \
                              + (ulong) xr * units;                                            \
    float acc = 0.0f;                                                                          \
    for (uint u = lid; u < units; u += wg) {                                                   \
        acc += unit_dot(unit_##TYPE(row, u, K), q + 32 * u, ds[u], HALF_MINS_##TYPE);             \
    }                                                                                          \
    acc = wg_sum(acc, scratch);                                                                \
    if (lid == 0) F32_AT(out, out_off)[(ulong) s * N + n] = acc;                               \
}

#define MUL_MAT_Q8_ALL(TYPE) MUL_MAT_Q8(TYPE, 1) MUL_MAT_Q8(TYPE, 4) MUL_MAT_Q8(TYPE, 8) MUL_MAT_ID_Q8(TYPE)

MUL_MAT_Q8_ALL(q4_0)
MUL_MAT_Q8_ALL(q4_1)
MUL_MAT_Q8_ALL(q5_0)
MUL_MAT_Q8_ALL(q5_1)
MUL_MAT_Q8_ALL(q8_0)
MUL_MAT_Q8_ALL(q8_1)
MUL_MAT_Q8_ALL(q2_k)
MUL_MAT_Q8_ALL(q3_k)
MUL_MAT_Q8_ALL(q4_k)
MUL_MAT_Q8_ALL(q5_k)
MUL_MAT_Q8_ALL(q6_k)
MUL_MAT_Q8_ALL(mxfp4)
MUL_MAT_Q8(q4_0r, 1) MUL_MAT_Q8(q4_0r, 4) MUL_MAT_Q8(q4_0r, 8)
MUL_MAT_Q8(q8_0r, 1) MUL_MAT_Q8(q8_0r, 4) MUL_MAT_Q8(q8_0r, 8)
