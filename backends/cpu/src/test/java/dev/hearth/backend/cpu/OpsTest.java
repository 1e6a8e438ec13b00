package dev.hearth.backend.cpu;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceOps;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every op but mul_mat against dev.hearth.runtime.reference.ReferenceOps and the reference codecs. */
class OpsTest {
    private static final CpuDevice DEVICE = new CpuDevice(2);
    private static final double MATH = 1e-10;

    private static void close(String what, float[] y, float[] ref, double tol) {
        assertEquals(ref.length, y.length, what);
        double e = GraphRun.nmse(y, ref);
        assertTrue(e <= tol, what + ": nmse " + e);
    }

    @Test
    void rmsNorm() {
        Random rnd = new Random(1);
        for (int[] kt : new int[][]{{2048, 1}, {100, 3}, {4096, 2}}) {
            for (boolean weighted : new boolean[]{true, false}) {
                int k = kt[0], t = kt[1];
                Graph g = new Graph();
                Node x = g.input("x", DType.F32, k, t);
                Node w = weighted ? g.weight(TensorDesc.of("w", DType.F32, k)) : null;
                Node y = g.rmsNorm("y", x, w, 1e-5f);
                try (GraphRun run = new GraphRun(DEVICE, g)) {
                    float[] xv = GraphRun.gaussian(rnd, k * t, 3f), wv = GraphRun.gaussian(rnd, k, 1f);
                    run.set(x, xv);
                    if (w != null) run.set(w, wv);
                    close("rms_norm k=" + k, run.compute().get(y), ReferenceOps.rmsNorm(xv, k, weighted ? wv : null, 1e-5f), 1e-12);
                }
            }
        }
    }

