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
 *     Q8_0  32 elements, 34 bytes: half d; char qs[32]        x = d * q
 *     Q4_K 256 elements, 144 bytes: half d, dmin; uchar scales[12]; uchar qs[128]
 *     Q6_K 256 elements, 210 bytes: uchar ql[128], qh[64]; char scales[16]; half d
 *   dequant_at(type, row, k) gives element k of a row of any supported type.
 * - Matrix-vector row dot products, shared by mul_mat_vec.cu and experts.cu (mul_mat_id): one
 *   warp per weight row; mv_dot_TYPE(row, x, K, nt, acc) adds this lane's share of
 *   dot(row, x row j) to acc[j] for j < nt (at most MV_TOKENS), the x rows consecutive, K floats
 *   apart (q8_1 activations: K/32 blocks apart), so that warp_sum(acc[j]) is the dot product.
 *   Lanes read consecutive bytes of the row (coalesced); Q4_0 and Q8_0 take int8 activations in
 *   q8_1 blocks (see quantize_q8_1 in mul_mat_vec.cu) and use dp4a.
 *
 * Checked against: the op tests of dev.hearth.backend.cuda (every kernel uses these), which
 * compare with the reference backend.
 */
#ifndef HEARTH_CUDA_COMMON_CUH
#define HEARTH_CUDA_COMMON_CUH

#include <cuda_fp16.h>

/* Tensor type codes shared with the host (dev.hearth.backend.cuda.KernelType): GGUF type ids. */
#define T_F32 0
#define T_F16 1
#define T_Q4_0 2
#define T_Q8_0 8
#define T_Q4_K 12
#define T_Q6_K 14
#define T_BF16 30

#define Q4_0_BYTES 18
#define Q8_0_BYTES 34
#define QK_K 256
#define Q4_K_BYTES 144
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

/* Element k of a row of type `type` that starts at `row`. */
__device__ __forceinline__ float dequant_at(int type, const u8* row, long long k) {
    switch (type) {
    case T_F32:
        return ((const float*)row)[k];
    case T_F16:
        return load_half(row + 2 * k);
    case T_BF16:
        return bf16_to_float(((const unsigned short*)row)[k]);
    case T_Q4_0: {
        const u8* b = row + (k >> 5) * Q4_0_BYTES;
        int j = (int)(k & 31);
        int q = b[2 + (j & 15)];
        q = j < 16 ? (q & 0xf) : (q >> 4);
        return load_half(b) * (float)(q - 8);
    }
    case T_Q8_0: {
        const u8* b = row + (k >> 5) * Q8_0_BYTES;
        return load_half(b) * (float)(signed char)b[2 + (k & 31)];
    }
    case T_Q4_K: {
        const u8* b = row + (k >> 8) * Q4_K_BYTES;
        int e = (int)(k & 255);
        int j = e >> 5, sc, mn;
        q4_k_scale_min(b + 4, j, &sc, &mn);
        int q = b[16 + 32 * (e >> 6) + (e & 31)];
        q = (e & 32) ? (q >> 4) : (q & 0xf);
        return load_half(b) * sc * q - load_half(b + 2) * mn;
    }
    case T_Q6_K: {
        const u8* b = row + (k >> 8) * Q6_K_BYTES;
        int e = (int)(k & 255);
        int h = e >> 7, r = e & 127, kk = r >> 5, l = r & 31;
        int low = (b[64 * h + 32 * (kk & 1) + l] >> (4 * (kk >> 1))) & 0xf;
        int high = (b[128 + 32 * h + l] >> (2 * kk)) & 3;
        return load_half(b + 208) * (float)(signed char)b[192 + (e >> 4)] * (float)((low | (high << 4)) - 32);
    }
    }
    return 0.0f;
}

/* ---- matrix-vector row dot products (see the header) ---- */

#define MV_TOKENS 8

/* q8_1: 32 activations as int8 with one float scale; 36 bytes, 4-byte aligned. */
struct block_q8_1 {
    float d;
    int qs[8];
};

