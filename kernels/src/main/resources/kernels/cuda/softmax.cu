/*
 * softmax.cu: softmax of each row, y = e^(x - max) / sum e^(x - max).
 *
 * x and y are F32 [K, rows]. One block of 256 threads per row: a max reduction, a sum of
 * exponentials, then the division, all in float with expf.
 *
 * Checked against: ReferenceOps.softmax (double) in CudaOpsGpuTest, at K = 256, 1000 and 7.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references.
 */
#include "common.cuh"

extern "C" __global__ void softmax(const float* __restrict__ x, float* __restrict__ y, int K) {
    __shared__ float scratch[32];
    const float* xr = x + (long long)blockIdx.x * K;
    float* yr = y + (long long)blockIdx.x * K;
    float m = -INFINITY;
    for (int k = threadIdx.x; k < K; k += blockDim.x) m = fmaxf(m, xr[k]);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int k = threadIdx.x; k < K; k += blockDim.x) s += expf(xr[k] - m);
    s = block_sum(s, scratch);
    float inv = 1.0f / s;
    for (int k = threadIdx.x; k < K; k += blockDim.x) yr[k] = expf(xr[k] - m) * inv;
}
