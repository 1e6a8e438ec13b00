package dev.hearth.runtime.reference;

import dev.hearth.runtime.graph.Op.RopeMode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Each op of the spec on values worked out by hand. */
class ReferenceOpsTest {
    private static final float TOL = 1e-6f;

    @Test
    void rmsNorm() {
        // Row [3, 4]: mean of squares 12.5. Row [1, 1]: 1.
        float[] x = {3, 4, 1, 1};
        double s = 1 / Math.sqrt(12.5);
        assertArrayEquals(new float[]{(float) (3 * s), (float) (4 * s), 1, 1}, ReferenceOps.rmsNorm(x, 2, null, 0), TOL);
        assertArrayEquals(new float[]{(float) (6 * s), (float) (2 * s), 2, 0.5f}, ReferenceOps.rmsNorm(x, 2, new float[]{2, 0.5f}, 0), TOL);
        // eps enters under the root.
        assertArrayEquals(new float[]{(float) (1 / Math.sqrt(1.5)), (float) (1 / Math.sqrt(1.5))},
                ReferenceOps.rmsNorm(new float[]{1, 1}, 2, null, 0.5f), TOL);
    }

    @Test
    void ropeNormalPairsNeighbours() {
        // head of 4 at position 1, base 10000: theta_0 = 1, theta_1 = 10000^(-1/2) = 0.01.
        float[] y = ReferenceOps.rope(new float[]{1, 0, 1, 0}, 4, new int[]{1}, 4, 4, RopeMode.NORMAL, 10000, 1, null);
        assertArrayEquals(new float[]{(float) Math.cos(1), (float) Math.sin(1), (float) Math.cos(0.01), (float) Math.sin(0.01)}, y, TOL);
        // x1 of a pair turns to -sin, cos.
        y = ReferenceOps.rope(new float[]{0, 1, 0, 0}, 4, new int[]{1}, 4, 4, RopeMode.NORMAL, 10000, 1, null);
        assertArrayEquals(new float[]{(float) -Math.sin(1), (float) Math.cos(1), 0, 0}, y, TOL);
    }

    @Test
    void ropeNeoxPairsHalves() {
        float[] y = ReferenceOps.rope(new float[]{1, 1, 0, 0}, 4, new int[]{1}, 4, 4, RopeMode.NEOX, 10000, 1, null);
        assertArrayEquals(new float[]{(float) Math.cos(1), (float) Math.cos(0.01), (float) Math.sin(1), (float) Math.sin(0.01)}, y, TOL);
    }

    @Test
    void ropePartialDimsScaleAndFactors() {
        // Only the first 2 of 4 dims turn; theta_0 = pos * freqScale / factor = 3 * 0.5 / 2.
        float[] y = ReferenceOps.rope(new float[]{1, 0, 5, 6}, 4, new int[]{3}, 2, 2, RopeMode.NORMAL, 10000, 0.5f, new float[]{2});
        double t = 0.75;
        float c = (float) Math.cos(t);
        float s = (float) Math.sin(t);
        // A row of two heads of 2: each head turns by the same angle.
        assertArrayEquals(new float[]{c, s, 5 * c - 6 * s, 5 * s + 6 * c}, y, 1e-5f);
        // headDim 4 with ropeDims 2: the last two dims of each head pass through.
        y = ReferenceOps.rope(new float[]{1, 0, 5, 6}, 4, new int[]{3}, 4, 2, RopeMode.NEOX, 10000, 0.5f, new float[]{2});
        assertArrayEquals(new float[]{c, s, 5, 6}, y, TOL);
        // Position 0 leaves everything as it was.
        float[] x = {1, 0, 5, 6, 1, 0, 7, 8};
        assertArrayEquals(x, ReferenceOps.rope(x, 4, new int[]{0, 0}, 4, 4, RopeMode.NEOX, 10000, 1, null), 0);
    }

    @Test
    void attentionIsCausalAndGrouped() {
        // Two query heads share one KV head of 2 dims; cache rows [1,0], [0,1], junk.
        float[] k = {1, 0, 0, 1, 9, 9};
        float[] v = {1, 2, 3, 4, 100, 100};
        float[] q = {1, 0, 0, 2, /* token 1 */ 1, 0, 0, 2};
        float[] y = ReferenceOps.attention(q, k, v, new int[]{0, 1}, 2, 1, 2, 1);
        double a = Math.E / (Math.E + 1);            // head 0 at pos 1: scores [1, 0]
        double b = 1 / (1 + Math.exp(2));            // head 1 at pos 1: scores [0, 2]
        float[] want = {1, 2, 1, 2, (float) (a + (1 - a) * 3), (float) (2 * a + (1 - a) * 4),
                (float) (b + (1 - b) * 3), (float) (2 * b + (1 - b) * 4)};
        assertArrayEquals(want, y, TOL);
        // The scale multiplies the scores: 0 makes them uniform.
        y = ReferenceOps.attention(new float[]{5, 5}, k, v, new int[]{1}, 1, 1, 2, 0);
        assertArrayEquals(new float[]{2, 3}, y, TOL);
    }

    @Test
    void attentionKvHeadOfEachHead() {
        // Four heads of 1 dim over two KV heads: heads 0,1 read KV head 0; heads 2,3 read KV head 1.
        float[] k = {1, 1};
        float[] v = {10, 20};
        assertArrayEquals(new float[]{10, 10, 20, 20}, ReferenceOps.attention(new float[]{1, 2, 3, 4}, k, v, new int[]{0}, 4, 2, 1, 1), TOL);
    }

    @Test
    void elementwise() {
        assertEquals((float) (2 / (1 + Math.exp(-1))), ReferenceOps.swiglu(new float[]{1}, new float[]{2})[0], TOL);
        assertEquals(0f, ReferenceOps.swiglu(new float[]{0}, new float[]{5})[0]);
        assertArrayEquals(new float[]{11, 22, 13, 24}, ReferenceOps.add(new float[]{1, 2, 3, 4}, new float[]{10, 20}, 2));
        assertArrayEquals(new float[]{11, 22, 33, 44}, ReferenceOps.add(new float[]{1, 2, 3, 4}, new float[]{10, 20, 30, 40}, 2));
        assertArrayEquals(new float[]{10, 40, 30, 80}, ReferenceOps.mul(new float[]{1, 2, 3, 4}, new float[]{10, 20}, 2));
        assertArrayEquals(new float[]{0.5f, -1}, ReferenceOps.scale(new float[]{1, -2}, 0.5f));
        double e = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertArrayEquals(new float[]{(float) (Math.exp(1) / e), (float) (Math.exp(2) / e), (float) (Math.exp(3) / e), 0.5f, 0.5f},
                java.util.Arrays.copyOf(concat(ReferenceOps.softmax(new float[]{1, 2, 3}, 3), ReferenceOps.softmax(new float[]{1000, 1000}, 2)), 5), TOL);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
