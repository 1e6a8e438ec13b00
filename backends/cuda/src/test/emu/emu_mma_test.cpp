/*
 * emu_mma_test.cpp: the tensor-core primitives of mma.cuh on the CPU emulator (emu.h). The
 * emulated mma.m16n8k16 (f16) and mma.m16n8k32 (s8) are checked against plain matrix products,
 * with fragments loaded in the PTX ISA's layout, and must not match when A's fragments are loaded
 * transposed. The kernels of mul_mat_mma.cu, launched as KernelCalls launches them, are checked
 * against a product in double of the weights decoded by dequant_at (which emu_test.cpp's get_rows
 * cases check against the reference decoders) and the f32 activations: nmse 1e-6 for f16
 * operands, 5e-4 (as CudaOpsGpuTest's int8 activations) where Q4_0 and Q8_0 quantize x to int8. Build and run: run.sh.
 */
#include "emu.h"
#include <cstdio>
#include <random>
#include <string>

#include "common.cuh"
#include "mma.cuh"
#include "mul_mat_mma.cu"
#include "repack.h"

static std::mt19937 rng(7);
static int failures = 0;

static float uni(float r) { return std::uniform_real_distribution<float>(-r, r)(rng); }

/* One warp: A 16x16 row-major and B^T 8x16 (B column-major) as f16 bits, D 16x8 row-major. */
__global__ void mma_once(const unsigned short* a, const unsigned short* bt, float* d, int transposed) {
    unsigned lane = threadIdx.x, g = lane >> 2, q = lane & 3;
    auto at = [&](unsigned r, unsigned c) -> unsigned { return transposed ? a[c * 16 + r] : a[r * 16 + c]; };
    unsigned fa[4], fb[2];
    for (int r = 0; r < 4; r++) {
        unsigned row = g + 8 * (r & 1), col = 2 * q + 8 * (r >> 1);
        fa[r] = at(row, col) | at(row, col + 1) << 16;
    }
    for (int r = 0; r < 2; r++) {
        unsigned k = 2 * q + 8 * r;
        fb[r] = bt[g * 16 + k] | (unsigned)bt[g * 16 + k + 1] << 16;
    }
    float acc[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) acc[i] = d[(g + 8 * (i >> 1)) * 8 + 2 * q + (i & 1)];
    mma_f16_16x8x16(acc, fa, fb);
    for (int i = 0; i < 4; i++) d[(g + 8 * (i >> 1)) * 8 + 2 * q + (i & 1)] = acc[i];
}

static void test_mma_fragments() {
    std::vector<unsigned short> a(256), bt(128);
    std::vector<float> af(256), btf(128), c(128);
    for (int i = 0; i < 256; i++) a[i] = float_to_half_bits(uni(1)), af[i] = emu_half(a[i]);
    for (int i = 0; i < 128; i++) bt[i] = float_to_half_bits(uni(1)), btf[i] = emu_half(bt[i]), c[i] = uni(1);
    std::vector<double> want(128);
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 8; n++) {
            double s = c[m * 8 + n];
            for (int k = 0; k < 16; k++) s += (double)af[m * 16 + k] * btf[n * 16 + k];
            want[m * 8 + n] = s;
        }
    for (int transposed : {0, 1}) {
        std::vector<float> d = c;
        emu_launch(mma_once, 1, 1, 1, 32, a.data(), bt.data(), d.data(), transposed);
        double err = 0;
        for (int i = 0; i < 128; i++) err = std::max(err, std::fabs(d[i] - want[i]));
        bool ok = transposed ? err > 0.1 : err < 1e-5;
        if (!ok) failures++;
        std::printf("%s mma m16n8k16 %s max error %.3g\n", ok ? "ok  " : "FAIL",
                    transposed ? "A loaded transposed (must differ)" : "fragments in the PTX layout", err);
    }
}

static const char* type_name(int t) {
    switch (t) {
    case T_F32: return "f32";
    case T_F16: return "f16";
    case T_BF16: return "bf16";
    case T_Q4_0: return "q4_0";
    case T_Q4_1: return "q4_1";
    case T_Q5_0: return "q5_0";
    case T_Q5_1: return "q5_1";
    case T_Q8_0: return "q8_0";
    case T_MXFP4: return "mxfp4";
    case T_Q2_K: return "q2_k";
    case T_Q3_K: return "q3_k";
    case T_Q4_K: return "q4_k";
    case T_Q5_K: return "q5_k";
    default: return "q6_k";
    }
}

