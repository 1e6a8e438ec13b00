/*
 * mul_mat.cl: out[t][n] = dot(w row n, x row t), for w [K, N] of any type dequant.h decodes
 * (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q2_k .. q6_k, mxfp4; the tiled kernels
 * also q4_0r and q8_0r, Q4_0 and Q8_0 repacked at load), x f32 [K, T], out f32 [N, T].
 *
 * Variants, per weight type:
 * - mul_mat_vec<NT>_<type>, NT = 1, 4, 8, for f32, f16 and bf16 (the quantized types go by
 *   int8 dot products, mul_mat_q8.cl): up to 8 tokens (generation). One work-group per
 *   (row, NT tokens): the work-items walk the row's octets (8 elements, decoded by dequant.h)
 *   once, keep one float per token, and reduce all NT at the end with wg_sum_tokens. The
 *   registers follow the need: the host picks the smallest NT that holds the tokens (NT 8
 *   for each 8 of a larger batch where the tiled kernel cannot run). Global size
 *   (N * WG, ceil(T / NT)), local (WG, 1); scratch is NT * WG floats.
 * - mul_mat_tiled_<type>: many tokens (prompt). A 16 x 16 work-group computes a 64 x 64 tile of
 *   out (each work-item 4 x 4), staging 32-deep slices of w (decoded to f32) and x in local
 *   memory. Global size (ceil(N/64) * 16, ceil(T/64) * 16).
 * - mul_mat_tiled_small_<type>: a batch of a few tens of tokens, where most of a 64-token tile
 *   would be empty: the same 16 x 16 work-group computes 64 rows x 16 tokens (each work-item
 *   4 x 1). Global size (ceil(N/64) * 16, ceil(T/16) * 16). The host takes it up to
 *   Planner.SMALL_TILE_MAX_TOKENS tokens.
 *
 * Checked against: mul_mat of the reference codecs' decoded rows in MulMatTest (odd N, T, K; repacked weights of K 256 and 512).
 */
#include "common.h"
#include "dequant.h"

/* The products of one weight row with NT tokens of x: the row is decoded once per octet. */
#define MUL_MAT_VEC(TYPE, NT)                                                                  \
kernel void mul_mat_vec##NT##_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,    \
                                     global const uchar* x, ulong x_off,                       \
                                     global uchar* out, ulong out_off,                         \
                                     uint K, uint N, uint ntok, local float* scratch)          \
{                                                                                              \
    uint n = get_group_id(0);                                                                  \
    uint t0 = get_group_id(1) * NT;                                                            \
    uint nt = min((uint) NT, ntok - t0);                                                       \
    uint lid = get_local_id(0);                                                                \
    uint wg = get_local_size(0);                                                               \
    global const uchar* row = w + w_off + (ulong) n * w_row_bytes;                             \
    global const float* xr = CF32_AT(x, x_off) + (ulong) t0 * K;                               \
    uint octets = (K + 7) / 8;                                                                 \
    float acc[NT];                                                                             \
    for (uint t = 0; t < NT; t++) acc[t] = 0.0f;                                               \
    for (uint i = lid; i < octets; i += wg) {                                                  \
        float8 wv = deq8_##TYPE(row, i, K);                                                    \
        for (uint t = 0; t < NT; t++) {                                                        \
            if (t < nt) acc[t] += hsum8(wv * load8_f32(xr + (ulong) t * K, i, K));             \
        }                                                                                      \
    }                                                                                          \
    float r = wg_sum_tokens(acc, NT, scratch);                                                 \
    if (lid < nt) F32_AT(out, out_off)[(ulong) (t0 + lid) * N + n] = r;                        \
}

#define MUL_MAT_VEC_ALL(TYPE) MUL_MAT_VEC(TYPE, 1) MUL_MAT_VEC(TYPE, 4) MUL_MAT_VEC(TYPE, 8)

#include "tile.h"

/* The tiled kernels' work-item: its place in the 16 x 16 group, the local tiles (TT token rows),
 * the weight row and x row it stages (r = lid / 4, part = lid % 4, as tile.h expects). */
#define TILED_SETUP(TT)                                                                        \
    local float ws[TILE_K][TILE + 1];                                                          \
    local float xs[TILE_K][TT + 1];                                                            \
    uint tx = get_local_id(0);                                                                 \
    uint ty = get_local_id(1);                                                                 \
    uint lid = ty * 16 + tx;                                                                   \
    uint n0 = get_group_id(0) * TILE;                                                          \
    uint t0 = get_group_id(1) * (TT);                                                          \
    uint r = lid >> 2;                                                                         \
    uint part = lid & 3;                                                                       \
    bool wok = n0 + r < N;                                                                     \
    bool xok = t0 + r < ntok;                                                                  \
    global const uchar* wrow = w + w_off + (ulong) min(n0 + r, N - 1) * w_row_bytes;           \
    global const float* xrow = CF32_AT(x, x_off) + (ulong) min(t0 + r, ntok - 1) * K;

#define MUL_MAT_TILED(TYPE)                                                                    \
kernel __attribute__((reqd_work_group_size(16, 16, 1)))                                        \
void mul_mat_tiled_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,               \
                          global const uchar* x, ulong x_off,                                  \
                          global uchar* out, ulong out_off,                                    \
                          uint K, uint N, uint ntok)                                           \
{                                                                                              \
    TILED_SETUP(TILE)                                                                          \
    float acc[16];                                                                             \
    for (uint j = 0; j < 16; j++) acc[j] = 0.0f;                                               \
    TILE_ACCUMULATE(TYPE, wrow, xrow, wok, xok, K)                                             \
    global float* o = F32_AT(out, out_off);                                                    \
    for (uint a = 0; a < 4; a++) {                                                             \
        uint n = n0 + tx + 16 * a;                                                             \
        for (uint c = 0; c < 4; c++) {                                                         \
            uint t = t0 + ty + 16 * c;                                                         \
            if (n < N && t < ntok) o[(ulong) t * N + n] = acc[a * 4 + c];                     \
        }                                                                                      \
    }                                                                                          \
}

#define MUL_MAT_TILED_SMALL(TYPE)                                                              \
kernel __attribute__((reqd_work_group_size(16, 16, 1)))                                        \
void mul_mat_tiled_small_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,         \
                                global const uchar* x, ulong x_off,                            \
                                global uchar* out, ulong out_off,                              \
                                uint K, uint N, uint ntok)                                     \
{                                                                                              \
    TILED_SETUP(SMALL_TILE)                                                                    \
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};                                                   \
    TILE_ACCUMULATE_SMALL(TYPE, wrow, xrow, wok, xok, K)                                       \
    uint t = t0 + ty;                                                                          \
    if (t < ntok) {                                                                            \
        global float* o = F32_AT(out, out_off) + (ulong) t * N;                                \
        for (uint a = 0; a < 4; a++) {                                                         \
            uint n = n0 + tx + 16 * a;                                                         \
            if (n < N) o[n] = acc[a];                                                          \
        }                                                                                      \
    }                                                                                          \
}

MUL_MAT_VEC_ALL(f32)
MUL_MAT_VEC_ALL(f16)
MUL_MAT_VEC_ALL(bf16)
HEARTH_FOR_EACH_WEIGHT_TYPE(MUL_MAT_TILED)
HEARTH_FOR_EACH_WEIGHT_TYPE(MUL_MAT_TILED_SMALL)
HEARTH_FOR_EACH_REPACKED_TYPE(MUL_MAT_TILED)
HEARTH_FOR_EACH_REPACKED_TYPE(MUL_MAT_TILED_SMALL)