/* float4 loads where K and the addresses allow. */
__device__ __forceinline__ void mv_dot_f32(const float* __restrict__ row, const float* __restrict__ x, int K, int nt, float* acc) {
    int lane = threadIdx.x & 31;
    bool vec = (K & 3) == 0 && (((size_t)row | (size_t)x) & 15) == 0;
    if (vec) {
        const float4* r4 = (const float4*)row;
        for (int k = lane; k < K / 4; k += 32) {
            float4 a = r4[k];
#pragma unroll
            for (int j = 0; j < MV_TOKENS; j++) {
                if (j < nt) {
                    float4 b = ((const float4*)(x + (long long)j * K))[k];
                    acc[j] += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += 32) {
            float a = row[k];
#pragma unroll
            for (int j = 0; j < MV_TOKENS; j++)
                if (j < nt) acc[j] += a * x[(long long)j * K + k];
        }
    }
}

/* half2 loads where K and the addresses allow. */
__device__ __forceinline__ void mv_dot_f16(const __half* __restrict__ row, const float* __restrict__ x, int K, int nt, float* acc) {
    int lane = threadIdx.x & 31;
    bool vec = (K & 1) == 0 && ((size_t)row & 3) == 0 && ((size_t)x & 7) == 0;
    if (vec) {
        const __half2* r2 = (const __half2*)row;
        for (int k = lane; k < K / 2; k += 32) {
            float2 a = __half22float2(r2[k]);
#pragma unroll
            for (int j = 0; j < MV_TOKENS; j++) {
                if (j < nt) {
                    float2 b = ((const float2*)(x + (long long)j * K))[k];
                    acc[j] += a.x * b.x + a.y * b.y;
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += 32) {
            float a = __half2float(row[k]);
#pragma unroll
            for (int j = 0; j < MV_TOKENS; j++)
                if (j < nt) acc[j] += a * x[(long long)j * K + k];
        }
    }
}

__device__ __forceinline__ void mv_dot_bf16(const unsigned short* __restrict__ row, const float* __restrict__ x, int K, int nt, float* acc) {
    int lane = threadIdx.x & 31;
    for (int k = lane; k < K; k += 32) {
        float a = bf16_to_float(row[k]);
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++)
            if (j < nt) acc[j] += a * x[(long long)j * K + k];
    }
}

/* Lane L takes 4 bytes (sub = L%4) of the blocks b = L/4, L/4 + 8, ... */
__device__ __forceinline__ void mv_dot_q4_0(const u8* __restrict__ row, const block_q8_1* __restrict__ xq, int K, int nt, float* acc) {
    int lane = threadIdx.x & 31;
    int nb = K >> 5;
    int sub = lane & 3;
    for (int b = lane >> 2; b < nb; b += 8) {
        const u8* blk = row + b * Q4_0_BYTES;
        float d = load_half(blk);
        int v = load_i32_a2(blk + 2 + 4 * sub);
        int lo = v & 0x0f0f0f0f, hi = (v >> 4) & 0x0f0f0f0f;
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++) {
            if (j < nt) {
                const block_q8_1* xb = xq + (long long)j * nb + b;
                int xlo = xb->qs[sub], xhi = xb->qs[sub + 4];
                int sumi = __dp4a(lo, xlo, __dp4a(hi, xhi, 0));
                int sumx = __dp4a(0x01010101, xlo, __dp4a(0x01010101, xhi, 0));
                acc[j] += d * xb->d * (float)(sumi - 8 * sumx);
            }
        }
    }
}

/* Lane L takes 4 bytes (sub = L%8) of the blocks b = L/8, L/8 + 4, ... */
__device__ __forceinline__ void mv_dot_q8_0(const u8* __restrict__ row, const block_q8_1* __restrict__ xq, int K, int nt, float* acc) {
    int lane = threadIdx.x & 31;
    int nb = K >> 5;
    int sub = lane & 7;
    for (int b = lane >> 3; b < nb; b += 4) {
        const u8* blk = row + b * Q8_0_BYTES;
        float d = load_half(blk);
        int v = load_i32_a2(blk + 2 + 4 * sub);
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++) {
            if (j < nt) {
                const block_q8_1* xb = xq + (long long)j * nb + b;
                acc[j] += d * xb->d * (float)__dp4a(v, xb->qs[sub], 0);
            }
        }
    }
}

/*
 * Q4_K: a warp per super-block; lane L takes 4 bytes of qs in chunk c = L/8 (64 elements): their
 * low nibbles are elements 64c + 4(L%8) + 0..3 (sub-block 2c), their high nibbles the same + 32
 * (sub-block 2c+1).
 */
__device__ __forceinline__ void mv_dot_q4_k(const u8* __restrict__ row, const float* __restrict__ x, int K, int nt, float* acc) {
    int lane = threadIdx.x & 31;
    int nsb = K >> 8;
    int c = lane >> 3, q4 = (lane & 7) * 4;
    for (int sb = 0; sb < nsb; sb++) {
        const u8* blk = row + sb * Q4_K_BYTES;
        float d = load_half(blk), dmin = load_half(blk + 2);
        int sc0, mn0, sc1, mn1;
        q4_k_scale_min(blk + 4, 2 * c, &sc0, &mn0);
        q4_k_scale_min(blk + 4, 2 * c + 1, &sc1, &mn1);
        int v = load_i32_a2(blk + 16 + 32 * c + q4);
        float qlo[4], qhi[4];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            qlo[i] = (float)((v >> (8 * i)) & 0xf);
            qhi[i] = (float)((v >> (8 * i + 4)) & 0xf);
        }
        int e = sb * 256 + 64 * c + q4;
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++) {
            if (j < nt) {
                const float* xr = x + (long long)j * K + e;
                float dlo = 0.0f, dhi = 0.0f, slo = 0.0f, shi = 0.0f;
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    float a = xr[i], b = xr[32 + i];
                    dlo += qlo[i] * a;
                    dhi += qhi[i] * b;
                    slo += a;
                    shi += b;
                }
                acc[j] += d * (sc0 * dlo + sc1 * dhi) - dmin * (mn0 * slo + mn1 * shi);
            }
        }
    }
}

