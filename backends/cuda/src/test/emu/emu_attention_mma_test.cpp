/*
 * emu_attention_mma_test.cpp: the tensor-core prompt attention of attention_mma.cu on the CPU
 * emulator (emu.h), launched as KernelCalls launches it, against attention summed in double over
 * the cache values as stored (f16-decoded for F16 caches). Prompts of 16, 33 and 64 tokens from
 * position 0 and continuing at position 100, GQA ratios 1 and 4, head dims 64 and 128 (80 and 96
 * once each), sliding windows and soft caps alone and together, sinks, F32 and F16 caches, a ring
 * cache holding only a window, positions out of order, and several splits merged by attention.cu's
 * attention_combine. Cache rows no token may read hold NaN,
 * so a read past a row's range shows. Tolerance: nmse 1e-5 (Q, P and F32 caches are rounded to
 * f16, products summed in f32; observed about 1e-7). Build and run: run.sh.
 */
#include "emu.h"
#include <cstdio>
#include <random>
#include <string>

#include "common.cuh"
#include "mma.cuh"
#include "attention_mma.cu"
#include "attention.cu"

static std::mt19937 rng(11);
static int failures = 0;

static float uni(float r) { return std::uniform_real_distribution<float>(-r, r)(rng); }

using Entry = void (*)(const float*, const u8*, const u8*, const int*, float*, float*, int, int, int, float, int, int, int, int, float,
                       const float*);

static Entry entry(bool f16, int D) {
    switch (D) {
    case 64: return f16 ? attention_mma_f16_d64 : attention_mma_f32_d64;
    case 80: return f16 ? attention_mma_f16_d80 : attention_mma_f32_d80;
    case 96: return f16 ? attention_mma_f16_d96 : attention_mma_f32_d96;
    default: return f16 ? attention_mma_f16_d128 : attention_mma_f32_d128;
    }
}

/* Attention of tokens at pos over a cache of ctx rows (position j at row j % ctx), heads / kvHeads query heads a KV head. */
static void test(bool f16, int heads, int kvHeads, int D, std::vector<int> pos, int ctx, int window = 0, float softcap = 0,
                 bool withSinks = false, int splits = 1) {
    int T = (int)pos.size(), kvDim = kvHeads * D, group = heads / kvHeads;
    int maxPos = 0;
    for (int p : pos) maxPos = std::max(maxPos, p);
    /* K and V of every position 0..maxPos, rounded to f16 where the cache is F16 */
    std::vector<float> kp((size_t)(maxPos + 1) * kvDim), vp(kp.size()), q((size_t)T * heads * D), out(q.size(), NAN);
    for (auto* a : {&kp, &vp})
        for (auto& v : *a) v = f16 ? emu_half(float_to_half_bits(uni(1))) : uni(1);
    for (auto& v : q) v = uni(2);
    /* the cache holds the last ctx positions; other rows (never written) are NaN */
    std::vector<float> kf((size_t)ctx * kvDim, NAN), vf(kf.size(), NAN);
    std::vector<unsigned short> kh(kf.size(), 0x7e00), vh(kf.size(), 0x7e00);
    for (int j = std::max(0, maxPos + 1 - ctx); j <= maxPos; j++)
        for (int i = 0; i < kvDim; i++) {
            size_t c = (size_t)(j % ctx) * kvDim + i, p = (size_t)j * kvDim + i;
            kf[c] = kp[p], vf[c] = vp[p], kh[c] = float_to_half_bits(kp[p]), vh[c] = float_to_half_bits(vp[p]);
        }
    float scale = 1.0f / std::sqrt((float)D);
    std::vector<float> sinks(heads);
    for (int h = 0; h < heads; h++) sinks[h] = -4.0f + 10.0f * h / std::max(1, heads - 1) + uni(0.5f);
    std::vector<double> want(q.size());
    for (int t = 0; t < T; t++)
        for (int h = 0; h < heads; h++) {
            int kvo = (h / group) * D, first = window > 0 ? std::max(0, pos[t] - window + 1) : 0;
            std::vector<double> s(pos[t] + 1);
            double mx = withSinks ? sinks[h] : -INFINITY, sum = 0;
            for (int j = first; j <= pos[t]; j++) {
                double d = 0;
                for (int i = 0; i < D; i++) d += (double)q[((size_t)t * heads + h) * D + i] * kp[(size_t)j * kvDim + kvo + i];
                s[j] = scale * d;
                if (softcap > 0) s[j] = softcap * std::tanh(s[j] / softcap);
                mx = std::max(mx, s[j]);
            }
            if (withSinks) sum = std::exp(sinks[h] - mx);
            for (int j = first; j <= pos[t]; j++) sum += s[j] = std::exp(s[j] - mx);
            for (int i = 0; i < D; i++) {
                double a = 0;
                for (int j = first; j <= pos[t]; j++) a += s[j] * vp[(size_t)j * kvDim + kvo + i];
                want[((size_t)t * heads + h) * D + i] = a / sum;
            }
        }
    const u8* kc = f16 ? (const u8*)kh.data() : (const u8*)kf.data();
    const u8* vc = f16 ? (const u8*)vh.data() : (const u8*)vf.data();
    const float* sk = withSinks ? sinks.data() : nullptr;
    int span = window > 0 ? std::min(ctx, window) : ctx, chunk = (span + splits - 1) / splits;
    std::vector<float> part((size_t)T * heads * splits * (D + 2), NAN);
    emu_launch(entry(f16, D), (T * group + AM_ROWS - 1) / AM_ROWS, kvHeads, splits, AM_THREADS, (const float*)q.data(), kc, vc,
               (const int*)pos.data(), part.data(), out.data(), T, heads, kvHeads, scale, ctx, chunk, splits, window, softcap, sk);
    if (splits > 1) emu_launch(attention_combine, heads, T, 1, 128, (const float*)part.data(), out.data(), heads, D, splits, sk);
    double err = 0, ref = 0;
    for (size_t i = 0; i < out.size(); i++) err += (out[i] - want[i]) * (out[i] - want[i]), ref += want[i] * want[i];
    double e = std::isfinite(err) ? err / ref : INFINITY;
    bool ok = e <= 1e-5;
    if (!ok) failures++;
    std::printf("%s attention_mma %s heads=%d/%d d=%d t=%d from=%d ctx=%d window=%d softcap=%g%s splits=%d nmse %.3g\n",
                ok ? "ok  " : "FAIL", f16 ? "f16" : "f32", heads, kvHeads, D, T, pos[0], ctx, window, softcap, withSinks ? " sinks" : "",
                splits, e);
}

