package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.reference.ReferenceOps;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * mul_mat on every weight type against dequantized weights times float activations summed in
 * double: odd row counts (not multiples of the thread count, chunk or tile), one, two, three and
 * many tokens (the matrix-vector kernels, then the tiled one), K with and without a tail of
 * blocks after the unrolled loop, and Q4_0 repacked (row groups of 8 plus the rows left over)
 * and not.
 */
class MulMatTest {
    private static final CpuDevice DEVICE = new CpuDevice(3);
    private static final CpuDevice PLAIN = new CpuDevice(2);

    static {
        PLAIN.setRepack(false);
    }

    @AfterAll
    static void close() {
        DEVICE.setThreads(1);
        PLAIN.setThreads(1);
    }

    /**
     * NMSE bound: int8 activations leave about 3e-5 on Gaussian data with a scale per 32 (Q4_0 to
     * Q8_0) and about 6e-5 with one per 256 (the K-quants), averages that a handful of outputs can
     * exceed several times over (MXFP4 takes the Q8_0 activations); float paths only rounding.
     */
    private static double tolerance(DType t, int outputs, int tokens) {
        double scale = switch (t) {
            case Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4 -> 1e-4;
            case Q4_K, Q5_K, Q6_K -> 2.5e-4;
            default -> 0;
        };
        if (tokens > MatMul.VECTOR_TOKENS || scale == 0) return 1e-10;
        return outputs >= 32 ? scale : scale * 10;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "MXFP4"})
    void matchesDequantizedProduct(DType type) {
        int[] ks = type.blockSize == 256 ? new int[]{256, 768} : type.blockSize == 32 ? new int[]{96, 256, 160} : new int[]{100, 256};
        for (int k : ks) {
            for (int n : new int[]{1, 37, 203}) {
                for (int tokens : new int[]{1, 2, 3, 7, 32}) {
                    check(DEVICE, type, k, n, tokens, new Random(k * 31L + n * 7L + tokens));
                    if (Repack.repacks(type)) check(PLAIN, type, k, n, tokens, new Random(k * 31L + n * 7L + tokens));
                }
            }
        }
    }

    private static void check(CpuDevice device, DType type, int k, int n, int tokens, Random rnd) {
        Graph g = new Graph();
        Node w = g.weight(TensorDesc.of("w", type, k, n));
        Node x = g.input("x", DType.F32, k, tokens);
        Node y = g.mulMat("y", w, x);
        try (GraphRun run = new GraphRun(device, g)) {
            float[] xv = GraphRun.gaussian(rnd, k * tokens, 1f);
            run.set(w, GraphRun.gaussian(rnd, k * n, 0.05f)).set(x, xv).compute();
            float[] wq = run.get(w);
            float[] ref = new float[n * tokens];
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < n; r++) ref[t * n + r] = (float) ReferenceOps.dot(wq, r * k, xv, t * k, k);
            }
            double e = GraphRun.nmse(run.get(y), ref);
            assertTrue(e < tolerance(type, n * tokens, tokens), type + (device.repack() ? "" : " (not repacked)") + " k=" + k
                    + " n=" + n + " t=" + tokens + ": nmse " + e);
        }
    }

    @Test
    void sharedActivationsAreQuantizedPerNode() {
        // q, k and v projections read the same x; a later mul_mat reads another x of the same shape.
        Random rnd = new Random(5);
        Graph g = new Graph();
        Node w1 = g.weight(TensorDesc.of("w1", DType.Q4_0, 64, 16));
        Node w2 = g.weight(TensorDesc.of("w2", DType.Q5_0, 64, 16));
        Node w3 = g.weight(TensorDesc.of("w3", DType.F16, 16, 64));
        Node x = g.input("x", DType.F32, 64, 1);
        Node a = g.mulMat("a", w1, x);
        Node b = g.mulMat("b", w2, x);
        Node c = g.mulMat("c", w3, a);
        Node d = g.mulMat("d", w1, g.mulMat("e", w3, b));
        try (GraphRun run = new GraphRun(DEVICE, g)) {
            float[] xv = GraphRun.gaussian(rnd, 64, 1f);
            run.set(w1, GraphRun.gaussian(rnd, 64 * 16, 0.1f)).set(w2, GraphRun.gaussian(rnd, 64 * 16, 0.1f))
                    .set(w3, GraphRun.gaussian(rnd, 16 * 64, 0.1f)).set(x, xv);
            for (int rep = 0; rep < 2; rep++) {
                run.compute();
                float[] av = product(run.get(w1), xv, 64, 16);
                float[] bv = product(run.get(w2), xv, 64, 16);
                assertTrue(GraphRun.nmse(run.get(a), av) < 1e-4);
                assertTrue(GraphRun.nmse(run.get(b), bv) < 1e-4);
                assertTrue(GraphRun.nmse(run.get(c), product(run.get(w3), run.get(a), 16, 64)) < 1e-4);
                float[] ev = run.get(g.node(d.id() - 1));
                assertTrue(GraphRun.nmse(run.get(d), product(run.get(w1), ev, 64, 16)) < 1e-4);
            }
        }
    }

    private static float[] product(float[] w, float[] x, int k, int n) {
        float[] y = new float[n];
        for (int r = 0; r < n; r++) y[r] = (float) ReferenceOps.dot(w, r * k, x, 0, k);
        return y;
    }

    @Test
    void zeroWeightsGiveZero() {
        Graph g = new Graph();
        Node w = g.weight(TensorDesc.of("w", DType.Q4_0, 64, 5));
        Node x = g.input("x", DType.F32, 64, 1);
        Node y = g.mulMat("y", w, x);
        try (GraphRun run = new GraphRun(DEVICE, g)) {
            run.set(x, GraphRun.gaussian(new Random(1), 64, 1f)).compute();
            for (float v : run.get(y)) assertEquals(0f, v);
        }
    }
}