/* A block's scales set to small values (random bytes elsewhere), so that no weight leaves f16's range. */
static void small_scales(int type, uint8_t* p) {
    unsigned short d = float_to_half_bits(uni(0.05f)), m = float_to_half_bits(std::fabs(uni(0.05f)));
    switch (type) {
    case T_Q4_0: case T_Q5_0: case T_Q8_0: std::memcpy(p, &d, 2); break;
    case T_Q4_1: case T_Q5_1: case T_Q4_K: case T_Q5_K: std::memcpy(p, &d, 2); std::memcpy(p + 2, &m, 2); break;
    case T_Q2_K: std::memcpy(p + 80, &d, 2); std::memcpy(p + 82, &m, 2); break;
    case T_Q3_K: std::memcpy(p + 108, &d, 2); break;
    case T_Q6_K: std::memcpy(p + 208, &d, 2); break;
    case T_MXFP4: p[0] = (uint8_t)(120 + rng() % 8); break; /* 2^-7 .. 2^0 */
    default: break;
    }
}

/* N random rows of K elements: float types hold values in [-1, 1]; quant blocks random bytes with small scales. */
static std::vector<uint8_t> random_rows(int type, int K, int N) {
    long long rb = row_bytes_of(type, K);
    std::vector<uint8_t> w(rb * N);
    for (auto& b : w) b = (uint8_t)rng();
    int bs = block_elems(type), bytes = block_bytes(type);
    for (long long e = 0; bs == 1 && e < (long long)K * N; e++) {
        uint8_t* p = w.data() + e * bytes;
        if (type == T_F32) { float f = uni(1); std::memcpy(p, &f, 4); }
        if (type == T_F16) { unsigned short h = float_to_half_bits(uni(1)); std::memcpy(p, &h, 2); }
        if (type == T_BF16) { unsigned short h = float_to_bf16(uni(1)); std::memcpy(p, &h, 2); }
    }
    for (long long blk = 0; bs > 1 && blk < (long long)K / bs * N; blk++) small_scales(type, w.data() + blk * bytes);
    return w;
}

using MmaKernel = void (*)(const u8*, const float*, float*, int, int, int);

static MmaKernel mma_kernel(int type, bool wide) {
    switch (type) {
    case T_F32: return wide ? mul_mat_mma_f32_128x64 : mul_mat_mma_f32_64x32;
    case T_F16: return wide ? mul_mat_mma_f16_128x64 : mul_mat_mma_f16_64x32;
    case T_BF16: return wide ? mul_mat_mma_bf16_128x64 : mul_mat_mma_bf16_64x32;
    case T_Q4_0: return wide ? mul_mat_mma_q4_0_128x64 : mul_mat_mma_q4_0_64x32;
    case T_Q8_0: return wide ? mul_mat_mma_q8_0_128x64 : mul_mat_mma_q8_0_64x32;
    case T_Q4_1: return wide ? mul_mat_mma_q4_1_128x64 : mul_mat_mma_q4_1_64x32;
    case T_Q5_0: return wide ? mul_mat_mma_q5_0_128x64 : mul_mat_mma_q5_0_64x32;
    case T_Q5_1: return wide ? mul_mat_mma_q5_1_128x64 : mul_mat_mma_q5_1_64x32;
    case T_MXFP4: return wide ? mul_mat_mma_mxfp4_128x64 : mul_mat_mma_mxfp4_64x32;
    case T_Q2_K: return wide ? mul_mat_mma_q2_k_128x64 : mul_mat_mma_q2_k_64x32;
    case T_Q3_K: return wide ? mul_mat_mma_q3_k_128x64 : mul_mat_mma_q3_k_64x32;
    case T_Q4_K: return wide ? mul_mat_mma_q4_k_128x64 : mul_mat_mma_q4_k_64x32;
    case T_Q5_K: return wide ? mul_mat_mma_q5_k_128x64 : mul_mat_mma_q5_k_64x32;
    case T_Q4_0R: return wide ? mul_mat_mma_q4_0r_128x64 : mul_mat_mma_q4_0r_64x32;
    case T_Q8_0R: return wide ? mul_mat_mma_q8_0r_128x64 : mul_mat_mma_q8_0r_64x32;
    default: return wide ? mul_mat_mma_q6_k_128x64 : mul_mat_mma_q6_k_64x32;
    }
}

/*
 * y[T, N] = x[T, K] W[N, K]^T with the 64 x 32 (wide: 128 x 64) tiles; nmse against double (see
 * the header). repacked: Q4_0 or Q8_0 weights in repack_rows' layout, read by the T_Q4_0R or T_Q8_0R kernel.
 */
