package dev.hearth.runtime.dtype;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static dev.hearth.runtime.dtype.CodecTesting.IMPLEMENTED;
import static dev.hearth.runtime.dtype.CodecTesting.nmse;
import static dev.hearth.runtime.dtype.CodecTesting.normal;
import static dev.hearth.runtime.dtype.CodecTesting.roundTrip;
import static dev.hearth.runtime.dtype.CodecTesting.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quantize then dequantize seeded random data and edge cases; the error must stay within a bound
 * that follows from each format's step size, and more bits must mean less error.
 *
 * <p>Bounds, as NMSE (sum of squared errors over sum of squares) on N(0,1) data, with about 1.5x
 * margin over the measured values noted beside each. A symmetric b-bit type with step
 * {@code absmax/2^(b-1)} over blocks of 32 normal values (absmax ~2.1 sigma) has NMSE about
 * {@code (2.1/2^(b-1))^2/12}: 2.3e-5 at 8 bits, 1.4e-3 at 5, 5.7e-3 at 4.
 */
class RoundTripTest {
    static final int N = 256 * 32;

    /** NMSE bounds; beside each, the measured worst of the normal and uniform cases. */
    static double bound(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 7e-8;    // 4.7e-8 (relative rounding 2^-11: 2^-22/6 to 2^-22/3)
            case BF16 -> 4.5e-6; // 2.9e-6 (2^-8: 2^-16/6 to 2^-16/3)
            case Q8_0 -> 4.5e-5; // 2.9e-5
            case Q8_1 -> 4.5e-5; // 2.9e-5 (as Q8_0)
            case Q8_K -> 7e-5;   // 4.7e-5: one scale per 256, absmax ~2.9 sigma
            case Q6_K -> 5e-4;   // 3.3e-4
            case Q5_K -> 2e-3;   // 1.3e-3
            case Q5_1 -> 2.2e-3; // 1.4e-3
            case Q5_0 -> 2.8e-3; // 1.8e-3
            case Q4_K -> 7.5e-3; // 5.1e-3
            case Q4_1 -> 9.5e-3; // 6.1e-3
            case Q4_0 -> 1.1e-2; // 7.7e-3
            case Q3_K -> 3.5e-2; // 2.3e-2
            case Q2_K -> 0.13;   // 9.0e-2
            case MXFP4 -> 2e-2;  // 1.35e-2: E2M1's steps are 1/8 to 1/4 of their octave's top
            default -> throw new AssertionError(t);
        };
    }

    /** Bits per element, headers included. */
    static double bitsPerWeight(DType t) {
        return 8.0 * t.typeSize / t.blockSize;
    }

    private static void report(String what, DType t, double e) {
        System.out.printf("%-8s %-6s NMSE %.3g%n", what, t, e);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "MXFP4"})
    void normalData(DType t) {
        float[] x = normal(1, N, 1.0);
        double e = nmse(x, roundTrip(t, x));
        report("normal", t, e);
        assertTrue(e <= bound(t), t + ": NMSE " + e + " > " + bound(t));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "MXFP4"})
    void uniformData(DType t) {
        float[] x = uniform(2, N, -3, 3);
        double e = nmse(x, roundTrip(t, x));
        report("uniform", t, e);
        assertTrue(e <= bound(t), t + ": NMSE " + e + " > " + bound(t));
    }

    /** More bits, less error: any type at least 0.75 bit per weight richer than another must beat it. */
    @Test
    void moreBitsMeanLessError() {
        float[] x = normal(4, N, 1.0);
        Map<DType, Double> err = new EnumMap<>(DType.class);
        for (DType t : IMPLEMENTED) err.put(t, nmse(x, roundTrip(t, x)));
        int pairs = 0;
        for (DType a : IMPLEMENTED) {
            for (DType b : IMPLEMENTED) {
                if (bitsPerWeight(a) - bitsPerWeight(b) >= 0.75) {
                    pairs++;
                    assertTrue(err.get(a) < err.get(b), a + " (" + err.get(a) + ") should beat " + b + " (" + err.get(b) + ")");
                }
            }
        }
        assertTrue(pairs > 50, "pairs compared: " + pairs);
        // Same width, better use of it: fp16's 10 mantissa bits against bf16's 7; a block offset against none.
        assertTrue(err.get(DType.F16) < err.get(DType.BF16));
        assertTrue(err.get(DType.Q4_1) < err.get(DType.Q4_0));
        assertTrue(err.get(DType.Q5_1) < err.get(DType.Q5_0));
        assertEquals(0.0, err.get(DType.F32));
    }

    @ParameterizedTest
    @MethodSource("types")
    void zerosStayZeros(DType t) {
        float[] y = roundTrip(t, new float[N]);
        // -0 counts as zero: ggml's Q4_0 scale of a zero block is 0 / -8 = -0 too.
        for (int i = 0; i < N; i++) assertTrue(y[i] == 0f, t + " at " + i + ": " + y[i]);
    }

    /**
     * One huge value among normal ones: it comes back within a few percent, blocks it does not
     * share keep their usual error, and nothing turns into NaN or infinity.
     */
    @ParameterizedTest
    @MethodSource("types")
    void oneHugeOutlier(DType t) {
        float[] x = normal(5, N, 1.0);
        int at = 3 * 256 + 77;
        x[at] = 1000f;
        float[] y = roundTrip(t, x);
        for (float v : y) assertTrue(Float.isFinite(v), t + ": non-finite output");
        double rel = Math.abs(y[at] - x[at]) / x[at];
        System.out.printf("outlier  %-6s relative error %.3g%n", t, rel);
        // MXFP4 has no mantissa to spare: 1000 is 7.8 times its block's scale, and clips to 6 times it.
        double relBound = t == DType.MXFP4 ? 0.25 : 0.02;
        assertTrue(rel <= relBound, t + ": outlier " + x[at] + " came back as " + y[at]);
        // All super-blocks but the outlier's (every type's blocks divide 256).
        float[] xo = new float[N - 256], yo = new float[N - 256];
        for (int i = 0, j = 0; i < N; i++) {
            if (i / 256 == at / 256) continue;
            xo[j] = x[i];
            yo[j++] = y[i];
        }
        assertTrue(nmse(xo, yo) <= bound(t), t + ": blocks away from the outlier, NMSE " + nmse(xo, yo));
    }

    /** All-negative and all-positive data, which the offset types must handle with their min. */
    @ParameterizedTest
    @MethodSource("types")
    void oneSignedData(DType t) {
        float[] neg = normal(6, N, 1.0), pos = normal(7, N, 1.0);
        for (int i = 0; i < N; i++) {
            neg[i] = -Math.abs(neg[i]) - 0.05f;
            pos[i] = Math.abs(pos[i]) + 0.05f;
        }
        float[] yn = roundTrip(t, neg), yp = roundTrip(t, pos);
        double en = nmse(neg, yn), ep = nmse(pos, yp);
        report("negative", t, en);
        report("positive", t, ep);
        assertTrue(en <= bound(t), t + ": negative-only NMSE " + en);
        assertTrue(ep <= bound(t), t + ": positive-only NMSE " + ep);
    }

    /** A constant super-block decodes to (nearly) that constant; the offset types hit it through their min. */
    @ParameterizedTest
    @MethodSource("types")
    void constantData(DType t) {
        float[] x = new float[512];
        Arrays.fill(x, 0, 256, -0.7f);
        Arrays.fill(x, 256, 512, 2.5f);
        float[] y = roundTrip(t, x);
        for (int i = 0; i < 512; i++) {
            // MXFP4 has nothing but its table: the block's amax lies in [4, 8) times the scale, where the
            // table holds 4 and 6 only (2.5 is 5 times 1/2, a tie that goes to 4: 2.0; 7.9 would clip to 6).
            double tol = t == DType.MXFP4 ? Math.abs(x[i]) / 4 : Math.abs(x[i]) * 0x1p-7;
            assertEquals(x[i], y[i], tol, t + " at " + i);
        }
    }

    /**
     * ggml's own acceptance test of every quantizer (tests/test-quantize-fns.cpp): data
     * {@code 0.1 + 2 cos(i)} over 4096 elements, error {@code sqrt(sum of squared errors) / n},
     * under 0.0075 for Q2_K, 0.004 for Q3_K and 0.002 for the rest.
     */
    @ParameterizedTest
    @MethodSource("types")
    void passesGgmlsQuantizationErrorTest(DType t) {
        int n = 32 * 128;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (0.1 + 2 * (float) Math.cos((float) i));
        float[] y = roundTrip(t, x);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += ((double) x[i] - y[i]) * ((double) x[i] - y[i]);
        double err = Math.sqrt(sum) / n;
        double limit = t == DType.Q2_K ? 0.0075 : t == DType.Q3_K ? 0.004 : 0.002;
        System.out.printf("ggml-err %-6s %.6f (limit %.4f)%n", t, err, limit);
        assertTrue(err < limit, t + ": " + err + " >= " + limit);
    }

    static List<DType> types() {
        return IMPLEMENTED;
    }
}
