/*
 * experts.cl: the mixture-of-experts ops.
 * - top_k: x f32 [E, T] -> i32 [k, T], the indices of the k largest of each row, largest first,
 *   the lower index first among equal values (the reference's selection loop, exactly, NaNs
 *   included).
 * - gather: x f32 [E, T], ids i32 [k, T] -> f32 [k, T], out[t][j] = x[t][ids[t][j]] (0 for an
 *   id outside 0..E-1).
 * - mul_mat_id: w [K, N, E] of any type dequant.h decodes (as mul_mat.cl), x f32 [K, T] or
 *   [K, k*T], ids i32 [k, T] -> out f32 [N, k*T]: row s = t*k+j of out is expert ids[t][j]'s
 *   matrix (rows e*N .. e*N+N-1 of w) times x row t (or row s where x has k*T rows). Only the
 *   selected experts' rows are read; a slot whose id is outside 0..E-1 gets a row of zeros.
 * - weighted_sum: y f32 [N, k*T], weights f32 [k, T] -> f32 [N, T],
 *   out[t] = sum over j of weights[t][j] * y row t*k+j.
 * - add_id: y f32 [N, k*T], bias f32 [N, E], ids i32 [k, T] -> f32 [N, k*T], row s of y plus
 *   row ids[s] of bias (y's row unchanged for an id outside 0..E-1). May run in place.
 *
 * Variants:
 * - top_k: one work-item per row; global size (T rounded up to the work-group).
 * - gather: one work-item per (j, t); global size (k, T).
 * - weighted_sum: one work-item per (element, t); global size (N rounded up, T).
 * - add_id: one work-item per (element, slot); global size (N rounded up, k*T).
 * - mul_mat_id_vec_<type>: one work-group per (row n, slot s), like mul_mat_vec: the work-items
 *   read the slot's expert id and walk that expert's row n by octets. Global size
 *   (N * WG, k*T), local (WG, 1). For few tokens (each slot's expert read once per slot) and
 *   the float types; the quantized types go by int8 dot products there (mul_mat_id_q8 in
 *   mul_mat_q8.cl).
 * - mul_mat_id_group + mul_mat_id_tiled_<type>: a batch. mul_mat_id_group (one work-group)
 *   sorts the slots by expert into a scratch buffer of ints:
 *     [0] the number of tiles; count[E]; cursor[E]; tile_expert[MT]; tile_start[MT];
 *     tile_count[MT]; sorted[k*T]
 *   where MT (max_tiles) bounds the tiles, each up to 64 slots of one expert, and it zeroes
 *   the rows of slots with an id out of range. mul_mat_id_tiled_<type> is mul_mat_tiled with
 *   the 64 x columns of a tile gathered from its slots and w offset to its expert: a 16 x 16
 *   work-group computes 64 rows x 64 slots, so each expert's rows are read once per 64 of its
 *   slots. Global size (ceil(N/64) * 16, MT * 16); the work-groups past the tile count return.
 *
 * Checked against: the reference ops (ReferenceOps.topK, gather, weightedSum, addId and
 * ReferenceStream's mul_mat_id) by the conformance cases, and in ExpertsTest (both mul_mat_id
 * paths, every weight type).
 */
#include "common.h"
#include "dequant.h"
#include "tile.h"

kernel void top_k(global const uchar* x, ulong x_off, global uchar* out, ulong out_off,
                  uint E, uint k, uint rows)
{
    uint r = get_global_id(0);
    if (r >= rows) return;
    global const float* xr = CF32_AT(x, x_off) + (ulong) r * E;
    global int* o = I32_AT(out, out_off) + (ulong) r * k;
    for (uint j = 0; j < k; j++) {
        int best = -1;
        for (uint i = 0; i < E; i++) {
            if (best >= 0 && !(xr[i] > xr[best])) continue;
            bool taken = false;
            for (uint q = 0; q < j; q++) taken |= o[q] == (int) i;
            if (!taken) best = (int) i;
        }
        o[j] = best;
    }
}

