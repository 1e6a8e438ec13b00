package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.hearth.backend.cpu.Mem.F256;

/**
 * Matrix-matrix products for prompts (many tokens): a tile of weight rows of any type is decoded
 * to float once ({@link Decode#row}) and then multiplied by every token, so the weights stream
 * from memory once per prompt. The micro-kernel takes 4 rows by 2 tokens with 8 fma accumulators
 * over a chunk of {@link #KC} elements (rows and tokens stay in L1), keeping partial sums between
 * chunks; lanes are summed at the end. Checked against the reference products in MulMatTest.
 */
final class Gemm {
    /** Elements of a row per pass: 4 rows and 2 tokens of it fit in L1. */
    static final int KC = 512;

    private Gemm() {
    }

    /** Rows of a tile for rows of {@code k}: about 256 KiB of floats, a multiple of 4. */
    static int tileRows(int k) {
        return Math.max(4, Math.min(64, (1 << 16) / Math.max(k, 1)) & ~3);
    }

    /** Floats of partial sums a tile of {@code rows} rows needs for {@code tokens} tokens. */
    static int partFloats(int rows, int tokens) {
        return ((rows + 3) / 4) * ((tokens + 1) / 2) * 64;
    }

    /**
     * {@code out[t * n + r] = dot(w row r, x row t)} for rows {@code r0..r1} (at most
     * {@code tileRows(k)}) and tokens {@code 0..tokens}; {@code tile} holds the decoded rows and
     * {@code part} the partial sums.
     */
    static void rows(DType type, MemorySegment w, int k, int n, float[] x, int tokens, float[] tile, float[] part,
                     MemorySegment out, long outOff, int r0, int r1) {
        long rb = type.bytesFor(k);
        int rows = r1 - r0;
        int padded = (rows + 3) & ~3;
        for (int i = 0; i < rows; i++) Decode.row(type, w, (r0 + i) * rb, tile, i * k, k);
        Arrays.fill(tile, rows * k, padded * k, 0f);
        int pairs = (tokens + 1) / 2;
        Arrays.fill(part, 0, (padded / 4) * pairs * 64, 0f);
        int kv = k & ~7;
        for (int kc = 0; kc < kv; kc += KC) {
            int ke = Math.min(kc + KC, kv);
            for (int q = 0; q < padded; q += 4) {
                for (int t = 0; t < tokens; t += 2) {
                    int p = ((q / 4) * pairs + t / 2) * 64;
                    if (t + 1 < tokens) micro42(tile, q * k, k, x, t * k, k, kc, ke, part, p);
                    else micro41(tile, q * k, k, x, t * k, kc, ke, part, p);
                }
            }
        }
        for (int q = 0; q < padded; q += 4) {
            for (int t = 0; t < tokens; t++) {
                int p = ((q / 4) * pairs + t / 2) * 64 + (t % 2) * 32;
                for (int j = 0; j < 4 && q + j < rows; j++) {
                    float s = FloatVector.fromArray(F256, part, p + 8 * j).reduceLanes(VectorOperators.ADD);
                    for (int i = kv; i < k; i++) s += tile[(q + j) * k + i] * x[t * k + i];
                    out.set(Mem.F32, outOff + 4L * ((long) t * n + r0 + q + j), s);
                }
            }
        }
    }

    private static void micro42(float[] a, int a0, int ak, float[] x, int x0, int xk, int from, int to, float[] part, int p) {
        FloatVector c00 = FloatVector.fromArray(F256, part, p), c10 = FloatVector.fromArray(F256, part, p + 8);
        FloatVector c20 = FloatVector.fromArray(F256, part, p + 16), c30 = FloatVector.fromArray(F256, part, p + 24);
        FloatVector c01 = FloatVector.fromArray(F256, part, p + 32), c11 = FloatVector.fromArray(F256, part, p + 40);
        FloatVector c21 = FloatVector.fromArray(F256, part, p + 48), c31 = FloatVector.fromArray(F256, part, p + 56);
        int a1 = a0 + ak, a2 = a1 + ak, a3 = a2 + ak, x1 = x0 + xk;
        for (int i = from; i < to; i += 8) {
            FloatVector w0 = FloatVector.fromArray(F256, a, a0 + i), w1 = FloatVector.fromArray(F256, a, a1 + i);
            FloatVector w2 = FloatVector.fromArray(F256, a, a2 + i), w3 = FloatVector.fromArray(F256, a, a3 + i);
            FloatVector v = FloatVector.fromArray(F256, x, x0 + i);
            c00 = w0.fma(v, c00);
            c10 = w1.fma(v, c10);
            c20 = w2.fma(v, c20);
            c30 = w3.fma(v, c30);
            v = FloatVector.fromArray(F256, x, x1 + i);
            c01 = w0.fma(v, c01);
            c11 = w1.fma(v, c11);
            c21 = w2.fma(v, c21);
            c31 = w3.fma(v, c31);
        }
        c00.intoArray(part, p);
        c10.intoArray(part, p + 8);
        c20.intoArray(part, p + 16);
        c30.intoArray(part, p + 24);
        c01.intoArray(part, p + 32);
        c11.intoArray(part, p + 40);
        c21.intoArray(part, p + 48);
        c31.intoArray(part, p + 56);
    }

    private static void micro41(float[] a, int a0, int ak, float[] x, int x0, int from, int to, float[] part, int p) {
        FloatVector c00 = FloatVector.fromArray(F256, part, p), c10 = FloatVector.fromArray(F256, part, p + 8);
        FloatVector c20 = FloatVector.fromArray(F256, part, p + 16), c30 = FloatVector.fromArray(F256, part, p + 24);
        int a1 = a0 + ak, a2 = a1 + ak, a3 = a2 + ak;
        for (int i = from; i < to; i += 8) {
            FloatVector v = FloatVector.fromArray(F256, x, x0 + i);
            c00 = FloatVector.fromArray(F256, a, a0 + i).fma(v, c00);
            c10 = FloatVector.fromArray(F256, a, a1 + i).fma(v, c10);
            c20 = FloatVector.fromArray(F256, a, a2 + i).fma(v, c20);
            c30 = FloatVector.fromArray(F256, a, a3 + i).fma(v, c30);
        }
        c00.intoArray(part, p);
        c10.intoArray(part, p + 8);
        c20.intoArray(part, p + 16);
        c30.intoArray(part, p + 24);
    }
}