static std::vector<int> from(int start, int T) {
    std::vector<int> p(T);
    for (int t = 0; t < T; t++) p[t] = start + t;
    return p;
}

int main() {
    for (bool f16 : {true, false})
        for (int D : {64, 128})
            for (int ratio : {1, 4})
                for (int T : {16, 33, 64})
                    for (int start : {0, 100}) {
                        int kvHeads = ratio == 1 ? 2 : 1;
                        test(f16, kvHeads * ratio, kvHeads, D, from(start, T), start + T + 5);
                    }
    for (int ratio : {1, 4}) {
        int kvHeads = ratio == 1 ? 2 : 1, heads = kvHeads * ratio;
        test(true, heads, kvHeads, 64, from(100, 33), 140, 24);
        test(true, heads, kvHeads, 128, from(0, 64), 70, 0, 30.0f);
        test(false, heads, kvHeads, 64, from(100, 64), 170, 40, 20.0f);
        test(true, heads, kvHeads, 128, from(100, 16), 120, 0, 0, true);
        test(false, heads, kvHeads, 64, from(0, 33), 40, 8, 0, true);
    }
    test(true, 2, 2, 80, from(100, 33), 140);
    test(false, 8, 2, 96, from(0, 64), 64, 16, 25.0f);
    /* a ring of 48 rows holding a window of 24 (the host keeps ctx >= window + T - 1) */
    test(true, 4, 1, 64, from(100, 16), 48, 24);
    test(false, 2, 2, 128, from(200, 24), 48, 24, 30.0f, true);
    /* positions out of order, with gaps */
    test(true, 4, 1, 64, {130, 101, 5, 117, 64, 63, 0, 150, 149, 20, 90, 111, 77, 33, 140, 2, 99}, 160, 0);
    /* several splits merged by attention_combine */
    test(true, 8, 2, 128, from(100, 33), 140, 0, 0, false, 3);
    test(false, 4, 1, 64, from(0, 64), 70, 0, 0, true, 4);
    test(true, 2, 2, 64, from(100, 16), 120, 40, 30.0f, true, 2);
    test(true, 4, 1, 64, from(100, 16), 48, 24, 0, true, 3);
    std::printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
