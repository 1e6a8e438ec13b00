package dev.hearth.runtime.sched;

import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.reference.ReferenceDevice;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A graph on one reference device runs and gives the values worked out by hand. */
class SchedulerSingleDeviceTest {
    private final Device ref = new ReferenceDevice();

    @Test
    void mulMatAddScaleByHand() {
        Graph g = new Graph();
        Node x = g.input("x", DType.F32, 2, 2);
        Node w = g.weight(TensorDesc.of("w", DType.F32, 2, 2));
        Node b = g.weight(TensorDesc.of("b", DType.F32, 2));
        Node y = g.mulMat("y", w, x);
        Node z = g.add("z", y, b);
        Node s = g.scale("s", z, 2f);
        g.output(s).output(y);

        Schedule sched = Scheduler.schedule(g, n -> ref, List.of(ref));
        assertEquals(1, sched.splits().size());
        assertEquals(List.of(x), sched.splits().getFirst().imports(), "only the host input is copied in");
        assertEquals(1, sched.copiesPerRun());
        try (Leaves leaves = new Leaves(g, n -> ref, Map.of("w", new float[]{1, 2, 3, 4}, "b", new float[]{0.5f, -1}));
             Executor ex = sched.instantiate(leaves::ref)) {
            // w rows [1,2] and [3,4]; x rows [1,1] and [0,-1].
            ex.setInput("x", new float[]{1, 1, 0, -1});
            ex.run();
            float[] out = new float[4];
            ex.read(y, out);
            assertArrayEquals(new float[]{3, 7, -2, -4}, out);
            ex.read(s, out);
            assertArrayEquals(new float[]{7, 12, -3, -10}, out);

            // A second run with new inputs: nothing stale.
            ex.setInput("x", new float[]{2, 0, 1, 0});
            ex.run();
            ex.read(s, out);
            assertArrayEquals(new float[]{2 * (2 + 0.5f), 2 * (6 - 1), 2 * (1 + 0.5f), 2 * (3 - 1)}, out);
        }
    }

    @Test
    void kvStoreThenAttentionByHand() {
        // One head of two dimensions, a cache of three rows; two tokens at positions 0 and 1.
        Graph g = new Graph();
        Node q = g.input("q", DType.F32, 2, 2);
        Node k = g.input("k", DType.F32, 2, 2);
        Node v = g.input("v", DType.F32, 2, 2);
        Node pos = g.input("pos", DType.I32, 2);
        Node kc = g.state(TensorDesc.of("k_cache", DType.F32, 2, 3));
        Node vc = g.state(TensorDesc.of("v_cache", DType.F32, 2, 3));
        Node ks = g.kvStore("ks", kc, k, pos);
        Node vs = g.kvStore("vs", vc, v, pos);
        Node att = g.attention("att", q, ks, vs, pos, 1, 1, 2, 1f);
        g.output(att);
        Schedule sched = Scheduler.schedule(g, n -> ref, List.of(ref));
        // Row 2 of the cache holds junk that the causal mask must hide.
        float[] junk = {0, 0, 0, 0, 50, 50};
        try (Leaves leaves = new Leaves(g, n -> ref, Map.of("k_cache", junk, "v_cache", junk));
             Executor ex = sched.instantiate(leaves::ref)) {
            ex.setInput("q", new float[]{1, 0, 1, 0});
            ex.setInput("k", new float[]{1, 0, 0, 1});
            ex.setInput("v", new float[]{1, 2, 3, 4});
            ex.setInput("pos", new int[]{0, 1});
            ex.run();
            float[] out = new float[4];
            ex.read(att, out);
            // Token 0 sees row 0 only; token 1 sees scores [1, 0].
            double p0 = Math.E / (Math.E + 1);
            double p1 = 1 / (Math.E + 1);
            assertArrayEquals(new float[]{1, 2, (float) (p0 * 1 + p1 * 3), (float) (p0 * 2 + p1 * 4)}, out, 1e-6f);
            float[] cache = new float[6];
            ex.read(ks, cache);
            assertArrayEquals(new float[]{1, 0, 0, 1, 50, 50}, cache, "kv_store wrote rows 0 and 1 of the cache");
        }
    }
}