kernel void gather(global const uchar* x, ulong x_off, global const uchar* ids, ulong ids_off,
                   global uchar* out, ulong out_off, uint E, uint k, uint rows)
{
    uint j = get_global_id(0);
    uint t = get_global_id(1);
    if (j >= k || t >= rows) return;
    ulong s = (ulong) t * k + j;
    int id = CI32_AT(ids, ids_off)[s];
    F32_AT(out, out_off)[s] = id >= 0 && (uint) id < E ? CF32_AT(x, x_off)[(ulong) t * E + id] : 0.0f;
}

kernel void add_id(global const uchar* y, ulong y_off, global const uchar* bias, ulong b_off,
                   global const uchar* ids, ulong ids_off, global uchar* out, ulong out_off,
                   uint N, uint E, uint slots)
{
    uint i = get_global_id(0);
    uint s = get_global_id(1);
    if (i >= N || s >= slots) return;
    int id = CI32_AT(ids, ids_off)[s];
    ulong at = (ulong) s * N + i;
    float v = CF32_AT(y, y_off)[at];
    if (id >= 0 && (uint) id < E) v += CF32_AT(bias, b_off)[(ulong) id * N + i];
    F32_AT(out, out_off)[at] = v;
}

kernel void weighted_sum(global const uchar* y, ulong y_off, global const uchar* wts, ulong w_off,
                         global uchar* out, ulong out_off, uint N, uint k, uint rows)
{
    uint i = get_global_id(0);
    uint t = get_global_id(1);
    if (i >= N || t >= rows) return;
    global const float* w = CF32_AT(wts, w_off) + (ulong) t * k;
    global const float* yr = CF32_AT(y, y_off) + (ulong) t * k * N + i;
    float s = 0.0f;
    for (uint j = 0; j < k; j++) s = fma(w[j], yr[(ulong) j * N], s);
    F32_AT(out, out_off)[(ulong) t * N + i] = s;
}

