package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.MemorySegment;

/**
 * kv_store: one row of activations written into a cache row. F32 copies; F16 rounds to nearest
 * even, as ggml; Q8_0 and Q4_0 go through the reference codec ({@link Codecs#quantize}, ggml's
 * reference quantizers), so the bytes are the reference device's.
 * The stream checks positions against the cache. Checked against the reference device in OpsTest
 * and the conformance cases.
 */
final class KvStore {
    private KvStore() {
    }

    /** Writes {@code src[so..so+k)} at byte {@code off} of the cache. */
    static void row(float[] src, int so, int k, DType type, MemorySegment cache, long off) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, so, cache, Mem.F32, off, k);
            case F16 -> {
                for (int i = 0; i < k; i++) cache.set(Mem.I16, off + 2L * i, Float.floatToFloat16(src[so + i]));
            }
            case Q8_0, Q4_0 -> Codecs.quantize(type, src, so, cache, off, k);
            default -> throw new IllegalStateException("kv_store: cache type " + type);
        }
    }
}
