package dev.hearth.backend.opencl;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.hearth.backend.opencl.OpenClTesting.assertMatchesReference;

/**
 * mul_mat for every weight type the kernels read, against the reference backend on the same
 * encoded weights: the matrix-vector kernels (1, 3, 5 and 8 tokens: each token-count variant),
 * the 16-token tiles (9, 17 and 19 tokens: one tile, and a second one partly filled) and the
 * 64-token tiles (33, 64, and 70 and 100, which cross a tile), with row counts that fill no
 * work-group evenly; and Q4_0 and Q8_0 weights of rows a multiple of 256, which the device
 * repacks (q4_0r and q8_0r kernels), on every path.
 */
@Tag("opencl")
class MulMatTest {
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "MXFP4"})
    void matchesReference(DType type) {
        int k = switch (type) {
            case F32, F16, BF16 -> 83; // not a multiple of 8: exercises the row tails
            case Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, MXFP4 -> 96;
            default -> 512;
        };
        int n = 37;
        try (var c = new OpenClTesting.Case(type.ordinal())) {
            Node w = c.weight("w", type, k, n, 0.5f);
            for (int t : new int[] {1, 3, 5, 8, 9, 17, 19, 33, 64, 70, 100}) {
                Node x = c.input("x" + t, DType.F32, k, t, 1f);
                c.out(c.graph.mulMat("y" + t, w, x));
            }
            assertMatchesReference(c, type.isQuantized() ? 1e-4 : 1e-5);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void repackedMatchesReference(DType type) {
        for (int k : new int[] {256, 512}) {
            try (var c = new OpenClTesting.Case(k + type.ordinal())) {
                Node w = c.weight("w", type, k, 37, 0.5f);
                for (int t : new int[] {1, 3, 5, 8, 17, 64, 70}) {
                    Node x = c.input("x" + t, DType.F32, k, t, 1f);
                    c.out(c.graph.mulMat("y" + t, w, x));
                }
                assertMatchesReference(c, 1e-4);
            }
        }
    }
}
