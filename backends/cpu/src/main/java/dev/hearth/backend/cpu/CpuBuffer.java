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
    /** The repacked copies this buffer uses, by offset (null: not made, memory was short). */
    private final java.util.Map<Long, Repack.Copy> packed = new java.util.HashMap<>();
    private final java.util.List<CpuDevice.PackKey> acquired = new java.util.ArrayList<>();

    CpuBuffer(Device device, BufferUsage usage, MemorySegment segment, Arena arena) {
        super(device, usage, segment, arena);
    }

    /**
     * The x8 form ({@link Repack}) of the {@code n} rows of {@code k} elements of {@code type} at
     * {@code offset}, made on first use ({@link CpuDevice#acquirePack}: buffers over the same
     * memory share it) and released with this buffer; null where memory is short.
     */
    synchronized Repack.Copy packed(DType type, long offset, int k, int n, CpuPool pool) {
        if (packed.containsKey(offset)) return packed.get(offset);
        MemorySegment src = hostSegment().asSlice(offset, type.bytesFor(k) * n);
        CpuDevice.PackKey key = new CpuDevice.PackKey(src.address(), type, k, n);
        Repack.Copy p = ((CpuDevice) device()).acquirePack(key, src, pool);
        packed.put(offset, p);
        if (p != null) acquired.add(key);
        return p;
    }

    @Override
    public synchronized void close() {
        super.close();
        for (CpuDevice.PackKey key : acquired) ((CpuDevice) device()).releasePack(key);
        acquired.clear();
        packed.clear();
    }
}
