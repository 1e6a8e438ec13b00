package dev.hearth.backend.cuda;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The kernels KernelCalls takes for weights repacked for the GPU (WeightRepack, whose layout
 * runtime's WeightRepackTest checks), and their type ids, without a device (the kernels themselves:
 * backends/cuda/src/test/emu, the q4_0r and q8_0r cases).
 */
class WeightRepackTest {
    @Test
    void repackedTypeIds() {
        assertEquals(258, KernelCalls.kernelTypeId(DType.Q4_0, true));
        assertEquals(8, KernelCalls.kernelTypeId(DType.Q8_0, false));
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
