package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.MemorySegment;

/**
 * kv_store: one row of activations written into an F32 or F16 cache row (F16 rounds to nearest
 * even, as ggml). The stream checks positions against the cache. Checked against the reference
 * device in OpsTest.
 */
final class KvStore {
    private KvStore() {
    }

    static void row(float[] src, int so, int k, DType type, MemorySegment cache, long off) {
        if (type == DType.F32) {
            MemorySegment.copy(src, so, cache, Mem.F32, off, k);
        } else {
            for (int i = 0; i < k; i++) cache.set(Mem.I16, off + 2L * i, Float.floatToFloat16(src[so + i]));
        }
    }
}
