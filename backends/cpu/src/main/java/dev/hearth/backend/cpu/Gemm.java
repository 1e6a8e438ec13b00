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
 * from memory once per prompt. Rows are packed four by four and tokens two by two, interleaved
 * by 8 floats, so that the micro-kernel (4 rows by 2 tokens, 8 fma accumulators) walks two arrays
 * with one index each; it runs over chunks of {@link #KC} elements and groups of {@link #PAIRS}
 * token pairs (which stay in L1) and keeps partial sums between chunks; lanes are summed at the
 * end. Row and token counts are padded with zeros to 4 and 2. Checked against the reference
 * products in MulMatTest.
 */
final class Gemm {
    /**
     * Elements of a row per pass, and token pairs per pass: 4 rows and {@link #PAIRS} pairs of
     * tokens of that length (12 KiB) stay in L1 while every row quad of the tile meets them.
     */
    static final int KC = 256, PAIRS = 4;

    private Gemm() {
    }

    /** Rows of a tile for rows of {@code k}: about 256 KiB of floats, a multiple of 4. */
    static int tileRows(int k) {
        return Math.max(4, Math.min(64, (1 << 16) / Math.max(k, 1)) & ~3);
    }

    /** Floats of the packed tokens for {@code tokens} rows of {@code k}. */
    static int packedFloats(int k, int tokens) {
        return ((tokens + 1) & ~1) * ((k + 7) & ~7);
    }

    /** Floats of a packed tile of {@code rows} rows of {@code k} plus a row to decode into. */
    static int tileFloats(int k, int rows) {
        return ((rows + 3) & ~3) * ((k + 7) & ~7) + ((k + 7) & ~7);
    }

    static int partFloats(int rows, int tokens) {
        return ((rows + 3) / 4) * ((tokens + 1) / 2) * 64;
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
        int padded = (rows + 3) & ~3;
        int rowAt = padded * kp;
        for (int i = 0; i < padded; i++) {
            if (i < rows) {
                Decode.row(type, w, (r0 + i) * rb, tile, rowAt, k);
                Arrays.fill(tile, rowAt + k, rowAt + kp, 0f);
            } else {
                Arrays.fill(tile, rowAt, rowAt + kp, 0f);
            }
            int base = (i / 4) * 4 * kp + (i % 4) * 8;
            for (int c = 0; c < kp; c += 8) FloatVector.fromArray(F256, tile, rowAt + c).intoArray(tile, base + c * 4);
        }
        int pairs = (tokens + 1) / 2;
        Arrays.fill(part, 0, (padded / 4) * pairs * 64, 0f);
        for (int kc = 0; kc < kp; kc += KC) {
            int ke = Math.min(kc + KC, kp);
            for (int p0 = 0; p0 < pairs; p0 += PAIRS) {
                int p1 = Math.min(pairs, p0 + PAIRS);
                for (int q = 0; q < padded; q += 4) {
                    for (int p = p0; p < p1; p++) {
                        micro42(tile, q * kp + kc * 4, xp, p * 2 * kp + kc * 2, (ke - kc) / 8, part, ((q / 4) * pairs + p) * 64);
                    }
                }
            }
        }
        for (int q = 0; q < padded; q += 4) {
            for (int t = 0; t < tokens; t++) {
                int at = ((q / 4) * pairs + t / 2) * 64 + (t % 2) * 32;
                for (int j = 0; j < 4 && q + j < rows; j++) {
                    float s = FloatVector.fromArray(F256, part, at + 8 * j).reduceLanes(VectorOperators.ADD);
                    out.set(Mem.F32, outOff + 4L * ((long) t * n + r0 + q + j), s);
                }
            }
        }
    }

    /** 4 packed rows from {@code a[ai]} by 2 packed tokens from {@code x[xi]} over {@code steps} groups of 8. */
    private static void micro42(float[] a, int ai, float[] x, int xi, int steps, float[] part, int p) {
        FloatVector c00 = FloatVector.fromArray(F256, part, p), c10 = FloatVector.fromArray(F256, part, p + 8);
        FloatVector c20 = FloatVector.fromArray(F256, part, p + 16), c30 = FloatVector.fromArray(F256, part, p + 24);
        FloatVector c01 = FloatVector.fromArray(F256, part, p + 32), c11 = FloatVector.fromArray(F256, part, p + 40);
        FloatVector c21 = FloatVector.fromArray(F256, part, p + 48), c31 = FloatVector.fromArray(F256, part, p + 56);
        for (int s = 0; s < steps; s++, ai += 32, xi += 16) {
            FloatVector w0 = FloatVector.fromArray(F256, a, ai), w1 = FloatVector.fromArray(F256, a, ai + 8);
            FloatVector w2 = FloatVector.fromArray(F256, a, ai + 16), w3 = FloatVector.fromArray(F256, a, ai + 24);
            FloatVector v = FloatVector.fromArray(F256, x, xi);
            c00 = w0.fma(v, c00);
            c10 = w1.fma(v, c10);
            c20 = w2.fma(v, c20);
            c30 = w3.fma(v, c30);
            v = FloatVector.fromArray(F256, x, xi + 8);
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
}