#define MUL_MAT_ID_VEC(TYPE)                                                                   \
kernel void mul_mat_id_vec_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,       \
                                  global const uchar* x, ulong x_off,                          \
                                  global const uchar* ids, ulong ids_off,                      \
                                  global uchar* out, ulong out_off,                            \
                                  uint K, uint N, uint E, uint used, uint per_slot,            \
                                  local float* scratch)                                        \
{                                                                                              \
    uint n = get_group_id(0);                                                                  \
    uint s = get_group_id(1);                                                                  \
    uint lid = get_local_id(0);                                                                \
    uint wg = get_local_size(0);                                                               \
    int e = CI32_AT(ids, ids_off)[s];                                                          \
    if (e < 0 || (uint) e >= E) {                                                              \
        if (lid == 0) F32_AT(out, out_off)[(ulong) s * N + n] = 0.0f;                          \
        return;                                                                                \
    }                                                                                          \
    global const uchar* row = w + w_off + ((ulong) e * N + n) * w_row_bytes;                   \
    global const float* xr = CF32_AT(x, x_off) + (ulong) (per_slot ? s : s / used) * K;        \
    uint octets = (K + 7) / 8;                                                                 \
    float acc = 0.0f;                                                                          \
    for (uint i = lid; i < octets; i += wg) {                                                  \
        acc += hsum8(deq8_##TYPE(row, i, K) * load8_f32(xr, i, K));                            \
    }                                                                                          \
    acc = wg_sum(acc, scratch);                                                                \
    if (lid == 0) F32_AT(out, out_off)[(ulong) s * N + n] = acc;                               \
}

#define ID_TILE TILE
#define ID_TILE_K TILE_K

kernel void mul_mat_id_group(global const uchar* ids, ulong ids_off, global uchar* gb, ulong g_off,
                             uint S, uint E, uint max_tiles, global uchar* out, ulong out_off, uint N)
{
    uint lid = get_local_id(0);
    uint wg = get_local_size(0);
    global const int* id = CI32_AT(ids, ids_off);
    global int* g = I32_AT(gb, g_off);
    global int* count = g + 1;
    global int* cursor = count + E;
    global int* tile_expert = cursor + E;
    global int* tile_start = tile_expert + max_tiles;
    global int* tile_count = tile_start + max_tiles;
    global int* sorted = tile_count + max_tiles;
    for (uint e = lid; e < E; e += wg) count[e] = 0;
    barrier(CLK_GLOBAL_MEM_FENCE);
    for (uint i = lid; i < S; i += wg) {
        int e = id[i];
        if (e >= 0 && (uint) e < E) {
            atomic_inc(count + e);
        } else {
            global float* o = F32_AT(out, out_off) + (ulong) i * N;
            for (uint n = 0; n < N; n++) o[n] = 0.0f;
        }
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    if (lid == 0) {
        int start = 0;
        int tiles = 0;
        for (uint e = 0; e < E; e++) {
            int c = count[e];
            cursor[e] = start;
            for (int s = 0; s < c; s += ID_TILE) {
                tile_expert[tiles] = (int) e;
                tile_start[tiles] = start + s;
                tile_count[tiles] = min(ID_TILE, c - s);
                tiles++;
            }
            start += c;
        }
        g[0] = tiles;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    for (uint i = lid; i < S; i += wg) {
        int e = id[i];
        if (e >= 0 && (uint) e < E) sorted[atomic_inc(cursor + e)] = (int) i;
    }
}

#define MUL_MAT_ID_TILED(TYPE)                                                                 \
kernel __attribute__((reqd_work_group_size(16, 16, 1)))                                        \
void mul_mat_id_tiled_##TYPE(global const uchar* w, ulong w_off, ulong w_row_bytes,            \
                             global const uchar* x, ulong x_off,                               \
                             global uchar* out, ulong out_off,                                 \
                             global const uchar* gb, ulong g_off,                              \
                             uint K, uint N, uint E, uint max_tiles, uint used, uint per_slot) \
{                                                                                              \
    local float ws[ID_TILE_K][ID_TILE + 1];                                                    \
    local float xs[ID_TILE_K][ID_TILE + 1];                                                    \
    global const int* g = CI32_AT(gb, g_off);                                                  \
    uint tile = get_group_id(1);                                                               \
    if (tile >= (uint) g[0]) return;                                                           \
    global const int* sorted = g + 1 + 2 * E + 3 * max_tiles;                                  \
    uint e = (uint) g[1 + 2 * E + tile];                                                       \
    uint s0 = (uint) g[1 + 2 * E + max_tiles + tile];                                          \
    uint cnt = (uint) g[1 + 2 * E + 2 * max_tiles + tile];                                     \
    uint tx = get_local_id(0);                                                                 \
    uint ty = get_local_id(1);                                                                 \
    uint lid = ty * 16 + tx;                                                                   \
    uint n0 = get_group_id(0) * ID_TILE;                                                       \
    uint r = lid >> 2;                                                                         \
    uint part = lid & 3;                                                                       \
    bool wok = n0 + r < N;                                                                     \
    bool xok = r < cnt;                                                                        \
    uint slot = (uint) sorted[s0 + min(r, cnt - 1)];                                           \
    global const uchar* wrow = w + w_off + ((ulong) e * N + min(n0 + r, N - 1)) * w_row_bytes; \
    global const float* xrow = CF32_AT(x, x_off) + (ulong) (per_slot ? slot : slot / used) * K; \
    float acc[16];                                                                             \
    for (uint j = 0; j < 16; j++) acc[j] = 0.0f;                                               \
    TILE_ACCUMULATE(TYPE, wrow, xrow, wok, xok, K)                                             \
    global float* o = F32_AT(out, out_off);                                                    \
    for (uint c = 0; c < 4; c++) {                                                             \
        uint j = ty + 16 * c;                                                                  \
        if (j >= cnt) continue;                                                                \
        ulong orow = (ulong) sorted[s0 + j] * N;                                               \
        for (uint a = 0; a < 4; a++) {                                                         \
            uint n = n0 + tx + 16 * a;                                                         \
            if (n < N) o[orow + n] = acc[a * 4 + c];                                           \
        }                                                                                      \
    }                                                                                          \
}

HEARTH_FOR_EACH_WEIGHT_TYPE(MUL_MAT_ID_VEC)
HEARTH_FOR_EACH_WEIGHT_TYPE(MUL_MAT_ID_TILED)
