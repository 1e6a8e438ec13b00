package dev.hearth.backend.cpu;

import dev.hearth.runtime.backend.HostBuffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host memory of the CPU device ({@link HostBuffer}), plus the repacked copies of its Q4_0,
 * Q8_0, Q4_K and Q6_K tensors ({@link Repack}), made on first use and freed with it.
 */
final class CpuBuffer extends HostBuffer {
    private final java.util.Map<Long, MemorySegment> packed = new java.util.HashMap<>();
    private Arena packArena;

    CpuBuffer(Device device, BufferUsage usage, MemorySegment segment, Arena arena) {
        super(device, usage, segment, arena);
    }

    /** Whether {@link #packed} repacks weights of this type. */
    static boolean repacks(DType type) {
        return type == DType.Q4_0 || type == DType.Q8_0 || type == DType.Q4_K || type == DType.Q6_K;
    }

    /**
     * The x8 form ({@link Repack}) of the {@code n} rows of {@code k} elements of {@code type} at
     * {@code offset}, made on first use and freed with this buffer; null where memory is short.
     */
    synchronized MemorySegment packed(DType type, long offset, int k, int n, CpuPool pool) {
        MemorySegment p = packed.get(offset);
        if (p != null || packed.containsKey(offset)) return p;
        int nb = k / type.blockSize;
        long bytes = switch (type) {
            case Q4_K -> Repack.q4_kBytes(nb, n);
            case Q6_K -> Repack.q6_kBytes(nb, n);
            case Q8_0 -> Repack.q8_0Bytes(nb, n);
            default -> Repack.q4_0Bytes(nb, n);
        };
        if (device().memory().free() < bytes + (512L << 20)) {
            packed.put(offset, null);
            return null;
        }
        if (packArena == null) packArena = Arena.ofShared();
        MemorySegment dst = packArena.allocate(bytes, 64);
        MemorySegment src = hostSegment().asSlice(offset, type.bytesFor(k) * n);
        int groups = n / 8, chunk = 64;
        pool.run((groups + chunk - 1) / chunk, (i, w) -> {
            int a = i * chunk, b = Math.min(groups, (i + 1) * chunk);
            switch (type) {
                case Q4_K -> Repack.q4_k(src, nb, dst, a, b);
                case Q6_K -> Repack.q6_k(src, nb, dst, a, b);
                case Q8_0 -> Repack.q8_0(src, nb, dst, a, b);
                default -> Repack.q4_0(src, nb, dst, a, b);
            }
        });
        // The kernels read the copy from now on: hand the mapped file's pages back to the page
        // cache, so resident memory holds the model once (read again from the file if touched).
        if (src.isMapped()) src.unload();
        packed.put(offset, dst);
        return dst;
    }

    @Override
    public synchronized void close() {
        super.close();
        if (packArena != null && packArena.scope().isAlive()) packArena.close();
        packed.clear();
    }
}
