/*
 * common.h: helpers that every OpenCL kernel file of Hearth includes (the host inlines it).
 *
 * - A tensor is passed as a buffer (global uchar*) and a byte offset (ulong); F32_AT and I32_AT
 *   view it as floats or ints.
 * - wg_sum and wg_max reduce one float per work-item over the work-group and return the result
 *   to every work-item. With HEARTH_SUBGROUPS (the host sets it where the device has
 *   cl_khr_subgroups or cl_intel_subgroups) each sub-group reduces with its built-in and the
 *   partial results meet in local memory; otherwise a tree in local memory. Work-group sizes
 *   are powers of two; scratch holds one float per work-item.
 * - wg_sum_tokens reduces NT floats per work-item (one per token of a matrix-vector product)
 *   at once: one sub-group reduction per token and one barrier, or one tree for all of them.
 *   scratch holds NT floats per work-item; work-item t < NT gets the total of token t. No
 *   barrier follows its last read of scratch: a kernel calls it once, at its end.
 * - Halves are read and written with vload_half / vstore_half_rte, which are core OpenCL C and
 *   need no cl_khr_fp16. bf16 is the upper half of an f32, rounded to nearest even.
 *
 * Checked against: the op tests of dev.hearth.backend.opencl, which use these in every kernel.
 */
#ifndef HEARTH_OPENCL_COMMON_H
#define HEARTH_OPENCL_COMMON_H

#if defined(HEARTH_INTEL_SUBGROUPS)
#pragma OPENCL EXTENSION cl_intel_subgroups : enable
#elif defined(HEARTH_SUBGROUPS)
#pragma OPENCL EXTENSION cl_khr_subgroups : enable
#endif

#define F32_AT(buf, off) ((global float*)((buf) + (off)))
#define CF32_AT(buf, off) ((global const float*)((buf) + (off)))
#define CI32_AT(buf, off) ((global const int*)((buf) + (off)))
#define I32_AT(buf, off) ((global int*)((buf) + (off)))
#define HALF_AT(buf, off) ((global half*)((buf) + (off)))
#define CHALF_AT(buf, off) ((global const half*)((buf) + (off)))

/* Destination and source element types, as the host numbers them. */
#define HEARTH_F32 0
#define HEARTH_F16 1
#define HEARTH_BF16 2

float wg_sum(float v, local float* scratch)
{
#if defined(HEARTH_SUBGROUPS)
    v = sub_group_reduce_add(v);
    if (get_sub_group_local_id() == 0) scratch[get_sub_group_id()] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    float r = 0.0f;
    uint groups = get_num_sub_groups();
    for (uint i = 0; i < groups; i++) r += scratch[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
#else
    uint lid = get_local_id(0) + get_local_id(1) * get_local_size(0);
    uint n = get_local_size(0) * get_local_size(1);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint off = n >> 1; off > 0; off >>= 1) {
        if (lid < off) scratch[lid] += scratch[lid + off];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
#endif
}

float wg_max(float v, local float* scratch)
{
#if defined(HEARTH_SUBGROUPS)
    v = sub_group_reduce_max(v);
    if (get_sub_group_local_id() == 0) scratch[get_sub_group_id()] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    float r = -INFINITY;
    uint groups = get_num_sub_groups();
    for (uint i = 0; i < groups; i++) r = fmax(r, scratch[i]);
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
#else
    uint lid = get_local_id(0) + get_local_id(1) * get_local_size(0);
    uint n = get_local_size(0) * get_local_size(1);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint off = n >> 1; off > 0; off >>= 1) {
        if (lid < off) scratch[lid] = fmax(scratch[lid], scratch[lid + off]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
#endif
}

float wg_sum_tokens(const float* acc, uint nt, local float* scratch)
{
    uint lid = get_local_id(0) + get_local_id(1) * get_local_size(0);
#if defined(HEARTH_SUBGROUPS)
    uint groups = get_num_sub_groups();
    uint sg = get_sub_group_id();
    for (uint t = 0; t < nt; t++) {
        float v = sub_group_reduce_add(acc[t]);
        if (get_sub_group_local_id() == 0) scratch[t * groups + sg] = v;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float r = 0.0f;
    if (lid < nt) {
        for (uint i = 0; i < groups; i++) r += scratch[lid * groups + i];
    }
    return r;
#else
    uint n = get_local_size(0) * get_local_size(1);
    for (uint t = 0; t < nt; t++) scratch[t * n + lid] = acc[t];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint off = n >> 1; off > 0; off >>= 1) {
        if (lid < off) {
            for (uint t = 0; t < nt; t++) scratch[t * n + lid] += scratch[t * n + lid + off];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return lid < nt ? scratch[lid * n] : 0.0f;
#endif
}

float bf16_to_f32(ushort b)
{
    return as_float(((uint) b) << 16);
}

ushort f32_to_bf16(float f)
{
    uint u = as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (ushort) ((u >> 16) | 0x40u); /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (ushort) (u >> 16);
}

/* Elements 8i .. 8i+7 of an f32 row of n elements; zeros past the end. */
float8 load8_f32(global const float* p, uint i, uint n)
{
    uint e = 8 * i;
    if (e + 8 <= n) return vload8(0, p + e);
    float t[8];
    for (uint j = 0; j < 8; j++) t[j] = e + j < n ? p[e + j] : 0.0f;
    return vload8(0, t);
}

/* Stores elements 8i .. 8i+7 of a row of n elements at p (element type dst), up to the end. */
void store8(global uchar* p, uint i, uint n, float8 v, int dst)
{
    uint e = 8 * i;
    uint count = min(8u, n - e);
    if (dst == HEARTH_F32) {
        global float* q = (global float*) p;
        if (count == 8) { vstore8(v, 0, q + e); return; }
        float t[8];
        vstore8(v, 0, t);
        for (uint j = 0; j < count; j++) q[e + j] = t[j];
    } else if (dst == HEARTH_F16) {
        global half* q = (global half*) p;
        if (count == 8) { vstore_half8_rte(v, 0, q + e); return; }
        float t[8];
        vstore8(v, 0, t);
        for (uint j = 0; j < count; j++) vstore_half_rte(t[j], 0, q + e + j);
    } else {
        global ushort* q = (global ushort*) p;
        float t[8];
        vstore8(v, 0, t);
        for (uint j = 0; j < count; j++) q[e + j] = f32_to_bf16(t[j]);
    }
}

float hsum8(float8 v)
{
    float4 s = v.lo + v.hi;
    return (s.x + s.y) + (s.z + s.w);
}

#endif
