package dev.hearth.runtime.dtype;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.hearth.runtime.dtype.ReferenceCodecs.F32;
import static dev.hearth.runtime.dtype.ReferenceCodecs.I16;

/**
 * Reference codecs of the plain float types, one element per "block":
 * <ul>
 *   <li>F32: 4 bytes, IEEE binary32, little-endian; copied as is.</li>
 *   <li>F16: 2 bytes, IEEE binary16; encoding rounds to nearest even (as ggml's
 *       GGML_FP32_TO_FP16 with F16C), overflow gives infinity.</li>
 *   <li>BF16: 2 bytes, the top half of a binary32; encoding rounds to nearest even and keeps
 *       NaNs quiet (as ggml's ggml_compute_fp32_to_bf16).</li>
 * </ul>
 * Checked against: llama.cpp's F16 file of stories260K (re-encoding the F32 weights reproduces
 * its bytes), known bit patterns, and round-trip bounds (FloatCodecsTest, ModelFilesTest).
 */
final class FloatCodecs {
    private FloatCodecs() {
    }

    static List<QuantCodec> all() {
        return List.of(new F32Codec(), new F16Codec(), new BF16Codec());
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

    static final class BF16Codec implements QuantCodec {
        public DType type() {
            return DType.BF16;
        }

        public void dequantizeRow(MemorySegment src, long off, float[] dst, int d, int n) {
            for (int i = 0; i < n; i++) dst[d + i] = Codecs.bf16ToFloat(src.get(I16, off + 2L * i));
        }

        public void quantizeRow(float[] src, int s, MemorySegment dst, long off, int n) {
            for (int i = 0; i < n; i++) dst.set(I16, off + 2L * i, Codecs.floatToBf16(src[s + i]));
        }
    }
}
