/*
 * convert.cu: elementwise conversion between F32, F16 and BF16 (GGUF type ids 0, 1, 30 as the
 * from/to arguments). F16 encoding rounds to nearest even; BF16 rounds to nearest even and keeps
 * NaNs quiet, as the reference codecs do.
 *
 * Checked against: the reference backend's convert (decode with the source codec, encode with the
 * target's) in CudaOpsGpuTest, F32 <-> F16 and F32 <-> BF16, bit-exact.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references.
 */
#include "common.cuh"

__device__ __forceinline__ float load_as_float(const void* x, int type, long long i) {
    switch (type) {
    case T_F16: return __half2float(((const __half*)x)[i]);
    case T_BF16: return bf16_to_float(((const unsigned short*)x)[i]);
    default: return ((const float*)x)[i];
    }
}

extern "C" __global__ void convert(const void* __restrict__ x, void* __restrict__ y, long long n, int from, int to) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float v = load_as_float(x, from, i);
        switch (to) {
        case T_F16: ((unsigned short*)y)[i] = float_to_half_bits(v); break;
        case T_BF16: ((unsigned short*)y)[i] = float_to_bf16(v); break;
        default: ((float*)y)[i] = v; break;
        }
    }
}
