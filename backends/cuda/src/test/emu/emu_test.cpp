/*
 * emu_test.cpp: Hearth's CUDA kernels run on the CPU (emu.h) against straightforward references
 * in double: the GGUF block decoders here are ports of the reference codecs of
 * dev.hearth.runtime.dtype (LegacyQuants, KQuants, Mxfp4), and the ops follow ReferenceOps. Launch
 * shapes are those of KernelCalls. Build and run: backends/cuda/src/test/emu/run.sh.
 */
#include "emu.h"
#include <cstdio>
#include <random>
#include <string>

#include "mul_mat_vec.cu"
#include "mul_mat_tiled.cu"
#include "get_rows.cu"
#include "rms_norm.cu"
#include "layer_norm.cu"
#include "rope.cu"
#include "kv_store.cu"
#include "attention.cu"
#include "elementwise.cu"
#include "softmax.cu"
#include "convert.cu"
#include "experts.cu"
#include "repack.h"

static std::mt19937 rng(42);
static int failures = 0;

static float uni(float r) { return std::uniform_real_distribution<float>(-r, r)(rng); }
static unsigned short f2h(float f) { return __half_as_ushort(__float2half_rn(f)); }
static float h2f(const uint8_t* p) { __half h; std::memcpy(&h.bits, p, 2); return __half2float(h); }

static void report(const std::string& name, const std::vector<float>& got, const std::vector<double>& want, double tol) {
    double err = 0, ref = 0;
    bool finite = got.size() == want.size();
    for (size_t i = 0; finite && i < got.size(); i++) {
        if (!std::isfinite(got[i])) finite = false;
        err += (got[i] - want[i]) * (got[i] - want[i]);
        ref += want[i] * want[i];
    }
    double e = finite ? (ref > 0 ? err / ref : err) : INFINITY;
    bool ok = e <= tol;
    if (!ok) failures++;
    std::printf("%s %-58s nmse %.3g\n", ok ? "ok  " : "FAIL", name.c_str(), e);
}

static bool kquant(int type) { return type == T_Q2_K || type == T_Q3_K || type == T_Q4_K || type == T_Q5_K || type == T_Q6_K; }
static size_t block_size(int type) { return type == T_F32 || type == T_F16 || type == T_BF16 ? 1 : kquant(type) ? 256 : 32; }
static size_t type_size(int type) {
    switch (type) {
    case T_F32: return 4;
    case T_F16: case T_BF16: return 2;
    case T_Q4_0: return 18;
    case T_Q4_1: return 20;
    case T_Q5_0: return 22;
    case T_Q5_1: return 24;
    case T_Q8_0: return 34;
    case T_MXFP4: return 17;
    case T_Q2_K: return 84;
    case T_Q3_K: return 110;
    case T_Q4_K: return 144;
    case T_Q5_K: return 176;
    default: return 210;
    }
}
static size_t row_size(int type, int K) { return K / block_size(type) * type_size(type); }

/* Random valid rows: float types encode random values; quant blocks get random quants and small scales. */
static std::vector<uint8_t> random_rows(int type, int K, int rows) {
    size_t rb = row_size(type, K);
    std::vector<uint8_t> b(rb * rows);
    for (auto& v : b) v = (uint8_t)rng();
    for (int r = 0; r < rows; r++) {
        uint8_t* row = b.data() + r * rb;
        for (int k = 0; k < K; k++) {
            if (type == T_F32) { float f = uni(1); std::memcpy(row + 4 * k, &f, 4); }
            if (type == T_F16) { unsigned short h = f2h(uni(1)); std::memcpy(row + 2 * k, &h, 2); }
            if (type == T_BF16) { unsigned short h = float_to_bf16(uni(1)); std::memcpy(row + 2 * k, &h, 2); }
        }
        for (size_t blk = 0; blk < rb / type_size(type) && block_size(type) > 1; blk++) {
            uint8_t* p = row + blk * type_size(type);
            unsigned short d = f2h(uni(0.05f)), m = f2h(std::fabs(uni(0.05f))), off = f2h(uni(0.2f));
            if (type == T_MXFP4) { p[0] = (uint8_t)(119 + rng() % 8); continue; } /* scales 2^-8 .. 2^-1 */
            size_t at = type == T_Q6_K ? 208 : type == T_Q3_K ? 108 : type == T_Q2_K ? 80 : 0;
            std::memcpy(p + at, &d, 2);
            if (type == T_Q4_K || type == T_Q5_K || type == T_Q2_K) std::memcpy(p + at + 2, &m, 2); /* dmin */
            if (type == T_Q4_1 || type == T_Q5_1) std::memcpy(p + 2, &off, 2);                      /* m */
        }
    }
    return b;
}

