/*
 * convert.cl: x [K, rows] of any type dequant.h decodes (f32, f16, bf16 and the quantized
 * types listed there), converted to f32, f16 (round to nearest even, as vstore_half_rte) or
 * bf16 (round to nearest even, NaN kept).
 *
 * Variants: convert_<source type>, with the destination type as an argument (HEARTH_F32,
 * HEARTH_F16, HEARTH_BF16). One work-item per octet of a row: global (ceil(K/8), rows).
 *
 * Checked against: Codecs.of(type) decode and Float.floatToFloat16 in ElementwiseTest.
 */
#include "common.h"
#include "dequant.h"

#define CONVERT(TYPE)                                                                          \
kernel void convert_##TYPE(global const uchar* src, ulong src_off, ulong row_bytes,            \
                           global uchar* dst, ulong dst_off, int dst_type, uint K, uint rows)  \
{                                                                                              \
    uint i = get_global_id(0);                                                                 \
    uint row = get_global_id(1);                                                               \
    if (i >= (K + 7) / 8 || row >= rows) return;                                               \
    float8 v = deq8_##TYPE(src + src_off + (ulong) row * row_bytes, i, K);                     \
    ulong esize = dst_type == HEARTH_F32 ? 4 : 2;                                              \
    store8(dst + dst_off + (ulong) row * K * esize, i, K, v, dst_type);                        \
}

HEARTH_FOR_EACH_WEIGHT_TYPE(CONVERT)
