/*
 * common.cuh: helpers that every CUDA kernel file of Hearth includes.
 *
 * - Tensors are passed as typed device pointers that already include the tensor's byte offset;
 *   quantized weights as const unsigned char* (blocks are only 2-byte aligned in GGUF, so they
 *   are read with byte and 16-bit loads).
 * - Halves: load_half/store_half convert IEEE binary16 with round-to-nearest-even; bf16 is the
 *   upper half of an f32, rounded to nearest even with NaNs kept quiet (as ggml and the
 *   reference codecs of dev.hearth.runtime.dtype).
 * - warp_sum/warp_max reduce over the 32 lanes of a warp with shuffles and give every lane the
 *   result; block_sum/block_max do the same over a block (blockDim.x a multiple of 32, at most
 *   1024) through 32 floats of shared memory.
 * - Block layouts of the GGUF quant types (the same as kernels/common/quant_blocks.h):
 *     Q4_0  32 elements, 18 bytes: half d; uchar qs[16]      x = d * (nibble - 8)
 *     Q4_1  32 elements, 20 bytes: half d, m; uchar qs[16]   x = d * nibble + m
 *     Q5_0  32 elements, 22 bytes: half d; uchar qh[4]; uchar qs[16]   x = d * (q - 16), bit j of
 *           qh (a little-endian uint32) the fifth bit of element j
 *     Q5_1  32 elements, 24 bytes: half d, m; uchar qh[4]; uchar qs[16]  x = d * q + m
 *     Q8_0  32 elements, 34 bytes: half d; char qs[32]        x = d * q
 *     MXFP4 32 elements, 17 bytes: uchar e (E8M0); uchar qs[16]   x = e2m1(nibble) * 2^(e-127)
 *     Q2_K 256 elements, 84 bytes: uchar scales[16]; uchar qs[64]; half d, dmin
 *     Q3_K 256 elements, 110 bytes: uchar hmask[32]; uchar qs[64]; uchar scales[12]; half d
 *     Q4_K 256 elements, 144 bytes: half d, dmin; uchar scales[12]; uchar qs[128]
 *     Q5_K 256 elements, 176 bytes: half d, dmin; uchar scales[12]; uchar qh[32]; uchar qs[128]
 *     Q6_K 256 elements, 210 bytes: uchar ql[128], qh[64]; char scales[16]; half d
 *   Legacy nibbles: byte j of qs holds element j (low) and j + 16 (high). Q4_0 and Q8_0 rows may
 *   also come repacked at load, quants first then scales (T_Q4_0R, T_Q8_0R below). dequant_at(type, row,
 *   k) gives element k of a row of any supported type; block_elems/block_bytes their blocks.
 * - Matrix-vector row dot products, shared by mul_mat_vec.cu and experts.cu (mul_mat_id): one
 *   warp per weight row, or for short rows a group of `lanes` (16) consecutive lanes per row; mv_dot_*<NT>(row, x, K, nt, acc, lanes = 32) adds this lane's share of
 *   dot(row, x row j) to acc[j] for j < nt <= NT (NT a template parameter, so that the 1-token
 *   variants hold one accumulator), the x rows consecutive, K floats apart (q8_1 activations:
 *   K/32 blocks apart), so that lanes_sum(acc[j], lanes) (warp_sum for 32) is the dot product. Where
 *   `parts` such groups share a row (part, parts: the split variant of mul_mat_vec, a group per
 *   warp), group p reads the row as lanes p*lanes .. (p+1)*lanes-1 of a group of lanes*parts, and
 *   the row's dot product is the sum of the groups' lanes_sum.
 *   Float types: the group's lanes stride over elements. Every quantized type goes through mv_dot_q<TYPE, NT>: the int8 activations
 *   of q8_1 blocks (see quantize_q8_1 in mul_mat_vec.cu) and dp4a; mv_load<TYPE> reads one
 *   32-bit word of packed quants per lane (the repacked types 16 bytes) (lanes on consecutive words) and unpacks it into one
 *   or two words of 4 weights as int8x4 (the nibble types: low and high nibbles), each with a
 *   scale s and offset m (w = s*q + m), so a word adds d_x * (s * dp4a(q, x) + m * dp4a(1, x))
 *   (the second dp4a only where m can be nonzero).
 *
 * Checked against: the op tests of dev.hearth.backend.cuda (every kernel uses these), which
 * compare with the reference backend; backends/cuda/src/test/emu runs them on the CPU against
 * double-precision references (every weight type and token variant).
 */
