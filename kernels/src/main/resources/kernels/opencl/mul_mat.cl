/*
 * mul_mat.cl: out[t][n] = dot(w row n, x row t), for w [K, N] of any type dequant.h decodes
 * (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q2_k .. q6_k), x f32 [K, T], out f32 [N, T].
 *
 * Variants, per weight type:
 * - mul_mat_vec_<type>: a few tokens (generation). One work-group per (row, token): the
 *   work-items walk the row's octets (8 elements, decoded by dequant.h), multiply by x, and
 *   reduce with wg_sum. Global size (N * WG, T), local (WG, 1); scratch is WG floats.
 * - mul_mat_tiled_<type>: many tokens (prompt). A 16 x 16 work-group computes a 64 x 64 tile of
 *   out (each work-item 4 x 4), staging 32-deep slices of w (decoded to f32) and x in local
 *   memory. Global size (ceil(N/64) * 16, ceil(T/64) * 16).
 *
 * Checked against: mul_mat of the reference codecs' decoded rows in MulMatTest (odd N, T, K).
 */
#include "common.h"
#include "dequant.h"

#define MUL_MAT_VEC(TYPE)                                                                      \
kernel void mul_mat_vec_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,          \
                               global const uchar* x, ulong x_off,                             \
                               global uchar* out, ulong out_off,                               \
                               uint K, uint N, local float* scratch)                           \
{                                                                                              \
    uint n = get_group_id(0);                                                                  \
    uint t = get_group_id(1);                                                                  \
    uint lid = get_local_id(0);                                                                \
    uint wg = get_local_size(0);                                                               \
    global const uchar* row = w + w_off + (ulong) n * w_row_bytes;                             \
    global const float* xr = CF32_AT(x, x_off) + (ulong) t * K;                                \
    uint octets = (K + 7) / 8;                                                                 \
    float acc = 0.0f;                                                                          \
    for (uint i = lid; i < octets; i += wg) {                                                  \
        acc += hsum8(deq8_##TYPE(row, i, K) * load8_f32(xr, i, K));                            \
    }                                                                                          \
    acc = wg_sum(acc, scratch);                                                                \
    if (lid == 0) F32_AT(out, out_off)[(ulong) t * N + n] = acc;                               \
}

#define TILE 64
#define TILE_K 32

#define MUL_MAT_TILED(TYPE)                                                                    \
kernel __attribute__((reqd_work_group_size(16, 16, 1)))                                        \
void mul_mat_tiled_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,               \
                          global const uchar* x, ulong x_off,                                  \
                          global uchar* out, ulong out_off,                                    \
                          uint K, uint N, uint ntok)                                           \
{                                                                                              \
    local float ws[TILE_K][TILE + 1];                                                          \
    local float xs[TILE_K][TILE + 1];                                                          \
    uint tx = get_local_id(0);                                                                 \
    uint ty = get_local_id(1);                                                                 \
    uint lid = ty * 16 + tx;                                                                   \
    uint n0 = get_group_id(0) * TILE;                                                          \
    uint t0 = get_group_id(1) * TILE;                                                          \
    uint r = lid >> 2;                                                                         \
    uint part = lid & 3;                                                                       \
    bool wok = n0 + r < N;                                                                     \
    bool xok = t0 + r < ntok;                                                                  \
    global const uchar* wrow = w + w_off + (ulong) min(n0 + r, N - 1) * w_row_bytes;           \
    global const float* xrow = CF32_AT(x, x_off) + (ulong) min(t0 + r, ntok - 1) * K;          \
    float acc[16];                                                                             \
    for (uint j = 0; j < 16; j++) acc[j] = 0.0f;                                               \
    for (uint k0 = 0; k0 < K; k0 += TILE_K) {                                                  \
        uint i = k0 / 8 + part;                                                                \
        float8 a = wok ? deq8_##TYPE(wrow, i, K) : (float8) (0.0f);                            \
        float8 b = xok ? load8_f32(xrow, i, K) : (float8) (0.0f);                              \
        uint kb = part * 8;                                                                    \
        ws[kb + 0][r] = a.s0; ws[kb + 1][r] = a.s1; ws[kb + 2][r] = a.s2; ws[kb + 3][r] = a.s3; \
        ws[kb + 4][r] = a.s4; ws[kb + 5][r] = a.s5; ws[kb + 6][r] = a.s6; ws[kb + 7][r] = a.s7; \
        xs[kb + 0][r] = b.s0; xs[kb + 1][r] = b.s1; xs[kb + 2][r] = b.s2; xs[kb + 3][r] = b.s3; \
        xs[kb + 4][r] = b.s4; xs[kb + 5][r] = b.s5; xs[kb + 6][r] = b.s6; xs[kb + 7][r] = b.s7; \
        barrier(CLK_LOCAL_MEM_FENCE);                                                          \
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
    }                                                                                          \
    global float* o = F32_AT(out, out_off);                                                    \
    for (uint a = 0; a < 4; a++) {                                                             \
        uint n = n0 + tx + 16 * a;                                                             \
        for (uint c = 0; c < 4; c++) {                                                         \
            uint t = t0 + ty + 16 * c;                                                         \
            if (n < N && t < ntok) o[(ulong) t * N + n] = acc[a * 4 + c];                     \
        }                                                                                      \
    }                                                                                          \
}

HEARTH_FOR_EACH_WEIGHT_TYPE(MUL_MAT_VEC)
HEARTH_FOR_EACH_WEIGHT_TYPE(MUL_MAT_TILED)