    @Test
    void rope() {
        Random rnd = new Random(2);
        for (Op.RopeMode mode : Op.RopeMode.values()) {
            for (int[] hd : new int[][]{{64, 64}, {64, 32}, {128, 128}, {6, 4}}) {
                for (boolean ff : new boolean[]{false, true}) {
                    int headDim = hd[0], dims = hd[1], heads = 3, t = 5;
                    float base = headDim == 128 ? 500000f : 10000f, scale = headDim == 128 ? 0.25f : 1f;
                    Graph g = new Graph();
                    Node x = g.input("x", DType.F32, (long) headDim * heads, t);
                    Node pos = g.input("pos", DType.I32, t);
                    Node f = ff ? g.weight(TensorDesc.of("ff", DType.F32, dims / 2)) : null;
                    Node y = g.rope("y", x, pos, headDim, dims, mode, base, scale, f);
                    try (GraphRun run = new GraphRun(DEVICE, g)) {
                        float[] fv = new float[dims / 2];
                        for (int i = 0; i < fv.length; i++) fv[i] = 1 + 7 * rnd.nextFloat();
                        if (f != null) run.set(f, fv);
                        for (int[] p : new int[][]{{0, 1, 7, 100, 2047}, {0, 1, 7, 100, 2047}, {3, 3, 9, 60000, 5}}) {
                            float[] xv = GraphRun.gaussian(rnd, headDim * heads * t, 1f);
                            run.set(x, xv).set(pos, p).compute();
                            float[] ref = ReferenceOps.rope(xv, headDim * heads, p, headDim, dims, mode, base, scale, ff ? fv : null);
                            close("rope " + mode + " " + Arrays.toString(hd) + " ff=" + ff + " pos=" + Arrays.toString(p), run.get(y), ref, MATH);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "Q8_0", "Q4_0"})
    void kvStoreWritesRowsInPlace(DType type) {
        Random rnd = new Random(3);
        int kv = 96, ctx = 16;
        Graph g = new Graph();
        Node cache = g.state(TensorDesc.of("cache", type, kv, ctx));
        Node src = g.input("src", DType.F32, kv, 3);
        Node pos = g.input("pos", DType.I32, 3);
        Node stored = g.kvStore("stored", cache, src, pos);
        try (GraphRun run = new GraphRun(DEVICE, g)) {
            float[] before = GraphRun.gaussian(rnd, kv * ctx, 1f);
            run.set(cache, before);
            float[] expect = run.get(cache);
            float[] sv = GraphRun.gaussian(rnd, kv * 3, 2f);
            int[] p = {4, 15, 0};
            run.set(src, sv).set(pos, p).compute();
            for (int t = 0; t < 3; t++) {
                float[] row = Codecs.dequantize(type, Codecs.quantize(type, Arrays.copyOfRange(sv, t * kv, (t + 1) * kv)), 0, kv);
                System.arraycopy(row, 0, expect, p[t] * kv, kv);
            }
            assertArrayEquals(expect, run.get(stored));
            // positions past the last row wrap: the cache is a ring, position p at row p % ctx
            run.set(src, sv).set(pos, new int[]{17, 40, 5});
            run.compute();
            float[] after = run.get(stored);
            for (int t = 0; t < 3; t++) {
                float[] row = Codecs.dequantize(type, Codecs.quantize(type, Arrays.copyOfRange(sv, t * kv, (t + 1) * kv)), 0, kv);
                int r = new int[]{1, 8, 5}[t];
                assertArrayEquals(row, Arrays.copyOfRange(after, r * kv, (r + 1) * kv), "position " + new int[]{17, 40, 5}[t] + " at row " + r);
            }
            run.set(pos, new int[]{1, -1, 2});
            HearthException e = assertThrows(HearthException.class, run::compute);
            assertTrue(e.getMessage().contains("position -1"), e.getMessage());
        }
    }

    @Test
    void attention() {
        Random rnd = new Random(4);
        for (DType cacheType : new DType[]{DType.F32, DType.F16, DType.Q8_0, DType.Q4_0}) {
            for (int[] c : new int[][]{{8, 8, 32}, {8, 2, 64}, {4, 1, 16}, {6, 3, 20}, {8, 4, 8}}) {
                // past 64 positions the cache is read in several chunks, past 8 tokens in several blocks
                for (int[] pos : new int[][]{{0}, {45}, {10, 11, 12, 13, 14, 15}, {63, 2}, {200, 3, 130, 64, 127, 128},
                        java.util.stream.IntStream.range(140, 160).toArray()}) {
                    int heads = c[0], kvHeads = c[1], headDim = c[2], ctx = 256, t = pos.length;
                    if (kvHeads * headDim % cacheType.blockSize != 0) continue; // a quantized cache's rows are whole blocks
                    Graph g = new Graph();
                    Node q = g.input("q", DType.F32, (long) heads * headDim, t);
                    Node k = g.state(TensorDesc.of("k", cacheType, (long) kvHeads * headDim, ctx));
                    Node v = g.state(TensorDesc.of("v", cacheType, (long) kvHeads * headDim, ctx));
                    Node p = g.input("pos", DType.I32, t);
                    float scale = (float) (1 / Math.sqrt(headDim));
                    Node y = g.attention("y", q, k, v, p, heads, kvHeads, headDim, scale);
                    try (GraphRun run = new GraphRun(DEVICE, g)) {
                        float[] qv = GraphRun.gaussian(rnd, heads * headDim * t, 1f);
                        run.set(q, qv).set(k, GraphRun.gaussian(rnd, kvHeads * headDim * ctx, 1f))
                                .set(v, GraphRun.gaussian(rnd, kvHeads * headDim * ctx, 1f)).set(p, pos).compute();
                        float[] ref = ReferenceOps.attention(qv, run.get(k), run.get(v), pos, heads, kvHeads, headDim, scale);
                        close("attention " + cacheType + " " + Arrays.toString(c) + " pos=" + Arrays.toString(pos), run.get(y), ref, 1e-10);
                    }
                }
            }
        }
    }

    @Test
    void elementwise() {
        Random rnd = new Random(5);
        int k = 259, t = 7;
        Graph g = new Graph();
        Node a = g.input("a", DType.F32, k, t);
        Node b = g.input("b", DType.F32, k, t);
        Node row = g.input("row", DType.F32, k);
        Node sw = g.swiglu("sw", a, b);
        Node add = g.add("add", a, b), addRow = g.add("addRow", a, row);
        Node mul = g.mul("mul", a, b), mulRow = g.mul("mulRow", a, row);
        Node sc = g.scale("sc", a, 0.125f);
        Node sm = g.softmax("sm", a);
        try (GraphRun run = new GraphRun(DEVICE, g)) {
            float[] av = GraphRun.gaussian(rnd, k * t, 4f), bv = GraphRun.gaussian(rnd, k * t, 1f), rv = GraphRun.gaussian(rnd, k, 1f);
            av[3] = 200f;
            av[4] = -200f;
            run.set(a, av).set(b, bv).set(row, rv).compute();
            close("swiglu", run.get(sw), ReferenceOps.swiglu(av, bv), 1e-12);
            assertArrayEquals(ReferenceOps.add(av, bv, k), run.get(add));
            assertArrayEquals(ReferenceOps.add(av, rv, k), run.get(addRow));
            assertArrayEquals(ReferenceOps.mul(av, bv, k), run.get(mul));
            assertArrayEquals(ReferenceOps.mul(av, rv, k), run.get(mulRow));
            assertArrayEquals(ReferenceOps.scale(av, 0.125f), run.get(sc));
            close("softmax", run.get(sm), ReferenceOps.softmax(av, k), 1e-12);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void convertRoundsAsTheCodecs(DType half) {
        Random rnd = new Random(6);
        int n = 300;
        Graph g = new Graph();
        Node x = g.input("x", DType.F32, n, 2);
        Node h = g.convert("h", x, half);
        Node back = g.convert("back", h, DType.F32);
        try (GraphRun run = new GraphRun(DEVICE, g)) {
            float[] xv = GraphRun.gaussian(rnd, 2 * n, 10f);
            xv[0] = 1e-6f; // subnormal in F16
            xv[1] = -0f;
            xv[2] = 1e6f; // beyond F16
            run.set(x, xv).compute();
            float[] expect = Codecs.dequantize(half, Codecs.quantize(half, xv), 0, 2 * n);
            assertArrayEquals(expect, run.get(h));
            assertArrayEquals(expect, run.get(back));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "MXFP4"})
    void getRows(DType type) {
        Random rnd = new Random(7);
        int k = 512, rows = 9;
        Graph g = new Graph();
        Node table = g.weight(TensorDesc.of("table", type, k, rows));
        Node ids = g.input("ids", DType.I32, 5);
        Node y = g.getRows("y", table, ids);
        Node asF32 = g.convert("f", table, DType.F32);
        try (GraphRun run = new GraphRun(DEVICE, g)) {
            run.set(table, GraphRun.gaussian(rnd, k * rows, 1f));
            int[] id = {8, 0, 3, 3, 7};
            run.set(ids, id).compute();
            float[] all = run.get(table);
            float[] expect = new float[5 * k];
            for (int t = 0; t < 5; t++) System.arraycopy(all, id[t] * k, expect, t * k, k);
            close("get_rows " + type, run.get(y), expect, 1e-13);
            close("convert " + type, run.get(asF32), all, 1e-13);
            run.set(ids, new int[]{0, 1, 9, 2, 3});
            HearthException e = assertThrows(HearthException.class, run::compute);
            assertTrue(e.getMessage().contains("id 9"), e.getMessage());
        }
    }
}
