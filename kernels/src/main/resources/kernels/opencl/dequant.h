/*
 * dequant.h: decodes one "octet" (8 consecutive elements, 8i .. 8i+7) of a weight row, for
 * every weight type the OpenCL backend reads: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1,
 * q2_k .. q6_k, mxfp4, and q4_0r, q8_0r (Q4_0 and Q8_0 repacked at load, below).
 * deq8_<type>(row, i, n) returns the 8 values as a float8; n is the row length, used by the
 * plain types to give zeros past the end (quantized rows are whole blocks, n a multiple of 32).
 *
 * Adjacent work-items decode adjacent octets, so a group reads a row front to back. A 32-element
 * unit (a Q4_0/Q8_0 block, or a sub-block of 32 in the 256-element K blocks) is 4 octets.
 * The block layouts are those of common/quant_blocks.h (GGUF).
 *
 * Checked against: the reference codecs (dev.hearth.runtime.dtype.Codecs) through the
 * get_rows, convert and mul_mat tests.
 */
#ifndef HEARTH_OPENCL_DEQUANT_H
#define HEARTH_OPENCL_DEQUANT_H

#include "common/quant_blocks.h"

float8 deq8_f32(global const uchar* row, uint i, uint n)
{
    return load8_f32((global const float*) row, i, n);
}

float8 deq8_f16(global const uchar* row, uint i, uint n)
{
    global const half* p = (global const half*) row;
    uint e = 8 * i;
    if (e + 8 <= n) return vload_half8(0, p + e);
    float t[8];
    for (uint j = 0; j < 8; j++) t[j] = e + j < n ? vload_half(e + j, p) : 0.0f;
    return vload8(0, t);
}

float8 deq8_bf16(global const uchar* row, uint i, uint n)
{
    global const ushort* p = (global const ushort*) row;
    uint e = 8 * i;
    if (e + 8 <= n) return as_float8(convert_uint8(vload8(0, p + e)) << 16);
    float t[8];
    for (uint j = 0; j < 8; j++) t[j] = e + j < n ? bf16_to_f32(p[e + j]) : 0.0f;
    return vload8(0, t);
}

float8 deq8_q4_0(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 2) * Q4_0_BYTES;
    uint part = i & 3;
    float d = vload_half(0, (global const half*) b);
    uchar8 q = vload8(0, b + Q4_0_QS + 8 * (part & 1));
    uchar8 v = part < 2 ? (q & (uchar8) 15) : (q >> (uchar8) 4);
    return d * (convert_float8(v) - 8.0f);
}

float8 deq8_q4_1(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 2) * Q4_1_BYTES;
    uint part = i & 3;
    float d = vload_half(0, (global const half*) b);
    float m = vload_half(0, (global const half*) (b + Q4_1_M));
    uchar8 q = vload8(0, b + Q4_1_QS + 8 * (part & 1));
    uchar8 v = part < 2 ? (q & (uchar8) 15) : (q >> (uchar8) 4);
    return d * convert_float8(v) + m;
}

/* The fifth bits of elements 8 * part .. 8 * part + 7 of a Q5 block, as 0 or 16. */
uchar8 q5_high(global const uchar* qh, uint part)
{
    uchar bits = qh[part];
    return ((((uchar8) bits) >> (uchar8) (0, 1, 2, 3, 4, 5, 6, 7)) & (uchar8) 1) << (uchar8) 4;
}

float8 deq8_q5_0(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 2) * Q5_0_BYTES;
    uint part = i & 3;
    float d = vload_half(0, (global const half*) b);
    uchar8 q = vload8(0, b + Q5_0_QS + 8 * (part & 1));
    uchar8 v = (part < 2 ? (q & (uchar8) 15) : (q >> (uchar8) 4)) | q5_high(b + Q5_0_QH, part);
    return d * (convert_float8(v) - 16.0f);
}

float8 deq8_q5_1(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 2) * Q5_1_BYTES;
    uint part = i & 3;
    float d = vload_half(0, (global const half*) b);
    float m = vload_half(0, (global const half*) (b + Q5_1_M));
    uchar8 q = vload8(0, b + Q5_1_QS + 8 * (part & 1));
    uchar8 v = (part < 2 ? (q & (uchar8) 15) : (q >> (uchar8) 4)) | q5_high(b + Q5_1_QH, part);
    return d * convert_float8(v) + m;
}

float8 deq8_q8_1(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 2) * Q8_1_BYTES;
    float d = vload_half(0, (global const half*) b);
    char8 q = vload8(0, (global const char*) (b + Q8_1_QS) + 8 * (i & 3));
    return d * convert_float8(q);
}

