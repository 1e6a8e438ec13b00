package dev.hearth.runtime.backend;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The layout Q4_0 and Q8_0 matrices take on a GPU once prepared (CudaDevice.prepareWeight,
 * read by the kernels as T_Q4_0R and T_Q8_0R of kernels/cuda/common.cuh; OpenClDevice.prepareWeight,
 * read as q4_0r and q8_0r of kernels/opencl/dequant.h and mul_mat_q8.cl): each row holds its
 * blocks' quants in block order (16 bytes a Q4_0 block, 32 a Q8_0 one), then its blocks' f16
 * scales. A row keeps its bytes, so offsets and sizes stay those of the GGUF layout; for rows of
 * a multiple of 256 elements every row starts, and its quants start, 16 bytes apart, so the
 * matrix-vector kernels read them with 16-byte loads instead of 16-bit ones (GGUF blocks of 18
 * and 34 bytes are only 2-byte aligned).
 */
public final class WeightRepack {
    /** Rows are repacked only where their length is a multiple of this (16-byte aligned rows). */
    public static final int ROW_MULTIPLE = 256;

    private WeightRepack() {
    }

    /** Whether a backend repacks the weights it prepares: its system property {@code property}, default true (false to compare). */
    public static boolean enabled(String property) {
        return !"false".equalsIgnoreCase(System.getProperty(property, "true"));
    }

    /** Whether a weight is repacked when prepared: a Q4_0 or Q8_0 matrix (rank 2) of rows a multiple of 256 long. */
    public static boolean repacks(TensorDesc d) {
        return (d.type() == DType.Q4_0 || d.type() == DType.Q8_0) && d.rank() == 2 && d.rowLength() % ROW_MULTIPLE == 0;
    }

    /** How a buffer takes a repacked tensor: writes it at {@code offset} and records the range; false where nothing was written. */
    public interface RepackedWrite {
        boolean write(long offset, MemorySegment packed, DType type, long rowLength);
    }

    /**
     * Repacks the matrix {@code d} at {@code offset} of {@code buffer} in place: its bytes come to
     * the host, are rearranged and go back through {@code write}. Returns the bytes repacked.
     */
    public static long inPlace(TensorDesc d, Buffer buffer, long offset, RepackedWrite write) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment gguf = arena.allocate(d.bytes(), 16), packed = arena.allocate(d.bytes(), 16);
            buffer.read(offset, gguf);
            repack(d.type(), d.rowLength(), d.rows(), gguf, packed);
            return write.write(offset, packed, d.type(), d.rowLength()) ? d.bytes() : 0;
        }
    }

    /** Writes {@code rows} rows of {@code rowLength} elements of {@code type} from GGUF blocks in {@code src} to {@code dst}, repacked. */
    public static void repack(DType type, long rowLength, long rows, MemorySegment src, MemorySegment dst) {
        move(type, rowLength, rows, src, dst, true);
    }

    /** The inverse of {@link #repack}: repacked rows in {@code src} to GGUF blocks in {@code dst}. */
    public static void unpack(DType type, long rowLength, long rows, MemorySegment src, MemorySegment dst) {
        move(type, rowLength, rows, src, dst, false);
    }

    private static void move(DType type, long rowLength, long rows, MemorySegment src, MemorySegment dst, boolean toRepacked) {
        long blocks = rowLength / type.blockSize, quants = type.typeSize - 2, rowBytes = blocks * type.typeSize;
        for (long r = 0; r < rows; r++) {
            long row = r * rowBytes;
            for (long b = 0; b < blocks; b++) {
                long block = row + b * type.typeSize, q = row + b * quants, d = row + blocks * quants + 2 * b;
                if (toRepacked) {
                    MemorySegment.copy(src, block + 2, dst, q, quants);
                    MemorySegment.copy(src, block, dst, d, 2);
                } else {
                    MemorySegment.copy(src, q, dst, block + 2, quants);
                    MemorySegment.copy(src, d, dst, block, 2);
                }
            }
        }
    }
}
