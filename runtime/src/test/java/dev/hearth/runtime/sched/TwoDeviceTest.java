package dev.hearth.runtime.sched;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.conformance.OpCases;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceDevice;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two devices: "partial" holds the weights but computes only get_rows and mul_mat; the reference
 * device takes the rest. Checks the splits, the copies between them, and that the results equal
 * a run on the reference device alone.
 */
class TwoDeviceTest {
    private final Device ref = new ReferenceDevice();
    private final Device partial = new FakeDevice("partial", new ReferenceDevice(),
            n -> n.op() instanceof Op.GetRows || n.op() instanceof Op.MulMat || n.op() instanceof Op.Swiglu);

    private record Net(Graph g, Node ids, Node emb, Node norm, Node y, Node n2, Node nw, Node z, Node out) {
    }

    private static Net net() {
        Graph g = new Graph();
        Node ids = g.input("ids", DType.I32, 3);
        Node table = g.weight(TensorDesc.of("table", DType.F16, 8, 10));
        Node w = g.weight(TensorDesc.of("w", DType.F32, 8, 6));
        Node nw = g.weight(TensorDesc.of("nw", DType.F32, 6));
        Node emb = g.getRows("emb", table, ids);
        Node norm = g.rmsNorm("norm", emb, null, 1e-5f);
        Node y = g.mulMat("y", w, norm);
        Node n2 = g.rmsNorm("n2", y, nw, 1e-5f);
        Node z = g.add("z", n2, y);
        Node out = g.scale("out", z, 0.5f);
        g.output(out).output(y);
        return new Net(g, ids, emb, norm, y, n2, nw, z, out);
    }

    private static Map<String, float[]> values() {
        Random r = new Random(7);
        return Map.of("table", random(r, 80), "w", random(r, 48), "nw", random(r, 6));
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 2 - 1;
        return v;
    }

    @Test
    void splitsFollowWeightsAndFallBack() {
        Net net = net();
        Schedule s = Scheduler.schedule(net.g(), n -> partial, List.of(partial, ref));
        List<Split> sp = s.splits();
        assertEquals(List.of(partial, ref, partial, ref), sp.stream().map(Split::device).toList());
        assertEquals(List.of(net.emb()), sp.get(0).nodes());
        assertEquals(List.of(net.ids()), sp.get(0).imports());
        assertEquals(List.of(net.norm()), sp.get(1).nodes(), "rms_norm is not supported on partial: falls back");
        assertEquals(List.of(net.emb()), sp.get(1).imports());
        assertEquals(List.of(net.norm()), sp.get(2).imports());
        assertEquals(List.of(net.n2(), net.z(), net.out()), sp.get(3).nodes());
        assertEquals(List.of(net.y(), net.nw()), sp.get(3).imports());
        assertSame(ref, s.deviceOf(net.n2()), "its weight is on partial, which cannot compute it");
        assertSame(partial, s.deviceOf(net.nw()));
        assertTrue(s.staticOffsets(ref).containsKey(net.nw()), "a weight used elsewhere is copied once");
        // Per run: ids, emb, norm and y; the weight nw only once, when the executor is made.
        assertEquals(4, s.copiesPerRun());
        LayoutChecker.check(s);
    }

    @Test
    void resultsEqualOneDevice() {
        Net net = net();
        Schedule two = Scheduler.schedule(net.g(), n -> partial, List.of(partial, ref));
        Schedule one = Scheduler.schedule(net.g(), n -> ref, List.of(ref));
        assertEquals(1, one.splits().size());
        try (Leaves l2 = new Leaves(net.g(), n -> partial, values()); Leaves l1 = new Leaves(net.g(), n -> ref, values());
             Executor e2 = two.instantiate(l2::ref); Executor e1 = one.instantiate(l1::ref)) {
            for (int[] ids : new int[][]{{0, 9, 4}, {3, 3, 1}}) {
                e1.setInput("ids", ids);
                e2.setInput("ids", ids);
                e1.run();
                e2.run();
                for (Node n : List.of(net.out(), net.y())) {
                    float[] a = new float[(int) n.desc().elements()];
                    float[] b = new float[a.length];
                    e1.read(n, a);
                    e2.read(n, b);
                    assertArrayEquals(a, b, n.name());
                    assertTrue(a[0] != 0, "a real value");
                }
            }
        }
    }