/* Ports of the reference codecs' dequantizeRow. */
static void dequant_row(int type, const uint8_t* s, int n, double* dst) {
    if (type == T_F32) { for (int i = 0; i < n; i++) { float f; std::memcpy(&f, s + 4 * i, 4); dst[i] = f; } return; }
    if (type == T_F16) { for (int i = 0; i < n; i++) dst[i] = h2f(s + 2 * i); return; }
    if (type == T_BF16) { for (int i = 0; i < n; i++) { unsigned short b; std::memcpy(&b, s + 2 * i, 2); dst[i] = bf16_to_float(b); } return; }
    for (int b = 0, o = 0; b < n; b += (int)block_size(type), s += type_size(type), o += (int)block_size(type)) {
        if (type == T_Q4_0) {
            float d = h2f(s);
            for (int j = 0; j < 16; j++) { dst[o + j] = ((s[2 + j] & 0xf) - 8) * d; dst[o + j + 16] = ((s[2 + j] >> 4) - 8) * d; }
        } else if (type == T_Q8_0) {
            float d = h2f(s);
            for (int j = 0; j < 32; j++) dst[o + j] = (signed char)s[2 + j] * d;
        } else if (type == T_Q4_1 || type == T_Q5_0 || type == T_Q5_1) {
            bool five = type != T_Q4_1, offset = type != T_Q5_0;
            float d = h2f(s), m = offset ? h2f(s + 2) : 0.0f;
            uint32_t qh = 0;
            if (five) std::memcpy(&qh, s + (offset ? 4 : 2), 4);
            const uint8_t* qs = s + (type == T_Q4_1 ? 4 : type == T_Q5_0 ? 6 : 8);
            for (int j = 0; j < 16; j++) {
                int lo = (qs[j] & 0xf) | (five ? ((qh >> j) & 1) << 4 : 0), hi = (qs[j] >> 4) | (five ? ((qh >> (j + 16)) & 1) << 4 : 0);
                if (offset) { dst[o + j] = lo * d + m; dst[o + j + 16] = hi * d + m; }
                else { dst[o + j] = (lo - 16) * d; dst[o + j + 16] = (hi - 16) * d; }
            }
        } else if (type == T_MXFP4) {
            static const int kv[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
            double d = std::ldexp(1.0, s[0] - 128);
            for (int j = 0; j < 16; j++) { dst[o + j] = kv[s[1 + j] & 0xf] * d; dst[o + j + 16] = kv[s[1 + j] >> 4] * d; }
        } else if (type == T_Q2_K) {
            float d = h2f(s + 80), dmin = h2f(s + 82);
            for (int e = 0; e < 256; e += 16) {
                int sc = s[e / 16];
                float dl = d * (sc & 0xf), ml = dmin * (sc >> 4);
                int r = e % 128, shift = 2 * (r / 32);
                const uint8_t* q = s + 16 + 32 * (e / 128) + r % 32;
                for (int l = 0; l < 16; l++) dst[o + e + l] = dl * ((q[l] >> shift) & 3) - ml;
            }
        } else if (type == T_Q3_K) {
            float d = h2f(s + 108);
            for (int e = 0; e < 256; e += 16) {
                int j = e / 16;
                int low = j < 8 ? s[96 + j] & 0xf : s[96 + j - 8] >> 4, high = (s[96 + 8 + j % 4] >> (2 * (j / 4))) & 3;
                float dl = d * ((low | high << 4) - 32);
                int r = e % 128, shift = 2 * (r / 32), bit = e / 32;
                const uint8_t* q = s + 32 + 32 * (e / 128) + r % 32;
                const uint8_t* hm = s + r % 32;
                for (int l = 0; l < 16; l++) dst[o + e + l] = dl * (((q[l] >> shift) & 3) - (((hm[l] >> bit) & 1) ? 0 : 4));
            }
        } else if (type == T_Q4_K || type == T_Q5_K) {
            float d = h2f(s), dmin = h2f(s + 2);
            for (int j = 0; j < 8; j++) {
                int sc, mn;
                const uint8_t* p = s + 4;
                if (j < 4) { sc = p[j] & 63; mn = p[j + 4] & 63; }
                else { sc = (p[j + 4] & 0xf) | (p[j - 4] >> 6) << 4; mn = (p[j + 4] >> 4) | (p[j] >> 6) << 4; }
                float dl = d * sc, ml = dmin * mn;
                const uint8_t* q = s + (type == T_Q4_K ? 16 : 48) + 32 * (j / 2);
                int shift = 4 * (j % 2);
                for (int l = 0; l < 32; l++) {
                    int v = (q[l] >> shift) & 0xf;
                    if (type == T_Q5_K) v |= ((s[16 + l] >> j) & 1) << 4;
                    dst[o + 32 * j + l] = dl * v - ml;
                }
            }
        } else {
            float d = h2f(s + 208);
            for (int e = 0; e < 256; e += 16) {
                float dl = d * (signed char)s[192 + e / 16];
                int h = e / 128, r = e % 128, k = r / 32;
                for (int l = r % 32, i = 0; i < 16; l++, i++) {
                    int low = (s[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xf;
                    int high = (s[128 + 32 * h + l] >> (2 * k)) & 3;
                    dst[o + e + i] = dl * ((low | high << 4) - 32);
                }
            }
        }
    }
}

static const char* type_name(int t) {
    switch (t) { case T_F32: return "f32"; case T_F16: return "f16"; case T_BF16: return "bf16"; case T_Q4_0: return "q4_0";
    case T_Q4_1: return "q4_1"; case T_Q5_0: return "q5_0"; case T_Q5_1: return "q5_1"; case T_Q8_0: return "q8_0";
    case T_MXFP4: return "mxfp4"; case T_Q2_K: return "q2_k"; case T_Q3_K: return "q3_k"; case T_Q4_K: return "q4_k";
    case T_Q5_K: return "q5_k"; default: return "q6_k"; }
}

typedef void (*MatKernel)(const u8*, const float*, float*, int, int, int);
typedef void (*VecKernel)(const u8*, const block_q8_1*, float*, int, int, int, int);

/* The matrix-vector kernels of a quantized type, by token variant 1, 4, 8 (as KernelCalls picks them), one warp per row
 * group or split four ways. */
#define VEC6(sfx) {mul_mat_vec_##sfx##_t1, mul_mat_vec_##sfx##_t4, mul_mat_vec_##sfx##_t8, \
                   mul_mat_vec_split_##sfx##_t1, mul_mat_vec_split_##sfx##_t4, mul_mat_vec_split_##sfx##_t8}
static VecKernel vec_kernel(int type, int variant, bool split) {
    static const struct { int type; VecKernel k[6]; } table[] = {
        {T_Q4_0, VEC6(q4_0)}, {T_Q4_1, VEC6(q4_1)}, {T_Q5_0, VEC6(q5_0)}, {T_Q5_1, VEC6(q5_1)}, {T_Q8_0, VEC6(q8_0)},
        {T_MXFP4, VEC6(mxfp4)}, {T_Q2_K, VEC6(q2_k)}, {T_Q3_K, VEC6(q3_k)}, {T_Q4_K, VEC6(q4_k)}, {T_Q5_K, VEC6(q5_k)},
        {T_Q6_K, VEC6(q6_k)}, {T_Q4_0R, VEC6(q4_0r)}, {T_Q8_0R, VEC6(q8_0r)}};
    for (auto& e : table) if (e.type == type) return e.k[(split ? 3 : 0) + (variant == 1 ? 0 : variant == 4 ? 1 : 2)];
    return nullptr;
}

static MatKernel tiled_kernel(int type) {
    static const struct { int type; MatKernel k; } table[] = {
        {T_F32, mul_mat_tiled_f32}, {T_F16, mul_mat_tiled_f16}, {T_BF16, mul_mat_tiled_bf16}, {T_Q4_0, mul_mat_tiled_q4_0},
        {T_Q4_1, mul_mat_tiled_q4_1}, {T_Q5_0, mul_mat_tiled_q5_0}, {T_Q5_1, mul_mat_tiled_q5_1}, {T_Q8_0, mul_mat_tiled_q8_0},
        {T_MXFP4, mul_mat_tiled_mxfp4}, {T_Q2_K, mul_mat_tiled_q2_k}, {T_Q3_K, mul_mat_tiled_q3_k}, {T_Q4_K, mul_mat_tiled_q4_k},
        {T_Q5_K, mul_mat_tiled_q5_k}, {T_Q6_K, mul_mat_tiled_q6_k}, {T_Q4_0R, mul_mat_tiled_q4_0r}, {T_Q8_0R, mul_mat_tiled_q8_0r}};
    for (auto& e : table) if (e.type == type) return e.k;
    return nullptr;
}

/*
 * mul_mat against double sums over the decoded rows. T <= 8: the matrix-vector variant the host
 * takes for T (1, 4 or 8 tokens per block; `variant` overrides it, to run a wider variant on
 * fewer tokens) with the rows per warp it takes for K (2 for K <= 1024, else 1; `rpw`
 * overrides it), one warp per row group or (split) the block's four warps on the same rows,
 * quantized types through q8_1 activations; more tokens: the tiled kernel. `repacked`: Q4_0 or
 * Q8_0 weights in the layout of repack_rows, read by the kernels of T_Q4_0R or T_Q8_0R.
 */
static void test_mul_mat(int type, int K, int N, int T, int variant = 0, int rpw = 0, bool split = false, bool repacked = false) {
    auto w = random_rows(type, K, N);
    std::vector<float> x(K * T), y(N * T, NAN);
    for (auto& v : x) v = uni(1);
    std::vector<double> want(N * T), row(K);
    for (int n = 0; n < N; n++) {
        dequant_row(type, w.data() + n * row_size(type, K), K, row.data());
        for (int t = 0; t < T; t++) { double s = 0; for (int k = 0; k < K; k++) s += row[k] * x[t * K + k]; want[t * N + n] = s; }
    }
    int kt = type;
    if (repacked) w = repack_rows(type, K, N, w), kt = type + 256;
    bool vec = T <= 8, dp4a = vec && block_size(type) > 1;
    if (variant == 0) variant = T == 1 ? 1 : T <= 4 ? 4 : 8;
    if (rpw == 0) rpw = K <= 1024 ? 2 : 1;
    if (vec) {
        unsigned rows = split ? rpw : 4 * rpw, gx = (N + rows - 1) / rows, gy = (T + variant - 1) / variant;
        int vi = (split ? 3 : 0) + (variant == 1 ? 0 : variant == 4 ? 1 : 2);
        if (dp4a) {
            std::vector<block_q8_1> q((size_t)T * K / 32);
            emu_launch(quantize_q8_1, (T * (K / 32) + 7) / 8, 1, 1, 256, x.data(), q.data(), K, T);
            emu_launch(vec_kernel(kt, variant, split), gx, gy, 1, 128, (const u8*)w.data(), (const block_q8_1*)q.data(), y.data(), K, N, T, rpw);
        } else if (type == T_F32) {
            void (*k[])(const float*, const float*, float*, int, int, int, int) = {mul_mat_vec_f32_t1, mul_mat_vec_f32_t4,
                mul_mat_vec_f32_t8, mul_mat_vec_split_f32_t1, mul_mat_vec_split_f32_t4, mul_mat_vec_split_f32_t8};
            emu_launch(k[vi], gx, gy, 1, 128, (const float*)w.data(), x.data(), y.data(), K, N, T, rpw);
        } else if (type == T_F16) {
            void (*k[])(const __half*, const float*, float*, int, int, int, int) = {mul_mat_vec_f16_t1, mul_mat_vec_f16_t4,
                mul_mat_vec_f16_t8, mul_mat_vec_split_f16_t1, mul_mat_vec_split_f16_t4, mul_mat_vec_split_f16_t8};
            emu_launch(k[vi], gx, gy, 1, 128, (const __half*)w.data(), x.data(), y.data(), K, N, T, rpw);
        } else {
            void (*k[])(const unsigned short*, const float*, float*, int, int, int, int) = {mul_mat_vec_bf16_t1, mul_mat_vec_bf16_t4,
                mul_mat_vec_bf16_t8, mul_mat_vec_split_bf16_t1, mul_mat_vec_split_bf16_t4, mul_mat_vec_split_bf16_t8};
            emu_launch(k[vi], gx, gy, 1, 128, (const unsigned short*)w.data(), x.data(), y.data(), K, N, T, rpw);
        }
    } else {
        emu_launch(tiled_kernel(kt), (N + 63) / 64, (T + 63) / 64, 1, 256, (const u8*)w.data(), (const float*)x.data(), y.data(), K, N, T);
    }
    report(std::string("mul_mat ") + type_name(type) + (repacked ? "r" : "") + " k=" + std::to_string(K) + " n=" + std::to_string(N) + " t=" + std::to_string(T) +
           (vec ? " t" + std::to_string(variant) + " r" + std::to_string(rpw) + (split ? " split" : "") : " tiled"), y, want, dp4a ? 5e-4 : 1e-9);
}

static void test_get_rows(int type, int K, int V, bool repacked = false) {
    auto table = random_rows(type, K, V);
    auto read = repacked ? repack_rows(type, K, V, table) : table;
    int ids[] = {0, V - 1, 5, 5, 17};
    int T = 5;
    std::vector<float> out(K * T, NAN);
    std::vector<double> want(K * T);
    for (int t = 0; t < T; t++) dequant_row(type, table.data() + ids[t] * row_size(type, K), K, want.data() + t * K);
    emu_launch(get_rows, T, 1, 1, 256, (const u8*)read.data(), (const int*)ids, out.data(), repacked ? type + 256 : type,
               (long long)row_size(type, K), K, V);
    report(std::string("get_rows ") + type_name(type) + (repacked ? "r" : ""), out, want, 1e-14);
}

static void test_attention(bool f16, int heads, int kvHeads, int D, int ctx, std::vector<int> pos, int window = 0, float softcap = 0,
                           bool withSinks = false) {
    int T = (int)pos.size(), kvDim = kvHeads * D;
    std::vector<float> q(heads * D * T), kf(kvDim * ctx), vf(kvDim * ctx), out(heads * D * T, NAN);
    std::vector<unsigned short> kh(kvDim * ctx), vh(kvDim * ctx);
    for (auto& v : q) v = uni(2);
    for (int i = 0; i < kvDim * ctx; i++) {
        kf[i] = uni(1); vf[i] = uni(1);
        if (f16) { kh[i] = f2h(kf[i]); vh[i] = f2h(vf[i]); kf[i] = h2f((uint8_t*)&kh[i]); vf[i] = h2f((uint8_t*)&vh[i]); }
    }
    float scale = 1.0f / std::sqrt((float)D);
    /* sinks from well below the scores to well above them (so that some heads are dominated by theirs) */
    std::vector<float> sinks(heads);
    for (int h = 0; h < heads; h++) sinks[h] = -4.0f + 10.0f * h / std::max(1, heads - 1) + uni(0.5f);
    std::vector<double> want(heads * D * T);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < heads; h++) {
            int kvo = (h / (heads / kvHeads)) * D, n = pos[t] + 1;
            int first = window > 0 ? std::max(0, pos[t] - window + 1) : 0;
            std::vector<double> s(n);
            double mx = -INFINITY, sum = 0;
            for (int j = first; j < n; j++) {
                double d = 0;
                for (int i = 0; i < D; i++) d += (double)q[(t * heads + h) * D + i] * kf[j * kvDim + kvo + i];
                s[j] = scale * d;
                if (softcap > 0) s[j] = softcap * std::tanh(s[j] / softcap);
                mx = std::max(mx, s[j]);
            }
            if (withSinks) { mx = std::max(mx, (double)sinks[h]); sum = std::exp(sinks[h] - mx); }
            for (int j = first; j < n; j++) { s[j] = std::exp(s[j] - mx); sum += s[j]; }
            for (int i = 0; i < D; i++) {
                double a = 0;
                for (int j = first; j < n; j++) a += s[j] * vf[j * kvDim + kvo + i];
                want[(t * heads + h) * D + i] = a / sum;
            }
        }
    int tokens = T, span = window > 0 ? std::min(ctx, window) : ctx;
    long long byRows = (span + 255) / 256, byBlocks = std::max(1LL, 2048LL / ((long long)tokens * kvHeads));
    int splits = (int)std::max(1LL, std::min(64LL, std::min(byRows, byBlocks)));
    int chunk = (span + splits - 1) / splits;
    std::vector<float> part((size_t)T * heads * splits * (D + 2) + 1);
    const float* sk = withSinks ? sinks.data() : nullptr;
    if (f16)
        emu_launch(attention_partial_f16, kvHeads, T, splits, 128, (const float*)q.data(), (const u8*)kh.data(), (const u8*)vh.data(),
                   (const int*)pos.data(), part.data(), out.data(), heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sk);
    else
        emu_launch(attention_partial_f32, kvHeads, T, splits, 128, (const float*)q.data(), (const u8*)kf.data(), (const u8*)vf.data(),
                   (const int*)pos.data(), part.data(), out.data(), heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sk);
    if (splits > 1) emu_launch(attention_combine, heads, T, 1, 128, (const float*)part.data(), out.data(), heads, D, splits, sk);
    report("attention " + std::string(f16 ? "f16" : "f32") + " heads=" + std::to_string(heads) + "/" + std::to_string(kvHeads) + " d=" +
           std::to_string(D) + " ctx=" + std::to_string(ctx) + " t=" + std::to_string(T) + " window=" + std::to_string(window) + " softcap=" +
           std::to_string((int)softcap) + (withSinks ? " sinks" : "") + " splits=" + std::to_string(splits), out, want, 1e-10);
}

/* Runs attention as KernelCalls launches it over a cache of ctx rows (F32 in kf/vf, or F16 in kh/vh). */
static std::vector<float> run_attention(bool f16, int heads, int kvHeads, int D, int ctx, const std::vector<int>& pos, int window,
                                        float softcap, const float* sk, const std::vector<float>& q, const std::vector<float>& kf,
                                        const std::vector<float>& vf, const std::vector<unsigned short>& kh,
                                        const std::vector<unsigned short>& vh, int* splitsOut) {
    int T = (int)pos.size(), span = window > 0 ? std::min(ctx, window) : ctx;
    long long byRows = (span + 255) / 256, byBlocks = std::max(1LL, 2048LL / ((long long)T * kvHeads));
    int splits = (int)std::max(1LL, std::min(64LL, std::min(byRows, byBlocks)));
    int chunk = (span + splits - 1) / splits;
    float scale = 1.0f / std::sqrt((float)D);
    std::vector<float> out(heads * D * T, NAN), part((size_t)T * heads * splits * (D + 2) + 1);
    if (f16)
        emu_launch(attention_partial_f16, kvHeads, T, splits, 128, (const float*)q.data(), (const u8*)kh.data(), (const u8*)vh.data(),
                   (const int*)pos.data(), part.data(), out.data(), heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sk);
    else
        emu_launch(attention_partial_f32, kvHeads, T, splits, 128, (const float*)q.data(), (const u8*)kf.data(), (const u8*)vf.data(),
                   (const int*)pos.data(), part.data(), out.data(), heads, kvHeads, D, scale, ctx, chunk, splits, window, softcap, sk);
    if (splits > 1) emu_launch(attention_combine, heads, T, 1, 128, (const float*)part.data(), out.data(), heads, D, splits, sk);
    *splitsOut = splits;
    return out;
}

/*
 * A ring cache of R rows (position p at row p % R) against the same computation on a full-size
 * cache of max(pos) + 1 rows: the ring's row r holds the latest position with that residue, as
 * kv_store would have left it. Positions sit well past R; R >= window + T - 1 as the host keeps it.
 * The ring must match the full cache up to the order of the sums (and the splits, which follow
 * each cache's span).
 */
static void test_attention_ring(bool f16, int heads, int kvHeads, int D, int R, std::vector<int> pos, int window, float softcap = 0,
                                bool withSinks = false) {
    int T = (int)pos.size(), kvDim = kvHeads * D, full = *std::max_element(pos.begin(), pos.end()) + 1;
    std::vector<float> q(heads * D * T), kf(kvDim * full), vf(kvDim * full);
    std::vector<unsigned short> kh(kvDim * full), vh(kvDim * full);
    for (auto& v : q) v = uni(2);
    for (int i = 0; i < kvDim * full; i++) {
        kf[i] = uni(1); vf[i] = uni(1);
        if (f16) { kh[i] = f2h(kf[i]); vh[i] = f2h(vf[i]); kf[i] = h2f((uint8_t*)&kh[i]); vf[i] = h2f((uint8_t*)&vh[i]); }
    }
    std::vector<float> rkf(kvDim * R, NAN), rvf(kvDim * R, NAN);
    std::vector<unsigned short> rkh(kvDim * R, 0x7e00), rvh(kvDim * R, 0x7e00);
    for (int p = std::max(0, full - R); p < full; p++)
        for (int i = 0; i < kvDim; i++) {
            rkf[(p % R) * kvDim + i] = kf[p * kvDim + i]; rvf[(p % R) * kvDim + i] = vf[p * kvDim + i];
            rkh[(p % R) * kvDim + i] = kh[p * kvDim + i]; rvh[(p % R) * kvDim + i] = vh[p * kvDim + i];
        }
    std::vector<float> sinks(heads);
    for (int h = 0; h < heads; h++) sinks[h] = -4.0f + 10.0f * h / std::max(1, heads - 1) + uni(0.5f);
    const float* sk = withSinks ? sinks.data() : nullptr;
    int fullSplits, ringSplits;
    auto want = run_attention(f16, heads, kvHeads, D, full, pos, window, softcap, sk, q, kf, vf, kh, vh, &fullSplits);
    auto got = run_attention(f16, heads, kvHeads, D, R, pos, window, softcap, sk, q, rkf, rvf, rkh, rvh, &ringSplits);
    std::string ps;
    for (int p : pos) ps += (ps.empty() ? "" : ",") + std::to_string(p);
    report("attention ring " + std::string(f16 ? "f16" : "f32") + " heads=" + std::to_string(heads) + "/" + std::to_string(kvHeads) + " d=" +
           std::to_string(D) + " R=" + std::to_string(R) + " pos=" + ps + " window=" + std::to_string(window) + " softcap=" +
           std::to_string((int)softcap) + (withSinks ? " sinks" : "") + " splits=" + std::to_string(ringSplits) + "/" +
           std::to_string(fullSplits), got, std::vector<double>(want.begin(), want.end()), 1e-11);
}

/* ggml's reference quantizers of Q8_0 and Q4_0 (as the reference codecs), one row of n. */
static void quant_row(int type, const float* x, int n, uint8_t* out) {
    for (int b = 0; b < n; b += 32, x += 32, out += type_size(type)) {
        if (type == T_Q8_0) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(x[j]));
            float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            unsigned short h = f2h(d);
            std::memcpy(out, &h, 2);
            for (int j = 0; j < 32; j++) out[2 + j] = (uint8_t)(signed char)std::round(x[j] * id);
        } else {
            float amax = 0, mx = 0;
            for (int j = 0; j < 32; j++) if (amax < std::fabs(x[j])) { amax = std::fabs(x[j]); mx = x[j]; }
            float d = mx / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            unsigned short h = f2h(d);
            std::memcpy(out, &h, 2);
            for (int j = 0; j < 16; j++)
                out[2 + j] = (uint8_t)(std::min(15, (int)(x[j] * id + 8.5f)) | std::min(15, (int)(x[j + 16] * id + 8.5f)) << 4);
        }
    }
}

