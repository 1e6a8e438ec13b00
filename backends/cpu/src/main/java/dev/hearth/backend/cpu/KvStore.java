package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.MemorySegment;

/**
 * kv_store: one row of activations written into a cache row. F32 copies; F16 rounds to nearest
 * even, as ggml; Q8_0 and Q4_0 quantize each block of 32 as ggml's reference quantizers do
 * (Q8_0: d = max|x| / 127, q = x / d rounded half away from zero; Q4_0: d = the value of largest
 * magnitude / -8, q = min(15, trunc(x / d + 8.5))), so the bytes equal the reference codec's.
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
            case Q8_0 -> {
                for (int b = 0; b < k; b += 32, off += 34) {
                    int s = so + b;
                    float amax = 0f;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[s + j]));
                    float d = amax / 127f;
                    float id = d != 0f ? 1f / d : 0f;
                    cache.set(Mem.I16, off, Float.floatToFloat16(d));
                    for (int j = 0; j < 32; j++) {
                        float x = src[s + j] * id, a = Math.abs(x), r = (float) Math.floor(a);
                        if (a - r >= 0.5f) r += 1f;
                        cache.set(Mem.I8, off + 2 + j, (byte) (x < 0 ? -r : r));
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < k; b += 32, off += 18) {
                    int s = so + b;
                    float amax = 0f, max = 0f;
                    for (int j = 0; j < 32; j++) {
                        float v = src[s + j];
                        if (amax < Math.abs(v)) {
                            amax = Math.abs(v);
                            max = v;
                        }
                    }
                    float d = max / -8f;
                    float id = d != 0f ? 1f / d : 0f;
                    cache.set(Mem.I16, off, Float.floatToFloat16(d));
                    for (int j = 0; j < 16; j++) {
                        int lo = Math.min(15, (int) (src[s + j] * id + 8.5f));
                        int hi = Math.min(15, (int) (src[s + j + 16] * id + 8.5f));
                        cache.set(Mem.I8, off + 2 + j, (byte) (lo | hi << 4));
                    }
                }
            }
            default -> throw new IllegalStateException("kv_store: cache type " + type);
        }
    }
}
