package dev.hearth.backend.opencl;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.hearth.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * get_rows and convert against the reference backend: every weight type decoded (which checks
 * the decoders of dequant.h against the reference codecs), and f32 encoded to f16 and bf16 with
 * the same rounding as the codecs, bit for bit.
 */
@Tag("opencl")
class GetRowsConvertTest {
    private static int rowLength(DType type) {
        return switch (type) {
            case F32, F16, BF16 -> 37;
            case Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, MXFP4 -> 64;
            default -> 256;
        };
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "MXFP4"})
    void decodesEveryWeightType(DType type) {
        int k = rowLength(type);
        try (var c = new OpenClTesting.Case(100 + type.ordinal())) {
            Node table = c.weight("table", type, k, 11, 2f);
            c.out(c.graph.getRows("rows", table, c.ints("ids", 3, 0, 10, 3, 7)));
            Node x = c.input("x", type, k, 3, 2f);
            c.out(c.graph.convert("x32", x, DType.F32));
            assertMatchesReference(c, 1e-10); // fma contraction may move the last bit
        }
    }

    @Test
    void encodesHalvesLikeTheCodecs() {
        OpenClDevice d = OpenClTesting.device();
        try (var c = new OpenClTesting.Case(7)) {
            Node x = c.input("x", DType.F32, 45, 3, 3f);
            c.out(c.graph.convert("h", x, DType.F16));
            c.out(c.graph.convert("b", x, DType.BF16));
            Node h = c.input("h_in", DType.F16, 45, 2, 1f);
            c.out(c.graph.convert("h2b", h, DType.BF16));
            float[][] got = OpenClTesting.run(c, d);
            float[][] want = OpenClTesting.run(c, OpenClTesting.REFERENCE);
            for (int i = 0; i < want.length; i++) assertArrayEquals(want[i], got[i], c.outputs.get(i).toString());
        }
    }
}
