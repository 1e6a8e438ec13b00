/*
 * get_rows.cu: out row t = row ids[t] of a table, decoded to F32 (token embeddings).
 *
 * table is [K, V] of type F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4, Q2_K, Q3_K,
 * Q4_K, Q5_K or Q6_K (the type is a kernel argument, a GGUF type id; T_Q4_0R or T_Q8_0R for Q4_0 and
 * Q8_0 tables repacked at load, see common.cuh); ids is I32 [T]; out is F32 [K, T]. One block per token, threads
 * stride over the row's elements and decode each with dequant_at. An id outside [0, V) gives a
 * row of zeros (the host checks token ids before they reach the device).
 *
 * Checked against: the reference backend's get_rows (codec-decoded rows) in CudaOpsGpuTest, for
 * every table type.
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references (repacked Q4_0 and Q8_0 tables too).
 */
#include "common.cuh"

extern "C" __global__ void get_rows(const u8* __restrict__ table, const int* __restrict__ ids,
                                    float* __restrict__ out, int type, long long rowBytes, int K, int V) {
    int t = blockIdx.x;
    int id = ids[t];
    float* o = out + (long long)t * K;
    if (id < 0 || id >= V) {
        for (int k = threadIdx.x; k < K; k += blockDim.x) o[k] = 0.0f;
        return;
    }
    const u8* row = table + (long long)id * rowBytes;
    for (int k = threadIdx.x; k < K; k += blockDim.x) o[k] = dequant_at(type, row, k, K);
}
