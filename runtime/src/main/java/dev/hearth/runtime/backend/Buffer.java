package dev.hearth.runtime.backend;

import java.lang.foreign.MemorySegment;

/** A block of one device's memory. */
public interface Buffer extends AutoCloseable {
    Device device();

    long size();

    BufferUsage usage();

    /** Copies {@code src} into this buffer at {@code offset}. */
    void write(long offset, MemorySegment src);

    /** Copies {@code dst.byteSize()} bytes from {@code offset} into {@code dst}. */
    void read(long offset, MemorySegment dst);

    /** Fills {@code bytes} bytes at {@code offset} with zeros. */
    default void clear(long offset, long bytes) {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            write(offset, arena.allocate(bytes));
        }
    }

    /** The bytes themselves, where the device works in host memory; null otherwise. */
    default MemorySegment hostSegment() {
        return null;
    }

    @Override
    void close();
}
