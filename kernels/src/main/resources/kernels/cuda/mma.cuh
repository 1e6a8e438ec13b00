/*
 * mma.cuh: the sm_80 warp-level primitives of the tensor-core kernels (mul_mat_mma.cu), as inline
 * PTX on the GPU and as calls into the CPU emulator (backends/cuda/src/test/emu/emu.h) elsewhere.
 *
 * mma_f16_16x8x16(d, a, b): d += A * B for a 16x16 f16 A (row-major), a 16x8 f16 B (column-major)
 * and a 16x8 f32 D, all 32 lanes of the warp together (mma.sync.aligned.m16n8k16.row.col
 * .f32.f16.f16.f32). Each lane holds the fragments the PTX ISA ("Matrix Fragments for
 * mma.m16n8k16 with floating point type") lays out, with g = lane / 4 and q = lane % 4, two f16
 * per 32-bit register, the lower index in the lower half:
 *   a[0] = A[g][2q, 2q+1]   a[1] = A[g+8][2q, 2q+1]   a[2] = A[g][2q+8, 2q+9]   a[3] = A[g+8][2q+8, 2q+9]
 *   b[0] = B[2q, 2q+1][g]   b[1] = B[2q+8, 2q+9][g]
 *   d[0] = D[g][2q]   d[1] = D[g][2q+1]   d[2] = D[g+8][2q]   d[3] = D[g+8][2q+1]
 * mma_s8_16x8x32(d, a, b): d += A * B for a 16x32 s8 A (row-major), a 32x8 s8 B (column-major) and
 * a 16x8 s32 D (mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32; "Matrix Fragments for
 * mma.m16n8k32"), four s8 per register, the lowest index in the lowest byte:
 *   a[0] = A[g][4q..4q+3]   a[1] = A[g+8][4q..4q+3]   a[2] = A[g][4q+16..4q+19]   a[3] = A[g+8][4q+16..4q+19]
 *   b[0] = B[4q..4q+3][g]   b[1] = B[4q+16..4q+19][g]
 *   d as for mma_f16_16x8x16.
 * cp_async16(dst, src): copies 16 bytes global -> shared without staging in registers
 * (cp.async.cg.shared.global; both addresses 16-byte aligned); cp_async_commit() closes the group
 * of copies issued so far; cp_async_wait<n>() waits until at most n groups are pending. The
 * emulator copies at once.
 * pack_half2(lo, hi): two floats as the f16 pair of one fragment register (lo in the low half,
 * rounded to nearest even).
 *
 * Checked by: backends/cuda/src/test/emu/emu_mma_test.cpp (both emulated mma against a plain
 * matrix product, a transposed fragment must not match) and, on a GPU, CudaOpsGpuTest's mul_mat.
 */
#ifndef HEARTH_CUDA_MMA_CUH
#define HEARTH_CUDA_MMA_CUH

__device__ __forceinline__ unsigned pack_half2(float lo, float hi) {
    return (unsigned)float_to_half_bits(lo) | (unsigned)float_to_half_bits(hi) << 16;
}

__device__ __forceinline__ void mma_f16_16x8x16(float* d, const unsigned* a, const unsigned* b) {
#ifdef __CUDA_ARCH__
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(HEARTH_CUDA_EMU)
    emu_mma_f16_16x8x16(d, a, b);
#endif
}

__device__ __forceinline__ void mma_s8_16x8x32(int* d, const unsigned* a, const unsigned* b) {
#ifdef __CUDA_ARCH__
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};"
                 : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(HEARTH_CUDA_EMU)
    emu_mma_s8_16x8x32(d, a, b);
#endif
}

__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
#ifdef __CUDA_ARCH__
    unsigned s = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(s), "l"(src) : "memory");
#elif defined(HEARTH_CUDA_EMU)
    std::memcpy(dst, src, 16);
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#ifdef __CUDA_ARCH__
    asm volatile("cp.async.commit_group;" ::: "memory");
#endif
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
#ifdef __CUDA_ARCH__
    asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
#endif
}

#endif
