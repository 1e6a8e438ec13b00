package dev.hearth.runtime.dtype;

import java.lang.foreign.MemorySegment;
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
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    private ReferenceCodecs() {
    }

    static List<QuantCodec> all() {
        List<QuantCodec> l = new ArrayList<>();
        l.addAll(FloatCodecs.all());
        l.addAll(LegacyQuants.all());
        l.addAll(KQuants.all());
        return List.copyOf(l);
    }

    /** The fp16 at byte {@code off}, as a float. */
    static float half(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    static void putHalf(MemorySegment s, long off, float v) {
        s.set(I16, off, Float.floatToFloat16(v));
    }

    /** What a float becomes after a round trip through fp16 (how ggml re-reads a stored scale). */
    static float roundToHalf(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /** The unsigned byte at {@code off}. */
    static int u8(MemorySegment s, long off) {
        return s.get(I8, off) & 0xff;
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