#ifndef HEARTH_CUDA_COMMON_CUH
#define HEARTH_CUDA_COMMON_CUH

#include <cuda_fp16.h>

/* Tensor type codes shared with the host (dev.hearth.backend.cuda.KernelType): GGUF type ids. */
#define T_F32 0
#define T_F16 1
#define T_Q4_0 2
#define T_Q4_1 3
#define T_Q5_0 6
#define T_Q5_1 7
#define T_Q8_0 8
#define T_Q2_K 10
#define T_Q3_K 11
#define T_Q4_K 12
#define T_Q5_K 13
#define T_Q6_K 14
#define T_BF16 30
#define T_MXFP4 39
/*
 * Q4_0 and Q8_0 rows repacked at load (CudaDevice.prepareWeight, for rows of K a multiple of 256
 * in 16-byte aligned tensors): a row holds all its blocks' quants in block order (16 bytes a
 * Q4_0 block, nibbles as in the block; 32 a Q8_0 one), then all its blocks' half scales d: the
 * same bytes a row as the GGUF layout, with 16-byte aligned quants. Internal ids (the GGUF id +
 * 256), never in a file.
 */
#define T_Q4_0R 258
#define T_Q8_0R 264

#define Q4_0_BYTES 18
#define Q4_1_BYTES 20
#define Q5_0_BYTES 22
#define Q5_1_BYTES 24
#define Q8_0_BYTES 34
#define MXFP4_BYTES 17
#define QK_K 256
#define Q2_K_BYTES 84
#define Q3_K_BYTES 110
#define Q4_K_BYTES 144
#define Q5_K_BYTES 176
#define Q6_K_BYTES 210

typedef unsigned char u8;

__device__ __forceinline__ float load_half(const void* p) {
    return __half2float(*(const __half*)p);
}

__device__ __forceinline__ unsigned short float_to_half_bits(float f) {
    return __half_as_ushort(__float2half_rn(f));
}

__device__ __forceinline__ float bf16_to_float(unsigned short b) {
    return __uint_as_float(((unsigned int)b) << 16);
}

__device__ __forceinline__ unsigned short float_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40);
    return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* A 16-bit little-endian value at a 2-byte aligned address. */
__device__ __forceinline__ unsigned int load_u16(const u8* p) {
    return *(const unsigned short*)p;
}

