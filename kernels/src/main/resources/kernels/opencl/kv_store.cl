/*
 * kv_store.cl: writes src f32 [rowLen, T] into the cache [rowLen, ctx] at rows pos[t] % ctx
 * (a ring: a sliding-window layer's cache may hold only its window, position p at row p % ctx;
 * where ctx exceeds every position this is row pos[t]). cache_type: 0 f32; 1 f16 (rounds to
 * nearest even, as vstore_half_rte); 2 q8_0 and 3 q4_0, blocks of 32 along the row quantized as
 * ggml's reference quantizers do (q8_0: d = max|x| / 127, q = round(x / d), halves away from
 * zero; q4_0: d = the value of largest magnitude / -8, q = min(15, (int) (x / d + 8.5))).
 * A negative position writes nothing.
 *
 * Variants: kv_store. f32 and f16: one work-item per element, global (rowLen rounded up, T);
 * q8_0 and q4_0: one work-item per block, global (rowLen / 32 rounded up, T).
 *
 * Checked against: the rows read back and Float.floatToFloat16 in RopeAttentionTest; positions
 * past ctx against rows pos % ctx of ReferenceOps' full-size cache in RingCacheTest; q8_0 and
 * q4_0 against the reference codecs in the conformance cases (kv_store cache=q8_0, q4_0).
 */
#include "common.h"
#include "common/quant_blocks.h"

kernel void kv_store(global const uchar* src, ulong src_off, global const uchar* pos, ulong pos_off,
                     global uchar* cache, ulong cache_off, int cache_type, uint rowLen, uint ctx, uint ntok)
{
    uint i = get_global_id(0);
    uint t = get_global_id(1);
    uint units = cache_type >= 2 ? rowLen / 32 : rowLen;
    if (i >= units || t >= ntok) return;
    int p = CI32_AT(pos, pos_off)[t];
    if (p < 0 || ctx == 0) return;
    uint row = (uint) p < ctx ? (uint) p : (uint) p % ctx;
    global const float* x = CF32_AT(src, src_off) + (ulong) t * rowLen;
    if (cache_type == 2) {
        x += 32 * i;
        float amax = 0.0f;
        for (uint j = 0; j < 32; j++) amax = fmax(amax, fabs(x[j]));
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        global uchar* b = cache + cache_off + ((ulong) row * units + i) * Q8_0_BYTES;
        vstore_half_rte(d, 0, (global half*) b);
        for (uint j = 0; j < 32; j++) b[2 + j] = (uchar) (char) round(x[j] * id);
        return;
    }
    if (cache_type == 3) {
        x += 32 * i;
        float amax = 0.0f, max = 0.0f;
        for (uint j = 0; j < 32; j++) {
            if (amax < fabs(x[j])) {
                amax = fabs(x[j]);
                max = x[j];
            }
        }
        float d = max / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        global uchar* b = cache + cache_off + ((ulong) row * units + i) * Q4_0_BYTES;
        vstore_half_rte(d, 0, (global half*) b);
        for (uint j = 0; j < 16; j++) {
            int lo = min(15, (int) (x[j] * id + 8.5f));
            int hi = min(15, (int) (x[j + 16] * id + 8.5f));
            b[Q4_0_QS + j] = (uchar) (lo | hi << 4);
        }
        return;
    }
    float v = x[i];
    ulong at = (ulong) row * rowLen + i;
    if (cache_type == 1) vstore_half_rte(v, 0, HALF_AT(cache, cache_off) + at);
    else F32_AT(cache, cache_off)[at] = v;
}
