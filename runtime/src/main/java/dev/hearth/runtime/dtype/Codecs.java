package dev.hearth.runtime.dtype;

import dev.hearth.runtime.HearthException;

import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;

/**
 * The reference codecs, one per supported type, and the static helpers the rest of the runtime
 * uses to move between a type's bytes and floats: whole-row {@link #dequantize} and
 * {@link #quantize}, and the scalar half-precision conversions (fp16 and bf16).
 *
 * <p>A row handed to {@code dequantize}/{@code quantize} is any run of whole blocks: since a GGUF
 * tensor's rows are whole blocks laid end to end, a whole tensor can be passed as one row.
 */
public final class Codecs {
    private static final Map<DType, QuantCodec> CODECS = new EnumMap<>(DType.class);

    static {
        for (QuantCodec c : ReferenceCodecs.all()) CODECS.put(c.type(), c);
    }

    private Codecs() {
    }

    public static boolean has(DType t) {
        return CODECS.containsKey(t);
    }

    public static QuantCodec of(DType t) {
        QuantCodec c = CODECS.get(t);
        if (c == null) {
            throw new HearthException("type " + t + " is not supported (supported: " + DType.supportedNames() + ")");
        }
        return c;
    }

    /** Decodes {@code n} elements of type {@code t} that start at byte {@code off} of {@code src} into {@code dst[0..n)}. */
    public static void dequantize(DType t, MemorySegment src, long off, float[] dst, int n) {
        of(t).dequantizeRow(src, off, dst, 0, n);
    }

    /** Decodes {@code n} elements into {@code dst[dstOff..dstOff+n)}. */
    public static void dequantize(DType t, MemorySegment src, long off, float[] dst, int dstOff, int n) {
        of(t).dequantizeRow(src, off, dst, dstOff, n);
    }

    /** Decodes {@code n} elements into a new array. */
    public static float[] dequantize(DType t, MemorySegment src, long off, int n) {
        float[] dst = new float[n];
        of(t).dequantizeRow(src, off, dst, 0, n);
        return dst;
    }

    /** Encodes {@code src[srcOff..srcOff+n)} as type {@code t} into {@code dst} at byte {@code off}. */
    public static void quantize(DType t, float[] src, int srcOff, MemorySegment dst, long off, int n) {
        of(t).quantizeRow(src, srcOff, dst, off, n);
    }

    /** Encodes all of {@code src} (a multiple of the block size) into a new heap segment. */
    public static MemorySegment quantize(DType t, float[] src) {
        MemorySegment dst = MemorySegment.ofArray(new byte[Math.toIntExact(t.bytesFor(src.length))]);
        of(t).quantizeRow(src, 0, dst, 0, src.length);
        return dst;
    }

    /** IEEE half precision (binary16) bits to float; exact. */
    public static float fp16ToFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** Float to IEEE half precision bits, rounding to nearest even (as ggml's GGML_FP32_TO_FP16). */
    public static short floatToFp16(float f) {
        return Float.floatToFloat16(f);
    }

    /** bfloat16 bits to float; exact. */
    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /**
     * Float to bfloat16 bits, rounding to nearest even; NaNs stay NaN (made quiet), as ggml's
     * {@code ggml_compute_fp32_to_bf16}.
     */
    public static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 0x40);
        return (short) ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16);
    }

    /** Checks that {@code n} elements are whole blocks of {@code t}. */
    static void checkWholeBlocks(DType t, int n) {
        if (n < 0 || n % t.blockSize != 0) {
            throw new IllegalArgumentException(t + ": " + n + " elements are not whole blocks of " + t.blockSize);
        }
    }
}