float8 deq8_q8_0(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 2) * Q8_0_BYTES;
    float d = vload_half(0, (global const half*) b);
    char8 q = vload8(0, (global const char*) (b + Q8_0_QS) + 8 * (i & 3));
    return d * convert_float8(q);
}

float8 deq8_q4_k(global const uchar* row, uint i, uint n)
{
    uint unit = i >> 2;
    uint part = i & 3;
    uint s = unit & 7; /* sub-block of 32 in the super-block */
    global const uchar* b = row + (unit >> 3) * Q4_K_BYTES;
    float d = vload_half(0, (global const half*) b);
    float dmin = vload_half(0, (global const half*) (b + Q4_K_DMIN));
    global const uchar* sc = b + Q4_K_SCALES;
    uint scale, mn;
    if (s < 4) {
        scale = sc[s] & 63;
        mn = sc[s + 4] & 63;
    } else {
        scale = (sc[s + 4] & 15) | ((sc[s - 4] >> 6) << 4);
        mn = (sc[s + 4] >> 4) | ((sc[s] >> 6) << 4);
    }
    uchar8 q = vload8(0, b + Q4_K_QS + 32 * (s >> 1) + 8 * part);
    uchar8 v = (s & 1) ? (q >> (uchar8) 4) : (q & (uchar8) 15);
    return (d * (float) scale) * convert_float8(v) - dmin * (float) mn;
}

/* Where octet i of a Q2_K or Q3_K super-block lies: qs byte offset, bit shift, scale index. */
void k23_place(uint i, uint* qs, uint* shift, uint* scale, uint* half128, uint* j)
{
    uint s = (i >> 2) & 7;
    uint part = i & 3;
    *half128 = s >> 2;
    *j = s & 3;
    *qs = 32 * *half128 + 16 * (part >> 1) + 8 * (part & 1);
    *shift = 2 * *j;
    *scale = 8 * *half128 + 2 * *j + (part >> 1);
}

float8 deq8_q2_k(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 5) * Q2_K_BYTES;
    uint qs, shift, scale, h, j;
    k23_place(i, &qs, &shift, &scale, &h, &j);
    float d = vload_half(0, (global const half*) (b + Q2_K_D));
    float dmin = vload_half(0, (global const half*) (b + Q2_K_DMIN));
    uchar sc = b[Q2_K_SCALES + scale];
    uchar8 q = (vload8(0, b + Q2_K_QS + qs) >> (uchar8) shift) & (uchar8) 3;
    return (d * (float) (sc & 15)) * convert_float8(q) - dmin * (float) (sc >> 4);
}

float8 deq8_q3_k(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 5) * Q3_K_BYTES;
    uint qs, shift, scale, h, j;
    k23_place(i, &qs, &shift, &scale, &h, &j);
    global const uchar* sc = b + Q3_K_SCALES;
    uint low = scale < 8 ? (sc[scale] & 15) : (sc[scale - 8] >> 4);
    uint high = (sc[8 + (scale & 3)] >> (2 * (scale >> 2))) & 3;
    float d = vload_half(0, (global const half*) (b + Q3_K_D)) * (float) ((int) (low | (high << 4)) - 32);
    uchar8 q = (vload8(0, b + Q3_K_QS + qs) >> (uchar8) shift) & (uchar8) 3;
    uchar8 hm = (vload8(0, b + Q3_K_HMASK + (qs & 31)) >> (uchar8) (4 * h + j)) & (uchar8) 1;
    return d * (convert_float8(q) - 4.0f + 4.0f * convert_float8(hm));
}

float8 deq8_q5_k(global const uchar* row, uint i, uint n)
{
    uint unit = i >> 2;
    uint part = i & 3;
    uint s = unit & 7;
    global const uchar* b = row + (unit >> 3) * Q5_K_BYTES;
    float d = vload_half(0, (global const half*) b);
    float dmin = vload_half(0, (global const half*) (b + Q5_K_DMIN));
    global const uchar* sc = b + Q5_K_SCALES;
    uint scale, mn;
    if (s < 4) {
        scale = sc[s] & 63;
        mn = sc[s + 4] & 63;
    } else {
        scale = (sc[s + 4] & 15) | ((sc[s - 4] >> 6) << 4);
        mn = (sc[s + 4] >> 4) | ((sc[s] >> 6) << 4);
    }
    uchar8 q = vload8(0, b + Q5_K_QS + 32 * (s >> 1) + 8 * part);
    uchar8 v = (s & 1) ? (q >> (uchar8) 4) : (q & (uchar8) 15);
    uchar8 hi = ((vload8(0, b + Q5_K_QH + 8 * part) >> (uchar8) s) & (uchar8) 1) << (uchar8) 4;
    return (d * (float) scale) * convert_float8(v | hi) - dmin * (float) mn;
}

