/*
 * elementwise.cu: the cheap F32 ops of a LLaMA layer, one thread per element (grid-stride).
 *
 *   add      y = a + b        b has as many rows as a, or one row of K that repeats (bRepeat)
 *   mul      y = a * b        the same broadcast
 *   scale    y = x * s
 *   swiglu   y = silu(gate) * up, silu(g) = g / (1 + e^-g)
 *   geglu    y = gelu(gate) * up, gelu in its tanh form:
 *            gelu(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))
 *   softcap  y = cap * tanh(x / cap)
 *   swiglu_oai  y = g / (1 + e^(-alpha g)) * (u + 1), g = min(gate, limit),
 *            u = clamp(up, -limit, limit): gpt-oss's clamped SwiGLU
 *
 * All tensors are contiguous F32 of n elements; y may be an input.
 * swiglu_q8_1 (below) also writes swiglu's rows as q8_1 activations for the matrix-vector
 * kernels (the feed-forward's down projection), one launch instead of swiglu + quantize_q8_1.
 *
 * Checked against: ReferenceOps.add, mul, scale and swiglu in CudaOpsGpuTest (add, mul and scale
 * bit-exact; swiglu and swiglu_oai within float rounding of exp), and ReferenceOps.geglu and
 * softcap (within float rounding of tanh).
 * On machines without a GPU, backends/cuda/src/test/emu runs this file on the CPU against
 * double-precision references; swiglu_q8_1 against swiglu then quantize_q8_1 (bit for bit).
 */
#include "common.cuh"

#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

extern "C" __global__ void add(const float* a, const float* b, float* y, long long n, int K, int bRepeat) {
    GRID_STRIDE(i, n) y[i] = a[i] + b[bRepeat ? i % K : i];
}

extern "C" __global__ void mul(const float* a, const float* b, float* y, long long n, int K, int bRepeat) {
    GRID_STRIDE(i, n) y[i] = a[i] * b[bRepeat ? i % K : i];
}

extern "C" __global__ void scale(const float* x, float* y, long long n, float s) {
    GRID_STRIDE(i, n) y[i] = x[i] * s;
}

extern "C" __global__ void swiglu(const float* gate, const float* up, float* y, long long n) {
    GRID_STRIDE(i, n) {
        float g = gate[i];
        y[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

/*
 * swiglu_q8_1: swiglu that also writes y's blocks of 32 as q8_1 into yq, in quantize_q8_1's
 * layout and rounding (mul_mat_vec.cu), bit for bit; y's row length is a multiple of 32. A warp
 * per block of 32, lane j its element j: grid ceil(blocks / 8) of 256 threads.
 */
extern "C" __global__ void swiglu_q8_1(const float* gate, const float* up, float* y, block_q8_1* __restrict__ yq, long long blocks) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    long long b = (long long)blockIdx.x * 8 + warp;
    if (b >= blocks) return;
    long long i = b * 32 + lane;
    float g = gate[i];
    float v = g / (1.0f + expf(-g)) * up[i];
    y[i] = v;
    float d = warp_max(fabsf(v)) / 127.0f;
    int q = d != 0.0f ? __float2int_rn(v / d) : 0;
    ((signed char*)yq[b].qs)[lane] = (signed char)max(-127, min(127, q));
    if (lane == 0) yq[b].d = d;
}

extern "C" __global__ void geglu(const float* gate, const float* up, float* y, long long n) {
    GRID_STRIDE(i, n) {
        float g = gate[i];
        float inner = 0.7978845608028654f * (g + 0.044715f * g * g * g); /* sqrt(2/pi) */
        y[i] = 0.5f * g * (1.0f + tanhf(inner)) * up[i];
    }
}

extern "C" __global__ void softcap(const float* x, float* y, long long n, float cap) {
    GRID_STRIDE(i, n) y[i] = cap * tanhf(x[i] / cap);
}

extern "C" __global__ void swiglu_oai(const float* gate, const float* up, float* y, long long n, float alpha, float limit) {
    GRID_STRIDE(i, n) {
        float g = fminf(gate[i], limit);
        float u = fminf(fmaxf(up[i], -limit), limit);
        y[i] = g / (1.0f + expf(-alpha * g)) * (u + 1.0f);
    }
}
