package dev.hearth.backend.cpu;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host memory of the CPU device: allocated here (zeroed, 64-byte aligned, freed on close) or a
 * view of memory the caller owns (a mapped model file), which close leaves alone.
 */
final class CpuBuffer implements Buffer {
    private final Device device;
    private final BufferUsage usage;
    private final MemorySegment segment;
    private final Arena arena; // null where the memory is the caller's
    private final java.util.Map<Long, MemorySegment> packed = new java.util.HashMap<>();
    private Arena packArena;

    CpuBuffer(Device device, BufferUsage usage, MemorySegment segment, Arena arena) {
        this.device = device;
        this.usage = usage;
        this.segment = segment;
        this.arena = arena;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public long size() {
        return segment.byteSize();
    }

    @Override
    public BufferUsage usage() {
        return usage;
    }

    @Override
    public void write(long offset, MemorySegment src) {
        MemorySegment.copy(src, 0, segment, offset, src.byteSize());
    }

    @Override
    public void read(long offset, MemorySegment dst) {
        MemorySegment.copy(segment, offset, dst, 0, dst.byteSize());
    }

    @Override
    public void clear(long offset, long bytes) {
        segment.asSlice(offset, bytes).fill((byte) 0);
    }

    @Override
    public MemorySegment hostSegment() {
        return segment;
    }

    /**
     * The Q4_0x8 form ({@link Repack}) of the {@code n} rows of {@code nb} blocks at {@code offset},
     * made on first use and freed with this buffer; null where memory is short.
     */
    synchronized MemorySegment packedQ4_0(long offset, int nb, int n, CpuPool pool) {
        MemorySegment p = packed.get(offset);
        if (p != null || packed.containsKey(offset)) return p;
        long bytes = Repack.q4_0Bytes(nb, n);
        if (device.memory().free() < bytes + (512L << 20)) {
            packed.put(offset, null);
            return null;
        }
        if (packArena == null) packArena = Arena.ofShared();
        MemorySegment dst = packArena.allocate(bytes, 64);
        MemorySegment src = segment.asSlice(offset, 18L * nb * n);
        int groups = n / 8, chunk = 64;
        pool.run((groups + chunk - 1) / chunk, (i, w) -> Repack.q4_0(src, nb, dst, i * chunk, Math.min(groups, (i + 1) * chunk)));
        // The kernels read the copy from now on: hand the mapped file's pages back to the page
        // cache, so resident memory holds the model once (read again from the file if touched).
        if (src.isMapped()) src.unload();
        packed.put(offset, dst);
        return dst;
    }

    @Override
    public synchronized void close() {
        if (arena != null && arena.scope().isAlive()) arena.close();
        if (packArena != null && packArena.scope().isAlive()) packArena.close();
        packed.clear();
    }

    @Override
    public String toString() {
        return "cpu buffer " + usage + " " + segment.byteSize() + " B";
    }
}
