package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.MemorySegment;

/**
 * mul_mat: {@code out[t][r] = dot(w row r, x row t)} for weights of any supported type, split
 * over the pool by rows. One or two tokens (generation) take the matrix-vector kernels: integer
 * dot products against activations quantized to int8 blocks for Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0
 * ({@link DotQ4}, {@link DotQ8}, as llama.cpp does), MXFP4 against the Q8_0 layout too ({@link DotMxfp4}), the same per super-block of 256 for Q4_K,
 * Q5_K and Q6_K ({@link DotK}), and float fma for F32, F16 and BF16 ({@link DotF}). Q4_0, Q8_0,
 * Q4_K and Q6_K weights repacked eight rows at a time ({@link Repack}) take the kernels whose
 * lanes are rows ({@link DotQ4x8}, {@link DotQ8#q8_0x8}, {@link DotK#q4_kx8},
 * {@link DotK#q6_kx8}); rows past the last group of 8 take the row kernels. The activations'
 * quantization is kept for the next mul_mat of the same input (q, k and v; gate and up). More
 * tokens (prompts) take {@link Gemm}, which decodes each tile of rows once for all tokens (from
 * the original layout, also for repacked weights: decoding is faster there).
 */
final class MatMul {
    /** Up to this many tokens each token streams the weights by itself. */
    static final int VECTOR_TOKENS = 2;

    private MatMul() {
    }

    /**
     * @param packed the weights' x8 form ({@link Repack}) from byte {@code at}, or null
     * @param xKey   identity of the activations (their node) for reusing their quantization within a
     *               compute; null where it must not be reused
     */
    static void run(CpuPool pool, Scratch s, DType type, MemorySegment w, Repack.Copy packed, long at, int k, int n, MemorySegment x,
                    int tokens, MemorySegment out, Object xKey) {
        float[] xf = s.x(k * tokens);
        MemorySegment.copy(x, Mem.F32, 0, xf, 0, k * tokens);
        if (tokens > VECTOR_TOKENS) {
            int rows = Gemm.tileRows(k);
            s.tiles(Gemm.tileFloats(k, rows), Gemm.partFloats(rows, tokens));
            float[] xp = s.token(Gemm.packedFloats(k, tokens));
            Gemm.packTokens(xf, k, tokens, xp);
            int tasks = (n + rows - 1) / rows;
            pool.run(tasks, (i, worker) -> Gemm.rows(type, w, k, n, xp, tokens, s.tile[worker], s.part[worker], out, 0,
                    i * rows, Math.min(n, (i + 1) * rows)));
            return;
        }
        int chunk = chunkRows(n, pool.threads());
        for (int t = 0; t < tokens; t++) {
            long outOff = 4L * t * n;
            int xo = t * k;
            Object key = tokens == 1 ? xKey : null;
            // Repacked weights: the kernels whose lanes are rows over the whole groups of 8, then
            // the row kernels over the rows left (from; the activations' layouts differ, so a
            // tail's quantization is not kept for reuse).
            int from = 0;
            switch (type) {
                case Q4_0, Q4_1, Q5_0, Q5_1 -> {
                    int nb = k / 32;
                    if (packed != null) {
                        short[] xl = s.lanes(nb * ActQuant.LANE_SHORTS);
                        int[] xb = s.laneScales(2 * nb);
                        if (s.quantize(key, -3)) ActQuant.lanes(xf, xo, k, xl, xb, s.tmp);
                        from = groups(pool, n, chunk, (g0, g1, wk) -> DotQ4x8.q4_0(packed.view().asSlice(at), nb, xl, xb, out, outOff, g0, g1));
                    }
                    if (from == n) continue;
                    int offset = type == DType.Q4_0 ? 8 : type == DType.Q5_0 ? 16 : 0;
                    int[] xa = s.pairs(nb * ActQuant.PAIR_INTS);
                    if (s.quantize(from > 0 ? null : key, offset)) ActQuant.pairs(xf, xo, k, offset, xa, s.tmp);
                    switch (type) {
                        case Q4_0 -> rows(pool, from, n, chunk, (r0, r1, wk) -> DotQ4.q4_0(w, nb, xa, out, outOff, r0, r1));
                        case Q4_1 -> rows(pool, from, n, chunk, (r0, r1, wk) -> DotQ4.q4_1(w, nb, xa, out, outOff, r0, r1));
                        default -> rows(pool, from, n, chunk, (r0, r1, wk) -> DotQ4.q5(w, nb, type == DType.Q5_1, xa, out, outOff, r0, r1));
                    }
                }
                case Q8_0 -> {
                    int nb = k / 32;
                    if (packed != null) {
                        short[] xl = s.lanes(nb * ActQuant.LANE_SHORTS);
                        float[] xd = s.shortScales(nb);
                        if (s.quantize(key, -5)) ActQuant.lanes8(xf, xo, k, xl, xd, s.tmp);
                        from = groups(pool, n, chunk, (g0, g1, wk) -> DotQ8.q8_0x8(packed.array(), (int) at, nb, xl, xd, out, outOff, g0, g1));
                    }
                    if (from == n) continue;
                    short[] xq = s.shorts(k);
                    float[] xd = s.shortScales(nb);
                    if (s.quantize(from > 0 ? null : key, -1)) ActQuant.shorts(xf, xo, k, xq, xd);
                    rows(pool, from, n, chunk, (r0, r1, wk) -> DotQ8.q8_0(w, nb, xq, xd, out, outOff, r0, r1));
                }
                case Q4_K, Q5_K, Q6_K -> {
                    int nsb = k / 256;
                    if (packed != null && type == DType.Q6_K) {
                        short[] xl = s.lanes(nsb * ActQuant.LANE_SHORTS_K);
                        float[] xd = s.shortScales(nsb);
                        if (s.quantize(key, -6)) ActQuant.lanes8K(xf, xo, k, xl, xd, s.tmp);
                        from = groups(pool, n, chunk, (g0, g1, wk) -> DotK.q6_kx8(packed.array(), (int) at, nsb, xl, xd, out, outOff, g0, g1));
                    } else if (packed != null) {
                        short[] xl = s.lanes(nsb * ActQuant.LANE_SHORTS_K);
                        int[] xs = s.laneScales(nsb * ActQuant.K_LANE_INTS);
                        if (s.quantize(key, -4)) ActQuant.lanesK(xf, xo, k, xl, xs, s.tmp);
                        from = groups(pool, n, chunk, (g0, g1, wk) -> DotK.q4_kx8(packed.array(), (int) at, nsb, xl, xs, out, outOff, g0, g1));
                    }
                    if (from == n) continue;
                    int[] xa = s.pairs(nsb * ActQuant.K_INTS);
                    if (s.quantize(from > 0 ? null : key, -2)) ActQuant.pairsK(xf, xo, k, xa, s.tmp);
                    if (type == DType.Q6_K) {
                        rows(pool, from, n, chunk, (r0, r1, wk) -> DotK.q6_k(w, nsb, xa, out, outOff, r0, r1));
                    } else {
                        boolean five = type == DType.Q5_K;
                        rows(pool, from, n, chunk, (r0, r1, wk) -> DotK.q4_k(w, nsb, five, xa, s.kScales[wk], out, outOff, r0, r1));
                    }
                }
                case MXFP4 -> {
                    int nb = k / 32;
                    short[] xq = s.shorts(k);
                    float[] xd = s.shortScales(nb);
                    if (s.quantize(key, -1)) ActQuant.shorts(xf, xo, k, xq, xd);
                    rows(pool, 0, n, chunk, (r0, r1, wk) -> DotMxfp4.dot(w, nb, xq, xd, out, outOff, r0, r1));
                }
                case F32 -> {
                    float[] xt = token(xf, xo, k, s);
                    rows(pool, 0, n, chunk, (r0, r1, wk) -> DotF.f32(w, k, xt, out, outOff, r0, r1));
                }
                case F16, BF16 -> {
                    float[] xt = token(xf, xo, k, s);
                    rows(pool, 0, n, chunk, (r0, r1, wk) -> DotF.half(w, k, type == DType.BF16, xt, out, outOff, r0, r1));
                }
                default -> {
                    float[] xt = token(xf, xo, k, s);
                    s.rowBufs(k);
                    rows(pool, 0, n, chunk, (r0, r1, wk) -> DotF.decoded(type, w, k, xt, s.rowBuf[wk], out, outOff, r0, r1));
                }
            }
        }
    }

