package dev.hearth.runtime.dtype;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;

/** Data generators, error measures and byte writers shared by the codec tests. */
final class CodecTesting {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The types this package implements, as the task lists them. */
    static final List<DType> IMPLEMENTED = List.of(DType.F32, DType.F16, DType.BF16, DType.Q4_0, DType.Q4_1,
            DType.Q5_0, DType.Q5_1, DType.Q8_0, DType.Q8_1, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K,
            DType.Q6_K, DType.Q8_K, DType.MXFP4);

    private CodecTesting() {
    }

    static float[] normal(long seed, int n, double sigma) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller
            double u = r.nextDouble(), v = r.nextDouble();
            x[i] = (float) (sigma * Math.sqrt(-2 * Math.log1p(-u)) * Math.cos(2 * Math.PI * v));
        }
        return x;
    }

    static float[] uniform(long seed, int n, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextDouble(lo, hi);
        return x;
    }

    /** Normalized mean squared error: sum (a-b)^2 / sum a^2. */
    static double nmse(float[] ref, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double e = (double) ref[i] - got[i];
            num += e * e;
            den += (double) ref[i] * ref[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : num / den;
    }

    /** The largest |a-b| over each row of {@code k}, divided by that row's largest |a|; the worst row. */
    static double maxErrOverRowAbsMax(float[] ref, float[] got, int k) {
        double worst = 0;
        for (int r = 0; r < ref.length; r += k) {
            double amax = 0, emax = 0;
            for (int i = r; i < r + k; i++) {
                amax = Math.max(amax, Math.abs(ref[i]));
                emax = Math.max(emax, Math.abs((double) ref[i] - got[i]));
            }
            if (amax > 0) worst = Math.max(worst, emax / amax);
            else if (emax > 0) worst = Double.POSITIVE_INFINITY;
        }
        return worst;
    }

    static float[] roundTrip(DType t, float[] x) {
        MemorySegment q = Codecs.quantize(t, x);
        return Codecs.dequantize(t, q, 0, x.length);
    }

    static MemorySegment bytes(int n) {
        return MemorySegment.ofArray(new byte[n]);
    }

    static void u8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    static void f16(MemorySegment s, long off, float v) {
        short h = Float.floatToFloat16(v);
        if (Float.float16ToFloat(h) != v) throw new IllegalArgumentException(v + " is not exact in fp16");
        s.set(I16, off, h);
    }
}
