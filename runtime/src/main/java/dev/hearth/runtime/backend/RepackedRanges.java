package dev.hearth.runtime.backend;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/**
 * The byte ranges of a device buffer (CudaBuffer, OpenClBuffer) that hold weights repacked by
 * the device's prepareWeight (WeightRepack), with their rows' type and length: which tensors the kernels read repacked,
 * which a write puts back in the GGUF layout, and how to give reads the GGUF layout. Ranges do
 * not overlap. Not thread-safe: the buffer synchronizes.
 */
public final class RepackedRanges {
    /** A range's bytes, rows of {@code rowLength} elements of {@code type}. */
    private record Range(long bytes, DType type, long rowLength) {
        long rowBytes() {
            return rowLength / type.blockSize * type.typeSize;
        }
    }

    private final TreeMap<Long, Range> ranges = new TreeMap<>();

    /** Whether a recorded range starts at {@code offset}. */
    public boolean startsAt(long offset) {
        return ranges.containsKey(offset);
    }

    /** Whether a recorded range shares a byte with [offset, offset + bytes). */
    public boolean meets(long offset, long bytes) {
        return overlapping(offset, bytes) != null;
    }

    /** Records [offset, offset + bytes), rows of {@code rowLength} elements of {@code type}; the caller checked {@link #meets}. */
    public void add(long offset, long bytes, DType type, long rowLength) {
        ranges.put(offset, new Range(bytes, type, rowLength));
    }

    private Map.Entry<Long, Range> overlapping(long offset, long bytes) {
        if (bytes <= 0) return null;
        Map.Entry<Long, Range> before = ranges.floorEntry(offset + bytes - 1);
        return before != null && before.getKey() + before.getValue().bytes() > offset ? before : null;
    }

    /** Forgets the ranges a write of [offset, offset + bytes) touches: they hold what was written. */
    public void written(long offset, long bytes) {
        for (Map.Entry<Long, Range> e; (e = overlapping(offset, bytes)) != null; ) ranges.remove(e.getKey());
    }

    /**
     * Puts the rows of recorded ranges that {@code dst} (device bytes read from {@code offset})
     * holds back in the GGUF layout; fails where it holds part of a row of one.
     */
    public void unpack(long offset, MemorySegment dst) {
        long end = offset + dst.byteSize();
        Long from = ranges.floorKey(offset);
        for (var e : ranges.subMap(from != null ? from : offset, true, end, false).entrySet()) {
            Range r = e.getValue();
            long lo = Math.max(offset, e.getKey()), hi = Math.min(end, e.getKey() + r.bytes());
            if (lo >= hi) continue;
            if ((lo - e.getKey()) % r.rowBytes() != 0 || (hi - lo) % r.rowBytes() != 0) {
                throw new IllegalStateException("a read of part of a row of a repacked " + r.type() + " weight");
            }
            MemorySegment rows = dst.asSlice(lo - offset, hi - lo);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment packed = arena.allocate(rows.byteSize());
                MemorySegment.copy(rows, 0, packed, 0, rows.byteSize());
                WeightRepack.unpack(r.type(), r.rowLength(), rows.byteSize() / r.rowBytes(), packed, rows);
            }
        }
    }
}