/* kv_store into a Q8_0 or Q4_0 cache (a ring): the bytes of the rows written equal the reference quantizer's, the others are kept. */
static void test_kv_store_quant(int type) {
    int kvDim = 96, ctx = 20, T = 4;
    int pos[] = {3, 20 * 7 + 4, 1000 * 20 + 19, 0};
    std::vector<float> src(kvDim * T);
    for (auto& v : src) v = uni(2);
    src[5] = 0; for (int j = 32; j < 64; j++) src[j] = 0; /* an all-zero block: d = 0 */
    auto cache = random_rows(type, kvDim, ctx);
    auto want = cache;
    size_t rb = row_size(type, kvDim);
    for (int t = 0; t < T; t++) quant_row(type, src.data() + t * kvDim, kvDim, want.data() + (pos[t] % ctx) * rb);
    emu_launch(type == T_Q8_0 ? kv_store_q8_0 : kv_store_q4_0, 1, T, 1, 256, (const float*)src.data(), (const int*)pos, cache.data(), kvDim, ctx);
    bool same = cache == want;
    if (!same) failures++;
    std::printf("%s kv_store %s ring ctx=20 (bytes %s)\n", same ? "ok  " : "FAIL", type_name(type), same ? "equal" : "differ");
}

/* Attention over Q8_0 or Q4_0 caches of random blocks, against double sums over the decoded rows (a ring where R < the span). */
static void test_attention_quant(int type, int heads, int kvHeads, int D, int ctx, std::vector<int> pos, int window = 0) {
    int T = (int)pos.size(), kvDim = kvHeads * D;
    std::vector<float> q(heads * D * T), out(heads * D * T, NAN);
    for (auto& v : q) v = uni(2);
    auto kb = random_rows(type, kvDim, ctx), vb = random_rows(type, kvDim, ctx);
    size_t rb = row_size(type, kvDim);
    std::vector<double> kd(kvDim * ctx), vd(kvDim * ctx);
    for (int r = 0; r < ctx; r++) { dequant_row(type, kb.data() + r * rb, kvDim, kd.data() + r * kvDim); dequant_row(type, vb.data() + r * rb, kvDim, vd.data() + r * kvDim); }
    float scale = 1.0f / std::sqrt((float)D);
    std::vector<double> want(heads * D * T);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < heads; h++) {
            int kvo = (h / (heads / kvHeads)) * D, n = pos[t] + 1;
            int first = std::max(window > 0 ? std::max(0, pos[t] - window + 1) : 0, pos[t] - ctx + 1);
            std::vector<double> s(n);
            double mx = -INFINITY, sum = 0;
            for (int j = first; j < n; j++) {
                double d = 0;
                for (int i = 0; i < D; i++) d += (double)q[(t * heads + h) * D + i] * kd[(j % ctx) * kvDim + kvo + i];
                s[j] = scale * d;
                mx = std::max(mx, s[j]);
            }
            for (int j = first; j < n; j++) { s[j] = std::exp(s[j] - mx); sum += s[j]; }
            for (int i = 0; i < D; i++) {
                double a = 0;
                for (int j = first; j < n; j++) a += s[j] * vd[(j % ctx) * kvDim + kvo + i];
                want[(t * heads + h) * D + i] = a / sum;
            }
        }
    int span = window > 0 ? std::min(ctx, window) : ctx;
    long long byRows = (span + 255) / 256, byBlocks = std::max(1LL, 2048LL / ((long long)T * kvHeads));
    int splits = (int)std::max(1LL, std::min(64LL, std::min(byRows, byBlocks)));
    int chunk = (span + splits - 1) / splits;
    std::vector<float> part((size_t)T * heads * splits * (D + 2) + 1);
    emu_launch(type == T_Q8_0 ? attention_partial_q8_0 : attention_partial_q4_0, kvHeads, T, splits, 128, (const float*)q.data(),
               (const u8*)kb.data(), (const u8*)vb.data(), (const int*)pos.data(), part.data(), out.data(), heads, kvHeads, D, scale, ctx,
               chunk, splits, window, 0.0f, (const float*)nullptr);
    if (splits > 1) emu_launch(attention_combine, heads, T, 1, 128, (const float*)part.data(), out.data(), heads, D, splits, (const float*)nullptr);
    report("attention " + std::string(type_name(type)) + " heads=" + std::to_string(heads) + "/" + std::to_string(kvHeads) + " d=" +
           std::to_string(D) + " ctx=" + std::to_string(ctx) + " t=" + std::to_string(T) + " window=" + std::to_string(window) +
           " splits=" + std::to_string(splits), out, want, 1e-10);
}

