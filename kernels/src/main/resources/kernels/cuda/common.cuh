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

#endif
