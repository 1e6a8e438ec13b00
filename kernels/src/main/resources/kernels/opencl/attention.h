/*
 * attention.h: what attention.cl and attention_tiled.cl share: kv_load, one element of a KV
 * cache of type 0 f32, 1 f16, 2 q8_0 or 3 q4_0 (blocks of 32 along the rows, decoded element by
 * element, so a block may span heads).
 *
 * Checked against: ReferenceOps.attention through both kernels (RopeAttentionTest, RingCacheTest,
 * the conformance cases of every cache type).
 */
#ifndef HEARTH_OPENCL_ATTENTION_H
#define HEARTH_OPENCL_ATTENTION_H

#include "common.h"
#include "common/quant_blocks.h"

/* Element at of a cache of type 0 f32, 1 f16, 2 q8_0, 3 q4_0 (blocks of 32 along the rows). */
float kv_load(global const uchar* buf, ulong off, ulong at, int type)
{
    if (type == 0) return CF32_AT(buf, off)[at];
    if (type == 1) return vload_half(0, CHALF_AT(buf, off) + at);
    uint j = at % 32;
    if (type == 2) {
        global const uchar* b = buf + off + (at / 32) * Q8_0_BYTES;
        return vload_half(0, (global const half*) b) * (float) (char) b[Q8_0_QS + j];
    }
    global const uchar* b = buf + off + (at / 32) * Q4_0_BYTES;
    uchar q = b[Q4_0_QS + (j & 15)];
    return vload_half(0, (global const half*) b) * (float) ((j < 16 ? q & 15 : q >> 4) - 8);
}

#endif
