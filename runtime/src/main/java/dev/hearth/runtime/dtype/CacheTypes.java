package dev.hearth.runtime.dtype;

import dev.hearth.runtime.HearthException;

import java.util.List;
import java.util.Locale;

/**
 * The types a KV cache may have: F32, F16, and the block types Q8_0 and Q4_0 (ggml's layouts:
 * a cache row is quantized in blocks of 32 when it is stored and decoded when attention reads it).
 * A quantized cache's row (the model's kv dim: head dim times KV heads) must be a whole number
 * of blocks; a block may span two heads where the head dim is under 32.
 */
public final class CacheTypes {
    /** The cache types, in the order help texts name them. */
    public static final List<DType> ALL = List.of(DType.F16, DType.F32, DType.Q8_0, DType.Q4_0);

    private CacheTypes() {
    }

    public static boolean supported(DType t) {
        return ALL.contains(t);
    }

    /** The names users type: "f16, f32, q8_0, q4_0". */
    public static String names() {
        StringBuilder b = new StringBuilder();
        for (DType t : ALL) b.append(b.isEmpty() ? "" : ", ").append(t.name().toLowerCase(Locale.ROOT));
        return b.toString();
    }

    /** The cache type named {@code name} (any case), or null where it is not one. */
    public static DType parse(String name) {
        for (DType t : ALL) if (t.name().equalsIgnoreCase(name)) return t;
        return null;
    }

    /**
     * Why rows of {@code kvDim} elements cannot be cached in {@code t}, or null where they can:
     * the type is not a cache type, or the rows do not fill whole blocks.
     */
    public static String whyNot(DType t, long kvDim) {
        if (!supported(t)) return "cache type " + t + " is not supported (" + names() + ")";
        if (kvDim % t.blockSize != 0) {
            return "cache type " + t.name().toLowerCase(Locale.ROOT) + " needs a kv dim that is a multiple of " + t.blockSize
                    + ", and this model's is " + kvDim + ": use --cache-type f16";
        }
        return null;
    }

    /** Throws {@link #whyNot}'s reason where there is one. */
    public static void check(DType t, long kvDim) {
        String why = whyNot(t, kvDim);
        if (why != null) throw new HearthException(why);
    }
}
