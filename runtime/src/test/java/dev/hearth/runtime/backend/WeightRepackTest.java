package dev.hearth.runtime.backend;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Q4_0 and Q8_0 rows repacked for a GPU (WeightRepack) byte by byte against the GGUF blocks, and a
 * buffer's record of them (RepackedRanges), without a device.
 */
class WeightRepackTest {
    @Test
    void whichWeights() {
        assertTrue(WeightRepack.repacks(TensorDesc.of("w", DType.Q4_0, 2048, 512)));
        assertTrue(WeightRepack.repacks(TensorDesc.of("w", DType.Q8_0, 256, 3)));
        assertFalse(WeightRepack.repacks(TensorDesc.of("w", DType.Q8_0, 96, 3)), "rows of 96: not 16-byte aligned");
        assertFalse(WeightRepack.repacks(TensorDesc.of("w", DType.Q4_K, 2048, 512)), "only Q4_0 and Q8_0");
        assertFalse(WeightRepack.repacks(TensorDesc.of("w", DType.Q4_0, 256, 8, 4)), "experts (mul_mat_id) stay as they are");
    }

    @Test
    void rowsAreQuantsThenScalesAndUnpack() {
        for (DType type : new DType[]{DType.Q4_0, DType.Q8_0}) {
            int k = 512, rows = 3, blocks = k / 32, quants = type.typeSize - 2;
            long rowBytes = (long) blocks * type.typeSize;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment src = arena.allocate(rowBytes * rows), dst = arena.allocate(rowBytes * rows);
                byte[] random = new byte[(int) src.byteSize()];
                new Random(type.id).nextBytes(random);
                MemorySegment.copy(random, 0, src, ValueLayout.JAVA_BYTE, 0, random.length);
                WeightRepack.repack(type, k, rows, src, dst);
                MemorySegment back = arena.allocate(src.byteSize());
                WeightRepack.unpack(type, k, rows, dst, back);
                assertEquals(-1, src.mismatch(back), type + ": unpack gives the GGUF blocks back");
                for (int r = 0; r < rows; r++) {
                    for (int b = 0; b < blocks; b++) {
                        long block = r * rowBytes + (long) b * type.typeSize;
                        for (int i = 0; i < quants; i++) {
                            assertEquals(src.get(ValueLayout.JAVA_BYTE, block + 2 + i),
                                    dst.get(ValueLayout.JAVA_BYTE, r * rowBytes + (long) b * quants + i), type + " quant");
                        }
                        for (int i = 0; i < 2; i++) {
                            assertEquals(src.get(ValueLayout.JAVA_BYTE, block + i),
                                    dst.get(ValueLayout.JAVA_BYTE, r * rowBytes + (long) blocks * quants + 2L * b + i), type + " scale");
                        }
                    }
                }
            }
        }
    }

    /** A buffer's record of repacked ranges: reads of whole rows come back in the GGUF layout, writes forget what they touch. */
    @Test
    void rangesUnpackReadsAndForgetWrites() {
        DType type = DType.Q8_0;
        int k = 256, rows = 3;
        long rowBytes = k / 32 * type.typeSize, bytes = rows * rowBytes, at = 64;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment gguf = arena.allocate(bytes), device = arena.allocate(at + bytes + 32);
            byte[] random = new byte[(int) bytes];
            new Random(5).nextBytes(random);
            MemorySegment.copy(random, 0, gguf, ValueLayout.JAVA_BYTE, 0, random.length);
            WeightRepack.repack(type, k, rows, gguf, device.asSlice(at, bytes));
            RepackedRanges ranges = new RepackedRanges();
            assertFalse(ranges.meets(at, bytes));
            ranges.add(at, bytes, type, k);
            assertTrue(ranges.startsAt(at) && !ranges.startsAt(at + rowBytes));
            assertTrue(ranges.meets(0, at + 1) && ranges.meets(at + bytes - 1, 10) && !ranges.meets(0, at) && !ranges.meets(at + bytes, 8));

            MemorySegment all = arena.allocate(device.byteSize());
            MemorySegment.copy(device, 0, all, 0, device.byteSize());
            ranges.unpack(0, all);
            assertEquals(-1, all.asSlice(at, bytes).mismatch(gguf), "the whole tensor and bytes around it");
            assertEquals(-1, all.asSlice(0, at).mismatch(device.asSlice(0, at)), "bytes before it untouched");

            MemorySegment row = arena.allocate(rowBytes);
            MemorySegment.copy(device, at + rowBytes, row, 0, rowBytes);
            ranges.unpack(at + rowBytes, row);
            assertEquals(-1, row.mismatch(gguf.asSlice(rowBytes, rowBytes)), "one whole row");

            assertThrows(IllegalStateException.class, () -> ranges.unpack(at + 2, arena.allocate(rowBytes)), "part of a row");
            ranges.written(at + bytes - 1, 1);
            assertFalse(ranges.startsAt(at), "a write of its last byte puts it back in the GGUF layout");
        }
    }
}
