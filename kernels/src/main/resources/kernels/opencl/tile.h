/*
 * tile.h: the inner loop of the tiled products (mul_mat_tiled and mul_mat_tiled_small in
 * mul_mat.cl, mul_mat_id_tiled in experts.cl). A 16 x 16 work-group walks K in steps of TILE_K:
 * each work-item decodes one octet of its weight row (wrow, of type TYPE) and loads one of its
 * activation row (xrow) into the local tiles ws and xs, then accumulates its block of outputs:
 * - TILE_ACCUMULATE, 64 rows x 64 tokens: a 4 x 4 block in acc[16] (acc[a * 4 + c]: row
 *   tx + 16a, column ty + 16c);
 * - TILE_ACCUMULATE_SMALL, 64 rows x 16 tokens: 4 rows in acc[4] (acc[a]: row tx + 16a,
 *   column ty), for batches of a few tens of tokens: the weight slice is decoded as often per
 *   work-group, and each work-group covers 16 tokens instead of 64.
 * TYPE is any type of dequant.h, q4_0r and q8_0r (repacked rows; K locates their scales) too.
 * wok / xok false load zeros (rows past the end). Expects r = lid / 4 and part = lid % 4, local
 * ws[TILE_K][TILE + 1] and xs[TILE_K][tokens of the tile + 1].
 */
#ifndef HEARTH_TILE_H
#define HEARTH_TILE_H

#define TILE 64
#define SMALL_TILE 16
#define TILE_K 32

/* Stages one TILE_K-deep slice from k0 in ws and xs: each work-item decodes one octet of its
 * weight row and, for the first TT * 4 work-items (TT token rows), one octet of its x row. */
#define TILE_STAGE(TYPE, wrow, xrow, wok, xok, K, k0, TT)                                       \
    {                                                                                          \
        uint i = k0 / 8 + part;                                                                \
        uint kb = part * 8;                                                                    \
        float8 a = wok ? deq8_##TYPE(wrow, i, K) : (float8) (0.0f);                            \
        ws[kb + 0][r] = a.s0; ws[kb + 1][r] = a.s1; ws[kb + 2][r] = a.s2; ws[kb + 3][r] = a.s3; \
        ws[kb + 4][r] = a.s4; ws[kb + 5][r] = a.s5; ws[kb + 6][r] = a.s6; ws[kb + 7][r] = a.s7; \
        if (r < TT) {                                                                          \
            float8 b = xok ? load8_f32(xrow, i, K) : (float8) (0.0f);                          \
            xs[kb + 0][r] = b.s0; xs[kb + 1][r] = b.s1; xs[kb + 2][r] = b.s2; xs[kb + 3][r] = b.s3; \
            xs[kb + 4][r] = b.s4; xs[kb + 5][r] = b.s5; xs[kb + 6][r] = b.s6; xs[kb + 7][r] = b.s7; \
        }                                                                                      \
        barrier(CLK_LOCAL_MEM_FENCE);                                                          \
    }

/* 64 rows x 64 tokens: acc[a * 4 + c] is row tx + 16a, token ty + 16c. */
#define TILE_ACCUMULATE(TYPE, wrow, xrow, wok, xok, K)                                         \
    for (uint k0 = 0; k0 < K; k0 += TILE_K) {                                                  \
        TILE_STAGE(TYPE, wrow, xrow, wok, xok, K, k0, TILE)                                    \
        for (uint kk = 0; kk < TILE_K; kk++) {                                                 \
            float4 av = (float4) (ws[kk][tx], ws[kk][tx + 16], ws[kk][tx + 32], ws[kk][tx + 48]); \
            float4 bv = (float4) (xs[kk][ty], xs[kk][ty + 16], xs[kk][ty + 32], xs[kk][ty + 48]); \
            acc[0] = fma(av.x, bv.x, acc[0]);  acc[1] = fma(av.x, bv.y, acc[1]);              \
            acc[2] = fma(av.x, bv.z, acc[2]);  acc[3] = fma(av.x, bv.w, acc[3]);              \
            acc[4] = fma(av.y, bv.x, acc[4]);  acc[5] = fma(av.y, bv.y, acc[5]);              \
            acc[6] = fma(av.y, bv.z, acc[6]);  acc[7] = fma(av.y, bv.w, acc[7]);              \
            acc[8] = fma(av.z, bv.x, acc[8]);  acc[9] = fma(av.z, bv.y, acc[9]);              \
            acc[10] = fma(av.z, bv.z, acc[10]); acc[11] = fma(av.z, bv.w, acc[11]);           \
            acc[12] = fma(av.w, bv.x, acc[12]); acc[13] = fma(av.w, bv.y, acc[13]);           \
            acc[14] = fma(av.w, bv.z, acc[14]); acc[15] = fma(av.w, bv.w, acc[15]);           \
        }                                                                                      \
        barrier(CLK_LOCAL_MEM_FENCE);                                                          \
    }

/* 64 rows x 16 tokens (small batches, where a 64-token tile would be mostly empty): acc[a] is
 * row tx + 16a, token ty; xs holds SMALL_TILE token rows. */
#define TILE_ACCUMULATE_SMALL(TYPE, wrow, xrow, wok, xok, K)                                   \
    for (uint k0 = 0; k0 < K; k0 += TILE_K) {                                                  \
        TILE_STAGE(TYPE, wrow, xrow, wok, xok, K, k0, SMALL_TILE)                              \
        for (uint kk = 0; kk < TILE_K; kk++) {                                                 \
            float b = xs[kk][ty];                                                              \
            acc[0] = fma(ws[kk][tx], b, acc[0]);                                               \
            acc[1] = fma(ws[kk][tx + 16], b, acc[1]);                                          \
            acc[2] = fma(ws[kk][tx + 32], b, acc[2]);                                          \
            acc[3] = fma(ws[kk][tx + 48], b, acc[3]);                                          \
        }                                                                                      \
        barrier(CLK_LOCAL_MEM_FENCE);                                                          \
    }

#endif
