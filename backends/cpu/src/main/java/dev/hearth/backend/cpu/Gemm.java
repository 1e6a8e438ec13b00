package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.hearth.backend.cpu.Mem.F256;

/**
 * Matrix-matrix products for prompts (many tokens): a tile of weight rows of any type is decoded
 * to float once ({@link Decode#row}, straight into the tile's interleaved layout where the type
 * allows) and then multiplied by every token, so the weights stream from memory once per prompt. Rows are packed six by six and tokens two by two, interleaved
 * by 8 floats, so that the micro-kernel (6 rows by 2 tokens, 12 fma accumulators: more
 * independent sums than the fma latency times its two ports; 4 by 2 left the ports idle) walks two arrays
 * with one index each; it runs over chunks of {@link #KC} elements and groups of {@link #PAIRS}
 * token pairs (which stay in L1) and keeps partial sums between chunks; lanes are summed at the
 * end. Row and token counts are padded with zeros to 6 and 2. Checked against the reference
 * products in MulMatTest.
 */
final class Gemm {
    /**
     * Elements of a row per pass, and token pairs per pass: 6 rows (12 KiB) and {@link #PAIRS}
     * pairs of tokens (16 KiB) of that length stay in a 32 KiB L1 while every row sextet of the
     * tile meets them. 512 rather than 256: a micro-kernel call of 64 steps rather than 32 spreads
     * the cost of entering its loop (in L1, one thread: 73 against 68 GFLOP/s; a 30x2048 Q4_K tile
     * by 64 tokens: 116-125 against 132-138 us of products).
     */
    static final int KC = 512, PAIRS = 4;

    private Gemm() {
    }

    /** Rows of a tile for rows of {@code k}: about 256 KiB of floats, a multiple of {@link #R}. */
    static int tileRows(int k) {
        int r = Math.min(66, (1 << 16) / Math.max(k, 1));
        return Math.max(R, r - r % R);
    }

    /** Rows per micro-kernel call. */
    static final int R = 6;

    /** Floats of the packed tokens for {@code tokens} rows of {@code k}. */
    static int packedFloats(int k, int tokens) {
        return ((tokens + 1) & ~1) * ((k + 7) & ~7);
    }

    /** Floats of a packed tile of {@code rows} rows of {@code k} plus a row to decode into. */
    static int tileFloats(int k, int rows) {
        return (rows + R - 1) / R * R * ((k + 7) & ~7) + ((k + 7) & ~7);
    }

    static int partFloats(int rows, int tokens) {
        return ((rows + R - 1) / R) * ((tokens + 1) / 2) * 16 * R;
    }

    /** Packs {@code tokens} rows of {@code k} from {@code x} two by two, interleaved by 8, zero padded. */
    static void packTokens(float[] x, int k, int tokens, float[] dst) {
        int kp = (k + 7) & ~7;
        int pairs = (tokens + 1) / 2;
        Arrays.fill(dst, 0, pairs * 2 * kp, 0f);
        for (int t = 0; t < tokens; t++) {
            int base = (t / 2) * 2 * kp + (t % 2) * 8;
            int i = 0;
            for (; i + 8 <= k; i += 8) FloatVector.fromArray(F256, x, t * k + i).intoArray(dst, base + i * 2);
            for (; i < k; i++) dst[base + (i & ~7) * 2 + (i & 7)] = x[t * k + i];
        }
    }

