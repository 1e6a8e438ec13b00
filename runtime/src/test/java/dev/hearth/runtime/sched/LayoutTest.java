package dev.hearth.runtime.sched;

import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceDevice;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compute-buffer layout never lets two live values share bytes, and reuses space. */
class LayoutTest {
    private final Device ref = new ReferenceDevice();

    @Test
    void chainPeakIsFarBelowTheSum() {
        Graph g = new Graph();
        Node x = g.input("x", DType.F32, 1024, 4);
        for (int i = 0; i < 12; i++) x = i % 2 == 0 ? g.scale("s" + i, x, 1.5f) : g.softmax("m" + i, x);
        g.output(x);
        Schedule s = Scheduler.schedule(g, n -> ref, List.of(ref));
        LayoutChecker.check(s);
        long value = 1024 * 4 * 4;
        long peak = s.computeBytes().get(ref);
        long naive = LayoutChecker.naiveBytes(s, ref);
        assertEquals(12 * value, naive);
        // The input slot, and two values at a time along the chain.
        assertTrue(peak <= 3 * value, "peak " + peak + " for values of " + value);
        assertTrue(peak < naive);
    }

    @Test
    void allocatorNeverHandsOutLiveBytes() {
        Random r = new Random(1);
        for (int round = 0; round < 50; round++) {
            Schedule.Allocator a = new Schedule.Allocator();
            TreeMap<Long, Long> live = new TreeMap<>();
            for (int op = 0; op < 400; op++) {
                if (live.isEmpty() || r.nextInt(100) < 55) {
                    long bytes = 1 + r.nextInt(r.nextBoolean() ? 600 : 5000);
                    long size = (bytes + Schedule.ALIGN - 1) / Schedule.ALIGN * Schedule.ALIGN;
                    long off = a.take(bytes);
                    var below = live.floorEntry(off);
                    if (below != null) assertTrue(below.getKey() + below.getValue() <= off, "overlaps " + below + " at " + off + " in round " + round);
                    var above = live.ceilingEntry(off);
                    if (above != null) assertTrue(off + size <= above.getKey(), off + "+" + size + " overlaps " + above + " in round " + round);
                    assertTrue(off + size <= a.peak());
                    live.put(off, size);
                } else {
                    List<Long> keys = new ArrayList<>(live.keySet());
                    long off = keys.get(r.nextInt(keys.size()));
                    a.give(off, live.remove(off));
                }
            }
        }
    }

    /** Random graphs on two devices: a sound layout, and results equal to one device's. */
    @Test
    void randomGraphsOnTwoDevices() {
        Random r = new Random(42);
        for (int round = 0; round < 40; round++) {
            Set kinds = new Set(r.nextInt(16));
            Device partial = new FakeDevice("partial", new ReferenceDevice(), kinds::accepts);
            Graph g = new Graph();
            Map<String, float[]> values = new HashMap<>();
            List<Node> nodes = new ArrayList<>();
            int tokens = 1 + r.nextInt(3);
            int[] widths = {32, 64, 96, 160};
            nodes.add(g.input("x", DType.F32, 64, tokens));
            nodes.add(g.input("x2", DType.F32, 96, tokens));
            int count = 6 + r.nextInt(20);
            for (int i = 0; i < count; i++) {
                Node a = nodes.get(r.nextInt(nodes.size()));
                String name = "n" + i;
                Node made = switch (r.nextInt(5)) {
                    case 0 -> g.scale(name, a, 0.5f + r.nextFloat());
                    case 1 -> g.softmax(name, a);
                    case 2 -> {
                        Node b = null;
                        for (Node c : nodes) if (c != a && c.desc().ne(0) == a.desc().ne(0) && r.nextBoolean()) b = c;
                        yield b == null ? g.scale(name, a, 2f) : g.add(name, a, b);
                    }
                    case 3 -> {
                        int n = widths[r.nextInt(widths.length)];
                        int k = (int) a.desc().ne(0);
                        values.put("w" + i, random(r, k * n));
                        yield g.mulMat(name, g.weight(TensorDesc.of("w" + i, DType.F32, k, n)), a);
                    }
                    default -> {
                        int k = (int) a.desc().ne(0);
                        values.put("nw" + i, random(r, k));
                        yield g.rmsNorm(name, a, g.weight(TensorDesc.of("nw" + i, DType.F32, k)), 1e-5f);
                    }
                };
                nodes.add(made);
                if (r.nextInt(4) == 0) g.output(made);
            }
            g.output(nodes.getLast());
            boolean[] onPartial = new boolean[g.size()];
            for (int i = 0; i < onPartial.length; i++) onPartial[i] = r.nextBoolean();
            Schedule two = Scheduler.schedule(g, n -> onPartial[n.id()] ? partial : ref, List.of(partial, ref));
            Schedule one = Scheduler.schedule(g, n -> ref, List.of(ref));
            LayoutChecker.check(two);
            LayoutChecker.check(one);
            float[] x = random(r, 64 * tokens);
            float[] x2 = random(r, 96 * tokens);
            try (Leaves l2 = new Leaves(g, n -> onPartial[n.id()] ? partial : ref, values);
                 Leaves l1 = new Leaves(g, n -> ref, values);
                 Executor e2 = two.instantiate(l2::ref); Executor e1 = one.instantiate(l1::ref)) {
                for (Executor e : List.of(e1, e2)) {
                    e.setInput("x", x);
                    e.setInput("x2", x2);
                    e.run();
                }
                for (Node o : g.outputs()) {
                    float[] want = new float[(int) o.desc().elements()];
                    float[] got = new float[want.length];
                    e1.read(o, want);
                    e2.read(o, got);
                    assertArrayEquals(want, got, "round " + round + ", " + o + " over " + two.splits().size() + " splits");
                }
            }
        }
    }

    /** Which op kinds the partial device takes, as bits: scale, softmax, add, mul_mat. */
    private record Set(int bits) {
        boolean accepts(Node n) {
            return switch (n.op()) {
                case Op.Scale s -> (bits & 1) != 0;
                case Op.Softmax s -> (bits & 2) != 0;
                case Op.Add a -> (bits & 4) != 0;
                case Op.MulMat m -> (bits & 8) != 0;
                default -> false;
            };
        }
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 2 - 1;
        return v;
    }
}