    /** A whole LLaMA layer (the conformance case) with matrices on "partial" and the KV cache on the reference device. */
    @Test
    void llamaLayerAcrossTwoDevices() {
        OpCase c = OpCases.of("llama_layer").getFirst();
        try (OpCase.Instance inst = c.instantiate()) {
            Graph g = inst.graph();
            Function<Node, Device> where = n -> n.op() instanceof Op.State ? ref : partial;
            Schedule two = Scheduler.schedule(g, where, List.of(partial, ref));
            Schedule one = Scheduler.schedule(g, n -> ref, List.of(ref));
            assertTrue(two.splits().size() >= 4, two.splits().size() + " splits");
            LayoutChecker.check(two);
            LayoutChecker.check(one);
            List<Buffer> buffers = new ArrayList<>();
            try {
                Map<Node, TensorRef> l2 = bind(inst, where, buffers);
                Map<Node, TensorRef> l1 = bind(inst, n -> ref, buffers);
                try (Executor e2 = two.instantiate(l2::get); Executor e1 = one.instantiate(l1::get)) {
                    for (int run = 0; run < 2; run++) {
                        inst.inputs().forEach(e1::setInput);
                        inst.inputs().forEach(e2::setInput);
                        e1.run();
                        e2.run();
                        for (Node o : g.outputs()) {
                            float[] a = new float[(int) o.desc().elements()];
                            float[] b = new float[a.length];
                            try (Arena arena = Arena.ofConfined()) {
                                MemorySegment sa = arena.allocate(o.desc().bytes());
                                MemorySegment sb = arena.allocate(o.desc().bytes());
                                e1.read(o, sa);
                                e2.read(o, sb);
                                assertEquals(-1, sa.mismatch(sb), o.name() + " in run " + run);
                            }
                        }
                    }
                }
            } finally {
                buffers.forEach(Buffer::close);
            }
        }
    }

    private static Map<Node, TensorRef> bind(OpCase.Instance inst, Function<Node, Device> where, List<Buffer> buffers) {
        Map<Node, TensorRef> refs = new IdentityHashMap<>();
        for (Node n : inst.graph().nodes()) {
            if (!(n.op() instanceof Op.Weight) && !(n.op() instanceof Op.State)) continue;
            MemorySegment data = inst.leaves().get(n.name());
            Buffer b = where.apply(n).allocate(data.byteSize(), BufferUsage.WEIGHTS);
            buffers.add(b);
            b.write(0, data);
            refs.put(n, new TensorRef(n.desc(), b, 0));
        }
        return refs;
    }

    @Test
    void noDeviceComputesIt() {
        Net net = net();
        var e = assertThrows(HearthException.class, () -> Scheduler.schedule(net.g(), n -> partial, List.of(partial)));
        assertTrue(e.getMessage().contains("partial leaves RmsNorm to others"), e.getMessage());
    }

    @Test
    void kvStoreMustRunWhereItsCacheIs() {
        Graph g = new Graph();
        Node src = g.input("src", DType.F32, 4, 1);
        Node pos = g.input("pos", DType.I32, 1);
        Node cache = g.state(TensorDesc.of("cache", DType.F32, 4, 8));
        g.output(g.kvStore("stored", cache, src, pos));
        var e = assertThrows(HearthException.class, () -> Scheduler.schedule(g, n -> partial, List.of(ref)));
        assertTrue(e.getMessage().contains("cache"), e.getMessage());
    }
}
