package dev.hearth.runtime.dtype;

import java.util.List;

import static dev.hearth.runtime.dtype.ReferenceCodecs.u8;

/**
 * Reference codec of MXFP4 (the OCP microscaling format with 4-bit E2M1 elements), as ggml lays
 * out {@code block_mxfp4}: 17 bytes per block of 32 elements.
 * <pre>
 *   MXFP4 (17 B): e (E8M0), qs[16]     x = kvalue[q] * 2^(e - 128),   q in 0..15
 * </pre>
 * {@code e} is a bare biased exponent (scale {@code 2^(e-127)}, no sign or mantissa). Byte
 * {@code qs[j]} holds element {@code j} in its low nibble and element {@code j+16} in its high
 * nibble, as the legacy 4-bit types. A nibble is an E2M1 float (sign, 2 exponent bits, 1
 * mantissa bit): 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives. ggml keeps those values doubled,
 * as the integers of {@link #KVALUES}, and halves the scale instead ({@link #scaleHalf}); both
 * factors are exact, so every decoded value is exact in float (down to the denormal scales of
 * {@code e = 0} and {@code e = 1}).
 *
 * <p>The quantizer follows ggml's {@code quantize_row_mxfp4_ref}: {@code e = floor(log2(amax)) - 2
 * + 127}, so that the largest magnitude lands in [4, 8) times {@code 2^(e-127)}, within reach of
 * the largest element 6; then each element takes the nearest table value (the first of equals, so
 * zero is +0). Elements between 6 and 8 times the scale clip to 6. A block of zeros has {@code
 * e = 0}.
 */
final class Mxfp4 extends BlockCodec {
    /** E2M1 values doubled, by nibble: ggml's {@code kvalues_mxfp4}. */
    static final byte[] KVALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    Mxfp4() {
        super(DType.MXFP4);
    }

    static List<QuantCodec> all() {
        return List.of(new Mxfp4());
    }

    /**
     * Half of the E8M0 scale, {@code 2^(e-128)}, built from its bits as ggml's
     * {@code ggml_e8m0_to_fp32_half}: denormal patterns for {@code e} 0 and 1, otherwise the
     * float exponent {@code e - 1}. {@code e = 255}, NaN in the OCP spec, reads as 2^127 there and here.
     */
    static float scaleHalf(int e) {
        int bits = e < 2 ? 0x00200000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
    }

    @Override
    void decode(byte[] b, int p, float[] y, int o) {
        float d = scaleHalf(u8(b, p));
        for (int j = 0; j < 16; j++) {
            int q = u8(b, p + 1 + j);
            y[o + j] = KVALUES[q & 0xf] * d;
            y[o + j + 16] = KVALUES[q >>> 4] * d;
        }
    }

    @Override
    void encode(float[] x, int s, byte[] b, int p) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) {
            float a = Math.abs(x[s + j]);
            if (amax < a) amax = a;
        }
        int e = amax > 0f ? exponent(amax) : 0;
        float d = scaleHalf(e);
        b[p] = (byte) e;
        for (int j = 0; j < 16; j++) {
            int lo = bestIndex(x[s + j], d);
            int hi = bestIndex(x[s + j + 16], d);
            b[p + 1 + j] = (byte) (lo | hi << 4);
        }
    }

    /**
     * ggml's {@code (uint8_t)(floorf(log2f(amax)) - 2 + 127)}. The logarithm is rounded to float
     * first, as {@code log2f} returns it: a value a few ulps below a power of two rounds up to that
     * power's exponent, so this is not always {@link Math#getExponent}. Amax below 2^-125 (where
     * C's conversion of a negative float to uint8 is undefined) gives 0 here; above, the result
     * is at most 254.
     */
    static int exponent(float amax) {
        float log2 = (float) (Math.log(amax) / Math.log(2.0));
        int e = (int) Math.floor(log2) - 2 + 127;
        return Math.max(0, e);
    }

    /** The nibble whose value times {@code d} is nearest {@code x}; the first one on ties. */
    private static int bestIndex(float x, float d) {
        int best = 0;
        float bestErr = Math.abs(KVALUES[0] * d - x);
        for (int i = 1; i < 16; i++) {
            float err = Math.abs(KVALUES[i] * d - x);
            if (err < bestErr) {
                best = i;
                bestErr = err;
            }
        }
        return best;
    }
}
