/*
 * emu_mma_test.cpp: the tensor-core primitives of mma.cuh on the CPU emulator (emu.h). The
 * emulated mma.m16n8k16 is checked against a plain matrix product, with fragments loaded in the
 * PTX ISA's layout, and must not match when A's fragments are loaded transposed. Build and run: run.sh.
 */
#include "emu.h"
#include <cstdio>
#include <random>
#include <string>

#include "common.cuh"
#include "mma.cuh"

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

int main() {
    test_mma_fragments();
    std::printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
