package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.MemorySegment;

/**
 * mul_mat: {@code out[t][r] = dot(w row r, x row t)} for weights of any supported type, split
 * over the pool by rows. One or two tokens (generation) take the matrix-vector kernels: integer
 * dot products against activations quantized to int8 blocks for Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0
 * ({@link DotQ4}, {@link DotQ8}, as llama.cpp does), the same per super-block of 256 for Q4_K,
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
     * @param xKey identity of the activations (their node) for reusing their quantization within a
     *             compute; null where it must not be reused
     */
    static void run(CpuPool pool, Scratch s, DType type, MemorySegment w, MemorySegment packed, int k, int n, MemorySegment x,
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
        int tasks = (n + chunk - 1) / chunk;
        for (int t = 0; t < tokens; t++) {
            long outOff = 4L * t * n;
            int xo = t * k;
            Object key = tokens == 1 ? xKey : null;
            switch (type) {
                case Q4_0 -> {
                    if (packed == null) {
                        pairsProduct(pool, s, type, w, k, n, xf, xo, key, out, outOff, chunk, tasks);
                        continue;
                    }
                    int nb = k / 32;
                    short[] xl = s.lanes(nb * ActQuant.LANE_SHORTS);
                    int[] xb = s.laneScales(2 * nb);
                    if (s.quantize(key, -3)) {
                        ActQuant.lanes(xf, xo, k, xl, xb, s.tmp);
                    }
                    int groups = n / 8, per = Math.max(1, chunk / 8), gTasks = (groups + per - 1) / per;
                    pool.run(gTasks, (i, wk) -> DotQ4x8.q4_0(packed, nb, xl, xb, out, outOff, i * per, Math.min(groups, (i + 1) * per)));
                    if (n % 8 != 0) { // the rows past the last group of 8 stay in the original layout
                        int[] xa = s.pairs(nb * ActQuant.PAIR_INTS);
                        ActQuant.pairs(xf, xo, k, 8, xa, s.tmp);
                        s.quantizedFor = null;
                        DotQ4.q4_0(w, nb, xa, out, outOff, groups * 8, n);
                    }
                }
                case Q4_1, Q5_0, Q5_1 -> pairsProduct(pool, s, type, w, k, n, xf, xo, key, out, outOff, chunk, tasks);
                case Q8_0 -> {
                    int nb = k / 32;
                    if (packed != null) {
                        short[] xl = s.lanes(nb * ActQuant.LANE_SHORTS);
                        float[] xd = s.shortScales(nb);
                        if (s.quantize(key, -5)) {
                            ActQuant.lanes8(xf, xo, k, xl, xd, s.tmp);
                        }
                        int groups = n / 8, per = Math.max(1, chunk / 8), gTasks = (groups + per - 1) / per;
                        pool.run(gTasks, (i, wk) -> DotQ8.q8_0x8(packed, nb, xl, xd, out, outOff, i * per, Math.min(groups, (i + 1) * per)));
                        if (n % 8 == 0) continue;
                    }
                    int from8 = packed != null ? n / 8 * 8 : 0; // past the repacked groups, rows in the original layout
                    short[] xq = s.shorts(k);
                    float[] xd = s.shortScales(k / 32);
                    if (s.quantize(from8 > 0 ? null : key, -1)) {
                        ActQuant.shorts(xf, xo, k, xq, xd);
                    }
                    int tasks8 = (n - from8 + chunk - 1) / chunk;
                    pool.run(tasks8, (i, wk) -> DotQ8.q8_0(w, k / 32, xq, xd, out, outOff, from8 + i * chunk, Math.min(n, from8 + (i + 1) * chunk)));
                }
                case F32 -> {
                    float[] xt = token(xf, xo, k, s);
                    pool.run(tasks, (i, wk) -> DotF.f32(w, k, xt, out, outOff, i * chunk, Math.min(n, (i + 1) * chunk)));
                }
                case F16, BF16 -> {
                    float[] xt = token(xf, xo, k, s);
                    pool.run(tasks, (i, wk) -> DotF.half(w, k, type == DType.BF16, xt, out, outOff, i * chunk, Math.min(n, (i + 1) * chunk)));
                }
                case Q4_K, Q5_K, Q6_K -> {
                    int nsb = k / 256;
                    if (packed != null) {
                        short[] xl = s.lanes(nsb * ActQuant.LANE_SHORTS_K);
                        int[] xs = s.laneScales(nsb * ActQuant.K_LANE_INTS);
                        short[] xb = s.laneBias(nsb * 256);
                        if (s.quantize(key, -4)) {
                            ActQuant.lanesK(xf, xo, k, xl, xs, xb, s.tmp);
                        }
                        int groups = n / 8, per = Math.max(1, chunk / 8), gTasks = (groups + per - 1) / per;
                        if (type == DType.Q6_K) {
                            pool.run(gTasks, (i, wk) -> DotK.q6_kx8(packed, nsb, xl, xs, xb, out, outOff, i * per, Math.min(groups, (i + 1) * per)));
                        } else {
                            pool.run(gTasks, (i, wk) -> DotK.q4_kx8(packed, nsb, xl, xs, out, outOff, i * per, Math.min(groups, (i + 1) * per)));
                        }
                        if (n % 8 == 0) continue;
                    }
                    int from = packed != null ? n / 8 * 8 : 0; // past the repacked groups, rows in the original layout
                    int[] xa = s.pairs(nsb * ActQuant.K_INTS);
                    if (s.quantize(from > 0 ? null : key, -2)) {
                        ActQuant.pairsK(xf, xo, k, xa, s.tmp);
                    }
                    int rest = n - from;
                    int tasksK = (rest + chunk - 1) / chunk;
                    if (type == DType.Q6_K) {
                        pool.run(tasksK, (i, wk) -> DotK.q6_k(w, nsb, xa, out, outOff, from + i * chunk, Math.min(n, from + (i + 1) * chunk)));
                    } else {
                        boolean five = type == DType.Q5_K;
                        pool.run(tasksK, (i, wk) -> DotK.q4_k(w, nsb, five, xa, out, outOff, from + i * chunk, Math.min(n, from + (i + 1) * chunk)));
                    }
                }
                default -> {
                    float[] xt = token(xf, xo, k, s);
                    s.rowBufs(k);
                    pool.run(tasks, (i, wk) -> DotF.decoded(type, w, k, xt, s.rowBuf[wk], out, outOff, i * chunk, Math.min(n, (i + 1) * chunk)));
                }
            }
        }
    }

    /** Q4_0 (not repacked), Q4_1, Q5_0, Q5_1: activations in the pairs layout, one row per lane set. */
    private static void pairsProduct(CpuPool pool, Scratch s, DType type, MemorySegment w, int k, int n, float[] xf, int xo,
                                     Object key, MemorySegment out, long outOff, int chunk, int tasks) {
        int offset = type == DType.Q4_0 ? 8 : type == DType.Q5_0 ? 16 : 0;
        int[] xa = s.pairs(k / 32 * ActQuant.PAIR_INTS);
        if (s.quantize(key, offset)) {
            ActQuant.pairs(xf, xo, k, offset, xa, s.tmp);
        }
        int nb = k / 32;
        switch (type) {
            case Q4_0 -> pool.run(tasks, (i, wk) -> DotQ4.q4_0(w, nb, xa, out, outOff, i * chunk, Math.min(n, (i + 1) * chunk)));
            case Q4_1 -> pool.run(tasks, (i, wk) -> DotQ4.q4_1(w, nb, xa, out, outOff, i * chunk, Math.min(n, (i + 1) * chunk)));
            default -> pool.run(tasks, (i, wk) -> DotQ4.q5(w, nb, type == DType.Q5_1, xa, out, outOff, i * chunk, Math.min(n, (i + 1) * chunk)));
        }
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
