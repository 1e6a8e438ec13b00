package dev.hearth.runtime.dtype;

import java.util.List;

import static dev.hearth.runtime.dtype.ReferenceCodecs.half;
import static dev.hearth.runtime.dtype.ReferenceCodecs.i32;
import static dev.hearth.runtime.dtype.ReferenceCodecs.putHalf;
import static dev.hearth.runtime.dtype.ReferenceCodecs.putI32;
import static dev.hearth.runtime.dtype.ReferenceCodecs.roundHalfAway;
import static dev.hearth.runtime.dtype.ReferenceCodecs.u8;

/**
 * Reference codecs of ggml's first quant types: blocks of 32 elements, one fp16 scale {@code d}
 * (and for the "_1" types an fp16 offset {@code m}), all little-endian, no padding.
 * <pre>
 *   Q4_0 (18 B): d, qs[16]          x = (q - 8) * d,   q in 0..15
 *   Q4_1 (20 B): d, m, qs[16]       x = q * d + m,     q in 0..15
 *   Q5_0 (22 B): d, qh[4], qs[16]   x = (q - 16) * d,  q in 0..31
 *   Q5_1 (24 B): d, m, qh[4], qs[16] x = q * d + m,    q in 0..31
 *   Q8_0 (34 B): d, qs[32] int8     x = q * d
 *   Q8_1 (36 B): d, s, qs[32] int8  x = q * d          (s = d * sum(q), for dot products)
 * </pre>
 * Nibbles: byte {@code qs[j]} holds element {@code j} in its low nibble and element {@code j+16}
 * in its high nibble. Q5's fifth bits: bit {@code j} of the little-endian uint32 {@code qh} is
 * the high bit of element {@code j}.
 *
 * <p>Quantizers follow ggml's {@code quantize_row_*_ref} step for step (same scale choice, same
 * float operations in the same order, same rounding: truncation of {@code x + 8.5} for Q4_0,
 * {@code roundf} for Q8_0), so their output is byte-identical to llama-quantize's without an
 * importance matrix. Checked against llama.cpp's Q8_0/Q4_0 files of stories260K
 * (ModelFilesTest), hand-built blocks and round-trip error bounds.
 */
final class LegacyQuants {
    private LegacyQuants() {
    }

    static List<QuantCodec> all() {
        return List.of(new Q4_0(), new Q4_1(), new Q5_0(), new Q5_1(), new Q8_0(), new Q8_1());
    }

    /** The value of largest magnitude in {@code x[s..s+32)} with its sign; the first one wins ties. */
    private static float signedAbsMax(float[] x, int s) {
        float amax = 0f, max = 0f;
        for (int j = 0; j < 32; j++) {
            float v = x[s + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    // Plain comparisons, as ggml's: the first of equal values wins, so -0 and +0 are kept apart as there.
    private static float minOf(float[] x, int s) {
        float min = Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) if (x[s + j] < min) min = x[s + j];
        return min;
    }

    private static float maxOf(float[] x, int s) {
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) if (x[s + j] > max) max = x[s + j];
        return max;
    }

    static final class Q4_0 extends BlockCodec {
        Q4_0() {
            super(DType.Q4_0);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p);
            for (int j = 0; j < 16; j++) {
                int q = u8(b, p + 2 + j);
                y[o + j] = ((q & 0xf) - 8) * d;
                y[o + j + 16] = ((q >>> 4) - 8) * d;
            }
        }

        void encode(float[] x, int s, byte[] b, int p) {
            float d = signedAbsMax(x, s) / -8f;
            float id = d != 0f ? 1f / d : 0f;
            putHalf(b, p, d);
            for (int j = 0; j < 16; j++) {
                int lo = Math.min(15, (int) (x[s + j] * id + 8.5f));
                int hi = Math.min(15, (int) (x[s + j + 16] * id + 8.5f));
                b[p + 2 + j] = (byte) (lo | hi << 4);
            }
        }
    }

    static final class Q4_1 extends BlockCodec {
        Q4_1() {
            super(DType.Q4_1);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p), m = half(b, p + 2);
            for (int j = 0; j < 16; j++) {
                int q = u8(b, p + 4 + j);
                y[o + j] = (q & 0xf) * d + m;
                y[o + j + 16] = (q >>> 4) * d + m;
            }
        }