float8 deq8_q6_k(global const uchar* row, uint i, uint n)
{
    uint unit = i >> 2;
    uint part = i & 3;
    uint s = unit & 7;
    uint h = s >> 2; /* which 128-element half */
    uint r = s & 3;  /* which 32 of that half */
    global const uchar* b = row + (unit >> 3) * Q6_K_BYTES;
    uint l0 = 8 * part;
    uchar8 ql = vload8(0, b + Q6_K_QL + 64 * h + 32 * (r & 1) + l0);
    uchar8 qh = vload8(0, b + Q6_K_QH + 32 * h + l0);
    uchar8 lo = r >= 2 ? (ql >> (uchar8) 4) : (ql & (uchar8) 15);
    uchar8 hi = (qh >> (uchar8) (2 * r)) & (uchar8) 3;
    float8 q = convert_float8(lo | (hi << (uchar8) 4)) - 32.0f;
    float scale = (float) ((global const char*) (b + Q6_K_SCALES))[8 * h + 2 * r + (part >> 1)];
    float d = vload_half(0, (global const half*) (b + Q6_K_D));
    return (d * scale) * q;
}

/* MXFP4 (OCP microscaling): 17 bytes per 32 elements, an E8M0 scale byte e, then 16 bytes of
 * E2M1 nibbles (element j in the low nibble of byte j, element j + 16 in the high nibble). The
 * nibbles' values are kept doubled, as the integers of mxfp4_values, and the scale halved:
 * 2^(e - 128), built from its bits (denormal for e 0 and 1), so every value is exact. */
#define MXFP4_BYTES 17
#define MXFP4_QS 1

constant char mxfp4_values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

float mxfp4_scale_half(uchar e)
{
    return as_float(e < 2 ? 0x00200000u << e : ((uint) e - 1) << 23);
}

float8 deq8_mxfp4(global const uchar* row, uint i, uint n)
{
    global const uchar* b = row + (i >> 2) * MXFP4_BYTES;
    uint part = i & 3;
    uchar8 q = vload8(0, b + MXFP4_QS + 8 * (part & 1));
    uchar8 v = part < 2 ? (q & (uchar8) 15) : (q >> (uchar8) 4);
    uchar nib[8];
    vstore8(v, 0, nib);
    float t[8];
    for (uint j = 0; j < 8; j++) t[j] = (float) mxfp4_values[nib[j]];
    return mxfp4_scale_half(b[0]) * vload8(0, t);
}

/*
 * Q4_0 and Q8_0 rows repacked at load (OpenClDevice.prepareWeight, WeightRepack; rows of n a
 * multiple of 256 in 16-byte aligned tensors): a row holds all its blocks' quants in block order
 * (16 bytes a Q4_0 block, nibbles as in the block; 32 a Q8_0 one), then all its blocks' half
 * scales d. The same bytes a row as the GGUF layout; n locates the scales. Only mul_mat's and
 * get_rows' kernels read them (the q4_0r and q8_0r variants).
 */
float8 deq8_q4_0r(global const uchar* row, uint i, uint n)
{
    uint b = i >> 2;
    uint part = i & 3;
    float d = vload_half(0, (global const half*) (row + n / 2 + 2 * b));
    uchar8 q = vload8(0, row + 16 * b + 8 * (part & 1));
    uchar8 v = part < 2 ? (q & (uchar8) 15) : (q >> (uchar8) 4);
    return d * (convert_float8(v) - 8.0f);
}

float8 deq8_q8_0r(global const uchar* row, uint i, uint n)
{
    float d = vload_half(0, (global const half*) (row + n + 2 * (i >> 2)));
    return d * convert_float8(vload8(i, (global const char*) row));
}

/* X(type) for every type above but the repacked ones. */
#define HEARTH_FOR_EACH_WEIGHT_TYPE(X) X(f32) X(f16) X(bf16) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(q8_1) \
    X(q2_k) X(q3_k) X(q4_k) X(q5_k) X(q6_k) X(mxfp4)

/* X(type) for the repacked types. */
#define HEARTH_FOR_EACH_REPACKED_TYPE(X) X(q4_0r) X(q8_0r)

#endif