static void test_mul_mat_mma(int type, int K, int N, int T, bool wide, bool repacked = false) {
    std::vector<uint8_t> w = random_rows(type, K, N);
    long long rb = (long long)w.size() / N;
    std::vector<float> x((size_t)T * K), y((size_t)T * N, NAN);
    for (auto& v : x) v = uni(1);
    std::vector<double> wd((size_t)N * K), want((size_t)T * N);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) wd[(size_t)n * K + k] = dequant_at(type, w.data() + n * rb, k);
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += wd[(size_t)n * K + k] * x[(size_t)t * K + k];
            want[(size_t)t * N + n] = s;
        }
    if (repacked) w = repack_rows(type, K, N, w);
    int bn = wide ? 128 : 64, bt = wide ? 64 : 32;
    emu_launch(mma_kernel(repacked ? type + 256 : type, wide), (N + bn - 1) / bn, (T + bt - 1) / bt, 1, MMA_THREADS, (const u8*)w.data(),
               (const float*)x.data(), y.data(), K, N, T);
    double err = 0, ref = 0;
    for (size_t i = 0; i < y.size(); i++) err += (y[i] - want[i]) * (y[i] - want[i]), ref += want[i] * want[i];
    double e = std::isfinite(err) ? err / ref : INFINITY;
    bool ok = e <= (type == T_Q4_0 || type == T_Q8_0 ? 5e-4 : 1e-6);
    if (!ok) failures++;
    std::printf("%s mul_mat_mma %-4s%s %s k=%d n=%d t=%d nmse %.3g\n", ok ? "ok  " : "FAIL", type_name(type), repacked ? "r" : "",
                wide ? "128x64" : "64x32 ", K, N, T, e);
}

/* One warp: A 16x32 row-major and B^T 8x32 (B column-major) as s8, D 16x8 row-major s32. */
__global__ void mma_s8_once(const signed char* a, const signed char* bt, int* d, int transposed) {
    unsigned lane = threadIdx.x, g = lane >> 2, q = lane & 3;
    /* transposed: A's 16x16 left half read as its transpose */
    auto at = [&](unsigned r, unsigned c) -> unsigned { return (unsigned char)(transposed && c < 16 ? a[c * 32 + r] : a[r * 32 + c]); };
    unsigned fa[4], fb[2];
    for (int r = 0; r < 4; r++) {
        unsigned row = g + 8 * (r & 1), col = 4 * q + 16 * (r >> 1);
        fa[r] = at(row, col) | at(row, col + 1) << 8 | at(row, col + 2) << 16 | at(row, col + 3) << 24;
    }
    for (int r = 0; r < 2; r++) {
        const unsigned char* p = (const unsigned char*)bt + g * 32 + 4 * q + 16 * r;
        fb[r] = p[0] | p[1] << 8 | p[2] << 16 | (unsigned)p[3] << 24;
    }
    int acc[4];
    for (int i = 0; i < 4; i++) acc[i] = d[(g + 8 * (i >> 1)) * 8 + 2 * q + (i & 1)];
    mma_s8_16x8x32(acc, fa, fb);
    for (int i = 0; i < 4; i++) d[(g + 8 * (i >> 1)) * 8 + 2 * q + (i & 1)] = acc[i];
}

static void test_mma_s8_fragments() {
    std::vector<signed char> a(512), bt(256);
    std::vector<int> c(128), want(128);
    for (auto& v : a) v = (signed char)(rng() % 255 - 127);
    for (auto& v : bt) v = (signed char)(rng() % 255 - 127);
    for (auto& v : c) v = (int)(rng() % 2001) - 1000;
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 8; n++) {
            int s = c[m * 8 + n];
            for (int k = 0; k < 32; k++) s += a[m * 32 + k] * bt[n * 32 + k];
            want[m * 8 + n] = s;
        }
    for (int transposed : {0, 1}) {
        std::vector<int> d = c;
        emu_launch(mma_s8_once, 1, 1, 1, 32, (const signed char*)a.data(), (const signed char*)bt.data(), d.data(), transposed);
        int wrong = 0;
        for (int i = 0; i < 128; i++) wrong += d[i] != want[i];
        bool ok = transposed ? wrong > 64 : wrong == 0;
        if (!ok) failures++;
        std::printf("%s mma m16n8k32 s8 %s %d of 128 differ\n", ok ? "ok  " : "FAIL",
                    transposed ? "A loaded transposed (must differ)" : "fragments in the PTX layout", wrong);
    }
}

int main() {
    test_mma_fragments();
    test_mma_s8_fragments();
    for (int type : {T_F32, T_F16, T_BF16, T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1, T_Q8_0, T_MXFP4, T_Q2_K, T_Q3_K, T_Q4_K, T_Q5_K, T_Q6_K}) {
        int K = block_elems(type) == 256 ? 512 : 96;
        for (int T : {9, 33, 64, 100}) test_mul_mat_mma(type, K, 37, T, T > 64);
        test_mul_mat_mma(type, K, 133, 33, true);
        test_mul_mat_mma(type, K, 133, 100, false);
    }
    /* Q4_0 and Q8_0 repacked at load (K a multiple of 256), both tile sizes, odd N */
    for (int type : {T_Q4_0, T_Q8_0}) {
        for (int T : {9, 33, 100}) test_mul_mat_mma(type, 512, 37, T, T > 64, true);
        test_mul_mat_mma(type, 768, 133, 33, true, true);
        test_mul_mat_mma(type, 256, 133, 70, false, true);
    }
    std::printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