/* kv_store into a ring of ctx rows at positions past ctx: row p % ctx takes the token, the others keep their bytes. */
static void test_kv_store_ring(bool f16) {
    int kvDim = 96, ctx = 20, T = 4;
    int pos[] = {20 * 7 + 3, 20 * 7 + 4, 1000 * 20 + 19, 0};
    std::vector<float> src(kvDim * T), cf(kvDim * ctx);
    for (auto& v : src) v = uni(2);
    for (auto& v : cf) v = uni(1);
    std::vector<unsigned short> ch(kvDim * ctx);
    for (int i = 0; i < kvDim * ctx; i++) ch[i] = f2h(cf[i]);
    std::vector<double> want(kvDim * ctx);
    for (int i = 0; i < kvDim * ctx; i++) want[i] = f16 ? (double)h2f((uint8_t*)&ch[i]) : cf[i];
    for (int t = 0; t < T; t++)
        for (int k = 0; k < kvDim; k++) {
            unsigned short h = f2h(src[t * kvDim + k]);
            want[(pos[t] % ctx) * kvDim + k] = f16 ? (double)h2f((uint8_t*)&h) : src[t * kvDim + k];
        }
    std::vector<float> got(kvDim * ctx);
    if (f16) {
        emu_launch(kv_store_f16, 1, T, 1, 256, (const float*)src.data(), (const int*)pos, ch.data(), kvDim, ctx);
        for (int i = 0; i < kvDim * ctx; i++) got[i] = h2f((uint8_t*)&ch[i]);
    } else {
        emu_launch(kv_store_f32, 1, T, 1, 256, (const float*)src.data(), (const int*)pos, cf.data(), kvDim, ctx);
        got = cf;
    }
    report(std::string("kv_store ring ") + (f16 ? "f16" : "f32") + " ctx=20 pos=143,144,20019,0", got, want, 0);
}

/* YaRN's parameters as Op.Yarn holds them; extFactor 0 with yarn = false means no YaRN. */
struct Yarn { bool on; int origCtx; float extFactor, attnFactor, betaFast, betaSlow; };

/* rope as ReferenceOps.rope; with YaRN, Op.Yarn's corrDims, theta and mscale ported, the kernel's constants computed as KernelCalls does. */
static void test_rope(int mode, int ropeDims, bool factors, Yarn yarn = {false}, int headDim = 64, float base = 0, float fs = 0) {
    int heads = 3, T = 5, row = headDim * heads;
    std::vector<int> pos = {0, 1, 17, 1000, 4095};
    std::vector<float> x(row * T), y(row * T, NAN), ff(ropeDims / 2);
    for (auto& v : x) v = uni(1);
    for (int i = 0; i < ropeDims / 2; i++) ff[i] = 1.0f + 7.0f * i / (ropeDims / 2);
    if (base == 0) base = factors ? 500000.f : 10000.f;
    if (fs == 0) fs = factors ? 0.25f : 1.f;
    double corr[2] = {0, 0}, mscale = 1;
    if (yarn.on) {
        auto corrDim = [&](float rotations) { return ropeDims * std::log(yarn.origCtx / (rotations * 2 * M_PI)) / (2 * std::log(base)); };
        corr[0] = std::max(0.0, std::floor(corrDim(yarn.betaFast)));
        corr[1] = std::min(ropeDims - 1.0, std::ceil(corrDim(yarn.betaSlow)));
        mscale = yarn.extFactor == 0 ? yarn.attnFactor : yarn.attnFactor * (1 + 0.1 * std::log(1.0 / fs));
    }
    std::vector<double> want(x.begin(), x.end());
    int half = ropeDims / 2;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++) {
                double th;
                if (yarn.on) {
                    double e = pos[t] * std::pow((double)base, -2.0 * i / ropeDims), interp = fs * e;
                    double r = (i - corr[0]) / std::max(0.001, corr[1] - corr[0]);
                    double mix = (1 - std::min(1.0, std::max(0.0, r))) * yarn.extFactor;
                    th = yarn.extFactor == 0 ? interp : interp * (1 - mix) + e * mix;
                } else {
                    th = pos[t] * (double)fs * std::pow((double)base, -2.0 * i / ropeDims);
                }
                if (factors) th /= ff[i];
                int o = t * row + h * headDim, a = mode == 0 ? o + 2 * i : o + i, b = mode == 0 ? a + 1 : a + half;
                want[a] = (x[a] * std::cos(th) - x[b] * std::sin(th)) * mscale;
                want[b] = (x[a] * std::sin(th) + x[b] * std::cos(th)) * mscale;
            }
    emu_launch(rope, T, 1, 1, 256, (const float*)x.data(), (const int*)pos.data(), factors ? (const float*)ff.data() : (const float*)nullptr,
               y.data(), row, headDim, ropeDims, mode, base, fs, yarn.on ? yarn.extFactor : 0.0f, (float)corr[0], (float)corr[1],
               (float)mscale);
    std::string name = "rope mode=" + std::to_string(mode) + " head=" + std::to_string(headDim) + " dims=" + std::to_string(ropeDims) +
                       " factors=" + std::to_string(factors);
    if (yarn.on) name += " yarn ext=" + std::to_string(yarn.extFactor).substr(0, 4) + " corr=" + std::to_string((int)corr[0]) + ".." +
                         std::to_string((int)corr[1]);
    report(name, y, want, 1e-12);
}

