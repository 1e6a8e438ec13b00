/*
 * rope.cu: rotary position embedding of rows of whole heads, at positions read from device
 * memory (so a recorded CUDA graph stays valid from token to token).
 *
 * x and y are F32 [headDim * heads, T]; pos is I32 [T]; freqFactors is F32 [ropeDims/2] or
 * null. Pair i of the first ropeDims dimensions of each head, (2i, 2i+1) in NORMAL mode (mode 0)
 * and (i, i + ropeDims/2) in NEOX mode (mode 1), turns by
 *   theta_i = pos * freqScale * base^(-2i/ropeDims) / freqFactors[i];
 * dimensions past ropeDims are copied. YaRN scaling (Op.Yarn), where extFactor != 0: with
 * e = pos * base^(-2i/ropeDims) (the extrapolated angle) and r = (1 - clamp((i - corrLow) /
 * max(0.001, corrHigh - corrLow), 0, 1)) * extFactor, theta_i = freqScale * e * (1 - r) + e * r
 * (then divided by freqFactors[i]). Both rotated values are multiplied by mscale. The host
 * computes corrLow, corrHigh and mscale (Op.Yarn's corrDims and mscale); without YaRN it passes
 * extFactor 0 and mscale 1, and the kernel takes the plain formula above.
 * One block per token: the angles are computed once in double precision into shared memory
 * (ropeDims/2 <= 512), then threads rotate every pair of every head. Each pair is read before
 * either of its outputs is written, so y may be x.
 *
 * Checked against: ReferenceOps.rope in CudaOpsGpuTest (NORMAL and NEOX, partial rotation,
 * frequency factors, positions in the thousands, YaRN).
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references.
 */
#include "common.cuh"

#define ROPE_MAX_HALF 512

extern "C" __global__ void rope(const float* x, const int* __restrict__ pos,
                                const float* __restrict__ freqFactors, float* y, int rowLength,
                                int headDim, int ropeDims, int mode, float base, float freqScale,
                                float extFactor, float corrLow, float corrHigh, float mscale) {
    __shared__ float cs[ROPE_MAX_HALF], sn[ROPE_MAX_HALF];
    int t = blockIdx.x;
    int half = ropeDims / 2;
    double p = (double)pos[t];
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        double theta;
        if (extFactor != 0.0f) {
            double e = p * pow((double)base, -2.0 * i / ropeDims);
            double ramp = (i - (double)corrLow) / fmax(0.001, (double)corrHigh - (double)corrLow);
            double r = (1.0 - fmin(1.0, fmax(0.0, ramp))) * (double)extFactor;
            theta = (double)freqScale * e * (1.0 - r) + e * r;
        } else {
            theta = p * (double)freqScale * pow((double)base, -2.0 * i / ropeDims);
        }
        if (freqFactors != nullptr) theta /= (double)freqFactors[i];
        double s, c;
        sincos(theta, &s, &c);
        cs[i] = (float)(c * (double)mscale);
        sn[i] = (float)(s * (double)mscale);
    }
    __syncthreads();
    const float* xr = x + (long long)t * rowLength;
    float* yr = y + (long long)t * rowLength;
    int heads = rowLength / headDim;
    for (int q = threadIdx.x; q < heads * half; q += blockDim.x) {
        int head = q / half, i = q % half;
        int o = head * headDim;
        int a = mode == 0 ? o + 2 * i : o + i;
        int b = mode == 0 ? a + 1 : a + half;
        float x0 = xr[a], x1 = xr[b];
        yr[a] = x0 * cs[i] - x1 * sn[i];
        yr[b] = x0 * sn[i] + x1 * cs[i];
    }
    int pass = headDim - ropeDims;
    if (pass > 0) {
        for (int q = threadIdx.x; q < heads * pass; q += blockDim.x) {
            int k = (q / pass) * headDim + ropeDims + q % pass;
            yr[k] = xr[k];
        }
    }
}
