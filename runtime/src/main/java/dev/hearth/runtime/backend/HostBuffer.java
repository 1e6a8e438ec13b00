package dev.hearth.runtime.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host memory, for devices that compute in it (the reference and CPU backends): either allocated
 * by the device (zeroed, 64-byte aligned; the arena is freed on close) or a view of memory the
 * caller owns (a mapped model file; {@code arena} null), which close leaves alone.
 */
public class HostBuffer implements Buffer {
    private final Device device;
    private final BufferUsage usage;
    private final MemorySegment segment;
    private final Arena arena; // null where the memory is the caller's

    public HostBuffer(Device device, BufferUsage usage, MemorySegment segment, Arena arena) {
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

    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return device.name() + " buffer " + usage + " " + segment.byteSize() + " B";
    }
}