static void test_small_ops() {
    int K = 100, R = 3;
    std::vector<float> x(K * R), w(K), y(K * R, NAN);
    for (auto& v : x) v = uni(3);
    for (auto& v : w) v = uni(2);
    std::vector<double> want(K * R);
    for (int r = 0; r < R; r++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += (double)x[r * K + k] * x[r * K + k];
        double sc = 1 / std::sqrt(s / K + 1e-5);
        for (int k = 0; k < K; k++) want[r * K + k] = x[r * K + k] * sc * w[k];
    }
    emu_launch(rms_norm, R, 1, 1, 256, (const float*)x.data(), (const float*)w.data(), y.data(), K, 1e-5f);
    report("rms_norm k=100 rows=3", y, want, 1e-12);

    for (int r = 0; r < R; r++) {
        double mx = -INFINITY, s = 0;
        for (int k = 0; k < K; k++) mx = std::max(mx, (double)x[r * K + k]);
        for (int k = 0; k < K; k++) s += std::exp(x[r * K + k] - mx);
        for (int k = 0; k < K; k++) want[r * K + k] = std::exp(x[r * K + k] - mx) / s;
    }
    emu_launch(softmax, R, 1, 1, 256, (const float*)x.data(), y.data(), K);
    report("softmax k=100 rows=3", y, want, 1e-12);

    std::vector<float> bias(K);
    for (auto& v : bias) v = uni(1);
    for (int variant = 0; variant < 3; variant++) {
        bool weighted = variant >= 1, biased = variant == 2;
        for (int r = 0; r < R; r++) {
            double mean = 0, var = 0;
            for (int k = 0; k < K; k++) mean += x[r * K + k];
            mean /= K;
            for (int k = 0; k < K; k++) var += (x[r * K + k] - mean) * (x[r * K + k] - mean);
            double inv = 1 / std::sqrt(var / K + 1e-5);
            for (int k = 0; k < K; k++) {
                double o = (x[r * K + k] - mean) * inv;
                if (weighted) o *= w[k];
                if (biased) o += bias[k];
                want[r * K + k] = o;
            }
        }
        std::fill(y.begin(), y.end(), NAN);
        emu_launch(layer_norm, R, 1, 1, 256, (const float*)x.data(), weighted ? (const float*)w.data() : (const float*)nullptr,
                   biased ? (const float*)bias.data() : (const float*)nullptr, y.data(), K, 1e-5f);
        report("layer_norm k=100 rows=3 weight=" + std::to_string(weighted) + " bias=" + std::to_string(biased), y, want, 1e-12);
    }
    {
        /* a row longer than the block, with a large mean: the two-pass variance */
        int K2 = 700;
        std::vector<float> x2(K2 * 2), y2(K2 * 2, NAN);
        for (auto& v : x2) v = 100 + uni(1);
        std::vector<double> want2(K2 * 2);
        for (int r = 0; r < 2; r++) {
            double mean = 0, var = 0;
            for (int k = 0; k < K2; k++) mean += x2[r * K2 + k];
            mean /= K2;
            for (int k = 0; k < K2; k++) var += (x2[r * K2 + k] - mean) * (x2[r * K2 + k] - mean);
            for (int k = 0; k < K2; k++) want2[r * K2 + k] = (x2[r * K2 + k] - mean) / std::sqrt(var / K2 + 1e-5);
        }
        emu_launch(layer_norm, 2, 1, 1, 256, (const float*)x2.data(), (const float*)nullptr, (const float*)nullptr, y2.data(), K2, 1e-5f);
        report("layer_norm k=700 rows=2 mean=100", y2, want2, 1e-9);
    }

    for (int i = 0; i < K * R; i++) want[i] = x[i] + w[i % K];
    emu_launch(add, 2, 1, 1, 256, (const float*)x.data(), (const float*)w.data(), y.data(), (long long)K * R, K, 1);
    report("add repeat", y, want, 0);
    for (int i = 0; i < K * R; i++) want[i] = x[i] / (1 + std::exp(-(double)x[i])) * x[(i + 7) % (K * R)];
    std::vector<float> up(K * R);
    for (int i = 0; i < K * R; i++) up[i] = x[(i + 7) % (K * R)];
    emu_launch(swiglu, 2, 1, 1, 256, (const float*)x.data(), (const float*)up.data(), y.data(), (long long)K * R);
    report("swiglu", y, want, 1e-12);
    for (int i = 0; i < K * R; i++) {
        double g = x[i];
        want[i] = 0.5 * g * (1 + std::tanh(std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g))) * up[i];
    }
    std::fill(y.begin(), y.end(), NAN);
    emu_launch(geglu, 2, 1, 1, 256, (const float*)x.data(), (const float*)up.data(), y.data(), (long long)K * R);
    report("geglu", y, want, 1e-12);
    for (float cap : {30.0f, 2.0f}) {
        for (int i = 0; i < K * R; i++) want[i] = cap * std::tanh(x[i] * 3 / (double)cap);
        std::vector<float> x3(K * R);
        for (int i = 0; i < K * R; i++) x3[i] = x[i] * 3;
        std::fill(y.begin(), y.end(), NAN);
        emu_launch(softcap, 1, 1, 1, 256, (const float*)x3.data(), y.data(), (long long)K * R, cap);
        report("softcap cap=" + std::to_string((int)cap), y, want, 1e-12);
    }

    {
        /* swiglu_oai: gate and up reach past the limit on both sides */
        float alpha = 1.702f, limit = 7.0f;
        std::vector<float> g(K * R), u(K * R);
        for (auto& v : g) v = uni(12);
        for (auto& v : u) v = uni(12);
        for (int i = 0; i < K * R; i++) {
            double gg = std::min((double)g[i], (double)limit), uu = std::max(-(double)limit, std::min((double)limit, (double)u[i]));
            want[i] = gg / (1 + std::exp(-alpha * gg)) * (uu + 1);
        }
        std::fill(y.begin(), y.end(), NAN);
        emu_launch(swiglu_oai, 1, 1, 1, 64, (const float*)g.data(), (const float*)u.data(), y.data(), (long long)K * R, alpha, limit);
        report("swiglu_oai alpha=1.702 limit=7 grid=1x64", y, want, 1e-12);
    }

    int kvDim = 96, ctx = 20;
    std::vector<unsigned short> cache(kvDim * ctx, 0x3c00);
    std::vector<float> src(kvDim * 3);
    for (auto& v : src) v = uni(2);
    int pos[] = {4, 7, 19};
    emu_launch(kv_store_f16, 1, 3, 1, 256, (const float*)src.data(), (const int*)pos, cache.data(), kvDim, ctx);
    std::vector<float> got(kvDim * ctx);
    std::vector<double> exp(kvDim * ctx, 1.0);
    for (int t = 0; t < 3; t++) for (int k = 0; k < kvDim; k++) exp[pos[t] * kvDim + k] = h2f((uint8_t*)&(const unsigned short&)f2h(src[t * kvDim + k]));
    for (int i = 0; i < kvDim * ctx; i++) got[i] = h2f((uint8_t*)&cache[i]);
    report("kv_store f16", got, exp, 0);

    std::vector<unsigned short> bf(K * R);
    emu_launch(convert, 1, 1, 1, 256, (const void*)x.data(), (void*)bf.data(), (long long)K * R, T_F32, T_BF16);
    for (int i = 0; i < K * R; i++) { got[i] = bf16_to_float(bf[i]); uint32_t u; std::memcpy(&u, &x[i], 4); u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u; float f; std::memcpy(&f, &u, 4); exp[i] = f; }
    got.resize(K * R); exp.resize(K * R);
    report("convert f32 to bf16", got, exp, 0);
}

