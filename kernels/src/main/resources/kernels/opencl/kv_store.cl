/*
 * kv_store.cl: writes src f32 [rowLen, T] into the cache [rowLen, ctx] at rows pos[t] % ctx
 * (a ring: a sliding-window layer's cache may hold only its window, position p at row p % ctx;
 * where ctx exceeds every position this is row pos[t]); the cache is f32 or f16 (f16 rounds to
 * nearest even, as vstore_half_rte). A negative position writes nothing.
 *
 * Variants: kv_store with cache_f16 = 0 or 1. One work-item per element: global (rowLen
 * rounded up, T).
 *
 * Checked against: the rows read back and Float.floatToFloat16 in RopeAttentionTest; positions
 * past ctx against rows pos % ctx of ReferenceOps' full-size cache in RingCacheTest.
 */
#include "common.h"

kernel void kv_store(global const uchar* src, ulong src_off, global const uchar* pos, ulong pos_off,
                     global uchar* cache, ulong cache_off, int cache_f16, uint rowLen, uint ctx, uint ntok)
{
    uint i = get_global_id(0);
    uint t = get_global_id(1);
    if (i >= rowLen || t >= ntok) return;
    int p = CI32_AT(pos, pos_off)[t];
    if (p < 0 || ctx == 0) return;
    uint row = (uint) p < ctx ? (uint) p : (uint) p % ctx;
    float v = CF32_AT(src, src_off)[(ulong) t * rowLen + i];
    ulong at = (ulong) row * rowLen + i;
    if (cache_f16) vstore_half_rte(v, 0, HALF_AT(cache, cache_off) + at);
    else F32_AT(cache, cache_off)[at] = v;
}
