package dev.hearth.backend.opencl;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import java.util.List;
import java.util.Map;

import static dev.hearth.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The mixture-of-experts kernels against the reference backend: top_k (with ties, so the
 * order among equal values counts), gather, weighted_sum, and mul_mat_id for every weight type
 * on both paths (one matrix-vector product per slot, by int8 dot products for the quantized
 * types, and the slots sorted by expert for the tiled kernel), with x per token and per slot, row counts that fill no tile evenly and an
 * expert with more than 64 slots; and that a slot whose expert id is out of range gets a row
 * of zeros (the reference refuses such ids). add_id (each slot's expert bias), exactly.
 */
@Tag("opencl")
class ExpertsTest {
    @Test
    void topKGatherAndWeightedSumMatchReference() {
        try (var c = new OpenClTesting.Case(70)) {
            int e = 64, k = 8, t = 7;
            float[] x = c.randoms(e * t, 1f);
            for (int i = 0; i < x.length; i++) x[i] = Math.round(x[i] * 4) / 4f; // many ties
            c.inputs.put("x", c.encode(DType.F32, x, e));
            Node xs = c.graph.input("x", DType.F32, e, t);
            Node ids = c.out(c.graph.topK("ids", xs, k));
            Node picked = c.out(c.graph.gather("picked", xs, ids));
            Node y = c.input("y", DType.F32, 100, k * t, 1f);
            c.out(c.graph.weightedSum("mixed", y, picked));
            Node small = c.input("small", DType.F32, 5, 3, 1f);
            c.out(c.graph.topK("all", small, 5));
            assertMatchesReference(c, 1e-12);
        }
    }

    @Test
    void addIdMatchesReference() {
        try (var c = new OpenClTesting.Case(71)) {
            int n = 300, e = 6, k = 2, t = 5; // rows longer than a work-group, with a tail
            Node y = c.input("y", DType.F32, n, k * t, 1f);
            Node bias = c.weight("bias", DType.F32, n, e, 0.5f);
            c.inputs.put("ids", ints(c, 2, 3, 5, 0, 2, 3, 1, 5, 4, 4));
            Node ids = c.graph.input("ids", DType.I32, k, t);
            c.out(c.graph.addId("biased", y, bias, ids));
            assertMatchesReference(c, 0);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "MXFP4"})
    void mulMatIdMatchesReference(DType type) {
        for (int tiled : new int[] {0, 1}) {
            Planner.forcedMulMatIdTiled = tiled;
            try {
                mulMatId(type);
            } finally {
                Planner.forcedMulMatIdTiled = -1;
            }
        }
    }

    private static void mulMatId(DType type) {
        int k = switch (type) {
            case F32, F16, BF16 -> 83; // not a multiple of 8: exercises the row tails
            case Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, MXFP4 -> 96;
            default -> 256;
        };
        int n = 70;
        int experts = 4;
        int used = 2;
        try (var c = new OpenClTesting.Case(type.ordinal() + 100)) {
            c.leaves.put("w", c.encode(type, c.randoms(k * n * experts, 0.5f), k));
            Node w = c.graph.weight(TensorDesc.of("w", type, k, n, experts));
            for (int t : new int[] {1, 3, 90}) {
                int[] ids = new int[used * t];
                // expert 1 takes most slots of the batch (more than one 64-slot tile), expert 3 none
                for (int i = 0; i < ids.length; i++) ids[i] = i % used == 0 ? 1 : (i / used) % 3 == 0 ? 2 : 0;
                c.inputs.put("ids" + t, ints(c, ids));
                Node id = c.graph.input("ids" + t, DType.I32, used, t);
                Node xt = c.input("xt" + t, DType.F32, k, t, 1f);
                Node xs = c.input("xs" + t, DType.F32, k, used * t, 1f);
                c.out(c.graph.mulMatId("per_token" + t, w, xt, id));
                c.out(c.graph.mulMatId("per_slot" + t, w, xs, id));
            }
            assertMatchesReference(c, type.isQuantized() ? 1e-4 : 1e-5);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "Q4_0", "Q6_K"})
    void outOfRangeExpertsGiveZeroRows(DType type) {
        for (int tiled : new int[] {0, 1}) {
            Planner.forcedMulMatIdTiled = tiled;
            try {
                outOfRange(type);
            } finally {
                Planner.forcedMulMatIdTiled = -1;
            }
        }
    }

    private static void outOfRange(DType type) {
        int k = 256, n = 70, experts = 3, used = 2, t = 40;
        try (var c = new OpenClTesting.Case(type.ordinal() + 200)) {
            c.leaves.put("w", c.encode(type, c.randoms(k * n * experts, 0.5f), k));
            Node w = c.graph.weight(TensorDesc.of("w", type, k, n, experts));
            int[] valid = new int[used * t];
            int[] some = new int[used * t];
            for (int i = 0; i < valid.length; i++) {
                valid[i] = i % experts;
                some[i] = i % 5 == 1 ? -1 : i % 5 == 3 ? experts : valid[i];
            }
            c.inputs.put("ids", ints(c, valid));
            Node ids = c.graph.input("ids", DType.I32, used, t);
            Node x = c.input("x", DType.F32, k, t, 1f);
            c.out(c.graph.mulMatId("y", w, x, ids));
            float[] want = OpenClTesting.run(c, OpenClTesting.REFERENCE)[0];
            // the first run fills every row; in the second, the rows of out-of-range ids must become
            // zeros and the others stay as the first run computed them
            List<float[][]> got = OpenClTesting.run(c, OpenClTesting.device(), List.of(Map.of(), Map.of("ids", ints(c, some))));
            float[] first = got.get(0)[0];
            assertEquals(0, OpenClTesting.nmse(first, want), type.isQuantized() ? 1e-4 : 1e-5);
            for (int s = 0; s < some.length; s++) {
                for (int r = 0; r < n; r++) {
                    float g = got.get(1)[0][s * n + r];
                    if (some[s] == valid[s]) assertEquals(first[s * n + r], g, 1e-5f * (1 + Math.abs(first[s * n + r])), "slot " + s);
                    else assertEquals(0f, g, "slot " + s + " (expert " + some[s] + ")");
                }
            }
        }
    }

    private static MemorySegment ints(OpenClTesting.Case c, int... v) {
        MemorySegment s = c.arena.allocate(4L * v.length, 64);
        MemorySegment.copy(v, 0, s, ValueLayout.JAVA_INT_UNALIGNED, 0, v.length);
        return s;
    }
}