/* top_k as ReferenceOps.topK: values from a few levels, so that rows have ties (and a row of -inf). */
static void test_top_k(int E, int k, int T) {
    std::vector<float> x(E * T);
    for (auto& v : x) v = std::round(uni(3));
    if (T > 2) for (int i = 0; i < E; i++) x[2 * E + i] = -INFINITY;
    std::vector<int> out(k * T, -7);
    std::vector<float> got(k * T);
    std::vector<double> want(k * T);
    for (int t = 0; t < T; t++) {
        std::vector<bool> taken(E);
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < E; i++)
                if (!taken[i] && (best < 0 || x[t * E + i] > x[t * E + best])) best = i;
            taken[best] = true;
            want[t * k + j] = best;
        }
    }
    emu_launch(top_k, (T + 3) / 4, 1, 1, 128, (const float*)x.data(), out.data(), E, k, T);
    for (int i = 0; i < k * T; i++) got[i] = (float)out[i];
    report("top_k e=" + std::to_string(E) + " k=" + std::to_string(k) + " t=" + std::to_string(T), got, want, 0);
}

static void test_gather() {
    int E = 8, k = 3, T = 4;
    std::vector<float> x(E * T), y(k * T, NAN);
    for (auto& v : x) v = uni(4);
    int ids[] = {7, 0, 3, 1, 1, 2, 6, 5, 4, 0, 7, 2};
    std::vector<double> want(k * T);
    for (int i = 0; i < k * T; i++) want[i] = x[(i / k) * E + ids[i]];
    emu_launch(gather, 1, 1, 1, 256, (const float*)x.data(), (const int*)ids, y.data(), (long long)k * T, k, E);
    report("gather e=8 k=3 t=4", y, want, 0);
}

static void test_weighted_sum(int N, int k, int T, unsigned grid) {
    std::vector<float> y(N * k * T), w(k * T), out(N * T, NAN);
    for (auto& v : y) v = uni(2);
    for (auto& v : w) v = uni(1);
    std::vector<double> want(N * T);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) s += (double)w[t * k + j] * y[(t * k + j) * N + i];
            want[t * N + i] = s;
        }
    emu_launch(weighted_sum, grid, 1, 1, 256, (const float*)y.data(), (const float*)w.data(), out.data(), (long long)N * T, N, k);
    report("weighted_sum n=" + std::to_string(N) + " k=" + std::to_string(k) + " t=" + std::to_string(T) + " grid=" + std::to_string(grid),
           out, want, 1e-12);
}

/* add_id as ReferenceOps.addId; badId: the last slot's id is E, whose row must be NaN. */
static void test_add_id(int N, int E, int k, int T, unsigned grid, bool inPlace, bool badId = false) {
    int S = k * T;
    std::vector<float> y(N * S), bias(N * E), out(N * S, NAN);
    for (auto& v : y) v = uni(2);
    for (auto& v : bias) v = uni(1);
    std::vector<int> ids(S);
    for (int i = 0; i < S; i++) ids[i] = (i * 5 + 3 + i / 2) % E;
    if (badId) ids[S - 1] = E;
    std::vector<double> want(N * S);
    for (int r = 0; r < S; r++)
        for (int i = 0; i < N; i++) want[r * N + i] = ids[r] < E ? (double)(y[r * N + i] + bias[ids[r] * N + i]) : NAN;
    float* dst = inPlace ? y.data() : out.data();
    emu_launch(add_id, grid, 1, 1, 256, (const float*)y.data(), (const float*)bias.data(), (const int*)ids.data(), dst, (long long)N * S, N, E);
    std::vector<float> got(dst, dst + N * S);
    std::string name = "add_id n=" + std::to_string(N) + " e=" + std::to_string(E) + " used=" + std::to_string(k) + " t=" + std::to_string(T) +
                       " grid=" + std::to_string(grid) + (inPlace ? " in_place" : "");
    if (badId) {
        bool nan = true;
        for (int i = 0; i < N; i++) nan = nan && std::isnan(got[(S - 1) * N + i]);
        got.resize((S - 1) * N);
        want.resize((S - 1) * N);
        if (!nan) { failures++; std::printf("FAIL %s: the row of an id outside [0, E) is not NaN\n", name.c_str()); }
        name += " bad_id";
    }
    report(name, got, want, 0);
}

typedef void (*IdKernel)(const u8*, const void*, const int*, float*, int, int, int, int, int, int);

/* mul_mat_id against dequantized rows in double; gyCap < slots runs the kernel's slot loop. */
static void test_mul_mat_id(int type, int K, int N, int E, int k, int T, bool perSlot, unsigned gyCap, bool badId = false) {
    auto w = random_rows(type, K, N * E);
    int S = k * T, xRows = perSlot ? S : T;
    std::vector<int> ids(S);
    for (int i = 0; i < S; i++) ids[i] = (i * 5 + 3 + i / 2) % E;
    if (badId) ids[S - 1] = E;
    std::vector<float> x(K * xRows), y(N * S, NAN);
    for (auto& v : x) v = uni(1);
    std::vector<double> want(N * S), row(K);
    for (int s = 0; s < S; s++) {
        int xr = perSlot ? s : s / k;
        for (int n = 0; n < N; n++) {
            if (ids[s] >= E) { want[s * N + n] = NAN; continue; }
            dequant_row(type, w.data() + ((size_t)ids[s] * N + n) * row_size(type, K), K, row.data());
            double acc = 0;
            for (int i = 0; i < K; i++) acc += row[i] * x[xr * K + i];
            want[s * N + n] = acc;
        }
    }
    bool dp4a = block_size(type) > 1;
    std::vector<block_q8_1> q((size_t)xRows * K / 32 + 1);
    const void* xin = x.data();
    if (dp4a) {
        emu_launch(quantize_q8_1, (xRows * (K / 32) + 7) / 8, 1, 1, 256, x.data(), q.data(), K, xRows);
        xin = q.data();
    }
    static const struct { int type; IdKernel k; } table[] = {
        {T_F32, (IdKernel)mul_mat_id_f32}, {T_F16, (IdKernel)mul_mat_id_f16}, {T_BF16, (IdKernel)mul_mat_id_bf16},
        {T_Q4_0, (IdKernel)mul_mat_id_q4_0}, {T_Q4_1, (IdKernel)mul_mat_id_q4_1}, {T_Q5_0, (IdKernel)mul_mat_id_q5_0},
        {T_Q5_1, (IdKernel)mul_mat_id_q5_1}, {T_Q8_0, (IdKernel)mul_mat_id_q8_0}, {T_MXFP4, (IdKernel)mul_mat_id_mxfp4},
        {T_Q2_K, (IdKernel)mul_mat_id_q2_k}, {T_Q3_K, (IdKernel)mul_mat_id_q3_k}, {T_Q4_K, (IdKernel)mul_mat_id_q4_k},
        {T_Q5_K, (IdKernel)mul_mat_id_q5_k}, {T_Q6_K, (IdKernel)mul_mat_id_q6_k}};
    IdKernel kernel = nullptr;
    for (auto& e : table) if (e.type == type) kernel = e.k;
    emu_launch(kernel, (N + 3) / 4, std::min<unsigned>(S, gyCap), 1, 128, (const u8*)w.data(), xin, (const int*)ids.data(), y.data(),
               K, N, E, k, S, perSlot ? 1 : 0);
    std::string name = std::string("mul_mat_id ") + type_name(type) + " k=" + std::to_string(K) + " n=" + std::to_string(N) + " e=" +
                       std::to_string(E) + " used=" + std::to_string(k) + " t=" + std::to_string(T) + (perSlot ? " per_slot" : " per_token") +
                       " gy=" + std::to_string(std::min<unsigned>(S, gyCap));
    if (badId) {
        /* the last slot's id is out of range: its row is NaN, the others are computed */
        bool nan = true;
        for (int n = 0; n < N; n++) nan = nan && std::isnan(y[(S - 1) * N + n]);
        y.resize((S - 1) * N);
        want.resize((S - 1) * N);
        if (!nan) { failures++; std::printf("FAIL %s: the row of an id outside [0, E) is not NaN\n", name.c_str()); }
        name += " bad_id";
    }
    report(name, y, want, dp4a ? 5e-4 : 1e-9);
}

/*
 * rms_norm_q8_1 against rms_norm then quantize_q8_1 (the launches it replaces): the same F32 rows
 * and the same q8_1 blocks, bit for bit; and the rows against the double-precision norm.
 */
static void test_rms_norm_q8_1(int K, int R, bool weighted) {
    std::vector<float> x(K * R), w(K), y(K * R, NAN), y0(K * R, NAN);
    for (auto& v : x) v = uni(3);
    for (auto& v : w) v = uni(2);
    std::vector<double> want(K * R);
    for (int r = 0; r < R; r++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += (double)x[r * K + k] * x[r * K + k];
        double sc = 1 / std::sqrt(s / K + 1e-5);
        for (int k = 0; k < K; k++) want[r * K + k] = x[r * K + k] * sc * (weighted ? w[k] : 1.0);
    }
    const float* wp = weighted ? (const float*)w.data() : nullptr;
    std::vector<block_q8_1> q((size_t)R * K / 32), q0((size_t)R * K / 32);
    std::memset(q.data(), 0x7f, q.size() * sizeof(block_q8_1));
    emu_launch(rms_norm, R, 1, 1, 256, (const float*)x.data(), wp, y0.data(), K, 1e-5f);
    emu_launch(quantize_q8_1, (R * (K / 32) + 7) / 8, 1, 1, 256, (const float*)y0.data(), q0.data(), K, R);
    emu_launch(rms_norm_q8_1, R, 1, 1, 256, (const float*)x.data(), wp, y.data(), q.data(), K, 1e-5f);
    std::string name = "rms_norm_q8_1 k=" + std::to_string(K) + " rows=" + std::to_string(R) + (weighted ? " weighted" : "");
    report(name + " rows", y, want, 1e-12);
    report(name + " rows = rms_norm", y, std::vector<double>(y0.begin(), y0.end()), 0);
    std::vector<float> got;
    std::vector<double> composed;
    for (size_t b = 0; b < q.size(); b++)
        for (int j = 0; j < 32; j++) {
            got.push_back(q[b].d * ((const signed char*)q[b].qs)[j]);
            composed.push_back(q0[b].d * ((const signed char*)q0[b].qs)[j]);
        }
    report(name + " q8_1 = quantize_q8_1", got, composed, 0);
}