/*
 * Q6_K: a warp per super-block; lane L takes half h = L/16 and positions l = 2(L%16) + 0..1 of
 * each of the four 32-element quarters k of that half: elements 128h + 32k + l.
 */
__device__ __forceinline__ void mv_dot_q6_k(const u8* __restrict__ row, const float* __restrict__ x, int K, int nt, float* acc) {
    int lane = threadIdx.x & 31;
    int nsb = K >> 8;
    int h = lane >> 4, l4 = (lane & 15) * 2;
    for (int sb = 0; sb < nsb; sb++) {
        const u8* blk = row + sb * Q6_K_BYTES;
        float d = load_half(blk + 208);
        unsigned int ql0 = load_u16(blk + 64 * h + l4);
        unsigned int ql1 = load_u16(blk + 64 * h + 32 + l4);
        unsigned int qh = load_u16(blk + 128 + 32 * h + l4);
        const signed char* sc = (const signed char*)(blk + 192 + 8 * h + (l4 >> 4));
        float q[4][2], s[4];
#pragma unroll
        for (int k = 0; k < 4; k++) {
            unsigned int ql = (k & 1) ? ql1 : ql0;
            s[k] = d * (float)sc[2 * k];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                int low = (ql >> (8 * i + 4 * (k >> 1))) & 0xf;
                int high = (qh >> (8 * i + 2 * k)) & 3;
                q[k][i] = (float)((low | (high << 4)) - 32);
            }
        }
        int e = sb * 256 + 128 * h + l4;
#pragma unroll
        for (int j = 0; j < MV_TOKENS; j++) {
            if (j < nt) {
                const float* xr = x + (long long)j * K + e;
                float sum = 0.0f;
#pragma unroll
                for (int k = 0; k < 4; k++) sum += s[k] * (q[k][0] * xr[32 * k] + q[k][1] * xr[32 * k + 1]);
                acc[j] += sum;
            }
        }
    }
}

#endif
