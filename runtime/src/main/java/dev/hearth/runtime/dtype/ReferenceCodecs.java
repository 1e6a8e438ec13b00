package dev.hearth.runtime.dtype;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The list of reference codecs, and the little-endian unaligned layouts and scalar helpers they
 * share (GGUF data is little-endian and blocks are packed with no alignment).
 */
final class ReferenceCodecs {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    private ReferenceCodecs() {
    }

    static List<QuantCodec> all() {
        List<QuantCodec> l = new ArrayList<>();
        l.addAll(FloatCodecs.all());
        l.addAll(LegacyQuants.all());
        l.addAll(KQuants.all());
        l.addAll(Mxfp4.all());
        return List.copyOf(l);
    }

    /** The unsigned byte at {@code b[i]}. */
    static int u8(byte[] b, int i) {
        return b[i] & 0xff;
    }

    /** The little-endian fp16 at {@code b[i]}, as a float. */
    static float half(byte[] b, int i) {
        return Float.float16ToFloat((short) ((b[i] & 0xff) | b[i + 1] << 8));
    }

    /** Stores {@code v} as a little-endian fp16 (rounded to nearest even) at {@code b[i]}. */
    static void putHalf(byte[] b, int i, float v) {
        putI16(b, i, Float.floatToFloat16(v));
    }

    static void putI16(byte[] b, int i, int v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >> 8);
    }

    static int i32(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | b[i + 3] << 24;
    }

    static void putI32(byte[] b, int i, int v) {
        putI16(b, i, v);
        putI16(b, i + 2, v >> 16);
    }

    /** What a float becomes after a round trip through fp16 (how ggml re-reads a stored scale). */
    static float roundToHalf(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /** Nearest integer, ties to even: ggml's {@code nearest_int} (the 1.5*2^23 trick) for |v| < 2^22. */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    /** Nearest integer, ties away from zero: C's {@code roundf}. */
    static float roundHalfAway(float v) {
        float a = Math.abs(v);
        float r = (float) Math.floor(a);
        if (a - r >= 0.5f) r += 1f;
        return Math.copySign(r, v);
    }
}
