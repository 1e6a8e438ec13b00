package dev.hearth.runtime.dtype;

import java.lang.foreign.MemorySegment;

/**
 * The scalar reference for one tensor type: the numerical spec that every backend's kernels are
 * tested against. Rows are whole blocks; {@code n} is a multiple of the type's block size.
 */
public interface QuantCodec {
    DType type();

    /** Decodes {@code n} elements that start at byte {@code srcOffset} of {@code src}. */
    void dequantizeRow(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n);

    /** Encodes {@code n} elements into {@code dst} at byte {@code dstOffset}. */
    void quantizeRow(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int n);
}