    /**
     * {@code out[t * n + r] = dot(w row r, x row t)} for rows {@code r0..r1} (at most
     * {@code tileRows(k)}) and all tokens; {@code xp} holds the packed tokens, {@code tile} and
     * {@code part} are this thread's buffers.
     */
    static void rows(DType type, MemorySegment w, int k, int n, float[] xp, int tokens, float[] tile, float[] part,
                     MemorySegment out, long outOff, int r0, int r1) {
        long rb = type.bytesFor(k);
        int kp = (k + 7) & ~7;
        int rows = r1 - r0;
        int padded = (rows + R - 1) / R * R;
        int rowAt = padded * kp;
        boolean direct = k == kp && Decode.strided(type);
        for (int i = 0; i < padded; i++) {
            int base = (i / R) * R * kp + (i % R) * 8;
            if (i < rows && direct) {
                Decode.row(type, w, (r0 + i) * rb, tile, base, k, 8 * R);
                continue;
            }
            if (i < rows) {
                Decode.row(type, w, (r0 + i) * rb, tile, rowAt, k);
                Arrays.fill(tile, rowAt + k, rowAt + kp, 0f);
            } else {
                Arrays.fill(tile, rowAt, rowAt + kp, 0f);
            }
            for (int c = 0; c < kp; c += 8) FloatVector.fromArray(F256, tile, rowAt + c).intoArray(tile, base + c * R);
        }
        int pairs = (tokens + 1) / 2;
        int block = 16 * R;
        Arrays.fill(part, 0, (padded / R) * pairs * block, 0f);
        for (int kc = 0; kc < kp; kc += KC) {
            int ke = Math.min(kc + KC, kp);
            for (int p0 = 0; p0 < pairs; p0 += PAIRS) {
                int p1 = Math.min(pairs, p0 + PAIRS);
                for (int q = 0; q < padded; q += R) {
                    for (int p = p0; p < p1; p++) {
                        micro62(tile, q * kp + kc * R, xp, p * 2 * kp + kc * 2, (ke - kc) / 8, part, ((q / R) * pairs + p) * block);
                    }
                }
            }
        }
        for (int q = 0; q < padded; q += R) {
            for (int t = 0; t < tokens; t++) {
                int at = ((q / R) * pairs + t / 2) * block + (t % 2) * 8 * R;
                for (int j = 0; j < R && q + j < rows; j++) {
                    float s = FloatVector.fromArray(F256, part, at + 8 * j).reduceLanes(VectorOperators.ADD);
                    out.set(Mem.F32, outOff + 4L * ((long) t * n + r0 + q + j), s);
                }
            }
        }
    }

    /** 6 packed rows from {@code a[ai]} by 2 packed tokens from {@code x[xi]} over {@code steps} groups of 8. */
    private static void micro62(float[] a, int ai, float[] x, int xi, int steps, float[] part, int p) {
        FloatVector c0 = FloatVector.fromArray(F256, part, p), c1 = FloatVector.fromArray(F256, part, p + 8);
        FloatVector c2 = FloatVector.fromArray(F256, part, p + 16), c3 = FloatVector.fromArray(F256, part, p + 24);
        FloatVector c4 = FloatVector.fromArray(F256, part, p + 32), c5 = FloatVector.fromArray(F256, part, p + 40);
        FloatVector d0 = FloatVector.fromArray(F256, part, p + 48), d1 = FloatVector.fromArray(F256, part, p + 56);
        FloatVector d2 = FloatVector.fromArray(F256, part, p + 64), d3 = FloatVector.fromArray(F256, part, p + 72);
        FloatVector d4 = FloatVector.fromArray(F256, part, p + 80), d5 = FloatVector.fromArray(F256, part, p + 88);
        for (int s = 0; s < steps; s++, ai += 48, xi += 16) {
            FloatVector u = FloatVector.fromArray(F256, x, xi), v = FloatVector.fromArray(F256, x, xi + 8);
            FloatVector w = FloatVector.fromArray(F256, a, ai);
            c0 = w.fma(u, c0);
            d0 = w.fma(v, d0);
            w = FloatVector.fromArray(F256, a, ai + 8);
            c1 = w.fma(u, c1);
            d1 = w.fma(v, d1);
            w = FloatVector.fromArray(F256, a, ai + 16);
            c2 = w.fma(u, c2);
            d2 = w.fma(v, d2);
            w = FloatVector.fromArray(F256, a, ai + 24);
            c3 = w.fma(u, c3);
            d3 = w.fma(v, d3);
            w = FloatVector.fromArray(F256, a, ai + 32);
            c4 = w.fma(u, c4);
            d4 = w.fma(v, d4);
            w = FloatVector.fromArray(F256, a, ai + 40);
            c5 = w.fma(u, c5);
            d5 = w.fma(v, d5);
        }
        c0.intoArray(part, p);
        c1.intoArray(part, p + 8);
        c2.intoArray(part, p + 16);
        c3.intoArray(part, p + 24);
        c4.intoArray(part, p + 32);
        c5.intoArray(part, p + 40);
        d0.intoArray(part, p + 48);
        d1.intoArray(part, p + 56);
        d2.intoArray(part, p + 64);
        d3.intoArray(part, p + 72);
        d4.intoArray(part, p + 80);
        d5.intoArray(part, p + 88);
    }
}
