package dev.hearth.backend.opencl;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static dev.hearth.backend.opencl.OpenClTesting.assertMatchesReference;

/**
 * rms_norm (with and without weight), layer_norm (with and without weight and bias), softmax, add
 * and mul (full and one broadcast row), scale, swiglu, geglu, softcap and swiglu_oai (inside and
 * past its clamp, and a limit no value reaches) against the reference
 * backend, on rows longer than a work-group and of odd length.
 */
@Tag("opencl")
class ElementwiseTest {
    @Test
    void rowOpsMatchReference() {
        try (var c = new OpenClTesting.Case(11)) {
            Node x = c.input("x", DType.F32, 75, 5, 2f);
            Node w = c.weight("w", DType.F32, 75, 1, 1f);
            c.out(c.graph.rmsNorm("norm_w", x, w, 1e-5f));
            c.out(c.graph.rmsNorm("norm", x, null, 1e-6f));
            Node b = c.weight("b", DType.F32, 75, 1, 1f);
            Node shifted = c.input("shifted", DType.F32, 300, 3, 2f);
            Node bs = c.weight("bs", DType.F32, 300, 1, 1f);
            c.out(c.graph.layerNorm("ln", x, null, null, 1e-5f));
            c.out(c.graph.layerNorm("ln_w", x, w, null, 1e-5f));
            c.out(c.graph.layerNorm("ln_b", x, null, b, 1e-5f));
            c.out(c.graph.layerNorm("ln_wb", x, w, b, 1e-5f));
            c.out(c.graph.layerNorm("ln_long", c.graph.add("offset", shifted, bs), null, bs, 1e-6f));
            Node logits = c.input("logits", DType.F32, 300, 3, 4f);
            c.out(c.graph.softmax("soft", logits));
            c.out(c.graph.softmax("soft_short", x));
            assertMatchesReference(c, 1e-5);
        }
    }

    @Test
    void elementwiseOpsMatchReference() {
        try (var c = new OpenClTesting.Case(12)) {
            Node a = c.input("a", DType.F32, 93, 4, 1f);
            Node b = c.input("b", DType.F32, 93, 4, 1f);
            Node row = c.weight("row", DType.F32, 93, 1, 1f);
            c.out(c.graph.add("add", a, b));
            c.out(c.graph.add("add_row", a, row));
            c.out(c.graph.mul("mul", a, b));
            c.out(c.graph.mul("mul_row", a, row));
            c.out(c.graph.scale("scaled", a, -0.37f));
            c.out(c.graph.swiglu("swiglu", a, b));
            Node big = c.graph.scale("big", a, 6f); // tanh's tails, past its saturation
            c.out(c.graph.geglu("geglu", big, b));
            c.out(c.graph.softcap("softcap", big, 5f));
            c.out(c.graph.softcap("softcap_wide", a, 30f));
            Node bigUp = c.graph.scale("big_up", b, 6f);
            c.out(c.graph.swigluOai("swiglu_oai", big, bigUp, 1.702f, 7f));
            c.out(c.graph.swigluOai("swiglu_oai_wide", a, b, 0.5f, 100f));
            assertMatchesReference(c, 1e-5);
        }
    }
}