/*
 * rope_store against rope then kv_store_f32 / kv_store_f16 (the launches it replaces): the same
 * rows and the same cache, bit for bit, with a ring (positions past ctx), a negative position
 * (no cache write), partial rotation and both modes.
 */
static void test_rope_store(bool f16, int mode, int ropeDims) {
    int headDim = 64, heads = 2, row = headDim * heads, T = 5, ctx = 20;
    std::vector<int> pos = {3, 4, 25, 1006, -1};
    std::vector<float> x(row * T), y(row * T, NAN), y0(row * T, NAN);
    for (auto& v : x) v = uni(1);
    std::vector<float> cf(row * ctx), cf0;
    for (auto& v : cf) v = uni(1);
    std::vector<unsigned short> ch(row * ctx), ch0;
    for (int i = 0; i < row * ctx; i++) ch[i] = f2h(cf[i]);
    cf0 = cf;
    ch0 = ch;
    float base = 10000.f, fs = 1.f;
    emu_launch(rope, T, 1, 1, 256, (const float*)x.data(), (const int*)pos.data(), (const float*)nullptr, y0.data(), row, headDim, ropeDims,
               mode, base, fs, 0.0f, 0.0f, 0.0f, 1.0f);
    if (f16) emu_launch(kv_store_f16, 1, T, 1, 256, (const float*)y0.data(), (const int*)pos.data(), ch0.data(), row, ctx);
    else emu_launch(kv_store_f32, 1, T, 1, 256, (const float*)y0.data(), (const int*)pos.data(), cf0.data(), row, ctx);
    void* cache = f16 ? (void*)ch.data() : (void*)cf.data();
    emu_launch(rope_store, T, 1, 1, 256, (const float*)x.data(), (const int*)pos.data(), (const float*)nullptr, y.data(), row, headDim,
               ropeDims, mode, base, fs, 0.0f, 0.0f, 0.0f, 1.0f, cache, (const int*)pos.data(), f16 ? 1 : 0, ctx);
    std::string name = std::string("rope_store ") + (f16 ? "f16" : "f32") + " mode=" + std::to_string(mode) + " dims=" +
                       std::to_string(ropeDims) + " ctx=20 pos=3,4,25,1006,-1";
    report(name + " rows = rope", y, std::vector<double>(y0.begin(), y0.end()), 0);
    std::vector<float> got(row * ctx);
    std::vector<double> want(row * ctx);
    for (int i = 0; i < row * ctx; i++) {
        got[i] = f16 ? h2f((uint8_t*)&ch[i]) : cf[i];
        want[i] = f16 ? h2f((uint8_t*)&ch0[i]) : cf0[i];
    }
    report(name + " cache = kv_store", got, want, 0);
}

/* swiglu_q8_1 against swiglu then quantize_q8_1 (the launches it replaces), bit for bit; a block count that leaves warps idle. */
static void test_swiglu_q8_1(int K, int T) {
    long long n = (long long)K * T, blocks = n / 32;
    std::vector<float> g(n), u(n), y(n, NAN), y0(n, NAN);
    for (auto& v : g) v = uni(6);
    for (auto& v : u) v = uni(2);
    std::vector<double> want(n);
    for (long long i = 0; i < n; i++) want[i] = (double)g[i] / (1 + std::exp(-(double)g[i])) * u[i];
    std::vector<block_q8_1> q(blocks), q0(blocks);
    emu_launch(swiglu, 4, 1, 1, 256, (const float*)g.data(), (const float*)u.data(), y0.data(), n);
    emu_launch(quantize_q8_1, (unsigned)((blocks + 7) / 8), 1, 1, 256, (const float*)y0.data(), q0.data(), K, T);
    emu_launch(swiglu_q8_1, (unsigned)((blocks + 7) / 8), 1, 1, 256, (const float*)g.data(), (const float*)u.data(), y.data(), q.data(), blocks);
    std::string name = "swiglu_q8_1 k=" + std::to_string(K) + " t=" + std::to_string(T);
    report(name + " rows", y, want, 1e-12);
    report(name + " rows = swiglu", y, std::vector<double>(y0.begin(), y0.end()), 0);
    std::vector<float> got;
    std::vector<double> composed;
    for (long long b = 0; b < blocks; b++)
        for (int j = 0; j < 32; j++) {
            got.push_back(q[b].d * ((const signed char*)q[b].qs)[j]);
            composed.push_back(q0[b].d * ((const signed char*)q0[b].qs)[j]);
        }
    report(name + " q8_1 = quantize_q8_1", got, composed, 0);
}

/*
 * add_rms_norm_q8_1 against add, rms_norm and quantize_q8_1 (the launches it replaces), bit for
 * bit; with shift >= 0, y lies in a's memory `shift` floats on (memory the compute buffer may hand
 * to y once the add is done), which the barrier between reading a and writing y makes safe.
 */
static void test_add_rms_norm_q8_1(int K, int T, int shift) {
    int n = K * T;
    std::vector<float> buf(n + std::max(shift, 0) + n, NAN), b(n), w(K), h(n, NAN), h0(n), y0(n), yOwn(n, NAN);
    float* a = buf.data();
    for (int i = 0; i < n; i++) a[i] = uni(3);
    for (auto& v : b) v = uni(1);
    for (auto& v : w) v = uni(2);
    std::vector<block_q8_1> q(n / 32), q0(n / 32);
    emu_launch(add, 4, 1, 1, 256, (const float*)a, (const float*)b.data(), h0.data(), (long long)n, K, 0);
    emu_launch(rms_norm, T, 1, 1, 256, (const float*)h0.data(), (const float*)w.data(), y0.data(), K, 1e-5f);
    emu_launch(quantize_q8_1, (n / 32 + 7) / 8, 1, 1, 256, (const float*)y0.data(), q0.data(), K, T);
    float* y = shift >= 0 ? a + shift : yOwn.data();
    emu_launch(add_rms_norm_q8_1, 1, 1, 1, 256, (const float*)a, (const float*)b.data(), h.data(), (const float*)w.data(), y, q.data(), K, T,
               1e-5f);
    std::string name = "add_rms_norm_q8_1 k=" + std::to_string(K) + " t=" + std::to_string(T) + (shift >= 0 ? " y=a+" + std::to_string(shift) : "");
    report(name + " h = add", h, std::vector<double>(h0.begin(), h0.end()), 0);
    report(name + " y = rms_norm", std::vector<float>(y, y + n), std::vector<double>(y0.begin(), y0.end()), 0);
    std::vector<float> got;
    std::vector<double> composed;
    for (int bl = 0; bl < n / 32; bl++)
        for (int j = 0; j < 32; j++) {
            got.push_back(q[bl].d * ((const signed char*)q[bl].qs)[j]);
            composed.push_back(q0[bl].d * ((const signed char*)q0[bl].qs)[j]);
        }
    report(name + " q8_1 = quantize_q8_1", got, composed, 0);
}

