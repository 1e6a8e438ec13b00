/*
 * get_rows.cl: out row t = table row ids[t], decoded to f32. table [K, V] of any type
 * dequant.h decodes (a repacked q4_0r / q8_0r table: a tied output head's bytes); ids i32 [T]; out f32 [K, T]. An id outside 0..V-1 gives a
 * row of zeros.
 *
 * Variants: get_rows_<type>. One work-item per octet (8 elements) of an output row:
 * global size (ceil(K/8) rounded up to the work-group, T).
 *
 * Checked against: Codecs.of(type).dequantizeRow of the chosen rows in GetRowsTest (repacked tables too).
 */
#include "common.h"
#include "dequant.h"

#define GET_ROWS(TYPE)                                                                         \
kernel void get_rows_##TYPE(global const uchar* tab, ulong tab_off, ulong row_bytes,           \
                            global const uchar* ids, ulong ids_off,                            \
                            global uchar* out, ulong out_off, uint K, uint V, uint ntok)       \
{                                                                                              \
    uint i = get_global_id(0);                                                                 \
    uint t = get_global_id(1);                                                                 \
    if (i >= (K + 7) / 8 || t >= ntok) return;                                                 \
    int id = CI32_AT(ids, ids_off)[t];                                                         \
    float8 v = (float8) (0.0f);                                                                \
    if (id >= 0 && (uint) id < V) v = deq8_##TYPE(tab + tab_off + (ulong) id * row_bytes, i, K); \
    store8(out + out_off + (ulong) t * K * 4, i, K, v, HEARTH_F32);                            \
}

HEARTH_FOR_EACH_WEIGHT_TYPE(GET_ROWS)
HEARTH_FOR_EACH_REPACKED_TYPE(GET_ROWS)