    /** A kernel over rows {@code r0..r1}, on pool thread {@code worker}. */
    private interface RowKernel {
        void run(int r0, int r1, int worker);
    }

    /** A kernel over groups {@code g0..g1} of 8 rows of repacked weights, on pool thread {@code worker}. */
    private interface GroupKernel {
        void run(int g0, int g1, int worker);
    }

    /** Rows {@code from..n} in tasks of {@code chunk} rows. */
    private static void rows(CpuPool pool, int from, int n, int chunk, RowKernel kernel) {
        pool.run((n - from + chunk - 1) / chunk, (i, wk) -> kernel.run(from + i * chunk, Math.min(n, from + (i + 1) * chunk), wk));
    }

    /** The {@code n / 8} whole groups of 8 rows in tasks of about {@code chunk} rows; returns the first row left. */
    private static int groups(CpuPool pool, int n, int chunk, GroupKernel kernel) {
        int groups = n / 8, per = Math.max(1, chunk / 8);
        pool.run((groups + per - 1) / per, (i, wk) -> kernel.run(i * per, Math.min(groups, (i + 1) * per), wk));
        return groups * 8;
    }

    /** Token {@code xo / k}'s activations at offset 0 of an array (the float kernels index from 0). */
    private static float[] token(float[] xf, int xo, int k, Scratch s) {
        if (xo == 0) return xf;
        float[] t = s.token(k);
        System.arraycopy(xf, xo, t, 0, k);
        return t;
    }

    /** Rows per task: many tasks per thread so a core that is held up takes fewer, a multiple of 4. */
    static int chunkRows(int n, int threads) {
        int c = n / (threads * 16);
        return Math.max(16, Math.min(512, c)) & ~3;
    }
}