        void encode(float[] x, int s, byte[] b, int p) {
            float min = minOf(x, s), max = maxOf(x, s);
            float d = (max - min) / 15f;
            float id = d != 0f ? 1f / d : 0f;
            putHalf(b, p, d);
            putHalf(b, p + 2, min);
            for (int j = 0; j < 16; j++) {
                int lo = Math.min(15, (int) ((x[s + j] - min) * id + 0.5f));
                int hi = Math.min(15, (int) ((x[s + j + 16] - min) * id + 0.5f));
                b[p + 4 + j] = (byte) (lo | hi << 4);
            }
        }
    }

    static final class Q5_0 extends BlockCodec {
        Q5_0() {
            super(DType.Q5_0);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p);
            int qh = i32(b, p + 2);
            for (int j = 0; j < 16; j++) {
                int q = u8(b, p + 6 + j);
                int lo = (q & 0xf) | ((qh >>> j) & 1) << 4;
                int hi = (q >>> 4) | ((qh >>> (j + 16)) & 1) << 4;
                y[o + j] = (lo - 16) * d;
                y[o + j + 16] = (hi - 16) * d;
            }
        }

        void encode(float[] x, int s, byte[] b, int p) {
            float d = signedAbsMax(x, s) / -16f;
            float id = d != 0f ? 1f / d : 0f;
            putHalf(b, p, d);
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int lo = Math.min(31, (int) (x[s + j] * id + 16.5f));
                int hi = Math.min(31, (int) (x[s + j + 16] * id + 16.5f));
                b[p + 6 + j] = (byte) ((lo & 0xf) | (hi & 0xf) << 4);
                qh |= (lo >>> 4) << j | (hi >>> 4) << (j + 16);
            }
            putI32(b, p + 2, qh);
        }
    }

    static final class Q5_1 extends BlockCodec {
        Q5_1() {
            super(DType.Q5_1);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p), m = half(b, p + 2);
            int qh = i32(b, p + 4);
            for (int j = 0; j < 16; j++) {
                int q = u8(b, p + 8 + j);
                int lo = (q & 0xf) | ((qh >>> j) & 1) << 4;
                int hi = (q >>> 4) | ((qh >>> (j + 16)) & 1) << 4;
                y[o + j] = lo * d + m;
                y[o + j + 16] = hi * d + m;
            }
        }

        void encode(float[] x, int s, byte[] b, int p) {
            float min = minOf(x, s), max = maxOf(x, s);
            float d = (max - min) / 31f;
            float id = d != 0f ? 1f / d : 0f;
            putHalf(b, p, d);
            putHalf(b, p + 2, min);
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                // ggml does not clamp here; (max - min) * id cannot pass 31.5, so neither result differs.
                int lo = Math.min(31, (int) ((x[s + j] - min) * id + 0.5f));
                int hi = Math.min(31, (int) ((x[s + j + 16] - min) * id + 0.5f));
                b[p + 8 + j] = (byte) ((lo & 0xf) | (hi & 0xf) << 4);
                qh |= (lo >>> 4) << j | (hi >>> 4) << (j + 16);
            }
            putI32(b, p + 4, qh);
        }
    }

    /** The scale of Q8_0 and Q8_1: the largest magnitude over 127. */
    private static float int8Scale(float[] x, int s) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[s + j]));
        return amax / 127f;
    }

    /** Writes the 32 int8 quants of scale {@code d} at {@code b[p]}; returns their sum. */
    private static int encodeInt8(float[] x, int s, float d, byte[] b, int p) {
        float id = d != 0f ? 1f / d : 0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int q = (int) roundHalfAway(x[s + j] * id);
            b[p + j] = (byte) q;
            sum += q;
        }
        return sum;
    }

    static final class Q8_0 extends BlockCodec {
        Q8_0() {
            super(DType.Q8_0);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p);
            for (int j = 0; j < 32; j++) y[o + j] = b[p + 2 + j] * d;
        }

        void encode(float[] x, int s, byte[] b, int p) {
            float d = int8Scale(x, s);
            putHalf(b, p, d);
            encodeInt8(x, s, d, b, p + 2);
        }
    }

    static final class Q8_1 extends BlockCodec {
        Q8_1() {
            super(DType.Q8_1);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p);
            for (int j = 0; j < 32; j++) y[o + j] = b[p + 4 + j] * d;
        }

        void encode(float[] x, int s, byte[] b, int p) {
            float d = int8Scale(x, s);
            int sum = encodeInt8(x, s, d, b, p + 4);
            putHalf(b, p, d);
            putHalf(b, p + 2, sum * d);
        }
    }
}
