package dev.hearth.backend.cuda;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Q4_0 and Q8_0 rows repacked for the GPU (WeightRepack) byte by byte against the GGUF blocks, a
 * buffer's record of them (RepackedRanges), and the kernels KernelCalls takes for repacked weights,
 * without a device (the kernels themselves:
 * backends/cuda/src/test/emu, the q4_0r and q8_0r cases).
 */
class WeightRepackTest {
    @Test
    void whichWeights() {
        assertTrue(WeightRepack.repacks(TensorDesc.of("w", DType.Q4_0, 2048, 512)));
        assertTrue(WeightRepack.repacks(TensorDesc.of("w", DType.Q8_0, 256, 3)));
        assertFalse(WeightRepack.repacks(TensorDesc.of("w", DType.Q8_0, 96, 3)), "rows of 96: not 16-byte aligned");
        assertFalse(WeightRepack.repacks(TensorDesc.of("w", DType.Q4_K, 2048, 512)), "only Q4_0 and Q8_0");
        assertFalse(WeightRepack.repacks(TensorDesc.of("w", DType.Q4_0, 256, 8, 4)), "experts (mul_mat_id) stay as they are");
        assertEquals(258, WeightRepack.kernelTypeId(DType.Q4_0, true));
        assertEquals(8, WeightRepack.kernelTypeId(DType.Q8_0, false));
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

    private static List<String> entries(Graph g, boolean tensorCores, Node repacked) {
        Map<Node, Long> addresses = new IdentityHashMap<>();
        Function<Node, Long> addr = n -> addresses.computeIfAbsent(n, m -> 0x10000L * (addresses.size() + 1));
        var target = new KernelCalls.Target(k -> null, tensorCores, 108, n -> n == repacked, 0x7000_0000L, Fusion.of(g.nodes()));
        return KernelCalls.launches(g.nodes(), addr, target).stream().map(l -> l.kernel().entry).toList();
    }

    @Test
    void repackedWeightsTakeTheirKernels() {
        for (DType type : new DType[]{DType.Q4_0, DType.Q8_0}) {
            String t = type.name().toLowerCase(java.util.Locale.ROOT) + "r";
            for (int tokens : new int[]{1, 8, 100}) {
                Graph g = new Graph();
                Node w = g.weight(TensorDesc.of("w", type, 2048, 512));
                g.output(g.mulMat("y", w, g.input("x", DType.F32, 2048, tokens)));
                List<String> want = tokens == 1 ? List.of("quantize_q8_1", "mul_mat_vec_split_" + t + "_t1")
                        : tokens == 8 ? List.of("quantize_q8_1", "mul_mat_vec_split_" + t + "_t8") : List.of("mul_mat_mma_" + t + "_128x64");
                assertEquals(want, entries(g, true, w), type + ", " + tokens + " tokens");
                if (tokens == 100) assertEquals(List.of("mul_mat_tiled_" + t), entries(g, false, w), "no tensor cores");
            }
        }
        Graph g = new Graph();
        Node table = g.weight(TensorDesc.of("table", DType.Q8_0, 256, 40));
        g.output(g.getRows("rows", table, g.input("ids", DType.I32, 3)));
        assertEquals(List.of("get_rows"), entries(g, true, table), "get_rows takes the repacked type id");
        Graph other = new Graph();
        Node w = other.weight(TensorDesc.of("w", DType.Q8_0, 256, 40));
        other.output(other.add("sum", w, other.input("x", DType.F32, 256, 40)));
        assertThrows(IllegalStateException.class, () -> entries(other, true, w), "no other op reads a repacked weight");
    }
}
