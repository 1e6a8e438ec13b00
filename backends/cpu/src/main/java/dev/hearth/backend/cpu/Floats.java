package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.MemorySegment;

/** Moving whole tensors between their bytes (F32, F16, BF16 or a weight type) and float arrays. */
final class Floats {
    private Floats() {
    }

    /** Decodes {@code n} elements of type {@code t} from {@code s} (rows of {@code k}) into {@code dst[0..n)}. */
    static void load(DType t, MemorySegment s, int k, int n, float[] dst) {
        if (t == DType.F32) {
            MemorySegment.copy(s, Mem.F32, 0, dst, 0, n);
            return;
        }
        long rb = t.bytesFor(k);
        for (int r = 0; r < n / k; r++) Decode.row(t, s, r * rb, dst, r * k, k);
    }

    /** Encodes {@code src[0..n)} as F32, F16 or BF16 into {@code s}. */
    static void store(DType t, float[] src, int n, MemorySegment s) {
        switch (t) {
            case F32 -> MemorySegment.copy(src, 0, s, Mem.F32, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) s.set(Mem.I16, 2L * i, Float.floatToFloat16(src[i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) s.set(Mem.I16, 2L * i, dev.hearth.runtime.dtype.Codecs.floatToBf16(src[i]));
            }
            default -> throw new IllegalStateException("cpu: cannot write " + t);
        }
    }
}