/* Four bytes at a 2-byte aligned address, as one little-endian 32-bit word. */
__device__ __forceinline__ int load_i32_a2(const u8* p) {
    const unsigned short* s = (const unsigned short*)p;
    return (int)(s[0] | ((unsigned int)s[1] << 16));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* The sum of v over each group of `lanes` (a power of two up to 32) consecutive lanes, in every lane of it. */
__device__ __forceinline__ float lanes_sum(float v, int lanes) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        if (o < lanes) v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Sum over the block; every thread gets it. Uses (and ends with) __syncthreads. */
__device__ __forceinline__ float block_sum(float v, float* scratch32) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch32[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch32[lane] : 0.0f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch32) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch32[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch32[lane] : -INFINITY;
    return warp_max(v);
}

/* Scale and min j (0..7) of a Q4_K super-block's 12 packed bytes. */
__device__ __forceinline__ void q4_k_scale_min(const u8* s, int j, int* sc, int* mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Scale j (0..15) of a Q3_K super-block's 12 packed bytes: 6 bits, minus 32. */
__device__ __forceinline__ int q3_k_scale(const u8* s, int j) {
    int low = j < 8 ? (s[j] & 0xf) : (s[j - 8] >> 4);
    int high = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
    return (low | (high << 4)) - 32;
}

/* An MXFP4 nibble (E2M1: 0, .5, 1, 1.5, 2, 3, 4, 6 and negatives) doubled, as an int8 in 0..255. */
__device__ __forceinline__ int mxfp4_doubled(int q) {
    int mag = (int)((0x0c08060403020100ULL >> (8 * (q & 7))) & 0xff);
    return (q & 8 ? -mag : mag) & 0xff;
}

/* Half the E8M0 scale 2^(e-127), i.e. 2^(e-128), exactly (denormal for e = 0 and 1). */
__device__ __forceinline__ float e8m0_half(int e) {
    return __uint_as_float(e < 2 ? 0x00200000u << e : (unsigned int)(e - 1) << 23);
}

/* Elements per block of a type (1 for the float types). */
__device__ __forceinline__ int block_elems(int type) {
    switch (type) {
    case T_F32: case T_F16: case T_BF16: return 1;
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: return QK_K;
    default: return 32;
    }
}

/* Bytes per block of a type (the element size for the float types). */
__device__ __forceinline__ int block_bytes(int type) {
    switch (type) {
    case T_F32: return 4;
    case T_F16: case T_BF16: return 2;
    case T_Q4_0: case T_Q4_0R: return Q4_0_BYTES;
    case T_Q4_1: return Q4_1_BYTES;
    case T_Q5_0: return Q5_0_BYTES;
    case T_Q5_1: return Q5_1_BYTES;
    case T_Q8_0: case T_Q8_0R: return Q8_0_BYTES;
    case T_MXFP4: return MXFP4_BYTES;
    case T_Q2_K: return Q2_K_BYTES;
    case T_Q3_K: return Q3_K_BYTES;
    case T_Q4_K: return Q4_K_BYTES;
    case T_Q5_K: return Q5_K_BYTES;
    default: return Q6_K_BYTES;
    }
}

/* Bytes of a row of K elements. */
__device__ __forceinline__ long long row_bytes_of(int type, int K) {
    return (long long)(K / block_elems(type)) * block_bytes(type);
}

/*
 * Element k of a row of type `type` that starts at `row` (the same float arithmetic as the
 * reference codecs); K, the row's length, is needed only by the repacked types.
 */
__device__ __forceinline__ float dequant_at(int type, const u8* row, long long k, int K = 0) {
    int j32 = (int)(k & 31);          /* legacy types: element of the block */
    int nib = j32 < 16 ? 0 : 4;       /* its nibble of byte j32 % 16 */
    int e = (int)(k & 255);           /* K-quants: element of the super-block */
    switch (type) {
    case T_F32:
        return ((const float*)row)[k];
    case T_F16:
        return load_half(row + 2 * k);
    case T_BF16:
        return bf16_to_float(((const unsigned short*)row)[k]);
    case T_Q4_0: {
        const u8* b = row + (k >> 5) * Q4_0_BYTES;
        int q = (b[2 + (j32 & 15)] >> nib) & 0xf;
        return load_half(b) * (float)(q - 8);
    }
    case T_Q4_1: {
        const u8* b = row + (k >> 5) * Q4_1_BYTES;
        int q = (b[4 + (j32 & 15)] >> nib) & 0xf;
        return (float)q * load_half(b) + load_half(b + 2);
    }
    case T_Q5_0: {
        const u8* b = row + (k >> 5) * Q5_0_BYTES;
        int q = ((b[6 + (j32 & 15)] >> nib) & 0xf) | (((load_i32_a2(b + 2) >> j32) & 1) << 4);
        return (float)(q - 16) * load_half(b);
    }
    case T_Q5_1: {
        const u8* b = row + (k >> 5) * Q5_1_BYTES;
        int q = ((b[8 + (j32 & 15)] >> nib) & 0xf) | (((load_i32_a2(b + 4) >> j32) & 1) << 4);
        return (float)q * load_half(b) + load_half(b + 2);
    }
    case T_Q8_0: {
        const u8* b = row + (k >> 5) * Q8_0_BYTES;
        return load_half(b) * (float)(signed char)b[2 + j32];
    }
    case T_Q4_0R: {
        int q = (row[16 * (k >> 5) + (j32 & 15)] >> nib) & 0xf;
        return load_half(row + K / 2 + 2 * (k >> 5)) * (float)(q - 8);
    }
    case T_Q8_0R:
        return load_half(row + K + 2 * (k >> 5)) * (float)(signed char)row[k];
    case T_MXFP4: {
        const u8* b = row + (k >> 5) * MXFP4_BYTES;
        return (float)(signed char)mxfp4_doubled((b[1 + (j32 & 15)] >> nib) & 0xf) * e8m0_half(b[0]);
    }
    case T_Q2_K: {
        const u8* b = row + (k >> 8) * Q2_K_BYTES;
        int sc = b[e >> 4], r = e & 127;
        int q = (b[16 + 32 * (e >> 7) + (r & 31)] >> (2 * (r >> 5))) & 3;
        return load_half(b + 80) * (float)(sc & 15) * (float)q - load_half(b + 82) * (float)(sc >> 4);
    }
    case T_Q3_K: {
        const u8* b = row + (k >> 8) * Q3_K_BYTES;
        int r = e & 127;
        int q = (b[32 + 32 * (e >> 7) + (r & 31)] >> (2 * (r >> 5))) & 3;
        int hm = (b[r & 31] >> (e >> 5)) & 1;
        return load_half(b + 108) * (float)q3_k_scale(b + 96, e >> 4) * (float)(q - (hm ? 0 : 4));
    }
    case T_Q4_K:
    case T_Q5_K: {
        const u8* b = row + (k >> 8) * (type == T_Q4_K ? Q4_K_BYTES : Q5_K_BYTES);
        int j = e >> 5, sc, mn;
        q4_k_scale_min(b + 4, j, &sc, &mn);
        int q = (b[(type == T_Q4_K ? 16 : 48) + 32 * (e >> 6) + (e & 31)] >> (4 * (j & 1))) & 0xf;
        if (type == T_Q5_K) q |= ((b[16 + (e & 31)] >> j) & 1) << 4;
        return load_half(b) * sc * q - load_half(b + 2) * mn;
    }
    case T_Q6_K: {
        const u8* b = row + (k >> 8) * Q6_K_BYTES;
        int h = e >> 7, r = e & 127, kk = r >> 5, l = r & 31;
        int low = (b[64 * h + 32 * (kk & 1) + l] >> (4 * (kk >> 1))) & 0xf;
        int high = (b[128 + 32 * h + l] >> (2 * kk)) & 3;
        return load_half(b + 208) * (float)(signed char)b[192 + (e >> 4)] * (float)((low | (high << 4)) - 32);
    }
    }
    return 0.0f;
}

/* ---- matrix-vector row dot products (see the header) ---- */

/* q8_1: 32 activations as int8 with one float scale; 36 bytes, 4-byte aligned. */
struct block_q8_1 {
    float d;
    int qs[8];
};

/* float4 loads where K and the addresses allow. */
template <int NT>
__device__ __forceinline__ void mv_dot_f32(const float* __restrict__ row, const float* __restrict__ x, int K, int nt, float* acc,
                                           int lanes = 32, int part = 0, int parts = 1) {
    int lane = (threadIdx.x & (lanes - 1)) + part * lanes, step = lanes * parts;
    bool vec = (K & 3) == 0 && (((size_t)row | (size_t)x) & 15) == 0;
    if (vec) {
        const float4* r4 = (const float4*)row;
        for (int k = lane; k < K / 4; k += step) {
            float4 a = r4[k];
#pragma unroll
            for (int j = 0; j < NT; j++) {
                if (j < nt) {
                    float4 b = ((const float4*)(x + (long long)j * K))[k];
                    acc[j] += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += step) {
            float a = row[k];
#pragma unroll
            for (int j = 0; j < NT; j++)
                if (j < nt) acc[j] += a * x[(long long)j * K + k];
        }
    }
}

/* half2 loads where K and the addresses allow. */
template <int NT>
__device__ __forceinline__ void mv_dot_f16(const __half* __restrict__ row, const float* __restrict__ x, int K, int nt, float* acc,
                                           int lanes = 32, int part = 0, int parts = 1) {
    int lane = (threadIdx.x & (lanes - 1)) + part * lanes, step = lanes * parts;
    bool vec = (K & 1) == 0 && ((size_t)row & 3) == 0 && ((size_t)x & 7) == 0;
    if (vec) {
        const __half2* r2 = (const __half2*)row;
        for (int k = lane; k < K / 2; k += step) {
            float2 a = __half22float2(r2[k]);
#pragma unroll
            for (int j = 0; j < NT; j++) {
                if (j < nt) {
                    float2 b = ((const float2*)(x + (long long)j * K))[k];
                    acc[j] += a.x * b.x + a.y * b.y;
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += step) {
            float a = __half2float(row[k]);
#pragma unroll
            for (int j = 0; j < NT; j++)
                if (j < nt) acc[j] += a * x[(long long)j * K + k];
        }
    }
}

template <int NT>
__device__ __forceinline__ void mv_dot_bf16(const unsigned short* __restrict__ row, const float* __restrict__ x, int K, int nt,
                                            float* acc, int lanes = 32, int part = 0, int parts = 1) {
    int lane = (threadIdx.x & (lanes - 1)) + part * lanes, step = lanes * parts;
    for (int k = lane; k < K; k += step) {
        float a = bf16_to_float(row[k]);
#pragma unroll
        for (int j = 0; j < NT; j++)
            if (j < nt) acc[j] += a * x[(long long)j * K + k];
    }
}

/* Bits 0..3 of x moved to bits 0, 8, 16 and 24. */
__device__ __forceinline__ int spread4(int x) {
    return (x & 1) | ((x & 2) << 7) | ((x & 4) << 14) | ((x & 8) << 21);
}

/*
 * Words per load unit: the nibble types give two words per 32-bit load (low nibbles, then high
 * ones), the others one.
 */
#define MV_WORDS(TYPE) ((TYPE) == T_Q4_0R ? 8 : (TYPE) == T_Q8_0R ? 4 : (TYPE) == T_Q8_0 || (TYPE) == T_Q2_K || (TYPE) == T_Q3_K ? 1 : 2)

/*
 * Load unit u of a weight row: MV_WORDS(TYPE) quant words, word i holding elements 4g[i] ..
 * 4g[i]+3 as w = s[i] * q + m[i], q the four int8 lanes of v[i] (the 32-bit words dp4a takes).
 * A unit is one 32-bit load of the block's packed quants (two 16-bit loads: blocks are 2-byte
 * aligned; MXFP4's 17-byte blocks are read bytewise); consecutive units are consecutive words of
 * the packed quants, so lanes side by side read consecutive bytes. Units of the nibble types:
 *   legacy (Q4_0 Q4_1 Q5_0 Q5_1 MXFP4)  qs word p of block u/4: elements 4p.. (low nibbles) and
 *                                       16+4p.. (high), one scale
 *   Q4_K, Q5_K   qs word of chunk c (64 elements): sub-blocks 2c (low) and 2c+1 (high)
 *   Q6_K         ql word: quarters k (low nibbles) and k+2 (high) of a 128-element half
 * Q8_0, Q2_K and Q3_K: unit u is word u.
 * The repacked types (T_Q4_0R, T_Q8_0R; K, the row's length, locates their scales) read 16 bytes
 * a unit (one uint4 load, 16-byte aligned): Q4_0R unit u is block u's quants, words p = 0..3
 * giving elements 4p.. (low nibbles, word p) and 16+4p.. (high, word 4+p); Q8_0R unit u is half
 * u & 1 of block u/2, four words.
 */
template <int TYPE>
__device__ __forceinline__ void mv_load(const u8* __restrict__ row, int u, int* v, float* s, float* m, int* g, int K) {
    if (TYPE == T_Q4_0R || TYPE == T_Q8_0R) {
        uint4 w4 = *(const uint4*)(row + 16 * u);
        int w[4] = {(int)w4.x, (int)w4.y, (int)w4.z, (int)w4.w};
        bool q4 = TYPE == T_Q4_0R;
        float d = load_half(row + (q4 ? K / 2 + 2 * u : K + 2 * (u >> 1)));
#pragma unroll
        for (int p = 0; p < 4; p++) {
            if (q4) {
                v[p] = w[p] & 0x0f0f0f0f;
                v[4 + p] = (w[p] >> 4) & 0x0f0f0f0f;
                g[p] = 8 * u + p;
                g[4 + p] = 8 * u + 4 + p;
            } else {
                v[p] = w[p];
                g[p] = 4 * u + p;
            }
        }
#pragma unroll
        for (int i = 0; i < MV_WORDS(TYPE); i++) {
            s[i] = d;
            m[i] = q4 ? -8.0f * d : 0.0f;
        }
    } else if (TYPE == T_Q4_0 || TYPE == T_Q4_1 || TYPE == T_Q5_0 || TYPE == T_Q5_1 || TYPE == T_MXFP4) {
        int p = u & 3;
        const u8* b = row + (u >> 2) * block_bytes(TYPE);
        int w;
        if (TYPE == T_MXFP4) {
            w = b[1 + 4 * p] | (b[2 + 4 * p] << 8) | (b[3 + 4 * p] << 16) | (b[4 + 4 * p] << 24);
        } else {
            w = load_i32_a2(b + 4 * p + (TYPE == T_Q4_0 ? 2 : TYPE == T_Q4_1 ? 4 : TYPE == T_Q5_0 ? 6 : 8));
        }
        int lo = w & 0x0f0f0f0f, hi = (w >> 4) & 0x0f0f0f0f;
        if (TYPE == T_Q5_0 || TYPE == T_Q5_1) {
            int qh = load_i32_a2(b + (TYPE == T_Q5_0 ? 2 : 4));
            lo |= spread4(qh >> (4 * p)) << 4;
            hi |= spread4(qh >> (16 + 4 * p)) << 4;
        }
        if (TYPE == T_MXFP4) {
            int l8 = 0, h8 = 0;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                l8 |= mxfp4_doubled((lo >> (8 * i)) & 0xf) << (8 * i);
                h8 |= mxfp4_doubled((hi >> (8 * i)) & 0xf) << (8 * i);
            }
            lo = l8;
            hi = h8;
        }
        float d = TYPE == T_MXFP4 ? e8m0_half(b[0]) : load_half(b);
        float off = TYPE == T_Q4_0 ? -8.0f * d : TYPE == T_Q5_0 ? -16.0f * d
                  : TYPE == T_Q4_1 || TYPE == T_Q5_1 ? load_half(b + 2) : 0.0f;
        v[0] = lo;
        v[1] = hi;
        s[0] = s[1] = d;
        m[0] = m[1] = off;
        g[0] = 8 * (u >> 2) + p;
        g[1] = g[0] + 4;
    } else if (TYPE == T_Q4_K || TYPE == T_Q5_K) {
        int p = u & 31, c = p >> 3, l = 4 * (p & 7);
        const u8* b = row + (u >> 5) * block_bytes(TYPE);
        int w = load_i32_a2(b + (TYPE == T_Q4_K ? 16 : 48) + 32 * c + l);
        int lo = w & 0x0f0f0f0f, hi = (w >> 4) & 0x0f0f0f0f;
        if (TYPE == T_Q5_K) {
            int qh = load_i32_a2(b + 16 + l);
            lo |= ((qh >> (2 * c)) & 0x01010101) << 4;
            hi |= ((qh >> (2 * c + 1)) & 0x01010101) << 4;
        }
        float d = load_half(b), dmin = load_half(b + 2);
        int sc0, mn0, sc1, mn1;
        q4_k_scale_min(b + 4, 2 * c, &sc0, &mn0);
        q4_k_scale_min(b + 4, 2 * c + 1, &sc1, &mn1);
        v[0] = lo;
        v[1] = hi;
        s[0] = d * (float)sc0;
        s[1] = d * (float)sc1;
        m[0] = -dmin * (float)mn0;
        m[1] = -dmin * (float)mn1;
        g[0] = 64 * (u >> 5) + 16 * c + (p & 7);
        g[1] = g[0] + 8;
    } else if (TYPE == T_Q6_K) {
        int p = u & 31, h = p >> 4, o = 4 * (p & 15), k = o >> 5, l = o & 31;
        const u8* b = row + (u >> 5) * Q6_K_BYTES;
        int w = load_i32_a2(b + 64 * h + o);
        int qh = load_i32_a2(b + 128 + 32 * h + l);
        float d = load_half(b + 208);
        int e = 128 * h + 32 * k + l; /* element of the super-block of the low nibbles; the high ones + 64 */
        v[0] = (w & 0x0f0f0f0f) | (((qh >> (2 * k)) & 0x03030303) << 4);
        v[1] = ((w >> 4) & 0x0f0f0f0f) | (((qh >> (2 * k + 4)) & 0x03030303) << 4);
        s[0] = d * (float)(signed char)b[192 + (e >> 4)];
        s[1] = d * (float)(signed char)b[192 + ((e + 64) >> 4)];
        m[0] = -32.0f * s[0];
        m[1] = -32.0f * s[1];
        g[0] = 64 * (u >> 5) + (e >> 2);
        g[1] = g[0] + 16;
    } else {
        int sub = u & 7;                /* Q8_0: word of the block */
        int e = 4 * (u & 63);           /* Q2_K, Q3_K: element of the super-block */
        int h = e >> 7, r = e & 127, k = r >> 5, l = r & 31;
        g[0] = u;
        if (TYPE == T_Q8_0) {
            const u8* b = row + (u >> 3) * Q8_0_BYTES;
            v[0] = load_i32_a2(b + 2 + 4 * sub);
            s[0] = load_half(b);
            m[0] = 0.0f;
        } else if (TYPE == T_Q2_K) {
            const u8* b = row + (u >> 6) * Q2_K_BYTES;
            int sc = b[e >> 4];
            v[0] = (load_i32_a2(b + 16 + 32 * h + l) >> (2 * k)) & 0x03030303;
            s[0] = load_half(b + 80) * (float)(sc & 15);
            m[0] = -load_half(b + 82) * (float)(sc >> 4);
        } else { /* T_Q3_K */
            const u8* b = row + (u >> 6) * Q3_K_BYTES;
            int lo = (load_i32_a2(b + 32 + 32 * h + l) >> (2 * k)) & 0x03030303;
            int hm = (load_i32_a2(b + l) >> (e >> 5)) & 0x01010101;
            v[0] = lo | (hm << 2);
            s[0] = load_half(b + 108) * (float)q3_k_scale(b + 96, e >> 4);
            m[0] = -4.0f * s[0];
        }
    }
}

/* Whether a type's offset m is ever nonzero (else its sum of activation quants is skipped). */
#define MV_HAS_MIN(TYPE) ((TYPE) != T_Q8_0 && (TYPE) != T_Q8_0R && (TYPE) != T_MXFP4)

/* Adds word g's share (q, s, m as mv_load gives them) to the tokens' accumulators. */
template <int TYPE, int NT>
__device__ __forceinline__ void mv_dot_word(int q, float s, float m, const block_q8_1* __restrict__ xq, int nbx, int g, int nt,
                                            float* acc) {
    int blk = g >> 3, i = g & 7;
#pragma unroll
    for (int j = 0; j < NT; j++) {
        if (j < nt) {
            const block_q8_1* xb = xq + (long long)j * nbx + blk;
            int u = xb->qs[i];
            float t = s * (float)__dp4a(q, u, 0);
            if (MV_HAS_MIN(TYPE)) t += m * (float)__dp4a(0x01010101, u, 0);
            acc[j] += xb->d * t;
        }
    }
}

/*
 * A quantized row against NT tokens of q8_1 activations: lane L of the row's group takes the
 * load units u = L, L + lanes, ... (see mv_load), two units per loop so that two rounds of
 * loads are in flight. Where `parts` groups share the row (mul_mat_vec's split variant), group
 * `part` takes lanes part*lanes .. of a stride lanes*parts.
 */
template <int TYPE, int NT>
__device__ __forceinline__ void mv_dot_q(const u8* __restrict__ row, const block_q8_1* __restrict__ xq, int K, int nt, float* acc,
                                         int lanes = 32, int part = 0, int parts = 1) {
    const int W = MV_WORDS(TYPE);
    int lane = (threadIdx.x & (lanes - 1)) + part * lanes, step = lanes * parts;
    int units = (K >> 2) / W, nbx = K >> 5;
#pragma unroll 1
    for (int u = lane; u < units; u += 2 * step) {
        int q0[W], q1[W], g0[W], g1[W];
        float s0[W], m0[W], s1[W], m1[W];
        bool two = u + step < units;
        mv_load<TYPE>(row, u, q0, s0, m0, g0, K);
        if (two) mv_load<TYPE>(row, u + step, q1, s1, m1, g1, K);
#pragma unroll
        for (int i = 0; i < W; i++) mv_dot_word<TYPE, NT>(q0[i], s0[i], m0[i], xq, nbx, g0[i], nt, acc);
        if (two) {
#pragma unroll
            for (int i = 0; i < W; i++) mv_dot_word<TYPE, NT>(q1[i], s1[i], m1[i], xq, nbx, g1[i], nt, acc);
        }
    }
}

#endif
