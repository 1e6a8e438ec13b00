package dev.hearth.runtime.dtype;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/** The list of reference codecs. */
final class ReferenceCodecs {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ReferenceCodecs() {
    }

    static List<QuantCodec> all() {
        return List.of(new F32Codec(), new F16Codec());
    }

    static final class F32Codec implements QuantCodec {
        public DType type() {
            return DType.F32;
        }

        public void dequantizeRow(MemorySegment src, long off, float[] dst, int d, int n) {
            MemorySegment.copy(src, F32, off, dst, d, n);
        }

        public void quantizeRow(float[] src, int s, MemorySegment dst, long off, int n) {
            MemorySegment.copy(src, s, dst, F32, off, n);
        }
    }

    static final class F16Codec implements QuantCodec {
        public DType type() {
            return DType.F16;
        }

        public void dequantizeRow(MemorySegment src, long off, float[] dst, int d, int n) {
            for (int i = 0; i < n; i++) dst[d + i] = Float.float16ToFloat(src.get(I16, off + 2L * i));
        }

        public void quantizeRow(float[] src, int s, MemorySegment dst, long off, int n) {
            for (int i = 0; i < n; i++) dst.set(I16, off + 2L * i, Float.floatToFloat16(src[s + i]));
        }
    }
}