int main() {
    int types[] = {T_F32, T_F16, T_BF16, T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1, T_Q8_0, T_MXFP4, T_Q2_K, T_Q3_K, T_Q4_K, T_Q5_K, T_Q6_K};
    for (int type : types) {
        /* every token variant at K = 256 and 768 (legacy types also 96 and 160: a lane's second word missing on the last step) */
        for (int K : {256, 768}) for (int T : {1, 3, 8}) test_mul_mat(type, K, 37, T);
        test_mul_mat(type, 256, 37, 2, 8);
        if (block_size(type) == 32) for (int K : {96, 160}) test_mul_mat(type, K, 37, 3);
        for (int T : {9, 70}) test_mul_mat(type, block_size(type) == 256 ? 512 : block_size(type) == 32 ? 96 : 100, 37, T);
        if (block_size(type) == 1) test_mul_mat(type, 33, 5, 2), test_mul_mat(type, 33, 5, 11), test_mul_mat(type, 100, 37, 1);
        test_get_rows(type, 512, 37);
    }
    test_attention(false, 4, 2, 80, 40, {39});
    test_attention(true, 4, 2, 80, 600, {597, 598, 599});
    test_attention(false, 8, 2, 128, 600, {599});
    test_attention(true, 4, 4, 64, 600, {3, 4});
    test_attention(false, 4, 2, 64, 64, {3}, 8, 0);
    test_attention(true, 4, 2, 64, 64, {40}, 8, 0);
    test_attention(false, 4, 2, 64, 64, {17, 18, 19, 20, 21, 22}, 8, 5);
    test_attention(true, 4, 2, 64, 64, {40}, 0, 8);
    test_attention(false, 4, 2, 80, 1500, {1499}, 600, 0);
    test_attention(true, 4, 2, 80, 1500, {1200, 1499}, 600, 30);
    test_attention(false, 8, 2, 128, 600, {0, 599}, 0, 20);
    /* sinks: one split (the partial kernel's merge) and several (attention_combine), with and without a window */
    test_attention(false, 4, 2, 64, 64, {3}, 0, 0, true);
    test_attention(true, 4, 2, 64, 64, {17, 18, 19, 20, 21, 22}, 8, 0, true);
    test_attention(false, 4, 2, 64, 64, {40}, 8, 0, true);
    test_attention(false, 8, 2, 128, 600, {0, 599}, 0, 0, true);
    test_attention(true, 4, 2, 80, 1500, {1200, 1499}, 600, 30, true);
    test_attention(false, 4, 4, 64, 2000, {5, 1999}, 0, 0, true);
    /* ring caches: positions well past R, one split and several, one token and several, F32 and F16 */
    for (bool f16 : {false, true}) {
        test_attention_ring(f16, 4, 2, 64, 13, {1000}, 8);
        test_attention_ring(f16, 4, 2, 64, 16, {997, 998, 999, 1000, 1001, 1002}, 8, 5);
        test_attention_ring(f16, 4, 2, 64, 13, {40, 41, 42, 43, 44, 45}, 8, 0, true);
        test_attention_ring(f16, 4, 2, 80, 603, {5000}, 600);
        test_attention_ring(f16, 4, 2, 80, 603, {4998, 4999, 5000, 5001}, 600, 30);
        test_attention_ring(f16, 4, 2, 80, 700, {2000, 2001, 2002}, 600, 0, true);
    }
    /* query-head groups of 1, 2, 4, 8, 3, 6 and 12 (two passes of 8) heads; head dims on the 16-byte path (128, 64, 80,
     * 36 in F32, 8: eight rows a warp) and off it (36 in F16, 34) */
    test_attention(false, 4, 4, 128, 300, {299});
    test_attention(true, 8, 4, 64, 40, {39});
    test_attention(false, 8, 2, 64, 600, {10, 599}, 0, 0, true);
    test_attention(true, 16, 2, 128, 300, {150, 299});
    test_attention(false, 12, 4, 64, 600, {599}, 0, 5);
    test_attention(true, 12, 2, 80, 40, {37, 38, 39}, 8, 0, true);
    test_attention(false, 12, 1, 64, 300, {299}, 0, 0, true);
    test_attention(true, 8, 1, 8, 64, {63});
    test_attention(false, 4, 2, 36, 64, {40});
    test_attention(true, 6, 2, 36, 64, {40});
    test_attention(false, 6, 3, 34, 600, {599}, 0, 0, true);
    test_attention_ring(true, 16, 2, 64, 13, {40, 41, 42, 43, 44, 45}, 8, 0, true);
    test_attention_quant(T_Q8_0, 12, 4, 32, 64, {45, 46, 47});
    test_attention_quant(T_Q4_0, 16, 2, 64, 600, {599});
    for (int mode : {0, 1}) for (int dims : {64, 32}) for (bool f : {false, true}) test_rope(mode, dims, f);
    /* YaRN: gpt-oss's parameters (the conformance case), a partial ext factor with an attention factor, frequency factors too */
    for (int mode : {0, 1}) {
        test_rope(mode, 32, false, {true, 4096, 1.0f, 1.0f, 32.0f, 1.0f}, 32, 150000.f, 1.f / 32);
        test_rope(mode, 64, false, {true, 4096, 1.0f, 1.0f, 32.0f, 1.0f}, 64, 150000.f, 1.f / 32);
        test_rope(mode, 32, true, {true, 2048, 0.5f, 0.9f, 32.0f, 1.0f}, 64, 10000.f, 0.25f);
        test_rope(mode, 64, false, {true, 4096, 0.0f, 1.2f, 32.0f, 1.0f}, 64, 10000.f, 0.25f);
    }
    test_small_ops();
    test_kv_store_ring(false);
    test_kv_store_ring(true);
    /* Q8_0 and Q4_0 caches: head dims 64 (two blocks), 32 (one) and 8 (four heads share a block), several splits, a ring */
    for (int type : {T_Q8_0, T_Q4_0}) {
        test_kv_store_quant(type);
        test_attention_quant(type, 8, 2, 64, 600, {599});
        test_attention_quant(type, 8, 4, 32, 64, {45, 46, 47});
        test_attention_quant(type, 8, 4, 8, 64, {17, 18, 19, 20, 21, 22});
        test_attention_quant(type, 4, 2, 64, 24, {50, 51, 52}, 8);
    }
    for (int* ekt : (int[][3]){{8, 2, 5}, {64, 8, 3}, {4, 4, 1}, {256, 8, 6}, {40, 3, 9}, {32, 32, 2}}) test_top_k(ekt[0], ekt[1], ekt[2]);
    test_gather();
    test_weighted_sum(128, 3, 5, 1);
    test_weighted_sum(100, 8, 3, 1);
    test_weighted_sum(1000, 2, 3, 2);
    test_add_id(64, 6, 2, 3, 8192, false);
    test_add_id(100, 32, 4, 5, 1, true);
    test_add_id(33, 3, 3, 2, 2, false, true);
    for (int type : types) {
        int K = block_size(type) == 256 ? 256 : block_size(type) == 32 ? 96 : 100;
        test_mul_mat_id(type, K, 40, 6, 2, 1, false, 65535);
        test_mul_mat_id(type, K, 40, 6, 2, 5, false, 65535);
        test_mul_mat_id(type, K, 37, 6, 2, 5, true, 3);
        if (block_size(type) == 1) test_mul_mat_id(type, 33, 5, 3, 3, 2, true, 65535);
    }
    test_mul_mat_id(T_Q4_K, 512, 9, 16, 8, 1, false, 65535);
    test_mul_mat_id(T_Q8_0, 256, 9, 16, 8, 2, true, 65535, true);
    test_mul_mat_id(T_F32, 64, 9, 4, 2, 2, false, 65535, true);
    /* fused launches against the launches they replace */
    for (bool wt : {true, false}) test_rms_norm_q8_1(2048, 3, wt);
    test_rms_norm_q8_1(96, 8, true);
    for (bool f16 : {false, true}) for (int mode : {0, 1}) test_rope_store(f16, mode, 64);
    test_rope_store(true, 1, 32);
    test_swiglu_q8_1(8192, 1);
    test_swiglu_q8_1(96, 5);
    test_add_rms_norm_q8_1(2048, 1, -1);
    test_add_rms_norm_q8_1(2048, 8, 16);
    test_add_rms_norm_q8_1(96, 3, 0);
    /* rows per warp: the cases above take 2 (K <= 1024); one row per warp at K = 256 (forced) and 1280 (the host's choice
     * there), two at K = 1024 (the bound) and at N = 3 and 7 (the last warp's second half past the end, as at N = 37) */
    for (int type : types) {
        int small = block_size(type) == 1 ? 100 : 256;
        test_mul_mat(type, small, 37, 1, 0, 1);
        test_mul_mat(type, small, 37, 5, 0, 1);
        test_mul_mat(type, 1280, 37, 1);
        test_mul_mat(type, 1024, 37, 3);
        test_mul_mat(type, small, 3, 8);
        test_mul_mat(type, small, 7, 4);
    }
    /* split (four warps a row group): every token variant; K whose load units leave lanes of the four warps idle (legacy
     * 96: 12 or 24 units for 128 lanes) or give the warps unequal shares (800, 1280, 2336), long rows (4096, one row a
     * warp), short ones at two rows a warp; N odd (the last block's second row past the end) and smaller than a block */
    for (int type : types) {
        bool k256 = block_size(type) == 256;
        int small = k256 ? 256 : 96, mid = k256 ? 768 : 800, big = k256 ? 1280 : 2336;
        for (int T : {1, 3, 8}) test_mul_mat(type, big, 37, T, 0, 0, true);
        test_mul_mat(type, small, 37, 1, 0, 0, true);
        test_mul_mat(type, small, 5, 3, 0, 1, true);
        test_mul_mat(type, mid, 7, 8, 0, 0, true);
        test_mul_mat(type, 4096, 9, 1, 0, 0, true);
        if (block_size(type) == 1) test_mul_mat(type, 33, 5, 2, 0, 0, true);
    }
    /* Q4_0 and Q8_0 repacked at load (K a multiple of 256): every token variant, one warp a row group (two rows a warp at
     * K <= 1024) and split, rows whose blocks leave lanes idle (256: 8 Q4_0 blocks) or give them unequal shares (1280,
     * 2304), odd N; the tiled kernel; get_rows */
    for (int type : {T_Q4_0, T_Q8_0}) {
        for (int K : {256, 1280})
            for (int T : {1, 3, 8}) test_mul_mat(type, K, 37, T, 0, 0, false, true), test_mul_mat(type, K, 37, T, 0, 0, true, true);
        test_mul_mat(type, 2304, 7, 5, 0, 0, false, true);
        test_mul_mat(type, 2304, 9, 2, 0, 0, true, true);
        test_mul_mat(type, 512, 5, 1, 0, 1, false, true);
        for (int T : {9, 70}) test_mul_mat(type, 512, 37, T, 0, 0, false, true);
        test_get_rows(type, 512, 37, true);
    }
    std::printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
